/**
 * `@gradtx/contrib`: the optimizers of optax 0.2.8's `optax.contrib`, in
 * camelCase, built on `@gradtx/core`.
 *
 * @packageDocumentation
 */
export { type AcpropOptions, acprop, type ScaleByAcpropOptions, scaleByAcprop } from './acprop.js';
export { type AdemamixOptions, ademamix, type ScaleByAdemamixOptions, scaleByAdemamix } from './ademamix.js';
export { adopt, type ScaleByAdoptOptions, scaleByAdopt } from './adopt.js';
export type { WeightDecayOptions } from './alias.js';
export { type CocobOptions, cocob, type ScaleByCocobOptions, scaleByCocob } from './cocob.js';
export {
  type SplitRealAndImaginaryArrays,
  type SplitRealAndImaginaryState,
  splitRealAndImaginary,
} from './complex-valued.js';
export type { DistanceEstimateOptions } from './d-adaptation.js';
export { type DAdaptAdamWOptions, type DAdaptAdamWState, dadaptAdamw } from './dadapt-adamw.js';
export {
  type DoGState,
  type DogInitStep,
  type DogOptions,
  type DoWGState,
  type DowgOptions,
  dog,
  dowg,
  type ScaleByDogOptions,
  type ScaleByDowgOptions,
  scaleByDog,
  scaleByDowg,
} from './dog.js';
export {
  type GaLoreDimensionNumbers,
  type GaLoreState,
  type GaloreOptions,
  galore,
  type ScaleByGaloreOptions,
  scaleByGalore,
} from './galore.js';
export { type MadgradOptions, madgrad, type ScaleByMadgradOptions, scaleByMadgrad } from './madgrad.js';
export { type MechanicState, type MechanizeOptions, mechanize } from './mechanize.js';
export { type MomoAdamOptions, type MomoAdamState, type MomoOptions, type MomoState, momo, momoAdam } from './momo.js';
export {
  type MuonDimensionNumbers,
  type MuonOptions,
  type MuonPreconditioning,
  type MuonState,
  type MuonWeightDimensionNumbers,
  muon,
  type NsCoeffs,
  type ScaleByMuonOptions,
  scaleByMuon,
} from './muon.js';
export {
  type DifferentiallyPrivateAggregateState,
  type DpsgdOptions,
  differentiallyPrivateAggregate,
  dpsgd,
} from './privacy.js';
export { type ProdigyOptions, type ProdigyState, prodigy } from './prodigy.js';
export { type ReduceLROnPlateauState, type ReduceOnPlateauOptions, reduceOnPlateau } from './reduce-on-plateau.js';
export { normalize, type SAMState, type SamGradFn, type SamOptions, sam } from './sam.js';
export {
  type ScheduleFreeAdamwOptions,
  type ScheduleFreeAliasOptions,
  type ScheduleFreeOptions,
  type ScheduleFreeSgdOptions,
  type ScheduleFreeState,
  scheduleFree,
  scheduleFreeAdamw,
  scheduleFreeEvalParams,
  scheduleFreeSgd,
} from './schedule-free.js';
export type { ScheduleFreeSpecState } from './schedule-free-spec.js';
export {
  type ScaleBySimplifiedAdemamixOptions,
  type SimplifiedAdemamixOptions,
  scaleBySimplifiedAdemamix,
  simplifiedAdemamix,
} from './simplified-ademamix.js';
export {
  type HutchinsonState,
  hutchinsonEstimatorDiagHessian,
  type ObjectiveFn,
  type SophiaOptions,
  type SophiaState,
  sophia,
} from './sophia.js';
