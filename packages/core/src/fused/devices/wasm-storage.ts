/**
 * Packed state in the WebAssembly kernels: the code that decodes an element
 * of a packed array where the kernel loads it and encodes it where the
 * kernel stores it, one lane (the scalar tail) or four (SIMD), with the same
 * bits as the host codecs (`lang/storage/`):
 * - bfloat16: the code is the top half of the float32 bits; encoding rounds
 *   to nearest, ties to even, on the bits (NaN to 0x7fc0);
 * - float16: decoding shifts the code's magnitude into place and multiplies
 *   by 2^112 (an exact rebias of the exponent, subnormals included);
 *   encoding rounds on the bits, subnormals through one float32 addition of
 *   0.5 (which rounds to a multiple of 2^-24, ties to even, exactly the
 *   float16 subnormal grid);
 * - int8: decoding looks the code's value up in a table (per lane, loaded
 *   straight into its lane) and multiplies by the block's scale; the kernel
 *   writes a tile's new values to a float32 buffer, then each block's
 *   absmax scale and its codes (through the map's buckets,
 *   `lang/storage/map-buckets.ts`: one 8-byte lookup per lane and one
 *   comparison).
 *
 * The workspace is the block of memory the kernel's `scalars` argument
 * points to: the IR's scalars, then (for IRs with packed arrays) the
 * codecs' vector constants, (with int8 arrays) the code values of both
 * maps, their midpoints (padded with +Infinity to 128 and 256 entries) and
 * buckets, one tile buffer per int8 output, and a slot per node for the
 * splatted uniform values ({@link workspaceLayout}, written by
 * {@link writeWorkspace}). Constants and uniforms go through memory because
 * V8 rebuilds a `v128.const` or a splat at every use inside a loop, where a
 * value loaded before the loop stays in a register (or is one load).
 *
 * @module
 */
import { int8Tile, type PackedStorage, storageOf } from '../../lang/packed-columns.js';
import { SIGNED_DYNAMIC_MAP, UNSIGNED_DYNAMIC_MAP } from '../../lang/storage/dynamic-map.js';
import { SIGNED_BUCKETS, UNSIGNED_BUCKETS } from '../../lang/storage/map-buckets.js';
import type { KernelIR } from '../../lang/trace.js';
import { kernelCodecs } from './kernel-codecs.js';
import { type Func, OP, SIMD, WT } from './wasm-assembler.js';

type Int8 = Extract<PackedStorage, { dtype: 'int8' }>;

/** Where a kernel's workspace holds what, in bytes from its `scalars` pointer. */
export interface WorkspaceLayout {
  /** The codecs' vector constants ({@link POOL}, 16 bytes each), or -1 without packed arrays. */
  readonly constants: number;
  /** Code values of the signed and unsigned maps (256 float32 each), midpoints (128 and 256 float32), or -1 without int8. */
  readonly tables: number;
  /** Per IR output: its tile buffer (int8 outputs), else -1. */
  readonly tiles: readonly number[];
  /** A 16-byte slot per IR node: the four-lane value of a uniform node, stored once per leaf (see `emitUniforms`). */
  readonly uniforms: number;
  readonly bytes: number;
}

/** Float offsets in the int8 tables: code values, midpoints (padded), then each map's buckets (count and midpoint per bucket). */
const AT = (() => {
  const signedBuckets = 512 + 128 + 256;
  const unsignedBuckets = signedBuckets + 2 * SIGNED_BUCKETS.below.length;
  return { signedBuckets, unsignedBuckets, end: unsignedBuckets + 2 * UNSIGNED_BUCKETS.below.length };
})();

const TABLE_BYTES = Math.ceil((4 * AT.end) / 16) * 16;

/** The integer (and float bit) constants of the codecs' four-lane code, kept splatted in the workspace (see {@link emitPoolLocals}). */
const POOL: readonly number[] = [
  0x7fff,
  1,
  0x7fffffff,
  0x7f800000,
  0x7fc0,
  0x8000,
  0x7bff << 13,
  0x77800000,
  0x3f000000,
  0xfff - 0x38000000,
  0x38800000,
  0x7c00,
  0x7e00,
  0x80,
  SIGNED_BUCKETS.first,
  UNSIGNED_BUCKETS.first,
].map((x) => x | 0);

const POOL_BYTES = 16 * POOL.length;

/** The layout of the workspace of `ir`'s kernel. */
export function workspaceLayout(ir: KernelIR): WorkspaceLayout {
  const scalarBytes = Math.ceil((4 * ir.scalars.length) / 16) * 16;
  const names = [...ir.inputs, ...ir.outputs.map((o) => o.name)];
  const packed = names.some((name) => storageOf(ir, name) !== undefined);
  const int8 = names.some((name) => storageOf(ir, name)?.dtype === 'int8');
  const constants = packed ? scalarBytes : -1;
  const tablesAt = scalarBytes + (packed ? POOL_BYTES : 0);
  let at = tablesAt + (int8 ? TABLE_BYTES : 0);
  const tile = int8Tile(ir);
  const tiles = ir.outputs.map((o) => {
    if (storageOf(ir, o.name)?.dtype !== 'int8') return -1;
    at += 4 * tile;
    return at - 4 * tile;
  });
  return { constants, tables: int8 ? tablesAt : -1, tiles, uniforms: at, bytes: at + 16 * ir.nodes.length };
}

let tables: Float32Array | undefined;

function int8Tables(): Float32Array {
  if (tables === undefined) {
    const codecs = kernelCodecs();
    const t = new Float32Array(TABLE_BYTES / 4).fill(Number.POSITIVE_INFINITY);
    t.set(codecs.int8Signed, 0);
    t.set(codecs.int8Unsigned, 256);
    t.set(SIGNED_DYNAMIC_MAP.midpoints, 512);
    t.set(UNSIGNED_DYNAMIC_MAP.midpoints, 640);
    for (const [b, at] of [
      [SIGNED_BUCKETS, AT.signedBuckets],
      [UNSIGNED_BUCKETS, AT.unsignedBuckets],
    ] as const) {
      // one 8-byte entry per bucket: the count below it (int32), its midpoint (float32)
      const words = new Int32Array(t.buffer);
      const mids = new Int32Array(b.midpoint.buffer);
      for (let k = 0; k < b.below.length; k++) {
        words[at + 2 * k] = b.below[k] as number;
        words[at + 2 * k + 1] = mids[k] as number;
      }
    }
    tables = t;
  }
  return tables;
}

/**
 * Writes a kernel's workspace (laid out as `layout`) at byte `base` of `f32`
 * (a view of its memory): the scalars and the int8 tables. With `owned`
 * (a memory only this kernel writes, as the cpu device's staging memory),
 * the tables (tens of KiB) are copied once; a memory that other kernels
 * write too (the wasm device's scratch block) gets them at every run.
 */
export function writeWorkspace(f32: Float32Array, base: number, layout: WorkspaceLayout, scalars: Float64Array, owned: boolean): void {
  for (let s = 0; s < scalars.length; s++) f32[base / 4 + s] = scalars[s] as number;
  if (layout.constants >= 0) writePool(f32, (base + layout.constants) / 4);
  if (layout.tables < 0) return;
  const at = (base + layout.tables) / 4;
  if (owned && written.get(f32.buffer) === at) return;
  f32.set(int8Tables(), at);
  if (owned) written.set(f32.buffer, at);
}

/** Writes the {@link POOL} constants, each four times, from float `at` of `f32`. */
function writePool(f32: Float32Array, at: number): void {
  const i32 = new Int32Array(f32.buffer, f32.byteOffset + 4 * at, 4 * POOL.length);
  POOL.forEach((x, k) => {
    i32.fill(x, 4 * k, 4 * k + 4);
  });
}

/** Per memory buffer: where the int8 tables were last written (a float offset). */
const written = new WeakMap<ArrayBufferLike, number>();

/** Integer and float operations of one width: one i32/f32 lane, or four (i32x4/f32x4 in a v128). */
interface Lanes {
  readonly width: 1 | 4;
  int(f: Func, x: number): void;
  float(f: Func, x: number): void;
  readonly and: (f: Func) => void;
  readonly or: (f: Func) => void;
  readonly add: (f: Func) => void;
  readonly sub: (f: Func) => void;
  readonly shl: (f: Func) => void;
  readonly shrU: (f: Func) => void;
  /** Comparisons of integers in [0, 2^31) (signed instructions: native on every SIMD target). */
  readonly lt: (f: Func) => void;
  readonly gt: (f: Func) => void;
  /** The smaller of two integers (four lanes only: one lane takes a select). */
  readonly min: ((f: Func) => void) | null;
  /** `a b cond` → `cond ? a : b`. */
  readonly select: (f: Func) => void;
  /** The bits of a float as an integer, and back (nothing to do for vectors). */
  readonly bits: (f: Func) => void;
  readonly fromBits: (f: Func) => void;
  readonly fadd: (f: Func) => void;
  readonly fmul: (f: Func) => void;
  /** Float inequality (true for a NaN against itself). */
  readonly fne: (f: Func) => void;
}

function splat(x: number, float: boolean): number[] {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  for (let i = 0; i < 4; i++) {
    if (float) v.setFloat32(4 * i, x, true);
    else v.setInt32(4 * i, x | 0, true);
  }
  return Array.from(b);
}

const op =
  (code: number) =>
  (f: Func): void => {
    f.op(code);
  };
const simd =
  (code: number) =>
  (f: Func): void => {
    f.simd(code);
  };

const ONE: Lanes = {
  width: 1,
  int: (f, x) => {
    f.i32(x | 0);
  },
  float: (f, x) => {
    f.f32(x);
  },
  and: op(OP.i32And),
  or: op(OP.i32Or),
  add: op(OP.i32Add),
  sub: op(OP.i32Sub),
  shl: op(OP.i32Shl),
  shrU: op(OP.i32ShrU),
  lt: op(OP.i32LtS),
  gt: op(OP.i32GtS),
  min: null,
  select: op(OP.select),
  bits: op(OP.i32ReinterpretF32),
  fromBits: op(OP.f32ReinterpretI32),
  fadd: op(OP.f32Add),
  fmul: op(OP.f32Mul),
  fne: op(OP.f32Ne),
};

const FOUR: Lanes = {
  width: 4,
  int: (f, x) => {
    f.simd(SIMD.v128Const, ...splat(x, false));
  },
  float: (f, x) => {
    f.simd(SIMD.v128Const, ...splat(x, true));
  },
  and: simd(SIMD.v128And),
  or: simd(SIMD.v128Or),
  add: simd(SIMD.i32x4Add),
  sub: simd(SIMD.i32x4Sub),
  shl: simd(SIMD.i32x4Shl),
  shrU: simd(SIMD.i32x4ShrU),
  lt: simd(SIMD.i32x4LtS),
  gt: simd(SIMD.i32x4GtS),
  min: simd(SIMD.i32x4MinS),
  select: simd(SIMD.v128Bitselect),
  bits: () => {},
  fromBits: () => {},
  fadd: simd(SIMD.f32x4Add),
  fmul: simd(SIMD.f32x4Mul),
  fne: simd(SIMD.f32x4Ne),
};

/** The lane operations of a width. */
export function lanesOf(width: 1 | 4): Lanes {
  return width === 4 ? FOUR : ONE;
}

/** What the storage emitters need of a kernel function: its locals and layout. */
export interface StorageContext {
  readonly f: Func;
  /** The local holding the workspace (`scalars`) pointer. */
  readonly scalars: number;
  /** The local holding the byte offset of the current element as a float32 array (4 per element). */
  readonly offset: number;
  readonly layout: WorkspaceLayout;
  /** Scratch locals: four i32, three f32 and five v128. */
  readonly i32: readonly number[];
  readonly f32: readonly number[];
  readonly v128: readonly number[];
  /**
   * Block scales loaded once per tile, by the local of their scales pointer:
   * an int8 input whose block is the tile (the usual case: a slot read and
   * written with one block size) reads its scale from this f32 local.
   */
  readonly tileScales: Map<number, number>;
  /**
   * The running maximum of |x| (as bits) of the four-lane stores into an int8
   * output's tile buffer, by the buffer's offset: an output whose block is
   * the tile gets its block's absmax from the SIMD loop itself (see
   * {@link emitTileMaxima}), only the scalar tail read again.
   */
  readonly tileMax: Map<number, number>;
  /** The local holding each {@link POOL} constant (by its bits), once {@link emitPoolLocals} loaded them. */
  readonly pool: Map<number, number>;
}

/** Declares the scratch locals of a {@link StorageContext} in `f`. */
export function storageScratch(f: Func): Pick<StorageContext, 'i32' | 'f32' | 'v128' | 'tileScales' | 'tileMax' | 'pool'> {
  return {
    tileScales: new Map(),
    tileMax: new Map(),
    pool: new Map(),
    i32: [f.local(WT.i32), f.local(WT.i32), f.local(WT.i32), f.local(WT.i32)],
    f32: [f.local(WT.f32), f.local(WT.f32), f.local(WT.f32)],
    v128: [f.local(WT.v128), f.local(WT.v128), f.local(WT.v128), f.local(WT.v128), f.local(WT.v128)],
  };
}

/** Code that leaves one value on the stack. */
type Emit = () => void;

/**
 * Loads the {@link POOL} constants from the workspace into locals, at the
 * start of a leaf (before its loops) of a kernel with packed arrays: V8
 * keeps a loaded value in a register or spills it (a load where it is
 * used), where a `v128.const` in a loop is rebuilt from immediates at every
 * use (three instructions).
 */
export function emitPoolLocals(c: StorageContext): void {
  if (c.layout.constants < 0) return;
  POOL.forEach((x, k) => {
    const local = c.f.local(WT.v128);
    c.f
      .get(c.scalars)
      .simdMem(SIMD.v128Load, c.layout.constants + 16 * k)
      .set(local);
    c.pool.set(x, local);
  });
}

/** Pushes the constant with the bits `x` at four lanes: its pool local where it has one, else a `v128.const`. */
function vectorConstant(c: StorageContext, x: number): void {
  const local = c.pool.get(x | 0);
  if (local === undefined) FOUR.int(c.f, x);
  else c.f.get(local);
}

const floatBits = new Float32Array(1);
const floatWord = new Int32Array(floatBits.buffer);

/** Constants at one width: an integer (or the bits of a float), from the pool at four lanes. */
function constants(c: StorageContext, L: Lanes) {
  return {
    int:
      (x: number): Emit =>
      () => {
        if (L.width === 4) vectorConstant(c, x);
        else L.int(c.f, x);
      },
    float:
      (x: number): Emit =>
      () => {
        if (L.width === 1) return L.float(c.f, x);
        floatBits[0] = x;
        vectorConstant(c, floatWord[0] as number);
      },
  };
}

/** Small expression builders over the operations of one width. */
function builders(c: StorageContext, L: Lanes) {
  const { f } = c;
  const { int, float } = constants(c, L);
  const sel =
    (cond: Emit, a: Emit, b: Emit): Emit =>
    () => {
      a();
      b();
      cond();
      L.select(f);
    };
  const bin =
    (o: (f: Func) => void) =>
    (a: Emit, b: Emit): Emit =>
    () => {
      a();
      b();
      o(f);
    };
  const un =
    (o: (f: Func) => void) =>
    (a: Emit): Emit =>
    () => {
      a();
      o(f);
    };
  return {
    int,
    float,
    get:
      (local: number): Emit =>
      () => {
        f.get(local);
      },
    and: bin(L.and),
    or: bin(L.or),
    add: bin(L.add),
    sub: bin(L.sub),
    /** Shifts take an i32 count at every width. */
    shl:
      (a: Emit, n: number): Emit =>
      () => {
        a();
        f.i32(n);
        L.shl(f);
      },
    shr:
      (a: Emit, n: number): Emit =>
      () => {
        a();
        f.i32(n);
        L.shrU(f);
      },
    lt: bin(L.lt),
    gt: bin(L.gt),
    fadd: bin(L.fadd),
    fmul: bin(L.fmul),
    fne: bin(L.fne),
    bits: un(L.bits),
    fromBits: un(L.fromBits),
    /** `cond ? a : b` */
    sel,
    /** `cond ? a : 0`: an and with the lane masks, a select for one lane. */
    when: (cond: Emit, a: Emit): Emit => (L.width === 4 ? bin(L.and)(cond, a) : sel(cond, a, int(0))),
    /** The smaller of two integers in [0, 2^31). */
    min: (a: Emit, b: Emit): Emit => (L.min === null ? sel(bin(L.lt)(a, b), a, b) : bin(L.min)(a, b)),
  };
}

/** Scratch integer locals of a width: i32 for one lane, v128 for four. */
function ints(c: StorageContext, L: Lanes): readonly number[] {
  return L.width === 4 ? c.v128 : c.i32;
}

/** Pushes the address of the current element's code in an array at `ptr` (a local): `ptr + offset / (4 / bytes)`. */
function codeAddress(c: StorageContext, ptr: number, bytes: 1 | 2): void {
  c.f
    .get(ptr)
    .get(c.offset)
    .i32(bytes === 2 ? 1 : 2)
    .op(OP.i32ShrU)
    .op(OP.i32Add);
}

/**
 * The float32 bits of the float16 codes in local `h`: the magnitude's bits
 * shifted into place are a float32 2^112 times too small (a subnormal one
 * for a subnormal code), so one multiplication rebiases the exponent
 * exactly; Inf and NaN then get the all-ones exponent.
 */
function float16ToBits(c: StorageContext, L: Lanes, h: number): Emit {
  const e = builders(c, L);
  const m = ints(c, L)[1] as number;
  // the magnitude in place, (h & 0x7fff) << 13, and the sign bit, by shifts (fewer constants live in the loop)
  const shifted = e.get(m);
  const sign = e.shl(e.shr(e.get(h), 15), 31);
  const rebiased = e.bits(e.fmul(e.fromBits(shifted), e.float(2 ** 112)));
  const value = e.or(rebiased, e.when(e.gt(shifted, e.int(0x7bff << 13)), e.int(0x7f800000)));
  return () => {
    e.shr(e.shl(e.get(h), 17), 4)();
    c.f.set(m);
    e.or(value, sign)();
  };
}

/**
 * Leaves the decoded value(s) of packed input `s` at the current element on
 * the stack: `ptr` the local of its code words, `scalesPtr` that of its
 * block scales (int8).
 */
export function emitPackedLoad(c: StorageContext, width: 1 | 4, s: PackedStorage, ptr: number, scalesPtr: number): void {
  const L = lanesOf(width);
  const { f } = c;
  if (s.dtype === 'int8') emitInt8Load(c, L, s, ptr, scalesPtr);
  else {
    codeAddress(c, ptr, 2);
    if (width === 4) f.simdMem(SIMD.v128Load16x4U);
    else f.mem(OP.i32Load16U, 1);
    if (s.dtype === 'bfloat16') {
      f.i32(16);
      L.shl(f);
    } else {
      const h = ints(c, L)[0] as number;
      f.set(h);
      float16ToBits(c, L, h)();
    }
    L.fromBits(f);
  }
  if (s.root) {
    const t = width === 4 ? (c.v128[2] as number) : (c.f32[0] as number);
    f.tee(t).get(t);
    L.fmul(f);
  }
}

/** Pushes the scale of the current element's block: `scales[offset / (4 · blockSize)]`. */
function blockScale(c: StorageContext, s: Int8, scalesPtr: number): void {
  c.f
    .get(scalesPtr)
    .get(c.offset)
    .i32(4 * s.blockSize)
    .op(OP.i32DivU)
    .i32(2)
    .op(OP.i32Shl)
    .op(OP.i32Add)
    .mem(OP.f32Load, 2);
}

/** Pushes the current element's block scale: the tile's, when loaded once per tile, else `scales[offset / (4 · blockSize)]`. */
function scaleOf(c: StorageContext, s: Int8, scalesPtr: number): void {
  const local = c.tileScales.get(scalesPtr);
  if (local === undefined) blockScale(c, s, scalesPtr);
  else c.f.get(local);
}

/**
 * Loads, at the start of a tile of `tile` elements (its first element's
 * byte offset in local `t0`), the scale of each int8 input whose block is
 * the tile (`inputs`: its storage and the local of its scales pointer).
 */
export function emitTileScales(c: StorageContext, tile: number, t0: number, inputs: readonly [Int8, number][]): void {
  for (const [s, scalesPtr] of inputs) {
    if (s.blockSize !== tile) continue;
    let local = c.tileScales.get(scalesPtr);
    if (local === undefined) {
      local = c.f.local(WT.f32);
      c.tileScales.set(scalesPtr, local);
    }
    c.f
      .get(scalesPtr)
      .get(t0)
      .i32(4 * tile)
      .op(OP.i32DivU)
      .i32(2)
      .op(OP.i32Shl)
      .op(OP.i32Add)
      .mem(OP.f32Load, 2)
      .set(local);
  }
}

/**
 * Zeroes, at the start of a tile of `tile` elements, the running maximum of
 * each int8 output whose block is the tile (`outputs`: its storage and the
 * offset of its tile buffer).
 */
export function emitTileMaxima(c: StorageContext, tile: number, outputs: readonly [Int8, number][]): void {
  for (const [s, buffer] of outputs) {
    if (s.blockSize !== tile) continue;
    let local = c.tileMax.get(buffer);
    if (local === undefined) {
      local = c.f.local(WT.v128);
      c.tileMax.set(buffer, local);
    }
    c.f.simd(SIMD.v128Const, ...new Array(16).fill(0)).set(local);
  }
}

/** Pushes the address of the table entry (less the table's offset) of the code at byte `lane` past the address in local `at`. */
function codeEntry(c: StorageContext, at: number, lane: number): void {
  c.f.get(at).mem(OP.i32Load8U, 0, lane).i32(2).op(OP.i32Shl).get(c.scalars).op(OP.i32Add);
}

/** The code values of the current element(s): a table lookup per lane (loaded straight into its lane). */
function emitInt8Load(c: StorageContext, L: Lanes, s: Int8, ptr: number, scalesPtr: number): void {
  const { f } = c;
  const at = c.i32[0] as number;
  const table = c.layout.tables + (s.signed ? 0 : 1024);
  codeAddress(c, ptr, 1);
  f.set(at);
  codeEntry(c, at, 0);
  if (L.width === 4) {
    const v = c.v128[3] as number;
    f.simdMem(SIMD.v128Load32Zero, table);
    for (let lane = 1; lane < 4; lane++) {
      f.set(v);
      codeEntry(c, at, lane);
      f.get(v).simdMemLane(SIMD.v128Load32Lane, table, lane);
    }
    scaleOf(c, s, scalesPtr);
    f.simd(SIMD.f32x4Splat).simd(SIMD.f32x4Mul);
  } else {
    f.mem(OP.f32Load, 2, table);
    scaleOf(c, s, scalesPtr);
    f.op(OP.f32Mul);
  }
}

/** The bfloat16 codes of the float32 bits in local `b`: round to nearest, ties to even; NaN to 0x7fc0. */
function bfloat16Codes(c: StorageContext, L: Lanes, b: number): Emit {
  const e = builders(c, L);
  const x = e.get(b);
  const rounded = e.shr(e.add(e.add(x, e.int(0x7fff)), e.and(e.shr(x, 16), e.int(1))), 16);
  const nan = e.fne(e.fromBits(x), e.fromBits(x));
  return e.sel(nan, e.int(0x7fc0), rounded);
}

/**
 * The float16 codes of the float32 bits in local `b`, as `float16Bits`
 * computes them: a normal code rebiases the exponent and rounds the 13
 * dropped bits to nearest, ties to even, on the bits; a subnormal one is
 * the bits of `|x| + 0.5` past 0.5's. The normal codes grow with `|x|` and
 * reach 0x7c00 (Inf) at the rounding boundary of 65504, so a minimum clamps
 * the overflow.
 */
function float16Codes(c: StorageContext, L: Lanes, b: number): Emit {
  const e = builders(c, L);
  const abs = ints(c, L)[1] as number;
  const a = e.get(abs);
  const subnormal = e.sub(e.bits(e.fadd(e.fromBits(a), e.float(0.5))), e.int(0x3f000000));
  const normal = e.shr(e.add(e.add(a, e.int(0xfff - 0x38000000)), e.and(e.shr(a, 13), e.int(1))), 13);
  const finite = e.sel(e.lt(a, e.int(0x38800000)), subnormal, normal);
  const magnitude = e.min(finite, e.int(0x7c00));
  const signed = e.or(magnitude, e.and(e.shr(e.get(b), 16), e.int(0x8000)));
  const code = e.sel(e.gt(a, e.int(0x7f800000)), e.int(0x7e00), signed);
  return () => {
    e.and(e.get(b), e.int(0x7fffffff))();
    c.f.set(abs);
    code();
  };
}

/**
 * Stores the value in local `value` as the current element of packed
 * output `s` (codes at local `ptr`); an int8 output's value goes to its
 * tile buffer (byte `tile` of the workspace) at `offset - t0` (local `t0`,
 * the tile's first element as a byte offset).
 */
export function emitPackedStore(
  c: StorageContext,
  width: 1 | 4,
  s: PackedStorage,
  ptr: number,
  value: number,
  tile: number,
  t0: number,
): void {
  const L = lanesOf(width);
  const { f } = c;
  const sqrt = () => {
    if (!s.root) return;
    if (width === 4) f.simd(SIMD.f32x4Sqrt);
    else f.op(OP.f32Sqrt);
  };
  if (s.dtype === 'int8') {
    f.get(c.scalars).get(c.offset).op(OP.i32Add).get(t0).op(OP.i32Sub).get(value);
    sqrt();
    const max = width === 4 ? c.tileMax.get(tile) : undefined;
    if (max !== undefined) f.tee(c.v128[4] as number);
    if (width === 4) f.simdMem(SIMD.v128Store, tile);
    else f.mem(OP.f32Store, 2, tile);
    if (max !== undefined) {
      f.get(max).get(c.v128[4] as number);
      vectorConstant(c, 0x7fffffff);
      f.simd(SIMD.v128And).simd(SIMD.i32x4MaxS).set(max);
    }
    return;
  }
  codeAddress(c, ptr, 2);
  const b = ints(c, L)[0] as number;
  f.get(value);
  sqrt();
  L.bits(f);
  f.set(b);
  (s.dtype === 'bfloat16' ? bfloat16Codes(c, L, b) : float16Codes(c, L, b))();
  if (width === 4) {
    const t = c.v128[2] as number;
    f.tee(t).get(t).simd(SIMD.i16x8NarrowI32x4U).simdMemLane(SIMD.v128Store64Lane, 0, 0);
  } else f.mem(OP.i32Store16, 1);
}

/** Pushes the code (an i32) of the normalised value in local `y`: a branchless search over the map's midpoints. */
function int8Code(c: StorageContext, s: Int8, y: number): void {
  const { f } = c;
  const a = c.f32[2] as number;
  const count = c.i32[3] as number;
  f.get(y);
  if (s.signed) f.op(OP.f32Abs);
  f.set(a).i32(0).set(count);
  const midpoints = c.layout.tables + (s.signed ? 2048 : 2560);
  // count += step where midpoints[count + step - 1] < a, for step = 64 … 1 (signed) or 128 … 1: the midpoints below a
  for (let step = s.signed ? 64 : 128; step >= 1; step >>= 1) {
    f.get(count).i32(step).op(OP.i32Add).get(count);
    f.get(count)
      .i32(2)
      .op(OP.i32Shl)
      .get(c.scalars)
      .op(OP.i32Add)
      .mem(OP.f32Load, 2, midpoints + 4 * (step - 1));
    f.get(a).op(OP.f32Lt).op(OP.select).set(count);
  }
  f.get(count);
  // the sign bit of a negative value with a non-zero magnitude
  if (s.signed) f.get(y).f32(0).op(OP.f32Lt).get(count).i32(0).op(OP.i32Ne).op(OP.i32And).i32(7).op(OP.i32Shl).op(OP.i32Or);
}

/** A loop of `body` while local `i` < local `end`, `i` stepping by `step`. */
function loop(f: Func, i: number, end: number, step: number, body: () => void): void {
  f.begin('block').begin('loop');
  f.get(i).get(end).op(OP.i32GeU).brIf(1);
  body();
  f.get(i).i32(step).op(OP.i32Add).set(i).br(0);
  f.end().end();
}

/**
 * After the loops over a tile (byte offsets `t0` to `tEnd`, locals, 4 per
 * element), writes each block's absmax scale (NaN when the block holds a
 * NaN or an infinity) and codes (0 where the scale is 0 or NaN) of int8
 * output `s` from its tile buffer (byte `tile` of the workspace), as
 * `quantizeBlockwise` does.
 */
export function emitQuantizeTile(
  c: StorageContext,
  s: Int8,
  ptrs: { readonly codes: number; readonly scales: number },
  tile: number,
  t0: number,
  tEnd: number,
): void {
  const { f } = c;
  const [b0, bEnd, i, vEnd] = c.i32 as [number, number, number, number];
  const [scale, y] = [c.f32[0] as number, c.f32[1] as number];
  const blockBytes = 4 * s.blockSize;
  const address = () => f.get(c.scalars).get(i).op(OP.i32Add).get(t0).op(OP.i32Sub);
  const element = () => address().mem(OP.f32Load, 2, tile);
  f.get(t0).set(b0);
  loop(f, b0, tEnd, blockBytes, () => {
    f.get(b0).i32(blockBytes).op(OP.i32Add).get(tEnd).get(b0).i32(blockBytes).op(OP.i32Add).get(tEnd).op(OP.i32LtU).op(OP.select).set(bEnd);
    // the whole vectors of the block, then its tail
    f.get(bEnd).get(b0).op(OP.i32Sub).i32(-16).op(OP.i32And).get(b0).op(OP.i32Add).set(vEnd);
    emitBlockScale(c, { i, b0, vEnd, bEnd, scale }, address, element, tile);
    f.get(ptrs.scales).get(b0).i32(blockBytes).op(OP.i32DivU).i32(2).op(OP.i32Shl).op(OP.i32Add).get(scale).mem(OP.f32Store, 2);
    f.get(b0).set(i);
    // four codes at a time where the scale is positive, then one at a time (0 where the scale is 0 or NaN)
    f.begin('block');
    f.get(scale).f32(0).op(OP.f32Gt).op(OP.i32Eqz).brIf(0);
    loop(f, i, vEnd, 16, () => emitFourCodes(c, s, ptrs.codes, address, tile, scale));
    f.end();
    loop(f, i, bEnd, 4, () => {
      f.get(ptrs.codes).get(i).i32(2).op(OP.i32ShrU).op(OP.i32Add);
      element();
      f.get(scale).op(OP.f32Div).set(y);
      int8Code(c, s, y);
      f.i32(0).get(scale).f32(0).op(OP.f32Gt).op(OP.select).mem(OP.i32Store8, 0);
    });
  });
}

/** The block's scale into local `scale`: the largest |x| (four lanes, then the tail), NaN when it is not finite. */
function emitBlockScale(
  c: StorageContext,
  at: { readonly i: number; readonly b0: number; readonly vEnd: number; readonly bEnd: number; readonly scale: number },
  address: () => Func,
  element: () => Func,
  tile: number,
): void {
  const { f } = c;
  const { i, scale } = at;
  // the block is the tile, whose SIMD loop kept its maximum: only the tail is read again
  const kept = c.tileMax.get(tile);
  const acc = kept ?? (c.v128[0] as number);
  if (kept === undefined) f.simd(SIMD.v128Const, ...new Array(16).fill(0)).set(acc);
  f.get(kept === undefined ? at.b0 : at.vEnd).set(i);
  loop(f, i, at.vEnd, 16, () => {
    f.get(acc);
    // |x| as bits: ordered as integers like the magnitudes, and every NaN above +Infinity (a V8 f32x4.max is seven instructions)
    address().simdMem(SIMD.v128Load, tile);
    vectorConstant(c, 0x7fffffff);
    f.simd(SIMD.v128And).simd(SIMD.i32x4MaxS).set(acc);
  });
  f.f32(0).set(scale);
  for (let lane = 0; lane < 4; lane++) f.get(scale).get(acc).simd(SIMD.f32x4ExtractLane, lane).op(OP.f32Max).set(scale);
  loop(f, i, at.bEnd, 4, () => {
    f.get(scale);
    element();
    f.op(OP.f32Abs).op(OP.f32Max).set(scale);
  });
  f.get(scale).f32(Number.NaN).get(scale).f32(Number.POSITIVE_INFINITY).op(OP.f32Lt).op(OP.select).set(scale);
}

/**
 * Gathers the bucket entries at the four addresses in local `vi` (less
 * `at`): the counts below the buckets into local `vc`, their midpoints
 * into `vm`. One 8-byte load per lane, straight into a lane (lanes 0, 1
 * into `vc` and 2, 3 into `vm`), then two shuffles split the words.
 */
function emitBucketEntries(f: Func, at: number, vi: number, vc: number, vm: number): void {
  for (const [out, first] of [
    [vc, 0],
    [vm, 2],
  ] as const) {
    f.get(vi).simd(SIMD.i32x4ExtractLane, first).simdMem(SIMD.v128Load64Zero, at).set(out);
    f.get(vi)
      .simd(SIMD.i32x4ExtractLane, first + 1)
      .get(out)
      .simdMemLane(SIMD.v128Load64Lane, at, 1)
      .set(out);
  }
  // counts: the low words of the four entries; midpoints: the high words
  const words = (high: number) => [0, 8, 16, 24].flatMap((b) => [b + high, b + high + 1, b + high + 2, b + high + 3]);
  f.get(vc)
    .get(vm)
    .simd(SIMD.i8x16Shuffle, ...words(4));
  f.get(vc)
    .get(vm)
    .simd(SIMD.i8x16Shuffle, ...words(0))
    .set(vc)
    .set(vm);
}

/** Encodes four elements of the tile buffer at `i` (scale > 0) into four codes at `codes + i / 4`, through the map's buckets. */
function emitFourCodes(c: StorageContext, s: Int8, codes: number, address: () => Func, tile: number, scale: number): void {
  const { f } = c;
  const [vy, va, vi, vc, vm] = c.v128 as [number, number, number, number, number];
  const buckets = s.signed ? SIGNED_BUCKETS : UNSIGNED_BUCKETS;
  const at = c.layout.tables + 4 * (s.signed ? AT.signedBuckets : AT.unsignedBuckets);
  f.get(codes)
    .get(c.i32[2] as number)
    .i32(2)
    .op(OP.i32ShrU)
    .op(OP.i32Add);
  address().simdMem(SIMD.v128Load, tile);
  f.get(scale).simd(SIMD.f32x4Splat).simd(SIMD.f32x4Div).tee(vy);
  // a = |y| (signed) or max(y, 0); the address of its bucket's entry: scalars + 8 · max((bits >> 15) - first, 0)
  if (s.signed) {
    vectorConstant(c, 0x7fffffff);
    f.simd(SIMD.v128And);
  } else f.simd(SIMD.v128Const, ...new Array(16).fill(0)).simd(SIMD.i32x4MaxS); // y is finite: max on the bits, -0 to +0
  f.tee(va).i32(15).simd(SIMD.i32x4ShrU);
  vectorConstant(c, buckets.first);
  f.simd(SIMD.i32x4Sub)
    .simd(SIMD.v128Const, ...new Array(16).fill(0))
    .simd(SIMD.i32x4MaxS)
    .i32(3)
    .simd(SIMD.i32x4Shl)
    .get(c.scalars)
    .simd(SIMD.i32x4Splat)
    .simd(SIMD.i32x4Add)
    .set(vi);
  emitBucketEntries(c.f, at, vi, vc, vm);
  // code = below - (midpoint < a ? -1 : 0), and the sign bit of a negative value with a non-zero magnitude
  f.get(vc).get(vm).get(va).simd(SIMD.f32x4Lt).simd(SIMD.i32x4Sub);
  if (s.signed) {
    f.tee(vc);
    f.get(vy)
      .simd(SIMD.v128Const, ...new Array(16).fill(0))
      .simd(SIMD.f32x4Lt);
    f.get(vc)
      .simd(SIMD.v128Const, ...new Array(16).fill(0))
      .simd(SIMD.i32x4GtS)
      .simd(SIMD.v128And);
    vectorConstant(c, 0x80);
    f.simd(SIMD.v128And).simd(SIMD.v128Or);
  }
  f.tee(vc).get(vc).simd(SIMD.i16x8NarrowI32x4U).tee(vc).get(vc).simd(SIMD.i8x16NarrowI16x8U).simd(SIMD.i32x4ExtractLane, 0);
  f.mem(OP.i32Store, 0);
}

/** Zeroes the unused codes of a leaf's last word of packed output `s` (codes at local `ptr`; `n` the local element count). */
export function emitZeroPadding(c: StorageContext, s: PackedStorage, ptr: number, n: number): void {
  const { f } = c;
  const [i, end] = c.i32 as [number, number];
  const per = s.dtype === 'int8' ? 4 : 2;
  f.get(n)
    .set(i)
    .get(n)
    .i32(per - 1)
    .op(OP.i32Add)
    .i32(-per)
    .op(OP.i32And)
    .set(end);
  loop(f, i, end, 1, () => {
    f.get(ptr).get(i);
    if (per === 2) f.i32(1).op(OP.i32Shl);
    f.op(OP.i32Add).i32(0);
    if (per === 2) f.mem(OP.i32Store16, 1);
    else f.mem(OP.i32Store8, 0);
  });
}
