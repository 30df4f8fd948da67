// @gradtx/contrib's element-wise optimizers (ADOPT, AdEMAMix, simplified AdEMAMix, MADGRAD, AdaCProp, COCOB)
// replayed on the WebGPU fused path against their real-optax-0.2.8 fixtures: every step fused, against the cpu
// reference path within WGSL's float32 accuracy and against optax; no leaks. Prodigy and D-Adapt AdamW keep
// their estimate as scalar state, which this device does not read back: they run on the reference path here,
// and say so in fusedStats.lastFallBack.
import * as contrib from '@gradtx/contrib';
import * as gradtx from '@gradtx/core';
import { fusedStats, type GradientTransformation } from '@gradtx/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { installWebGpu } from './index.js';
import {
  buildFixture,
  expectTracesClose,
  fixtureArrays,
  fixtureValues,
  readFixture,
  replayFixtureCase,
  run,
  type Trace,
} from './test-utils/index.js';

beforeAll(() => {
  installWebGpu();
});

const MODULES = [contrib as unknown as Record<string, unknown>, gradtx as unknown as Record<string, unknown>];
/** The families of contrib whose optimizers are element-wise specs without scalar state. */
const FUSED = new Set(['adopt', 'ademamix', 'madgrad', 'acprop', 'cocob']);
/** Tolerance against optax: contrib's (core's OPTAX_STEPS for these families), with the leaf's scale. */
const VS_OPTAX = { rtol: 1e-5, atol: 1e-5, leafScale: true };

const cases = readFixture('optax-contrib.json', 'contrib') ?? [];

describe('contrib fixtures (optax 0.2.8) on the WebGPU fused path', () => {
  const fused = cases.filter((c) => FUSED.has(c.family));
  it('has the element-wise contrib cases, and runs on webgpu', () => {
    expect(fused.length).toBeGreaterThanOrEqual(29);
    expect(tf.getBackend()).toBe('webgpu');
  });
  for (const c of fused) it(c.id, () => replayFixtureCase(c, buildFixture(c.gradtx, MODULES) as GradientTransformation, VS_OPTAX));
});

describe('prodigy and dadaptAdamw on WebGPU', () => {
  const estimated = cases.filter((c) => ['prodigy', 'dadaptAdamw'].includes((c.gradtx as { tx: string }).tx));
  it('has their cases', () => expect(estimated.length).toBe(6));
  for (const c of estimated) {
    it(`${c.id}: the reference path, with the reason, matching optax`, async () => {
      const tx = buildFixture(c.gradtx, MODULES) as GradientTransformation;
      const params = fixtureArrays(c.params);
      const grads = c.grads.map(fixtureArrays);
      const before = tf.memory().numTensors;
      const reference = fusedStats.reference;
      const got = await run(tx, params, grads, 'donate');
      expect(fusedStats.reference - reference).toBe(grads.length);
      expect(fusedStats.lastFallBack).toMatch(/cannot read its scalar state back/);
      expect(tf.memory().numTensors, 'leaked tensors').toBe(before);
      const optax: Trace = { params: c.expected.map((e) => fixtureValues(e.params)), states: got.states };
      // contrib's tolerance of the parameter-free family: ten times OPTAX_STEPS
      expectTracesClose(got, optax, `${c.id} vs optax`, { rtol: 1e-4, atol: 1e-4, leafScale: true });
    });
  }
});
