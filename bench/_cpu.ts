// CPU-time per step (process.cpuUsage: immune to time stolen by other processes), median of rounds, Adam 200 x 50k
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const root = process.env.ROOT ?? '/work/wt-packspeed';
const req = createRequire(join(root, 'bench', 'package.json'));
const load = (name: string) => import(pathToFileURL(req.resolve(name)).href);
const tf = await load('@tensorflow/tfjs-core');
await load('@tensorflow/tfjs-backend-cpu');
const wasm = await load('@tensorflow/tfjs-backend-wasm');
wasm.setWasmPaths(req.resolve('@tensorflow/tfjs-backend-wasm').replace(/[^/\\]*$/, ''));
const core = await import(pathToFileURL(join(root, 'packages', 'core', 'dist', 'index.js')).href);
const { values } = await import(pathToFileURL(join(root, 'bench', 'values.ts')).href);
const DT = ['float32', 'bfloat16', 'float16', 'int8'];
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const med = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1] as number; };
for (const backend of ['cpu', 'wasm']) {
  await tf.setBackend(backend);
  const tree = (seed: number) => Array.from({ length: 200 }, (_, i) => tf.tensor1d(values(50000, seed + i)));
  const gs = tree(1000);
  const opts = DT.map((d) => core.createOptimizer(core.adam(1e-3, { muDtype: d, nuDtype: d }), tree(1)));
  for (const o of opts) { o.step(gs); o.step(gs); }
  const ts = DT.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r++) opts.forEach((o, i) => { const c0 = process.cpuUsage(); o.step(gs); const c = process.cpuUsage(c0); ts[i]!.push((c.user + c.system) / 1000); });
  const ms = ts.map(med);
  console.log(`${root.split('/').pop()} ${backend} ` + DT.map((d, i) => `${d} ${ms[i]!.toFixed(1)}ms ${(ms[i]! / ms[0]!).toFixed(2)}x`).join(' | '));
  for (const o of opts) o.dispose();
  tf.dispose(gs);
}
