/**
 * The state of a planned transformation, split into the state of each stage
 * and built back from the stages' new states, following the plan's
 * {@link StateLayout} (which mirrors the chain nesting).
 *
 * @module
 */
import type { StateLayout } from './plan.js';

/** Reads the state of each stage out of the transformation's state into `out`; false when it does not have the layout's shape. */
export function splitState(layout: StateLayout, state: unknown, out: unknown[]): boolean {
  if (layout.kind === 'stage') {
    out[layout.stage] = state;
    return true;
  }
  if (layout.children.length === 0) {
    if (state === null || typeof state !== 'object') return false;
  } else if (layout.array) {
    if (!Array.isArray(state) || state.length !== layout.children.length) return false;
  } else if (state === null || typeof state !== 'object' || Array.isArray(state)) return false;
  return layout.children.every(
    ([key, child]) => (layout.array || key in (state as object)) && splitState(child, (state as never)[key], out),
  );
}

/** Builds the transformation's state from each stage's new state, with the containers of the old state. */
export function buildState(layout: StateLayout, stages: readonly unknown[], old: unknown): unknown {
  if (layout.kind === 'stage') return stages[layout.stage];
  if (Array.isArray(old)) return layout.children.map(([key, child]) => buildState(child, stages, old[key as number]));
  return Object.fromEntries(layout.children.map(([key, child]) => [key, buildState(child, stages, (old as Record<string, unknown>)[key])]));
}
