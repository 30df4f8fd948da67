/**
 * Hyperparameters in the state: `injectHyperparams` and its deprecated alias
 * `injectStatefulHyperparams` (optax `inject_hyperparams`,
 * `inject_stateful_hyperparams`).
 *
 * @module
 */
import type { ExtraArgs, GradientTransformation, LoweredStep, ScalarOrSchedule } from '../base.js';
import { safeIncrement } from '../base.js';
import { isPlainObject } from '../tree.js';
import { checkScheduleValue, checkStateKeys, type OptionDefaults, resolveOptions, showValue } from '../validate.js';

/**
 * A schedule with its own state (optax's `StatefulSchedule`): a function
 * `(state, extraArgs?) => value` carrying `init()` (the first state) and
 * `update(state, extraArgs?)` (the next state). The state must be plain data.
 */
export interface StatefulSchedule<S = unknown> {
  (state: S, extraArgs?: ExtraArgs): number;
  /** The schedule's first state. */
  init(): S;
  /** The schedule's next state. */
  update(state: S, extraArgs?: ExtraArgs): S;
}

/** Options of {@link injectHyperparams}. */
export interface InjectHyperparamsOptions {
  /**
   * Names of arguments that are not hyperparameters to schedule, although
   * they may be functions (e.g. a `mask` function, or the schedule argument
   * of a factory that takes a schedule itself). They are passed to the
   * factory as they are. A string or a list of strings.
   */
  staticArgs?: string | readonly string[];
  /**
   * The name of the factory's leading positional argument in `hyperparams`
   * (default `learningRate`); JavaScript cannot read parameter names, so it
   * is given here.
   */
  positionalName?: string;
  /**
   * The factory's default values of hyperparameters that the call may leave
   * out, by name. Python's optax reads these from the factory's signature and
   * injects them too (so they appear in `hyperparams`, rounded to float32);
   * JavaScript cannot, so give them here to get the same state and the same
   * float32 values. Values given in the call take precedence.
   */
  defaults?: Readonly<Record<string, unknown>>;
}

/** The state of a transformation made by {@link injectHyperparams}. */
export interface InjectHyperparamsState<S = unknown> {
  /** Number of updates so far. */
  count: number;
  /**
   * The current numeric hyperparameters by name: for a scheduled one, the
   * value used by the last update (at `init`, the value for the first one).
   * Setting a non-scheduled value here (in place or in a new state object)
   * makes the next update use it.
   */
  hyperparams: Record<string, number>;
  /** The state of each scheduled hyperparameter (`{ count }` for a plain schedule). */
  hyperparamsStates: Record<string, unknown>;
  /** The state of the inner transformation. */
  innerState: S;
}

/** An options field of an injected factory: a number there may also be given as `N` (a schedule). */
export type InjectField<T, N> = T extends number ? N : T;
/** An argument of an injected factory: numbers (and numeric option fields) may also be given as `N`. */
export type InjectArg<T, N> = T extends number
  ? N
  : T extends (...args: any[]) => any
    ? T
    : T extends object
      ? { [K in keyof T]: InjectField<T[K], N> }
      : T;

/** A factory's arguments with every numeric hyperparameter (top level or in the options object) also accepting a schedule. */
export type InjectedArgs<P extends readonly unknown[]> = { [I in keyof P]: InjectArg<P[I], ScalarOrSchedule> };

/** Like {@link InjectedArgs}, with stateful schedules accepted too (see {@link injectStatefulHyperparams}). */
export type StatefulInjectedArgs<P extends readonly unknown[]> = {
  [I in keyof P]: InjectArg<P[I], ScalarOrSchedule | StatefulSchedule<any>>;
};

interface Hyper {
  /** Hyperparameters given as numbers (they go into `hyperparams`). */
  numeric: Record<string, number>;
  /** Scheduled hyperparameters. */
  scheduled: Record<string, StatefulSchedule>;
  /** Everything else, passed to the factory as given. */
  other: Record<string, unknown>;
}

function isStatefulSchedule(x: unknown): x is StatefulSchedule {
  return (
    typeof x === 'function' && typeof (x as StatefulSchedule).init === 'function' && typeof (x as StatefulSchedule).update === 'function'
  );
}

/** A plain schedule `count => value` as a stateful one with state `{ count }` (optax's `WrappedSchedule`). */
function wrapSchedule(schedule: (count: number) => number): StatefulSchedule<{ count: number }> {
  const value = (state: { count: number }) => schedule(state.count);
  return Object.assign(value, {
    init: () => ({ count: 0 }),
    update: (state: { count: number }) => ({ count: safeIncrement(state.count) }),
  });
}

/**
 * A hyperparameter as the inner factory receives it: optax stores float
 * hyperparameters as float32 arrays (the params' dtype), so a non-integer
 * number is rounded to float32; integers pass through, as Python ints do.
 */
function toParamDtype(x: unknown): unknown {
  return typeof x === 'number' && !Number.isInteger(x) ? Math.fround(x) : x;
}

/** The defaults of {@link injectHyperparams}'s options. */
export const injectHyperparamsDefaults: OptionDefaults<InjectHyperparamsOptions> = Object.freeze({
  staticArgs: [],
  positionalName: 'learningRate',
  defaults: {},
});

/**
 * Wraps a transformation factory so that its numeric hyperparameters live in
 * the state, where they can be read and changed between steps, and any of
 * them may be given as a schedule `(count) => value`.
 *
 * The result takes the same arguments as `factory` (the leading positional
 * scalar, if the factory has one, and the options object). Each numeric
 * hyperparameter is stored in `state.hyperparams` under its name (the
 * positional one under `positionalName`, default `learningRate`); each
 * function is treated as a schedule (unless listed in `staticArgs`) and its
 * value at the step count is stored there on each update; booleans and other
 * values are passed through. On every update the factory is called with the
 * current values and its transformation is applied. As in optax, non-integer
 * values are rounded to float32 (the params' dtype) before the factory sees
 * them. Only the arguments given (and `defaults`) are injected: optax also
 * injects the factory's own defaults, which JavaScript cannot read; pass them
 * in `defaults` for identical values.
 *
 * State `{ count, hyperparams, hyperparamsStates, innerState }`.
 * Reference: optax `inject_hyperparams`.
 *
 * @example
 * ```ts
 * const tx = injectHyperparams(adam)(scheduleCosineDecay({ initValue: 1e-3, decaySteps: 1000 }), { b1: 0.9 });
 * let state = tx.init(params);
 * state.hyperparams.b1 = 0.95;   // the next update uses b1 = 0.95
 * ```
 */
export function injectHyperparams<F extends (...args: any[]) => GradientTransformation>(
  factory: F,
  options: InjectHyperparamsOptions = {},
): (...args: InjectedArgs<Parameters<F>>) => GradientTransformation<InjectHyperparamsState> {
  const fn = 'injectHyperparams';
  if (typeof factory !== 'function')
    throw new Error(`${fn}: \`factory\` must be a function returning a gradient transformation, got ${showValue(factory)}`);
  const o = resolveOptions(fn, options, injectHyperparamsDefaults);
  const staticList = typeof o.staticArgs === 'string' ? [o.staticArgs] : [...o.staticArgs];
  for (const s of staticList) {
    if (typeof s !== 'string') throw new Error(`${fn}: \`staticArgs\` must be a string or a list of strings, got ${showValue(s)}`);
  }
  const staticArgs = new Set(staticList);
  const { positionalName, defaults } = o;
  if (!isPlainObject(defaults)) throw new Error(`${fn}: \`defaults\` must be a plain object of values by name, got ${showValue(defaults)}`);
  if (typeof positionalName !== 'string' || positionalName === '') {
    throw new Error(`${fn}: \`positionalName\` must be a non-empty string, got ${showValue(positionalName)}`);
  }

  return (...args: unknown[]) => {
    if (args.length > 2)
      throw new Error(`${fn}: the factory takes at most two arguments (a leading scalar and an options object), got ${args.length}`);
    // A factory has either a leading scalar (a number or a schedule) and an options object, or the options object only.
    const hasPositional = !(args.length === 0 || (args.length === 1 && (args[0] === undefined || isPlainObject(args[0]))));
    const opts = (hasPositional ? args[1] : args[0]) ?? {};
    if (!isPlainObject(opts)) throw new Error(`${fn}: the options must be a plain object, got ${showValue(opts)}`);
    if (hasPositional && Object.hasOwn(opts, positionalName)) {
      throw new Error(
        `${fn}: \`${positionalName}\` is given both as the leading argument and in the options; set positionalName if the leading argument has another name`,
      );
    }
    const given: [string, unknown][] = [
      ...(hasPositional ? [[positionalName, args[0]] as [string, unknown]] : []),
      ...Object.entries(opts),
    ];
    const givenNames = new Set(given.filter(([, v]) => v !== undefined).map(([k]) => k));
    const entries = [...given, ...Object.entries(defaults).filter(([k]) => !givenNames.has(k))];
    const hyper: Hyper = { numeric: {}, scheduled: {}, other: {} };
    for (const [name, value] of entries) {
      if (value === undefined) continue;
      if (staticArgs.has(name) || typeof value === 'boolean') hyper.other[name] = value;
      else if (isStatefulSchedule(value)) hyper.scheduled[name] = value;
      else if (typeof value === 'function') hyper.scheduled[name] = wrapSchedule(value as (count: number) => number) as StatefulSchedule;
      else if (typeof value === 'number') hyper.numeric[name] = value;
      else hyper.other[name] = value;
    }

    /** The inner transformation for the current hyperparameter values. */
    const build = (values: Record<string, unknown>): GradientTransformation => {
      const all: Record<string, unknown> = { ...hyper.other, ...values };
      let tx: unknown;
      if (hasPositional) {
        const { [positionalName]: lead, ...rest } = all;
        tx = factory(lead, rest);
      } else {
        tx = factory(all);
      }
      if (tx === null || typeof tx !== 'object' || typeof (tx as GradientTransformation).update !== 'function') {
        throw new Error(`${fn}: the factory did not return a gradient transformation, got ${showValue(tx)}`);
      }
      return tx as GradientTransformation;
    };
    // the inner transformation of the last update, reused while the hyperparameters stay the same
    let last: { values: Record<string, number>; tx: GradientTransformation } | undefined;
    const buildFor = (values: Record<string, number>): GradientTransformation => {
      const keys = Object.keys(values);
      if (last !== undefined && keys.length === Object.keys(last.values).length && keys.every((k) => Object.is(values[k], last?.values[k])))
        return last.tx;
      const tx = build(values);
      last = { values: { ...values }, tx };
      return tx;
    };
    const scheduleValue = (name: string, state: unknown, extraArgs?: ExtraArgs): number => {
      const schedule = hyper.scheduled[name] as StatefulSchedule;
      const value = extraArgs === undefined ? schedule(state) : schedule(state, extraArgs);
      const count = isPlainObject(state) && typeof state.count === 'number' ? state.count : 0;
      return toParamDtype(checkScheduleValue(fn, name, value, count)) as number;
    };

    /**
     * One update as a step of the inner transformation built from this
     * step's hyperparameters (the fused engine runs that step; `update` is
     * the same on the reference path).
     */
    const lower = (state: InjectHyperparamsState, extraArgs?: ExtraArgs): LoweredStep => {
      checkStateKeys(fn, state, ['count', 'hyperparams', 'hyperparamsStates', 'innerState']);
      const hyperparams: Record<string, number> = {};
      for (const [k, v] of Object.entries(state.hyperparams)) hyperparams[k] = toParamDtype(v) as number;
      for (const k of Object.keys(hyper.scheduled)) hyperparams[k] = scheduleValue(k, state.hyperparamsStates[k], extraArgs);
      const hyperparamsStates: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(hyper.scheduled)) {
        hyperparamsStates[k] =
          extraArgs === undefined ? s.update(state.hyperparamsStates[k]) : s.update(state.hyperparamsStates[k], extraArgs);
      }
      return {
        tx: buildFor(hyperparams),
        state: state.innerState,
        finish: (innerState) => ({ count: safeIncrement(state.count), hyperparams, hyperparamsStates, innerState }),
      };
    };

    return {
      init(params) {
        const hyperparams: Record<string, number> = {};
        for (const [k, v] of Object.entries(hyper.numeric)) hyperparams[k] = toParamDtype(v) as number;
        const hyperparamsStates: Record<string, unknown> = {};
        for (const [k, s] of Object.entries(hyper.scheduled)) hyperparamsStates[k] = s.init();
        for (const k of Object.keys(hyper.scheduled)) hyperparams[k] = scheduleValue(k, hyperparamsStates[k]);
        return { count: 0, hyperparams, hyperparamsStates, innerState: build(hyperparams).init(params) };
      },
      update(updates, state, params, extraArgs?: ExtraArgs) {
        const step = lower(state, extraArgs);
        const [out, innerState] =
          extraArgs === undefined ? step.tx.update(updates, step.state, params) : step.tx.update(updates, step.state, params, extraArgs);
        return [out, step.finish(innerState, false) as InjectHyperparamsState];
      },
      fusion: { kind: 'lowering', lower },
    };
  };
}

/**
 * {@link injectHyperparams} under its deprecated optax name, typed to accept
 * {@link StatefulSchedule}s as well (at run time the two are the same
 * function, as in optax 0.2.8, and both accept stateful schedules).
 * Reference: optax `inject_stateful_hyperparams`.
 *
 * @deprecated Use {@link injectHyperparams}.
 */
export const injectStatefulHyperparams: <F extends (...args: any[]) => GradientTransformation>(
  factory: F,
  options?: InjectHyperparamsOptions,
) => (...args: StatefulInjectedArgs<Parameters<F>>) => GradientTransformation<InjectHyperparamsState> = injectHyperparams as never;
