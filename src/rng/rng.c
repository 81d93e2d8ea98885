#include "edgesweep/rng.h"

#include <Random123/philox.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edgesweep/util.h"
#include "kernel.h"
#include "rng_impl.h"

es_rng_key es_rng_point_key(uint64_t seed, double sigma_w2, double sigma_b2, int64_t width) {
  /* Chained mixing of the exact bit patterns: equal grid values give equal streams in any
   * job, whatever the grid around them. */
  uint64_t h = es_mix64(0x65646765737765ULL ^ es_double_bits(sigma_w2));
  h = es_mix64(h ^ es_double_bits(sigma_b2));
  h = es_mix64(h ^ (uint64_t)width);
  es_rng_key k = {{seed, h}};
  return k;
}

void es_rng_init(es_rng *r, es_rng_key key, uint64_t network, uint64_t layer,
                 es_rng_purpose purpose) {
  /* Philox4x32 has a 64-bit key: the point and the rare high bits of network and layer are
   * hashed into it; the counter holds the rest exactly (rng.h). */
  uint64_t k = es_mix64(es_mix64(key.key[0]) ^ key.key[1]);
  k = es_mix64(es_mix64(k ^ (network >> 32)) ^ (layer >> 32));
  r->key[0] = (uint32_t)k;
  r->key[1] = (uint32_t)(k >> 32);
  r->ctr[0] = (uint32_t)purpose << 28;
  r->ctr[1] = (uint32_t)layer;
  r->ctr[2] = (uint32_t)network;
  r->group = 0;
  r->nbuf = 0;
}

void es_rng_philox4x32(const uint32_t key[2], const uint32_t ctr[4], uint32_t out[4]) {
  philox4x32_ctr_t c = {{ctr[0], ctr[1], ctr[2], ctr[3]}};
  philox4x32_key_t k = {{key[0], key[1]}};
  philox4x32_ctr_t x = philox4x32(c, k);
  for (int i = 0; i < 4; i++) out[i] = x.v[i];
}

/* ---- Box-Muller, scalar. Each step is mirrored one for one by the AVX2 code below. ---- */

#define ES__ONE 0x3FF0000000000000ULL
#define ES__MANT 0x000FFFFFFFFFFFFFULL
#define ES__SQRT2 1.4142135623730951
/* fdlibm's log kernel (e_log.c): |error of R| < 2^-58.45 on |s| <= 0.1716. */
#define ES__LG1 6.666666666666735130e-01
#define ES__LG2 3.999999999940941908e-01
#define ES__LG3 2.857142874366239149e-01
#define ES__LG4 2.222219843214978396e-01
#define ES__LG5 1.818357216161805012e-01
#define ES__LG6 1.531383769920937332e-01
#define ES__LG7 1.479819860511658591e-01
#define ES__LN2_HI 6.93147180369123816490e-01 /* 11 trailing zero bits: dk * hi is exact */
#define ES__LN2_LO 1.90821492927058770002e-10
/* sin(pi r / 2) / r and cos(pi r / 2) as polynomials in r^2, |r| <= 1/2 (Chebyshev fits;
 * errors 5e-18 and 3e-20, far below half an ulp). */
#define ES__S0 1.5707963267948966
#define ES__S1 -0.6459640975062443
#define ES__S2 0.07969262624604301
#define ES__S3 -0.004681754132340976
#define ES__S4 0.0001604411507421909
#define ES__S5 -3.59864335298231e-06
#define ES__S6 5.633933781537854e-08
#define ES__C1 -1.2337005501361697
#define ES__C2 0.2536695079010467
#define ES__C3 -0.02086348076331121
#define ES__C4 0.0009192602741831558
#define ES__C5 -2.520203677046026e-05
#define ES__C6 4.710609726757823e-07
#define ES__C7 -6.321256869628588e-09
#define ES__SHIFT 6755399441055744.0 /* 1.5 * 2^52: adding it rounds to an integer */

/* -2 ln u for u in [2^-52, 1] (fdlibm's reduction to [sqrt(1/2), sqrt(2)]). */
ES__INLINE double es__m2log(double u) {
  uint64_t b = es__b(u);
  uint64_t eb = b >> 52;
  double m = es__d((b & ES__MANT) | ES__ONE);
  if (m > ES__SQRT2) {
    m = 0.5 * m;
    eb += 1;
  }
  double dk = es__d(eb | 0x4330000000000000ULL) - (4503599627370496.0 + 1023.0);
  double f = m - 1.0;
  double s = f / (2.0 + f);
  double z = s * s, w = z * z;
  double t1 = w * fma(w, fma(w, ES__LG6, ES__LG4), ES__LG2);
  double t2 = z * fma(w, fma(w, fma(w, ES__LG7, ES__LG5), ES__LG3), ES__LG1);
  double rr = t2 + t1;
  double hfsq = 0.5 * f * f;
  double lg = dk * ES__LN2_HI - ((hfsq - fma(s, hfsq + rr, dk * ES__LN2_LO)) - f);
  return -2.0 * lg;
}

/* cos and sin of (pi/2) y for y in [0, 4]: y = k + r exactly, then a quarter-turn rotation. */
ES__INLINE void es__sincos4(double y, double *c, double *s) {
  double t = y + ES__SHIFT;
  uint64_t k = es__b(t);
  double r = y - (t - ES__SHIFT);
  double x = r * r;
  double ps = fma(x, ES__S6, ES__S5);
  ps = fma(x, ps, ES__S4);
  ps = fma(x, ps, ES__S3);
  ps = fma(x, ps, ES__S2);
  ps = fma(x, ps, ES__S1);
  ps = fma(x, ps, ES__S0);
  ps = r * ps;
  double pc = fma(x, ES__C7, ES__C6);
  pc = fma(x, pc, ES__C5);
  pc = fma(x, pc, ES__C4);
  pc = fma(x, pc, ES__C3);
  pc = fma(x, pc, ES__C2);
  pc = fma(x, pc, ES__C1);
  pc = fma(x, pc, 1.0);
  double cc = (k & 1) ? ps : pc, ss = (k & 1) ? pc : ps;
  *c = es__d(es__b(cc) ^ (((k + 1) & 2) << 62));
  *s = es__d(es__b(ss) ^ ((k & 2) << 62));
}

/* Groups g0 .. g0+ng-1 of stream r into z[16 ng]. */
ES__INLINE void es__groups_body(const es_rng *r, uint64_t g0, size_t ng, double *z) {
  philox4x32_key_t key = {{r->key[0], r->key[1]}};
  for (size_t q = 0; q < ng; q++, z += 16) {
    for (int j = 0; j < 8; j++) {
      uint64_t b = 8 * (g0 + q) + (uint64_t)j;
      philox4x32_ctr_t c = {{(uint32_t)b, (uint32_t)(b >> 32) | r->ctr[0], r->ctr[1], r->ctr[2]}};
      philox4x32_ctr_t x = philox4x32(c, key);
      uint64_t m1 = ((uint64_t)x.v[0] << 20) | (x.v[1] >> 12);
      uint64_t m2 = ((uint64_t)x.v[2] << 20) | (x.v[3] >> 12);
      double u1 = 2.0 - es__d(ES__ONE | m1);
      double y = 4.0 * (es__d(ES__ONE | m2) - 1.0);
      double rho = sqrt(es__m2log(u1)), cs, sn;
      es__sincos4(y, &cs, &sn);
      z[j] = rho * cs;
      z[8 + j] = rho * sn;
    }
  }
}

static void es__groups_scalar(const es_rng *r, uint64_t g0, size_t ng, double *z) {
  es__groups_body(r, g0, ng, z);
}

#if ES__X86
/* The same with the FMA instruction instead of libm's fma(). */
__attribute__((target("fma"))) static void es__groups_fma(const es_rng *r, uint64_t g0, size_t ng,
                                                          double *z) {
  es__groups_body(r, g0, ng, z);
}

/* ---- AVX2: 8 Philox blocks per group as two sets of 4 lanes, each 32-bit word in a 64-bit
 * slot so that one vpmuludq gives the whole 64-bit product (high halves of the slots are
 * junk until the final shifts clear them). ---- */
#define ES__AVX2 __attribute__((target("avx2,fma"), always_inline)) static inline

ES__AVX2 __m256d es__m2log_avx2(__m256d u) {
  const __m256i b = _mm256_castpd_si256(u);
  __m256i eb = _mm256_srli_epi64(b, 52);
  __m256d m = _mm256_castsi256_pd(
      _mm256_or_si256(_mm256_and_si256(b, _mm256_set1_epi64x((long long)ES__MANT)),
                      _mm256_set1_epi64x((long long)ES__ONE)));
  __m256d big = _mm256_cmp_pd(m, _mm256_set1_pd(ES__SQRT2), _CMP_GT_OQ);
  m = _mm256_blendv_pd(m, _mm256_mul_pd(_mm256_set1_pd(0.5), m), big);
  eb = _mm256_sub_epi64(eb, _mm256_castpd_si256(big)); /* the mask is -1 */
  __m256d dk = _mm256_sub_pd(
      _mm256_castsi256_pd(_mm256_or_si256(eb, _mm256_set1_epi64x(0x4330000000000000LL))),
      _mm256_set1_pd(4503599627370496.0 + 1023.0));
  __m256d f = _mm256_sub_pd(m, _mm256_set1_pd(1.0));
  __m256d s = _mm256_div_pd(f, _mm256_add_pd(_mm256_set1_pd(2.0), f));
  __m256d z = _mm256_mul_pd(s, s), w = _mm256_mul_pd(z, z);
  __m256d t1 = _mm256_fmadd_pd(w, _mm256_set1_pd(ES__LG6), _mm256_set1_pd(ES__LG4));
  t1 = _mm256_mul_pd(w, _mm256_fmadd_pd(w, t1, _mm256_set1_pd(ES__LG2)));
  __m256d t2 = _mm256_fmadd_pd(w, _mm256_set1_pd(ES__LG7), _mm256_set1_pd(ES__LG5));
  t2 = _mm256_fmadd_pd(w, t2, _mm256_set1_pd(ES__LG3));
  t2 = _mm256_mul_pd(z, _mm256_fmadd_pd(w, t2, _mm256_set1_pd(ES__LG1)));
  __m256d rr = _mm256_add_pd(t2, t1);
  __m256d hfsq = _mm256_mul_pd(_mm256_mul_pd(_mm256_set1_pd(0.5), f), f);
  __m256d in =
      _mm256_fmadd_pd(s, _mm256_add_pd(hfsq, rr), _mm256_mul_pd(dk, _mm256_set1_pd(ES__LN2_LO)));
  __m256d lg = _mm256_sub_pd(_mm256_mul_pd(dk, _mm256_set1_pd(ES__LN2_HI)),
                             _mm256_sub_pd(_mm256_sub_pd(hfsq, in), f));
  return _mm256_mul_pd(_mm256_set1_pd(-2.0), lg);
}

ES__AVX2 void es__sincos4_avx2(__m256d y, __m256d *c, __m256d *s) {
  const __m256d sh = _mm256_set1_pd(ES__SHIFT);
  __m256d t = _mm256_add_pd(y, sh);
  __m256i k = _mm256_castpd_si256(t);
  __m256d r = _mm256_sub_pd(y, _mm256_sub_pd(t, sh));
  __m256d x = _mm256_mul_pd(r, r);
#define ES__F(acc, cst) acc = _mm256_fmadd_pd(x, acc, _mm256_set1_pd(cst))
  __m256d ps = _mm256_fmadd_pd(x, _mm256_set1_pd(ES__S6), _mm256_set1_pd(ES__S5));
  ES__F(ps, ES__S4);
  ES__F(ps, ES__S3);
  ES__F(ps, ES__S2);
  ES__F(ps, ES__S1);
  ES__F(ps, ES__S0);
  ps = _mm256_mul_pd(r, ps);
  __m256d pc = _mm256_fmadd_pd(x, _mm256_set1_pd(ES__C7), _mm256_set1_pd(ES__C6));
  ES__F(pc, ES__C5);
  ES__F(pc, ES__C4);
  ES__F(pc, ES__C3);
  ES__F(pc, ES__C2);
  ES__F(pc, ES__C1);
  ES__F(pc, 1.0);
#undef ES__F
  const __m256i one = _mm256_set1_epi64x(1), two = _mm256_set1_epi64x(2);
  __m256d odd = _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(k, one), one));
  __m256d cc = _mm256_blendv_pd(pc, ps, odd), ss = _mm256_blendv_pd(ps, pc, odd);
  __m256i sc = _mm256_slli_epi64(_mm256_and_si256(_mm256_add_epi64(k, one), two), 62);
  __m256i sss = _mm256_slli_epi64(_mm256_and_si256(k, two), 62);
  *c = _mm256_castsi256_pd(_mm256_xor_si256(_mm256_castpd_si256(cc), sc));
  *s = _mm256_castsi256_pd(_mm256_xor_si256(_mm256_castpd_si256(ss), sss));
}

/* Words x0..x3 of 4 blocks -> 4 (cos, sin) normal pairs. */
ES__AVX2 void es__bm_avx2(__m256i x0, __m256i x1, __m256i x2, __m256i x3, double *zc, double *zs) {
  const __m256i one = _mm256_set1_epi64x((long long)ES__ONE);
  __m256i m1 = _mm256_or_si256(_mm256_srli_epi64(_mm256_slli_epi64(x0, 32), 12),
                               _mm256_srli_epi64(_mm256_slli_epi64(x1, 32), 44));
  __m256i m2 = _mm256_or_si256(_mm256_srli_epi64(_mm256_slli_epi64(x2, 32), 12),
                               _mm256_srli_epi64(_mm256_slli_epi64(x3, 32), 44));
  __m256d u1 = _mm256_sub_pd(_mm256_set1_pd(2.0), _mm256_castsi256_pd(_mm256_or_si256(one, m1)));
  __m256d y = _mm256_mul_pd(
      _mm256_set1_pd(4.0),
      _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(one, m2)), _mm256_set1_pd(1.0)));
  __m256d rho = _mm256_sqrt_pd(es__m2log_avx2(u1)), c, s;
  es__sincos4_avx2(y, &c, &s);
  _mm256_storeu_pd(zc, _mm256_mul_pd(rho, c));
  _mm256_storeu_pd(zs, _mm256_mul_pd(rho, s));
}

/* Philox for up to ES__BATCH groups first, then Box-Muller over the stored words: the
 * Box-Muller iterations are independent, so their division and square-root latencies
 * overlap instead of stalling each group. */
enum { ES__BATCH = 8 };
__attribute__((target("avx2,fma"))) static void es__groups_avx2(const es_rng *r, uint64_t g0,
                                                                size_t ng, double *z) {
  __m256i k0[10], k1[10], w[ES__BATCH][2][4];
  for (uint32_t i = 0; i < 10; i++) { /* Random123's key schedule */
    k0[i] = _mm256_set1_epi64x((uint32_t)(r->key[0] + i * 0x9E3779B9U));
    k1[i] = _mm256_set1_epi64x((uint32_t)(r->key[1] + i * 0xBB67AE85U));
  }
  const __m256i m0 = _mm256_set1_epi64x(0xD2511F53), m1 = _mm256_set1_epi64x(0xCD9E8D57);
  const __m256i c2 = _mm256_set1_epi64x(r->ctr[1]), c3 = _mm256_set1_epi64x(r->ctr[2]);
  const __m256i lane = _mm256_set_epi64x(3, 2, 1, 0), four = _mm256_set1_epi64x(4);
  while (ng > 0) {
    size_t nb = ng < ES__BATCH ? ng : ES__BATCH;
    for (size_t q = 0; q < nb; q++) {
      uint64_t b = 8 * (g0 + q); /* multiple of 8: the low word of b + j never carries */
      __m256i a0 = _mm256_add_epi64(_mm256_set1_epi64x((uint32_t)b), lane);
      __m256i e0 = _mm256_add_epi64(a0, four);
      __m256i a1 = _mm256_set1_epi64x((uint32_t)(b >> 32) | r->ctr[0]), e1 = a1;
      __m256i a2 = c2, e2 = c2, a3 = c3, e3 = c3;
      for (int i = 0; i < 10; i++) {
        __m256i pa0 = _mm256_mul_epu32(a0, m0), pa1 = _mm256_mul_epu32(a2, m1);
        __m256i pe0 = _mm256_mul_epu32(e0, m0), pe1 = _mm256_mul_epu32(e2, m1);
        a0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(pa1, 32), a1), k0[i]);
        a2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(pa0, 32), a3), k1[i]);
        a1 = pa1;
        a3 = pa0;
        e0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(pe1, 32), e1), k0[i]);
        e2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(pe0, 32), e3), k1[i]);
        e1 = pe1;
        e3 = pe0;
      }
      w[q][0][0] = a0, w[q][0][1] = a1, w[q][0][2] = a2, w[q][0][3] = a3;
      w[q][1][0] = e0, w[q][1][1] = e1, w[q][1][2] = e2, w[q][1][3] = e3;
    }
    for (size_t q = 0; q < nb; q++, z += 16) {
      es__bm_avx2(w[q][0][0], w[q][0][1], w[q][0][2], w[q][0][3], z, z + 8);
      es__bm_avx2(w[q][1][0], w[q][1][1], w[q][1][2], w[q][1][3], z + 4, z + 12);
    }
    g0 += nb;
    ng -= nb;
  }
}

/* ---- AVX-512: one group (8 blocks) per set of 8 lanes; the same operations again, with
 * masks for the selects and a three-way XOR. ---- */
#define ES__AVX512 __attribute__((target("avx512f"), always_inline)) static inline
#define ES__C8(v) _mm512_set1_pd(v)

ES__AVX512 __m512d es__m2log_avx512(__m512d u) {
  const __m512i b = _mm512_castpd_si512(u);
  __m512i eb = _mm512_srli_epi64(b, 52);
  __m512d m = _mm512_castsi512_pd(
      _mm512_or_si512(_mm512_and_si512(b, _mm512_set1_epi64((long long)ES__MANT)),
                      _mm512_set1_epi64((long long)ES__ONE)));
  __mmask8 big = _mm512_cmp_pd_mask(m, ES__C8(ES__SQRT2), _CMP_GT_OQ);
  m = _mm512_mask_mul_pd(m, big, ES__C8(0.5), m);
  eb = _mm512_mask_add_epi64(eb, big, eb, _mm512_set1_epi64(1));
  __m512d dk = _mm512_sub_pd(
      _mm512_castsi512_pd(_mm512_or_si512(eb, _mm512_set1_epi64(0x4330000000000000LL))),
      ES__C8(4503599627370496.0 + 1023.0));
  __m512d f = _mm512_sub_pd(m, ES__C8(1.0));
  __m512d s = _mm512_div_pd(f, _mm512_add_pd(ES__C8(2.0), f));
  __m512d z = _mm512_mul_pd(s, s), w = _mm512_mul_pd(z, z);
  __m512d t1 = _mm512_fmadd_pd(w, ES__C8(ES__LG6), ES__C8(ES__LG4));
  t1 = _mm512_mul_pd(w, _mm512_fmadd_pd(w, t1, ES__C8(ES__LG2)));
  __m512d t2 = _mm512_fmadd_pd(w, ES__C8(ES__LG7), ES__C8(ES__LG5));
  t2 = _mm512_fmadd_pd(w, t2, ES__C8(ES__LG3));
  t2 = _mm512_mul_pd(z, _mm512_fmadd_pd(w, t2, ES__C8(ES__LG1)));
  __m512d rr = _mm512_add_pd(t2, t1);
  __m512d hfsq = _mm512_mul_pd(_mm512_mul_pd(ES__C8(0.5), f), f);
  __m512d in = _mm512_fmadd_pd(s, _mm512_add_pd(hfsq, rr), _mm512_mul_pd(dk, ES__C8(ES__LN2_LO)));
  __m512d lg = _mm512_sub_pd(_mm512_mul_pd(dk, ES__C8(ES__LN2_HI)),
                             _mm512_sub_pd(_mm512_sub_pd(hfsq, in), f));
  return _mm512_mul_pd(ES__C8(-2.0), lg);
}

ES__AVX512 void es__sincos4_avx512(__m512d y, __m512d *c, __m512d *s) {
  const __m512d sh = ES__C8(ES__SHIFT);
  __m512d t = _mm512_add_pd(y, sh);
  __m512i k = _mm512_castpd_si512(t);
  __m512d r = _mm512_sub_pd(y, _mm512_sub_pd(t, sh));
  __m512d x = _mm512_mul_pd(r, r);
#define ES__F8(acc, cst) acc = _mm512_fmadd_pd(x, acc, ES__C8(cst))
  __m512d ps = _mm512_fmadd_pd(x, ES__C8(ES__S6), ES__C8(ES__S5));
  ES__F8(ps, ES__S4);
  ES__F8(ps, ES__S3);
  ES__F8(ps, ES__S2);
  ES__F8(ps, ES__S1);
  ES__F8(ps, ES__S0);
  ps = _mm512_mul_pd(r, ps);
  __m512d pc = _mm512_fmadd_pd(x, ES__C8(ES__C7), ES__C8(ES__C6));
  ES__F8(pc, ES__C5);
  ES__F8(pc, ES__C4);
  ES__F8(pc, ES__C3);
  ES__F8(pc, ES__C2);
  ES__F8(pc, ES__C1);
  ES__F8(pc, 1.0);
#undef ES__F8
  const __m512i one = _mm512_set1_epi64(1), two = _mm512_set1_epi64(2);
  __mmask8 odd = _mm512_test_epi64_mask(k, one);
  __m512d cc = _mm512_mask_blend_pd(odd, pc, ps), ss = _mm512_mask_blend_pd(odd, ps, pc);
  __m512i sc = _mm512_slli_epi64(_mm512_and_si512(_mm512_add_epi64(k, one), two), 62);
  __m512i sss = _mm512_slli_epi64(_mm512_and_si512(k, two), 62);
  *c = _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(cc), sc));
  *s = _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(ss), sss));
}

ES__AVX512 void es__bm_avx512(__m512i x0, __m512i x1, __m512i x2, __m512i x3, double *zc,
                              double *zs) {
  const __m512i one = _mm512_set1_epi64((long long)ES__ONE);
  __m512i m1 = _mm512_or_si512(_mm512_srli_epi64(_mm512_slli_epi64(x0, 32), 12),
                               _mm512_srli_epi64(_mm512_slli_epi64(x1, 32), 44));
  __m512i m2 = _mm512_or_si512(_mm512_srli_epi64(_mm512_slli_epi64(x2, 32), 12),
                               _mm512_srli_epi64(_mm512_slli_epi64(x3, 32), 44));
  __m512d u1 = _mm512_sub_pd(ES__C8(2.0), _mm512_castsi512_pd(_mm512_or_si512(one, m1)));
  __m512d y = _mm512_mul_pd(
      ES__C8(4.0), _mm512_sub_pd(_mm512_castsi512_pd(_mm512_or_si512(one, m2)), ES__C8(1.0)));
  __m512d rho = _mm512_sqrt_pd(es__m2log_avx512(u1)), c, s;
  es__sincos4_avx512(y, &c, &s);
  _mm512_storeu_pd(zc, _mm512_mul_pd(rho, c));
  _mm512_storeu_pd(zs, _mm512_mul_pd(rho, s));
}

__attribute__((target("avx512f"))) static void es__groups_avx512(const es_rng *r, uint64_t g0,
                                                                 size_t ng, double *z) {
  __m512i k0[10], k1[10], w[ES__BATCH][4];
  for (uint32_t i = 0; i < 10; i++) {
    k0[i] = _mm512_set1_epi64((uint32_t)(r->key[0] + i * 0x9E3779B9U));
    k1[i] = _mm512_set1_epi64((uint32_t)(r->key[1] + i * 0xBB67AE85U));
  }
  const __m512i m0 = _mm512_set1_epi64(0xD2511F53), m1 = _mm512_set1_epi64(0xCD9E8D57);
  const __m512i c2 = _mm512_set1_epi64(r->ctr[1]), c3 = _mm512_set1_epi64(r->ctr[2]);
  const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  while (ng > 0) {
    size_t nb = ng < ES__BATCH ? ng : ES__BATCH;
    for (size_t q = 0; q < nb; q++) {
      uint64_t b = 8 * (g0 + q);
      __m512i a0 = _mm512_add_epi64(_mm512_set1_epi64((uint32_t)b), lane);
      __m512i a1 = _mm512_set1_epi64((uint32_t)(b >> 32) | r->ctr[0]), a2 = c2, a3 = c3;
      for (int i = 0; i < 10; i++) {
        __m512i p0 = _mm512_mul_epu32(a0, m0), p1 = _mm512_mul_epu32(a2, m1);
        a0 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), a1, k0[i], 0x96);
        a2 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), a3, k1[i], 0x96);
        a1 = p1;
        a3 = p0;
      }
      w[q][0] = a0, w[q][1] = a1, w[q][2] = a2, w[q][3] = a3;
    }
    for (size_t q = 0; q < nb; q++, z += 16)
      es__bm_avx512(w[q][0], w[q][1], w[q][2], w[q][3], z, z + 8);
    g0 += nb;
    ng -= nb;
  }
}
#endif

/* ---- Dispatch ---- */

/* The path in use (simd.h resolves AUTO on first use). */
static es__simd es__rng_path = ES__SIMD_AUTO;

int es__rng_set_simd(es__simd path) { return es__simd_force(&es__rng_path, path); }

es__simd es__rng_simd(void) { return es__simd_resolve(&es__rng_path); }

static void es__groups(const es_rng *r, uint64_t g0, size_t ng, double *z) {
  switch (es__rng_simd()) {
#if ES__X86
    case ES__SIMD_AVX512: es__groups_avx512(r, g0, ng, z); return;
    case ES__SIMD_AVX2: es__groups_avx2(r, g0, ng, z); return;
    case ES__SIMD_SCALAR_FMA: es__groups_fma(r, g0, ng, z); return;
#endif
    default: es__groups_scalar(r, g0, ng, z);
  }
}

void es_rng_normals(es_rng *r, double *z, size_t n) {
  size_t i = 0;
  while (i < n && r->nbuf > 0) z[i++] = r->buf[16 - r->nbuf--];
  size_t ng = (n - i) / 16;
  if (ng) {
    es__groups(r, r->group, ng, z + i);
    r->group += ng;
    i += 16 * ng;
  }
  if (i < n) {
    es__groups(r, r->group++, 1, r->buf);
    r->nbuf = 16;
    while (i < n) z[i++] = r->buf[16 - r->nbuf--];
  }
}

void es_rng_seek(es_rng *r, uint64_t index) {
  r->group = index / 16;
  r->nbuf = 0;
  unsigned rem = (unsigned)(index % 16);
  if (rem) {
    es__groups(r, r->group++, 1, r->buf);
    r->nbuf = 16 - (int)rem;
  }
}
