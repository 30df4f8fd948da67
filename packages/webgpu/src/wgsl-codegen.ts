/**
 * The WGSL code generator: prints the kernel IR that `@gradtx/core` traces
 * from a run of element-wise stages (the same expression graph its JS and
 * WebAssembly generators print) as a WebGPU compute shader, plus the two
 * small shaders of the reduction prelude.
 *
 * A kernel works on flat arrays. Each array of the IR (its inputs `u`, `p`,
 * `s<i>:<slot>` and its outputs) lives at an element offset inside one of a
 * few storage bindings ("pools"); invocation `i` handles element `i` of every
 * array. For a single leaf the pools are the tensors' own buffers (offset 0,
 * an output written in place sharing its input's pool); for a tree they are
 * buffers into which the leaves are gathered end to end.
 *
 * Per-step scalars reach the shader as fields of one uniform struct, one
 * field per scalar. Reduction results (global norms and per-leaf values) are
 * read from a storage buffer that the prelude fills, so nothing is read back
 * to JavaScript during a step.
 *
 * Floating point: every IR operation is one WGSL f32 operation. WGSL allows
 * an implementation to be a little loose (division and `sqrt` within 2.5
 * ulp, `exp`/`log` within a few ulp, no guarantees about NaN and infinities
 * in arithmetic), so the generator spells out what the reference path
 * guarantees: NaN tests by bit pattern, NaN-propagating `max`/`min`/`sign`,
 * `sqrt`/`log` of negatives giving NaN, and exact constants by bit pattern.
 *
 * @module
 */
import { type KernelIR, type Node, type NodeOp, type PartialOp, REDUCTIONS, type ReductionOp } from '@gradtx/core/engine';

/** Invocations per workgroup of every shader here. */
export const WORKGROUP = 256;

/**
 * Invocations per workgroup of the partial-reduction pass: fewer than the
 * kernel's, each summing more elements, so a chunk takes fewer barrier rounds
 * (cheap on a GPU, costly where a CPU runs the workgroup, as in SwiftShader).
 */
export const REDUCE_GROUP = 64;

/**
 * Where the arrays of a kernel live. Each IR input and each IR output has a
 * pool (a storage binding) and, at run time, an element offset in it (the
 * uniforms `i<j>` and `w<k>`). An output written in place over an input
 * shares its pool and offset.
 */
export interface KernelLayout {
  /** One entry per pool, in binding order: whether some kernel output is written into it. */
  readonly pools: readonly { readonly write: boolean }[];
  /** The pool of each IR input, in IR order. */
  readonly inPool: readonly number[];
  /** The pool of each IR output, in IR order. */
  readonly outPool: readonly number[];
}

/** A field of a shader's uniform struct, in declaration order. */
export interface UniformField {
  readonly name: string;
  readonly type: 'u32' | 'f32';
}

/** A generated shader: its WGSL text and its uniform struct (binding 0). */
export interface Shader {
  readonly code: string;
  readonly uniforms: readonly UniformField[];
}

/** Whether the IR reads a per-leaf scalar (the kernel then looks up each element's leaf). */
export function hasLeafScalars(ir: KernelIR): boolean {
  return ir.scalars.some((s) => s.source === 'leaf');
}

/** Whether the IR reads a reduction result (global or per-leaf). */
export function readsReductions(ir: KernelIR): boolean {
  return ir.scalars.some((s) => s.source !== 'param');
}

function hex(bits: number): string {
  return `0x${(bits >>> 0).toString(16).padStart(8, '0')}u`;
}

const f32View = new Float32Array(1);
const u32View = new Uint32Array(f32View.buffer);

/** The bit pattern of a float32 value. */
export function f32Bits(x: number): number {
  f32View[0] = x;
  return u32View[0] as number;
}

/**
 * A float32 constant, exactly. Finite values are const-expressions
 * (`bitcast` of their bits); NaN and infinities go through a function call,
 * since WGSL rejects a const-expression whose value is not finite.
 */
export function wgslConst(x: number): string {
  const bits = f32Bits(x);
  const comment = Number.isFinite(x) ? ` /* ${Object.is(x, -0) ? '-0' : String(x)} */` : ` /* ${String(x)} */`;
  return Number.isFinite(x) ? `bitcast<f32>(${hex(bits)})${comment}` : `f32_from_bits(${hex(bits)})${comment}`;
}

/** Helper functions shared by the shaders. */
export const HELPERS = `fn f32_from_bits(b: u32) -> f32 { return bitcast<f32>(b); }
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn is_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
fn max_nan(a: f32, b: f32) -> f32 { if (is_nan(a)) { return a; } if (is_nan(b)) { return b; } return max(a, b); }
fn min_nan(a: f32, b: f32) -> f32 { if (is_nan(a)) { return a; } if (is_nan(b)) { return b; } return min(a, b); }
fn sign_nan(a: f32) -> f32 { if (is_nan(a)) { return a; } return select(select(0.0, -1.0, a < 0.0), 1.0, a > 0.0); }
fn sqrt_nan(a: f32) -> f32 { if (a < 0.0) { return f32_from_bits(0x7fc00000u); } return sqrt(a); }
// log and exp by range reduction and minimax polynomials (the classic Cephes
// single-precision ones), about 1 ulp everywhere: WGSL's own log and exp may be
// off by several ulp (by up to 3 + 2|x| ulp for exp).
fn log_nan(a: f32) -> f32 {
  if (is_nan(a)) { return a; }
  if (a < 0.0) { return f32_from_bits(0x7fc00000u); }
  if (a == 0.0) { return f32_from_bits(0xff800000u); }
  if (a == f32_from_bits(0x7f800000u)) { return a; }
  let fr = frexp(a);
  var e = f32(fr.exp);
  var x = fr.fract;
  if (x < 0.70710678118654752f) { e = e - 1.0; x = x + x - 1.0; } else { x = x - 1.0; }
  let z = x * x;
  var y = 7.0376836292e-2f;
  y = y * x - 1.1514610310e-1f;
  y = y * x + 1.1676998740e-1f;
  y = y * x - 1.2420140846e-1f;
  y = y * x + 1.4249322787e-1f;
  y = y * x - 1.6668057665e-1f;
  y = y * x + 2.0000714765e-1f;
  y = y * x - 2.4999993993e-1f;
  y = y * x + 3.3333331174e-1f;
  y = y * x * z;
  y = y + -2.12194440e-4f * e;
  y = y - 0.5 * z;
  return x + y + 0.693359375f * e;
}
fn exp_nan(a: f32) -> f32 {
  if (is_nan(a)) { return a; }
  if (a > 88.72283905f) { return f32_from_bits(0x7f800000u); }
  if (a < -103.972084f) { return 0.0; }
  let n = round(a * 1.44269504088896341f);
  let r = (a - n * 0.693359375f) - n * -2.12194440e-4f;
  var p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0;
  let k = i32(n);
  let h = k / 2;
  return ldexp(ldexp(p, h), k - h);
}
`;

/** The uniform struct `S` of a shader (binding 0), one field each. */
export function uniformStruct(fields: readonly UniformField[]): string {
  const body = fields.map((f) => `  ${f.name}: ${f.type},`).join('\n');
  return `struct Step {\n${body}\n}\n@group(0) @binding(0) var<uniform> S: Step;\n`;
}

/** Declarations of the pools a shader uses (binding `b + 1` for pool `b`); unused pools are left out, as WebGPU's automatic layout does. */
function poolDecls(pools: readonly { readonly write: boolean }[], used: ReadonlySet<number>, write: boolean): string {
  return pools
    .map((p, b) =>
      used.has(b) ? `@group(0) @binding(${b + 1}) var<storage, ${write && p.write ? 'read_write' : 'read'}> P${b}: array<f32>;` : '',
    )
    .filter((d) => d !== '')
    .join('\n');
}

/** The linear invocation index over a dispatch that may be two-dimensional. */
export const INDEX = `let i = (wg.y * nwg.x + wg.x) * ${WORKGROUP}u + li;`;
/** The built-in arguments of every entry point here. */
export const ENTRY_ARGS =
  '@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32';

/**
 * What a node's printer needs besides its arguments: the IR (for scalars),
 * the kernel's layout and, for a kernel of packed arrays, how it loads
 * (and decodes) IR input `j` (see `wgsl-packed.ts`).
 */
export interface WgslContext {
  readonly ir: KernelIR;
  readonly layout: KernelLayout;
  readonly load?: (j: number) => string;
}

/** Prints one node's expression from the names of its arguments. */
type Print = (a: readonly string[], n: Node, c: WgslContext) => string;

/** Every op as a WGSL expression (NaN-propagating helpers where WGSL's built-ins are not). */
const WGSL: Readonly<Record<NodeOp, Print>> = {
  input: (_a, n, c) => c.load?.(n.index as number) ?? `P${c.layout.inPool[n.index as number]}[S.i${n.index} + i]`,
  scalar: (_a, n, c) => {
    const s = c.ir.scalars[n.index as number];
    if (s?.source === 'param') return `S.k${n.index}`;
    if (s?.source === 'global') return `R[S.r${n.index}]`;
    return `R[S.r${n.index} + leaf]`;
  },
  const: (_a, n) => wgslConst(n.value as number),
  add: ([a, b]) => `(${a} + ${b})`,
  sub: ([a, b]) => `(${a} - ${b})`,
  mul: ([a, b]) => `(${a} * ${b})`,
  div: ([a, b]) => `(${a} / ${b})`,
  max: ([a, b]) => `max_nan(${a}, ${b})`,
  min: ([a, b]) => `min_nan(${a}, ${b})`,
  neg: ([a]) => `(-${a})`,
  abs: ([a]) => `abs(${a})`,
  sqrt: ([a]) => `sqrt_nan(${a})`,
  square: ([a]) => `(${a} * ${a})`,
  sign: ([a]) => `sign_nan(${a})`,
  exp: ([a]) => `exp_nan(${a})`,
  log: ([a]) => `log_nan(${a})`,
  lt: ([a, b]) => `(${a} < ${b})`,
  le: ([a, b]) => `(${a} <= ${b})`,
  gt: ([a, b]) => `(${a} > ${b})`,
  ge: ([a, b]) => `(${a} >= ${b})`,
  eq: ([a, b]) => `(${a} == ${b})`,
  and: ([a, b]) => `(${a} && ${b})`,
  or: ([a, b]) => `(${a} || ${b})`,
  not: ([a]) => `(!${a})`,
  isNaN: ([a]) => `is_nan(${a})`,
  isFinite: ([a]) => `is_finite(${a})`,
  // WGSL's select takes the false value first
  select: ([c, a, b]) => `select(${b}, ${a}, ${c})`,
  toFloat: ([a]) => `select(0.0, 1.0, ${a})`,
};

/** The WGSL expression of node `n` from the names of its arguments. */
export function printNode(n: Node, args: readonly string[], c: WgslContext): string {
  return WGSL[n.op](args, n, c);
}

/** The uniform fields of a kernel: counts, the offsets of its arrays, then one per IR scalar. */
export function kernelFields(ir: KernelIR): UniformField[] {
  const fields: UniformField[] = [
    { name: 'n', type: 'u32' },
    { name: 'nl', type: 'u32' },
  ];
  ir.inputs.forEach((_, j) => {
    fields.push({ name: `i${j}`, type: 'u32' });
  });
  ir.outputs.forEach((_, k) => {
    fields.push({ name: `w${k}`, type: 'u32' });
  });
  ir.scalars.forEach((s, idx) => {
    fields.push(s.source === 'param' ? { name: `k${idx}`, type: 'f32' } : { name: `r${idx}`, type: 'u32' });
  });
  return fields;
}

/** The leaf of element i: the last l with M[l] <= i (empty leaves share an offset with the next one). */
const FIND_LEAF = [
  '  var lo = 0u;',
  '  var hi = S.nl;',
  '  while (hi - lo > 1u) {',
  '    let mid = (lo + hi) / 2u;',
  '    if (M[mid] <= i) { lo = mid; } else { hi = mid; }',
  '  }',
  '  let leaf = lo;',
];

/**
 * The WGSL of the kernel of `ir` for `layout`.
 *
 * Bindings: 0 the uniform struct; `b + 1` pool `b` (those the kernel uses);
 * `P + 1` the reduction results `R` when the IR reads one; `P + 2` the leaf
 * offset table `M` when it reads a per-leaf scalar (`M[l]` is the first
 * element of leaf `l`, `M[L]` the total).
 *
 * Uniform fields: `n` (elements), `nl` (leaves), `i<j>` / `w<k>` the element
 * offsets of IR input `j` / output `k` in their pools, then one field per IR
 * scalar `s`: `k<s>` its value when it is a plain per-step scalar, or `r<s>`
 * the index in `R` of its value when it is a global reduction, of leaf 0's
 * value when it is a per-leaf one (leaf `l` reads `R[r<s> + l]`).
 */
export function kernelWgsl(ir: KernelIR, layout: KernelLayout): Shader {
  const fields = kernelFields(ir);
  const P = layout.pools.length;
  const perLeaf = hasLeafScalars(ir);
  const used = new Set([...layout.inPool, ...layout.outPool]);
  const decls: string[] = [poolDecls(layout.pools, used, true)];
  if (readsReductions(ir)) decls.push(`@group(0) @binding(${P + 1}) var<storage, read> R: array<f32>;`);
  if (perLeaf) decls.push(`@group(0) @binding(${P + 2}) var<storage, read> M: array<u32>;`);
  const v = (id: number) => `v${id}`;
  const c: WgslContext = { ir, layout };
  const body: string[] = [`  ${INDEX}`, '  if (i >= S.n) { return; }'];
  if (perLeaf) body.push(...FIND_LEAF);
  ir.nodes.forEach((n, id) => {
    body.push(`  let ${v(id)} = ${WGSL[n.op](n.args.map(v), n, c)};`);
  });
  ir.outputs.forEach((o, k) => {
    body.push(`  P${layout.outPool[k]}[S.w${k} + i] = ${v(o.node)};`);
  });
  const code = `// gradtx fused kernel\n${uniformStruct(fields)}${decls.join('\n')}\n${HELPERS}\n@compute @workgroup_size(${WORKGROUP})\nfn main(${ENTRY_ARGS}) {\n${body.join('\n')}\n}\n`;
  return { code, uniforms: fields };
}

/** A partial reduction the prelude computes per chunk: `sumSq`, `sum` or `maxAbs` of one source array. */
export interface PartialSpec {
  /** The source array reduced: an index into the `sources` of {@link partialsWgsl}. */
  readonly source: number;
  readonly op: PartialOp;
}

/** A final reduction value: a combination of one partial over a leaf or over the whole tree. */
export interface FinalSpec {
  /** Index into the partials. */
  readonly partial: number;
  readonly op: ReductionOp;
  readonly scope: 'global' | 'leaf';
}

function accumulate(op: PartialSpec['op'], acc: string, x: string): string {
  if (op === 'sumSq') return `${acc} = ${acc} + ${x} * ${x};`;
  if (op === 'sum') return `${acc} = ${acc} + ${x};`;
  return `${acc} = max_nan(${acc}, abs(${x}));`;
}

/** The identity of combining partials of kind `op` (a WGSL float literal). */
function identity(op: PartialSpec['op']): string {
  return REDUCTIONS[op].identity.toFixed(1);
}

/** Combines two partials of kind `op` as the table of reductions says. */
function combine(op: PartialSpec['op'], a: string, b: string): string {
  return REDUCTIONS[op].combine === 'max' ? `max_nan(${a}, ${b})` : `(${a} + ${b})`;
}

/**
 * The first prelude pass: one workgroup per chunk of the flat arrays (a
 * chunk never spans two leaves), each writing one partial per
 * {@link PartialSpec} to `R[c * K + k]`.
 *
 * `sourcePools[j]` is the pool of source array `j` (the run's updates or the
 * params). Bindings: 0 uniforms (`nc` chunks, `cs` the position of the chunk
 * starts in `M`, `o<j>` the element offset of source `j` in its pool),
 * `b + 1` pool `b` (read), `P + 1` `R` (read_write), `P + 2` `M` (chunk `c`
 * spans `M[S.cs + c]` to `M[S.cs + c + 1]`).
 */
export function partialsWgsl(
  partials: readonly PartialSpec[],
  pools: readonly { readonly write: boolean }[],
  sourcePools: readonly number[],
): Shader {
  const fields: UniformField[] = [
    { name: 'nc', type: 'u32' },
    { name: 'cs', type: 'u32' },
  ];
  sourcePools.forEach((_, j) => {
    fields.push({ name: `o${j}`, type: 'u32' });
  });
  const P = pools.length;
  const K = partials.length;
  const src = (j: number): string => `P${sourcePools[j]}[S.o${j} + e]`;
  const usedPools = new Set(partials.map((p) => sourcePools[p.source] as number));
  const decls = [poolDecls(pools, usedPools, false)];
  decls.push(`@group(0) @binding(${P + 1}) var<storage, read_write> R: array<f32>;`);
  decls.push(`@group(0) @binding(${P + 2}) var<storage, read> M: array<u32>;`);
  const lines: string[] = [];
  lines.push(`  let c = wg.y * nwg.x + wg.x;`, '  if (c >= S.nc) { return; }');
  lines.push('  let start = M[S.cs + c];', '  let end = M[S.cs + c + 1u];');
  partials.forEach((p, k) => {
    lines.push(`  var a${k} = ${identity(p.op)};`);
  });
  lines.push(`  for (var e = start + li; e < end; e = e + ${REDUCE_GROUP}u) {`);
  partials.forEach((p, k) => {
    lines.push(`    let x${k} = ${src(p.source)};`, `    ${accumulate(p.op, `a${k}`, `x${k}`)}`);
  });
  lines.push('  }');
  partials.forEach((_, k) => {
    lines.push(`  sh[${K}u * li + ${k}u] = a${k};`);
  });
  lines.push('  workgroupBarrier();');
  lines.push(`  for (var s = ${REDUCE_GROUP / 2}u; s > 0u; s = s / 2u) {`, '    if (li < s) {');
  for (const [k, p] of partials.entries()) {
    lines.push(`      sh[${K}u * li + ${k}u] = ${combine(p.op, `sh[${K}u * li + ${k}u]`, `sh[${K}u * (li + s) + ${k}u]`)};`);
  }
  lines.push('    }', '    workgroupBarrier();', '  }');
  lines.push('  if (li == 0u) {');
  partials.forEach((_, k) => {
    lines.push(`    R[${K}u * c + ${k}u] = sh[${k}u];`);
  });
  lines.push('  }');
  const code = `// gradtx reduction prelude: partials per chunk\n${uniformStruct(fields)}${decls.join('\n')}\nvar<workgroup> sh: array<f32, ${REDUCE_GROUP * K}>;\n${HELPERS}\n@compute @workgroup_size(${REDUCE_GROUP})\nfn main(${ENTRY_ARGS}) {\n${lines.join('\n')}\n}\n`;
  return { code, uniforms: fields };
}

/** Finishes a combined total over `count` elements as the table of reductions says (NaN for an empty mean). */
function finish(op: FinalSpec['op'], total: string, count: string): string {
  const how = REDUCTIONS[op].finish;
  if (how === 'sqrt') return `sqrt(${total})`;
  if (how === 'mean') return `select(${total} / f32(${count}), f32_from_bits(0x7fc00000u), ${count} == 0u)`;
  return total;
}

/**
 * The second prelude pass, one workgroup: combines each leaf's chunk partials
 * in order into per-leaf values, writes the per-leaf finals (`R[S.f<j> + l]`)
 * and the global finals (`R[S.f<j>]`), reducing the leaves' values across the
 * workgroup for the global ones.
 *
 * Bindings: 0 uniforms (`nl` leaves, `lo` offset of the leaf offset table in
 * `M`, `lc` offset of the per-leaf first-chunk table in `M`, `f<j>` result
 * positions), 1 `R` (read_write), 2 `M` (read).
 */
export function finalsWgsl(partials: readonly PartialSpec[], finals: readonly FinalSpec[]): Shader {
  const K = partials.length;
  const fields: UniformField[] = [
    { name: 'nl', type: 'u32' },
    { name: 'lo', type: 'u32' },
    { name: 'lc', type: 'u32' },
  ];
  finals.forEach((_, j) => {
    fields.push({ name: `f${j}`, type: 'u32' });
  });
  const globalPartials = [...new Set(finals.filter((f) => f.scope === 'global').map((f) => f.partial))];
  const lines: string[] = [];
  globalPartials.forEach((k) => {
    lines.push(`  var g${k} = ${identity((partials[k] as PartialSpec).op)};`);
  });
  lines.push(`  for (var l = li; l < S.nl; l = l + ${WORKGROUP}u) {`);
  lines.push('    let c0 = M[S.lc + l];', '    let c1 = M[S.lc + l + 1u];', '    let count = M[S.lo + l + 1u] - M[S.lo + l];');
  partials.forEach((p, k) => {
    lines.push(`    var t${k} = ${identity(p.op)};`);
  });
  lines.push('    for (var c = c0; c < c1; c = c + 1u) {');
  partials.forEach((p, k) => {
    lines.push(`      t${k} = ${combine(p.op, `t${k}`, `R[${K}u * c + ${k}u]`)};`);
  });
  lines.push('    }');
  finals.forEach((f, j) => {
    if (f.scope === 'leaf') lines.push(`    R[S.f${j} + l] = ${finish(f.op, `t${f.partial}`, 'count')};`);
  });
  globalPartials.forEach((k) => {
    lines.push(`    g${k} = ${combine((partials[k] as PartialSpec).op, `g${k}`, `t${k}`)};`);
  });
  lines.push('  }');
  const G = globalPartials.length;
  if (G > 0) {
    globalPartials.forEach((k, q) => {
      lines.push(`  sh[${G}u * li + ${q}u] = g${k};`);
    });
    lines.push('  workgroupBarrier();');
    lines.push(`  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s / 2u) {`, '    if (li < s) {');
    for (const [q, k] of globalPartials.entries()) {
      const op = (partials[k] as PartialSpec).op;
      lines.push(`      sh[${G}u * li + ${q}u] = ${combine(op, `sh[${G}u * li + ${q}u]`, `sh[${G}u * (li + s) + ${q}u]`)};`);
    }
    lines.push('    }', '    workgroupBarrier();', '  }');
    lines.push('  if (li == 0u) {', '    let total = M[S.lo + S.nl] - M[S.lo];');
    finals.forEach((f, j) => {
      if (f.scope === 'global') lines.push(`    R[S.f${j}] = ${finish(f.op, `sh[${globalPartials.indexOf(f.partial)}u]`, 'total')};`);
    });
    lines.push('  }');
  }
  const shared = G > 0 ? `var<workgroup> sh: array<f32, ${WORKGROUP * G}>;\n` : '';
  const code = `// gradtx reduction prelude: per-leaf and global values\n${uniformStruct(fields)}@group(0) @binding(1) var<storage, read_write> R: array<f32>;\n@group(0) @binding(2) var<storage, read> M: array<u32>;\n${shared}${HELPERS}\n@compute @workgroup_size(${WORKGROUP})\nfn main(@builtin(local_invocation_index) li: u32) {\n${lines.join('\n')}\n}\n`;
  return { code, uniforms: fields };
}
