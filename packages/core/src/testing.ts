/**
 * `@gradtx/core/testing`: the conformance harness for packages built on
 * gradtx (fixtures of real optax runs replayed through `tx.update` and
 * `createOptimizer`), its float32 tolerances, and the tree assertions the
 * tests use. For tests only: it needs `vitest` and `@gradtx/schedules`.
 *
 * @module
 */
export {
  build,
  buildTransformation,
  compare,
  decodeNumber,
  decodeTree,
  type Expr,
  type Fixture,
  type FixtureLeaf,
  type FixtureModules,
  type FixtureNumber,
  type FixtureTree,
  maxAbs,
  readFixture,
  replay,
  replayOptimizer,
  type StepCase,
  type StepTolerances,
  stepExtras,
  type Tolerance,
} from './conformance/loader.js';
export { OPTAX_STEPS, optaxTolerance } from './conformance/tolerances.js';
export { disposeTree, expectNoLeaks, expectTreeClose, F32 } from './test-utils/index.js';
