/**
 * The small problem the combinator tests share, on which their optax 0.2.8
 * reference values were computed: params `{ a, b }`, four gradient steps
 * (a test takes the first n), and the inner transformations they wrap.
 */
import type { ScalarOrSchedule } from '../base.js';
import { chain } from '../combine.js';
import { elementwise } from '../elementwise.js';
import { type ScaleByAdamOptions, scaleByAdam } from '../transforms/adam.js';
import { scaleByLearningRate } from '../transforms/scaling.js';
import { t } from './index.js';

/** The params of the reference runs. */
export const AB_PARAMS = { a: [1.0, -2.0, 3.0], b: [0.5, 0.25] };

/** The gradients of the reference runs' four steps. */
export const AB_GRADS = [
  { a: [0.5, -1.0, 2.0], b: [0.1, -0.3] },
  { a: [0.1, -0.3, 1.5], b: [-2.0, 0.7] },
  { a: [-2.0, 0.7, 0.2], b: [0.4, 0.05] },
  { a: [0.3, 0.3, -0.6], b: [1.0, -1.0] },
];

/** An `{ a, b }` tree of arrays as float32 tensors. */
export const abTensors = (x: Record<string, number[]>) => ({ a: t(x.a as number[]), b: t(x.b as number[]) });

/** optax.adam as a chain (the aliases are written elsewhere). */
export const adamChain = (learningRate: ScalarOrSchedule, options: ScaleByAdamOptions = {}) =>
  chain(scaleByAdam(options), scaleByLearningRate(learningRate));

/** optax.trace(decay) (no count in its state), written as a spec so the tests depend on nothing else. */
export const testTrace = (decay: number) =>
  elementwise({
    name: 'testTrace',
    key: 'testTrace',
    slots: [{ name: 'trace', init: 0 }],
    counted: false,
    needsParams: false,
    scalars: () => ({ decay }),
    body: (m, { u, trace: tr }, k) => {
      const next = m.add(u, m.mul(k.decay, tr));
      return { u: next, trace: next };
    },
  });

/** optax.sgd(0.1, momentum=0.9) as a chain. */
export const sgdMomentum = () => chain(testTrace(0.9), scaleByLearningRate(0.1));
