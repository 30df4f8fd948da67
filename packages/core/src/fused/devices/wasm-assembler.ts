/**
 * A minimal WebAssembly assembler: just enough of the binary format (types,
 * one imported memory, functions, exports, code with SIMD) for the fused
 * engine to emit its kernels at run time, with no toolchain.
 *
 * @module
 */

/** Value types of the binary format. */
export const WT = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;

/** A value type (one of {@link WT}). */
export type ValType = (typeof WT)[keyof typeof WT];

/** Plain (one-byte) opcodes: those the printers and the assembler emit, no more. */
export const OP = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  call: 0x10,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  f32Load: 0x2a,
  i64Load: 0x29,
  i32Load8U: 0x2d,
  i32Load16U: 0x2f,
  i32Store: 0x36,
  i64Store: 0x37,
  f32Store: 0x38,
  i32Store8: 0x3a,
  i32Store16: 0x3b,
  i32Const: 0x41,
  f32Const: 0x43,
  f64Const: 0x44,
  i32Eqz: 0x45,
  i32Ne: 0x47,
  i32LtS: 0x48,
  i32LtU: 0x49,
  i32GtS: 0x4a,
  i32GtU: 0x4b,
  i32GeS: 0x4e,
  i32GeU: 0x4f,
  f32Eq: 0x5b,
  f32Ne: 0x5c,
  f32Lt: 0x5d,
  f32Gt: 0x5e,
  f32Le: 0x5f,
  f32Ge: 0x60,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32DivU: 0x6e,
  i32And: 0x71,
  i32Or: 0x72,
  i32Shl: 0x74,
  i32ShrU: 0x76,
  f32Abs: 0x8b,
  f32Neg: 0x8c,
  f32Sqrt: 0x91,
  f32Add: 0x92,
  f32Sub: 0x93,
  f32Mul: 0x94,
  f32Div: 0x95,
  f32Min: 0x96,
  f32Max: 0x97,
  f64Add: 0xa0,
  f32ConvertI32S: 0xb2,
  f32ConvertI32U: 0xb3,
  f64PromoteF32: 0xbb,
  i32ReinterpretF32: 0xbc,
  f32ReinterpretI32: 0xbe,
} as const;

/** SIMD opcodes (after the 0xFD prefix) that the printers emit. */
export const SIMD = {
  v128Load: 0x00,
  /** Four u16 in memory to four i32 lanes. */
  v128Load16x4U: 0x04,
  v128Store: 0x0b,
  v128Const: 0x0c,
  /** One 32-bit or 64-bit value from memory into a lane of a vector (the other lanes kept), or into lane 0 of a zero vector. */
  v128Load32Lane: 0x56,
  v128Load64Lane: 0x57,
  /** The low 64 bits of a vector (lane 0 of i64x2) to memory. */
  v128Store64Lane: 0x5b,
  v128Load32Zero: 0x5c,
  v128Load64Zero: 0x5d,
  i8x16Shuffle: 0x0d,
  i32x4Splat: 0x11,
  i64x2Splat: 0x12,
  f32x4Splat: 0x13,
  i32x4ExtractLane: 0x1b,
  i32x4ReplaceLane: 0x1c,
  i64x2ExtractLane: 0x1d,
  i64x2ReplaceLane: 0x1e,
  f32x4ExtractLane: 0x1f,
  f32x4ReplaceLane: 0x20,
  f64x2ExtractLane: 0x21,
  f32x4Eq: 0x41,
  f32x4Ne: 0x42,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  f32x4Le: 0x45,
  f32x4Ge: 0x46,
  v128Not: 0x4d,
  v128And: 0x4e,
  v128Or: 0x50,
  v128Bitselect: 0x52,
  f64x2PromoteLowF32x4: 0x5f,
  i8x16NarrowI16x8U: 0x66,
  i16x8NarrowI32x4U: 0x86,
  i32x4Ne: 0x38,
  i32x4MinS: 0xb6,
  i32x4MaxS: 0xb8,
  i32x4LtS: 0x39,
  i32x4GtS: 0x3b,
  i32x4GeS: 0x3f,
  i32x4Shl: 0xab,
  i32x4ShrU: 0xad,
  i32x4Add: 0xae,
  i32x4Sub: 0xb1,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Min: 0xe8,
  f32x4Max: 0xe9,
  f64x2Add: 0xf0,
  f32x4ConvertI32x4S: 0xfa,
} as const;

/** A growable byte buffer with the binary format's encodings. */
export class Bytes {
  readonly out: number[] = [];

  byte(...bs: number[]): this {
    for (const b of bs) this.out.push(b & 0xff);
    return this;
  }

  /** Unsigned LEB128. */
  u32(x: number): this {
    let v = x >>> 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.out.push(b);
    } while (v !== 0);
    return this;
  }

  /** Signed LEB128 (32-bit). */
  s32(x: number): this {
    let v = x | 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
      this.out.push(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  f32(x: number): this {
    const view = new DataView(new ArrayBuffer(4));
    view.setFloat32(0, x, true);
    for (let i = 0; i < 4; i++) this.out.push(view.getUint8(i));
    return this;
  }

  f64(x: number): this {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x, true);
    for (let i = 0; i < 8; i++) this.out.push(view.getUint8(i));
    return this;
  }

  name(s: string): this {
    const utf8 = new TextEncoder().encode(s);
    this.u32(utf8.length);
    for (const b of utf8) this.out.push(b);
    return this;
  }

  append(other: Bytes | readonly number[]): this {
    for (const b of other instanceof Bytes ? other.out : other) this.out.push(b);
    return this;
  }
}

/** One function being assembled: its signature, locals and code. */
export class Func {
  readonly code = new Bytes();
  private readonly localTypes: ValType[] = [];

  constructor(
    readonly params: readonly ValType[],
    readonly results: readonly ValType[] = [],
  ) {}

  /** Declares a new local of `type`; returns its index. */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  op(...bytes: number[]): this {
    this.code.byte(...bytes);
    return this;
  }

  get(i: number): this {
    this.code.byte(OP.localGet).u32(i);
    return this;
  }

  set(i: number): this {
    this.code.byte(OP.localSet).u32(i);
    return this;
  }

  tee(i: number): this {
    this.code.byte(OP.localTee).u32(i);
    return this;
  }

  i32(x: number): this {
    this.code.byte(OP.i32Const).s32(x);
    return this;
  }

  f32(x: number): this {
    this.code.byte(OP.f32Const).f32(x);
    return this;
  }

  f64(x: number): this {
    this.code.byte(OP.f64Const).f64(x);
    return this;
  }

  /** A memory access (`op`) with alignment log2 `align` and a constant `offset`. */
  mem(op: number, align: number, offset = 0): this {
    this.code.byte(op).u32(align).u32(offset);
    return this;
  }

  /** A SIMD instruction, with its immediate bytes. */
  simd(op: number, ...imm: number[]): this {
    this.code
      .byte(0xfd)
      .u32(op)
      .byte(...imm);
    return this;
  }

  /** `v128.load` / `v128.store` with a constant offset. */
  simdMem(op: number, offset = 0): this {
    this.code.byte(0xfd).u32(op).u32(0).u32(offset);
    return this;
  }

  /** `v128.loadN_lane`: a memory access with a constant offset, then the lane index. */
  simdMemLane(op: number, offset: number, lane: number): this {
    this.code.byte(0xfd).u32(op).u32(0).u32(offset).byte(lane);
    return this;
  }

  call(index: number): this {
    this.code.byte(OP.call).u32(index);
    return this;
  }

  /** `block` / `loop` with an empty block type. */
  begin(kind: 'block' | 'loop'): this {
    this.code.byte(kind === 'block' ? OP.block : OP.loop, 0x40);
    return this;
  }

  end(): this {
    this.code.byte(OP.end);
    return this;
  }

  br(depth: number): this {
    this.code.byte(OP.br).u32(depth);
    return this;
  }

  brIf(depth: number): this {
    this.code.byte(OP.brIf).u32(depth);
    return this;
  }

  /** The function body as the code section wants it (locals, code, `end`), without its size. */
  body(): Bytes {
    const b = new Bytes();
    const groups: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    b.u32(groups.length);
    for (const [n, t] of groups) b.u32(n).byte(t);
    b.append(this.code).byte(OP.end);
    return b;
  }
}

/** The imported memory of a module: `env.mem`, shared when the host memory is. */
export interface MemoryImport {
  readonly shared: boolean;
}

function section(out: Bytes, id: number, content: Bytes): void {
  out.byte(id).u32(content.out.length).append(content);
}

/**
 * Assembles a module that imports one memory as `env.mem` and holds `funcs`
 * (function index = position in the array); `exports` names some of them.
 */
export function assemble(memory: MemoryImport, funcs: readonly Func[], exports: Readonly<Record<string, number>>): Uint8Array {
  const out = new Bytes().byte(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
  // types, one per distinct signature
  const sigs: string[] = [];
  const typeOf = funcs.map((f) => {
    const sig = `${f.params.join(',')}:${f.results.join(',')}`;
    let i = sigs.indexOf(sig);
    if (i < 0) i = sigs.push(sig) - 1;
    return i;
  });
  const types = new Bytes().u32(sigs.length);
  for (const sig of sigs) {
    const [ps, rs] = sig.split(':').map((s) => (s === '' ? [] : s.split(',').map(Number)));
    types
      .byte(0x60)
      .u32((ps as number[]).length)
      .byte(...(ps as number[]))
      .u32((rs as number[]).length)
      .byte(...(rs as number[]));
  }
  section(out, 1, types);
  // import env.mem
  const imports = new Bytes().u32(1).name('env').name('mem').byte(0x02);
  if (memory.shared) imports.byte(0x03).u32(1).u32(65536);
  else imports.byte(0x00).u32(1);
  section(out, 2, imports);
  const fsec = new Bytes().u32(funcs.length);
  for (const t of typeOf) fsec.u32(t);
  section(out, 3, fsec);
  const names = Object.keys(exports);
  const esec = new Bytes().u32(names.length);
  for (const n of names)
    esec
      .name(n)
      .byte(0x00)
      .u32(exports[n] as number);
  section(out, 7, esec);
  const code = new Bytes().u32(funcs.length);
  for (const f of funcs) {
    const body = f.body();
    code.u32(body.out.length).append(body);
  }
  section(out, 10, code);
  return Uint8Array.from(out.out);
}
