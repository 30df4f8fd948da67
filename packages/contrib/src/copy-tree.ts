/**
 * Copies of state trees (a transformation that carries part of its state over
 * unchanged hands back copies, as SAM and Sophia do).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { treeMap } from './core-api.js';

/**
 * A copy of a tree in which every tensor is cloned and every other leaf kept
 * (for state a transformation carries over unchanged: the caller disposes the
 * old state, so the new one must not share its tensors).
 */
export function copyTree<T>(tree: T): T {
  return treeMap((x: unknown) => (x instanceof tf.Tensor ? tf.clone(x) : x), tree);
}
