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
import type { KernelIR, Node, NodeOp } from '../../lang/trace.js';
import { assemble, Func, OP, SIMD, WT } from './wasm-assembler.js';

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
}

/** Emits the code that leaves one node's value on the stack; `x` holds the locals of its arguments. */
type Emit = (c: WasmContext, x: readonly number[], nd: Node) => void;

const binary =
  (code: number): Emit =>
  ({ f }, [a, b]) => {
    f.get(a as number)
      .get(b as number)
      .op(code);
  };
const unary =
  (code: number): Emit =>
  ({ f }, [a]) => {
    f.get(a as number).op(code);
  };
const binarySimd =
  (code: number): Emit =>
  ({ f }, [a, b]) => {
    f.get(a as number)
      .get(b as number)
      .simd(code);
  };
const unarySimd =
  (code: number): Emit =>
  ({ f }, [a]) => {
    f.get(a as number).simd(code);
  };

/**
 * The scalar form of every op (one float32 lane; masks are i32 0/1), for
 * uniform nodes and the tail loop. `null`: the op has no wasm instruction
 * (`exp`, `log`: such an IR runs as a JS kernel).
 */
const SCALAR: Readonly<Record<NodeOp, Emit | null>> = {
  input: (c, _x, nd) => {
    c.f
      .get(c.ptr[nd.index as number] as number)
      .get(c.offset)
      .op(OP.i32Add)
      .mem(OP.f32Load, 2);
  },
  scalar: (c, _x, nd) => {
    const ls = c.leafSlot.get(nd.index as number);
    if (ls === undefined) c.f.get(c.scalars).mem(OP.f32Load, 2, 4 * (nd.index as number));
    else c.f.get(c.entry).mem(OP.f32Load, 2, 4 * (1 + c.arrays + ls));
  },
  const: ({ f }, _x, nd) => {
    f.f32(nd.value as number);
  },
  add: binary(OP.f32Add),
  sub: binary(OP.f32Sub),
  mul: binary(OP.f32Mul),
  div: binary(OP.f32Div),
  max: binary(OP.f32Max),
  min: binary(OP.f32Min),
  neg: unary(OP.f32Neg),
  abs: unary(OP.f32Abs),
  sqrt: unary(OP.f32Sqrt),
  square: ({ f }, [a]) => {
    f.get(a as number)
      .get(a as number)
      .op(OP.f32Mul);
  },
  // (x > 0) - (x < 0): 0 for ±0; NaN stays NaN (as jnp.sign and the reference path)
  sign: ({ f }, [a]) => {
    const x = a as number;
    f.get(x);
    f.get(x).f32(0).op(OP.f32Gt).op(OP.f32ConvertI32U).get(x).f32(0).op(OP.f32Lt).op(OP.f32ConvertI32U).op(OP.f32Sub);
    f.get(x).get(x).op(OP.f32Ne).op(OP.select);
  },
  exp: null,
  log: null,
  lt: binary(OP.f32Lt),
  le: binary(OP.f32Le),
  gt: binary(OP.f32Gt),
  ge: binary(OP.f32Ge),
  eq: binary(OP.f32Eq),
  and: binary(OP.i32And),
  or: binary(OP.i32Or),
  not: unary(OP.i32Eqz),
  isNaN: ({ f }, [a]) => {
    f.get(a as number)
      .get(a as number)
      .op(OP.f32Ne);
  },
  isFinite: ({ f }, [a]) => {
    f.get(a as number)
      .op(OP.f32Abs)
      .f32(Number.POSITIVE_INFINITY)
      .op(OP.f32Lt);
  },
  select: ({ f }, [c, a, b]) => {
    f.get(a as number)
      .get(b as number)
      .get(c as number)
      .op(OP.select);
  },
  toFloat: unary(OP.f32ConvertI32U),
};

/**
 * The SIMD form of every op (four float32 lanes; masks are all-ones / zero
 * lanes), for the per-element nodes of the main loop. `null`: no SIMD form
 * (`exp`, `log`), or never per-element (`scalar`, `const` are uniform and
 * splatted from their scalar form).
 */
const VECTOR: Readonly<Record<NodeOp, Emit | null>> = {
  input: (c, _x, nd) => {
    c.f
      .get(c.ptr[nd.index as number] as number)
      .get(c.offset)
      .op(OP.i32Add)
      .simdMem(SIMD.v128Load);
  },
  scalar: null,
  const: null,
  add: binarySimd(SIMD.f32x4Add),
  sub: binarySimd(SIMD.f32x4Sub),
  mul: binarySimd(SIMD.f32x4Mul),
  div: binarySimd(SIMD.f32x4Div),
  max: binarySimd(SIMD.f32x4Max),
  min: binarySimd(SIMD.f32x4Min),
  neg: unarySimd(SIMD.f32x4Neg),
  abs: unarySimd(SIMD.f32x4Abs),
  sqrt: unarySimd(SIMD.f32x4Sqrt),
  square: ({ f }, [a]) => {
    f.get(a as number)
      .get(a as number)
      .simd(SIMD.f32x4Mul);
  },
  sign: ({ f }, [a]) => {
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
  },
  exp: null,
  log: null,
  lt: binarySimd(SIMD.f32x4Lt),
  le: binarySimd(SIMD.f32x4Le),
  gt: binarySimd(SIMD.f32x4Gt),
  ge: binarySimd(SIMD.f32x4Ge),
  eq: binarySimd(SIMD.f32x4Eq),
  and: binarySimd(SIMD.v128And),
  or: binarySimd(SIMD.v128Or),
  not: unarySimd(SIMD.v128Not),
  isNaN: ({ f }, [a]) => {
    f.get(a as number)
      .get(a as number)
      .simd(SIMD.f32x4Ne);
  },
  isFinite: ({ f }, [a]) => {
    f.get(a as number)
      .simd(SIMD.f32x4Abs)
      .simd(SIMD.v128Const, ...splatBytes(Number.POSITIVE_INFINITY))
      .simd(SIMD.f32x4Lt);
  },
  select: ({ f }, [c, a, b]) => {
    f.get(a as number)
      .get(b as number)
      .get(c as number)
      .simd(SIMD.v128Bitselect);
  },
  toFloat: ({ f }, [a]) => {
    f.get(a as number)
      .simd(SIMD.v128Const, ...splatBytes(1))
      .simd(SIMD.v128And);
  },
};

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

/** Uniform nodes once per leaf, in scalar form, then splatted into their vector locals. */
function emitUniforms(c: WasmContext, ir: KernelIR, sl: readonly number[], vl: readonly number[]): void {
  ir.nodes.forEach((nd, id) => {
    if (!nd.uniform) return;
    emitNode(c, SCALAR, 'scalar', nd, id, sl);
    if (nd.mask)
      c.f
        .i32(0)
        .get(sl[id] as number)
        .op(OP.i32Sub)
        .simd(SIMD.i32x4Splat);
    else c.f.get(sl[id] as number).simd(SIMD.f32x4Splat);
    c.f.set(vl[id] as number);
  });
}

/**
 * One loop over the leaf's elements, `lanes` at a time (4: SIMD over the
 * elements that fill whole vectors; 1: the scalar tail), storing every output.
 */
function emitLoop(c: WasmContext, ir: KernelIR, n: number, end: number, lanes: 4 | 1, locals: readonly number[]): void {
  const { f } = c;
  if (lanes === 4) f.get(n).i32(-4).op(OP.i32And).i32(2).op(OP.i32Shl).set(end);
  else f.get(n).i32(2).op(OP.i32Shl).set(end);
  f.begin('block').begin('loop');
  f.get(c.offset).get(end).op(OP.i32GeU).brIf(1);
  ir.nodes.forEach((nd, id) => {
    if (!nd.uniform) emitNode(c, lanes === 4 ? VECTOR : SCALAR, lanes === 4 ? 'vector' : 'scalar', nd, id, locals);
  });
  ir.outputs.forEach((out, k) => {
    f.get(c.ptr[ir.inputs.length + k] as number)
      .get(c.offset)
      .op(OP.i32Add)
      .get(locals[out.node] as number);
    if (lanes === 4) f.simdMem(SIMD.v128Store);
    else f.mem(OP.f32Store, 2);
  });
  f.get(c.offset)
    .i32(4 * lanes)
    .op(OP.i32Add)
    .set(c.offset)
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
  const c: WasmContext = { f, entry: 0, scalars: 1, ptr, offset, arrays, leafSlot };
  // scalar (f32 / i32 mask) and vector locals per node
  const sl = ir.nodes.map((nd) => f.local(nd.mask ? WT.i32 : WT.f32));
  const vl = ir.nodes.map(() => f.local(WT.v128));
  emitUniforms(c, ir, sl, vl);
  emitLoop(c, ir, n, end, 4, vl);
  emitLoop(c, ir, n, end, 1, sl);
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
 * The reductions module: `sumSq(ptr, n)` and `sum(ptr, n)` (float64 sums of
 * float32 squares / values, as tfjs's cpu Sum accumulates) and
 * `maxAbs(ptr, n)` (NaN-propagating, 0 for n = 0).
 */
export function reductionModuleBytes(shared: boolean): Uint8Array {
  return assemble({ shared }, [sumFunction(true), sumFunction(false), maxAbsFunction()], { sumSq: 0, sum: 1, maxAbs: 2 });
}
