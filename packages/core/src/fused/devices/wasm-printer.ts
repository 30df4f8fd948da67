/**
 * The WebAssembly code generator: prints a kernel IR as a module of 128-bit
 * SIMD code (four float32 lanes per instruction, a scalar loop for the tail),
 * and a fixed module of reductions. Both import their memory as `env.mem`, so
 * one compiled module serves the tfjs wasm backend's heap and the private
 * staging memory of the cpu path.
 *
 * Every operation is one IEEE float32 instruction, so results equal the
 * reference path's float32 ops bit for bit (reductions aside, which
 * accumulate in float64 in a different order). `exp` and `log` have no SIMD
 * instruction: an IR that uses them is not compiled here (the JS kernel runs
 * it instead).
 *
 * The kernel's export `run(table, count, scalars)` processes `count` leaves;
 * entry `e` of `table` is `[n, ptr_0, …, ptr_{A-1}, leafScalar_0, …]` (4 bytes
 * each): the element count, the byte offsets of the arrays (the IR's inputs,
 * then its outputs) and the values of the per-leaf scalars. `scalars` points
 * to one float32 per IR scalar.
 *
 * @module
 */
import { type Int8Storage, int8Tile, isScalesName, type PackedStorage, storageOf } from '../../lang/packed-columns.js';
import type { KernelIR, Node, NodeOp } from '../../lang/trace.js';
import { assemble, Func, OP, SIMD, WT } from './wasm-assembler.js';
import {
  emitPackedLoad,
  emitPackedStore,
  emitPoolLocals,
  emitQuantizeTile,
  emitTileMaxima,
  emitTileScales,
  emitZeroPadding,
  type StorageContext,
  storageScratch,
  workspaceLayout,
} from './wasm-storage.js';

/** Bytes per table entry of a kernel. */
export function entryBytes(ir: KernelIR): number {
  return 4 * (1 + ir.inputs.length + ir.outputs.length + ir.scalars.filter((s) => s.source === 'leaf').length);
}

function splatBytes(x: number): number[] {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  for (let i = 0; i < 4; i++) v.setFloat32(4 * i, x, true);
  return Array.from(b);
}

/** What an emitter needs besides its arguments' locals: the kernel function, its pointers and locals. */
interface WasmContext {
  readonly f: Func;
  /** The entry of the leaf (`[n, ptr…, leafScalar…]`) and the block of scalars: the function's params. */
  readonly entry: number;
  readonly scalars: number;
  /** The local holding each array's pointer (the IR's inputs, then its outputs). */
  readonly ptr: readonly number[];
  /** The local holding the byte offset of the current element(s). */
  readonly offset: number;
  /** Arrays per entry (inputs + outputs). */
  readonly arrays: number;
  /** IR scalar index → its position among the per-leaf scalars of an entry. */
  readonly leafSlot: ReadonlyMap<number, number>;
  /** Per array (the IR's inputs, then its outputs): its storage where packed. */
  readonly storage: readonly (PackedStorage | undefined)[];
  /** What the packed loads and stores need. */
  readonly sc: StorageContext;
  /** The local holding the byte offset of the current tile's first element (kernels that write int8). */
  readonly t0: number;
}

/** Loads IR input `nd` (`width` lanes): a float32 load, or the decoding of a packed array. */
function emitInput(c: WasmContext, nd: Node, width: 1 | 4): void {
  const j = nd.index as number;
  const s = c.storage[j];
  if (s !== undefined) {
    emitPackedLoad(c.sc, width, s, c.ptr[j] as number, c.ptr[j + 1] as number);
    return;
  }
  c.f
    .get(c.ptr[j] as number)
    .get(c.offset)
    .op(OP.i32Add);
  if (width === 4) c.f.simdMem(SIMD.v128Load);
  else c.f.mem(OP.f32Load, 2);
}

/** Emits the code that leaves one node's value on the stack; `x` holds the locals of its arguments. */
type Emit = (c: WasmContext, x: readonly number[], nd: Node) => void;

/** An instruction at both widths: its scalar opcode (one f32 / i32 lane) and its SIMD opcode (four lanes in a v128). */
type Pair = readonly [scalar: number, simd: number];

/** The ops that are one instruction at each width. */
const PAIRS = {
  add: [OP.f32Add, SIMD.f32x4Add],
  sub: [OP.f32Sub, SIMD.f32x4Sub],
  mul: [OP.f32Mul, SIMD.f32x4Mul],
  div: [OP.f32Div, SIMD.f32x4Div],
  max: [OP.f32Max, SIMD.f32x4Max],
  min: [OP.f32Min, SIMD.f32x4Min],
  neg: [OP.f32Neg, SIMD.f32x4Neg],
  abs: [OP.f32Abs, SIMD.f32x4Abs],
  sqrt: [OP.f32Sqrt, SIMD.f32x4Sqrt],
  lt: [OP.f32Lt, SIMD.f32x4Lt],
  le: [OP.f32Le, SIMD.f32x4Le],
  gt: [OP.f32Gt, SIMD.f32x4Gt],
  ge: [OP.f32Ge, SIMD.f32x4Ge],
  eq: [OP.f32Eq, SIMD.f32x4Eq],
  ne: [OP.f32Ne, SIMD.f32x4Ne],
  and: [OP.i32And, SIMD.v128And],
  or: [OP.i32Or, SIMD.v128Or],
  not: [OP.i32Eqz, SIMD.v128Not],
  select: [OP.select, SIMD.v128Bitselect],
} as const satisfies Record<string, Pair>;

/** The scalar form of `sign`: (x > 0) - (x < 0), 0 for ±0; NaN stays NaN (as jnp.sign and the reference path). */
const scalarSign: Emit = ({ f }, [a]) => {
  const x = a as number;
  f.get(x);
  f.get(x).f32(0).op(OP.f32Gt).op(OP.f32ConvertI32U).get(x).f32(0).op(OP.f32Lt).op(OP.f32ConvertI32U).op(OP.f32Sub);
  f.get(x).get(x).op(OP.f32Ne).op(OP.select);
};

/** The SIMD form of `sign`: (x > 0 ? 1 : 0) | (x < 0 ? -1 : 0) | (x is NaN ? x : 0), as lane masks. */
const vectorSign: Emit = ({ f }, [a]) => {
  const x = a as number;
  f.get(x)
    .simd(SIMD.v128Const, ...splatBytes(0))
    .simd(SIMD.f32x4Gt)
    .simd(SIMD.v128Const, ...splatBytes(1))
    .simd(SIMD.v128And);
  f.get(x)
    .simd(SIMD.v128Const, ...splatBytes(0))
    .simd(SIMD.f32x4Lt)
    .simd(SIMD.v128Const, ...splatBytes(-1))
    .simd(SIMD.v128And);
  f.simd(SIMD.v128Or);
  f.get(x).get(x).simd(SIMD.f32x4Ne).get(x).simd(SIMD.v128And).simd(SIMD.v128Or);
};

/**
 * Every op at one width: `1`, the scalar form (one float32 lane; masks are
 * i32 0/1), for uniform nodes and the tail loop; `4`, the SIMD form (four
 * float32 lanes; masks are all-ones / zero lanes), for the per-element
 * nodes of the main loop. `null`: the op has no wasm instruction (`exp`,
 * `log`: such an IR runs as a JS kernel), or is never per-element at width
 * 4 (`scalar`, `const` are uniform and splatted from their scalar form).
 */
function opTable(width: 1 | 4): Readonly<Record<NodeOp, Emit | null>> {
  const ins = (f: Func, [scalar, simd]: Pair): void => {
    if (width === 4) f.simd(simd);
    else f.op(scalar);
  };
  const float = (f: Func, x: number): void => {
    if (width === 4) f.simd(SIMD.v128Const, ...splatBytes(x));
    else f.f32(x);
  };
  const binary =
    (p: Pair): Emit =>
    ({ f }, [a, b]) => {
      ins(f.get(a as number).get(b as number), p);
    };
  const unary =
    (p: Pair): Emit =>
    ({ f }, [a]) => {
      ins(f.get(a as number), p);
    };
  return {
    input: (c, _x, nd) => emitInput(c, nd, width),
    scalar:
      width === 4
        ? null
        : (c, _x, nd) => {
            const ls = c.leafSlot.get(nd.index as number);
            if (ls === undefined) c.f.get(c.scalars).mem(OP.f32Load, 2, 4 * (nd.index as number));
            else c.f.get(c.entry).mem(OP.f32Load, 2, 4 * (1 + c.arrays + ls));
          },
    const: width === 4 ? null : ({ f }, _x, nd) => float(f, nd.value as number),
    add: binary(PAIRS.add),
    sub: binary(PAIRS.sub),
    mul: binary(PAIRS.mul),
    div: binary(PAIRS.div),
    max: binary(PAIRS.max),
    min: binary(PAIRS.min),
    neg: unary(PAIRS.neg),
    abs: unary(PAIRS.abs),
    sqrt: unary(PAIRS.sqrt),
    square: ({ f }, [a]) => ins(f.get(a as number).get(a as number), PAIRS.mul),
    sign: width === 4 ? vectorSign : scalarSign,
    exp: null,
    log: null,
    lt: binary(PAIRS.lt),
    le: binary(PAIRS.le),
    gt: binary(PAIRS.gt),
    ge: binary(PAIRS.ge),
    eq: binary(PAIRS.eq),
    and: binary(PAIRS.and),
    or: binary(PAIRS.or),
    not: unary(PAIRS.not),
    isNaN: ({ f }, [a]) => ins(f.get(a as number).get(a as number), PAIRS.ne),
    isFinite: ({ f }, [a]) => {
      ins(f.get(a as number), PAIRS.abs);
      float(f, Number.POSITIVE_INFINITY);
      ins(f, PAIRS.lt);
    },
    select: ({ f }, [c, a, b]) =>
      ins(
        f
          .get(a as number)
          .get(b as number)
          .get(c as number),
        PAIRS.select,
      ),
    // a mask as 1/0: i32 0/1 converted, or all-ones lanes and'ed with 1.0
    toFloat: ({ f }, [a]) => {
      f.get(a as number);
      if (width === 4) f.simd(SIMD.v128Const, ...splatBytes(1)).simd(SIMD.v128And);
      else f.op(OP.f32ConvertI32U);
    },
  };
}

/** The scalar table (see {@link opTable}). */
const SCALAR = opTable(1);
/** The SIMD table (see {@link opTable}). */
const VECTOR = opTable(4);

/** Emits node `id` from `table` into its local (`locals[id]`), its arguments read from `locals`. */
function emitNode(
  c: WasmContext,
  table: Readonly<Record<NodeOp, Emit | null>>,
  form: string,
  nd: Node,
  id: number,
  locals: readonly number[],
): void {
  const emit = table[nd.op];
  if (emit === null) throw new Error(`wasm codegen: no ${form} form for ${nd.op}`);
  emit(
    c,
    nd.args.map((x) => locals[x] as number),
    nd,
  );
  c.f.set(locals[id] as number);
}

/** The leaf function's prologue: reads the element count and the array pointers of its entry into locals. */
function leafPrologue(f: Func, arrays: number): { n: number; offset: number; end: number; ptr: number[] } {
  const n = f.local(WT.i32);
  const offset = f.local(WT.i32);
  const end = f.local(WT.i32);
  const ptr: number[] = [];
  f.get(0).mem(OP.i32Load, 2, 0).set(n);
  for (let k = 0; k < arrays; k++) {
    const l = f.local(WT.i32);
    f.get(0)
      .mem(OP.i32Load, 2, 4 * (1 + k))
      .set(l);
    ptr.push(l);
  }
  return { n, offset, end, ptr };
}

/**
 * Uniform nodes once per leaf, in scalar form, then splatted into their
 * vector locals through the workspace (a store and a load): V8 would
 * otherwise splat them again at every use inside the loops.
 */
function emitUniforms(c: WasmContext, ir: KernelIR, sl: readonly number[], vl: readonly number[]): void {
  const slot = (id: number) => c.sc.layout.uniforms + 16 * id;
  ir.nodes.forEach((nd, id) => {
    if (!nd.uniform) return;
    emitNode(c, SCALAR, 'scalar', nd, id, sl);
    c.f.get(c.scalars);
    if (nd.mask)
      c.f
        .i32(0)
        .get(sl[id] as number)
        .op(OP.i32Sub)
        .simd(SIMD.i32x4Splat);
    else c.f.get(sl[id] as number).simd(SIMD.f32x4Splat);
    c.f.simdMem(SIMD.v128Store, slot(id));
    c.f
      .get(c.scalars)
      .simdMem(SIMD.v128Load, slot(id))
      .set(vl[id] as number);
  });
}

/** Stores output `k`'s value (local `value`, `lanes` wide) at the current element: float32, encoded, or into an int8 tile buffer. */
function emitStore(c: WasmContext, ir: KernelIR, k: number, value: number, lanes: 4 | 1): void {
  const { f } = c;
  const j = ir.inputs.length + k;
  const s = c.storage[j];
  if (s !== undefined) {
    emitPackedStore(c.sc, lanes, s, c.ptr[j] as number, value, c.sc.layout.tiles[k] as number, c.t0);
    return;
  }
  if (isScalesName((ir.outputs[k] as { name: string }).name)) return; // written by the tile's quantization
  f.get(c.ptr[j] as number)
    .get(c.offset)
    .op(OP.i32Add)
    .get(value);
  if (lanes === 4) f.simdMem(SIMD.v128Store);
  else f.mem(OP.f32Store, 2);
}

/**
 * One loop over elements from the current `offset` to `end` (byte offsets,
 * locals), `lanes` at a time (4: SIMD over the elements that fill whole
 * vectors; 1: the scalar tail), storing every output.
 */
function emitLoop(c: WasmContext, ir: KernelIR, end: number, lanes: 4 | 1, locals: readonly number[]): void {
  const { f } = c;
  f.begin('block').begin('loop');
  f.get(c.offset).get(end).op(OP.i32GeU).brIf(1);
  ir.nodes.forEach((nd, id) => {
    if (!nd.uniform) emitNode(c, lanes === 4 ? VECTOR : SCALAR, lanes === 4 ? 'vector' : 'scalar', nd, id, locals);
  });
  ir.outputs.forEach((out, k) => {
    emitStore(c, ir, k, locals[out.node] as number, lanes);
  });
  f.get(c.offset)
    .i32(4 * lanes)
    .op(OP.i32Add)
    .set(c.offset)
    .br(0);
  f.end().end();
}

/** The int8 arrays among `count` arrays from `first` (the IR's inputs, or its outputs), each with `of(index among them)`. */
function int8Arrays(c: WasmContext, first: number, count: number, of: (k: number) => number): [Int8Storage, number][] {
  const out: [Int8Storage, number][] = [];
  for (let k = 0; k < count; k++) {
    const s = c.storage[first + k];
    if (s?.dtype === 'int8') out.push([s, of(k)]);
  }
  return out;
}

/**
 * The loops of a kernel that writes int8 arrays: tiles of `tile` elements
 * (whole blocks of every int8 output), each the SIMD and scalar loops over
 * its elements, then the quantization of its blocks.
 */
function emitTiles(
  c: WasmContext,
  ir: KernelIR,
  at: { readonly n: number; readonly end: number; readonly tile: number },
  sl: readonly number[],
  vl: readonly number[],
): void {
  const { f, t0, offset } = c;
  const { n, end, tile } = at;
  const tEnd = f.local(WT.i32);
  const nBytes = f.local(WT.i32);
  f.get(n).i32(2).op(OP.i32Shl).set(nBytes);
  f.begin('block').begin('loop');
  f.get(t0).get(nBytes).op(OP.i32GeU).brIf(1);
  // tEnd = min(t0 + 4 · tile, 4n)
  f.get(t0)
    .i32(4 * tile)
    .op(OP.i32Add)
    .set(tEnd);
  f.get(tEnd).get(nBytes).get(tEnd).get(nBytes).op(OP.i32LtU).op(OP.select).set(tEnd);
  f.get(t0).set(offset);
  emitTileScales(
    c.sc,
    tile,
    t0,
    int8Arrays(c, 0, ir.inputs.length, (j) => c.ptr[j + 1] as number),
  );
  emitTileMaxima(
    c.sc,
    tile,
    int8Arrays(c, ir.inputs.length, ir.outputs.length, (k) => c.sc.layout.tiles[k] as number),
  );
  f.get(tEnd).get(t0).op(OP.i32Sub).i32(-16).op(OP.i32And).get(t0).op(OP.i32Add).set(end);
  emitLoop(c, ir, end, 4, vl);
  emitLoop(c, ir, tEnd, 1, sl);
  for (const [s, j] of int8Arrays(c, ir.inputs.length, ir.outputs.length, (k) => ir.inputs.length + k)) {
    const ptrs = { codes: c.ptr[j] as number, scales: c.ptr[j + 1] as number };
    emitQuantizeTile(c.sc, s, ptrs, c.sc.layout.tiles[j - ir.inputs.length] as number, t0, tEnd);
  }
  f.get(t0)
    .i32(4 * tile)
    .op(OP.i32Add)
    .set(t0)
    .br(0);
  f.end().end();
}

/** `run(table, count, scalars)`: calls the leaf function for each of `count` entries of `stride` bytes. */
function runFunction(stride: number): Func {
  const r = new Func([WT.i32, WT.i32, WT.i32]);
  const i = r.local(WT.i32);
  r.begin('block').begin('loop');
  r.get(i).get(1).op(OP.i32GeU).brIf(1);
  r.get(0).get(i).i32(stride).op(OP.i32Mul).op(OP.i32Add).get(2).call(0);
  r.get(i).i32(1).op(OP.i32Add).set(i).br(0);
  r.end().end();
  return r;
}

/** The module bytes of a kernel, or `null` when the IR uses an op with no SIMD form (`exp`, `log`). */
export function kernelModuleBytes(ir: KernelIR, shared: boolean): Uint8Array | null {
  if (ir.transcendental) return null;
  const arrays = ir.inputs.length + ir.outputs.length;
  // leaf(entry, scalars)
  const f = new Func([WT.i32, WT.i32]);
  const { n, offset, end, ptr } = leafPrologue(f, arrays);
  const leafSlot = new Map<number, number>();
  ir.scalars.forEach((s, i) => {
    if (s.source === 'leaf') leafSlot.set(i, leafSlot.size);
  });
  const storage = [...ir.inputs, ...ir.outputs.map((o) => o.name)].map((name) => storageOf(ir, name));
  const sc: StorageContext = { f, scalars: 1, offset, layout: workspaceLayout(ir), ...storageScratch(f) };
  const c: WasmContext = { f, entry: 0, scalars: 1, ptr, offset, arrays, leafSlot, storage, sc, t0: f.local(WT.i32) };
  // scalar (f32 / i32 mask) and vector locals per node
  const sl = ir.nodes.map((nd) => f.local(nd.mask ? WT.i32 : WT.f32));
  const vl = ir.nodes.map(() => f.local(WT.v128));
  emitPoolLocals(sc);
  emitUniforms(c, ir, sl, vl);
  const tile = int8Tile(ir);
  if (tile === 0) {
    f.get(n).i32(-4).op(OP.i32And).i32(2).op(OP.i32Shl).set(end);
    emitLoop(c, ir, end, 4, vl);
    f.get(n).i32(2).op(OP.i32Shl).set(end);
    emitLoop(c, ir, end, 1, sl);
  } else emitTiles(c, ir, { n, end, tile }, sl, vl);
  ir.outputs.forEach((_o, k) => {
    const s = storage[ir.inputs.length + k];
    if (s !== undefined) emitZeroPadding(sc, s, ptr[ir.inputs.length + k] as number, n);
  });
  return assemble({ shared }, [f, runFunction(entryBytes(ir))], { run: 1 });
}

/**
 * `sum(ptr, n)` (with `square`, `sumSq`): the float64 sum of `n` float32
 * values (squared in float32 first), eight floats per iteration into four
 * float64x2 accumulators, then a scalar tail.
 */
function sumFunction(square: boolean): Func {
  const f = new Func([WT.i32, WT.i32], [WT.f64]);
  const o = f.local(WT.i32);
  const end = f.local(WT.i32);
  const x = f.local(WT.v128);
  const acc = [f.local(WT.v128), f.local(WT.v128), f.local(WT.v128), f.local(WT.v128)];
  const tail = f.local(WT.f64);
  const s = f.local(WT.f32);
  const hiToLo = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
  // eight floats per iteration into four float64x2 accumulators (independent additions)
  f.get(1).i32(-8).op(OP.i32And).i32(2).op(OP.i32Shl).set(end);
  f.begin('block').begin('loop');
  f.get(o).get(end).op(OP.i32GeU).brIf(1);
  for (let half = 0; half < 2; half++) {
    f.get(0)
      .get(o)
      .op(OP.i32Add)
      .simdMem(SIMD.v128Load, 16 * half);
    if (square) f.tee(x).get(x).simd(SIMD.f32x4Mul);
    f.tee(x);
    const a0 = acc[2 * half] as number;
    const a1 = acc[2 * half + 1] as number;
    f.simd(SIMD.f64x2PromoteLowF32x4).get(a0).simd(SIMD.f64x2Add).set(a0);
    f.get(x)
      .get(x)
      .simd(SIMD.i8x16Shuffle, ...hiToLo)
      .simd(SIMD.f64x2PromoteLowF32x4)
      .get(a1)
      .simd(SIMD.f64x2Add)
      .set(a1);
  }
  f.get(o).i32(32).op(OP.i32Add).set(o).br(0);
  f.end().end();
  f.get(1).i32(2).op(OP.i32Shl).set(end);
  f.begin('block').begin('loop');
  f.get(o).get(end).op(OP.i32GeU).brIf(1);
  f.get(0).get(o).op(OP.i32Add).mem(OP.f32Load, 2);
  if (square) f.tee(s).get(s).op(OP.f32Mul);
  f.op(OP.f64PromoteF32).get(tail).op(OP.f64Add).set(tail);
  f.get(o).i32(4).op(OP.i32Add).set(o).br(0);
  f.end().end();
  // (acc0 + acc1) + (acc2 + acc3), lanes added, then the tail
  f.get(acc[0] as number)
    .get(acc[1] as number)
    .simd(SIMD.f64x2Add)
    .get(acc[2] as number)
    .get(acc[3] as number)
    .simd(SIMD.f64x2Add)
    .simd(SIMD.f64x2Add)
    .tee(x);
  f.simd(SIMD.f64x2ExtractLane, 0).get(x).simd(SIMD.f64x2ExtractLane, 1).op(OP.f64Add);
  f.get(tail).op(OP.f64Add);
  return f;
}

/** `maxAbs(ptr, n)`: the largest |x| of `n` float32 values (NaN-propagating, 0 for n = 0). */
function maxAbsFunction(): Func {
  const f = new Func([WT.i32, WT.i32], [WT.f32]);
  const o = f.local(WT.i32);
  const end = f.local(WT.i32);
  const acc = f.local(WT.v128);
  const s = f.local(WT.f32);
  f.get(1).i32(-4).op(OP.i32And).i32(2).op(OP.i32Shl).set(end);
  f.begin('block').begin('loop');
  f.get(o).get(end).op(OP.i32GeU).brIf(1);
  f.get(0).get(o).op(OP.i32Add).simdMem(SIMD.v128Load).simd(SIMD.f32x4Abs).get(acc).simd(SIMD.f32x4Max).set(acc);
  f.get(o).i32(16).op(OP.i32Add).set(o).br(0);
  f.end().end();
  for (let lane = 0; lane < 4; lane++) f.get(acc).simd(SIMD.f32x4ExtractLane, lane).get(s).op(OP.f32Max).set(s);
  f.get(1).i32(2).op(OP.i32Shl).set(end);
  f.begin('block').begin('loop');
  f.get(o).get(end).op(OP.i32GeU).brIf(1);
  f.get(0).get(o).op(OP.i32Add).mem(OP.f32Load, 2).op(OP.f32Abs).get(s).op(OP.f32Max).set(s);
  f.get(o).i32(4).op(OP.i32Add).set(o).br(0);
  f.end().end();
  f.get(s);
  return f;
}

/**
 * `nonFinite(ptr, n)`: the float32 sum of `x - x` over `n` float32 values:
 * 0 when every value is finite, NaN when one is not (`x - x` is exactly 0
 * for a finite `x` and NaN for ±∞ and NaN; NaN then propagates).
 */
function nonFiniteFunction(): Func {
  const f = new Func([WT.i32, WT.i32], [WT.f32]);
  const o = f.local(WT.i32);
  const end = f.local(WT.i32);
  const acc = f.local(WT.v128);
  const x = f.local(WT.v128);
  const s = f.local(WT.f32);
  const t = f.local(WT.f32);
  f.get(1).i32(-4).op(OP.i32And).i32(2).op(OP.i32Shl).set(end);
  f.begin('block').begin('loop');
  f.get(o).get(end).op(OP.i32GeU).brIf(1);
  f.get(0).get(o).op(OP.i32Add).simdMem(SIMD.v128Load).tee(x).get(x).simd(SIMD.f32x4Sub).get(acc).simd(SIMD.f32x4Add).set(acc);
  f.get(o).i32(16).op(OP.i32Add).set(o).br(0);
  f.end().end();
  for (let lane = 0; lane < 4; lane++) f.get(acc).simd(SIMD.f32x4ExtractLane, lane).get(s).op(OP.f32Add).set(s);
  f.get(1).i32(2).op(OP.i32Shl).set(end);
  f.begin('block').begin('loop');
  f.get(o).get(end).op(OP.i32GeU).brIf(1);
  f.get(0).get(o).op(OP.i32Add).mem(OP.f32Load, 2).tee(t).get(t).op(OP.f32Sub).get(s).op(OP.f32Add).set(s);
  f.get(o).i32(4).op(OP.i32Add).set(o).br(0);
  f.end().end();
  f.get(s);
  return f;
}

/**
 * The reductions module: `sumSq(ptr, n)` and `sum(ptr, n)` (float64 sums of
 * float32 squares / values, as tfjs's cpu Sum accumulates),
 * `maxAbs(ptr, n)` (NaN-propagating, 0 for n = 0) and `nonFinite(ptr, n)`
 * (0 when all `n` values are finite, else NaN).
 */
export function reductionModuleBytes(shared: boolean): Uint8Array {
  return assemble({ shared }, [sumFunction(true), sumFunction(false), maxAbsFunction(), nonFiniteFunction()], {
    sumSq: 0,
    sum: 1,
    maxAbs: 2,
    nonFinite: 3,
  });
}
