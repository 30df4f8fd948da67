/**
 * Resident arrays for the cpu device's replayed launches: a WebAssembly
 * memory that holds the arrays a launch writes at every step (the params,
 * the slots), so its SIMD kernel runs on them in place, and only the arrays
 * it merely reads (the gradients) are copied in, block by block.
 *
 * tfjs's cpu backend keeps each tensor's data as a `Float32Array` (an
 * `Int32Array` for the code words of a packed slot) in
 * `backend.data.get(dataId).values`, which every cpu kernel, `dataSync()`
 * and `data()` read. Adopting a tensor copies its values once into a region
 * of an arena and replaces that array by a view of the region, of the same type:
 * the tensor keeps its values and its dataId, and tfjs works on the view as
 * on any array. An arena is sized once, for the arrays it adopts, and never
 * grows, so its views are never detached; it is freed by the garbage
 * collector once no tensor and no launch refers to it. A launch whose arrays
 * lie in several arenas (the launches of one optimizer adopt in turn) merges
 * them into a new one, so that the launches of a step end up on one arena
 * and read each other's arrays in place.
 *
 * @module
 */

/** The bytes at the start of an arena for a launch's scalars, table and staging regions (launches on one arena share them: they run one at a time). */
export const ARENA_HEADER_BYTES = 1 << 20;

/** Arenas stop at 1 GiB (byte offsets stay positive 32-bit integers in the kernels' tables). */
const MAX_ARENA_BYTES = 1 << 30;

/** The arrays an arena adopts: float32 values, or int32 code words (4 bytes an element either way). */
export type ResidentArray = Float32Array | Int32Array;

function isResidentType(values: unknown): values is ResidentArray {
  return values instanceof Float32Array || values instanceof Int32Array;
}

/** What the arena needs of a backend record: tfjs-backend-cpu's `{ values, refCount }`. */
export interface ArrayRecord {
  values: unknown;
  readonly refCount: number;
}

const arenaOf = new WeakMap<ArrayBuffer, Arena>();

/** An arena of resident arrays (see the module comment). */
export class Arena {
  readonly memory: WebAssembly.Memory;
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  /** The view of each adopted dataId. */
  private readonly views = new Map<object, ResidentArray>();
  /** The record of each adopted dataId (to move it into a merged arena). */
  private readonly records = new Map<object, ArrayRecord>();
  private readonly instances = new Map<WebAssembly.Module, WebAssembly.Exports>();

  private constructor(bytes: number) {
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
    this.f32 = new Float32Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
    arenaOf.set(this.memory.buffer, this);
  }

  /**
   * Adopts the arrays of `records` (keyed by their dataIds), and the arrays
   * still resident in the arenas `from` (of tensors not disposed): copies
   * each into a new arena and points the record at its view. Null when they
   * do not fit in one arena (the caller keeps copying).
   */
  static adopt(adopted: readonly (readonly [object, ArrayRecord])[], from: Iterable<Arena> = []): Arena | null {
    const entries = [...adopted];
    for (const old of from) for (const [id, r] of old.records) if (r.refCount > 0 && old.holds(id, r.values)) entries.push([id, r]);
    let bytes = ARENA_HEADER_BYTES;
    const seen = new Set<object>();
    for (const [id, r] of entries) {
      if (seen.has(id)) continue;
      seen.add(id);
      bytes += Math.ceil(((r.values as ResidentArray).length * 4) / 16) * 16;
    }
    if (bytes > MAX_ARENA_BYTES) return null;
    const arena = new Arena(bytes);
    let at = ARENA_HEADER_BYTES / 4;
    for (const [id, r] of entries) {
      if (arena.views.has(id)) continue;
      const n = (r.values as ResidentArray).length;
      arena.views.set(id, (r.values instanceof Int32Array ? arena.i32 : arena.f32).subarray(at, at + n));
      arena.records.set(id, r);
      at += Math.ceil(n / 4) * 4;
      arena.settle(id, r);
    }
    return arena;
  }

  /**
   * Makes the record of an adopted dataId hold this arena's view: when it
   * holds another array (another arena adopted the tensor since, or tfjs
   * moved its data), copies that array's values in first. False when `id`
   * is not adopted here or the array has another length.
   */
  settle(id: object, r: ArrayRecord): boolean {
    const view = this.views.get(id);
    if (view === undefined) return false;
    if (r.values === view) return true;
    const values = r.values;
    if (!isResidentType(values) || values.constructor !== view.constructor || values.length !== view.length) return false;
    view.set(values as never);
    r.values = view;
    return true;
  }

  /** The arena whose memory `values` views, if any. */
  static holding(values: unknown): Arena | null {
    return isResidentType(values) ? (arenaOf.get(values.buffer as ArrayBuffer) ?? null) : null;
  }

  /** Whether `values` is this arena's view of `id`. */
  holds(id: object, values: unknown): boolean {
    return this.views.get(id) === values;
  }

  /** The kernel module instantiated on this arena's memory (one instance per module). */
  instance(mod: WebAssembly.Module): WebAssembly.Exports {
    let inst = this.instances.get(mod);
    if (inst === undefined) {
      inst = new WebAssembly.Instance(mod, { env: { mem: this.memory } }).exports;
      this.instances.set(mod, inst);
    }
    return inst;
  }
}

/** Whether `values` is an arena's view adopted for `id` (a resident array: its tensor's alone when the record's count is 1). */
export function isResident(id: object, values: ResidentArray): boolean {
  return arenaOf.get(values.buffer as ArrayBuffer)?.holds(id, values) === true;
}
