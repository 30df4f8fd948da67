// registerFusedDevice and devices that compute reductions themselves (as
// @gradtx/webgpu does): a fake device wraps the cpu device, takes the
// reductions the engine hands to `launch`, and must give the same results.
import type * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { chain } from '../combine.js';
import * as gx from '../index.js';
import { expectTracesClose, randomArrays, rng, runFused, runReference } from '../test-utils/fused.js';
import { arithSpec, reduceSpec } from '../test-utils/fused-specs.js';
import { planOf } from './compile.js';
import { CpuDevice } from './cpu.js';
import { currentDevice, fusedStats, registerFusedDevice } from './engine.js';
import type { Device, Launch, LaunchReductions } from './runtime.js';
import type { KernelIR } from './trace.js';

function combine(op: string, parts: number[], count: number): number {
  if (parts.length === 0) return op === 'meanSq' ? Number.NaN : 0;
  if (op === 'maxAbs') return parts.reduce((m, x) => (Number.isNaN(x) || x > m ? x : m), parts[0] as number);
  let total = 0;
  for (const x of parts) total = Math.fround(total + x);
  if (op === 'meanSq') return Math.fround(total / count);
  return op === 'l2' ? Math.fround(Math.sqrt(total)) : total;
}

/** A device that reduces "on its own" (here with the cpu device's partials, inside `run`). */
class ReducingDevice implements Device {
  readonly name = 'cpu';
  readonly reducesOnDevice = true;
  launches = 0;
  constructor(private readonly inner: CpuDevice) {}
  get backend() {
    return this.inner.backend;
  }
  resident = (t: tf.Tensor) => this.inner.resident(t);
  exclusive = (t: tf.Tensor) => this.inner.exclusive(t);
  record = (t: tf.Tensor) => this.inner.record(t);
  alloc = (shape: readonly number[]) => this.inner.alloc(shape);
  setScalar = (t: tf.Tensor, v: number) => this.inner.setScalar(t, v);
  prepare = (ir: KernelIR) => this.inner.prepare(ir);
  partial(): number {
    throw new Error('partial() must not be called on a device that reduces on its own');
  }
  launch(ir: KernelIR, columns: readonly (readonly tf.Tensor[])[], reductions?: LaunchReductions): Launch {
    this.launches++;
    const inner = this.inner.launch(ir, columns);
    let u = reductions?.u ?? [];
    const p = reductions?.p ?? [];
    const list = reductions?.list ?? [];
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
    it(`a device that reduces on its own: ${label}`, () => {
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
