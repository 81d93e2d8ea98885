/* The dense method: explicit random weights (SPEC §1), the reference for gram and the only
 * method for shared (recurrent) weights.
 *
 * Layer 1 is es__layer1, bit for bit the gram method's. A step t -> t+1 multiplies the N x 3
 * matrix X = [phi(h_a), phi(h_a + d) - phi(h_a), phi'(h_a) u] by W^t with one cblas_dgemm per
 * row block, so the two inputs and the tangent share every pass over W. Streams (rng.h):
 * W^t is (network, t, ES_RNG_WEIGHTS) drawn row-major, rows in order; b^t is
 * (network, t, ES_RNG_BIAS); the noise is (network, t, ES_RNG_NOISE), N normals for xi_a then
 * N for xi_b. Recurrent networks draw W and b once from layer 1's streams and keep them.
 * Feedforward W never exists whole: it is drawn and consumed a block of rows at a time, and
 * since the stream is read in the same order whatever the block, the bits do not depend on it.
 */
#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "ensemble_impl.h"

/* Doubles per block of W: 256 KiB stays in L2 while dgemm reads it, and a block times
 * 3 columns stays under OpenBLAS's threading threshold (m n k <= 262144). */
enum { ES__DENSE_BLOCK_DOUBLES = 32768 };

/* Rows per block of W; 0 picks them from ES__DENSE_BLOCK_DOUBLES. A knob for the
 * determinism test and the benchmark, never for results: the bits do not depend on it. */
static int64_t es__dense_block_rows = 0;

void es__dense_set_block_rows(int64_t rows) { es__dense_block_rows = rows > 0 ? rows : 0; }

/* Workspace manifest (n = width, nb = rows per weight block):
 *   ha, d, u     n each    state: h_a, h_b - h_a, tangent (|u|^2/N = 1 after each layer)
 *   x            3n        row-major n x 3: phi(h_a), phi(h_b) - phi(h_a), phi'(h_a) u
 *   y            3n        row-major n x 3: Z x, Z the unscaled standard-normal weights
 *   f            n         phi'(h_a)
 *   z            3n        layer-1 normals; in a step phi(h_a) until x is built, then the
 *                          bias (n) and the noise (2n)
 *   w            nb * n    feedforward: one block of rows of Z;
 *                n * n     recurrent: all of Z, kept for the whole network
 *   bias         n         recurrent only: the shared b / sigma_b */
struct es__dense {
  const es_ensemble_params *p;
  int64_t nb;
  double *ha, *d, *u, *x, *y, *f, *z, *w, *bias;
};

es_status es__dense_create(const es_ensemble_params *p, es__dense **out) {
  *out = NULL;
  const size_t n = (size_t)p->width;
  int64_t nb = es__dense_block_rows;
  if (nb == 0) nb = ES__DENSE_BLOCK_DOUBLES / p->width;
  if (nb < 1) nb = 1;
  if (nb > p->width) nb = p->width;
  ES_CHECK(p->width <= INT_MAX, ES_ERR_INPUT, "dense: width %lld exceeds the BLAS int range",
           (long long)p->width);
  const size_t wrows = p->recurrent ? n : (size_t)nb; /* recurrent keeps all of W */
  ES_CHECK(wrows <= SIZE_MAX / sizeof(double) / n - 1, ES_ERR_NOMEM,
           "dense: a %lld x %lld weight matrix does not fit in memory", (long long)p->width,
           (long long)p->width);
  es__dense *x = calloc(1, sizeof *x);
  double *mem = calloc(13 * n, sizeof(double));
  double *w = malloc(wrows * n * sizeof(double));
  if (!x || !mem || !w) {
    free(x);
    free(mem);
    free(w);
    es_error_set("dense: out of memory for width %lld (%.3g GB of weights)", (long long)p->width,
                 (double)wrows * (double)n * 8e-9);
    return ES_ERR_NOMEM;
  }
  x->p = p;
  x->nb = nb;
  x->ha = mem;
  x->d = mem + n;
  x->u = mem + 2 * n;
  x->x = mem + 3 * n;
  x->y = mem + 6 * n;
  x->f = mem + 9 * n;
  x->z = mem + 10 * n;
  x->w = w;
  if (p->recurrent) {
    double *b = malloc(n * sizeof(double));
    if (!b) {
      free(x);
      free(mem);
      free(w);
      es_error_set("dense: out of memory for width %lld", (long long)p->width);
      return ES_ERR_NOMEM;
    }
    x->bias = b;
  }
  *out = x;
  return ES_OK;
}

void es__dense_destroy(es__dense **d) {
  if (!d || !*d) return;
  free((*d)->ha);
  free((*d)->w);
  free((*d)->bias);
  free(*d);
  *d = NULL;
}

/* y = Z x for the n x 3 matrix x, Z the (unscaled) weights of stream (network, layer), one
 * dgemm per block of rows. Feedforward: each block of Z is drawn into w and used at once.
 * Recurrent: w holds all of Z, and is still multiplied by blocks: OpenBLAS runs a small
 * dgemm on one thread, while a threaded one rounds differently (measured with OpenBLAS
 * 0.3.21: the bits changed with OPENBLAS_NUM_THREADS). */
static void es__dense_product(es__dense *e, int64_t network, int64_t layer) {
  const es_ensemble_params *p = e->p;
  const int64_t n = p->width;
  es_rng r;
  if (!p->recurrent)
    es_rng_init(&r, p->key, (uint64_t)network, (uint64_t)layer, ES_RNG_WEIGHTS);
  for (int64_t i0 = 0; i0 < n; i0 += e->nb) {
    int64_t rows = n - i0 < e->nb ? n - i0 : e->nb;
    const double *w = e->w + (p->recurrent ? i0 * n : 0);
    if (!p->recurrent) es_rng_normals(&r, e->w, (size_t)(rows * n));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, 3, (int)n, 1.0, w, (int)n,
                e->x, 3, 0.0, e->y + 3 * i0, 3);
  }
}

es_status es__dense_network(es__dense *e, int64_t network, double *out) {
  const es_ensemble_params *p = e->p;
  const size_t n = (size_t)p->width;
  const double keep = 1.0 - p->leak, sw = sqrt(p->sigma_w2 / (double)n), sb = sqrt(p->sigma_b2);
  const double sg = sqrt(p->noise);
  const int64_t tmax = p->depth[p->ndepth - 1];
  for (int64_t k = 0; k < p->ndepth * ES_NOBS_COUNT; k++) out[k] = NAN;

  es__layer1(p, network, e->ha, e->d, e->u, e->z);
  if (p->recurrent && tmax > 1) {
    /* The shared W and b: drawn once, from the streams a feedforward W^1, b^1 would use. */
    es_rng r;
    es_rng_init(&r, p->key, (uint64_t)network, 1, ES_RNG_WEIGHTS);
    es_rng_normals(&r, e->w, n * n);
    es_rng_init(&r, p->key, (uint64_t)network, 1, ES_RNG_BIAS);
    es_rng_normals(&r, e->bias, n);
  }
  double logjac = es__renorm(e->u, n), logjac1 = logjac;
  int64_t k = 0;
  for (int64_t t = 1;; t++) {
    if (t == p->depth[k]) {
      double *o = out + k * ES_NOBS_COUNT;
      es__measure(e->ha, e->d, n, logjac, logjac1, t, o);
      ES_CALL(es__check_measure(o, network, t, logjac));
      if (++k == p->ndepth) break;
    }
    if (t == tmax) break;
    /* The columns of X, interleaved row-major so one dgemm serves all three. */
    double *fb = e->y; /* phi(h_b): y is free until the product */
    for (size_t i = 0; i < n; i++) fb[i] = e->ha[i] + e->d[i];
    p->act->eval(n, fb, fb, NULL);
    p->act->eval(n, e->ha, e->z, e->f);
    for (size_t i = 0; i < n; i++) {
      e->x[3 * i] = e->z[i];
      e->x[3 * i + 1] = fb[i] - e->z[i];
      e->x[3 * i + 2] = e->f[i] * e->u[i];
    }
    es__dense_product(e, network, t);
    /* Bias (shared by both inputs, absent from d and u) and the per-input noise. */
    const double *bias = e->bias;
    double *xa = e->z + n, *xb = e->z + 2 * n;
    if (!p->recurrent) {
      es_rng r;
      es_rng_init(&r, p->key, (uint64_t)network, (uint64_t)t, ES_RNG_BIAS);
      es_rng_normals(&r, e->z, n);
      bias = e->z;
    }
    if (sg > 0) {
      es_rng r;
      es_rng_init(&r, p->key, (uint64_t)network, (uint64_t)t, ES_RNG_NOISE);
      es_rng_normals(&r, xa, 2 * n);
    }
    double s = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
      double na = sg > 0 ? sg * xa[i] : 0.0, nd = sg > 0 ? sg * (xb[i] - xa[i]) : 0.0;
      e->ha[i] = keep * e->ha[i] + sw * e->y[3 * i] + sb * bias[i] + na;
      e->d[i] = keep * e->d[i] + sw * e->y[3 * i + 1] + nd;
      e->u[i] = keep * e->u[i] + sw * e->y[3 * i + 2];
      double hb = e->ha[i] + e->d[i];
      s += e->ha[i] * e->ha[i] + e->d[i] * e->d[i];
      saa += e->ha[i] * e->ha[i];
      sbb += hb * hb;
    }
    /* Overflow is caught at once: carried on, NaN pre-activations give phi' = 0 for relu,
     * and the network would pass for dead instead of being flagged. */
    ES_CHECK(isfinite(s), ES_ERR_NUMERIC, "network %lld: non-finite value at depth %lld (%s)",
             (long long)network, (long long)(t + 1), "pre-activations overflowed");
    logjac += es__renorm(e->u, n);
    /* A vanished tangent or input is a dead network (see es_ensemble_network): NaN from
     * here on. */
    if (logjac == -INFINITY || saa == 0 || sbb == 0) return ES_OK;
  }
  return ES_OK;
}
