/**
 * A small multi-step case shared by the Adam-family tests (adam, adaptive,
 * lion): gradients `G` and params `P` for a two-leaf tree, and
 * {@link expectSteps}, which runs a transformation on them and compares every
 * step's updates with values printed by real optax 0.2.8 (jax 0.10.2, cpu,
 * float32, eager). The tables in those tests were printed by this script,
 * followed by one `run(...)` line per table (quoted above each table):
 *
 * ```python
 * import optax, jax, jax.numpy as jnp, numpy as np
 * G = [...]  # the gradients of `G` below, step by step
 * P = {'w': [[1.0, -2.0], [0.5, 3.0]], 'b': [0.1, 0.2, -0.3]}
 * f = lambda t: {k: jnp.asarray(v, jnp.float32) for k, v in t.items()}
 * def fmt(x):
 *   a = np.asarray(x, np.float32)
 *   def rec(v):
 *     return '[' + ', '.join(rec(e) for e in v) + ']' if isinstance(v, np.ndarray) and v.ndim else str(np.float32(v))
 *   return rec(a)
 * def run(tx, n, name):
 *   p = f(P); s = tx.init(p); out = []
 *   for g in G[:n]:
 *     u, s = tx.update(f(g), s, p); p = optax.apply_updates(p, u)
 *     out.append('{ b: %s, w: %s }' % (fmt(u['b']), fmt(u['w'])))
 *   print('const %s = [\n  %s,\n];' % (name, ',\n  '.join(out)))
 *   return s
 * ```
 */
import { readFileSync } from 'node:fs';
import { expectNoLeaks, expectTreeClose, F32, runSteps, t } from './index.js';

/** Gradients for up to 7 steps: signs flip, magnitudes grow and shrink, zeros appear. */
export const G = [
  {
    w: [
      [0.5, -1.0],
      [2.0, 0.0],
    ],
    b: [0.1, -0.3, 3.0],
  },
  {
    w: [
      [0.1, -0.3],
      [1.5, 1e-3],
    ],
    b: [-0.2, 0.25, -0.01],
  },
  {
    w: [
      [-2.0, 0.7],
      [0.2, -0.5],
    ],
    b: [0.05, 0.0, 0.4],
  },
  {
    w: [
      [0.3, 0.01],
      [-0.02, 0.6],
    ],
    b: [1.0, -0.5, 0.02],
  },
  {
    w: [
      [-0.05, 0.2],
      [0.0, -1.2],
    ],
    b: [0.3, 0.1, -2.0],
  },
  {
    w: [
      [0.8, -0.6],
      [0.04, 0.1],
    ],
    b: [-0.7, 0.9, 0.5],
  },
  {
    w: [
      [0.02, 0.3],
      [-0.9, 0.25],
    ],
    b: [0.2, -0.05, 0.15],
  },
];

/** The initial params; each step adds its updates (`optax.apply_updates`). */
export const P = {
  w: [
    [1.0, -2.0],
    [0.5, 3.0],
  ],
  b: [0.1, 0.2, -0.3],
};

/** Expected updates, one `{ b, w }` per step. */
export type ExpectedSteps = { b: number[]; w: number[][] }[];

/**
 * Runs `tx` for `expected.length` steps of {@link G} from {@link P}, passing
 * the params and adding each step's updates to them, compares every step's
 * updates with `expected` within `tol`, asserts that nothing leaks, and
 * returns the final state as arrays.
 */
export async function expectSteps(
  tx: Parameters<typeof runSteps>[0],
  expected: ExpectedSteps,
  tol: { rtol: number; atol: number } = F32,
): Promise<unknown> {
  const out = await expectNoLeaks(() => {
    const params = { b: t(P.b), w: t(P.w) };
    const grads = G.slice(0, expected.length).map((g) => ({ b: t(g.b), w: t(g.w) }));
    return { run: runSteps(tx, params, grads), params, grads };
  });
  out.run.updates.forEach((u, i) => {
    expectTreeClose(u, expected[i], tol);
  });
  return out.run.state;
}

/**
 * The tables printed by optax for one test file, read from
 * `src/transforms/fixtures/<file>` (one JSON object, a table per name; the
 * strings `'NaN'`, `'Infinity'` and `'-Infinity'` stand for those numbers).
 * Returns a lookup that throws naming the file and the table when a name is
 * missing.
 */
export function printedTables(file: string): <T = ExpectedSteps>(name: string) => T {
  const tables = JSON.parse(readFileSync(new URL(`../transforms/fixtures/${file}`, import.meta.url), 'utf8'), (_, x) =>
    x === 'NaN' ? Number.NaN : x === 'Infinity' ? Number.POSITIVE_INFINITY : x === '-Infinity' ? Number.NEGATIVE_INFINITY : x,
  ) as Record<string, unknown>;
  return <T>(name: string): T => {
    if (!(name in tables)) throw new Error(`printedTables: no table '${name}' in ${file}`);
    return tables[name] as T;
  };
}
