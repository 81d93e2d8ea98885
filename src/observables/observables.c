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

void es_obs_state_init(double *state, int64_t ndepth, int64_t nlags) {
  for (int64_t i = 0; i < ndepth * es_obs_state_len(nlags); i++) state[i] = 0.0;
}

void es_obs_state_add(double *state, const double *net, int64_t ndepth, int64_t nlags) {
  const int64_t S = es_obs_state_len(nlags), R = es_nobs_len(nlags);
  for (int64_t k = 0; k < ndepth; k++) {
    double *st = state + k * S;
    const double *x = net + k * R;
    if (isnan(x[ES_NOBS_QA])) continue; /* dead here: not part of the statistics */
    double n = st[ES_ST_N] + 1.0;
    st[ES_ST_N] = n;
    /* The q-h^4 co-moment needs the deviation of q from the old mean. */
    double dq_old = x[ES_NOBS_QA] - st[ES_ST_MOMENTS + 2 * ES_NOBS_QA];
    for (int j = 0; j < ES_NOBS_COUNT; j++) {
      double *mean = &st[ES_ST_MOMENTS + 2 * j], *m2 = mean + 1;
      double d = x[j] - *mean;
      *mean += d / n;
      *m2 += d * (x[j] - *mean);
    }
    st[ES_ST_C_Q_H4] += dq_old * (x[ES_NOBS_H4] - st[ES_ST_MOMENTS + 2 * ES_NOBS_H4]);
    /* A lag before layer 1 is NaN for every network: its mean stays NaN, as it should. */
    for (int64_t j = 0; j < ES_NOBS_LAG * nlags; j++) {
      double *mean = &st[ES_STATE_COUNT + 2 * j], *m2 = mean + 1, v = x[ES_NOBS_COUNT + j];
      double d = v - *mean;
      *mean += d / n;
      *m2 += d * (v - *mean);
    }
  }
}

/* (mean, M2) of B combined into A, with counts NA, NB and N = NA + NB. */
static void es__combine2(double *a, const double *b, double na, double nb, double n) {
  const double d = b[0] - a[0];
  a[0] += d * (nb / n);
  a[1] += b[1] + d * d * (na * nb / n);
}

void es_obs_state_combine(double *dst, const double *src, int64_t ndepth, int64_t nlags) {
  const int64_t S = es_obs_state_len(nlags);
  for (int64_t k = 0; k < ndepth; k++) {
    double *a = dst + k * S;
    const double *b = src + k * S;
    const double na = a[ES_ST_N], nb = b[ES_ST_N], n = na + nb;
    if (nb == 0) continue;
    if (na == 0) {
      for (int64_t i = 0; i < S; i++) a[i] = b[i];
      continue;
    }
    /* The co-moment needs both blocks' means of q and h^4 before they are combined. */
    const double dq = b[ES_ST_MOMENTS + 2 * ES_NOBS_QA] - a[ES_ST_MOMENTS + 2 * ES_NOBS_QA];
    const double dh = b[ES_ST_MOMENTS + 2 * ES_NOBS_H4] - a[ES_ST_MOMENTS + 2 * ES_NOBS_H4];
    a[ES_ST_C_Q_H4] += b[ES_ST_C_Q_H4] + dq * dh * (na * nb / n);
    for (int j = 0; j < ES_NOBS_COUNT; j++)
      es__combine2(a + ES_ST_MOMENTS + 2 * j, b + ES_ST_MOMENTS + 2 * j, na, nb, n);
    for (int64_t j = 0; j < ES_NOBS_LAG * nlags; j++)
      es__combine2(a + ES_STATE_COUNT + 2 * j, b + ES_STATE_COUNT + 2 * j, na, nb, n);
    a[ES_ST_N] = n;
  }
}

void es_obs_state_finish(const double *state, int64_t ndepth, int64_t nlags, double *out,
                         int64_t *valid, double *lagout) {
  const int64_t S = es_obs_state_len(nlags);
  static const struct {
    es_nobs obs;
    es_field mean, var;
  } pairs[] = {{ES_NOBS_QA, ES_F_Q_MEAN, ES_F_Q_VAR},
               {ES_NOBS_QAB, ES_F_QAB_MEAN, ES_F_QAB_VAR},
               {ES_NOBS_C, ES_F_C_MEAN, ES_F_C_VAR},
               {ES_NOBS_LOGJAC, ES_F_LOGJAC_MEAN, ES_F_LOGJAC_VAR},
               {ES_NOBS_LOGQ, ES_F_LOGQ_MEAN, ES_F_LOGQ_VAR}};
  for (int64_t k = 0; k < ndepth; k++) {
    const double *st = state + k * S;
    double n = st[ES_ST_N];
    valid[k] = (int64_t)n;
    for (int64_t l = 0; l < nlags; l++) /* mean and variance of q_aa, then of q_ab */
      for (int v = 0; v < ES_LAG_COUNT; v++) {
        const double *m = st + ES_STATE_COUNT + 2 * (ES_NOBS_LAG * l + v / 2);
        lagout[(v * ndepth + k) * nlags + l] = n < 2 ? NAN : v % 2 ? m[1] / (n - 1.0) : m[0];
      }
    if (n < 2) { /* too few live networks: every statistic stays NaN */
      for (int f = 0; f < ES_F_COUNT; f++) out[f * ndepth + k] = NAN;
      continue;
    }
#define ES__MEAN(j) st[ES_ST_MOMENTS + 2 * (j)]
#define ES__VAR(j) (st[ES_ST_MOMENTS + 2 * (j) + 1] / (n - 1.0))
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
      out[pairs[i].mean * ndepth + k] = ES__MEAN(pairs[i].obs);
      out[pairs[i].var * ndepth + k] = ES__VAR(pairs[i].obs);
    }
    out[ES_F_LYAPUNOV * ndepth + k] = ES__MEAN(ES_NOBS_LYAP);
    out[ES_F_LYAPUNOV_STDERR * ndepth + k] = sqrt(ES__VAR(ES_NOBS_LYAP) / n);
    /* Pooled excess kurtosis m4/m2^2 - 3 (h has mean 0 by the sign symmetry of the
     * weights) and its linearised error: gradient (1/m2^2, -2 m4/m2^3) on (h4, q). */
    double m2 = ES__MEAN(ES_NOBS_QA), m4 = ES__MEAN(ES_NOBS_H4);
    double g4 = 1.0 / (m2 * m2), gq = -2.0 * m4 / (m2 * m2 * m2);
    double cov = st[ES_ST_C_Q_H4] / (n - 1.0);
    double v = g4 * g4 * ES__VAR(ES_NOBS_H4) + gq * gq * ES__VAR(ES_NOBS_QA) + 2 * g4 * gq * cov;
    out[ES_F_KURTOSIS * ndepth + k] = m4 / (m2 * m2) - 3.0;
    out[ES_F_KURTOSIS_STDERR * ndepth + k] = sqrt(fmax(v, 0.0) / n);
#undef ES__MEAN
#undef ES__VAR
  }
}
