/*
 * The native driver of the C reference (bench/native.ts starts it): builds a
 * tree of float32 leaves from its arguments (`COUNTxSIZE`, e.g. `200x50000`),
 * filled as bench/values.ts fills them, then for each line read from stdin
 * (`adam_exact`, `adam_recip`, `chain_exact`, `chain_recip`) runs one step over
 * every leaf and writes the step's time in milliseconds. One thread.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void adam_exact(int, const float *, float *, float *, float *, float, float, float, float, float, float, float, float);
void adam_recip(int, const float *, float *, float *, float *, float, float, float, float, float, float, float);
float sum_sq(int, const float *);
void chain_exact(int, const float *, float *, float *, float *, int, float, float, float, float, float, float, float,
                 float, float, float, float);
void chain_recip(int, const float *, float *, float *, float *, float, float, float, float, float, float, float, float,
                 float, float);

/* bench/values.ts: n pseudo-random floats in [-1, 1) from a xorshift32 seed. */
static void values(float *out, int n, unsigned seed) {
  unsigned s = seed ? seed : 1;
  for (int i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    out[i] = (float)(((double)s / 4294967296.0) * 2 - 1);
  }
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* optax warmup_cosine_decay_schedule(0, 1e-3, 100, 10000, 1e-5), as the bench's gradtx chain uses. */
static double warmup_cosine(int count) {
  if (count < 100) return 1e-3 * count / 100.0;
  double t = (double)(count - 100) / (10000 - 100);
  if (t > 1) t = 1;
  return 1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + cos(M_PI * t));
}

int main(int argc, char **argv) {
  int leaves = 0, cap = 16;
  int *sizes = malloc(cap * sizeof(int));
  for (int a = 1; a < argc; a++) {
    int count, size;
    if (sscanf(argv[a], "%dx%d", &count, &size) != 2) {
      fprintf(stderr, "bad shape argument '%s' (want COUNTxSIZE)\n", argv[a]);
      return 2;
    }
    for (int k = 0; k < count; k++) {
      if (leaves == cap) sizes = realloc(sizes, (cap *= 2) * sizeof(int));
      sizes[leaves++] = size;
    }
  }
  float **g = malloc(leaves * sizeof(float *)), **p = malloc(leaves * sizeof(float *));
  float **m = malloc(leaves * sizeof(float *)), **v = malloc(leaves * sizeof(float *));
  for (int l = 0; l < leaves; l++) {
    size_t bytes = ((size_t)sizes[l] * 4 + 63) & ~(size_t)63;
    g[l] = aligned_alloc(64, bytes);
    p[l] = aligned_alloc(64, bytes);
    m[l] = aligned_alloc(64, bytes);
    v[l] = aligned_alloc(64, bytes);
    values(g[l], sizes[l], 1000 + l);
    values(p[l], sizes[l], 1 + l);
    memset(m[l], 0, bytes);
    memset(v[l], 0, bytes);
  }
  const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, omb1 = 1 - b1, omb2 = 1 - b2, lr = 1e-3f, wd = 1e-2f;
  char line[64];
  int count = 0;
  printf("ready\n");
  fflush(stdout);
  while (fgets(line, sizeof line, stdin)) {
    double t0 = now_ms();
    count++;
    /* 1 - b^t as optax computes it in float32 */
    float bc1 = (float)(1 - (double)(float)pow(b1, count)), bc2 = (float)(1 - (double)(float)pow(b2, count));
    if (strncmp(line, "adam_exact", 10) == 0) {
      for (int l = 0; l < leaves; l++) adam_exact(sizes[l], g[l], p[l], m[l], v[l], b1, omb1, b2, omb2, bc1, bc2, eps, -lr);
    } else if (strncmp(line, "adam_recip", 10) == 0) {
      for (int l = 0; l < leaves; l++) adam_recip(sizes[l], g[l], p[l], m[l], v[l], b1, omb1, b2, omb2, -lr / bc1, 1 / bc2, eps);
    } else if (strncmp(line, "chain_exact", 11) == 0 || strncmp(line, "chain_recip", 11) == 0) {
      double total = 0;
      for (int l = 0; l < leaves; l++) total += sum_sq(sizes[l], g[l]);
      float norm = sqrtf((float)total), maxNorm = 1, nlr = (float)-warmup_cosine(count - 1);
      if (line[6] == 'e') {
        for (int l = 0; l < leaves; l++)
          chain_exact(sizes[l], g[l], p[l], m[l], v[l], norm >= maxNorm, norm, maxNorm, b1, omb1, b2, omb2, bc1, bc2, eps,
                      wd, nlr);
      } else {
        float scale = norm < maxNorm ? 1 : maxNorm / norm;
        for (int l = 0; l < leaves; l++)
          chain_recip(sizes[l], g[l], p[l], m[l], v[l], scale, b1, omb1, b2, omb2, 1 / bc1, 1 / bc2, eps, wd, nlr);
      }
    } else {
      fprintf(stderr, "unknown kernel '%s'\n", line);
      return 2;
    }
    printf("%.5f\n", now_ms() - t0);
    fflush(stdout);
  }
  return 0;
}
