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

/* Networks are "valid" at a depth when they were measured there (dead networks are NaN,
 * ensemble.h); every statistic runs over the valid ones, in network order. */
#define ES__VALID(base, m, stride) (!isnan((base)[(m) * (stride) + ES_NOBS_QA]))

/* Two-pass mean and unbiased variance of observable j over the valid networks. */
static void es__meanvar(const double *base, int j, int64_t M, int64_t stride, int64_t n,
                        double *mean, double *var) {
  double s = 0;
  for (int64_t m = 0; m < M; m++)
    if (ES__VALID(base, m, stride)) s += base[m * stride + j];
  double mu = s / (double)n, ss = 0;
  for (int64_t m = 0; m < M; m++)
    if (ES__VALID(base, m, stride)) {
      double dlt = base[m * stride + j] - mu;
      ss += dlt * dlt;
    }
  *mean = mu;
  *var = ss / (double)(n - 1);
}

/* Pooled excess kurtosis m4/m2^2 - 3 (h has mean 0 by the sign symmetry of the weights),
 * with its leave-one-network-out jackknife error. */
static void es__kurtosis(const double *base, int64_t M, int64_t stride, int64_t n, double *k,
                         double *se) {
  double s2 = 0, s4 = 0;
  for (int64_t m = 0; m < M; m++)
    if (ES__VALID(base, m, stride)) {
      s2 += base[m * stride + ES_NOBS_QA];
      s4 += base[m * stride + ES_NOBS_H4];
    }
  double m2 = s2 / (double)n;
  *k = (s4 / (double)n) / (m2 * m2) - 3.0;
  double jm = 0, jss = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int64_t m = 0; m < M; m++) {
      if (!ES__VALID(base, m, stride)) continue;
      double a = (s2 - base[m * stride + ES_NOBS_QA]) / (double)(n - 1);
      double kj = ((s4 - base[m * stride + ES_NOBS_H4]) / (double)(n - 1)) / (a * a) - 3.0;
      if (pass == 0)
        jm += kj / (double)n;
      else
        jss += (kj - jm) * (kj - jm);
    }
  *se = sqrt((double)(n - 1) / (double)n * jss);
}

es_status es_obs_reduce(const double *per, int64_t M, int64_t ndepth, double *out,
                        int64_t *valid) {
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
    int64_t n = 0;
    for (int64_t m = 0; m < M; m++) n += ES__VALID(base, m, stride);
    valid[k] = n;
    if (n < 2) { /* too few live networks: every statistic stays NaN */
      for (int f = 0; f < ES_F_COUNT; f++) out[f * ndepth + k] = NAN;
      continue;
    }
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
      es__meanvar(base, pairs[i].obs, M, stride, n, &out[pairs[i].mean * ndepth + k],
                  &out[pairs[i].var * ndepth + k]);
    es__kurtosis(base, M, stride, n, &out[ES_F_KURTOSIS * ndepth + k],
                 &out[ES_F_KURTOSIS_STDERR * ndepth + k]);
    double lm, lv;
    es__meanvar(base, ES_NOBS_LYAP, M, stride, n, &lm, &lv);
    out[ES_F_LYAPUNOV * ndepth + k] = lm;
    out[ES_F_LYAPUNOV_STDERR * ndepth + k] = sqrt(lv / (double)n);
  }
  return ES_OK;
}
