// The exactly rounded division and square root of the WGSL codecs, with
// their float32 estimates pushed off by a few units (as a GPU's loose `/`
// and `sqrt` may be; SwiftShader's are exact, so the corrections would
// otherwise never run): still bit for bit the host's float32 results.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Usage } from './gpu.js';
import { installWebGpu } from './index.js';
import { rng, webgpuBackend } from './test-utils/index.js';
import { HELPERS } from './wgsl-codegen.js';
import { storageWgsl } from './wgsl-storage.js';

beforeAll(() => {
  installWebGpu();
});

/** A shader computing `div_rn(a[i], s[i])` and `sqrt_rn(x[i])`, with the estimates `skew` units off. */
function probe(skew: number): string {
  const codecs = storageWgsl([{ dtype: 'int8', signed: true, blockSize: 1, root: true }])
    .replace('return u32(f32(n) / f32(d) * 8388608.0);', `return u32(i32(u32(f32(n) / f32(d) * 8388608.0)) + ${skew});`)
    .replace('return u32(sqrt(y) * 8388608.0);', `return u32(i32(u32(sqrt(y) * 8388608.0)) + ${skew});`);
  return `struct Step { tm: u32, }
@group(0) @binding(0) var<uniform> S: Step;
@group(0) @binding(1) var<storage, read> M: array<u32>;
@group(0) @binding(2) var<storage, read_write> B: array<u32>;
${HELPERS}${codecs}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let n = arrayLength(&B) / 5u;
  let i = g.x;
  if (i >= n) { return; }
  B[3u * n + i] = div_rn(B[i], B[n + i]);
  B[4u * n + i] = bitcast<u32>(sqrt_rn(bitcast<f32>(B[2u * n + i])));
}
`;
}

/** Runs the probe on `a`, `s`, `x` (float32 bit patterns); the division and root results' bits. */
async function runProbe(skew: number, a: Uint32Array, s: Uint32Array, x: Uint32Array): Promise<[Uint32Array, Uint32Array]> {
  const device = webgpuBackend().device as unknown as GPUDevice;
  const n = a.length;
  const data = new Uint32Array(5 * n);
  data.set(a, 0);
  data.set(s, n);
  data.set(x, 2 * n);
  const buffer = device.createBuffer({ size: data.byteLength, usage: Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, data);
  const read = device.createBuffer({ size: data.byteLength, usage: Usage.MAP_READ | Usage.COPY_DST });
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: probe(skew) }), entryPoint: 'main' },
  });
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 2, resource: { buffer } }] });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(Math.ceil(n / 64));
  pass.end();
  enc.copyBufferToBuffer(buffer, 0, read, 0, data.byteLength);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(1);
  const out = new Uint32Array(read.getMappedRange().slice(0));
  read.unmap();
  buffer.destroy();
  read.destroy();
  return [out.slice(3 * n, 4 * n), out.slice(4 * n)];
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (v: number): number => {
  f32[0] = v;
  return u32[0] as number;
};
const floatOf = (b: number): number => {
  u32[0] = b;
  return f32[0] as number;
};

describe('exact division and square root in WGSL', () => {
  it('with estimates off by -3 to +3 units: the host float32 results, bit for bit (ties, subnormals, the largest finite)', async () => {
    const r = rng(5);
    const pairs: [number, number][] = [
      [1, 1],
      [1, 3],
      [2, 3],
      [0.75, 1],
      [1.5, 2],
      [1e-45, 1e-45],
      [1e-45, 3e-45],
      [1e-40, 1.1e-38],
      [3.4028234e38, 3.4028234e38],
      [1, 3.4028234e38],
      [0, 1],
      [8388609, 16777215],
    ];
    for (let i = 0; i < 500; i++) {
      const s = Math.fround(10 ** (r() * 74 - 37));
      pairs.push([Math.fround(s * r()), s]);
      const t = bitsOf(s) & 0x7fffff;
      pairs.push([floatOf((bitsOf(s) & 0xff800000) | (t ^ ((i * 2654435761) & 0x7fffff))), s]);
    }
    const ok = pairs.map(([p, q]) => {
      const [a, s] = [Math.abs(Math.fround(p)), Math.abs(Math.fround(q))];
      return (a <= s ? [a, s] : [s, a]) as [number, number];
    });
    const roots = [0, -0, 1e-45, 2e-45, 1.1754942e-38, 1.17549435e-38, 2, 3, 0.5, 3.4028234e38, Infinity, -1, -1e-45, Number.NaN];
    while (roots.length < ok.length) roots.push(Math.fround(10 ** (r() * 90 - 45)));
    const a = Uint32Array.from(ok, ([x]) => bitsOf(x));
    const s = Uint32Array.from(ok, ([, y]) => bitsOf(y));
    const x = Uint32Array.from(roots.slice(0, ok.length), bitsOf);
    const wantDiv = ok.map(([p, q]) => {
      const y = Math.fround(p / q);
      return y < 2 ** -126 ? 0 : bitsOf(y);
    });
    const wantRoot = Array.from(x, (b) => bitsOf(Math.fround(Math.sqrt(floatOf(b)))));
    // the skew reaches both estimates
    expect(probe(3).match(/\+ 3\)/g)?.length).toBe(2);
    const before = tf.memory().numTensors;
    for (const skew of [-3, -1, 0, 1, 3]) {
      const [div, root] = await runProbe(skew, a, s, x);
      const d = Array.from(div).findIndex((v, i) => v !== wantDiv[i]);
      expect(d, `skew ${skew}: div_rn(${ok[d]?.join(', ')}) = ${floatOf(div[d] ?? 0)}, host ${floatOf(wantDiv[d] ?? 0)}`).toBe(-1);
      // NaN results compare by being NaN (the host's NaN bits may differ)
      const q = Array.from(root).findIndex(
        (v, i) => v !== wantRoot[i] && !(Number.isNaN(floatOf(v)) && Number.isNaN(floatOf(wantRoot[i] ?? 0))),
      );
      expect(q, `skew ${skew}: sqrt_rn(${floatOf(x[q] ?? 0)}) = ${floatOf(root[q] ?? 0)}, host ${floatOf(wantRoot[q] ?? 0)}`).toBe(-1);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
