/* ensemble + observables: the gram sampler against explicit random weights (small N, so
 * finite-width effects are large), determinism per network, c0 = 1 staying exactly
 * correlated, the flagged overflow path, and the reductions. */
#include "edgesweep/ensemble.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "activation_impl.h"
#include "edgesweep/observables.h"
#include "ensemble_impl.h"
#include "es_test.h"
#include "rng_impl.h"

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
  es_ensemble_params p = {
      act, sw2, sb2, 1.0, 0.0, 1.3, 0.4, N, 1, depth, es_rng_point_key(99, sw2, sb2, N),
      0,   0,   0,   NULL};
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

/* The gram algorithm written plainly, one array pass per step as before the fused kernel
 * (sequential sums, u renormalised in place), on the same streams: normal k of neuron i is
 * variate k 2^40 + i of (network, layer, ROWS). */
static void plain(const es_ensemble_params *p, int64_t net, double *out) {
  const size_t n = (size_t)p->width;
  const double keep = 1.0 - p->leak;
  double *ha = calloc(n, sizeof *ha), *d = calloc(n, sizeof *d), *u = calloc(n, sizeof *u);
  double *fa = calloc(n, sizeof *fa), *fb = calloc(n, sizeof *fb), *v = calloc(n, sizeof *v);
  double *z = calloc(3 * n, sizeof *z);
  double s[6] = {p->sigma_w2 * p->q0 + p->sigma_b2,
                 -p->sigma_w2 * p->q0 * (1 - p->c0),
                 2 * p->sigma_w2 * p->q0 * (1 - p->c0),
                 0,
                 0,
                 p->sigma_w2},
         l[6];
  double logjac = 0, logjac1 = 0;
  int64_t k = 0, tmax = p->depth[p->ndepth - 1];
  for (int64_t i = 0; i < p->ndepth * ES_NOBS_COUNT; i++) out[i] = NAN;
  for (int64_t t = 1;; t++) {
    es__chol3(s, l);
    for (int c = 0; c < 3; c++) {
      es_rng r;
      es_rng_init(&r, p->key, (uint64_t)net, (uint64_t)t, ES_RNG_ROWS);
      es_rng_seek(&r, (uint64_t)c << 40);
      es_rng_normals(&r, z + c * n, n);
    }
    double kk = t == 1 ? 0.0 : keep, suu = 0;
    for (size_t i = 0; i < n; i++) {
      ha[i] = kk * ha[i] + l[0] * z[i];
      d[i] = kk * d[i] + l[1] * z[i] + l[2] * z[n + i];
      u[i] = kk * u[i] + l[3] * z[i] + l[4] * z[n + i] + l[5] * z[2 * n + i];
      suu += u[i] * u[i];
    }
    if (suu == 0) break; /* dead */
    for (size_t i = 0; i < n; i++) u[i] /= sqrt(suu / (double)n);
    logjac += log(suu / (double)n);
    if (t == 1) logjac1 = logjac;
    if (t == p->depth[k]) {
      double saa = 0, sbb = 0, sab = 0, sdd = 0, s4 = 0;
      for (size_t i = 0; i < n; i++) {
        double a = ha[i], b = a + d[i];
        saa += a * a, sbb += b * b, sab += a * b, sdd += d[i] * d[i], s4 += a * a * a * a;
      }
      double qa = saa / n, qb = sbb / n, ra = sqrt(qa), rb = sqrt(qb), *o = out + k * ES_NOBS_COUNT;
      o[ES_NOBS_QA] = qa, o[ES_NOBS_QB] = qb, o[ES_NOBS_QAB] = sab / n;
      o[ES_NOBS_C] = 1 - (sdd / n - (ra - rb) * (ra - rb)) / (2 * ra * rb);
      o[ES_NOBS_LOGJAC] = logjac, o[ES_NOBS_LOGQ] = log(qa), o[ES_NOBS_H4] = s4 / n;
      o[ES_NOBS_LYAP] = t > 1 ? (logjac - logjac1) / (2.0 * (t - 1)) : NAN;
      if (++k == p->ndepth) break;
    }
    for (size_t i = 0; i < n; i++) fb[i] = ha[i] + d[i];
    p->act->eval(n, ha, fa, v);
    p->act->eval(n, fb, fb, NULL);
    double g[6] = {0};
    for (size_t i = 0; i < n; i++) {
      double df = fb[i] - fa[i], vi = v[i] * u[i];
      g[0] += fa[i] * fa[i], g[1] += df * fa[i], g[2] += df * df;
      g[3] += vi * fa[i], g[4] += vi * df, g[5] += vi * vi;
    }
    double w = p->sigma_w2 / (double)n;
    s[0] = w * g[0] + p->sigma_b2 + p->noise, s[1] = w * g[1] - p->noise;
    s[2] = w * g[2] + 2 * p->noise, s[3] = w * g[3], s[4] = w * g[4], s[5] = w * g[5];
    (void)tmax;
  }
  free(ha), free(d), free(u), free(fa), free(fb), free(v), free(z);
}

/* The fused kernel against the plain algorithm (close: only the rounding of sums and of the
 * deferred renormalisation differ), and the same bits on every code path, for widths around
 * the kernel's block and lane sizes, with leak and noise. */
static void fused_vs_plain(void) {
  static const char *const acts[4] = {"tanh", "relu", "erf", "linear"};
  static const int64_t widths[6] = {1, 5, 50, 256, 300, 1030};
  int64_t depth[3] = {1, 4, 7};
  double worst = 0;
  for (int ia = 0; ia < 4; ia++)
    for (int iw = 0; iw < 6; iw++)
      for (int lk = 0; lk < 2; lk++) {
        const es_activation *act = es_activation_find(acts[ia]);
        int64_t N = widths[iw];
        double sw2 = ia == 1 ? 1.9 : 1.6, sb2 = 0.08;
        es_ensemble_params p = {act,
                                sw2,
                                sb2,
                                lk ? 0.6 : 1.0,
                                lk ? 0.05 : 0.0,
                                1.1,
                                0.7,
                                N,
                                3,
                                depth,
                                es_rng_point_key(17, sw2, sb2, N),
                                0,
                                0,
                                0,
                                NULL};
        double a[3 * ES_NOBS_COUNT], b[3 * ES_NOBS_COUNT], c[3 * ES_NOBS_COUNT];
        es_ensemble *e = NULL;
        ASSERT_EQ_INT(es_ensemble_create(&p, &e), ES_OK);
        es_status st = es_ensemble_network(e, 3, a);
        ASSERT_EQ_INT(st, ES_OK);
        /* Every path, forced: the same bits. */
        for (int path = ES__SIMD_SCALAR; path <= ES__SIMD_AVX512; path++) {
          if (es__rng_set_simd((es__simd)path) != 0) continue;
          ASSERT_EQ_INT(es__activation_set_simd((es__simd)path), 0);
          ASSERT_EQ_INT(es_ensemble_network(e, 3, c), st);
          for (int j = 0; j < 3 * ES_NOBS_COUNT; j++)
            if (!(a[j] == c[j] || (isnan(a[j]) && isnan(c[j]))))
              ES_FAIL_AT("%s N=%lld leak %d path %d: value %d differs: %.17g vs %.17g", acts[ia],
                         (long long)N, lk, path, j, a[j], c[j]);
        }
        es__rng_set_simd(ES__SIMD_AUTO);
        es__activation_set_simd(ES__SIMD_AUTO);
        es_ensemble_destroy(&e);
        plain(&p, 3, b);
        for (int j = 0; j < 3 * ES_NOBS_COUNT; j++) {
          if (isnan(a[j]) || isnan(b[j])) {
            if (!(isnan(a[j]) && isnan(b[j])))
              ES_FAIL_AT("%s N=%lld: value %d: %g vs %g", acts[ia], (long long)N, j, a[j], b[j]);
            continue;
          }
          double err = fabs(a[j] - b[j]) / fmax(1.0, fabs(b[j]));
          if (err > worst) worst = err;
          /* At N < 3 (or few live relu units) X^T X is singular, and a Cholesky pivot that
           * should be 0 is rounding noise e whose sqrt(e) enters: 1e-8 differences. */
          if (!(err <= (N >= 50 ? 1e-11 : 1e-5)))
            ES_FAIL_AT("%s N=%lld leak %d: value %d: fused %.17g plain %.17g", acts[ia],
                       (long long)N, lk, j, a[j], b[j]);
        }
      }
  fprintf(stderr, "  fused vs plain: largest difference %.2g\n", worst);
}

int main(void) {
  fused_vs_plain();
  compare_with_brute("tanh", 1.8, 0.1);
  /* (relu at N = 6 kills a network with probability 2^-6 per layer: sin instead.) */
  compare_with_brute("sin", 2.0, 0.2);
  compare_with_brute("erf", 0.9, 0.0);

  /* The same network gives the same bits, whatever was computed before. */
  const es_activation *act = es_activation_find("tanh");
  int64_t depth[3] = {1, 4, 9};
  es_ensemble_params p = {
      act, 1.5, 0.05, 1.0, 0.0, 1.0, 1.0, 50, 3, depth, es_rng_point_key(5, 1.5, 0.05, 50),
      0,   0,   0,    NULL};
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

  /* Lags (gram and dense, feedforward and recurrent): the other observables keep their bits,
   * lag 0 is q_a and q_ab again (another summation order), and a lag before layer 1 is NaN
   * (the values themselves: the physics test two_time). */
  for (int arch = 0; arch < 3; arch++) {
    const int64_t lags[3] = {0, 3, 8}, R = es_nobs_len(3);
    es_ensemble_params pl = p, p0 = p;
    pl.c0 = p0.c0 = 0.4;
    pl.dense = p0.dense = arch > 0;
    pl.recurrent = p0.recurrent = arch == 2;
    pl.leak = p0.leak = arch == 2 ? 0.5 : 1.0;
    pl.noise = p0.noise = 0.1;
    pl.nlags = 3;
    pl.lags = lags;
    double wl[3 * 14], w0[3 * ES_NOBS_COUNT];
    ASSERT(R <= 14);
    es_ensemble *el = NULL, *e0 = NULL;
    ASSERT_EQ_INT(es_ensemble_create(&pl, &el), ES_OK);
    ASSERT_EQ_INT(es_ensemble_create(&p0, &e0), ES_OK);
    ASSERT_EQ_INT(es_ensemble_network(el, 2, wl), ES_OK);
    ASSERT_EQ_INT(es_ensemble_network(e0, 2, w0), ES_OK);
    for (int k = 0; k < 3; k++) {
      const double *x = wl + k * R;
      for (int j = 0; j < ES_NOBS_COUNT; j++)
        ASSERT(x[j] == w0[k * ES_NOBS_COUNT + j] || (isnan(x[j]) && k == 0 && j == ES_NOBS_LYAP));
      ASSERT_REL(x[ES_NOBS_COUNT], x[ES_NOBS_QA], 1e-13);
      ASSERT_REL(x[ES_NOBS_COUNT + 1], x[ES_NOBS_QAB], 1e-13);
      ASSERT(isnan(x[ES_NOBS_COUNT + 4]) == (depth[k] - 8 < 1));
    }
    ASSERT(isnan(wl[ES_NOBS_COUNT + 2]));            /* depth 1, lag 3 */
    ASSERT(isfinite(wl[2 * R + ES_NOBS_COUNT + 4])); /* depth 9, lag 8: layer 1 */
    /* The same overlap from another ring (other slots, other layers kept): depth 9 alone
     * with lags 3 and 5 gives depth 9's lag-3 value of the run above, bit for bit. */
    const int64_t d9[1] = {9}, l35[2] = {3, 5};
    es_ensemble_params p9 = pl;
    p9.ndepth = 1;
    p9.depth = d9;
    p9.nlags = 2;
    p9.lags = l35;
    double w9[14];
    es_ensemble *e9 = NULL;
    ASSERT_EQ_INT(es_ensemble_create(&p9, &e9), ES_OK);
    ASSERT_EQ_INT(es_ensemble_network(e9, 2, w9), ES_OK);
    ASSERT(w9[ES_NOBS_COUNT] == wl[2 * R + ES_NOBS_COUNT + 2]);
    ASSERT(w9[ES_NOBS_COUNT + 1] == wl[2 * R + ES_NOBS_COUNT + 3]);
    ASSERT(w9[ES_NOBS_COUNT + 2] != w9[ES_NOBS_COUNT]); /* lag 5 is another layer */
    es_ensemble_destroy(&e9);
    es_ensemble_destroy(&el);
    es_ensemble_destroy(&e0);
  }

  /* Deep in relu's chaotic phase the pre-activations overflow: a flagged failure. */
  const es_activation *relu = es_activation_find("relu");
  int64_t deep[1] = {3000};
  es_ensemble_params pr = {
      relu, 4.0, 0.0, 1.0, 0.0, 1.0, 0.5, 16, 1, deep, es_rng_point_key(1, 4.0, 0.0, 16),
      0,    0,   0,   NULL};
  ASSERT_EQ_INT(es_ensemble_create(&pr, &e), ES_OK);
  double o[ES_NOBS_COUNT];
  ASSERT_EQ_INT(es_ensemble_network(e, 0, o), ES_ERR_NUMERIC);
  ASSERT(isnan(o[ES_NOBS_QA]));
  ASSERT(strstr(es_error_msg(), "pre-activations overflowed") != NULL);
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
  es_obs_state_init(st, 1, 0);
  es_obs_state_add(st, per, 1, 0);
  es_obs_state_finish(st, 1, 0, f, valid, NULL);
  ASSERT_EQ_INT(valid[0], 1);
  ASSERT(isnan(f[ES_F_Q_MEAN])); /* one live network is too few */
  es_obs_state_add(st, per + ES_NOBS_COUNT, 1, 0);
  es_obs_state_add(st, per + 2 * ES_NOBS_COUNT, 1, 0); /* dead: skipped */
  es_obs_state_finish(st, 1, 0, f, valid, NULL);
  ASSERT_EQ_INT(valid[0], 2);
  ASSERT_NEAR(f[ES_F_Q_MEAN], 2.0, 1e-15);
  ASSERT_NEAR(f[ES_F_Q_VAR], 2.0, 1e-15);
  ASSERT_NEAR(f[ES_F_KURTOSIS], 15.0 / 4.0 - 3.0, 1e-15); /* 3 Var G/(E G)^2 = 3/4 */
  /* Welford against two-pass on many values spread around a large mean (c near 1). */
  enum { K = 1000 };
  double x[K * ES_NOBS_COUNT] = {0}, s1 = 0, s2 = 0;
  es_obs_state_init(st, 1, 0);
  for (int i = 0; i < K; i++) {
    double c = 1.0 - 1e-9 * (1.0 + sin(0.37 * i));
    x[i * ES_NOBS_COUNT + ES_NOBS_QA] = 1.0;
    x[i * ES_NOBS_COUNT + ES_NOBS_C] = c;
    es_obs_state_add(st, x + i * ES_NOBS_COUNT, 1, 0);
    s1 += c;
  }
  for (int i = 0; i < K; i++) {
    double d = x[i * ES_NOBS_COUNT + ES_NOBS_C] - s1 / K;
    s2 += d * d;
  }
  es_obs_state_finish(st, 1, 0, f, valid, NULL);
  ASSERT_REL(f[ES_F_C_VAR], s2 / (K - 1), 1e-6);

  /* Blocks combined in order (es_obs_state_combine) against one sequential fold: the same
   * statistics to rounding, with a dead network in one block, a depth dead in a whole block,
   * a lag that is NaN throughout; one block combined into an empty state keeps its bits. */
  {
    enum { NB = 3, PER = 7, NL = 1, D = 2 };
    const int64_t R = es_nobs_len(NL), S = es_obs_state_len(NL);
    double net[NB * PER][D * 16], seq[D * 32], blk[D * 32], tot[D * 32], one[D * 32];
    ASSERT(R <= 16 && S <= 32);
    for (int i = 0; i < NB * PER; i++)
      for (int64_t k = 0; k < D; k++)
        for (int64_t j = 0; j < R; j++)
          net[i][k * R + j] =
              1.5 + sin(0.7 * i + 1.3 * (double)j + 2.1 * (double)k) + 0.01 * (double)(i % 5);
    for (int i = 0; i < NB * PER; i++) net[i][R + ES_NOBS_COUNT] = NAN; /* depth 1's lag */
    net[3][ES_NOBS_QA] = NAN;                                           /* dead at depth 0 */
    for (int i = PER; i < 2 * PER; i++) net[i][R + ES_NOBS_QA] = NAN;   /* block 1, depth 1 */
    es_obs_state_init(seq, D, NL);
    es_obs_state_init(tot, D, NL);
    for (int b = 0; b < NB; b++) {
      es_obs_state_init(blk, D, NL);
      for (int i = b * PER; i < (b + 1) * PER; i++) {
        es_obs_state_add(seq, net[i], D, NL);
        es_obs_state_add(blk, net[i], D, NL);
      }
      if (b == 0) memcpy(one, blk, sizeof one);
      es_obs_state_combine(tot, blk, D, NL);
      if (b == 0) ASSERT(memcmp(tot, one, (size_t)(D * S) * sizeof *tot) == 0);
    }
    for (int64_t i = 0; i < D * S; i++) {
      if (isnan(seq[i])) {
        ASSERT(isnan(tot[i]));
        continue;
      }
      ASSERT_NEAR(tot[i], seq[i], 1e-12 * (1.0 + fabs(seq[i])));
    }
    ASSERT_EQ_INT(tot[ES_ST_N], NB * PER - 1);
    ASSERT_EQ_INT(tot[S + ES_ST_N], (NB - 1) * PER);
  }

  /* ReLU at N = 2 dies often: a network's deeper depths are NaN and the call succeeds. */
  int64_t dd[2] = {1, 40};
  es_ensemble_params pd = {
      relu, 2.0, 0.1, 1.0, 0.0, 1.0, 0.5, 2, 2, dd, es_rng_point_key(3, 2.0, 0.1, 2),
      0,    0,   0,   NULL};
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

  /* Without bias one input can die alone (q_b = 0 exactly, c undefined): that network is
   * dead too, in both methods, never a flagged point. Every depth is recorded so a NaN c
   * would be seen at once. */
  int64_t all[20];
  for (int i = 0; i < 20; i++) all[i] = i + 1;
  for (int dense = 0; dense < 2; dense++) {
    es_ensemble_params p0 = {
        relu,  2.0, 0.0, 1.0, 0.0, 1.0, 0.0, 3, 20, all, es_rng_point_key(8, 2.0, 0.0, 3),
        dense, 0,   0,   NULL};
    ASSERT_EQ_INT(es_ensemble_create(&p0, &e), ES_OK);
    int died = 0;
    for (int64_t m = 0; m < 200; m++) {
      double o0[20 * ES_NOBS_COUNT];
      ASSERT_EQ_INT(es_ensemble_network(e, m, o0), ES_OK);
      for (int t = 0; t < 20; t++) { /* a row is all finite (but lyapunov at t = 1) or NaN */
        const double *r = o0 + t * ES_NOBS_COUNT;
        if (isnan(r[ES_NOBS_QA])) {
          died += t == 19;
          continue;
        }
        ASSERT(isfinite(r[ES_NOBS_C]) && r[ES_NOBS_QA] > 0 && r[ES_NOBS_QB] > 0);
      }
    }
    ASSERT(died > 20);
    es_ensemble_destroy(&e);
  }
  ES_TEST_END();
}
