/**
 * What one step is asked to do, and what a step that wrote everything in
 * place leaves behind for the optimizer to replay.
 *
 * @module
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ExtraArgs, GradientTransformation, Params, Updates } from '../base.js';
import type { Device, Launch } from './device.js';
import type { Donation } from './donation.js';
import type { FusedSegment, Plan } from './plan.js';

/** One step's request. */
export interface StepRequest {
  readonly tx: GradientTransformation;
  readonly updates: Updates;
  readonly state: unknown;
  readonly params: Params;
  readonly donate: Donation;
  /** Whether outputs written in place keep the input tensor objects (the optimizer) rather than new objects (fusedUpdate). */
  readonly reuse: boolean;
  /** Whether donated buffers may be overwritten (default true); false writes every output to a fresh tensor. */
  readonly inPlace?: boolean;
  readonly extraArgs?: ExtraArgs;
  /** The name used in messages. */
  readonly by: string;
  /** Called after a fused step that wrote every output in place, with what a later step needs to replay it (the optimizer's replayed steps). */
  readonly capture?: (c: Captured) => void;
}

/** What a step that wrote everything in place leaves for a {@link ReplayedStep}. */
export interface Captured {
  readonly device: Device;
  readonly plan: Plan;
  /**
   * The plan's fused runs in order, each with its kernel launch: one, or two
   * when a reduction reads the first run's output (the second run then reads
   * {@link Captured.scratch}).
   */
  readonly runs: readonly CapturedRun[];
  /** The first run's output updates when there are two runs: buffers the replayed step owns from then on (and disposes). */
  readonly scratch: readonly tf.Tensor[];
  /** The params leaves (also the params output) and their tree structure. */
  readonly ps: readonly tf.Tensor[];
  readonly treedef: unknown;
  /** The returned params tree and state. */
  readonly params: Params;
  readonly state: unknown;
  /** Per stage of the plan: its new state object (count, slot trees, reductions kept in the state). */
  readonly stageStates: readonly Record<string, unknown>[];
}

/** One fused run of a captured step. */
export interface CapturedRun {
  readonly seg: FusedSegment;
  readonly launch: Launch;
  /** Whether the run's input updates are the gradients (else the previous run's output, the scratch). */
  readonly readsGrads: boolean;
}
