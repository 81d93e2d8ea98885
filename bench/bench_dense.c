/* The dense (explicit-weight) path: per layer, the floor
 * (drawing the N^2 weight normals alone), the product (6 N^2 flops: W times the three columns,
 * by dense.c's own kernel), and a whole layer; "% of normal floor" = floor / layer time
 * (target >= 85%). Also the single-thread DGEMM peak for scale, and the memory of one network.
 * Usage: OPENBLAS_NUM_THREADS=1 bench_dense [--chunks] [width ...]   (default 256 1024 4096)
 * --chunks: the feedforward layer time against the chunk size instead (dense.c's knob).
 * Prints Markdown tables to stdout. Every time is the best of 3, in CPU seconds of this
 * thread (CLOCK_THREAD_CPUTIME_ID): the 2 cores are shared, and wall time would count the
 * time other jobs held the core; on an idle core the two agree. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "edgesweep/ensemble.h"

/* Internals of src/ensemble/dense.c (ensemble_impl.h). */
void es__dense_set_block_rows(int64_t rows);
void es__dense_mv3(int64_t rows, int64_t n, const double *z, const double *x, double *y,
                   int64_t ldy);

/* Rows per feedforward chunk as dense.c picks them (ES__DENSE_CHUNK_DOUBLES, at least
 * ES__DENSE_MIN_ROWS while they fit in ES__DENSE_L2_DOUBLES), for the floor and the product. */
static int64_t chunk_rows(int64_t n) {
  int64_t nb = 4096 / n;
  if (nb < 4 && 4 * n <= 32768) nb = 4;
  if (nb < 1) nb = 1;
  return nb > n ? n : nb;
}

/* CPU seconds of this thread. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best-of-3 GFLOP/s of a square n x n x n dgemm: the peak, for scale. */
static double dgemm_peak(int n) {
  double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n),
         *c = malloc(sizeof(double) * n * n);
  for (long i = 0; i < (long)n * n; i++) a[i] = b[i] = 1.0 / (1.0 + (double)(i % 7));
  double best = 1e30;
  for (int r = 0; r < 3; r++) {
    double t0 = now();
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
    double t = now() - t0;
    if (t < best) best = t;
  }
  free(a);
  free(b);
  free(c);
  return 2.0 * n * (double)n * n / best * 1e-9;
}

/* Seconds per network of the ensemble at width n, depth T: the best of reps passes over
 * nets networks. */
static double per_network(int64_t n, int64_t T, int recurrent, int nets, int reps) {
  int64_t depth[1] = {T};
  es_ensemble_params p = {
      es_activation_find("tanh"),        1.8, 0.05,      1.0, 0.0, 1.0, 0.5, n, 1, depth,
      es_rng_point_key(1, 1.8, 0.05, n), 1,   recurrent, 0,   NULL};
  es_ensemble *e = NULL;
  if (es_ensemble_create(&p, &e) != ES_OK) {
    fprintf(stderr, "bench_dense: %s\n", es_error_msg());
    exit(1);
  }
  double out[ES_NOBS_COUNT], best = 1e30;
  es_ensemble_network(e, nets, out); /* warm-up: the first touch of W's pages is slow */
  for (int rep = 0; rep < reps; rep++) {
    double t0 = now();
    for (int m = 0; m < nets; m++) es_ensemble_network(e, m, out);
    double t = (now() - t0) / nets;
    if (t < best) best = t;
  }
  es_ensemble_destroy(&e);
  return best;
}

static int nets_for(int64_t n) { return n <= 256 ? 40 : n <= 1024 ? 4 : 1; }

/* Seconds per feedforward layer: the difference of depths 12 and 2 over 10 layers, so that
 * layer 1 (O(N)) and the per-network set-up drop out. */
static double ff_layer(int64_t n, int reps) {
  return (per_network(n, 12, 0, nets_for(n), reps) - per_network(n, 2, 0, nets_for(n), reps)) /
         10.0;
}

/* Seconds to draw the N^2 normals of one layer's W (best of reps): into one N^2 array
 * (written to memory), and a chunk of rows at a time into one cache-resident buffer, as
 * dense.c draws them. The floor is the faster of the two. */
static void normals_time(int64_t n, int reps, double *w, double *tmem, double *tchunk) {
  size_t nn = (size_t)(n * n);
  es_rng r;
  for (int rep = 0; rep < reps; rep++) {
    es_rng_init(&r, es_rng_point_key(1, 1, 1, n), 0, 1, ES_RNG_TEST);
    double t0 = now();
    es_rng_normals(&r, w, nn);
    double t = now() - t0;
    if (t < *tmem) *tmem = t;
    es_rng_init(&r, es_rng_point_key(1, 1, 1, n), 0, 1, ES_RNG_TEST);
    size_t c = (size_t)(chunk_rows(n) * n);
    t0 = now();
    for (size_t i = 0; i < nn; i += c) es_rng_normals(&r, w, nn - i < c ? nn - i : c);
    t = now() - t0;
    if (t < *tchunk) *tchunk = t;
  }
}

static void chunks(int nw, const int64_t *widths) {
  static const int64_t sizes[] = {512, 1024, 2048, 4096, 8192, 16384, 32768, 131072};
  const int ns = (int)(sizeof sizes / sizeof sizes[0]);
  printf("feedforward layer ms against the chunk (doubles; whole rows, at least one)\n\n| N |");
  for (int s = 0; s < ns; s++) printf(" %lld |", (long long)sizes[s]);
  printf("\n|---|");
  for (int s = 0; s < ns; s++) printf("---|");
  printf("\n");
  for (int k = 0; k < nw; k++) {
    int64_t n = widths[k];
    printf("| %lld |", (long long)n);
    for (int s = 0; s < ns; s++) {
      es__dense_set_block_rows(sizes[s] / n < 1 ? 1 : sizes[s] / n);
      printf(" %.3f |", ff_layer(n, 3) * 1e3);
      fflush(stdout);
    }
    printf("\n");
  }
  es__dense_set_block_rows(0);
}

int main(int argc, char **argv) {
  static const int64_t defaults[3] = {256, 1024, 4096};
  int a0 = 1, chunk_mode = 0;
  if (argc > 1 && strcmp(argv[1], "--chunks") == 0) chunk_mode = 1, a0 = 2;
  int nw = argc > a0 ? argc - a0 : 3;
  int64_t widths[64];
  for (int k = 0; k < nw && k < 64; k++) widths[k] = argc > a0 ? atoll(argv[k + a0]) : defaults[k];
  if (nw > 64) nw = 64;
  openblas_set_num_threads(1); /* the engine's setting: one rank per core */
  if (chunk_mode) {
    chunks(nw, widths);
    return 0;
  }
  double peak = dgemm_peak(2048);
  printf("single-thread DGEMM peak (2048^3): %.1f GFLOP/s\n\n", peak);
  printf(
      "| N | normals ns/each: to memory, in chunks | product in cache: ms/layer, GFLOP/s | "
      "product, W from memory: ms, GFLOP/s | feedforward layer ms | %% of normal floor | "
      "recurrent: W drawn ms/net, then ms/layer | weights MB ff / rec |\n");
  printf("|---|---|---|---|---|---|---|---|\n");
  for (int k = 0; k < nw; k++) {
    int64_t n = widths[k];
    size_t nn = (size_t)(n * n);
    double *w = malloc(nn * sizeof(double)), *x = malloc(3 * n * sizeof(double)),
           *y = malloc(3 * n * sizeof(double));
    /* The floor and the layer in alternation, best of 5 rounds each: the load other jobs put
     * on the machine drifts, and it then drifts for both alike. */
    double tnm = 1e30, tnc = 1e30, tff = 1e30;
    normals_time(n, 1, w, &tnm, &tnc); /* page faults */
    tnm = tnc = 1e30;
    for (int round = 0; round < 5; round++) {
      normals_time(n, 1, w, &tnm, &tnc);
      double t = ff_layer(n, 1);
      if (t < tff) tff = t;
    }
    double tnorm = tnm < tnc ? tnm : tnc;
    /* The product by dense.c's kernel. In cache: one chunk of rows again and again (as a
     * feedforward chunk, used right after it is drawn). From memory: a whole stored W
     * (recurrent). */
    es_rng r;
    es_rng_init(&r, es_rng_point_key(1, 1, 1, n), 0, 1, ES_RNG_TEST);
    es_rng_normals(&r, w, nn);
    for (int64_t i = 0; i < 3 * n; i++) x[i] = 0.5 + 0.001 * (double)i;
    int64_t nb = chunk_rows(n);
    int reps = (int)(2e8 / (6.0 * (double)nn)) + 1;
    double tcache = 1e30, tmem = 1e30;
    for (int b = 0; b < 3; b++) {
      double t0 = now();
      for (int rep = 0; rep < reps; rep++)
        for (int64_t i0 = 0; i0 < n; i0 += nb)
          es__dense_mv3(n - i0 < nb ? n - i0 : nb, n, w, x, y + i0, n);
      double t = (now() - t0) / reps;
      if (t < tcache) tcache = t;
      t0 = now();
      for (int rep = 0; rep < reps; rep++) es__dense_mv3(n, n, w, x, y, n);
      t = (now() - t0) / reps;
      if (t < tmem) tmem = t;
    }
    free(w);
    free(x);
    free(y);
    /* Recurrent: a step after W is drawn, from the difference of depths 20 and 2. */
    double t2 = per_network(n, 2, 1, nets_for(n), 3);
    double trec = (per_network(n, 20, 1, nets_for(n), 3) - t2) / 18.0;
    double fl = 6.0 * (double)nn * 1e-9;
    printf(
        "| %lld | %.2f, %.2f | %.3f, %.1f | %.3f, %.1f | %.3f | %.0f%% | %.1f, %.2f | "
        "%.3f / %.1f |\n",
        (long long)n, tnm / (double)nn * 1e9, tnc / (double)nn * 1e9, tcache * 1e3, fl / tcache,
        tmem * 1e3, fl / tmem, tff * 1e3, 100.0 * tnorm / tff, (t2 - trec) * 1e3, trec * 1e3,
        (double)(nb * n) * 8e-6, (double)nn * 8e-6);
    fflush(stdout);
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf(
      "\nmax resident set of this process: %.1f MB (the largest recurrent W plus the "
      "benchmark's own copy of it)\n",
      (double)ru.ru_maxrss / 1024.0);
  return 0;
}
