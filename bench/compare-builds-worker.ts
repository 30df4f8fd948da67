/**
 * One side of `compare-builds.ts`: loads `@gradtx/core` and tfjs from the
 * built checkout given as the first argument (its own node_modules, so the
 * core build and the tfjs it talks to are one instance) and times optimizer
 * steps on request over IPC. Not run by hand.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { values } from './values.ts';

type Core = typeof import('@gradtx/core');
type Tf = typeof import('@tensorflow/tfjs-core');

/** A request from the driver. */
export type WorkerRequest =
  | { cmd: 'setup'; workload: Workload; sizes: number[]; backend: 'cpu' | 'wasm' }
  | { cmd: 'time'; steps: number }
  | { cmd: 'dispose' };

/** The transformations compared: Adam (float32 state, or both moments stored narrow), and adamw behind a global-norm clip. */
export type Workload = 'adam' | 'adam bfloat16' | 'adam float16' | 'adam int8' | 'clip+adamw';

/** The worker's answer: ms per timed step, or whether the set-up step took the fused path. */
export type WorkerReply = { ok: true; ms?: number[]; fused?: boolean } | { ok: false; error: string };

const root = process.argv[2];
if (root === undefined) throw new Error('compare-builds-worker: pass the checkout root');
const req = createRequire(join(root, 'bench', 'package.json'));
const load = (name: string) => import(pathToFileURL(req.resolve(name)).href);
const tf: Tf = await load('@tensorflow/tfjs-core');
await load('@tensorflow/tfjs-backend-cpu');
const wasm = await load('@tensorflow/tfjs-backend-wasm');
wasm.setWasmPaths(req.resolve('@tensorflow/tfjs-backend-wasm').replace(/[^/\\]*$/, ''));
tf.env().set('IS_TEST', true);
const core: Core = await import(pathToFileURL(join(root, 'packages', 'core', 'dist', 'index.js')).href);

let current: { step: () => void; dispose: () => void } | null = null;

function transformation(workload: Workload): import('@gradtx/core').GradientTransformation {
  if (workload === 'adam') return core.adam(1e-3) as never;
  if (workload.startsWith('adam ')) {
    const dtype = workload.slice(5) as import('@gradtx/core').StateDtype;
    return core.adam(1e-3, { muDtype: dtype, nuDtype: dtype }) as never;
  }
  return core.chain(core.clipByGlobalNorm(1), core.adamw(1e-3, { weightDecay: 1e-2 })) as never;
}

async function setup(workload: Workload, sizes: number[], backend: 'cpu' | 'wasm'): Promise<boolean> {
  if (tf.getBackend() !== backend && !(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not start`);
  const params = sizes.map((n, i) => tf.tensor1d(values(n, 1 + i)));
  const grads = sizes.map((n, i) => tf.tensor1d(values(n, 1000 + i)));
  const opt = core.createOptimizer(transformation(workload), params, { fused: true });
  const before = core.fusedStats.fused + core.fusedStats.fast;
  opt.step(grads); // compiles the kernels
  opt.step(grads);
  const fused = core.fusedStats.fused + core.fusedStats.fast - before === 2;
  current = {
    step: () => opt.step(grads),
    dispose: () => {
      const p = opt.params as unknown as import('@tensorflow/tfjs-core').Tensor[];
      opt.dispose();
      tf.dispose([...p, ...grads]);
    },
  };
  return fused;
}

function time(steps: number): number[] {
  if (current === null) throw new Error('time before setup');
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    current.step();
    ms.push(performance.now() - t0);
  }
  return ms;
}

process.on('message', async (m: WorkerRequest) => {
  const reply = (r: WorkerReply) => process.send?.(r);
  try {
    if (m.cmd === 'setup') reply({ ok: true, fused: await setup(m.workload, m.sizes, m.backend) });
    else if (m.cmd === 'time') reply({ ok: true, ms: time(m.steps) });
    else {
      current?.dispose();
      current = null;
      reply({ ok: true });
    }
  } catch (e) {
    reply({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
process.send?.({ ok: true });
