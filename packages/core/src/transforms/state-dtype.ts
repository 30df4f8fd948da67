/**
 * The storage options of transforms that keep per-parameter moments or
 * accumulators: optax's `mu_dtype` (as `muDtype`) and `accumulator_dtype`
 * (as `accumulatorDtype`), gradtx's `nuDtype` for second moments, and the
 * int8 block length. Each resolves, with the one option policy, to the
 * {@link SlotStorage} of a spec's slot.
 *
 * Values: `'float32'` (the default: exactly the float32 state of before),
 * `'bfloat16'` and `'float16'` (16-bit floats, round-to-nearest-even,
 * 2 bytes per element), `'int8'` (block-wise dynamic 8-bit quantization,
 * Dettmers et al. 2022: 1 byte per element plus a float32 scale per block
 * of `int8BlockSize` elements). The update itself always runs in float32:
 * a stored moment is decoded, updated and encoded again on each step.
 *
 * @module
 */
import type { PackedTree, ParamsTree } from '../base.js';
import { DEFAULT_BLOCK_SIZE } from '../lang/storage/blockwise.js';
import { type SlotStorage, STORAGE_DTYPES, type StateDtype } from '../lang/storage/slot-storage.js';
import { type OptionDefaults, showValue } from '../validate.js';

export type { StateDtype } from '../lang/storage/slot-storage.js';

/** The storage options of transforms with first and second moments. */
export interface MomentStorageOptions {
  /** How the first moment is stored between steps (default `'float32'`); optax `mu_dtype`. */
  muDtype?: StateDtype;
  /** How the second moment (and, where kept, its running maximum) is stored (default `'float32'`). */
  nuDtype?: StateDtype;
  /** Elements per block of `'int8'` storage (default 256): a positive multiple of 4. */
  int8BlockSize?: number;
}

/** The storage options of transforms with one accumulator (a trace, an EMA). */
export interface AccumulatorStorageOptions {
  /** How the accumulator is stored between steps (default `'float32'`); optax `accumulator_dtype`. */
  accumulatorDtype?: StateDtype;
  /** Elements per block of `'int8'` storage (default 256): a positive multiple of 4. */
  int8BlockSize?: number;
}

/**
 * The value of a slot stored in `'bfloat16'` or `'float16'`: two 16-bit
 * codes per int32 word, `codes` a tree with the params' structure of 1-D
 * int32 tensors of `ceil(n / 2)` words.
 */
export interface PackedSlot16 {
  dtype: 'bfloat16' | 'float16';
  codes: PackedTree;
}

/**
 * The value of a slot stored in `'int8'`: four 8-bit codes per int32 word
 * (`codes`, 1-D int32 tensors of `ceil(n / 4)` words) and one float32 absmax
 * scale per block of `blockSize` elements (`scales`, 1-D tensors of
 * `ceil(n / blockSize)`), both trees with the params' structure.
 */
export interface PackedSlot8 {
  dtype: 'int8';
  blockSize: number;
  codes: PackedTree;
  scales: PackedTree;
}

/**
 * The value a slot stored as `D` holds in a state: a tree with the params'
 * structure for `'float32'`, a {@link PackedSlot16} or {@link PackedSlot8}
 * otherwise (a union of these when `D` is not known).
 */
export type StoredSlot<D extends StateDtype = 'float32'> = D extends 'float32' ? ParamsTree : D extends 'int8' ? PackedSlot8 : PackedSlot16;

/**
 * The storage dtype that options `O` select with their key `K`: the literal
 * given, `'float32'` when the key is absent, and every possible one for an
 * options type whose key is an optional {@link StateDtype}.
 */
export type DtypeOf<O, K extends PropertyKey> = K extends keyof O
  ? (Exclude<O[K], undefined> & StateDtype) | (undefined extends O[K] ? 'float32' : never)
  : 'float32';

/** State `S` with each slot named in `M` holding the {@link StoredSlot} of its dtype. */
export type WithStorage<S, M extends { readonly [K in keyof S]?: StateDtype }> = {
  [K in keyof S]: K extends keyof M ? StoredSlot<NonNullable<M[K]> & StateDtype> : S[K];
};

/** The defaults of {@link MomentStorageOptions}. */
export const momentStorageDefaults: OptionDefaults<MomentStorageOptions> = Object.freeze({
  muDtype: 'float32' as StateDtype,
  nuDtype: 'float32' as StateDtype,
  int8BlockSize: DEFAULT_BLOCK_SIZE,
});

/** The defaults of {@link AccumulatorStorageOptions}. */
export const accumulatorStorageDefaults: OptionDefaults<AccumulatorStorageOptions> = Object.freeze({
  accumulatorDtype: 'float32' as StateDtype,
  int8BlockSize: DEFAULT_BLOCK_SIZE,
});

/** Checks a storage dtype option, naming the function and the option. */
function checkStateDtype(fn: string, arg: string, value: unknown): StateDtype {
  if (!STORAGE_DTYPES.includes(value as StateDtype)) {
    throw new Error(`${fn}: \`${arg}\` must be one of ${STORAGE_DTYPES.map((d) => `'${d}'`).join(', ')}, got ${showValue(value)}`);
  }
  return value as StateDtype;
}

/**
 * The slot storages of resolved storage options: `dtypes` maps each option
 * name to its value and to whether the slot's values take either sign
 * (signed int8 map) or are never negative (unsigned map). Throws for a bad
 * dtype, a bad block size, or a block size set while no option is `'int8'`.
 */
export function slotStorages<K extends string>(
  fn: string,
  dtypes: Record<K, readonly [unknown, boolean]>,
  int8BlockSize: unknown,
): Record<K, SlotStorage> {
  const checked = (Object.entries(dtypes) as [string, readonly [unknown, boolean]][]).map(
    ([arg, [value, signed]]) => [arg, checkStateDtype(fn, arg, value), signed] as const,
  );
  const anyInt8 = checked.some(([, dtype]) => dtype === 'int8');
  if (typeof int8BlockSize !== 'number' || !Number.isInteger(int8BlockSize) || int8BlockSize < 4 || int8BlockSize % 4 !== 0) {
    throw new Error(`${fn}: \`int8BlockSize\` must be a positive multiple of 4, got ${showValue(int8BlockSize)}`);
  }
  if (!anyInt8 && int8BlockSize !== DEFAULT_BLOCK_SIZE) {
    throw new Error(
      `${fn}: \`int8BlockSize\` is ${int8BlockSize} but no state is stored as 'int8' (set ${Object.keys(dtypes)
        .map((k) => `\`${k}\``)
        .join(' or ')} to 'int8')`,
    );
  }
  const out = {} as Record<K, SlotStorage>;
  for (const [arg, dtype, signed] of checked) {
    // values >= 0 stored in int8 or float16 keep their square roots (see SlotStorage.root); bfloat16 has float32's range
    const root = !signed && dtype !== 'bfloat16';
    if (dtype === 'int8')
      out[arg as K] = root ? { dtype, signed, blockSize: int8BlockSize, root } : { dtype, signed, blockSize: int8BlockSize };
    else out[arg as K] = root && dtype === 'float16' ? { dtype, root } : { dtype };
  }
  return out;
}

/** The storages of {@link MomentStorageOptions}: `mu` signed, `nu` never negative. */
export function momentStorages(fn: string, o: Required<MomentStorageOptions>): { mu: SlotStorage; nu: SlotStorage } {
  const s = slotStorages(fn, { muDtype: [o.muDtype, true], nuDtype: [o.nuDtype, false] }, o.int8BlockSize);
  return { mu: s.muDtype, nu: s.nuDtype };
}

/** The storage of {@link AccumulatorStorageOptions} (a signed accumulator). */
export function accumulatorStorage(fn: string, o: Required<AccumulatorStorageOptions>): SlotStorage {
  return slotStorages(fn, { accumulatorDtype: [o.accumulatorDtype, true] }, o.int8BlockSize).accumulatorDtype;
}
