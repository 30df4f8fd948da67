// registerFusedDevice and a device written outside the engine: a fake device
// wraps the cpu device's kernels, computes the reductions the engine hands to
// `launch` its own way (as @gradtx/webgpu does on the GPU), and must give the
// same results.
import type * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { chain } from '../combine.js';
import * as gx from '../index.js';
import type { KernelIR } from '../lang/trace.js';
import { expectTracesClose, randomArrays, rng, runFused, runReference } from '../test-utils/fused.js';
import { arithSpec, reduceSpec } from '../test-utils/fused-specs.js';
import type { Device, Launch, LaunchReductions } from './device.js';
import { CpuDevice } from './devices/cpu.js';
import { planOf } from './plan.js';
import { currentDevice, registerFusedDevice } from './registry.js';
import { fusedStats } from './stats.js';

function combine(op: string, parts: number[], count: number): number {
  if (parts.length === 0) return op === 'meanSq' ? Number.NaN : 0;
  if (op === 'maxAbs') return parts.reduce((m, x) => (Number.isNaN(x) || x > m ? x : m), parts[0] as number);
  let total = 0;
  for (const x of parts) total = Math.fround(total + x);
  if (op === 'meanSq') return Math.fround(total / count);
  return op === 'l2' ? Math.fround(Math.sqrt(total)) : total;
}

/** A device with its own reductions (here from the cpu device's partials, combined in order, inside `run`). */
class ReducingDevice implements Device {
  readonly name = 'cpu';
  launches = 0;
  constructor(private readonly inner: CpuDevice) {}
  get backend() {
    return this.inner.backend;
  }
  resident = (t: tf.Tensor) => this.inner.resident(t);
  exclusive = (t: tf.Tensor) => this.inner.exclusive(t);
  alloc = (shape: readonly number[]) => this.inner.alloc(shape);
  setScalar = (t: tf.Tensor, v: number) => this.inner.setScalar(t, v);
  prepare = (ir: KernelIR) => this.inner.prepare(ir);
  launch(ir: KernelIR, columns: readonly (readonly tf.Tensor[])[], reductions: LaunchReductions): Launch {
    this.launches++;
    const inner = this.inner.kernelLaunch(ir, columns);
    let u = reductions.u;
    const p = reductions.p;
    const list = reductions.list;
    const leafSlot = new Map<number, number>();
    ir.scalars.forEach((s, i) => {
      if (s.source === 'leaf') leafSlot.set(i, leafSlot.size);
    });
    return {
      setColumn: (j, ts) => inner.setColumn(j, ts),
      setUpdates: (ts) => {
        u = ts;
        return true;
      },
      run: (scalars) => {
        if (!columns.slice(ir.inputs.length).every((c) => c.every((t) => this.inner.exclusive(t)))) return false;
        const L = columns[0]?.length ?? 0;
        const leafScalars = new Float64Array(L * leafSlot.size);
        for (const r of list) {
          const src = r.of === 'u' ? u : p;
          const base = r.op === 'sum' ? 'sum' : r.op === 'maxAbs' ? 'maxAbs' : 'sumSq';
          const parts = src.map((t) => this.inner.partial(base, t));
          if (r.scope === 'global') {
            const v = combine(
              r.op,
              parts,
              src.reduce((n, t) => n + t.size, 0),
            );
            if (r.scalar !== undefined) scalars[r.scalar] = v;
            if (r.target) this.inner.setScalar(r.target, v);
          } else {
            const s = leafSlot.get(r.scalar as number) as number;
            parts.forEach((x, l) => {
              leafScalars[l * leafSlot.size + s] = combine(r.op, [x], (src[l] as tf.Tensor).size);
            });
          }
        }
        inner.run(scalars, leafScalars);
        return true;
      },
    };
  }
}

describe('registerFusedDevice', () => {
  let device: ReducingDevice | null = null;
  afterAll(() => {
    registerFusedDevice('cpu', (b) => new CpuDevice(b));
  });

  it('replaces the device of a backend', () => {
    registerFusedDevice('cpu', (b) => {
      device = new ReducingDevice(new CpuDevice(b));
      return device;
    });
    expect(currentDevice()).toBe(device);
    expect(() => registerFusedDevice(3 as never, null as never)).toThrow(/registerFusedDevice/);
  });

  for (const [label, make] of [
    ['reductions of every kind, one kept in the state', reduceSpec],
    ['clip → adamw', () => chain(gx.clipByGlobalNorm(0.5), gx.adamw(0.01))],
    ['per-leaf norms', () => gx.lamb(0.01)],
    ['no reductions', arithSpec],
  ] as const) {
    it(`a device with its own reductions: ${label}`, () => {
      const r = rng(3);
      const params = randomArrays(r, { a: [7], b: [2, 3], e: [9] });
      const grads = [1, 2, 3, 4].map(() => randomArrays(r, { a: [7], b: [2, 3], e: [9] }));
      const ref = runReference(make(), params, grads);
      const before = { ...fusedStats };
      const launches = (device as ReducingDevice).launches;
      for (const mode of ['pure', 'donate', 'optimizer'] as const)
        expectTracesClose(runFused(make(), params, grads, mode), ref, `${label} [${mode}]`, { rtol: 0, atol: 0 });
      expect(fusedStats.reference).toBe(before.reference);
      // the optimizer repeats steps after the first on the fast path when the plan is one or two fused runs
      expect(fusedStats.fast - before.fast).toBe(planOf(make()).segments.length <= 2 ? 3 : 0);
      expect((device as ReducingDevice).launches).toBeGreaterThan(launches);
    });
  }
});
