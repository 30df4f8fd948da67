/*
 * The limit references of the benchmark: Adam and clip + AdamW written in C,
 * one leaf per call, built twice by bench/native.ts: with gcc -O3
 * -march=native for this CPU (one thread) and with clang -O3 -msimd128 for
 * WebAssembly. The compilers vectorize the loops; nothing here is tuned by
 * hand.
 *
 * `*_exact` follow optax's arithmetic operation for operation (float32, the
 * bias corrections as divisions), as gradtx's exact path does. `*_recip`
 * multiply by reciprocals computed once per step instead (and fold the
 * learning rate into them): the arithmetic a hand-tuned kernel would use.
 *
 * Adam (optax scale_by_adam, scale_by_learning_rate, apply_updates):
 *   mu = (1-b1) g + b1 mu;  nu = (1-b2) g^2 + b2 nu
 *   p += -lr * (mu / bc1) / (sqrt(nu / bc2) + eps)
 * clip + AdamW: g' = g / norm * maxNorm when norm >= maxNorm, then Adam's
 * moments, u = mu^ / (sqrt(nu^) + eps) + wd p, p += -lr_t u.
 */

void adam_exact(int n, const float *restrict g, float *restrict p, float *restrict m, float *restrict v, float b1,
                float omb1, float b2, float omb2, float bc1, float bc2, float eps, float nlr) {
  for (int i = 0; i < n; i++) {
    float gi = g[i];
    float mi = omb1 * gi + b1 * m[i];
    float vi = omb2 * (gi * gi) + b2 * v[i];
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] + nlr * ((mi / bc1) / (__builtin_sqrtf(vi / bc2) + eps));
  }
}

/* rbc1 = -lr / bc1 (the learning rate folded in), rbc2 = 1 / bc2. */
void adam_recip(int n, const float *restrict g, float *restrict p, float *restrict m, float *restrict v, float b1,
                float omb1, float b2, float omb2, float rbc1, float rbc2, float eps) {
  for (int i = 0; i < n; i++) {
    float gi = g[i];
    float mi = omb1 * gi + b1 * m[i];
    float vi = omb2 * (gi * gi) + b2 * v[i];
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] + rbc1 * mi / (__builtin_sqrtf(vi * rbc2) + eps);
  }
}

/* Sum of squares of one leaf, eight float accumulators (so the compilers vectorize it). */
float sum_sq(int n, const float *restrict g) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) acc[k] += g[i + k] * g[i + k];
  float s = 0;
  for (; i < n; i++) s += g[i] * g[i];
  for (int k = 0; k < 8; k++) s += acc[k];
  return s;
}

/* One leaf of clip + AdamW, exact: `clip` is 0 when the norm is below maxNorm. */
void chain_exact(int n, const float *restrict g, float *restrict p, float *restrict m, float *restrict v, int clip,
                 float norm, float maxNorm, float b1, float omb1, float b2, float omb2, float bc1, float bc2, float eps,
                 float wd, float nlr) {
  for (int i = 0; i < n; i++) {
    float clipped = (g[i] / norm) * maxNorm; /* computed either way, so the loop has no branch */
    float gi = clip ? clipped : g[i];
    float mi = omb1 * gi + b1 * m[i];
    float vi = omb2 * (gi * gi) + b2 * v[i];
    m[i] = mi;
    v[i] = vi;
    float u = (mi / bc1) / (__builtin_sqrtf(vi / bc2) + eps) + wd * p[i];
    p[i] = p[i] + nlr * u;
  }
}

/* One leaf of clip + AdamW with reciprocals: `scale` = min(1, maxNorm / norm), rbc1 = 1 / bc1, rbc2 = 1 / bc2. */
void chain_recip(int n, const float *restrict g, float *restrict p, float *restrict m, float *restrict v, float scale,
                 float b1, float omb1, float b2, float omb2, float rbc1, float rbc2, float eps, float wd, float nlr) {
  for (int i = 0; i < n; i++) {
    float gi = g[i] * scale;
    float mi = omb1 * gi + b1 * m[i];
    float vi = omb2 * (gi * gi) + b2 * v[i];
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] + nlr * ((mi * rbc1) / (__builtin_sqrtf(vi * rbc2) + eps) + wd * p[i]);
  }
}
