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
 * @module
 */
import type { KernelIR, Node, NodeOp } from '../../lang/trace.js';

/** A compiled JS kernel (see the module comment for the arguments). */
export type JsKernel = (
  L: number,
  ns: ArrayLike<number>,
  ins: readonly (readonly Float32Array[])[],
  outs: readonly (readonly Float32Array[])[],
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
  /** IR scalar index → its position among the per-leaf scalars. */
  readonly leafScalar: ReadonlyMap<number, number>;
  readonly perLeafScalars: number;
}

/** Prints one node's expression from the names of its arguments. */
type Print = (a: readonly string[], n: Node, c: JsContext) => string;

/** Every op as a JS expression; arithmetic rounds through `fr` (`Math.fround`), as tfjs's cpu kernels store float32. */
const JS: Readonly<Record<NodeOp, Print>> = {
  input: (_a, n) => `a${n.index}[i]`,
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

/** The body of a function (for `new Function`) that returns the kernel of `ir`. */
export function jsKernelSource(ir: KernelIR): string {
  const leafScalar = new Map<number, number>();
  ir.scalars.forEach((s, i) => {
    if (s.source === 'leaf') leafScalar.set(i, leafScalar.size);
  });
  const c: JsContext = { leafScalar, perLeafScalars: leafScalar.size };
  const perLeaf = perLeafNodes(ir, leafScalar);
  const v = (id: number) => `v${id}`;
  const lines: string[] = [];
  const emit = (pred: (n: Node, id: number) => boolean, indent: string) => {
    ir.nodes.forEach((n, id) => {
      if (pred(n, id)) lines.push(`${indent}const ${v(id)} = ${JS[n.op](n.args.map(v), n, c)};`);
    });
  };
  lines.push("'use strict';", 'return function kernel(L, ns, ins, outs, K, KL) {', '  const fr = Math.fround;');
  for (let j = 0; j < ir.inputs.length; j++) lines.push(`  const I${j} = ins[${j}];`);
  for (let j = 0; j < ir.outputs.length; j++) lines.push(`  const O${j} = outs[${j}];`);
  emit((n, id) => n.uniform && !perLeaf[id], '  ');
  lines.push('  for (let l = 0; l < L; l++) {', '    const n = ns[l];');
  for (let j = 0; j < ir.inputs.length; j++) lines.push(`    const a${j} = I${j}[l];`);
  for (let j = 0; j < ir.outputs.length; j++) lines.push(`    const b${j} = O${j}[l];`);
  emit((n, id) => n.uniform && perLeaf[id] === true, '    ');
  lines.push('    for (let i = 0; i < n; i++) {');
  emit((n) => !n.uniform, '      ');
  ir.outputs.forEach((o, j) => {
    lines.push(`      b${j}[i] = ${v(o.node)};`);
  });
  lines.push('    }', '  }', '};');
  return lines.join('\n');
}
