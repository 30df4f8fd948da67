/**
 * Host work of a replayed step: Adam through createOptimizer on `leaves`
 * tensors of `size` elements, params as a record of leaves (as
 * `model.getWeights()` by name) or an array; prints the least-disturbed
 * batch's ms per step and µs per leaf. Run it under `node --cpu-prof` to see
 * where a step's time goes (docs/performance.md, "Host work per step").
 *
 *   pnpm --filter @gradtx/bench bench:host -- cpu 1000 1000 record
 *   node --cpu-prof --import tsx host-profile.ts wasm 200 50000 record
 */
import { adam, createOptimizer, fusedStats } from '@gradtx/core';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from './timing.ts';
import { values } from './values.ts';

const [backend = 'cpu', leaves = '1000', size = '1000', form = 'record'] = process.argv.slice(2).filter((a) => a !== '--');
if (backend !== 'cpu' && backend !== 'wasm') throw new Error(`host-profile: backend must be cpu or wasm, got ${backend}`);
const L = Number(leaves);
const N = Number(size);
/** Steps per batch: about 20 ms of work each. */
const K = Math.max(3, Math.round(20_000 / (L * (1 + N / 200))));

tf.env().set('IS_TEST', true); // no console banner
await useBackend(backend);
const tree = (seed: number) => {
  const ts = Array.from({ length: L }, (_, i) => tf.tensor1d(values(N, seed + i)));
  return form === 'array' ? ts : Object.fromEntries(ts.map((t, i) => [`layer${i}/kernel`, t]));
};
const opt = createOptimizer(adam(1e-3), tree(1));
const gs = tree(1000);
for (let i = 0; i < 10; i++) opt.step(gs);
const batches: number[] = [];
for (let b = 0; b < 15; b++) {
  const t0 = performance.now();
  for (let i = 0; i < K; i++) opt.step(gs);
  batches.push((performance.now() - t0) / K);
}
const ms = Math.min(...batches); // the least-disturbed batch (the machine may be shared)
process.stdout.write(
  `${backend} ${L} × ${N} (${form}): ${ms.toFixed(3)} ms/step, ${((ms * 1000) / L).toFixed(3)} µs/leaf; steps ${JSON.stringify(fusedStats)}\n`,
);
