/* rng: Philox known answers, stream independence from call pattern, and the normal law
 * (mean, variance, kurtosis, tail frequencies) within statistical error, fixed seed. */
#include "edgesweep/rng.h"

#include <math.h>
#include <stdlib.h>

#include "es_test.h"

int main(void) {
  /* Random123's known-answer test vector for philox4x64-10 (kat_vectors). */
  uint64_t key[2] = {0, 0}, ctr[4] = {0, 0, 0, 0}, out[4];
  es_rng_philox(key, ctr, out);
  ASSERT_EQ_INT(out[0], 0x16554d9eca36314cULL);
  ASSERT_EQ_INT(out[1], 0xdb20fe9d672d0fdcULL);
  ASSERT_EQ_INT(out[2], 0xd7e772cee186176bULL);
  ASSERT_EQ_INT(out[3], 0x7e68b68aec7ba23bULL);
  uint64_t key2[2] = {0x452821e638d01377ULL, 0xbe5466cf34e90c6cULL};
  uint64_t ctr2[4] = {0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL, 0xa4093822299f31d0ULL,
                      0x082efa98ec4e6c89ULL};
  es_rng_philox(key2, ctr2, out);
  ASSERT_EQ_INT(out[0], 0xa528f45403e61d95ULL);
  ASSERT_EQ_INT(out[1], 0x38c72dbd566e9788ULL);
  ASSERT_EQ_INT(out[2], 0xa5a1610e72fd18b5ULL);
  ASSERT_EQ_INT(out[3], 0x57bd43b5e52b7fe6ULL);

  /* A stream gives the same numbers however they are requested (1 + 6 + 13 vs 20). */
  es_rng_key k = es_rng_point_key(42, 1.5, 0.05, 128);
  es_rng r1, r2;
  double a[20], b[20];
  es_rng_init(&r1, k, 3, 7, ES_RNG_ROWS);
  es_rng_normals(&r1, a, 20);
  es_rng_init(&r2, k, 3, 7, ES_RNG_ROWS);
  es_rng_normals(&r2, b, 1);
  es_rng_normals(&r2, b + 1, 6);
  es_rng_normals(&r2, b + 7, 13);
  for (int i = 0; i < 20; i++) ASSERT(a[i] == b[i]);
  /* Different network, layer, purpose, point or seed: different numbers. */
  es_rng_init(&r2, k, 4, 7, ES_RNG_ROWS);
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
  ASSERT_Z(s2 / N, 1.0, sqrt(2.0 / N), 4);          /* Var x^2 = 2 */
  ASSERT_Z(s4 / N, 3.0, sqrt(96.0 / N), 4);         /* Var x^4 = 105 - 9 */
  const double p2 = erfc(2 / sqrt(2.0)), p3 = erfc(3 / sqrt(2.0)), p4 = erfc(4 / sqrt(2.0));
  ASSERT_Z((double)t2 / N, p2, sqrt(p2 * (1 - p2) / N), 4);
  ASSERT_Z((double)t3 / N, p3, sqrt(p3 * (1 - p3) / N), 4);
  ASSERT_Z((double)t4 / N, p4, sqrt(p4 * (1 - p4) / N), 4);
  /* Lag-1 correlation, including across the pairs of one Philox block. */
  double c = 0;
  for (size_t i = 0; i + 1 < n; i++) c += z[i] * z[i + 1];
  ASSERT_Z(c / N, 0.0, 1.0 / sqrt(N), 4);
  free(z);
  ES_TEST_END();
}
