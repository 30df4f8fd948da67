/**
 * Convergence of every alias, after optax's `alias_test.py` (`test_optimization`):
 * from the same starts, with the same hyperparameters (`_OPTIMIZERS_UNDER_TEST`)
 * and the same tolerance (rtol = atol = 3e-2), each alias must reach the
 * minimum of a parabola and of the Rosenbrock function.
 *
 * optax runs 10000 steps of each; to keep this suite quick, each case runs
 * `steps` steps instead: 1.2× the last step at which real optax 0.2.8 was
 * still outside the tolerance within its 10000 steps (rounded up to a
 * hundred), so optax itself is inside at `steps` and stays there. Like optax,
 * the Rosenbrock case is left out for signSgd and signum (they need a
 * schedule for it), and for adafactor without a learning rate and adadelta
 * without one (optax skips the check for those: adadelta without a learning
 * rate ascends, and adafactor's relative steps do not settle). Gradients are
 * computed in closed form in JS from the params' float32 values.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import * as alias from './aliases.js';
import type { GradientTransformation } from './base.js';
import { disposeTree, expectNoLeaks } from './test-utils/index.js';

interface Target {
  init: number[];
  min: number[];
  grad(x: Float32Array): number[];
}

/** optax's `_setup_parabola`: sum((x - min)²) from [-1, 10, 1]. */
const PARABOLA: Target = {
  init: [-1, 10, 1],
  min: [1, -1, 1],
  grad: (x) => Array.from(x, (v, i) => 2 * (v - (PARABOLA.min[i] as number))),
};

/** optax's `_setup_rosenbrock`: (a - x)² + b (y - x²)² with a = 1, b = 100, from [0, 0]. */
const ROSENBROCK: Target = {
  init: [0, 0],
  min: [1, 1],
  grad: ([x = 0, y = 0]) => [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)],
};

const TOL = 3e-2;

function inside(x: Float32Array, min: number[]): boolean {
  return min.every((m, i) => Math.abs((x[i] as number) - m) <= TOL + TOL * Math.abs(m));
}

/**
 * Runs `steps` steps of `tx` on `target`, disposing as it goes. Returns the
 * final params and the first step after which the params were inside the
 * tolerance.
 */
function optimize(tx: GradientTransformation, target: Target, steps: number): { x: number[]; firstInside: number | null; settled: number } {
  let params: tf.Tensor = tf.tensor1d(target.init, 'float32');
  let state = tx.init(params);
  let firstInside: number | null = null;
  let settled = 0;
  let x = params.dataSync() as Float32Array;
  for (let step = 1; step <= steps; step++) {
    const grads = tf.tensor1d(target.grad(x), 'float32');
    const [updates, next] = tx.update(grads, state, params);
    const nextParams = tf.add(params, updates as tf.Tensor);
    disposeTree([grads, updates, params, state]);
    params = nextParams;
    state = next;
    x = params.dataSync() as Float32Array;
    const isIn = inside(x, target.min);
    if (firstInside === null && isIn) firstInside = step;
    if (!isIn) settled = step + 1;
  }
  const out = Array.from(x);
  disposeTree([params, state]);
  return { x: out, firstInside, settled };
}

/**
 * The cases: optax's `_OPTIMIZERS_UNDER_TEST` for the aliases gradtx has,
 * with the step counts described above.
 */
const CASES: { name: string; make: () => GradientTransformation; parabola?: number; rosenbrock?: number }[] = [
  { name: 'adabelief(1e-2)', make: () => alias.adabelief(1e-2), parabola: 800, rosenbrock: 300 },
  { name: 'adadelta(0.1)', make: () => alias.adadelta(0.1), parabola: 10000, rosenbrock: 3900 },
  { name: 'adafactor(5e-3)', make: () => alias.adafactor(5e-3), parabola: 2400, rosenbrock: 5200 },
  { name: 'adafactor()', make: () => alias.adafactor(), parabola: 100 },
  { name: 'adagrad(1)', make: () => alias.adagrad(1), parabola: 300, rosenbrock: 3600 },
  { name: 'adam(0.1)', make: () => alias.adam(0.1), parabola: 400, rosenbrock: 200 },
  { name: 'adamax(0.1)', make: () => alias.adamax(0.1), parabola: 500, rosenbrock: 300 },
  { name: 'adamaxw(0.1)', make: () => alias.adamaxw(0.1), parabola: 500, rosenbrock: 400 },
  { name: 'adamw(0.1)', make: () => alias.adamw(0.1), parabola: 400, rosenbrock: 200 },
  { name: 'amsgrad(0.1)', make: () => alias.amsgrad(0.1), parabola: 700, rosenbrock: 400 },
  { name: 'fromage(5e-3)', make: () => alias.fromage(5e-3), parabola: 900, rosenbrock: 5300 },
  { name: 'lamb(1e-3)', make: () => alias.lamb(1e-3), parabola: 4100, rosenbrock: 8900 },
  { name: 'lars(1)', make: () => alias.lars(1), parabola: 500, rosenbrock: 700 },
  { name: 'lion(1e-2, { weightDecay: 1e-4 })', make: () => alias.lion(1e-2, { weightDecay: 1e-4 }), parabola: 1700, rosenbrock: 1500 },
  { name: 'nadam(1e-2)', make: () => alias.nadam(1e-2), parabola: 3100, rosenbrock: 400 },
  { name: 'nadamw(1e-2)', make: () => alias.nadamw(1e-2), parabola: 3100, rosenbrock: 400 },
  {
    name: 'noisySgd(1e-3, { eta: 1e-4, key: 0 })',
    make: () => alias.noisySgd(1e-3, { eta: 1e-4, key: 0 }),
    parabola: 3200,
    rosenbrock: 7100,
  },
  { name: 'novograd(1e-3)', make: () => alias.novograd(1e-3), parabola: 1400, rosenbrock: 300 },
  {
    name: 'optimisticGradientDescent(2e-3, { alpha: 0.7, beta: 0.1 })',
    make: () => alias.optimisticGradientDescent(2e-3, { alpha: 0.7, beta: 0.1 }),
    parabola: 2300,
    rosenbrock: 5100,
  },
  { name: 'radam(5e-3)', make: () => alias.radam(5e-3), parabola: 6400, rosenbrock: 1200 },
  { name: 'rmsprop(5e-3)', make: () => alias.rmsprop(5e-3), parabola: 2700, rosenbrock: 2500 },
  { name: 'rmsprop(5e-3, { momentum: 0.9 })', make: () => alias.rmsprop(5e-3, { momentum: 0.9 }), parabola: 400, rosenbrock: 200 },
  { name: 'rprop(0.1)', make: () => alias.rprop(0.1), parabola: 100, rosenbrock: 2600 },
  { name: 'sgd(1e-3, { momentum: 0.9 })', make: () => alias.sgd(1e-3, { momentum: 0.9 }), parabola: 300, rosenbrock: 700 },
  // signSgd oscillates by ±lr around the minimum for good, inside the tolerance at
  // even steps only; optax checks it after 10000 steps, so an even count here too.
  { name: 'signSgd(0.1)', make: () => alias.signSgd(0.1), parabola: 200 },
  { name: 'signum(1e-2)', make: () => alias.signum(1e-2), parabola: 1400 },
  { name: 'sm3(1)', make: () => alias.sm3(1), parabola: 200, rosenbrock: 500 },
  { name: 'yogi(0.1)', make: () => alias.yogi(0.1), parabola: 400, rosenbrock: 4700 },
];

/** Set GRADTX_CONVERGENCE_REPORT=1 to print each case's first step inside the tolerance and its time. */
const REPORT = typeof process !== 'undefined' && process.env.GRADTX_CONVERGENCE_REPORT === '1';

describe('every alias converges as in optax alias_test.py', () => {
  for (const c of CASES) {
    for (const [targetName, target, steps] of [
      ['parabola', PARABOLA, c.parabola],
      ['rosenbrock', ROSENBROCK, c.rosenbrock],
    ] as const) {
      if (steps === undefined) continue;
      it(`${c.name} reaches the minimum of the ${targetName} in ${steps} steps`, async () => {
        await expectNoLeaks(() => {
          const t0 = performance.now();
          const { x, firstInside, settled } = optimize(c.make(), target, steps);
          if (REPORT) {
            console.log(
              `${c.name} ${targetName}: first inside at step ${firstInside}, settled ${settled}, ${steps} steps in ${(performance.now() - t0).toFixed(0)} ms`,
            );
          }
          x.forEach((v, i) => {
            const m = target.min[i] as number;
            expect(Math.abs(v - m), `x[${i}] = ${v}, minimum ${m}`).toBeLessThanOrEqual(TOL + TOL * Math.abs(m));
          });
        });
      });
    }
  }
});
