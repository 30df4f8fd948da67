// A step that leaves the fused path says why (fusedStats.lastFallBack); a bug inside the fused path is not hidden.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { adam } from '../aliases.js';
import { cpuDeviceOf } from './devices/cpu.js';
import { registerFusedDevice, setFusedEnabled } from './registry.js';
import { fusedStats } from './stats.js';
import { fusedUpdate } from './step.js';

function step(options: Parameters<typeof fusedUpdate>[4] = {}, grads?: tf.Tensor): void {
  const params = { w: tf.tensor([1, 2, 3]) };
  const tx = adam(0.1);
  const state = tx.init(params);
  const g = { w: grads ?? tf.tensor([0.1, -0.2, 0.3]) };
  const [p, s] = fusedUpdate(tx, g, state, params, options);
  tf.dispose([p, s, params, state, g] as never);
}

describe('fall-back reasons', () => {
  afterEach(() => {
    registerFusedDevice('cpu', cpuDeviceOf);
    setFusedEnabled(true);
  });

  it('a fused step leaves lastFallBack as it was', () => {
    fusedStats.lastFallBack = null;
    const before = fusedStats.fused;
    step();
    expect(fusedStats.fused).toBe(before + 1);
    expect(fusedStats.lastFallBack).toBeNull();
  });

  it('names the option, the switch or the missing device', () => {
    step({ fused: false });
    expect(fusedStats.lastFallBack).toMatch(/fused: false/);
    setFusedEnabled(false);
    step();
    expect(fusedStats.lastFallBack).toMatch(/setFusedEnabled\(false\)/);
    setFusedEnabled(true);
    registerFusedDevice('cpu', () => null);
    step();
    expect(fusedStats.lastFallBack).toBe("no fused device for the 'cpu' backend");
  });

  it('says which input the fused path refused (the reference path then raises its error)', () => {
    const before = fusedStats.reference;
    expect(() => step({}, tf.tensor([1, 2]))).toThrow();
    expect(fusedStats.lastFallBack).toBe("leaf 0: the update's shape differs from the param's");
    expect(() => step({}, tf.tensor([1, 2, 3], undefined, 'int32'))).toThrow(/float/);
    expect(fusedStats.lastFallBack).toMatch(/^invalid input \(fusedUpdate: .*updates/);
    expect(fusedStats.reference).toBe(before);
  });

  it('an error that is not a fall-back reaches the caller', () => {
    registerFusedDevice('cpu', (b) => {
      const device = cpuDeviceOf(b);
      if (device === null) return null;
      return Object.assign(Object.create(device), {
        resident: () => {
          throw new TypeError('a bug in the device');
        },
      });
    });
    expect(() => step()).toThrow(TypeError);
  });
});
