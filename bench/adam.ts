/**
 * Adam step throughput: tf.train.adam, gradtx's reference path, gradtx's
 * fused engine (cpu, wasm), hand-written loops and the compiled limits (C
 * built with gcc, and C built with clang for WebAssembly SIMD, see
 * native.ts), measured in the same run; then adamw with clipByGlobalNorm and
 * a warmup-cosine schedule against the same chain in C. Every row is also
 * printed as a ratio to each compiled reference.
 *
 *   pnpm bench                        # full run (several minutes on 2 cores)
 *   pnpm bench -- --quick             # small sizes, a smoke test
 *   pnpm bench -- --install-clang     # as root: apt-get install clang lld first if missing
 *
 * Results on stdout (a table), progress on stderr. ms/step is the median of
 * several rounds; GB/s counts 28 bytes per param per step (read g, p, m, v;
 * write p, m, v): the memory traffic of one fused Adam step.
 */
import { cpus, loadavg } from 'node:os';
import { adam, adamw, chain, clipByGlobalNorm, createOptimizer, type GradientTransformation } from '@gradtx/core';
import { scheduleWarmupCosine } from '@gradtx/schedules';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { adamJs, handWasmAdam } from './hand.ts';
import { buildNative, ClangWasm, type Kernel, type NativeBuild, NativeProcess } from './native.ts';
import { type Runner, timeInterleaved, useBackend } from './timing.ts';
import { values } from './values.ts';

const quick = process.argv.includes('--quick');
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Shape {
  name: string;
  sizes: number[];
}
const M = 1_000_000;
const SHAPES: Shape[] = quick
  ? [
      { name: '1 × 10k', sizes: [10_000] },
      { name: '1 × 100k', sizes: [100_000] },
      { name: '20 × 5k', sizes: Array(20).fill(5_000) },
      { name: '100 × 100', sizes: Array(100).fill(100) },
    ]
  : [
      { name: '1 × 10M', sizes: [10 * M] },
      { name: '200 × 50k (10M)', sizes: Array(200).fill(50_000) },
      { name: '1000 × 1k (1M)', sizes: Array(1000).fill(1_000) },
    ];

const LR = 1e-3;
const B1 = 0.9;
const B2 = 0.999;
const EPS = 1e-8;

/** Rounds per measurement: fewer for the slow tfjs paths on big shapes. */
function rounds(total: number, slow: boolean): number {
  if (quick) return 3;
  if (slow) return total >= 5 * M ? 3 : 5;
  return total >= 5 * M ? 21 : 41;
}

interface Row {
  shape: string;
  impl: string;
  ms: number;
  total: number;
  /** The tf.train.adam row of the same backend, for the speed-up column. */
  base?: string;
}

function grads(shape: Shape): tf.Tensor[] {
  return shape.sizes.map((n, i) => tf.tensor1d(values(n, 1000 + i)));
}

function params(shape: Shape): tf.Tensor[] {
  return shape.sizes.map((n, i) => tf.tensor1d(values(n, 1 + i)));
}

function tfTrainAdam(shape: Shape): Runner {
  const vars = params(shape).map((t, i) => {
    const v = tf.variable(t, true, `bench_${shape.sizes.length}_${i}_${Math.random()}`);
    t.dispose();
    return v;
  });
  const gs = grads(shape);
  const opt = tf.train.adam(LR, B1, B2, EPS);
  const map = Object.fromEntries(vars.map((v, i) => [v.name, gs[i] as tf.Tensor]));
  return {
    step: () => opt.applyGradients(map as never),
    dispose: () => {
      opt.dispose();
      tf.dispose([...vars, ...gs]);
    },
  };
}

/** createOptimizer on the current backend; warns on stderr if tf.memory() changes from step to step. */
function gradtx(shape: Shape, tx: GradientTransformation, fused: boolean, precision?: 'fast'): Runner {
  const opt = createOptimizer(tx, params(shape), { fused, precision });
  const gs = grads(shape);
  opt.step(gs); // compiles the kernels on the fused path
  const m0 = tf.memory();
  return {
    step: () => opt.step(gs),
    dispose: () => {
      const m1 = tf.memory();
      if (m1.numTensors !== m0.numTensors || m1.numBytes !== m0.numBytes) {
        log(`    warning: tf.memory() changed over the steps (${m0.numTensors} -> ${m1.numTensors} tensors)`);
      }
      const p = opt.params;
      opt.dispose();
      tf.dispose([...(p as tf.Tensor[]), ...gs]);
    },
  };
}

/** Adam's state size per param, and what a fused step allocates, measured on a 1M-param model. */
function memoryReport(backend: string): string {
  const shape: Shape = { name: 'memory', sizes: [600_000, 300_000, 100_000] };
  const opt = createOptimizer(adam(LR), params(shape));
  const gs = grads(shape);
  const stateBytes = treeBytes(opt.state);
  opt.step(gs);
  const m0 = tf.memory();
  for (let i = 0; i < 5; i++) opt.step(gs);
  const m1 = tf.memory();
  const p = opt.params;
  opt.dispose();
  tf.dispose([...(p as tf.Tensor[]), ...gs]);
  const n = total(shape);
  return `${backend}: Adam state ${(stateBytes / n).toFixed(2)} bytes/param; over 5 fused steps tf.memory() changed by ${m1.numTensors - m0.numTensors} tensors, ${m1.numBytes - m0.numBytes} bytes (updated in place, no temporary)`;
}

function treeBytes(tree: unknown): number {
  if (tree instanceof tf.Tensor) return tree.size * 4;
  if (Array.isArray(tree)) return tree.reduce((n: number, x) => n + treeBytes(x), 0);
  if (tree !== null && typeof tree === 'object') return Object.values(tree).reduce((n: number, x) => n + treeBytes(x), 0);
  return 0;
}

function handJs(shape: Shape): Runner {
  const ps = shape.sizes.map((n, i) => values(n, 1 + i));
  const gs = shape.sizes.map((n, i) => values(n, 1000 + i));
  const ms = shape.sizes.map((n) => new Float32Array(n));
  const vs = shape.sizes.map((n) => new Float32Array(n));
  let t = 0;
  return {
    step: () => {
      t++;
      const bc1 = 1 - B1 ** t;
      const bc2 = 1 - B2 ** t;
      for (let l = 0; l < ps.length; l++) {
        const p = ps[l] as Float32Array;
        adamJs(p.length, gs[l] as Float32Array, p, ms[l] as Float32Array, vs[l] as Float32Array, B1, B2, bc1, bc2, EPS, LR);
      }
    },
    dispose: () => undefined,
    backend: 'cpu',
  };
}

function handWasm(shape: Shape): Runner {
  const backend = tf.backend() as unknown as {
    wasm: { asm: { memory: WebAssembly.Memory } };
    dataIdMap: { get(id: object): { memoryOffset: number } };
  };
  const adamFn = handWasmAdam(backend.wasm.asm.memory);
  const ps = params(shape);
  const gs = grads(shape);
  const mus = shape.sizes.map((n) => tf.zeros([n]));
  const nus = shape.sizes.map((n) => tf.zeros([n]));
  const at = (x: tf.Tensor) => backend.dataIdMap.get(x.dataId).memoryOffset;
  let t = 0;
  return {
    step: () => {
      t++;
      const bc1 = Math.fround(1 - B1 ** t);
      const bc2 = Math.fround(1 - B2 ** t);
      for (let l = 0; l < ps.length; l++) {
        const p = ps[l] as tf.Tensor;
        adamFn(
          p.size,
          at(gs[l] as tf.Tensor),
          at(p),
          at(mus[l] as tf.Tensor),
          at(nus[l] as tf.Tensor),
          B1,
          1 - B1,
          B2,
          1 - B2,
          bc1,
          bc2,
          EPS,
          -LR,
        );
      }
    },
    dispose: () => tf.dispose([...ps, ...gs, ...mus, ...nus]),
    backend: 'wasm',
  };
}

function total(shape: Shape): number {
  return shape.sizes.reduce((a, b) => a + b, 0);
}

function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
}

function gbps(row: Row): string {
  return ((28 * row.total) / (row.ms / 1000) / 1e9).toFixed(2);
}

/** The compiled references' rows, the columns every row is divided by. */
const C_DIV = 'C, gcc -O3 -march=native, 1 thread (divisions)';
const C_RECIP = 'C, gcc (reciprocals)';
const CLANG_DIV = 'clang -O3 -msimd128 wasm (divisions)';
const CLANG_RECIP = 'clang wasm (reciprocals)';
const REFERENCES = [C_DIV, C_RECIP, CLANG_DIV, CLANG_RECIP];
const FAST_WASM = "gradtx fused (wasm, precision 'fast')";
const FAST_CPU = "gradtx fused (cpu, precision 'fast')";

function table(title: string, rows: Row[]): void {
  const byKey = new Map(rows.map((r) => [`${r.shape}|${r.impl}`, r]));
  const lines = [
    `\n## ${title}\n`,
    '| shape | implementation | ms/step | GB/s | speed-up vs tf.train.adam (same backend) | ÷ C (div) | ÷ C (recip) | ÷ clang wasm (div) | ÷ clang wasm (recip) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const base = r.base ? byKey.get(`${r.shape}|${r.base}`) : undefined;
    const vsBase = base ? `${(base.ms / r.ms).toFixed(1)}×` : '';
    const ratios = REFERENCES.map((ref) => {
      const x = byKey.get(`${r.shape}|${ref}`);
      return x === undefined ? '–' : (r.ms / x.ms).toFixed(2);
    });
    lines.push(`| ${r.shape} | ${r.impl} | ${fmtMs(r.ms)} | ${gbps(r)} | ${vsBase} | ${ratios.join(' | ')} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The rows of the compiled references for one tree: C (always) and clang wasm (when built). */
function referenceRows(native: NativeBuild, shape: Shape, kernel: 'adam' | 'chain'): { rows: Entry[]; close(): void } {
  const proc = new NativeProcess(native.gcc, shape.sizes);
  const k = (v: 'exact' | 'recip') => `${kernel}_${v}` as Kernel;
  const rows: Entry[] = [
    [C_DIV, null, () => proc.runner(k('exact'))],
    [C_RECIP, null, () => proc.runner(k('recip'))],
  ];
  if (native.wasm !== null) {
    const clang = new ClangWasm(native.wasm, shape.sizes);
    rows.push([CLANG_DIV, null, () => clang.runner(k('exact'))], [CLANG_RECIP, null, () => clang.runner(k('recip'))]);
  }
  return { rows, close: () => proc.close() };
}

/**
 * A row to measure: its name, the backend its runner is made and stepped on
 * (null: none), how to make the runner, and what it is compared with.
 */
type Entry = [string, 'cpu' | 'wasm' | null, () => Runner, Partial<Row>?];

/**
 * Checks that the clang kernel with divisions computes what gradtx computes:
 * five Adam steps on one leaf, the clang kernel against gradtx's fused cpu
 * step; returns a line with the count of params that differ in any bit.
 */
async function exactnessCheck(native: NativeBuild): Promise<string> {
  if (native.wasm === null) return 'exactness check skipped (no clang build)';
  const n = 4099;
  const clang = new ClangWasm(native.wasm, [n]);
  const ref = clang.runner('adam_exact');
  await useBackend('cpu');
  const opt = createOptimizer(adam(LR), [tf.tensor1d(values(n, 1))]);
  const gs = [tf.tensor1d(values(n, 1000))];
  for (let t = 0; t < 5; t++) {
    if ('step' in ref) ref.step();
    opt.step(gs);
  }
  const ours = (opt.params as tf.Tensor[])[0]?.dataSync() as Float32Array;
  const theirs = clang.params(0);
  let differ = 0;
  for (let i = 0; i < n; i++) if (!Object.is(ours[i], theirs[i])) differ++;
  const p = opt.params as tf.Tensor[];
  opt.dispose();
  tf.dispose([...p, ...gs]);
  return `exactness: after 5 Adam steps on ${n} params, ${differ} params differ in any bit between the clang kernel with divisions and gradtx (fused, cpu)`;
}

/** The bench's targets (docs/performance.md), checked on this run's medians. */
function targets(adamRows: Row[]): void {
  const ms = (shape: string, impl: string) => adamRows.find((r) => r.shape === shape && r.impl === impl)?.ms;
  const lines = ['\n## targets (ratios of this run)\n'];
  for (const shape of SHAPES) {
    const w = ms(shape.name, 'gradtx fused (wasm)');
    const c = ms(shape.name, 'gradtx fused (cpu)');
    const clang = ms(shape.name, CLANG_DIV);
    const cref = ms(shape.name, C_DIV);
    const fast = ms(shape.name, FAST_WASM);
    const tfCpu = ms(shape.name, 'tf.train.adam (cpu)');
    const parts = [
      clang !== undefined && w !== undefined ? `wasm / clang wasm (div) ${(w / clang).toFixed(2)} (target ≤ 1.15)` : 'wasm / clang wasm: –',
      cref !== undefined && w !== undefined ? `wasm / C (div) ${(w / cref).toFixed(2)}` : '',
      cref !== undefined && fast !== undefined ? `wasm 'fast' / C (div) ${(fast / cref).toFixed(2)} (target ≤ 1.3 on 10M)` : '',
      c !== undefined && w !== undefined ? `cpu / wasm ${(c / w).toFixed(2)} (target ≤ 1.3)` : '',
      c !== undefined && tfCpu !== undefined ? `cpu vs tf.train.adam (cpu) ${(tfCpu / c).toFixed(0)}× (target ≥ 100× at 10M)` : '',
    ];
    lines.push(`- ${shape.name}: ${parts.filter(Boolean).join('; ')}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  tf.env().set('IS_TEST', true); // no console banner
  const native = buildNative(process.argv.includes('--install-clang'));
  if (native.wasmMissing !== null) process.stdout.write(`\n${native.wasmMissing}\n`);
  process.stdout.write(`\n${await exactnessCheck(native)}\n`);
  const t0 = performance.now();
  const rows: Row[] = [];
  const rows2: Row[] = [];
  /** Measures the entries' runners interleaved round by round; one row each. */
  const run = async (into: Row[], shape: Shape, slow: boolean, entries: Entry[]) => {
    log(`  ${shape.name}: ${entries.map(([impl]) => impl).join(' | ')} ...`);
    const runners: Runner[] = [];
    for (const [, backend, make] of entries) {
      if (backend !== null) await useBackend(backend);
      runners.push(backend === null ? make() : { ...make(), backend });
    }
    const ms = await timeInterleaved(runners, rounds(total(shape), slow));
    for (const r of [...runners].reverse()) {
      if (r.backend !== undefined) await useBackend(r.backend);
      r.dispose();
    }
    entries.forEach(([impl, , , refs], i) => {
      into.push({ shape: shape.name, impl, ms: ms[i] as number, total: total(shape), ...refs });
    });
    log(`    ${ms.map(fmtMs).join(' | ')} ms/step`);
  };
  const vsCpu = { base: 'tf.train.adam (cpu)' };
  const vsWasm = { base: 'tf.train.adam (wasm)' };
  log(`gradtx bench${quick ? ' (quick)' : ''}: adam`);
  for (const shape of SHAPES) {
    // the slow tfjs paths, a few rounds
    await run(rows, shape, true, [
      ['tf.train.adam (cpu)', 'cpu', () => tfTrainAdam(shape)],
      ['tf.train.adam (wasm)', 'wasm', () => tfTrainAdam(shape)],
      ['gradtx reference (cpu)', 'cpu', () => gradtx(shape, adam(LR), false), vsCpu],
    ]);
    // the fast paths and the limits, interleaved in one group
    const refs = referenceRows(native, shape, 'adam');
    await run(rows, shape, false, [
      ...refs.rows,
      ['hand-written wasm SIMD (tfjs wasm heap)', 'wasm', () => handWasm(shape), vsWasm],
      ['hand-written JS loop', 'cpu', () => handJs(shape), vsCpu],
      ['gradtx fused (wasm)', 'wasm', () => gradtx(shape, adam(LR), true), vsWasm],
      [FAST_WASM, 'wasm', () => gradtx(shape, adam(LR), true, 'fast'), vsWasm],
      ['gradtx fused (cpu)', 'cpu', () => gradtx(shape, adam(LR), true), vsCpu],
      [FAST_CPU, 'cpu', () => gradtx(shape, adam(LR), true, 'fast'), vsCpu],
    ]);
    refs.close();
    log(`  (${((performance.now() - t0) / 1000).toFixed(0)} s so far)`);
  }
  table('adam (lr 1e-3, b1 0.9, b2 0.999, eps 1e-8): ms per step, 28 bytes/param/step', rows);
  for (const backend of ['cpu', 'wasm'] as const) {
    await useBackend(backend);
    process.stdout.write(`\n${memoryReport(backend)}\n`);
  }

  // adamw + clipByGlobalNorm + warmup-cosine
  log('gradtx bench: adamw + clipByGlobalNorm + warmup-cosine');
  const schedule = scheduleWarmupCosine({ initValue: 0, peakValue: 1e-3, warmupSteps: 100, decaySteps: 10_000, endValue: 1e-5 });
  const makeTx = () => chain(clipByGlobalNorm(1), adamw(schedule, { weightDecay: 1e-2 }));
  for (const shape of SHAPES) {
    for (const impl of ['tf.train.adam (cpu)', 'tf.train.adam (wasm)'])
      rows2.push({ ...(rows.find((r) => r.shape === shape.name && r.impl === impl) as Row) });
    await run(rows2, shape, true, [
      ['gradtx reference (cpu)', 'cpu', () => gradtx(shape, makeTx(), false), vsCpu],
      ['gradtx reference (wasm)', 'wasm', () => gradtx(shape, makeTx(), false), vsWasm],
    ]);
    const refs = referenceRows(native, shape, 'chain');
    await run(rows2, shape, false, [
      ...refs.rows,
      ['gradtx fused (wasm)', 'wasm', () => gradtx(shape, makeTx(), true), vsWasm],
      [FAST_WASM, 'wasm', () => gradtx(shape, makeTx(), true, 'fast'), vsWasm],
      ['gradtx fused (cpu)', 'cpu', () => gradtx(shape, makeTx(), true), vsCpu],
      [FAST_CPU, 'cpu', () => gradtx(shape, makeTx(), true, 'fast'), vsCpu],
    ]);
    refs.close();
  }
  table(
    'chain(clipByGlobalNorm(1), adamw(warmup-cosine, weightDecay 1e-2)), against C/clang kernels of the same chain; tf.train.adam rows repeated from above as the baseline',
    rows2,
  );
  targets(rows);
  process.stdout.write(
    `\nload average at the end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(', ')} (${cpus().length} cores)\n`,
  );
  log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

await main();
