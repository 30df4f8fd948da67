// Runs in a second scratch project made by scripts/release-check.mjs, with the
// lowest @tensorflow/tfjs-core of core's peer range (and its cpu and wasm
// backends): on each backend, 3 steps of clip + adamw through createOptimizer
// must run on the fused engine and give the reference path's numbers, with no
// version warning; @gradtx/contrib and @gradtx/losses run too where they were
// packed. Prints one JSON line.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

const warnings = [];
const warn = console.warn;
console.warn = (...args) => warnings.push(args.join(' '));
const core = await import('@gradtx/core');
console.warn = warn;

const out = { version: tf.version_core, checks: [] };
const check = (name, ok, detail = '') => out.checks.push({ name, ok: Boolean(ok), detail });
check(`no version warning at import (tfjs-core ${tf.version_core})`, warnings.length === 0, warnings.join('\n'));

const run = (fused) => {
  const opt = core.createOptimizer(
    core.chain(core.clipByGlobalNorm(1), core.adamw(0.1, { weightDecay: 0.01 })),
    { w: tf.tensor([1, -2, 0.5, 3]) },
    { fused },
  );
  for (let i = 0; i < 3; i++) {
    const g = { w: tf.tensor([0.3, -0.4, 1.2, -2 + i]) };
    opt.step(g);
    tf.dispose(g.w);
  }
  const w = Array.from(opt.params.w.dataSync());
  opt.dispose();
  opt.params.w.dispose();
  return w;
};
for (const backend of ['cpu', 'wasm']) {
  const ok = await tf.setBackend(backend);
  if (!ok) {
    check(`${backend}: the backend starts`, false);
    continue;
  }
  const before = core.fusedStats.fused + core.fusedStats.fast;
  const fused = run(true);
  const ranFused = core.fusedStats.fused + core.fusedStats.fast - before;
  const reference = run(false);
  check(`${backend}: createOptimizer steps ran on the fused engine`, ranFused === 3, `${ranFused} of 3 steps fused`);
  const worst = Math.max(...fused.map((x, i) => Math.abs(x - reference[i])));
  check(`${backend}: fused params equal the reference path's (max |diff| ${worst})`, worst <= 1e-6, `${fused} vs ${reference}`);
}
// the packages that peer on the same tfjs-core range, where they were packed
await tf.setBackend('cpu');
const optional = async (name) => import(name).catch(() => null);
const contrib = await optional('@gradtx/contrib');
if (contrib !== null) {
  const before = core.fusedStats.fused + core.fusedStats.fast;
  const opt = core.createOptimizer(contrib.adopt(0.1), { w: tf.tensor([1, -2, 0.5]) });
  const g = { w: tf.tensor([0.3, -0.4, 1.2]) };
  for (let i = 0; i < 3; i++) opt.step(g);
  const moved = Array.from(opt.params.w.dataSync()).every((v, i) => v !== [1, -2, 0.5][i]);
  const ranFused = core.fusedStats.fused + core.fusedStats.fast - before;
  opt.dispose();
  tf.dispose([g.w, opt.params.w]);
  check('@gradtx/contrib: adopt steps run fused and move the params', ranFused === 3 && moved, `${ranFused} of 3 fused, moved: ${moved}`);
}
const losses = await optional('@gradtx/losses');
if (losses !== null) {
  const v = tf.tidy(() => losses.softmaxCrossEntropyWithIntegerLabels(tf.tensor2d([[0, 0]]), tf.tensor1d([1], 'int32')).dataSync()[0]);
  check('@gradtx/losses: softmaxCrossEntropyWithIntegerLabels of equal logits is log 2', Math.abs(v - Math.LN2) < 1e-6, String(v));
}
console.log(JSON.stringify(out));
