/**
 * The WebGPU device's codecs of packed state (`StateCodec` of
 * `@gradtx/core/engine`): what the reference path on the `webgpu` backend
 * uses to make, read and write optimizer state stored as bfloat16, float16
 * or block-wise int8. tfjs-webgpu computes int32 tensor operations in
 * float32, so the tfjs-op codecs cannot pack code words there; instead a
 * leaf is encoded (or decoded) by the fused kernel of a one-node IR, the
 * identity from a float32 array to a packed one (or back), so the reference
 * path and the fused kernels share one set of WGSL codecs, bit for bit the
 * host codecs.
 *
 * @module
 */
import type { DeviceReduction, KernelIR, PackedLeaf, PackedStorage, StateCodec } from '@gradtx/core/engine';
import * as tf from '@tensorflow/tfjs-core';

/** What the codecs need of the device: fresh tensors and one kernel run over one leaf. */
export interface CodecRunner {
  alloc(shape: readonly number[], dtype?: 'float32' | 'int32'): tf.Tensor;
  runReduced(
    ir: KernelIR,
    jobs: readonly { n: number; ins: readonly tf.Tensor[]; outs: readonly tf.Tensor[] }[],
    scalars: Float64Array,
    reductions: readonly DeviceReduction[],
    sources: { readonly u: readonly tf.Tensor[]; readonly p: readonly tf.Tensor[] },
  ): void;
}

const IDENTITY = [{ op: 'input', args: [], mask: false, uniform: false, index: 0 }] as const;

/** The one-node IR that copies array `from` into array `to`, one of them packed in `storage`. */
function copyIR(storage: PackedStorage, encode: boolean): KernelIR {
  const int8 = storage.dtype === 'int8';
  const codes = int8 ? ['c', 'c#scales'] : ['c'];
  return {
    nodes: IDENTITY,
    inputs: encode ? ['x'] : codes,
    scalars: [],
    outputs: (encode ? codes : ['x']).map((name) => ({ name, node: 0 })),
    packed: { c: storage },
    transcendental: false,
    signature: `codec|${encode ? 'encode' : 'decode'}|${JSON.stringify(storage)}`,
  };
}

const NO_SCALARS = new Float64Array(0);
const NO_SOURCES = { u: [], p: [] };

/** The codecs of packed state, run as kernels on `device`. */
export function webGpuCodec(device: CodecRunner): StateCodec {
  return {
    encode(x: tf.Tensor, storage: PackedStorage): PackedLeaf {
      const n = x.size;
      const words = Math.ceil(n / (storage.dtype === 'int8' ? 4 : 2));
      const codes = n === 0 ? tf.zeros([0], 'int32') : device.alloc([words], 'int32');
      const scales = storage.dtype !== 'int8' ? undefined : n === 0 ? tf.zeros([0]) : device.alloc([Math.ceil(n / storage.blockSize)]);
      const outs = scales === undefined ? [codes] : [codes, scales];
      if (n > 0) device.runReduced(copyIR(storage, true), [{ n, ins: [x], outs }], NO_SCALARS, [], NO_SOURCES);
      return { codes, scales };
    },
    decode(leaf: PackedLeaf, shape: readonly number[], storage: PackedStorage): tf.Tensor {
      const n = tf.util.sizeFromShape(shape as number[]);
      if (n === 0) return tf.zeros(shape as number[]);
      const x = device.alloc(shape);
      const ins = leaf.scales === undefined ? [leaf.codes] : [leaf.codes, leaf.scales];
      device.runReduced(copyIR(storage, false), [{ n, ins, outs: [x] }], NO_SCALARS, [], NO_SOURCES);
      return x;
    },
  };
}
