/**
 * Projections onto a line, a hyperplane and a half-space:
 * `projectionVector`, `projectionHyperplane`, `projectionHalfspace`
 * (optax.projections `projection_vector`, `projection_hyperplane`,
 * `projection_halfspace`). `x` and `a` are trees of the same structure;
 * inner products run over the whole tree.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { treeAddScale, treeScale, treeVdot } from '../tree-utils.js';
import { checkFinite, checkFloatTree } from '../validate.js';

function check(fn: string, x: unknown, a: unknown): void {
  checkFloatTree(fn, 'x', x);
  checkFloatTree(fn, 'a', a);
}

/** The projection of `x` onto the line spanned by `a`: `(⟨x, a⟩ / ⟨a, a⟩) · a`. Reference: optax `projection_vector`. */
export function projectionVector<T>(x: T, a: T): T {
  check('projectionVector', x, a);
  return tf.tidy(() => treeScale(tf.div(treeVdot(x, a), treeVdot(a, a)), a) as tf.TensorContainer) as T;
}

/** The projection of `x` onto the hyperplane `{⟨a, y⟩ = b}`: `x + ((b - ⟨x, a⟩) / ⟨a, a⟩) · a`. Reference: optax `projection_hyperplane`. */
export function projectionHyperplane<T>(x: T, a: T, b: number): T {
  check('projectionHyperplane', x, a);
  checkFinite('projectionHyperplane', 'b', b);
  return tf.tidy(() => treeAddScale(x, tf.div(tf.sub(b, treeVdot(x, a)), treeVdot(a, a)), a) as tf.TensorContainer) as T;
}

/** The projection of `x` onto the half-space `{⟨a, y⟩ ≤ b}`: `x + min((b - ⟨x, a⟩) / ⟨a, a⟩, 0) · a`. Reference: optax `projection_halfspace`. */
export function projectionHalfspace<T>(x: T, a: T, b: number): T {
  check('projectionHalfspace', x, a);
  checkFinite('projectionHalfspace', 'b', b);
  return tf.tidy(() => treeAddScale(x, tf.minimum(tf.div(tf.sub(b, treeVdot(x, a)), treeVdot(a, a)), 0), a) as tf.TensorContainer) as T;
}
