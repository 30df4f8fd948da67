/**
 * The learning rate a transformation declares (`scaleByLearningRate` does),
 * so a step report can say which learning rate a step used.
 *
 * @module
 */
import type { GradientTransformation, ScalarOrSchedule } from './base.js';
import { isPlainObject } from './tree.js';

const declared = new WeakMap<GradientTransformation, ScalarOrSchedule>();

/**
 * Marks `tx` as scaling by `learningRate` (a constant or a schedule of the
 * stage's `count`), so a {@link StepReport} can say the learning rate.
 * Internal: `scaleByLearningRate` declares its own.
 */
export function declareLearningRate<T extends GradientTransformation>(tx: T, learningRate: ScalarOrSchedule): T {
  declared.set(tx, learningRate);
  return tx;
}

/**
 * The learning rate that the last update of `tx` used, read from the state
 * it returned: a declared stage's (a schedule at the stage's `count - 1`),
 * found through `chain`/`namedChain` members, or an `injectHyperparams`
 * state's `learningRate` (the value of the last update, as optax keeps it);
 * `null` when there is none.
 */
export function learningRateOf(tx: GradientTransformation, state: unknown): number | null {
  const lr = declared.get(tx);
  if (lr !== undefined) {
    if (typeof lr === 'number') return lr;
    const count = isPlainObject(state) && typeof state.count === 'number' ? state.count : 1;
    return Math.abs(lr(Math.max(count - 1, 0)));
  }
  if (isPlainObject(state) && isPlainObject(state.hyperparams) && typeof state.hyperparams.learningRate === 'number') {
    return Math.abs(state.hyperparams.learningRate);
  }
  const children = tx.fusion?.kind === 'chain' ? (tx.fusion.children ?? []) : [];
  for (const [key, child] of children) {
    const inner = state !== null && typeof state === 'object' ? (state as Record<string | number, unknown>)[key] : undefined;
    const found = learningRateOf(child, inner);
    if (found !== null) return found;
  }
  return null;
}
