/**
 * End to end: `model.fit` with `asTfOptimizer(adam(1e-3))` against
 * `tf.train.adam(1e-3)`, on the digits data (8×8 images, 10 classes), for an
 * MLP of about 1.1M params and a small convnet, on the `cpu` and `wasm`
 * backends; and the first-step (compile) latency of a 100-leaf
 * clip + AdamW chain.
 *
 *   pnpm --filter @gradtx/bench bench:fit            # full run
 *   pnpm --filter @gradtx/bench bench:fit -- --quick # a smoke test
 *
 * Epochs of the two optimizers alternate (one epoch each per round, after a
 * warm-up epoch each); ms/epoch is the median over the rounds. The
 * optimizer's share is the time spent in `applyGradients`, measured by
 * wrapping it, over the epoch's time.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { adam, adamw, asTfOptimizer, chain, clipByGlobalNorm, createOptimizer } from '@gradtx/core';
import * as tfjs from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { values } from './values.ts';

const quick = process.argv.includes('--quick');
const log = (s: string) => process.stderr.write(`${s}\n`);
const ROWS = quick ? 128 : 512;
const BATCH = 64;
const ROUNDS = quick ? 1 : 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** The first ROWS digits of examples/data (pixels scaled to [0, 1], one-hot labels), as [N, 8, 8, 1] images. */
function digits(): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const file = new URL('../examples/data/digits.csv.gz', import.meta.url);
  const lines = gunzipSync(readFileSync(file)).toString('utf8').trim().split('\n').slice(0, ROWS);
  const x = new Float32Array(lines.length * 64);
  const y = new Float32Array(lines.length * 10);
  lines.forEach((line, i) => {
    const v = line.split(',').map(Number);
    for (let j = 0; j < 64; j++) x[i * 64 + j] = (v[j] as number) / 16;
    y[i * 10 + (v[64] as number)] = 1;
  });
  return { x: tf.tensor4d(x, [lines.length, 8, 8, 1]), y: tf.tensor2d(y, [lines.length, 10]) };
}

/** The two models: each built with the same deterministic weights for both optimizers. */
const MODELS: { name: string; build(): tfjs.LayersModel }[] = [
  {
    name: 'MLP 64-1024-1024-10',
    build: () =>
      tfjs.sequential({
        layers: [
          tfjs.layers.flatten({ inputShape: [8, 8, 1] }),
          tfjs.layers.dense({ units: 1024, activation: 'relu' }),
          tfjs.layers.dense({ units: 1024, activation: 'relu' }),
          tfjs.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      }),
  },
  {
    name: 'convnet conv3×3(32)-conv3×3(64)-dense(128)-10',
    build: () =>
      tfjs.sequential({
        layers: [
          tfjs.layers.conv2d({ inputShape: [8, 8, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
          tfjs.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
          tfjs.layers.flatten(),
          tfjs.layers.dense({ units: 128, activation: 'relu' }),
          tfjs.layers.dense({ units: 10, activation: 'softmax' }),
        ],
      }),
  },
];

/** Sets every weight of `model` from a fixed generator, so both optimizers start alike. */
function setWeights(model: tfjs.LayersModel): number {
  let params = 0;
  const ws = model.getWeights().map((w, i) => {
    params += w.size;
    const v = values(w.size, 77 + i).map((x) => x * 0.05);
    return tf.tensor(v, w.shape);
  });
  model.setWeights(ws);
  tf.dispose(ws);
  return params;
}

/** A model compiled with `optimizer`, whose applyGradients time is summed into `inOptimizer.ms`. */
function compiled(build: () => tfjs.LayersModel, optimizer: tf.Optimizer) {
  const model = build();
  const params = setWeights(model);
  const timer = { ms: 0 };
  const apply = optimizer.applyGradients.bind(optimizer);
  optimizer.applyGradients = (g) => {
    const t0 = performance.now();
    apply(g);
    timer.ms += performance.now() - t0;
  };
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  return { model, params, timer, optimizer };
}

interface FitRow {
  backend: string;
  model: string;
  params: number;
  tfEpoch: number;
  gxEpoch: number;
  tfShare: number;
  gxShare: number;
  tfOpt: number;
  gxOpt: number;
}

async function fitRow(backend: 'cpu' | 'wasm', spec: (typeof MODELS)[number]): Promise<FitRow> {
  await tf.setBackend(backend);
  const { x, y } = digits();
  const runs = [compiled(spec.build, tf.train.adam(1e-3)), compiled(spec.build, asTfOptimizer(adam(1e-3)))];
  const epochs = runs.map((): number[] => []);
  const optMs = runs.map((): number[] => []);
  let before = 0;
  for (let round = 0; round <= ROUNDS; round++) {
    if (round === 1) before = tf.memory().numTensors; // after the warm-up epochs (tf.train.adam makes its slots then)
    for (const [i, r] of runs.entries()) {
      r.timer.ms = 0;
      const t0 = performance.now();
      await r.model.fit(x, y, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 });
      const ms = performance.now() - t0;
      if (round > 0) {
        (epochs[i] as number[]).push(ms);
        (optMs[i] as number[]).push(r.timer.ms);
      }
    }
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) log(`  warning: tf.memory().numTensors changed by ${leaked} over the timed epochs`);
  for (const r of runs) {
    r.model.dispose();
    r.optimizer.dispose();
  }
  tf.dispose([x, y]);
  const [tfEpoch, gxEpoch] = epochs.map(median) as [number, number];
  const [tfOpt, gxOpt] = optMs.map(median) as [number, number];
  const row = {
    backend,
    model: spec.name,
    params: runs[0]?.params as number,
    tfEpoch,
    gxEpoch,
    tfOpt,
    gxOpt,
    tfShare: tfOpt / tfEpoch,
    gxShare: gxOpt / gxEpoch,
  };
  log(`  ${backend} ${spec.name}: ${tfEpoch.toFixed(0)} vs ${gxEpoch.toFixed(0)} ms/epoch`);
  return row;
}

/** First-step latency of `chain(clipByGlobalNorm(1), adamw(1e-3))` over 100 leaves of 1k, then a fresh optimizer, then a steady step. */
async function compileLatency(backend: 'cpu' | 'wasm'): Promise<string> {
  await tf.setBackend(backend);
  const sizes = Array(100).fill(1000) as number[];
  const make = () =>
    createOptimizer(
      chain(clipByGlobalNorm(1), adamw(1e-3, { weightDecay: 1e-2 })),
      sizes.map((n, i) => tf.tensor1d(values(n, 1 + i))),
    );
  const gs = sizes.map((n, i) => tf.tensor1d(values(n, 500 + i)));
  const time = (f: () => void) => {
    const t0 = performance.now();
    f();
    return performance.now() - t0;
  };
  const first = make();
  const cold = time(() => first.step(gs));
  const second = make();
  const warm = time(() => second.step(gs));
  time(() => first.step(gs));
  const steady = median([0, 1, 2, 3, 4].map(() => time(() => first.step(gs))));
  for (const o of [first, second]) {
    const p = o.params;
    o.dispose();
    tf.dispose(p as tf.Tensor[]);
  }
  tf.dispose(gs);
  return `| ${backend} | ${cold.toFixed(1)} | ${warm.toFixed(1)} | ${steady.toFixed(2)} |`;
}

async function main(): Promise<void> {
  setWasmPaths(
    createRequire(import.meta.url)
      .resolve('@tensorflow/tfjs-backend-wasm')
      .replace(/[^/\\]*$/, ''),
  );
  tf.env().set('IS_TEST', false);
  const t0 = performance.now();
  // first, before anything in this process has compiled a kernel
  const latency = [await compileLatency('cpu'), await compileLatency('wasm')];
  process.stdout.write(
    [
      '\n## first step of chain(clipByGlobalNorm(1), adamw(1e-3, { weightDecay: 1e-2 })), 100 leaves of 1k, createOptimizer\n',
      '| backend | first step, cold (plan + kernel compile), ms | first step of a second optimizer (kernel cache warm), ms | steady step, ms |',
      '| --- | ---: | ---: | ---: |',
      ...latency,
      '',
    ].join('\n'),
  );
  const rows: FitRow[] = [];
  for (const backend of ['cpu', 'wasm'] as const)
    for (const spec of MODELS) {
      // tfjs's wasm backend has no Conv2DBackpropFilter kernel: a convnet cannot train there
      if (backend === 'wasm' && spec.name.startsWith('convnet')) continue;
      rows.push(await fitRow(backend, spec));
    }
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  process.stdout.write(
    [
      `\n\n## model.fit, ${ROWS} digits per epoch, batch ${BATCH}: tf.train.adam(1e-3) vs asTfOptimizer(adam(1e-3)), median of ${ROUNDS} alternating epochs\n`,
      '| backend | model | params | tf.train.adam ms/epoch | gradtx ms/epoch | epoch speed-up | optimizer ms/epoch (tf.train / gradtx) | optimizer share of the epoch (tf.train / gradtx) | optimizer speed-up |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map(
        (r) =>
          `| ${r.backend} | ${r.model} | ${r.params.toLocaleString('en-US')} | ${r.tfEpoch.toFixed(0)} | ${r.gxEpoch.toFixed(0)} | ${(r.tfEpoch / r.gxEpoch).toFixed(2)}× | ${r.tfOpt.toFixed(0)} / ${r.gxOpt.toFixed(1)} | ${pct(r.tfShare)} / ${pct(r.gxShare)} | ${(r.tfOpt / r.gxOpt).toFixed(1)}× |`,
      ),
    ].join('\n'),
  );
  process.stdout.write(
    `\n\nload average at the end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(', ')} (${cpus().length} cores)\n`,
  );
  log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

await main();
