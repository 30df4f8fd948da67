/**
 * Complex-valued params: `splitRealAndImaginary` (optax
 * `contrib.split_real_and_imaginary`).
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkStateKeys, checkTransformation, type GradientTransformation, type Params, treeMap, type Updates } from './core-api.js';

/** A complex64 leaf as the inner transformation sees it (optax `SplitRealAndImaginaryArrays`). */
export interface SplitRealAndImaginaryArrays {
  real: tf.Tensor;
  imaginary: tf.Tensor;
}

/** The state of {@link splitRealAndImaginary} (optax `SplitRealAndImaginaryState`). */
export interface SplitRealAndImaginaryState {
  innerState: unknown;
}

/** The tree with every complex64 leaf replaced by `{ real, imaginary }` (new float32 tensors). */
function split<T>(tree: T): T {
  return treeMap((x: tf.Tensor) => (x.dtype === 'complex64' ? { real: tf.real(x), imaginary: tf.imag(x) } : x), tree);
}

/** Disposes the parts `split` made (the float32 leaves it kept are the caller's). */
function disposeParts(original: unknown, splitTree: unknown): void {
  treeMap(
    (x: tf.Tensor, s: unknown) => {
      if (x.dtype === 'complex64') tf.dispose([(s as SplitRealAndImaginaryArrays).real, (s as SplitRealAndImaginaryArrays).imaginary]);
      return null;
    },
    original,
    [splitTree],
  );
}

/**
 * Runs `inner` on complex params as on pairs of real ones: every complex64
 * leaf `z` is split into `{ real: Re z, imaginary: Im z }` (two float32
 * leaves of the inner transformation's tree) for `init` and `update`, and
 * the inner updates are joined back, `u = u_re + i · u_im`. Real leaves pass
 * as they are; no extra arguments reach `inner` (as in optax).
 *
 * $$
 * (u_{\mathrm{re}}, u_{\mathrm{im}}) = \mathrm{inner}(\operatorname{Re} g, \operatorname{Im} g), \qquad u = u_{\mathrm{re}} + i\, u_{\mathrm{im}}
 * $$
 *
 * gradtx's `applyUpdates` and `createOptimizer` take float32 trees only, so
 * apply the complex updates with `tf.add(z, u)` (tfjs's complex64 supports
 * `add`, `real`, `imag` and `complex` on the cpu backend). State
 * {@link SplitRealAndImaginaryState}. Fuses: no (reference path). Reference:
 * optax `contrib.split_real_and_imaginary`.
 */
export function splitRealAndImaginary(inner: GradientTransformation): GradientTransformation<SplitRealAndImaginaryState> {
  const fn = 'splitRealAndImaginary';
  checkTransformation(fn, '`inner`', inner);
  return {
    init(params) {
      const parts = split(params);
      try {
        return { innerState: inner.init(parts) };
      } finally {
        disposeParts(params, parts);
      }
    },
    update(updates, state, params) {
      checkStateKeys(fn, state, ['innerState']);
      const u = split(updates);
      const p = params === undefined ? undefined : split(params);
      try {
        const [innerUpdates, innerState] = inner.update(u, state.innerState, p as Params | undefined);
        const joined = treeMap(
          (x: tf.Tensor, s: unknown) => {
            if (x.dtype !== 'complex64') return s;
            const pair = s as SplitRealAndImaginaryArrays;
            const z = tf.complex(pair.real, pair.imaginary);
            tf.dispose([pair.real, pair.imaginary]);
            return z;
          },
          updates,
          [innerUpdates],
        ) as Updates;
        return [joined, { innerState }];
      } finally {
        disposeParts(updates, u);
        if (params !== undefined) disposeParts(params, p);
      }
    },
  };
}
