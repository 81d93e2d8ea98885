/* mft against the reference numbers of shared/physics.md §8 (independent Python quadrature),
 * closed forms against the quadrature, phases, and xi_c diverging at the edge of chaos. */
#include "edgesweep/mft.h"

#include <math.h>

#include "es_test.h"

static es_mft_params P(const char *act, double sw2, double sb2) {
  es_mft_params p = {es_activation_find(act), sw2, sb2, 1, 0, 1, 0.5};
  return p;
}

/* physics.md §8.2: q*, chi_1, chi_q, c*, chi_c (8-digit table values: tolerance 2e-8). */
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

/* physics.md §8.1: critical sigma_w2 (10 digits). */
static const double sb2s[] = {0.01, 0.05, 0.1, 0.2, 0.5, 1.0};
static const double crit_tanh[] = {1.4242052905, 1.7609546396, 1.9860726411,
                                   2.2851524737, 2.8431674597, 3.4432109123};
static const double crit_erf[] = {1.1142800634, 1.3758390073, 1.5521178553,
                                  1.7881797673, 2.2336596345, 2.7183813523};
static const double crit_sin[] = {1.3047732572, 1.5020701026, 1.6118115549,
                                  1.7311118609, 1.8812253608, 1.9611797514};

int main(void) {
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
    /* Closed forms (physics.md §3.3): erf sw2_c = (pi/4) sqrt(1 + 4 q*). */
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

  /* Mehler's series (the c* root and chi_c, where q stays fixed) and the 2-D rule agree:
   * chaotic tanh points through both paths, c* of the table above already checks it too. */
  p = P("tanh", 2.5, 0.05);
  es_mft_fixed_point(&p, &o);
  ASSERT_NEAR(o.chi_c, 2.5 * es_mft_e_dphidphi(p.act, o.q_star, o.q_star, o.c_star * o.q_star),
              1e-10);
  ASSERT_NEAR(o.c_star * o.q_star,
              2.5 * es_mft_e_phiphi(p.act, o.q_star, o.q_star, o.c_star * o.q_star) + 0.05,
              1e-10);

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

  /* Trajectory: physics.md §8.3 (q_a from q0 = 1 and ln r). */
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
  ES_TEST_END();
}
