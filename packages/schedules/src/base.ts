/**
 * The schedule type.
 *
 * @module
 */

/**
 * A schedule maps the step count (0 for the first update) to a value, in JS
 * doubles. Structurally the same type as `@gradtx/core`'s `Schedule`, so the
 * schedules here can be passed wherever core takes a learning rate.
 *
 * Every schedule in this package accepts any finite count `>= 0` (integer or
 * not, like optax, which accepts any count) and throws on a negative,
 * non-finite or non-number count.
 */
export type Schedule = (count: number) => number;
