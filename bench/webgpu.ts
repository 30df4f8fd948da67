/**
 * Adam on tfjs's WebGPU backend: compute dispatches per step and ms per step
 * of tf.train.adam against gradtx's `adam` through `createOptimizer` with
 * `@gradtx/webgpu` (fused WGSL kernels, params and state updated in place),
 * for one big tensor, a tree of 200 tensors and a tree of 1000 small ones;
 * then adamw + clipByGlobalNorm + warmup-cosine (which adds the reduction
 * prelude), and adam with bfloat16 and block-wise int8 moments (packed
 * state decoded and encoded in the kernels) as a ratio to the float32 fused
 * step. Measured in the same run.
 *
 *   node --import tsx bench/webgpu.ts            # from the repo root
 *   node --import tsx bench/webgpu.ts --quick    # smaller trees
 *
 * In Node this runs on Dawn (the `webgpu` package). Without a GPU, Dawn runs
 * on SwiftShader, a Vulkan implementation on the CPU: the dispatch counts are
 * what a GPU would see, but the timings say little about GPU speed (they
 * measure SwiftShader on this machine's cores). Results: a table on stdout
 * and bench/results/webgpu.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type * as TF from '@tensorflow/tfjs-core';
import { values } from './values.ts';

// Dawn dlopens the Vulkan loader; Debian's chromium ships one (and SwiftShader)
// in /usr/lib/chromium. The loader's search path is fixed when a process
// starts, so re-run this script with it when it is missing.
const CHROMIUM_LIB = '/usr/lib/chromium';
if (
  process.platform === 'linux' &&
  existsSync(`${CHROMIUM_LIB}/libvulkan.so.1`) &&
  !(process.env.LD_LIBRARY_PATH ?? '').split(':').includes(CHROMIUM_LIB)
) {
  const env = { ...process.env, LD_LIBRARY_PATH: [process.env.LD_LIBRARY_PATH, CHROMIUM_LIB].filter(Boolean).join(':') };
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
}
process.env.VK_ICD_FILENAMES ??= `${CHROMIUM_LIB}/vk_swiftshader_icd.json`;

// Dawn and the tfjs WebGPU backend are dependencies of @gradtx/webgpu; resolve them from there.
const fromWebgpu = createRequire(new URL('../packages/webgpu/package.json', import.meta.url));
const load = (name: string) => import(pathToFileURL(fromWebgpu.resolve(name)).href);

const quick = process.argv.includes('--quick');
const log = (s: string) => process.stderr.write(`${s}\n`);

const { create, globals } = (await load('webgpu')) as { create: (o: string[]) => unknown; globals: object };
Object.assign(globalThis, globals);
Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true, writable: true });
const tf = await import('@tensorflow/tfjs-core');
await load('@tensorflow/tfjs-backend-webgpu');
tf.env().set('WEBGPU_CPU_FORWARD', false);
if (!(await tf.setBackend('webgpu'))) throw new Error('the tfjs webgpu backend did not start (no WebGPU adapter)');
const gradtx = await import('@gradtx/core');
const schedules = await import('@gradtx/schedules');
// the built package (pnpm build); its own import of @gradtx/core is the same module as ours
const webgpu = (await import(
  new URL('../packages/webgpu/dist/index.js', import.meta.url).href
)) as typeof import('../packages/webgpu/src/index.js');
webgpu.installWebGpu();

const backend = tf.backend() as unknown as {
  device: { queue: { onSubmittedWorkDone(): Promise<void> }; adapterInfo?: unknown };
  adapterInfo?: { vendor?: string; architecture?: string };
};

// count every compute dispatch recorded on the device
let dispatches = 0;
{
  const proto = (globalThis as unknown as { GPUComputePassEncoder: { prototype: { dispatchWorkgroups: (...a: unknown[]) => void } } })
    .GPUComputePassEncoder.prototype;
  const original = proto.dispatchWorkgroups;
  proto.dispatchWorkgroups = function (this: unknown, ...a: unknown[]) {
    dispatches++;
    return original.apply(this, a);
  };
}

const M = 1_000_000;
interface Shape {
  name: string;
  sizes: number[];
}
/** 200 sizes that add up to `total`, from small to large, as in a real model. */
function spread(count: number, total: number): number[] {
  const w = Array.from({ length: count }, (_, i) => 1 + ((i * 7919) % 97));
  const sum = w.reduce((a, b) => a + b, 0);
  const sizes = w.map((x) => Math.max(1, Math.floor((x / sum) * total)));
  sizes[0] = (sizes[0] as number) + total - sizes.reduce((a, b) => a + b, 0);
  return sizes;
}
const SHAPES: Shape[] = quick
  ? [
      { name: '1 × 100k', sizes: [100_000] },
      { name: '200 tensors, 1M in all', sizes: spread(200, M) },
      { name: '1000 × 1k', sizes: Array(1000).fill(1000) },
    ]
  : [
      { name: '1 × 1M', sizes: [M] },
      { name: '200 tensors, 10M in all', sizes: spread(200, 10 * M) },
      { name: '1000 × 1k', sizes: Array(1000).fill(1000) },
    ];

async function gpuIdle(): Promise<void> {
  await backend.device.queue.onSubmittedWorkDone();
}

interface Row {
  shape: string;
  leaves: number;
  elements: number;
  impl: string;
  dispatchesPerStep: number;
  msPerStep: number;
}

/** Runs `step` `warmup` times, then `n` times; dispatches and wall ms per step, GPU work included. */
async function measure(step: () => void, n: number, warmup = 2): Promise<{ dispatchesPerStep: number; msPerStep: number }> {
  for (let i = 0; i < warmup; i++) step();
  await gpuIdle();
  const d0 = dispatches;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) step();
  await gpuIdle();
  const ms = (performance.now() - t0) / n;
  return { dispatchesPerStep: (dispatches - d0) / n, msPerStep: ms };
}

const rows: Row[] = [];
const LR = 1e-3;
const FUSED = 'gradtx adam (fused, @gradtx/webgpu)';
const NARROW = { bfloat16: 'gradtx adam, bfloat16 moments (fused)', int8: 'gradtx adam, int8 moments (fused)' } as const;

for (const shape of SHAPES) {
  const elements = shape.sizes.reduce((a, b) => a + b, 0);
  const steps = elements >= 5 * M ? 3 : shape.sizes.length >= 1000 ? 5 : 10;
  log(`${shape.name}: ${shape.sizes.length} tensors, ${elements} elements, ${steps} timed steps`);
  const grads = shape.sizes.map((n, i) => tf.tensor1d(values(n, 1000 + i)));

  // tf.train.adam on variables
  {
    const vars = shape.sizes.map((n, i) => tf.variable(tf.tensor1d(values(n, i + 1)), true, `w${i}`));
    const opt = tf.train.adam(LR);
    const map = Object.fromEntries(vars.map((v, i) => [v.name, grads[i] as TF.Tensor]));
    const r = await measure(() => opt.applyGradients(map as never), steps);
    rows.push({ shape: shape.name, leaves: shape.sizes.length, elements, impl: 'tf.train.adam', ...r });
    log(`  tf.train.adam: ${r.dispatchesPerStep} dispatches/step, ${r.msPerStep.toFixed(1)} ms/step`);
    opt.dispose();
    tf.dispose(vars);
  }
  // gradtx adam, fused on webgpu, through createOptimizer (params and state updated in place)
  const cases: [string, import('@gradtx/core').GradientTransformation, boolean][] = [
    [FUSED, gradtx.adam(LR), true],
    ['gradtx adam (reference path, tfjs ops)', gradtx.adam(LR), false],
    [NARROW.bfloat16, gradtx.adam(LR, { muDtype: 'bfloat16', nuDtype: 'bfloat16' }), true],
    [NARROW.int8, gradtx.adam(LR, { muDtype: 'int8', nuDtype: 'int8' }), true],
    [
      'gradtx clip+adamw+warmup-cosine (fused)',
      gradtx.chain(
        gradtx.clipByGlobalNorm(1),
        gradtx.adamw(schedules.scheduleWarmupCosine({ initValue: 0, peakValue: LR, warmupSteps: 10, decaySteps: 1000 }), {
          weightDecay: 1e-4,
        }),
      ),
      true,
    ],
  ];
  for (const [impl, tx, fused] of cases) {
    if (!fused && elements > 2 * M && !quick) {
      // the reference path allocates ~10 full-size temporaries per leaf per step; skip it on the biggest tree
      continue;
    }
    const params = shape.sizes.map((n, i) => tf.tensor1d(values(n, i + 1)));
    const opt = gradtx.createOptimizer(tx, params, { fused });
    const r = await measure(() => opt.step(grads), steps);
    rows.push({ shape: shape.name, leaves: shape.sizes.length, elements, impl, ...r });
    log(`  ${impl}: ${r.dispatchesPerStep} dispatches/step, ${r.msPerStep.toFixed(1)} ms/step`);
    const last = opt.params;
    opt.dispose();
    tf.dispose(last as TF.Tensor[]);
  }
  tf.dispose(grads);
}

const info = (backend as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
const device = info ? `${info.vendor ?? '?'} ${info.architecture ?? ''}`.trim() : 'unknown adapter';
console.log(`\nAdam on tfjs-backend-webgpu 4.22 (Dawn, adapter: ${device}; ${quick ? 'quick sizes' : 'full sizes'})`);
console.log('Timings on SwiftShader measure a CPU emulating a GPU, not GPU speed; dispatch counts are what a GPU would see.\n');
console.log('| shape | implementation | dispatches / step | ms / step |');
console.log('| --- | --- | ---: | ---: |');
for (const r of rows) console.log(`| ${r.shape} | ${r.impl} | ${r.dispatchesPerStep.toFixed(1)} | ${r.msPerStep.toFixed(1)} |`);
console.log('\nNarrow optimizer state: a fused step with packed moments as a ratio to the float32 fused step (same shape, same run)\n');
console.log('| shape | moments | dispatches / step | ratio to float32 fused |');
console.log('| --- | --- | ---: | ---: |');
for (const r of rows) {
  const dtype = Object.entries(NARROW).find(([, impl]) => impl === r.impl)?.[0];
  const base = rows.find((x) => x.shape === r.shape && x.impl === FUSED);
  if (dtype === undefined || base === undefined) continue;
  console.log(`| ${r.shape} | ${dtype} | ${r.dispatchesPerStep.toFixed(1)} | ${(r.msPerStep / base.msPerStep).toFixed(2)}× |`);
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/webgpu.json', import.meta.url), `${JSON.stringify({ device, quick, rows }, null, 2)}\n`);
