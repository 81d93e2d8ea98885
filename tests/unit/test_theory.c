/* theory: the two-input 1/N recursion (doc/physics.md §5.5) against the reference numbers of
 * doc/physics.md §8.3, its one-input part against §5.1's recursion, its N -> infinity limit
 * against the MFT trajectory, the exact linear-network (Wishart) moments, closed forms for
 * the 2-D moments and their derivatives, and the |c| -> 1 edge. The module's statics are
 * tested directly, so it is compiled into this test. */
#include "../../src/theory/theory.c"
#include "../../src/theory/theory_leak.c"
#include "../../src/theory/theory_leak2.c"

/* One metric on its own rule. */
static void es__ab_at(const es_activation *act, double A, double B, double X, es__ab *o) {
  static es__abws ws; /* static: the tensor rule's arrays are large */
  ws.r2.panels = 0;
  es__ab_with(act, &ws, A, B, X, o);
}

#include <stdio.h>

#include "es_test.h"

static es_mft_params P(const char *act, double sw2, double sb2, double q0, double c0) {
  es_mft_params p = {es_activation_find(act), sw2, sb2, 1, 0, q0, c0};
  return p;
}

/* Central second difference of f along (i, j) in (Kaa, Kab, Kbb). */
typedef double (*es__mfun)(const es_activation *, double, double, double);
static double es__fd2(es__mfun f, const es_activation *a, const double k[3], int i, int j,
                      double h) {
  double s = 0;
  for (int si = -1; si <= 1; si += 2)
    for (int sj = -1; sj <= 1; sj += 2) {
      double x[3] = {k[0], k[1], k[2]};
      x[i] += si * h;
      x[j] += sj * h;
      s += si * sj * f(a, x[0], x[2], x[1]);
    }
  return s / (4 * h * h);
}
static double es__fd1(es__mfun f, const es_activation *a, const double k[3], int i, double h) {
  double xp[3] = {k[0], k[1], k[2]}, xm[3] = {k[0], k[1], k[2]};
  xp[i] += h;
  xm[i] -= h;
  return (f(a, xp[0], xp[2], xp[1]) - f(a, xm[0], xm[2], xm[1])) / (2 * h);
}

/* Depth scales at finite width: the closed-form coefficients d_q = beta/chi_q and d_c =
 * c_mean against (1) the independent reference numbers of the project's physics notes
 * (Python, 6 digits), (2) this module's own recursions run to their limits: d_q as the
 * slope in t of dK1/dK between two runs started at K* +- delta (the Jordan block), and d_c
 * as the per-layer increment of R1/R in a run started at the fixed point. */
static es_theory_xi xi_coeffs(es_mft_params *p, const char *act, double sw2, double sb2,
                              es_mft_point *pt) {
  *p = P(act, sw2, sb2, 1, 0.5);
  es_theory_xi x;
  es_mft_fixed_point(p, pt);
  ASSERT_EQ_INT(es_theory_xi_coeffs(p, pt, &x), ES_OK);
  return x;
}

static void depth_scales(void) {
  static const struct {
    const char *act;
    double sw2, sb2, dxi, cmean; /* dxi = xi_q^2 d_q, the 1/N coefficient of xi_q itself */
  } ref[] = {{"tanh", 1.5, 0.05, 1.32247, 0.248719},
             {"tanh", 1.7609546396, 0.05, 1.5135, 0.318489},
             {"erf", 1.0, 0.05, 0.732319, 0.126844},
             {"sin", 1.5, 0.05, 3.04537, 0.22035}};
  es_mft_params p;
  es_mft_point pt;
  es_theory_xi x;
  for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
    x = xi_coeffs(&p, ref[i].act, ref[i].sw2, ref[i].sb2, &pt);
    ASSERT_REL(x.xi_q * x.xi_q * x.d_q, ref[i].dxi, 2e-5);
    ASSERT_REL(x.d_c, ref[i].cmean, 2e-5);
  }
  /* Chaotic: d_q exists (q's fixed point is stable); d_c from the c-mode (below). */
  x = xi_coeffs(&p, "tanh", 2.5, 0.05, &pt);
  ASSERT_REL(x.xi_q * x.xi_q * x.d_q, 1.11872, 2e-5);
  ASSERT(isfinite(x.d_c) && isfinite(es_theory_xi_at(x.xi_c, x.d_c, 64)));
  static const struct {
    const char *act;
    double sw2, sb2;
  } pts[] = {{"tanh", 1.5, 0.05}, {"erf", 1.0, 0.05}, {"sin", 1.5, 0.05}, {"gelu", 1.8, 0.1},
             {"silu", 2.0, 0.1},  {"tanh", 1.2, 0.3}, {"relu", 1.5, 0.1}, {"linear", 0.8, 0.2}};
  for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
    x = xi_coeffs(&p, pts[i].act, pts[i].sw2, pts[i].sb2, &pt);
    const double K = pt.q_star, chi = pt.chi_q, del = 1e-2;
    if (!strcmp(pts[i].act, "relu") || !strcmp(pts[i].act, "linear")) {
      /* g(K) is linear in K: no Jordan term, and the mean tangent grows exactly as chi_1. */
      ASSERT(fabs(x.d_q) < 1e-12 && fabs(x.d_c) < 1e-12);
      continue;
    }
    /* At chi^t ~ 1e-5 the transients have decayed to ~1e-5 of the slope while the differences
     * of the two runs (2 delta chi^t) still hold ~8 digits; the +-delta pair cancels the
     * even nonlinear terms. */
    const int t = (int)ceil(log(1e-5) / log(chi)), T = t + 3;
    es_theory_layer up[64], dn[64];
    ASSERT(T <= 64);
    es_mft_params a = p, b = p;
    a.q0 = (K + del - p.sigma_b2) / p.sigma_w2;
    b.q0 = (K - del - p.sigma_b2) / p.sigma_w2;
    es_theory_layers(&a, T, up);
    es_theory_layers(&b, T, dn);
    double rho[2];
    for (int k = 0; k < 2; k++)
      rho[k] = (up[t + k].K1 - dn[t + k].K1) / (up[t + k].K - dn[t + k].K);
    const double slope = (rho[1] - rho[0]) * chi; /* = beta */
    fprintf(stderr, "xi_q,N %s (%g, %g): beta %.9g closed form, %.9g recursion (t = %d)\n",
            pts[i].act, pts[i].sw2, pts[i].sb2, x.d_q * chi, slope, t);
    ASSERT_NEAR(slope, x.d_q * chi, 1e-4 * fmax(1, fabs(slope)));
    /* d_c: R1/R per layer at the fixed point, after the transients (chi_q^t, W's). */
    enum { TL = 400 };
    static es_theory_layer L[TL];
    es_mft_params f = p;
    f.q0 = (K - p.sigma_b2) / p.sigma_w2;
    es_theory_layers(&f, TL, L);
    const double inc = L[TL - 1].R1 / L[TL - 1].R - L[TL - 2].R1 / L[TL - 2].R;
    fprintf(stderr, "xi_c,N %s: c_mean %.9g closed form, %.9g recursion\n", pts[i].act, x.d_c, inc);
    ASSERT_NEAR(inc, x.d_c, 1e-7 * fmax(1, fabs(inc)));
  }
  /* q* -> 0: the coefficients vanish with q* (they are O(q*)), so q* = 0 gives 0. */
  x = xi_coeffs(&p, "tanh", 0.5, 1e-6, &pt);
  ASSERT(fabs(x.d_q) < 1e-4 && fabs(x.d_c) < 1e-4);
  x = xi_coeffs(&p, "tanh", 0.5, 0, &pt);
  ASSERT(pt.q_star == 0 && x.d_q == 0 && x.d_c == 0 && x.xi_q == pt.xi_q);
  /* The width-N scale: 1/xi_N = 1/xi - d/N, +inf where that is <= 0. */
  ASSERT_REL(es_theory_xi_at(2, 0.25, 16), 1 / (0.5 - 0.25 / 16), 1e-15);
  ASSERT(es_theory_xi_at(INFINITY, 0.3, 16) == INFINITY);
  ASSERT(isinf(es_theory_xi_at(10, 2, 16)));
  es_mft_params leaky = P("tanh", 1.5, 0.05, 1, 0.5);
  leaky.leak = 0.5;
  es_mft_fixed_point(&leaky, &pt);
  ASSERT_EQ_INT(es_theory_xi_coeffs(&leaky, &pt, &x), ES_ERR_INPUT);
}

/* The leaky 1/N theory (doc/physics.md §5.6): at leak 1 the section-2 recursions; for linear
 * phi the exact moment recursion's O(1/N) part, at any leak. */
static void leak_theory(void) {
  enum { T = 20 };
  es_theory_leak_layer L[T];
  es_theory_layer G[T];
  es_mft_params p = {es_activation_find("tanh"), 1.5, 0.05, 1, 0.1, 1, 0.6};
  ASSERT_EQ_INT(es_theory_leak_layers(&p, T, L), ES_OK);
  ASSERT_EQ_INT(es_theory_layers(&p, T, G), ES_OK);
  for (int t = 0; t < T; t++) {
    ASSERT_REL(L[t].K, G[t].K, 1e-14);
    ASSERT_NEAR(L[t].K1, G[t].K1, 1e-12);
    ASSERT_REL(L[t].Vq, G[t].Vzz + 2 * G[t].K * G[t].K, 1e-12);
    ASSERT_NEAR(L[t].D4, 3 * G[t].Vzz, 1e-12 * (1 + G[t].Vzz)); /* kurtosis 3 Vzz/(N K^2) */
  }
  /* Leak 0.05: adjacent layers correlate at ~0.95, beyond the 160-term series: NaN from a
   * layer on, not a truncated sum; leak 0.2 is within it. */
  {
    es_mft_params lo = p;
    lo.leak = 0.05;
    ASSERT_EQ_INT(es_theory_leak_layers(&lo, T, L), ES_OK);
    ASSERT(isfinite(L[0].Vq) && isnan(L[T - 1].K) && isnan(L[T - 1].Vq));
    lo.leak = 0.2;
    ASSERT_EQ_INT(es_theory_leak_layers(&lo, T, L), ES_OK);
    ASSERT(isfinite(L[T - 1].Vq));
  }
  /* Linear: q' = a^2 q + G chi + 2a sqrt(G) zeta, G = F + sw2 q, exact moments at N = 1e6. */
  es_mft_params lin = {es_activation_find("linear"), 0.5, 0.2, 0.4, 0.1, 1, 0.6};
  ASSERT_EQ_INT(es_theory_leak_layers(&lin, T, L), ES_OK);
  const double a = 0.6, F = 0.3, sw = 0.5, N = 1e6;
  double m1 = sw + 0.2, m2 = m1 * m1 * (1 + 2 / N);
  for (int t = 1; t < T; t++) {
    double EG = F + sw * m1, EG2 = F * F + 2 * F * sw * m1 + sw * sw * m2, EGq = F * m1 + sw * m2;
    double n1 = a * a * m1 + EG;
    m2 = a * a * a * a * m2 + 2 * a * a * EGq + EG2 + (2 / N) * EG2 + (4 * a * a / N) * EGq;
    m1 = n1;
    ASSERT_REL(L[t].K, m1, 1e-13);
    ASSERT_NEAR(L[t].K1, 0, 1e-13);
    ASSERT_REL(L[t].Vq, N * (m2 - m1 * m1), 1e-4); /* the O(1/N) remainder: 4e-6 at t = 20 */
  }
}

/* d_c where c* < 1 (chaotic phase, or noise; doc/physics.md 5.4.1c) against the two-input
 * recursion itself: two runs from q = q*, c = c* +- delta. The c-mode's projection of their
 * difference, f.dK1/f.dk (f the left eigenvector of J for chi_c, which removes the chi_q
 * modes), grows by d_c per layer once the transients have decayed; the slope's last three
 * values are extrapolated by Aitken's rule. Points where the remaining transients (V's, at
 * chi_i chi_j) decay faster than chi_c^t: relu needs chi_q^2 < chi_c, i.e. small sigma_w2. */
static void xi_c_pair(void) {
  static const struct {
    const char *act;
    double sw2, sb2, g;
  } pts[] = {{"tanh", 1.5, 0.05, 0.1}, {"tanh", 2.5, 0.05, 0},  {"tanh", 4, 0.05, 0},
             {"erf", 1.0, 0.05, 0.05}, {"sin", 1.5, 0.05, 0.1}, {"relu", 0.8, 0.1, 0.2},
             {"gelu", 1.2, 0.1, 0.1}};
  enum { T = 400 };
  static es_theory2_layer P2[T], M2[T];
  for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
    es_mft_params p = {es_activation_find(pts[i].act), pts[i].sw2, pts[i].sb2, 1, pts[i].g, 1, 0.5};
    es_mft_point pt;
    es_theory_xi x;
    ASSERT_EQ_INT(es_mft_fixed_point(&p, &pt), ES_OK);
    ASSERT(pt.c_star < 1);
    ASSERT_EQ_INT(es_theory_xi_coeffs(&p, &pt, &x), ES_OK);
    const double q = pt.q_star, c = pt.c_star, del = 5e-2, q0 = (q - p.sigma_b2) / p.sigma_w2;
    ASSERT_EQ_INT(es_theory2_layers(&p, q0, q0, (q * (c + del) - p.sigma_b2) / p.sigma_w2, T, P2),
                  ES_OK);
    ASSERT_EQ_INT(es_theory2_layers(&p, q0, q0, (q * (c - del) - p.sigma_b2) / p.sigma_w2, T, M2),
                  ES_OK);
    es__same3 S;
    const double k[3] = {q, q * c, q};
    ASSERT_EQ_INT(es__theory_same(p.act, ES__PAIR, k, &S), ES_OK);
    ASSERT_REL(p.sigma_w2 * S.J[1][1], pt.chi_c, 1e-10); /* the c-mode's eigenvalue */
    const double f[3] = {S.J[1][0] / (S.J[1][1] - S.J[0][0]), 1,
                         S.J[1][2] / (S.J[1][1] - S.J[2][2])};
    double sl[3] = {NAN, NAN, NAN}, prev = NAN;
    int t = 1;
    for (; t < T && fabs(P2[t].k[1] - M2[t].k[1]) > 1e-9 * q && pow(pt.chi_c, t) > 1e-7; t++) {
      double r = 0;
      for (int j = 0; j < 3; j++) r += f[j] * (P2[t].K1[j] - M2[t].K1[j]);
      r /= P2[t].k[1] - M2[t].k[1];
      sl[0] = sl[1];
      sl[1] = sl[2];
      sl[2] = r - prev;
      prev = r;
    }
    const double d1 = sl[1] - sl[0], d2 = sl[2] - sl[1];
    const double ext = d2 != d1 ? sl[2] - d2 * d2 / (d2 - d1) : sl[2];
    fprintf(stderr,
            "xi_c,N c* < 1 %s (%g, %g, g %g): c* %.6f chi_c %.6f d_c %.9g closed form, "
            "%.9g recursion (t = %d)\n",
            pts[i].act, pts[i].sw2, pts[i].sb2, pts[i].g, c, pt.chi_c, x.d_c, ext, t);
    ASSERT_NEAR(ext, x.d_c, 2e-4 * fmax(1, fabs(x.d_c)));
  }
  /* Linear: m is linear in k (no Jordan term), d_c = 0. */
  es_mft_params lin = {es_activation_find("linear"), 0.8, 0.1, 1, 0.2, 1, 0.5};
  es_mft_point pt;
  es_theory_xi x;
  es_mft_fixed_point(&lin, &pt);
  ASSERT_EQ_INT(es_theory_xi_coeffs(&lin, &pt, &x), ES_OK);
  ASSERT(pt.c_star < 1 && fabs(x.d_c) < 1e-9);
}

/* The two-channel leaky recursion (doc/physics.md §5.6.3). (1) Leak 1: the pair's k, K1 and
 * N Cov q equal es_theory2_layers' k, K1, V + Wick term, and the tangent's 22 entries
 * es_theory_layers' R, R1, Vuu + 2R^2 (the cross-layer terms vanish; only the order of the
 * sums differs). (2) Any leak: the 11 channel of either kind is the one-input recursion of
 * es_theory_leak_layers (K, K1, N Var q), whose own checks it inherits. */
static double es__rel(double x, double y) {
  return fabs(x - y) / fmax(1e-300, fmax(fabs(x), fabs(y)));
}

static void leak2_theory(void) {
  enum { T = 16 };
  static es_theory_leak2_layer P2[T], TG[T];
  static es_theory2_layer L2[T];
  static es_theory_layer G[T];
  static es_theory_leak_layer L1[T];
  const char *acts[] = {"tanh", "relu", "erf", "linear"};
  for (int ia = 0; ia < 4; ia++)
    for (int noisy = 0; noisy < 2; noisy++) {
      es_mft_params p = {es_activation_find(acts[ia]), 1.5, 0.05, 1, noisy ? 0.1 : 0, 1, 0.6};
      if (ia == 3) p.sigma_w2 = 0.8;
      ASSERT_EQ_INT(es_theory_leak2_layers(&p, ES_THEORY_PAIR, 1, 1, 0.3, T, P2), ES_OK);
      ASSERT_EQ_INT(es_theory2_layers(&p, 1, 1, 0.3, T, L2), ES_OK);
      ASSERT_EQ_INT(es_theory_leak2_layers(&p, ES_THEORY_TANGENT, 1, 0, 0, T, TG), ES_OK);
      ASSERT_EQ_INT(es_theory_layers(&p, T, G), ES_OK);
      double worst = 0;
      for (int t = 0; t < T; t++) {
        ASSERT_EQ_INT(P2[t].edge, L2[t].edge);
        if (L2[t].edge) continue;
        const double K[2][2] = {{L2[t].k[0], L2[t].k[1]}, {L2[t].k[1], L2[t].k[2]}};
        static const int ix[3][2] = {{0, 0}, {0, 1}, {1, 1}};
        for (int A = 0; A < 3; A++) {
          worst = fmax(worst, es__rel(P2[t].k[A], L2[t].k[A]));
          worst = fmax(worst, fabs(P2[t].K1[A] - L2[t].K1[A]) / (1 + fabs(L2[t].K1[A])));
          for (int B = 0; B < 3; B++) {
            const int i = ix[A][0], j = ix[A][1], c = ix[B][0], d = ix[B][1];
            const double cq = L2[t].V[A][B] + K[i][c] * K[j][d] + K[i][d] * K[j][c];
            worst = fmax(worst, fabs(P2[t].Cq[A][B] - cq) / (1 + fabs(cq)));
          }
        }
        worst = fmax(worst, es__rel(TG[t].k[2], G[t].R));
        worst = fmax(worst, fabs(TG[t].K1[2] - G[t].R1) / (1 + fabs(G[t].R1)));
        const double vr = G[t].Vuu + 2 * G[t].R * G[t].R;
        worst = fmax(worst, fabs(TG[t].Cq[2][2] - vr) / (1 + vr));
        /* N Var q_12 = N Var G_zu + q r (Wick; q_12 = h.u/N has mean 0). */
        const double w = G[t].W + G[t].K * G[t].R;
        worst = fmax(worst, fabs(TG[t].Cq[1][1] - w) / (1 + w));
      }
      fprintf(stderr, "leak2 at leak 1, %s noise %g: worst deviation %.2e\n", acts[ia], p.noise,
              worst);
      ASSERT(worst < 1e-12);
    }
  /* Any leak: the 11 channel against the one-input recursion, also where the metric is
   * large (tanh at sw2 = 10 and 20: K ~ 10 and 22; sin, erf at sw2 = 10), and at leak 0.3. */
  static const struct {
    const char *act;
    double sw2, leak;
  } c11[] = {{"tanh", 1.5, 0.5}, {"relu", 1.5, 0.5}, {"erf", 1.5, 0.5}, {"tanh", 10, 0.5},
             {"tanh", 20, 0.5},  {"sin", 10, 0.5},   {"erf", 10, 0.5},  {"gelu", 1.5, 0.3}};
  for (size_t ia = 0; ia < sizeof c11 / sizeof c11[0]; ia++) {
    es_mft_params p = {
        es_activation_find(c11[ia].act), c11[ia].sw2, 0.05, c11[ia].leak, 0.1, 1, 0.6};
    ASSERT_EQ_INT(es_theory_leak_layers(&p, T, L1), ES_OK);
    ASSERT_EQ_INT(es_theory_leak2_layers(&p, ES_THEORY_PAIR, 1, 1, 0.3, T, P2), ES_OK);
    ASSERT_EQ_INT(es_theory_leak2_layers(&p, ES_THEORY_TANGENT, 1, 0, 0, T, TG), ES_OK);
    double worst = 0;
    for (int t = 0; t < T; t++)
      for (int kind = 0; kind < 2; kind++) {
        const es_theory_leak2_layer *l = kind ? &TG[t] : &P2[t];
        ASSERT_EQ_INT(l->edge, 0);
        worst = fmax(worst, es__rel(l->k[0], L1[t].K));
        worst = fmax(worst, fabs(l->K1[0] - L1[t].K1) / (1 + fabs(L1[t].K1)));
        worst = fmax(worst, es__rel(l->Cq[0][0], L1[t].Vq));
      }
    fprintf(stderr,
            "leak2 11 channel vs one input, %s sw2 %g leak %g (K %.3g): worst deviation %.2e\n",
            c11[ia].act, c11[ia].sw2, c11[ia].leak, L1[T - 1].K, worst);
    /* The 2-D trapezoid rule against the 1-D series' panels; relu takes Gauss-Hermite, which
     * its kink limits to ~1e-4. */
    ASSERT(worst < (strcmp(c11[ia].act, "relu") ? 1e-9 : 3e-4));
  }
  /* Past the 2-D rule's 401 nodes per axis (tanh, K ~ 47): NaN with edge 3 from there on. */
  {
    es_mft_params p = {es_activation_find("tanh"), 40, 0.05, 0.5, 0.1, 1, 0.6};
    ASSERT_EQ_INT(es_theory_leak2_layers(&p, ES_THEORY_TANGENT, 1, 0, 0, T, TG), ES_OK);
    ASSERT(TG[0].edge == 0 && TG[T - 1].edge == 3 && isnan(TG[T - 1].K1[2]));
    /* Leak 0.1: layer-to-layer correlations ~0.9, beyond the series' 96 orders: edge 4. */
    p.sigma_w2 = 1.5;
    p.leak = 0.1;
    ASSERT_EQ_INT(es_theory_leak2_layers(&p, ES_THEORY_PAIR, 1, 1, 0.3, T, P2), ES_OK);
    ASSERT(P2[0].edge == 0 && P2[T - 1].edge == 4 && isnan(P2[T - 1].Cq[1][1]));
    es_theory2_pred pr;
    es_theory_leak2_pair_predict(&P2[T - 1], 64, &pr);
    ASSERT(isnan(pr.c_mean) && isnan(pr.c_var));
  }
  /* (3) Linear phi, any leak, exactly: h' = a h + Y with Y_i ~ N(0, G), G = F + sw2 q given the
   * past, so q' = a^2 q + a (<h Y^T> + <Y h^T>) + <Y Y^T> and the first two moments of the
   * metric q (3 components) close: E q' = a^2 E q + E G and
   * N Cov(q'_A, q'_B) = N Cov((a^2 q + G)_A, (a^2 q + G)_B) + E[G_ac G_bd + G_ad G_bc]
   *   + a^2 E[q_ac G_bd + q_ad G_bc + q_bc G_ad + q_bd G_ac]  (A = (a, b), B = (c, d)).
   * The theory has K1 = 0 and N Cov q equal to N times the exact covariance up to O(1/N).
   * The tangent of a linear net is a second input without bias or noise. */
  const double Nn = 1e6;
  for (int kind = 0; kind < 2; kind++) {
    const double a = 0.6, sw = 0.5, sb = 0.2, gn = 0.1;
    es_mft_params lin = {es_activation_find("linear"), sw, sb, 1 - a, gn, 1, 0.3};
    es_theory_leak2_layer *L = kind ? TG : P2;
    ASSERT_EQ_INT(es_theory_leak2_layers(&lin, kind, 1, 0.7, 0.3, T, L), ES_OK);
    const double Fv[3] = {sb + gn, kind ? 0 : sb, kind ? 0 : sb + gn};
    double m1[3] = {sw + sb, kind ? 0 : sw * 0.3 + sb, kind ? sw : sw * 0.7 + sb}, m2[3][3];
    static const int ix[3][2] = {{0, 0}, {0, 1}, {1, 1}};
    /* Layer 1 is exactly Gaussian: N Cov q = the Wick term of m1. */
#define ES__S(v, i, j) (v)[(i) + (j) == 0 ? 0 : (i) + (j) == 1 ? 1 : 2]
    for (int A = 0; A < 3; A++)
      for (int B = 0; B < 3; B++) {
        const int i = ix[A][0], j = ix[A][1], c = ix[B][0], d = ix[B][1];
        m2[A][B] = m1[A] * m1[B] +
                   (ES__S(m1, i, c) * ES__S(m1, j, d) + ES__S(m1, i, d) * ES__S(m1, j, c)) / Nn;
      }
    double worst = 0;
    for (int t = 1; t < T; t++) {
      /* E[x_A y_B] for x, y affine in q: (u + s q), with E q = m1, E q q^T = m2. */
      double n1[3], n2[3][3];
      for (int A = 0; A < 3; A++) n1[A] = a * a * m1[A] + Fv[A] + sw * m1[A];
      for (int A = 0; A < 3; A++)
        for (int B = 0; B < 3; B++) {
          const int i = ix[A][0], j = ix[A][1], c = ix[B][0], d = ix[B][1];
          const double b = a * a + sw; /* x = Fv + b q */
          double xx = Fv[A] * Fv[B] + b * (Fv[A] * m1[B] + Fv[B] * m1[A]) + b * b * m2[A][B];
          /* E[G_ic G_jd] with G = Fv + sw q: E[(Fv + sw q)_P (Fv + sw q)_Q]. */
#define ES__EGG(P, Q) (Fv[P] * Fv[Q] + sw * (Fv[P] * m1[Q] + Fv[Q] * m1[P]) + sw * sw * m2[P][Q])
#define ES__EQG(P, Q) (Fv[Q] * m1[P] + sw * m2[P][Q])
#define ES__I(x, y) ((x) + (y) == 0 ? 0 : (x) + (y) == 1 ? 1 : 2)
          const double wy = ES__EGG(ES__I(i, c), ES__I(j, d)) + ES__EGG(ES__I(i, d), ES__I(j, c));
          const double cr = ES__EQG(ES__I(i, c), ES__I(j, d)) + ES__EQG(ES__I(i, d), ES__I(j, c)) +
                            ES__EQG(ES__I(j, c), ES__I(i, d)) + ES__EQG(ES__I(j, d), ES__I(i, c));
          n2[A][B] = xx + (wy + a * a * cr) / Nn;
        }
#undef ES__EGG
#undef ES__EQG
#undef ES__I
#undef ES__S
      memcpy(m1, n1, sizeof m1);
      memcpy(m2, n2, sizeof m2);
      for (int A = 0; A < 3; A++) {
        worst = fmax(worst, es__rel(L[t].k[A], m1[A]));
        ASSERT_NEAR(L[t].K1[A], 0, 1e-13);
        for (int B = 0; B < 3; B++) {
          const double ex = Nn * (m2[A][B] - m1[A] * m1[B]);
          ASSERT_NEAR(L[t].Cq[A][B], ex, 1e-4 * (1 + fabs(ex)));
        }
      }
    }
    fprintf(stderr, "leak2 linear exact (%s): metric to %.1e\n", kind ? "tangent" : "pair", worst);
    ASSERT(worst < 1e-13);
  }
}

/* The split rule of the 2-D moments against the tensor rule it replaced, on the tensor
 * rule's fine setting (16-point panels no wider than 1.5/sqrt(2q): converged to ~1e-14 at
 * these q), for every smooth activation, q up to ES_THEORY_QMAX2, c from -0.999 to the
 * edge, equal and unequal variances; each group (m; gradient; Hessian; fourth moments)
 * relative to its largest entry or sqrt E[phi_a^2 phi_b^2] (where the group vanishes, as m
 * does at c = 0 for odd phi), whichever is larger. Then the recursion's K1 and V on either rule
 * over layers in both phases. The coarse tensor rule's own deviation is printed beside. */
static double es__ab_dev(const es__ab *x, const es__ab *y, int group) {
  const double *a, *b;
  int n;
  switch (group) {
    case 0: a = &x->m, b = &y->m, n = 1; break;
    case 1: a = x->grad, b = y->grad, n = 3; break;
    case 2: a = &x->hess[0][0], b = &y->hess[0][0], n = 9; break;
    default: a = &x->m31, b = &y->m31, n = 3; break;
  }
  double big = sqrt(fabs(y->m22)), d = 0; /* the size of phi_a phi_b: m may vanish */
  for (int i = 0; i < n; i++) {
    big = fmax(big, fabs(b[i]));
    d = fmax(d, fabs(a[i] - b[i]));
  }
  return d / big;
}

static void split_rule_accuracy(void) {
  const char *acts[] = {"tanh", "erf", "gelu", "silu", "sin"};
  const double qs[] = {0.05, 0.4, 1, 2.5, 7, 20, 50};
  const double cs[] = {-0.999, -0.5, -0.05, 0, 1e-3, 0.3, 0.7, 0.95, 0.999, 0.9999};
  static es__abws ws;
  for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
    const es_activation *act = es_activation_find(acts[a]);
    double worst[4] = {0}, coarse[4] = {0};
    for (size_t iq = 0; iq < sizeof qs / sizeof qs[0]; iq++)
      for (size_t ic = 0; ic < sizeof cs / sizeof cs[0]; ic++)
        for (int uneq = 0; uneq < 1 + (iq % 2 == 0 && qs[iq] < 20); uneq++) {
          /* B = 0.6 A at every other q; at q >= 20 (the fine rule's 2048^2 nodes are slow)
           * c = -0.999, 0, 0.7, 0.9999 only */
          if (qs[iq] >= 20 && ic % 3 != 0) continue;
          const double A = qs[iq], B = uneq ? 0.6 * A : A, X = cs[ic] * sqrt(A * B);
          es__ab o[3];
          for (int rule = 0; rule < 3; rule++) {
            es__ab_rule = rule;
            ws.r2.panels = 0;
            es__ab_with(act, &ws, A, B, X, &o[rule]);
          }
          es__ab_rule = 0;
          es__mom2 sp; /* the split rule applies here (no fallback to the tensor rule) */
          ASSERT(es__mom2_split(act, &ws.s, A, B, X, &sp) && sp.m == o[0].m);
          for (int g = 0; g < 4; g++) {
            double d = es__ab_dev(&o[0], &o[2], g);
            if (d > worst[g] && d > 1e-10)
              ES_FAIL_AT("%s q %g c %g %s: split rule group %d off by %.2e", acts[a], A, cs[ic],
                         uneq ? "B = 0.6 A" : "B = A", g, d);
            worst[g] = fmax(worst[g], d);
            coarse[g] = fmax(coarse[g], es__ab_dev(&o[1], &o[2], g));
          }
        }
    fprintf(stderr,
            "2-D moments %s: split rule within %.1e (m) %.1e (grad) %.1e (Hessian) %.1e (fourth) "
            "of the fine tensor rule; the coarse tensor rule %.1e %.1e %.1e %.1e\n",
            acts[a], worst[0], worst[1], worst[2], worst[3], coarse[0], coarse[1], coarse[2],
            coarse[3]);
  }
  es__abws_destroy(&ws);
  /* The recursion, ordered and chaotic: K1 and V relative to their largest entry per layer. */
  const double pts[5][2][2] = {{{1.5, 0.05}, {3.5, 0.3}},  /* tanh */
                               {{1.0, 0.05}, {3.0, 0.2}},  /* erf */
                               {{1.2, 0.1}, {2.2, 0.0}},   /* gelu */
                               {{1.6, 0.1}, {2.6, 0.0}},   /* silu */
                               {{1.5, 0.05}, {3.0, 0.2}}}; /* sin */
  enum { TL = 30 };
  static es_theory2_layer L0[TL], L2[TL];
  for (int a = 0; a < 5; a++) {
    double worst = 0;
    for (int ph = 0; ph < 2; ph++) {
      es_mft_params p = P(acts[a], pts[a][ph][0], pts[a][ph][1], 1, 0.5);
      es__ab_rule = 2;
      ASSERT_EQ_INT(es_theory2_layers(&p, 1.0, 0.8, 0.5, TL, L2), ES_OK);
      es__ab_rule = 0;
      ASSERT_EQ_INT(es_theory2_layers(&p, 1.0, 0.8, 0.5, TL, L0), ES_OK);
      int valid = 0;
      for (int t = 1; t < TL; t++) {
        if (L2[t].edge != 0) break;
        ASSERT_EQ_INT(L0[t].edge, 0);
        valid++;
        double bk = 0, dk = 0, bv = 0, dv = 0;
        for (int i = 0; i < 3; i++) {
          bk = fmax(bk, fabs(L2[t].K1[i]));
          dk = fmax(dk, fabs(L0[t].K1[i] - L2[t].K1[i]));
          for (int j = 0; j < 3; j++) {
            bv = fmax(bv, fabs(L2[t].V[i][j]));
            dv = fmax(dv, fabs(L0[t].V[i][j] - L2[t].V[i][j]));
          }
        }
        const double d = fmax(dk / bk, dv / bv);
        if (d > 1e-10)
          ES_FAIL_AT("%s (%g, %g) layer %d: K1, V off by %.2e", acts[a], pts[a][ph][0],
                     pts[a][ph][1], t + 1, d);
        worst = fmax(worst, d);
      }
      ASSERT(valid > 5);
    }
    fprintf(stderr,
            "1/N recursion %s: K1 and V on the split rule within %.1e of the fine tensor rule\n",
            acts[a], worst);
  }
}

/* The vector paths of the lattice sums (quad.c, for the MFT's 2-D rule) and of the split
 * rule's inner sums (here) give the scalar path's bits, for every activation, in both phases,
 * c from -0.99 to 0.999 and the whole 1/N recursion. */
static void vector_paths(void) {
  if (!es__simd_supported(ES__SIMD_AVX2)) {
    fprintf(stderr, "vector paths: this CPU has no AVX2, only the scalar path runs here\n");
    return;
  }
  const char *acts[] = {"tanh", "relu", "erf", "sin", "gelu", "silu", "linear"};
  int compared = 0;
  for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
    const es_activation *act = es_activation_find(acts[a]);
    for (double q = 0.05; q < 40; q *= 3.1)
      for (double c = -0.99; c < 1; c += 0.137) {
        double e[2], d[2];
        for (int v = 0; v < 2; v++) {
          ASSERT_EQ_INT(es__quad_set_simd(v ? ES__SIMD_AVX2 : ES__SIMD_SCALAR), 0);
          e[v] = es_mft_e_phiphi(act, q, 0.7 * q, c * q * sqrt(0.7));
          d[v] = es_mft_e_dphidphi(act, q, q, (c + 0.009) * q);
        }
        if (memcmp(e, e + 1, sizeof *e) != 0 || memcmp(d, d + 1, sizeof *d) != 0)
          ES_FAIL_AT("%s q %g c %g: scalar %.17g %.17g, avx2 %.17g %.17g", acts[a], q, c, e[0],
                     d[0], e[1], d[1]);
        compared++;
      }
    for (int ph = 0; ph < 2; ph++) {
      es_mft_params p = P(acts[a], ph ? 2.6 : 1.1, 0.05, 1, 0.4);
      enum { T = 30 };
      es_theory2_layer L[2][T];
      for (int v = 0; v < 2; v++) {
        ASSERT_EQ_INT(es__simd_force(&es__psi_path, v ? ES__SIMD_AVX2 : ES__SIMD_SCALAR), 0);
        ASSERT_EQ_INT(es_theory2_layers(&p, 1, 1, 0.4, T, L[v]), ES_OK);
      }
      for (int t = 0; t < T; t++)
        if (memcmp(&L[0][t], &L[1][t], sizeof L[0][t]) != 0)
          ES_FAIL_AT("%s phase %d layer %d: the 1/N recursion differs between paths", acts[a], ph,
                     t);
    }
  }
  es__quad_set_simd(ES__SIMD_AUTO);
  es__simd_force(&es__psi_path, ES__SIMD_AUTO);
  fprintf(stderr, "vector paths: %d 2-D expectations and 14 recursions of 30 layers, same bits\n",
          compared);
}

/* es_theory_layers_both gives the bits of the two calls it replaces (the two-input recursion
 * taking the one-input moments where its k_aa = K), for every activation, in both phases, with
 * noise, deep enough to reach the memo and the c edge, and where the one-input recursion stops
 * first (relu's q* = 0 class). */
static void shared_moments(void) {
  const char *acts[] = {"tanh", "relu", "erf", "sin", "gelu", "silu", "linear"};
  enum { T = 120 };
  static es_theory_layer A[T], B[T];
  static es_theory2_layer A2[T], B2[T];
  int compared = 0;
  for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++)
    for (int v = 0; v < 4; v++) {
      const double sw2[4] = {0.8, 1.6, 3.0, 1.9}, sb2[4] = {0.05, 0.1, 0, 0};
      es_mft_params p = P(acts[a], sw2[v], sb2[v], 1.3, 0.35);
      if (v == 3) p.noise = 0.02;
      es_status s1 = es_theory_layers(&p, T, A);
      es_status s2 = s1 == ES_OK ? es_theory2_layers(&p, 1.3, 1.3, 0.35 * 1.3, T, A2) : s1;
      es_status t2 = ES_OK, t1 = es_theory_layers_both(&p, 0.35, T, B, B2, &t2);
      ASSERT_EQ_INT(t1, s1);
      ASSERT_EQ_INT(t2, s2);
      if (s1 == ES_OK && memcmp(A, B, sizeof A) != 0)
        ES_FAIL_AT("%s sw2 %g: the one-input recursion differs", acts[a], sw2[v]);
      if (s2 == ES_OK && memcmp(A2, B2, sizeof A2) != 0)
        ES_FAIL_AT("%s sw2 %g: the two-input recursion differs with shared moments", acts[a],
                   sw2[v]);
      compared++;
    }
  fprintf(stderr, "shared moments: %d pairs of recursions of %d layers, same bits\n", compared, T);
}

int main(void) {
  shared_moments();
  vector_paths();
  depth_scales();
  split_rule_accuracy();
  /* ---- doc/physics.md §8.3: tanh at the MFT critical point, q0a = 1, q0b = 0.8, q0ab = 0.5,
   * layer 10, N = 64 (8-digit table values). */
  es_mft_params p = P("tanh", 1.7609546396, 0.05, 1, 0.5);
  es_theory2_layer L[64];
  ASSERT_EQ_INT(es_theory2_layers(&p, 1.0, 0.8, 0.5, 20, L), ES_OK);
  es_theory2_pred pr;
  es_theory2_predict(&L[9], 64, &pr);
  ASSERT_NEAR(L[9].k[1] / sqrt(L[9].k[0] * L[9].k[2]), 0.678614380096, 1e-11);
  ASSERT_NEAR(pr.c_mean, 0.67843113, 1e-8);
  ASSERT_NEAR(pr.c_var, 0.03149900, 1e-8);
  ASSERT_NEAR(pr.qab_mean, 0.38880918, 1e-8);
  ASSERT_NEAR(L[19].k[1], 0.443504568532, 1e-11);
  ASSERT_EQ_INT(L[19].edge, 0);

  /* ---- The aa block is the single-input recursion (doc/physics.md §5.1), and N -> infinity is
   * the MFT trajectory, for every activation. */
  const char *acts[] = {"tanh", "relu", "erf", "sin", "gelu", "silu", "linear"};
  for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
    int lin = strcmp(acts[a], "linear") == 0;
    p = P(acts[a], lin ? 0.9 : 1.6, 0.1, 1, 0.3);
    es_theory_layer S[12];
    ASSERT_EQ_INT(es_theory_layers(&p, 12, S), ES_OK);
    ASSERT_EQ_INT(es_theory2_layers(&p, 1, 1, 0.3, 12, L), ES_OK);
    double q[12], c[12], lr[12];
    ASSERT_EQ_INT(es_mft_trajectory(&p, 12, q, c, lr), ES_OK);
    for (int t = 0; t < 12; t++) {
      ASSERT_REL(L[t].K1[0], S[t].K1, 1e-10);
      ASSERT_REL(L[t].K1[2], S[t].K1, 1e-10);
      if (t > 0) ASSERT_REL(L[t].V[0][0], S[t].Vzz, 1e-10);
      ASSERT_NEAR(L[t].k[1] / sqrt(L[t].k[0] * L[t].k[2]), c[t], 1e-10);
      es_theory2_predict(&L[t], 1e13, &pr);
      ASSERT_NEAR(pr.c_mean, c[t], 1e-10);
      ASSERT(pr.c_var < 1e-10 && pr.c_var >= 0);
      /* The 1/N coefficient does not depend on N. */
      es_theory2_pred p1, p2;
      es_theory2_predict(&L[t], 100, &p1);
      es_theory2_predict(&L[t], 400, &p2);
      ASSERT_NEAR(100 * (p1.c_mean - c[t]), 400 * (p2.c_mean - c[t]), 1e-9);
      ASSERT_REL(100 * p1.c_var, 400 * p2.c_var, 1e-12);
    }
    if (lin) /* linear: E G is the MFT exactly */
      for (int t = 0; t < 12; t++) ASSERT_NEAR(L[t].K1[1], 0, 1e-14);
  }

  /* ---- Linear network, exact (doc/physics.md §4.2): N q ~ Wishart_2(N, G), G' = sw2 q + sb2 11^T.
   * E[q_ij q_kl] = E[G_ij G_kl] + (E[G_ik G_jl] + E[G_il G_jk])/N closes on second moments;
   * the theory's N Cov(q_A, q_B) must agree up to O(T/N) relative. */
  {
    const double sw = 1.0, sb = 0.1, N = 2000;
    p = P("linear", sw, sb, 1, 0.3);
    ASSERT_EQ_INT(es_theory2_layers(&p, 1, 1, 0.3, 10, L), ES_OK);
    double m[2][2] = {{sw + sb, 0.3 * sw + sb}, {0.3 * sw + sb, sw + sb}}, G2[2][2][2][2];
    for (int i = 0; i < 16; i++) G2[i >> 3][(i >> 2) & 1][(i >> 1) & 1][i & 1] = 0;
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 2; j++)
        for (int k = 0; k < 2; k++)
          for (int l = 0; l < 2; l++) G2[i][j][k][l] = m[i][j] * m[k][l];
    static const int ix[3][2] = {{0, 0}, {0, 1}, {1, 1}};
    for (int t = 0; t < 10; t++) {
      double Q2[2][2][2][2];
      for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
          for (int k = 0; k < 2; k++)
            for (int l = 0; l < 2; l++)
              Q2[i][j][k][l] = G2[i][j][k][l] + (G2[i][k][j][l] + G2[i][l][j][k]) / N;
      double worst = 0;
      for (int A = 0; A < 3; A++) {
        ASSERT_REL(L[t].k[A], m[ix[A][0]][ix[A][1]], 1e-12);
        for (int B = 0; B < 3; B++) {
          int i = ix[A][0], j = ix[A][1], k = ix[B][0], l = ix[B][1];
          double exact = N * (Q2[i][j][k][l] - m[i][j] * m[k][l]);
          double K[2][2] = {{L[t].k[0], L[t].k[1]}, {L[t].k[1], L[t].k[2]}};
          double th = L[t].V[A][B] + K[i][k] * K[j][l] + K[i][l] * K[j][k];
          worst = fmax(worst, fabs(th - exact) / exact);
        }
      }
      ASSERT(worst < 3.0 * (t + 1) / N);
      /* next layer: G' = sw q + sb */
      for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
          for (int k = 0; k < 2; k++)
            for (int l = 0; l < 2; l++)
              G2[i][j][k][l] = sw * sw * Q2[i][j][k][l] + sw * sb * (m[i][j] + m[k][l]) + sb * sb;
      for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) m[i][j] = sw * m[i][j] + sb;
    }
  }

  /* ---- 2-D moments. erf: quadrature against the closed forms (Williams) and their finite
   * differences. */
  {
    const es_activation *e = es_activation_find("erf");
    const double k[3] = {0.7, 0.5, 1.3};
    es__ab o;
    es__ab_at(e, k[0], k[2], k[1], &o);
    ASSERT_NEAR(o.m, es_mft_e_phiphi(e, k[0], k[2], k[1]), 1e-12);
    ASSERT_NEAR(o.grad[1], es_mft_e_dphidphi(e, k[0], k[2], k[1]), 1e-12);
    for (int i = 0; i < 3; i++) {
      ASSERT_NEAR(o.grad[i], es__fd1(es_mft_e_phiphi, e, k, i, 1e-5), 1e-9);
      for (int j = 0; j < 3; j++)
        ASSERT_NEAR(o.hess[i][j], es__fd2(es_mft_e_phiphi, e, k, i, j, 1e-4), 2e-6);
    }
    /* tanh: the Price Hessian (phi'' to phi'''' from tanh and tanh') against central
     * differences of the quadrature's gradient on a 4x finer rule, from c = -0.5 to the edge. */
    const es_activation *th = es_activation_find("tanh");
    const double kt[4][3] = {{1.0, 0.5, 1.0}, {0.7, 0.5, 1.3}, {2.0, 1.998, 2.0}, {4.0, -2.0, 4.0}};
    for (int c = 0; c < 4; c++) {
      const double A = kt[c][0], X = kt[c][1], B = kt[c][2];
      es__ab_at(th, A, B, X, &o);
      static es__rule2 fine;
      es__rule2_make(&fine, 16 * fmax(A, B), 0);
      const double eta = 1e-5, h[3] = {eta * A, eta * sqrt(A * B), eta * B};
      double big = 0;
      for (int i = 0; i < 9; i++) big = fmax(big, fabs(o.hess[i / 3][i % 3]));
      for (int j = 0; j < 3; j++) {
        double kp[3] = {A, X, B}, km[3] = {A, X, B};
        kp[j] += h[j];
        km[j] -= h[j];
        es__mom2 up, dn;
        es__mom2_quad(th, &fine, kp[0], kp[2], kp[1], 0, 0, &up);
        es__mom2_quad(th, &fine, km[0], km[2], km[1], 0, 0, &dn);
        for (int i = 0; i < 3; i++)
          ASSERT_NEAR(o.hess[i][j], (up.grad[i] - dn.grad[i]) / (2 * h[j]), 1e-7 * big);
      }
    }
    /* relu: the analytic gradient and Hessian against differences of Cho & Saul. */
    const es_activation *r = es_activation_find("relu");
    const double kr[3][3] = {{0.7, 0.5, 1.3}, {1.0, -0.6, 0.8}, {2.0, 1.98, 2.0}};
    for (int c = 0; c < 3; c++) {
      es__ab_at(r, kr[c][0], kr[c][2], kr[c][1], &o);
      double hh = c == 2 ? 1e-5 : 1e-4;
      for (int i = 0; i < 3; i++) {
        ASSERT_REL(o.grad[i], es__fd1(es_mft_e_phiphi, r, kr[c], i, 1e-6), 1e-7);
        for (int j = 0; j < 3; j++)
          ASSERT_REL(o.hess[i][j], es__fd2(es_mft_e_phiphi, r, kr[c], i, j, hh), 1e-4);
      }
    }
    /* relu fourth moments: at c = 0 they factorise, at c -> 1 E relu^4 = 3 q^2/2. */
    es__ab_at(r, 0.7, 1.3, 0, &o);
    const double s2p = sqrt(2 * ES_PI);
    ASSERT_REL(o.m22, 0.35 * 0.65, 1e-13);
    ASSERT_REL(o.m31, pow(0.7, 1.5) * 2 / s2p * sqrt(1.3) / s2p, 1e-13);
    ASSERT_REL(o.m13, pow(1.3, 1.5) * 2 / s2p * sqrt(0.7) / s2p, 1e-13);
    ASSERT_REL(es__relu_pr(1.1, 1.1, 1 - 1e-14, 2, 2), 1.5 * 1.1 * 1.1, 1e-6);
    /* Both 2-D rules on a polynomial (linear through the quadrature): Wick, Hessian 0. */
    const es_activation *lin = es_activation_find("linear");
    static es__abws lw;
    for (int rule = 0; rule < 2; rule++) {
      es__mom2 q;
      if (rule == 0)
        ASSERT(es__mom2_split(lin, &lw.s, k[0], k[2], k[1], &q));
      else
        es__mom2_quad(lin, es__rule2_for(&lw.r2, 2 * k[2], 0), k[0], k[2], k[1], 1, 1, &q);
      ASSERT_NEAR(q.m, k[1], 1e-13);
      ASSERT_NEAR(q.grad[0], 0, 1e-12);
      ASSERT_NEAR(q.grad[1], 1, 1e-12);
      ASSERT_NEAR(q.grad[2], 0, 1e-12);
      ASSERT_NEAR(q.m31, 3 * k[0] * k[1], 1e-12);
      ASSERT_NEAR(q.m22, k[0] * k[2] + 2 * k[1] * k[1], 1e-12);
      ASSERT_NEAR(q.m13, 3 * k[2] * k[1], 1e-12);
      for (int i = 0; i < 9; i++) ASSERT_NEAR(q.hess[i / 3][i % 3], 0, 1e-12);
    }
    es__abws_destroy(&lw);
  }

  /* ---- The |c| -> 1 edge. tanh ordered (1.5, 0.05) from c^1 = 0.9956 (doc/physics.md §5.4):
   * E[1-c] relaxes with rate chi_1 (1 + c_mean/N), so the l-slope of the ratio of its 1/N
   * part to its O(1) part rises towards c_mean = 0.248719 (§5.3) as 1 - c -> 0, smoothly,
   * down to 1 - c ~ 1.6e-4. */
  {
    double c0 = (0.9956 * 1.55 - 0.05) / 1.5, prev = 0, slope = 0, last = 0;
    p = P("tanh", 1.5, 0.05, 1, c0);
    ASSERT_EQ_INT(es_theory2_layers(&p, 1, 1, c0, 60, L), ES_OK);
    for (int t = 0; t < 60; t++) {
      ASSERT_EQ_INT(L[t].edge, 0);
      double c = L[t].k[1] / sqrt(L[t].k[0] * L[t].k[2]);
      es_theory2_predict(&L[t], 1000, &pr);
      double ratio = -1000 * (pr.c_mean - c) / (1 - c);
      slope = ratio - prev;
      if (t >= 20) ASSERT(slope > last - 1e-6);
      last = t >= 19 ? slope : 0;
      prev = ratio;
      ASSERT(isfinite(pr.c_var) && pr.c_var > 0 && pr.c_var < (1 - c) * (1 - c) * 0.3);
    }
    ASSERT(slope > 0.24 && slope < 0.248719);
    /* Beyond the edge: the MFT c (its limit), NaN variance; identical inputs from layer 1. */
    for (int which = 0; which < 2; which++) {
      double cc = which ? 1.0 : 0.99999;
      p = P(which ? "relu" : "tanh", 1.5, 0.05, 1, cc);
      ASSERT_EQ_INT(es_theory2_layers(&p, 1, 1, cc, 30, L), ES_OK);
      double q[30], c[30], lr[30];
      ASSERT_EQ_INT(es_mft_trajectory(&p, 30, q, c, lr), ES_OK);
      for (int t = 0; t < 30; t++) {
        ASSERT_EQ_INT(L[t].edge, 1);
        es_theory2_predict(&L[t], 100, &pr);
        ASSERT_NEAR(pr.c_mean, c[t], 1e-12);
        ASSERT(isnan(pr.c_var) && isnan(pr.qab_mean) && isnan(pr.qab_var));
      }
    }
    /* relu ordered from c0 = 0.3: finite until the edge, then flagged, never a silent NaN. */
    p = P("relu", 1.5, 0.1, 1, 0.3);
    ASSERT_EQ_INT(es_theory2_layers(&p, 1, 1, 0.3, 64, L), ES_OK);
    int edge_at = -1;
    for (int t = 0; t < 64; t++) {
      es_theory2_predict(&L[t], 100, &pr);
      if (L[t].edge == 0) ASSERT(isfinite(pr.c_mean) && isfinite(pr.c_var) && pr.c_var > 0);
      if (L[t].edge == 1 && edge_at < 0) edge_at = t;
      if (edge_at >= 0) ASSERT_EQ_INT(L[t].edge, 1);
    }
    ASSERT(edge_at > 5);
  }

  /* gelu at sigma_w2 = 3 grows without bound: the layers past q = ES_THEORY_QMAX2 are NaN
   * (edge 3) and the others are computed; relu has closed forms and goes on. */
  p = P("gelu", 3.0, 0.1, 1, 0.5);
  ASSERT_EQ_INT(es_theory2_layers(&p, 1, 1, 0.5, 40, L), ES_OK);
  int first3 = -1;
  for (int t = 0; t < 40; t++) {
    es_theory2_predict(&L[t], 100, &pr);
    if (L[t].edge == 3 && first3 < 0) first3 = t;
    if (first3 >= 0)
      ASSERT(L[t].edge == 3 && isnan(pr.c_mean) && isnan(pr.c_var));
    else
      ASSERT(isfinite(pr.c_mean) && isfinite(pr.c_var) && L[t].k[0] <= ES_THEORY_QMAX2 * 3.1);
  }
  ASSERT(first3 > 2);
  p = P("relu", 3.0, 0.1, 1, 0.5);
  ASSERT_EQ_INT(es_theory2_layers(&p, 1, 1, 0.5, 40, L), ES_OK);
  ASSERT(L[39].edge == 0 && L[39].k[0] > 1e6);

  /* Layers whose integrals' inputs repeat an earlier layer's bitwise reuse its integrals:
   * every layer's bits equal those of integrating each layer afresh, for activations with
   * fast rules, quadrature and closed forms, in both phases, with and without the |c| -> 1
   * edge; and the reuse happens (else this would test nothing). */
  {
    enum { TD = 400 };
    static es_theory_layer A1[TD], B1[TD];
    static es_theory2_layer A2[TD], B2[TD];
    const char *acts[] = {"tanh", "erf", "gelu", "silu", "relu", "linear"};
    const double pts[][2] = {{0.8, 0.05}, {1.2, 0.3}, {1.5, 0.2}, {2.5, 0.3}, {4.0, 0.5}, {1.0, 0}};
    long reused = 0;
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++)
      for (size_t k = 0; k < sizeof pts / sizeof pts[0]; k++) {
        p = P(acts[a], pts[k][0], pts[k][1], 1, 0.5);
        const long r0 = es__memo_reused;
        es__memo_off = 0;
        ASSERT_EQ_INT(es_theory_layers(&p, TD, A1), ES_OK);
        ASSERT_EQ_INT(es_theory2_layers(&p, 1, 1, 0.5, TD, A2), ES_OK);
        reused += es__memo_reused - r0;
        es__memo_off = 1;
        ASSERT_EQ_INT(es_theory_layers(&p, TD, B1), ES_OK);
        ASSERT_EQ_INT(es_theory2_layers(&p, 1, 1, 0.5, TD, B2), ES_OK);
        es__memo_off = 0;
        for (int t = 0; t < TD; t++) {
          if (memcmp(&A1[t], &B1[t], sizeof A1[t]) != 0)
            ES_FAIL_AT("%s (%g, %g) layer %d: one-input bits differ", acts[a], pts[k][0], pts[k][1],
                       t + 1);
          if (memcmp(A2[t].k, B2[t].k, sizeof A2[t].k) ||
              memcmp(A2[t].K1, B2[t].K1, sizeof A2[t].K1) ||
              memcmp(A2[t].V, B2[t].V, sizeof A2[t].V) || A2[t].edge != B2[t].edge)
            ES_FAIL_AT("%s (%g, %g) layer %d: two-input bits differ", acts[a], pts[k][0], pts[k][1],
                       t + 1);
        }
      }
    ASSERT(reused > 1000);
  }

  /* leak != 1 is refused with a reason. */
  p = P("tanh", 1.5, 0.05, 1, 0.3);
  p.leak = 0.5;
  ASSERT_EQ_INT(es_theory2_layers(&p, 1, 1, 0.3, 4, L), ES_ERR_INPUT);
  leak_theory();
  leak2_theory();
  xi_c_pair();
  ES_TEST_END();
}
