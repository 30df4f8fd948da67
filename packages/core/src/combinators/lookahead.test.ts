import type * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { adamChain, AB_GRADS as G, AB_PARAMS as P, sgdMomentum, abTensors as tensors } from '../test-utils/combinator-fixture.js';
import { disposeTree, expectNoLeaks, expectTreeClose, runSteps, t, toArrays } from '../test-utils/index.js';
import { isTensor, treeLeaves } from '../tree.js';
import { applyUpdates } from '../update.js';
import { lookahead, lookaheadParamsInit } from './lookahead.js';

const adam = () => adamChain(0.1);

describe('lookahead', () => {
  it('steps the fast params and syncs the slow ones every syncPeriod steps (optax reference)', async () => {
    await expectNoLeaks(() => {
      const p = tensors(P);
      const params = lookaheadParamsInit(p);
      const grads = G.map(tensors);
      const run = runSteps(lookahead(sgdMomentum(), 2, 0.5), params, grads);
      // optax 0.2.8: optax.lookahead(optax.sgd(0.1, momentum=0.9), 2, 0.5) with
      // optax.LookaheadParams.init_synced(P), 4 updates with G (the same gradients
      // for every step, params updated with apply_updates).
      const want = [
        {
          fast: { a: [-0.05000000074505806, 0.10000000149011612, -0.20000000298023224], b: [-0.010000000707805157, 0.030000001192092896] },
          slow: { a: [0, 0, 0], b: [0, 0] },
        },
        {
          fast: { a: [-0.0024999938905239105, 0.009999990463256836, -0.0650000274181366], b: [0.10050000250339508, -0.0364999994635582] },
          slow: { a: [-0.052500009536743164, 0.11000001430511475, -0.26499998569488525], b: [0.09049999713897705, -0.0064999982714653015] },
        },
        {
          fast: { a: [0.15049999952316284, 0.03800000622868538, -0.31700000166893005], b: [0.13189999759197235, -0.043699998408555984] },
          slow: { a: [0, 0, 0], b: [0, 0] },
        },
        {
          fast: { a: [-0.022525057196617126, -0.01689998246729374, 0.045850127935409546], b: [-0.05659501999616623, 0.05218500271439552] },
          slow: { a: [0.12797504663467407, 0.021099984645843506, -0.2711501121520996], b: [0.0753050148487091, 0.008485004305839539] },
        },
      ];
      run.updates.forEach((u, i) => {
        expectTreeClose(u, want[i], { rtol: 2e-6, atol: 2e-8 });
      });
      expect(run.state).toMatchObject({ stepsSinceSync: 0 });
      // after a sync the fast and slow params agree
      const after = run.params[1] as { fast: unknown; slow: unknown };
      expectTreeClose(after.fast, after.slow);
      return [p, params, grads];
    });
  });

  it('resets the fast state at each sync with resetState (optax reference)', async () => {
    await expectNoLeaks(() => {
      const p = tensors(P);
      const params = lookaheadParamsInit(p);
      const grads = G.map(tensors);
      const run = runSteps(lookahead(adam(), 2, 0.5, { resetState: true }), params, grads);
      // optax 0.2.8: optax.lookahead(optax.adam(0.1), 2, 0.5, reset_state=True), same run.
      const want = [
        {
          fast: { a: [-0.0999993309378624, 0.0999993309378624, -0.0999993309378624], b: [-0.0999993309378624, 0.0999993309378624] },
          slow: { a: [0, 0, 0], b: [0, 0] },
        },
        {
          fast: { a: [0.00984802097082138, -0.007215254008769989, 0.0008715018630027771], b: [0.08548755198717117, -0.07100872695446014] },
          slow: { a: [-0.09015130996704102, 0.0927841067314148, -0.09912800788879395], b: [-0.014511778950691223, 0.02899061143398285] },
        },
        {
          fast: { a: [0.0999993309378624, -0.0999993309378624, -0.0999993309378624], b: [-0.099999338388443, -0.0999993160367012] },
          slow: { a: [0, 0, 0], b: [0, 0] },
        },
        {
          fast: { a: [-0.022390056401491165, 0.004545867443084717, 0.0747089833021164], b: [0.003014788031578064, 0.08548753708600998] },
          slow: { a: [0.07760930061340332, -0.09545361995697021, -0.025290489196777344], b: [-0.09698459506034851, -0.01451176404953003] },
        },
      ];
      run.updates.forEach((u, i) => {
        expectTreeClose(u, want[i], { rtol: 2e-6, atol: 2e-8 });
      });
      // the reset fast state: adam's count back to 0 after each sync
      expect(run.state).toMatchObject({ stepsSinceSync: 0, fastState: [{ count: 0, mu: { a: [0, 0, 0] } }, {}] });
      return [p, params, grads];
    });
  });

  it('init takes { fast, slow } or the fast params alone; update needs { fast, slow }', async () => {
    await expectNoLeaks(() => {
      const p = { w: t([1, 2]) };
      const tx = lookahead(adam(), 3, 0.5);
      const pair = lookaheadParamsInit(p);
      expect(pair.fast.w).not.toBe(p.w);
      expect(pair.slow.w).not.toBe(pair.fast.w);
      const s1 = tx.init(pair);
      const s2 = tx.init(p);
      expect(toArrays(s1)).toEqual(toArrays(s2));
      expect(Object.keys(s1)).toEqual(['fastState', 'stepsSinceSync']);
      expect(() => tx.update(p, s1, p)).toThrow(/lookahead: update needs the params as \{ fast, slow \}/);
      const bad = { fast: { w: t([1, 2]) }, slow: { w: t([1]) } };
      expect(() => tx.update(p, s1, bad)).toThrow(/`w`: params.fast has shape \[2\] but params.slow has shape \[1\]/);
      return [p, pair, s1, s2, bad];
    });
  });

  it('checks its arguments', () => {
    expect(() => lookahead(adam(), 0, 0.5)).toThrow(/lookahead: `syncPeriod` must be an integer >= 1, got 0/);
    expect(() => lookahead(adam(), 2, Number.NaN)).toThrow(/lookahead: `slowStepSize` must be a finite number/);
    expect(() => lookahead(adam(), 2, 0.5, { resetState: 1 as never })).toThrow(/resetState/);
  });

  it('returns fresh tensors, leaves its inputs alone, and its updates apply with applyUpdates', async () => {
    await expectNoLeaks(() => {
      const p = tensors(P);
      const params = lookaheadParamsInit(p);
      const g = tensors(G[0] as Record<string, number[]>);
      const tx = lookahead(adam(), 1, 0.5, { resetState: true });
      const s0 = tx.init(params);
      const [u, s1] = tx.update(g, s0, params);
      const inputs = new Set([...treeLeaves(params), ...treeLeaves(g), ...treeLeaves(s0)]);
      for (const x of [...treeLeaves(u), ...treeLeaves(s1)]) if (isTensor(x)) expect(inputs.has(x)).toBe(false);
      const next = applyUpdates(params as never, u) as { fast: { a: tf.Tensor }; slow: { a: tf.Tensor } };
      expectTreeClose(next.fast, next.slow);
      expect(toArrays(params.fast.a)).toEqual([1, -2, 3]);
      disposeTree(next);
      return [p, params, g, s0, u, s1];
    });
  });
});
