// Conformance with optax 0.2.8's optax.contrib: every case of
// fixtures/optax-contrib.json (made by fixtures/generate_optax_contrib.py
// from real optax), replayed step by step through `tx.update` +
// `applyUpdates` (updates and params at every step), and through
// `createOptimizer(tx, params)` + `opt.step` on the tfjs cpu and wasm
// backends (params at every step), where element-wise transforms run fused.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as core from '@gradtx/core';
import { fusedStats } from '@gradtx/core';
import {
  buildTransformation,
  compare,
  decodeTree,
  disposeTree,
  type FixtureTree,
  readFixture,
  replay,
  replayOptimizer,
  runBlockOn,
  type StepCase,
} from '@gradtx/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import * as contrib from '../index.js';
import { contribTolerance } from './tolerances.js';

/** A case whose update takes a function extra argument, built from the objective's target (see `withObjective`). */
type ObjectiveCase = StepCase & { fnTarget?: FixtureTree };

const fixture = readFixture<ObjectiveCase>('optax-contrib.json', new URL('../../fixtures/', import.meta.url));
const MODULES = [contrib, core] as unknown as Record<string, unknown>[];
/** The families whose optimizers do not fuse (they run on the reference path). */
const REFERENCE_ONLY = new Set<string>(['scheduleFree', 'parameterFree', 'momo', 'plateau', 'sam', 'muon', 'privacy', 'sophia', 'galore']);
/** Methods of those families written as element-wise specs with scalar state: they fuse on cpu and wasm. */
const FUSED_PARAMETER_FREE = new Set<string>([
  'prodigy',
  'dadaptAdamw',
  'scheduleFreeSgd',
  'scheduleFreeAdamw',
  'scaleByDog',
  'dog',
  'scaleByDowg',
  'dowg',
]);

/**
 * The objective of the generator's `fn_target` cases, `f(x) = Σ 0.5 d² + 0.25 d⁴`
 * with `d = x - target`, as the function extra arguments optax takes:
 * `gradFn(params, i) = d + d·d·d` (SAM's opaque mode) and `objFn(params) = f`.
 */
function objectiveExtras(target: core.Params): core.UpdateExtras {
  const gradFn = (params: core.Params) =>
    tf.tidy(() =>
      core.treeMap((x: tf.Tensor, t: tf.Tensor) => tf.add(tf.sub(x, t), tf.mul(tf.mul(tf.sub(x, t), tf.sub(x, t)), tf.sub(x, t))), params, [
        target,
      ]),
    );
  const objFn = (params: core.Params) =>
    tf.tidy(() => {
      const terms = core.treeLeaves<tf.Tensor>(
        core.treeMap(
          (x: tf.Tensor, t: tf.Tensor) => {
            const d = tf.sub(x, t);
            const quad = tf.mul(tf.mul(0.5, d), d);
            const quartic = tf.mul(tf.mul(tf.mul(tf.mul(0.25, d), d), d), d);
            return tf.sum(tf.add(quad, quartic));
          },
          params,
          [target],
        ),
      );
      return terms.reduce((acc: tf.Tensor, x) => tf.add(acc, x), tf.scalar(0)) as tf.Scalar;
    });
  return { gradFn, objFn };
}

/**
 * The modules a case is built from: for a case with `fnTarget`, every
 * transformation the modules build gets the objective's function extra
 * arguments added to its updates' (the fixture JSON cannot hold functions).
 * Returns the modules and a disposer of the decoded target.
 */
function withObjective(c: ObjectiveCase): [Record<string, unknown>[], () => void] {
  if (c.fnTarget === undefined) return [MODULES, () => {}];
  const target = decodeTree(c.fnTarget) as core.Params;
  const extras = objectiveExtras(target);
  const wrap = (module: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(module).map(([name, f]) => {
        if (typeof f !== 'function') return [name, f];
        const wrapped = (...args: unknown[]) => {
          const tx = (f as (...a: unknown[]) => unknown)(...args) as core.GradientTransformation;
          if (tx === null || typeof tx !== 'object' || typeof tx.update !== 'function') return tx;
          // without `fusion`: the fused engine would run a chain's stages itself, past this update
          return {
            init: tx.init,
            update: (u: core.Updates, s: unknown, p?: core.Params, e?: core.UpdateExtras) => tx.update(u, s, p, { ...e, ...extras }),
          };
        };
        return [name, wrapped];
      }),
    );
  return [[wrap(contrib as unknown as Record<string, unknown>), core as unknown as Record<string, unknown>], () => disposeTree(target)];
}

describe(`optax.contrib conformance: tx.update (${fixture.source})`, () => {
  it('has a case for every function @gradtx/contrib exports', () => {
    const named = new Set<string>();
    const visit = (e: unknown): void => {
      if (Array.isArray(e)) e.forEach(visit);
      else if (e !== null && typeof e === 'object') {
        const tx = (e as { tx?: unknown }).tx;
        if (typeof tx === 'string') named.add(tx);
        Object.values(e).forEach(visit);
      }
    };
    for (const c of fixture.cases) visit(c.gradtx);
    named.add('scheduleFreeEvalParams'); // not a transformation: checked by the evalParams cases below
    named.add('hutchinsonEstimatorDiagHessian'); // sophia's default estimator (and statistically in sophia.test.ts)
    for (const c of complexCases) visit(c.gradtx);
    const exported = Object.entries(contrib)
      .filter(([, v]) => typeof v === 'function')
      .map(([k]) => k);
    expect(exported.filter((name) => !named.has(name))).toEqual([]);
  });
  for (const c of fixture.cases) {
    it(`${c.id}: ${c.optax}`, () => {
      const [modules, done] = withObjective(c);
      try {
        replay(c, contribTolerance(c.family), modules);
      } finally {
        done();
      }
    });
  }
});

/** The stages of `tx` the fused engine cannot compile (they run on the reference path between fused runs). */
function opaqueStages(tx: core.GradientTransformation): number {
  const f = tx.fusion;
  if (f === undefined) return 1;
  if (f.kind === 'elementwise') return 0;
  if (f.kind === 'chain') return f.children.reduce((n, [, member]) => n + opaqueStages(member), 0);
  return 1; // a lowering combinator (injectHyperparams, multiSteps): a stage of its own, fused step by step
}

/** A case that also records optax's schedule_free_eval_params after every step. */
type EvalCase = StepCase & { evalParams?: FixtureTree[] };

/** Replays a schedule-free case and compares `scheduleFreeEvalParams(state, params)` after every step. */
function replayEvalParams(c: EvalCase): void {
  const before = tf.memory().numTensors;
  const tx = buildTransformation(c, MODULES);
  let params = decodeTree(c.params) as core.Params;
  let state: unknown = tx.init(params);
  c.grads.forEach((g, i) => {
    const grads = decodeTree(g) as core.Updates;
    const [updates, next] = tx.update(grads, state, params);
    const newParams = core.applyUpdates(params, updates);
    const evalParams = contrib.scheduleFreeEvalParams(next, newParams);
    compare(`step ${i} eval params`, evalParams, c.evalParams![i]!, contribTolerance(c.family).params);
    disposeTree([grads, updates, params, state, evalParams]);
    [params, state] = [newParams, next];
  });
  disposeTree([params, state]);
  expect(tf.memory().numTensors, 'tensors left over (leaked)').toBe(before);
}

describe('optax.contrib conformance: scheduleFreeEvalParams', () => {
  const cases = (fixture.cases as EvalCase[]).filter((c) => c.evalParams !== undefined);
  it('has schedule-free cases', () => expect(cases.length).toBeGreaterThan(0));
  for (const c of cases) it(c.id, () => replayEvalParams(c));
});

/** A complex leaf as stored: its real and imaginary parts. */
type ComplexTree = Record<string, FixtureTree | { re: FixtureTree; im: FixtureTree }>;
/** A splitRealAndImaginary case: a flat tree whose `complexKeys` leaves are complex64. */
interface ComplexCase {
  id: string;
  gradtx: unknown;
  optax: string;
  needsParams: boolean;
  complexKeys: string[];
  params: ComplexTree;
  grads: ComplexTree[];
  expected: { updates: ComplexTree; params: ComplexTree }[];
}

const complexCases =
  (readFixture<never>('optax-contrib.json', new URL('../../fixtures/', import.meta.url)) as unknown as { complexCases?: ComplexCase[] })
    .complexCases ?? [];

function decodeComplex(c: ComplexCase, tree: ComplexTree): Record<string, tf.Tensor> {
  return Object.fromEntries(
    Object.entries(tree).map(([k, v]) => {
      if (!c.complexKeys.includes(k)) return [k, decodeTree(v as FixtureTree) as tf.Tensor];
      const { re, im } = v as { re: FixtureTree; im: FixtureTree };
      return [k, tf.tidy(() => tf.complex(decodeTree(re) as tf.Tensor, decodeTree(im) as tf.Tensor))];
    }),
  );
}

/** Compares a flat tree with complex leaves part by part. */
function compareComplex(
  what: string,
  c: ComplexCase,
  actual: Record<string, tf.Tensor>,
  expected: ComplexTree,
  tol: { rtol: number; atol: number },
) {
  for (const [k, v] of Object.entries(expected)) {
    const x = actual[k] as tf.Tensor;
    if (!c.complexKeys.includes(k)) {
      compare(`${what} ${k}`, x, v as FixtureTree, tol);
      continue;
    }
    expect(x.dtype).toBe('complex64');
    const [re, im] = [tf.real(x), tf.imag(x)];
    compare(`${what} ${k} (real)`, re, (v as { re: FixtureTree }).re, tol);
    compare(`${what} ${k} (imaginary)`, im, (v as { im: FixtureTree }).im, tol);
    tf.dispose([re, im]);
  }
}

describe.runIf(complexCases.length > 0)('optax.contrib conformance: splitRealAndImaginary (complex64 params)', () => {
  for (const c of complexCases) {
    it(`${c.id}: ${c.optax}`, () => {
      const before = tf.memory().numTensors;
      const tx = buildTransformation(c as unknown as StepCase, MODULES);
      const tol = contribTolerance('complex');
      let params = decodeComplex(c, c.params);
      let state: unknown = tx.init(params);
      c.grads.forEach((g, i) => {
        const grads = decodeComplex(c, g);
        const [updates, next] = tx.update(grads, state, c.needsParams ? params : undefined);
        // applyUpdates takes float32 trees: complex params are updated with tf.add
        const newParams = Object.fromEntries(
          Object.entries(params).map(([k, p]) => [k, tf.add(p, (updates as Record<string, tf.Tensor>)[k]!)]),
        );
        compareComplex(`step ${i} updates`, c, updates as Record<string, tf.Tensor>, c.expected[i]!.updates, tol.updates);
        compareComplex(`step ${i} params`, c, newParams, c.expected[i]!.params, tol.params);
        disposeTree([grads, updates, params, state]);
        [params, state] = [newParams, next];
      });
      disposeTree([params, state]);
      expect(tf.memory().numTensors, 'tensors left over (leaked)').toBe(before);
    });
  }
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`optax.contrib conformance: createOptimizer on ${backend}`, () => {
    runBlockOn(backend);
    for (const c of fixture.cases) {
      const fuses = FUSED_PARAMETER_FREE.has((c.gradtx as { tx: string }).tx) || !REFERENCE_ONLY.has(c.family);
      it(`${c.id}${fuses ? ' (fused)' : ''}`, () => {
        // the optimizer's own stages are element-wise (a weight-decay mask is the one opaque stage allowed)
        const [modules, done] = withObjective(c);
        const opaque = opaqueStages(buildTransformation(c, modules));
        if (fuses) expect(opaque).toBe(JSON.stringify(c.gradtx).includes('"mask"') ? 1 : 0);
        else expect(opaque).toBeGreaterThan(0);
        const [fused, reference] = [fusedStats.fused + fusedStats.fast, fusedStats.reference];
        try {
          replayOptimizer(c, contribTolerance(c.family).params, modules);
        } finally {
          done();
        }
        // every step went through the fused engine (with the opaque stages on the reference path between fused runs),
        // but per-example gradients (a batch axis the params lack), which createOptimizer runs on the reference path
        const perExample = c.family === 'privacy';
        expect(fusedStats.fused + fusedStats.fast - fused).toBe(perExample ? 0 : c.grads.length);
        expect(fusedStats.reference - reference).toBe(perExample ? c.grads.length : 0);
      });
    }
  });
}
