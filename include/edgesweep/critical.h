/* critical: finite-N estimates from measured curves (doc/physics.md §10 derived quantities).
 *
 * The zero crossing of the Lyapunov exponent along sigma_w2 (the finite-N critical point)
 * and the empirical correlation length xi_c from the decay of |c^t - c*|. Pure functions;
 * NaN (with a reason) when the data do not determine a value. Not collective.
 */
#ifndef EDGESWEEP_CRITICAL_H
#define EDGESWEEP_CRITICAL_H

#include <stdint.h>

/* First crossing from y < 0 to y >= 0 of y(x) (x ascending; NaN entries skipped), by linear
 * interpolation between the bracketing points; err propagates their standard errors se.
 * *x0 = NaN and *why set when there is no crossing. */
void es_crit_crossing(const double *x, const double *y, const double *se, int64_t n, double *x0,
                      double *err, const char **why);

/* xi from a weighted straight-line fit of ln|c^t - cstar| against t over the depths where
 * |c^t - cstar| exceeds 3 standard errors (se[k]); needs 3 such depths and a decay.
 * *xi = NaN and *why set otherwise. */
void es_crit_xi(const int64_t *t, const double *c, const double *se, int64_t nd, double cstar,
                double *xi, double *err, const char **why);

/* Regime codes of a point (/theory/regime, doc/physics.md 7): X(ID, value, CF flag meaning). */
#define ES_REGIME_MAP(X)             \
  X(UNKNOWN, 0, "unknown")           \
  X(GAUSSIAN, 1, "gaussian")         \
  X(PERTURBATIVE, 2, "perturbative") \
  X(NON_PERTURBATIVE, 3, "non_perturbative")

typedef enum {
#define ES__RG(id, v, meaning) ES_REGIME_##id = v,
  ES_REGIME_MAP(ES__RG)
#undef ES__RG
} es_regime;

/* Upper bounds (exclusive) of eps_K = kurtosis/3 and eps_J = Var logjac for each class. */
#define ES_REGIME_GAUSSIAN_EPS_K 0.02
#define ES_REGIME_GAUSSIAN_EPS_J 0.1
#define ES_REGIME_PERTURBATIVE_EPS_K 0.2
#define ES_REGIME_PERTURBATIVE_EPS_J 0.6

/* The regime of measured EPS_K and EPS_J: Gaussian when both are under the Gaussian bounds,
 * else perturbative when both are under the perturbative ones, else non-perturbative;
 * unknown when either is not finite. */
es_regime es_crit_regime(double eps_k, double eps_j);

#endif
