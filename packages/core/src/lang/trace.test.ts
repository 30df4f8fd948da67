import { describe, expect, it } from 'vitest';
import { chain } from '../combine.js';
import { elementwise } from '../elementwise.js';
import { jsKernelSource } from '../fused/devices/js-printer.js';
import { Bytes } from '../fused/devices/wasm-assembler.js';
import { planOf } from '../fused/plan.js';
import { expectTracesClose, randomArrays, rng, runFused, runReference } from '../test-utils/fused.js';
import { scaleByAdam } from '../transforms/adam.js';
import { scale } from '../transforms/scaling.js';
import type { ElementwiseSpec } from './spec.js';
import { TraceError, traceRun } from './trace.js';

const specOf = (tx: { fusion?: unknown }) => (tx.fusion as { spec: ElementwiseSpec }).spec;

describe('traceRun', () => {
  it('shares common subexpressions and drops dead ones', () => {
    const spec = specOf(
      elementwise({
        name: 't',
        key: 't',
        slots: [],
        counted: false,
        needsParams: false,
        scalars: () => ({ a: 2 }),
        body(m, { u }, k) {
          m.exp(u); // dead
          return { u: m.add(m.mul(k.a, u), m.mul(k.a, u)) };
        },
      }),
    );
    const ir = traceRun([spec], false);
    expect(ir.nodes.map((n) => n.op)).toEqual(['input', 'scalar', 'mul', 'add']);
    expect(ir.transcendental).toBe(false);
  });

  it('feeds each stage the previous one’s update, namespaces slots and scalars, ends with p + u', () => {
    const ir = traceRun([specOf(scaleByAdam()), specOf(scaleByAdam()), specOf(scale(0.1))], true);
    expect(ir.inputs).toEqual(expect.arrayContaining(['u', 's0:mu', 's0:nu', 's1:mu', 's1:nu', 'p']));
    expect(ir.outputs.map((o) => o.name)).toEqual(['s0:mu', 's0:nu', 's1:mu', 's1:nu', 'p']);
    expect(ir.scalars.map((s) => s.name)).toEqual(expect.arrayContaining(['0:b1', '1:b1', '2:stepSize']));
    const last = ir.nodes[ir.outputs[4]?.node as number];
    expect(last?.op).toBe('add');
  });

  it('prints every arithmetic result through Math.fround in the JS kernel', () => {
    const src = jsKernelSource(traceRun([specOf(scaleByAdam())], true));
    expect(src).toMatch(/fr\(Math\.sqrt/);
    expect(src).not.toMatch(/[^(]\bv\d+ [*/+-] v\d+;/);
  });

  it('a body that escapes the language (a captured number) is not fusible and runs on the reference path', () => {
    const bad = elementwise({
      name: 'bad',
      key: 'bad',
      slots: [],
      counted: false,
      needsParams: false,
      scalars: () => ({}),
      body: (m, { u }) => ({ u: m.mul(u, 0.5 as never) }),
    });
    expect(() => traceRun([specOf(bad)], false)).toThrow(TraceError);
    // the reference path itself accepts a number here (tfjs converts it), so the chain still runs, with the stage opaque
    const tx = chain(scaleByAdam(), bad, scale(2));
    expect(planOf(tx).segments.map((s) => s.kind)).toEqual(['fused', 'opaque', 'fused']);
    const r = rng(5);
    const params = randomArrays(r);
    const grads = [randomArrays(r), randomArrays(r)];
    expectTracesClose(runFused(tx, params, grads, 'optimizer'), runReference(tx, params, grads), 'opaque stage', { rtol: 0, atol: 0 });
  });
});

describe('wasm-emit', () => {
  it('encodes LEB128 and float immediates', () => {
    expect(new Bytes().u32(0).u32(127).u32(128).u32(624485).out).toEqual([0, 127, 0x80, 1, 0xe5, 0x8e, 0x26]);
    expect(new Bytes().s32(-1).s32(63).s32(64).s32(-123456).out).toEqual([0x7f, 63, 0xc0, 0, 0xc0, 0xbb, 0x78]);
    expect(new Bytes().f32(1).out).toEqual([0, 0, 0x80, 0x3f]);
  });
});
