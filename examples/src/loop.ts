/**
 * The optax training step written out, for the examples: keep `params` and
 * the transformation's `state`, and per step run
 *   [updates, state] = tx.update(grads, state, params); params = applyUpdates(params, updates)
 * disposing the tensors the step replaced, so the tensor count stays flat.
 * (`createOptimizer` in `@gradtx/core` does the same with in-place buffers.)
 */
import { applyUpdates, type GradientTransformation, type Params, treeLeaves } from '@gradtx/core';
import * as tf from '@tensorflow/tfjs';

/** Params and optimizer state for one training run, updated by the pure gradtx API. */
export class PureLoop<P extends Params = Params> {
  /** The current params. */
  params: P;
  /** The transformation's current state. */
  state: unknown;

  constructor(
    readonly tx: GradientTransformation,
    params: P,
  ) {
    this.params = params;
    this.state = tx.init(params);
  }

  /**
   * One step: updates from `grads` (the params' tree; not disposed), applied
   * to the params, then `project` (if given) maps the new params, e.g. onto
   * a feasible set. Returns the updates' values (flattened, per leaf) when
   * `readUpdates` is true, for plots of the step itself.
   */
  step(grads: P, options: { project?: (params: P) => P; readUpdates?: boolean } = {}): Float32Array[] | undefined {
    const [updates, nextState] = this.tx.update(grads, this.state, this.params);
    const read = options.readUpdates ? treeLeaves<tf.Tensor>(updates).map((u) => u.dataSync() as Float32Array) : undefined;
    let next = applyUpdates(this.params, updates) as P;
    if (options.project) {
      const projected = options.project(next);
      tf.dispose(next as tf.TensorContainer);
      next = projected;
    }
    tf.dispose([updates as tf.TensorContainer, this.state as tf.TensorContainer, this.params as tf.TensorContainer]);
    this.params = next;
    this.state = nextState;
    return read;
  }

  /** Frees the params and the state. */
  dispose(): void {
    tf.dispose([this.params as tf.TensorContainer, this.state as tf.TensorContainer]);
  }
}
