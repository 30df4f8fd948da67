/**
 * The WGSL kernels of an IR with packed arrays (`KernelIR.packed`: state
 * slots stored as bfloat16, float16 or block-wise int8 code words; see
 * `wgsl-storage.ts` for the codecs).
 *
 * A code word holds several elements, so an invocation owns whole words:
 * it runs the body for a unit of `G` consecutive elements of one leaf (4
 * when the kernel writes 8-bit codes, 2 for 16-bit ones, else 1), builds
 * each packed output's words in registers and stores them once; the
 * unused codes of a leaf's last word are 0. Float32 arrays are read and
 * written element by element as in the plain kernel. Every array is bound
 * as `array<u32>` (float32 values through `bitcast`), so code words keep
 * their bits.
 *
 * An int8 output needs its block's absmax scale before any code of the
 * block is written, so a kernel that writes int8 arrays runs in two
 * passes: the `scales` pass runs the body (only the nodes those outputs
 * need) once per element and folds each value into its block's scale with
 * `atomicMax` on the magnitude's bits in a scratch buffer `Q` (cleared
 * before; exact and in any order); the `main` pass then runs the whole body
 * and encodes with those scales. The old scales stay readable until the
 * main pass ends; the device then copies `Q` over the scales outputs.
 *
 * Arrays live at element (or word, or block) offsets in pools as in the
 * plain kernel, leaves end to end; the table `M` holds, per table column
 * (see {@link packedColumns}), the start of each leaf, and an invocation
 * finds its leaf by binary search.
 *
 * @module
 */
import { type KernelIR, type Node, type PackedStorage, storageOf } from '@gradtx/core/engine';
import {
  ENTRY_ARGS,
  HELPERS,
  INDEX,
  type KernelLayout,
  kernelFields,
  printNode,
  type Shader,
  type UniformField,
  uniformStruct,
  type WgslContext,
  WORKGROUP,
} from './wgsl-codegen.js';
import { decoderOf, encoderOf, storageWgsl } from './wgsl-storage.js';

/** What an IR array holds: float32 values, code words of a packed storage, or the block scales of an int8 array. */
type ArrayKind =
  | { readonly kind: 'f32' }
  | { readonly kind: 'codes'; readonly storage: PackedStorage; readonly per: number }
  | { readonly kind: 'scales'; readonly blockSize: number };

/** The two passes of a kernel that writes int8 arrays (`scales` first); every other packed kernel has `main` only. */
export type PackedPass = 'scales' | 'main';

/** A packed kernel's shader and what it binds: its pools, the reduction results, the scratch scales. */
export interface PackedShader extends Shader {
  readonly pools: readonly number[];
  readonly results: boolean;
  readonly scratch: boolean;
}

function kindOf(ir: KernelIR, name: string): ArrayKind {
  const s = storageOf(ir, name);
  if (s !== undefined) return { kind: 'codes', storage: s, per: s.dtype === 'int8' ? 4 : 2 };
  const scaled = name.endsWith('#scales') ? storageOf(ir, name.slice(0, -'#scales'.length)) : undefined;
  if (scaled?.dtype === 'int8') return { kind: 'scales', blockSize: scaled.blockSize };
  return { kind: 'f32' };
}

/** The table column that gives a leaf's start in an array of this kind. */
function columnOf(k: ArrayKind): string {
  if (k.kind === 'codes') return `w${k.per}`;
  if (k.kind === 'scales') return `b${k.blockSize}`;
  return 'e';
}

/** Elements per invocation of the main pass: 4 with 8-bit code outputs, 2 with 16-bit ones, else 1. */
export function unitElements(ir: KernelIR): number {
  let g = 1;
  for (const o of ir.outputs) {
    const k = kindOf(ir, o.name);
    if (k.kind === 'codes') g = Math.max(g, k.per);
  }
  return g;
}

/** Elements per invocation of the scales pass (each folds its run into one `atomicMax` per block it touches). */
export const SCALES_RUN = 16;

/**
 * The columns of the table `M`, each `L + 1` leaf starts: `e` elements, `g`
 * units of the main pass, `r` runs of the scales pass, `w2` / `w4` words of
 * 16- / 8-bit codes, `b<size>` blocks of int8 scales.
 */
export function packedColumns(ir: KernelIR): string[] {
  const cols = ['e', 'g', 'r'];
  for (const name of [...ir.inputs, ...ir.outputs.map((o) => o.name)]) {
    const c = columnOf(kindOf(ir, name));
    if (!cols.includes(c)) cols.push(c);
  }
  return cols;
}

/** The size in table column `column` of a leaf of `n` elements (`G` elements per unit). */
export function columnSize(column: string, n: number, G: number): number {
  if (column === 'e') return n;
  if (column === 'g') return Math.ceil(n / G);
  if (column === 'r') return Math.ceil(n / SCALES_RUN);
  return Math.ceil(n / Number(column.slice(1)));
}

/** The IR outputs written as int8 codes, by output index. */
export function int8Outputs(ir: KernelIR): number[] {
  return ir.outputs.flatMap((o, k) => (storageOf(ir, o.name)?.dtype === 'int8' ? [k] : []));
}

/** Everything the printers of one packed kernel share. */
interface Printer {
  readonly ir: KernelIR;
  readonly layout: KernelLayout;
  readonly cols: readonly string[];
}

/** `M[...]`: leaf `leaf`'s start in the column of `k`. */
function start(p: Printer, k: ArrayKind): string {
  return `M[S.t${p.cols.indexOf(columnOf(k))} + leaf]`;
}

/** The expression of element `e` of IR input `j`, decoded. */
function loadOf(p: Printer, j: number): string {
  const name = p.ir.inputs[j] as string;
  const k = kindOf(p.ir, name);
  const at = (q: number, kind: ArrayKind, index: string) => `P${p.layout.inPool[q]}[S.i${q} + ${start(p, kind)} + ${index}]`;
  if (k.kind !== 'codes') return `bitcast<f32>(${at(j, k, 'e')})`;
  const bits = 32 / k.per;
  const code = `((${at(j, k, `e / ${k.per}u`)} >> ((e & ${k.per - 1}u) * ${bits}u)) & ${2 ** bits - 1}u)`;
  const s = k.storage;
  const value =
    s.dtype === 'int8'
      ? `${decoderOf(s)}(${code}, bitcast<f32>(${at(j + 1, { kind: 'scales', blockSize: s.blockSize }, `e / ${s.blockSize}u`)}))`
      : `${decoderOf(s)}(${code})`;
  return s.root ? `sq(${value})` : value;
}

/** The value an output stores, before encoding: `√v` (rounded to nearest on the bits) for a `root` storage. */
function stored(s: PackedStorage | undefined, v: string): string {
  return s?.root ? `sqrt_rn(${v})` : v;
}

/** The statements of the main pass that store the value `v` of output `k` for element `e = e0 + j` (a code into its word in registers). */
function storeOf(p: Printer, k: number, v: string, j: number): string[] {
  const name = (p.ir.outputs[k] as { name: string }).name;
  const kind = kindOf(p.ir, name);
  if (kind.kind === 'scales') return [];
  if (kind.kind === 'f32') return [`P${p.layout.outPool[k]}[S.w${k} + ${start(p, kind)} + e] = bitcast<u32>(${v});`];
  const s = kind.storage;
  const x = stored(s, v);
  const scale = s.dtype === 'int8' ? `, Q[S.q${k} + ${start(p, { kind: 'scales', blockSize: s.blockSize })} + e / ${s.blockSize}u]` : '';
  const word = `c${k}_${Math.floor(j / kind.per)}`;
  return [`${word} = ${word} | (${encoderOf(s)}(${x}${scale}) << ${(j % kind.per) * (32 / kind.per)}u);`];
}

/** The word registers of the packed outputs, and their stores after the unit's loop. */
function wordsOf(p: Printer, G: number): { decls: string[]; writes: string[] } {
  const decls: string[] = [];
  const writes: string[] = [];
  p.ir.outputs.forEach((o, k) => {
    const kind = kindOf(p.ir, o.name);
    if (kind.kind !== 'codes') return;
    const W = G / kind.per;
    for (let q = 0; q < W; q++) {
      decls.push(`  var c${k}_${q} = 0u;`);
      const at = `S.w${k} + ${start(p, kind)} + e0 / ${kind.per}u + ${q}u`;
      writes.push(`  if (e0 + ${q * kind.per}u < n) { P${p.layout.outPool[k]}[${at}] = c${k}_${q}; }`);
    }
  });
  return { decls, writes };
}

/** The ids of the nodes that `roots` need, in order. */
function liveNodes(ir: KernelIR, roots: readonly number[]): number[] {
  const live = new Uint8Array(ir.nodes.length);
  const mark = (id: number): void => {
    if (live[id]) return;
    live[id] = 1;
    for (const a of (ir.nodes[id] as Node).args) mark(a);
  };
  for (const r of roots) mark(r);
  return ir.nodes.flatMap((_, id) => (live[id] ? [id] : []));
}

/** The IR inputs that the nodes `ids` load, with the scales array of each int8 one. */
function loadedInputs(p: Printer, ids: readonly number[]): number[] {
  const js = new Set<number>();
  for (const id of ids) {
    const n = p.ir.nodes[id] as Node;
    if (n.op !== 'input') continue;
    const j = n.index as number;
    js.add(j);
    if (storageOf(p.ir, p.ir.inputs[j] as string)?.dtype === 'int8') js.add(j + 1);
  }
  return [...js];
}

const FIND_LEAF = `fn find_leaf(col: u32, x: u32) -> u32 {
  var lo = 0u;
  var hi = S.nl;
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (M[col + mid] <= x) { lo = mid; } else { hi = mid; }
  }
  return lo;
}
fn sq(x: f32) -> f32 { return x * x; }
`;

/** The declarations of the pools, the results, the table and the scratch scales (atomic in the scales pass). */
function declarations(p: Printer, pools: ReadonlySet<number>, results: boolean, pass: PackedPass, scratch: boolean): string {
  const P = p.layout.pools.length;
  const decls = [...pools]
    .sort((a, b) => a - b)
    .map((b) => {
      const write = pass === 'main' && (p.layout.pools[b] as { write: boolean }).write;
      return `@group(0) @binding(${b + 1}) var<storage, ${write ? 'read_write' : 'read'}> P${b}: array<u32>;`;
    });
  if (results) decls.push(`@group(0) @binding(${P + 1}) var<storage, read> R: array<f32>;`);
  decls.push(`@group(0) @binding(${P + 2}) var<storage, read> M: array<u32>;`);
  if (scratch) {
    const q = pass === 'scales' ? 'var<storage, read_write> Q: array<atomic<u32>>' : 'var<storage, read> Q: array<u32>';
    decls.push(`@group(0) @binding(${P + 3}) ${q};`);
  }
  return decls.join('\n');
}

/** The uniform fields of a packed kernel: the plain kernel's, the table columns' offsets `t<c>`, the scratch offsets `q<k>`. */
function packedFields(ir: KernelIR, cols: readonly string[]): UniformField[] {
  const fields = kernelFields(ir);
  cols.forEach((_, c) => {
    fields.push({ name: `t${c}`, type: 'u32' });
  });
  for (const k of int8Outputs(ir)) fields.push({ name: `q${k}`, type: 'u32' });
  if (Object.values(ir.packed).some((s) => s.dtype === 'int8')) fields.push({ name: 'tm', type: 'u32' });
  return fields;
}

/** The statement that computes node `id` into `v<id>`. */
function nodeLine(p: Printer, id: number, c: WgslContext, indent: string): string {
  const n = p.ir.nodes[id] as Node;
  return `${indent}let v${id} = ${printNode(
    n,
    n.args.map((a) => `v${a}`),
    c,
  )};`;
}

/** Whether any of the nodes `ids` reads a reduction result. */
function readsResults(ir: KernelIR, ids: readonly number[]): boolean {
  return ids.some((id) => {
    const n = ir.nodes[id] as Node;
    return n.op === 'scalar' && ir.scalars[n.index as number]?.source !== 'param';
  });
}

/**
 * The body of the scales pass: one invocation per run of {@link SCALES_RUN}
 * elements of a leaf, each int8 output's values folded into a running
 * maximum per block, one `atomicMax` per block the run touches.
 */
function scalesBody(p: Printer, ids: readonly number[], c: WgslContext): string[] {
  const lines = [
    '  if (i >= S.n) { return; }',
    '  let leaf = find_leaf(S.t2, i);',
    '  let n = M[S.t0 + leaf + 1u] - M[S.t0 + leaf];',
    `  let e0 = (i - M[S.t2 + leaf]) * ${SCALES_RUN}u;`,
  ];
  const outs = int8Outputs(p.ir);
  for (const k of outs) lines.push(`  var a${k} = 0u;`, `  var b${k} = 0xffffffffu;`);
  lines.push(`  for (var j = 0u; j < ${SCALES_RUN}u; j = j + 1u) {`, '    let e = e0 + j;', '    if (e >= n) { break; }');
  for (const id of ids) lines.push(nodeLine(p, id, c, '    '));
  for (const k of outs) {
    const o = p.ir.outputs[k] as { name: string; node: number };
    const s = storageOf(p.ir, o.name) as Extract<PackedStorage, { dtype: 'int8' }>;
    lines.push(
      `    let blk${k} = ${start(p, { kind: 'scales', blockSize: s.blockSize })} + e / ${s.blockSize}u;`,
      `    if (blk${k} != b${k}) {`,
      `      if (b${k} != 0xffffffffu) { atomicMax(&Q[S.q${k} + b${k}], a${k}); }`,
      `      b${k} = blk${k};`,
      `      a${k} = 0u;`,
      '    }',
      `    a${k} = max(a${k}, scale_bits(${stored(s, `v${o.node}`)}));`,
    );
  }
  lines.push('  }');
  for (const k of outs) lines.push(`  if (b${k} != 0xffffffffu) { atomicMax(&Q[S.q${k} + b${k}], a${k}); }`);
  return lines;
}

/** The body of the main pass: one invocation per unit of `G` elements of a leaf, the body unrolled once per element. */
function mainBody(p: Printer, G: number, c: WgslContext): string[] {
  const { decls, writes } = wordsOf(p, G);
  const lines = [
    '  if (i >= S.n) { return; }',
    '  let leaf = find_leaf(S.t1, i);',
    '  let n = M[S.t0 + leaf + 1u] - M[S.t0 + leaf];',
    `  let e0 = (i - M[S.t1 + leaf]) * ${G}u;`,
    ...decls,
  ];
  for (let j = 0; j < G; j++) {
    lines.push(`  if (e0 + ${j}u < n) {`, `    let e = e0 + ${j}u;`);
    p.ir.nodes.forEach((_, id) => {
      lines.push(nodeLine(p, id, c, '    '));
    });
    p.ir.outputs.forEach((o, k) => {
      for (const st of storeOf(p, k, `v${o.node}`, j)) lines.push(`    ${st}`);
    });
    lines.push('  }');
  }
  lines.push(...writes);
  return lines;
}

/**
 * The WGSL of one pass of the kernel of `ir` (with packed arrays) for
 * `layout`. Bindings: 0 the uniforms; `b + 1` pool `b`; `P + 1` the
 * reduction results `R`; `P + 2` the table `M`; `P + 3` the scratch scales
 * `Q`. Uniforms: the plain kernel's (`n` is the number of units of the main
 * pass, of elements of the scales pass), then `t<c>` the offset in `M` of
 * table column `c` and `q<k>` the offset in `Q` of int8 output `k`'s scales.
 */
export function packedKernelWgsl(ir: KernelIR, layout: KernelLayout, pass: PackedPass): PackedShader {
  const p: Printer = { ir, layout, cols: packedColumns(ir) };
  const G = unitElements(ir);
  const roots = pass === 'main' ? ir.outputs.map((o) => o.node) : int8Outputs(ir).map((k) => (ir.outputs[k] as { node: number }).node);
  const ids = pass === 'main' ? ir.nodes.map((_, id) => id) : liveNodes(ir, roots);
  const loaded = loadedInputs(p, ids);
  const pools = new Set(loaded.map((j) => layout.inPool[j] as number));
  // the main pass writes every output but the scales (copied from the scratch afterwards)
  if (pass === 'main') {
    ir.outputs.forEach((o, k) => {
      if (kindOf(ir, o.name).kind !== 'scales') pools.add(layout.outPool[k] as number);
    });
  }
  const results = readsResults(ir, ids);
  const scratch = int8Outputs(ir).length > 0;
  const c: WgslContext = { ir, layout, load: (j) => loadOf(p, j) };
  const body = pass === 'main' ? mainBody(p, G, c) : scalesBody(p, ids, c);
  const storages = Object.values(ir.packed);
  const fields = packedFields(ir, p.cols);
  const code = `// gradtx fused kernel, packed state (${pass} pass)\n${uniformStruct(fields)}${declarations(p, pools, results, pass, scratch)}\n${HELPERS}${storageWgsl(storages)}${FIND_LEAF}\n@compute @workgroup_size(${WORKGROUP})\nfn main(${ENTRY_ARGS}) {\n  ${INDEX}\n${body.join('\n')}\n}\n`;
  return { code, uniforms: fields, pools: [...pools], results, scratch };
}
