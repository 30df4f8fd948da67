/**
 * Loads the UCI optical digits data set shipped in `examples/data/` (see its
 * README for provenance): 1797 8×8 images with pixel values 0..16 and labels
 * 0..9, split deterministically into train and test sets.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** Features scaled to [0, 1] (row-major, 64 per example) and integer labels. */
export interface DigitsSplit {
  x: Float32Array;
  y: Int32Array;
  count: number;
}

/** The number of pixels per example and the number of classes. */
export const FEATURES = 64;
export const CLASSES = 10;

/** Parses the gzipped CSV (64 pixels then the label per row). */
export function loadDigitsRows(path = new URL('../data/digits.csv.gz', import.meta.url)): { pixels: number[]; label: number }[] {
  const text = gunzipSync(readFileSync(path)).toString('utf8');
  return text
    .trim()
    .split('\n')
    .map((line, i) => {
      const values = line.split(',').map(Number);
      if (values.length !== FEATURES + 1 || values.some((v) => !Number.isFinite(v))) {
        throw new Error(`digits.csv.gz: row ${i + 1} does not have ${FEATURES} pixels and a label`);
      }
      return { pixels: values.slice(0, FEATURES), label: values[FEATURES] as number };
    });
}

/** A small deterministic PRNG (mulberry32), so every run splits and shuffles the same way. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Shuffles the rows with `seed` and splits off `testFraction` of them as the test set. */
export function loadDigits(seed = 0, testFraction = 0.2): { train: DigitsSplit; test: DigitsSplit } {
  const rows = loadDigitsRows();
  const rand = mulberry32(seed);
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [rows[i], rows[j]] = [rows[j] as (typeof rows)[number], rows[i] as (typeof rows)[number]];
  }
  const nTest = Math.round(rows.length * testFraction);
  const toSplit = (part: typeof rows): DigitsSplit => {
    const x = new Float32Array(part.length * FEATURES);
    const y = new Int32Array(part.length);
    part.forEach((r, i) => {
      r.pixels.forEach((v, j) => {
        x[i * FEATURES + j] = v / 16;
      });
      y[i] = r.label;
    });
    return { x, y, count: part.length };
  };
  return { test: toSplit(rows.slice(0, nTest)), train: toSplit(rows.slice(nTest)) };
}
