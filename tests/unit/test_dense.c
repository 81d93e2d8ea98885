/* The dense (explicit-weight) method: (1) it agrees in distribution with the gram sampler,
 * for every activation, ordered and chaotic, with and without leak and noise; (2) shared
 * (recurrent) weights follow the two-time DMFT of physics.md §3.1, which equals the
 * feedforward kernel at gamma = 1, g = 0 and not otherwise; (3) bits: layer 1 is gram's, a
 * network is a pure function of its index, a shallower network is a prefix of a deeper one,
 * and the weight block size does not change a bit.
 * The agreement table goes to stderr (for the issue note). */
#include "edgesweep/ensemble.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edgesweep/mft.h"
#include "es_test.h"

/* Internal knob of src/ensemble/dense.c: rows per feedforward weight block (0 = auto). */
void es__dense_set_block_rows(int64_t rows);

enum { NOBS = 3, MAXD = 4 };
static const int obs_index[NOBS] = {ES_NOBS_QA, ES_NOBS_C, ES_NOBS_LOGJAC};
static const char *const obs_name[NOBS] = {"q_a", "c", "logjac"};

/* Mean, unbiased variance and fourth central moment of the finite values of x[0..m). */
typedef struct {
  double mean, var, m4;
  int64_t n;
} moments;

static moments moments_of(const double *x, int64_t m, int64_t stride) {
  moments r = {0, 0, 0, 0};
  for (int64_t i = 0; i < m; i++)
    if (isfinite(x[i * stride])) {
      r.mean += x[i * stride];
      r.n++;
    }
  r.mean /= (double)r.n;
  double s2 = 0, s4 = 0;
  for (int64_t i = 0; i < m; i++)
    if (isfinite(x[i * stride])) {
      double d = x[i * stride] - r.mean;
      s2 += d * d;
      s4 += d * d * d * d;
    }
  r.var = s2 / (double)(r.n - 1);
  r.m4 = s4 / (double)r.n;
  return r;
}

/* Networks 0..m-1 of a point into out[m][ndepth][ES_NOBS_COUNT]. */
static void simulate(const es_ensemble_params *p, int64_t m, double *out) {
  es_ensemble *e = NULL;
  ASSERT_EQ_INT(es_ensemble_create(p, &e), ES_OK);
  if (!e) return;
  int64_t stride = p->ndepth * ES_NOBS_COUNT;
  for (int64_t i = 0; i < m; i++) ASSERT_EQ_INT(es_ensemble_network(e, i, out + i * stride), ES_OK);
  es_ensemble_destroy(&e);
}

/* (1) gram against dense: mean and variance of q_a, c, logjac at depths 1, 3, 6.
 * The two methods use different seeds, so the samples are independent and the z of a
 * difference is (a - b) / sqrt(se_a^2 + se_b^2). The error of a sample variance is
 * sqrt((m4 - v^2) / M) with the measured fourth central moment m4: logjac and relu's q are
 * far from Gaussian (excess kurtosis of several), where the Gaussian formula sqrt(2 v^2 / M)
 * would be too small and a fixed fudge factor a guess. */
enum { N1 = 20, M1 = 2000 };
static double worst_mean = 0, worst_var = 0;

static void gram_vs_dense(const char *name, double sw2, double sb2, double leak, double noise) {
  const es_activation *act = es_activation_find(name);
  int64_t depth[3] = {1, 3, 6};
  es_ensemble_params p = {act, sw2, sb2, leak, noise, 1.0, 0.6, N1, 3, depth,
                          es_rng_point_key(11, sw2, sb2, N1), 0, 0};
  const int64_t stride = 3 * ES_NOBS_COUNT;
  double *g = malloc(sizeof(double) * M1 * stride), *d = malloc(sizeof(double) * M1 * stride);
  simulate(&p, M1, g);
  p.dense = 1;
  p.key = es_rng_point_key(12, sw2, sb2, N1);
  simulate(&p, M1, d);
  for (int k = 0; k < 3; k++)
    for (int j = 0; j < NOBS; j++) {
      int o = k * ES_NOBS_COUNT + obs_index[j];
      moments a = moments_of(g + o, M1, stride), b = moments_of(d + o, M1, stride);
      double zm = (b.mean - a.mean) / sqrt(a.var / (double)a.n + b.var / (double)b.n);
      double sv = sqrt((a.m4 - a.var * a.var) / (double)a.n + (b.m4 - b.var * b.var) / (double)b.n);
      double zv = (b.var - a.var) / sv;
      if (a.var == 0 && b.var == 0) zm = zv = 0; /* c at depth 1 with c0 exact, etc. */
      fprintf(stderr, "%-6s %4.2f %4.2f %3.1f %3.1f %-6s %lld %12.6g %12.6g %6.2f %11.4g %11.4g %6.2f\n",
              name, sw2, sb2, leak, noise, obs_name[j], (long long)depth[k], a.mean, b.mean, zm,
              a.var, b.var, zv);
      if (fabs(zm) > worst_mean) worst_mean = fabs(zm);
      if (fabs(zv) > worst_var) worst_var = fabs(zv);
      if (!(fabs(zm) <= 4 && fabs(zv) <= 4))
        ES_FAIL_AT("%s (%g, %g) leak %g noise %g %s depth %lld: z_mean %.2f z_var %.2f", name, sw2,
                   sb2, leak, noise, obs_name[j], (long long)depth[k], zm, zv);
    }
  free(g);
  free(d);
}

/* Two-time DMFT of one input (physics.md §3.1) to depth T <= 15: q[t-1] = C(t, t). Layer 1
 * is h(1) = W^0 x + b^0 with |x|^2/N0 = q0; Y(t) = W^(t) phi(h(t)) + b^(t) + xi(t). */
static void dmft_q(const es_activation *act, double sw2, double sb2, double gamma, double g,
                   double q0, int shared, int T, double *q) {
  double C[16][16] = {{0}}, Q[16][16] = {{0}}, k1 = 1.0 - gamma;
  C[1][1] = sw2 * q0 + sb2;
  for (int t = 1; t < T; t++) {
    for (int k = 1; k <= t; k++)
      if (shared || k == t)
        Q[k][t] = Q[t][k] =
            sw2 * es_mft_e_phiphi(act, C[k][k], C[t][t], C[k][t]) + sb2 + (k == t ? g : 0.0);
    for (int s = 1; s <= t; s++) {
      /* P(t, s) = Cov(h(t), Y(s)) = sum_{k < t} (1-gamma)^(t-1-k) Q(k, s). */
      double pts = 0, pst = 0;
      for (int k = 1; k < t; k++) pts += pow(k1, t - 1 - k) * Q[k][s];
      for (int k = 1; k < s; k++) pst += pow(k1, s - 1 - k) * Q[k][t];
      C[t + 1][s + 1] = C[s + 1][t + 1] = k1 * k1 * C[t][s] + k1 * (pts + pst) + Q[t][s];
    }
    C[t + 1][1] = C[1][t + 1] = k1 * C[t][1]; /* h(1) is independent of every Y */
  }
  for (int t = 1; t <= T; t++) q[t - 1] = C[t][t];
}

/* (2) recurrent dense against the DMFT (and, at gamma = 1, g = 0, against feedforward gram):
 * the mean of q_a at depths 2, 4, 8 within 4 standard errors plus a 1/N allowance. */
enum { N2 = 512, M2 = 96 };
static void recurrent_vs_dmft(double gamma, double g) {
  const es_activation *act = es_activation_find("tanh");
  const double sw2 = 1.8, sb2 = 0.05;
  int64_t depth[3] = {2, 4, 8};
  double qs[8], qi[8];
  dmft_q(act, sw2, sb2, gamma, g, 1.0, 1, 8, qs);
  dmft_q(act, sw2, sb2, gamma, g, 1.0, 0, 8, qi);
  es_ensemble_params p = {act, sw2, sb2, gamma, g, 1.0, 0.6, N2, 3, depth,
                          es_rng_point_key(21, sw2, sb2, N2), 1, 1};
  const int64_t stride = 3 * ES_NOBS_COUNT;
  double *r = malloc(sizeof(double) * M2 * stride), *f = malloc(sizeof(double) * M2 * stride);
  simulate(&p, M2, r);
  p.dense = 0;
  p.recurrent = 0;
  simulate(&p, M2, f);
  for (int k = 0; k < 3; k++) {
    int o = k * ES_NOBS_COUNT + ES_NOBS_QA;
    moments a = moments_of(r + o, M2, stride), b = moments_of(f + o, M2, stride);
    double sa = sqrt(a.var / (double)a.n), sb = sqrt(b.var / (double)b.n);
    int t = (int)depth[k];
    fprintf(stderr,
            "recurrent gamma %.1f g %.1f t %d: shared dense %.5f (se %.5f) DMFT %.5f | "
            "feedforward gram %.5f (se %.5f) MFT %.5f\n",
            gamma, g, t, a.mean, sa, qs[t - 1], b.mean, sb, qi[t - 1]);
    /* Finite-N bias is O(q / N): allow 2 q / N on top of 4 standard errors. */
    ASSERT(fabs(a.mean - qs[t - 1]) <= 4 * sa + 2 * qs[t - 1] / N2);
    ASSERT(fabs(b.mean - qi[t - 1]) <= 4 * sb + 2 * qi[t - 1] / N2);
    if (gamma == 1 && g == 0) {
      ASSERT_NEAR(qs[t - 1], qi[t - 1], 1e-12 * qi[t - 1]);
      ASSERT(fabs(a.mean - b.mean) <= 4 * sqrt(sa * sa + sb * sb) + 2 * qi[t - 1] / N2);
    }
  }
  if (gamma != 1) {
    /* physics.md §3.1's example, with q0 = 1 (|x|^2/N0 = 1; the value it does not state). */
    fprintf(stderr, "DMFT q_aa^8: shared %.4f independent %.4f (physics.md: 3.6967, 1.2456)\n",
            qs[7], qi[7]);
    ASSERT(fabs(qs[7] - qi[7]) > 0.5); /* the two architectures really differ here */
  }
  free(r);
  free(f);
}

/* (3) bits. */
static void bits_at(int64_t N) {
  const es_activation *act = es_activation_find("tanh");
  int64_t depth[3] = {1, 3, 5}, shallow[1] = {3};
  const int64_t S = 3 * ES_NOBS_COUNT;
  double a[3 * ES_NOBS_COUNT], b[3 * ES_NOBS_COUNT], c[3 * ES_NOBS_COUNT];
  for (int rec = 0; rec <= 1; rec++)
    for (int noisy = 0; noisy <= 1; noisy++) {
      es_ensemble_params p = {act, 1.7, 0.1, noisy ? 0.5 : 1.0, noisy ? 0.1 : 0.0, 1.0, 0.3,
                              N, 3, depth, es_rng_point_key(3, 1.7, 0.1, N), 1, rec};
      es_ensemble *e = NULL;
      es__dense_set_block_rows(0);
      ASSERT_EQ_INT(es_ensemble_create(&p, &e), ES_OK);
      ASSERT_EQ_INT(es_ensemble_network(e, 5, a), ES_OK);
      ASSERT_EQ_INT(es_ensemble_network(e, 2, b), ES_OK);
      ASSERT_EQ_INT(es_ensemble_network(e, 5, b), ES_OK);
      ASSERT(memcmp(a, b, sizeof a) == 0);
      es_ensemble_destroy(&e);
      /* Other block sizes, one beyond N: the same bits (recurrent ignores the knob). */
      static const int64_t blocks[5] = {1, 3, 7, 64, 1000};
      for (int i = 0; i < 5; i++) {
        es__dense_set_block_rows(blocks[i]);
        ASSERT_EQ_INT(es_ensemble_create(&p, &e), ES_OK);
        ASSERT_EQ_INT(es_ensemble_network(e, 5, c), ES_OK);
        es_ensemble_destroy(&e);
        for (int j = 0; j < S; j++)
          if (!(a[j] == c[j] || (isnan(a[j]) && isnan(c[j]))))
            ES_FAIL_AT("recurrent %d noisy %d block %lld: value %d differs: %.17g vs %.17g", rec,
                       noisy, (long long)blocks[i], j, a[j], c[j]);
      }
      es__dense_set_block_rows(0);
      /* Two OpenBLAS threads: the same bits (every dgemm is small enough to run on one). */
      openblas_set_num_threads(2);
      ASSERT_EQ_INT(es_ensemble_create(&p, &e), ES_OK);
      ASSERT_EQ_INT(es_ensemble_network(e, 5, c), ES_OK);
      es_ensemble_destroy(&e);
      openblas_set_num_threads(1);
      ASSERT(memcmp(a, c, sizeof a) == 0);
      /* A depth-3 network is the prefix of the depth-5 one. */
      es_ensemble_params ps = p;
      ps.ndepth = 1;
      ps.depth = shallow;
      ASSERT_EQ_INT(es_ensemble_create(&ps, &e), ES_OK);
      ASSERT_EQ_INT(es_ensemble_network(e, 5, c), ES_OK);
      es_ensemble_destroy(&e);
      ASSERT(memcmp(c, a + ES_NOBS_COUNT, ES_NOBS_COUNT * sizeof(double)) == 0);
      /* Layer 1 is the gram method's, bit for bit. */
      if (!rec) {
        p.dense = 0;
        ASSERT_EQ_INT(es_ensemble_create(&p, &e), ES_OK);
        ASSERT_EQ_INT(es_ensemble_network(e, 5, c), ES_OK);
        es_ensemble_destroy(&e);
        for (int j = 0; j < ES_NOBS_COUNT - 1; j++) ASSERT(a[j] == c[j]); /* LYAP is NaN */
      }
    }
  /* c0 = 1 without noise: the inputs stay identical (d = 0 exactly), shared or not. */
  for (int rec = 0; rec <= 1; rec++) {
    es_ensemble_params p = {act, 2.5, 0.1, 0.7, 0.0, 1.0, 1.0, N, 3, depth,
                            es_rng_point_key(4, 2.5, 0.1, N), 1, rec};
    es_ensemble *e = NULL;
    ASSERT_EQ_INT(es_ensemble_create(&p, &e), ES_OK);
    ASSERT_EQ_INT(es_ensemble_network(e, 0, a), ES_OK);
    es_ensemble_destroy(&e);
    for (int k = 0; k < 3; k++) ASSERT(a[k * ES_NOBS_COUNT + ES_NOBS_C] == 1.0);
  }
  /* relu deep in its unbounded phase overflows: flagged, NaN, like gram. */
  const es_activation *relu = es_activation_find("relu");
  int64_t deep[1] = {3000};
  es_ensemble_params pr = {relu, 4.0, 0.0, 1.0, 0.0, 1.0, 0.5, 16, 1, deep,
                           es_rng_point_key(1, 4.0, 0.0, 16), 1, 0};
  es_ensemble *e = NULL;
  ASSERT_EQ_INT(es_ensemble_create(&pr, &e), ES_OK);
  ASSERT_EQ_INT(es_ensemble_network(e, 0, a), ES_ERR_NUMERIC);
  ASSERT(isnan(a[ES_NOBS_QA]));
  es_ensemble_destroy(&e);
}

static void bits(void) {
  bits_at(37);  /* not a multiple of 4 or of a block: blocks end inside a Philox block */
  bits_at(300); /* wide enough for OpenBLAS's blocked kernels to differ between block sizes */
}

int main(void) {
  /* One BLAS thread, as the engine runs (one rank per core), whatever the environment says:
   * a user-chosen block above OpenBLAS's threading threshold would round differently on two
   * threads; bits() checks that the automatic blocks do not. */
  openblas_set_num_threads(1);
  bits();

  /* (sigma_w2, sigma_b2): ordered, then chaotic (relu: below and above its sw2 = 2). */
  static const struct {
    const char *name;
    double w[2], b[2];
  } acts[] = {{"linear", {0.8, 1.2}, {0.2, 0.1}}, {"relu", {1.5, 2.4}, {0.1, 0.1}},
              {"tanh", {1.5, 2.5}, {0.05, 0.05}}, {"erf", {1.0, 2.0}, {0.05, 0.05}},
              {"gelu", {1.8, 4.0}, {0.1, 0.1}},   {"silu", {2.0, 4.0}, {0.1, 0.1}},
              {"sin", {1.2, 3.0}, {0.05, 0.05}}};
  fprintf(stderr, "%-6s %4s %4s %3s %3s %-6s %s %12s %12s %6s %11s %11s %6s\n", "act", "sw2",
          "sb2", "lk", "g", "obs", "t", "gram mean", "dense mean", "z", "gram var", "dense var",
          "z");
  for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
    for (int r = 0; r < 2; r++) {
      gram_vs_dense(acts[i].name, acts[i].w[r], acts[i].b[r], 1.0, 0.0);
      gram_vs_dense(acts[i].name, acts[i].w[r], acts[i].b[r], 0.5, 0.1);
    }
  fprintf(stderr, "gram vs dense: max |z| of means %.2f, of variances %.2f\n", worst_mean,
          worst_var);

  recurrent_vs_dmft(1.0, 0.0);
  recurrent_vs_dmft(0.5, 0.1);
  ES_TEST_END();
}
