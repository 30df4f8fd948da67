// Runs before every test file: tfjs on the cpu backend. (tfjs's IS_TEST flag is left off: under it tfjs reports its own softmaxCrossEntropy gradient as a leak.)
import * as tf from '@tensorflow/tfjs';

await tf.setBackend('cpu');
