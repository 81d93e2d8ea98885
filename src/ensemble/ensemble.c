#include "edgesweep/ensemble.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ensemble_impl.h"

/* Workspace manifest: six arrays of N doubles and one of 3N.
 *   ha, d, u      state: h_a, h_b - h_a, tangent (|u|^2/N = 1 after each layer)
 *   fa, df, v     phi(h_a), phi(h_b) - phi(h_a), phi'(h_a) u
 *   z             3N standard normals of the layer */
struct es_ensemble {
  es_ensemble_params p;
  double *ha, *d, *u, *fa, *df, *v, *fb, *z;
  es__dense *dense; /* the explicit-weight method, when chosen */
};

es_status es_ensemble_create(const es_ensemble_params *p, es_ensemble **e) {
  *e = NULL;
  ES_CHECK(p->act && p->width >= 1 && p->ndepth >= 1 && p->depth, ES_ERR_INTERNAL,
           "ensemble: bad parameters");
  es_ensemble *x = calloc(1, sizeof *x);
  size_t n = (size_t)p->width;
  double *mem = calloc(10 * n, sizeof(double));
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
  x->fa = mem + 3 * n;
  x->df = mem + 4 * n;
  x->v = mem + 5 * n;
  x->fb = mem + 6 * n;
  x->z = mem + 7 * n;
  if (p->dense) {
    es_status st = es__dense_create(&x->p, &x->dense);
    if (st != ES_OK) {
      es_ensemble_destroy(&x);
      return st;
    }
  }
  ES_CHECK(p->dense || !p->recurrent, ES_ERR_INTERNAL,
           "gram sampling cannot simulate shared (recurrent) weights");
  *e = x;
  return ES_OK;
}

void es_ensemble_destroy(es_ensemble **e) {
  if (!e || !*e) return;
  es__dense_destroy(&(*e)->dense);
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

/* Draw the rows (y_a, y_d, y_u) ~ N(0, S) and apply h' = (1-gamma) h + y. */
static void es__step(es_ensemble *e, const double s[6], int64_t network, int64_t layer) {
  const size_t n = (size_t)e->p.width;
  const double keep = 1.0 - e->p.leak;
  double l[6];
  es__chol3(s, l);
  es_rng r;
  es_rng_init(&r, e->p.key, (uint64_t)network, (uint64_t)layer, ES_RNG_ROWS);
  es_rng_normals(&r, e->z, 3 * n);
  const double *z1 = e->z, *z2 = e->z + n, *z3 = e->z + 2 * n;
  for (size_t i = 0; i < n; i++) {
    double ya = l[0] * z1[i];
    double yd = l[1] * z1[i] + l[2] * z2[i];
    double yu = l[3] * z1[i] + l[4] * z2[i] + l[5] * z3[i];
    e->ha[i] = keep * e->ha[i] + ya;
    e->d[i] = keep * e->d[i] + yd;
    e->u[i] = keep * e->u[i] + yu;
  }
}

/* Measure the state (h_a, d = h_b - h_a) at depth t into o[ES_NOBS_COUNT]. */
void es__measure(const double *ha, const double *dv, size_t n, double logjac, double logjac1,
                 int64_t t, double *o) {
  double saa = 0, sab = 0, sbb = 0, sdd = 0, s4 = 0;
  for (size_t i = 0; i < n; i++) {
    double a = ha[i], b = a + dv[i];
    saa += a * a;
    sab += a * b;
    sbb += b * b;
    sdd += dv[i] * dv[i];
    s4 += a * a * a * a;
  }
  double qa = saa / (double)n, qb = sbb / (double)n, qab = sab / (double)n;
  double dd = sdd / (double)n;
  /* 1 - c = (|h_a - h_b|^2/N - (sqrt qa - sqrt qb)^2) / (2 sqrt(qa qb)): no cancellation
   * as c -> 1 (physics.md §9). */
  double ra = sqrt(qa), rb = sqrt(qb);
  double omc = (dd - (ra - rb) * (ra - rb)) / (2.0 * ra * rb);
  o[ES_NOBS_QA] = qa;
  o[ES_NOBS_QB] = qb;
  o[ES_NOBS_QAB] = qab;
  o[ES_NOBS_C] = 1.0 - omc;
  o[ES_NOBS_LOGJAC] = logjac;
  o[ES_NOBS_LOGQ] = log(qa);
  o[ES_NOBS_H4] = s4 / (double)n;
  o[ES_NOBS_LYAP] = t > 1 ? (logjac - logjac1) / (2.0 * (double)(t - 1)) : NAN;
}

/* Renormalise u to |u|^2/N = 1 and return ln of the old |u|^2/N. */
double es__renorm(double *u, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += u[i] * u[i];
  double r = s / (double)n;
  if (r == 0) return -INFINITY; /* the tangent vanished exactly */
  if (!isfinite(r)) return r > 0 ? INFINITY : NAN;
  double f = 1.0 / sqrt(r);
  for (size_t i = 0; i < n; i++) u[i] *= f;
  return log(r);
}

void es__layer1(const es_ensemble_params *p, int64_t network, double *ha, double *d, double *u,
                double *z) {
  const size_t n = (size_t)p->width;
  const double sw2 = p->sigma_w2, sb2 = p->sigma_b2;
  double s[6] = {sw2 * p->q0 + sb2, -sw2 * p->q0 * (1.0 - p->c0),
                 2.0 * sw2 * p->q0 * (1.0 - p->c0), 0.0, 0.0, sw2};
  double l[6];
  es__chol3(s, l);
  es_rng r;
  es_rng_init(&r, p->key, (uint64_t)network, 1, ES_RNG_ROWS);
  es_rng_normals(&r, z, 3 * n);
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

es_status es_ensemble_network(es_ensemble *e, int64_t network, double *out) {
  if (e->dense) return es__dense_network(e->dense, network, out);
  const es_ensemble_params *p = &e->p;
  const size_t n = (size_t)p->width;
  const double sw2 = p->sigma_w2, sb2 = p->sigma_b2, g = p->noise;
  const int64_t tmax = p->depth[p->ndepth - 1];
  for (int64_t k = 0; k < p->ndepth * ES_NOBS_COUNT; k++) out[k] = NAN;

  /* Layer 1: h = W^0 x + b^0 with |x|^2/N0 = q0, cosine c0, and u^1 = W^0 u^0 with u^0
   * orthogonal to both inputs, |u^0|^2/N0 = 1. No noise and no leak enter layer 1 (SPEC §1). */
  es__layer1(p, network, e->ha, e->d, e->u, e->z);
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
    /* Layer t -> t+1: the Gram matrix of the columns, then one sampled step. */
    p->act->eval(n, e->ha, e->fa, e->v);
    for (size_t i = 0; i < n; i++) e->fb[i] = e->ha[i] + e->d[i];
    p->act->eval(n, e->fb, e->fb, NULL);
    double g11 = 0, g21 = 0, g22 = 0, g31 = 0, g32 = 0, g33 = 0;
    for (size_t i = 0; i < n; i++) {
      double fa = e->fa[i], df = e->fb[i] - fa, v = e->v[i] * e->u[i];
      g11 += fa * fa;
      g21 += df * fa;
      g22 += df * df;
      g31 += v * fa;
      g32 += v * df;
      g33 += v * v;
    }
    /* An overflow between recorded depths must not pass for a dead network later (relu's
     * phi' of a NaN is 0): the Gram sums see it first. */
    if (!isfinite(g11) || !isfinite(g22) || !isfinite(g33)) {
      es_error_set("network %lld: non-finite value after depth %lld (pre-activations "
                   "overflowed)", (long long)network, (long long)t);
      return ES_ERR_NUMERIC;
    }
    const double w = sw2 / (double)n;
    /* Noise: xi_a on h_a and xi_b - xi_a on d, independent of the weights. */
    double sl[6] = {w * g11 + sb2 + g, w * g21 - g, w * g22 + 2.0 * g, w * g31, w * g32,
                    w * g33};
    es__step(e, sl, network, t + 1);
    logjac += es__renorm(e->u, n);
    /* An exactly vanished tangent (no active ReLU unit) is a dead network, not a numerical
     * failure: it leaves the statistics from here on (physics.md §9), its deeper depths stay
     * NaN and the point's network count drops there. */
    if (logjac == -INFINITY) return ES_OK;
  }
  return ES_OK;
}
