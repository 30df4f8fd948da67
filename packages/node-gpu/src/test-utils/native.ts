/**
 * Whether this machine has the tfjs-node binding that
 * `scripts/build-tfjs-node.sh` builds (in `packages/node-gpu/.native/`), and
 * the switch to the tensorflow backend for the files that need it.
 *
 * A check that needs a resource this machine lacks says so plainly and is
 * not counted as a pass: without the binding, the tensorflow-backend tests
 * are registered as skipped and one line says why. A binding that the script
 * says it built but that does not load is a failure, as is a build that
 * failed on a machine that has the TensorFlow wheel.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { type NodeBackendInfo, useNodeBackend } from '../backend.js';

/** Where scripts/build-tfjs-node.sh installs and builds tfjs-node. */
export const NATIVE_DIR = fileURLToPath(new URL('../../.native/', import.meta.url));

/** What scripts/build-tfjs-node.sh last recorded (null if it never ran here). */
export interface BuildStatus {
  built: boolean;
  wheel: string | null;
  message: string;
  seconds: number;
}

export function buildStatus(): BuildStatus | null {
  const file = `${NATIVE_DIR}status.json`;
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BuildStatus) : null;
}

/** The result of trying to switch to the tensorflow backend. */
export interface TensorflowGate {
  /** Whether the tensorflow backend is now active (the tests run). */
  ran: boolean;
  /** What useNodeBackend reported. */
  info: NodeBackendInfo | null;
  /** Why the tests did not run (when `ran` is false). */
  why: string;
  /** A problem that must fail the run (the binding should be here and is not). */
  problem: string | null;
}

/** Tries to select the tensorflow backend from `.native/`; prints one plain line when it cannot. */
export async function switchToTensorflow(file: string): Promise<TensorflowGate> {
  const status = buildStatus();
  const info = await useNodeBackend({ prefer: 'gpu', searchPaths: [NATIVE_DIR], quiet: true });
  if (info.backend === 'tensorflow') return { ran: true, info, why: '', problem: null };
  let why: string;
  let problem: string | null = null;
  if (status?.built) {
    why = `the binding that scripts/build-tfjs-node.sh built does not load (${info.reason})`;
    problem = why;
  } else if (status && status.wheel !== null) {
    why = `scripts/build-tfjs-node.sh found ${status.wheel} but ${status.message}`;
    problem = why;
  } else {
    why = 'no tfjs-node binding (run scripts/build-tfjs-node.sh on a machine with a TensorFlow CPU wheel)';
  }
  console.log(`node-gpu: tensorflow-backend tests did not run (${file}): ${why}`);
  return { ran: false, info, why, problem };
}

/**
 * `describe` when the tensorflow backend is active, else `describe.skip`
 * (counted as skipped, not passed); a problem also registers one failing test.
 */
export function describeTensorflow(gate: TensorflowGate): typeof describe | typeof describe.skip {
  if (gate.problem !== null) {
    const problem = gate.problem;
    it('the tfjs-node binding built by scripts/build-tfjs-node.sh loads', () => {
      throw new Error(problem);
    });
  }
  return gate.ran ? describe : describe.skip;
}
