/**
 * Internal argument checks and the one-time warnings shared by the schedule
 * families. Not part of the public API.
 *
 * @module
 */

/** Throws the package's standard error: `fn: \`arg\` must be RULE, got VALUE`. */
export function fail(fn: string, arg: string, value: unknown, rule: string): never {
  throw new Error(`${fn}: \`${arg}\` must be ${rule}, got ${describe(value)}`);
}

/** Renders a value for an error message (strings quoted, so `''` and `'1'` are visible). */
export function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'function') return 'a function';
  if (value !== null && typeof value === 'object') return `an object with keys {${Object.keys(value).join(', ')}}`;
  return String(value);
}

/** A finite number (no NaN, no ±Infinity). */
export function checkFinite(fn: string, arg: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(fn, arg, value, 'a finite number');
  return value;
}

/** An optional finite number: `undefined` gives `fallback`. */
export function optionalFinite(fn: string, arg: string, value: unknown, fallback: number): number {
  return value === undefined ? fallback : checkFinite(fn, arg, value);
}

/** An optional boolean: `undefined` gives `fallback`. */
export function optionalBoolean(fn: string, arg: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(fn, arg, value, 'a boolean');
  return value;
}

/**
 * Checks that `opts` is a plain object whose keys are all in `allowed`
 * (optax raises a TypeError on an unknown keyword; this also catches
 * snake_case spellings such as `init_value`).
 */
export function checkOptions(fn: string, arg: string, opts: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) fail(fn, arg, opts, 'an options object');
  for (const key of Object.keys(opts)) {
    if (!allowed.includes(key)) {
      throw new Error(`${fn}: unknown option \`${key}\` in \`${arg}\`; the options are ${allowed.map((a) => `\`${a}\``).join(', ')}`);
    }
  }
  return opts as Record<string, unknown>;
}

/**
 * The count a schedule is evaluated at: a finite number `>= 0`. Integers are
 * the normal case; fractional counts are accepted, as in optax.
 */
export function checkCount(fn: string, count: unknown): number {
  if (typeof count !== 'number' || !Number.isFinite(count) || count < 0) fail(fn, 'count', count, 'a finite number >= 0');
  return count;
}

const warned = new Set<string>();

/** `console.warn`s `message` the first time `key` is seen (optax logs these cases once per construction). */
export function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(message);
}

/** Forgets which warnings were given (for tests). */
export function resetWarnings(): void {
  warned.clear();
}
