/**
 * Argument checks shared by the losses: each throws an error naming the
 * function, the argument and the value.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

/** An axis argument: one axis, several, or `null` for every axis (negative axes count from the end). */
export type Axis = number | readonly number[] | null;

function describe(x: unknown): string {
  if (x instanceof tf.Tensor) return `a ${x.dtype} tensor of shape [${x.shape.join(', ')}]`;
  if (typeof x === 'string') return `'${x}'`;
  if (Array.isArray(x)) return 'an array';
  return String(x);
}

/** A live tensor; with `dtypes`, one of those dtypes. */
export function checkTensor(fn: string, arg: string, x: unknown, dtypes?: readonly tf.DataType[]): tf.Tensor {
  if (!(x instanceof tf.Tensor)) throw new Error(`${fn}: \`${arg}\` must be a tensor, got ${describe(x)}`);
  if (x.isDisposed) throw new Error(`${fn}: \`${arg}\` has been disposed`);
  if (dtypes !== undefined && !dtypes.includes(x.dtype)) {
    throw new Error(`${fn}: \`${arg}\` must have dtype ${dtypes.join(' or ')}, got ${describe(x)}`);
  }
  return x;
}

/** A float32 tensor (optax checks that its inputs are floating point). */
export function checkFloat(fn: string, arg: string, x: unknown): tf.Tensor {
  return checkTensor(fn, arg, x, ['float32']);
}

/** Two tensors of the same shape. */
export function checkSameShape(fn: string, names: readonly [string, string], a: tf.Tensor, b: tf.Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(
      `${fn}: \`${names[0]}\` has shape [${a.shape.join(', ')}] but \`${names[1]}\` has shape [${b.shape.join(', ')}]; they must be equal`,
    );
  }
}

/** A finite number. */
export function checkNumber(fn: string, arg: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`${fn}: \`${arg}\` must be a finite number, got ${describe(x)}`);
  return x;
}

/** The options object of `fn`: `undefined` or a plain object whose keys are all in `known`. */
export function checkOptions<O extends object>(fn: string, options: O | undefined, known: readonly (keyof O & string)[]): Partial<O> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options) || options instanceof tf.Tensor) {
    throw new Error(`${fn}: the options must be an object such as { ${known[0]}: … }, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!(known as readonly string[]).includes(key)) {
      throw new Error(`${fn}: unknown option \`${key}\`; the options are ${known.map((k) => `\`${k}\``).join(', ')}`);
    }
  }
  return options;
}

/** The axes of `axis` for a tensor of rank `rank`, each in `[0, rank)`, without repeats (`null`: all). */
export function canonicalAxes(fn: string, axis: Axis | undefined, rank: number): number[] {
  if (axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : axis === undefined ? [-1] : [...axis];
  const out = list.map((a) => {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new Error(`${fn}: \`axis\` ${String(a)} is out of bounds for a tensor of rank ${rank}`);
    }
    return a < 0 ? a + rank : a;
  });
  if (new Set(out).size !== out.length) throw new Error(`${fn}: \`axis\` repeats an axis: [${list.join(', ')}]`);
  return out;
}

/** A `where` mask as a bool tensor (numbers: nonzero is true), or `undefined`. */
export function checkWhere(fn: string, where: unknown): tf.Tensor | undefined {
  if (where === undefined || where === null) return undefined;
  const w = checkTensor(fn, 'where', where);
  return w.dtype === 'bool' ? w : tf.notEqual(w, 0);
}
