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

/* What the Philox rounds of one stream share: the round keys and, for a run of groups whose
 * counters agree in their high word, the words of rounds 1 and 2 that do not depend on the
 * block index, computed once (Random123's round: (hi0, lo0) = M0 x0, (hi1, lo1) = M1 x2,
 * x = (hi1 ^ x1 ^ k0, lo1, hi0 ^ x3 ^ k1, lo0); x1, x2, x3 start the same for every block). */
typedef struct {
  uint64_t k0[10], k1[10]; /* 32-bit round keys, in 64-bit slots as the vector code holds them */
  uint64_t c1;             /* round 1: x3 ^ k1 */
  uint64_t c2;             /* round 2: hi(M0 x0') ^ k1', x0' the block-free word of round 1 */
  uint64_t c3;             /* round 2: lo(M1 x2) ^ k0' */
  uint64_t a3;             /* after round 2: lo(M0 x0') */
} es__rounds;

#define ES__M0 0xD2511F53U
#define ES__M1 0xCD9E8D57U

static void es__rounds_init(const es_rng *r, uint32_t hi, es__rounds *c) {
  for (uint32_t i = 0; i < 10; i++) { /* Random123's key schedule */
    c->k0[i] = (uint32_t)(r->key[0] + i * 0x9E3779B9U);
    c->k1[i] = (uint32_t)(r->key[1] + i * 0xBB67AE85U);
  }
  const uint64_t p1 = (uint64_t)r->ctr[1] * ES__M1; /* M1 x2 of round 1 */
  const uint32_t x0 = (uint32_t)(p1 >> 32) ^ (hi | r->ctr[0]) ^ (uint32_t)c->k0[0];
  const uint64_t p0 = (uint64_t)x0 * ES__M0; /* M0 x0' of round 2 */
  c->c1 = r->ctr[2] ^ (uint32_t)c->k1[0];
  c->c2 = (uint32_t)(p0 >> 32) ^ (uint32_t)c->k1[1];
  c->c3 = (uint32_t)p1 ^ (uint32_t)c->k0[1];
  c->a3 = (uint32_t)p0;
}

/* The groups g0 .. g0+ng-1 run by runs that share the counters' high word (it changes every
 * 2^29 groups: at most once in practice); run(r, c, g, n, z) makes n groups from g. */
#define ES__BY_RUNS(r, g0, ng, z, run)                               \
  do {                                                               \
    es__rounds c_;                                                   \
    uint32_t hi_ = (uint32_t)((g0) >> 29);                           \
    for (uint64_t g_ = (g0), end_ = (g0) + (ng); g_ < end_; hi_++) { \
      uint64_t next_ = ((uint64_t)hi_ + 1) << 29;                    \
      uint64_t stop_ = end_ < next_ ? end_ : next_;                  \
      es__rounds_init(r, hi_, &c_);                                  \
      run(&c_, g_, (size_t)(stop_ - g_), z);                         \
      z += 16 * (stop_ - g_);                                        \
      g_ = stop_;                                                    \
    }                                                                \
  } while (0)

/* ---- AVX2: a group's 8 blocks as two sets of 4 lanes, each 32-bit word in a 64-bit slot so
 * that one vpmuludq gives its whole product (the high halves of the slots are junk that no
 * later step reads). Each step is done for K sets before the next (es__each): their
 * dependency chains (Philox's ten rounds, Box-Muller's division and square root) overlap,
 * which the out-of-order window alone does not do. ---- */
#define ES__AVX2 __attribute__((target("avx2,fma"), always_inline)) static inline
#define es__each(K) for (int k = 0; k < (K); k++)
#define ES__P4(v) _mm256_set1_pd(v)
#define ES__I4(v) _mm256_set1_epi64x((long long)(v))
enum { ES__K4 = 8 }; /* sets at once (4 groups): 2 or 4 sets measured 3-10% slower on Zen 4 */

/* Words of K sets from block b (set k: blocks b + 4 k + lane). */
ES__AVX2 void es__philox_avx2(int K, const es__rounds *c, uint64_t b, __m256i (*w)[4]) {
  const __m256i m0 = ES__I4(ES__M0), m1 = ES__I4(ES__M1), lane = _mm256_set_epi64x(3, 2, 1, 0);
  __m256i a0[ES__K4], a1[ES__K4], a2[ES__K4], a3[ES__K4];
  es__each(K) { /* round 1: only M0 x0 depends on the block */
    __m256i p0 =
        _mm256_mul_epu32(_mm256_add_epi64(ES__I4((uint32_t)(b + 4 * (uint64_t)k)), lane), m0);
    a2[k] = _mm256_xor_si256(_mm256_srli_epi64(p0, 32), ES__I4(c->c1));
    a3[k] = p0;
  }
  es__each(K) { /* round 2: M0 x0 is the same for every block */
    __m256i p1 = _mm256_mul_epu32(a2[k], m1);
    a0[k] = _mm256_xor_si256(_mm256_srli_epi64(p1, 32), ES__I4(c->c3));
    a2[k] = _mm256_xor_si256(a3[k], ES__I4(c->c2));
    a1[k] = p1;
    a3[k] = ES__I4(c->a3);
  }
  for (int i = 2; i < 10; i++) es__each(K) {
      __m256i p0 = _mm256_mul_epu32(a0[k], m0), p1 = _mm256_mul_epu32(a2[k], m1);
      a0[k] =
          _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), a1[k]), ES__I4(c->k0[i]));
      a2[k] =
          _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), a3[k]), ES__I4(c->k1[i]));
      a1[k] = p1;
      a3[k] = p0;
    }
  es__each(K) w[k][0] = a0[k], w[k][1] = a1[k], w[k][2] = a2[k], w[k][3] = a3[k];
}

/* Words of K sets -> their normals: set k's cosines at zc[k], sines at zc[k] + 8. */
ES__AVX2 void es__bm_avx2(int K, __m256i (*w)[4], double *const *zc) {
  const __m256i one = ES__I4(ES__ONE);
  __m256d y[ES__K4], m[ES__K4], dk[ES__K4], f[ES__K4], s[ES__K4], zz[ES__K4], ww[ES__K4];
  __m256d t1[ES__K4], t2[ES__K4], rho[ES__K4], r[ES__K4], x[ES__K4], ps[ES__K4], pc[ES__K4];
  __m256i eb[ES__K4], kq[ES__K4];
  es__each(K) { /* u1 in (0, 1] and y in [0, 4) from the words, then es__m2log's steps */
    __m256i m1 = _mm256_or_si256(_mm256_srli_epi64(_mm256_slli_epi64(w[k][0], 32), 12),
                                 _mm256_srli_epi64(_mm256_slli_epi64(w[k][1], 32), 44));
    __m256i m2 = _mm256_or_si256(_mm256_srli_epi64(_mm256_slli_epi64(w[k][2], 32), 12),
                                 _mm256_srli_epi64(_mm256_slli_epi64(w[k][3], 32), 44));
    __m256i b = _mm256_castpd_si256(
        _mm256_sub_pd(ES__P4(2.0), _mm256_castsi256_pd(_mm256_or_si256(one, m1))));
    y[k] = _mm256_mul_pd(ES__P4(4.0),
                         _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(one, m2)), ES__P4(1.0)));
    eb[k] = _mm256_srli_epi64(b, 52);
    m[k] = _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(b, ES__I4(ES__MANT)), one));
  }
  es__each(K) {
    __m256d big = _mm256_cmp_pd(m[k], ES__P4(ES__SQRT2), _CMP_GT_OQ);
    m[k] = _mm256_blendv_pd(m[k], _mm256_mul_pd(ES__P4(0.5), m[k]), big);
    eb[k] = _mm256_sub_epi64(eb[k], _mm256_castpd_si256(big)); /* the mask is -1 */
  }
  es__each(K) dk[k] =
      _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(eb[k], ES__I4(0x4330000000000000ULL))),
                    ES__P4(4503599627370496.0 + 1023.0));
  es__each(K) f[k] = _mm256_sub_pd(m[k], ES__P4(1.0));
  es__each(K) s[k] = _mm256_div_pd(f[k], _mm256_add_pd(ES__P4(2.0), f[k]));
  es__each(K) zz[k] = _mm256_mul_pd(s[k], s[k]);
  es__each(K) ww[k] = _mm256_mul_pd(zz[k], zz[k]);
  es__each(K) t1[k] = _mm256_fmadd_pd(ww[k], ES__P4(ES__LG6), ES__P4(ES__LG4));
  es__each(K) t2[k] = _mm256_fmadd_pd(ww[k], ES__P4(ES__LG7), ES__P4(ES__LG5));
  es__each(K) t1[k] = _mm256_mul_pd(ww[k], _mm256_fmadd_pd(ww[k], t1[k], ES__P4(ES__LG2)));
  es__each(K) t2[k] = _mm256_fmadd_pd(ww[k], t2[k], ES__P4(ES__LG3));
  es__each(K) t2[k] = _mm256_mul_pd(zz[k], _mm256_fmadd_pd(ww[k], t2[k], ES__P4(ES__LG1)));
  es__each(K) {
    __m256d rr = _mm256_add_pd(t2[k], t1[k]);
    __m256d hfsq = _mm256_mul_pd(_mm256_mul_pd(ES__P4(0.5), f[k]), f[k]);
    __m256d in =
        _mm256_fmadd_pd(s[k], _mm256_add_pd(hfsq, rr), _mm256_mul_pd(dk[k], ES__P4(ES__LN2_LO)));
    __m256d lg = _mm256_sub_pd(_mm256_mul_pd(dk[k], ES__P4(ES__LN2_HI)),
                               _mm256_sub_pd(_mm256_sub_pd(hfsq, in), f[k]));
    rho[k] = _mm256_sqrt_pd(_mm256_mul_pd(ES__P4(-2.0), lg));
  }
  es__each(K) { /* es__sincos4's steps */
    __m256d t = _mm256_add_pd(y[k], ES__P4(ES__SHIFT));
    kq[k] = _mm256_castpd_si256(t);
    r[k] = _mm256_sub_pd(y[k], _mm256_sub_pd(t, ES__P4(ES__SHIFT)));
    x[k] = _mm256_mul_pd(r[k], r[k]);
  }
#define ES__F4(acc, cst) es__each(K) acc[k] = _mm256_fmadd_pd(x[k], acc[k], ES__P4(cst))
  es__each(K) ps[k] = _mm256_fmadd_pd(x[k], ES__P4(ES__S6), ES__P4(ES__S5));
  es__each(K) pc[k] = _mm256_fmadd_pd(x[k], ES__P4(ES__C7), ES__P4(ES__C6));
  ES__F4(ps, ES__S4);
  ES__F4(pc, ES__C5);
  ES__F4(ps, ES__S3);
  ES__F4(pc, ES__C4);
  ES__F4(ps, ES__S2);
  ES__F4(pc, ES__C3);
  ES__F4(ps, ES__S1);
  ES__F4(pc, ES__C2);
  ES__F4(ps, ES__S0);
  ES__F4(pc, ES__C1);
  es__each(K) ps[k] = _mm256_mul_pd(r[k], ps[k]);
  ES__F4(pc, 1.0);
#undef ES__F4
  es__each(K) {
    const __m256i one1 = ES__I4(1), two = ES__I4(2);
    __m256d odd = _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(kq[k], one1), one1));
    __m256d cc = _mm256_blendv_pd(pc[k], ps[k], odd), ss = _mm256_blendv_pd(ps[k], pc[k], odd);
    __m256i sc = _mm256_slli_epi64(_mm256_and_si256(_mm256_add_epi64(kq[k], one1), two), 62);
    __m256i sn = _mm256_slli_epi64(_mm256_and_si256(kq[k], two), 62);
    cc = _mm256_castsi256_pd(_mm256_xor_si256(_mm256_castpd_si256(cc), sc));
    ss = _mm256_castsi256_pd(_mm256_xor_si256(_mm256_castpd_si256(ss), sn));
    _mm256_storeu_pd(zc[k], _mm256_mul_pd(rho[k], cc));
    _mm256_storeu_pd(zc[k] + 8, _mm256_mul_pd(rho[k], ss));
  }
}

/* n groups from g into z: ES__K4 / 2 groups at a time, then one. */
ES__AVX2 void es__run_avx2(const es__rounds *c, uint64_t g, size_t n, double *z) {
  __m256i w[ES__K4][4];
  double *zc[ES__K4];
  size_t q = 0;
  for (; q + ES__K4 / 2 <= n; q += ES__K4 / 2, z += 8 * ES__K4) {
    for (int k = 0; k < ES__K4; k++) zc[k] = z + 16 * (k / 2) + 4 * (k % 2);
    es__philox_avx2(ES__K4, c, 8 * (g + q), w);
    es__bm_avx2(ES__K4, w, zc);
  }
  for (; q < n; q++, z += 16) {
    zc[0] = z, zc[1] = z + 4;
    es__philox_avx2(2, c, 8 * (g + q), w);
    es__bm_avx2(2, w, zc);
  }
}

__attribute__((target("avx2,fma"))) static void es__groups_avx2(const es_rng *r, uint64_t g0,
                                                                size_t ng, double *z) {
  ES__BY_RUNS(r, g0, ng, z, es__run_avx2);
}

/* ---- AVX-512: one group (8 blocks) per set of 8 lanes; the same steps again, with masks for
 * the selects and a three-way XOR, ES__K groups at a time (es__each). ---- */
#define ES__AVX512 __attribute__((target("avx512f"), always_inline)) static inline
#define ES__C8(v) _mm512_set1_pd(v)
enum { ES__K = 4 };

/* The words of K groups -> their 16 K normals (K = ES__K, or 1 for the last groups). */
ES__AVX512 void es__bm_avx512(int K, __m512i (*w)[4], double *z) {
  const __m512i one = _mm512_set1_epi64((long long)ES__ONE);
  __m512d y[ES__K], m[ES__K], dk[ES__K], f[ES__K], s[ES__K], zz[ES__K], ww[ES__K];
  __m512d t1[ES__K], t2[ES__K], rho[ES__K], r[ES__K], x[ES__K], ps[ES__K], pc[ES__K];
  __m512i kq[ES__K];
  __mmask8 big[ES__K];
  const __m512i mant = _mm512_set1_epi64((long long)ES__MANT), lo20 = _mm512_set1_epi64(0xFFFFF);
  es__each(K) { /* u1 in (0, 1] and y in [0, 4) from the words, then es__m2log's steps */
    /* Bits 20-51 from word 0 or 2, 0-19 from word 1 or 3 (the high half of a slot is junk,
     * cleared with the exponent) */
    __m512i m1 = _mm512_ternarylogic_epi64(_mm512_slli_epi64(w[k][0], 20),
                                           _mm512_srli_epi64(w[k][1], 12), lo20, 0xD8);
    __m512i m2 = _mm512_ternarylogic_epi64(_mm512_slli_epi64(w[k][2], 20),
                                           _mm512_srli_epi64(w[k][3], 12), lo20, 0xD8);
    __m512d u1 = _mm512_sub_pd(ES__C8(2.0),
                               _mm512_castsi512_pd(_mm512_ternarylogic_epi64(m1, mant, one, 0xEA)));
    /* 4 (x - 1) with x in [1, 2) is (4 x) - 4, both exact */
    y[k] = _mm512_sub_pd(_mm512_castsi512_pd(_mm512_ternarylogic_epi64(
                             m2, mant, _mm512_set1_epi64(0x4010000000000000LL), 0xEA)),
                         ES__C8(4.0));
    dk[k] = _mm512_getexp_pd(u1); /* the exponent, exactly (u1 is normal) */
    m[k] = _mm512_castsi512_pd(_mm512_ternarylogic_epi64(_mm512_castpd_si512(u1), mant, one, 0xEA));
  }
  es__each(K) big[k] = _mm512_cmp_pd_mask(m[k], ES__C8(ES__SQRT2), _CMP_GT_OQ);
  es__each(K) m[k] = _mm512_mask_mul_pd(m[k], big[k], ES__C8(0.5), m[k]);
  es__each(K) dk[k] = _mm512_mask_add_pd(dk[k], big[k], dk[k], ES__C8(1.0));
  es__each(K) f[k] = _mm512_sub_pd(m[k], ES__C8(1.0));
  es__each(K) s[k] = _mm512_div_pd(f[k], _mm512_add_pd(ES__C8(2.0), f[k]));
  es__each(K) zz[k] = _mm512_mul_pd(s[k], s[k]);
  es__each(K) ww[k] = _mm512_mul_pd(zz[k], zz[k]);
  es__each(K) t1[k] = _mm512_fmadd_pd(ww[k], ES__C8(ES__LG6), ES__C8(ES__LG4));
  es__each(K) t2[k] = _mm512_fmadd_pd(ww[k], ES__C8(ES__LG7), ES__C8(ES__LG5));
  es__each(K) t1[k] = _mm512_mul_pd(ww[k], _mm512_fmadd_pd(ww[k], t1[k], ES__C8(ES__LG2)));
  es__each(K) t2[k] = _mm512_fmadd_pd(ww[k], t2[k], ES__C8(ES__LG3));
  es__each(K) t2[k] = _mm512_mul_pd(zz[k], _mm512_fmadd_pd(ww[k], t2[k], ES__C8(ES__LG1)));
  es__each(K) {
    __m512d rr = _mm512_add_pd(t2[k], t1[k]);
    __m512d hfsq = _mm512_mul_pd(_mm512_mul_pd(ES__C8(0.5), f[k]), f[k]);
    __m512d in =
        _mm512_fmadd_pd(s[k], _mm512_add_pd(hfsq, rr), _mm512_mul_pd(dk[k], ES__C8(ES__LN2_LO)));
    __m512d lg = _mm512_sub_pd(_mm512_mul_pd(dk[k], ES__C8(ES__LN2_HI)),
                               _mm512_sub_pd(_mm512_sub_pd(hfsq, in), f[k]));
    rho[k] = _mm512_sqrt_pd(_mm512_mul_pd(ES__C8(-2.0), lg));
  }
  es__each(K) { /* es__sincos4's steps */
    __m512d t = _mm512_add_pd(y[k], ES__C8(ES__SHIFT));
    kq[k] = _mm512_castpd_si512(t);
    r[k] = _mm512_sub_pd(y[k], _mm512_sub_pd(t, ES__C8(ES__SHIFT)));
    x[k] = _mm512_mul_pd(r[k], r[k]);
  }
#define ES__F8(acc, cst) es__each(K) acc[k] = _mm512_fmadd_pd(x[k], acc[k], ES__C8(cst))
  es__each(K) ps[k] = _mm512_fmadd_pd(x[k], ES__C8(ES__S6), ES__C8(ES__S5));
  es__each(K) pc[k] = _mm512_fmadd_pd(x[k], ES__C8(ES__C7), ES__C8(ES__C6));
  ES__F8(ps, ES__S4);
  ES__F8(pc, ES__C5);
  ES__F8(ps, ES__S3);
  ES__F8(pc, ES__C4);
  ES__F8(ps, ES__S2);
  ES__F8(pc, ES__C3);
  ES__F8(ps, ES__S1);
  ES__F8(pc, ES__C2);
  ES__F8(ps, ES__S0);
  ES__F8(pc, ES__C1);
  es__each(K) ps[k] = _mm512_mul_pd(r[k], ps[k]);
  ES__F8(pc, 1.0);
#undef ES__F8
  const __m512i one1 = _mm512_set1_epi64(1),
                sign = _mm512_set1_epi64((long long)0x8000000000000000ULL);
  es__each(K) {
    __mmask8 odd = _mm512_test_epi64_mask(kq[k], one1);
    __m512d cc = _mm512_mask_blend_pd(odd, pc[k], ps[k]);
    __m512d ss = _mm512_mask_blend_pd(odd, ps[k], pc[k]);
    /* the signs: bit 1 of k + 1 and of k, moved to bit 63 and XORed in (x ^ (y & sign)) */
    __m512i sc = _mm512_slli_epi64(_mm512_add_epi64(kq[k], one1), 62);
    __m512i sn = _mm512_slli_epi64(kq[k], 62);
    cc = _mm512_castsi512_pd(_mm512_ternarylogic_epi64(_mm512_castpd_si512(cc), sc, sign, 0x78));
    ss = _mm512_castsi512_pd(_mm512_ternarylogic_epi64(_mm512_castpd_si512(ss), sn, sign, 0x78));
    _mm512_storeu_pd(z + 16 * k, _mm512_mul_pd(rho[k], cc));
    _mm512_storeu_pd(z + 16 * k + 8, _mm512_mul_pd(rho[k], ss));
  }
}

/* The words of K groups from g (block 8 g + lane). */
ES__AVX512 void es__philox_avx512(int K, const es__rounds *c, uint64_t g, __m512i (*w)[4]) {
  const __m512i m0 = _mm512_set1_epi64(ES__M0), m1 = _mm512_set1_epi64(ES__M1);
  const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  __m512i a0[ES__K], a1[ES__K], a2[ES__K], a3[ES__K];
  es__each(K) { /* round 1: only M0 x0 depends on the block */
    __m512i p0 = _mm512_mul_epu32(
        _mm512_add_epi64(_mm512_set1_epi64((uint32_t)(8 * (g + (uint64_t)k))), lane), m0);
    a2[k] = _mm512_xor_si512(_mm512_srli_epi64(p0, 32), _mm512_set1_epi64((long long)c->c1));
    a3[k] = p0;
  }
  es__each(K) { /* round 2: M0 x0 is the same for every block */
    __m512i p1 = _mm512_mul_epu32(a2[k], m1);
    a0[k] = _mm512_xor_si512(_mm512_srli_epi64(p1, 32), _mm512_set1_epi64((long long)c->c3));
    a2[k] = _mm512_xor_si512(a3[k], _mm512_set1_epi64((long long)c->c2));
    a1[k] = p1;
    a3[k] = _mm512_set1_epi64((long long)c->a3);
  }
  for (int i = 2; i < 10; i++) es__each(K) {
      __m512i p0 = _mm512_mul_epu32(a0[k], m0), p1 = _mm512_mul_epu32(a2[k], m1);
      a0[k] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), a1[k],
                                        _mm512_set1_epi64((long long)c->k0[i]), 0x96);
      a2[k] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), a3[k],
                                        _mm512_set1_epi64((long long)c->k1[i]), 0x96);
      a1[k] = p1;
      a3[k] = p0;
    }
  es__each(K) w[k][0] = a0[k], w[k][1] = a1[k], w[k][2] = a2[k], w[k][3] = a3[k];
}

/* n groups from g into z: the words of 2 ES__K groups, then their normals, measured the
 * fastest order on Zen 4 (ES__K or 4 ES__K groups of words at a time are 2-3% slower). */
ES__AVX512 void es__run_avx512(const es__rounds *c, uint64_t g, size_t n, double *z) {
  __m512i w[2 * ES__K][4];
  size_t q = 0;
  for (; q + 2 * ES__K <= n; q += 2 * ES__K, z += 32 * ES__K) {
    es__philox_avx512(ES__K, c, g + q, w);
    es__philox_avx512(ES__K, c, g + q + ES__K, w + ES__K);
    es__bm_avx512(ES__K, w, z);
    es__bm_avx512(ES__K, w + ES__K, z + 16 * ES__K);
  }
  for (; q + ES__K <= n; q += ES__K, z += 16 * ES__K) {
    es__philox_avx512(ES__K, c, g + q, w);
    es__bm_avx512(ES__K, w, z);
  }
  for (; q < n; q++, z += 16) {
    es__philox_avx512(1, c, g + q, w);
    es__bm_avx512(1, w, z);
  }
}

__attribute__((target("avx512f"))) static void es__groups_avx512(const es_rng *r, uint64_t g0,
                                                                 size_t ng, double *z) {
  ES__BY_RUNS(r, g0, ng, z, es__run_avx512);
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
