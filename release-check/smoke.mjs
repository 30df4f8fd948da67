// Runs in the scratch npm project made by scripts/release-check.mjs, against
// the packed @gradtx packages and the registry's tfjs-core / tfjs-backend-cpu:
// three steps of chain(clipByGlobalNorm, scaleByAdam, scaleByLearningRate(schedule))
// on the cpu backend, checked against the same formulas in JS doubles; the
// same through createOptimizer and createNodeOptimizer. Prints one JSON line.
import * as core from '@gradtx/core';
import * as nodeGpu from '@gradtx/node-gpu';
import * as schedules from '@gradtx/schedules';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

const out = { checks: [] };
const check = (name, ok, detail = '') => out.checks.push({ name, ok: Boolean(ok), detail });

await tf.setBackend('cpu');
const lr = schedules.scheduleWarmupCosine({ initValue: 0, peakValue: 0.1, warmupSteps: 2, decaySteps: 10 });
const makeTx = () =>
  core.chain(core.clipByGlobalNorm(1), core.scaleByAdam({ b1: 0.9, b2: 0.999, eps: 1e-8 }), core.scaleByLearningRate(lr));
const p0 = [1, -2, 0.5];
const g = [0.3, -0.4, 1.2]; // norm 1.3: clipped to norm 1

// the same formulas in JS doubles (optax's order: clip, adam with bias corrections, -lr)
const expected = [];
{
  const norm = Math.hypot(...g);
  const gc = g.map((x) => (norm > 1 ? x / norm : x));
  let mu = [0, 0, 0];
  let nu = [0, 0, 0];
  let p = [...p0];
  for (let t = 1; t <= 3; t++) {
    mu = mu.map((m, i) => 0.9 * m + 0.1 * gc[i]);
    nu = nu.map((v, i) => 0.999 * v + 0.001 * gc[i] ** 2);
    const u = mu.map((m, i) => m / (1 - 0.9 ** t) / (Math.sqrt(nu[i] / (1 - 0.999 ** t)) + 1e-8));
    p = p.map((x, i) => x - lr(t - 1) * u[i]);
    expected.push(p);
  }
}
const close = (a, b) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= 1e-6 + 1e-5 * Math.abs(b[i]));
const fmt = (xs) => xs.map((x) => x.toPrecision(8)).join(', ');

// 1. the pure API
{
  const tx = makeTx();
  let params = { w: tf.tensor(p0) };
  let state = tx.init(params);
  const got = [];
  for (let i = 0; i < 3; i++) {
    const grads = { w: tf.tensor(g) };
    const [updates, next] = tx.update(grads, state, params);
    const np = core.applyUpdates(params, updates);
    tf.dispose([grads, updates, params, state]);
    params = np;
    state = next;
    got.push(Array.from(params.w.dataSync()));
  }
  tf.dispose([params, state]);
  const ok = got.every((p, i) => close(p, expected[i]));
  check(
    'tx.init/update + applyUpdates, 3 steps',
    ok,
    ok ? '' : `got [${got.map(fmt).join(' | ')}], expected [${expected.map(fmt).join(' | ')}]`,
  );
}

// 2. createOptimizer and createNodeOptimizer (tfjs-node is not installed here: the fallback)
{
  const info = await nodeGpu.useNodeBackend({ quiet: true });
  check(
    'useNodeBackend falls back to cpu without tfjs-node',
    info.backend === 'cpu' && info.package === null && info.attempts.every((a) => a.error === 'not installed'),
    JSON.stringify(info),
  );
  for (const [name, make] of [
    ['createOptimizer', (p) => core.createOptimizer(makeTx(), p)],
    ['createNodeOptimizer (flat)', (p) => nodeGpu.createNodeOptimizer(makeTx(), p, { flatten: true })],
  ]) {
    const before = tf.memory().numTensors;
    const opt = make({ w: tf.tensor(p0) });
    const got = [];
    for (let i = 0; i < 3; i++) {
      const grads = { w: tf.tensor(g) };
      opt.step(grads);
      grads.dispose?.();
      tf.dispose(grads);
      got.push(Array.from(opt.params.w.dataSync()));
    }
    const last = opt.params;
    opt.dispose();
    tf.dispose(last);
    const ok = got.every((p, i) => close(p, expected[i])) && tf.memory().numTensors === before;
    check(
      `${name}, 3 steps`,
      ok,
      ok
        ? ''
        : `got [${got.map(fmt).join(' | ')}], expected [${expected.map(fmt).join(' | ')}], tensors ${before} -> ${tf.memory().numTensors}`,
    );
  }
}
console.log(JSON.stringify(out));
