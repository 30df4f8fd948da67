/**
 * Gradients in the params' tree: `valueAndGrad` (as `jax.value_and_grad`)
 * and the mapping of tfjs's name-keyed gradient maps (what
 * `tf.variableGrads` returns) onto a tree of variables.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from './base.js';
import { describe, formatPath, isPlainObject, isTensor, sameStructure, treeLeavesWithPath, treeMapWithPath } from './tree.js';

/** The loss and its gradients, as {@link valueAndGrad} returns them. */
export interface ValueAndGrad<P extends Params = Params> {
  /** The loss: a scalar tensor the caller owns. */
  value: tf.Scalar;
  /** The gradient of the loss with respect to every leaf of the params, in the params' tree; the caller owns them. */
  grads: P;
}

/**
 * Computes `lossFn(params)` and its gradient with respect to every tensor
 * leaf of `params`, returned in the params' tree (as JAX's
 * `jax.value_and_grad`): `g = ∂L/∂θ` for every leaf `θ`.
 *
 * `lossFn` receives `params` and returns a scalar tensor; it may read the
 * params through its argument or, when they are `tf.Variable`s (e.g. a
 * model's weights), through the model itself. A leaf the loss does not
 * depend on gets a zero gradient. Intermediate tensors are freed; the caller
 * owns `value` and `grads`. Gradient functions are registered by
 * `@tensorflow/tfjs` (or `@tensorflow/tfjs-layers`), not by tfjs-core alone.
 *
 * @example
 * ```ts
 * const params = { w: tf.variable(tf.zeros([3])), b: tf.variable(tf.scalar(0)) };
 * const { value, grads } = valueAndGrad((p) => tf.losses.meanSquaredError(y, x.dot(p.w).add(p.b)), params);
 * // grads.w, grads.b: tensors of the shapes of params.w, params.b
 * ```
 * @category Training loop
 */
export function valueAndGrad<P extends Params>(lossFn: (params: P) => tf.Tensor, params: P): ValueAndGrad<P> {
  return lossAndGradients('valueAndGrad', lossFn, params);
}

/** {@link valueAndGrad} with the calling function's name for error messages. */
export function lossAndGradients<P extends Params>(fn: string, lossFn: (params: P) => tf.Tensor, params: P): ValueAndGrad<P> {
  if (typeof lossFn !== 'function')
    throw new Error(`${fn}: \`lossFn\` must be a function (params) => scalar tensor, got ${describe(lossFn)}`);
  const leaves = treeLeavesWithPath(params).filter(([, x]) => isTensor(x)) as [(string | number)[], tf.Tensor][];
  if (leaves.length === 0) throw new Error(`${fn}: \`params\` has no tensor leaf to differentiate, got ${describe(params)}`);
  const xs = leaves.map(([, t]) => t);
  const { value, grads } = tf.engine().gradients(
    () => {
      const loss = lossFn(params);
      if (!isTensor(loss) || loss.rank !== 0) {
        throw new Error(`${fn}: \`lossFn\` must return a scalar tensor (the loss), got ${describe(loss)}`);
      }
      return loss as tf.Scalar;
    },
    xs,
    undefined,
    true,
  );
  const byLeaf = new Map(xs.map((x, i) => [x, grads[i] ?? tf.zerosLike(x)]));
  const tree = treeMapWithPath((_path, x) => (isTensor(x) ? byLeaf.get(x) : x), params) as P;
  return { value: value as tf.Scalar, grads: tree };
}

/**
 * Whether `grads` is a name-keyed gradient map for `params` rather than a
 * tree of the params' structure: `params`' tensor leaves are all
 * `tf.Variable`s, `grads` is a plain object of tensors, and the two trees
 * differ in structure.
 */
export function isNamedGradientMap(grads: unknown, params: Params): grads is tf.NamedTensorMap {
  if (!isPlainObject(grads) || sameStructure(grads, params)) return false;
  if (!Object.values(grads).every(isTensor)) return false;
  const leaves = treeLeavesWithPath(params).filter(([, x]) => isTensor(x));
  return leaves.length > 0 && leaves.every(([, x]) => x instanceof tf.Variable);
}

/**
 * Maps a name-keyed gradient map (as `tf.variableGrads` and
 * `optimizer.computeGradients` return: variable name → gradient) onto the
 * tree of `params`, whose leaves are `tf.Variable`s. Throws, naming them,
 * when a variable has no gradient in the map or the map has a name that no
 * variable of the params carries. The returned tree holds the map's tensors
 * (nothing is copied).
 */
export function gradientsByName<P extends Params>(fn: string, grads: tf.NamedTensorMap, params: P): P {
  const variables = treeLeavesWithPath(params).filter(([, x]) => isTensor(x)) as [(string | number)[], tf.Variable][];
  const names = new Set(variables.map(([, v]) => v.name));
  const missing = variables.filter(([, v]) => !Object.hasOwn(grads, v.name));
  const unknown = Object.keys(grads).filter((name) => !names.has(name));
  if (missing.length > 0 || unknown.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0)
      parts.push(`no gradient for ${missing.map(([path, v]) => `'${v.name}' (at \`${formatPath(path)}\`)`).join(', ')}`);
    if (unknown.length > 0) parts.push(`gradients for names no param variable has: ${unknown.map((n) => `'${n}'`).join(', ')}`);
    throw new Error(
      `${fn}: \`grads\` is a map of gradients by variable name (as tf.variableGrads returns), but it does not match the params' variables: ${parts.join('; ')}. ` +
        "Pass the variables the gradients were taken of (e.g. model.trainableWeights.map((w) => w.read())), or a tree with the params' structure",
    );
  }
  return treeMapWithPath((_path, x) => (isTensor(x) ? grads[(x as tf.Variable).name] : x), params) as P;
}
