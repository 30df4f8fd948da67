/**
 * Freezing parameters: `freeze` and `selectiveTransform` (optax `freeze`,
 * `selective_transform`).
 *
 * @module
 */
import type { GradientTransformation } from '../base.js';
import { setToZero } from '../combine.js';
import { describe, isNode } from '../tree.js';
import { checkTransformation, type OptionDefaults, resolveOptions, showValue } from '../validate.js';
import { type MaskedState, type MaskTree, masked } from './masked.js';
import { type LabelTree, type PartitionState, partition } from './partition.js';
import { mapPrefix, maskKind } from './prefix-tree.js';

/**
 * Zeros the updates where `mask` is `true`, so those params stay fixed, and
 * passes the others through unchanged: `masked(setToZero(), mask)`.
 *
 * `mask` is a single boolean (freeze everything or nothing) or a tree of
 * booleans with the params' structure (or a prefix of it); it is fixed at
 * construction. State `{ innerState: {} }`. Reference: optax `freeze`.
 */
export function freeze(mask: MaskTree): GradientTransformation<MaskedState> {
  if (typeof mask !== 'boolean' && !isNode(mask))
    throw new Error(`freeze: \`mask\` must be a boolean or a tree of booleans, got ${describe(mask)}`);
  return masked(setToZero(), mask);
}

/** Options of {@link selectiveTransform}. */
export interface SelectiveTransformOptions {
  /**
   * Which params to freeze: a boolean (everything or nothing) or a tree of
   * booleans with the params' structure (or a prefix of it), `true` for
   * frozen. Required.
   */
  freezeMask: MaskTree;
}

/** The keys of {@link selectiveTransform}'s options (`freezeMask` is required: it has no default). */
export const selectiveTransformDefaults: OptionDefaults<SelectiveTransformOptions, 'freezeMask'> = Object.freeze({ freezeMask: undefined });

/**
 * Optimizes only the params that are not frozen: the leaves where
 * `freezeMask` is `false` go through `optimizer`, the frozen ones get zero
 * updates and no optimizer state. A {@link partition} with the labels
 * `train` and `freeze`.
 *
 * State `{ innerStates: { train: { innerState }, freeze: { innerState } } }`.
 * Reference: optax `selective_transform`.
 */
export function selectiveTransform(
  optimizer: GradientTransformation,
  options: SelectiveTransformOptions,
): GradientTransformation<PartitionState> {
  const fn = 'selectiveTransform';
  checkTransformation(fn, '`optimizer`', optimizer);
  if (options === null || typeof options !== 'object' || !('freezeMask' in options)) {
    throw new Error(`${fn}: the options must give \`freezeMask\` (a boolean or a tree of booleans), got ${showValue(options)}`);
  }
  const freezeMask = resolveOptions(fn, options, selectiveTransformDefaults).freezeMask as MaskTree;
  if (typeof freezeMask === 'function') throw new Error(`${fn}: \`freezeMask\` must be a boolean or a tree of booleans, got a function`);
  const kind = { ...maskKind(fn), what: 'freezeMask' };
  const labels = mapPrefix(kind, freezeMask, freezeMask, 'freezeMask', (frozen: boolean) => (frozen ? 'freeze' : 'train')) as LabelTree;
  return partition({ train: optimizer, freeze: setToZero() }, () => labels);
}
