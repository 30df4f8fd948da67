/**
 * The scalar prelude of a stage with scalar state (`ElementwiseSpec.scalarState`,
 * e.g. Prodigy's distance estimate): one fused kernel writes the per-element
 * values of its expression reductions, they are reduced as on the reference
 * path (`reduceLeafValues`), `updateScalars` runs on scalar tensors with the
 * reference ops, and the device reads the resulting scalars back for the
 * stage's kernel. Every value is the one the reference path computes, bit for
 * bit; the only full-size temporaries are the reduced values, freed at once.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { reduceLeafValues, tfOps } from '../lang/reference.js';
import type { ElementwiseSpec } from '../lang/spec.js';
import { type KernelIR, traceRun } from '../lang/trace.js';
import type { Device } from './device.js';

/** The name of the prelude output that holds expression reduction `name`'s values. */
const valueSlot = (name: string) => `=${name}`;

/** The spec whose body writes the values of `spec`'s expression reductions as slot outputs (the kernel of the prelude). */
function valuesSpec(spec: ElementwiseSpec): ElementwiseSpec {
  const exprs = spec.expressionReductions ?? [];
  return {
    name: spec.name,
    key: `${spec.key}\u0004expression reductions`,
    slots: [...spec.slots, ...exprs.map((r) => ({ name: valueSlot(r.name), init: 0 }))],
    counted: false,
    needsParams: spec.needsParams,
    scalars: spec.scalars,
    body(m, x, k) {
      const out: Record<string, unknown> = { u: x.u };
      for (const r of exprs) out[valueSlot(r.name)] = r.value(m, x, k);
      return out as never;
    },
  };
}

const preludes = new WeakMap<ElementwiseSpec, KernelIR>();

/** The kernel IR of the prelude of `spec` (traced once per spec); throws `TraceError` for an untraceable value. */
export function preludeIR(spec: ElementwiseSpec): KernelIR {
  let ir = preludes.get(spec);
  if (ir === undefined) {
    ir = traceRun([valuesSpec(spec)], false);
    preludes.set(spec, ir);
  }
  return ir;
}

/** What the prelude of a stage gives its kernel and its next state. */
export interface ScalarPrelude {
  /** Scalars the body reads beyond `scalars(count)`: the scalar state before the step, the expression reductions, `updateScalars`' results. */
  readonly scalars: Record<string, number>;
  /** The new scalar state, by name (new float32 scalar tensors). */
  readonly state: Record<string, tf.Tensor>;
}

/** The float32 values of the IR's scalars from `values` by key. */
function irScalars(ir: KernelIR, values: Readonly<Record<string, number>>, spec: ElementwiseSpec): Float64Array {
  return Float64Array.from(ir.scalars, (s) => {
    const v = values[s.key];
    if (typeof v !== 'number') {
      throw new Error(
        `${spec.name}: an expression reduction reads the scalar \`${s.key}\`, which neither scalars(count) nor the scalar state provides`,
      );
    }
    return Math.fround(v);
  });
}

/**
 * Runs the prelude of a stage on a device that reads scalars back (checked
 * before the step): `columnOf(name)` gives the tensors an IR input (`u`, `p`,
 * `s0:<slot>`) reads, one per leaf; `us` are the stage's incoming updates;
 * `old` its state object.
 */
export function runScalarPrelude(
  spec: ElementwiseSpec,
  count: number,
  device: Device,
  us: readonly tf.Tensor[],
  old: Readonly<Record<string, unknown>>,
  columnOf: (name: string) => readonly tf.Tensor[],
): ScalarPrelude {
  const base: Record<string, number> = { ...spec.scalars(count) };
  for (const { name } of spec.scalarState ?? []) base[name] = (device.readScalar as (t: tf.Tensor) => number)(old[name] as tf.Tensor);
  const state: Record<string, tf.Tensor> = {};
  const scalars: Record<string, number> = { ...base };
  tf.tidy(() => {
    const values = expressionValues(spec, device, us, base, columnOf);
    const k: Record<string, tf.Tensor> = {};
    for (const [name, v] of Object.entries(base)) k[name] = tf.scalar(v, 'float32');
    for (const [name, v] of Object.entries(values)) k[name] = v;
    const next = { ...k, ...(spec.updateScalars ? spec.updateScalars(tfOps, k) : {}) };
    for (const [name, v] of Object.entries(next)) scalars[name] = (v.dataSync() as Float32Array)[0] as number;
    for (const s of spec.scalarState ?? []) {
      const v = next[s.next];
      if (v === undefined) throw new Error(`${spec.name}: updateScalars returned no \`${s.next}\` (the new value of state.${s.name})`);
      state[s.name] = tf.keep(tf.cast(tf.reshape(v, []), 'float32'));
    }
  });
  return { scalars, state };
}

/** The expression reductions of a stage: one kernel writes their values, then each is reduced and its temporaries freed. */
function expressionValues(
  spec: ElementwiseSpec,
  device: Device,
  us: readonly tf.Tensor[],
  base: Readonly<Record<string, number>>,
  columnOf: (name: string) => readonly tf.Tensor[],
): Record<string, tf.Scalar> {
  const exprs = spec.expressionReductions ?? [];
  if (exprs.length === 0) return {};
  const ir = preludeIR(spec);
  const inputs = ir.inputs.map(columnOf);
  const outs = ir.outputs.map(() => us.map((u) => device.alloc(u.shape)));
  try {
    const launch = device.launch(ir, [...inputs, ...outs], { u: us, p: us, list: [] });
    if (!launch.run(irScalars(ir, base, spec)))
      throw new Error('gradtx: internal error: the prelude kernel found a buffer it writes shared');
    const shapes = us.map((u) => u.shape);
    const out: Record<string, tf.Scalar> = {};
    for (const r of exprs) {
      const k = ir.outputs.findIndex((o) => o.name === `s0:${valueSlot(r.name)}`);
      if (k < 0) throw new Error(`gradtx: internal error: the prelude of ${spec.name} does not write \`${r.name}\``);
      out[r.name] = reduceLeafValues(r.op, outs[k] as tf.Tensor[], shapes);
    }
    return out;
  } finally {
    for (const col of outs) for (const t of col) t.dispose();
  }
}
