#include "edgesweep/ensemble.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ensemble_impl.h"
#include "kernel.h"
#include "rng_impl.h"

/* The gram path makes one fused pass over the neurons per layer (es__pass): it draws the
 * layer's normals, updates (h_a, d, u), accumulates the observables of the new state and, in
 * the same sweep, evaluates phi, phi' and the Gram sums for the next layer, a block of
 * ES__CHUNK neurons at a time so that the scratch stays in L2; nothing is allocated per
 * network or layer. Normal k of neuron i is variate k * ES__SUB + i of the layer's ROWS stream
 * (three cursors, each consumed in order: the bits depend neither on ES__CHUNK nor on the
 * code path).
 *
 * Workspace manifest: 3 arrays of N doubles and 6 of ES__CHUNK.
 *   ha, d, u      state: h_a, h_b - h_a, tangent (not renormalised in place: the pending
 *                 factor goes into the Gram sums and the next step, see es__pass_body)
 *   z             3 ES__CHUNK normals of a block
 *   fa, dfa, fb   phi(h_a), phi'(h_a), and h_b then phi(h_b), of a block */
/* A multiple of 16 (one RNG group) and of 4 (the sum lanes). 1024 rather than 256 (scratch in
 * L1): the kernels' set-up per call then weighs less; W-ref 3% faster on Zen 4. */
enum { ES__CHUNK = 1024 };
#define ES__SUB (1ULL << 40)

struct es_ensemble {
  es_ensemble_params p;
  double *ha, *d, *u, *z, *fa, *dfa, *fb;
  es__dense *dense; /* the explicit-weight method, when chosen */
  es__ring *ring;   /* the gram method's past layers, when lags are asked for */
};

struct es__ring {
  const es_ensemble_params *p;
  int64_t slots; /* max(lag) + 1: layer t sits in slot t % slots */
  size_t n;
  double *buf;          /* slots x (h_a, d), 2n each */
  unsigned char *needs; /* needs[s] = 1 when a recorded depth t = s + L reads layer s */
};

es_status es__ring_create(const es_ensemble_params *p, es__ring **out) {
  *out = NULL;
  if (p->nlags <= 0) return ES_OK;
  const size_t n = (size_t)p->width;
  const int64_t slots = p->lags[p->nlags - 1] + 1;
  ES_CHECK((uint64_t)slots <= SIZE_MAX / sizeof(double) / 2 / n, ES_ERR_NOMEM,
           "ensemble: %lld past layers of width %lld do not fit in memory", (long long)slots,
           (long long)p->width);
  const int64_t tmax = p->depth[p->ndepth - 1];
  es__ring *r = calloc(1, sizeof *r);
  double *b = malloc((size_t)slots * 2 * n * sizeof(double));
  unsigned char *needs = calloc((size_t)tmax + 1, 1);
  if (!r || !b || !needs) {
    free(r);
    free(b);
    free(needs);
    es_error_set("ensemble: out of memory for %lld past layers of width %lld", (long long)slots,
                 (long long)p->width);
    return ES_ERR_NOMEM;
  }
  /* A layer no recorded depth reads is not copied: a layer read at t = s + L is never
   * overwritten before (the layers between map to other slots, L < slots). */
  for (int64_t k = 0; k < p->ndepth; k++)
    for (int64_t l = 0; l < p->nlags; l++)
      if (p->depth[k] - p->lags[l] >= 1) needs[p->depth[k] - p->lags[l]] = 1;
  *r = (es__ring){p, slots, n, b, needs};
  *out = r;
  return ES_OK;
}

void es__ring_destroy(es__ring **r) {
  if (!r || !*r) return;
  free((*r)->buf);
  free((*r)->needs);
  free(*r);
  *r = NULL;
}

void es__ring_push(es__ring *r, int64_t t, const double *ha, const double *d) {
  if (!r || !r->needs[t]) return;
  double *s = r->buf + (size_t)(t % r->slots) * 2 * r->n;
  memcpy(s, ha, r->n * sizeof *s);
  memcpy(s + r->n, d, r->n * sizeof *s);
}

es_status es__ring_measure(const es__ring *r, int64_t t, const double *ha, int64_t network,
                           double *o) {
  if (!r) return ES_OK;
  const size_t n = r->n;
  for (int64_t l = 0; l < r->p->nlags; l++) {
    const int64_t s = t - r->p->lags[l];
    double *x = o + ES_NOBS_COUNT + ES_NOBS_LAG * l;
    if (s < 1) {
      x[0] = x[1] = NAN; /* before layer 1: undefined */
      continue;
    }
    const double *pa = r->buf + (size_t)(s % r->slots) * 2 * n, *pd = pa + n;
    /* Four lanes, then a fixed tree: the order depends on n alone. */
    double aa[4] = {0}, ab[4] = {0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
      for (int L = 0; L < 4; L++) {
        aa[L] += ha[i + L] * pa[i + L];
        ab[L] += ha[i + L] * (pa[i + L] + pd[i + L]);
      }
    double ta = 0, tb = 0;
    for (; i < n; i++) {
      ta += ha[i] * pa[i];
      tb += ha[i] * (pa[i] + pd[i]);
    }
    x[0] = (((aa[0] + aa[2]) + (aa[1] + aa[3])) + ta) / (double)n;
    x[1] = (((ab[0] + ab[2]) + (ab[1] + ab[3])) + tb) / (double)n;
    if (!isfinite(x[0]) || !isfinite(x[1])) {
      x[0] = x[1] = NAN;
      es_error_set("network %lld: non-finite two-time overlap at depth %lld (lag %lld)",
                   (long long)network, (long long)t, (long long)r->p->lags[l]);
      return ES_ERR_NUMERIC;
    }
  }
  return ES_OK;
}

es_status es_ensemble_create(const es_ensemble_params *p, es_ensemble **e) {
  *e = NULL;
  ES_CHECK(p->act && p->width >= 1 && p->ndepth >= 1 && p->depth, ES_ERR_INTERNAL,
           "ensemble: bad parameters");
  ES_CHECK(p->dense || !p->recurrent, ES_ERR_INTERNAL,
           "gram sampling cannot simulate shared (recurrent) weights");
  /* Three cursors 2^40 variates apart in one stream (ES__SUB). */
  ES_CHECK(p->width < (int64_t)ES__SUB, ES_ERR_INTERNAL, "ensemble: width %lld exceeds 2^40",
           (long long)p->width);
  es_ensemble *x = calloc(1, sizeof *x);
  size_t n = (size_t)p->width;
  double *mem = calloc(3 * n + 6 * ES__CHUNK, sizeof(double));
  if (!x || !mem) {
    free(x);
    free(mem);
    es_error_set("ensemble: out of memory for width %lld", (long long)p->width);
    return ES_ERR_NOMEM;
  }
  x->p = *p;
  x->ha = mem;
  x->d = mem + n;
  x->u = mem + 2 * n;
  x->z = mem + 3 * n;
  x->fa = x->z + 3 * ES__CHUNK;
  x->dfa = x->fa + ES__CHUNK;
  x->fb = x->dfa + ES__CHUNK;
  es_status st = p->dense ? es__dense_create(&x->p, &x->dense) : es__ring_create(&x->p, &x->ring);
  if (st != ES_OK) {
    es_ensemble_destroy(&x);
    return st;
  }
  *e = x;
  return ES_OK;
}

void es_ensemble_destroy(es_ensemble **e) {
  if (!e || !*e) return;
  es__dense_destroy(&(*e)->dense);
  es__ring_destroy(&(*e)->ring);
  free((*e)->ha);
  free(*e);
  *e = NULL;
}

/* Lower-triangular L with L L^T = S for a symmetric positive semi-definite 3x3 S (row-major
 * s[6] = S11 S21 S22 S31 S32 S33). Zero pivots give zero columns: the sample then lies in
 * the subspace S allows, which is the exact law of a degenerate Gaussian. */
void es__chol3(const double s[6], double l[6]) {
  double l11 = s[0] > 0 ? sqrt(s[0]) : 0.0;
  double l21 = l11 > 0 ? s[1] / l11 : 0.0;
  double l31 = l11 > 0 ? s[3] / l11 : 0.0;
  double r22 = s[2] - l21 * l21;
  double l22 = r22 > 1e-300 ? sqrt(r22) : 0.0;
  double l32 = l22 > 0 ? (s[4] - l31 * l21) / l22 : 0.0;
  double r33 = s[5] - l31 * l31 - l32 * l32;
  double l33 = r33 > 1e-300 ? sqrt(r33) : 0.0;
  l[0] = l11;
  l[1] = l21;
  l[2] = l22;
  l[3] = l31;
  l[4] = l32;
  l[5] = l33;
}

/* ---- Sums: four lanes (lane i mod 4), added as (l0 + l1) + (l2 + l3) at the end. One order
 * for both methods and every code path, and one the compiler can vectorise. A lane never
 * holds -0, so the tail's lone element per lane can be added last, as t[L] = 0 + x. ---- */

enum { ES__AA, ES__AB, ES__BB, ES__DD, ES__A4, ES__UU, ES__NST };      /* state sums */
enum { ES__G11, ES__G21, ES__G22, ES__G31, ES__G32, ES__G33, ES__NG }; /* Gram sums */

static double es__total(const double l[4]) { return (l[0] + l[1]) + (l[2] + l[3]); }

/* The state sums of one neuron into lane L. */
ES__INLINE void es__acc_state(double s[ES__NST][4], int L, double a, double dd, double uu) {
  double b = a + dd;
  s[ES__AA][L] += a * a;
  s[ES__AB][L] += a * b;
  s[ES__BB][L] += b * b;
  s[ES__DD][L] += dd * dd;
  s[ES__A4][L] += a * a * a * a;
  s[ES__UU][L] += uu * uu;
}

ES__INLINE void es__acc_gram(double g[ES__NG][4], int L, double fa, double fb, double dfa,
                             double u) {
  double df = fb - fa, v = dfa * u;
  g[ES__G11][L] += fa * fa;
  g[ES__G21][L] += df * fa;
  g[ES__G22][L] += df * df;
  g[ES__G31][L] += v * fa;
  g[ES__G32][L] += v * df;
  g[ES__G33][L] += v * v;
}

/* State sums of (h_a, d, u) over n neurons, in the lane order of es__pass. */
static void es__state_sums(const double *ha, const double *dv, const double *u, size_t n,
                           double tot[ES__NST]) {
  double s[ES__NST][4] = {{0}}, t[ES__NST][4] = {{0}};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
#pragma GCC unroll 4
    for (int L = 0; L < 4; L++) es__acc_state(s, L, ha[i + L], dv[i + L], u ? u[i + L] : 0.0);
  }
  for (int L = 0; i + (size_t)L < n; L++)
    es__acc_state(t, L, ha[i + L], dv[i + L], u ? u[i + L] : 0.0);
  for (int k = 0; k < ES__NST; k++) {
    double l[4];
    for (int L = 0; L < 4; L++) l[L] = s[k][L] + t[k][L];
    tot[k] = es__total(l);
  }
}

/* Observables from the state sums. */
static void es__measure_sums(const double tot[ES__NST], size_t n, double logjac, double logjac1,
                             int64_t t, double *o) {
  double qa = tot[ES__AA] / (double)n, qb = tot[ES__BB] / (double)n;
  double qab = tot[ES__AB] / (double)n, dd = tot[ES__DD] / (double)n;
  /* 1 - c = (|h_a - h_b|^2/N - (sqrt qa - sqrt qb)^2) / (2 sqrt(qa qb)): no cancellation
   * as c -> 1 (doc/physics.md §9). */
  double ra = sqrt(qa), rb = sqrt(qb);
  double omc = (dd - (ra - rb) * (ra - rb)) / (2.0 * ra * rb);
  o[ES_NOBS_QA] = qa;
  o[ES_NOBS_QB] = qb;
  o[ES_NOBS_QAB] = qab;
  o[ES_NOBS_C] = 1.0 - omc;
  o[ES_NOBS_LOGJAC] = logjac;
  o[ES_NOBS_LOGQ] = log(qa);
  o[ES_NOBS_H4] = tot[ES__A4] / (double)n;
  o[ES_NOBS_LYAP] = t > 1 ? (logjac - logjac1) / (2.0 * (double)(t - 1)) : NAN;
}

/* Measure the state (h_a, d = h_b - h_a) at depth t into o[ES_NOBS_COUNT]. */
void es__measure(const double *ha, const double *dv, size_t n, double logjac, double logjac1,
                 int64_t t, double *o) {
  double tot[ES__NST];
  es__state_sums(ha, dv, NULL, n, tot);
  es__measure_sums(tot, n, logjac, logjac1, t, o);
}

/* ln r for r = |u|^2/N, and the factor that renormalises u (1 when it cannot). */
static double es__renorm_log(double r, double *f) {
  *f = 1.0;
  if (r == 0) return -INFINITY; /* the tangent vanished exactly */
  if (!isfinite(r)) return r > 0 ? INFINITY : NAN;
  *f = 1.0 / sqrt(r);
  return log(r);
}

/* Renormalise u to |u|^2/N = 1 and return ln of the old |u|^2/N. */
double es__renorm(double *u, size_t n) {
  double s[4] = {0}, t[4] = {0}, l[4], f;
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int L = 0; L < 4; L++) s[L] += u[i + L] * u[i + L];
  for (int L = 0; i + (size_t)L < n; L++) t[L] += u[i + L] * u[i + L];
  for (int L = 0; L < 4; L++) l[L] = s[L] + t[L];
  double lj = es__renorm_log(es__total(l) / (double)n, &f);
  if (f != 1.0)
    for (i = 0; i < n; i++) u[i] *= f;
  return lj;
}

/* The covariance of layer 1's rows (h_a, d, u) given q0, c0 (no leak, no noise: doc/physics.md §2).
 */
static void es__layer1_chol(const es_ensemble_params *p, double l[6]) {
  const double sw2 = p->sigma_w2, sb2 = p->sigma_b2;
  double s[6] = {sw2 * p->q0 + sb2,
                 -sw2 * p->q0 * (1.0 - p->c0),
                 2.0 * sw2 * p->q0 * (1.0 - p->c0),
                 0.0,
                 0.0,
                 sw2};
  es__chol3(s, l);
}

/* The three ROWS streams of (network, layer): normal k of neuron i is variate k ES__SUB + i. */
static void es__rows_streams(const es_ensemble_params *p, int64_t network, int64_t layer,
                             es_rng r[3]) {
  for (int k = 0; k < 3; k++) {
    es_rng_init(&r[k], p->key, (uint64_t)network, (uint64_t)layer, ES_RNG_ROWS);
    es_rng_seek(&r[k], (uint64_t)k * ES__SUB);
  }
}

void es__layer1(const es_ensemble_params *p, int64_t network, double *ha, double *d, double *u,
                double *z) {
  const size_t n = (size_t)p->width;
  double l[6];
  es__layer1_chol(p, l);
  es_rng r[3];
  es__rows_streams(p, network, 1, r);
  for (int k = 0; k < 3; k++) es_rng_normals(&r[k], z + (size_t)k * n, n);
  /* The same expressions as es__pass's first layer: the same bits. */
  for (size_t i = 0; i < n; i++) {
    ha[i] = l[0] * z[i];
    d[i] = l[1] * z[i] + l[2] * z[n + i];
    u[i] = l[3] * z[i] + l[4] * z[n + i] + l[5] * z[2 * n + i];
  }
}

es_status es__check_measure(double *o, int64_t network, int64_t t, double logjac) {
  for (int j = 0; j < ES_NOBS_COUNT; j++)
    if (!isfinite(o[j]) && !(j == ES_NOBS_LYAP && t == 1)) {
      for (int i = 0; i < ES_NOBS_COUNT; i++) o[i] = NAN;
      es_error_set("network %lld: non-finite value at depth %lld (%s)", (long long)network,
                   (long long)t,
                   !isfinite(logjac) ? "the Jacobian overflowed" : "pre-activations overflowed");
      return ES_ERR_NUMERIC;
    }
  return ES_OK;
}

/* ---- The fused pass ---- */

/* One neuron's step: rows y = L z, then h' = keep h + y (layer 1: h' = y). */
ES__INLINE void es__update1(const double l[6], double keep, double ku, int first, double z1,
                            double z2, double z3, double *ha, double *d, double *u, double *hb,
                            double s[ES__NST][4], int L) {
  double ya = l[0] * z1;
  double yd = l[1] * z1 + l[2] * z2;
  double yu = l[3] * z1 + l[4] * z2 + l[5] * z3;
  double a = first ? ya : keep * *ha + ya;
  double dd = first ? yd : keep * *d + yd;
  double uu = first ? yu : ku * *u + yu;
  *ha = a;
  *d = dd;
  *u = uu;
  *hb = a + dd;
  es__acc_state(s, L, a, dd, uu);
}

/* Blocks of m4 (a multiple of 4) neurons: the update with its state sums, and the Gram sums.
 * Portable C, and AVX2 with the same operations in the same order (no FMA: the same bits). */
static void es__upd_c(const double l[6], double keep, double ku, int first, const double *z1,
                      const double *z2, const double *z3, double *ha, double *d, double *u,
                      double *hb, size_t m4, double s[ES__NST][4]) {
  for (size_t j = 0; j < m4; j += 4)
    for (int L = 0; L < 4; L++)
      es__update1(l, keep, ku, first, z1[j + L], z2[j + L], z3[j + L], ha + j + L, d + j + L,
                  u + j + L, hb + j + L, s, L);
}

static void es__gram_c(const double *fa, const double *fb, const double *dfa, const double *u,
                       size_t m4, double g[ES__NG][4]) {
  for (size_t j = 0; j < m4; j += 4)
    for (int L = 0; L < 4; L++) es__acc_gram(g, L, fa[j + L], fb[j + L], dfa[j + L], u[j + L]);
}

#if ES__X86
#define ES__VEC 1
#define ES__AVX2 __attribute__((target("avx2")))
ES__AVX2 static void es__upd_avx2(const double l[6], double keep, double ku, int first,
                                  const double *z1, const double *z2, const double *z3, double *ha,
                                  double *d, double *u, double *hb, size_t m4,
                                  double s[ES__NST][4]) {
  const __m256d l0 = _mm256_set1_pd(l[0]), l1 = _mm256_set1_pd(l[1]), l2 = _mm256_set1_pd(l[2]);
  const __m256d l3 = _mm256_set1_pd(l[3]), l4 = _mm256_set1_pd(l[4]), l5 = _mm256_set1_pd(l[5]);
  const __m256d kh = _mm256_set1_pd(keep), kuv = _mm256_set1_pd(ku);
  __m256d saa = _mm256_loadu_pd(s[ES__AA]), sab = _mm256_loadu_pd(s[ES__AB]);
  __m256d sbb = _mm256_loadu_pd(s[ES__BB]), sdd = _mm256_loadu_pd(s[ES__DD]);
  __m256d sa4 = _mm256_loadu_pd(s[ES__A4]), suu = _mm256_loadu_pd(s[ES__UU]);
  for (size_t j = 0; j < m4; j += 4) {
    __m256d x1 = _mm256_loadu_pd(z1 + j), x2 = _mm256_loadu_pd(z2 + j);
    __m256d x3 = _mm256_loadu_pd(z3 + j);
    __m256d a = _mm256_mul_pd(l0, x1);
    __m256d dd = _mm256_add_pd(_mm256_mul_pd(l1, x1), _mm256_mul_pd(l2, x2));
    __m256d uu = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(l3, x1), _mm256_mul_pd(l4, x2)),
                               _mm256_mul_pd(l5, x3));
    if (!first) {
      a = _mm256_add_pd(_mm256_mul_pd(kh, _mm256_loadu_pd(ha + j)), a);
      dd = _mm256_add_pd(_mm256_mul_pd(kh, _mm256_loadu_pd(d + j)), dd);
      uu = _mm256_add_pd(_mm256_mul_pd(kuv, _mm256_loadu_pd(u + j)), uu);
    }
    __m256d b = _mm256_add_pd(a, dd), a2 = _mm256_mul_pd(a, a);
    _mm256_storeu_pd(ha + j, a);
    _mm256_storeu_pd(d + j, dd);
    _mm256_storeu_pd(u + j, uu);
    _mm256_storeu_pd(hb + j, b);
    saa = _mm256_add_pd(saa, a2);
    sab = _mm256_add_pd(sab, _mm256_mul_pd(a, b));
    sbb = _mm256_add_pd(sbb, _mm256_mul_pd(b, b));
    sdd = _mm256_add_pd(sdd, _mm256_mul_pd(dd, dd));
    sa4 = _mm256_add_pd(sa4, _mm256_mul_pd(_mm256_mul_pd(a2, a), a));
    suu = _mm256_add_pd(suu, _mm256_mul_pd(uu, uu));
  }
  _mm256_storeu_pd(s[ES__AA], saa);
  _mm256_storeu_pd(s[ES__AB], sab);
  _mm256_storeu_pd(s[ES__BB], sbb);
  _mm256_storeu_pd(s[ES__DD], sdd);
  _mm256_storeu_pd(s[ES__A4], sa4);
  _mm256_storeu_pd(s[ES__UU], suu);
}

ES__AVX2 static void es__gram_avx2(const double *fa, const double *fb, const double *dfa,
                                   const double *u, size_t m4, double g[ES__NG][4]) {
  __m256d g11 = _mm256_loadu_pd(g[ES__G11]), g21 = _mm256_loadu_pd(g[ES__G21]);
  __m256d g22 = _mm256_loadu_pd(g[ES__G22]), g31 = _mm256_loadu_pd(g[ES__G31]);
  __m256d g32 = _mm256_loadu_pd(g[ES__G32]), g33 = _mm256_loadu_pd(g[ES__G33]);
  for (size_t j = 0; j < m4; j += 4) {
    __m256d a = _mm256_loadu_pd(fa + j);
    __m256d df = _mm256_sub_pd(_mm256_loadu_pd(fb + j), a);
    __m256d v = _mm256_mul_pd(_mm256_loadu_pd(dfa + j), _mm256_loadu_pd(u + j));
    g11 = _mm256_add_pd(g11, _mm256_mul_pd(a, a));
    g21 = _mm256_add_pd(g21, _mm256_mul_pd(df, a));
    g22 = _mm256_add_pd(g22, _mm256_mul_pd(df, df));
    g31 = _mm256_add_pd(g31, _mm256_mul_pd(v, a));
    g32 = _mm256_add_pd(g32, _mm256_mul_pd(v, df));
    g33 = _mm256_add_pd(g33, _mm256_mul_pd(v, v));
  }
  _mm256_storeu_pd(g[ES__G11], g11);
  _mm256_storeu_pd(g[ES__G21], g21);
  _mm256_storeu_pd(g[ES__G22], g22);
  _mm256_storeu_pd(g[ES__G31], g31);
  _mm256_storeu_pd(g[ES__G32], g32);
  _mm256_storeu_pd(g[ES__G33], g33);
}
#else
#define ES__VEC 0
#endif

/* Layer `layer` from the previous one (or from nothing when first): draw, update, sum the new
 * state into st and, when gram, evaluate phi and the Gram sums of the new state into g. u is
 * kept as the previous u times ku / keep (the pending renormalisation). */
static void es__pass(es_ensemble *e, const double l[6], double keep, double ku, int first, int gram,
                     int64_t network, int64_t layer, double st[ES__NST], double g[ES__NG]) {
  const size_t n = (size_t)e->p.width;
  const es_activation *act = e->p.act;
  double *z1 = e->z, *z2 = e->z + ES__CHUNK, *z3 = e->z + 2 * ES__CHUNK;
  double *fa = e->fa, *dfa = e->dfa, *fb = e->fb;
  /* Zeroed by loops, not initialisers: GCC clears these as rep stos, ~30 cycles each on AMD,
   * which cost 6% of a width-16 network's layer. */
  double s[ES__NST][4], ts[ES__NST][4], gs[ES__NG][4], tg[ES__NG][4];
  for (int k = 0; k < ES__NST; k++)
    for (int L = 0; L < 4; L++) s[k][L] = ts[k][L] = 0;
  for (int k = 0; k < ES__NG; k++)
    for (int L = 0; L < 4; L++) gs[k][L] = tg[k][L] = 0;
#if ES__VEC
  const int vec = es__rng_simd() >= ES__SIMD_AVX2; /* AVX-512 machines have AVX2 */
#endif
  es_rng r[3];
  es__rows_streams(&e->p, network, layer, r);
  for (size_t i0 = 0; i0 < n; i0 += ES__CHUNK) {
    const size_t m = n - i0 < ES__CHUNK ? n - i0 : ES__CHUNK, m4 = m & ~(size_t)3;
    double *ha = e->ha + i0, *d = e->d + i0, *u = e->u + i0;
    es_rng_normals(&r[0], z1, m);
    es_rng_normals(&r[1], z2, m);
    es_rng_normals(&r[2], z3, m);
#if ES__VEC
    if (vec)
      es__upd_avx2(l, keep, ku, first, z1, z2, z3, ha, d, u, fb, m4, s);
    else
#endif
      es__upd_c(l, keep, ku, first, z1, z2, z3, ha, d, u, fb, m4, s);
    for (size_t j = m4; j < m; j++) /* the last block's tail: once per pass */
      es__update1(l, keep, ku, first, z1[j], z2[j], z3[j], ha + j, d + j, u + j, fb + j, ts,
                  (int)(j - m4));
    if (!gram) continue;
    act->eval(m, ha, fa, dfa);
    act->eval(m, fb, fb, NULL);
#if ES__VEC
    if (vec)
      es__gram_avx2(fa, fb, dfa, u, m4, gs);
    else
#endif
      es__gram_c(fa, fb, dfa, u, m4, gs);
    for (size_t j = m4; j < m; j++) es__acc_gram(tg, (int)(j - m4), fa[j], fb[j], dfa[j], u[j]);
  }
  for (int k = 0; k < ES__NST; k++) {
    double t[4];
    for (int L = 0; L < 4; L++) t[L] = s[k][L] + ts[k][L];
    st[k] = es__total(t);
  }
  for (int k = 0; k < ES__NG; k++) {
    double t[4];
    for (int L = 0; L < 4; L++) t[L] = gs[k][L] + tg[k][L];
    g[k] = es__total(t);
  }
}

es_status es_ensemble_network(es_ensemble *e, int64_t network, double *out) {
  if (e->dense) return es__dense_network(e->dense, network, out);
  const es_ensemble_params *p = &e->p;
  const size_t n = (size_t)p->width;
  const double sw2 = p->sigma_w2, sb2 = p->sigma_b2, g = p->noise, keep = 1.0 - p->leak;
  const int64_t tmax = p->depth[p->ndepth - 1];
  const int64_t rec = es_nobs_len(p->nlags);
  for (int64_t k = 0; k < p->ndepth * rec; k++) out[k] = NAN;

  /* Layer 1: h = W^0 x + b^0 with |x|^2/N0 = q0, cosine c0, and u^1 = W^0 u^0 with u^0
   * orthogonal to both inputs, |u^0|^2/N0 = 1. No noise and no leak enter layer 1 (doc/physics.md
   * §2). Each pass also leaves the Gram sums of the layer it made (gs), unless it is the last. */
  double l[6], st[ES__NST], gs[ES__NG], fu;
  es__layer1_chol(p, l);
  es__pass(e, l, 0.0, 0.0, 1, tmax > 1, network, 1, st, gs);
  double logjac = es__renorm_log(st[ES__UU] / (double)n, &fu), logjac1 = logjac;
  int64_t k = 0;
  for (int64_t t = 1;; t++) {
    es__ring_push(e->ring, t, e->ha, e->d);
    if (t == p->depth[k]) {
      double *o = out + k * rec;
      es__measure_sums(st, n, logjac, logjac1, t, o);
      ES_CALL(es__check_measure(o, network, t, logjac));
      ES_CALL(es__ring_measure(e->ring, t, e->ha, network, o));
      if (++k == p->ndepth) break;
    }
    if (t == tmax) break;
    /* Layer t -> t+1: the Gram matrix of the columns (u renormalised: the factor fu is still
     * pending), then one sampled step. */
    double g11 = gs[ES__G11], g21 = gs[ES__G21], g22 = gs[ES__G22];
    double g31 = gs[ES__G31] * fu, g32 = gs[ES__G32] * fu, g33 = gs[ES__G33] * fu * fu;
    /* An overflow between recorded depths must not pass for a dead network later (relu's
     * phi' of a NaN is 0): the Gram sums see it first. */
    if (!isfinite(g11) || !isfinite(g22) || !isfinite(g33)) {
      es_error_set(
          "network %lld: non-finite value after depth %lld (pre-activations "
          "overflowed)",
          (long long)network, (long long)t);
      return ES_ERR_NUMERIC;
    }
    const double w = sw2 / (double)n;
    /* Noise: xi_a on h_a and xi_b - xi_a on d, independent of the weights. */
    double sl[6] = {w * g11 + sb2 + g, w * g21 - g, w * g22 + 2.0 * g, w * g31, w * g32, w * g33};
    es__chol3(sl, l);
    es__pass(e, l, keep, keep * fu, 0, t + 1 < tmax, network, t + 1, st, gs);
    logjac += es__renorm_log(st[ES__UU] / (double)n, &fu);
    /* An exactly vanished tangent (no active ReLU unit) is a dead network, not a numerical
     * failure: it leaves the statistics from here on (doc/physics.md §9), its deeper depths stay
     * NaN and the point's network count drops there. So is one whose input a or b died alone
     * (relu with sigma_b2 = 0): its q is exactly 0 and c is undefined from here on. */
    if (logjac == -INFINITY || st[ES__AA] == 0 || st[ES__BB] == 0) return ES_OK;
  }
  return ES_OK;
}
