/* critical: finite-N estimates from measured curves (SPEC §2 derived quantities).
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

#endif
