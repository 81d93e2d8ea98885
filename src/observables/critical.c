#include "edgesweep/critical.h"

#include <math.h>

void es_crit_crossing(const double *x, const double *y, const double *se, int64_t n, double *x0,
                      double *err, const char **why) {
  *x0 = *err = NAN;
  *why = "no sign change from negative to positive along sigma_w2";
  int64_t prev = -1;
  for (int64_t i = 0; i < n; i++) {
    if (!isfinite(y[i])) continue;
    if (prev >= 0 && y[prev] < 0 && y[i] >= 0) {
      double x1 = x[prev], x2 = x[i], y1 = y[prev], y2 = y[i];
      double f = -y1 / (y2 - y1); /* fraction of the way from x1 to x2 */
      *x0 = x1 + f * (x2 - x1);
      /* d x0/d y1 = -(x2-x1) y2/(y2-y1)^2, d x0/d y2 = (x2-x1) y1/(y2-y1)^2 */
      double dd = (y2 - y1) * (y2 - y1);
      double g1 = (x2 - x1) * y2 / dd, g2 = (x2 - x1) * y1 / dd;
      *err = sqrt(g1 * g1 * se[prev] * se[prev] + g2 * g2 * se[i] * se[i]);
      *why = "";
      return;
    }
    prev = i;
  }
}

void es_crit_xi(const int64_t *t, const double *c, const double *se, int64_t nd, double cstar,
                double *xi, double *err, const char **why) {
  *xi = *err = NAN;
  if (!isfinite(cstar)) {
    *why = "no MFT fixed point c*";
    return;
  }
  double sw = 0, swx = 0, swy = 0, swxx = 0, swxy = 0;
  int64_t used = 0;
  for (int64_t k = 0; k < nd; k++) {
    double dlt = fabs(c[k] - cstar);
    if (!isfinite(dlt) || !(se[k] > 0) || dlt <= 3 * se[k] || dlt < 1e-14) continue;
    double sy = se[k] / dlt; /* error of ln|c - c*| */
    double w = 1.0 / (sy * sy), xx = (double)t[k], yy = log(dlt);
    sw += w;
    swx += w * xx;
    swy += w * yy;
    swxx += w * xx * xx;
    swxy += w * xx * yy;
    used++;
  }
  if (used < 3) {
    *why = "fewer than 3 depths where |c - c*| exceeds 3 standard errors";
    return;
  }
  double det = sw * swxx - swx * swx;
  double slope = (sw * swxy - swx * swy) / det, slope_se = sqrt(sw / det);
  if (!(slope < 0)) {
    *why = "|c - c*| does not decay with depth";
    return;
  }
  *xi = -1.0 / slope;
  *err = slope_se / (slope * slope);
  *why = "";
}

es_regime es_crit_regime(double eps_k, double eps_j) {
  if (!(isfinite(eps_k) && isfinite(eps_j))) return ES_REGIME_UNKNOWN;
  if (eps_k < ES_REGIME_GAUSSIAN_EPS_K && eps_j < ES_REGIME_GAUSSIAN_EPS_J)
    return ES_REGIME_GAUSSIAN;
  if (eps_k < ES_REGIME_PERTURBATIVE_EPS_K && eps_j < ES_REGIME_PERTURBATIVE_EPS_J)
    return ES_REGIME_PERTURBATIVE;
  return ES_REGIME_NON_PERTURBATIVE;
}
