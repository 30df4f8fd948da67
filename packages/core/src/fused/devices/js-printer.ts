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
import type { KernelIR, Node } from '../../lang/trace.js';

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

/** The body of a function (for `new Function`) that returns the kernel of `ir`. */
export function jsKernelSource(ir: KernelIR): string {
  const leafScalar = new Map<number, number>();
  ir.scalars.forEach((s, i) => {
    if (s.source === 'leaf') leafScalar.set(i, leafScalar.size);
  });
  const nls = leafScalar.size;
  // which uniform nodes depend on a per-leaf scalar
  const perLeaf = ir.nodes.map(() => false);
  ir.nodes.forEach((n, id) => {
    perLeaf[id] = (n.op === 'scalar' && leafScalar.has(n.index as number)) || n.args.some((a) => perLeaf[a]);
  });
  const v = (id: number) => `v${id}`;
  const expr = (n: Node): string => {
    const [a, b, c] = n.args.map(v) as [string, string, string];
    switch (n.op) {
      case 'input':
        return `a${n.index}[i]`;
      case 'scalar': {
        const ls = leafScalar.get(n.index as number);
        return ls === undefined ? `K[${n.index}]` : `KL[l * ${nls} + ${ls}]`;
      }
      case 'const':
        return literal(n.value as number);
      case 'add':
        return `fr(${a} + ${b})`;
      case 'sub':
        return `fr(${a} - ${b})`;
      case 'mul':
        return `fr(${a} * ${b})`;
      case 'div':
        return `fr(${a} / ${b})`;
      case 'max':
        return `Math.max(${a}, ${b})`;
      case 'min':
        return `Math.min(${a}, ${b})`;
      case 'neg':
        return `-${a}`;
      case 'abs':
        return `Math.abs(${a})`;
      case 'sqrt':
        return `fr(Math.sqrt(${a}))`;
      case 'square':
        return `fr(${a} * ${a})`;
      case 'sign':
        return `(${a} > 0 ? 1 : ${a} < 0 ? -1 : ${a} === ${a} ? 0 : ${a})`;
      case 'exp':
        return `fr(Math.exp(${a}))`;
      case 'log':
        return `fr(Math.log(${a}))`;
      case 'lt':
        return `(${a} < ${b})`;
      case 'le':
        return `(${a} <= ${b})`;
      case 'gt':
        return `(${a} > ${b})`;
      case 'ge':
        return `(${a} >= ${b})`;
      case 'eq':
        return `(${a} === ${b})`;
      case 'and':
        return `(${a} && ${b})`;
      case 'or':
        return `(${a} || ${b})`;
      case 'not':
        return `!${a}`;
      case 'isNaN':
        return `(${a} !== ${a})`;
      case 'isFinite':
        return `(${a} - ${a} === 0)`;
      case 'select':
        return `(${a} ? ${b} : ${c})`;
      case 'toFloat':
        return `(${a} ? 1 : 0)`;
    }
  };
  const lines: string[] = [];
  const emit = (pred: (n: Node, id: number) => boolean, indent: string) => {
    ir.nodes.forEach((n, id) => {
      if (pred(n, id)) lines.push(`${indent}const ${v(id)} = ${expr(n)};`);
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
