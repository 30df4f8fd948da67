/**
 * Lookahead: `lookahead` and `lookaheadParamsInit` (optax `lookahead`,
 * `LookaheadParams.init_synced`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ExtraArgs, GradientTransformation, Params, Updates } from '../base.js';
import { assertSameShapes, isPlainObject, isTensor, treeMap } from '../tree.js';
import {
  checkBoolean,
  checkFinite,
  checkFloatTree,
  checkInteger,
  checkStateKeys,
  checkTransformation,
  type OptionDefaults,
  resolveOptions,
} from '../validate.js';

/**
 * The params of {@link lookahead} (optax `LookaheadParams`): the fast params,
 * with which gradients are computed, and the slow params, for evaluation.
 */
export type LookaheadParams<P extends Params = Params> = {
  /** The fast params: compute the gradients with these. */
  fast: P;
  /** The slow params: evaluate with these (they generalize better). */
  slow: P;
};

/** Options of {@link lookahead}. */
export interface LookaheadOptions {
  /** Reset the fast optimizer's state (to its `init`) at each synchronization (default false). */
  resetState?: boolean;
}

/** The state of {@link lookahead} (optax `LookaheadState`). */
export interface LookaheadState<S = unknown> {
  /** The state of the fast optimizer. */
  fastState: S;
  /** Fast steps since the slow and fast params were last synchronized. */
  stepsSinceSync: number;
}

/**
 * A synchronized pair of lookahead params, `{ fast, slow }`, both copies of
 * `params` (fresh tensors; `params` is untouched). Reference: optax
 * `LookaheadParams.init_synced`.
 */
export function lookaheadParamsInit<P extends Params>(params: P): LookaheadParams<P> {
  checkFloatTree('lookaheadParamsInit', 'params', params);
  const copy = () => treeMap((x: tf.Tensor) => tf.clone(x), params) as P;
  return { fast: copy(), slow: copy() };
}

function isLookaheadParams(x: unknown): x is LookaheadParams {
  return isPlainObject(x) && Object.keys(x).length === 2 && Object.hasOwn(x, 'fast') && Object.hasOwn(x, 'slow');
}

/** The defaults of {@link lookahead}'s options (`undefined`: no default). */
export const lookaheadDefaults: OptionDefaults<LookaheadOptions> = Object.freeze({ resetState: false });

/**
 * Lookahead: takes `syncPeriod` steps with `fastOptimizer` on the fast params,
 * then moves the slow params a fraction `slowStepSize` of the way towards the
 * fast ones and restarts the fast params from there.
 *
 * The params are `{ fast, slow }` (see {@link lookaheadParamsInit}); gradients
 * are computed with `params.fast`, and the updates returned are `{ fast, slow }`
 * for {@link applyUpdates}. With `d = fast + u − slow` (u: the fast
 * optimizer's update) and `s = 1` on a synchronizing step, else `0`:
 * ```
 * slow update = (slowStepSize · s) · d
 * fast update = u − (s · (1 − slowStepSize)) · d
 * ```
 * Apply the returned updates unchanged, or fast and slow fall out of step.
 *
 * State `{ fastState, stepsSinceSync }`. `init` also accepts the fast params
 * alone. Reference: Zhang et al., "Lookahead Optimizer: k steps forward, 1
 * step back" (2019); optax `lookahead`.
 */
export function lookahead<S = unknown>(
  fastOptimizer: GradientTransformation<S>,
  syncPeriod: number,
  slowStepSize: number,
  options: LookaheadOptions = {},
): GradientTransformation<LookaheadState<S>> {
  const fn = 'lookahead';
  const o = resolveOptions(fn, options, lookaheadDefaults);
  checkTransformation(fn, '`fastOptimizer`', fastOptimizer);
  checkInteger(fn, 'syncPeriod', syncPeriod, 1);
  checkFinite(fn, 'slowStepSize', slowStepSize);
  const resetState = checkBoolean(fn, 'resetState', o.resetState);
  return {
    init(params) {
      const fast = isLookaheadParams(params) ? params.fast : params;
      return { fastState: fastOptimizer.init(fast as Params), stepsSinceSync: 0 };
    },
    update(updates, state, params, extraArgs?: ExtraArgs) {
      checkStateKeys(fn, state, ['fastState', 'stepsSinceSync']);
      if (!isLookaheadParams(params)) {
        throw new Error(
          `${fn}: update needs the params as { fast, slow } (see lookaheadParamsInit), got ${params === undefined ? 'no params' : 'another tree'}`,
        );
      }
      const fast = params.fast as Params;
      const slow = params.slow as Params;
      checkFloatTree(fn, 'params.fast', fast);
      checkFloatTree(fn, 'params.slow', slow);
      assertSameShapes(fast, slow, ['params.fast', 'params.slow']);
      const sync = state.stepsSinceSync === syncPeriod - 1 ? 1 : 0;
      return tf.tidy(() => {
        const [u, fastState0] =
          extraArgs === undefined
            ? fastOptimizer.update(updates, state.fastState, fast)
            : fastOptimizer.update(updates, state.fastState, fast, extraArgs);
        const names = { names: ['updates', 'params.fast', 'params.slow'] };
        const diff = treeMap((ui: tf.Tensor, f: tf.Tensor, s: tf.Tensor) => tf.sub(tf.add(f, ui), s), u, [fast, slow], names);
        const slowUpdates = treeMap((d: tf.Tensor) => tf.mul(tf.scalar(slowStepSize * sync, 'float32'), d), diff);
        const fastUpdates = treeMap(
          (ui: tf.Tensor, d: tf.Tensor) => tf.sub(ui, tf.mul(tf.scalar(sync * (1 - slowStepSize), 'float32'), d)),
          u,
          [diff],
        );
        let fastState: unknown = fastState0;
        if (resetState) {
          const initial = fastOptimizer.init(fast);
          fastState = blend(fastState0, initial, sync);
        }
        const out: LookaheadParams = { fast: fastUpdates, slow: slowUpdates };
        return [out, { fastState, stepsSinceSync: (state.stepsSinceSync + 1) % syncPeriod }] as never;
      }) as unknown as [Updates, LookaheadState<S>];
    },
  };
}

/**
 * optax's reset: `(1 − s) · current + s · initial` leaf by leaf (`s` is 0 or 1),
 * for float tensors and numbers; other leaves are picked by `s`.
 */
function blend(current: unknown, initial: unknown, s: number): unknown {
  return treeMap(
    (c: unknown, i: unknown) => {
      if (isTensor(c) && isTensor(i) && c.dtype === 'float32')
        return tf.add(tf.mul(tf.scalar(1 - s, 'float32'), c), tf.mul(tf.scalar(s, 'float32'), i));
      if (isTensor(c) && isTensor(i) && c.dtype === 'int32')
        return tf.add(tf.mul(tf.scalar(1 - s, 'int32'), c), tf.mul(tf.scalar(s, 'int32'), i));
      if (typeof c === 'number' && typeof i === 'number') return (1 - s) * c + s * i;
      const pick = s === 1 ? i : c;
      return isTensor(pick) ? tf.clone(pick) : pick;
    },
    current,
    [initial],
    { names: ['fast state', 'initial fast state'] },
  );
}
