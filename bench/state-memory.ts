/**
 * Low-memory optimizer state: Adam's state bytes per parameter and the step
 * time with bfloat16, float16 and block-wise int8 moments, as ratios to the
 * float32 fused step measured in the same run (interleaved rounds, medians),
 * with the path each step took (`fusedStats`: fused, replayed, or reference).
 *
 *   pnpm bench:memory               # 10M params (200 × 50k leaves), cpu and wasm
 *   pnpm bench:memory -- --quick    # 1M params, a smoke test
 *
 * Bytes per parameter are measured, not computed: `tf.memory().numBytes`
 * before and after `tx.init(params)`, divided by the number of parameters.
 * Each step is timed twice: wall-clock time, and this process's CPU time
 * (`process.cpuUsage`; the backends run single-threaded), which other
 * processes on a shared machine do not inflate.
 * Results on stdout, progress on stderr.
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { adam, createOptimizer, fusedStats, type GradientTransformation, type StateDtype } from '@gradtx/core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { values } from './values.ts';

const quick = process.argv.includes('--quick');
const log = (s: string) => process.stderr.write(`${s}\n`);
const LEAVES = quick ? 20 : 200;
const LEAF = 50_000;
const N = LEAVES * LEAF;
const ROUNDS = quick ? 5 : 7;
const DTYPES: StateDtype[] = ['float32', 'bfloat16', 'float16', 'int8'];

const txOf = (dtype: StateDtype): GradientTransformation => adam(1e-3, { muDtype: dtype, nuDtype: dtype });
const tree = (seed: number): tf.Tensor[] => Array.from({ length: LEAVES }, (_, i) => tf.tensor1d(values(LEAF, seed + i)));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Bytes of optimizer state per parameter, from tf.memory() around tx.init. */
function stateBytesPerParam(dtype: StateDtype): number {
  const params = tree(1);
  const before = tf.memory().numBytes;
  const state = txOf(dtype).init(params);
  const bytes = tf.memory().numBytes - before;
  tf.dispose([params, state] as never);
  return bytes / N;
}

/** The path a step took, from the counts of `fusedStats` around it. */
function pathOf(before: { fast: number; fused: number; reference: number }): string {
  if (fusedStats.reference > before.reference) return 'reference';
  return fusedStats.fast > before.fast ? 'fused (replayed)' : 'fused';
}

/** ms per step, wall-clock and CPU (medians of interleaved rounds), of Adam with each storage on the current backend, and the path of the last step. */
function stepTimes(): { ms: number[]; cpu: number[]; paths: string[] } {
  const gs = tree(1000);
  const opts = DTYPES.map((d) => createOptimizer(txOf(d), tree(1)));
  for (const opt of opts) opt.step(gs); // warm-up: compiles the kernels
  const ts = DTYPES.map((): number[] => []);
  const cs = DTYPES.map((): number[] => []);
  const paths = DTYPES.map(() => '');
  for (let r = 0; r < ROUNDS; r++) {
    opts.forEach((opt, i) => {
      const before = { ...fusedStats };
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      opt.step(gs);
      (ts[i] as number[]).push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      (cs[i] as number[]).push((c.user + c.system) / 1000);
      paths[i] = pathOf(before);
    });
  }
  for (const opt of opts) opt.dispose();
  tf.dispose(gs);
  return { ms: ts.map(median), cpu: cs.map(median), paths };
}

async function main(): Promise<void> {
  setWasmPaths(
    createRequire(import.meta.url)
      .resolve('@tensorflow/tfjs-backend-wasm')
      .replace(/[^/\\]*$/, ''),
  );
  console.log(
    `Adam state, ${LEAVES} × ${LEAF} = ${N / 1e6}M params; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(', ')}`,
  );
  console.log('');
  console.log('| storage | state bytes/param |');
  console.log('| --- | ---: |');
  await tf.setBackend('cpu');
  for (const d of DTYPES) console.log(`| ${d === 'int8' ? 'int8 (blocks of 256)' : d} | ${stateBytesPerParam(d).toFixed(3)} |`);
  for (const backend of ['cpu', 'wasm'] as const) {
    await tf.setBackend(backend);
    log(`timing on ${backend} ...`);
    const { ms, cpu, paths } = stepTimes();
    console.log('');
    console.log(`${backend}: createOptimizer(adam(1e-3, { muDtype, nuDtype })).step, median of ${ROUNDS} interleaved rounds`);
    console.log('');
    console.log('| storage | path | ms/step | ratio to float32 fused | CPU ms/step | CPU ratio |');
    console.log('| --- | --- | ---: | ---: | ---: | ---: |');
    DTYPES.forEach((d, i) => {
      const ratio = (ms[i] as number) / (ms[0] as number);
      const cpuRatio = (cpu[i] as number) / (cpu[0] as number);
      console.log(
        `| ${d} | ${paths[i]} | ${(ms[i] as number).toFixed(1)} | ${ratio.toFixed(2)}× | ${(cpu[i] as number).toFixed(1)} | ${cpuRatio.toFixed(2)}× |`,
      );
    });
    console.log('');
    console.log(
      "(packed moments are decoded on load and encoded on store inside the fused kernels: wasm SIMD, in place on the wasm heap and in the cpu device's arena)",
    );
  }
}

await main();
