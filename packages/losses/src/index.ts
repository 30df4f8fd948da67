/**
 * `@gradtx/losses`: optax 0.2.8's losses (`optax.losses`) on tfjs-core ops.
 * Every function takes tensors, returns a new tensor (per element or per
 * example, as optax does; reduce it yourself), disposes nothing it was given
 * and leaks nothing.
 *
 * @packageDocumentation
 */
export type { Axis } from './checks.js';
export { type CosineOptions, cosineDistance, cosineSimilarity } from './cosine.js';
export { type CtcForward, type CtcLossOptions, ctcLoss, ctcLossWithForwardProbs } from './ctc.js';
export {
  type BinaryDiceLossOptions,
  binaryDiceLoss,
  type DiceLossOptions,
  type DiceReduction,
  diceLoss,
  type GeneralizedDiceLossOptions,
  multiclassGeneralizedDiceLoss,
} from './dice.js';
export { type MaxFun, makeFenchelYoungLoss } from './fenchel-young.js';
export {
  convexKlDivergence,
  generalizedKlDivergence,
  type KlDivergenceOptions,
  klDivergence,
  klDivergenceWithLogTargets,
} from './kl-divergence.js';
export { hingeLoss, multiclassHingeLoss, multiclassPerceptronLoss, perceptronLoss, sparsemaxLoss } from './margin.js';
export { type RankingSoftmaxLossOptions, rankingSoftmaxLoss } from './ranking.js';
export { type HuberLossOptions, huberLoss, l2Loss, logCosh, squaredError } from './regression.js';
export { ntxent, type TripletMarginLossOptions, tripletMarginLoss } from './self-supervised.js';
export { type SigmoidFocalLossOptions, sigmoidBinaryCrossEntropy, sigmoidFocalLoss } from './sigmoid-cross-entropy.js';
export { type SmoothLabelsOptions, smoothLabels } from './smoothing.js';
export {
  type PolyLossOptions,
  polyLossCrossEntropy,
  type SoftmaxOptions,
  safeSoftmaxCrossEntropy,
  softmaxCrossEntropy,
  softmaxCrossEntropyWithIntegerLabels,
} from './softmax-cross-entropy.js';
export { multiclassSparsemaxLoss } from './sparsemax.js';
