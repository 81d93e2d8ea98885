/* rng: Philox4x32-10 known answers (Random123's kat_vectors), the stream as rng.h defines it
 * rebuilt from Random123's own philox4x32 and a long-double Box-Muller (accuracy bound), the
 * same bits on every code path (scalar, scalar + FMA, AVX2), stream independence from call
 * pattern and seeks, and the normal law (mean, variance, kurtosis, tails) within statistical
 * error, fixed seed. ns per variate of each path goes to stderr. */
#include "edgesweep/rng.h"

#include <Random123/philox.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edgesweep/util.h"
#include "es_test.h"
#include "rng_impl.h"

static const char *const path_name[5] = {"auto", "scalar", "scalar+fma", "avx2", "avx512"};

/* Variate INDEX of stream (key, network, layer, purpose) from rng.h's definition, in long
 * double, with rho returned too. */
static long double reference(es_rng_key key, uint64_t network, uint64_t layer, uint32_t purpose,
                             uint64_t index, long double *rho) {
  uint64_t k = es_mix64(es_mix64(key.key[0]) ^ key.key[1]);
  k = es_mix64(es_mix64(k ^ (network >> 32)) ^ (layer >> 32));
  uint64_t g = index / 16, j = index % 8, b = 8 * g + j;
  philox4x32_key_t pk = {{(uint32_t)k, (uint32_t)(k >> 32)}};
  philox4x32_ctr_t c = {
      {(uint32_t)b, (uint32_t)(b >> 32) | purpose << 28, (uint32_t)layer, (uint32_t)network}};
  philox4x32_ctr_t x = philox4x32_R(10, c, pk);
  uint64_t w1 = ((uint64_t)x.v[0] << 32 | x.v[1]) >> 12,
           w2 = ((uint64_t)x.v[2] << 32 | x.v[3]) >> 12;
  long double u1 = 1.0L - (long double)w1 / 4503599627370496.0L; /* (0, 1] */
  long double u2 = (long double)w2 / 4503599627370496.0L;        /* [0, 1) */
  *rho = sqrtl(-2.0L * logl(u1));
  long double th = 2.0L * 3.141592653589793238462643383279502884L * u2;
  return *rho * ((index % 16) < 8 ? cosl(th) : sinl(th));
}

/* Largest |z - exact| / (2^-53 max(rho, 1)) over variates [i0, i0 + n) of a stream. */
static double max_err(es_rng_key key, uint64_t net, uint64_t layer, es_rng_purpose pur, uint64_t i0,
                      size_t n) {
  double *z = malloc(n * sizeof *z), worst = 0;
  es_rng r;
  es_rng_init(&r, key, net, layer, pur);
  es_rng_seek(&r, i0);
  es_rng_normals(&r, z, n);
  for (size_t i = 0; i < n; i++) {
    long double rho, ref = reference(key, net, layer, (uint32_t)pur, i0 + i, &rho);
    double e = (double)(fabsl((long double)z[i] - ref) / (ldexpl(1.0L, -53) * fmaxl(rho, 1.0L)));
    if (e > worst) worst = e;
  }
  free(z);
  return worst;
}

int main(void) {
  /* Random123's known-answer vectors for philox4x32_10 (its kat_vectors file; the same values
   * come out of /usr/include/Random123/philox.h's philox4x32_R(10, ...)). */
  {
    static const uint32_t key[3][2] = {{0, 0}, {0xffffffff, 0xffffffff}, {0xa4093822, 0x299f31d0}};
    static const uint32_t ctr[3][4] = {{0, 0, 0, 0},
                                       {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                                       {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}};
    static const uint32_t kat[3][4] = {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                                       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                                       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}};
    for (int v = 0; v < 3; v++) {
      uint32_t out[4];
      es_rng_philox4x32(key[v], ctr[v], out);
      for (int i = 0; i < 4; i++) ASSERT_EQ_INT(out[i], kat[v][i]);
    }
  }

  es_rng_key k = es_rng_point_key(42, 1.5, 0.05, 128);
  es__simd best = es__rng_simd();
  fprintf(stderr, "  rng: auto path is %s\n", path_name[best]);

  /* The stream as rng.h defines it, on every path: first groups, a block index past 2^32
   * (the counter's second word), network and layer past 2^32 (hashed into the key). */
  for (int p = ES__SIMD_SCALAR; p <= ES__SIMD_AVX512; p++) {
    if (es__rng_set_simd((es__simd)p) != 0) {
      fprintf(stderr, "  rng: path %s not available here: skipped\n", path_name[p]);
      continue;
    }
    double e1 = max_err(k, 3, 7, ES_RNG_ROWS, 0, 1 << 15);
    double e2 = max_err(k, 3, 7, ES_RNG_ROWS, (1ULL << 37) + 5, 4099);
    double e3 = max_err(k, (1ULL << 33) + 1, (1ULL << 40) + 9, ES_RNG_TEST, 77, 1000);
    /* Across block 2^32, where the counter's high word changes (the vector paths compute the
     * words that do not depend on the block once per high word). */
    double e4 = max_err(k, 5, 1, ES_RNG_NOISE, (1ULL << 33) - 999, 2003);
    fprintf(stderr, "  rng %s: max error %.2f %.2f %.2f %.2f x 2^-53 max(rho, 1)\n", path_name[p],
            e1, e2, e3, e4);
    ASSERT(e1 <= 4 && e2 <= 4 && e3 <= 4 && e4 <= 4);
  }
  es__rng_set_simd(ES__SIMD_AUTO);

  /* The same bits on every path, for a long stream requested in odd pieces. */
  {
    const size_t n = 1u << 18;
    double *ref = malloc(n * sizeof *ref), *z = malloc(n * sizeof *z);
    es_rng r;
    ASSERT_EQ_INT(es__rng_set_simd(ES__SIMD_SCALAR), 0);
    es_rng_init(&r, k, 11, 2, ES_RNG_WEIGHTS);
    double t0 = es_wtime();
    es_rng_normals(&r, ref, n);
    double ns_scalar = (es_wtime() - t0) * 1e9 / (double)n;
    for (int p = ES__SIMD_SCALAR_FMA; p <= ES__SIMD_AVX512; p++) {
      if (es__rng_set_simd((es__simd)p) != 0) continue;
      memset(z, 0, n * sizeof *z);
      es_rng_init(&r, k, 11, 2, ES_RNG_WEIGHTS);
      size_t i = 0, step = 1;
      while (i < n) {
        size_t m = step < n - i ? step : n - i;
        es_rng_normals(&r, z + i, m);
        i += m;
        step = (step * 7 + 3) % 1000;
      }
      ASSERT(memcmp(z, ref, n * sizeof *z) == 0);
      double best_ns = 1e30;
      for (int rep = 0; rep < 5; rep++) {
        es_rng_init(&r, k, 11, 2, ES_RNG_WEIGHTS);
        t0 = es_wtime();
        es_rng_normals(&r, z, n);
        double ns = (es_wtime() - t0) * 1e9 / (double)n;
        if (ns < best_ns) best_ns = ns;
      }
      fprintf(stderr, "  rng %s: identical bits to scalar; %.2f ns per variate\n", path_name[p],
              best_ns);
    }
    fprintf(stderr, "  rng scalar (libm fma): %.2f ns per variate\n", ns_scalar);
    /* And for many streams (seeds, points, purposes, networks and layers past 2^32), each
     * drawn at its first groups, at an odd offset and across block 2^32, in pieces of every
     * size from 1 to 150 (the vector paths' runs of 1, 2 and 4 groups and their tails). */
    const uint64_t at[3] = {0, 12345, (1ULL << 33) - 77};
    const size_t m = 150 * 151 / 2;
    for (int v = 0; v < 24; v++) {
      es_rng_key kv = es_rng_point_key((uint64_t)v, 0.5 + 0.1 * v, 0.01 * v, 16 + v);
      uint64_t net = v % 3 == 2 ? (1ULL << 32) + (uint64_t)v : (uint64_t)v * 977;
      uint64_t layer = v % 4 == 3 ? (1ULL << 32) + 3 : (uint64_t)v;
      es_rng_purpose pur = (es_rng_purpose)(v % 3 + 1);
      for (int w = 0; w < 3; w++) {
        ASSERT_EQ_INT(es__rng_set_simd(ES__SIMD_SCALAR), 0);
        es_rng_init(&r, kv, net, layer, pur);
        es_rng_seek(&r, at[w]);
        es_rng_normals(&r, ref, m);
        for (int p = ES__SIMD_SCALAR_FMA; p <= ES__SIMD_AVX512; p++) {
          if (es__rng_set_simd((es__simd)p) != 0) continue;
          es_rng_init(&r, kv, net, layer, pur);
          es_rng_seek(&r, at[w]);
          for (size_t i = 0, piece = 1; i < m; i += piece, piece++)
            es_rng_normals(&r, z + i, piece);
          ASSERT(memcmp(z, ref, m * sizeof *z) == 0);
        }
      }
    }
    free(ref);
    free(z);
    es__rng_set_simd(ES__SIMD_AUTO);
  }

  /* A stream gives the same numbers however they are requested (1 + 6 + 13 + 40 vs 60), and a
   * seek lands where drawing would. */
  es_rng r1, r2;
  double a[60], b[60];
  es_rng_init(&r1, k, 3, 7, ES_RNG_ROWS);
  es_rng_normals(&r1, a, 60);
  es_rng_init(&r2, k, 3, 7, ES_RNG_ROWS);
  es_rng_normals(&r2, b, 1);
  es_rng_normals(&r2, b + 1, 6);
  es_rng_normals(&r2, b + 7, 13);
  es_rng_normals(&r2, b + 20, 40);
  for (int i = 0; i < 60; i++) ASSERT(a[i] == b[i]);
  for (int s = 0; s < 60; s += 7) {
    es_rng_init(&r2, k, 3, 7, ES_RNG_ROWS);
    es_rng_seek(&r2, (uint64_t)s);
    es_rng_normals(&r2, b, (size_t)(60 - s));
    for (int i = s; i < 60; i++) ASSERT(a[i] == b[i - s]);
  }
  /* Different network, layer, purpose, point or seed: different numbers. */
  es_rng_init(&r2, k, 4, 7, ES_RNG_ROWS);
  es_rng_normals(&r2, b, 4);
  ASSERT(a[0] != b[0]);
  es_rng_init(&r2, k, 3, 8, ES_RNG_ROWS);
  es_rng_normals(&r2, b, 4);
  ASSERT(a[0] != b[0]);
  es_rng_init(&r2, k, 3, 7, ES_RNG_NOISE);
  es_rng_normals(&r2, b, 4);
  ASSERT(a[0] != b[0]);
  es_rng_init(&r2, k, 3 + (1ULL << 32), 7, ES_RNG_ROWS);
  es_rng_normals(&r2, b, 4);
  ASSERT(a[0] != b[0]);
  es_rng_init(&r2, es_rng_point_key(42, 1.5, 0.05, 129), 3, 7, ES_RNG_ROWS);
  es_rng_normals(&r2, b, 4);
  ASSERT(a[0] != b[0]);
  es_rng_init(&r2, es_rng_point_key(43, 1.5, 0.05, 128), 3, 7, ES_RNG_ROWS);
  es_rng_normals(&r2, b, 4);
  ASSERT(a[0] != b[0]);
  ASSERT(es_rng_point_key(1, 0.0, 0.0, 8).key[1] == es_rng_point_key(1, -0.0, 0.0, 8).key[1]);

  /* Moments and tails of 4M variates against N(0,1), z-scores from the exact moments. */
  const size_t n = 1u << 22;
  double *z = malloc(n * sizeof *z);
  es_rng_init(&r1, k, 0, 0, ES_RNG_TEST);
  es_rng_normals(&r1, z, n);
  double s1 = 0, s2 = 0, s4 = 0;
  size_t t2 = 0, t3 = 0, t4 = 0;
  for (size_t i = 0; i < n; i++) {
    double x = z[i];
    s1 += x;
    s2 += x * x;
    s4 += x * x * x * x;
    t2 += fabs(x) > 2;
    t3 += fabs(x) > 3;
    t4 += fabs(x) > 4;
  }
  double N = (double)n;
  ASSERT_Z(s1 / N, 0.0, 1.0 / sqrt(N), 4);
  ASSERT_Z(s2 / N, 1.0, sqrt(2.0 / N), 4);  /* Var x^2 = 2 */
  ASSERT_Z(s4 / N, 3.0, sqrt(96.0 / N), 4); /* Var x^4 = 105 - 9 */
  const double p2 = erfc(2 / sqrt(2.0)), p3 = erfc(3 / sqrt(2.0)), p4 = erfc(4 / sqrt(2.0));
  ASSERT_Z((double)t2 / N, p2, sqrt(p2 * (1 - p2) / N), 4);
  ASSERT_Z((double)t3 / N, p3, sqrt(p3 * (1 - p3) / N), 4);
  ASSERT_Z((double)t4 / N, p4, sqrt(p4 * (1 - p4) / N), 4);
  /* Lag-1 correlation, including across the pairs of one Philox block, and lag 8 (the cos and
   * sin of one pair within a group). */
  double c = 0, c8 = 0;
  for (size_t i = 0; i + 1 < n; i++) c += z[i] * z[i + 1];
  for (size_t i = 0; i + 8 < n; i++) c8 += z[i] * z[i + 8];
  ASSERT_Z(c / N, 0.0, 1.0 / sqrt(N), 4);
  ASSERT_Z(c8 / N, 0.0, 1.0 / sqrt(N), 4);
  free(z);
  ES_TEST_END();
}
