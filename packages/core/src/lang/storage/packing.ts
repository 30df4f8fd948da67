/**
 * Packing narrow codes into int32 words, the element type tfjs tensors
 * offer: two 16-bit codes or four 8-bit codes per word, little-endian
 * within the word. Element `i` of a leaf lives in word `floor(i / per)` at
 * bits `bits · (i mod per)` up; a leaf of `n` elements takes
 * `ceil(n / per)` words, and the unused codes of its last word are 0.
 *
 * @module
 */

/** Bits per code of the packed formats. */
export type CodeBits = 8 | 16;

/** Codes per int32 word: 4 for 8-bit codes, 2 for 16-bit codes. */
export function codesPerWord(bits: CodeBits): number {
  return 32 / bits;
}

/** The number of int32 words that hold `n` codes of `bits` bits. */
export function packedWords(n: number, bits: CodeBits): number {
  return Math.ceil(n / codesPerWord(bits));
}

/** Whether this host stores integers little-endian (then packing is a copy through a narrow view). */
export const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Packs `codes` (each in [0, 2^bits)) into int32 words. */
export function packCodes(codes: ArrayLike<number>, bits: CodeBits): Int32Array {
  const per = codesPerWord(bits);
  const words = new Int32Array(packedWords(codes.length, bits));
  if (LITTLE_ENDIAN) {
    (bits === 8 ? new Uint8Array(words.buffer) : new Uint16Array(words.buffer)).set(codes);
    return words;
  }
  for (let i = 0; i < codes.length; i++) words[Math.floor(i / per)] |= (codes[i] as number) << (bits * (i % per));
  return words;
}

/** The first `n` codes of `bits` bits held in `words`, as unsigned integers. */
export function unpackCodes(words: ArrayLike<number>, bits: CodeBits, n: number): Uint32Array {
  const per = codesPerWord(bits);
  const mask = 2 ** bits - 1;
  if (LITTLE_ENDIAN && words instanceof Int32Array) {
    const view = bits === 8 ? new Uint8Array(words.buffer, words.byteOffset, n) : new Uint16Array(words.buffer, words.byteOffset, n);
    return Uint32Array.from(view);
  }
  const codes = new Uint32Array(n);
  for (let i = 0; i < n; i++) codes[i] = ((words[Math.floor(i / per)] as number) >>> (bits * (i % per))) & mask;
  return codes;
}
