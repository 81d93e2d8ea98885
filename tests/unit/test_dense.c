/* The dense (explicit-weight) method: (1) it agrees in distribution with the gram sampler,
 * for every activation, ordered and chaotic, with and without leak and noise; (2) shared
 * (recurrent) weights follow the two-time DMFT of doc/physics.md §3.1, which equals the
 * feedforward kernel at gamma = 1, g = 0 and not otherwise; (3) bits: layer 1 is gram's, a
 * network is a pure function of its index, a shallower network is a prefix of a deeper one,
 * and neither the weight chunk size nor the vector path changes a bit; (4) the product
 * kernel sums in its documented order on every path, within a derived bound of the exact sum.
 * The agreement table goes to stderr (for reports). */
#include "edgesweep/ensemble.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "activation_impl.h"
#include "edgesweep/mft.h"
#include "es_test.h"
#include "rng_impl.h"
#include "simd.h"

/* Internals of src/ensemble/dense.c (ensemble_impl.h): rows per feedforward weight chunk
 * (0 = auto), the product kernel and its path. */
void es__dense_set_block_rows(int64_t rows);
void es__dense_mv3(int64_t rows, int64_t n, const double *z, const double *x, double *y,
                   int64_t ldy);
int es__dense_set_simd(es__simd path);

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
  es_ensemble_params p = {
      act, sw2, sb2, leak, noise, 1.0, 0.6, N1, 3, depth, es_rng_point_key(11, sw2, sb2, N1),
      0,   0,   0,   NULL};
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
      fprintf(stderr,
              "%-6s %4.2f %4.2f %3.1f %3.1f %-6s %lld %12.6g %12.6g %6.2f %11.4g %11.4g %6.2f\n",
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

/* Two-time DMFT of one input (doc/physics.md §3.1) to depth T <= 15: q[t-1] = C(t, t). Layer 1
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
  es_ensemble_params p = {
      act, sw2, sb2, gamma, g, 1.0, 0.6, N2, 3, depth, es_rng_point_key(21, sw2, sb2, N2),
      1,   1,   0,   NULL};
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
    /* doc/physics.md §3.1's example, with q0 = 1 (|x|^2/N0 = 1; the value it does not state). */
    fprintf(stderr, "DMFT q_aa^8: shared %.4f independent %.4f (doc/physics.md: 3.6967, 1.2456)\n",
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
      es_ensemble_params p = {act,
                              1.7,
                              0.1,
                              noisy ? 0.5 : 1.0,
                              noisy ? 0.1 : 0.0,
                              1.0,
                              0.3,
                              N,
                              3,
                              depth,
                              es_rng_point_key(3, 1.7, 0.1, N),
                              1,
                              rec,
                              0,
                              NULL};
      es_ensemble *e = NULL;
      es__dense_set_block_rows(0);
      ASSERT_EQ_INT(es_ensemble_create(&p, &e), ES_OK);
      ASSERT_EQ_INT(es_ensemble_network(e, 5, a), ES_OK);
      ASSERT_EQ_INT(es_ensemble_network(e, 2, b), ES_OK);
      ASSERT_EQ_INT(es_ensemble_network(e, 5, b), ES_OK);
      ASSERT(memcmp(a, b, sizeof a) == 0);
      es_ensemble_destroy(&e);
      /* Other chunk sizes, one beyond N: the same bits (recurrent ignores the knob). */
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
    es_ensemble_params p = {
        act, 2.5, 0.1, 0.7, 0.0, 1.0, 1.0, N, 3, depth, es_rng_point_key(4, 2.5, 0.1, N),
        1,   rec, 0,   NULL};
    es_ensemble *e = NULL;
    ASSERT_EQ_INT(es_ensemble_create(&p, &e), ES_OK);
    ASSERT_EQ_INT(es_ensemble_network(e, 0, a), ES_OK);
    es_ensemble_destroy(&e);
    for (int k = 0; k < 3; k++) ASSERT(a[k * ES_NOBS_COUNT + ES_NOBS_C] == 1.0);
  }
  /* relu deep in its unbounded phase overflows: flagged, NaN, like gram. */
  const es_activation *relu = es_activation_find("relu");
  int64_t deep[1] = {3000};
  es_ensemble_params pr = {
      relu, 4.0, 0.0, 1.0, 0.0, 1.0, 0.5, 16, 1, deep, es_rng_point_key(1, 4.0, 0.0, 16),
      1,    0,   0,   NULL};
  es_ensemble *e = NULL;
  ASSERT_EQ_INT(es_ensemble_create(&pr, &e), ES_OK);
  ASSERT_EQ_INT(es_ensemble_network(e, 0, a), ES_ERR_NUMERIC);
  ASSERT(isnan(a[ES_NOBS_QA]));
  es_ensemble_destroy(&e);
}

static void bits(void) {
  bits_at(37);  /* not a multiple of 4 or 8 or of a chunk: chunks end inside a Philox block */
  bits_at(300); /* several rows per chunk, and a kernel remainder of 4 */
}

/* Set the vector path of every kernel a dense network uses (normals, activations, product);
 * 0, or -1 when this CPU cannot run it. */
static int set_path(es__simd path) {
  if (es__rng_set_simd(path) != 0) return -1;
  ASSERT_EQ_INT(es__activation_set_simd(path), 0);
  ASSERT_EQ_INT(es__dense_set_simd(path), 0);
  return 0;
}

/* Whole dense networks on every path give the scalar path's bits: widths that are and are not
 * multiples of the 8 lanes, recurrent and feedforward, with and without leak and noise. */
static void paths(void) {
  static const char *const name[] = {"auto", "scalar", "fma", "avx2", "avx512"};
  static const int64_t widths[4] = {1, 7, 37, 300};
  const es_activation *act = es_activation_find("tanh");
  int64_t depth[3] = {1, 3, 5};
  const int S = 3 * ES_NOBS_COUNT;
  int tried = 0;
  for (int iw = 0; iw < 4; iw++)
    for (int rec = 0; rec <= 1; rec++)
      for (int noisy = 0; noisy <= 1; noisy++) {
        int64_t N = widths[iw];
        es_ensemble_params p = {act,
                                1.7,
                                0.1,
                                noisy ? 0.5 : 1.0,
                                noisy ? 0.1 : 0.0,
                                1.0,
                                0.3,
                                N,
                                3,
                                depth,
                                es_rng_point_key(5, 1.7, 0.1, N),
                                1,
                                rec,
                                0,
                                NULL};
        double a[3 * ES_NOBS_COUNT], c[3 * ES_NOBS_COUNT];
        es_ensemble *e = NULL;
        ASSERT_EQ_INT(set_path(ES__SIMD_SCALAR), 0);
        ASSERT_EQ_INT(es_ensemble_create(&p, &e), ES_OK);
        es_status st = es_ensemble_network(e, 4, a);
        ASSERT_EQ_INT(st, ES_OK);
        for (int path = ES__SIMD_SCALAR_FMA; path <= ES__SIMD_AVX512; path++) {
          if (set_path((es__simd)path) != 0) continue;
          tried += iw == 0 && rec == 0 && noisy == 0;
          ASSERT_EQ_INT(es_ensemble_network(e, 4, c), st);
          for (int j = 0; j < S; j++)
            if (!(a[j] == c[j] || (isnan(a[j]) && isnan(c[j]))))
              ES_FAIL_AT("N=%lld recurrent %d noisy %d path %s: value %d differs: %.17g vs %.17g",
                         (long long)N, rec, noisy, name[path], j, a[j], c[j]);
        }
        es_ensemble_destroy(&e);
      }
  set_path(ES__SIMD_AUTO);
  fprintf(stderr, "dense networks: %d vector paths give the scalar bits\n", tried);
}

/* The documented order (dense.c), written out again: 8 lanes over j mod 8 up to n8, the
 * tree ((0+4) + (2+6)) + ((1+5) + (3+7)), then the remainder in order. */
static double order_ref(int64_t n, const double *z, const double *x) {
  const int64_t n8 = n & ~(int64_t)7;
  double a[8] = {0};
  for (int64_t j = 0; j < n8; j++) a[j % 8] = fma(z[j], x[j], a[j % 8]);
  double r = ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
  for (int64_t j = n8; j < n; j++) r = fma(z[j], x[j], r);
  return r;
}

/* (4) The kernel on random rows: every path gives the bits of order_ref, and the error
 * against a long-double sum is within the bound derived here.
 * Bound. Each product z_j x_j is exact inside an fma, and each fma or addition rounds once,
 * by a factor (1 + delta), |delta| <= u = 2^-53. A product in lane l passes through at most
 * k = floor(n/8) fmas of its lane, then the 3 additions of the tree, then the r = n mod 8
 * remainder fmas; a remainder product through at most r fmas. So (Higham, Accuracy and
 * Stability, Lemma 3.1) every term carries at most m = k + 3 + r factors and
 *   |y - sum_j z_j x_j| <= gamma_m sum_j |z_j x_j|,  gamma_m = m u / (1 - m u).
 * The reference sums the products in long double (64-bit significand, u_L = 2^-64), one
 * rounding for each product and one for each of the n - 1 additions: its own error is at
 * most gamma_n(u_L) sum |z_j x_j|, which is added to the bound. */
static void kernel(void) {
  static const int64_t ns[] = {1, 2, 7, 8, 9, 15, 16, 17, 37, 64, 300, 1031, 4096};
  const double u = DBL_EPSILON / 2;
  const long double uL = LDBL_EPSILON / 2;
  double worst = 0; /* largest error / (u sum |z x|), to see how tight the bound is */
  for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++) {
    const int64_t n = ns[in], rows = 13; /* 13 = 8 + 4 + 1 (AVX-512 blocks), 6 x 2 + 1 (AVX2) */
    double *z = malloc(sizeof(double) * (size_t)(rows * n)), *x = malloc(sizeof(double) * 3 * n);
    double *y = malloc(sizeof(double) * 3 * rows), *y0 = malloc(sizeof(double) * 3 * rows);
    es_rng r;
    es_rng_init(&r, es_rng_point_key(9, 1, 1, n), 0, 0, ES_RNG_TEST);
    es_rng_normals(&r, z, (size_t)(rows * n));
    es_rng_normals(&r, x, (size_t)(3 * n));
    /* Column 1 with magnitudes over 2^-20 .. 2^20 and column 2 all positive: sums with
     * heavy cancellation, and without. */
    for (int64_t j = 0; j < n; j++) {
      x[n + j] = ldexp(x[n + j], (int)(j % 41) - 20);
      x[2 * n + j] = fabs(x[2 * n + j]);
    }
    for (int path = ES__SIMD_SCALAR; path <= ES__SIMD_AVX512; path++) {
      if (es__dense_set_simd((es__simd)path) != 0) continue;
      for (int64_t i = 0; i < 3 * rows; i++) y[i] = NAN;
      es__dense_mv3(rows, n, z, x, y, rows);
      for (int64_t i = 0; i < rows; i++)
        for (int c = 0; c < 3; c++) {
          double want = order_ref(n, z + i * n, x + c * n);
          if (memcmp(&want, &y[c * rows + i], sizeof want) != 0)
            ES_FAIL_AT(
                "n=%lld path %d row %lld column %d: %.17g, the documented order gives "
                "%.17g",
                (long long)n, path, (long long)i, c, y[c * rows + i], want);
        }
      if (path == ES__SIMD_SCALAR) memcpy(y0, y, sizeof(double) * 3 * rows);
    }
    es__dense_set_simd(ES__SIMD_AUTO);
    const int64_t m = n / 8 + 3 + n % 8;
    const double gm = (double)m * u / (1 - (double)m * u);
    const long double gL = (long double)n * uL / (1 - (long double)n * uL);
    for (int64_t i = 0; i < rows; i++)
      for (int c = 0; c < 3; c++) {
        long double s = 0, sa = 0;
        for (int64_t j = 0; j < n; j++) {
          long double pr = (long double)z[i * n + j] * (long double)x[c * n + j];
          s += pr;
          sa += fabsl(pr);
        }
        long double err = fabsl((long double)y0[c * rows + i] - s);
        long double bound = ((long double)gm + gL) * sa;
        if (!(err <= bound))
          ES_FAIL_AT("n=%lld row %lld column %d: |error| %Lg > bound %Lg", (long long)n,
                     (long long)i, c, err, bound);
        if (sa > 0 && (double)(err / (u * sa)) > worst) worst = (double)(err / (u * sa));
      }
    free(z);
    free(x);
    free(y);
    free(y0);
  }
  fprintf(stderr,
          "kernel: documented order on every path; largest |error| %.3g u sum|zx| "
          "(bound: (n/8 + 3 + n mod 8) u)\n",
          worst);
}

int main(void) {
  kernel();
  paths();
  bits();

  /* (sigma_w2, sigma_b2): ordered, then chaotic (relu: below and above its sw2 = 2). */
  static const struct {
    const char *name;
    double w[2], b[2];
  } acts[] = {{"linear", {0.8, 1.2}, {0.2, 0.1}}, {"relu", {1.5, 2.4}, {0.1, 0.1}},
              {"tanh", {1.5, 2.5}, {0.05, 0.05}}, {"erf", {1.0, 2.0}, {0.05, 0.05}},
              {"gelu", {1.8, 4.0}, {0.1, 0.1}},   {"silu", {2.0, 4.0}, {0.1, 0.1}},
              {"sin", {1.2, 3.0}, {0.05, 0.05}}};
  fprintf(stderr, "%-6s %4s %4s %3s %3s %-6s %s %12s %12s %6s %11s %11s %6s\n", "act", "sw2", "sb2",
          "lk", "g", "obs", "t", "gram mean", "dense mean", "z", "gram var", "dense var", "z");
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
