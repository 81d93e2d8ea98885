#include "edgesweep/observables.h"

#include <math.h>
#include <stdlib.h>

static const es_field_desc es__fields[ES_F_COUNT] = {
#define ES__D(id, name, units, desc) {name, units, desc},
    ES_FIELD_MAP(ES__D)
#undef ES__D
};

const es_field_desc *es_field_get(es_field f) {
  return (f >= 0 && f < ES_F_COUNT) ? &es__fields[f] : NULL;
}

/* Two-pass mean and unbiased variance of x[m * stride], m = 0..M-1. */
static void es__meanvar(const double *x, int64_t M, int64_t stride, double *mean, double *var) {
  double s = 0;
  for (int64_t m = 0; m < M; m++) s += x[m * stride];
  double mu = s / (double)M, ss = 0;
  for (int64_t m = 0; m < M; m++) {
    double dlt = x[m * stride] - mu;
    ss += dlt * dlt;
  }
  *mean = mu;
  *var = M > 1 ? ss / (double)(M - 1) : NAN;
}

/* Pooled excess kurtosis m4/m2^2 - 3 (h has mean 0 by the sign symmetry of the weights),
 * with its leave-one-network-out jackknife error. */
static void es__kurtosis(const double *per, int64_t M, int64_t stride, double *k, double *se) {
  const double *q = per + ES_NOBS_QA, *h4 = per + ES_NOBS_H4;
  double s2 = 0, s4 = 0;
  for (int64_t m = 0; m < M; m++) {
    s2 += q[m * stride];
    s4 += h4[m * stride];
  }
  double m2 = s2 / (double)M;
  *k = (s4 / (double)M) / (m2 * m2) - 3.0;
  double jm = 0, jss = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int64_t m = 0; m < M; m++) {
      double a = (s2 - q[m * stride]) / (double)(M - 1);
      double kj = ((s4 - h4[m * stride]) / (double)(M - 1)) / (a * a) - 3.0;
      if (pass == 0)
        jm += kj / (double)M;
      else
        jss += (kj - jm) * (kj - jm);
    }
  *se = sqrt((double)(M - 1) / (double)M * jss);
}

es_status es_obs_reduce(const double *per, int64_t M, int64_t ndepth, double *out) {
  ES_CHECK(M >= 2 && ndepth >= 1, ES_ERR_INTERNAL, "reduce: need M >= 2 (got %lld)",
           (long long)M);
  const int64_t stride = ndepth * ES_NOBS_COUNT;
  static const struct {
    es_nobs obs;
    es_field mean, var;
  } pairs[] = {{ES_NOBS_QA, ES_F_Q_MEAN, ES_F_Q_VAR},
               {ES_NOBS_QAB, ES_F_QAB_MEAN, ES_F_QAB_VAR},
               {ES_NOBS_C, ES_F_C_MEAN, ES_F_C_VAR},
               {ES_NOBS_LOGJAC, ES_F_LOGJAC_MEAN, ES_F_LOGJAC_VAR},
               {ES_NOBS_LOGQ, ES_F_LOGQ_MEAN, ES_F_LOGQ_VAR}};
  for (int64_t k = 0; k < ndepth; k++) {
    const double *base = per + k * ES_NOBS_COUNT;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
      es__meanvar(base + pairs[i].obs, M, stride, &out[pairs[i].mean * ndepth + k],
                  &out[pairs[i].var * ndepth + k]);
    es__kurtosis(base, M, stride, &out[ES_F_KURTOSIS * ndepth + k],
                 &out[ES_F_KURTOSIS_STDERR * ndepth + k]);
    double lm, lv;
    es__meanvar(base + ES_NOBS_LYAP, M, stride, &lm, &lv);
    out[ES_F_LYAPUNOV * ndepth + k] = lm;
    out[ES_F_LYAPUNOV_STDERR * ndepth + k] = sqrt(lv / (double)M);
  }
  return ES_OK;
}
