// Runs before every test file: the cpu backend, quiet.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

tf.env().set('IS_TEST', true);
await tf.setBackend('cpu');
