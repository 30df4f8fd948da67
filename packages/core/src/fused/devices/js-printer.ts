/**
 * The JavaScript code generator: prints a kernel IR as a plain loop over
 * `Float32Array`s. Every arithmetic result goes through `Math.fround`, so each
 * operation rounds to float32 exactly as tfjs's cpu kernels do (they compute
 * in doubles and store float32): the loop agrees with the reference path bit
 * for bit, `exp` and `log` included.
 *
 * The generated function is
 * `kernel(L, ns, ins, outs, K, KL)`: `L` leaves, `ns[l]` elements in leaf
 * `l`, `ins[j][l]` / `outs[j][l]` the arrays of IR input / output `j` for
 * leaf `l`, `K` one value per IR scalar, `KL[l * nLeafScalars + s]` the
 * per-leaf scalars.
 *
 * A packed array (`KernelIR.packed`) is an `Int32Array` of code words: the
 * loop decodes an element where it loads it (a table lookup; for int8 times
 * the block's scale) and encodes it where it stores it, with the codecs of
 * `kernel-codecs.ts`, which the generated code receives as `X`. A kernel
 * that writes int8 arrays runs in tiles of whole blocks: the body's new
 * values of a tile go to a float32 buffer, then each block's absmax scale
 * and codes are written (reading a tile precedes writing it, so in place is
 * safe). `root` storage squares after decoding and takes the square root
 * before encoding, in float32.
 *
 * @module
 */
import { int8Tile, isScalesName, type PackedStorage, storageOf } from '../../lang/packed-columns.js';
import type { KernelIR, Node, NodeOp } from '../../lang/trace.js';

/** A leaf's array as a kernel sees it: float32 values, or the int32 code words of a packed array. */
export type KernelArray = Float32Array | Int32Array;

/** A compiled JS kernel (see the module comment for the arguments). */
export type JsKernel = (
  L: number,
  ns: ArrayLike<number>,
  ins: readonly (readonly KernelArray[])[],
  outs: readonly (readonly KernelArray[])[],
  K: ArrayLike<number>,
  KL: ArrayLike<number>,
) => void;

function literal(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return 'Infinity';
  if (x === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (Object.is(x, -0)) return '-0';
  return `(${String(x)})`;
}

/** What a node's printer needs besides its arguments: the per-leaf scalars' positions. */
interface JsContext {
  /** Per IR input: the expression that loads (and decodes) element `i`. */
  readonly loads: readonly string[];
  /** IR scalar index → its position among the per-leaf scalars. */
  readonly leafScalar: ReadonlyMap<number, number>;
  readonly perLeafScalars: number;
}

/** Prints one node's expression from the names of its arguments. */
type Print = (a: readonly string[], n: Node, c: JsContext) => string;

/** Every op as a JS expression; arithmetic rounds through `fr` (`Math.fround`), as tfjs's cpu kernels store float32. */
const JS: Readonly<Record<NodeOp, Print>> = {
  input: (_a, n, c) => c.loads[n.index as number] as string,
  scalar: (_a, n, c) => {
    const ls = c.leafScalar.get(n.index as number);
    return ls === undefined ? `K[${n.index}]` : `KL[l * ${c.perLeafScalars} + ${ls}]`;
  },
  const: (_a, n) => literal(n.value as number),
  add: ([a, b]) => `fr(${a} + ${b})`,
  sub: ([a, b]) => `fr(${a} - ${b})`,
  mul: ([a, b]) => `fr(${a} * ${b})`,
  div: ([a, b]) => `fr(${a} / ${b})`,
  max: ([a, b]) => `Math.max(${a}, ${b})`,
  min: ([a, b]) => `Math.min(${a}, ${b})`,
  neg: ([a]) => `-${a}`,
  abs: ([a]) => `Math.abs(${a})`,
  sqrt: ([a]) => `fr(Math.sqrt(${a}))`,
  square: ([a]) => `fr(${a} * ${a})`,
  sign: ([a]) => `(${a} > 0 ? 1 : ${a} < 0 ? -1 : ${a} === ${a} ? 0 : ${a})`,
  exp: ([a]) => `fr(Math.exp(${a}))`,
  log: ([a]) => `fr(Math.log(${a}))`,
  lt: ([a, b]) => `(${a} < ${b})`,
  le: ([a, b]) => `(${a} <= ${b})`,
  gt: ([a, b]) => `(${a} > ${b})`,
  ge: ([a, b]) => `(${a} >= ${b})`,
  eq: ([a, b]) => `(${a} === ${b})`,
  and: ([a, b]) => `(${a} && ${b})`,
  or: ([a, b]) => `(${a} || ${b})`,
  not: ([a]) => `!${a}`,
  isNaN: ([a]) => `(${a} !== ${a})`,
  isFinite: ([a]) => `(${a} - ${a} === 0)`,
  select: ([c, a, b]) => `(${c} ? ${a} : ${b})`,
  toFloat: ([a]) => `(${a} ? 1 : 0)`,
};

/** Which nodes are the same for every element of a leaf but change from leaf to leaf (they read a per-leaf scalar). */
function perLeafNodes(ir: KernelIR, leafScalar: ReadonlyMap<number, number>): boolean[] {
  const perLeaf = ir.nodes.map(() => false);
  ir.nodes.forEach((n, id) => {
    perLeaf[id] = (n.op === 'scalar' && leafScalar.has(n.index as number)) || n.args.some((a) => perLeaf[a]);
  });
  return perLeaf;
}

/** The name of the codec table of a storage among the generated code's constants. */
function tableOf(s: PackedStorage): string {
  if (s.dtype === 'int8') return s.signed ? 'X.int8Signed' : 'X.int8Unsigned';
  return `X.${s.dtype}`;
}

/** The expression that loads element `i` of IR input `j`, decoded. */
function loadOf(ir: KernelIR, j: number): string {
  const s = storageOf(ir, ir.inputs[j] as string);
  if (s === undefined) return `a${j}[i]`;
  const code = `D${j}[a${j}[i]]`;
  const value = s.dtype === 'int8' ? `fr(${code} * a${j + 1}[(i / ${s.blockSize}) | 0])` : code;
  return s.root ? `sq(${value})` : value;
}

/** The view of a leaf's array of IR input or output `name`: its code words as codes where packed. */
function viewOf(ir: KernelIR, name: string, array: string): string {
  const s = storageOf(ir, name);
  if (s === undefined) return array;
  return s.dtype === 'int8' ? `X.u8(${array})` : `X.u16(${array})`;
}

/** The statement that stores `v` as element `i` of output `k` (into the tile buffer for int8; nothing for `#scales`). */
function storeOf(ir: KernelIR, k: number, v: string): string | null {
  const name = (ir.outputs[k] as { name: string }).name;
  if (isScalesName(name)) return null;
  const s = storageOf(ir, name);
  if (s === undefined) return `b${k}[i] = ${v};`;
  const x = s.root ? `fr(Math.sqrt(${v}))` : v;
  if (s.dtype === 'int8') return `W${k}[i - t0] = ${x};`;
  return `b${k}[i] = ${s.dtype === 'bfloat16' ? 'X.encodeBfloat16' : 'X.encodeFloat16'}(${x});`;
}

/** The loop over a leaf's elements: one pass, or tiles of whole int8 blocks with their quantization after each. */
function elementLoop(ir: KernelIR, lines: string[], body: () => void): void {
  const tile = int8Tile(ir);
  if (tile === 0) {
    lines.push('    for (let i = 0; i < n; i++) {');
    body();
    lines.push('    }');
    return;
  }
  lines.push(
    `    for (let t0 = 0; t0 < n; t0 += ${tile}) {`,
    `      const t1 = Math.min(t0 + ${tile}, n);`,
    '      for (let i = t0; i < t1; i++) {',
  );
  body();
  lines.push('      }');
  ir.outputs.forEach((o, k) => {
    const s = storageOf(ir, o.name);
    if (s?.dtype === 'int8') lines.push(`      X.quantize(W${k}, t1 - t0, ${s.blockSize}, b${k}, b${k + 1}, t0, ${s.signed});`);
  });
  lines.push('    }');
}

/** The kernel's constants: the codec table of each packed input and the tile buffer of each int8 output. */
function packedConstants(ir: KernelIR, lines: string[]): void {
  ir.inputs.forEach((name, j) => {
    const s = storageOf(ir, name);
    if (s !== undefined) lines.push(`  const D${j} = ${tableOf(s)};`);
  });
  const tile = int8Tile(ir);
  ir.outputs.forEach((o, k) => {
    if (storageOf(ir, o.name)?.dtype === 'int8') lines.push(`  const W${k} = new Float32Array(${tile});`);
  });
}

/**
 * The body of a function (for `new Function('X', …)`, `X` the codecs of
 * `kernel-codecs.ts`) that returns the kernel of `ir`.
 */
export function jsKernelSource(ir: KernelIR): string {
  const leafScalar = new Map<number, number>();
  ir.scalars.forEach((s, i) => {
    if (s.source === 'leaf') leafScalar.set(i, leafScalar.size);
  });
  const loads = ir.inputs.map((_, j) => loadOf(ir, j));
  const c: JsContext = { loads, leafScalar, perLeafScalars: leafScalar.size };
  const perLeaf = perLeafNodes(ir, leafScalar);
  const v = (id: number) => `v${id}`;
  const lines: string[] = [];
  const emit = (pred: (n: Node, id: number) => boolean, indent: string) => {
    ir.nodes.forEach((n, id) => {
      if (pred(n, id)) lines.push(`${indent}const ${v(id)} = ${JS[n.op](n.args.map(v), n, c)};`);
    });
  };
  lines.push("'use strict';", 'return function kernel(L, ns, ins, outs, K, KL) {', '  const fr = Math.fround;');
  lines.push('  const sq = (x) => fr(x * x);');
  packedConstants(ir, lines);
  for (let j = 0; j < ir.inputs.length; j++) lines.push(`  const I${j} = ins[${j}];`);
  for (let j = 0; j < ir.outputs.length; j++) lines.push(`  const O${j} = outs[${j}];`);
  emit((n, id) => n.uniform && !perLeaf[id], '  ');
  lines.push('  for (let l = 0; l < L; l++) {', '    const n = ns[l];');
  ir.inputs.forEach((name, j) => {
    lines.push(`    const a${j} = ${viewOf(ir, name, `I${j}[l]`)};`);
  });
  ir.outputs.forEach((o, j) => {
    lines.push(`    const b${j} = ${viewOf(ir, o.name, `O${j}[l]`)};`);
  });
  emit((n, id) => n.uniform && perLeaf[id] === true, '    ');
  elementLoop(ir, lines, () => {
    emit((n) => !n.uniform, '        ');
    ir.outputs.forEach((o, k) => {
      const store = storeOf(ir, k, v(o.node));
      if (store !== null) lines.push(`        ${store}`);
    });
  });
  // the unused codes of a leaf's last word are 0 (a fresh output's memory may hold anything)
  ir.outputs.forEach((o, k) => {
    if (storageOf(ir, o.name) !== undefined) lines.push(`    b${k}.fill(0, n);`);
  });
  lines.push('  }', '};');
  return lines.join('\n');
}
