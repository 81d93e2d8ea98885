/* Internal to the activation module: what its kernel families share. A family (tanh.c,
 * silu.c, sincos.c, erf.c) writes its algorithm once as es__K1 on one value (scalar; fma()
 * where the vector code has FMA) and as es__K4 (AVX2) and es__K8 (AVX-512) with the same
 * operations in the same order on 4 or 8 lanes; ES__FAMILY(K) makes the array loops of every
 * path and the entries of activation_impl.h from them, so every path gives the same bits. A
 * family file includes this header first (kernel.h's preamble must precede any code).
 *
 * e^y (tanh, silu, erf, gelu): y = k ln2 + r with |r| <= ln2/2, a degree-11 polynomial
 * (Chebyshev fit, error 1e-17), and 2^k applied in two halves so that results in the
 * subnormal range round once, correctly. */
#ifndef EDGESWEEP_ACTIVATION_KERNELS_H
#define EDGESWEEP_ACTIVATION_KERNELS_H

#include "kernel.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "activation_impl.h"

#define ES__LOG2E 1.4426950408889634
#define ES__LN2HI 0.6931471805599453
#define ES__LN2LO 2.3190468138462996e-17
#define ES__SHIFT 6755399441055744.0 /* 1.5 * 2^52 */
#define ES__E0 0.5000000000000001
#define ES__E1 0.16666666666666669
#define ES__E2 0.041666666666624164
#define ES__E3 0.008333333333330065
#define ES__E4 0.0013888888917196719
#define ES__E5 0.00019841269863040545
#define ES__E6 2.4801521322368692e-05
#define ES__E7 2.7557268480310024e-06
#define ES__E8 2.7620075879983367e-07
#define ES__E9 2.5100375832561234e-08
#define ES__SIGN 0x8000000000000000ULL

/* e^y for y in [-800, 1] as e 2^k with 2^k = s1 s2 (both normal) and e = 1 + el, left
 * unscaled so that callers scale a product once; el is e - 1 without the rounding of the
 * final + 1. */
ES__INLINE void es__exp1(double y, double *e, double *el, double *s1, double *s2) {
  double s = fma(y, ES__LOG2E, ES__SHIFT);
  double kd = s - ES__SHIFT;
  double r = fma(kd, -ES__LN2HI, y);
  r = fma(kd, -ES__LN2LO, r);
  double p = fma(ES__E9, r, ES__E8);
  p = fma(p, r, ES__E7);
  p = fma(p, r, ES__E6);
  p = fma(p, r, ES__E5);
  p = fma(p, r, ES__E4);
  p = fma(p, r, ES__E3);
  p = fma(p, r, ES__E2);
  p = fma(p, r, ES__E1);
  p = fma(p, r, ES__E0);
  *el = fma(r * r, p, r);
  *e = *el + 1.0;
  uint64_t kb = es__b(s) - es__b(ES__SHIFT) + 2048;
  uint64_t k1b = kb >> 1;
  *s1 = es__d((k1b - 1) << 52);
  *s2 = es__d((kb - k1b + 1023 - 1024) << 52);
}

#if ES__X86
#define ES__AVX2 __attribute__((target("avx2,fma"), always_inline)) static inline
#define ES__C(v) _mm256_set1_pd(v)
#define ES__AVX512 __attribute__((target("avx512f"), always_inline)) static inline
#define ES__C8(v) _mm512_set1_pd(v)
/* Vectors at once in an ES__FAMILY_MEM kernel, measured on Zen 4 (tanh: AVX2 2.41 -> 2.01 ns
 * with tanh' at 4, 2.27 at 2, 2.03 at 8; AVX-512 4 is no faster than 2). */
enum { ES__K4 = 4, ES__K8 = 2 };

/* es__exp1 on K vectors of 4 or 8 lanes, each step for all K before the next (their chains
 * then overlap); also kd = k as a double. es__exp4 and es__exp8: one vector. */
#define ES__EACH(K) for (int k = 0; k < (K); k++)
ES__AVX2 void es__exp4n(int K, const __m256d *y, __m256d *e, __m256d *el, __m256d *s1, __m256d *s2,
                        __m256d *kd) {
  __m256d s[ES__K4], r[ES__K4], p[ES__K4];
  ES__EACH(K) s[k] = _mm256_fmadd_pd(y[k], ES__C(ES__LOG2E), ES__C(ES__SHIFT));
  ES__EACH(K) kd[k] = _mm256_sub_pd(s[k], ES__C(ES__SHIFT));
  ES__EACH(K) r[k] = _mm256_fmadd_pd(kd[k], ES__C(-ES__LN2HI), y[k]);
  ES__EACH(K) r[k] = _mm256_fmadd_pd(kd[k], ES__C(-ES__LN2LO), r[k]);
  ES__EACH(K) p[k] = _mm256_fmadd_pd(ES__C(ES__E9), r[k], ES__C(ES__E8));
#define ES__P(c) ES__EACH(K) p[k] = _mm256_fmadd_pd(p[k], r[k], ES__C(c))
  ES__P(ES__E7);
  ES__P(ES__E6);
  ES__P(ES__E5);
  ES__P(ES__E4);
  ES__P(ES__E3);
  ES__P(ES__E2);
  ES__P(ES__E1);
  ES__P(ES__E0);
#undef ES__P
  ES__EACH(K) {
    el[k] = _mm256_fmadd_pd(_mm256_mul_pd(r[k], r[k]), p[k], r[k]);
    e[k] = _mm256_add_pd(el[k], ES__C(1.0));
    __m256i kb = _mm256_add_epi64(
        _mm256_sub_epi64(_mm256_castpd_si256(s[k]), _mm256_castpd_si256(ES__C(ES__SHIFT))),
        _mm256_set1_epi64x(2048));
    __m256i k1b = _mm256_srli_epi64(kb, 1);
    s1[k] =
        _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_sub_epi64(k1b, _mm256_set1_epi64x(1)), 52));
    s2[k] = _mm256_castsi256_pd(
        _mm256_slli_epi64(_mm256_sub_epi64(_mm256_sub_epi64(kb, k1b), _mm256_set1_epi64x(1)), 52));
  }
}

ES__AVX2 void es__exp4(__m256d y, __m256d *e, __m256d *el, __m256d *s1, __m256d *s2) {
  __m256d kd;
  es__exp4n(1, &y, e, el, s1, s2, &kd);
}

ES__AVX512 void es__exp8n(int K, const __m512d *y, __m512d *e, __m512d *el, __m512d *s1,
                          __m512d *s2, __m512d *kd) {
  __m512d s[ES__K8], r[ES__K8], p[ES__K8];
  ES__EACH(K) s[k] = _mm512_fmadd_pd(y[k], ES__C8(ES__LOG2E), ES__C8(ES__SHIFT));
  ES__EACH(K) kd[k] = _mm512_sub_pd(s[k], ES__C8(ES__SHIFT));
  ES__EACH(K) r[k] = _mm512_fmadd_pd(kd[k], ES__C8(-ES__LN2HI), y[k]);
  ES__EACH(K) r[k] = _mm512_fmadd_pd(kd[k], ES__C8(-ES__LN2LO), r[k]);
  ES__EACH(K) p[k] = _mm512_fmadd_pd(ES__C8(ES__E9), r[k], ES__C8(ES__E8));
#define ES__P(c) ES__EACH(K) p[k] = _mm512_fmadd_pd(p[k], r[k], ES__C8(c))
  ES__P(ES__E7);
  ES__P(ES__E6);
  ES__P(ES__E5);
  ES__P(ES__E4);
  ES__P(ES__E3);
  ES__P(ES__E2);
  ES__P(ES__E1);
  ES__P(ES__E0);
#undef ES__P
  ES__EACH(K) {
    el[k] = _mm512_fmadd_pd(_mm512_mul_pd(r[k], r[k]), p[k], r[k]);
    e[k] = _mm512_add_pd(el[k], ES__C8(1.0));
    __m512i kb = _mm512_add_epi64(
        _mm512_sub_epi64(_mm512_castpd_si512(s[k]), _mm512_castpd_si512(ES__C8(ES__SHIFT))),
        _mm512_set1_epi64(2048));
    __m512i k1b = _mm512_srli_epi64(kb, 1);
    s1[k] = _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_sub_epi64(k1b, _mm512_set1_epi64(1)), 52));
    s2[k] = _mm512_castsi512_pd(
        _mm512_slli_epi64(_mm512_sub_epi64(_mm512_sub_epi64(kb, k1b), _mm512_set1_epi64(1)), 52));
  }
}

ES__AVX512 void es__exp8(__m512d y, __m512d *e, __m512d *el, __m512d *s1, __m512d *s2) {
  __m512d kd;
  es__exp8n(1, &y, e, el, s1, s2, &kd);
}

#endif

/* The array loop of the portable path. */
#define ES__DRIVERS_SCALAR(K)                                                      \
  static void es__##K##_scalar(size_t n, const double *x, double *f, double *df) { \
    for (size_t i = 0; i < n; i++) es__##K##1(x[i], &f[i], df ? &df[i] : NULL);    \
  }

#if ES__X86
/* The tails of the vector loops and the fma scalar entries: es__K1 compiled with FMA. */
#define ES__DRIVERS_X86(K, STYLE)                                                                \
  __attribute__((target("fma"))) static void es__##K##_fma(size_t n, const double *x, double *f, \
                                                           double *df) {                         \
    for (size_t i = 0; i < n; i++) es__##K##1(x[i], &f[i], df ? &df[i] : NULL);                  \
  }                                                                                              \
  __attribute__((target("fma"))) static double es__##K##_fma1(double x) {                        \
    double v;                                                                                    \
    es__##K##1(x, &v, NULL);                                                                     \
    return v;                                                                                    \
  }                                                                                              \
  __attribute__((target("fma"))) static double es__d##K##_fma1(double x) {                       \
    double v, d;                                                                                 \
    es__##K##1(x, &v, &d);                                                                       \
    return d;                                                                                    \
  }                                                                                              \
  ES__DRIVER_##STYLE(K, avx2, "avx2,fma", 4, 256, ES__K4)                                        \
      ES__DRIVER_##STYLE(K, avx512, "avx512f,fma", 8, 512, ES__K8)
/* The vector loop of path P (W lanes, B-bit vectors): es__KW on one vector in registers (REG),
 * or on KN vectors from memory at a time, then one (MEM: a family whose chains gain from
 * being interleaved); the tail by es__K1. */
#define ES__DRIVER_REG(K, P, T, W, B, KN)                                                    \
  __attribute__((target(T))) static void es__##K##_##P(size_t n, const double *x, double *f, \
                                                       double *df) {                         \
    size_t i = 0;                                                                            \
    __m##B##d v, d;                                                                          \
    if (df) /* two loops: want_d a constant in each */                                       \
      for (; i + W <= n; i += W) {                                                           \
        es__##K##W(_mm##B##_loadu_pd(x + i), &v, &d, 1);                                     \
        _mm##B##_storeu_pd(f + i, v);                                                        \
        _mm##B##_storeu_pd(df + i, d);                                                       \
      }                                                                                      \
    else                                                                                     \
      for (; i + W <= n; i += W) {                                                           \
        es__##K##W(_mm##B##_loadu_pd(x + i), &v, &d, 0);                                     \
        _mm##B##_storeu_pd(f + i, v);                                                        \
      }                                                                                      \
    for (; i < n; i++) es__##K##1(x[i], &f[i], df ? &df[i] : NULL);                          \
  }
#define ES__DRIVER_MEM(K, P, T, W, B, KN)                                                    \
  __attribute__((target(T))) static void es__##K##_##P(size_t n, const double *x, double *f, \
                                                       double *df) {                         \
    size_t i = 0;                                                                            \
    if (df) {                                                                                \
      for (; i + W * KN <= n; i += W * KN) es__##K##W(KN, x + i, f + i, df + i);             \
      for (; i + W <= n; i += W) es__##K##W(1, x + i, f + i, df + i);                        \
    } else {                                                                                 \
      for (; i + W * KN <= n; i += W * KN) es__##K##W(KN, x + i, f + i, NULL);               \
      for (; i + W <= n; i += W) es__##K##W(1, x + i, f + i, NULL);                          \
    }                                                                                        \
    for (; i < n; i++) es__##K##1(x[i], &f[i], df ? &df[i] : NULL);                          \
  }
#define ES__DISPATCH_X86(K)                                    \
  case ES__SIMD_AVX512: es__##K##_avx512(n, x, f, df); return; \
  case ES__SIMD_AVX2: es__##K##_avx2(n, x, f, df); return;     \
  case ES__SIMD_SCALAR_FMA:                                    \
    es__##K##_fma(n, x, f, df);                                \
    return;
#define ES__ENTRY_X86(F) \
  if (es__activation_simd() != ES__SIMD_SCALAR) return F(x);
#else
#define ES__DRIVERS_X86(K, STYLE)
#define ES__DISPATCH_X86(K)
#define ES__ENTRY_X86(F)
#endif

/* The entries: the array kernel on the path in use; the scalar ones (quadrature, tests) take
 * the fastest scalar path, the same bits. */
#define ES__DISPATCH(K)                                                 \
  void es__eval_##K(size_t n, const double *x, double *f, double *df) { \
    switch (es__activation_simd()) {                                    \
      ES__DISPATCH_X86(K)                                               \
      default: es__##K##_scalar(n, x, f, df);                           \
    }                                                                   \
  }                                                                     \
  double es__##K(double x) {                                            \
    double v;                                                           \
    ES__ENTRY_X86(es__##K##_fma1)                                       \
    es__##K##1(x, &v, NULL);                                            \
    return v;                                                           \
  }                                                                     \
  double es__d##K(double x) {                                           \
    double v, d;                                                        \
    ES__ENTRY_X86(es__d##K##_fma1)                                      \
    es__##K##1(x, &v, &d);                                              \
    return d;                                                           \
  }

/* Everything an activation needs once its es__K1, es__K4 and es__K8 exist: es__K4 and es__K8
 * on a vector in registers (ES__FAMILY), or on K vectors from memory (ES__FAMILY_MEM). */
#define ES__FAMILY(K)     \
  ES__DRIVERS_SCALAR(K)   \
  ES__DRIVERS_X86(K, REG) \
  ES__DISPATCH(K)
#define ES__FAMILY_MEM(K) \
  ES__DRIVERS_SCALAR(K)   \
  ES__DRIVERS_X86(K, MEM) \
  ES__DISPATCH(K)

#endif
