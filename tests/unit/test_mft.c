/* mft against the reference numbers of doc/physics.md §8 (independent Python quadrature),
 * closed forms against the quadrature, phases, and xi_c diverging at the edge of chaos. */
#include "edgesweep/mft.h"

#include <math.h>
#include <string.h>

#include "es_test.h"

static es_mft_params P(const char *act, double sw2, double sb2) {
  es_mft_params p = {es_activation_find(act), sw2, sb2, 1, 0, 1, 0.5};
  return p;
}

/* doc/physics.md §8.2: q*, chi_1, chi_q, c*, chi_c (8-digit table values: tolerance 2e-8). */
static const struct {
  const char *act;
  double sw2, sb2, q, chi1, chiq, c, chic, xic;
} fp[] = {
    {"tanh", 1.5, 0.0, 0.28689423, 1.0405676, 0.69549115, 0, 0.98108374, 52.362982},
    {"tanh", 2.0, 0.0, 0.61796477, 1.1055288, 0.552516, 0, 0.95501069, 21.723666},
    {"tanh", 1.5, 0.05, 0.4180372, 0.93863627, 0.55198321, 1, 0.93863627, 15.790994},
    {"tanh", 2.5, 0.05, 1.0639584, 1.1335157, 0.42846385, 0.44680423, 0.91871677, 11.795598},
    {"tanh", 3.0, 0.3, 1.8051831, 1.0957511, 0.29761941, 0.81898219, 0.92621719, 13.046905},
    {"erf", 1.0, 0.05, 0.28842669, 0.86759458, 0.55020625, 1, 0.86759458, 7.0407292},
    {"erf", 2.0, 0.05, 0.96595481, 1.1546528, 0.39382277, 0.43448124, 0.90648223, 10.184974},
    {"sin", 1.5, 0.05, 0.55069194, 0.99930806, 0.49861613, 1, 0.99930806, 1444.7182},
    {"relu", 1.5, 0.1, 0.4, 0.75, 0.75, 1, 0.75, 3.4760595},
    {"relu", 1.9, 0.05, 1, 0.95, 0.95, 1, 0.95, 19.495726},
    {"linear", 0.8, 0.2, 1, 0.8, 0.8, 1, 0.8, 4.4814201},
    {"gelu", 1.8, 0.1, 0.25106739, 0.64076842, 0.7079171, 1, 0.64076842, 2.2467509},
    {"silu", 2.0, 0.1, 0.2347252, 0.59558221, 0.63640491, 1, 0.59558221, 1.9296979},
};

/* doc/physics.md §8.1: critical sigma_w2 (10 digits). */
static const double sb2s[] = {0.01, 0.05, 0.1, 0.2, 0.5, 1.0};
static const double crit_tanh[] = {1.4242052905, 1.7609546396, 1.9860726411,
                                   2.2851524737, 2.8431674597, 3.4432109123};
static const double crit_erf[] = {1.1142800634, 1.3758390073, 1.5521178553,
                                  1.7881797673, 2.2336596345, 2.7183813523};
static const double crit_sin[] = {1.3047732572, 1.5020701026, 1.6118115549,
                                  1.7311118609, 1.8812253608, 1.9611797514};

typedef struct {
  const es_activation *act;
  int d;
} es__sq_ctx;

static double mean_g(double x, void *c) {
  const es__sq_ctx *m = c;
  return m->d ? m->act->dphi(x) : m->act->phi(x);
}

/* The fixed-point summary as an array, for limits taken field by field. */
enum { NF0 = 8 };
static void fields(const es_mft_point *o, double f[NF0]) {
  const double v[NF0] = {o->q_star, o->c_star, o->chi1, o->chi_q,
                         o->chi_c,  o->xi_q,   o->xi_c, o->lyapunov};
  for (int i = 0; i < NF0; i++) f[i] = v[i];
}

/* q* = 0 (sigma_b2 = 0): every value is the sigma_b2 -> 0+ limit. The limit is taken by
 * linear extrapolation from sigma_b2 = 1e-10 and 1e-12 (every value is smooth in q* there:
 * q* ~ sigma_b2/(1 - chi_1)), and chi_1 = chi_q = chi_c = (1-gamma)^2 + sigma_w2 lim E phi'^2
 * is checked against its closed form. Chaotic points (q* > 0) must be continuous as well. */
static void zero_bias_limits(void) {
  static const struct {
    const char *act;
    double dphi2; /* lim_{q -> 0} E_q[phi'^2] */
  } L[] = {{"linear", 1},  {"relu", 0.5},  {"tanh", 1}, {"erf", 4 / ES_PI},
           {"gelu", 0.25}, {"silu", 0.25}, {"sin", 1}};
  static const double sw2s[] = {0.5, 1.5, 3.0}, leaks[] = {1, 0.6};
  int ordered = 0, chaotic = 0;
  for (size_t a = 0; a < sizeof L / sizeof L[0]; a++)
    for (int il = 0; il < 2; il++)
      for (int iw = 0; iw < 3; iw++) {
        es_mft_params p = P(L[a].act, sw2s[iw], 0);
        p.leak = leaks[il];
        es_mft_point o0, o1, o2;
        ASSERT_EQ_INT(es_mft_fixed_point(&p, &o0), ES_OK);
        p.sigma_b2 = 1e-10;
        es_mft_fixed_point(&p, &o1);
        p.sigma_b2 = 1e-12;
        es_mft_fixed_point(&p, &o2);
        ASSERT_EQ_INT(o0.phase, o2.phase);
        if (o0.phase == ES_PHASE_NO_FIXED_POINT) continue;
        const double k2 = (1 - p.leak) * (1 - p.leak), chi0 = k2 + sw2s[iw] * L[a].dphi2;
        if (o0.q_star == 0) {
          ordered++;
          ASSERT(chi0 < 1 && o0.phase == ES_PHASE_ORDERED && o0.c_star == 1);
          ASSERT_REL(o0.chi1, chi0, 1e-15);
          ASSERT_REL(o0.chi_q, chi0, 1e-15);
          ASSERT_REL(o0.chi_c, chi0, 1e-15);
          ASSERT_REL(o0.lyapunov, 0.5 * log(chi0), 1e-15);
          ASSERT_REL(o0.xi_c, -1 / log(chi0), 1e-15);
        } else {
          chaotic++;
          ASSERT(o0.phase == ES_PHASE_CHAOTIC && o0.q_star > 0 && o0.chi1 > 1);
        }
        double f0[NF0], f1[NF0], f2[NF0];
        fields(&o0, f0);
        fields(&o1, f1);
        fields(&o2, f2);
        for (int i = 0; i < NF0; i++) {
          double lim = f2[i] - (f1[i] - f2[i]) * 1e-12 / (1e-10 - 1e-12);
          if (fabs(f0[i] - lim) > 1e-9 * fmax(1, fabs(lim)))
            ES_FAIL_AT("%s sw2 %g leak %g field %d: sigma_b2 = 0 gives %.15g, the limit %.15g",
                       L[a].act, sw2s[iw], p.leak, i, f0[i], lim);
        }
      }
  /* Both phases were met (tanh, erf, sin at sigma_w2 = 1.5, 3 are chaotic). */
  ASSERT(ordered >= 10 && chaotic >= 6);
  /* critical agrees with the fixed point: ordered with q* = 0 just below, chaotic just above
   * (relu, linear: no finite fixed point above). gelu and silu at sigma_b2 = 0 leave the
   * ordered phase where q's unstable fixed point passes q^1, not at chi_1 = 1: NaN. */
  for (size_t a = 0; a < sizeof L / sizeof L[0]; a++) {
    es_mft_params p = P(L[a].act, 1, 0);
    double c;
    char why[96];
    ASSERT_EQ_INT(es_mft_critical(&p, &c, why), ES_OK);
    if (L[a].dphi2 == 0.25) {
      ASSERT(isnan(c) && why[0]);
      continue;
    }
    ASSERT_REL(c, 1 / L[a].dphi2, 1e-15);
    es_mft_point o;
    p.sigma_w2 = c * (1 - 1e-3);
    es_mft_fixed_point(&p, &o);
    ASSERT(o.phase == ES_PHASE_ORDERED && o.q_star == 0 && o.chi1 < 1);
    p.sigma_w2 = c * (1 + 1e-3);
    es_mft_fixed_point(&p, &o);
    ASSERT(o.phase == ES_PHASE_CHAOTIC || o.phase == ES_PHASE_NO_FIXED_POINT);
    ASSERT(o.chi1 > 1);
  }
}

/* The recurrent model's stationary DMFT (doc/physics.md §3.6): leak 1 reduces to the standard
 * maps; linear phi has closed forms; a long direct iteration of the time-dependent DMFT
 * (es_mft_dmft) converges to the stationary values; the critical line is the rescaled
 * standard one without noise and lambda = 0 with it. The feedforward leaky map's line
 * rescales the same way. */
static void recurrent_stationary(void) {
  es_mft_point o, f;
  double tc;
  /* Leak 1, noise 0: exactly es_mft_fixed_point. */
  for (size_t i = 0; i < sizeof fp / sizeof fp[0]; i++) {
    es_mft_params p = P(fp[i].act, fp[i].sw2, fp[i].sb2);
    ASSERT_EQ_INT(es_mft_recurrent_point(&p, &o, &tc), ES_OK);
    es_mft_fixed_point(&p, &f);
    ASSERT(o.q_star == f.q_star && o.c_star == f.c_star && o.chi1 == f.chi1 &&
           o.lyapunov == f.lyapunov && o.phase == f.phase && tc == 0);
  }
  /* Leak 1, noise > 0: the feedforward map with noise (C(tau >= 1) is the c-map's c*). */
  static const double sw2n[] = {0.8, 1.5, 2.5};
  for (int i = 0; i < 3; i++) {
    es_mft_params p = P("tanh", sw2n[i], 0.05);
    p.noise = 0.1;
    ASSERT_EQ_INT(es_mft_recurrent_point(&p, &o, &tc), ES_OK);
    es_mft_fixed_point(&p, &f);
    ASSERT_REL(o.q_star, f.q_star, 1e-12);
    ASSERT_NEAR(o.c_star, f.c_star, 1e-12);
    ASSERT_NEAR(o.lyapunov, f.lyapunov, 1e-12);
    ASSERT_NEAR(o.chi_c, f.chi_c, 1e-12);
    ASSERT(f.c_star < 1 && o.phase == f.phase);
  }
  /* Linear phi: C(tau) = C_inf + A mu^|tau|, C_inf = sb2/(gamma^2 - sw2),
   * mu + 1/mu = (1 + a^2 - sw2)/a, A = g/(a (1/mu - mu)); Lambda = a + sqrt(sw2). */
  {
    const double gam = 0.6, a = 1 - gam, sw2 = 0.1, sb2 = 0.2, g = 0.3;
    es_mft_params p = {es_activation_find("linear"), sw2, sb2, gam, g, 1, 0.5};
    double C[40], B = (1 + a * a - sw2) / a, mu = 0.5 * (B - sqrt(B * B - 4));
    double cinf = sb2 / (gam * gam - sw2), A = g / (a * (1 / mu - mu));
    es_mft_stationary_state st;
    ASSERT_EQ_INT(es_mft_stationary(&p, 39, C, &st), ES_OK);
    for (int t = 0; t < 40; t++) ASSERT_REL(C[t], cinf + A * pow(mu, t), 1e-12);
    ASSERT_REL(st.q_star, cinf + A, 1e-12);
    ASSERT_REL(st.c_star, cinf / (cinf + A), 1e-11);
    ASSERT_NEAR(st.lambda, log(a + sqrt(sw2)), 1e-13);
    ASSERT_REL(st.corr_time, -1 / log(mu), 1e-12);
    p.sigma_w2 = 0.5; /* sqrt(sw2) > gamma: h grows without bound, lambda stays closed-form */
    ASSERT_EQ_INT(es_mft_recurrent_point(&p, &o, &tc), ES_OK);
    ASSERT(o.phase == ES_PHASE_NO_FIXED_POINT && isinf(o.q_star));
    ASSERT_NEAR(o.lyapunov, log(a + sqrt(0.5)), 1e-15);
    p.sigma_w2 = sw2;
    p.noise = 0; /* a fixed point */
    ASSERT_EQ_INT(es_mft_recurrent_point(&p, &o, &tc), ES_OK);
    ASSERT_REL(o.q_star, cinf, 1e-12);
    ASSERT_NEAR(o.lyapunov, log(a + sqrt(sw2)), 1e-13);
    ASSERT(o.phase == ES_PHASE_ORDERED && o.c_star == 1 && tc == 0);
  }
  /* Against 400 steps of the time-dependent DMFT (tanh, sb2 0.05, leak 0.5): chaos without
   * noise, order and chaos with it. lambda against the last step's growth of ln r / 2, which
   * converges geometrically where C(tau) relaxes (not at a noiseless fixed point, where the
   * prefactor of the growth is a power of t). */
  {
    enum { T = 400 };
    static double q[T], c[T], lr[T];
    static const double pts[][2] = {{1.0, 0}, {0.4, 0.1}, {1.0, 0.1}};
    for (int i = 0; i < 3; i++) {
      es_mft_params p = {es_activation_find("tanh"), pts[i][0], 0.05, 0.5, pts[i][1], 1, 0.6};
      ASSERT_EQ_INT(es_mft_recurrent_point(&p, &o, &tc), ES_OK);
      ASSERT_EQ_INT(es_mft_dmft(&p, 1, T, q, c, lr), ES_OK);
      fprintf(stderr,
              "recurrent tanh (%g, 0.05) leak 0.5 noise %g: q* %.10f (DMFT %.10f) c* %.10f "
              "(%.10f) lambda %.10f (%.10f) corr_time %.4f\n",
              pts[i][0], pts[i][1], o.q_star, q[T - 1], o.c_star, c[T - 1], o.lyapunov,
              0.5 * (lr[T - 1] - lr[T - 2]), tc);
      /* The step's growth converges monotonically and at least halves its distance every 100
       * steps (noise 0.1: to -0.0812370372 at t = 1000), so the change over the last 100
       * steps bounds the remaining error. c^t relaxes as chi_c^t (0.96^400 ~ 1e-7 in chaos). */
      double s2 = 0.5 * (lr[T - 101] - lr[T - 102]), s3 = 0.5 * (lr[T - 1] - lr[T - 2]);
      ASSERT_REL(o.q_star, q[T - 1], 1e-9);
      ASSERT_NEAR(o.c_star, c[T - 1], fmax(3 * pow(o.chi_c, T), 1e-12));
      ASSERT_NEAR(o.lyapunov, s3, fabs(s3 - s2) + 1e-10);
      ASSERT(fabs(o.lyapunov - s3) < 1e-9 || (o.lyapunov - s3) * (s3 - s2) > 0);
      ASSERT(o.phase == (o.lyapunov < 0 ? ES_PHASE_ORDERED : ES_PHASE_CHAOTIC));
      ASSERT(tc > 0 && isfinite(tc));
    }
    /* The noiseless fixed point: lambda = ln(a + sqrt(sw2 E phi'^2)), approached by the
     * DMFT's growth as -1/(4t) (|u|^2 ~ t^(-1/2) Lambda^(2t)). */
    es_mft_params p = {es_activation_find("tanh"), 0.4, 0.05, 0.5, 0, 1, 0.6};
    es_mft_recurrent_point(&p, &o, &tc);
    es_mft_dmft(&p, 1, T, q, c, lr);
    ASSERT_REL(o.q_star, q[T - 1], 1e-12);
    ASSERT_NEAR(o.lyapunov, 0.5 * (lr[T - 1] - lr[T - 2]) + 1 / (4.0 * T), 2e-5);
  }
  /* Critical lines. Noise 0: gamma^2 sw2_c(sb2/gamma^2) (doc/physics.md §8.1: sb2/gamma^2 =
   * 0.2 at gamma = 0.5), with the phase changing across it. Feedforward with leak: the
   * line (1 - a^2) sw2_c((sb2 + g)/(1 - a^2)) (0.75 * table at sb2 + g = 0.15). */
  {
    es_mft_params p = {es_activation_find("tanh"), 1, 0.05, 0.5, 0, 1, 0.6};
    double sc;
    char why[ES_REASON_LEN];
    ASSERT_EQ_INT(es_mft_recurrent_critical(&p, &sc, why), ES_OK);
    ASSERT_NEAR(sc, 0.25 * 2.2851524737, 1e-10);
    p.sigma_w2 = sc * (1 - 1e-4);
    es_mft_recurrent_point(&p, &o, &tc);
    ASSERT(o.phase == ES_PHASE_ORDERED && o.lyapunov > -1e-4);
    p.sigma_w2 = sc * 1.01;
    es_mft_recurrent_point(&p, &o, &tc);
    ASSERT(o.phase == ES_PHASE_CHAOTIC && o.lyapunov > 0 && o.lyapunov < 1e-2);
    /* Noise: lambda = 0 there, the line moves up with g and tends to the noiseless one. */
    double prev = sc;
    static const double gs[] = {1e-3, 0.1};
    for (int i = 0; i < 2; i++) {
      p.noise = gs[i];
      double sn;
      ASSERT_EQ_INT(es_mft_recurrent_critical(&p, &sn, why), ES_OK);
      p.sigma_w2 = sn;
      es_mft_recurrent_point(&p, &o, &tc);
      fprintf(stderr,
              "recurrent tanh sb2 0.05 leak 0.5 noise %g: sw2_c %.10f (lambda there %.2e)\n", gs[i],
              sn, o.lyapunov);
      ASSERT_NEAR(o.lyapunov, 0, 1e-9);
      ASSERT(sn > prev);
      if (i == 0) ASSERT(sn - sc < 0.02); /* ~ 0.2 sqrt(g): the edge responds singularly */
      prev = sn;
    }
    es_mft_params ff = {es_activation_find("tanh"), 1, 0.05, 0.5, 0.1, 1, 0.6};
    ASSERT_EQ_INT(es_mft_critical(&ff, &sc, why), ES_OK);
    ASSERT_NEAR(sc, 0.75 * 2.2851524737, 1e-9);
  }
  /* Feedforward with noise: c* < 1 in the ordered phase too, the limit of the trajectory. */
  {
    enum { T = 400 };
    static double q[T], c[T], lr[T];
    static const double sw2s[] = {0.8, 2.5};
    for (int i = 0; i < 2; i++) {
      es_mft_params p = {es_activation_find("tanh"), sw2s[i], 0.05, 0.7, 0.05, 1, 0.6};
      es_mft_fixed_point(&p, &o);
      es_mft_trajectory(&p, T, q, c, lr);
      ASSERT(o.c_star < 1);
      ASSERT_NEAR(o.c_star, c[T - 1], 1e-10);
      ASSERT_REL(o.q_star, q[T - 1], 1e-12);
    }
  }
}

int main(void) {
  zero_bias_limits();
  for (size_t i = 0; i < sizeof fp / sizeof fp[0]; i++) {
    es_mft_params p = P(fp[i].act, fp[i].sw2, fp[i].sb2);
    es_mft_point o;
    ASSERT_EQ_INT(es_mft_fixed_point(&p, &o), ES_OK);
    ASSERT_NEAR(o.q_star, fp[i].q, 6e-8 * fmax(1, fp[i].q)); /* table: 8 digits */
    ASSERT_NEAR(o.chi1, fp[i].chi1, 2e-7);
    ASSERT_NEAR(o.chi_q, fp[i].chiq, 2e-7);
    ASSERT_NEAR(o.c_star, fp[i].c, 2e-8);
    ASSERT_NEAR(o.chi_c, fp[i].chic, 2e-8);
    ASSERT_REL(o.xi_c, fp[i].xic, 2e-7);
    ASSERT_NEAR(o.lyapunov, 0.5 * log(fp[i].chi1), 2e-7);
  }
  for (int i = 0; i < 6; i++) {
    double c;
    char why[96];
    es_mft_params p = P("tanh", 1, sb2s[i]);
    ASSERT_EQ_INT(es_mft_critical(&p, &c, why), ES_OK);
    ASSERT_NEAR(c, crit_tanh[i], 2e-10);
    p = P("erf", 1, sb2s[i]);
    es_mft_critical(&p, &c, why);
    ASSERT_NEAR(c, crit_erf[i], 2e-10);
    p = P("sin", 1, sb2s[i]);
    es_mft_critical(&p, &c, why);
    ASSERT_NEAR(c, crit_sin[i], 2e-10);
    /* Closed forms (doc/physics.md §3.3): erf sw2_c = (pi/4) sqrt(1 + 4 q*). */
    p = P("erf", crit_erf[i], sb2s[i]);
    es_mft_point o;
    es_mft_fixed_point(&p, &o);
    ASSERT_NEAR(crit_erf[i], ES_PI / 4 * sqrt(1 + 4 * o.q_star), 1e-9);
    ASSERT_EQ_INT(o.phase, ES_PHASE_CRITICAL);
  }
  double c;
  char why[96];
  es_mft_params p = P("relu", 1, 0.3);
  es_mft_critical(&p, &c, why);
  ASSERT(c == 2.0);
  p = P("linear", 1, 0.3);
  es_mft_critical(&p, &c, why);
  ASSERT(c == 1.0);
  p = P("erf", 1, 0);
  es_mft_critical(&p, &c, why);
  ASSERT_NEAR(c, ES_PI / 4, 1e-15);
  p = P("gelu", 1, 0.1);
  es_mft_critical(&p, &c, why);
  ASSERT(isnan(c) && why[0]);

  es_mft_point o;
  /* Closed forms against the quadrature (a copy of each activation without its id). */
  static const char *const closed[] = {"relu", "erf", "sin", "linear"};
  const double qs[] = {0.3, 1.0, 2.5}, cs[] = {-0.6, 0.2, 0.9};
  for (int a = 0; a < 4; a++) {
    es_activation quad = *es_activation_find(closed[a]);
    quad.id = ES_ACT_TANH + 100; /* no closed form: forces the quadrature */
    const es_activation *ex = es_activation_find(closed[a]);
    /* relu: the kink limits a smooth rule to ~1e-4, which is why relu uses its closed form. */
    double tol = a == 0 ? 5e-4 : 1e-10;
    for (int i = 0; i < 3; i++) {
      ASSERT_REL(es_mft_e_phi2(&quad, qs[i]), es_mft_e_phi2(ex, qs[i]), 1e-12);
      ASSERT_REL(es_mft_e_dphi2(&quad, qs[i]), es_mft_e_dphi2(ex, qs[i]), a == 0 ? 1e-3 : 1e-12);
      for (int k = 0; k < 3; k++) {
        double qb = 0.7 * qs[i], qab = cs[k] * sqrt(qs[i] * qb);
        ASSERT_NEAR(es_mft_e_phiphi(&quad, qs[i], qb, qab), es_mft_e_phiphi(ex, qs[i], qb, qab),
                    tol);
      }
    }
  }

  /* The fast rules (trapezoid, lattice, Gauss-Hermite inner sums, gelu/silu relu split)
   * against exact values: erf and sin through the fast rule against their closed forms. */
  {
    const double qq[] = {1e-4, 0.05, 0.5, 2, 8, 30, 50};
    const double cc[] = {-0.999, -0.7, -0.1, 0, 0.05, 0.4, 0.9, 0.999, 0.999999, 1};
    static const char *const ex[] = {"erf", "sin"};
    double worst = 0;
    for (int a = 0; a < 2; a++) {
      const es_activation *act = es_activation_find(ex[a]);
      for (int i = 0; i < 7; i++) {
        ASSERT_REL(es_mft_e1_quad(act, 0, qq[i], ES_MFT_RULE_FAST), es_mft_e_phi2(act, qq[i]),
                   1e-12);
        ASSERT_REL(es_mft_e1_quad(act, 1, qq[i], ES_MFT_RULE_FAST), es_mft_e_dphi2(act, qq[i]),
                   1e-12);
        for (int k = 0; k < 10; k++)
          for (int u = 0; u < 2; u++) {
            double qa = qq[i], qb = u ? 0.6 * qa : qa, qab = cc[k] * sqrt(qa * qb);
            double f0 = es_mft_e2_quad(act, 0, qa, qb, qab, ES_MFT_RULE_FAST);
            double f1 = es_mft_e2_quad(act, 1, qa, qb, qab, ES_MFT_RULE_FAST);
            double e0 = es_mft_e_phiphi(act, qa, qb, qab), e1 = es_mft_e_dphidphi(act, qa, qb, qab);
            /* relative to the scale E[g^2] (the value itself may pass through 0) */
            double s0 = es_mft_e_phi2(act, qa), s1 = es_mft_e_dphi2(act, qa);
            ASSERT_NEAR(f0, e0, 1e-12 * s0);
            ASSERT_NEAR(f1, e1, 1e-12 * s1);
            worst = fmax(worst, fmax(fabs(f0 - e0) / s0, fabs(f1 - e1) / s1));
          }
      }
    }
    fprintf(stderr, "fast rule vs closed forms (erf, sin): worst %.2g of E[g^2]\n", worst);
    /* tanh, gelu, silu against the reference rule where that is good to ~1e-12 (q <~ 2 in
     * 2-D; 1e-15 in 1-D to q = 50 and, for the gelu/silu split, to q = 100). */
    static const char *const sm[] = {"tanh", "gelu", "silu"};
    const double q1[] = {1e-3, 0.3, 2, 9, 20, 50, 100};
    worst = 0;
    for (int a = 0; a < 3; a++) {
      const es_activation *act = es_activation_find(sm[a]);
      for (int i = 0; i < 7; i++)
        for (int d = 0; d < 2; d++) {
          double f = es_mft_e1_quad(act, d, q1[i], ES_MFT_RULE_FAST);
          double r = es_mft_e1_quad(act, d, q1[i], ES_MFT_RULE_REFERENCE);
          ASSERT_REL(f, r, 1e-12);
          worst = fmax(worst, fabs(f - r) / r);
        }
      for (int i = 0; i < 3; i++)
        for (int k = 0; k < 10; k++)
          for (int u = 0; u < 2; u++)
            for (int d = 0; d < 2; d++) {
              double qa = q1[i], qb = u ? 0.6 * qa : qa, qab = cc[k] * sqrt(qa * qb);
              double f = es_mft_e2_quad(act, d, qa, qb, qab, ES_MFT_RULE_FAST);
              double r = es_mft_e2_quad(act, d, qa, qb, qab, ES_MFT_RULE_REFERENCE);
              double s = es_mft_e1_quad(act, d, qa, ES_MFT_RULE_FAST);
              /* the reference 2-D rule itself errs by ~1e-9 at q = 2 (checked against a
               * 3200-node-per-axis Gauss-Legendre rule, which the fast rule meets to 3e-14) */
              ASSERT_NEAR(f, r, (qa > 1 ? 2e-9 : 1e-12) * s);
              worst = fmax(worst, fabs(f - r) / s);
            }
    }
    fprintf(stderr, "fast rule vs reference rule (tanh, gelu, silu): worst %.2g\n", worst);
    /* Exact reductions at any q, against the 1e-15 1-D reference: c = 1 gives E[g^2],
     * c = 0 gives E[g(u_a)] E[g(u_b)]. */
    for (int a = 0; a < 3; a++) {
      const es_activation *act = es_activation_find(sm[a]);
      for (int i = 0; i < 7; i++)
        for (int d = 0; d < 2; d++) {
          double q = q1[i], r = es_mft_e1_quad(act, d, q, ES_MFT_RULE_REFERENCE);
          ASSERT_REL(es_mft_e2_quad(act, d, q, q, q, ES_MFT_RULE_FAST), r, 1e-12);
          es__sq_ctx m = {act, d};
          double ma = es_mft_expect(mean_g, &m, q), mb = es_mft_expect(mean_g, &m, 0.6 * q);
          ASSERT_NEAR(es_mft_e2_quad(act, d, q, 0.6 * q, 0, ES_MFT_RULE_FAST), ma * mb, 1e-12 * r);
        }
    }
    /* Large q, where gelu's inner integral is closed form and silu = gelu + a localised
     * remainder: against scipy's adaptive quadrature (epsrel 2e-14, computed for this test;
     * the reference rule cannot reach q = 1e5). */
    const es_activation *gelu = es_activation_find("gelu"), *silu = es_activation_find("silu");
    ASSERT_REL(es_mft_e_phiphi(silu, 1e5, 1e5, 0.2e5), 21234.365194608446, 1e-12);
    ASSERT_REL(es_mft_e_phiphi(gelu, 1e5, 1e5, 0.2e5), 21234.722255329918, 1e-12);
    ASSERT_REL(es_mft_e_dphidphi(silu, 1e3, 1e3, 990), 0.48068147592147159, 1e-12);
    ASSERT_REL(es_mft_e_dphidphi(gelu, 1e3, 1e3, 990), 0.47855950837635175, 1e-12);
    /* No fast rule for kinks: relu falls back (NaN from the fast entry points). */
    ASSERT(isnan(es_mft_e1_quad(es_activation_find("relu"), 0, 1, ES_MFT_RULE_FAST)));
  }

  /* The c* root and chi_c (fast rule) and the public 2-D expectations agree at the fixed
   * point; c* of the table above already checks the values. */
  p = P("tanh", 2.5, 0.05);
  es_mft_fixed_point(&p, &o);
  ASSERT_NEAR(o.chi_c, 2.5 * es_mft_e_dphidphi(p.act, o.q_star, o.q_star, o.c_star * o.q_star),
              1e-10);
  ASSERT_NEAR(o.c_star * o.q_star,
              2.5 * es_mft_e_phiphi(p.act, o.q_star, o.q_star, o.c_star * o.q_star) + 0.05, 1e-10);

  /* Phases, and never a silent NaN. */
  p = P("relu", 2.5, 0.1);
  es_mft_fixed_point(&p, &o);
  ASSERT_EQ_INT(o.phase, ES_PHASE_NO_FIXED_POINT);
  ASSERT(o.reason[0] != '\0');
  p = P("linear", 1.2, 0.1);
  es_mft_fixed_point(&p, &o);
  ASSERT_EQ_INT(o.phase, ES_PHASE_NO_FIXED_POINT);
  p = P("tanh", 2.5, 0.05);
  es_mft_fixed_point(&p, &o);
  ASSERT_EQ_INT(o.phase, ES_PHASE_CHAOTIC);
  p = P("tanh", 0.5, 0);
  es_mft_fixed_point(&p, &o);
  ASSERT(o.phase == ES_PHASE_ORDERED && o.q_star == 0);

  /* xi_c diverges as chi_1 -> 1 from the ordered side (tanh, sb2 = 0.05). */
  double prev = 0;
  for (int k = 1; k <= 6; k++) {
    p = P("tanh", 1.7609546396 - pow(10, -k / 1.5), 0.05);
    es_mft_fixed_point(&p, &o);
    ASSERT(o.xi_c > prev);
    prev = o.xi_c;
  }
  ASSERT(prev > 1e3);

  /* Trajectory: doc/physics.md §8.3 (q_a from q0 = 1 and ln r). */
  double q[20], cc[20], lr[20];
  p = P("tanh", 1.7609546396, 0.05);
  ASSERT_EQ_INT(es_mft_trajectory(&p, 20, q, cc, lr), ES_OK);
  ASSERT_NEAR(q[0], 1.810954639600, 1e-11);
  ASSERT_NEAR(q[1], 0.934526229202, 1e-11);
  ASSERT_NEAR(q[4], 0.605559702568, 1e-11);
  ASSERT_NEAR(q[19], 0.570049646183, 1e-11);
  ASSERT_NEAR(lr[0], 0.565856070863, 1e-11);
  ASSERT_NEAR(lr[2], -0.052169261776, 1e-11);
  ASSERT_NEAR(lr[19], -0.214622932651, 1e-11);

  /* General-model DMFT (doc/physics.md §3.1). Independent weights reproduce the feedforward
   * trajectory (with leak and noise too); at leak 1, noise 0 shared weights coincide with
   * them; doc/physics.md's example (tanh (1.8, 0.05), leak 0.5, noise 0.1, q0 = 1) at t = 8. */
  {
    enum { T = 12 };
    double qs[T], cs[T], ls[T], qi[T], ci[T], li[T], qf[T], cf[T], lf[T];
    static const char *const acts[] = {"tanh", "relu", "erf", "gelu"};
    for (int a = 0; a < 4; a++) {
      es_mft_params g = {es_activation_find(acts[a]), 1.8, 0.05, 1, 0, 1, 0.6};
      ASSERT_EQ_INT(es_mft_dmft(&g, 1, T, qs, cs, ls), ES_OK);
      ASSERT_EQ_INT(es_mft_dmft(&g, 0, T, qi, ci, li), ES_OK);
      es_mft_trajectory(&g, T, qf, cf, lf);
      for (int t = 0; t < T; t++) {
        ASSERT_REL(qs[t], qf[t], 1e-12);
        ASSERT_REL(qi[t], qf[t], 1e-12);
        ASSERT_NEAR(cs[t], cf[t], 1e-12);
        ASSERT_NEAR(ci[t], cf[t], 1e-12);
        ASSERT_NEAR(ls[t], lf[t], 1e-12);
        ASSERT_NEAR(li[t], lf[t], 1e-12);
      }
      g.leak = 0.5;
      g.noise = 0.1;
      es_mft_dmft(&g, 0, T, qi, ci, li);
      es_mft_trajectory(&g, T, qf, cf, lf);
      for (int t = 0; t < T; t++) {
        ASSERT_REL(qi[t], qf[t], 1e-12);
        ASSERT_NEAR(ci[t], cf[t], 1e-12);
        ASSERT_NEAR(li[t], lf[t], 1e-12);
      }
    }
    es_mft_params g = {es_activation_find("tanh"), 1.8, 0.05, 0.5, 0.1, 1, 0.6};
    es_mft_dmft(&g, 1, T, qs, cs, ls);
    es_mft_dmft(&g, 0, T, qi, ci, li);
    fprintf(stderr,
            "DMFT tanh (1.8, 0.05) leak 0.5 noise 0.1: q^8 shared %.6f independent %.6f; "
            "c^8 %.6f vs %.6f; logr^8 %.6f vs %.6f\n",
            qs[7], qi[7], cs[7], ci[7], ls[7], li[7]);
    ASSERT_NEAR(qs[7], 3.6967, 5e-5);
    ASSERT_NEAR(qi[7], 1.2456, 5e-5);
    /* Linear phi, leak 0, no bias or noise, N -> inf: shared, h(3) = (1 + W)^2 h(1) has
     * |h|^2 (1 + 4 sw2 + sw2^2) (|W h|^2 -> sw2 |h|^2, h.W h and h.W^2 h -> 0); independent,
     * (1 + W2)(1 + W1) h(1) has |h|^2 (1 + sw2)^2. */
    es_mft_params lin = {es_activation_find("linear"), 0.5, 0, 0, 0, 1, 0.6};
    es_mft_dmft(&lin, 1, 3, qs, cs, ls);
    ASSERT_REL(qs[1], 1.5 * 0.5, 1e-14);
    ASSERT_REL(qs[2], (1 + 4 * 0.5 + 0.25) * 0.5, 1e-14);
    es_mft_dmft(&lin, 0, 3, qi, ci, li);
    ASSERT_REL(qi[2], 1.5 * 1.5 * 0.5, 1e-14);
    /* Two times (doc/physics.md §3.1.1). The same linear net: h(3).h(2) = h(1)^T A^T A^T A h(1),
     * A = 1 + W, averages to (1 + 2 sw2) |h(1)|^2 (only W^T W survives), h(3).h(1) and
     * h(2).h(1) to |h(1)|^2; across the inputs the same with q^1_ab = sw2 q0 c0. */
    const int64_t t3[1] = {3}, l3[3] = {0, 1, 2};
    double caa[3], cab[3];
    ASSERT_EQ_INT(es_mft_dmft_two_time(&lin, 1, 3, qs, cs, ls, 1, t3, 3, l3, caa, cab), ES_OK);
    ASSERT_REL(caa[0], qs[2], 1e-15);
    ASSERT_REL(caa[1], 2 * 0.5, 1e-14);
    ASSERT_REL(caa[2], 0.5, 1e-14);
    ASSERT_REL(cab[1], 2 * 0.3, 1e-14);
    ASSERT_REL(cab[2], 0.3, 1e-14);
    /* Independent weights, any phi: Y(t) is uncorrelated with the past, so
     * C(t, t - L) = (1 - gamma)^L C(t - L, t - L); a lag before layer 1 is NaN. */
    const int64_t t8[2] = {8, 3}, l8[4] = {1, 2, 5, 3};
    double ca[8], cb[8];
    ASSERT_EQ_INT(es_mft_dmft_two_time(&g, 0, T, qi, ci, li, 2, t8, 4, l8, ca, cb), ES_OK);
    for (int l = 0; l < 4; l++) {
      const int s = 8 - (int)l8[l];
      ASSERT_REL(ca[l], pow(0.5, (double)l8[l]) * qi[s - 1], 1e-13);
      ASSERT_REL(cb[l], pow(0.5, (double)l8[l]) * ci[s - 1] * qi[s - 1], 1e-13);
    }
    ASSERT(isfinite(ca[4]) && isnan(ca[6]) && isnan(cb[7])); /* t = 3: lags 5 and 3 */
  }
  recurrent_stationary();
  /* The trajectory reuses a layer's integrals once (q, q_ab) repeats bitwise: every layer
   * equals the plain recursion written with the public maps, to the bit, over 400 layers
   * (both phases, the fixed point reached to the last bit for most of them). */
  {
    enum { TD = 400 };
    static double q1[TD], c1[TD], l1[TD];
    const char *acts[] = {"tanh", "erf", "gelu", "relu"};
    const double pts[][2] = {{0.8, 0.05}, {1.5, 0.2}, {2.5, 0.3}, {4.0, 0.5}, {1.0, 0}};
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++)
      for (size_t k = 0; k < sizeof pts / sizeof pts[0]; k++) {
        es_mft_params g = P(acts[a], pts[k][0], pts[k][1]);
        ASSERT_EQ_INT(es_mft_trajectory(&g, TD, q1, c1, l1), ES_OK);
        double qa = g.sigma_w2 * g.q0 + g.sigma_b2, qab = g.sigma_w2 * g.q0 * g.c0 + g.sigma_b2;
        double lr = log(g.sigma_w2);
        int bad = 0;
        for (int t = 0; t < TD && !bad; t++) {
          const double ct = qab / qa;
          bad = memcmp(&q1[t], &qa, sizeof qa) || memcmp(&c1[t], &ct, sizeof ct) ||
                memcmp(&l1[t], &lr, sizeof lr);
          if (bad) ES_FAIL_AT("%s (%g, %g) layer %d differs", acts[a], pts[k][0], pts[k][1], t + 1);
          lr += log(es_mft_chi1(&g, qa));
          double nab = g.sigma_w2 * es_mft_e_phiphi(g.act, qa, qa, qab) + g.sigma_b2;
          qa = es_mft_qmap(&g, qa);
          qab = nab;
        }
      }
  }
  ES_TEST_END();
}
