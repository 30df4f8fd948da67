/**
 * The main demo: multinomial logistic regression on the UCI digits data,
 * trained with a gradtx chain
 *   clipByGlobalNorm(1) → scaleByAdam() → addDecayedWeights(1e-4) → scaleByLearningRate(warmup-cosine)
 * printing progress per epoch and the final test accuracy.
 *
 * Run: pnpm demo
 */

import { addDecayedWeights, chain, clipByGlobalNorm, createOptimizer, scaleByAdam, scaleByLearningRate } from '@gradtx/core';
import { scheduleWarmupCosine } from '@gradtx/schedules';
import * as tf from '@tensorflow/tfjs';
import { CLASSES, FEATURES, loadDigits, mulberry32 } from './src/digits.js';

const EPOCHS = 40;
const BATCH = 64;

/** 0..n-1 in a random order fixed by `seed`, so every run trains the same way. */
function shuffledIndices(n: number, seed: number): Int32Array {
  const rand = mulberry32(seed);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}

async function main(): Promise<void> {
  // Production mode silences tfjs's one-time "install tfjs-node" banner in Node.
  tf.enableProdMode();
  await tf.setBackend('cpu');
  const { train, test } = loadDigits(0);
  const stepsPerEpoch = Math.ceil(train.count / BATCH);
  const totalSteps = EPOCHS * stepsPerEpoch;
  console.log(
    `digits: ${train.count} train / ${test.count} test examples, ${FEATURES} features, ${CLASSES} classes; backend ${tf.getBackend()}`,
  );

  const tx = chain(
    clipByGlobalNorm(1),
    scaleByAdam(),
    addDecayedWeights(1e-4),
    scaleByLearningRate(
      scheduleWarmupCosine({ initValue: 0, peakValue: 0.05, warmupSteps: stepsPerEpoch * 2, decaySteps: totalSteps, endValue: 1e-4 }),
    ),
  );
  const opt = createOptimizer(tx, {
    w: tf.variable(tf.zeros([FEATURES, CLASSES])),
    b: tf.variable(tf.zeros([CLASSES])),
  });

  const xTrain = tf.tensor2d(train.x, [train.count, FEATURES]);
  const yTrain = tf.oneHot(tf.tensor1d(train.y, 'int32'), CLASSES).toFloat();
  const yTrainLabels = tf.tensor1d(train.y, 'int32');
  const xTest = tf.tensor2d(test.x, [test.count, FEATURES]);
  const yTestLabels = tf.tensor1d(test.y, 'int32');

  const logits = (x: tf.Tensor2D) => {
    const p = opt.params as { w: tf.Tensor2D; b: tf.Tensor1D };
    return tf.add(tf.matMul(x, p.w), p.b);
  };
  const accuracy = (x: tf.Tensor2D, labels: tf.Tensor1D) =>
    tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits(x), 1), labels), 'float32')).dataSync()[0] as number);

  const started = performance.now();
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    const order = shuffledIndices(train.count, epoch);
    let lossSum = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      const idx = tf.tensor1d(order.slice(s * BATCH, (s + 1) * BATCH), 'int32');
      const xb = tf.gather(xTrain, idx) as tf.Tensor2D;
      const yb = tf.gather(yTrain, idx);
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(yb, logits(xb)) as tf.Scalar,
        [...Object.values(opt.params as Record<string, tf.Variable>)],
      );
      const p = opt.params as Record<string, tf.Variable>;
      const byName = { w: grads[(p.w as tf.Variable).name] as tf.Tensor, b: grads[(p.b as tf.Variable).name] as tf.Tensor };
      opt.step(byName);
      lossSum += value.dataSync()[0] as number;
      tf.dispose([idx, xb, yb, value, ...Object.values(grads)]);
    }
    if (epoch === 1 || epoch % 5 === 0 || epoch === EPOCHS) {
      const trainAcc = accuracy(xTrain, yTrainLabels);
      console.log(
        `epoch ${String(epoch).padStart(2)}/${EPOCHS}  loss ${(lossSum / stepsPerEpoch).toFixed(4)}  train acc ${(100 * trainAcc).toFixed(1)}%  (${((performance.now() - started) / 1000).toFixed(1)} s)`,
      );
    }
  }
  const testAcc = accuracy(xTest, yTestLabels);
  console.log(`final test accuracy: ${(100 * testAcc).toFixed(2)}% on ${test.count} held-out digits`);
  opt.dispose();
  tf.dispose([xTrain, yTrain, yTrainLabels, xTest, yTestLabels]);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
