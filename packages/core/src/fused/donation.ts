/**
 * Donation (like JAX's `donate_argnums`): which inputs of a step the caller
 * gives up, and how a step consumes what was donated and not returned.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { isTensor, treeLeaves } from '../tree.js';

/** Which inputs of a step are donated (see {@link fusedUpdate}). */
export interface DonateOptions {
  /** The params (default false). `tf.Variable` params are assigned in place and returned, never consumed. */
  params?: boolean;
  /** Every tensor of the state (default false). */
  state?: boolean;
  /** The updates (gradients) (default false). */
  updates?: boolean;
}

/** Whether `t` is a `tf.Variable` (assigned in place, never consumed). */
export function isVariable(t: tf.Tensor): boolean {
  return t instanceof tf.Variable;
}

/**
 * Disposes a donated tensor and marks it, so that any later use raises an
 * error that says why (rather than tfjs's bare "Tensor is disposed").
 */
export function consume(t: tf.Tensor, by: string): void {
  if (t.isDisposed || isVariable(t)) return;
  t.dispose();
  const message = `${by}: this tensor was donated to a step and has been consumed (disposed); use the params and state that the step returned`;
  Object.defineProperty(t, 'throwIfDisposed', {
    configurable: true,
    value: () => {
      throw new Error(message);
    },
  });
  Object.defineProperty(t, 'dataId', {
    configurable: true,
    get: () => {
      throw new Error(message);
    },
  });
}

/** The tensor leaves of a tree. */
export function tensorLeaves(tree: unknown): tf.Tensor[] {
  return treeLeaves(tree).filter(isTensor) as tf.Tensor[];
}

/** Normalised donation flags. */
export interface Donation {
  readonly params: boolean;
  readonly state: boolean;
  readonly updates: boolean;
}

/** Normalises the `donate` option. */
export function donation(d: boolean | DonateOptions | undefined): Donation {
  if (d === true) return { params: true, state: true, updates: false };
  if (d === undefined || d === false) return { params: false, state: false, updates: false };
  return { params: d.params === true, state: d.state === true, updates: d.updates === true };
}

/** Assigns a fresh value into a donated Variable (or returns the fresh tensor when it is not one). */
export function settleParam(old: tf.Tensor, fresh: tf.Tensor, donate: boolean): tf.Tensor {
  if (donate && isVariable(old) && fresh !== old) {
    (old as tf.Variable).assign(fresh);
    fresh.dispose();
    return old;
  }
  return fresh;
}
