/**
 * Selecting the `tensorflow` backend of tfjs-node / tfjs-node-gpu when one of
 * them is installed and its native binding loads, with a plain fallback
 * otherwise.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';

/** The two npm packages that provide the `tensorflow` backend. */
export type NodePackageName = '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node';

/** Options of {@link useNodeBackend}. */
export interface UseNodeBackendOptions {
  /**
   * Which package to try first (default `'gpu'`): `'gpu'` tries
   * `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node`; `'cpu'` the
   * other way round. The first one that loads is used; the reported `device`
   * is where TensorFlow actually runs (tfjs-node-gpu on a machine without a
   * usable GPU runs on its CPU and says so).
   */
  prefer?: 'gpu' | 'cpu';
  /**
   * Extra folders to resolve the packages from, tried in order before the
   * ordinary resolution from this package (each folder's `node_modules` and
   * those above it are searched, as `require.resolve` does from a file in
   * it). Default none.
   */
  searchPaths?: readonly string[];
  /**
   * The backend to use when neither package loads (default: keep the backend
   * that is already active, or let tfjs pick the best registered one, e.g.
   * `cpu` once `@tensorflow/tfjs-backend-cpu` is imported).
   */
  fallback?: string;
  /** Do not print the fallback message with `console.warn` (default false). */
  quiet?: boolean;
}

/** Why one candidate package was not used. */
export interface NodeBackendAttempt {
  /** The package. */
  package: NodePackageName;
  /** Where it was found (a file path), or null when it is not installed. */
  resolved: string | null;
  /** What went wrong, in one line. */
  error: string;
}

/** What {@link useNodeBackend} selected. */
export interface NodeBackendInfo {
  /** The active tfjs backend after the call: `'tensorflow'`, or the fallback (e.g. `'cpu'`). */
  backend: string;
  /** Where the math runs: `'gpu'` when TensorFlow uses a GPU device (or the fallback is `webgl`/`webgpu`), else `'cpu'`. */
  device: 'gpu' | 'cpu';
  /** The package that provides the `tensorflow` backend, or null on the fallback. */
  package: NodePackageName | null;
  /** One plain sentence saying what was selected and why. */
  reason: string;
  /** The candidates that were tried and not used, with the reason for each. */
  attempts: NodeBackendAttempt[];
}

/** The parts of tfjs-node's `NodeJSKernelBackend` this package reads. */
interface TensorflowBackendLike {
  isUsingGpuDevice?: boolean;
  isGPUPackage?: boolean;
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return (msg.split('\n').find((l) => l.trim() !== '') ?? msg).trim();
}

/** Resolves `name` from each search path, then from this module; null when not installed. */
function resolvePackage(name: string, searchPaths: readonly string[]): string | null {
  const bases = [...searchPaths.map((dir) => join(dir, 'noop.js')), import.meta.url];
  for (const base of bases) {
    try {
      return createRequire(base).resolve(name);
    } catch {
      // not here; try the next place
    }
  }
  return null;
}

function registered(name: string): boolean {
  return tf.findBackendFactory(name) != null;
}

function deviceOf(backendName: string): 'gpu' | 'cpu' {
  if (backendName === 'tensorflow')
    return (tf.findBackend('tensorflow') as TensorflowBackendLike | null)?.isUsingGpuDevice === true ? 'gpu' : 'cpu';
  return backendName === 'webgl' || backendName === 'webgpu' ? 'gpu' : 'cpu';
}

async function selectTensorflow(
  pkg: NodePackageName | null,
  attempts: NodeBackendAttempt[],
  prefer: 'gpu' | 'cpu',
): Promise<NodeBackendInfo> {
  if (!(await tf.setBackend('tensorflow')))
    throw new Error('useNodeBackend: the tensorflow backend is registered but failed to initialise');
  const backend = tf.backend() as unknown as TensorflowBackendLike;
  const name: NodePackageName = pkg ?? (backend.isGPUPackage ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node');
  const device = deviceOf('tensorflow');
  let reason = `using the tensorflow backend from ${name} on the ${device.toUpperCase()}`;
  if (prefer === 'gpu' && device === 'cpu') {
    reason +=
      name === '@tensorflow/tfjs-node-gpu'
        ? ' (TensorFlow sees no usable GPU on this machine)'
        : ' (@tensorflow/tfjs-node-gpu could not be used; see `attempts`)';
  }
  return { backend: 'tensorflow', device, package: name, reason, attempts };
}

/**
 * Selects the `tensorflow` backend (TensorFlow's C library through
 * `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`) when one of those
 * packages is installed and its native binding loads, and reports what was
 * selected. The packages are optional peers, loaded with a dynamic `import()`
 * only when this is called, so nothing native is needed at install time. A
 * package that is present but whose native binding is missing or fails to
 * load (e.g. its install step could not download libtensorflow) counts as
 * absent. When neither loads, it falls back to another backend (see
 * {@link UseNodeBackendOptions.fallback}) and says why in `reason` (printed
 * with `console.warn` unless `quiet`).
 *
 * @example
 * ```ts
 * const info = await useNodeBackend({ prefer: 'gpu' });
 * console.log(info.reason); // "using the tensorflow backend from @tensorflow/tfjs-node-gpu on the GPU"
 * ```
 */
export async function useNodeBackend(options: UseNodeBackendOptions = {}): Promise<NodeBackendInfo> {
  const prefer = options.prefer ?? 'gpu';
  if (prefer !== 'gpu' && prefer !== 'cpu') throw new Error(`useNodeBackend: \`prefer\` must be 'gpu' or 'cpu', got ${String(prefer)}`);
  const searchPaths = options.searchPaths ?? [];
  if (!Array.isArray(searchPaths) || searchPaths.some((p) => typeof p !== 'string')) {
    throw new Error(`useNodeBackend: \`searchPaths\` must be an array of folder paths, got ${String(searchPaths)}`);
  }
  const attempts: NodeBackendAttempt[] = [];
  // tfjs-node (or -gpu) already loaded by the application: use it as it is
  // (loading the other package too would register a second tensorflow backend).
  if (registered('tensorflow')) return selectTensorflow(null, attempts, prefer);

  const order: NodePackageName[] =
    prefer === 'gpu' ? ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] : ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];
  for (const pkg of order) {
    const resolved = resolvePackage(pkg, searchPaths);
    if (resolved === null) {
      attempts.push({ package: pkg, resolved: null, error: 'not installed' });
      continue;
    }
    try {
      await import(pathToFileURL(resolved).href);
    } catch (e) {
      attempts.push({ package: pkg, resolved, error: `installed, but its native binding could not be loaded: ${firstLine(e)}` });
      continue;
    }
    if (!registered('tensorflow')) {
      attempts.push({ package: pkg, resolved, error: 'loaded, but it registered no tensorflow backend (a different tfjs-core instance?)' });
      continue;
    }
    return selectTensorflow(pkg, attempts, prefer);
  }

  // fallback
  const why = attempts.map((a) => `${a.package}: ${a.error}`).join('; ');
  let backend: string;
  if (options.fallback !== undefined) {
    let ok: boolean;
    try {
      ok = await tf.setBackend(options.fallback);
    } catch {
      ok = false; // not registered
    }
    if (!ok) {
      throw new Error(
        `useNodeBackend: no tensorflow backend (${why}), and the fallback backend \`${options.fallback}\` could not be set (is it imported?)`,
      );
    }
    backend = options.fallback;
  } else {
    const current = (tf.engine() as unknown as { backendName: string | null }).backendName;
    if (current) backend = current;
    else {
      try {
        await tf.ready();
        backend = tf.getBackend();
      } catch {
        backend = '';
      }
      if (!backend) {
        throw new Error(
          `useNodeBackend: no tensorflow backend (${why}), and no other tfjs backend is registered to fall back to (import '@tensorflow/tfjs-backend-cpu')`,
        );
      }
    }
  }
  const reason = `no tensorflow backend (${why}); falling back to the ${backend} backend`;
  if (!options.quiet) console.warn(`@gradtx/node-gpu: ${reason}`);
  return { backend, device: deviceOf(backend), package: null, reason, attempts };
}
