// The optimizer playground: gradtx chains stepping live in the page (tfjs
// cpu backend, createOptimizer's fused engine) on 2-D test functions, drawn
// over the function's contour bands, with the loss curves beside.
// window.playground exposes the runs for the page test.
import * as gradtx from '@gradtx/core';
import * as tf from '@tensorflow/tfjs-core';

/** The test functions: value, gradient, start, view box [[x0, x1], [y0, y1]], minimum, projection box. */
const FUNCTIONS = {
  rosenbrock: {
    label: 'Rosenbrock',
    f: (x, y) => (1 - x) ** 2 + 100 * (y - x * x) ** 2,
    g: (x, y) => [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)],
    start: [-1.5, 2],
    box: [
      [-2, 2],
      [-1, 3],
    ],
    min: [1, 1],
    lr: [0.05, 0.001, 0.05],
  },
  beale: {
    label: 'Beale',
    f: (x, y) => (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y ** 3) ** 2,
    g: (x, y) => {
      const a = 1.5 - x + x * y;
      const b = 2.25 - x + x * y * y;
      const c = 2.625 - x + x * y ** 3;
      return [2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y ** 3 - 1), 2 * a * x + 4 * b * x * y + 6 * c * x * y * y];
    },
    start: [0.7, 1.4],
    box: [
      [-1, 4],
      [-1, 2],
    ],
    min: [3, 0.5],
    lr: [0.05, 0.01, 0.05],
  },
  saddle: {
    label: 'Saddle x² − y²',
    f: (x, y) => x * x - y * y,
    g: (x, y) => [2 * x, -2 * y],
    start: [1.8, 0.001],
    box: [
      [-2, 2],
      [-2, 2],
    ],
    min: null,
    lr: [0.05, 0.05, 0.05],
  },
  quadratic: {
    label: 'Ill-conditioned quadratic ½(x² + 100 y²)',
    f: (x, y) => 0.5 * (x * x + 100 * y * y),
    g: (x, y) => [x, 100 * y],
    start: [-1.8, 0.9],
    box: [
      [-2, 2],
      [-1, 1],
    ],
    min: [0, 0],
    lr: [0.1, 0.019, 0.1],
  },
  reddi: {
    label: "Reddi et al.'s AMSGrad counterexample",
    // online: f_t = 3x + 3y when t mod 3 = 1, else −x − y, on [−1, 1]²; the contours show the average (x + y)/3
    f: (x, y) => (x + y) / 3,
    g: (_x, _y, t) => (t % 3 === 1 ? [3, 3] : [-1, -1]),
    start: [0, 0],
    box: [
      [-1, 1],
      [-1, 1],
    ],
    min: [-1, -1],
    project: [-1, 1],
    lr: [0.2, 0.2, 0.2],
    b1: 0,
    b2: 0.1,
  },
};

/** The chains a slot can run: factory(lr, b1, b2). */
const CHAINS = {
  adam: (lr, b1, b2) => gradtx.adam(lr, { b1, b2 }),
  amsgrad: (lr, b1, b2) => gradtx.amsgrad(lr, { b1, b2 }),
  'clip(1) + adam': (lr, b1, b2) => gradtx.chain(gradtx.clipByGlobalNorm(1), gradtx.adam(lr, { b1, b2 })),
  sgd: (lr) => gradtx.sgd(lr),
  'sgd + momentum': (lr, b1) => gradtx.sgd(lr, { momentum: b1 }),
  'sgd + nesterov': (lr, b1) => gradtx.sgd(lr, { momentum: b1, nesterov: true }),
  rmsprop: (lr) => gradtx.rmsprop(lr),
  adagrad: (lr) => gradtx.adagrad(lr),
  adabelief: (lr, b1, b2) => gradtx.adabelief(lr, { b1, b2 }),
  lion: (lr, b1) => gradtx.lion(lr, { b1, weightDecay: 0 }),
  yogi: (lr, b1, b2) => gradtx.yogi(lr, { b1, b2 }),
};
const DEFAULT_CHAINS = ['adam', 'sgd + momentum', 'amsgrad'];
const COLORS = ['#d9480f', '#1971c2', '#2f9e44'];
const STEPS_PER_FRAME = 4;

const $ = (id) => document.getElementById(id);
const state = { runs: [], steps: 0, maxSteps: 400, running: false, fn: FUNCTIONS.rosenbrock, errors: [] };
window.playground = state;

function buildControls() {
  const select = $('pg-function');
  for (const [key, fn] of Object.entries(FUNCTIONS)) select.add(new Option(fn.label, key));
  const slots = $('pg-slots');
  COLORS.forEach((color, i) => {
    const row = document.createElement('fieldset');
    row.className = 'pg-slot';
    row.innerHTML = `<legend style="color:${color}">chain ${i + 1}</legend>
      <select id="pg-chain-${i}"><option value="">(off)</option>${Object.keys(CHAINS)
        .map((c) => `<option${c === DEFAULT_CHAINS[i] ? ' selected' : ''}>${c}</option>`)
        .join('')}</select>
      <label>lr <input id="pg-lr-${i}" type="number" step="any" min="0"></label>
      <label>b1 <input id="pg-b1-${i}" type="number" step="any" min="0" max="1" value="0.9"></label>
      <label>b2 <input id="pg-b2-${i}" type="number" step="any" min="0" max="1" value="0.999"></label>`;
    slots.append(row);
  });
  select.addEventListener('change', () => presets(true));
  $('pg-run').addEventListener('click', () => start());
  presets(false);
}

/** Fills the learning rates (and b1, b2) with the function's defaults. */
function presets(restart) {
  const fn = FUNCTIONS[$('pg-function').value];
  COLORS.forEach((_, i) => {
    $(`pg-lr-${i}`).value = String(fn.lr[i]);
    $(`pg-b1-${i}`).value = String(fn.b1 ?? 0.9);
    $(`pg-b2-${i}`).value = String(fn.b2 ?? 0.999);
  });
  if (restart) start();
}

function disposeRuns() {
  for (const r of state.runs) {
    const p = r.opt.params.xy;
    r.opt.dispose();
    p.dispose();
  }
  state.runs = [];
}

/** (Re)starts every enabled slot from the function's start point. */
function start() {
  disposeRuns();
  state.fn = FUNCTIONS[$('pg-function').value];
  state.steps = 0;
  state.maxSteps = Number($('pg-steps').value) || 400;
  COLORS.forEach((color, i) => {
    const name = $(`pg-chain-${i}`).value;
    if (name === '') return;
    const [lr, b1, b2] = ['lr', 'b1', 'b2'].map((k) => Number($(`pg-${k}-${i}`).value));
    try {
      const opt = gradtx.createOptimizer(CHAINS[name](lr, b1, b2), { xy: tf.variable(tf.tensor1d(state.fn.start)) });
      const [x, y] = state.fn.start;
      state.runs.push({ name: `${name} (lr ${lr})`, color, opt, trajectory: [[x, y]], losses: [state.fn.f(x, y)] });
    } catch (e) {
      state.errors.push(String(e.message ?? e));
      $('pg-status').textContent = e.message;
    }
  });
  drawContours();
  if (!state.running) {
    state.running = true;
    requestAnimationFrame(frame);
  }
}

function stepRun(run) {
  const [x, y] = run.trajectory[run.trajectory.length - 1];
  if (!Number.isFinite(x) || !Number.isFinite(y)) return;
  const [gx, gy] = state.fn.g(x, y, state.steps + 1);
  const grads = { xy: tf.tensor1d([gx, gy]) };
  run.opt.step(grads);
  grads.xy.dispose();
  const xy = run.opt.params.xy;
  if (state.fn.project) {
    const [lo, hi] = state.fn.project;
    xy.assign(tf.tidy(() => tf.clipByValue(xy, lo, hi)));
  }
  const [nx, ny] = xy.dataSync();
  run.trajectory.push([nx, ny]);
  run.losses.push(state.fn.f(nx, ny));
}

function frame() {
  for (let k = 0; k < STEPS_PER_FRAME && state.steps < state.maxSteps; k++) {
    for (const run of state.runs) stepRun(run);
    state.steps++;
  }
  drawTrajectories();
  drawLosses();
  $('pg-status').textContent = `step ${state.steps} of ${state.maxSteps} · ${state.runs
    .map((r) => {
      const [x, y] = r.trajectory[r.trajectory.length - 1];
      return `${r.name}: (${x.toFixed(3)}, ${y.toFixed(3)})`;
    })
    .join(' · ')} · fused steps ${gradtx.fusedStats.fused + gradtx.fusedStats.fast}`;
  if (state.steps < state.maxSteps) requestAnimationFrame(frame);
  else state.running = false;
}

// ---- drawing

let bands = null;

function toCanvas(canvas, [x, y]) {
  const [[x0, x1], [y0, y1]] = state.fn.box;
  return [((x - x0) / (x1 - x0)) * canvas.width, (1 - (y - y0) / (y1 - y0)) * canvas.height];
}

/** Contour bands: the function's value on a grid, log-scaled above its minimum, in 14 shades. */
function drawContours() {
  const canvas = $('pg-contours');
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  const [[x0, x1], [y0, y1]] = state.fn.box;
  const values = new Float64Array(width * height);
  let lo = Infinity;
  let hi = -Infinity;
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const v = state.fn.f(x0 + ((i + 0.5) / width) * (x1 - x0), y1 - ((j + 0.5) / height) * (y1 - y0));
      values[j * width + i] = v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  const image = ctx.createImageData(width, height);
  const span = Math.log1p(hi - lo);
  for (let k = 0; k < values.length; k++) {
    const level = Math.floor((Math.log1p(values[k] - lo) / span) * 14) / 14;
    image.data[4 * k] = 235 - 120 * level;
    image.data[4 * k + 1] = 242 - 90 * level;
    image.data[4 * k + 2] = 250 - 40 * level;
    image.data[4 * k + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  if (state.fn.min) {
    const [mx, my] = toCanvas(canvas, state.fn.min);
    ctx.fillStyle = '#000';
    ctx.font = '18px sans-serif';
    ctx.fillText('★', mx - 7, my + 6);
  }
  bands = ctx.getImageData(0, 0, width, height);
}

function drawTrajectories() {
  const canvas = $('pg-contours');
  const ctx = canvas.getContext('2d');
  if (bands) ctx.putImageData(bands, 0, 0);
  for (const run of state.runs) {
    ctx.strokeStyle = run.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    run.trajectory.forEach((p, i) => {
      const [cx, cy] = toCanvas(canvas, p);
      if (i === 0) ctx.moveTo(cx, cy);
      else ctx.lineTo(cx, cy);
    });
    ctx.stroke();
    const [cx, cy] = toCanvas(canvas, run.trajectory[run.trajectory.length - 1]);
    ctx.fillStyle = run.color;
    ctx.beginPath();
    ctx.arc(cx, cy, 4, 0, 2 * Math.PI);
    ctx.fill();
  }
}

function drawLosses() {
  const canvas = $('pg-losses');
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  const pad = 36;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  const all = state.runs.flatMap((r) => r.losses).filter(Number.isFinite);
  if (all.length === 0) return;
  const positive = all.every((v) => v > 0);
  const t = (v) => (positive ? Math.log10(v) : v);
  const lo = Math.min(...all.map(t));
  const hi = Math.max(...all.map(t));
  const y = (v) => height - pad - ((t(v) - lo) / (hi - lo || 1)) * (height - 2 * pad);
  const x = (i) => pad + (i / Math.max(state.maxSteps, 1)) * (width - 2 * pad);
  ctx.strokeStyle = '#999';
  ctx.strokeRect(pad, pad, width - 2 * pad, height - 2 * pad);
  ctx.fillStyle = '#333';
  ctx.font = '12px sans-serif';
  ctx.fillText(
    positive ? `loss (log10: ${lo.toFixed(1)} … ${hi.toFixed(1)})` : `loss (${lo.toFixed(2)} … ${hi.toFixed(2)})`,
    pad,
    pad - 10,
  );
  ctx.fillText('step', width - pad - 24, height - 10);
  state.runs.forEach((run, k) => {
    ctx.strokeStyle = run.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    run.losses.forEach((v, i) => {
      if (!Number.isFinite(v)) return;
      if (i === 0) ctx.moveTo(x(i), y(v));
      else ctx.lineTo(x(i), y(v));
    });
    ctx.stroke();
    ctx.fillStyle = run.color;
    ctx.fillText(run.name, width - pad - 170, pad + 16 + 15 * k);
  });
}

try {
  await tf.setBackend('cpu');
  buildControls();
  start();
} catch (e) {
  state.errors.push(String(e?.message ?? e));
  throw e;
}
