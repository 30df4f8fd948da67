/**
 * The compiled limit references of the benchmark, built from
 * `native/kernels.c` at the start of a run:
 *
 * - **C (gcc)**: `gcc -O3 -march=native`, one thread, run as a child process
 *   (`native/main.c`) that holds its own copy of the tree and answers each
 *   request with the time of one step, measured inside the process;
 * - **clang wasm**: `clang --target=wasm32 -O3 -msimd128`, loaded with
 *   `WebAssembly` into a memory of its own, called once per leaf from JS as
 *   gradtx's wasm kernel is.
 *
 * Both are built with `-fno-math-errno` (so `sqrtf` is one instruction) and
 * `-ffp-contract=off` (no fused multiply-adds: every operation rounds to
 * float32 as optax's do). gcc is required; clang and its WebAssembly linker
 * (Debian: `apt-get install -y clang lld`) are optional, and their rows are
 * left out, with a line saying so, where they are missing.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { values } from './values.ts';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '.native');
const FLAGS = ['-O3', '-fno-math-errno', '-ffp-contract=off'];

/** The kernels of native/kernels.c, each one step over every leaf. */
export type Kernel = 'adam_exact' | 'adam_recip' | 'chain_exact' | 'chain_recip';

/**
 * Something to time: `step()` (timed by the caller), or `stepTimed()` (which
 * reports the time measured where the step ran: the C reference times itself
 * in its process); and what frees its memory.
 */
export type TimedStep = { step(): void; dispose(): void } | { stepTimed(): Promise<number>; dispose(): void };

/** What was built: the gcc executable, the clang module, or why one is absent. */
export interface NativeBuild {
  gcc: string;
  wasm: WebAssembly.Module | null;
  /** Why the clang rows are absent (null when they are there). */
  wasmMissing: string | null;
}

function has(tool: string): boolean {
  return spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Builds the references. With `installClang`, a missing clang/lld is
 * installed with apt-get first (only as root, like scripts/test.sh does
 * for chromium).
 */
export function buildNative(installClang: boolean): NativeBuild {
  mkdirSync(out, { recursive: true });
  if (!has('gcc')) throw new Error('bench: gcc is needed for the C reference (Debian: apt-get install -y gcc)');
  const gcc = join(out, 'adam-ref');
  const src = (f: string) => join(here, 'native', f);
  execFileSync('gcc', [...FLAGS, '-march=native', '-o', gcc, src('main.c'), src('kernels.c'), '-lm'], { stdio: 'inherit' });
  if (!(has('clang') && has('wasm-ld')) && installClang) {
    if (process.getuid?.() === 0 && has('apt-get')) {
      process.stderr.write("installing Debian's clang and lld (apt-get)\n");
      execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang lld >/dev/null'], {
        stdio: 'inherit',
      });
    } else process.stderr.write('--install-clang: not root or no apt-get here; the clang rows stay out\n');
  }
  if (!(has('clang') && has('wasm-ld'))) {
    return {
      gcc,
      wasm: null,
      wasmMissing:
        'clang wasm rows absent: clang and wasm-ld are not installed (Debian: apt-get install -y clang lld, or run pnpm bench -- --install-clang as root)',
    };
  }
  const wasmFile = join(out, 'kernels.wasm');
  const exports = ['adam_exact', 'adam_recip', 'sum_sq', 'chain_exact', 'chain_recip', '__heap_base'];
  execFileSync(
    'clang',
    [
      '--target=wasm32',
      ...FLAGS,
      '-msimd128',
      '-nostdlib',
      '-Wl,--no-entry',
      '-Wl,--import-memory',
      ...exports.map((e) => `-Wl,--export=${e}`),
      '-o',
      wasmFile,
      src('kernels.c'),
    ],
    { stdio: 'inherit' },
  );
  return { gcc, wasm: new WebAssembly.Module(readFileSync(wasmFile)), wasmMissing: null };
}

/** The tree as the C driver's arguments: runs of equal sizes as `COUNTxSIZE`. */
function shapeArgs(sizes: readonly number[]): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < sizes.length) {
    let j = i;
    while (j < sizes.length && sizes[j] === sizes[i]) j++;
    args.push(`${j - i}x${sizes[i]}`);
    i = j;
  }
  return args;
}

/**
 * The C driver for one tree, started once and shared by its kernels' rows.
 * Requests go one at a time; each answer is the step's time inside the process.
 */
export class NativeProcess {
  private readonly child;
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly ready: Promise<string>;

  constructor(exe: string, sizes: readonly number[]) {
    this.child = spawn(exe, shapeArgs(sizes), { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: this.child.stdout });
    lines.on('line', (line) => this.waiting.shift()?.(line));
    this.ready = this.next();
  }

  private next(): Promise<string> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** A row: each step runs `kernel` once over the tree. */
  runner(kernel: Kernel): TimedStep {
    return {
      stepTimed: async () => {
        await this.ready;
        const answer = this.next();
        this.child.stdin.write(`${kernel}\n`);
        const ms = Number(await answer);
        if (!Number.isFinite(ms)) throw new Error(`bench: the C reference answered '${ms}' to ${kernel}`);
        return ms;
      },
      dispose: () => undefined,
    };
  }

  /** Ends the process. */
  close(): void {
    this.child.stdin.end();
  }
}

/** The exports of the clang module. */
interface Kernels {
  adam_exact(...a: number[]): void;
  adam_recip(...a: number[]): void;
  chain_exact(...a: number[]): void;
  chain_recip(...a: number[]): void;
  sum_sq(n: number, g: number): number;
}

/** optax's warmup-cosine schedule of the bench's chain (peak 1e-3, 100 warmup steps, 10 000 decay steps, end 1e-5). */
function warmupCosine(count: number): number {
  if (count < 100) return (1e-3 * count) / 100;
  const t = Math.min(1, (count - 100) / (10_000 - 100));
  return 1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + Math.cos(Math.PI * t));
}

/**
 * The clang wasm kernels on one tree in a WebAssembly memory of their own:
 * `[g, p, m, v]` per leaf, 16-byte aligned, filled as `values.ts` fills
 * gradtx's tensors. Each step calls the kernel once per leaf.
 */
export class ClangWasm {
  private readonly k: Kernels;
  private readonly leaves: { n: number; g: number; p: number; m: number; v: number }[] = [];
  private readonly memory: WebAssembly.Memory;
  private count = 0;

  constructor(module: WebAssembly.Module, sizes: readonly number[]) {
    const bytes = sizes.reduce((a, n) => a + 4 * (Math.ceil(n / 4) * 16), 0);
    const memory = new WebAssembly.Memory({ initial: Math.ceil((bytes + (2 << 20)) / 65_536) });
    const inst = new WebAssembly.Instance(module, { env: { memory } });
    this.memory = memory;
    this.k = inst.exports as unknown as Kernels;
    let at = (((inst.exports.__heap_base as WebAssembly.Global).value as number) + 1023) & ~1023;
    const take = (n: number) => {
      const o = at;
      at += Math.ceil(n / 4) * 16;
      return o;
    };
    sizes.forEach((n, i) => {
      const leaf = { n, g: take(n), p: take(n), m: take(n), v: take(n) };
      new Float32Array(memory.buffer, leaf.g, n).set(values(n, 1000 + i));
      new Float32Array(memory.buffer, leaf.p, n).set(values(n, 1 + i));
      this.leaves.push(leaf);
    });
  }

  /** The params of leaf `l` (a view of the module's memory). */
  params(l: number): Float32Array {
    const leaf = this.leaves[l];
    if (leaf === undefined) throw new Error(`ClangWasm.params: no leaf ${l}`);
    return new Float32Array(this.memory.buffer, leaf.p, leaf.n);
  }

  /** A row: each step runs `kernel` over every leaf (scalars computed per step on the host, as gradtx does). */
  runner(kernel: Kernel): TimedStep {
    const [b1, b2, eps, lr, wd] = [0.9, 0.999, 1e-8, 1e-3, 1e-2];
    const f = Math.fround;
    return {
      step: () => {
        const t = ++this.count;
        const bc1 = f(1 - f(f(b1) ** t)); // as optax (and gradtx) compute 1 - b^t, in float32
        const bc2 = f(1 - f(f(b2) ** t));
        const { k } = this;
        const adam = [b1, f(1 - b1), b2, f(1 - b2)];
        if (kernel === 'adam_exact') for (const l of this.leaves) k.adam_exact(l.n, l.g, l.p, l.m, l.v, ...adam, bc1, bc2, eps, -lr);
        else if (kernel === 'adam_recip')
          for (const l of this.leaves) k.adam_recip(l.n, l.g, l.p, l.m, l.v, ...adam, f(-lr / bc1), f(1 / bc2), eps);
        else {
          let total = 0;
          for (const l of this.leaves) total += k.sum_sq(l.n, l.g);
          const norm = f(Math.sqrt(total));
          const nlr = f(-warmupCosine(t - 1));
          if (kernel === 'chain_exact')
            for (const l of this.leaves)
              k.chain_exact(l.n, l.g, l.p, l.m, l.v, norm >= 1 ? 1 : 0, norm, 1, ...adam, bc1, bc2, eps, wd, nlr);
          else {
            const scale = norm < 1 ? 1 : f(1 / norm);
            for (const l of this.leaves) k.chain_recip(l.n, l.g, l.p, l.m, l.v, scale, ...adam, f(1 / bc1), f(1 / bc2), eps, wd, nlr);
          }
        }
      },
      dispose: () => undefined,
    };
  }
}
