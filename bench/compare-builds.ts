/**
 * Two builds of gradtx, timed against each other on a shared machine: one
 * worker process per built checkout (each loads its own `@gradtx/core` dist
 * and tfjs), driven in alternating rounds of the same fused optimizer steps
 * (Adam, clipByGlobalNorm + adamw, and Adam with bfloat16, float16 and int8 moments) on cpu and wasm, so that load from
 * other processes falls on both alike. Prints, per case, each build's median
 * ms per step and the after/before ratio (the median of the per-round
 * ratios, with its spread).
 *
 *   pnpm --filter @gradtx/bench bench:compare-builds -- BEFORE_ROOT AFTER_ROOT [--rounds N] [--steps N] [--only TEXT]
 *
 * `--only` keeps the cases whose name (e.g. `adam 1000 × 1k`) contains TEXT.
 *
 * Each root is a checkout with `packages/core/dist` built and its workspace
 * installed (the worker resolves tfjs from `ROOT/bench`).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { WorkerReply, WorkerRequest, Workload } from './compare-builds-worker.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args.splice(i, 2)[1]) : fallback;
};
const ROUNDS = flag('--rounds', 15);
const STEPS = flag('--steps', 5);
const onlyAt = args.indexOf('--only');
const ONLY = onlyAt >= 0 ? (args.splice(onlyAt, 2)[1] ?? '') : '';
const [beforeRoot, afterRoot] = args;
if (beforeRoot === undefined || afterRoot === undefined) {
  throw new Error('usage: compare-builds.ts BEFORE_ROOT AFTER_ROOT [--rounds N] [--steps N] [--only TEXT]');
}

const SHAPES: { name: string; sizes: number[] }[] = [
  { name: '200 × 50k', sizes: Array(200).fill(50_000) },
  { name: '1000 × 1k', sizes: Array(1000).fill(1_000) },
  { name: '1 × 1M', sizes: [1_000_000] },
];
const WORKLOADS: Workload[] = ['adam', 'clip+adamw', 'adam bfloat16', 'adam float16', 'adam int8'];
const BACKENDS = ['cpu', 'wasm'] as const;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** A worker process for one checkout, answering one request at a time. */
class Build {
  private readonly child: ChildProcess;
  private pending: ((r: WorkerReply) => void)[] = [];
  readonly ready: Promise<WorkerReply>;

  constructor(readonly root: string) {
    const worker = fileURLToPath(new URL('./compare-builds-worker.ts', import.meta.url));
    this.child = fork(worker, [root], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve) => this.pending.push(resolve));
    this.child.on('message', (r: WorkerReply) => this.pending.shift()?.(r));
  }

  async ask(request: WorkerRequest): Promise<WorkerReply & { ok: true }> {
    const reply = await new Promise<WorkerReply>((resolve) => {
      this.pending.push(resolve);
      this.child.send(request);
    });
    if (!reply.ok) throw new Error(`${this.root}: ${reply.error}`);
    return reply;
  }

  close(): void {
    this.child.disconnect();
  }
}

/** Alternating rounds on both builds (the order flips every round); per-round medians of ms per step. */
async function compare(builds: [Build, Build], setup: WorkerRequest): Promise<{ ms: [number[], number[]]; fused: boolean[] }> {
  const fused: boolean[] = [];
  for (const b of builds) fused.push((await b.ask(setup)).fused === true);
  const ms: [number[], number[]] = [[], []];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) ms[i as 0 | 1].push(median((await (builds[i] as Build).ask({ cmd: 'time', steps: STEPS })).ms ?? []));
  }
  for (const b of builds) await b.ask({ cmd: 'dispose' });
  return { ms, fused };
}

const builds: [Build, Build] = [new Build(beforeRoot), new Build(afterRoot)];
await Promise.all(builds.map((b) => b.ready));
const load0 = loadavg();
process.stdout.write(`before: ${beforeRoot}\nafter:  ${afterRoot}\n${ROUNDS} alternating rounds of ${STEPS} steps per case\n\n`);
process.stdout.write(
  '| case | backend | before ms/step | after ms/step | after/before (median of rounds) | spread over rounds (min–max) |\n',
);
process.stdout.write('| --- | --- | --- | --- | --- | --- |\n');
const allRatios: number[] = [];
for (const workload of WORKLOADS) {
  for (const shape of SHAPES) {
    for (const backend of BACKENDS) {
      if (!`${workload} ${shape.name}`.includes(ONLY)) continue;
      const { ms, fused } = await compare(builds, { cmd: 'setup', workload, sizes: shape.sizes, backend });
      const ratios = ms[1].map((a, r) => a / (ms[0][r] as number));
      allRatios.push(median(ratios));
      const note = fused.every((f) => f) ? '' : ` (not fused: before ${fused[0]}, after ${fused[1]})`;
      process.stdout.write(
        `| ${workload} ${shape.name}${note} | ${backend} | ${median(ms[0]).toFixed(3)} | ${median(ms[1]).toFixed(3)} | ${median(ratios).toFixed(3)} | ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)} |\n`,
      );
    }
  }
}
const load1 = loadavg();
process.stdout.write(`\nmedian after/before over the ${allRatios.length} cases: ${median(allRatios).toFixed(3)}\n`);
process.stdout.write(
  `load average (1, 5, 15 min): start ${load0.map((x) => x.toFixed(2)).join(', ')}; end ${load1.map((x) => x.toFixed(2)).join(', ')}\n`,
);
for (const b of builds) b.close();
