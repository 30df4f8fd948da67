// The browser demo: trains a 64-64-10 MLP on the digits with three gradtx
// optimizers and draws their training loss as it goes. Plain ES modules; the
// import map in index.html points at the built packages and tfjs bundles.
//
// Backend: WebGPU when the browser has it (with @gradtx/webgpu, every
// optimizer step is one fused WGSL kernel over all the weights), else wasm,
// else cpu. `?backend=wasm` (or cpu) forces one; `?fused=off` runs every
// step on gradtx's reference path (plain tfjs ops) instead.
import { adam, adamw, createOptimizer, setFusedEnabled, sgd } from '@gradtx/core';
import { scheduleWarmupCosine } from '@gradtx/schedules';
import * as tf from '@tensorflow/tfjs-core';
import { drawChart } from './chart.js';

const STEPS = 300;
const BATCH = 64;
const HIDDEN = 64;
const FEATURES = 64;
const CLASSES = 10;

/** The optimizers compared: label, color, how the gradtx call reads, and the transformation. */
const OPTIMIZERS = {
  sgd: { label: 'sgd', color: '#d1495b', code: 'sgd(0.1)', make: () => sgd(0.1) },
  adam: { label: 'adam', color: '#00798c', code: 'adam(3e-3)', make: () => adam(3e-3) },
  adamw: {
    label: 'adamw + warmup-cosine',
    color: '#edae49',
    code: 'adamw(warmupCosine(0 → 3e-3, 30 warmup, 300), { weightDecay: 1e-4 })',
    make: () =>
      adamw(scheduleWarmupCosine({ initValue: 0, peakValue: 3e-3, warmupSteps: 30, decaySteps: STEPS, endValue: 1e-4 }), {
        weightDecay: 1e-4,
      }),
  },
};

/** What the page test reads. */
const demo = {
  backend: null,
  status: 'loading',
  error: null,
  runs: Object.fromEntries(Object.keys(OPTIMIZERS).map((k) => [k, { steps: 0, losses: [], accuracy: null }])),
  curvesDrawn: 0,
  generation: 0,
};
window.demo = demo;

const $ = (id) => document.getElementById(id);

async function chooseBackend() {
  const forced = new URLSearchParams(location.search).get('backend');
  const tried = [];
  if (forced === null || forced === 'webgpu') {
    if (navigator.gpu === undefined) tried.push('WebGPU: not available in this browser');
    else {
      try {
        await import('@tensorflow/tfjs-backend-webgpu');
        tf.env().set('WEBGPU_CPU_FORWARD', false);
        if (await tf.setBackend('webgpu')) {
          try {
            const { installWebGpu } = await import('@gradtx/webgpu');
            installWebGpu();
            return { name: 'webgpu', note: 'each optimizer step is one fused WGSL kernel over all the weights (@gradtx/webgpu)', tried };
          } catch (e) {
            return { name: 'webgpu', note: `optimizer steps run as tfjs ops (@gradtx/webgpu did not load: ${e.message})`, tried };
          }
        }
        tried.push('WebGPU: no adapter');
      } catch (e) {
        tried.push(`WebGPU: ${e.message}`);
      }
    }
  }
  if (forced === null || forced === 'wasm') {
    try {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths('/vendor/tfjs-backend-wasm/dist/');
      if (await tf.setBackend('wasm')) return { name: 'wasm', note: 'optimizer steps run as fused WebAssembly SIMD kernels', tried };
      tried.push('wasm: failed to start');
    } catch (e) {
      tried.push(`wasm: ${e.message}`);
    }
  }
  if (await tf.setBackend('cpu')) return { name: 'cpu', note: 'optimizer steps run as fused JavaScript loops', tried };
  throw new Error(`no tfjs backend could start (${tried.join('; ')})`);
}

/** The digits: 1797 rows of 64 pixels (0..16) and a label, gzipped CSV, decompressed here. */
async function loadDigits() {
  const res = await fetch('/data/digits.csv.gz');
  if (!res.ok) throw new Error(`digits.csv.gz: HTTP ${res.status}`);
  const text = await new Response(res.body.pipeThrough(new DecompressionStream('gzip'))).text();
  const rows = text
    .trim()
    .split('\n')
    .map((line) => line.split(',').map(Number));
  // a fixed shuffle, then 1500 for training and the rest for testing
  const rand = mulberry32(12345);
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  const split = (part) => ({
    x: Float32Array.from(part.flatMap((r) => r.slice(0, FEATURES).map((v) => v / 16))),
    y: Int32Array.from(part.map((r) => r[FEATURES])),
    count: part.length,
  });
  return { train: split(rows.slice(0, 1500)), test: split(rows.slice(1500)) };
}

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** He-normal initial weights, the same for every optimizer. */
function initialWeights() {
  const rand = mulberry32(7);
  const normal = (n, std) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = std * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    return out;
  };
  return {
    hidden: { w: normal(FEATURES * HIDDEN, Math.sqrt(2 / FEATURES)), b: new Float32Array(HIDDEN) },
    out: { w: normal(HIDDEN * CLASSES, Math.sqrt(2 / HIDDEN)), b: new Float32Array(CLASSES) },
  };
}

function forward(p, x) {
  const h = tf.relu(tf.add(tf.matMul(x, p.hidden.w), p.hidden.b));
  return tf.add(tf.matMul(h, p.out.w), p.out.b);
}

/** One training run: the optimizer owns the weights (tf.Variables, updated in place). */
function makeRun(key, init) {
  const params = {
    hidden: { w: tf.variable(tf.tensor2d(init.hidden.w, [FEATURES, HIDDEN])), b: tf.variable(tf.tensor1d(init.hidden.b)) },
    out: { w: tf.variable(tf.tensor2d(init.out.w, [HIDDEN, CLASSES])), b: tf.variable(tf.tensor1d(init.out.b)) },
  };
  const opt = createOptimizer(OPTIMIZERS[key].make(), params);
  return { key, opt, order: [], cursor: 0 };
}

async function main() {
  if (new URLSearchParams(location.search).get('fused') === 'off') setFusedEnabled(false);
  let backend;
  try {
    backend = await chooseBackend();
  } catch (e) {
    fail(e);
    return;
  }
  demo.backend = backend.name;
  $('backend').innerHTML = `Backend: <span id="backend-name">${backend.name}</span> <span class="note">&mdash; ${backend.note}${
    backend.tried.length > 0 ? ` (not used: ${backend.tried.join('; ')})` : ''
  }</span>`;

  const data = await loadDigits();
  const xTrain = tf.tensor2d(data.train.x, [data.train.count, FEATURES]);
  const yTrain = tf.oneHot(tf.tensor1d(data.train.y, 'int32'), CLASSES);
  const xTest = tf.tensor2d(data.test.x, [data.test.count, FEATURES]);
  const yTest = tf.tensor1d(data.test.y, 'int32');
  const init = initialWeights();
  $('status').textContent =
    `${data.train.count} training and ${data.test.count} test images; batches of ${BATCH}, ${STEPS} steps per optimizer.`;

  const rows = {};
  for (const [key, o] of Object.entries(OPTIMIZERS)) {
    const tr = document.createElement('tr');
    tr.innerHTML = `<td><span class="swatch" style="background:${o.color}"></span>${o.label}</td><td><code>${o.code}</code></td><td class="step">&ndash;</td><td class="loss">&ndash;</td><td class="acc">&ndash;</td>`;
    $('runs').querySelector('tbody').append(tr);
    rows[key] = tr;
  }

  const redraw = () => {
    const series = Object.entries(OPTIMIZERS).map(([k, o]) => ({ label: o.label, color: o.color, values: demo.runs[k].losses }));
    demo.curvesDrawn = drawChart($('chart'), series, STEPS);
  };
  redraw();

  const accuracy = async (opt) => {
    const acc = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(forward(opt.params, xTest), 1), yTest), 'float32')));
    const v = (await acc.data())[0];
    acc.dispose();
    return v;
  };

  let active = [];
  const start = (choice) => {
    demo.generation++;
    for (const r of active) r.opt.dispose();
    const keys = choice === 'all' ? Object.keys(OPTIMIZERS) : [choice];
    for (const k of keys) demo.runs[k] = { steps: 0, losses: [], accuracy: null };
    active = keys.map((k) => makeRun(k, init));
    demo.status = 'training';
    redraw();
    train(demo.generation);
  };

  const train = async (generation) => {
    const rand = mulberry32(99);
    const batchOf = (run) => {
      if (run.cursor + BATCH > run.order.length) {
        run.order = Array.from({ length: data.train.count }, (_, i) => i);
        for (let i = run.order.length - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [run.order[i], run.order[j]] = [run.order[j], run.order[i]];
        }
        run.cursor = 0;
      }
      const idx = run.order.slice(run.cursor, run.cursor + BATCH);
      run.cursor += BATCH;
      return tf.tensor1d(Int32Array.from(idx), 'int32');
    };
    try {
      for (let step = 1; step <= STEPS; step++) {
        for (const run of active) {
          const idx = batchOf(run);
          const xb = tf.gather(xTrain, idx);
          const yb = tf.gather(yTrain, idx);
          const p = run.opt.params;
          const vars = [p.hidden.w, p.hidden.b, p.out.w, p.out.b];
          const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(yb, forward(p, xb)), vars);
          const g = {
            hidden: { w: grads[p.hidden.w.name], b: grads[p.hidden.b.name] },
            out: { w: grads[p.out.w.name], b: grads[p.out.b.name] },
          };
          run.opt.step(g);
          tf.dispose([idx, xb, yb, ...Object.values(grads)]);
          const loss = (await value.data())[0];
          value.dispose();
          if (generation !== demo.generation) return;
          const r = demo.runs[run.key];
          r.losses.push(loss);
          r.steps = step;
          rows[run.key].querySelector('.step').textContent = String(step);
          rows[run.key].querySelector('.loss').textContent = loss.toFixed(4);
          if (step % 50 === 0 || step === STEPS) {
            r.accuracy = await accuracy(run.opt);
            rows[run.key].querySelector('.acc').textContent = `${(100 * r.accuracy).toFixed(1)}%`;
          }
        }
        redraw();
      }
      demo.status = 'done';
      $('status').textContent = `Done: ${STEPS} steps per optimizer on ${demo.backend}. Pick an optimizer above to train it again.`;
    } catch (e) {
      fail(e);
    }
  };

  document.querySelectorAll('input[name=opt]').forEach((el) => {
    el.addEventListener('change', () => start(el.value));
  });
  $('restart').addEventListener('click', () => start(document.querySelector('input[name=opt]:checked').value));
  start('all');
}

function fail(e) {
  demo.status = 'error';
  demo.error = String(e?.stack ?? e);
  $('status').textContent = `Error: ${e?.message ?? e}`;
  console.error(e);
}

main();
