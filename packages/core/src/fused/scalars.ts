/**
 * The per-step scalars of a fused segment, as the reference path computes
 * them: each stage's `scalars(count)`, and the list of reductions the device
 * computes inside the launch (each feeding an IR scalar or a state tensor).
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ElementwiseSpec, ReductionSpec } from '../lang/spec.js';
import type { DeviceReduction } from './device.js';
import { FallBack } from './fall-back.js';
import type { FusedSegment, Plan } from './plan.js';

function specOf(plan: Plan, stage: number): ElementwiseSpec {
  return plan.stages[stage]?.spec as ElementwiseSpec;
}

/**
 * Computes the per-step scalars of a fused segment: its stages'
 * `scalars(count)` (`counts[j]` for stage `j` of the segment), one
 * float32-rounded value per IR scalar that comes from them (the device fills
 * those of the reductions, see {@link deviceReductions}); `extra[j]` adds
 * stage `j`'s scalars from its scalar prelude. Throws {@link FallBack} when a
 * body reads a scalar that the spec does not provide.
 */
export function segmentScalars(
  seg: FusedSegment,
  plan: Plan,
  counts: readonly number[],
  extra: readonly (Readonly<Record<string, number>> | undefined)[] = [],
): Float64Array {
  const ir = seg.ir;
  const stageScalars = seg.stages.map((i, j) => extra[j] ?? specOf(plan, i).scalars(counts[j] as number));
  const scalars = new Float64Array(ir.scalars.length);
  ir.scalars.forEach((s, idx) => {
    if (s.source !== 'param') return; // filled by the device
    const v = (stageScalars[s.stage] as Record<string, number>)[s.key];
    if (typeof v !== 'number')
      throw new FallBack(`the body of stage ${s.stage} reads the scalar \`${s.key}\`, which its spec does not provide`);
    scalars[idx] = Math.fround(v);
  });
  return scalars;
}

/** The last reduction of `spec` named `name` in `scope` (a later entry wins, as on the reference path). */
function lastReduction(spec: ElementwiseSpec, name: string, scope: ReductionSpec['scope']): ReductionSpec {
  return [...(spec.reductions ?? [])].reverse().find((x) => x.name === name && x.scope === scope) as ReductionSpec;
}

/**
 * The reductions that feed the IR's reduction scalars (the last spec entry of a name wins, a per-leaf one over
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
