/**
 * The per-run buffers of a kernel with packed arrays (see `wgsl-packed.ts`):
 * the table `M` of every leaf's start in each table column (then the int8
 * code maps, when the kernel has int8 arrays), and the
 * scratch `Q` where the scales pass builds the new block scales of each
 * int8 output before the device copies them over the scales outputs.
 *
 * @module
 */
import { type KernelIR, storageOf } from '@gradtx/core/engine';
import { type GpuBuffer, type GpuCommandEncoder, Usage, type WebGpuBackendLike } from './gpu.js';
import { columnSize, int8Outputs, packedColumns, unitElements } from './wgsl-packed.js';
import { int8MapTable } from './wgsl-storage.js';

/** The table and scratch of one packed run. */
export interface PackedTables {
  readonly table: GpuBuffer;
  /** The scratch scales (null when the kernel writes no int8 array). */
  readonly scratch: GpuBuffer | null;
  /** Per table column: its offset in the table. */
  readonly colAt: readonly number[];
  /** Where the int8 maps start in the table (after the columns), when the kernel has int8 arrays. */
  readonly mapsAt: number;
  /** Units of the main pass over all leaves. */
  readonly units: number;
  /** Runs of the scales pass over all leaves. */
  readonly runs: number;
  /** Per int8 output index: the offset and the number of its blocks in the scratch. */
  readonly blocks: ReadonlyMap<number, { readonly at: number; readonly count: number }>;
  /** Buffers to give back after the submission. */
  readonly buffers: readonly GpuBuffer[];
}

const SCRATCH = Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST;

/** Writes the table of a run over leaves of `ns` elements and acquires its scratch. */
export function packedTables(b: WebGpuBackendLike, ir: KernelIR, ns: readonly number[]): PackedTables {
  const L = ns.length;
  const G = unitElements(ir);
  const cols = packedColumns(ir);
  const maps = Object.values(ir.packed).some((s) => s.dtype === 'int8') ? int8MapTable() : new Uint32Array(0);
  const mapsAt = cols.length * (L + 1);
  const table = new Uint32Array(mapsAt + maps.length);
  const colAt = cols.map((col, c) => {
    const at = c * (L + 1);
    for (let l = 0; l < L; l++) table[at + l + 1] = (table[at + l] as number) + columnSize(col, ns[l] as number, G);
    return at;
  });
  table.set(maps, mapsAt);
  const tableBuffer = b.bufferManager.acquireBuffer(table.byteLength, Usage.STORAGE | Usage.COPY_DST);
  b.device.queue.writeBuffer(tableBuffer, 0, table);
  const blocks = new Map<number, { at: number; count: number }>();
  let total = 0;
  for (const k of int8Outputs(ir)) {
    const s = storageOf(ir, (ir.outputs[k] as { name: string }).name) as { blockSize: number };
    const count = ns.reduce((a, n) => a + Math.ceil(n / s.blockSize), 0);
    blocks.set(k, { at: total, count });
    total += count;
  }
  const scratch = blocks.size > 0 ? b.bufferManager.acquireBuffer(Math.max(total, 1) * 4, SCRATCH) : null;
  const units = table[(colAt[1] as number) + L] as number;
  const runs = table[(colAt[2] as number) + L] as number;
  return {
    table: tableBuffer,
    scratch,
    colAt,
    mapsAt,
    units,
    runs,
    blocks,
    buffers: scratch === null ? [tableBuffer] : [tableBuffer, scratch],
  };
}

/** Copies each int8 output's new scales from the scratch over its scales output (`k + 1`) at `placeOf(k + 1)`. */
export function copyScales(enc: GpuCommandEncoder, t: PackedTables, placeOf: (k: number) => { buffer: GpuBuffer; offset: number }): number {
  let copies = 0;
  for (const [k, { at, count }] of t.blocks) {
    if (count === 0) continue;
    const to = placeOf(k + 1);
    enc.copyBufferToBuffer(t.scratch as GpuBuffer, at * 4, to.buffer, to.offset * 4, count * 4);
    copies++;
  }
  return copies;
}
