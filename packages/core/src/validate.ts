/**
 * Argument and input checks. Every check throws a plain `Error` whose message
 * names the function, the argument (or tree path) and the offending value, at
 * the earliest point: construction time for hyperparameters, the first
 * `update` for trees.
 *
 * @module
 */
import type { GradientTransformation, ScalarOrSchedule, UpdateExtras } from './base.js';
import { describe, formatPath, isNode, isTensor, TreeMismatchError, treeLeavesWithPath } from './tree.js';

/**
 * A value as error messages show it: strings quoted (`'0.1'`, so a numeric
 * string is not mistaken for a number), functions by name (never their
 * source), tensors described, other values as they print.
 */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 60)}…` : value}'`;
  if (typeof value === 'function') return value.name === '' ? 'a function' : `the function ${value.name}`;
  if (isTensor(value)) return describe(value);
  return String(value);
}

function fail(fn: string, arg: string, value: unknown, rule: string): never {
  throw new Error(`${fn}: \`${arg}\` must be ${rule}, got ${showValue(value)}`);
}

/**
 * A finite number (no NaN, no ±Infinity).
 *
 * @internal
 */
export function checkFinite(fn: string, arg: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(fn, arg, value, 'a finite number');
  return value;
}

/**
 * A finite number ≥ 0.
 *
 * @internal
 */
export function checkNonNegative(fn: string, arg: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(fn, arg, value, 'a finite number >= 0');
  return value;
}

/**
 * A finite number > 0.
 *
 * @internal
 */
export function checkPositive(fn: string, arg: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(fn, arg, value, 'a finite number > 0');
  return value;
}

/**
 * A decay rate in [0, 1), such as Adam's `b1` and `b2`.
 *
 * @internal
 */
export function checkDecay(fn: string, arg: string, value: number): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) fail(fn, arg, value, 'in [0, 1)');
  return value;
}

/**
 * A number in [0, 1].
 *
 * @internal
 */
export function checkUnitInterval(fn: string, arg: string, value: number): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) fail(fn, arg, value, 'in [0, 1]');
  return value;
}

/**
 * An integer ≥ `min`.
 *
 * @internal
 */
export function checkInteger(fn: string, arg: string, value: number, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(fn, arg, value, `an integer >= ${min}`);
  return value;
}

/**
 * A boolean.
 *
 * @internal
 */
export function checkBoolean(fn: string, arg: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(fn, arg, value, 'a boolean');
  return value;
}

/**
 * A learning rate (or any non-negative scale): a finite number ≥ 0, or a
 * schedule, whose values are checked when it is evaluated.
 *
 * @internal
 */
export function checkScalarOrSchedule(fn: string, arg: string, value: ScalarOrSchedule): ScalarOrSchedule {
  if (typeof value === 'function') return value;
  return checkNonNegative(fn, arg, value);
}

/**
 * The value of a schedule at `count`, which must be a finite number (and at
 * least `min` when given), as the same hyperparameter given as a constant.
 *
 * @internal
 */
export function checkScheduleValue(fn: string, arg: string, value: number, count: number, min?: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (min !== undefined && value < min)) {
    const rule = min === undefined ? 'a finite number' : `a finite number >= ${min}`;
    throw new Error(`${fn}: the schedule for \`${arg}\` returned ${showValue(value)} at count ${count}; it must return ${rule}`);
  }
  return value;
}

/**
 * Checks that every leaf of a tree of updates or params is a live float32
 * tensor, naming the path of the first one that is not: tfjs computes
 * optimizer math in float32, and an int/bool or disposed leaf would otherwise
 * fail deep inside a kernel (or silently round).
 *
 * @internal
 */
export function checkFloatTree(fn: string, treeName: string, tree: unknown): void {
  for (const [path, leaf] of treeLeavesWithPath(tree)) {
    if (!isTensor(leaf)) {
      throw new TreeMismatchError(path, `${fn}: ${treeName} must hold tensors, got ${typeof leaf} ${String(leaf)}`);
    }
    if (leaf.isDisposed) {
      throw new Error(`${fn}: the tensor at \`${formatPath(path)}\` of ${treeName} has been disposed`);
    }
    if (leaf.dtype !== 'float32') {
      throw new Error(
        `${fn}: the tensor at \`${formatPath(path)}\` of ${treeName} has dtype ${leaf.dtype}; gradient transformations need float32 (cast it with tf.cast(x, 'float32'))`,
      );
    }
  }
}

/**
 * Checks the params an optimizer will own: a tree of tensors (not
 * `undefined`), with no tensor or `tf.Variable` in two places (one would
 * silently lose the other's update), naming both paths.
 */
export function checkParamsTree(fn: string, params: unknown): void {
  if (params === undefined || params === null || (!isNode(params) && !isTensor(params)))
    throw new Error(`${fn}: \`params\` must be a tree of tensors (an object, an array or a tensor), got ${describe(params)}`);
  const seen = new Map<unknown, string>();
  for (const [path, leaf] of treeLeavesWithPath(params)) {
    if (!isTensor(leaf)) continue;
    const at = formatPath(path);
    const first = seen.get(leaf);
    if (first !== undefined)
      throw new Error(
        `${fn}: the same tensor is at \`${first}\` and at \`${at}\` of the params; each param must be its own tensor (or tf.Variable)`,
      );
    seen.set(leaf, at);
  }
}

/**
 * Throws a clear error when a transformation that needs `params` was called without them.
 *
 * @internal
 */
export function requireParams(fn: string, params: unknown): void {
  if (params === undefined || params === null) {
    throw new Error(`${fn}: this transformation needs \`params\`; call update(updates, state, params)`);
  }
}

/**
 * Returns the extra argument `name` of an update (see `UpdateExtras`), throwing
 * a clear error naming it when it is missing: `fn` needs it, e.g. the loss
 * `value` of a Polyak step, passed as `tx.update(grads, state, params, { value })`
 * or `opt.step(grads, { value })`.
 *
 * @internal
 */
export function requireExtra<K extends keyof UpdateExtras & string>(
  fn: string,
  extras: UpdateExtras | undefined,
  name: K,
): NonNullable<UpdateExtras[K]> {
  const v = extras?.[name];
  if (v === undefined || v === null) {
    const had = extras === undefined ? 'no extra arguments' : `extra arguments {${Object.keys(extras).join(', ')}}`;
    throw new Error(
      `${fn}: this transformation needs the extra argument \`${name}\`; call update(updates, state, params, { ${name} }) (or opt.step(grads, { ${name} })), got ${had}`,
    );
  }
  return v as NonNullable<UpdateExtras[K]>;
}

/**
 * Throws when `state` does not look like a state made by `init` of the
 * transformation named `fn`: `keys` are the fields it must have.
 *
 * @internal
 */
export function checkStateKeys(fn: string, state: unknown, keys: readonly string[]): void {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    throw new Error(
      `${fn}: expected the state made by ${fn}().init, got ${describeState(state)} (a state from a different transformation?)`,
    );
  }
  const missing = keys.filter((k) => !(k in (state as object)));
  if (missing.length > 0) {
    throw new Error(
      `${fn}: the state lacks ${missing.map((k) => `\`${k}\``).join(', ')}; it has {${Object.keys(state).join(', ')}} (a state from a different transformation?)`,
    );
  }
}

function describeState(state: unknown): string {
  if (state === null) return 'null';
  if (Array.isArray(state)) return `an array of length ${state.length}`;
  if (typeof state === 'object') return `an object with keys {${Object.keys(state as object).join(', ')}}`;
  return `${typeof state} ${String(state)}`;
}

/**
 * A gradient transformation: an object with `init` and `update` functions. `where` names the argument.
 *
 * @internal
 */
export function checkTransformation(fn: string, where: string, tx: unknown): asserts tx is GradientTransformation {
  if (
    tx === null ||
    typeof tx !== 'object' ||
    typeof (tx as GradientTransformation).init !== 'function' ||
    typeof (tx as GradientTransformation).update !== 'function'
  ) {
    throw new Error(`${fn}: ${where} is not a gradient transformation (an object with init and update), got ${showValue(tx)}`);
  }
}

/**
 * The type of a factory's defaults object for options `O`: every key of `O`,
 * with a value for each, except the keys in `Unset` (options without a
 * default), which are `undefined`.
 */
export type OptionDefaults<O, Unset extends keyof O = never> = Readonly<Required<Omit<O, Unset>> & Partial<Pick<O, Unset>>>;

/**
 * The one policy for option objects, shared by every factory: `options` must
 * be a plain object (or `undefined`) whose keys are all keys of `defaults`, so
 * a misspelt or snake_case option, or a number passed where the options
 * belong, is an error that names it and lists the valid keys. Returns
 * `defaults` overridden by every option that is not `undefined`; `defaults`
 * is the single source of each factory's defaults (a key whose default is
 * `undefined` is an option without one).
 *
 * @internal
 */
export function resolveOptions<D extends object>(fn: string, options: unknown, defaults: D): D {
  if (options === undefined) return { ...defaults };
  if (options === null || typeof options !== 'object' || Array.isArray(options) || isTensor(options)) {
    const got = Array.isArray(options) ? 'an array' : typeof options === 'string' ? `'${options}'` : String(options);
    throw new Error(`${fn}: the options must be an object, got ${got}`);
  }
  const known = Object.keys(defaults);
  const resolved = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(options)) {
    if (!known.includes(key)) {
      throw new Error(`${fn}: unknown option \`${key}\`; the options are ${known.map((k) => `\`${k}\``).join(', ')}`);
    }
    if (value !== undefined) resolved[key] = value;
  }
  return resolved as D;
}

/**
 * The options of one part of a composed factory: the values `o` holds for the
 * keys of that part's `defaults`, in their order (an alias passing its
 * resolved options on to a transform it chains).
 */
export function optionsFor<D extends object>(o: Readonly<Partial<D>>, defaults: D): Partial<D> {
  return Object.fromEntries(Object.keys(defaults).map((k) => [k, o[k as keyof D]])) as Partial<D>;
}
