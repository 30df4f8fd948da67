/**
 * The fused device of tfjs's `webgpu` backend: runs the kernels that
 * `wgsl-codegen.ts` prints on the tensors' own GPUBuffers.
 *
 * One step of a fused run is one command buffer on the backend's queue:
 * - a single leaf binds the tensors' buffers directly, and an output written
 *   in place over its (donated) input shares that input's binding;
 * - a tree is gathered into flat buffers (one per array: the updates, the
 *   params, each state slot) with `copyBufferToBuffer`, which is a copy, not
 *   a dispatch; the kernel runs once over all leaves, in place in the flat
 *   buffers; the results are scattered back into the output tensors (the
 *   donated inputs themselves when the step donates them). The flat buffers
 *   come from the backend's buffer pool and go back to it once the commands
 *   are submitted, so after the first step no buffer is created;
 * - reductions (global norms, per-leaf norms) run first as two small
 *   dispatches: per-chunk partials, then per-leaf and global values, written
 *   to a small result buffer that the kernel reads. Nothing is read back to
 *   JavaScript: a step is at most three dispatches whatever the tree (four
 *   with block-wise int8 state, whose block scales take a pass of their own;
 *   see `wgsl-packed.ts`).
 *
 * Per-step scalars are written into a uniform buffer, one field each.
 * Pipelines are cached by their WGSL text, which depends only on the run's
 * shape (its IR and the binding layout), never on values.
 *
 * @module
 */
import {
  type Device,
  type DeviceReduction,
  elementColumn,
  hasPacked,
  type KernelIR,
  type Launch,
  type LaunchReductions,
  partialOf,
  type StateCodec,
  writtenTensors,
} from '@gradtx/core/engine';
import * as tf from '@tensorflow/tfjs-core';
import { type GpuBuffer, type GpuBufferBinding, type GpuComputePipeline, Usage, type WebGpuBackendLike } from './gpu.js';
import { copyScales, type PackedTables, packedTables } from './packed-run.js';
import { webGpuCodec } from './state-codec.js';
import {
  type FinalSpec,
  finalsWgsl,
  hasLeafScalars,
  type KernelLayout,
  kernelWgsl,
  type PartialSpec,
  partialsWgsl,
  readsReductions,
  type Shader,
  WORKGROUP,
} from './wgsl-codegen.js';
import { type PackedPass, type PackedShader, packedKernelWgsl } from './wgsl-packed.js';

/** Elements per chunk of the reduction prelude (a chunk is one workgroup), at least. */
const CHUNK = WORKGROUP * 16;
/** For global reductions alone, chunks grow so that there are at most this many. */
const MAX_CHUNKS = 256;

const STORAGE = Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST;

/** Counts of what the device has recorded, for tests and benchmarks. */
export interface WebGpuStats {
  /** Compute dispatches recorded by fused steps. */
  dispatches: number;
  /** Fused kernel launches (one per fused run of a step). */
  runs: number;
  /** Buffer-to-buffer copies recorded (gathers and scatters of trees). */
  copies: number;
  /** Pipelines compiled. */
  pipelines: number;
}

/** One leaf of a kernel run: its element count and the tensors of each IR input and output. */
export interface LeafJob {
  readonly n: number;
  readonly ins: readonly tf.Tensor[];
  readonly outs: readonly tf.Tensor[];
}

/** Where one IR array lives for one step: its pool and its offset there. */
interface Placement {
  readonly pool: number;
  readonly offset: number;
}

/** The reductions of a run: their sources, the partials (source, base op) and finals (partial, op, scope). */
interface ReductionPlan {
  readonly sourceNames: ('u' | 'p')[];
  readonly sourceTensors: readonly (readonly tf.Tensor[])[];
  readonly partials: PartialSpec[];
  readonly finals: FinalSpec[];
  /** Per reduction: the index of its final. */
  readonly finalOf: number[];
}

/** Where the arrays of a run live: its pools (buffers), and each array's pool and offset. */
interface Placements {
  /** One leaf bound to its tensors' own buffers (no gathers or scatters). */
  readonly direct: boolean;
  readonly pools: GpuBuffer[];
  readonly poolWrite: boolean[];
  readonly inPlace: Placement[];
  readonly outPlace: Placement[];
  readonly srcPlace: Placement[];
  /** Per reduction source: whether it shares a kernel input's region. */
  readonly srcShared: boolean[];
  /** Buffers to give back after the submission. */
  readonly scratch: GpuBuffer[];
}

/** The leaf / chunk tables and reduction results of a run (see `WebGpuDevice.tables`). */
interface Tables {
  meta: GpuBuffer | null;
  results: GpuBuffer | null;
  /** Chunks of the partials pass. */
  chunks: number;
  /** Per final: its index in the results. */
  finalAt: number[];
  /** Positions in `meta` of the segment starts, the segments' first chunks and the chunk starts. */
  lo: number;
  lc: number;
  cs: number;
  segments: number;
  scratch: GpuBuffer[];
}

/** Everything one run records. */
interface Run {
  readonly ir: KernelIR;
  readonly jobs: readonly LeafJob[];
  readonly offsets: Uint32Array;
  readonly N: number;
  readonly scalars: Float64Array;
  readonly reductions: readonly DeviceReduction[];
  readonly red: ReductionPlan;
  readonly place: Placements;
  readonly tables: Tables;
}

type CommandEncoder = NonNullable<WebGpuBackendLike['commandEncoder']>;
type ComputePass = ReturnType<CommandEncoder['beginComputePass']>;

/** Groups a run's reductions into shared partials and finals, and checks that every reduction scalar of the kernel is fed. */
function planReductions(
  ir: KernelIR,
  reductions: readonly DeviceReduction[],
  sources: { readonly u: readonly tf.Tensor[]; readonly p: readonly tf.Tensor[] },
  L: number,
): ReductionPlan {
  const sourceNames: ('u' | 'p')[] = [];
  const partials: PartialSpec[] = [];
  const finals: FinalSpec[] = [];
  const finalOf = reductions.map((r) => {
    let source = sourceNames.indexOf(r.of);
    if (source < 0) source = sourceNames.push(r.of) - 1;
    const op = partialOf(r.op);
    let partial = partials.findIndex((p) => p.source === source && p.op === op);
    if (partial < 0) partial = partials.push({ source, op }) - 1;
    let f = finals.findIndex((x) => x.partial === partial && x.op === r.op && x.scope === r.scope);
    if (f < 0) f = finals.push({ partial, op: r.op, scope: r.scope }) - 1;
    return f;
  });
  for (const s of ir.scalars.keys()) {
    const ref = ir.scalars[s];
    if (ref?.source !== 'param' && !reductions.some((r) => r.scalar === s)) {
      throw new Error(`gradtx/webgpu: no reduction feeds the kernel scalar ${ref?.name}`);
    }
  }
  const sourceTensors = sourceNames.map((name) => (name === 'u' ? sources.u : sources.p));
  for (const ts of sourceTensors)
    if (ts.length !== L) throw new Error('gradtx/webgpu: a reduction source does not have one tensor per leaf');
  return { sourceNames, sourceTensors, partials, finals, finalOf };
}

/** Chunks that never span two leaves; the segments are the leaves. */
function leafChunks(offsets: Uint32Array): { chunkStarts: number[]; segStarts: Uint32Array; segChunk: Uint32Array } {
  const L = offsets.length - 1;
  const chunkStarts: number[] = [];
  const segChunk = new Uint32Array(L + 1);
  for (let l = 0; l < L; l++) {
    segChunk[l] = chunkStarts.length;
    for (let at = offsets[l] as number; at < (offsets[l + 1] as number); at += CHUNK) chunkStarts.push(at);
  }
  segChunk[L] = chunkStarts.length;
  chunkStarts.push(offsets[L] as number);
  return { chunkStarts, segStarts: offsets, segChunk };
}

/** Chunks spread evenly over all `N` elements (at most {@link MAX_CHUNKS}); each chunk is a segment. */
function evenChunks(N: number): { chunkStarts: number[]; segStarts: Uint32Array; segChunk: Uint32Array } {
  const size = Math.max(CHUNK, Math.ceil(N / MAX_CHUNKS / WORKGROUP) * WORKGROUP);
  const chunkStarts: number[] = [];
  for (let at = 0; at < N; at += size) chunkStarts.push(at);
  const segments = chunkStarts.length;
  const segChunk = Uint32Array.from({ length: segments + 1 }, (_, c) => c);
  const segStarts = Uint32Array.from([...chunkStarts, N]);
  chunkStarts.push(N);
  return { chunkStarts, segStarts, segChunk };
}

/**
 * Regions (of `sizes` elements) to pools: one each when `maxPools` allows,
 * else round-robin, end to end in each pool; throws where a pool would
 * exceed the device's buffer limits.
 */
function poolRegions(
  sizes: readonly number[],
  maxPools: number,
  limits: { readonly maxStorageBufferBindingSize: number; readonly maxBufferSize: number },
): { regionPool: number[]; regionOffset: number[]; poolElems: number[] } {
  const P = Math.min(sizes.length, maxPools);
  const regionPool = sizes.map((_, r) => r % P);
  const poolElems = Array.from({ length: P }, () => 0);
  const regionOffset = sizes.map((size, r) => {
    const at = poolElems[r % P] as number;
    poolElems[r % P] = at + size;
    return at;
  });
  for (const elems of poolElems) {
    if (elems * 4 > limits.maxStorageBufferBindingSize || elems * 4 > limits.maxBufferSize) {
      throw new Error(
        `gradtx/webgpu: a flat buffer of ${elems * 4} bytes exceeds the device's limits (maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize})`,
      );
    }
  }
  return { regionPool, regionOffset, poolElems };
}

/** The fused device of a tfjs `webgpu` backend. */
export class WebGpuDevice implements Device {
  readonly name = 'webgpu';
  readonly stats: WebGpuStats = { dispatches: 0, runs: 0, copies: 0, pipelines: 0 };
  private readonly b: WebGpuBackendLike;
  private readonly pipelines = new Map<string, GpuComputePipeline>();
  private readonly shaders = new Map<string, Shader>();
  /** Packed state encoded and decoded by WGSL kernels, bit for bit the host codecs (tfjs-webgpu's int32 ops run in float32). */
  readonly codec: StateCodec;

  constructor(readonly backend: WebGpuBackendLike) {
    this.b = backend;
    this.codec = webGpuCodec(this);
  }

  private data(t: tf.Tensor) {
    return this.b.tensorMap.get(t.dataId);
  }

  resident(t: tf.Tensor): boolean {
    const d = this.data(t);
    const dtype = d?.dtype === 'float32' || d?.dtype === 'int32' ? d.dtype : null;
    return d !== undefined && dtype === t.dtype && (d.resource == null || isBuffer(d.resource));
  }

  exclusive(t: tf.Tensor): boolean {
    const d = this.data(t);
    return d !== undefined && d.refCount === 1 && d.external !== true;
  }

  alloc(shape: readonly number[], dtype: 'float32' | 'int32' = 'float32'): tf.Tensor {
    const info = this.b.makeTensorInfo(shape as number[], dtype);
    return tf.engine().makeTensorFromTensorInfo(info, this.backend);
  }

  prepare(ir: KernelIR): boolean {
    // a kernel needs a binding per distinct array at most; it always fits, pooled if need be
    return ir.inputs.length + ir.outputs.length > 0;
  }

  /**
   * Binds the kernel of `ir` to `columns` (the IR's inputs, then its outputs,
   * one tensor per leaf each) and to the run's `reductions`. Each `run` of
   * the launch is one command buffer (see {@link runReduced}): the
   * reductions run on the GPU, nothing is read back.
   */
  launch(ir: KernelIR, columns: readonly (readonly tf.Tensor[])[], reductions: LaunchReductions): Launch {
    const cols = columns.map((c) => [...c]);
    const nIn = ir.inputs.length;
    const L = cols[0]?.length ?? 0;
    const sized = elementColumn(ir);
    let sources = { u: [...reductions.u], p: [...reductions.p] };
    const list = reductions.list;
    const rebind = (tensors: readonly tf.Tensor[]) => tensors.length === L && tensors.every((t) => this.resident(t));
    // the records of the buffers it writes: each must still be its tensor's alone at every run
    let records = writtenTensors(ir, cols, reductions).map((t) => this.data(t));
    return {
      setColumn: (j, tensors) => {
        if (!rebind(tensors)) return false;
        cols[j] = [...tensors];
        if (j >= nIn) records = writtenTensors(ir, cols, reductions).map((t) => this.data(t));
        return true;
      },
      setUpdates: (tensors) => {
        if (!rebind(tensors)) return false;
        sources = { ...sources, u: [...tensors] };
        return true;
      },
      run: (scalars) => {
        for (const r of records) if (r?.refCount !== 1) return false;
        const jobs: LeafJob[] = [];
        for (let l = 0; l < L; l++) {
          jobs.push({
            n: ((cols[sized] as tf.Tensor[])[l] as tf.Tensor).size,
            ins: cols.slice(0, nIn).map((c) => c[l] as tf.Tensor),
            outs: cols.slice(nIn).map((c) => c[l] as tf.Tensor),
          });
        }
        this.runReduced(ir, jobs, scalars, list, sources);
        return true;
      },
    };
  }

  /**
   * Runs the kernel of `ir` over every leaf in one dispatch, after computing
   * `reductions` on the GPU (two more dispatches when there are any):
   * reductions that feed an IR scalar fill it, and those with a `target`
   * write their value into that scalar tensor.
   */
  runReduced(
    ir: KernelIR,
    jobs: readonly LeafJob[],
    scalars: Float64Array,
    reductions: readonly DeviceReduction[],
    sources: { readonly u: readonly tf.Tensor[]; readonly p: readonly tf.Tensor[] },
  ): void {
    const b = this.b;
    const L = jobs.length;
    const offsets = new Uint32Array(L + 1);
    for (let l = 0; l < L; l++) offsets[l + 1] = (offsets[l] as number) + (jobs[l] as LeafJob).n;
    const N = offsets[L] as number;
    const red = planReductions(ir, reductions, sources, L);
    this.upload(jobs, red, reductions);
    const packed = hasPacked(ir);
    // the reduction results and the tables, and the scratch scales of a packed kernel
    const reserved = packed ? 3 : red.finals.length > 0 || hasLeafScalars(ir) ? 2 : 0;
    const maxPools = Math.max(1, b.device.limits.maxStorageBuffersPerShaderStage - reserved);
    const direct = L === 1 && N > 0 && this.directFits(jobs[0] as LeafJob, red.sourceTensors, maxPools);
    const place = direct ? this.placeDirect(jobs[0] as LeafJob, red) : this.placeFlat(ir, jobs, red, N, maxPools);
    const tables = this.tables(ir, red, offsets, N);
    const ns = jobs.map((j) => j.n);
    const run: Run = { ir, jobs, offsets, N, scalars, reductions, red, place, tables };
    this.record(run, packed ? packedTables(b, ir, ns) : null);
    this.stats.runs++;
    for (const j of jobs) for (const t of j.outs) this.written(t);
    for (const r of reductions) if (r.target) this.written(r.target);
  }

  /** Records a run on the backend's command encoder (gathers, the passes, scatters, reduction targets) and submits it. */
  private record(run: Run, pt: PackedTables | null): void {
    const b = this.b;
    b.ensureCommandEncoderReady();
    b.endComputePassEncoder();
    const enc = b.commandEncoder;
    if (enc === null) throw new Error('gradtx/webgpu: the backend has no command encoder');
    if (!run.place.direct) this.gather(enc, run);
    if (pt?.scratch) enc.clearBuffer(pt.scratch);
    const pass = enc.beginComputePass();
    this.dispatchReductions(pass, run);
    if (pt === null) this.dispatchKernel(pass, run);
    else this.dispatchPacked(pass, run, pt);
    pass.end();
    if (pt !== null) this.stats.copies += copyScales(enc, pt, (k) => this.outputAt(run, k));
    if (!run.place.direct) this.scatter(enc, run);
    this.copyTargets(enc, run);
    // the scratch buffers go back to the pool once the commands are submitted
    b.uniformPendingDisposal.push(...run.place.scratch, ...run.tables.scratch, ...(pt?.buffers ?? []));
    b.submitQueue();
  }

  /** Every tensor of the run on the GPU, owned by the command queue. */
  private upload(jobs: readonly LeafJob[], red: ReductionPlan, reductions: readonly DeviceReduction[]): void {
    const touched: tf.Tensor[] = [];
    for (const j of jobs) touched.push(...j.ins, ...j.outs);
    for (const ts of red.sourceTensors) touched.push(...ts);
    for (const r of reductions) if (r.target) touched.push(r.target);
    for (const t of touched) {
      this.b.uploadToGPU(t.dataId);
      this.b.commandQueueOwnedIds.add(t.dataId);
    }
  }

  /** Direct placement (one leaf): every array is its tensor's own buffer. */
  private placeDirect(job: LeafJob, red: ReductionPlan): Placements {
    const pools: GpuBuffer[] = [];
    const poolWrite: boolean[] = [];
    const index = new Map<GpuBuffer, number>();
    const place = (t: tf.Tensor, write: boolean): Placement => {
      const buf = this.buffer(t);
      let pool = index.get(buf);
      if (pool === undefined) {
        pool = pools.push(buf) - 1;
        poolWrite.push(false);
        index.set(buf, pool);
      }
      if (write) poolWrite[pool] = true;
      return { pool, offset: 0 };
    };
    const outPlace = job.outs.map((t) => place(t, true));
    const inPlace = job.ins.map((t) => place(t, false));
    const srcPlace = red.sourceTensors.map((ts) => place(ts[0] as tf.Tensor, false));
    return { direct: true, pools, poolWrite, inPlace, outPlace, srcPlace, srcShared: [], scratch: [] };
  }

  /**
   * Flat placement: one region per IR input in pooled scratch buffers, its
   * leaves end to end (`N` elements, or the words / blocks of a packed
   * array); an output of the same name reuses its input's region, in place
   * in the scratch; a reduction source that is also a kernel input shares it.
   */
  private placeFlat(ir: KernelIR, jobs: readonly LeafJob[], red: ReductionPlan, N: number, maxPools: number): Placements {
    const regions: string[] = [];
    const sizes: number[] = [];
    const regionOf = (name: string, size: number): number => {
      let r = regions.indexOf(name);
      if (r < 0) r = regions.push(name) - 1;
      sizes[r] = Math.max(sizes[r] ?? 1, size);
      return r;
    };
    const total = (ts: readonly tf.Tensor[]) => ts.reduce((a, t) => a + t.size, 0);
    const inRegion = ir.inputs.map((name, j) => regionOf(name, total(jobs.map((job) => job.ins[j] as tf.Tensor))));
    const outRegion = ir.outputs.map((o, k) => regionOf(o.name, total(jobs.map((job) => job.outs[k] as tf.Tensor))));
    const srcShared = red.sourceNames.map((name, j) => {
      const k = ir.inputs.indexOf(name);
      return k >= 0 && jobs.every((job, l) => job.ins[k] === (red.sourceTensors[j] as readonly tf.Tensor[])[l]);
    });
    const srcRegion = red.sourceNames.map((name, j) => regionOf(srcShared[j] ? name : `#${name}`, N));
    const written = new Set(outRegion);
    const { regionPool, regionOffset, poolElems } = poolRegions(sizes, maxPools, this.b.device.limits);
    const pools = poolElems.map((elems) => this.b.bufferManager.acquireBuffer(elems * 4, STORAGE));
    const poolWrite = pools.map((_, p) => regions.some((_, r) => regionPool[r] === p && written.has(r)));
    const at = (r: number): Placement => ({ pool: regionPool[r] as number, offset: regionOffset[r] as number });
    return {
      direct: false,
      pools,
      poolWrite,
      inPlace: inRegion.map(at),
      outPlace: outRegion.map(at),
      srcPlace: srcRegion.map(at),
      srcShared,
      scratch: [...pools],
    };
  }

  /**
   * The small buffers of a run: the leaf / chunk tables and the reduction
   * results. The finals pass reads "segments": the leaves when a per-leaf
   * value is needed (chunks never span two leaves), else the chunks
   * themselves, spread evenly (at most a few hundred workgroups).
   */
  private tables(ir: KernelIR, red: ReductionPlan, offsets: Uint32Array, N: number): Tables {
    const L = offsets.length - 1;
    const perLeaf = hasLeafScalars(ir);
    const out: Tables = { meta: null, results: null, chunks: 0, finalAt: [], lo: 0, lc: L + 1, cs: 2 * (L + 1), segments: L, scratch: [] };
    if (red.finals.length === 0 && !perLeaf) return out;
    const { chunkStarts, segStarts, segChunk } =
      perLeaf || red.finals.some((f) => f.scope === 'leaf') ? leafChunks(offsets) : evenChunks(N);
    const segments = segStarts.length - 1;
    const C = chunkStarts.length - 1;
    out.segments = segments;
    out.chunks = C;
    out.lc = segments + 1;
    out.cs = 2 * (segments + 1);
    const table = new Uint32Array(2 * (segments + 1) + C + 1);
    table.set(segStarts, out.lo);
    table.set(segChunk, out.lc);
    table.set(chunkStarts, out.cs);
    out.meta = this.b.bufferManager.acquireBuffer(table.byteLength, Usage.STORAGE | Usage.COPY_DST);
    this.b.device.queue.writeBuffer(out.meta, 0, table);
    out.scratch.push(out.meta);
    let at = C * red.partials.length;
    for (const f of red.finals) {
      out.finalAt.push(at);
      at += f.scope === 'global' ? 1 : L;
    }
    out.results = this.b.bufferManager.acquireBuffer(Math.max(at, 1) * 4, Usage.STORAGE | Usage.COPY_SRC);
    out.scratch.push(out.results);
    return out;
  }

  /** Copies every leaf of the kernel's inputs and of the reduction sources into their regions of the pools. */
  private gather(enc: CommandEncoder, run: Run): void {
    const { jobs, place } = run;
    const gather = (ts: readonly tf.Tensor[], p: Placement) => {
      let at = p.offset;
      for (const t of ts) {
        if (t.size > 0) {
          enc.copyBufferToBuffer(this.buffer(t), 0, place.pools[p.pool] as GpuBuffer, at * 4, t.size * 4);
          this.stats.copies++;
        }
        at += t.size;
      }
    };
    for (let j = 0; j < run.ir.inputs.length; j++) {
      gather(
        jobs.map((job) => job.ins[j] as tf.Tensor),
        place.inPlace[j] as Placement,
      );
    }
    run.red.sourceTensors.forEach((ts, j) => {
      if (!place.srcShared[j]) gather(ts, place.srcPlace[j] as Placement);
    });
  }

  /** The bindings of the pools in `used` (binding `p + 1` for pool `p`). */
  private poolBindings(pools: readonly GpuBuffer[], used: ReadonlySet<number>): { binding: number; resource: GpuBufferBinding }[] {
    return pools.flatMap((buf, p) => (used.has(p) ? [{ binding: p + 1, resource: { buffer: buf } as GpuBufferBinding }] : []));
  }

  /** The two reduction passes: partials per chunk, then the finals (per leaf and global). */
  private dispatchReductions(pass: ComputePass, run: Run): void {
    const { place, tables, red } = run;
    const { partials, finals } = red;
    if (finals.length === 0) return;
    const pools = place.pools;
    if (tables.chunks > 0) {
      const sourcePools = place.srcPlace.map((p) => p.pool);
      const shader = this.shader(`p|${pools.length}|${JSON.stringify(partials)}|${sourcePools}`, () =>
        partialsWgsl(
          partials,
          pools.map(() => ({ write: false })),
          sourcePools,
        ),
      );
      const values: Record<string, number> = { nc: tables.chunks, cs: tables.cs };
      place.srcPlace.forEach((p, j) => {
        values[`o${j}`] = p.offset;
      });
      const used = new Set(partials.map((p) => (place.srcPlace[p.source] as Placement).pool));
      const bindings = [...this.poolBindings(pools, used), ...this.tail(pools.length, tables.results, tables.meta)];
      this.dispatch(pass, shader, values, bindings, tables.chunks);
    }
    const shader = this.shader(`f|${JSON.stringify(partials)}|${JSON.stringify(finals)}`, () => finalsWgsl(partials, finals));
    const values: Record<string, number> = { nl: tables.segments, lo: tables.lo, lc: tables.lc };
    tables.finalAt.forEach((at, j) => {
      values[`f${j}`] = at;
    });
    const bindings = [
      { binding: 1, resource: { buffer: tables.results as GpuBuffer } },
      { binding: 2, resource: { buffer: tables.meta as GpuBuffer } },
    ];
    this.dispatch(pass, shader, values, bindings, 1);
  }

  /** The kernel pass over all `N` elements of the run. */
  private dispatchKernel(pass: ComputePass, run: Run): void {
    const { ir, place, tables, N } = run;
    if (N === 0 || ir.outputs.length === 0) return;
    const layout: KernelLayout = {
      pools: place.poolWrite.map((write) => ({ write })),
      inPool: place.inPlace.map((p) => p.pool),
      outPool: place.outPlace.map((p) => p.pool),
    };
    const shader = this.shader(`k|${ir.signature}|${JSON.stringify(layout)}`, () => kernelWgsl(ir, layout));
    const values = this.kernelValues(run, N);
    const pools = place.pools;
    const used = new Set([...layout.inPool, ...layout.outPool]);
    const tail: { binding: number; resource: GpuBufferBinding }[] = [];
    if (readsReductions(ir)) tail.push({ binding: pools.length + 1, resource: { buffer: tables.results as GpuBuffer } });
    if (hasLeafScalars(ir)) tail.push({ binding: pools.length + 2, resource: { buffer: tables.meta as GpuBuffer } });
    this.dispatch(pass, shader, values, [...this.poolBindings(pools, used), ...tail], Math.ceil(N / WORKGROUP));
  }

  /** The uniforms of a kernel of `n` invocations: counts, its arrays' offsets in their pools, its scalars. */
  private kernelValues(run: Run, n: number): Record<string, number> {
    const values: Record<string, number> = { n, nl: run.jobs.length };
    run.place.inPlace.forEach((p, j) => {
      values[`i${j}`] = p.offset;
    });
    run.place.outPlace.forEach((p, k) => {
      values[`w${k}`] = p.offset;
    });
    run.ir.scalars.forEach((s, idx) => {
      if (s.source === 'param') values[`k${idx}`] = run.scalars[idx] as number;
      else {
        const r = run.reductions.findIndex((x) => x.scalar === idx);
        values[`r${idx}`] = run.tables.finalAt[run.red.finalOf[r] as number] as number;
      }
    });
    return values;
  }

  /** The kernel of an IR with packed arrays: its scales pass when it writes int8 arrays, then its main pass (see `wgsl-packed.ts`). */
  private dispatchPacked(pass: ComputePass, run: Run, pt: PackedTables): void {
    if (run.N === 0 || run.ir.outputs.length === 0) return;
    const layout: KernelLayout = {
      pools: run.place.poolWrite.map((write) => ({ write })),
      inPool: run.place.inPlace.map((p) => p.pool),
      outPool: run.place.outPlace.map((p) => p.pool),
    };
    const passes: PackedPass[] = pt.scratch === null ? ['main'] : ['scales', 'main'];
    for (const which of passes) {
      const key = `pk|${which}|${run.ir.signature}|${JSON.stringify(layout)}`;
      const shader = this.shader(key, () => packedKernelWgsl(run.ir, layout, which)) as PackedShader;
      const n = which === 'main' ? pt.units : pt.runs;
      const values = this.kernelValues(run, n);
      pt.colAt.forEach((at, c) => {
        values[`t${c}`] = at;
      });
      for (const [k, { at }] of pt.blocks) values[`q${k}`] = at;
      values.tm = pt.mapsAt;
      const P = run.place.pools.length;
      const bindings = this.poolBindings(run.place.pools, new Set(shader.pools));
      if (shader.results) bindings.push({ binding: P + 1, resource: { buffer: run.tables.results as GpuBuffer } });
      bindings.push({ binding: P + 2, resource: { buffer: pt.table } });
      if (shader.scratch) bindings.push({ binding: P + 3, resource: { buffer: pt.scratch as GpuBuffer } });
      this.dispatch(pass, shader, values, bindings, Math.ceil(n / WORKGROUP));
    }
  }

  /** The buffer and element offset of output `k`'s region (its tensor's buffer for a direct run). */
  private outputAt(run: Run, k: number): { buffer: GpuBuffer; offset: number } {
    const p = run.place.outPlace[k] as Placement;
    return { buffer: run.place.pools[p.pool] as GpuBuffer, offset: p.offset };
  }

  /** Copies every leaf of the kernel's outputs from its region of the pools back to its tensor. */
  private scatter(enc: CommandEncoder, run: Run): void {
    const { place } = run;
    run.ir.outputs.forEach((_, k) => {
      const p = place.outPlace[k] as Placement;
      let at = p.offset;
      for (const job of run.jobs) {
        const t = job.outs[k] as tf.Tensor;
        if (t.size > 0) {
          enc.copyBufferToBuffer(place.pools[p.pool] as GpuBuffer, at * 4, this.buffer(t), 0, t.size * 4);
          this.stats.copies++;
        }
        at += t.size;
      }
    });
  }

  /** Writes each reduction kept in the state into its target tensor. */
  private copyTargets(enc: CommandEncoder, run: Run): void {
    run.reductions.forEach((r, i) => {
      if (r.target === null || r.target === undefined) return;
      if (r.scope !== 'global') throw new Error('gradtx/webgpu: only a global reduction can be kept in the state');
      const at = run.tables.finalAt[run.red.finalOf[i] as number] as number;
      enc.copyBufferToBuffer(run.tables.results as GpuBuffer, at * 4, this.buffer(r.target), 0, 4);
      this.stats.copies++;
    });
  }

  /** Whether a single leaf can bind every distinct buffer it touches directly. */
  private directFits(job: LeafJob, sources: readonly (readonly tf.Tensor[])[], maxPools: number): boolean {
    const bufs = new Set<unknown>();
    for (const t of [...job.ins, ...job.outs, ...sources.map((s) => s[0] as tf.Tensor)]) bufs.add(this.data(t)?.resource);
    return bufs.size <= maxPools;
  }

  private tail(P: number, results: GpuBuffer | null, meta: GpuBuffer | null): { binding: number; resource: GpuBufferBinding }[] {
    return [
      { binding: P + 1, resource: { buffer: results as GpuBuffer } },
      { binding: P + 2, resource: { buffer: meta as GpuBuffer } },
    ];
  }

  /** Records one dispatch of `shader` with its uniforms (`values` by field name) and bindings, over `groups` workgroups. */
  private dispatch(
    pass: ComputePass,
    shader: Shader,
    values: Record<string, number>,
    bindings: { binding: number; resource: GpuBufferBinding }[],
    groups: number,
  ): void {
    const pipeline = this.pipeline(shader.code);
    const uniform = this.b.makeUniforms(
      shader.uniforms.map((f) => {
        const v = values[f.name];
        if (v === undefined) throw new Error(`gradtx/webgpu: no value for the uniform ${f.name}`);
        return { type: f.type === 'u32' ? 'uint32' : 'float32', data: [v] };
      }),
    );
    const group = this.b.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: uniform }, ...bindings],
    });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    const max = this.b.device.limits.maxComputeWorkgroupsPerDimension;
    const x = Math.min(groups, max);
    const y = Math.ceil(groups / x);
    pass.dispatchWorkgroups(x, y, 1);
    this.stats.dispatches++;
  }

  /** A generated shader, made once per key (the run's shape and binding layout). */
  private shader(key: string, make: () => Shader): Shader {
    let sh = this.shaders.get(key);
    if (sh === undefined) {
      sh = make();
      this.shaders.set(key, sh);
    }
    return sh;
  }

  private pipeline(code: string): GpuComputePipeline {
    let p = this.pipelines.get(code);
    if (p === undefined) {
      const device = this.b.device;
      p = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
      this.pipelines.set(code, p);
      this.stats.pipelines++;
    }
    return p;
  }

  /** The GPUBuffer of a tensor (uploaded first if its data is still on the CPU). */
  private buffer(t: tf.Tensor): GpuBuffer {
    this.b.uploadToGPU(t.dataId);
    const r = this.data(t)?.resource;
    if (!isBuffer(r)) throw new Error('gradtx/webgpu: a tensor has no GPUBuffer (a texture-backed tensor?)');
    return r;
  }

  /** After a write into a tensor's buffer: drop the backend's cached CPU copy, now stale. */
  private written(t: tf.Tensor): void {
    const d = this.data(t);
    if (d) d.values = null;
  }
}

function isBuffer(x: unknown): x is GpuBuffer {
  return typeof x === 'object' && x !== null && typeof (x as GpuBuffer).size === 'number' && typeof (x as GpuBuffer).usage === 'number';
}
