/**
 * The reference step: `tx.update` with tfjs ops, then `applyUpdates`, then
 * donation. Every step that does not run fused runs here.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../base.js';
import { isTensor, treeFlatten, treeUnflatten } from '../tree.js';
import { applyUpdates } from '../update.js';
import { consume, settleParam, tensorLeaves } from './donation.js';
import type { StepRequest } from './request.js';
import { fusedStats } from './stats.js';

/** The reference step: `tx.update` with tfjs ops, then `applyUpdates`, then donation. */
export function referenceStep(req: StepRequest): [Params, unknown] {
  const { tx, updates, state, params, donate, extraArgs } = req;
  // a transformation breaking the purity contract could hand back an input: never dispose those
  // (collected first: reading a consumed input throws, and then nothing has been computed yet)
  const inputs = new Set<tf.Tensor>([...tensorLeaves(updates), ...tensorLeaves(params), ...tensorLeaves(state)]);
  const [u, s] = extraArgs === undefined ? tx.update(updates, state, params) : tx.update(updates, state, params, extraArgs);
  const fresh = (ts: tf.Tensor[]) => ts.filter((t) => !inputs.has(t));
  let p: Params;
  try {
    p = applyUpdates(params, u);
  } catch (e) {
    tf.dispose(fresh(tensorLeaves(s)));
    throw e;
  } finally {
    tf.dispose(fresh(tensorLeaves(u)));
  }
  fusedStats.reference++;
  const kept = new Set<tf.Tensor>([...tensorLeaves(p), ...tensorLeaves(s)]);
  if (donate.state) for (const t of tensorLeaves(state)) if (!kept.has(t)) consume(t, req.by);
  if (donate.updates) for (const t of tensorLeaves(updates)) if (!kept.has(t)) consume(t, req.by);
  if (donate.params) {
    const { leaves: olds, treedef } = treeFlatten<tf.Tensor>(params);
    const { leaves: news } = treeFlatten<tf.Tensor>(p);
    if (olds.length === news.length) {
      const settled = news.map((n, i) => (isTensor(n) && isTensor(olds[i]) ? settleParam(olds[i] as tf.Tensor, n, true) : n));
      const out = new Set(settled);
      for (const t of olds) if (isTensor(t) && !out.has(t)) consume(t, req.by);
      p = treeUnflatten(treedef, settled);
    }
  }
  return [p, s];
}
