/**
 * `stepLogs`: the optimizer's step reports in `model.fit`'s batch and epoch
 * logs (so `history.history`, `tfjs-vis` or a console show them).
 *
 * @module
 */
import type { StepHook, StepReport } from '../step-report.js';

/** The logs object `model.fit` passes to a callback (tfjs-layers' `Logs`). */
export type FitLogsObject = Record<string, unknown>;

/** What {@link stepLogs} returns: a hook for the optimizer and a callback for `model.fit`. */
export interface StepLogs {
  /** Give it to `asTfOptimizer(tx, { onStep })` (or `createOptimizer`). */
  readonly onStep: StepHook;
  /** Give it to `model.fit(x, y, { callbacks })`: it writes the keys below into the batch and epoch logs. */
  readonly callback: {
    onBatchEnd(batch: number, logs?: FitLogsObject): void;
    onEpochEnd(epoch: number, logs?: FitLogsObject): void;
  };
  /** The last step's report (`null` before the first). */
  readonly last: StepReport | null;
}

/**
 * Reports the optimizer's steps into `model.fit`'s logs. Each batch's logs
 * gain the last step's `learningRate`, `gradNorm` (the global norm of the
 * gradients before any clipping) and `stepMs`; each epoch's logs gain the
 * last step's `learningRate`, the epoch's mean `gradNorm` and mean `stepMs`,
 * and `fusedSteps`, the fraction of the epoch's steps that ran on the fused
 * engine (1 when every step did). A learning rate gradtx cannot see (no
 * `scaleByLearningRate` stage, no `injectHyperparams`) is left out.
 *
 * @example
 * ```ts
 * const logs = stepLogs();
 * const optimizer = asTfOptimizer(chain(clipByGlobalNorm(1), adamw(schedule)), { onStep: logs.onStep });
 * model.compile({ optimizer, loss: 'categoricalCrossentropy' });
 * const history = await model.fit(x, y, { epochs: 5, callbacks: logs.callback });
 * console.log(history.history.learningRate, history.history.gradNorm, history.history.fusedSteps);
 * ```
 * @category Training loop
 */
export function stepLogs(): StepLogs {
  let last: StepReport | null = null;
  let epoch = { steps: 0, gradNorm: 0, ms: 0, fused: 0 };
  const withLearningRate = (logs: FitLogsObject, report: StepReport) => {
    if (report.learningRate !== null) logs.learningRate = report.learningRate;
  };
  return {
    onStep(report) {
      last = report;
      epoch.steps++;
      epoch.gradNorm += report.gradNorm;
      epoch.ms += report.ms;
      if (report.path !== 'reference') epoch.fused++;
    },
    callback: {
      onBatchEnd(_batch, logs) {
        if (logs === undefined || last === null) return;
        withLearningRate(logs, last);
        logs.gradNorm = last.gradNorm;
        logs.stepMs = last.ms;
      },
      onEpochEnd(_epoch, logs) {
        if (logs !== undefined && last !== null && epoch.steps > 0) {
          withLearningRate(logs, last);
          logs.gradNorm = epoch.gradNorm / epoch.steps;
          logs.stepMs = epoch.ms / epoch.steps;
          logs.fusedSteps = epoch.fused / epoch.steps;
        }
        epoch = { steps: 0, gradNorm: 0, ms: 0, fused: 0 };
      },
    },
    get last() {
      return last;
    },
  };
}
