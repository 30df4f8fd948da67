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
import type { KernelIR, Node } from '../../lang/trace.js';
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

/** The module bytes of a kernel, or `null` when the IR uses an op with no SIMD form (`exp`, `log`). */
export function kernelModuleBytes(ir: KernelIR, shared: boolean): Uint8Array | null {
  if (ir.transcendental) return null;
  const A = ir.inputs.length + ir.outputs.length;
  // leaf(entry, scalars)
  const f = new Func([WT.i32, WT.i32]);
  const ENTRY = 0;
  const SCAL = 1;
  const n = f.local(WT.i32);
  const o = f.local(WT.i32);
  const end = f.local(WT.i32);
  const ptr: number[] = [];
  f.get(ENTRY).mem(OP.i32Load, 2, 0).set(n);
  for (let k = 0; k < A; k++) {
    const l = f.local(WT.i32);
    f.get(ENTRY)
      .mem(OP.i32Load, 2, 4 * (1 + k))
      .set(l);
    ptr.push(l);
  }
  const leafSlot = new Map<number, number>();
  ir.scalars.forEach((s, i) => {
    if (s.source === 'leaf') leafSlot.set(i, leafSlot.size);
  });
  const nodes = ir.nodes;
  // scalar (f32 / i32 mask) and vector locals per node
  const sl = nodes.map((nd) => f.local(nd.mask ? WT.i32 : WT.f32));
  const vl = nodes.map(() => f.local(WT.v128));
  const inputPtr = (nd: Node) => ptr[nd.index as number] as number;

  const scalarOp = (nd: Node, id: number): void => {
    const a = nd.args.map((x) => sl[x] as number);
    const [x, y, z] = a as [number, number, number];
    switch (nd.op) {
      case 'input':
        f.get(inputPtr(nd)).get(o).op(OP.i32Add).mem(OP.f32Load, 2);
        break;
      case 'scalar': {
        const ls = leafSlot.get(nd.index as number);
        if (ls === undefined) f.get(SCAL).mem(OP.f32Load, 2, 4 * (nd.index as number));
        else f.get(ENTRY).mem(OP.f32Load, 2, 4 * (1 + A + ls));
        break;
      }
      case 'const':
        f.f32(nd.value as number);
        break;
      case 'add':
      case 'sub':
      case 'mul':
      case 'div':
      case 'max':
      case 'min': {
        const code = { add: OP.f32Add, sub: OP.f32Sub, mul: OP.f32Mul, div: OP.f32Div, max: OP.f32Max, min: OP.f32Min }[nd.op];
        f.get(x).get(y).op(code);
        break;
      }
      case 'neg':
        f.get(x).op(OP.f32Neg);
        break;
      case 'abs':
        f.get(x).op(OP.f32Abs);
        break;
      case 'sqrt':
        f.get(x).op(OP.f32Sqrt);
        break;
      case 'square':
        f.get(x).get(x).op(OP.f32Mul);
        break;
      case 'sign':
        // (x > 0) - (x < 0): 0 for ±0; NaN stays NaN (as jnp.sign and the reference path)
        f.get(x);
        f.get(x).f32(0).op(OP.f32Gt).op(OP.f32ConvertI32U).get(x).f32(0).op(OP.f32Lt).op(OP.f32ConvertI32U).op(OP.f32Sub);
        f.get(x).get(x).op(OP.f32Ne).op(OP.select);
        break;
      case 'lt':
      case 'le':
      case 'gt':
      case 'ge':
      case 'eq': {
        const code = { lt: OP.f32Lt, le: OP.f32Le, gt: OP.f32Gt, ge: OP.f32Ge, eq: OP.f32Eq }[nd.op];
        f.get(x).get(y).op(code);
        break;
      }
      case 'and':
        f.get(x).get(y).op(OP.i32And);
        break;
      case 'or':
        f.get(x).get(y).op(OP.i32Or);
        break;
      case 'not':
        f.get(x).op(OP.i32Eqz);
        break;
      case 'isNaN':
        f.get(x).get(x).op(OP.f32Ne);
        break;
      case 'isFinite':
        f.get(x).op(OP.f32Abs).f32(Number.POSITIVE_INFINITY).op(OP.f32Lt);
        break;
      case 'select':
        f.get(y).get(z).get(x).op(OP.select);
        break;
      case 'toFloat':
        f.get(x).op(OP.f32ConvertI32U);
        break;
      default:
        throw new Error(`wasm codegen: no scalar form for ${nd.op}`);
    }
    f.set(sl[id] as number);
  };

  const vectorOp = (nd: Node, id: number): void => {
    const a = nd.args.map((x) => vl[x] as number);
    const [x, y, z] = a as [number, number, number];
    switch (nd.op) {
      case 'input':
        f.get(inputPtr(nd)).get(o).op(OP.i32Add).simdMem(SIMD.v128Load);
        break;
      case 'add':
      case 'sub':
      case 'mul':
      case 'div':
      case 'max':
      case 'min': {
        const code = {
          add: SIMD.f32x4Add,
          sub: SIMD.f32x4Sub,
          mul: SIMD.f32x4Mul,
          div: SIMD.f32x4Div,
          max: SIMD.f32x4Max,
          min: SIMD.f32x4Min,
        }[nd.op];
        f.get(x).get(y).simd(code);
        break;
      }
      case 'neg':
        f.get(x).simd(SIMD.f32x4Neg);
        break;
      case 'abs':
        f.get(x).simd(SIMD.f32x4Abs);
        break;
      case 'sqrt':
        f.get(x).simd(SIMD.f32x4Sqrt);
        break;
      case 'square':
        f.get(x).get(x).simd(SIMD.f32x4Mul);
        break;
      case 'sign':
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
        break;
      case 'lt':
      case 'le':
      case 'gt':
      case 'ge':
      case 'eq': {
        const code = { lt: SIMD.f32x4Lt, le: SIMD.f32x4Le, gt: SIMD.f32x4Gt, ge: SIMD.f32x4Ge, eq: SIMD.f32x4Eq }[nd.op];
        f.get(x).get(y).simd(code);
        break;
      }
      case 'and':
        f.get(x).get(y).simd(SIMD.v128And);
        break;
      case 'or':
        f.get(x).get(y).simd(SIMD.v128Or);
        break;
      case 'not':
        f.get(x).simd(SIMD.v128Not);
        break;
      case 'isNaN':
        f.get(x).get(x).simd(SIMD.f32x4Ne);
        break;
      case 'isFinite':
        f.get(x)
          .simd(SIMD.f32x4Abs)
          .simd(SIMD.v128Const, ...splatBytes(Number.POSITIVE_INFINITY))
          .simd(SIMD.f32x4Lt);
        break;
      case 'select':
        f.get(y).get(z).get(x).simd(SIMD.v128Bitselect);
        break;
      case 'toFloat':
        f.get(x)
          .simd(SIMD.v128Const, ...splatBytes(1))
          .simd(SIMD.v128And);
        break;
      default:
        throw new Error(`wasm codegen: no vector form for ${nd.op}`);
    }
    f.set(vl[id] as number);
  };

  // uniform nodes once per leaf, in scalar form, then splatted
  nodes.forEach((nd, id) => {
    if (!nd.uniform) return;
    scalarOp(nd, id);
    if (nd.mask)
      f.i32(0)
        .get(sl[id] as number)
        .op(OP.i32Sub)
        .simd(SIMD.i32x4Splat);
    else f.get(sl[id] as number).simd(SIMD.f32x4Splat);
    f.set(vl[id] as number);
  });
  const outIndex = ir.inputs.length;
  // vector loop over groups of four
  f.get(n).i32(-4).op(OP.i32And).i32(2).op(OP.i32Shl).set(end);
  f.begin('block').begin('loop');
  f.get(o).get(end).op(OP.i32GeU).brIf(1);
  nodes.forEach((nd, id) => {
    if (!nd.uniform) vectorOp(nd, id);
  });
  ir.outputs.forEach((out, k) => {
    f.get(ptr[outIndex + k] as number)
      .get(o)
      .op(OP.i32Add)
      .get(vl[out.node] as number)
      .simdMem(SIMD.v128Store);
  });
  f.get(o).i32(16).op(OP.i32Add).set(o).br(0);
  f.end().end();
  // scalar tail
  f.get(n).i32(2).op(OP.i32Shl).set(end);
  f.begin('block').begin('loop');
  f.get(o).get(end).op(OP.i32GeU).brIf(1);
  nodes.forEach((nd, id) => {
    if (!nd.uniform) scalarOp(nd, id);
  });
  ir.outputs.forEach((out, k) => {
    f.get(ptr[outIndex + k] as number)
      .get(o)
      .op(OP.i32Add)
      .get(sl[out.node] as number)
      .mem(OP.f32Store, 2);
  });
  f.get(o).i32(4).op(OP.i32Add).set(o).br(0);
  f.end().end();

  // run(table, count, scalars): leaf() for each entry
  const r = new Func([WT.i32, WT.i32, WT.i32]);
  const i = r.local(WT.i32);
  const stride = entryBytes(ir);
  r.begin('block').begin('loop');
  r.get(i).get(1).op(OP.i32GeU).brIf(1);
  r.get(0).get(i).i32(stride).op(OP.i32Mul).op(OP.i32Add).get(2).call(0);
  r.get(i).i32(1).op(OP.i32Add).set(i).br(0);
  r.end().end();
  return assemble({ shared }, [f, r], { run: 1 });
}

/**
 * The reductions module: `sumSq(ptr, n)` and `sum(ptr, n)` (float64 sums of
 * float32 squares / values, as tfjs's cpu Sum accumulates) and
 * `maxAbs(ptr, n)` (NaN-propagating, 0 for n = 0).
 */
export function reductionModuleBytes(shared: boolean): Uint8Array {
  const sumFn = (square: boolean): Func => {
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
  };
  const mx = new Func([WT.i32, WT.i32], [WT.f32]);
  {
    const f = mx;
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
  }
  return assemble({ shared }, [sumFn(true), sumFn(false), mx], { sumSq: 0, sum: 1, maxAbs: 2 });
}
