import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const fromWebgpu = createRequire(new URL('file:///work/wt-wgsl/packages/webgpu/package.json'));
const load = (name: string) => import(pathToFileURL(fromWebgpu.resolve(name)).href);
process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
const { create, globals } = (await load('webgpu')) as any;
Object.assign(globalThis, globals);
Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true, writable: true });
const tf = await import('@tensorflow/tfjs-core');
await load('@tensorflow/tfjs-backend-webgpu');
tf.env().set('WEBGPU_CPU_FORWARD', false);
await tf.setBackend('webgpu');
const gradtx = await import('@gradtx/core');
const webgpu = (await import('file:///work/wt-wgsl/packages/webgpu/dist/index.js')) as any;
webgpu.installWebGpu();
const b = tf.backend() as any;
const n = 100_000;
for (const d of (process.argv[2] ?? 'float32,bfloat16,int8').split(',')) {
  const tx = gradtx.adam(1e-3, { muDtype: d as any, nuDtype: d as any });
  const opt = gradtx.createOptimizer(tx, [tf.randomNormal([n])]);
  const g = [tf.randomNormal([n])];
  for (let i = 0; i < 2; i++) opt.step(g);
  await b.device.queue.onSubmittedWorkDone();
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) opt.step(g);
  await b.device.queue.onSubmittedWorkDone();
  console.log(d, ((performance.now() - t0) / 5).toFixed(1), 'ms');
}
