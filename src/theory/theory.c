#include "edgesweep/theory.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quad.h"
#include "simd.h"
#include "theory_impl.h"
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ES__THEORY_AVX2 1
#endif

/* Gaussian expectations at variance K that the recursions need (doc/physics.md §5.1), with
 * x = sqrt(K) z: g = E phi^2, g1 = E[phi^2 He2]/(2K), g2 = E[phi^2 He4]/(4K^2),
 * a = E phi'^2, a1, a2 alike, b = E[x^2 phi'^2], e = E[x phi phi'], and the fourth moments. */
typedef struct {
  double g, g1, g2, a, a1, a2, b, e, phi4, phi2dphi2, dphi4;
} es__moments;

/* The 1-D rule of es_mft_expect (mft's fine rule, doc/physics.md §3.4), built here so that all
 * eleven moments come from one vectorised act->eval over its nodes instead of 11 x 2 scalar
 * phi calls per node: the same nodes and weights, summed in the same order, so the moments
 * are those of es_mft_expect. */
enum { ES__R1MAX = 2048 };
typedef struct {
  int n, panels;
  double z[ES__R1MAX], w[ES__R1MAX];
} es__rule1;

/* The rule for variance q in WS, rebuilt only when its panel count changes (the nodes depend
 * on nothing else), so a recursion builds it once, not at every layer. WS->panels = 0 first. */
static const es__rule1 *es__rule1_for(es__rule1 *ws, double q) {
  const int panels = es__normal_rule_panels(q, 1);
  if (panels != ws->panels) {
    ws->n = es__normal_rule(q, 1, ws->z, ws->w);
    ws->panels = panels;
  }
  return ws;
}

static void es__moments_at(const es_activation *act, es__rule1 *ws, double K, es__moments *m) {
  const es__rule1 *r = es__rule1_for(ws, K);
  double x[ES__R1MAX], f[ES__R1MAX], d[ES__R1MAX], v[11] = {0};
  const double sq = sqrt(K);
  for (int i = 0; i < r->n; i++) x[i] = sq * r->z[i];
  act->eval((size_t)r->n, x, f, d);
  for (int i = 0; i < r->n; i++) {
    const double p = f[i], dd = d[i], z2 = x[i] * x[i] / K, w = r->w[i];
    const double he2 = z2 - 1, he4 = z2 * z2 - 6 * z2 + 3;
    v[0] += w * (p * p);
    v[1] += w * (p * p * he2);
    v[2] += w * (p * p * he4);
    v[3] += w * (dd * dd);
    v[4] += w * (dd * dd * he2);
    v[5] += w * (dd * dd * he4);
    v[6] += w * (x[i] * x[i] * dd * dd);
    v[7] += w * (x[i] * p * dd);
    v[8] += w * (p * p * p * p);
    v[9] += w * (p * p * dd * dd);
    v[10] += w * (dd * dd * dd * dd);
  }
  m->g = v[0];
  m->g1 = v[1] / (2 * K);
  m->g2 = v[2] / (4 * K * K);
  m->a = v[3];
  m->a1 = v[4] / (2 * K);
  m->a2 = v[5] / (4 * K * K);
  m->b = v[6];
  m->e = v[7];
  m->phi4 = v[8];
  m->phi2dphi2 = v[9];
  m->dphi4 = v[10];
}

/* Deep layers repeat their inputs: once a recursion has reached its fixed point to the last
 * bit (or a short cycle of roundings about it), the state that feeds a layer's integrals is
 * bitwise equal to an earlier layer's. The integrals are a pure function of that state (the
 * rules are rebuilt from it alone), so an earlier layer's integrals are reused: the same bits
 * as integrating again, and the affine recursions (K1, V, ...) continue from them. The last
 * ES__MEMO states are kept, which catches cycles up to that length. */
enum { ES__MEMO = 8 };
typedef struct {
  int n, next;
  double key[ES__MEMO][4];
} es__memo;

/* The tests turn the reuse off to compare bits, and count the reuses. */
static int es__memo_off;
static long es__memo_reused;

/* The slot holding KEY (NK doubles, compared bitwise), or -1. */
static int es__memo_find(const es__memo *m, const double *key, int nk) {
  for (int i = 0; i < m->n && !es__memo_off; i++)
    if (memcmp(m->key[i], key, (size_t)nk * sizeof *key) == 0) {
      es__memo_reused++;
      return i;
    }
  return -1;
}

/* The slot to store KEY in (the oldest once full). */
static int es__memo_put(es__memo *m, const double *key, int nk) {
  const int i = m->next;
  memcpy(m->key[i], key, (size_t)nk * sizeof *key);
  m->next = (i + 1) % ES__MEMO;
  if (m->n < ES__MEMO) m->n++;
  return i;
}

/* The one-input recursion; when KEEP, the moments of layer t go to KEEP[t] and its K to
 * KEY[t] (NaN where none were taken), for es__theory2_run. */
static es_status es__theory_run(const es_mft_params *p, int T, es_theory_layer *out, double *key,
                                es__moments *keep) {
  ES_CHECK(p->leak == 1.0, ES_ERR_INPUT,
           "the 1/N theory is implemented for leak = 1 (doc/physics.md 5.1); leak = %g", p->leak);
  if (key)
    for (int t = 0; t < T; t++) key[t] = NAN;
  const double sw = p->sigma_w2, sw2 = sw * sw;
  es_theory_layer l = {sw * p->q0 + p->sigma_b2, 0, 0, sw, 0, 0, 0, 0};
  es__memo memo = {0, 0, {{0}}};
  es__moments mm[ES__MEMO];
  es__rule1 rule;
  rule.panels = 0;
  for (int t = 0; t < T; t++) {
    out[t] = l;
    if (t + 1 == T) break;
    if (!(l.K > 0) || !(l.K < 1e100) || !(l.R < 1e100)) { /* q* = 0 class or blow-up */
      for (int u = t + 1; u < T; u++)
        out[u] = (es_theory_layer){NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
      break;
    }
    es__moments m;
    int slot = es__memo_find(&memo, &l.K, 1);
    if (slot >= 0) {
      m = mm[slot];
    } else {
      es__moments_at(p->act, &rule, l.K, &m);
      mm[es__memo_put(&memo, &l.K, 1)] = m;
    }
    if (keep) {
      key[t] = l.K;
      keep[t] = m;
    }
    es_theory_layer n;
    n.K = p->sigma_b2 + p->noise + sw * m.g;
    n.K1 = sw * (m.g1 * l.K1 + 0.5 * m.g2 * l.Vzz);
    n.Vzz = sw2 * (m.phi4 - m.g * m.g + m.g1 * m.g1 * l.Vzz);
    n.R = sw * m.a * l.R;
    n.R1 = sw * (m.a * l.R1 + l.R * m.a1 * l.K1 + m.a1 * l.Vzu + 0.5 * l.R * m.a2 * l.Vzz +
                 l.W * (m.b / (l.K * l.K) - m.a / l.K));
    n.Vzu = sw2 * (l.R * (m.phi2dphi2 - m.g * m.a) + m.g1 * (m.a * l.Vzu + l.R * m.a1 * l.Vzz));
    n.Vuu = sw2 * (l.R * l.R * (3 * m.dphi4 - m.a * m.a) + m.a * m.a * l.Vuu +
                   2 * m.a * l.R * m.a1 * l.Vzu + l.R * l.R * m.a1 * m.a1 * l.Vzz);
    n.W = sw2 * (l.R * m.phi2dphi2 + (m.e / l.K) * (m.e / l.K) * l.W);
    l = n;
  }
  return ES_OK;
}

es_status es_theory_layers(const es_mft_params *p, int T, es_theory_layer *out) {
  return es__theory_run(p, T, out, NULL, NULL);
}

/* ---------- depth scales at finite width ---------- */

static double es__xi_c_pair(const es_mft_params *p, const es_mft_point *pt);

es_status es_theory_xi_coeffs(const es_mft_params *p, const es_mft_point *pt, es_theory_xi *o) {
  ES_CHECK(p->leak == 1.0, ES_ERR_INPUT, "the 1/N depth scales are derived for leak = 1; leak = %g",
           p->leak);
  *o = (es_theory_xi){pt->xi_q, pt->xi_c, NAN, NAN};
  const double K = pt->q_star, sw = p->sigma_w2, sw2 = sw * sw;
  if (!isfinite(K)) return ES_OK;
  /* c* < 1 (chaotic phase, or noise): E c^t relaxes along the c-mode of the two-input
   * recursion (doc/physics.md 5.4.1c); c* = 1: the mean tangent, below. */
  const int pair = pt->c_star < 1;
  if (K == 0 || p->act->id == ES_ACT_RELU || p->act->id == ES_ACT_LINEAR) {
    /* relu, linear: E phi^2 is linear in K (no Jordan term) and the mean tangent grows by
     * exactly chi_1 per layer at any width (physics notes, exact finite-N laws). With c* < 1,
     * relu's E[phi_a phi_b] is not linear in k_ab (linear's is: d_c = 0). */
    o->d_q = 0;
    o->d_c = pair && K > 0 && p->act->id == ES_ACT_RELU ? es__xi_c_pair(p, pt) : 0;
    return ES_OK;
  }
  es__moments m;
  es__rule1 rule;
  rule.panels = 0;
  es__moments_at(p->act, &rule, K, &m);
  /* Two more moments on the same rule: g3 = d^3 E phi^2/dK^3 = E[phi^2 He6]/(8 K^3) and
   * d E phi^4/dK = E[phi^4 He2]/(2 K). */
  const es__rule1 *r = &rule;
  double x[ES__R1MAX], f[ES__R1MAX], g3 = 0, dphi4 = 0;
  const double sq = sqrt(K);
  for (int i = 0; i < r->n; i++) x[i] = sq * r->z[i];
  p->act->eval((size_t)r->n, x, f, NULL);
  for (int i = 0; i < r->n; i++) {
    const double z2 = r->z[i] * r->z[i], f2 = f[i] * f[i];
    g3 += r->w[i] * f2 * (((z2 - 15) * z2 + 45) * z2 - 15);
    dphi4 += r->w[i] * f2 * f2 * (z2 - 1);
  }
  g3 /= 8 * K * K * K;
  dphi4 /= 2 * K;
  const double chi = sw * m.g1; /* chi_q at leak 1 */
  /* Fixed point of the fluctuation recursions, then the linear response of K1 to a
   * perturbation dK ~ chi^t (V follows it as y dK). */
  const double V = sw2 * (m.phi4 - m.g * m.g) / (1 - chi * chi);
  const double K1 = 0.5 * sw * m.g2 * V / (1 - chi);
  const double y = (sw2 * (dphi4 - 2 * m.g * m.g1) + 2 * chi * sw * m.g2 * V) / (chi - chi * chi);
  const double beta = sw * m.g2 * K1 + 0.5 * sw * g3 * V + 0.5 * sw * m.g2 * y;
  o->d_q = beta / chi;
  if (pair) {
    o->d_c = es__xi_c_pair(p, pt);
    return ES_OK;
  }
  /* Tangent at the fixed point: u = Vzu/R and w = W/R are stationary, and R1/R grows by
   * d_c per layer. */
  const double u = sw * ((m.phi2dphi2 - m.g * m.a) + m.g1 * m.a1 * V) / (m.a * (1 - chi));
  const double den = m.a - sw * (m.e / K) * (m.e / K);
  if (!(den > 0)) return ES_OK; /* W/R grows without bound: no stationary rate */
  const double w = sw * m.phi2dphi2 / den;
  o->d_c = (m.a1 * K1 + m.a1 * u + 0.5 * m.a2 * V + w * (m.b / (K * K) - m.a / K)) / m.a;
  return ES_OK;
}

double es_theory_xi_at(double xi, double d, double N) {
  if (isnan(xi) || isnan(d)) return NAN;
  const double rate = 1 / xi - d / N;
  return rate > 0 ? 1 / rate : INFINITY;
}

void es_theory_predict(const es_theory_layer *l, double N, es_theory_pred *o) {
  double vq = l->Vzz + 2 * l->K * l->K, vr = l->Vuu + 2 * l->R * l->R;
  o->q_mean = l->K + l->K1 / N;
  o->q_var = vq / N;
  o->logq_mean = log(l->K) + (l->K1 / l->K - vq / (2 * l->K * l->K)) / N;
  o->logq_var = vq / (N * l->K * l->K);
  o->logjac_mean = log(l->R) + (l->R1 / l->R - vr / (2 * l->R * l->R)) / N;
  o->logjac_var = vr / (N * l->R * l->R);
}

/* ==================== two inputs (doc/physics.md §5.5) ==================== */

/* Normal rule for one axis of the 2-D tensor rule in whitened coordinates: mft's coarse rule,
 * 8-point panels on [-8.5, 8.5], no wider than 1 nor than ~ the distance to tanh's complex
 * pole, pi/(2 sqrt q) (doc/physics.md §3.4); or its fine rule (16-point panels, up to 2048
 * nodes: the tests' reference). The tensor rule is the split rule's fallback and the
 * yardstick it is tested against. */
enum { ES__R2MAX = 2048 };
typedef struct {
  int n, panels; /* panels: set by es__rule2_for only */
  double z[ES__R2MAX], w[ES__R2MAX];
  /* Row i of the tensor rule keeps k in [lo[i], hi[i]): the nodes whose joint weight is
   * below 1e-17 of the largest add nothing at double precision (the corners of the square;
   * a fifth of the work), and the kept ones are one run, so a row is a plain vector. */
  int lo[ES__R2MAX], hi[ES__R2MAX];
} es__rule2;

/* mft's coarse (or FINE) rule for variances up to qmax. */
static void es__rule2_make(es__rule2 *r, double qmax, int fine) {
  r->n = es__normal_rule(qmax, fine, r->z, r->w);
  double wmax = 0;
  for (int i = 0; i < r->n; i++) wmax = fmax(wmax, r->w[i]);
  const double wcut = 1e-17 * wmax * wmax;
  for (int i = 0; i < r->n; i++) {
    int lo = 0, hi = r->n;
    while (lo < hi && r->w[i] * r->w[lo] < wcut) lo++;
    while (hi > lo && r->w[i] * r->w[hi - 1] < wcut) hi--;
    r->lo[i] = lo;
    r->hi[i] = hi;
  }
}

/* The rule for QMAX in WS, rebuilt only when it changes (as es__rule1_for; a fine rule's
 * panel count is kept negated). */
static const es__rule2 *es__rule2_for(es__rule2 *ws, double qmax, int fine) {
  const int panels = es__normal_rule_panels(qmax, fine) * (fine ? -1 : 1);
  if (panels != ws->panels) {
    es__rule2_make(ws, qmax, fine);
    ws->panels = panels;
  }
  return ws;
}

/* The 2-D moments of one metric (A = Kaa, B = Kbb, X = Kab) that the recursion needs:
 * m = E[phi_a phi_b]; its gradient in (Kaa, Kab, Kbb) by Price's theorem with phi' only,
 * dm/dKab = E[phi'_a phi'_b], dm/dKaa = (E[u_a phi'_a phi_b] - Kab E[phi'_a phi'_b])/(2 Kaa)
 * (Stein along u_a turns (1/2)E[phi''_a phi_b] into first derivatives: valid for relu);
 * and the mixed fourth moments E[phi_a^3 phi_b], E[phi_a^2 phi_b^2], E[phi_a phi_b^3]. */
typedef struct {
  double m, grad[3], m31, m22, m13;
  double hess[3][3]; /* with es__mom2_quad's HESS */
} es__mom2;

/* phi'' to phi'''' at x from phi = f and phi' = d in closed form (Price's theorem turns the
 * Hessian of E[phi_a phi_b] into their expectations). tanh: -2 t d, 4 t^2 d - 2 d^2,
 * 16 t d^2 - 8 t^3 d; erf: erf' times -2x, 4x^2 - 2, 12x - 8x^3; gelu = x Phi: N(x) times
 * 2 - x^2, x^3 - 4x, 7x^2 - x^4 - 4; silu = x s: k s^(k-1) + x s^(k) with s1 = s(1-s),
 * s2 = s1(1-2s), s3 = s1(1-6 s1), s4 = s2(1-12 s1); sin: -sin, -cos, sin. */
static inline void es__d234(es_act_id id, double x, double f, double d, double *d2, double *d3,
                            double *d4) {
  switch (id) {
    case ES_ACT_TANH:
      *d2 = -2 * f * d;
      *d3 = 4 * f * f * d - 2 * d * d;
      *d4 = 16 * f * d * d - 8 * f * f * f * d;
      return;
    case ES_ACT_ERF:
      *d2 = -2 * x * d;
      *d3 = (4 * x * x - 2) * d;
      *d4 = (12 - 8 * x * x) * x * d;
      return;
    case ES_ACT_GELU: {
      const double n = exp(-0.5 * x * x) / sqrt(2 * ES_PI), x2 = x * x;
      *d2 = (2 - x2) * n;
      *d3 = (x2 - 4) * x * n;
      *d4 = ((7 - x2) * x2 - 4) * n;
      return;
    }
    case ES_ACT_SILU: {
      const double e = exp(-fabs(x)), s = x >= 0 ? 1 / (1 + e) : e / (1 + e);
      const double s1 = e / ((1 + e) * (1 + e)), s2 = s1 * (1 - 2 * s), s3 = s1 * (1 - 6 * s1);
      const double s4 = s2 * (1 - 12 * s1);
      *d2 = 2 * s1 + x * s2;
      *d3 = 3 * s2 + x * s3;
      *d4 = 4 * s3 + x * s4;
      return;
    }
    case ES_ACT_SIN:
      *d2 = -f;
      *d3 = -d;
      *d4 = f;
      return;
    default: *d2 = *d3 = *d4 = 0; /* linear: a polynomial of degree 1 */
  }
}

/* The tensor rule. HESS: also the Hessian of m by Price's theorem from the same nodes, no
 * differences: d2m/dKaa^2 = E[phi''''_a phi_b]/4, d2m/dKaa dKab = E[phi'''_a phi'_b]/2,
 * d2m/dKaa dKbb = E[phi''_a phi''_b]/4, d2m/dKab^2 = E[phi''_a phi''_b], b alike. */
static void es__mom2_quad(const es_activation *act, const es__rule2 *r, double A, double B,
                          double X, int fourth, int hess, es__mom2 *o) {
  double sa = sqrt(A), sb = sqrt(B), c = X / (sa * sb);
  if (c > 1) c = 1;
  if (c < -1) c = -1;
  const double s = sqrt(1 - c * c);
  /* Odd phi: every integrand here is even under (u_a, u_b) -> (-u_a, -u_b), which maps the
   * symmetric tensor rule onto itself, so half the rows, counted twice, give the same sums. */
  const int rows = act->odd ? r->n / 2 : r->n;
  const double fold = act->odd ? 2 : 1;
  double m = 0, pp = 0, ua = 0, ub = 0, m31 = 0, m22 = 0, m13 = 0;
  double h40 = 0, h31 = 0, h22 = 0, h13 = 0, h04 = 0;
  double xa[ES__R2MAX], fa[ES__R2MAX], da[ES__R2MAX], xb[ES__R2MAX], fb[ES__R2MAX], db[ES__R2MAX];
  for (int i = 0; i < rows; i++) xa[i] = sa * r->z[i];
  if (rows > 0) act->eval((size_t)rows, xa, fa, da);
  const double sbs = sb * s;
  for (int i = 0; i < rows; i++) {
    const double mid = sb * c * r->z[i];
    const int n = r->hi[i] - r->lo[i];
    if (n <= 0) continue;
    const double *zb = r->z + r->lo[i], *wb = r->w + r->lo[i];
    for (int k = 0; k < n; k++) xb[k] = mid + sbs * zb[k];
    act->eval((size_t)n, xb, fb, db);
    /* Four partial sums per integral: the adds of one sum no longer wait on each other. */
    double im[4] = {0}, ipp[4] = {0}, iub[4] = {0}, i22[4] = {0}, i13[4] = {0};
    int k = 0;
    for (; k + 4 <= n; k += 4)
      for (int u = 0; u < 4; u++) {
        double w = wb[k + u];
        im[u] += w * fb[k + u];
        ipp[u] += w * db[k + u];
        iub[u] += w * xb[k + u] * db[k + u];
      }
    for (; k < n; k++) {
      im[0] += wb[k] * fb[k];
      ipp[0] += wb[k] * db[k];
      iub[0] += wb[k] * xb[k] * db[k];
    }
    if (fourth) {
      for (k = 0; k + 4 <= n; k += 4)
        for (int u = 0; u < 4; u++) {
          double fb2 = fb[k + u] * fb[k + u];
          i22[u] += wb[k + u] * fb2;
          i13[u] += wb[k + u] * fb2 * fb[k + u];
        }
      for (; k < n; k++) {
        double fb2 = fb[k] * fb[k];
        i22[0] += wb[k] * fb2;
        i13[0] += wb[k] * fb2 * fb[k];
      }
    }
    double i2 = 0, i3 = 0, i4 = 0;
    if (hess)
      for (k = 0; k < n; k++) {
        double d2, d3, d4;
        es__d234(act->id, xb[k], fb[k], db[k], &d2, &d3, &d4);
        i2 += wb[k] * d2;
        i3 += wb[k] * d3;
        i4 += wb[k] * d4;
      }
    const double sim = (im[0] + im[1]) + (im[2] + im[3]);
    const double sipp = (ipp[0] + ipp[1]) + (ipp[2] + ipp[3]);
    const double siub = (iub[0] + iub[1]) + (iub[2] + iub[3]);
    double w = r->w[i];
    m += w * fa[i] * sim;
    pp += w * da[i] * sipp;
    ua += w * xa[i] * da[i] * sim;
    ub += w * fa[i] * siub;
    if (fourth) {
      const double s22 = (i22[0] + i22[1]) + (i22[2] + i22[3]);
      const double s13 = (i13[0] + i13[1]) + (i13[2] + i13[3]);
      m31 += w * fa[i] * fa[i] * fa[i] * sim;
      m22 += w * fa[i] * fa[i] * s22;
      m13 += w * fa[i] * s13;
    }
    if (hess) {
      double d2, d3, d4;
      es__d234(act->id, xa[i], fa[i], da[i], &d2, &d3, &d4);
      h40 += w * d4 * sim;
      h31 += w * d3 * sipp;
      h22 += w * d2 * i2;
      h13 += w * da[i] * i3;
      h04 += w * fa[i] * i4;
    }
  }
  m *= fold;
  pp *= fold;
  ua *= fold;
  ub *= fold;
  o->m = m;
  o->grad[0] = (ua - X * pp) / (2 * A);
  o->grad[1] = pp;
  o->grad[2] = (ub - X * pp) / (2 * B);
  o->m31 = fold * m31;
  o->m22 = fold * m22;
  o->m13 = fold * m13;
  if (hess) {
    const double H[3][3] = {
        {h40 / 4, h31 / 2, h22 / 4}, {h31 / 2, h22, h13 / 2}, {h22 / 4, h13 / 2, h04 / 4}};
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++) o->hess[a][b] = fold * H[a][b];
  }
}

/* relu: E[relu_a^p relu_b^r] (p, r >= 1) by the exact angular integral of doc/physics.md §3.3,
 * u_a = sqrt(A) rho cos t, u_b = sqrt(B) rho cos(t - beta), over the wedge where both are
 * positive, t in (beta - pi/2, pi/2); the integrand is a trigonometric polynomial, so two
 * 8-point Gauss-Legendre panels are exact to rounding. */
static double es__relu_pr(double A, double B, double c, int p, int r) {
  static double gx[8], gw[8]; /* the nodes once: Newton iterations cost more than the sum */
  static int ready;
  if (!ready) {
    es__gauss_legendre(8, gx, gw);
    ready = 1;
  }
  double beta = acos(c), lo = beta - ES_PI / 2, hi = ES_PI / 2, sum = 0;
  for (int pn = 0; pn < 2; pn++) {
    double a = lo + pn * (hi - lo) / 2, b = a + (hi - lo) / 2;
    for (int i = 0; i < 8; i++) {
      double t = 0.5 * (a + b) + 0.5 * (b - a) * gx[i];
      sum += 0.5 * (b - a) * gw[i] * pow(sqrt(A) * cos(t), p) * pow(sqrt(B) * cos(t - beta), r);
    }
  }
  int n = p + r;
  return pow(2, 0.5 * n) * tgamma(0.5 * n + 1) / (2 * ES_PI) * sum;
}

/* ---------- the split rule (smooth activations) ----------
 * E[F(u_a) G(u_b)] in the symmetric split of es__e2_fast (quad.c): u_a = wa w + za z_a,
 * u_b = sign(c) wb w + zb z_b, wa = sqrt(|c| A), za = sqrt((1 - |c|) A), b alike, w, z_a, z_b
 * independent normals, so E = E_w[psi_F,a(w) psi_G,b(sign(c) w)] with the inner integrals
 * psi_F,a(w) = E_z[F(wa w + za z)]: a 1-D trapezoid sum in w over inner trapezoid sums. The
 * inner nodes of all outer nodes lie on one lattice x_j = j del (del = wa hw / p, p whole),
 * so phi and phi' are evaluated once per lattice point (~10^2-10^3 of them, against ~10^4
 * on the tensor rule) and every integrand is formed from them: F in {phi, phi', phi^2,
 * phi^3, phi'', phi''', phi''''}. Where the outer spacing is far below what the inner rule
 * needs (|c| -> 0) the lattice would be dense, and each outer node takes its own inner rule.
 * Steps: es__step's (error ~exp(-44) for phi and phi'), shortened by ES__SPLIT_H for the
 * higher powers and derivatives (phi'''' has a fifth-order pole where tanh has a simple
 * one; phi^3 grows thrice as fast off the axis); tested against the fine tensor rule. */
#define ES__SPLIT_H 0.85
/* The step in z for the integrands of phi(sigma z) up to POW factors (sin: a frequency
 * pow sigma, aliased beyond 2 pi / h, kept 9.4 away as es__step does for phi^2). */
static double es__split_step(es_act_id id, double sigma, int pow) {
  if (id == ES_ACT_SIN) return fmin(0.669, 2 * ES_PI / (pow * sigma + 9.4));
  return ES__SPLIT_H * es__step(id, sigma);
}
enum { ES__NF = 8, ES__SPLIT_MAX = 1 << 17 }; /* functions (one pad); lattice points at most */
enum { ES__F, ES__D, ES__F2, ES__F3, ES__D2, ES__D3, ES__D4 };
/* Parity of each F when phi is odd (phi odd, phi' even, ...). */
static const double es__fpar[ES__NF] = {-1, 1, 1, -1, -1, 1, -1, 1};

/* The split rule's scratch: buffer 0 for the lattice, 1 for psi; grown as needed and kept
 * across a recursion's layers. */
typedef struct {
  double *buf[2];
  size_t cap[2];
} es__sws;

static double *es__sws_get(es__sws *ws, int slot, size_t n) {
  return es__grow(&ws->buf[slot], &ws->cap[slot], n);
}

/* The functions F at n points x into F[j * ES__NF + f]; FS, DS: n doubles of scratch. */
static void es__ffill(const es_activation *act, size_t n, const double *x, double *F, double *fs,
                      double *ds) {
  act->eval(n, x, fs, ds);
  for (size_t j = 0; j < n; j++) {
    double *o = F + j * ES__NF, f = fs[j], d = ds[j];
    o[ES__F] = f;
    o[ES__D] = d;
    o[ES__F2] = f * f;
    o[ES__F3] = f * f * f;
    es__d234(act->id, x[j], f, d, &o[ES__D2], &o[ES__D3], &o[ES__D4]);
    o[7] = 0;
  }
}

/* psi_F(w_i) = E_z[F(ws w_i + zs z)], w_i = hw i, i = -I..I, into psi[(i + I) * ES__NF + f].
 * Returns 0 when the memory (or the size cap) is not there. */
/* PSI[f] = wz[0] c0[f] + sum_k wz[k] (c0[k NF + f] + c0[-k NF + f]) for the NF functions
 * side by side. Each f is summed on its own, with the same operations in the same order on
 * every path (no fused multiply-add), so the bits never depend on the path. */
static void es__psi_sum_c(const double *c0, const double *wz, int K, double *psi) {
  double s[ES__NF];
  for (int f = 0; f < ES__NF; f++) s[f] = wz[0] * c0[f];
  for (int k = 1; k <= K; k++)
    for (int f = 0; f < ES__NF; f++) s[f] += wz[k] * (c0[k * ES__NF + f] + c0[-k * ES__NF + f]);
  for (int f = 0; f < ES__NF; f++) psi[f] = s[f];
}

#ifdef ES__THEORY_AVX2
__attribute__((target("avx2"))) static void es__psi_sum_avx2(const double *c0, const double *wz,
                                                             int K, double *psi) {
  _Static_assert(ES__NF == 8, "two vectors of four");
  const __m256d w0 = _mm256_set1_pd(wz[0]);
  __m256d lo = _mm256_mul_pd(w0, _mm256_loadu_pd(c0));
  __m256d hi = _mm256_mul_pd(w0, _mm256_loadu_pd(c0 + 4));
  for (int k = 1; k <= K; k++) {
    const __m256d w = _mm256_set1_pd(wz[k]);
    const double *up = c0 + k * ES__NF, *dn = c0 - k * ES__NF;
    lo = _mm256_add_pd(lo,
                       _mm256_mul_pd(w, _mm256_add_pd(_mm256_loadu_pd(up), _mm256_loadu_pd(dn))));
    hi = _mm256_add_pd(
        hi, _mm256_mul_pd(w, _mm256_add_pd(_mm256_loadu_pd(up + 4), _mm256_loadu_pd(dn + 4))));
  }
  _mm256_storeu_pd(psi, lo);
  _mm256_storeu_pd(psi + 4, hi);
}
#endif

static es__simd es__psi_path = ES__SIMD_AUTO; /* set by the unit test to compare paths */

/* The inner sums of the path this CPU runs (chosen once per es__split_psi, not per node). */
typedef void (*es__psi_sum_fn)(const double *c0, const double *wz, int K, double *psi);
static es__psi_sum_fn es__psi_sum_path(void) {
#ifdef ES__THEORY_AVX2
  if (es__simd_resolve(&es__psi_path) >= ES__SIMD_AVX2) return es__psi_sum_avx2;
#endif
  return es__psi_sum_c;
}

static int es__split_psi(const es_activation *act, es__sws *ws, double hw, int I, double wsc,
                         double zs, double *psi) {
  const int odd = act->odd, i0 = odd ? 0 : -I; /* odd phi: psi(-i) = parity x psi(i) */
  double hz = es__split_step(act->id, zs, 3);  /* psi of phi^3 */
  const int K = es__tnodes(&hz, ES__SPLIT_MAX / 4);
  const double dx = wsc * hw;
  const es__psi_sum_fn psi_sum = es__psi_sum_path();
  /* The lattice: spacing dx / p <= zs hz; else (denser than the per-node rules) those. */
  const double pr = zs > 0 && dx > 0 ? ceil(dx / (zs * hz) - 1e-12) : 1;
  const double p = pr < 1 ? 1 : pr, del = dx > 0 ? dx / p : zs * hz;
  const double Kl = zs > 0 ? ceil(ES__TL * zs / del) : 0, J = p * I + Kl;
  const double direct = (I - i0 + 1.0) * (2.0 * K + 1);
  if (zs > 0 && !(2 * J + 1 <= ES__SPLIT_MAX) && !(direct <= ES__SPLIT_MAX)) return 0;
  if (zs <= 0 || ((odd ? J + 1 : 2 * J + 1) <= direct && 2 * J + 1 <= ES__SPLIT_MAX)) {
    const int Ji = (int)J, Ki = (int)Kl, pi = (int)p, j0 = odd ? 0 : -Ji;
    const size_t n = (size_t)(Ji - j0 + 1), nl = 2 * (size_t)Ji + 1;
    double *b = es__sws_get(ws, 0, nl * ES__NF + 3 * n + (size_t)Ki + 1);
    if (!b) return 0;
    double *lat = b, *x = lat + nl * ES__NF, *fs = x + n, *ds = fs + n, *wz = ds + n;
    for (size_t j = 0; j < n; j++) x[j] = del * (j0 + (int)j);
    es__ffill(act, n, x, lat + (size_t)(j0 + Ji) * ES__NF, fs, ds);
    if (odd)
      for (int j = 1; j <= Ji; j++)
        for (int f = 0; f < ES__NF; f++)
          lat[(size_t)(Ji - j) * ES__NF + f] = es__fpar[f] * lat[(size_t)(Ji + j) * ES__NF + f];
    if (zs <= 0) { /* |c| = 1: no inner integral */
      for (int i = i0; i <= I; i++)
        for (int f = 0; f < ES__NF; f++)
          psi[(size_t)(i + I) * ES__NF + f] = lat[(size_t)(pi * i + Ji) * ES__NF + f];
    } else {
      es__tweights(del / zs, Ki, wz);
      for (int i = i0; i <= I; i++)
        psi_sum(lat + (size_t)(pi * i + Ji) * ES__NF, wz, Ki, psi + (size_t)(i + I) * ES__NF);
    }
  } else { /* each outer node its own inner rule */
    const size_t n = 2 * (size_t)K + 1;
    double *b = es__sws_get(ws, 0, n * ES__NF + 3 * n + (size_t)K + 1);
    if (!b) return 0;
    double *F = b, *x = F + n * ES__NF, *fs = x + n, *ds = fs + n, *wz = ds + n;
    es__tweights(hz, K, wz);
    for (int i = i0; i <= I; i++) {
      for (int k = -K; k <= K; k++) x[k + K] = dx * i + zs * hz * k;
      es__ffill(act, n, x, F, fs, ds);
      psi_sum(F + (size_t)K * ES__NF, wz, K, psi + (size_t)(i + I) * ES__NF);
    }
  }
  if (odd)
    for (int i = 1; i <= I; i++)
      for (int f = 0; f < ES__NF; f++)
        psi[(size_t)(I - i) * ES__NF + f] = es__fpar[f] * psi[(size_t)(I + i) * ES__NF + f];
  return 1;
}

/* es__mom2_quad's moments with the Price Hessian (and the gradient's a, b parts as
 * E[phi''_a phi_b]/2, E[phi_a phi''_b]/2) by the split rule. Returns 0 when the activation has
 * no fast step or the memory is not there (the caller then takes the tensor rule). */
static int es__mom2_split(const es_activation *act, es__sws *ws, double A, double B, double X,
                          es__mom2 *o) {
  if (es__step(act->id, 1) <= 0) return 0;
  double c = X / sqrt(A * B);
  if (c > 1) c = 1;
  if (c < -1) c = -1;
  const double ac = fabs(c), wa = sqrt(ac * A), wb = sqrt(ac * B);
  const double za = sqrt((1 - ac) * A), zb = sqrt((1 - ac) * B);
  /* The outer step: that of phi(wa w), or of psi's own growth off the axis when larger
   * (es__e2_split). */
  double hw = es__split_step(act->id, fmax(wa, wb), 4); /* phi_a^3 phi_b */
  if (ac < 1) hw = fmax(hw, ES__SPLIT_H * fmin(0.669, ES_PI / sqrt(44 * (0.5 + ac / (1 - ac)))));
  const int I = ac > 0 ? es__tnodes(&hw, ES__SPLIT_MAX / 4) : 0;
  const int same = A == B;
  const size_t np = (2 * (size_t)I + 1) * ES__NF;
  double *mem = es__sws_get(ws, 1, (same ? 1 : 2) * np + (size_t)I + 1);
  if (!mem) return 0;
  double *pa = mem, *pb = same ? pa : pa + np, *W = pb + np;
  if (!es__split_psi(act, ws, hw, I, wa, za, pa) ||
      (!same && !es__split_psi(act, ws, hw, I, wb, zb, pb)))
    return 0;
  if (I > 0)
    es__tweights(hw, I, W);
  else
    W[0] = 1;
  /* The twelve outer sums, pairs (F of u_a, G of u_b). */
  static const int pr[12][2] = {{ES__F, ES__F},   {ES__D, ES__D},  {ES__D2, ES__F},
                                {ES__F, ES__D2},  {ES__F3, ES__F}, {ES__F2, ES__F2},
                                {ES__F, ES__F3},  {ES__D4, ES__F}, {ES__D3, ES__D},
                                {ES__D2, ES__D2}, {ES__D, ES__D3}, {ES__F, ES__D4}};
  double S[12] = {0};
  for (int i = -I; i <= I; i++) {
    const double w = W[i < 0 ? -i : i];
    const double *a = pa + (size_t)(i + I) * ES__NF,
                 *b = pb + (size_t)((c < 0 ? -i : i) + I) * ES__NF;
    for (int k = 0; k < 12; k++) S[k] += w * a[pr[k][0]] * b[pr[k][1]];
  }
  o->m = S[0];
  o->grad[0] = S[2] / 2;
  o->grad[1] = S[1];
  o->grad[2] = S[3] / 2;
  o->m31 = S[4];
  o->m22 = S[5];
  o->m13 = S[6];
  const double h40 = S[7], h31 = S[8], h22 = S[9], h13 = S[10], h04 = S[11];
  const double H[3][3] = {
      {h40 / 4, h31 / 2, h22 / 4}, {h31 / 2, h22, h13 / 2}, {h22 / 4, h13 / 2, h04 / 4}};
  memcpy(o->hess, H, sizeof H);
  return 1;
}

/* The gradient and Hessian of m = E[phi_a phi_b] in (Kaa, Kab, Kbb), and the fourth moments. */
typedef struct {
  double m, grad[3], hess[3][3], m31, m22, m13;
} es__ab;

/* The 2-D rules' workspace, kept across a recursion's layers: r2.panels = 0 and s zeroed
 * first, es__abws_destroy last. */
typedef struct {
  es__rule2 r2;
  es__sws s;
} es__abws;

static void es__abws_destroy(es__abws *ws) {
  free(ws->s.buf[0]);
  free(ws->s.buf[1]);
}

/* The tests take the tensor rule (1) or its fine version (2) as the reference. */
static int es__ab_rule;

static void es__ab_with(const es_activation *act, es__abws *ws, double A, double B, double X,
                        es__ab *o) {
  double c = X / sqrt(A * B);
  if (c > 1) c = 1;
  if (c < -1) c = -1;
  memset(o, 0, sizeof *o);
  if (act->id == ES_ACT_LINEAR) { /* Wick */
    o->m = X;
    o->grad[1] = 1;
    o->m31 = 3 * A * X;
    o->m22 = A * B + 2 * X * X;
    o->m13 = 3 * B * X;
    return;
  }
  if (act->id == ES_ACT_RELU) { /* closed forms (Cho & Saul), derivatives in theta */
    double th = acos(c), s = sin(th), rab = sqrt(A * B);
    o->m = rab * (s + (ES_PI - th) * c) / (2 * ES_PI);
    o->grad[1] = (ES_PI - th) / (2 * ES_PI);
    o->grad[0] = sqrt(B / A) * s / (4 * ES_PI);
    o->grad[2] = sqrt(A / B) * s / (4 * ES_PI);
    o->hess[1][1] = 1 / (2 * ES_PI * s * rab);
    o->hess[0][1] = o->hess[1][0] = -c / (4 * ES_PI * s * A);
    o->hess[2][1] = o->hess[1][2] = -c / (4 * ES_PI * s * B);
    o->hess[0][0] = sqrt(B / A) * (c * c - s * s) / (8 * ES_PI * A * s);
    o->hess[2][2] = sqrt(A / B) * (c * c - s * s) / (8 * ES_PI * B * s);
    o->hess[0][2] = o->hess[2][0] = 1 / (8 * ES_PI * rab * s);
    o->m31 = es__relu_pr(A, B, c, 3, 1);
    o->m22 = es__relu_pr(A, B, c, 2, 2);
    o->m13 = es__relu_pr(A, B, c, 1, 3);
    return;
  }
  /* Smooth activations: the split rule, or the tensor rule where it does not apply; both with
   * the Price Hessian. */
  es__mom2 base;
  if (es__ab_rule != 0 || !es__mom2_split(act, &ws->s, A, B, X, &base)) {
    /* phi'''' has a fifth-order pole where phi has a simple one: panels 1/sqrt(2) as wide
     * keep the tensor rule's Hessian within ~1e-8 of a 4x finer rule up to q = 15. */
    const es__rule2 *r = es__rule2_for(&ws->r2, fmax(A, B) * 1.001 * 2, es__ab_rule == 2);
    es__mom2_quad(act, r, A, B, X, 1, 1, &base);
  }
  o->m = base.m;
  memcpy(o->grad, base.grad, sizeof o->grad);
  memcpy(o->hess, base.hess, sizeof o->hess);
  o->m31 = base.m31;
  o->m22 = base.m22;
  o->m13 = base.m13;
}

/* es__moments_at at K, or the moments of an earlier K bitwise equal (MEMO, MM). */
static void es__moments1(const es_activation *act, es__rule1 *r1, es__memo *memo, es__moments *mm,
                         double K, es__moments *m) {
  int slot = es__memo_find(memo, &K, 1);
  if (slot < 0) {
    slot = es__memo_put(memo, &K, 1);
    es__moments_at(act, r1, K, &mm[slot]);
  }
  *m = mm[slot];
}

/* es_mft_e_phi2 at K, or that of an earlier K bitwise equal (MEMO, V). */
static double es__phi2_memo(const es_activation *act, es__memo *memo, double *v, double K) {
  int slot = es__memo_find(memo, &K, 1);
  if (slot < 0) {
    slot = es__memo_put(memo, &K, 1);
    v[slot] = es_mft_e_phi2(act, K);
  }
  return v[slot];
}

/* es__moments1, or a one-input recursion's moments of layer T when its K is this K bitwise
 * (the same function of the same K: the same bits). */
static void es__moments_shared(const es_activation *act, es__rule1 *r1, es__memo *memo,
                               es__moments *mm, const double *one_k, const es__moments *one_m,
                               int t, double K, es__moments *m) {
  if (one_k && memcmp(&one_k[t], &K, sizeof K) == 0)
    *m = one_m[t];
  else
    es__moments1(act, r1, memo, mm, K, m);
}

es_status es__theory_same(const es_activation *act, int kind, const double k[3], es__same3 *o) {
  memset(o, 0, sizeof *o);
  es__rule1 r1;
  r1.panels = 0;
  es__moments ma;
  es__moments_at(act, &r1, k[0], &ma);
  if (kind == ES__TANGENT) {
    /* (h, u) with Cov(h, u) = 0: m = (E phi^2, 0, R E phi'^2); E[phi phi' u] = k12 E[(phi phi')'],
     * E[phi'^2 u^2] = R E phi'^2 + k12^2 E[(phi'^2)''] give the 12 and k12^2 terms. */
    const double K = k[0], R = k[2];
    o->m[0] = ma.g;
    o->m[2] = R * ma.a;
    o->J[0][0] = ma.g1;
    o->J[1][1] = ma.e / K; /* E[(phi phi')'] = E[h phi phi']/K (Stein) */
    o->J[2][0] = R * ma.a1;
    o->J[2][2] = ma.a;
    o->H[0][0][0] = ma.g2;
    o->H[2][0][0] = R * ma.a2;
    o->H[2][0][2] = o->H[2][2][0] = ma.a1;
    o->H[2][1][1] = 2 * (ma.b / (K * K) - ma.a / K); /* 2 E[(phi'^2)''] */
    o->C[0][0] = ma.phi4 - ma.g * ma.g;
    o->C[0][2] = o->C[2][0] = R * (ma.phi2dphi2 - ma.g * ma.a);
    o->C[1][1] = R * ma.phi2dphi2;
    o->C[2][2] = R * R * (3 * ma.dphi4 - ma.a * ma.a);
    return ES_OK;
  }
  es__moments mb = ma;
  if (k[2] != k[0]) es__moments_at(act, &r1, k[2], &mb);
  es__abws *ws = calloc(1, sizeof *ws);
  if (!ws) {
    es_error_set("theory: out of memory for the 2-D rules");
    return ES_ERR_NOMEM;
  }
  es__ab ab;
  es__ab_with(act, ws, k[0], k[2], k[1], &ab);
  es__abws_destroy(ws);
  free(ws);
  /* As es_theory2_layers. */
  o->m[0] = ma.g;
  o->m[1] = ab.m;
  o->m[2] = mb.g;
  o->J[0][0] = ma.g1;
  for (int i = 0; i < 3; i++) o->J[1][i] = ab.grad[i];
  o->J[2][2] = mb.g1;
  o->H[0][0][0] = ma.g2;
  memcpy(o->H[1], ab.hess, sizeof ab.hess);
  o->H[2][2][2] = mb.g2;
  const double C[3][3] = {{ma.phi4 - ma.g * ma.g, ab.m31 - ma.g * ab.m, ab.m22 - ma.g * mb.g},
                          {ab.m31 - ma.g * ab.m, ab.m22 - ab.m * ab.m, ab.m13 - ab.m * mb.g},
                          {ab.m22 - ma.g * mb.g, ab.m13 - ab.m * mb.g, mb.phi4 - mb.g * mb.g}};
  memcpy(o->C, C, sizeof C);
  return ES_OK;
}

/* Solve the n x n system A x = b (row-major, destroyed) by elimination with partial
 * pivoting; 0 when singular. */
static int es__solve(int n, double *A, double *b) {
  for (int c = 0; c < n; c++) {
    int piv = c;
    for (int r = c + 1; r < n; r++)
      if (fabs(A[r * n + c]) > fabs(A[piv * n + c])) piv = r;
    if (!(fabs(A[piv * n + c]) > 0)) return 0;
    if (piv != c) {
      for (int k = 0; k < n; k++) {
        const double t = A[c * n + k];
        A[c * n + k] = A[piv * n + k];
        A[piv * n + k] = t;
      }
      const double t = b[c];
      b[c] = b[piv];
      b[piv] = t;
    }
    for (int r = c + 1; r < n; r++) {
      const double f = A[r * n + c] / A[c * n + c];
      for (int k = c; k < n; k++) A[r * n + k] -= f * A[c * n + k];
      b[r] -= f * b[c];
    }
  }
  for (int c = n - 1; c >= 0; c--) {
    double x = b[c];
    for (int k = c + 1; k < n; k++) x -= A[c * n + k] * b[k];
    b[c] = x / A[c * n + c];
  }
  return 1;
}

/* Solve X = s J X J^T + D for the 3x3 X (the fixed point or driven response of V' =
 * s J V J^T + ...), scaled: lam X - s J X J^T = D. 0 when singular. */
static int es__sylv3(double lam, double s, const double J[3][3], const double D[3][3],
                     double X[3][3]) {
  double A[81], b[9];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      b[i * 3 + j] = D[i][j];
      for (int k = 0; k < 3; k++)
        for (int l = 0; l < 3; l++)
          A[(i * 3 + j) * 9 + k * 3 + l] = (i == k && j == l ? lam : 0) - s * J[i][k] * J[j][l];
    }
  if (!es__solve(9, A, b)) return 0;
  for (int i = 0; i < 9; i++) X[i / 3][i % 3] = b[i];
  return 1;
}

/* The 1/N shift d_c of E c^t's relaxation rate where c* < 1 (doc/physics.md 5.4.1c): the
 * two-input recursion (k, K1, V) linearised at its fixed point. A perturbation along the
 * c-mode e_c = (0, 1, 0) of A = sw2 J (eigenvalue chi_c) drives V at the same rate
 * (y: chi_c y - sw2^2 J y J^T = dV'/dk e_c) and K1 through dK1'/dk e_c + (sw2/2) H:y, whose
 * projection beta on the c-mode (left eigenvector f, f.e_c = 1) is a Jordan term:
 * E c^t - c_inf ~ chi_c^t (1 + beta t/(chi_c N)), so d_c = beta/chi_c. The derivatives along
 * e_c are central differences of the layer's moments. Leak 1 only (the caller checks). */
static double es__xi_c_pair(const es_mft_params *p, const es_mft_point *pt) {
  const double q = pt->q_star, c = pt->c_star, sw = p->sigma_w2, sw2 = sw * sw;
  if (!(q > 0) || !(1 - fabs(c) >= ES_THEORY_CEDGE)) return NAN;
  const int closed = p->act->id == ES_ACT_RELU || p->act->id == ES_ACT_LINEAR;
  if (!closed && !(q <= ES_THEORY_QMAX2)) return NAN;
  const double k[3] = {q, q * c, q};
  const double h = 1e-3 * q * fmin(1 - fabs(c), 0.5);
  const double kp[3] = {q, q * c + h, q}, km[3] = {q, q * c - h, q};
  es__same3 S, Sp, Sm;
  if (es__theory_same(p->act, ES__PAIR, k, &S) != ES_OK ||
      es__theory_same(p->act, ES__PAIR, kp, &Sp) != ES_OK ||
      es__theory_same(p->act, ES__PAIR, km, &Sm) != ES_OK)
    return NAN;
  /* Fixed point: V* = sw2^2 (C + J V* J^T), K1* = (I - sw2 J)^{-1} (sw2/2) H:V*. */
  double V[3][3], C2[3][3];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) C2[i][j] = sw2 * S.C[i][j];
  if (!es__sylv3(1, sw2, S.J, C2, V)) return NAN;
  double A[9], K1[3];
  for (int i = 0; i < 3; i++) {
    K1[i] = 0;
    for (int j = 0; j < 3; j++) {
      A[i * 3 + j] = (i == j) - sw * S.J[i][j];
      for (int l = 0; l < 3; l++) K1[i] += 0.5 * sw * S.H[i][j][l] * V[j][l];
    }
  }
  if (!es__solve(3, A, K1)) return NAN;
  const double chi = sw * S.J[1][1]; /* the c-mode: column 1 of J is (0, J11, 0) */
  if (!(fabs(chi - sw * S.J[0][0]) > 1e-12 * chi)) return NAN; /* degenerate with chi_q */
  const double f[3] = {S.J[1][0] / (S.J[1][1] - S.J[0][0]), 1, S.J[1][2] / (S.J[1][1] - S.J[2][2])};
  /* Derivatives along e_c: dJ, dH, dC; then B e_c and D e_c. */
  double dJ[3][3], dC[3][3], Be[3], De[3][3];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      dJ[i][j] = (Sp.J[i][j] - Sm.J[i][j]) / (2 * h);
      dC[i][j] = (Sp.C[i][j] - Sm.C[i][j]) / (2 * h);
    }
  for (int i = 0; i < 3; i++) {
    double x = 0;
    for (int j = 0; j < 3; j++) {
      x += dJ[i][j] * K1[j];
      for (int l = 0; l < 3; l++) x += 0.25 * (Sp.H[i][j][l] - Sm.H[i][j][l]) / h * V[j][l];
    }
    Be[i] = sw * x;
  }
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double x = dC[i][j];
      for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
          x += dJ[i][a] * V[a][b] * S.J[j][b] + S.J[i][a] * V[a][b] * dJ[j][b];
      De[i][j] = sw2 * x;
    }
  double y[3][3];
  if (!es__sylv3(chi, sw2, S.J, De, y)) return NAN;
  double beta = 0;
  for (int i = 0; i < 3; i++) {
    double x = Be[i];
    for (int j = 0; j < 3; j++)
      for (int l = 0; l < 3; l++) x += 0.5 * sw * S.H[i][j][l] * y[j][l];
    beta += f[i] * x;
  }
  return beta / chi;
}

static int es__c_edge(const double k[3]) {
  return !(1 - fabs(k[1] / sqrt(k[0] * k[2])) >= ES_THEORY_CEDGE);
}

/* Layers FROM..T-1 do not exist: all NaN with the reason code EDGE. */
static void es__theory2_stop(es_theory2_layer *out, int from, int T, int edge) {
  for (int u = from; u < T; u++) {
    for (int i = 0; i < 3; i++) {
      out[u].k[i] = out[u].K1[i] = NAN;
      for (int j = 0; j < 3; j++) out[u].V[i][j] = NAN;
    }
    out[u].edge = edge;
  }
}

/* The two-input recursion; ONE_K and ONE_M (or NULL): a one-input recursion's K and moments by
 * layer (es__theory_run), taken where k_aa or k_bb equals that layer's K bitwise. */
static es_status es__theory2_run(const es_mft_params *p, double qa0, double qb0, double qab0, int T,
                                 const double *one_k, const es__moments *one_m,
                                 es_theory2_layer *out) {
  ES_CHECK(p->leak == 1.0, ES_ERR_INPUT,
           "the 1/N theory is implemented for leak = 1 (doc/physics.md 5.5); leak = %g", p->leak);
  const double sw = p->sigma_w2, sw2 = sw * sw, sb = p->sigma_b2, g = p->noise;
  es_theory2_layer l;
  memset(&l, 0, sizeof l);
  l.k[0] = sw * qa0 + sb;
  l.k[1] = sw * qab0 + sb;
  l.k[2] = sw * qb0 + sb;
  /* Keyed by (k, edge): the integrals of the layer (es__memo). */
  es__memo memo = {0, 0, {{0}}};
  struct {
    es__ab ab;
    es__moments ma, mb;
    double nk[3]; /* edge layers: the MFT part */
  } mv[ES__MEMO];
  /* The one-input moments depend on k_aa (k_bb) alone, which reaches its fixed point long
   * before the metric does: their own memo. */
  es__memo memo1 = {0, 0, {{0}}};
  es__moments mm1[ES__MEMO];
  /* The rules: built when their panel count changes, not at every layer. */
  es__rule1 r1;
  es__abws ws;
  r1.panels = ws.r2.panels = 0;
  /* Edge layers: E phi^2 of k_aa (k_bb), which settles long before k_ab: their own memo. */
  es__memo memo2 = {0, 0, {{0}}};
  double phi2[ES__MEMO];
  ws.s = (es__sws){{NULL, NULL}, {0, 0}};
  for (int t = 0; t < T; t++) {
    if (l.edge == 0 && es__c_edge(l.k)) {
      l.edge = 1;
      for (int i = 0; i < 3; i++) {
        l.K1[i] = NAN;
        for (int j = 0; j < 3; j++) l.V[i][j] = NAN;
      }
    }
    out[t] = l;
    if (t + 1 == T) break;
    if (!(l.k[0] > 0 && l.k[2] > 0) || !(l.k[0] < 1e100 && l.k[2] < 1e100)) {
      /* q* = 0 class or blow-up: as the single-input recursion, nothing past here */
      es__theory2_stop(out, t + 1, T, 2);
      break;
    }
    const int closed = p->act->id == ES_ACT_RELU || p->act->id == ES_ACT_LINEAR;
    if (!closed && !(fmax(l.k[0], l.k[2]) <= ES_THEORY_QMAX2)) {
      /* Past q ~ 50 the rules are untested (the tensor rule, the fallback, is capped and
       * gelu/silu look kinked at its scale). Stop rather than guess. */
      es__theory2_stop(out, t + 1, T, 3);
      break;
    }
    es_theory2_layer n;
    n.edge = l.edge;
    const double key[4] = {l.k[0], l.k[1], l.k[2], l.edge};
    int slot = es__memo_find(&memo, key, 4);
    const int hit = slot >= 0;
    if (!hit) slot = es__memo_put(&memo, key, 4);
    if (l.edge) { /* the MFT part only */
      if (!hit) {
        mv[slot].nk[0] = sb + g + sw * es__phi2_memo(p->act, &memo2, phi2, l.k[0]);
        mv[slot].nk[1] = sb + sw * es_mft_e_phiphi(p->act, l.k[0], l.k[2], l.k[1]);
        mv[slot].nk[2] = sb + g + sw * es__phi2_memo(p->act, &memo2, phi2, l.k[2]);
      }
      memcpy(n.k, mv[slot].nk, sizeof n.k);
      for (int i = 0; i < 3; i++) {
        n.K1[i] = NAN;
        for (int j = 0; j < 3; j++) n.V[i][j] = NAN;
      }
      l = n;
      continue;
    }
    if (!hit) {
      es__ab_with(p->act, &ws, l.k[0], l.k[2], l.k[1], &mv[slot].ab);
      es__moments_shared(p->act, &r1, &memo1, mm1, one_k, one_m, t, l.k[0], &mv[slot].ma);
      if (l.k[2] == l.k[0])
        mv[slot].mb = mv[slot].ma;
      else
        es__moments_shared(p->act, &r1, &memo1, mm1, one_k, one_m, t, l.k[2], &mv[slot].mb);
    }
    const es__ab ab = mv[slot].ab;
    const es__moments ma = mv[slot].ma, mb = mv[slot].mb;
    const double m[3] = {ma.g, ab.m, mb.g};
    const double J[3][3] = {{ma.g1, 0, 0}, {ab.grad[0], ab.grad[1], ab.grad[2]}, {0, 0, mb.g1}};
    const double C[3][3] = {{ma.phi4 - ma.g * ma.g, ab.m31 - ma.g * ab.m, ab.m22 - ma.g * mb.g},
                            {ab.m31 - ma.g * ab.m, ab.m22 - ab.m * ab.m, ab.m13 - ab.m * mb.g},
                            {ab.m22 - ma.g * mb.g, ab.m13 - ab.m * mb.g, mb.phi4 - mb.g * mb.g}};
    double HV[3] = {ma.g2 * l.V[0][0], 0, mb.g2 * l.V[2][2]};
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) HV[1] += ab.hess[i][j] * l.V[i][j];
    double JV[3][3] = {{0}};
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++)
        for (int k = 0; k < 3; k++) JV[i][j] += J[i][k] * l.V[k][j];
    for (int i = 0; i < 3; i++) {
      n.k[i] = sb + (i == 1 ? 0 : g) + sw * m[i];
      double jk = 0;
      for (int k = 0; k < 3; k++) jk += J[i][k] * l.K1[k];
      n.K1[i] = sw * (jk + 0.5 * HV[i]);
      for (int j = 0; j < 3; j++) {
        double jvj = 0;
        for (int k = 0; k < 3; k++) jvj += JV[i][k] * J[j][k];
        n.V[i][j] = sw2 * (C[i][j] + jvj);
      }
    }
    l = n;
  }
  es__abws_destroy(&ws);
  return ES_OK;
}

es_status es_theory2_layers(const es_mft_params *p, double qa0, double qb0, double qab0, int T,
                            es_theory2_layer *out) {
  return es__theory2_run(p, qa0, qb0, qab0, T, NULL, NULL, out);
}

es_status es_theory_layers_both(const es_mft_params *p, double c0, int T, es_theory_layer *one,
                                es_theory2_layer *two, es_status *st2) {
  double *key = malloc((size_t)T * sizeof *key);
  es__moments *keep = malloc((size_t)T * sizeof *keep);
  if (!key || !keep) {
    free(key);
    free(keep);
    es_error_set("out of memory for the moments of %d layers", T);
    *st2 = ES_ERR_NOMEM;
    return ES_ERR_NOMEM;
  }
  es_status st = es__theory_run(p, T, one, key, keep);
  *st2 = st == ES_OK ? es__theory2_run(p, p->q0, p->q0, c0 * p->q0, T, key, keep, two) : st;
  free(key);
  free(keep);
  return st;
}

void es_theory2_predict(const es_theory2_layer *l, double N, es_theory2_pred *o) {
  const double A = l->k[0], X = l->k[1], B = l->k[2];
  *o = (es_theory2_pred){NAN, NAN, NAN, NAN};
  if (l->edge >= 2) return;
  if (l->edge == 1) {
    o->c_mean = X / sqrt(A * B);
    return;
  }
  /* N Cov(q_A, q_B) = V + Wick term of the Wishart given G; k as a 2x2 matrix. */
  const double K[2][2] = {{A, X}, {X, B}};
  static const int ix[3][2] = {{0, 0}, {0, 1}, {1, 1}};
  double Cq[3][3];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      int a = ix[i][0], b = ix[i][1], cc = ix[j][0], d = ix[j][1];
      Cq[i][j] = l->V[i][j] + K[a][cc] * K[b][d] + K[a][d] * K[b][cc];
    }
  es__theory2_pred_cq(l->k, l->K1, (const double(*)[3])Cq, N, o);
}

void es__theory2_pred_cq(const double k[3], const double K1[3], const double Cq[3][3], double N,
                         es_theory2_pred *o) {
  const double A = k[0], X = k[1], B = k[2], rab = sqrt(A * B), c = X / rab;
  const double gc[3] = {-c / (2 * A), 1 / rab, -c / (2 * B)};
  const double Hc[3][3] = {{3 * c / (4 * A * A), -1 / (2 * A * rab), c / (4 * A * B)},
                           {-1 / (2 * A * rab), 0, -1 / (2 * B * rab)},
                           {c / (4 * A * B), -1 / (2 * B * rab), 3 * c / (4 * B * B)}};
  double lin = 0, quad = 0, var = 0;
  for (int i = 0; i < 3; i++) {
    lin += gc[i] * K1[i];
    for (int j = 0; j < 3; j++) {
      quad += Hc[i][j] * Cq[i][j];
      var += gc[i] * Cq[i][j] * gc[j];
    }
  }
  o->qab_mean = X + K1[1] / N;
  o->qab_var = Cq[1][1] / N;
  o->c_mean = c + (lin + 0.5 * quad) / N;
  o->c_var = var / N;
}
