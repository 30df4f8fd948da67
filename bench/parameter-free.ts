/**
 * Prodigy, D-Adapt AdamW, schedule-free SGD and AdamW, DoG and DoWG
 * (element-wise specs with scalar state): a step of
 * createOptimizer on the fused path against the same step on the reference
 * path (`fused: false`), on cpu and wasm, measured in the same run
 * (interleaved rounds, medians); printed as ms/step and the reference/fused
 * ratio.
 *
 *   pnpm --filter @gradtx/bench bench:parameter-free
 *   pnpm --filter @gradtx/bench bench:parameter-free -- --quick
 */
import { createRequire } from 'node:module';
import { dadaptAdamw, dog, dowg, prodigy, scheduleFreeAdamw, scheduleFreeSgd } from '@gradtx/contrib';
import { createOptimizer, type GradientTransformation } from '@gradtx/core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { values } from './values.ts';

const quick = process.argv.includes('--quick');
const SHAPES: [string, number[]][] = quick
  ? [['1 × 100k', [100_000]]]
  : [
      ['1 × 1M', [1_000_000]],
      ['100 × 10k (1M)', Array(100).fill(10_000)],
    ];
const ROUNDS = quick ? 3 : 11;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

/** ms per step of `tx` on the current backend, fused and on the reference path, interleaved. */
function timeBoth(tx: () => GradientTransformation, sizes: number[]): [fused: number, reference: number] {
  const runs = [true, false].map((fused) => {
    const opt = createOptimizer(
      tx(),
      sizes.map((n, i) => tf.tensor1d(values(n, 1 + i))),
      { fused },
    );
    const grads = sizes.map((n, i) => tf.tensor1d(values(n, 1000 + i)));
    opt.step(grads); // compiles the kernels
    return { opt, grads, ms: [] as number[] };
  });
  for (let k = 0; k < ROUNDS; k++) {
    for (const r of runs) {
      const t0 = performance.now();
      r.opt.step(r.grads);
      r.ms.push(performance.now() - t0);
    }
  }
  const out = runs.map((r) => median(r.ms)) as [number, number];
  for (const r of runs) {
    const last = r.opt.params;
    r.opt.dispose();
    tf.dispose([...(last as tf.Tensor[]), ...r.grads]);
  }
  return out;
}

async function main(): Promise<void> {
  setWasmPaths(
    createRequire(import.meta.url)
      .resolve('@tensorflow/tfjs-backend-wasm')
      .replace(/[^/\\]*$/, ''),
  );
  const txs: [string, () => GradientTransformation][] = [
    ['prodigy()', () => prodigy()],
    ['dadaptAdamw()', () => dadaptAdamw()],
    ['scheduleFreeSgd()', () => scheduleFreeSgd()],
    ['scheduleFreeAdamw()', () => scheduleFreeAdamw()],
    ['dog()', () => dog()],
    ['dowg()', () => dowg()],
  ];
  console.log('| backend | shape | optimizer | fused ms/step | reference ms/step | reference / fused |');
  console.log('| --- | --- | --- | ---: | ---: | ---: |');
  for (const backend of ['cpu', 'wasm'] as const) {
    if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend(${backend}) failed`);
    for (const [shape, sizes] of SHAPES) {
      for (const [name, tx] of txs) {
        const [fused, reference] = timeBoth(tx, sizes);
        console.log(
          `| ${backend} | ${shape} | ${name} | ${fused.toFixed(2)} | ${reference.toFixed(2)} | ${(reference / fused).toFixed(1)}× |`,
        );
      }
    }
  }
}

await main();
