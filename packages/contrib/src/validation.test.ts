// Bad input is an error naming the function, the argument and the value.
import { applyUpdates, createOptimizer, type Params, sgd } from '@gradtx/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import * as contrib from './index.js';

describe('@gradtx/contrib argument checks', () => {
  it('rejects unknown option keys, naming the key and the valid ones', () => {
    expect(() => contrib.scaleByAdopt({ beta1: 0.5 } as never)).toThrow(/scaleByAdopt: unknown option `beta1`; the options are `b1`/);
    expect(() => contrib.ademamix(0.1, { eps_root: 0 } as never)).toThrow(/ademamix: unknown option `eps_root`/);
    expect(() => contrib.cocob(1, { lr: 1 } as never)).toThrow(/cocob: unknown option `lr`/);
    expect(() => contrib.scaleByMadgrad(0.1, 0.9 as never)).toThrow(/scaleByMadgrad: the options must be an object/);
  });

  it('rejects out-of-range hyperparameters, naming them', () => {
    expect(() => contrib.scaleByAdopt({ b2: 1 })).toThrow('scaleByAdopt: `b2` must be in [0, 1), got 1');
    expect(() => contrib.scaleByAcprop({ eps: -1 })).toThrow('scaleByAcprop: `eps` must be a finite number >= 0, got -1');
    expect(() => contrib.scaleByCocob({ alpha: 0 })).toThrow('scaleByCocob: `alpha` must be a finite number > 0, got 0');
    expect(() => contrib.adopt(-0.1)).toThrow('adopt: `learningRate` must be a finite number >= 0, got -0.1');
    expect(() => contrib.madgrad(0.1, { weightDecay: Number.NaN })).toThrow('madgrad: `weightDecay` must be a finite number, got NaN');
    expect(() => contrib.scaleByAdemamix({ b3: 1.5 })).toThrow('scaleByAdemamix: `b3` must be in [0, 1), got 1.5');
    expect(() => contrib.scaleByAdopt({ clipValueFn: 2 as never })).toThrow(/scaleByAdopt: `clipValueFn` must be a function/);
  });

  it('checks schedule values when they are evaluated', () => {
    const tx = contrib.scaleByAdemamix({ b3: () => 2 });
    const p = { w: tf.ones([2]) };
    const s = tx.init(p);
    expect(() => tx.update(p, s)).toThrow('scaleByAdemamix: `b3` must be in [0, 1), got 2');
    tf.dispose([p, s] as never);
  });

  it('needs params where optax does', () => {
    for (const tx of [contrib.scaleByMadgrad(0.1), contrib.scaleByCocob()]) {
      const p = { w: tf.ones([2]) };
      const s = tx.init(p);
      expect(() => tx.update(p, s)).toThrow(/needs `params`/);
      tf.dispose([p, s] as never);
    }
  });

  it('keeps a copy of the initial params that later steps do not change, and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const params = { w: tf.tensor([1, 2, 3]) };
    const opt = createOptimizer(contrib.cocob(), params);
    const g = { w: tf.tensor([0.5, -1, 2]) };
    opt.step(g);
    opt.step(g);
    const x0 = (opt.state as unknown as { initParticles: { w: tf.Tensor } }[])[2]!.initParticles.w;
    expect(Array.from(x0.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from((opt.params as { w: tf.Tensor }).w.dataSync())).not.toEqual([1, 2, 3]);
    const p = opt.params;
    opt.dispose();
    tf.dispose([p, g] as never);
    expect(tf.memory().numTensors).toBe(before);
    const q = { w: tf.ones([2]) };
    const tx = contrib.madgrad(0.1);
    const s = tx.init(q);
    const [u, s2] = tx.update(q, s, q);
    const moved = applyUpdates(q, u);
    tf.dispose([q, s, u, s2, moved] as never);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks the schedule-free arguments', () => {
    expect(() => contrib.scheduleFree({} as never, 0.1)).toThrow(/scheduleFree: `baseOptimizer` is not a gradient transformation/);
    expect(() => contrib.scheduleFreeAdamw(0.1, { b1: 0 })).toThrow('scheduleFreeAdamw: `b1` must be > 0');
    expect(() => contrib.scheduleFreeSgd(0.1, { warmupSteps: 1.5 })).toThrow(
      'scheduleFreeSgd: `warmupSteps` must be an integer >= 0, got 1.5',
    );
    expect(() => contrib.scheduleFreeEvalParams({ count: 0 }, {})).toThrow(
      /scheduleFreeEvalParams: needs the state of a scheduleFree optimizer/,
    );
    const p = { w: tf.ones([2]) };
    for (const [tx, fn] of [
      [contrib.scheduleFree(sgd(0.1), 0.1), 'scheduleFree'],
      [contrib.scheduleFreeSgd(0.1), 'scheduleFreeSgd'],
    ] as const) {
      const s = tx.init(p);
      expect(() => tx.update(p, s as never)).toThrow(`${fn}: this transformation needs \`params\``);
      tf.dispose(s as never);
    }
    tf.dispose(p);
  });

  it('checks betas as a two-element array of decays', () => {
    expect(() => contrib.prodigy(1, { betas: [0.9] as never })).toThrow(
      'prodigy: `betas` must be an array of two decays [beta1, beta2], got an array of length 1',
    );
    expect(() => contrib.dadaptAdamw(1, { betas: [0.9, 1] })).toThrow('dadaptAdamw: `betas[1]` must be in [0, 1), got 1');
    expect(() => contrib.prodigy(1, { estimLr0: 0 })).toThrow('prodigy: `estimLr0` must be a finite number > 0, got 0');
  });

  it('checks DoG initStep', () => {
    expect(() => contrib.dog(1, { initStep: ['far', 1] as never })).toThrow(
      /scaleByDog: `initStep` must be \['distance' \| 'learning_rate' \| 'heuristic', number\], got \["far",1\]/,
    );
    expect(() => contrib.scaleByDowg({ eps: -1 })).toThrow('scaleByDowg: `eps` must be a finite number >= 0, got -1');
  });

  it('checks the mechanize arguments', () => {
    expect(() => contrib.mechanize({} as never)).toThrow(/mechanize: `baseOptimizer` is not a gradient transformation/);
    expect(() => contrib.mechanize(sgd(1), { numBetas: 0 })).toThrow('mechanize: `numBetas` must be an integer >= 1, got 0');
    expect(() => contrib.mechanize(sgd(1), { eps: -1 })).toThrow('mechanize: `eps` must be a finite number >= 0, got -1');
    const tx = contrib.mechanize(sgd(1));
    const p = { w: tf.ones([2]) };
    const s = tx.init(p);
    expect(() => tx.update(p, s)).toThrow(/mechanize: this transformation needs `params`/);
    tf.dispose([p, s] as never);
  });

  it('checks the sam arguments and its gradFn', () => {
    expect(() => contrib.sam(sgd(1), {} as never)).toThrow(/sam: `advOptimizer` is not a gradient transformation/);
    expect(() => contrib.sam(sgd(1), sgd(1), { syncPeriod: 0 })).toThrow('sam: `syncPeriod` must be an integer >= 1, got 0');
    expect(() => contrib.sam(sgd(1), sgd(1), { opaqueMode: 1 as never })).toThrow(/sam: `opaqueMode` must be a boolean/);
    const before = tf.memory().numTensors;
    const tx = contrib.sam(sgd(0.1), contrib.normalize(), { opaqueMode: true, syncPeriod: 3 });
    const p = { w: tf.ones([2]) };
    const s = tx.init(p);
    expect(() => tx.update(p, s, p)).toThrow(/sam: this transformation needs the extra argument `gradFn`/);
    expect(() => tx.update(p, s, p, { gradFn: 1 })).toThrow(/sam: the extra argument `gradFn` must be a function/);
    const calls: number[] = [];
    const [u, s2] = tx.update(p, s, p, {
      gradFn: (q: Params, i: number) => {
        calls.push(i);
        return { w: tf.mul(2, (q as { w: tf.Tensor }).w) };
      },
    });
    expect(calls).toEqual([0, 1]);
    tf.dispose([p, s, u, s2] as never);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks the muon arguments and its leaves', () => {
    expect(() => contrib.scaleByMuon({ preconditioning: 'spectral' as never })).toThrow(
      /scaleByMuon: `preconditioning` must be 'frobenius', 'aol' or 'schatten', got "spectral"/,
    );
    expect(() => contrib.scaleByMuon({ nsCoeffs: [1, 2] as never })).toThrow(/scaleByMuon: `nsCoeffs` must be a triple of finite numbers/);
    expect(() =>
      contrib.scaleByMuon({
        nsSteps: 1,
        nsCoeffs: [
          [1, 2, 3],
          [1, 2, 3],
        ],
      }),
    ).toThrow(/has 2 triples, more than nsSteps = 1/);
    expect(() => contrib.muon(0.1, { nsCoeffs: 'fast' as never })).toThrow(/muon: `nsCoeffs` must be 'standard', 'dion' or coefficients/);
    expect(() => contrib.muon(0.1, { adamB1: 1 })).toThrow('muon: `adamB1` must be in [0, 1), got 1');
    const before = tf.memory().numTensors;
    const tx = contrib.scaleByMuon();
    const p = { w: tf.ones([2, 3]), t: tf.ones([2, 2, 2]) };
    const s = tx.init(p);
    expect(() => tx.update(p, s)).toThrow(
      /scaleByMuon: the leaf at t has shape \[2, 2, 2\]: a leaf that is not a matrix needs dimension numbers/,
    );
    const bad = contrib.scaleByMuon({ weightDimensionNumbers: { w: null, t: { reductionAxis: 0, outputAxis: 0 } } });
    expect(() => bad.update(p, s)).toThrow(/scaleByMuon: the reduction axes \[0\] and output axes \[0\] at t must be disjoint/);
    tf.dispose([p, s] as never);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks galore, recomputes its projectors every updateProjGap steps and leaks nothing', () => {
    expect(() => contrib.scaleByGalore({ rank: 0 })).toThrow('scaleByGalore: `rank` must be an integer >= 1, got 0');
    expect(() => contrib.galore(0.1, { updateProjGap: 1.5 })).toThrow('scaleByGalore: `updateProjGap` must be an integer >= 1, got 1.5');
    const before = tf.memory().numTensors;
    const p = { w: tf.tensor2d([1, 2, 3, 4, 5, 7], [3, 2]), t: tf.ones([2, 2, 2]), b: tf.ones([2]) };
    const bad = contrib.scaleByGalore({ weightDimensionNumbers: { w: null, t: { reductionAxis: 0, outputAxis: 1 }, b: null } });
    expect(() => bad.init(p)).toThrow(/scaleByGalore: the dimension numbers at t must name every axis of shape \[2, 2, 2\]/);
    const tx = contrib.scaleByGalore({ rank: 1, updateProjGap: 2 });
    let s = tx.init(p);
    const projectors: number[][] = [];
    for (let i = 0; i < 3; i++) {
      const g = { w: tf.tensor2d([i, 1, -1, 2, 0.5, i * i], [3, 2]), t: tf.ones([2, 2, 2]), b: tf.ones([2]) };
      const [u, next] = tx.update(g, s);
      projectors.push(Array.from((next.projector as { w: tf.Tensor }).w.dataSync()));
      tf.dispose([g, u, s] as never);
      s = next;
    }
    // computed at steps 0 and 2, kept at step 1
    expect(projectors[1]).toEqual(projectors[0]);
    expect(projectors[2]).not.toEqual(projectors[1]);
    tf.dispose([p, s] as never);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('says which extra argument is missing or wrong', () => {
    for (const tx of [contrib.momo(), contrib.momoAdam()]) {
      const p = { w: tf.ones([2]) };
      const s = tx.init(p);
      expect(() => tx.update(p, s, p)).toThrow(/needs the extra argument `value`; call update\(updates, state, params, \{ value \}\)/);
      expect(() => tx.update(p, s, p, { loss: 1 })).toThrow(/needs the extra argument `value`.*got extra arguments \{loss\}/);
      expect(() => tx.update(p, s, p, { value: tf.ones([2]) })).toThrow(
        /`value` must be a number or a scalar tensor, got a tensor of shape \[2\]/,
      );
      const [u, s2] = tx.update(p, s, p, { value: tf.scalar(0.5) });
      tf.dispose([p, s, u, s2] as never);
    }
  });

  it('checks reduceOnPlateau arguments and its value', () => {
    expect(() => contrib.reduceOnPlateau({ factor: 1 })).toThrow('reduceOnPlateau: `factor` must be in (0, 1), got 1');
    expect(() => contrib.reduceOnPlateau({ rtol: 0, atol: 0 })).toThrow(/at least one of `rtol` and `atol` must be > 0/);
    expect(() => contrib.reduceOnPlateau({ accumulationSize: 0 })).toThrow(
      'reduceOnPlateau: `accumulationSize` must be an integer >= 1, got 0',
    );
    const tx = contrib.reduceOnPlateau({ patience: 1, factor: 0.5 });
    const g = { w: tf.ones([2]) };
    let s = tx.init(g);
    expect(() => tx.update(g, s)).toThrow(/reduceOnPlateau: this transformation needs the extra argument `value`/);
    const scales: number[] = [];
    for (const value of [1, 1, 1, tf.scalar(1)]) {
      const [u, next] = tx.update(g, s, undefined, { value });
      scales.push((u as { w: tf.Tensor }).w.dataSync()[0] as number);
      tf.dispose(u as never);
      s = next;
    }
    expect(scales).toEqual([1, 0.5, 0.25, 0.125]);
    tf.dispose(g as never);
  });
});
