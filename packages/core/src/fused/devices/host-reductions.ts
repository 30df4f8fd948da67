/**
 * Reductions on the host for the built-in devices: a launch that computes its
 * reductions from per-leaf partials (the device's own SIMD or JS loops over
 * its memory), combined and finished by the one table of reductions, before
 * its kernel runs.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { type PartialOp, partialOf, reduceHost } from '../../lang/reductions.js';
import type { KernelIR } from '../../lang/trace.js';
import { type Launch, type LaunchReductions, writtenTensors } from '../device.js';

/**
 * A built-in device's kernel bound to its columns, before its reductions:
 * `run` takes the per-leaf scalars (`leafScalars[l * perLeaf + s]`) the
 * reductions computed.
 */
export interface KernelLaunch {
  /** As {@link Launch.setColumn}. */
  setColumn(j: number, tensors: readonly tf.Tensor[]): boolean;
  /** Runs the kernel with the IR's scalars and the per-leaf ones. */
  run(scalars: Float64Array, leafScalars: Float64Array): void;
}

/** What a host-reducing device gives: one leaf's partial, a scalar write, residency, and the records of its buffers. */
export interface HostReducer {
  /** The backend's record of a tensor's data, stable while the data lives; its `refCount` is 1 while the tensor holds the buffer alone. */
  dataRecord(t: tf.Tensor): { readonly refCount: number } | undefined;
  /** One leaf's partial reduction: the float32 sum of float32 squares, the float32 sum, or the largest |x| (NaN-propagating). */
  partial(op: PartialOp, t: tf.Tensor): number;
  /** Overwrites the value of an exclusive scalar tensor. */
  setScalar(t: tf.Tensor, value: number): void;
  resident(t: tf.Tensor): boolean;
}

/**
 * The launch of a host-reducing device: `kernel` preceded by the launch's
 * reductions: per-leaf partials (shared between reductions of the same
 * source and kind), combined over the tree or per leaf as the reference path
 * combines them; the values feed the IR's scalars (`scalars` for global ones,
 * the per-leaf table for per-leaf ones) and the targets of the reductions
 * kept in the state.
 */
export function hostReducedLaunch(
  ir: KernelIR,
  columns: readonly (readonly tf.Tensor[])[],
  kernel: KernelLaunch,
  reductions: LaunchReductions,
  device: HostReducer,
): Launch {
  const nIn = ir.inputs.length;
  const outs = columns.slice(nIn).map((c) => [...c]);
  let records = writtenTensors(ir, columns, reductions).map((t) => device.dataRecord(t));
  const leafSlot = new Map<number, number>();
  ir.scalars.forEach((s, i) => {
    if (s.source === 'leaf') leafSlot.set(i, leafSlot.size);
  });
  let u = reductions.u;
  const p = reductions.p;
  const leaves = p.length;
  const perLeaf = leafSlot.size;
  const leafScalars = new Float64Array(leaves * perLeaf);
  const reduce = (scalars: Float64Array): void => {
    const memo = new Map<string, number[]>();
    const partials = (of: 'u' | 'p', op: PartialOp): number[] => {
      const key = `${of}:${op}`;
      let got = memo.get(key);
      if (!got) {
        got = (of === 'u' ? u : p).map((t) => device.partial(op, t));
        memo.set(key, got);
      }
      return got;
    };
    let total = 0;
    for (const t of u) total += t.size;
    for (const r of reductions.list) {
      const part = partials(r.of, partialOf(r.op));
      if (r.scope === 'global') {
        const v = reduceHost(r.op, part, total);
        if (r.scalar !== undefined) scalars[r.scalar] = Math.fround(v);
        if (r.target) device.setScalar(r.target, Math.fround(v));
      } else {
        const s = leafSlot.get(r.scalar as number) as number;
        for (let l = 0; l < leaves; l++) {
          leafScalars[l * perLeaf + s] = Math.fround(reduceHost(r.op, [part[l] as number], (u[l] as tf.Tensor).size));
        }
      }
    }
  };
  return {
    setColumn: (j, tensors) => {
      if (!kernel.setColumn(j, tensors)) return false;
      if (j >= nIn) {
        outs[j - nIn] = [...tensors];
        records = writtenTensors(ir, [...columns.slice(0, nIn), ...outs], reductions).map((t) => device.dataRecord(t));
      }
      return true;
    },
    setUpdates: (tensors) => {
      if (reductions.list.length > 0 && !tensors.every((t) => device.resident(t))) return false;
      u = tensors;
      return true;
    },
    run: (scalars) => {
      for (const r of records) if (r?.refCount !== 1) return false;
      if (reductions.list.length > 0) reduce(scalars);
      kernel.run(scalars, leafScalars);
      return true;
    },
  };
}

/** The JS form of the reduction module's `nonFinite`: 0 when every value of `a` is finite, else NaN (`x - x` is NaN for ±∞ and NaN). */
export function nonFinite(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    s += x - x;
  }
  return s;
}
