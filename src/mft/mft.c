/* mft: mean-field maps, fixed points, susceptibilities, depth scales, critical line, and the
 * general model's two-time DMFT (shared/physics.md §3). Gaussian expectations use the closed
 * forms where they exist (linear, relu, erf, sin: §3.3), the fast trapezoid/lattice rules
 * for tanh, gelu, silu (see "fast rules"), and composite Gauss-Legendre quadrature (§3.4)
 * as the reference and for activations without a fast rule. */
#include "edgesweep/mft.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- quadrature ---------- */

static int es__e1_fast(const es_activation *act, double q, double out[3]);

/* Gauss-Legendre nodes and weights on [-1, 1] for 16 and 8 points, by Newton on P_n. */
typedef struct {
  int n, ready;
  double x[16], w[16];
} es__gl;
static es__gl es__gl16 = {16, 0, {0}, {0}}, es__gl8 = {8, 0, {0}, {0}};

void es__gauss_legendre(int n, double *x, double *w) {
  for (int i = 0; i < n; i++) {
    double z = cos(ES_PI * (i + 0.75) / (n + 0.5)), dp = 0;
    for (int it = 0; it < 100; it++) {
      double p0 = 1, p1 = z;
      for (int k = 2; k <= n; k++) {
        double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = n * (z * p1 - p0) / (z * z - 1);
      double dz = p1 / dp;
      z -= dz;
      if (fabs(dz) < 1e-16) break;
    }
    x[i] = z;
    w[i] = 2.0 / ((1 - z * z) * dp * dp);
  }
}

static const es__gl *es__gl_get(es__gl *g) {
  if (g->ready) return g;
  es__gauss_legendre(g->n, g->x, g->w);
  g->ready = 1;
  return g;
}

/* A rule for E[f(z)], z ~ N(0,1): composite Gauss-Legendre on [-L, L] with panels narrow
 * enough that the nearest complex singularity of phi(sqrt(q) z) (tanh: pi/(2 sqrt q)) stays
 * well outside each panel's Bernstein ellipse. */
enum { ES__MAXNODES = 2048 };
typedef struct {
  int n;
  double z[ES__MAXNODES], w[ES__MAXNODES];
} es__rule;

/* FINE: 16-point panels of width <= 0.5 on [-10, 10] (1-D expectations, ~1e-15); else
 * 8-point panels of width <= 1 on [-8.5, 8.5] (each axis of a 2-D one, ~1e-12 for tanh at
 * q <~ 4: the cost there is the square of the node count). */
int es__normal_rule_panels(double q, int fine) {
  const int npt = fine ? 16 : 8;
  const double L = fine ? 10.0 : 8.5;
  double width = fine ? 0.5 : 1.0;
  double pole = 1.5 / sqrt(q > 1e-300 ? q : 1e-300); /* ~ pi/2 / sqrt(q) */
  if (width > pole) width = pole;
  /* Capped (in double: huge q must not overflow an int); a 2-D rule squares its node count,
   * so it stops at 512 nodes an axis, where tanh at q >~ 30 keeps ~1e-8. */
  const int cap = fine ? ES__MAXNODES : 512;
  double want = ceil(2 * L / width);
  int panels = want * npt > cap ? cap / npt : (int)want;
  return panels + panels % 2; /* even: z = 0 is a panel edge, so relu's kink is exact */
}

int es__normal_rule(double q, int fine, double *z, double *w) {
  const es__gl *g = es__gl_get(fine ? &es__gl16 : &es__gl8);
  const double L = fine ? 10.0 : 8.5;
  const int panels = es__normal_rule_panels(q, fine);
  double h = 2 * L / panels, c0 = 1.0 / sqrt(2 * ES_PI);
  int n = 0;
  for (int p = 0; p < panels; p++) {
    double mid = -L + (p + 0.5) * h;
    for (int i = 0; i < g->n; i++) {
      double x = mid + 0.5 * h * g->x[i];
      z[n] = x;
      w[n] = 0.5 * h * g->w[i] * c0 * exp(-0.5 * x * x);
      n++;
    }
  }
  return n;
}

static void es__make_rule(es__rule *r, double q, int fine) {
  r->n = es__normal_rule(q, fine, r->z, r->w);
}

double es_mft_expect(double (*f)(double x, void *ctx), void *ctx, double q) {
  static es__rule r;
  static double rq = -1;
  if (q != rq) {
    es__make_rule(&r, q, 1);
    rq = q;
  }
  double s = 0, sq = sqrt(q);
  for (int i = 0; i < r.n; i++) s += r.w[i] * f(sq * r.z[i], ctx);
  return s;
}

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

double es_mft_e_dphi2(const es_activation *act, double q) {
  if (q <= 0) return act->dphi(0) * act->dphi(0);
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

/* E[g(u_a) g(u_b)] by a tensor rule in whitened coordinates (g = phi or phi'): the reference
 * 2-D quadrature, kept for activations without a fast rule and as the tests' yardstick. */
static double es__e2(double (*g)(double), double qa, double qb, double qab) {
  static es__rule r;
  static double rq = -1;
  double qm = qa > qb ? qa : qb;
  if (qm != rq) {
    es__make_rule(&r, qm, 0);
    rq = qm;
  }
  double sa = sqrt(qa), sb = sqrt(qb), c = qab / (sa * sb);
  if (c > 1) c = 1;
  if (c < -1) c = -1;
  double s = sqrt(1 - c * c), tot = 0;
  for (int i = 0; i < r.n; i++) {
    double gi = g(sa * r.z[i]), inner = 0;
    if (r.w[i] < 1e-300) continue;
    double m = sb * c * r.z[i];
    if (s == 0) {
      inner = g(m);
    } else {
      for (int k = 0; k < r.n; k++) inner += r.w[k] * g(m + sb * s * r.z[k]);
    }
    tot += r.w[i] * gi * inner;
  }
  return tot;
}

/* ---------- fast rules: the trapezoid rule on z in [-L, L] ----------
 * For an integrand f(z) N(z) analytic in the strip |Im z| < d the trapezoid rule with step h
 * errs by ~exp(-2 pi d' / h + d'^2 / 2) for any d' < d (the second term is the growth of the
 * Gaussian off the real axis), i.e. geometrically in 1/h, where composite Gauss-Legendre
 * converges only algebraically in its panel count: ~100 nodes at q = 1 do what 640 did. The
 * step depends on where phi(sigma z) stops being analytic or grows: tanh has poles at
 * Im x = pi/2, silu (sigmoid) at pi; gelu and erf are entire and grow like exp(rho (Im x)^2);
 * sin like exp(|Im x|). Steps are chosen for ~1e-16 (exponent 44 plus slack for the pole's
 * residue) and checked against the reference rule and the closed forms in test_mft.c. */
#define ES__TL 9.0 /* N(9) ~ 1e-18: the truncation is below double rounding */
enum { ES__TMAX = 1 << 15 }; /* nodes of one rule or lattice: static scratch (serial module) */

/* The largest step (in z) for phi(sigma z) of this activation; 0 when there is no fast rule
 * (kinks, unknown activations: the reference quadrature is used). */
static double es__step(es_act_id id, double sigma) {
  const double hg = 0.669; /* Gaussian alone: 2 pi^2 / h^2 >= 44 */
  double tau = 0, rho = -1, h = hg;
  switch (id) {
    case ES_ACT_TANH: tau = ES_PI / 2; break;
    case ES_ACT_SILU: tau = ES_PI; break;
    case ES_ACT_GELU: rho = 0.5; break;
    case ES_ACT_ERF: rho = 1.0; break;
    case ES_ACT_LINEAR: rho = 0; break;
    case ES_ACT_SIN: return fmin(hg, 2 * ES_PI / (2 * sigma + 9.4));
    default: return 0;
  }
  if (sigma <= 0) return hg;
  if (tau > 0) {
    double d = 0.9 * tau / sigma; /* stay clear of the pole */
    if (d < 2 * ES_PI / hg) h = 2 * ES_PI * d / (50 + 0.5 * d * d);
  } else {
    h = ES_PI / sqrt(44 * (0.5 + 2 * rho * sigma * sigma));
  }
  return fmin(h, hg);
}

/* Trapezoid weights h N(k h), k = 0..K, by the recurrence N((k+1)h) = N(kh) e^{-h^2(2k+1)/2}
 * (two exp calls instead of K; relative drift ~K eps). */
static void es__tweights(double h, int K, double *w) {
  double g = h / sqrt(2 * ES_PI), r = exp(-0.5 * h * h), s = r * r;
  for (int k = 0; k <= K; k++) {
    w[k] = g;
    g *= r;
    r *= s;
  }
}

/* Nodes of a trapezoid rule: half-width K = ceil(L / h), capped so arrays stay bounded (at
 * huge q the rule then loses accuracy gracefully, as the reference's cap does). */
static int es__tnodes(double *h, int cap) {
  double k = ceil(ES__TL / *h);
  if (k > cap) {
    k = cap;
    *h = ES__TL / cap;
  }
  return (int)k;
}

/* g(x) (g = phi, or phi' when deriv) at n points. */
static void es__gvals(const es_activation *act, int deriv, int n, const double *x, double *f,
                      double *scratch) {
  if (deriv)
    act->eval((size_t)n, x, scratch, f);
  else
    act->eval((size_t)n, x, f, NULL);
}

/* Scratch that grows to the largest lattice met (bounded by ES__LMAX points); NULL when the
 * memory is not there, and the caller takes the direct rule instead. */
enum { ES__LMAX = 1 << 19 };
static double *es__grow(double **buf, size_t *cap, size_t n) {
  if (n > *cap) {
    double *p = realloc(*buf, n * sizeof **buf);
    if (!p) return NULL;
    *buf = p;
    *cap = n;
  }
  return *buf;
}

/* g at x_j = del j, j = -J..J (f[j + J]); an odd phi is evaluated on j >= 0 only (phi odd,
 * phi' even), which halves the cost for tanh. Returns 0 when out of memory. */
static int es__gsym(const es_activation *act, int deriv, int J, double del, double *f) {
  static double *xs, *scr;
  static size_t cx, cs;
  size_t n = 2 * (size_t)J + 1;
  if (!es__grow(&xs, &cx, n) || !es__grow(&scr, &cs, n)) return 0;
  if (!act->odd) {
    for (int j = -J; j <= J; j++) xs[j + J] = del * j;
    es__gvals(act, deriv, 2 * J + 1, xs, f, scr);
    return 1;
  }
  for (int j = 0; j <= J; j++) xs[j] = del * j;
  es__gvals(act, deriv, J + 1, xs, f + J, scr);
  for (int j = 1; j <= J; j++) f[J - j] = deriv ? f[J + j] : -f[J + j];
  return 1;
}

/* Gauss-Hermite rules for E[f(z)], z ~ N(0,1), n = 1..ES__GHMAX (Newton on the orthonormal
 * Hermite recurrence, Numerical Recipes' gauher, mapped to the probabilists' weight). */
enum { ES__GHMAX = 16 };
static double es__ghx[ES__GHMAX + 1][ES__GHMAX], es__ghw[ES__GHMAX + 1][ES__GHMAX];
static int es__gh_ready = 0;

static void es__gh_init(void) {
  const double pim4 = 0.7511255444649425; /* pi^(-1/4) */
  for (int n = 1; n <= ES__GHMAX; n++) {
    int m = (n + 1) / 2;
    double z = 0, pp = 0;
    for (int i = 0; i < m; i++) {
      if (i == 0)
        z = sqrt(2.0 * n + 1) - 1.85575 * pow(2.0 * n + 1, -0.16667);
      else if (i == 1)
        z -= 1.14 * pow((double)n, 0.426) / z;
      else if (i == 2)
        z = 1.86 * z - 0.86 * es__ghx[n][0] / sqrt(2.0);
      else if (i == 3)
        z = 1.91 * z - 0.91 * es__ghx[n][1] / sqrt(2.0);
      else
        z = 2.0 * z - es__ghx[n][i - 2] / sqrt(2.0);
      for (int it = 0; it < 100; it++) {
        double p1 = pim4, p2 = 0;
        for (int j = 1; j <= n; j++) {
          double p3 = p2;
          p2 = p1;
          p1 = z * sqrt(2.0 / j) * p2 - sqrt((j - 1.0) / j) * p3;
        }
        pp = sqrt(2.0 * n) * p2;
        double dz = p1 / pp;
        z -= dz;
        if (fabs(dz) < 1e-15 * fmax(1, fabs(z))) break;
      }
      /* physicists' node z, weight 2/pp^2 for e^{-z^2}: z -> sqrt(2) z, w -> w / sqrt(pi) */
      es__ghx[n][i] = sqrt(2.0) * z;
      es__ghx[n][n - 1 - i] = -sqrt(2.0) * z;
      es__ghw[n][i] = es__ghw[n][n - 1 - i] = 2.0 / (pp * pp) / sqrt(ES_PI);
    }
    if (n % 2) es__ghx[n][m - 1] = 0;
  }
  es__gh_ready = 1;
}

/* Gauss-Hermite points enough for E_z[g(m + s z)] at a small scale s: the error of n points is
 * ~ n! (s / tau)^(2n) with tau the radius where phi's Taylor series stops converging (tanh
 * pi/2, silu pi; 1 for the entire ones, conservative). 0 when more than ES__GHMAX are needed. */
static int es__gh_points(es_act_id id, double s) {
  double tau = id == ES_ACT_TANH ? ES_PI / 2 : (id == ES_ACT_SILU ? ES_PI : 1.0);
  double r = (s / tau) * (s / tau), e = 1;
  for (int n = 1; n <= ES__GHMAX; n++) {
    e *= n * r;
    if (e < 1e-17) return n;
  }
  return 0;
}

/* gelu and silu at large q: relu plus a remainder phi - relu that vanishes (below 1e-18)
 * for |x| > X0 (gelu 10, silu 45) and is smooth on each side of 0, so
 * E[phi^2] = q/2 + int (phi^2 - relu^2) N(x/sqrt q)/sqrt q dx over [-X0, X0] by 16-point
 * Gauss-Legendre panels split at 0: a cost independent of q, where the
 * trapezoid rule needs ~40 sqrt(q) nodes to resolve the kink-like bend at scale 1/sqrt(q). */
static double es__x0(es_act_id id) {
  return id == ES_ACT_GELU ? 10.0 : (id == ES_ACT_SILU ? 45.0 : 0.0);
}

static void es__e1_split(const es_activation *act, double q, double out[3]) {
  /* The nodes do not depend on q: phi^2 - relu^2 and phi'^2 - relu'^2 there are computed once
   * per activation, and a call costs one exp per node. Per side, panels of width 2.5 (gelu,
   * entire) or 3 (silu, poles at +-i pi): 16 points reach 1e-17. */
  enum { NMAX = 2 * 15 * 16 };
  static int ready[2], n[2];
  static double xs[2][NMAX], wt[2][NMAX], d2[2][NMAX], dd[2][NMAX];
  const int k = act->id == ES_ACT_GELU ? 0 : 1;
  if (!ready[k]) {
    const es__gl *g = es__gl_get(&es__gl16);
    const double x0 = es__x0(act->id);
    const int panels = k == 0 ? 4 : 15;
    double f[16], df[16];
    n[k] = 0;
    for (int side = -1; side <= 1; side += 2)
      for (int p = 0; p < panels; p++) {
        double lo = x0 * p / panels, hw = 0.5 * x0 / panels, *x = xs[k] + n[k];
        for (int i = 0; i < 16; i++) x[i] = side * (lo + hw * (1 + g->x[i]));
        act->eval(16, x, f, df);
        for (int i = 0; i < 16; i++) {
          double r = x[i] > 0 ? x[i] : 0, dr = x[i] > 0 ? 1 : 0;
          wt[k][n[k] + i] = hw * g->w[i];
          d2[k][n[k] + i] = f[i] * f[i] - r * r;
          dd[k][n[k] + i] = df[i] * df[i] - dr * dr;
        }
        n[k] += 16;
      }
    ready[k] = 1;
  }
  const double c0 = 1.0 / sqrt(2 * ES_PI * q);
  double a = 0.5 * q, b = 0.5, s = q; /* the relu parts: E[relu^2 (z^2 - 1)] = q */
  for (int i = 0; i < n[k]; i++) {
    double z2 = xs[k][i] * xs[k][i] / q, w = wt[k][i] * c0 * exp(-0.5 * z2);
    a += w * d2[k][i];
    b += w * dd[k][i];
    s += w * d2[k][i] * (z2 - 1);
  }
  out[0] = a;
  out[1] = b;
  out[2] = s;
}

/* E[phi^2], E[phi'^2] and the Stein form E[phi^2 (z^2 - 1)] at variance q in one pass over
 * one rule. Returns 0 when the activation has no fast rule. */
static int es__e1_fast(const es_activation *act, double q, double out[3]) {
  double sq = sqrt(q), h = es__step(act->id, sq);
  if (h <= 0) return 0;
  if (es__x0(act->id) > 0 && sq > 0.3 * es__x0(act->id)) { /* where the split is cheaper */
    es__e1_split(act, q, out);
    return 1;
  }
  int K = es__tnodes(&h, ES__TMAX / 2 - 1);
  static double w[ES__TMAX / 2], f[ES__TMAX], df[ES__TMAX];
  es__tweights(h, K, w);
  if (!es__gsym(act, 0, K, sq * h, f) || !es__gsym(act, 1, K, sq * h, df)) return 0;
  double a = 0, b = 0, s = 0;
  for (int k = -K; k <= K; k++) {
    double wk = w[k < 0 ? -k : k], z = h * k, f2 = f[k + K] * f[k + K];
    a += wk * f2;
    b += wk * df[k + K] * df[k + K];
    s += wk * f2 * (z * z - 1);
  }
  out[0] = a;
  out[1] = b;
  out[2] = s;
  return 1;
}

/* psi(m_i) = E_z[g(m_i + sz z)] at m_i = sw i hw, i = -I..I (psi[i + I]). When the outer
 * spacing sw hw is a whole multiple p of the inner spacing sz hz, every point lies on one
 * lattice x_j = j sw hw / p, so g is evaluated once per lattice point rather than once per
 * (i, k) pair; the lattice is used when it is the smaller set. */
/* Gelu's inner integral in closed form: X ~ N(m, s^2), r^2 = 1 + s^2,
 * E[X Phi(X)] = m Phi(m/r) + (s^2/r) N(m/r) and E[Phi(X) + X N(X)] = Phi(m/r) + m N(m/r)/r^3
 * (Stein's lemma; products of Gaussians): one erfc and one exp at any q. */
static double es__gelu_psi(int deriv, double m, double s) {
  const double r = sqrt(1 + s * s), t = m / r, Phi = 0.5 * erfc(-t / sqrt(2.0));
  const double N = exp(-0.5 * t * t) / sqrt(2 * ES_PI);
  return deriv ? Phi + m * N / (r * r * r) : m * Phi + s * s / r * N;
}

static void es__psi(const es_activation *act, int deriv, double sw, double hw, int I, double sz,
                    double *psi) {
  static double xs[ES__TMAX], fs[ES__TMAX], scr[ES__TMAX], wzs[ES__TMAX / 2], *wzl;
  static size_t cwz;
  double *wz = wzs;
  if (act->id == ES_ACT_GELU) {
    for (int i = -I; i <= I; i++) psi[i + I] = es__gelu_psi(deriv, sw * hw * i, sz);
    return;
  }
  if (sz <= 0) { /* c = +-1: no inner integral */
    for (int i = -I; i <= I; i++) xs[i + I] = sw * hw * i;
    es__gvals(act, deriv, 2 * I + 1, xs, psi, scr);
    return;
  }
  double hz = es__step(act->id, sz);
  int K = es__tnodes(&hz, ES__TMAX / 4), ngh = es__gh_points(act->id, sz);
  double dx = sw * hw;
  long direct = (2L * I + 1) * (ngh ? ngh : 2L * K + 1);
  if (act->id == ES_ACT_SILU && I > 0) {
    /* silu = gelu + rho with rho = silu - gelu smooth (poles of the sigmoid only) and below
     * 1e-18 for |x| > 45: gelu's part in closed form, rho on an x lattice restricted to
     * |x| <= 45, so the cost stops growing with q. Aligned with the outer nodes (weights from
     * one table) while the indices stay small, else with a Gaussian weight per pair. */
    const double dmax = sz * hz; /* the x spacing the inner rule allows */
    double pd = fmax(1, ceil(dx / dmax - 1e-12)), del = dx / pd, Kd = ceil(ES__TL * sz / del);
    const int aligned = pd * I + Kd < 1e8;
    if (!aligned) del = dmax;
    const int J0 = (int)fmin(ceil(45.0 / del), ES__LMAX);
    static double *rho, *wr;
    static size_t crho, cwr;
    if ((!ngh || 2L * J0 + 1 < direct) && 2L * J0 + 1 < ES__LMAX &&
        es__grow(&rho, &crho, 2 * (size_t)J0 + 1) && es__gsym(act, deriv, J0, del, rho)) {
      for (int j = -J0; j <= J0; j++) rho[j + J0] -= es__gelu_psi(deriv, del * j, 0);
      const int p = (int)pd, Kl = (int)fmin(Kd, J0 + pd * I);
      if (aligned && es__grow(&wr, &cwr, (size_t)Kl + 1)) {
        es__tweights(del / sz, Kl, wr);
        for (int i = -I; i <= I; i++) {
          int c0 = p * i, k0 = -J0 - c0 > -Kl ? -J0 - c0 : -Kl, k1 = J0 - c0 < Kl ? J0 - c0 : Kl;
          double s = 0;
          for (int k = k0; k <= k1; k++) s += wr[k < 0 ? -k : k] * rho[c0 + k + J0];
          psi[i + I] = es__gelu_psi(deriv, dx * i, sz) + s;
        }
        return;
      }
      if (!aligned) {
        const double c = del / (sqrt(2 * ES_PI) * sz);
        for (int i = -I; i <= I; i++) {
          double m = dx * i, s = 0;
          for (int j = -J0; j <= J0; j++) {
            double z = (del * j - m) / sz;
            if (fabs(z) < ES__TL) s += rho[j + J0] * exp(-0.5 * z * z);
          }
          psi[i + I] = es__gelu_psi(deriv, m, sz) + c * s;
        }
        return;
      }
    }
  }
  if (I > 0 && dx / (sz * hz) * I < ES__LMAX) { /* else the lattice is too large anyway */
    int p = (int)ceil(dx / (sz * hz) - 1e-12);
    if (p < 1) p = 1;
    long nlat = 2L * (p * (long)I + (long)ceil(ES__TL * sz * p / dx)) + 1;
    static double *lat;
    static size_t clat;
    double del = dx / p; /* lattice spacing in x */
    int J = p * I + (int)ceil(ES__TL * sz / del), Kl = (int)ceil(ES__TL * sz / del);
    /* Cost in multiply-adds, a phi call counted as 8: the lattice pays (2I+1)(Kl+1) sums,
     * which dominate when the outer spacing is much finer than the inner rule needs. */
    double lcost = 8.0 * (act->odd ? nlat / 2 + 1 : nlat) + (2.0 * I + 1) * (Kl + 1);
    if (lcost < 9.0 * direct && nlat <= ES__LMAX &&
        es__grow(&lat, &clat, (size_t)nlat) && es__grow(&wzl, &cwz, (size_t)Kl + 1) &&
        es__gsym(act, deriv, J, del, lat)) {
      hz = del / sz;
      K = Kl;
      wz = wzl;
      const double *fs = lat;
      es__tweights(hz, K, wz);
      for (int i = -I; i <= I; i++) {
        const double *fi = fs + J + p * i;
        double s = wz[0] * fi[0];
        for (int k = 1; k <= K; k++) s += wz[k] * (fi[k] + fi[-k]);
        psi[i + I] = s;
      }
      return;
    }
  }
  if (ngh) { /* small inner scale (c near +-1): a few Gauss-Hermite points per outer node */
    if (!es__gh_ready) es__gh_init();
    const double *gx = es__ghx[ngh], *gw = es__ghw[ngh];
    for (int i0 = -I; i0 <= I; i0 += 128) { /* in blocks that fit the buffers */
      int i1 = i0 + 127 < I ? i0 + 127 : I, n = 0;
      for (int i = i0; i <= i1; i++)
        for (int k = 0; k < ngh; k++) xs[n++] = dx * i + sz * gx[k];
      es__gvals(act, deriv, n, xs, fs, scr);
      for (int i = i0; i <= i1; i++) {
        double s = 0;
        for (int k = 0; k < ngh; k++) s += gw[k] * fs[(i - i0) * ngh + k];
        psi[i + I] = s;
      }
    }
    return;
  }
  es__tweights(hz, K, wz);
  for (int i = -I; i <= I; i++) { /* direct: one inner rule per outer node */
    double m = dx * i;
    for (int k = -K; k <= K; k++) xs[k + K] = m + sz * hz * k;
    es__gvals(act, deriv, 2 * K + 1, xs, fs, scr);
    double s = wz[0] * fs[K];
    for (int k = 1; k <= K; k++) s += wz[k] * (fs[K + k] + fs[K - k]);
    psi[i + I] = s;
  }
}

/* E[g(u_a) g(u_b)] in the symmetric split u_a = sqrt(|c| qa) w + sqrt((1-|c|) qa) z_a,
 * u_b = sign(c) sqrt(|c| qb) w + sqrt((1-|c|) qb) z_b with w, z_a, z_b independent:
 * E = E_w[psi_a(w) psi_b(sign(c) w)], a 1-D sum over inner integrals that each need only the
 * small scale sqrt((1-|c|) q). Returns 0 when the activation has no fast rule. */
static int es__e2_fast(const es_activation *act, int deriv, double qa, double qb, double qab,
                       double *out) {
  if (es__step(act->id, 1) <= 0) return 0;
  double c = qab / sqrt(qa * qb);
  if (c > 1) c = 1;
  if (c < -1) c = -1;
  double ac = fabs(c), wa = sqrt(ac * qa), wb = sqrt(ac * qb);
  double za = sqrt((1 - ac) * qa), zb = sqrt((1 - ac) * qb);
  double hw = es__step(act->id, wa > wb ? wa : wb);
  /* psi is phi smoothed by a Gaussian of width za: entire, growing like exp(Im(m)^2 / 2za^2)
   * whatever the poles of phi, so psi(wa w) allows the step of that growth when it is larger
   * (q-independent for fixed c: what keeps large q affordable). */
  if (za > 0) hw = fmax(hw, fmin(0.669, ES_PI / sqrt(44 * (0.5 + ac / (1 - ac)))));
  if (act->id == ES_ACT_GELU) { /* psi in closed form (es__psi): it grows like exp(Im^2/2r^2) */
    double g = fmax(wa * wa / (1 + za * za), wb * wb / (1 + zb * zb));
    hw = fmin(0.669, ES_PI / sqrt(44 * (0.5 + g)));
  }
  int I = ac > 0 ? es__tnodes(&hw, ES__TMAX / 4) : 0;
  static double W[ES__TMAX / 4 + 1], pa[ES__TMAX / 2 + 1], pb[ES__TMAX / 2 + 1];
  if (I > 0)
    es__tweights(hw, I, W);
  else
    W[0] = 1;
  es__psi(act, deriv, wa, hw, I, za, pa);
  const double *pbp = pa;
  if (qa != qb) {
    es__psi(act, deriv, wb, hw, I, zb, pb);
    pbp = pb;
  }
  double s = 0;
  for (int i = -I; i <= I; i++) s += W[i < 0 ? -i : i] * pa[i + I] * pbp[(c < 0 ? -i : i) + I];
  *out = s;
  return 1;
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
  return es__e2(deriv ? act->dphi : act->phi, qa, qb, qab);
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
    case ES_ACT_ERF:
      return 2.0 / ES_PI * asin(2 * qab / sqrt((1 + 2 * qa) * (1 + 2 * qb)));
    case ES_ACT_SIN: return exp(-0.5 * (qa + qb)) * sinh(qab);
    default: {
      double e;
      return es__e2_fast(act, 0, qa, qb, qab, &e) ? e : es__e2(act->phi, qa, qb, qab);
    }
  }
}

double es_mft_e_dphidphi(const es_activation *act, double qa, double qb, double qab) {
  if (qa <= 0 || qb <= 0) return act->dphi(0) * act->dphi(0);
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
      return es__e2_fast(act, 1, qa, qb, qab, &e) ? e : es__e2(act->dphi, qa, qb, qab);
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

/* The q-map F(q) (physics.md §3.1, with leak and noise). */
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
  if (q <= 0)
    d = p->act->dphi(0) * p->act->dphi(0);
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

static double es__qres(double q, const void *ctx) {
  return es_mft_qmap(ctx, q) - q;
}

/* The stable fixed point reached from q0 (0 and +inf allowed: *q = INFINITY). */
static void es__qstar(const es_mft_params *p, double *qs) {
  const es_activation *a = p->act;
  /* Odd phi with phi(0) = 0, no bias, no noise: 0 is a fixed point; stable iff chi_1(0) <= 1. */
  int zero_fp = a->odd && a->phi(0) == 0 && p->sigma_b2 == 0 && p->noise == 0;
  double chi0 = es__keep2(p) + p->sigma_w2 * a->dphi(0) * a->dphi(0);
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
  } else { /* q shrinks: the root lies below, possibly at 0 */
    for (int k = 0; k < 200 && flo < 0; k++) {
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
  if (o->phase != ES_PHASE_CHAOTIC || q == 0) {
    o->c_star = 1;
    o->chi_c = o->chi1;
  } else {
    /* c = 1 is a fixed point, unstable here: the stable one lies in [-1, 1). */
    /* c = -1 is also a fixed point for odd phi without bias; step in from both ends until
     * the residual has the signs of a stable root in between. */
    es__cctx cx = {p, q};
    double hi = 1 - 1e-6, fhi = es__cres(hi, &cx), lo = -1 + 1e-6, flo = es__cres(lo, &cx);
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

es_status es_mft_critical(const es_mft_params *p, double *sw2c, char reason[96]) {
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
    *sw2c = (1 - k2) / (a->dphi(0) * a->dphi(0));
    return ES_OK;
  }
  if (a->id == ES_ACT_GELU || a->id == ES_ACT_SILU) {
    snprintf(reason, 96, "%s: several q fixed points, no single critical line (physics.md 8.1)",
             a->name);
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
    snprintf(reason, 96, "chi_1 = 1 not bracketed for sigma_w2 in [0.01, 1e4]");
    return ES_OK;
  }
  *sw2c = es__brent(es__critres, &cx, lo, hi, flo, fhi, 1e-13);
  return ES_OK;
}

es_status es_mft_trajectory(const es_mft_params *p, int T, double *q, double *c, double *logr) {
  double qa = p->sigma_w2 * p->q0 + p->sigma_b2, qab = p->sigma_w2 * p->q0 * p->c0 + p->sigma_b2;
  double lr = log(p->sigma_w2);
  const double k2 = es__keep2(p);
  /* Once (qa, qab) repeats bitwise (the fixed point to the last bit, or a short cycle of
   * roundings), the step's integrals are those of the earlier layer: reused, same bits. */
  enum { MEMO = 8 };
  double key[MEMO][2], val[MEMO][3];
  int nmemo = 0, next = 0;
  for (int t = 0; t < T; t++) {
    q[t] = qa;
    c[t] = qab / qa;
    logr[t] = lr;
    if (!isfinite(qa) || qa > 1e300) {
      for (int u = t; u < T; u++) q[u] = c[u] = logr[u] = NAN;
      break;
    }
    const double now[2] = {qa, qab};
    int slot = -1;
    for (int i = 0; i < nmemo && slot < 0; i++)
      if (memcmp(key[i], now, sizeof now) == 0) slot = i;
    if (slot < 0) {
      slot = next;
      next = (next + 1) % MEMO;
      if (nmemo < MEMO) nmemo++;
      memcpy(key[slot], now, sizeof now);
      val[slot][0] = log(es_mft_chi1(p, qa));
      val[slot][1] = es_mft_e_phiphi(p->act, qa, qa, qab);
      val[slot][2] = es_mft_qmap(p, qa);
    }
    lr += val[slot][0];
    double nab = k2 * qab + p->sigma_w2 * val[slot][1] + p->sigma_b2;
    qa = val[slot][2];
    qab = nab;
  }
  return ES_OK;
}

/* ---------- general model: two-time DMFT (physics.md §3.1) ---------- */

/* One T x T matrix family per quantity X in {aa, ab, u}: C (covariance of h), Q (of the
 * increments Y), P(t, s) = Cov(h(t), Y(s)). Both inputs have the same q0, so C_bb = C_aa and,
 * by the a <-> b symmetry, C_ab(t, s) = C_ab(s, t) and P_ba(s, t) = P_ab(s, t). */
es_status es_mft_dmft(const es_mft_params *p, int shared, int T, double *q, double *c,
                      double *logr) {
  ES_CHECK(p->act && p->sigma_w2 > 0 && p->sigma_b2 >= 0 && p->noise >= 0 && p->q0 > 0 &&
               p->leak >= 0 && p->leak <= 1 && T >= 1,
           ES_ERR_INPUT, "mft dmft: bad parameters");
  const size_t n = (size_t)T + 1, n2 = n * n; /* 1-based t, s */
  double *m = calloc(9 * n2, sizeof *m);
  ES_CHECK(m != NULL, ES_ERR_NOMEM, "mft dmft: out of memory for %d layers", T);
  double *C[3] = {m, m + n2, m + 2 * n2}, *Q[3] = {m + 3 * n2, m + 4 * n2, m + 5 * n2};
  double *P[3] = {m + 6 * n2, m + 7 * n2, m + 8 * n2};
#define ES__AT(M, t, s) (M)[(size_t)(t) * n + (size_t)(s)]
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
        if (t > 1 && s < t) ES__AT(P[x], t, s) = k1 * ES__AT(P[x], t - 1, s) + ES__AT(Q[x], t - 1, s);
      }
      /* Row t + 1 of C; C(t + 1, 1) = (1 - gamma) C(t, 1) (h(1) is independent of every Y). */
      ES__AT(C[x], t + 1, 1) = ES__AT(C[x], 1, t + 1) = k1 * ES__AT(C[x], t, 1);
      for (int s = 1; s <= t; s++) {
        double v = k1 * k1 * ES__AT(C[x], t, s) +
                   k1 * (ES__AT(P[x], t, s) + ES__AT(P[x], s, t)) + ES__AT(Q[x], t, s);
        ES__AT(C[x], t + 1, s + 1) = ES__AT(C[x], s + 1, t + 1) = v;
      }
    }
  }
#undef ES__AT
  for (int u = t_end; u < T; u++) q[u] = c[u] = logr[u] = NAN;
  free(m);
  return ES_OK;
}
