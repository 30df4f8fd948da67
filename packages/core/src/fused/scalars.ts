/**
 * The per-step scalars of a fused segment, as the reference path computes
 * them: each stage's `scalars(count)` and the values of its reductions
 * (per-leaf partials from the device, combined and finished on the host by
 * the one table of reductions), or, for a device that reduces on its own,
 * the list of reductions it computes.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import { type PartialOp, partialOf, reduceHost } from '../lang/reductions.js';
import type { ElementwiseSpec, ReductionSpec } from '../lang/spec.js';
import type { Device, DeviceReduction } from './device.js';
import { FallBack } from './fall-back.js';
import type { FusedSegment, Plan } from './plan.js';

/** The scalars of one launch of a fused segment. */
export interface SegmentScalars {
  /** One float32-rounded value per IR scalar (per-leaf ones unused). */
  readonly scalars: Float64Array;
  /** `[l * nLeaf + s]`: the per-leaf scalars. */
  readonly leafScalars: Float64Array;
  /** Per stage of the segment: the values of its global reductions. */
  readonly globalValues: readonly Map<string, number>[];
}

/** The values of a segment's reductions computed on the host: per stage, global ones by name and per-leaf ones by name. */
interface HostReductions {
  readonly global: Map<string, number>[];
  readonly leaf: Map<string, number[]>[];
}

function specOf(plan: Plan, stage: number): ElementwiseSpec {
  return plan.stages[stage]?.spec as ElementwiseSpec;
}

/**
 * The reductions of a segment from per-leaf partials of `cur` (the segment's
 * input updates) and `ps` (the params); partials of the same kind are shared,
 * and `pPartials` carries those of the params across the segments of a step.
 */
function hostReductions(
  seg: FusedSegment,
  plan: Plan,
  cur: readonly tf.Tensor[],
  ps: readonly tf.Tensor[],
  device: Device,
  pPartials: Map<string, number[]>,
): HostReductions {
  const uPartials = new Map<string, number[]>();
  const partials = (of: 'u' | 'p', op: PartialOp): number[] => {
    const memo = of === 'u' ? uPartials : pPartials;
    let got = memo.get(op);
    if (!got) {
      got = (of === 'u' ? cur : ps).map((t) => device.partial(op, t));
      memo.set(op, got);
    }
    return got;
  };
  let total = 0;
  for (const t of cur) total += t.size;
  const out: HostReductions = { global: seg.stages.map(() => new Map()), leaf: seg.stages.map(() => new Map()) };
  seg.stages.forEach((i, j) => {
    for (const r of specOf(plan, i).reductions ?? []) {
      const part = partials(r.of, partialOf(r.op));
      if (r.scope === 'global') out.global[j]?.set(r.name, reduceHost(r.op, part, total));
      else
        out.leaf[j]?.set(
          r.name,
          part.map((x, l) => reduceHost(r.op, [x], (cur[l] as tf.Tensor).size)),
        );
    }
  });
  return out;
}

/**
 * Computes the scalars of a fused segment: its stages' `scalars(count)`
 * (`counts[j]` for stage `j` of the segment) and its reductions over `cur`
 * (the segment's input updates) and `ps` (the params), as the reference path
 * computes them. Throws {@link FallBack} when a body reads a scalar that the
 * spec does not provide.
 */
export function segmentScalars(
  seg: FusedSegment,
  plan: Plan,
  counts: readonly number[],
  cur: readonly tf.Tensor[],
  ps: readonly tf.Tensor[],
  device: Device,
  pPartials: Map<string, number[]> = new Map(),
): SegmentScalars {
  const ir = seg.ir;
  const onDevice = device.reducesOnDevice === true;
  const reduced: HostReductions = onDevice
    ? { global: seg.stages.map(() => new Map()), leaf: seg.stages.map(() => new Map()) }
    : hostReductions(seg, plan, cur, ps, device, pPartials);
  const stageScalars = seg.stages.map((i, j) => specOf(plan, i).scalars(counts[j] as number));
  const scalars = new Float64Array(ir.scalars.length);
  const leafRefs: { name: string; stage: number }[] = [];
  ir.scalars.forEach((s, idx) => {
    if (onDevice && s.source !== 'param') return; // filled by the device
    if (s.source === 'leaf') {
      leafRefs.push({ name: s.key, stage: s.stage });
      return;
    }
    const v = s.source === 'global' ? reduced.global[s.stage]?.get(s.key) : (stageScalars[s.stage] as Record<string, number>)[s.key];
    if (typeof v !== 'number')
      throw new FallBack(`the body of stage ${s.stage} reads the scalar \`${s.key}\`, which its spec does not provide`);
    scalars[idx] = Math.fround(v);
  });
  const leaves = cur.length;
  const perLeaf = leafRefs.length;
  const leafScalars = new Float64Array(leaves * perLeaf);
  leafRefs.forEach((r, s) => {
    const vals = reduced.leaf[r.stage]?.get(r.name) as number[];
    for (let l = 0; l < leaves; l++) leafScalars[l * perLeaf + s] = Math.fround(vals[l] as number);
  });
  return { scalars, leafScalars, globalValues: reduced.global };
}

/** The last reduction of `spec` named `name` in `scope` (a later entry wins, as on the reference path). */
function lastReduction(spec: ElementwiseSpec, name: string, scope: ReductionSpec['scope']): ReductionSpec {
  return [...(spec.reductions ?? [])].reverse().find((x) => x.name === name && x.scope === scope) as ReductionSpec;
}

/**
 * For a device that reduces on its own: the reductions that feed the IR's
 * reduction scalars (the last spec entry of a name wins, a per-leaf one over
 * a global one, as on the reference path).
 */
export function deviceReductions(seg: FusedSegment, plan: Plan): DeviceReduction[] {
  const out: DeviceReduction[] = [];
  seg.ir.scalars.forEach((s, idx) => {
    if (s.source === 'param') return;
    const r = lastReduction(specOf(plan, seg.stages[s.stage] as number), s.key, s.source);
    out.push({ of: r.of, op: r.op, scope: r.scope, scalar: idx });
  });
  return out;
}

/** A reduction kept in the state, as a device reduction writing into `target`. */
export function stateReduction(spec: ElementwiseSpec, name: string, target: tf.Tensor): DeviceReduction {
  const r = lastReduction(spec, name, 'global');
  return { of: r.of, op: r.op, scope: 'global', target };
}
