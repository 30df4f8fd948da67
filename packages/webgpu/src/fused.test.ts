// The WebGPU fused path against the reference path, on every fusible
// transformation and alias that @gradtx/core exports and on the core
// conformance fixtures: same params and state after each step, within WGSL's
// float32 accuracy; no leaked tensors; GPU memory back to its baseline.
import type { GradientTransformation } from '@gradtx/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { installWebGpu } from './index.js';
import {
  type ArrayTree,
  buildFixture,
  checkAllModes,
  discoverFusible,
  onBackend,
  randomTree,
  readFixture,
  replayFixtureCase,
  rng,
  run,
  SHAPES,
  type Trace,
} from './test-utils/index.js';

beforeAll(() => {
  installWebGpu();
});

const NO_SCALAR = Object.fromEntries(Object.entries(SHAPES).filter(([k]) => k !== 'c'));

describe('every fusible export of @gradtx/core', () => {
  const cases = discoverFusible();
  it('finds the element-wise transforms and aliases', () => {
    const names = cases.map((c) => c.name.replace(/\(.*$/, ''));
    for (const n of ['scaleByAdam', 'adam', 'adamw', 'sgd', 'clipByGlobalNorm', 'scaleByLearningRate', 'lion', 'rmsprop'])
      expect(names).toContain(n);
    expect(cases.length).toBeGreaterThan(40);
  });
  for (const { name, tx } of cases) {
    it(name, async () => {
      // some transforms reject scalar leaves (sm3): they get the tree without its scalar
      let expected: Trace | undefined;
      let params: ArrayTree = {};
      let grads: ArrayTree[] = [];
      for (const shapes of [SHAPES, NO_SCALAR]) {
        const r = rng(7);
        params = randomTree(r, shapes);
        grads = [randomTree(r, shapes), randomTree(r, shapes), randomTree(r, shapes)];
        try {
          expected = await onBackend('cpu', () => run(tx, params, grads, 'reference'));
          break;
        } catch (e) {
          if (shapes === NO_SCALAR) throw e;
        }
      }
      if (expected === undefined) throw new Error('unreachable');
      await checkAllModes(name, tx, params, grads, expected);
    });
  }
});

describe('core conformance fixtures (optax 0.2.8 and torch)', () => {
  const files = ['optax-transforms.json', 'optax-aliases.json', 'optax-combinators.json', 'optax-more.json', 'torch.json'];
  for (const file of files) {
    const cases = readFixture(file);
    if (cases === null) continue;
    describe(file, () => {
      for (const c of cases) {
        // state edits (injectHyperparams) change the state between steps: not a fused-path matter
        if (c.stateEdits !== undefined && c.stateEdits.length > 0) continue;
        // cases whose updates take extra arguments (the loss value) run stages that do not fuse
        if ((c as { extras?: unknown[] }).extras !== undefined) continue;
        let tx: GradientTransformation;
        try {
          tx = buildFixture(c.gradtx) as GradientTransformation;
        } catch {
          continue;
        }
        if (tx?.fusion === undefined || !c.needsParams) {
          // a case whose optax twin ran without params may still need none: the fused step always has them
        }
        if (tx?.fusion === undefined) continue;
        // applyIfFinite decides each step on the host (one synchronous read of the finiteness and the
        // counters), and tfjs-webgpu cannot read synchronously in Node (its readSync needs OffscreenCanvas)
        if ((c.gradtx as { tx?: unknown }).tx === 'applyIfFinite') continue;
        // the reference path itself agrees with optax (checked in core); here: webgpu against it and against optax
        it(c.id, () => replayFixtureCase(c, tx, { rtol: 1e-5, atol: 1e-5 }));
      }
    });
  }
});
