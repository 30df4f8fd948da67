/**
 * The few native calls the flattened optimizer makes on the `tensorflow`
 * backend (gathering leaves into one buffer and splitting it back), and a
 * counter of native calls for tests and diagnostics.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

/** An op attribute as tfjs-node's binding takes it. */
interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

/** The parts of tfjs-node's native binding this package uses. */
interface Binding {
  readonly TF_ATTR_INT: number;
  readonly TF_ATTR_TYPE: number;
  readonly TF_FLOAT: number;
  readonly TF_INT32: number;
  executeOp(name: string, attrs: OpAttr[], inputIds: number[], numOutputs: number): unknown;
  createTensor(shape: number[], dtype: number, values: unknown): number;
  [key: string]: unknown;
}

/** The parts of tfjs-node's `NodeJSKernelBackend` this package uses. */
interface TensorflowBackend {
  binding: Binding;
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.Tensor[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.Tensor[], numOutputs: number): tf.Tensor[];
}

/** The active backend when it is tfjs-node's `tensorflow` backend, else null. */
export function tensorflowBackend(): TensorflowBackend | null {
  if (tf.getBackend() !== 'tensorflow') return null;
  const b = tf.backend() as unknown as Partial<TensorflowBackend>;
  return b.binding && typeof b.executeSingleOutput === 'function' && typeof b.executeMultipleOutputs === 'function'
    ? (b as TensorflowBackend)
    : null;
}

/** Native calls made during {@link countNativeCalls}. */
export interface NativeCallCount {
  /** TensorFlow ops executed (`TFE_Execute` through the binding's `executeOp`). */
  ops: number;
  /** Tensors uploaded from JS memory to TensorFlow (the binding's `createTensor`). */
  uploads: number;
  /** The names of the executed ops, in order. */
  opNames: string[];
}

/**
 * Runs `fn` and counts the calls it makes into TensorFlow through tfjs-node's
 * native binding: executed ops and uploads of JS data. For tests and
 * diagnostics (e.g. to check that a step's cost does not grow with the number
 * of param leaves). Only on the `tensorflow` backend; throws elsewhere.
 */
export function countNativeCalls<T>(fn: () => T): { result: T; calls: NativeCallCount } {
  const backend = tensorflowBackend();
  if (backend === null) throw new Error(`countNativeCalls: the active backend is ${tf.getBackend()}, not tensorflow`);
  const real = backend.binding;
  const calls: NativeCallCount = { ops: 0, uploads: 0, opNames: [] };
  // The binding's functions are read-only properties, so the backend gets a
  // forwarding copy of the binding for the duration of `fn`.
  const counting: Binding = Object.create(null);
  for (const key of Object.getOwnPropertyNames(real)) counting[key] = real[key];
  counting.executeOp = (name, attrs, ids, n) => {
    calls.ops++;
    calls.opNames.push(name);
    return real.executeOp(name, attrs, ids, n);
  };
  counting.createTensor = (shape, dtype, values) => {
    calls.uploads++;
    return real.createTensor(shape, dtype, values);
  };
  backend.binding = counting;
  try {
    return { result: fn(), calls };
  } finally {
    backend.binding = real;
  }
}

/**
 * Gathers the leaves of a tree (fixed shapes, float32) into one 1-D buffer and
 * splits such a buffer back into leaves. On the `tensorflow` backend a gather
 * is one native op (`DynamicStitch`, with index tensors made once) and a split
 * is one op (`SplitV`) plus one `Reshape` per leaf whose rank is not 1; on
 * other backends it is `tf.concat` and `tf.split` with reshapes.
 */
export class Packer {
  /** Number of elements of each leaf. */
  readonly sizes: readonly number[];
  /** Total number of elements. */
  readonly total: number;
  private native: {
    backend: TensorflowBackend;
    indices: tf.Tensor[];
    splitSizes: tf.Tensor;
    axis: tf.Tensor;
    shapeTensors: (tf.Tensor | null)[];
  } | null = null;

  /** `shapes`: the shape of each leaf, in tree order. */
  constructor(readonly shapes: readonly (readonly number[])[]) {
    this.sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
    this.total = this.sizes.reduce((a, b) => a + b, 0);
  }

  /** The constant tensors of the native path, made on first use on the tensorflow backend. */
  private nativeParts() {
    const backend = tensorflowBackend();
    if (backend === null) return null;
    if (this.native?.backend !== backend) {
      this.disposeNative();
      let offset = 0;
      const indices = this.shapes.map((shape, i) => {
        const n = this.sizes[i] as number;
        const idx = new Int32Array(n);
        for (let j = 0; j < n; j++) idx[j] = offset + j;
        offset += n;
        return tf.keep(tf.tensor(idx, shape as number[], 'int32'));
      });
      this.native = {
        backend,
        indices,
        splitSizes: tf.keep(tf.tensor1d(this.sizes as number[], 'int32')),
        axis: tf.keep(tf.scalar(0, 'int32')),
        shapeTensors: this.shapes.map((s) => (s.length === 1 ? null : tf.keep(tf.tensor1d(s as number[], 'int32')))),
      };
    }
    return this.native;
  }

  /** One 1-D float32 tensor holding every leaf, in order (a new tensor). */
  pack(leaves: readonly tf.Tensor[]): tf.Tensor1D {
    if (leaves.length !== this.shapes.length) throw new Error(`Packer: expected ${this.shapes.length} leaves, got ${leaves.length}`);
    const n = this.nativeParts();
    if (n !== null) {
      const { binding } = n.backend;
      const attrs: OpAttr[] = [
        { name: 'N', type: binding.TF_ATTR_INT, value: leaves.length },
        { name: 'T', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
      ];
      return n.backend.executeSingleOutput('DynamicStitch', attrs, [...n.indices, ...leaves]) as tf.Tensor1D;
    }
    return tf.tidy(() => tf.concat(leaves.map((x) => tf.reshape(x, [-1])))) as tf.Tensor1D;
  }

  /** The leaves of a buffer made by {@link pack}, with their shapes (new tensors). */
  unpack(flat: tf.Tensor): tf.Tensor[] {
    if (flat.size !== this.total) throw new Error(`Packer: expected a buffer of ${this.total} elements, got ${flat.size}`);
    const n = this.nativeParts();
    if (n !== null) {
      const { binding } = n.backend;
      const splitAttrs: OpAttr[] = [
        { name: 'num_split', type: binding.TF_ATTR_INT, value: this.sizes.length },
        { name: 'T', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
        { name: 'Tlen', type: binding.TF_ATTR_TYPE, value: binding.TF_INT32 },
      ];
      const reshapeAttrs: OpAttr[] = [
        { name: 'T', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
        { name: 'Tshape', type: binding.TF_ATTR_TYPE, value: binding.TF_INT32 },
      ];
      const pieces =
        this.sizes.length === 1 && this.shapes[0]?.length === 1 && flat.rank === 1
          ? [tf.clone(flat)]
          : n.backend.executeMultipleOutputs('SplitV', splitAttrs, [flat, n.splitSizes, n.axis], this.sizes.length);
      return pieces.map((piece, i) => {
        const shapeTensor = n.shapeTensors[i];
        if (!shapeTensor) return piece;
        const out = n.backend.executeSingleOutput('Reshape', reshapeAttrs, [piece, shapeTensor]);
        piece.dispose();
        return out;
      });
    }
    return tf.tidy(() => tf.split(tf.reshape(flat, [-1]), this.sizes as number[]).map((p, i) => tf.reshape(p, this.shapes[i] as number[])));
  }

  private disposeNative(): void {
    if (this.native === null) return;
    tf.dispose([...this.native.indices, this.native.splitSizes, this.native.axis, ...this.native.shapeTensors.filter((t) => t !== null)]);
    this.native = null;
  }

  /** Disposes the constant tensors. */
  dispose(): void {
    this.disposeNative();
  }
}
