/* ensemble + observables: the gram sampler against explicit random weights (small N, so
 * finite-width effects are large), determinism per network, c0 = 1 staying exactly
 * correlated, the flagged overflow path, and the reductions. */
#include "edgesweep/ensemble.h"

#include <math.h>
#include <stdlib.h>

#include "edgesweep/observables.h"
#include "es_test.h"

enum { N = 6, T = 3, M = 80000 };

/* Explicit-weight reference: h^1 = W0 x + b0, h^{t+1} = W phi(h^t) + b (gamma = 1, g = 0),
 * two inputs with |x|^2/N0 = q0 and cosine c0 in N0 = 2 dimensions. Returns q_a^T, c^T and
 * logjac^T of one network. */
static void brute(const es_activation *act, double sw2, double sb2, double q0, double c0,
                  es_rng_key key, int64_t m, double *q, double *c, double *lj) {
  double xa[3] = {sqrt(3 * q0), 0, 0};
  double xb[3] = {sqrt(3 * q0) * c0, sqrt(3 * q0) * sqrt(1 - c0 * c0), 0};
  double u0[3] = {0, 0, sqrt(3.0)}; /* orthogonal to both, |u0|^2/N0 = 1 */
  double ha[N], hb[N], u[N], z[N * N + N];
  es_rng r;
  es_rng_init(&r, key, (uint64_t)m, 0, ES_RNG_TEST);
  es_rng_normals(&r, z, 3 * N + N);
  for (int i = 0; i < N; i++) {
    double b = sqrt(sb2) * z[3 * N + i];
    ha[i] = hb[i] = b;
    u[i] = 0;
    for (int k = 0; k < 3; k++) {
      double w = sqrt(sw2 / 3) * z[3 * i + k];
      ha[i] += w * xa[k];
      hb[i] += w * xb[k];
      u[i] += w * u0[k];
    }
  }
  double logj = 0;
  for (int t = 1; t < T; t++) {
    es_rng_init(&r, key, (uint64_t)m, (uint64_t)t, ES_RNG_TEST);
    es_rng_normals(&r, z, N * N + N);
    double na[N], nb[N], nu[N];
    for (int i = 0; i < N; i++) {
      double b = sqrt(sb2) * z[N * N + i];
      na[i] = nb[i] = b;
      nu[i] = 0;
      for (int k = 0; k < N; k++) {
        double w = sqrt(sw2 / N) * z[N * i + k];
        na[i] += w * act->phi(ha[k]);
        nb[i] += w * act->phi(hb[k]);
        nu[i] += w * act->dphi(ha[k]) * u[k];
      }
    }
    for (int i = 0; i < N; i++) {
      ha[i] = na[i];
      hb[i] = nb[i];
      u[i] = nu[i];
    }
  }
  double saa = 0, sbb = 0, sab = 0, suu = 0;
  for (int i = 0; i < N; i++) {
    saa += ha[i] * ha[i];
    sbb += hb[i] * hb[i];
    sab += ha[i] * hb[i];
    suu += u[i] * u[i];
  }
  *q = saa / N;
  *c = sab / sqrt(saa * sbb);
  *lj = log(suu / N) + logj;
}

static void compare_with_brute(const char *name, double sw2, double sb2) {
  const es_activation *act = es_activation_find(name);
  int64_t depth[1] = {T};
  es_ensemble_params p = {act, sw2, sb2, 1.0, 0.0, 1.3, 0.4, N, 1, depth,
                          es_rng_point_key(99, sw2, sb2, N), 0, 0};
  es_ensemble *e = NULL;
  ASSERT_EQ_INT(es_ensemble_create(&p, &e), ES_OK);
  double s[2][3] = {{0}}, ss[2][3] = {{0}}, o[ES_NOBS_COUNT];
  es_rng_key bk = es_rng_point_key(1234, sw2, sb2, N);
  int bad = 0;
  for (int64_t m = 0; m < M; m++) {
    bad += es_ensemble_network(e, m, o) != ES_OK;
    double g[3] = {o[ES_NOBS_QA], o[ES_NOBS_C], o[ES_NOBS_LOGJAC]}, b[3];
    brute(act, sw2, sb2, 1.3, 0.4, bk, m, &b[0], &b[1], &b[2]);
    for (int k = 0; k < 3; k++) {
      s[0][k] += g[k];
      ss[0][k] += g[k] * g[k];
      s[1][k] += b[k];
      ss[1][k] += b[k] * b[k];
    }
  }
  ASSERT_EQ_INT(bad, 0);
  es_ensemble_destroy(&e);
  static const char *const obs[3] = {"q", "c", "logjac"};
  for (int k = 0; k < 3; k++) {
    double mg = s[0][k] / M, mb = s[1][k] / M;
    double vg = ss[0][k] / M - mg * mg, vb = ss[1][k] / M - mb * mb;
    double se = sqrt((vg + vb) / M);
    fprintf(stderr, "  %s sw2=%g sb2=%g %s: gram %.5f explicit %.5f (se %.4f)\n", name, sw2, sb2,
            obs[k], mg, mb, se);
    ASSERT_Z(mg, mb, se, 4);
    /* The variances too: their difference over its rough error (4th moments ~ 3 var^2). */
    ASSERT_Z(vg, vb, sqrt(2 * (vg * vg + vb * vb) / M) * 1.5, 4);
  }
}

int main(void) {
  compare_with_brute("tanh", 1.8, 0.1);
  /* (relu at N = 6 kills a network with probability 2^-6 per layer: sin instead.) */
  compare_with_brute("sin", 2.0, 0.2);
  compare_with_brute("erf", 0.9, 0.0);

  /* The same network gives the same bits, whatever was computed before. */
  const es_activation *act = es_activation_find("tanh");
  int64_t depth[3] = {1, 4, 9};
  es_ensemble_params p = {act, 1.5, 0.05, 1.0, 0.0, 1.0, 1.0, 50, 3, depth,
                          es_rng_point_key(5, 1.5, 0.05, 50), 0, 0};
  es_ensemble *e = NULL;
  double a[3 * ES_NOBS_COUNT], b[3 * ES_NOBS_COUNT];
  ASSERT_EQ_INT(es_ensemble_create(&p, &e), ES_OK);
  ASSERT_EQ_INT(es_ensemble_network(e, 7, a), ES_OK);
  ASSERT_EQ_INT(es_ensemble_network(e, 3, b), ES_OK);
  ASSERT_EQ_INT(es_ensemble_network(e, 7, b), ES_OK);
  for (int i = 0; i < 3 * ES_NOBS_COUNT; i++) ASSERT(a[i] == b[i] || (isnan(a[i]) && isnan(b[i])));
  /* c0 = 1: identical inputs stay identical (the difference basis keeps d = 0 exactly). */
  for (int k = 0; k < 3; k++) ASSERT(a[k * ES_NOBS_COUNT + ES_NOBS_C] == 1.0);
  ASSERT(isnan(a[ES_NOBS_LYAP]));
  ASSERT(isfinite(a[ES_NOBS_COUNT + ES_NOBS_LYAP]));
  es_ensemble_destroy(&e);
  ASSERT(e == NULL);

  /* Deep in relu's chaotic phase the pre-activations overflow: a flagged failure. */
  const es_activation *relu = es_activation_find("relu");
  int64_t deep[1] = {3000};
  es_ensemble_params pr = {relu, 4.0, 0.0, 1.0, 0.0, 1.0, 0.5, 16, 1, deep,
                           es_rng_point_key(1, 4.0, 0.0, 16), 0, 0};
  ASSERT_EQ_INT(es_ensemble_create(&pr, &e), ES_OK);
  double o[ES_NOBS_COUNT];
  ASSERT_EQ_INT(es_ensemble_network(e, 0, o), ES_ERR_NUMERIC);
  ASSERT(isnan(o[ES_NOBS_QA]));
  es_ensemble_destroy(&e);

  /* Streaming statistics: two networks with known values, then a dead one. */
  double per[3 * ES_NOBS_COUNT] = {0};
  per[ES_NOBS_QA] = 1.0;
  per[ES_NOBS_COUNT + ES_NOBS_QA] = 3.0;
  per[ES_NOBS_H4] = 3.0;
  per[ES_NOBS_COUNT + ES_NOBS_H4] = 27.0;
  per[2 * ES_NOBS_COUNT + ES_NOBS_QA] = NAN;
  double st[ES_STATE_COUNT], f[ES_F_COUNT];
  int64_t valid[1];
  es_obs_state_init(st, 1);
  es_obs_state_add(st, per, 1);
  es_obs_state_finish(st, 1, f, valid);
  ASSERT_EQ_INT(valid[0], 1);
  ASSERT(isnan(f[ES_F_Q_MEAN])); /* one live network is too few */
  es_obs_state_add(st, per + ES_NOBS_COUNT, 1);
  es_obs_state_add(st, per + 2 * ES_NOBS_COUNT, 1); /* dead: skipped */
  es_obs_state_finish(st, 1, f, valid);
  ASSERT_EQ_INT(valid[0], 2);
  ASSERT_NEAR(f[ES_F_Q_MEAN], 2.0, 1e-15);
  ASSERT_NEAR(f[ES_F_Q_VAR], 2.0, 1e-15);
  ASSERT_NEAR(f[ES_F_KURTOSIS], 15.0 / 4.0 - 3.0, 1e-15); /* 3 Var G/(E G)^2 = 3/4 */
  /* Welford against two-pass on many values spread around a large mean (c near 1). */
  enum { K = 1000 };
  double x[K * ES_NOBS_COUNT] = {0}, s1 = 0, s2 = 0;
  es_obs_state_init(st, 1);
  for (int i = 0; i < K; i++) {
    double c = 1.0 - 1e-9 * (1.0 + sin(0.37 * i));
    x[i * ES_NOBS_COUNT + ES_NOBS_QA] = 1.0;
    x[i * ES_NOBS_COUNT + ES_NOBS_C] = c;
    es_obs_state_add(st, x + i * ES_NOBS_COUNT, 1);
    s1 += c;
  }
  for (int i = 0; i < K; i++) {
    double d = x[i * ES_NOBS_COUNT + ES_NOBS_C] - s1 / K;
    s2 += d * d;
  }
  es_obs_state_finish(st, 1, f, valid);
  ASSERT_REL(f[ES_F_C_VAR], s2 / (K - 1), 1e-6);

  /* ReLU at N = 2 dies often: a network's deeper depths are NaN and the call succeeds. */
  int64_t dd[2] = {1, 40};
  es_ensemble_params pd = {relu, 2.0, 0.1, 1.0, 0.0, 1.0, 0.5, 2, 2, dd,
                           es_rng_point_key(3, 2.0, 0.1, 2), 0, 0};
  ASSERT_EQ_INT(es_ensemble_create(&pd, &e), ES_OK);
  int dead = 0;
  for (int64_t m = 0; m < 50; m++) {
    double od[2 * ES_NOBS_COUNT];
    ASSERT_EQ_INT(es_ensemble_network(e, m, od), ES_OK);
    ASSERT(isfinite(od[ES_NOBS_QA]));
    dead += isnan(od[ES_NOBS_COUNT + ES_NOBS_QA]);
  }
  ASSERT(dead > 10); /* survival over 39 layers at N = 2 is (3/4)^39 */
  es_ensemble_destroy(&e);
  ES_TEST_END();
}
