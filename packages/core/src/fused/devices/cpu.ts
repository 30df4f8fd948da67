/**
 * The fused path on tfjs's `cpu` backend, whose tensors are `Float32Array`s
 * (`backend.data.get(dataId).values`).
 *
 * Kernels are called directly (not through `tf.registerKernel`: a step writes
 * several outputs per leaf in place, which a tfjs kernel cannot express). Two
 * ways to run a kernel, both exact to float32 rounding:
 * - SIMD, staged: blocks of every leaf's arrays are copied into a small
 *   private WebAssembly memory, the SIMD kernel runs there, and the outputs
 *   are copied back. Copies of blocks that stay in cache cost little next to
 *   the loop, and the SIMD loop is several times faster than a JS loop that
 *   rounds every operation to float32. Small leaves are packed together, so a
 *   tree of many small tensors takes few kernel calls. From a launch's
 *   second run (a replayed step) the arrays it writes (float32 values and
 *   packed code words alike) are resident in an arena (`cpu-arena.ts`): the
 *   kernel runs on them in place and copies in only the arrays it merely
 *   reads.
 * - JS: the generated loop over the backend's arrays (when WebAssembly is
 *   unavailable or blocked, or the IR uses `exp`/`log`).
 *
 * Reductions run the same way, staged through the SIMD reduction module
 * (float64 sums, as tfjs's cpu `Sum`; pairwise rather than in sequence, which
 * rounds to the same float32 in all but rare cases), or as plain JS loops
 * when WebAssembly is unavailable.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { hasPacked, type Int8Storage, isScalesName, scaledName, storageOf } from '../../lang/packed-columns.js';
import type { PartialOp } from '../../lang/reductions.js';
import { LITTLE_ENDIAN } from '../../lang/storage/packing.js';
import type { KernelIR } from '../../lang/trace.js';
import { type Device, elementColumn, type Launch, type LaunchReductions, leafScalarCount } from '../device.js';
import { codegenGeneration, jsKernel, wasmModule } from './codegen.js';
import { ARENA_HEADER_BYTES, Arena, isResident, type ResidentArray } from './cpu-arena.js';
import { hostReducedLaunch, type KernelLaunch, nonFinite } from './host-reductions.js';
import type { JsKernel, KernelArray } from './js-printer.js';
import { entryBytes, kernelModuleBytes, reductionModuleBytes } from './wasm-printer.js';
import { type WorkspaceLayout, workspaceLayout, writeWorkspace } from './wasm-storage.js';

interface CpuData {
  values: KernelArray;
  refCount: number;
}

interface CpuBackendLike extends tf.KernelBackend {
  data: { get(dataId: object): CpuData | undefined; has(dataId: object): boolean };
  write(values: KernelArray, shape: number[], dtype: string): object;
}

/** Floats per staging region (64 KiB): the blocks of all arrays of a call stay in L2. */
const BLOCK = 16384;
/** Most leaves packed into one kernel call. */
const MAX_PACK = 256;

/** A kernel instantiated on a memory with its staging: scalars, the table of entries, one region per array. */
interface Staged {
  readonly run: (table: number, count: number, scalars: number) => void;
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  readonly workspace: WorkspaceLayout;
  /** Whether only this kernel writes its memory (its int8 tables then stay there between runs). */
  readonly owned: boolean;
  /**
   * Per array: elements per 4-byte word (1 for float32, 2 or 4 for packed
   * codes, the block size for int8 scales), and whether its words are
   * int32 code words.
   */
  readonly units: readonly number[];
  readonly codes: readonly boolean[];
  /** Elements a chunk of a leaf starts at a multiple of (and each leaf's region, within a batch). */
  readonly align: number;
  readonly tableAt: number;
  /** Word offsets of each array's staging region (inputs, then outputs). */
  readonly regions: readonly number[];
  readonly stride: number;
  /** Floats per region. */
  readonly block: number;
}

/** Where the staging of `ir`'s kernel lies from byte 0 of a memory, with regions of `block` floats; and its size in bytes. */
function stagingLayout(ir: KernelIR, block: number, owned: boolean): { layout: Omit<Staged, 'run' | 'f32' | 'i32'>; bytes: number } {
  const arrays = [...ir.inputs, ...ir.outputs.map((o) => o.name)].map((name) => unitOf(ir, name));
  const align = arrays.reduce((a, { unit }) => lcm(a, unit), 4);
  const A = arrays.length;
  const stride = entryBytes(ir);
  const workspace = workspaceLayout(ir);
  const tableAt = workspace.bytes;
  const regionsAt = Math.ceil((tableAt + stride * MAX_PACK) / 16) * 16;
  const regions = Array.from({ length: A }, (_, k) => regionsAt / 4 + k * block);
  const units = arrays.map((a) => a.unit);
  const codes = arrays.map((a) => a.codes);
  return { layout: { workspace, owned, tableAt, regions, units, codes, align, stride, block }, bytes: regionsAt + A * block * 4 };
}

/** Elements per 4-byte word of an IR array, and whether it holds code words. */
function unitOf(ir: KernelIR, name: string): { unit: number; codes: boolean } {
  if (isScalesName(name)) return { unit: (storageOf(ir, scaledName(name)) as Int8Storage).blockSize, codes: false };
  const s = storageOf(ir, name);
  if (s === undefined) return { unit: 1, codes: false };
  return { unit: s.dtype === 'int8' ? 4 : 2, codes: true };
}

function lcm(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return (a / x) * b;
}

/** The kernel of `ir` on `arena` (staging in its header), or null when the header cannot hold a useful block. */
function arenaKernel(ir: KernelIR, arena: Arena): Staged | null {
  const mod = wasmModule(`k:${ir.signature}`, () => kernelModuleBytes(ir, false));
  if (mod === null) return null;
  const A = ir.inputs.length + ir.outputs.length;
  const spare = ARENA_HEADER_BYTES - stagingLayout(ir, 0, false).bytes;
  const block = Math.min(BLOCK, Math.floor(spare / (4 * A)) & ~3);
  if (block < 1024) return null;
  const { layout } = stagingLayout(ir, block, false);
  // a chunk holds whole int8 blocks
  if (layout.align > block) return null;
  return { ...layout, run: arena.instance(mod).run as Staged['run'], f32: arena.f32, i32: arena.i32 };
}

const staged = new Map<string, Staged | null>();

type Reducers = Record<PartialOp | 'nonFinite', (ptr: number, n: number) => number>;
/** The reduction module, and its instance on a private staging memory of one block. */
interface Reducer {
  readonly mod: WebAssembly.Module;
  readonly fns: Reducers;
  readonly f32: Float32Array;
}
let reducer: Reducer | null | undefined;
let reducerGeneration = -1;

/** The reduction module on a private staging memory of one block. */
function stagedReducer(): Reducer | null {
  if (reducerGeneration !== codegenGeneration()) {
    reducer = undefined;
    reducerGeneration = codegenGeneration();
  }
  if (reducer === undefined) {
    const mod = wasmModule('reduce:false', () => reductionModuleBytes(false));
    if (mod === null) reducer = null;
    else {
      const mem = new WebAssembly.Memory({ initial: Math.ceil((BLOCK * 4) / 65536) });
      reducer = {
        mod,
        fns: new WebAssembly.Instance(mod, { env: { mem } }).exports as unknown as Reducers,
        f32: new Float32Array(mem.buffer),
      };
    }
  }
  return reducer;
}

let stagedGeneration = codegenGeneration();

function stagedKernel(ir: KernelIR): Staged | null {
  if (stagedGeneration !== codegenGeneration()) {
    staged.clear();
    stagedGeneration = codegenGeneration();
  }
  const hit = staged.get(ir.signature);
  if (hit !== undefined) return hit;
  const mod = wasmModule(`k:${ir.signature}`, () => kernelModuleBytes(ir, false));
  let out: Staged | null = null;
  const { layout, bytes } = stagingLayout(ir, BLOCK, true);
  // a chunk holds whole int8 blocks; blocks larger than a staging region run as the JS loop
  if (mod !== null && layout.align <= BLOCK) {
    const mem = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
    const inst = new WebAssembly.Instance(mod, { env: { mem } });
    out = { ...layout, run: inst.exports.run as Staged['run'], f32: new Float32Array(mem.buffer), i32: new Int32Array(mem.buffer) };
  }
  staged.set(ir.signature, out);
  return out;
}

/** Output copies pending for a staged batch: leaf, offset in the leaf, length, offset in the regions. */
interface PendingCopies {
  readonly leaf: number[];
  readonly at: number[];
  readonly len: number[];
  readonly fill: number[];
}

function pendingCopies(): PendingCopies {
  return { leaf: [], at: [], len: [], fill: [] };
}

/** Copies a run batch's staged outputs back into their leaves' arrays (resident ones were written in place), then empties `pend`. */
function copyOutputs(
  k: Staged,
  nIn: number,
  cols: readonly KernelArray[][],
  resident: readonly Int32Array[] | null,
  pend: PendingCopies,
): void {
  const { f32, i32, regions, units, codes } = k;
  for (let q = 0; q < pend.leaf.length; q++) {
    const l = pend.leaf[q] as number;
    const at = pend.at[q] as number;
    const len = pend.len[q] as number;
    const fl = pend.fill[q] as number;
    for (let j = nIn; j < regions.length; j++) {
      if (resident !== null && ((resident[j] as Int32Array)[l] as number) >= 0) continue;
      const dst = (cols[j] as KernelArray[])[l] as KernelArray;
      const unit = units[j] as number;
      const base = (regions[j] as number) + fl / unit;
      dst.set((codes[j] ? i32 : f32).subarray(base, base + Math.ceil((at + len) / unit) - at / unit), at / unit);
    }
  }
  for (const list of [pend.leaf, pend.at, pend.len, pend.fill]) list.length = 0;
}

/**
 * Runs the staged SIMD kernel over `L` leaves; `cols[j][l]` is the array of
 * column `j` (inputs, then outputs) for leaf `l`. `resident[j][l]`, where
 * given and not -1, is the float offset of that array in the kernel's own
 * memory: it is read and written there, in place, and not copied.
 */
function runStaged(
  k: Staged,
  nIn: number,
  cols: readonly KernelArray[][],
  ns: Int32Array,
  L: number,
  scalars: Float64Array,
  leafScalars: Float64Array,
  perLeafScalars: number,
  resident: readonly Int32Array[] | null = null,
): void {
  const { f32, i32, regions, stride, tableAt, units, codes, align, block } = k;
  const A = regions.length;
  writeWorkspace(f32, 0, k.workspace, scalars, k.owned);
  // the words of column j that hold elements [at, at + len) of a leaf, and where they are staged
  const view = (j: number) => (codes[j] ? i32 : f32);
  const words = (j: number, a: KernelArray, at: number, len: number) =>
    a.subarray(at / (units[j] as number), Math.ceil((at + len) / (units[j] as number)));
  const staging = (j: number, fl: number) => (regions[j] as number) + fl / (units[j] as number);
  const pend = pendingCopies();
  let fill = 0;
  let count = 0;
  const flush = (): void => {
    if (count === 0) return;
    k.run(tableAt, count, 0);
    copyOutputs(k, nIn, cols, resident, pend);
    fill = 0;
    count = 0;
  };
  for (let l = 0; l < L; l++) {
    const n = ns[l] as number;
    let at = 0;
    while (at < n) {
      let len = Math.min(block - fill, n - at);
      // a chunk that does not end the leaf ends on a multiple of `align`
      if (len < n - at) len -= len % align;
      if (len === 0) {
        flush();
        continue;
      }
      const whole = at === 0 && len === n;
      const e = (tableAt + count * stride) / 4;
      i32[e] = len;
      for (let j = 0; j < A; j++) {
        // an array resident in the arena is worked on in place (`r` its word offset there)
        const r = resident === null ? -1 : ((resident[j] as Int32Array)[l] as number);
        if (r >= 0) {
          i32[e + 1 + j] = (r + at / (units[j] as number)) * 4;
          continue;
        }
        i32[e + 1 + j] = staging(j, fill) * 4;
        if (j >= nIn) continue;
        const src = (cols[j] as KernelArray[])[l] as KernelArray;
        view(j).set(whole ? src : words(j, src, at, len), staging(j, fill));
      }
      for (let s = 0; s < perLeafScalars; s++) f32[e + 1 + A + s] = leafScalars[l * perLeafScalars + s] as number;
      pend.leaf.push(l);
      pend.at.push(at);
      pend.len.push(len);
      pend.fill.push(fill);
      count++;
      fill += Math.ceil(len / align) * align;
      at += len;
      if (fill >= block || count === MAX_PACK) flush();
    }
  }
  flush();
}

/** Whether a backend array holds a tensor's data as a kernel reads it: float32, or int32 code words. */
function residentArray(values: unknown, dtype: string): boolean {
  return dtype === 'int32' ? values instanceof Int32Array : values instanceof Float32Array;
}

/** The fused device of a tfjs `cpu` backend, or `null` when its arrays cannot be reached (for {@link registerFusedDevice}). */
export function cpuDeviceOf(backend: tf.KernelBackend): CpuDevice | null {
  return typeof (backend as unknown as { data?: unknown }).data === 'object' ? new CpuDevice(backend) : null;
}

/** The fused device of a `cpu` backend. */
export class CpuDevice implements Device {
  readonly name = 'cpu' as const;
  private readonly b: CpuBackendLike;

  constructor(readonly backend: tf.KernelBackend) {
    this.b = backend as CpuBackendLike;
  }

  /** The backend's array of a tensor (float32, or the int32 code words of a packed slot). */
  values(t: tf.Tensor): Float32Array {
    return (this.b.data.get(t.dataId) as CpuData).values as Float32Array;
  }

  resident(t: tf.Tensor): boolean {
    return residentArray(this.b.data.get(t.dataId)?.values, t.dtype);
  }

  exclusive(t: tf.Tensor): boolean {
    const d = this.b.data.get(t.dataId);
    if (d === undefined || d.refCount !== 1) return false;
    // a contiguous tf.slice on cpu shares its source's buffer: only a tensor
    // whose array spans its whole buffer owns it
    const v = d.values;
    return (v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) || isResident(t.dataId, v);
  }

  dataRecord(t: tf.Tensor): { readonly refCount: number } | undefined {
    return this.b.data.get(t.dataId);
  }

  readScalar(t: tf.Tensor): number {
    return this.values(t)[0] as number;
  }

  alloc(shape: readonly number[], dtype: 'float32' | 'int32' = 'float32'): tf.Tensor {
    const size = tf.util.sizeFromShape(shape as number[]);
    const values = dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
    const dataId = this.b.write(values, shape as number[], dtype);
    return tf.engine().makeTensorFromDataId(dataId as never, shape as number[], dtype, this.backend);
  }

  partial(op: PartialOp, t: tf.Tensor): number {
    const a = this.values(t);
    const n = a.length;
    const r = stagedReducer();
    if (r !== null) {
      // block by block through the SIMD reduction (float64 sums, as tfjs's Sum; another order),
      // in place where the array is resident in an arena, else copied into the staging block
      const arena = Arena.holding(a);
      const inPlace = arena?.holds(t.dataId, a) === true ? (arena as Arena).instance(r.mod) : null;
      const fns = inPlace === null ? r.fns : (inPlace as unknown as Reducers);
      let acc = 0;
      for (let at = 0; at < n; at += BLOCK) {
        const len = Math.min(BLOCK, n - at);
        if (inPlace === null) r.f32.set(at === 0 && len === n ? a : a.subarray(at, at + len), 0);
        const v = fns[op](inPlace === null ? 0 : a.byteOffset + 4 * at, len);
        acc = op === 'maxAbs' ? (Number.isNaN(v) || v > acc ? v : acc) : acc + v;
      }
      return Math.fround(acc);
    }
    // float64 sums of float32 values (squares rounded to float32, as tf.square gives them), in order
    if (op === 'sumSq') {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const x = a[i] as number;
        s += Math.fround(x * x);
      }
      return Math.fround(s);
    }
    if (op === 'sum') {
      let s = 0;
      for (let i = 0; i < n; i++) s += a[i] as number;
      return Math.fround(s);
    }
    if (n === 0) return 0;
    let m = Math.abs(a[0] as number);
    for (let i = 0; i < n; i++) {
      const x = Math.abs(a[i] as number);
      if (Number.isNaN(x) || x > m) m = x;
    }
    return m;
  }

  allFinite(t: tf.Tensor): boolean {
    const a = this.values(t);
    const r = stagedReducer();
    for (let at = 0; at < a.length; at += BLOCK) {
      const len = Math.min(BLOCK, a.length - at);
      const block = at === 0 && len === a.length ? a : a.subarray(at, at + len);
      if (r !== null) r.f32.set(block, 0);
      if ((r === null ? nonFinite(block) : r.fns.nonFinite(0, len)) !== 0) return false;
    }
    return true;
  }

  setScalar(t: tf.Tensor, value: number): void {
    this.values(t)[0] = value;
  }

  prepare(ir: KernelIR): boolean {
    if (hasPacked(ir) && !LITTLE_ENDIAN) return false;
    if (!ir.transcendental && stagedKernel(ir) !== null) return true;
    return jsKernel(ir) !== null;
  }

  launch(ir: KernelIR, columns: readonly (readonly tf.Tensor[])[], reductions: LaunchReductions): Launch {
    return hostReducedLaunch(ir, columns, this.kernelLaunch(ir, columns), reductions, this);
  }

  /**
   * The kernel of `ir` bound to `columns`, without reductions: the staged
   * SIMD kernel, or the JS loop (which works on the backend's arrays in
   * place). A launch run a second time (a replayed step) makes the arrays it
   * writes resident (see {@link ResidentColumns}), so the SIMD kernel works
   * on them in place and copies only what it merely reads.
   */
  kernelLaunch(ir: KernelIR, columns: readonly (readonly tf.Tensor[])[]): KernelLaunch {
    const records = columns.map((c) => c.map((t) => this.b.data.get(t.dataId) as CpuData));
    const ids = columns.map((c) => c.map((t) => t.dataId as object));
    const cols = records.map((c) => c.map((r) => r.values));
    const L = columns[0]?.length ?? 0;
    const perLeafScalars = leafScalarCount(ir);
    const nIn = ir.inputs.length;
    const staged = ir.transcendental ? null : stagedKernel(ir);
    const js = staged === null ? jsKernel(ir) : null;
    if (staged === null && js === null) throw new Error('gradtx: no kernel for this backend (code generation is blocked)');
    const ns = Int32Array.from(columns[elementColumn(ir)] ?? [], (t) => t.size);
    const resident = staged === null ? null : new ResidentColumns(ir, ids, records, cols as ResidentArray[][]);
    let runs = 0;
    return {
      setColumn: (j, tensors) => {
        const col = cols[j] as ResidentArray[];
        const recs = records[j] as CpuData[];
        const colIds = ids[j] as object[];
        for (let l = 0; l < L; l++) {
          const t = tensors[l] as tf.Tensor;
          const d = this.b.data.get(t.dataId);
          if (d === undefined || !residentArray(d.values, t.dtype)) return false;
          col[l] = d.values as ResidentArray;
          recs[l] = d;
          colIds[l] = t.dataId;
        }
        resident?.rebound(j);
        return true;
      },
      run: (scalars, leafScalars) => {
        runs++;
        // an array may have been re-pointed since (a resident array adopted by another launch): read them again
        let changed = false;
        for (let j = 0; j < cols.length; j++) {
          const col = cols[j] as ResidentArray[];
          const recs = records[j] as CpuData[];
          for (let l = 0; l < L; l++) {
            const v = (recs[l] as CpuData).values as ResidentArray;
            if (v !== col[l]) {
              col[l] = v;
              changed = true;
            }
          }
        }
        if (staged === null) {
          (js as JsKernel)(L, ns, cols.slice(0, nIn), cols.slice(nIn), scalars, leafScalars);
          return;
        }
        const inPlace = runs > 1 && resident !== null ? resident.ready(changed) : null;
        if (inPlace === null) runStaged(staged, nIn, cols, ns, L, scalars, leafScalars, perLeafScalars);
        else runStaged(inPlace, nIn, cols, ns, L, scalars, leafScalars, perLeafScalars, (resident as ResidentColumns).offsets);
      },
    };
  }
}

/**
 * The columns of a replayed cpu launch with the arrays it writes resident in
 * an {@link Arena}: adopted at the launch's second run (into the arena that
 * already holds them all, if one does, else a new one), and checked at every
 * run, since another launch may have adopted one of them since (then its
 * values are copied back into this arena's view). `cols` (the arrays the
 * kernel reads and writes) and `offsets` (each array's float offset in the
 * arena, or -1 for one that is staged) follow.
 */
class ResidentColumns {
  private arena: Arena | null = null;
  private kernel: Staged | null = null;
  /** Whether the arena no longer fits the columns (an output column was rebound, or nothing adopted yet). */
  private stale = true;
  /** Whether adoption failed (too large, no room for staging): the launch keeps copying. */
  private failed = false;
  readonly offsets: Int32Array[];

  constructor(
    private readonly ir: KernelIR,
    private readonly ids: readonly object[][],
    private readonly records: readonly CpuData[][],
    private readonly cols: ResidentArray[][],
  ) {
    this.offsets = cols.map((c) => new Int32Array(c.length).fill(-1));
  }

  /** Column `j` was rebound to other tensors. */
  rebound(j: number): void {
    if (j >= this.ir.inputs.length) this.stale = true;
    else if (this.arena !== null) this.locate(j);
  }

  /**
   * The kernel on the arena with the written arrays resident, or null when
   * the launch keeps copying; `changed` says whether an array of the columns
   * was re-pointed since the last run (then a written one that left the
   * arena is copied back into it, and every column is located again).
   */
  ready(changed: boolean): Staged | null {
    if (this.failed) return null;
    if (this.stale) return this.adopt();
    if (!changed) return this.kernel;
    if (!this.writtenIn(this.arena as Arena)) {
      // another launch merged them into its arena: move there; else copy a moved array back into this one
      const written = this.records[this.ir.inputs.length]?.[0];
      const held = written === undefined ? null : Arena.holding(written.values);
      if (held !== null && this.writtenIn(held)) this.use(held);
      else if (!this.settleWritten()) return this.adopt();
    }
    for (let j = 0; j < this.cols.length; j++) this.locate(j);
    return this.kernel;
  }

  /** Whether `arena` holds every array the launch writes. */
  private writtenIn(arena: Arena): boolean {
    for (let j = this.ir.inputs.length; j < this.records.length; j++) {
      const recs = this.records[j] as CpuData[];
      const colIds = this.ids[j] as object[];
      for (let l = 0; l < recs.length; l++) if (!arena.holds(colIds[l] as object, (recs[l] as CpuData).values)) return false;
    }
    return true;
  }

  /** Copies each written array that left this arena, and lies in no other, back into its view here; false if one cannot be. */
  private settleWritten(): boolean {
    const arena = this.arena as Arena;
    for (let j = this.ir.inputs.length; j < this.records.length; j++) {
      const recs = this.records[j] as CpuData[];
      const colIds = this.ids[j] as object[];
      for (let l = 0; l < recs.length; l++) {
        const r = recs[l] as CpuData;
        const id = colIds[l] as object;
        if (arena.holds(id, r.values)) continue;
        if (Arena.holding(r.values) !== null || !arena.settle(id, r)) return false;
      }
    }
    return true;
  }

  /** Runs the kernel on `arena` from now on; false (the launch keeps copying) when its header cannot stage a useful block. */
  private use(arena: Arena): boolean {
    const kernel = arenaKernel(this.ir, arena);
    if (kernel === null) {
      this.failed = true;
      return false;
    }
    this.arena = arena;
    this.kernel = kernel;
    this.stale = false;
    return true;
  }

  /**
   * Adopts the written arrays, with the arrays it reads that another launch
   * made resident, into the arena holding them all, or else into a new one
   * that merges every arena holding one of them (or, when those do not fit
   * one arena, a new one of the written arrays alone); then locates every
   * column.
   */
  private adopt(): Staged | null {
    const nIn = this.ir.inputs.length;
    const written: [object, CpuData][] = [];
    const read: [object, CpuData][] = [];
    const from = new Set<Arena>();
    for (let j = 0; j < this.records.length; j++)
      (this.records[j] as CpuData[]).forEach((r, l) => {
        const id = (this.ids[j] as object[])[l] as object;
        const held = Arena.holding(r.values);
        const resident = held?.holds(id, r.values) === true;
        if (resident) from.add(held as Arena);
        if (j >= nIn) written.push([id, r]);
        else if (resident) read.push([id, r]);
      });
    const entries = [...written, ...read];
    const first = from.size === 1 ? [...from][0] : undefined;
    const arena =
      first !== undefined && entries.every(([id, r]) => first.holds(id, r.values))
        ? first
        : (Arena.adopt(entries, from) ?? Arena.adopt(written));
    if (arena === null || !this.use(arena)) {
      this.failed = true;
      return null;
    }
    for (let j = 0; j < this.cols.length; j++) this.locate(j);
    return this.kernel;
  }

  /** Re-reads column `j`'s arrays from their records and where each lies in the arena (-1: not resident there). */
  private locate(j: number): void {
    const arena = this.arena as Arena;
    const recs = this.records[j] as CpuData[];
    const col = this.cols[j] as ResidentArray[];
    const at = this.offsets[j] as Int32Array;
    for (let l = 0; l < recs.length; l++) {
      const v = (recs[l] as CpuData).values as ResidentArray;
      col[l] = v;
      at[l] = arena.holds((this.ids[j] as object[])[l] as object, v) ? v.byteOffset / 4 : -1;
    }
  }
}
