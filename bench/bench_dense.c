/* The dense (explicit-weight) path (issue 6 item 1, issue 9 item 4): per layer, the time of
 * the products (6 N^2 flops: W times the N x 3 columns), of drawing N^2 normals, and of a
 * whole layer, against this machine's single-thread DGEMM peak; and the memory of one network.
 * Usage: OPENBLAS_NUM_THREADS=1 bench_dense [width ...]   (default 256 1024 4096)
 * Prints a Markdown table to stdout. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "edgesweep/ensemble.h"

/* Best-of-3 seconds of a square n x n x n dgemm: the peak the products are measured against. */
static double dgemm_peak(int n) {
  double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n),
         *c = malloc(sizeof(double) * n * n);
  for (long i = 0; i < (long)n * n; i++) a[i] = b[i] = 1.0 / (1.0 + (double)(i % 7));
  double best = 1e30;
  for (int r = 0; r < 3; r++) {
    double t0 = es_wtime();
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
    double t = es_wtime() - t0;
    if (t < best) best = t;
  }
  free(a);
  free(b);
  free(c);
  return 2.0 * n * (double)n * n / best * 1e-9;
}

/* Seconds per network of the ensemble at width n, depth T (T - 1 dense steps). */
static double per_network(int64_t n, int64_t T, int recurrent, int nets) {
  int64_t depth[2] = {1, T};
  es_ensemble_params p = {es_activation_find("tanh"), 1.8, 0.05, 1.0, 0.0, 1.0, 0.5, n, 2,
                          depth, es_rng_point_key(1, 1.8, 0.05, n), 1, recurrent};
  es_ensemble *e = NULL;
  if (es_ensemble_create(&p, &e) != ES_OK) {
    fprintf(stderr, "bench_dense: %s\n", es_error_msg());
    exit(1);
  }
  double out[2 * ES_NOBS_COUNT];
  es_ensemble_network(e, nets, out); /* warm-up: the first touch of W's pages is slow */
  double t0 = es_wtime();
  for (int m = 0; m < nets; m++) es_ensemble_network(e, m, out);
  double t = (es_wtime() - t0) / nets;
  es_ensemble_destroy(&e);
  return t;
}

int main(int argc, char **argv) {
  static const int64_t defaults[3] = {256, 1024, 4096};
  int nw = argc > 1 ? argc - 1 : 3;
  openblas_set_num_threads(1); /* the engine's setting: one rank per core */
  double peak = dgemm_peak(2048);
  printf("single-thread DGEMM peak (2048^3): %.1f GFLOP/s\n\n", peak);
  printf("| N | normals ns/each | product, block in cache: ms/layer, GFLOP/s, %% peak | "
         "product, W from memory: ms, GFLOP/s | feedforward layer ms | feedforward GFLOP/s | "
         "recurrent: W drawn ms/net, then ms/layer | weights MB ff / rec |\n");
  printf("|---|---|---|---|---|---|---|---|\n");
  for (int k = 0; k < nw; k++) {
    int64_t n = argc > 1 ? atoll(argv[k + 1]) : defaults[k];
    size_t nn = (size_t)(n * n);
    /* Normals: N^2 of them, the weight stream of one layer. */
    double *w = malloc(nn * sizeof(double)), *x = malloc(3 * n * sizeof(double)),
           *y = malloc(3 * n * sizeof(double));
    es_rng r;
    double tnorm = 1e30, t0;
    for (int rep = 0; rep < 2; rep++) { /* the first pass also pays the page faults */
      es_rng_init(&r, es_rng_point_key(1, 1, 1, n), 0, 1, ES_RNG_TEST);
      t0 = es_wtime();
      es_rng_normals(&r, w, nn);
      if (es_wtime() - t0 < tnorm) tnorm = es_wtime() - t0;
    }
    for (int64_t i = 0; i < 3 * n; i++) x[i] = 0.5 + 0.001 * (double)i;
    /* The product as dense.c does it: blocks of 32768 / N rows. In cache: the same block
     * again and again (feedforward: a block is used right after it is drawn). From memory:
     * the blocks of a stored W in turn (recurrent). */
    int64_t nb = 32768 / n < 1 ? 1 : (32768 / n > n ? n : 32768 / n);
    int reps = (int)(2e8 / (6.0 * (double)nn)) + 1;
    t0 = es_wtime();
    for (int rep = 0; rep < reps; rep++)
      for (int64_t i0 = 0; i0 < n; i0 += nb) {
        int64_t rows = n - i0 < nb ? n - i0 : nb;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, 3, (int)n, 1.0, w,
                    (int)n, x, 3, 0.0, y + 3 * i0, 3);
      }
    double tcache = (es_wtime() - t0) / reps;
    t0 = es_wtime();
    for (int rep = 0; rep < reps; rep++)
      for (int64_t i0 = 0; i0 < n; i0 += nb) {
        int64_t rows = n - i0 < nb ? n - i0 : nb;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, 3, (int)n, 1.0,
                    w + i0 * n, (int)n, x, 3, 0.0, y + 3 * i0, 3);
      }
    double tmem = (es_wtime() - t0) / reps;
    free(w);
    free(x);
    free(y);
    /* Whole networks: feedforward depth 10, recurrent depths 2 and 20. */
    int nets = n <= 256 ? 40 : n <= 1024 ? 4 : 1;
    double tff = per_network(n, 10, 0, nets) / 9.0;
    /* Recurrent: a step after W is drawn, from the difference of depths 20 and 2. */
    double t2 = per_network(n, 2, 1, nets), trec = (per_network(n, 20, 1, nets) - t2) / 18.0;
    double fl = 6.0 * (double)nn * 1e-9;
    printf("| %lld | %.1f | %.3f, %.1f, %.0f%% | %.3f, %.1f | %.2f | %.2f | %.1f, %.2f | %.2f / "
           "%.1f |\n",
           (long long)n, tnorm / (double)nn * 1e9, tcache * 1e3, fl / tcache,
           100.0 * fl / tcache / peak, tmem * 1e3, fl / tmem, tff * 1e3, fl / tff,
           (t2 - trec) * 1e3, trec * 1e3,
           (double)(nb * n) * 8e-6, (double)nn * 8e-6);
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("\nmax resident set of this process: %.1f MB (the largest recurrent W plus the "
         "benchmark's own copy of it)\n",
         (double)ru.ru_maxrss / 1024.0);
  return 0;
}
