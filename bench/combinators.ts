/**
 * Combinators on the fused engine: a step of `injectHyperparams(adamw)`, of
 * `multiSteps(chain(clip, adamw))`, of `applyIfFinite(adamw)`, of
 * `masked(adamw)` and of `partition({a: adamw, b: sgd})` through
 * `createOptimizer`, against the same chain without the combinator (adamw on
 * every leaf for masked and partition), on a 50-leaf tree, on the cpu and wasm
 * backends; every row also on the reference path (`fused: false`) for scale.
 * Rows of one backend are timed interleaved round by round, so load from
 * other processes hits them alike; the ratio column is the row's median over
 * its baseline's median from the same run.
 *
 *   pnpm --filter @gradtx/bench bench:combinators            # 50 × 4k
 *   pnpm --filter @gradtx/bench bench:combinators -- --quick # fewer rounds
 */
import {
  adamw,
  applyIfFinite,
  chain,
  clipByGlobalNorm,
  createOptimizer,
  fusedStats,
  type GradientTransformation,
  injectHyperparams,
  masked,
  multiSteps,
  partition,
  sgd,
} from '@gradtx/core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { type Runner, timeInterleaved, useBackend } from './timing.ts';
import { values } from './values.ts';

const quick = process.argv.includes('--quick');
const LEAVES = 50;
const SIZE = 4_000;
const ROUNDS = quick ? 21 : 201;
const log = (s: string) => process.stderr.write(`${s}\n`);

/** A runner, and the share of its warm-up's last steps that were replayed (`fusedStats.fast`). */
type Measured = Runner & { replayed: number };

/** createOptimizer stepping `tx` on the 50-leaf tree with fixed gradients. */
function optimizer(tx: GradientTransformation, fused: boolean): Measured {
  const opt = createOptimizer(
    tx,
    Array.from({ length: LEAVES }, (_, i) => tf.tensor1d(values(SIZE, 1 + i))),
    { fused },
  );
  const gs = Array.from({ length: LEAVES }, (_, i) => tf.tensor1d(values(SIZE, 1000 + i)));
  for (let i = 0; i < 5; i++) opt.step(gs); // compiles the kernels and captures the step (each shape of a multiSteps mini-step); the next steps replay
  const { fast, fused: fresh, reference } = fusedStats;
  for (let i = 0; i < 8; i++) opt.step(gs);
  // (a grouping combinator's step counts once: replayed when every group's step was)
  const steps = fusedStats.fast - fast + fusedStats.fused - fresh + fusedStats.reference - reference;
  return {
    replayed: (fusedStats.fast - fast) / steps,
    step: () => opt.step(gs),
    dispose: () => {
      const p = opt.params as tf.Tensor[];
      opt.dispose();
      tf.dispose([...p, ...gs]);
    },
  };
}

interface Case {
  name: string;
  tx: () => GradientTransformation;
  /** The row this one is a ratio to. */
  base?: string;
}

const CLIP_ADAMW = 'chain(clip, adamw)';
const CASES: Case[] = [
  { name: 'adamw', tx: () => adamw(1e-3, { weightDecay: 1e-2 }) },
  { name: 'injectHyperparams(adamw)', tx: () => injectHyperparams(adamw)(1e-3, { weightDecay: 1e-2 }), base: 'adamw' },
  {
    name: 'injectHyperparams(adamw), scheduled lr',
    tx: () => injectHyperparams(adamw)((c: number) => 1e-3 / Math.sqrt(c + 1), { weightDecay: 1e-2 }),
    base: 'adamw',
  },
  { name: CLIP_ADAMW, tx: () => chain(clipByGlobalNorm(1), adamw(1e-3, { weightDecay: 1e-2 })) },
  {
    name: 'multiSteps(chain(clip, adamw), 4)',
    tx: () => multiSteps(chain(clipByGlobalNorm(1), adamw(1e-3, { weightDecay: 1e-2 })), 4),
    base: CLIP_ADAMW,
  },
  { name: 'multiSteps(adamw, 4)', tx: () => multiSteps(adamw(1e-3, { weightDecay: 1e-2 }), 4), base: 'adamw' },
  { name: 'applyIfFinite(adamw, 3)', tx: () => applyIfFinite(adamw(1e-3, { weightDecay: 1e-2 }), 3), base: 'adamw' },
  {
    name: 'masked(adamw), 49 of 50 leaves',
    tx: () =>
      masked(
        adamw(1e-3, { weightDecay: 1e-2 }),
        Array.from({ length: LEAVES }, (_, i) => i > 0),
      ),
    base: 'adamw',
  },
  {
    name: 'adamw with a mask (weight decay on 49 of 50 leaves)',
    tx: () => adamw(1e-3, { weightDecay: 1e-2, mask: Array.from({ length: LEAVES }, (_, i) => i > 0) }),
    base: 'adamw',
  },
  {
    name: 'partition({a: adamw, b: sgd}), 25 + 25 leaves',
    tx: () =>
      partition(
        { a: adamw(1e-3, { weightDecay: 1e-2 }), b: sgd(1e-2) },
        Array.from({ length: LEAVES }, (_, i) => (i % 2 === 0 ? 'a' : 'b')),
      ),
    base: 'adamw',
  },
];

/** Times every case on the current backend, fused or on the reference path; warns if tf.memory() changes over the steps. */
async function measure(fused: boolean, rounds: number): Promise<{ ms: number[]; replayed: number[] }> {
  const runners = CASES.map((c) => optimizer(c.tx(), fused));
  const before = tf.memory().numTensors;
  const ms = await timeInterleaved(runners, rounds, 3);
  if (tf.memory().numTensors !== before)
    log(`  warning: tf.memory() changed over the steps (${before} -> ${tf.memory().numTensors} tensors)`);
  for (const r of runners) r.dispose();
  return { ms, replayed: runners.map((r) => r.replayed) };
}

async function main(): Promise<void> {
  tf.env().set('IS_TEST', true); // no console banner
  const lines = [
    `\n## Combinators on the fused engine: createOptimizer, ${LEAVES} leaves × ${SIZE} (${(LEAVES * SIZE) / 1e6}M params), ms per step (median of ${ROUNDS} interleaved rounds)\n`,
    '| backend | transformation | fused ms | ratio to the plain chain (fused) | steps replayed | reference ms |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const backend of ['cpu', 'wasm'] as const) {
    await useBackend(backend);
    log(`combinators bench on ${backend}`);
    const { ms, replayed } = await measure(true, ROUNDS);
    const refMs = (await measure(false, quick ? 3 : 11)).ms;
    CASES.forEach((c, i) => {
      const base = c.base === undefined ? undefined : ms[CASES.findIndex((x) => x.name === c.base)];
      const ratio = base === undefined ? '1 (baseline)' : `${((ms[i] as number) / base).toFixed(2)}×`;
      const share = `${Math.round((replayed[i] as number) * 100)} %`;
      lines.push(`| ${backend} | ${c.name} | ${(ms[i] as number).toFixed(3)} | ${ratio} | ${share} | ${(refMs[i] as number).toFixed(2)} |`);
    });
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
