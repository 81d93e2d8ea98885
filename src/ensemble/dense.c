/* The dense method: explicit random weights (doc/physics.md §2), the reference for gram and the
 * only method for shared (recurrent) weights.
 *
 * Layer 1 is es__layer1, bit for bit the gram method's. A step t -> t+1 multiplies the three
 * columns X = [phi(h_a), phi(h_a + d) - phi(h_a), phi'(h_a) u] by W^t with edgesweep's own
 * matrix-vector kernel (es__dense_mv3, below), so the two inputs and the tangent share every
 * pass over W. Streams (rng.h): W^t is (network, t, ES_RNG_WEIGHTS) drawn row-major, rows in
 * order; b^t is (network, t, ES_RNG_BIAS); the noise is (network, t, ES_RNG_NOISE), N normals
 * for xi_a then N for xi_b. Recurrent networks draw W and b once from layer 1's streams and
 * keep them. Feedforward W never exists whole: it is drawn and consumed a chunk of rows at a
 * time while the chunk is in L1/L2. The kernel's summation order depends only on N, so the
 * bits depend neither on the chunk, nor on the CPU's vector path, nor on threads (it has none).
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "ensemble_impl.h"
#include "kernel.h"
#include "simd.h"

/* ---- The product kernel: y_c[i] = sum_j z[i][j] x_c[j], c = 0, 1, 2 ----
 * Order of every sum, fixed by n alone (n8 = n rounded down to a multiple of 8):
 *   lane l = 0..7:  a_l = 0, then a_l = fma(z[j], x[j], a_l) for j = l, l + 8, ... < n8;
 *   tree:           r = ((a_0 + a_4) + (a_2 + a_6)) + ((a_1 + a_5) + (a_3 + a_7));
 *   remainder:      r = fma(z[j], x[j], r) for j = n8 .. n-1, in order.
 * AVX-512 holds the 8 lanes in one register, AVX2 in two (lanes 0-3, 4-7), the scalar paths
 * in an array; the tree is the halving of a 512-bit register: 8 -> 4 -> 2 -> 1. Rows are
 * independent, so doing several at once (to hide the FMA latency) changes no bit. */

static inline void es__mv3_rows_body(int64_t rows, int64_t n, const double *z, const double *x0,
                                     const double *x1, const double *x2, double *y0, double *y1,
                                     double *y2) {
  const int64_t n8 = n & ~(int64_t)7;
  for (int64_t i = 0; i < rows; i++, z += n) {
    double a0[8] = {0}, a1[8] = {0}, a2[8] = {0};
    for (int64_t j = 0; j < n8; j += 8)
      for (int l = 0; l < 8; l++) {
        a0[l] = fma(z[j + l], x0[j + l], a0[l]);
        a1[l] = fma(z[j + l], x1[j + l], a1[l]);
        a2[l] = fma(z[j + l], x2[j + l], a2[l]);
      }
    double r0 = ((a0[0] + a0[4]) + (a0[2] + a0[6])) + ((a0[1] + a0[5]) + (a0[3] + a0[7]));
    double r1 = ((a1[0] + a1[4]) + (a1[2] + a1[6])) + ((a1[1] + a1[5]) + (a1[3] + a1[7]));
    double r2 = ((a2[0] + a2[4]) + (a2[2] + a2[6])) + ((a2[1] + a2[5]) + (a2[3] + a2[7]));
    for (int64_t j = n8; j < n; j++) {
      r0 = fma(z[j], x0[j], r0);
      r1 = fma(z[j], x1[j], r1);
      r2 = fma(z[j], x2[j], r2);
    }
    y0[i] = r0;
    y1[i] = r1;
    y2[i] = r2;
  }
}

/* Portable: fma() from libm. */
static void es__mv3_scalar(int64_t rows, int64_t n, const double *z, const double *x0,
                           const double *x1, const double *x2, double *y0, double *y1, double *y2) {
  es__mv3_rows_body(rows, n, z, x0, x1, x2, y0, y1, y2);
}

#if ES__X86
/* The same with the FMA instruction instead of libm's fma(). */
__attribute__((target("fma"))) static void es__mv3_fma(int64_t rows, int64_t n, const double *z,
                                                       const double *x0, const double *x1,
                                                       const double *x2, double *y0, double *y1,
                                                       double *y2) {
  es__mv3_rows_body(rows, n, z, x0, x1, x2, y0, y1, y2);
}

/* Loads a row's vector once into a register: left alone, GCC folds it into its three FMAs
 * as memory operands, 3 loads instead of 1, and the loop becomes load-bound (measured: the
 * AVX-512 kernel 2.3x slower at N = 1024). An empty asm, so no effect on the arithmetic. */
#define ES__IN_REGISTER(v) __asm__("" : "+v"(v))

/* ---- AVX2: lanes 0-3 in lo, 4-7 in hi; two rows at a time (12 accumulators). ---- */
#define ES__AVX2 __attribute__((target("avx2,fma"), always_inline)) static inline

ES__AVX2 double es__tree_avx2(__m256d lo, __m256d hi) {
  __m256d s = _mm256_add_pd(lo, hi); /* a_k + a_(k+4) */
  __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
}

/* R rows (R = 1 or 2) from z, outputs at y_c[0 .. R). */
ES__AVX2 void es__mv3_block_avx2(int R, int64_t n, const double *z, const double *x0,
                                 const double *x1, const double *x2, double *y0, double *y1,
                                 double *y2) {
  const int64_t n8 = n & ~(int64_t)7;
  __m256d lo[2][3], hi[2][3];
  for (int r = 0; r < R; r++)
    for (int c = 0; c < 3; c++) lo[r][c] = hi[r][c] = _mm256_setzero_pd();
  for (int64_t j = 0; j < n8; j += 8)
    for (int h = 0; h < 2; h++) { /* lanes 0-3, then 4-7: 12 accumulators, 3 + 1 operands */
      const int64_t jh = j + 4 * h;
      const __m256d u0 = _mm256_loadu_pd(x0 + jh), u1 = _mm256_loadu_pd(x1 + jh),
                    u2 = _mm256_loadu_pd(x2 + jh);
      for (int r = 0; r < R; r++) {
        __m256d zr = _mm256_loadu_pd(z + r * n + jh);
        ES__IN_REGISTER(zr);
        __m256d *a = h ? hi[r] : lo[r];
        a[0] = _mm256_fmadd_pd(zr, u0, a[0]);
        a[1] = _mm256_fmadd_pd(zr, u1, a[1]);
        a[2] = _mm256_fmadd_pd(zr, u2, a[2]);
      }
    }
  for (int r = 0; r < R; r++) {
    const double *zr = z + r * n;
    double r0 = es__tree_avx2(lo[r][0], hi[r][0]), r1 = es__tree_avx2(lo[r][1], hi[r][1]),
           r2 = es__tree_avx2(lo[r][2], hi[r][2]);
    for (int64_t j = n8; j < n; j++) {
      r0 = fma(zr[j], x0[j], r0);
      r1 = fma(zr[j], x1[j], r1);
      r2 = fma(zr[j], x2[j], r2);
    }
    y0[r] = r0;
    y1[r] = r1;
    y2[r] = r2;
  }
}

__attribute__((target("avx2,fma"))) static void es__mv3_avx2(int64_t rows, int64_t n,
                                                             const double *z, const double *x0,
                                                             const double *x1, const double *x2,
                                                             double *y0, double *y1, double *y2) {
  int64_t i = 0;
  for (; i + 2 <= rows; i += 2)
    es__mv3_block_avx2(2, n, z + i * n, x0, x1, x2, y0 + i, y1 + i, y2 + i);
  if (i < rows) es__mv3_block_avx2(1, n, z + i * n, x0, x1, x2, y0 + i, y1 + i, y2 + i);
}

/* ---- AVX-512: the 8 lanes in one register; 8 rows at a time (24 accumulators, and each
 * load of x serves 8 rows), then 4, then one. ---- */
#define ES__AVX512 __attribute__((target("avx512f,avx2,fma"), always_inline)) static inline

ES__AVX512 double es__tree_avx512(__m512d a) {
  __m256d s = _mm256_add_pd(_mm512_castpd512_pd256(a), _mm512_extractf64x4_pd(a, 1));
  __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
}

ES__AVX512 void es__mv3_block_avx512(int R, int64_t n, const double *z, const double *x0,
                                     const double *x1, const double *x2, double *y0, double *y1,
                                     double *y2) {
  const int64_t n8 = n & ~(int64_t)7;
  __m512d a[8][3];
  for (int r = 0; r < R; r++)
    for (int c = 0; c < 3; c++) a[r][c] = _mm512_setzero_pd();
  for (int64_t j = 0; j < n8; j += 8) {
    const __m512d u0 = _mm512_loadu_pd(x0 + j), u1 = _mm512_loadu_pd(x1 + j),
                  u2 = _mm512_loadu_pd(x2 + j);
    for (int r = 0; r < R; r++) {
      __m512d zr = _mm512_loadu_pd(z + r * n + j);
      ES__IN_REGISTER(zr);
      a[r][0] = _mm512_fmadd_pd(zr, u0, a[r][0]);
      a[r][1] = _mm512_fmadd_pd(zr, u1, a[r][1]);
      a[r][2] = _mm512_fmadd_pd(zr, u2, a[r][2]);
    }
  }
  for (int r = 0; r < R; r++) {
    const double *zr = z + r * n;
    double r0 = es__tree_avx512(a[r][0]), r1 = es__tree_avx512(a[r][1]),
           r2 = es__tree_avx512(a[r][2]);
    for (int64_t j = n8; j < n; j++) {
      r0 = fma(zr[j], x0[j], r0);
      r1 = fma(zr[j], x1[j], r1);
      r2 = fma(zr[j], x2[j], r2);
    }
    y0[r] = r0;
    y1[r] = r1;
    y2[r] = r2;
  }
}

__attribute__((target("avx512f,avx2,fma"))) static void es__mv3_avx512(
    int64_t rows, int64_t n, const double *z, const double *x0, const double *x1, const double *x2,
    double *y0, double *y1, double *y2) {
  int64_t i = 0;
  for (; i + 8 <= rows; i += 8)
    es__mv3_block_avx512(8, n, z + i * n, x0, x1, x2, y0 + i, y1 + i, y2 + i);
  for (; i + 4 <= rows; i += 4)
    es__mv3_block_avx512(4, n, z + i * n, x0, x1, x2, y0 + i, y1 + i, y2 + i);
  for (; i < rows; i++) es__mv3_block_avx512(1, n, z + i * n, x0, x1, x2, y0 + i, y1 + i, y2 + i);
}
#endif

/* The path in use (simd.h resolves AUTO on first use). */
static es__simd es__dense_path = ES__SIMD_AUTO;

int es__dense_set_simd(es__simd path) { return es__simd_force(&es__dense_path, path); }

es__simd es__dense_simd(void) { return es__simd_resolve(&es__dense_path); }

void es__dense_mv3(int64_t rows, int64_t n, const double *z, const double *x, double *y,
                   int64_t ldy) {
  const double *x0 = x, *x1 = x + n, *x2 = x + 2 * n;
  double *y0 = y, *y1 = y + ldy, *y2 = y + 2 * ldy;
  switch (es__dense_simd()) {
#if ES__X86
    case ES__SIMD_AVX512: es__mv3_avx512(rows, n, z, x0, x1, x2, y0, y1, y2); return;
    case ES__SIMD_AVX2: es__mv3_avx2(rows, n, z, x0, x1, x2, y0, y1, y2); return;
    case ES__SIMD_SCALAR_FMA: es__mv3_fma(rows, n, z, x0, x1, x2, y0, y1, y2); return;
#endif
    default: es__mv3_scalar(rows, n, z, x0, x1, x2, y0, y1, y2);
  }
}

/* ---- The method ---- */

/* Doubles per feedforward chunk of W (whole rows): drawn by the RNG and read by the kernel
 * while it is in L1 (32 KiB). At least 4 rows, the kernel's row block (each load of x then
 * serves 4 rows), as long as those stay in L2 (256 KiB). Measured in bench/README.md "Dense
 * path". */
enum { ES__DENSE_CHUNK_DOUBLES = 4096, ES__DENSE_MIN_ROWS = 4, ES__DENSE_L2_DOUBLES = 32768 };

/* Rows per chunk; 0 picks them from ES__DENSE_CHUNK_DOUBLES. A knob for the determinism test
 * and the benchmark, never for results: the bits do not depend on it. */
static int64_t es__dense_block_rows = 0;

void es__dense_set_block_rows(int64_t rows) { es__dense_block_rows = rows > 0 ? rows : 0; }

/* Workspace manifest (n = width, nb = rows per weight chunk):
 *   ha, d, u     n each    state: h_a, h_b - h_a, tangent (|u|^2/N = 1 after each layer)
 *   x            3n        the columns of X, one after the other: phi(h_a),
 *                          phi(h_b) - phi(h_a), phi'(h_a) u
 *   y            3n        the columns of Z X, Z the unscaled standard-normal weights
 *   z            3n        layer-1 normals; in a step the bias (n) and the noise (2n)
 *   w            nb * n    feedforward: one chunk of rows of Z;
 *                n * n     recurrent: all of Z, kept for the whole network (64-byte aligned)
 *   bias         n         recurrent only: the shared b / sigma_b */
struct es__dense {
  const es_ensemble_params *p;
  int64_t nb;
  double *ha, *d, *u, *x, *y, *z, *w, *bias;
  es__ring *ring; /* the past layers, when lags are asked for */
};

es_status es__dense_create(const es_ensemble_params *p, es__dense **out) {
  *out = NULL;
  const size_t n = (size_t)p->width;
  int64_t nb = es__dense_block_rows;
  if (nb == 0) nb = ES__DENSE_CHUNK_DOUBLES / p->width;
  if (nb < ES__DENSE_MIN_ROWS && ES__DENSE_MIN_ROWS * p->width <= ES__DENSE_L2_DOUBLES)
    nb = ES__DENSE_MIN_ROWS;
  if (nb < 1) nb = 1;
  if (nb > p->width) nb = p->width;
  const size_t wrows = p->recurrent ? n : (size_t)nb; /* recurrent keeps all of W */
  ES_CHECK(wrows <= SIZE_MAX / sizeof(double) / n - 8, ES_ERR_NOMEM,
           "dense: a %lld x %lld weight matrix does not fit in memory", (long long)p->width,
           (long long)p->width);
  const size_t wbytes = (wrows * n * sizeof(double) + 63) & ~(size_t)63; /* aligned_alloc */
  es__dense *x = calloc(1, sizeof *x);
  double *mem = calloc(12 * n, sizeof(double));
  double *w = aligned_alloc(64, wbytes);
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
  x->z = mem + 9 * n;
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
  es_status st = es__ring_create(p, &x->ring);
  if (st != ES_OK) {
    es__dense_destroy(&x);
    return st;
  }
  *out = x;
  return ES_OK;
}

void es__dense_destroy(es__dense **d) {
  if (!d || !*d) return;
  free((*d)->ha);
  free((*d)->w);
  free((*d)->bias);
  es__ring_destroy(&(*d)->ring);
  free(*d);
  *d = NULL;
}

/* y = Z x for the three columns x, Z the (unscaled) weights of stream (network, layer).
 * Feedforward: each chunk of rows of Z is drawn into w and multiplied at once, while hot.
 * Recurrent: w holds all of Z, read from memory in one pass. */
static void es__dense_product(es__dense *e, int64_t network, int64_t layer) {
  const es_ensemble_params *p = e->p;
  const int64_t n = p->width;
  if (p->recurrent) {
    es__dense_mv3(n, n, e->w, e->x, e->y, n);
    return;
  }
  es_rng r;
  es_rng_init(&r, p->key, (uint64_t)network, (uint64_t)layer, ES_RNG_WEIGHTS);
  for (int64_t i0 = 0; i0 < n; i0 += e->nb) {
    int64_t rows = n - i0 < e->nb ? n - i0 : e->nb;
    es_rng_normals(&r, e->w, (size_t)(rows * n));
    es__dense_mv3(rows, n, e->w, e->x, e->y + i0, n);
  }
}

es_status es__dense_network(es__dense *e, int64_t network, double *out) {
  const es_ensemble_params *p = e->p;
  const size_t n = (size_t)p->width;
  const double keep = 1.0 - p->leak, sw = sqrt(p->sigma_w2 / (double)n), sb = sqrt(p->sigma_b2);
  const double sg = sqrt(p->noise);
  const int64_t tmax = p->depth[p->ndepth - 1];
  const int64_t rec = es_nobs_len(p->nlags);
  for (int64_t k = 0; k < p->ndepth * rec; k++) out[k] = NAN;

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
  double *x0 = e->x, *x1 = e->x + n, *x2 = e->x + 2 * n;
  const double *y0 = e->y, *y1 = e->y + n, *y2 = e->y + 2 * n;
  int64_t k = 0;
  for (int64_t t = 1;; t++) {
    es__ring_push(e->ring, t, e->ha, e->d);
    if (t == p->depth[k]) {
      double *o = out + k * rec;
      es__measure(e->ha, e->d, n, logjac, logjac1, t, o);
      ES_CALL(es__check_measure(o, network, t, logjac));
      ES_CALL(es__ring_measure(e->ring, t, e->ha, network, o));
      if (++k == p->ndepth) break;
    }
    if (t == tmax) break;
    /* The columns of X, built in place: x1 = phi(h_b) - phi(h_a), x2 = phi'(h_a) u. */
    for (size_t i = 0; i < n; i++) x1[i] = e->ha[i] + e->d[i];
    p->act->eval(n, x1, x1, NULL);
    p->act->eval(n, e->ha, x0, x2);
    for (size_t i = 0; i < n; i++) {
      x1[i] -= x0[i];
      x2[i] *= e->u[i];
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
      e->ha[i] = keep * e->ha[i] + sw * y0[i] + sb * bias[i] + na;
      e->d[i] = keep * e->d[i] + sw * y1[i] + nd;
      e->u[i] = keep * e->u[i] + sw * y2[i];
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
