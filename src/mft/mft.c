/* mft: mean-field maps, fixed points, susceptibilities, depth scales, critical line, and the
 * general model's two-time DMFT (doc/physics.md §3). Gaussian expectations use the closed
 * forms where they exist (linear, relu, erf, sin: §3.3), the fast trapezoid/lattice rules
 * for tanh, gelu, silu (quad.c), and composite Gauss-Legendre quadrature (§3.4)
 * as the reference and for activations without a fast rule. */
#include "edgesweep/mft.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quad.h"

/* ---------- Gaussian expectations: closed forms, else quad.c's rules ---------- */

typedef struct {
  const es_activation *act;
  int which; /* 0: phi^2, 1: phi'^2 */
} es__sq_ctx;

static double es__sq(double x, void *c) {
  const es__sq_ctx *s = c;
  double v = s->which ? s->act->dphi(x) : s->act->phi(x);
  return v * v;
}

double es_mft_e_phi2(const es_activation *act, double q) {
  if (q <= 0) return act->phi(0) * act->phi(0);
  switch (act->id) {
    case ES_ACT_LINEAR: return q;
    case ES_ACT_RELU: return 0.5 * q;
    case ES_ACT_ERF: return 2.0 / ES_PI * asin(2 * q / (1 + 2 * q));
    case ES_ACT_SIN: return -0.5 * expm1(-2 * q); /* no cancellation at small q */
    default: {
      double e[3];
      if (es__e1_fast(act, q, e)) return e[0];
      es__sq_ctx c = {act, 0};
      return es_mft_expect(es__sq, &c, q);
    }
  }
}

/* lim_{q -> 0+} E_q[phi'^2]: the mean of the one-sided slopes squared, (phi'(0+)^2 +
 * phi'(0-)^2)/2 (relu: 1/2, where phi'(0)^2 = 0), phi'(0)^2 for a smooth phi. */
static double es__dphi2_zero(const es_activation *act) {
  const double tiny = 1e-300, up = act->dphi(tiny), dn = act->dphi(-tiny);
  return 0.5 * (up * up + dn * dn);
}

double es_mft_e_dphi2(const es_activation *act, double q) {
  if (q <= 0) return es__dphi2_zero(act);
  switch (act->id) {
    case ES_ACT_LINEAR: return 1;
    case ES_ACT_RELU: return 0.5;
    case ES_ACT_ERF: return 4.0 / ES_PI / sqrt(1 + 4 * q);
    case ES_ACT_SIN: return 0.5 * (1 + exp(-2 * q));
    default: {
      double e[3];
      if (es__e1_fast(act, q, e)) return e[1];
      es__sq_ctx c = {act, 1};
      return es_mft_expect(es__sq, &c, q);
    }
  }
}

double es_mft_e1_quad(const es_activation *act, int deriv, double q, es_mft_rule rule) {
  if (rule == ES_MFT_RULE_FAST) {
    double e[3];
    return es__e1_fast(act, q, e) ? e[deriv ? 1 : 0] : NAN;
  }
  es__sq_ctx c = {act, deriv ? 1 : 0};
  return es_mft_expect(es__sq, &c, q);
}

double es_mft_e2_quad(const es_activation *act, int deriv, double qa, double qb, double qab,
                      es_mft_rule rule) {
  if (rule == ES_MFT_RULE_FAST) {
    double e;
    return es__e2_fast(act, deriv, qa, qb, qab, &e) ? e : NAN;
  }
  return es__e2_ref(deriv ? act->dphi : act->phi, qa, qb, qab);
}

static double es__clampc(double qa, double qb, double qab) {
  double c = qab / sqrt(qa * qb);
  return c > 1 ? 1 : (c < -1 ? -1 : c);
}

double es_mft_e_phiphi(const es_activation *act, double qa, double qb, double qab) {
  if (qa <= 0 || qb <= 0) return act->phi(0) * act->phi(0);
  double c = es__clampc(qa, qb, qab);
  switch (act->id) {
    case ES_ACT_LINEAR: return qab;
    case ES_ACT_RELU: {
      double th = acos(c);
      return sqrt(qa * qb) * (sin(th) + (ES_PI - th) * cos(th)) / (2 * ES_PI);
    }
    case ES_ACT_ERF: return 2.0 / ES_PI * asin(2 * qab / sqrt((1 + 2 * qa) * (1 + 2 * qb)));
    case ES_ACT_SIN: return exp(-0.5 * (qa + qb)) * sinh(qab);
    default: {
      double e;
      return es__e2_fast(act, 0, qa, qb, qab, &e) ? e : es__e2_ref(act->phi, qa, qb, qab);
    }
  }
}

double es_mft_e_dphidphi(const es_activation *act, double qa, double qb, double qab) {
  if (qa <= 0 || qb <= 0) return es__dphi2_zero(act); /* the c -> 1 limit */
  double c = es__clampc(qa, qb, qab);
  switch (act->id) {
    case ES_ACT_LINEAR: return 1;
    case ES_ACT_RELU: return (ES_PI - acos(c)) / (2 * ES_PI);
    case ES_ACT_ERF: {
      double d = (1 + 2 * qa) * (1 + 2 * qb) - 4 * qab * qab;
      return 4.0 / ES_PI / sqrt(d > 0 ? d : 0);
    }
    case ES_ACT_SIN: return exp(-0.5 * (qa + qb)) * cosh(qab);
    default: {
      double e;
      return es__e2_fast(act, 1, qa, qb, qab, &e) ? e : es__e2_ref(act->dphi, qa, qb, qab);
    }
  }
}

/* ---------- maps ---------- */

const char *es_phase_name(es_phase p) {
  switch (p) {
    case ES_PHASE_ORDERED: return "ordered";
    case ES_PHASE_CHAOTIC: return "chaotic";
    case ES_PHASE_CRITICAL: return "critical";
    default: return "no finite fixed point";
  }
}

static double es__keep2(const es_mft_params *p) { return (1 - p->leak) * (1 - p->leak); }

/* The q-map F(q) (doc/physics.md §3.1, with leak and noise). */
double es_mft_qmap(const es_mft_params *p, double q) {
  return es__keep2(p) * q + p->sigma_w2 * es_mft_e_phi2(p->act, q) + p->sigma_b2 + p->noise;
}

double es_mft_chi1(const es_mft_params *p, double q) {
  return es__keep2(p) + p->sigma_w2 * es_mft_e_dphi2(p->act, q);
}

/* E[g(u_a) g(u_b)] at equal variances q and correlation c (the c* root and chi_c). */
static double es__e2_fixed(const es_activation *act, int deriv, double q, double c) {
  return deriv ? es_mft_e_dphidphi(act, q, q, c * q) : es_mft_e_phiphi(act, q, q, c * q);
}

/* The c-map at the fixed point q (noise does not correlate the inputs). */
static double es__cmap(const es_mft_params *p, double q, double c) {
  return (es__keep2(p) * c * q + p->sigma_w2 * es__e2_fixed(p->act, 0, q, c) + p->sigma_b2) / q;
}

/* chi_q = F'(q) by the Stein form E[phi^2 (z^2-1)]/(2q) (no phi'', valid for kinks). */
typedef struct {
  const es_activation *act;
  double q;
} es__stein_ctx;

static double es__stein(double x, void *c) {
  const es__stein_ctx *s = c;
  double f = s->act->phi(x);
  return f * f * (x * x / s->q - 1);
}

static double es__chiq(const es_mft_params *p, double q) {
  double d;
  if (q <= 0) /* dE_q[phi^2]/dq at 0+ = lim E_q[phi'^2] when phi(0) = 0 (every activation) */
    d = es__dphi2_zero(p->act);
  else if (p->act->id == ES_ACT_LINEAR)
    d = 1;
  else if (p->act->id == ES_ACT_RELU)
    d = 0.5;
  else {
    double e[3];
    if (es__e1_fast(p->act, q, e)) {
      d = e[2] / (2 * q);
    } else {
      es__stein_ctx c = {p->act, q};
      d = es_mft_expect(es__stein, &c, q) / (2 * q);
    }
  }
  return es__keep2(p) + p->sigma_w2 * d;
}

/* Brent's method for a root of f in [a, b] with f(a) f(b) <= 0. */
static double es__brent(double (*f)(double, const void *), const void *ctx, double a, double b,
                        double fa, double fb, double tol) {
  double c = a, fc = fa, d = b - a, e = d;
  for (int it = 0; it < 200; it++) {
    if ((fb > 0) == (fc > 0)) {
      c = a;
      fc = fa;
      d = e = b - a;
    }
    if (fabs(fc) < fabs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    double t = 2 * 2.2e-16 * fabs(b) + 0.5 * tol, m = 0.5 * (c - b);
    if (fabs(m) <= t || fb == 0) return b;
    if (fabs(e) >= t && fabs(fa) > fabs(fb)) {
      double s = fb / fa, pp, qq;
      if (a == c) {
        pp = 2 * m * s;
        qq = 1 - s;
      } else {
        double r = fb / fc;
        qq = fa / fc;
        pp = s * (2 * m * qq * (qq - r) - (b - a) * (r - 1));
        qq = (qq - 1) * (r - 1) * (s - 1);
      }
      if (pp > 0)
        qq = -qq;
      else
        pp = -pp;
      if (2 * pp < fmin(3 * m * qq - fabs(t * qq), fabs(e * qq))) {
        e = d;
        d = pp / qq;
      } else {
        d = m;
        e = m;
      }
    } else {
      d = m;
      e = m;
    }
    a = b;
    fa = fb;
    b += fabs(d) > t ? d : (m > 0 ? t : -t);
    fb = f(b, ctx);
  }
  return b;
}

static double es__qres(double q, const void *ctx) { return es_mft_qmap(ctx, q) - q; }

/* The stable fixed point reached from q0 (0 and +inf allowed: *q = INFINITY). */
static void es__qstar(const es_mft_params *p, double *qs) {
  const es_activation *a = p->act;
  /* Odd phi with phi(0) = 0, no bias, no noise: 0 is a fixed point; stable iff chi_1(0) <= 1. */
  int zero_fp = a->odd && a->phi(0) == 0 && p->sigma_b2 == 0 && p->noise == 0;
  double chi0 = es__keep2(p) + p->sigma_w2 * es__dphi2_zero(a);
  if (zero_fp && chi0 <= 1 && a->id != ES_ACT_RELU) {
    *qs = 0;
    return;
  }
  /* Linear maps (linear, relu): closed form. */
  if (a->id == ES_ACT_LINEAR || a->id == ES_ACT_RELU) {
    double slope = es__keep2(p) + p->sigma_w2 * (a->id == ES_ACT_RELU ? 0.5 : 1.0);
    double b = p->sigma_b2 + p->noise;
    if (slope < 1)
      *qs = b / (1 - slope);
    else if (slope == 1 && b == 0)
      *qs = p->sigma_w2 * p->q0 + p->sigma_b2; /* marginal: every q is fixed */
    else
      *qs = INFINITY;
    return;
  }
  /* Iterate from layer 1 to find the basin and direction, then bracket and polish. */
  double q = p->sigma_w2 * p->q0 + p->sigma_b2;
  for (int it = 0; it < 12; it++) {
    double n = es_mft_qmap(p, q);
    if (!(n < 1e12)) {
      *qs = INFINITY;
      return;
    }
    if (fabs(n - q) <= 1e-15 * fabs(q)) {
      q = n;
      break;
    }
    q = n;
  }
  double r = es__qres(q, p);
  if (r == 0) {
    *qs = q;
    return;
  }
  double lo = q, hi = q, flo = r, fhi = r;
  if (r > 0) { /* q still grows: the root lies above */
    for (int k = 0; k < 200 && fhi > 0; k++) {
      lo = hi;
      flo = fhi;
      hi = hi * 1.5 + 1e-12;
      fhi = es__qres(hi, p);
      if (hi > 1e12) {
        *qs = INFINITY;
        return;
      }
    }
  } else { /* q shrinks: the root lies below, possibly at 0 (reached as lo < 1e-300: ~1800
              steps from 1e12, so no exit without a sign change) */
    for (int k = 0; k < 2000 && flo < 0; k++) {
      hi = lo;
      fhi = flo;
      lo = lo / 1.5;
      flo = es__qres(lo, p);
      if (lo < 1e-300) {
        *qs = 0;
        return;
      }
    }
  }
  *qs = es__brent(es__qres, p, lo, hi, flo, fhi, 1e-15 * hi);
}

typedef struct {
  const es_mft_params *p;
  double q;
} es__cctx;

static double es__cres(double c, const void *ctx) {
  const es__cctx *x = ctx;
  return es__cmap(x->p, x->q, c) - c;
}

es_status es_mft_fixed_point(const es_mft_params *p, es_mft_point *o) {
  ES_CHECK(p->act && p->sigma_w2 > 0 && p->sigma_b2 >= 0 && p->q0 > 0, ES_ERR_INPUT,
           "mft: bad parameters");
  memset(o, 0, sizeof *o);
  double q;
  es__qstar(p, &q);
  o->q_star = q;
  if (!isfinite(q)) {
    o->phase = ES_PHASE_NO_FIXED_POINT;
    o->c_star = o->chi_q = o->chi_c = o->xi_q = o->xi_c = NAN;
    o->chi1 = es_mft_chi1(p, 1e6);
    o->lyapunov = NAN;
    snprintf(o->reason, sizeof o->reason, "q grows without bound from q0: no finite fixed point");
    if (p->act->id == ES_ACT_RELU || p->act->id == ES_ACT_LINEAR) {
      o->chi1 = es_mft_chi1(p, 1);
      o->lyapunov = 0.5 * log(o->chi1);
    }
    return ES_OK;
  }
  o->chi1 = es_mft_chi1(p, q);
  o->chi_q = es__chiq(p, q);
  o->lyapunov = 0.5 * log(o->chi1);
  if (fabs(o->chi1 - 1) < 1e-10)
    o->phase = ES_PHASE_CRITICAL;
  else
    o->phase = o->chi1 < 1 ? ES_PHASE_ORDERED : ES_PHASE_CHAOTIC;
  /* Noise independent per input decorrelates them: c-map(1) = 1 - g/q*, so c* < 1 in every
   * phase and is found by the root search below. */
  if ((o->phase != ES_PHASE_CHAOTIC && p->noise == 0) || q == 0) {
    o->c_star = 1;
    o->chi_c = o->chi1;
  } else {
    /* The stable root lies in [-1, 1) (c = 1 is an unstable fixed point, or none with noise). */
    /* c = -1 is also a fixed point for odd phi without bias; step in from both ends until
     * the residual has the signs of a stable root in between. With noise c = 1 itself has
     * residual -g/q* < 0. */
    es__cctx cx = {p, q};
    double hi = p->noise > 0 ? 1 : 1 - 1e-6, fhi = es__cres(hi, &cx), lo = -1 + 1e-6,
           flo = es__cres(lo, &cx);
    for (int k = 0; k < 5 && fhi >= 0; k++) {
      hi = 1 - (1 - hi) * 10;
      fhi = es__cres(hi, &cx);
    }
    for (int k = 0; k < 5 && flo <= 0; k++) {
      lo = -1 + (1 + lo) * 10;
      flo = es__cres(lo, &cx);
    }
    if (flo <= 0 || fhi >= 0) {
      o->c_star = o->chi_c = NAN;
      snprintf(o->reason, sizeof o->reason, "no stable correlation fixed point c* found");
    } else {
      o->c_star = es__brent(es__cres, &cx, lo, hi, flo, fhi, 1e-14);
      o->chi_c = es__keep2(p) + p->sigma_w2 * es__e2_fixed(p->act, 1, q, o->c_star);
    }
  }
  o->xi_q = o->chi_q >= 1 ? INFINITY : -1 / log(o->chi_q);
  o->xi_c = o->chi_c >= 1 ? INFINITY : -1 / log(o->chi_c);
  if (isnan(o->chi_c)) o->xi_c = NAN;
  return ES_OK;
}

typedef struct {
  es_mft_params p;
} es__critctx;

static double es__critres(double sw2, const void *ctx) {
  es_mft_params p = ((const es__critctx *)ctx)->p;
  p.sigma_w2 = sw2;
  double q;
  es__qstar(&p, &q);
  if (!isfinite(q)) return INFINITY;
  return es_mft_chi1(&p, q) - 1;
}

es_status es_mft_critical(const es_mft_params *p, double *sw2c, char reason[ES_REASON_LEN]) {
  reason[0] = '\0';
  *sw2c = NAN;
  const es_activation *a = p->act;
  double k2 = es__keep2(p);
  ES_CHECK(k2 < 1 || p->act->id == ES_ACT_LINEAR, ES_ERR_INPUT, "leak 0: no critical line");
  if (a->id == ES_ACT_RELU || a->id == ES_ACT_LINEAR) {
    *sw2c = (1 - k2) / (a->id == ES_ACT_RELU ? 0.5 : 1.0); /* chi_1 does not depend on q */
    return ES_OK;
  }
  if (a->odd && a->phi(0) == 0 && p->sigma_b2 == 0 && p->noise == 0) {
    /* q* = 0 up to the line, where chi_1(0) = (1-gamma)^2 + sigma_w2 phi'(0)^2 = 1. */
    *sw2c = (1 - k2) / es__dphi2_zero(a);
    return ES_OK;
  }
  if (a->id == ES_ACT_GELU || a->id == ES_ACT_SILU) {
    snprintf(reason, ES_REASON_LEN,
             "%s: several q fixed points, no single critical line (doc/physics.md 8.1)", a->name);
    return ES_OK;
  }
  es__critctx cx = {*p};
  double lo = 0.01, flo = es__critres(lo, &cx), hi = lo, fhi = flo;
  while (hi < 1e4 && fhi < 0) {
    lo = hi;
    flo = fhi;
    hi *= 1.25;
    fhi = es__critres(hi, &cx);
  }
  if (!(flo < 0 && fhi >= 0) || !isfinite(fhi)) {
    snprintf(reason, ES_REASON_LEN, "chi_1 = 1 not bracketed for sigma_w2 in [0.01, 1e4]");
    return ES_OK;
  }
  *sw2c = es__brent(es__critres, &cx, lo, hi, flo, fhi, 1e-13);
  return ES_OK;
}

/* The last ES__RING keys of up to two doubles (a memo of recent integrals). es__ring_slot:
 * the slot holding KEY (LEN doubles, compared bitwise; *HIT = 1), else the oldest slot, which
 * now holds KEY (*HIT = 0: its values are to be computed). */
enum { ES__RING = 8 };
typedef struct {
  double key[ES__RING][2];
  int n, next;
} es__ring;

static int es__ring_slot(es__ring *r, const double *key, int len, int *hit) {
  for (int i = 0; i < r->n; i++)
    if (memcmp(r->key[i], key, (size_t)len * sizeof *key) == 0) {
      *hit = 1;
      return i;
    }
  const int slot = r->next;
  r->next = (r->next + 1) % ES__RING;
  if (r->n < ES__RING) r->n++;
  memcpy(r->key[slot], key, (size_t)len * sizeof *key);
  *hit = 0;
  return slot;
}

es_status es_mft_trajectory(const es_mft_params *p, int T, double *q, double *c, double *logr) {
  double qa = p->sigma_w2 * p->q0 + p->sigma_b2, qab = p->sigma_w2 * p->q0 * p->c0 + p->sigma_b2;
  double lr = log(p->sigma_w2);
  const double k2 = es__keep2(p);
  /* Once (qa, qab) repeats bitwise (the fixed point to the last bit, or a short cycle of
   * roundings), the step's integral is that of an earlier layer: reused, same bits. The
   * one-input integrals depend on qa alone, which settles long before qab: their own ring. */
  es__ring r2 = {0}, r1 = {0};
  double e2[ES__RING], e1[ES__RING][2];
  for (int t = 0; t < T; t++) {
    q[t] = qa;
    c[t] = qab / qa;
    logr[t] = lr;
    if (!isfinite(qa) || qa > 1e300) {
      for (int u = t; u < T; u++) q[u] = c[u] = logr[u] = NAN;
      break;
    }
    const double now[2] = {qa, qab};
    int hit;
    const int s2 = es__ring_slot(&r2, now, 2, &hit);
    if (!hit) e2[s2] = es_mft_e_phiphi(p->act, qa, qa, qab);
    const int s1 = es__ring_slot(&r1, now, 1, &hit);
    if (!hit) {
      e1[s1][0] = log(es_mft_chi1(p, qa));
      e1[s1][1] = es_mft_qmap(p, qa);
    }
    lr += e1[s1][0];
    double nab = k2 * qab + p->sigma_w2 * e2[s2] + p->sigma_b2;
    qa = e1[s1][1];
    qab = nab;
  }
  return ES_OK;
}

/* ---------- general model: two-time DMFT (doc/physics.md §3.1) ---------- */

/* One T x T matrix family per quantity X in {aa, ab, u}: C (covariance of h), Q (of the
 * increments Y), P(t, s) = Cov(h(t), Y(s)). Both inputs have the same q0, so C_bb = C_aa and,
 * by the a <-> b symmetry, C_ab(t, s) = C_ab(s, t) and P_ba(s, t) = P_ab(s, t). */
static es_status es__dmft(const es_mft_params *p, int shared, int T, double *q, double *c,
                          double *logr, int64_t nt, const int64_t *ts, int64_t nl,
                          const int64_t *lags, double *caa, double *cab) {
  ES_CHECK(p->act && p->sigma_w2 > 0 && p->sigma_b2 >= 0 && p->noise >= 0 && p->q0 > 0 &&
               p->leak >= 0 && p->leak <= 1 && T >= 1,
           ES_ERR_INPUT, "mft dmft: bad parameters");
  const size_t n = (size_t)T + 1, n2 = n * n; /* 1-based t, s */
  double *m = calloc(9 * n2, sizeof *m);
  ES_CHECK(m != NULL, ES_ERR_NOMEM, "mft dmft: out of memory for %d layers", T);
  double *C[3] = {m, m + n2, m + 2 * n2}, *Q[3] = {m + 3 * n2, m + 4 * n2, m + 5 * n2};
  double *P[3] = {m + 6 * n2, m + 7 * n2, m + 8 * n2};
#define ES__AT(M, t, s) (M)[(size_t)(t)*n + (size_t)(s)]
  const double k1 = 1 - p->leak, sw2 = p->sigma_w2, sb2 = p->sigma_b2, g = p->noise;
  const es_activation *act = p->act;
  ES__AT(C[0], 1, 1) = sw2 * p->q0 + sb2;
  ES__AT(C[1], 1, 1) = sw2 * p->q0 * p->c0 + sb2;
  ES__AT(C[2], 1, 1) = sw2; /* r0 = 1: logr is ln(r^t / r^0) */
  int t_end = T;
  for (int t = 1; t <= T; t++) {
    double qa = ES__AT(C[0], t, t);
    q[t - 1] = qa;
    c[t - 1] = ES__AT(C[1], t, t) / qa;
    logr[t - 1] = log(ES__AT(C[2], t, t));
    if (!isfinite(qa) || qa > 1e300 || !(ES__AT(C[2], t, t) > 0)) {
      t_end = t;
      break;
    }
    if (t == T) break;
    /* Column t of Q (and by symmetry row t): the new 2-D expectations of this step. */
    for (int k = shared ? 1 : t; k <= t; k++) {
      double ck = ES__AT(C[0], k, k);
      double eaa = es_mft_e_phiphi(act, ck, qa, ES__AT(C[0], k, t));
      double eab = es_mft_e_phiphi(act, ck, qa, ES__AT(C[1], k, t));
      double eu = es_mft_e_dphidphi(act, ck, qa, ES__AT(C[0], k, t));
      double v[3] = {sw2 * eaa + sb2 + (k == t ? g : 0), sw2 * eab + sb2,
                     sw2 * eu * ES__AT(C[2], k, t)};
      for (int x = 0; x < 3; x++) ES__AT(Q[x], k, t) = ES__AT(Q[x], t, k) = v[x];
    }
    for (int x = 0; x < 3; x++) {
      /* P(s, t) for s <= t from the new column, P(t, s) for s < t from row t - 1:
       * P(u + 1, s) = (1 - gamma) P(u, s) + Q(u, s), P(1, s) = 0. */
      for (int s = 1; s < t; s++) {
        ES__AT(P[x], s + 1, t) = k1 * ES__AT(P[x], s, t) + ES__AT(Q[x], s, t);
        if (t > 1 && s < t)
          ES__AT(P[x], t, s) = k1 * ES__AT(P[x], t - 1, s) + ES__AT(Q[x], t - 1, s);
      }
      /* Row t + 1 of C; C(t + 1, 1) = (1 - gamma) C(t, 1) (h(1) is independent of every Y). */
      ES__AT(C[x], t + 1, 1) = ES__AT(C[x], 1, t + 1) = k1 * ES__AT(C[x], t, 1);
      for (int s = 1; s <= t; s++) {
        double v = k1 * k1 * ES__AT(C[x], t, s) + k1 * (ES__AT(P[x], t, s) + ES__AT(P[x], s, t)) +
                   ES__AT(Q[x], t, s);
        ES__AT(C[x], t + 1, s + 1) = ES__AT(C[x], s + 1, t + 1) = v;
      }
    }
  }
  /* Two-time values C(t, t - L): NaN before layer 1 and past a blow-up. */
  for (int64_t k = 0; k < nt; k++)
    for (int64_t l = 0; l < nl; l++) {
      const int64_t t = ts[k], u = t - lags[l];
      const int ok = u >= 1 && t <= t_end;
      caa[k * nl + l] = ok ? ES__AT(C[0], t, u) : NAN;
      cab[k * nl + l] = ok ? ES__AT(C[1], t, u) : NAN;
    }
#undef ES__AT
  for (int u = t_end; u < T; u++) q[u] = c[u] = logr[u] = NAN;
  free(m);
  return ES_OK;
}

es_status es_mft_dmft(const es_mft_params *p, int shared, int T, double *q, double *c,
                      double *logr) {
  return es__dmft(p, shared, T, q, c, logr, 0, NULL, 0, NULL, NULL, NULL);
}

es_status es_mft_dmft_two_time(const es_mft_params *p, int shared, int T, double *q, double *c,
                               double *logr, int64_t nt, const int64_t *ts, int64_t nl,
                               const int64_t *lags, double *caa, double *cab) {
  return es__dmft(p, shared, T, q, c, logr, nt, ts, nl, lags, caa, cab);
}
