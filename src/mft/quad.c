/* mft's quadrature: the rules behind the Gaussian expectations of mft.h (doc/physics.md
 * §3.4). Composite Gauss-Legendre as the reference; the fast trapezoid and lattice rules for
 * tanh, gelu, silu (and checks). Nothing persists between calls: a fast rule's scratch lives
 * in a workspace it creates and destroys, fixed tables are recomputed where used. */
#include "quad.h"

#include <math.h>
#include <stdlib.h>

#include "simd.h"
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ES__QUAD_AVX2 1
#endif

/* ---------- reference: composite Gauss-Legendre ---------- */

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
  const int npt = fine ? 16 : 8;
  double gx[16], gw[16];
  es__gauss_legendre(npt, gx, gw);
  const double L = fine ? 10.0 : 8.5;
  const int panels = es__normal_rule_panels(q, fine);
  double h = 2 * L / panels, c0 = 1.0 / sqrt(2 * ES_PI);
  int n = 0;
  for (int p = 0; p < panels; p++) {
    double mid = -L + (p + 0.5) * h;
    for (int i = 0; i < npt; i++) {
      double x = mid + 0.5 * h * gx[i];
      z[n] = x;
      w[n] = 0.5 * h * gw[i] * c0 * exp(-0.5 * x * x);
      n++;
    }
  }
  return n;
}

double es_mft_expect(double (*f)(double x, void *ctx), void *ctx, double q) {
  es__rule r;
  r.n = es__normal_rule(q, 1, r.z, r.w);
  double s = 0, sq = sqrt(q);
  for (int i = 0; i < r.n; i++) s += r.w[i] * f(sq * r.z[i], ctx);
  return s;
}

/* E[g(u_a) g(u_b)] by a tensor rule in whitened coordinates (g = phi or phi'): the reference
 * 2-D quadrature, kept for activations without a fast rule and as the tests' yardstick. */
double es__e2_ref(double (*g)(double), double qa, double qb, double qab) {
  es__rule r;
  double qm = qa > qb ? qa : qb;
  r.n = es__normal_rule(qm, 0, r.z, r.w);
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
enum { ES__TMAX = 1 << 15 }; /* nodes of one rule or lattice at most */

/* The largest step (in z) for phi(sigma z) of this activation; 0 when there is no fast rule
 * (kinks, unknown activations: the reference quadrature is used). */
double es__step(es_act_id id, double sigma) {
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
void es__tweights(double h, int K, double *w) {
  double g = h / sqrt(2 * ES_PI), r = exp(-0.5 * h * h), s = r * r;
  for (int k = 0; k <= K; k++) {
    w[k] = g;
    g *= r;
    r *= s;
  }
}

/* Nodes of a trapezoid rule: half-width K = ceil(L / h), capped so arrays stay bounded (at
 * huge q the rule then loses accuracy gracefully, as the reference's cap does). */
int es__tnodes(double *h, int cap) {
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

/* The scratch of one fast-rule evaluation: one buffer per use, each grown to the largest size
 * asked for (a lattice at most ES__LMAX points), all released by es__ws_destroy. */
enum { ES__LMAX = 1 << 19 };
enum {
  ES__WS_X,     /* points of a g evaluation */
  ES__WS_F,     /* g at them */
  ES__WS_SCR,   /* the other output of act->eval */
  ES__WS_SYM_X, /* es__gsym's points */
  ES__WS_SYM_S, /* es__gsym's other output */
  ES__WS_W,     /* trapezoid weights */
  ES__WS_F2,    /* a second array of g values (e1: phi') */
  ES__WS_LAT,   /* g on a lattice */
  ES__WS_PA,    /* psi of input a */
  ES__WS_PB,    /* psi of input b */
  ES__WS_OUTER, /* the outer rule's weights */
  ES__WS_COUNT
};
typedef struct {
  double *buf[ES__WS_COUNT];
  size_t cap[ES__WS_COUNT];
} es__ws;

/* Buffer SLOT with room for n values, or NULL when the memory is not there (the caller then
 * takes another rule). */
double *es__grow(double **buf, size_t *cap, size_t n) {
  if (n > *cap) {
    double *p = realloc(*buf, n * sizeof *p);
    if (!p) return NULL;
    *buf = p;
    *cap = n;
  }
  return *buf;
}

static double *es__ws_get(es__ws *ws, int slot, size_t n) {
  return es__grow(&ws->buf[slot], &ws->cap[slot], n);
}

static void es__ws_destroy(es__ws *ws) {
  for (int i = 0; i < ES__WS_COUNT; i++) free(ws->buf[i]);
}

/* g at x_j = del j, j = -J..J (f[j + J]); an odd phi is evaluated on j >= 0 only (phi odd,
 * phi' even), which halves the cost for tanh. Returns 0 when out of memory. */
static int es__gsym(es__ws *ws, const es_activation *act, int deriv, int J, double del, double *f) {
  size_t n = 2 * (size_t)J + 1;
  double *xs = es__ws_get(ws, ES__WS_SYM_X, n), *scr = es__ws_get(ws, ES__WS_SYM_S, n);
  if (!xs || !scr) return 0;
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

/* The n-point Gauss-Hermite rule for E[f(z)], z ~ N(0,1), n <= ES__GHMAX (Newton on the
 * orthonormal Hermite recurrence, Numerical Recipes' gauher, mapped to the probabilists'
 * weight). */
enum { ES__GHMAX = 16 };
static void es__gauss_hermite(int n, double *x, double *w) {
  const double pim4 = 0.7511255444649425; /* pi^(-1/4) */
  int m = (n + 1) / 2;
  double z = 0, pp = 0;
  for (int i = 0; i < m; i++) {
    if (i == 0)
      z = sqrt(2.0 * n + 1) - 1.85575 * pow(2.0 * n + 1, -0.16667);
    else if (i == 1)
      z -= 1.14 * pow((double)n, 0.426) / z;
    else if (i == 2)
      z = 1.86 * z - 0.86 * x[0] / sqrt(2.0);
    else if (i == 3)
      z = 1.91 * z - 0.91 * x[1] / sqrt(2.0);
    else
      z = 2.0 * z - x[i - 2] / sqrt(2.0);
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
    x[i] = sqrt(2.0) * z;
    x[n - 1 - i] = -sqrt(2.0) * z;
    w[i] = w[n - 1 - i] = 2.0 / (pp * pp) / sqrt(ES_PI);
  }
  if (n % 2) x[m - 1] = 0;
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
  /* Per side, panels of width 2.5 (gelu, entire) or 3 (silu, poles at +-i pi): 16 points
   * reach 1e-17. phi^2 - relu^2 and phi'^2 - relu'^2 at the nodes do not depend on q. */
  enum { NMAX = 2 * 15 * 16 };
  double xs[NMAX], wt[NMAX], d2[NMAX], dd[NMAX], gx[16], gw[16];
  es__gauss_legendre(16, gx, gw);
  const double x0 = es__x0(act->id);
  const int panels = act->id == ES_ACT_GELU ? 4 : 15;
  double f[16], df[16];
  int n = 0;
  for (int side = -1; side <= 1; side += 2)
    for (int p = 0; p < panels; p++) {
      double lo = x0 * p / panels, hw = 0.5 * x0 / panels, *x = xs + n;
      for (int i = 0; i < 16; i++) x[i] = side * (lo + hw * (1 + gx[i]));
      act->eval(16, x, f, df);
      for (int i = 0; i < 16; i++) {
        double r = x[i] > 0 ? x[i] : 0, dr = x[i] > 0 ? 1 : 0;
        wt[n + i] = hw * gw[i];
        d2[n + i] = f[i] * f[i] - r * r;
        dd[n + i] = df[i] * df[i] - dr * dr;
      }
      n += 16;
    }
  const double c0 = 1.0 / sqrt(2 * ES_PI * q);
  double a = 0.5 * q, b = 0.5, s = q; /* the relu parts: E[relu^2 (z^2 - 1)] = q */
  for (int i = 0; i < n; i++) {
    double z2 = xs[i] * xs[i] / q, w = wt[i] * c0 * exp(-0.5 * z2);
    a += w * d2[i];
    b += w * dd[i];
    s += w * d2[i] * (z2 - 1);
  }
  out[0] = a;
  out[1] = b;
  out[2] = s;
}

/* The trapezoid rule for e1 at variance q; 0 when out of memory. */
static int es__e1_trapezoid(es__ws *ws, const es_activation *act, double q, double h,
                            double out[3]) {
  double sq = sqrt(q);
  int K = es__tnodes(&h, ES__TMAX / 2 - 1);
  double *w = es__ws_get(ws, ES__WS_W, (size_t)K + 1);
  double *f = es__ws_get(ws, ES__WS_F, 2 * (size_t)K + 1);
  double *df = es__ws_get(ws, ES__WS_F2, 2 * (size_t)K + 1);
  if (!w || !f || !df) return 0;
  es__tweights(h, K, w);
  if (!es__gsym(ws, act, 0, K, sq * h, f) || !es__gsym(ws, act, 1, K, sq * h, df)) return 0;
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

int es__e1_fast(const es_activation *act, double q, double out[3]) {
  double sq = sqrt(q), h = es__step(act->id, sq);
  if (h <= 0) return 0;
  if (es__x0(act->id) > 0 && sq > 0.3 * es__x0(act->id)) { /* where the split is cheaper */
    es__e1_split(act, q, out);
    return 1;
  }
  es__ws ws = {{0}, {0}};
  int ok = es__e1_trapezoid(&ws, act, q, h, out);
  es__ws_destroy(&ws);
  return ok;
}

/* ---------- psi: the inner integrals of the 2-D fast rule ----------
 * psi(m_i) = E_z[g(m_i + sz z)] at m_i = dx i, i = -I..I (psi[i + I]), by one of the
 * strategies below; each returns 1 when it has written psi, 0 when it does not apply (or is
 * out of memory) and the next one is tried. */
typedef struct {
  const es_activation *act;
  int deriv;
  double dx; /* outer spacing */
  int I;
  double sz;   /* inner scale, > 0 */
  double hz;   /* the inner trapezoid step in z */
  int K;       /* its half-width in nodes */
  int ngh;     /* Gauss-Hermite points enough at sz, or 0 */
  long direct; /* g calls of the direct rule (the cost to beat) */
} es__psi_task;

/* Gelu's inner integral in closed form: X ~ N(m, s^2), r^2 = 1 + s^2,
 * E[X Phi(X)] = m Phi(m/r) + (s^2/r) N(m/r) and E[Phi(X) + X N(X)] = Phi(m/r) + m N(m/r)/r^3
 * (Stein's lemma; products of Gaussians): one erfc and one exp at any q. */
static double es__gelu_psi(int deriv, double m, double s) {
  const double r = sqrt(1 + s * s), t = m / r, Phi = 0.5 * erfc(-t / sqrt(2.0));
  const double N = exp(-0.5 * t * t) / sqrt(2 * ES_PI);
  return deriv ? Phi + m * N / (r * r * r) : m * Phi + s * s / r * N;
}

/* silu = gelu + rho with rho = silu - gelu smooth (poles of the sigmoid only) and below 1e-18
 * for |x| > 45: gelu's part in closed form, rho on an x lattice restricted to |x| <= 45, so
 * the cost stops growing with q. Aligned with the outer nodes (weights from one table) while
 * the indices stay small, else with a Gaussian weight per pair. */
static int es__psi_silu(es__ws *ws, const es__psi_task *t, double *psi) {
  const int I = t->I, deriv = t->deriv;
  const double dx = t->dx, sz = t->sz;
  const double dmax = sz * t->hz; /* the x spacing the inner rule allows */
  double pd = fmax(1, ceil(dx / dmax - 1e-12)), del = dx / pd, Kd = ceil(ES__TL * sz / del);
  const int aligned = pd * I + Kd < 1e8;
  if (!aligned) del = dmax;
  const int J0 = (int)fmin(ceil(45.0 / del), ES__LMAX);
  if (!((!t->ngh || 2L * J0 + 1 < t->direct) && 2L * J0 + 1 < ES__LMAX)) return 0;
  double *rho = es__ws_get(ws, ES__WS_LAT, 2 * (size_t)J0 + 1);
  if (!rho || !es__gsym(ws, t->act, deriv, J0, del, rho)) return 0;
  for (int j = -J0; j <= J0; j++) rho[j + J0] -= es__gelu_psi(deriv, del * j, 0);
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
    return 1;
  }
  const int p = (int)pd, Kl = (int)fmin(Kd, J0 + pd * I);
  double *wr = es__ws_get(ws, ES__WS_W, (size_t)Kl + 1);
  if (!wr) return 0;
  es__tweights(del / sz, Kl, wr);
  for (int i = -I; i <= I; i++) {
    int c0 = p * i, k0 = -J0 - c0 > -Kl ? -J0 - c0 : -Kl, k1 = J0 - c0 < Kl ? J0 - c0 : Kl;
    double s = 0;
    for (int k = k0; k <= k1; k++) s += wr[k < 0 ? -k : k] * rho[c0 + k + J0];
    psi[i + I] = es__gelu_psi(deriv, dx * i, sz) + s;
  }
  return 1;
}

/* When the outer spacing dx is a whole multiple p of the inner spacing sz hz, every point
 * lies on one lattice x_j = j dx / p, so g is evaluated once per lattice point rather than
 * once per (i, k) pair; taken when that is the cheaper set. */
/* psi[i + I] = wz[0] f_i[0] + sum_k wz[k] (f_i[k] + f_i[-k]), f_i = lat + J + p i, for
 * i = -I..I: each outer node summed alone, in the same order on every path (no fused
 * multiply-add), so the bits never depend on the path; the AVX2 path takes four nodes at a
 * time. */
static void es__lattice_sums_c(const double *lat, int J, int p, int I, const double *wz, int K,
                               double *psi, int from) {
  for (int i = from; i <= I; i++) {
    const double *fi = lat + J + p * i;
    double s = wz[0] * fi[0];
    for (int k = 1; k <= K; k++) s += wz[k] * (fi[k] + fi[-k]);
    psi[i + I] = s;
  }
}

#ifdef ES__QUAD_AVX2
__attribute__((target("avx2"))) static void es__lattice_sums_avx2(const double *lat, int J, int p,
                                                                  int I, const double *wz, int K,
                                                                  double *psi) {
  int i = -I;
  for (; i + 3 <= I; i += 4) {
    const double *f0 = lat + J + p * i;
    const __m256d w0 = _mm256_set1_pd(wz[0]);
    __m256d s;
    if (p == 1) {
      s = _mm256_mul_pd(w0, _mm256_loadu_pd(f0));
      for (int k = 1; k <= K; k++)
        s = _mm256_add_pd(
            s, _mm256_mul_pd(_mm256_set1_pd(wz[k]),
                             _mm256_add_pd(_mm256_loadu_pd(f0 + k), _mm256_loadu_pd(f0 - k))));
    } else {
      s = _mm256_mul_pd(w0, _mm256_set_pd(f0[3 * p], f0[2 * p], f0[p], f0[0]));
      for (int k = 1; k <= K; k++) {
        const __m256d up = _mm256_set_pd(f0[3 * p + k], f0[2 * p + k], f0[p + k], f0[k]);
        const __m256d dn = _mm256_set_pd(f0[3 * p - k], f0[2 * p - k], f0[p - k], f0[-k]);
        s = _mm256_add_pd(s, _mm256_mul_pd(_mm256_set1_pd(wz[k]), _mm256_add_pd(up, dn)));
      }
    }
    _mm256_storeu_pd(psi + i + I, s);
  }
  es__lattice_sums_c(lat, J, p, I, wz, K, psi, i);
}
#endif

static es__simd es__lattice_path = ES__SIMD_AUTO;

int es__quad_set_simd(int path) { return es__simd_force(&es__lattice_path, (es__simd)path); }

static int es__psi_lattice(es__ws *ws, const es__psi_task *t, double *psi) {
  const int I = t->I;
  const double dx = t->dx, sz = t->sz;
  if (!(dx / (sz * t->hz) * I < ES__LMAX)) return 0; /* the lattice is too large anyway */
  int p = (int)ceil(dx / (sz * t->hz) - 1e-12);
  if (p < 1) p = 1;
  long nlat = 2L * (p * (long)I + (long)ceil(ES__TL * sz * p / dx)) + 1;
  double del = dx / p; /* lattice spacing in x */
  int J = p * I + (int)ceil(ES__TL * sz / del), Kl = (int)ceil(ES__TL * sz / del);
  /* Cost in multiply-adds, a phi call counted as 8: the lattice pays (2I+1)(Kl+1) sums,
   * which dominate when the outer spacing is much finer than the inner rule needs. */
  double lcost = 8.0 * (t->act->odd ? nlat / 2 + 1 : nlat) + (2.0 * I + 1) * (Kl + 1);
  if (!(lcost < 9.0 * t->direct && nlat <= ES__LMAX)) return 0;
  double *lat = es__ws_get(ws, ES__WS_LAT, (size_t)nlat);
  double *wz = es__ws_get(ws, ES__WS_W, (size_t)Kl + 1);
  if (!lat || !wz || !es__gsym(ws, t->act, t->deriv, J, del, lat)) return 0;
  es__tweights(del / sz, Kl, wz);
#ifdef ES__QUAD_AVX2
  if (es__simd_resolve(&es__lattice_path) >= ES__SIMD_AVX2) {
    es__lattice_sums_avx2(lat, J, p, I, wz, Kl, psi);
    return 1;
  }
#endif
  es__lattice_sums_c(lat, J, p, I, wz, Kl, psi, -I);
  return 1;
}

/* Small inner scale (c near +-1): a few Gauss-Hermite points per outer node. */
static int es__psi_hermite(es__ws *ws, const es__psi_task *t, double *psi) {
  const int I = t->I, ngh = t->ngh;
  const double dx = t->dx, sz = t->sz;
  double gx[ES__GHMAX], gw[ES__GHMAX];
  es__gauss_hermite(ngh, gx, gw);
  const size_t nmax = 128 * (size_t)ngh; /* in blocks of 128 outer nodes */
  double *xs = es__ws_get(ws, ES__WS_X, nmax), *fs = es__ws_get(ws, ES__WS_F, nmax);
  double *scr = es__ws_get(ws, ES__WS_SCR, nmax);
  if (!xs || !fs || !scr) return 0;
  for (int i0 = -I; i0 <= I; i0 += 128) {
    int i1 = i0 + 127 < I ? i0 + 127 : I, n = 0;
    for (int i = i0; i <= i1; i++)
      for (int k = 0; k < ngh; k++) xs[n++] = dx * i + sz * gx[k];
    es__gvals(t->act, t->deriv, n, xs, fs, scr);
    for (int i = i0; i <= i1; i++) {
      double s = 0;
      for (int k = 0; k < ngh; k++) s += gw[k] * fs[(i - i0) * ngh + k];
      psi[i + I] = s;
    }
  }
  return 1;
}

/* Direct: one inner trapezoid rule per outer node. */
static int es__psi_direct(es__ws *ws, const es__psi_task *t, double *psi) {
  const int I = t->I, K = t->K;
  const double dx = t->dx, sz = t->sz, hz = t->hz;
  const size_t n = 2 * (size_t)K + 1;
  double *wz = es__ws_get(ws, ES__WS_W, (size_t)K + 1), *xs = es__ws_get(ws, ES__WS_X, n);
  double *fs = es__ws_get(ws, ES__WS_F, n), *scr = es__ws_get(ws, ES__WS_SCR, n);
  if (!wz || !xs || !fs || !scr) return 0;
  es__tweights(hz, K, wz);
  for (int i = -I; i <= I; i++) {
    double m = dx * i;
    for (int k = -K; k <= K; k++) xs[k + K] = m + sz * hz * k;
    es__gvals(t->act, t->deriv, 2 * K + 1, xs, fs, scr);
    double s = wz[0] * fs[K];
    for (int k = 1; k <= K; k++) s += wz[k] * (fs[K + k] + fs[K - k]);
    psi[i + I] = s;
  }
  return 1;
}

/* psi at m_i = sw hw i: gelu in closed form, sz = 0 (c = +-1) without an inner integral, else
 * the first strategy that applies. Returns 0 when out of memory. */
static int es__psi(es__ws *ws, const es_activation *act, int deriv, double sw, double hw, int I,
                   double sz, double *psi) {
  if (act->id == ES_ACT_GELU) {
    for (int i = -I; i <= I; i++) psi[i + I] = es__gelu_psi(deriv, sw * hw * i, sz);
    return 1;
  }
  if (sz <= 0) {
    const size_t n = 2 * (size_t)I + 1;
    double *xs = es__ws_get(ws, ES__WS_X, n), *scr = es__ws_get(ws, ES__WS_SCR, n);
    if (!xs || !scr) return 0;
    for (int i = -I; i <= I; i++) xs[i + I] = sw * hw * i;
    es__gvals(act, deriv, 2 * I + 1, xs, psi, scr);
    return 1;
  }
  es__psi_task t = {act, deriv, sw * hw, I, sz, es__step(act->id, sz), 0, 0, 0};
  t.K = es__tnodes(&t.hz, ES__TMAX / 4);
  t.ngh = es__gh_points(act->id, sz);
  t.direct = (2L * I + 1) * (t.ngh ? t.ngh : 2L * t.K + 1);
  if (act->id == ES_ACT_SILU && I > 0 && es__psi_silu(ws, &t, psi)) return 1;
  if (I > 0 && es__psi_lattice(ws, &t, psi)) return 1;
  if (t.ngh) return es__psi_hermite(ws, &t, psi);
  return es__psi_direct(ws, &t, psi);
}

/* E[g(u_a) g(u_b)] in the symmetric split u_a = sqrt(|c| qa) w + sqrt((1-|c|) qa) z_a,
 * u_b = sign(c) sqrt(|c| qb) w + sqrt((1-|c|) qb) z_b with w, z_a, z_b independent:
 * E = E_w[psi_a(w) psi_b(sign(c) w)], a 1-D sum over inner integrals that each need only the
 * small scale sqrt((1-|c|) q). */
static int es__e2_split(es__ws *ws, const es_activation *act, int deriv, double qa, double qb,
                        double qab, double *out) {
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
  double *pa = es__ws_get(ws, ES__WS_PA, 2 * (size_t)I + 1);
  double *pb = es__ws_get(ws, ES__WS_PB, 2 * (size_t)I + 1);
  double *W = es__ws_get(ws, ES__WS_OUTER, (size_t)I + 1);
  if (!pa || !pb || !W) return 0;
  if (I > 0)
    es__tweights(hw, I, W);
  else
    W[0] = 1;
  if (!es__psi(ws, act, deriv, wa, hw, I, za, pa)) return 0;
  const double *pbp = pa;
  if (qa != qb) {
    if (!es__psi(ws, act, deriv, wb, hw, I, zb, pb)) return 0;
    pbp = pb;
  }
  double s = 0;
  for (int i = -I; i <= I; i++) s += W[i < 0 ? -i : i] * pa[i + I] * pbp[(c < 0 ? -i : i) + I];
  *out = s;
  return 1;
}

int es__e2_fast(const es_activation *act, int deriv, double qa, double qb, double qab,
                double *out) {
  if (es__step(act->id, 1) <= 0) return 0;
  es__ws ws = {{0}, {0}};
  int ok = es__e2_split(&ws, act, deriv, qa, qb, qab, out);
  es__ws_destroy(&ws);
  return ok;
}
