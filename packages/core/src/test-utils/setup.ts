// Runs before every test file: the cpu backend, quiet.
import '@tensorflow/tfjs-backend-cpu';
// the built-in devices register when the package's entry loads; tests that import modules directly need them too
import '../fused/devices/register.js';
import * as tf from '@tensorflow/tfjs-core';

tf.env().set('IS_TEST', true);
await tf.setBackend('cpu');
