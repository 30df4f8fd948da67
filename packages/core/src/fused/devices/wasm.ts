/**
 * The fused path on tfjs's `wasm` backend. Its tensors live in one
 * WebAssembly memory (`backend.wasm.asm.memory` in tfjs 4.22; a tensor's byte
 * offset is `backend.dataIdMap.get(dataId).memoryOffset`). The kernels,
 * emitted at run time as 128-bit SIMD code, import that memory and work in
 * place on the heap: one call runs every leaf, reading a table of leaf sizes,
 * offsets and per-leaf scalars that is written into a small block of the heap.
 *
 * The heap can grow when tfjs allocates, which detaches JS views of it, so
 * every view is taken after the step's allocations. IRs that use `exp` or
 * `log` (no SIMD instruction) run as generated JS loops over views of the
 * heap; those round through `Math.exp`/`Math.log`, which may differ from the
 * wasm backend's own `exp`/`log` in the last bit.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { hasPacked } from '../../lang/packed-columns.js';
import type { PartialOp } from '../../lang/reductions.js';
import { LITTLE_ENDIAN } from '../../lang/storage/packing.js';
import type { KernelIR } from '../../lang/trace.js';
import { type Device, elementColumn, type Launch, type LaunchReductions, leafScalarCount } from '../device.js';
import { codegenGeneration, jsKernel, wasmModule } from './codegen.js';
import { hostReducedLaunch, type KernelLaunch, nonFinite } from './host-reductions.js';
import { entryBytes, kernelModuleBytes, reductionModuleBytes } from './wasm-printer.js';
import { workspaceLayout, writeWorkspace } from './wasm-storage.js';

interface WasmData {
  id: number;
  memoryOffset: number;
  refCount: number;
  dtype: string;
}

/** The backend's ids, sizes and byte offsets of a launch's params. */
interface ParamsRecords {
  readonly ids: Int32Array;
  readonly sizes: Int32Array;
  readonly offsets: Int32Array;
}

interface WasmBackendLike extends tf.KernelBackend {
  wasm: {
    asm?: { memory?: WebAssembly.Memory };
    wasmMemory?: WebAssembly.Memory;
    _malloc(n: number): number;
    _free(p: number): void;
    tfjs?: { disposeData(id: number): void; registerTensor(id: number, size: number, memoryOffset: number): void };
  };
  dataIdMap: { get(dataId: object): WasmData | undefined; has(dataId: object): boolean };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
}

type Exports = { run: (table: number, count: number, scalars: number) => void };
type Reducers = Record<PartialOp | 'nonFinite', (p: number, n: number) => number>;

/** Whether the backend's record of a tensor's data is on the heap as a kernel reads it: float32, or int32 code words. */
function kernelData(d: WasmData | undefined): d is WasmData {
  return d !== undefined && (d.dtype === 'float32' || d.dtype === 'int32') && typeof d.memoryOffset === 'number';
}

/** The memory of a wasm backend, or `null` when it cannot be found (a tfjs version with another layout). */
export function wasmMemoryOf(backend: tf.KernelBackend): WebAssembly.Memory | null {
  const w = (backend as WasmBackendLike).wasm;
  const m = w?.asm?.memory ?? w?.wasmMemory;
  return m instanceof WebAssembly.Memory ? m : null;
}

/** The fused device of a tfjs `wasm` backend, or `null` when its memory cannot be found (for {@link registerFusedDevice}). */
export function wasmDeviceOf(backend: tf.KernelBackend): WasmDevice | null {
  const memory = wasmMemoryOf(backend);
  return memory === null ? null : new WasmDevice(backend, memory);
}

/** The fused device of a `wasm` backend. */
export class WasmDevice implements Device {
  readonly name = 'wasm' as const;
  private readonly b: WasmBackendLike;
  private readonly memory: WebAssembly.Memory;
  private readonly shared: boolean;
  private readonly instances = new Map<string, Exports | null>();
  private reducers: Reducers | null | undefined;
  private generation = codegenGeneration();
  /** A block of the heap for the table and the scalars, grown on demand. */
  private scratch = 0;
  private scratchBytes = 0;

  constructor(
    readonly backend: tf.KernelBackend,
    memory: WebAssembly.Memory,
  ) {
    this.b = backend as WasmBackendLike;
    this.memory = memory;
    this.shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  }

  private data(t: tf.Tensor): WasmData {
    return this.b.dataIdMap.get(t.dataId) as WasmData;
  }

  resident(t: tf.Tensor): boolean {
    return kernelData(this.b.dataIdMap.get(t.dataId));
  }

  exclusive(t: tf.Tensor): boolean {
    return this.b.dataIdMap.get(t.dataId)?.refCount === 1;
  }

  dataRecord(t: tf.Tensor): { readonly refCount: number } | undefined {
    return this.b.dataIdMap.get(t.dataId);
  }

  readScalar(t: tf.Tensor): number {
    return new Float32Array(this.memory.buffer, this.data(t).memoryOffset, 1)[0] as number;
  }

  alloc(shape: readonly number[], dtype: 'float32' | 'int32' = 'float32'): tf.Tensor {
    const info = this.b.makeOutput(shape as number[], dtype);
    return tf.engine().makeTensorFromTensorInfo(info, this.backend);
  }

  private reduction(): Reducers | null {
    if (this.reducers === undefined) {
      const mod = wasmModule(`reduce:${this.shared}`, () => reductionModuleBytes(this.shared));
      this.reducers = mod === null ? null : (new WebAssembly.Instance(mod, { env: { mem: this.memory } }).exports as unknown as Reducers);
    }
    return this.reducers;
  }

  allFinite(t: tf.Tensor): boolean {
    const at = this.data(t).memoryOffset;
    const r = this.reduction();
    return (r !== null ? r.nonFinite(at, t.size) : nonFinite(new Float32Array(this.memory.buffer, at, t.size))) === 0;
  }

  partial(op: PartialOp, t: tf.Tensor): number {
    const n = t.size;
    const at = this.data(t).memoryOffset;
    const r = this.reduction();
    if (r !== null) return Math.fround(r[op](at, n));
    const a = new Float32Array(this.memory.buffer, at, n);
    let s = 0;
    if (op === 'maxAbs') {
      for (let i = 0; i < n; i++) {
        const x = Math.abs(a[i] as number);
        if (Number.isNaN(x) || x > s) s = x;
      }
      return s;
    }
    for (let i = 0; i < n; i++) {
      const x = a[i] as number;
      s += op === 'sumSq' ? Math.fround(x * x) : x;
    }
    return Math.fround(s);
  }

  setScalar(t: tf.Tensor, value: number): void {
    new Float32Array(this.memory.buffer, this.data(t).memoryOffset, 1)[0] = value;
  }

  private instance(ir: KernelIR): Exports | null {
    if (this.generation !== codegenGeneration()) {
      this.instances.clear();
      this.reducers = undefined;
      this.generation = codegenGeneration();
    }
    let inst = this.instances.get(ir.signature);
    if (inst === undefined) {
      const mod = ir.transcendental ? null : wasmModule(`k:${ir.signature}:${this.shared}`, () => kernelModuleBytes(ir, this.shared));
      inst = mod === null ? null : (new WebAssembly.Instance(mod, { env: { mem: this.memory } }).exports as unknown as Exports);
      this.instances.set(ir.signature, inst);
    }
    return inst;
  }

  prepare(ir: KernelIR): boolean {
    if (hasPacked(ir) && !LITTLE_ENDIAN) return false;
    if (this.instance(ir) !== null) return true;
    return jsKernel(ir) !== null;
  }

  private scratchFor(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratch !== 0) this.b.wasm._free(this.scratch);
      this.scratchBytes = Math.max(bytes, 2 * this.scratchBytes, 4096);
      this.scratch = this.b.wasm._malloc(this.scratchBytes) >>> 0;
    }
    return this.scratch;
  }

  /**
   * Tells the backend's C++ side that the params were rewritten in place.
   * tfjs-wasm caches prepacked operands by tensor id (XNNPACK's matMul and
   * conv weights) and drops them only when the id is disposed; a param written
   * in place would otherwise keep feeding its old values to the next forward
   * pass. Unregistering and registering the id again (same memory) runs those
   * disposal callbacks without freeing anything.
   */
  private forgetCaches(params: ParamsRecords): void {
    const tfjs = this.b.wasm.tfjs;
    if (tfjs === undefined) return;
    const { ids, sizes, offsets } = params;
    for (let l = 0; l < ids.length; l++) {
      const id = ids[l] as number;
      tfjs.disposeData(id);
      tfjs.registerTensor(id, sizes[l] as number, offsets[l] as number);
    }
  }

  /** The backend ids, sizes and offsets of those of `tensors` it knows, read once per binding rather than at every run. */
  private paramsRecords(tensors: readonly tf.Tensor[]): ParamsRecords {
    const known = tensors.filter((t) => this.b.dataIdMap.get(t.dataId) !== undefined);
    const records = known.map((t) => this.b.dataIdMap.get(t.dataId) as WasmData);
    return {
      ids: Int32Array.from(records, (d) => d.id),
      sizes: Int32Array.from(known, (t) => t.size),
      offsets: Int32Array.from(records, (d) => d.memoryOffset),
    };
  }

  /** The launch `inner`, followed by {@link forgetCaches} on the params column (if the kernel writes params). */
  private withParamsRefreshed(ir: KernelIR, columns: readonly (readonly tf.Tensor[])[], inner: KernelLaunch): KernelLaunch {
    const k = ir.outputs.findIndex((o) => o.name === 'p');
    if (k < 0) return inner;
    const column = ir.inputs.length + k;
    let params = this.paramsRecords(columns[column] as readonly tf.Tensor[]);
    return {
      setColumn: (j, tensors) => {
        if (!inner.setColumn(j, tensors)) return false;
        if (j === column) params = this.paramsRecords(tensors);
        return true;
      },
      run: (scalars, leafScalars) => {
        inner.run(scalars, leafScalars);
        this.forgetCaches(params);
      },
    };
  }

  launch(ir: KernelIR, columns: readonly (readonly tf.Tensor[])[], reductions: LaunchReductions): Launch {
    return hostReducedLaunch(ir, columns, this.withParamsRefreshed(ir, columns, this.kernelLaunch(ir, columns)), reductions, this);
  }

  private kernelLaunch(ir: KernelIR, columns: readonly (readonly tf.Tensor[])[]): KernelLaunch {
    const inst = this.instance(ir);
    const L = columns[0]?.length ?? 0;
    const A = columns.length;
    const perLeafScalars = leafScalarCount(ir);
    if (inst === null) return this.jsLaunch(ir, columns);
    // the table, kept in JS and copied into the heap at each run
    const words = entryBytes(ir) / 4;
    const layout = workspaceLayout(ir);
    const image = new Int32Array(L * words);
    const imageF = new Float32Array(image.buffer);
    const sized = columns[elementColumn(ir)] as readonly tf.Tensor[];
    for (let l = 0; l < L; l++) image[l * words] = (sized[l] as tf.Tensor).size;
    const map = this.b.dataIdMap;
    const setColumn = (j: number, tensors: readonly tf.Tensor[]) => {
      for (let l = 0; l < L; l++) {
        const d = map.get((tensors[l] as tf.Tensor).dataId);
        if (!kernelData(d)) return false;
        image[l * words + 1 + j] = d.memoryOffset;
      }
      return true;
    };
    columns.forEach((c, j) => {
      setColumn(j, c);
    });
    return {
      setColumn,
      run: (scalars, leafScalars) => {
        for (let l = 0; l < L; l++)
          for (let s = 0; s < perLeafScalars; s++) imageF[l * words + 1 + A + s] = leafScalars[l * perLeafScalars + s] as number;
        const base = this.scratchFor(layout.bytes + image.byteLength);
        // views after the allocation (the heap may have grown)
        const buf = this.memory.buffer;
        writeWorkspace(new Float32Array(buf), base, layout, scalars, false);
        new Int32Array(buf, base + layout.bytes, image.length).set(image);
        inst.run(base + layout.bytes, L, base);
      },
    };
  }

  /** A launch of the JS kernel over views of the heap (IRs with `exp`/`log`, or no WebAssembly SIMD). */
  private jsLaunch(ir: KernelIR, columns: readonly (readonly tf.Tensor[])[]): KernelLaunch {
    const js = jsKernel(ir);
    if (js === null) throw new Error('gradtx: no kernel for this backend (code generation is blocked)');
    const cols = columns.map((c) => [...c]);
    const L = cols[0]?.length ?? 0;
    const nIn = ir.inputs.length;
    return {
      setColumn: (j, tensors) => {
        if (!tensors.every((t) => this.resident(t))) return false;
        cols[j] = [...tensors];
        return true;
      },
      run: (scalars, leafScalars) => {
        const buf = this.memory.buffer;
        const views = cols.map((c) =>
          c.map((t) => new (t.dtype === 'int32' ? Int32Array : Float32Array)(buf, this.data(t).memoryOffset, t.size)),
        );
        js(
          L,
          (cols[elementColumn(ir)] ?? []).map((t) => t.size),
          views.slice(0, nIn),
          views.slice(nIn),
          scalars,
          leafScalars,
        );
      },
    };
  }
}
