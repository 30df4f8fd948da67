// Type-checked (tsc --noEmit, strict, NodeNext) in the scratch npm project made
// by scripts/release-check.mjs: the packed packages' .d.ts files resolve and
// carry real types (each @ts-expect-error must meet an error, which it would
// not if a package's types were missing and everything were `any`).
import {
  adamw,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  createOptimizer,
  type GradientTransformation,
  type Optimizer,
  scaleByAdam,
} from '@gradtx/core';
import { type Device, type KernelIR, REDUCTIONS, registerFusedDevice } from '@gradtx/core/engine';
import { compareTraces, rng, type Trace } from '@gradtx/core/testing';
import { createNodeOptimizer, type NodeBackendInfo, type NodeOptimizer, useNodeBackend } from '@gradtx/node-gpu';
import { type Schedule, scheduleWarmupCosine } from '@gradtx/schedules';
import type * as tf from '@tensorflow/tfjs-core';

declare const params: { w: tf.Tensor; b: tf.Tensor };

const lr: Schedule = scheduleWarmupCosine({ initValue: 0, peakValue: 1e-3, warmupSteps: 10, decaySteps: 100 });
const tx: GradientTransformation = chain(clipByGlobalNorm(1), adamw(lr, { weightDecay: 1e-2 }));
const opt: Optimizer = createOptimizer(tx, params);
const nodeOpt: NodeOptimizer = createNodeOptimizer(tx, params, { flatten: 'auto' });
const flattened: boolean = nodeOpt.flattened;
const info: Promise<NodeBackendInfo> = useNodeBackend({ prefer: 'gpu' });
const next = applyUpdates(params, params);

// @ts-expect-error b1 is a number
scaleByAdam({ b1: 'high' });
// @ts-expect-error muDtype is 'float32', 'bfloat16', 'float16' or 'int8'
scaleByAdam({ muDtype: 'fp16' });
// @ts-expect-error scheduleWarmupCosine needs its options
scheduleWarmupCosine();
// @ts-expect-error prefer is 'gpu' or 'cpu'
useNodeBackend({ prefer: 'tpu' });
// @ts-expect-error step takes the grads
opt.step();

export { flattened, info, next, nodeOpt };

// the subpaths: the backend-author API and the shared test helpers
declare const device: Device;
const signature: string = (null as unknown as KernelIR).signature;
registerFusedDevice('cpu', () => device);
const l2Partial: 'sumSq' | 'sum' | 'maxAbs' = REDUCTIONS.l2.partial;
const random: number = rng(1)();
const trace: Trace = { params: [], states: [] };
const difference: string | null = compareTraces(trace, trace, 'same', { rtol: 0, atol: 0 });
// @ts-expect-error registerFusedDevice takes a backend name first
registerFusedDevice(() => device);

export { difference, l2Partial, random, signature };
