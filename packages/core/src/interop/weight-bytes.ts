/**
 * Reading a checkpoint's tensors as untrusted input: the weight specs are
 * checked (names, dtypes gradtx writes, shapes, no quantization, no
 * duplicates) and their byte lengths summed against the data before any
 * tensor is made, typed-array views are read at their byte offset, and a
 * CRC-32 over the specs, the structure and the bytes is what `saveState`
 * stores and `loadState` verifies.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, isPlainObject } from '../tree.js';
import { STATE_DTYPES } from './structure.js';

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/** The largest number of elements one tensor of a checkpoint may have (tfjs's own limit on a buffer). */
const MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * The bytes of `weightData` as one `Uint8Array`: an `ArrayBuffer`, a typed
 * array or `DataView` (a Node `Buffer` included, read from its
 * `byteOffset` for its `byteLength`), or a list of those, concatenated.
 */
export function weightBytes(fn: string, weightData: unknown): Uint8Array {
  const one = (part: unknown, where: string): Uint8Array => {
    if (part instanceof ArrayBuffer) return new Uint8Array(part);
    if (ArrayBuffer.isView(part)) return new Uint8Array(part.buffer, part.byteOffset, part.byteLength);
    throw new Error(`${fn}: ${where} must be an ArrayBuffer or a typed array, got ${describe(part)}`);
  };
  if (!Array.isArray(weightData)) return one(weightData, "the artifacts' weightData");
  const parts = weightData.map((p, i) => one(p, `part ${i} of the artifacts' weightData`));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** A weight spec that passed {@link checkWeightSpecs}. */
export interface CheckedSpec {
  /** The tensor's name. */
  name: string;
  /** Its shape. */
  shape: number[];
  /** Its dtype, one gradtx writes. */
  dtype: 'float32' | 'int32' | 'bool';
  /** Where its bytes start in the data. */
  offset: number;
  /** How many bytes it has. */
  byteLength: number;
}

/**
 * Checks untrusted weight specs against `byteLength` bytes of data: each is
 * `{ name, shape, dtype }` with a unique name, a shape of non-negative
 * integers, a dtype gradtx writes (float32, int32, bool) and no
 * `quantization` (or other encoding) field, all of them within the data (see {@link checkCoversData} for the whole of it). Nothing is
 * decoded; throws naming the spec otherwise.
 */
export function checkWeightSpecs(fn: string, specs: unknown, byteLength: number): CheckedSpec[] {
  if (!Array.isArray(specs)) throw new Error(`${fn}: the artifacts' weightSpecs must be an array, got ${describe(specs)}`);
  const seen = new Set<string>();
  const out: CheckedSpec[] = [];
  let offset = 0;
  for (const [i, s] of specs.entries()) {
    const bad = (what: string): never => {
      throw new Error(`${fn}: weight spec ${i} ${what} (a damaged or foreign checkpoint?)`);
    };
    if (!isPlainObject(s)) bad(`must be { name, shape, dtype }, got ${describe(s)}`);
    const spec = s as Record<string, unknown>;
    const name = spec.name;
    if (typeof name !== 'string' || name === '') bad(`has no name (got ${describe(name)})`);
    for (const key of Object.keys(spec)) {
      if (key !== 'name' && key !== 'shape' && key !== 'dtype')
        bad(`('${name}') has a \`${key}\` field; gradtx writes only name, shape and dtype`);
    }
    if (seen.has(name as string)) bad(`repeats the name '${name}'`);
    seen.add(name as string);
    const dtype = spec.dtype;
    if (typeof dtype !== 'string' || !STATE_DTYPES.includes(dtype as tf.DataType))
      bad(`('${name}') has dtype ${describe(dtype)}; a gradtx state holds ${STATE_DTYPES.join(', ')} tensors`);
    const shape = spec.shape;
    if (!Array.isArray(shape) || shape.length > 32 || !shape.every((d) => Number.isInteger(d) && d >= 0))
      bad(`('${name}') has shape ${describe(shape)}; a shape is a list of non-negative integers`);
    const size = (shape as number[]).reduce((n, d) => n * d, 1);
    if (size > MAX_ELEMENTS) bad(`('${name}') has ${size} elements, more than a tensor can hold`);
    const bytes = size * (BYTES_PER_ELEMENT[dtype as string] as number);
    if (offset + bytes > byteLength)
      bad(
        `('${name}', ${dtype} [${(shape as number[]).join(', ')}]) needs bytes ${offset} to ${offset + bytes}, but the data has ${byteLength} bytes (truncated?)`,
      );
    out.push({ name: name as string, shape: [...(shape as number[])], dtype: dtype as CheckedSpec['dtype'], offset, byteLength: bytes });
    offset += bytes;
  }
  return out;
}

/** Throws unless the checked specs cover all `byteLength` bytes of the data (no trailing bytes). */
export function checkCoversData(fn: string, specs: readonly CheckedSpec[], byteLength: number): void {
  const last = specs[specs.length - 1];
  const covered = last === undefined ? 0 : last.offset + last.byteLength;
  if (covered !== byteLength)
    throw new Error(`${fn}: the weight specs describe ${covered} bytes but the data has ${byteLength} (a damaged checkpoint?)`);
}

/** Makes the tensors of checked specs from `bytes` (copies, aligned); on any failure none is left. */
export function decodeCheckedWeights(specs: readonly CheckedSpec[], bytes: Uint8Array): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  try {
    for (const s of specs) {
      const raw = bytes.slice(s.offset, s.offset + s.byteLength).buffer;
      const values = s.dtype === 'float32' ? new Float32Array(raw) : s.dtype === 'int32' ? new Int32Array(raw) : new Uint8Array(raw);
      out[s.name] = tf.tensor(values, s.shape, s.dtype);
    }
  } catch (e) {
    tf.dispose(Object.values(out));
    throw e;
  }
  return out;
}

let crcTable: Uint32Array | null = null;

function table(): Uint32Array {
  if (crcTable !== null) return crcTable;
  crcTable = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crcTable[n] = c >>> 0;
  }
  return crcTable;
}

/** CRC-32 (IEEE 802.3, as zlib's `crc32`) of the byte arrays, one after another. */
export function crc32(...parts: Uint8Array[]): number {
  const t = table();
  let c = 0xffffffff;
  for (const p of parts) for (let i = 0; i < p.length; i++) c = (t[(c ^ (p[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * The checksum a checkpoint carries: `crc32:` and eight hex digits of the
 * CRC-32 over the specs (name, dtype, shape, in order), the structure (as
 * JSON) and the weight bytes, so a flipped byte, a swapped pair of names or
 * an edited structure is caught on load.
 */
export function stateChecksum(
  specs: readonly { name: string; dtype?: string; shape: readonly number[] }[],
  structure: unknown,
  bytes: Uint8Array,
): string {
  const header = JSON.stringify([specs.map((s) => [s.name, s.dtype, s.shape]), structure]);
  const sum = crc32(new TextEncoder().encode(header), bytes);
  return `crc32:${sum.toString(16).padStart(8, '0')}`;
}
