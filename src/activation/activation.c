#include "edgesweep/activation.h"

#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "edgesweep/util.h"
#include "edgesweep/kernel.h"

/* Scalar definitions; tanh, erf, gelu = x Phi(x), silu and sin are further down. */
static double es__lin(double x) { return x; }
static double es__dlin(double x) {
  (void)x;
  return 1.0;
}
static double es__relu(double x) { return x > 0.0 ? x : 0.0; }
static double es__drelu(double x) { return x > 0.0 ? 1.0 : 0.0; }
static double es__tanh(double x);
static double es__dtanh(double x);
static double es__erf(double x);
static double es__derf(double x);
static double es__gelu(double x);
static double es__dgelu(double x);
static double es__silu(double x);
static double es__dsilu(double x);
static double es__sin(double x);
static double es__dsin(double x);

/* Array versions: plain loops the compiler vectorises (relu, linear). */
/* One pass that reads x[i] before writing f[i], so that f may be x. */
#define ES__EVAL(NAME, F, DF)                                                 \
  static void NAME(size_t n, const double *x, double *f, double *df) {        \
    if (df)                                                                   \
      for (size_t i = 0; i < n; i++) {                                        \
        double xi = x[i];                                                     \
        f[i] = F(xi);                                                         \
        df[i] = DF(xi);                                                       \
      }                                                                       \
    else                                                                      \
      for (size_t i = 0; i < n; i++) f[i] = F(x[i]);                          \
  }
ES__EVAL(es__eval_lin, es__lin, es__dlin)
ES__EVAL(es__eval_relu, es__relu, es__drelu)
#undef ES__EVAL

/* ---- tanh and tanh', edgesweep's own: one algorithm, written once for scalars and once
 * for AVX2 with the same operations in the same order, so every path gives the same bits.
 *   |x| < 0.625:  tanh = x + x z P(z)/Q(z), z = x^2 (Cephes' rational), tanh' = 1 - tanh^2;
 *   |x| >= 0.625: m = e^{-2|x|}, q2 = 2m/(1+m) = 1 - tanh, tanh' = q2 + q2 tanh, which stays
 *                 accurate where 1 - tanh^2 would cancel.
 * One division serves both branches: P/Q or 2m/(1+m). e^y: y = k ln2 + r with |r| <= ln2/2,
 * a degree-11 polynomial (Chebyshev fit, error 1e-17), and 2^k applied in two halves so
 * that results in the subnormal range round once, correctly. ---- */

#define ES__INLINE static inline __attribute__((always_inline))
#define ES__TP0 -9.64399179425052238628E-1
#define ES__TP1 -9.92877231001918586564E1
#define ES__TP2 -1.61468768441708447952E3
#define ES__TQ0 1.12811678491632931402E2
#define ES__TQ1 2.23548839060100448583E3
#define ES__TQ2 4.84406305325125486048E3
#define ES__SMALL 0.625
#define ES__YMIN -746.0 /* e^{-746} rounds to 0 */
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

ES__INLINE double es__d(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}
ES__INLINE uint64_t es__b(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}

/* tanh(x) into *t and, when dt, tanh'(x) into *dt. */
ES__INLINE void es__tanh1(double x, double *t, double *dt) {
  if (x != x) { /* NaN: itself, as the vector path blends it back */
    *t = x;
    if (dt) *dt = x;
    return;
  }
  uint64_t sign = es__b(x) & ES__SIGN;
  double a = es__d(es__b(x) & ~ES__SIGN), tt, d;
  if (a < ES__SMALL) {
    double z = a * a;
    double p = fma(fma(ES__TP0, z, ES__TP1), z, ES__TP2);
    double q = fma(fma(z + ES__TQ0, z, ES__TQ1), z, ES__TQ2);
    double r = p / q;
    tt = fma(a * z, r, a);
    d = fma(-tt, tt, 1.0);
  } else {
    double y = -2.0 * a;
    if (y < ES__YMIN) y = ES__YMIN;
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
    double e = fma(r * r, p, r) + 1.0;
    uint64_t kb = es__b(s) - es__b(ES__SHIFT) + 2048; /* k + 2048 > 0 */
    uint64_t k1b = kb >> 1;                            /* floor(k / 2) + 1024 */
    double s1 = es__d((k1b - 1) << 52);                /* 2^floor(k/2) */
    double s2 = es__d((kb - k1b + 1023 - 1024) << 52); /* 2^(k - floor(k/2)) */
    double m = (e * s1) * s2;
    double q2 = (2.0 * m) / (1.0 + m);
    tt = 1.0 - q2;
    d = fma(q2, tt, q2);
  }
  *t = es__d(es__b(tt) | sign);
  if (dt) *dt = d;
}

ES__INLINE void es__tanh_loop(size_t n, const double *x, double *f, double *df) {
  for (size_t i = 0; i < n; i++) es__tanh1(x[i], &f[i], df ? &df[i] : NULL);
}

static void es__tanh_scalar(size_t n, const double *x, double *f, double *df) {
  es__tanh_loop(n, x, f, df);
}

#if ES__X86
__attribute__((target("fma"))) static void es__tanh_fma(size_t n, const double *x, double *f,
                                                         double *df) {
  es__tanh_loop(n, x, f, df);
}
__attribute__((target("fma"))) static double es__tanh_fma1(double x) {
  double t;
  es__tanh1(x, &t, NULL);
  return t;
}
__attribute__((target("fma"))) static double es__dtanh_fma1(double x) {
  double t, d;
  es__tanh1(x, &t, &d);
  return d;
}

#define ES__AVX2 __attribute__((target("avx2,fma"), always_inline)) static inline
#define ES__C(v) _mm256_set1_pd(v)

/* 4 lanes of es__tanh1, operation for operation. */
ES__AVX2 void es__tanh4(__m256d x, __m256d *t, __m256d *dt, int want_d) {
  const __m256d sgn = _mm256_castsi256_pd(_mm256_set1_epi64x((long long)ES__SIGN));
  __m256d a = _mm256_andnot_pd(sgn, x), sign = _mm256_and_pd(sgn, x);
  __m256d small = _mm256_cmp_pd(a, ES__C(ES__SMALL), _CMP_LT_OQ);
  __m256d z = _mm256_mul_pd(a, a);
  __m256d p = _mm256_fmadd_pd(_mm256_fmadd_pd(ES__C(ES__TP0), z, ES__C(ES__TP1)), z,
                              ES__C(ES__TP2));
  __m256d q = _mm256_fmadd_pd(_mm256_fmadd_pd(_mm256_add_pd(z, ES__C(ES__TQ0)), z,
                                              ES__C(ES__TQ1)), z, ES__C(ES__TQ2));
  __m256d y = _mm256_max_pd(_mm256_mul_pd(ES__C(-2.0), a), ES__C(ES__YMIN));
  __m256d s = _mm256_fmadd_pd(y, ES__C(ES__LOG2E), ES__C(ES__SHIFT));
  __m256d kd = _mm256_sub_pd(s, ES__C(ES__SHIFT));
  __m256d r = _mm256_fmadd_pd(kd, ES__C(-ES__LN2HI), y);
  r = _mm256_fmadd_pd(kd, ES__C(-ES__LN2LO), r);
  __m256d e = _mm256_fmadd_pd(ES__C(ES__E9), r, ES__C(ES__E8));
  e = _mm256_fmadd_pd(e, r, ES__C(ES__E7));
  e = _mm256_fmadd_pd(e, r, ES__C(ES__E6));
  e = _mm256_fmadd_pd(e, r, ES__C(ES__E5));
  e = _mm256_fmadd_pd(e, r, ES__C(ES__E4));
  e = _mm256_fmadd_pd(e, r, ES__C(ES__E3));
  e = _mm256_fmadd_pd(e, r, ES__C(ES__E2));
  e = _mm256_fmadd_pd(e, r, ES__C(ES__E1));
  e = _mm256_fmadd_pd(e, r, ES__C(ES__E0));
  e = _mm256_add_pd(_mm256_fmadd_pd(_mm256_mul_pd(r, r), e, r), ES__C(1.0));
  __m256i kb = _mm256_add_epi64(
      _mm256_sub_epi64(_mm256_castpd_si256(s), _mm256_castpd_si256(ES__C(ES__SHIFT))),
      _mm256_set1_epi64x(2048));
  __m256i k1b = _mm256_srli_epi64(kb, 1);
  __m256d s1 = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_sub_epi64(k1b, _mm256_set1_epi64x(1)), 52));
  __m256d s2 = _mm256_castsi256_pd(_mm256_slli_epi64(
      _mm256_sub_epi64(_mm256_sub_epi64(kb, k1b), _mm256_set1_epi64x(1)), 52));
  __m256d m = _mm256_mul_pd(_mm256_mul_pd(e, s1), s2);
  __m256d one = ES__C(1.0);
  __m256d num = _mm256_blendv_pd(_mm256_mul_pd(ES__C(2.0), m), p, small);
  __m256d den = _mm256_blendv_pd(_mm256_add_pd(one, m), q, small);
  __m256d rq = _mm256_div_pd(num, den); /* P/Q or q2 = 2m/(1+m) */
  __m256d ts = _mm256_fmadd_pd(_mm256_mul_pd(a, z), rq, a);
  __m256d tl = _mm256_sub_pd(one, rq);
  __m256d tt = _mm256_blendv_pd(tl, ts, small);
  __m256d nan = _mm256_cmp_pd(x, x, _CMP_UNORD_Q);
  *t = _mm256_blendv_pd(_mm256_or_pd(tt, sign), x, nan);
  if (want_d) {
    __m256d ds = _mm256_fnmadd_pd(tt, tt, one);
    __m256d dl = _mm256_fmadd_pd(rq, tl, rq);
    *dt = _mm256_blendv_pd(_mm256_blendv_pd(dl, ds, small), x, nan);
  }
}

__attribute__((target("avx2,fma"))) static void es__tanh_avx2(size_t n, const double *x,
                                                               double *f, double *df) {
  size_t i = 0;
  __m256d t, d;
  if (df)
    for (; i + 4 <= n; i += 4) {
      es__tanh4(_mm256_loadu_pd(x + i), &t, &d, 1);
      _mm256_storeu_pd(f + i, t);
      _mm256_storeu_pd(df + i, d);
    }
  else
    for (; i + 4 <= n; i += 4) {
      es__tanh4(_mm256_loadu_pd(x + i), &t, &d, 0);
      _mm256_storeu_pd(f + i, t);
    }
  es__tanh_loop(n - i, x + i, f + i, df ? df + i : NULL); /* the same bits, with FMA */
}

/* 8 lanes of es__tanh1 with AVX-512F (masks for the selects; integer ops for the sign). */
#define ES__AVX512 __attribute__((target("avx512f"), always_inline)) static inline
#define ES__C8(v) _mm512_set1_pd(v)
ES__AVX512 void es__tanh8(__m512d x, __m512d *t, __m512d *dt, int want_d) {
  const __m512i sgn = _mm512_set1_epi64((long long)ES__SIGN);
  const __m512i xi = _mm512_castpd_si512(x);
  __m512d a = _mm512_castsi512_pd(_mm512_andnot_si512(sgn, xi));
  __m512i sign = _mm512_and_si512(sgn, xi);
  __mmask8 small = _mm512_cmp_pd_mask(a, ES__C8(ES__SMALL), _CMP_LT_OQ);
  __m512d z = _mm512_mul_pd(a, a);
  __m512d p = _mm512_fmadd_pd(_mm512_fmadd_pd(ES__C8(ES__TP0), z, ES__C8(ES__TP1)), z,
                              ES__C8(ES__TP2));
  __m512d q = _mm512_fmadd_pd(_mm512_fmadd_pd(_mm512_add_pd(z, ES__C8(ES__TQ0)), z,
                                              ES__C8(ES__TQ1)), z, ES__C8(ES__TQ2));
  __m512d y = _mm512_max_pd(_mm512_mul_pd(ES__C8(-2.0), a), ES__C8(ES__YMIN));
  __m512d s = _mm512_fmadd_pd(y, ES__C8(ES__LOG2E), ES__C8(ES__SHIFT));
  __m512d kd = _mm512_sub_pd(s, ES__C8(ES__SHIFT));
  __m512d r = _mm512_fmadd_pd(kd, ES__C8(-ES__LN2HI), y);
  r = _mm512_fmadd_pd(kd, ES__C8(-ES__LN2LO), r);
  __m512d e = _mm512_fmadd_pd(ES__C8(ES__E9), r, ES__C8(ES__E8));
  e = _mm512_fmadd_pd(e, r, ES__C8(ES__E7));
  e = _mm512_fmadd_pd(e, r, ES__C8(ES__E6));
  e = _mm512_fmadd_pd(e, r, ES__C8(ES__E5));
  e = _mm512_fmadd_pd(e, r, ES__C8(ES__E4));
  e = _mm512_fmadd_pd(e, r, ES__C8(ES__E3));
  e = _mm512_fmadd_pd(e, r, ES__C8(ES__E2));
  e = _mm512_fmadd_pd(e, r, ES__C8(ES__E1));
  e = _mm512_fmadd_pd(e, r, ES__C8(ES__E0));
  e = _mm512_add_pd(_mm512_fmadd_pd(_mm512_mul_pd(r, r), e, r), ES__C8(1.0));
  __m512i kb = _mm512_add_epi64(
      _mm512_sub_epi64(_mm512_castpd_si512(s), _mm512_castpd_si512(ES__C8(ES__SHIFT))),
      _mm512_set1_epi64(2048));
  __m512i k1b = _mm512_srli_epi64(kb, 1);
  __m512d s1 = _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_sub_epi64(k1b, _mm512_set1_epi64(1)), 52));
  __m512d s2 = _mm512_castsi512_pd(_mm512_slli_epi64(
      _mm512_sub_epi64(_mm512_sub_epi64(kb, k1b), _mm512_set1_epi64(1)), 52));
  __m512d m = _mm512_mul_pd(_mm512_mul_pd(e, s1), s2);
  const __m512d one = ES__C8(1.0);
  __m512d num = _mm512_mask_blend_pd(small, _mm512_mul_pd(ES__C8(2.0), m), p);
  __m512d den = _mm512_mask_blend_pd(small, _mm512_add_pd(one, m), q);
  __m512d rq = _mm512_div_pd(num, den);
  __m512d ts = _mm512_fmadd_pd(_mm512_mul_pd(a, z), rq, a);
  __m512d tl = _mm512_sub_pd(one, rq);
  __m512d tt = _mm512_mask_blend_pd(small, tl, ts);
  __mmask8 nan = _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q);
  *t = _mm512_mask_blend_pd(nan, _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(tt), sign)), x);
  if (want_d) {
    __m512d ds = _mm512_fnmadd_pd(tt, tt, one);
    __m512d dl = _mm512_fmadd_pd(rq, tl, rq);
    *dt = _mm512_mask_blend_pd(nan, _mm512_mask_blend_pd(small, dl, ds), x);
  }
}

__attribute__((target("avx512f,fma"))) static void es__tanh_avx512(size_t n, const double *x,
                                                                    double *f, double *df) {
  size_t i = 0;
  __m512d t, d;
  if (df)
    for (; i + 8 <= n; i += 8) {
      es__tanh8(_mm512_loadu_pd(x + i), &t, &d, 1);
      _mm512_storeu_pd(f + i, t);
      _mm512_storeu_pd(df + i, d);
    }
  else
    for (; i + 8 <= n; i += 8) {
      es__tanh8(_mm512_loadu_pd(x + i), &t, &d, 0);
      _mm512_storeu_pd(f + i, t);
    }
  es__tanh_loop(n - i, x + i, f + i, df ? df + i : NULL); /* the same bits, with FMA */
}
#endif

/* ---- silu, sin/cos, erf and gelu, edgesweep's own, built like tanh: es__K1 is the algorithm on
 * one value (scalar; fma() where the vector code has FMA), es__K4 (AVX2) and es__K8 (AVX-512) the
 * same operations in the same order on 4 or 8 lanes; ES__DRIVERS_* make the array loops of
 * every path from them, so every path gives the same bits. ---- */

#define ES__SYMIN -800.0 /* silu: x e^x rounds to -0 below -752; 2^k halves stay normal */

/* e^y for y in [ES__SYMIN, 1] as e 2^k with 2^k = s1 s2 (both normal) and e = 1 + el: the
 * kernel of tanh, operation for operation, left unscaled so that callers scale a product
 * once; el is e - 1 without the rounding of the final + 1. */
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

/* silu(x) = x s(x), s = 1/(1 + e^-x), and silu' = s (1 + x (1 - s)), from m = e^{-|x|}:
 *   x >= 0: silu = x / (1 + m),        silu' = (1 + m + m x) / (1 + m)^2;
 *   x <  0: silu = x m / (1 + m),      silu' = m (1 + x + m) / (1 + m)^2.
 * No term cancels except 1 + x + m near the zero of silu' (x = -1.2785): there it is formed
 * as (1 + x + 2^k) + 2^k el, the first sum exact, so that only the polynomial's error is
 * left. For x < 0 the quotient is formed from e (m = e 2^k) and scaled by 2^k last, so tails
 * deep in the subnormals round once and silu(-inf) = -0, silu'(-inf) = -0. */
ES__INLINE void es__silu1(double x, double *f, double *df) {
  if (x != x) {
    *f = x;
    if (df) *df = x;
    return;
  }
  double y = -es__d(es__b(x) & ~ES__SIGN), e, el, s1, s2;
  if (y < ES__SYMIN) y = ES__SYMIN;
  es__exp1(y, &e, &el, &s1, &s2);
  double m = (e * s1) * s2, s12 = s1 * s2; /* s12 = 2^k, 0 below 2^-1074 */
  double den = fma(s12, e, 1.0);
  int neg = x < 0.0;
  double q = (neg ? fma(y, el, y) : x) / den; /* y e, rounded once */
  *f = neg ? (q * s1) * s2 : q;
  if (df) {
    double t = fma(s12, el, (1.0 + y) + s12);
    double dn = neg ? fma(el, t, t) : fma(m, -y, den);
    double dq = dn / fma(m, m + 2.0, 1.0); /* (1 + m)^2 without den's rounding */
    *df = neg ? (dq * s1) * s2 : dq;
  }
}

/* sin and cos (phi = sin, phi' = cos) for |x| <= ES__SINBIG: k = round(|x| 2/pi) and
 * r + y = |x| - k pi/2 to ~2^-106 relative (pi/2 = P1 + P2 + P3, Cody-Waite; |x| - k P1 is
 * exact with FMA, the k P2 step is an exact two-sum and two-product), then fdlibm's kernels
 * (k_sin.c, k_cos.c in musl's __sin/__cos form; Sun's notice at erf below) on [-pi/4, pi/4]
 * with the tail y, and the quadrant k mod 4 picks +-sin r or +-cos r. Beyond ES__SINBIG
 * (never a pre-activation) libm's sin and cos: those values' bits follow the C library. */
#define ES__SINBIG 0x1p20
#define ES__TWOOPI 0.6366197723675814
#define ES__P1 1.5707963267948966
#define ES__P2 6.123233995736766e-17
#define ES__P3 -1.4973849048591698e-33
#define ES__S1 -1.66666666666666324348e-01
#define ES__S2 8.33333333332248946124e-03
#define ES__S3 -1.98412698298579493134e-04
#define ES__S4 2.75573137070700676789e-06
#define ES__S5 -2.50507602534068634195e-08
#define ES__S6 1.58969099521155010221e-10
#define ES__C1 4.16666666666666019037e-02
#define ES__C2 -1.38888888888741095749e-03
#define ES__C3 2.48015872894767294178e-05
#define ES__C4 -2.75573143513906633035e-07
#define ES__C5 2.08757232129817482790e-09
#define ES__C6 -1.13596475577881948265e-11

static void es__sin_big(double x, double *s, double *c) {
  if (x != x) { /* NaN: itself */
    *s = *c = x;
  } else if (isinf(x)) {
    *s = *c = x - x; /* the default NaN of an invalid operation */
  } else {
    *s = sin(x);
    *c = cos(x);
  }
}

ES__INLINE void es__sin1(double x, double *f, double *df) {
  double a = es__d(es__b(x) & ~ES__SIGN);
  if (!(a <= ES__SINBIG)) {
    double c;
    es__sin_big(x, f, &c);
    if (df) *df = c;
    return;
  }
  uint64_t sign = es__b(x) & ES__SIGN;
  double sh = fma(a, ES__TWOOPI, ES__SHIFT);
  double k = sh - ES__SHIFT;
  double r1 = fma(-k, ES__P1, a); /* exact */
  double p = k * ES__P2;
  double pe = fma(k, ES__P2, -p); /* k P2 = p + pe */
  double hi = r1 - p;
  double bb = hi - r1;
  double er = (r1 - (hi - bb)) - (p + bb); /* r1 - p = hi + er */
  double lo = fma(-k, ES__P3, er - pe);
  double r = hi + lo;
  double y = (hi - r) + lo;
  double z = r * r, w = z * z, v = z * r;
  double ps = fma(fma(fma(fma(ES__S6, z, ES__S5), z, ES__S4), z, ES__S3), z, ES__S2);
  double sn = r - ((z * (0.5 * y - v * ps) - y) - v * ES__S1);
  double pc =
      fma(fma(fma(fma(fma(ES__C6, z, ES__C5), z, ES__C4), z, ES__C3), z, ES__C2), z, ES__C1);
  double hz = 0.5 * z, wc = 1.0 - hz;
  double cs = wc + (((1.0 - wc) - hz) + (w * pc - r * y));
  uint64_t q = es__b(sh);
  int swap = (int)(q & 1);
  *f = es__d(es__b(swap ? cs : sn) ^ ((q & 2) << 62) ^ sign);
  if (df) *df = es__d(es__b(swap ? sn : cs) ^ (((q + 1) & 2) << 62));
}

#define ES__DRIVERS_SCALAR(K)                                                      \
  static void es__##K##_scalar(size_t n, const double *x, double *f, double *df) { \
    for (size_t i = 0; i < n; i++) es__##K##1(x[i], &f[i], df ? &df[i] : NULL);    \
  }
/* ---- erf and gelu, edgesweep's own: fdlibm's erf/erfc (s_erf.c, the notice below) on
 * v >= 0 in four intervals j: v < 0.84375 (t = v^2), < 1.25 (t = v - 1), < 1/0.35 and beyond
 * (t = 1/v^2), each a rational P(t)/Q(t) whose coefficients the vector code picks per lane;
 * in the two tails erfc(v) = e^{-z^2-0.5625} e^{(z-v)(z+v)+P/Q} / v with z = v cut to 21 bits,
 * so that z^2 is exact and e^{-v^2} keeps its relative accuracy; both exponentials come from
 * the e^y kernel of tanh, and the 2^k of the first is applied last (subnormal tails round
 * once). gelu's v = |x|/sqrt(2) is carried as v + vl (double-double) into both exponentials
 * and, as erf'(v) vl, into the first two intervals, since erfc's condition number grows
 * like 2 v^2 and would amplify the rounding of |x|/sqrt(2) a hundredfold in the tails.
 *
 * The coefficients are fdlibm's (FreeBSD msun s_erf.c, k_sin.c and k_cos.c for sin/cos
 * above): Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved. Developed at
 * SunPro, a Sun Microsystems, Inc. business. Permission to use, copy, modify, and distribute
 * this software is freely granted, provided that this notice is preserved. ---- */
#define ES__ERX 8.45062911510467529297e-01 /* erf(1) rounded to 24 bits */
#define ES__ERFB0 0.84375
#define ES__ERFB1 1.25
#define ES__ERFB2 2.857142857142857 /* 1/0.35 */
#define ES__ERFVMAX 28.0            /* erfc(28) and e^{-28^2} are 0 in double */
#define ES__ISQ2 0.7071067811865476 /* 1/sqrt(2) = ES__ISQ2 + ES__ISQ2LO */
#define ES__ISQ2LO -4.833646656726457e-17

/* Coefficients by power (P0..P7 of P, Q1..Q8 of Q = 1 + t Q1 + ...) and interval j; the
 * missing high powers are zeros, which Horner's rule passes through exactly. */
static const double es__erfp[8][4] __attribute__((aligned(32))) = {
    {1.28379167095512558561e-01, -2.36211856075265944077e-03, -9.86494403484714822705e-03,
     -9.86494292470009928597e-03},
    {-3.25042107247001499370e-01, 4.14856118683748331666e-01, -6.93858572707181764372e-01,
     -7.99283237680523006574e-01},
    {-2.84817495755985104766e-02, -3.72207876035701323847e-01, -1.05586262253232909814e+01,
     -1.77579549177547519889e+01},
    {-5.77027029648944159157e-03, 3.18346619901161753674e-01, -6.23753324503260060396e+01,
     -1.60636384855821916062e+02},
    {-2.37630166566501626084e-05, -1.10894694282396677476e-01, -1.62396669462573470355e+02,
     -6.37566443368389627722e+02},
    {0.0, 3.54783043256182359371e-02, -1.84605092906711035994e+02, -1.02509513161107724954e+03},
    {0.0, -2.16637559486879084300e-03, -8.12874355063065934246e+01, -4.83519191608651397019e+02},
    {0.0, 0.0, -9.81432934416914548592e+00, 0.0}};
static const double es__erfq[8][4] __attribute__((aligned(32))) = {
    {3.97917223959155352819e-01, 1.06420880400844228286e-01, 1.96512716674392571292e+01,
     3.03380607434824582924e+01},
    {6.50222499887672944485e-02, 5.40397917702171048937e-01, 1.37657754143519042600e+02,
     3.25792512996573918826e+02},
    {5.08130628187576562776e-03, 7.18286544141962662868e-02, 4.34565877475229228821e+02,
     1.53672958608443695994e+03},
    {1.32494738004321644526e-04, 1.26171219808761642112e-01, 6.45387271733267880336e+02,
     3.19985821950859553908e+03},
    {-3.96022827877536812320e-06, 1.36370839120290507362e-02, 4.29008140027567833386e+02,
     2.55305040643316442583e+03},
    {0.0, 1.19844998467991074170e-02, 1.08635005541779435134e+02, 4.74528541206955367215e+02},
    {0.0, 0.0, 6.57024977031928170135e+00, -2.24409524465858183362e+01},
    {0.0, 0.0, -6.04244152148580987438e-02, 0.0}};

/* The interval-independent part for v in [0, ES__ERFVMAX], v + vl the argument:
 * y = P/Q; e^{-z^2-0.5625} = ea s1 s2 (unscaled); mb = e^{(z-v)(z+v) - 2 v vl + y} and, when
 * want_c, mc = K e^{0.5625} e^{c}, c = (z-v)(z+v) - 2 v vl, so that K e^{-(v+vl)^2} =
 * ea mc s1 s2: the caller's constant K e^{0.5625} = kh + kl rounds once with e^c - 1, a
 * Taylor polynomial (|c| < 2^-19 v^2 < 2^-9.3: degree 5 leaves < 2^-65). */
#define ES__ERFKH 1.9803671120279622 /* 2/sqrt(pi) e^{0.5625} = ES__ERFKH + ES__ERFKL */
#define ES__ERFKL -2.9284763397892536e-18
#define ES__GELUKH 0.7001655070768956 /* e^{0.5625}/sqrt(2 pi) = ES__GELUKH + ES__GELUKL */
#define ES__GELUKL 4.5507637394236764e-17
#define ES__SQRT8 2.8284271247461903
ES__INLINE void es__erf_core(double v, double vl, int want_c, double kh, double kl, int *j,
                             double *y, double *ea, double *s1, double *s2, double *mb,
                             double *mc) {
  int jj = (v >= ES__ERFB0) + (v >= ES__ERFB1) + (v >= ES__ERFB2);
  double t = jj == 0 ? v * v : jj == 1 ? v - 1.0 : 1.0 / (v * v);
  double p = es__erfp[7][jj], q = es__erfq[7][jj];
  for (int i = 6; i >= 0; i--) {
    p = fma(p, t, es__erfp[i][jj]);
    q = fma(q, t, es__erfq[i][jj]);
  }
  q = fma(q, t, 1.0);
  *j = jj;
  *y = p / q;
  double z = es__d(es__b(v) & 0xffffffff00000000ULL), el, e, b1, b2;
  double zz = (z - v) * (z + v), w = -2.0 * v;
  /* One value at a time, skip what this interval does not use (the vector code computes all
   * and selects: the bits of what is used are the same). */
  *ea = *s1 = *s2 = *mb = *mc = 0.0;
  if (jj >= 2 || want_c) es__exp1(fma(-z, z, -0.5625), ea, &el, s1, s2);
  if (jj >= 2) {
    es__exp1(fma(w, vl, *y) + zz, &e, &el, &b1, &b2);
    *mb = (e * b1) * b2;
  }
  if (want_c) {
    double c = fma(w, vl, zz);
    double p = fma(fma(fma(fma(1.0 / 120, c, 1.0 / 24), c, 1.0 / 6), c, 0.5), c, 1.0);
    *mc = fma(kh, c * p, kl) + kh;
  }
}

/* erf(x) = sign(x) erf(|x|) and erf'(x) = 2/sqrt(pi) e^{-x^2}; |x| >= 28 computes as 28
 * (erf = 1 and erf' = 0 there). */
ES__INLINE void es__erf1(double x, double *f, double *df) {
  if (x != x) {
    *f = x;
    if (df) *df = x;
    return;
  }
  uint64_t sign = es__b(x) & ES__SIGN;
  double a = es__d(es__b(x) & ~ES__SIGN);
  double v = a < ES__ERFVMAX ? a : ES__ERFVMAX, y, ea, s1, s2, mb, mc;
  int j;
  es__erf_core(v, 0.0, df != NULL, ES__ERFKH, ES__ERFKL, &j, &y, &ea, &s1, &s2, &mb, &mc);
  double r = j == 0 ? fma(v, y, v) : j == 1 ? ES__ERX + y : 1.0 - (((ea * mb) / v) * s1) * s2;
  *f = es__d(es__b(r) | sign);
  if (df) *df = ((ea * mc) * s1) * s2;
}

/* gelu(x) = x Phi(x), Phi(x) = 1 - h for x >= 0 and h for x < 0, h = erfc(v)/2,
 * v = |x|/sqrt(2); gelu' = Phi + x phi(x), phi(x) = e^{-v^2}/sqrt(2 pi). In the tails
 * (v >= 1.25) x h = -e^{-v^2...}/sqrt(2) (the 1/v of erfc cancels |x|), so gelu is formed
 * without a division and scaled by 2^k last, as is gelu' = 2^k ea (mb/(2v) - |x| mc/sqrt(2 pi))
 * for x < 0. |x| > 39.5 computes as 39.5, where gelu and gelu' have underflowed to -0 (x < 0)
 * or are x and 1. */
#define ES__GAMAX 39.5
ES__INLINE void es__gelu1(double x, double *f, double *df) {
  if (x != x) {
    *f = x;
    if (df) *df = x;
    return;
  }
  double a = es__d(es__b(x) & ~ES__SIGN);
  double ac = a < ES__GAMAX ? a : ES__GAMAX, y, ea, s1, s2, mb, mc;
  double v = ac * ES__ISQ2;
  double vl = fma(ac, ES__ISQ2, -v) + ac * ES__ISQ2LO;
  int j, neg = (es__b(x) & ES__SIGN) != 0; /* -0 too: gelu(-0) = -0 */
  es__erf_core(v, vl, 1, ES__GELUKH, ES__GELUKL, &j, &y, &ea, &s1, &s2, &mb, &mc);
  double phi = ((ea * mc) * s1) * s2;
  double delta = vl * (ES__SQRT8 * phi); /* erf'(v) vl */
  double h;
  if (j == 0)
    h = 0.5 * (0.5 - (fma(v, y, v - 0.5) + delta));
  else if (j == 1)
    h = 0.5 * (((1.0 - ES__ERX) - y) - delta);
  else
    h = ((0.5 * ((ea * mb) / v)) * s1) * s2;
  if (j < 2)
    *f = neg ? x * h : fma(-x, h, x);
  else {
    double g = ((ES__ISQ2 * (ea * mb)) * s1) * s2;
    *f = neg ? -g : x - g;
  }
  if (df) {
    if (!neg)
      *df = fma(ac, phi, 1.0 - h);
    else if (j < 2)
      *df = fma(-ac, phi, h);
    else
      *df = ((ea * fma(-ac, mc, (0.5 * mb) / v)) * s1) * s2;
  }
}

ES__DRIVERS_SCALAR(silu)
ES__DRIVERS_SCALAR(sin)
ES__DRIVERS_SCALAR(erf)
ES__DRIVERS_SCALAR(gelu)

#if ES__X86
/* The tails of the vector loops and the fma scalar entries: es__K1 compiled with FMA. */
#define ES__DRIVERS_X86(K)                                                                       \
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
  __attribute__((target("avx2,fma"))) static void es__##K##_avx2(size_t n, const double *x,      \
                                                                 double *f, double *df) {        \
    size_t i = 0;                                                                                \
    __m256d v, d;                                                                                \
    if (df)                                                                                      \
      for (; i + 4 <= n; i += 4) {                                                               \
        es__##K##4(_mm256_loadu_pd(x + i), &v, &d, 1);                                           \
        _mm256_storeu_pd(f + i, v);                                                              \
        _mm256_storeu_pd(df + i, d);                                                             \
      }                                                                                          \
    else                                                                                         \
      for (; i + 4 <= n; i += 4) {                                                               \
        es__##K##4(_mm256_loadu_pd(x + i), &v, &d, 0);                                           \
        _mm256_storeu_pd(f + i, v);                                                              \
      }                                                                                          \
    for (; i < n; i++) es__##K##1(x[i], &f[i], df ? &df[i] : NULL);                              \
  }                                                                                              \
  __attribute__((target("avx512f,fma"))) static void es__##K##_avx512(size_t n, const double *x, \
                                                                      double *f, double *df) {   \
    size_t i = 0;                                                                                \
    __m512d v, d;                                                                                \
    if (df)                                                                                      \
      for (; i + 8 <= n; i += 8) {                                                               \
        es__##K##8(_mm512_loadu_pd(x + i), &v, &d, 1);                                           \
        _mm512_storeu_pd(f + i, v);                                                              \
        _mm512_storeu_pd(df + i, d);                                                             \
      }                                                                                          \
    else                                                                                         \
      for (; i + 8 <= n; i += 8) {                                                               \
        es__##K##8(_mm512_loadu_pd(x + i), &v, &d, 0);                                           \
        _mm512_storeu_pd(f + i, v);                                                              \
      }                                                                                          \
    for (; i < n; i++) es__##K##1(x[i], &f[i], df ? &df[i] : NULL);                              \
  }

/* es__exp1 on 4 and 8 lanes. */
ES__AVX2 void es__exp4(__m256d y, __m256d *e, __m256d *el, __m256d *s1, __m256d *s2) {
  __m256d s = _mm256_fmadd_pd(y, ES__C(ES__LOG2E), ES__C(ES__SHIFT));
  __m256d kd = _mm256_sub_pd(s, ES__C(ES__SHIFT));
  __m256d r = _mm256_fmadd_pd(kd, ES__C(-ES__LN2HI), y);
  r = _mm256_fmadd_pd(kd, ES__C(-ES__LN2LO), r);
  __m256d p = _mm256_fmadd_pd(ES__C(ES__E9), r, ES__C(ES__E8));
  p = _mm256_fmadd_pd(p, r, ES__C(ES__E7));
  p = _mm256_fmadd_pd(p, r, ES__C(ES__E6));
  p = _mm256_fmadd_pd(p, r, ES__C(ES__E5));
  p = _mm256_fmadd_pd(p, r, ES__C(ES__E4));
  p = _mm256_fmadd_pd(p, r, ES__C(ES__E3));
  p = _mm256_fmadd_pd(p, r, ES__C(ES__E2));
  p = _mm256_fmadd_pd(p, r, ES__C(ES__E1));
  p = _mm256_fmadd_pd(p, r, ES__C(ES__E0));
  *el = _mm256_fmadd_pd(_mm256_mul_pd(r, r), p, r);
  *e = _mm256_add_pd(*el, ES__C(1.0));
  __m256i kb = _mm256_add_epi64(
      _mm256_sub_epi64(_mm256_castpd_si256(s), _mm256_castpd_si256(ES__C(ES__SHIFT))),
      _mm256_set1_epi64x(2048));
  __m256i k1b = _mm256_srli_epi64(kb, 1);
  *s1 = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_sub_epi64(k1b, _mm256_set1_epi64x(1)), 52));
  *s2 = _mm256_castsi256_pd(
      _mm256_slli_epi64(_mm256_sub_epi64(_mm256_sub_epi64(kb, k1b), _mm256_set1_epi64x(1)), 52));
}

ES__AVX512 void es__exp8(__m512d y, __m512d *e, __m512d *el, __m512d *s1, __m512d *s2) {
  __m512d s = _mm512_fmadd_pd(y, ES__C8(ES__LOG2E), ES__C8(ES__SHIFT));
  __m512d kd = _mm512_sub_pd(s, ES__C8(ES__SHIFT));
  __m512d r = _mm512_fmadd_pd(kd, ES__C8(-ES__LN2HI), y);
  r = _mm512_fmadd_pd(kd, ES__C8(-ES__LN2LO), r);
  __m512d p = _mm512_fmadd_pd(ES__C8(ES__E9), r, ES__C8(ES__E8));
  p = _mm512_fmadd_pd(p, r, ES__C8(ES__E7));
  p = _mm512_fmadd_pd(p, r, ES__C8(ES__E6));
  p = _mm512_fmadd_pd(p, r, ES__C8(ES__E5));
  p = _mm512_fmadd_pd(p, r, ES__C8(ES__E4));
  p = _mm512_fmadd_pd(p, r, ES__C8(ES__E3));
  p = _mm512_fmadd_pd(p, r, ES__C8(ES__E2));
  p = _mm512_fmadd_pd(p, r, ES__C8(ES__E1));
  p = _mm512_fmadd_pd(p, r, ES__C8(ES__E0));
  *el = _mm512_fmadd_pd(_mm512_mul_pd(r, r), p, r);
  *e = _mm512_add_pd(*el, ES__C8(1.0));
  __m512i kb = _mm512_add_epi64(
      _mm512_sub_epi64(_mm512_castpd_si512(s), _mm512_castpd_si512(ES__C8(ES__SHIFT))),
      _mm512_set1_epi64(2048));
  __m512i k1b = _mm512_srli_epi64(kb, 1);
  *s1 = _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_sub_epi64(k1b, _mm512_set1_epi64(1)), 52));
  *s2 = _mm512_castsi512_pd(
      _mm512_slli_epi64(_mm512_sub_epi64(_mm512_sub_epi64(kb, k1b), _mm512_set1_epi64(1)), 52));
}

/* 4 lanes of es__silu1: both branches, then the select. */
ES__AVX2 void es__silu4(__m256d x, __m256d *f, __m256d *df, int want_d) {
  const __m256d sgn = _mm256_castsi256_pd(_mm256_set1_epi64x((long long)ES__SIGN));
  __m256d y = _mm256_max_pd(_mm256_or_pd(x, sgn), ES__C(ES__SYMIN)), e, el, s1, s2;
  es__exp4(y, &e, &el, &s1, &s2);
  __m256d m = _mm256_mul_pd(_mm256_mul_pd(e, s1), s2), s12 = _mm256_mul_pd(s1, s2);
  __m256d den = _mm256_fmadd_pd(s12, e, ES__C(1.0));
  __m256d neg = _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_LT_OQ);
  __m256d nan = _mm256_cmp_pd(x, x, _CMP_UNORD_Q);
  __m256d q = _mm256_div_pd(_mm256_blendv_pd(x, _mm256_fmadd_pd(y, el, y), neg), den);
  q = _mm256_blendv_pd(q, _mm256_mul_pd(_mm256_mul_pd(q, s1), s2), neg);
  *f = _mm256_blendv_pd(q, x, nan);
  if (want_d) {
    __m256d t = _mm256_fmadd_pd(s12, el, _mm256_add_pd(_mm256_add_pd(ES__C(1.0), y), s12));
    __m256d dn = _mm256_blendv_pd(_mm256_fmadd_pd(m, _mm256_sub_pd(_mm256_setzero_pd(), y), den),
                                  _mm256_fmadd_pd(el, t, t), neg);
    __m256d dq = _mm256_div_pd(dn, _mm256_fmadd_pd(m, _mm256_add_pd(m, ES__C(2.0)), ES__C(1.0)));
    dq = _mm256_blendv_pd(dq, _mm256_mul_pd(_mm256_mul_pd(dq, s1), s2), neg);
    *df = _mm256_blendv_pd(dq, x, nan);
  }
}

ES__AVX512 void es__silu8(__m512d x, __m512d *f, __m512d *df, int want_d) {
  const __m512i sgn = _mm512_set1_epi64((long long)ES__SIGN);
  __m512d y = _mm512_max_pd(_mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(x), sgn)),
                            ES__C8(ES__SYMIN)),
          e, el, s1, s2;
  es__exp8(y, &e, &el, &s1, &s2);
  __m512d m = _mm512_mul_pd(_mm512_mul_pd(e, s1), s2), s12 = _mm512_mul_pd(s1, s2);
  __m512d den = _mm512_fmadd_pd(s12, e, ES__C8(1.0));
  __mmask8 neg = _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_LT_OQ);
  __mmask8 nan = _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q);
  __m512d q = _mm512_div_pd(_mm512_mask_blend_pd(neg, x, _mm512_fmadd_pd(y, el, y)), den);
  q = _mm512_mask_blend_pd(neg, q, _mm512_mul_pd(_mm512_mul_pd(q, s1), s2));
  *f = _mm512_mask_blend_pd(nan, q, x);
  if (want_d) {
    __m512d t = _mm512_fmadd_pd(s12, el, _mm512_add_pd(_mm512_add_pd(ES__C8(1.0), y), s12));
    __m512d dn =
        _mm512_mask_blend_pd(neg, _mm512_fmadd_pd(m, _mm512_sub_pd(_mm512_setzero_pd(), y), den),
                             _mm512_fmadd_pd(el, t, t));
    __m512d dq = _mm512_div_pd(dn, _mm512_fmadd_pd(m, _mm512_add_pd(m, ES__C8(2.0)), ES__C8(1.0)));
    dq = _mm512_mask_blend_pd(neg, dq, _mm512_mul_pd(_mm512_mul_pd(dq, s1), s2));
    *df = _mm512_mask_blend_pd(nan, dq, x);
  }
}
ES__DRIVERS_X86(silu)

/* 4 lanes of es__sin1; lanes beyond ES__SINBIG (and NaN, inf) are redone by es__sin_big. */
ES__AVX2 void es__sin4(__m256d x, __m256d *f, __m256d *df, int want_d) {
  const __m256i sgn = _mm256_set1_epi64x((long long)ES__SIGN);
  __m256d a = _mm256_andnot_pd(_mm256_castsi256_pd(sgn), x);
  __m256i sign = _mm256_and_si256(_mm256_castpd_si256(x), sgn);
  __m256d sh = _mm256_fmadd_pd(a, ES__C(ES__TWOOPI), ES__C(ES__SHIFT));
  __m256d k = _mm256_sub_pd(sh, ES__C(ES__SHIFT));
  __m256d r1 = _mm256_fnmadd_pd(k, ES__C(ES__P1), a);
  __m256d p = _mm256_mul_pd(k, ES__C(ES__P2));
  __m256d pe = _mm256_fmsub_pd(k, ES__C(ES__P2), p);
  __m256d hi = _mm256_sub_pd(r1, p);
  __m256d bb = _mm256_sub_pd(hi, r1);
  __m256d er = _mm256_sub_pd(_mm256_sub_pd(r1, _mm256_sub_pd(hi, bb)), _mm256_add_pd(p, bb));
  __m256d lo = _mm256_fnmadd_pd(k, ES__C(ES__P3), _mm256_sub_pd(er, pe));
  __m256d r = _mm256_add_pd(hi, lo);
  __m256d y = _mm256_add_pd(_mm256_sub_pd(hi, r), lo);
  __m256d z = _mm256_mul_pd(r, r), w = _mm256_mul_pd(z, z), v = _mm256_mul_pd(z, r);
  __m256d ps = _mm256_fmadd_pd(ES__C(ES__S6), z, ES__C(ES__S5));
  ps = _mm256_fmadd_pd(ps, z, ES__C(ES__S4));
  ps = _mm256_fmadd_pd(ps, z, ES__C(ES__S3));
  ps = _mm256_fmadd_pd(ps, z, ES__C(ES__S2));
  __m256d sn = _mm256_sub_pd(
      r, _mm256_sub_pd(_mm256_sub_pd(_mm256_mul_pd(z, _mm256_sub_pd(_mm256_mul_pd(ES__C(0.5), y),
                                                                    _mm256_mul_pd(v, ps))),
                                     y),
                       _mm256_mul_pd(v, ES__C(ES__S1))));
  __m256d pc = _mm256_fmadd_pd(ES__C(ES__C6), z, ES__C(ES__C5));
  pc = _mm256_fmadd_pd(pc, z, ES__C(ES__C4));
  pc = _mm256_fmadd_pd(pc, z, ES__C(ES__C3));
  pc = _mm256_fmadd_pd(pc, z, ES__C(ES__C2));
  pc = _mm256_fmadd_pd(pc, z, ES__C(ES__C1));
  __m256d hz = _mm256_mul_pd(ES__C(0.5), z), wc = _mm256_sub_pd(ES__C(1.0), hz);
  __m256d cs =
      _mm256_add_pd(wc, _mm256_add_pd(_mm256_sub_pd(_mm256_sub_pd(ES__C(1.0), wc), hz),
                                      _mm256_sub_pd(_mm256_mul_pd(w, pc), _mm256_mul_pd(r, y))));
  __m256i q = _mm256_castpd_si256(sh);
  __m256d swap = _mm256_castsi256_pd(_mm256_slli_epi64(q, 63)); /* bit 0 to the sign bit */
  __m256i sflip = _mm256_slli_epi64(_mm256_and_si256(q, _mm256_set1_epi64x(2)), 62);
  __m256i cflip = _mm256_slli_epi64(
      _mm256_and_si256(_mm256_add_epi64(q, _mm256_set1_epi64x(1)), _mm256_set1_epi64x(2)), 62);
  __m256i sv = _mm256_castpd_si256(_mm256_blendv_pd(sn, cs, swap));
  *f = _mm256_castsi256_pd(_mm256_xor_si256(_mm256_xor_si256(sv, sflip), sign));
  if (want_d) {
    __m256i cv = _mm256_castpd_si256(_mm256_blendv_pd(cs, sn, swap));
    *df = _mm256_castsi256_pd(_mm256_xor_si256(cv, cflip));
  }
  __m256d big = _mm256_cmp_pd(a, ES__C(ES__SINBIG), _CMP_NLE_UQ);
  if (_mm256_movemask_pd(big)) {
    double xv[4], fv[4], dv[4];
    _mm256_storeu_pd(xv, x);
    _mm256_storeu_pd(fv, *f);
    if (want_d) _mm256_storeu_pd(dv, *df);
    for (int l = 0; l < 4; l++)
      if (!(fabs(xv[l]) <= ES__SINBIG)) es__sin_big(xv[l], &fv[l], &dv[l]);
    *f = _mm256_loadu_pd(fv);
    if (want_d) *df = _mm256_loadu_pd(dv);
  }
}

ES__AVX512 void es__sin8(__m512d x, __m512d *f, __m512d *df, int want_d) {
  const __m512i sgn = _mm512_set1_epi64((long long)ES__SIGN);
  const __m512i xi = _mm512_castpd_si512(x);
  __m512d a = _mm512_castsi512_pd(_mm512_andnot_si512(sgn, xi));
  __m512i sign = _mm512_and_si512(sgn, xi);
  __m512d sh = _mm512_fmadd_pd(a, ES__C8(ES__TWOOPI), ES__C8(ES__SHIFT));
  __m512d k = _mm512_sub_pd(sh, ES__C8(ES__SHIFT));
  __m512d r1 = _mm512_fnmadd_pd(k, ES__C8(ES__P1), a);
  __m512d p = _mm512_mul_pd(k, ES__C8(ES__P2));
  __m512d pe = _mm512_fmsub_pd(k, ES__C8(ES__P2), p);
  __m512d hi = _mm512_sub_pd(r1, p);
  __m512d bb = _mm512_sub_pd(hi, r1);
  __m512d er = _mm512_sub_pd(_mm512_sub_pd(r1, _mm512_sub_pd(hi, bb)), _mm512_add_pd(p, bb));
  __m512d lo = _mm512_fnmadd_pd(k, ES__C8(ES__P3), _mm512_sub_pd(er, pe));
  __m512d r = _mm512_add_pd(hi, lo);
  __m512d y = _mm512_add_pd(_mm512_sub_pd(hi, r), lo);
  __m512d z = _mm512_mul_pd(r, r), w = _mm512_mul_pd(z, z), v = _mm512_mul_pd(z, r);
  __m512d ps = _mm512_fmadd_pd(ES__C8(ES__S6), z, ES__C8(ES__S5));
  ps = _mm512_fmadd_pd(ps, z, ES__C8(ES__S4));
  ps = _mm512_fmadd_pd(ps, z, ES__C8(ES__S3));
  ps = _mm512_fmadd_pd(ps, z, ES__C8(ES__S2));
  __m512d sn = _mm512_sub_pd(
      r, _mm512_sub_pd(_mm512_sub_pd(_mm512_mul_pd(z, _mm512_sub_pd(_mm512_mul_pd(ES__C8(0.5), y),
                                                                    _mm512_mul_pd(v, ps))),
                                     y),
                       _mm512_mul_pd(v, ES__C8(ES__S1))));
  __m512d pc = _mm512_fmadd_pd(ES__C8(ES__C6), z, ES__C8(ES__C5));
  pc = _mm512_fmadd_pd(pc, z, ES__C8(ES__C4));
  pc = _mm512_fmadd_pd(pc, z, ES__C8(ES__C3));
  pc = _mm512_fmadd_pd(pc, z, ES__C8(ES__C2));
  pc = _mm512_fmadd_pd(pc, z, ES__C8(ES__C1));
  __m512d hz = _mm512_mul_pd(ES__C8(0.5), z), wc = _mm512_sub_pd(ES__C8(1.0), hz);
  __m512d cs =
      _mm512_add_pd(wc, _mm512_add_pd(_mm512_sub_pd(_mm512_sub_pd(ES__C8(1.0), wc), hz),
                                      _mm512_sub_pd(_mm512_mul_pd(w, pc), _mm512_mul_pd(r, y))));
  __m512i q = _mm512_castpd_si512(sh);
  __mmask8 swap = _mm512_test_epi64_mask(q, _mm512_set1_epi64(1));
  __m512i sflip = _mm512_slli_epi64(_mm512_and_si512(q, _mm512_set1_epi64(2)), 62);
  __m512i cflip = _mm512_slli_epi64(
      _mm512_and_si512(_mm512_add_epi64(q, _mm512_set1_epi64(1)), _mm512_set1_epi64(2)), 62);
  __m512i sv = _mm512_castpd_si512(_mm512_mask_blend_pd(swap, sn, cs));
  *f = _mm512_castsi512_pd(_mm512_xor_si512(_mm512_xor_si512(sv, sflip), sign));
  if (want_d) {
    __m512i cv = _mm512_castpd_si512(_mm512_mask_blend_pd(swap, cs, sn));
    *df = _mm512_castsi512_pd(_mm512_xor_si512(cv, cflip));
  }
  __mmask8 big = _mm512_cmp_pd_mask(a, ES__C8(ES__SINBIG), _CMP_NLE_UQ);
  if (big) {
    double xv[8], fv[8], dv[8];
    _mm512_storeu_pd(xv, x);
    _mm512_storeu_pd(fv, *f);
    if (want_d) _mm512_storeu_pd(dv, *df);
    for (int l = 0; l < 8; l++)
      if (big >> l & 1) es__sin_big(xv[l], &fv[l], &dv[l]);
    *f = _mm512_loadu_pd(fv);
    if (want_d) *df = _mm512_loadu_pd(dv);
  }
}
ES__DRIVERS_X86(sin)

/* es__erf_core on 4 lanes: the coefficients of each lane's interval by blends. */
ES__AVX2 void es__erf_core4(__m256d v, __m256d vl, int want_c, double kh, double kl, __m256d m[3],
                            __m256d *y, __m256d *ea, __m256d *s1, __m256d *s2, __m256d *mb,
                            __m256d *mc) {
  m[0] = _mm256_cmp_pd(v, ES__C(ES__ERFB0), _CMP_GE_OQ);
  m[1] = _mm256_cmp_pd(v, ES__C(ES__ERFB1), _CMP_GE_OQ);
  m[2] = _mm256_cmp_pd(v, ES__C(ES__ERFB2), _CMP_GE_OQ);
  __m256d vv = _mm256_mul_pd(v, v);
  __m256d t = _mm256_blendv_pd(vv, _mm256_sub_pd(v, ES__C(1.0)), m[0]);
  t = _mm256_blendv_pd(t, _mm256_div_pd(ES__C(1.0), vv), m[1]);
#define ES__PICK4(T, I)                                                                     \
  _mm256_blendv_pd(_mm256_blendv_pd(_mm256_blendv_pd(ES__C(T[I][0]), ES__C(T[I][1]), m[0]), \
                                    ES__C(T[I][2]), m[1]),                                  \
                   ES__C(T[I][3]), m[2])
  __m256d p = ES__PICK4(es__erfp, 7), q = ES__PICK4(es__erfq, 7);
  for (int i = 6; i >= 0; i--) {
    p = _mm256_fmadd_pd(p, t, ES__PICK4(es__erfp, i));
    q = _mm256_fmadd_pd(q, t, ES__PICK4(es__erfq, i));
  }
#undef ES__PICK4
  q = _mm256_fmadd_pd(q, t, ES__C(1.0));
  *y = _mm256_div_pd(p, q);
  __m256d z =
      _mm256_and_pd(v, _mm256_castsi256_pd(_mm256_set1_epi64x((long long)0xffffffff00000000ULL)));
  __m256d zz = _mm256_mul_pd(_mm256_sub_pd(z, v), _mm256_add_pd(z, v));
  __m256d w = _mm256_mul_pd(ES__C(-2.0), v), el, e, b1, b2;
  es__exp4(_mm256_fnmadd_pd(z, z, ES__C(-0.5625)), ea, &el, s1, s2);
  es__exp4(_mm256_add_pd(_mm256_fmadd_pd(w, vl, *y), zz), &e, &el, &b1, &b2);
  *mb = _mm256_mul_pd(_mm256_mul_pd(e, b1), b2);
  if (want_c) {
    __m256d c = _mm256_fmadd_pd(w, vl, zz);
    __m256d p = _mm256_fmadd_pd(ES__C(1.0 / 120), c, ES__C(1.0 / 24));
    p = _mm256_fmadd_pd(p, c, ES__C(1.0 / 6));
    p = _mm256_fmadd_pd(p, c, ES__C(0.5));
    p = _mm256_fmadd_pd(p, c, ES__C(1.0));
    *mc = _mm256_add_pd(_mm256_fmadd_pd(ES__C(kh), _mm256_mul_pd(c, p), ES__C(kl)), ES__C(kh));
  }
}

/* es__erf_core on 8 lanes: the coefficients of each lane's interval by one permute. */
ES__AVX512 void es__erf_core8(__m512d v, __m512d vl, int want_c, double kh, double kl,
                              __mmask8 m[3], __m512d *y, __m512d *ea, __m512d *s1, __m512d *s2,
                              __m512d *mb, __m512d *mc) {
  m[0] = _mm512_cmp_pd_mask(v, ES__C8(ES__ERFB0), _CMP_GE_OQ);
  m[1] = _mm512_cmp_pd_mask(v, ES__C8(ES__ERFB1), _CMP_GE_OQ);
  m[2] = _mm512_cmp_pd_mask(v, ES__C8(ES__ERFB2), _CMP_GE_OQ);
  const __m512i one = _mm512_set1_epi64(1);
  __m512i jv = _mm512_add_epi64(
      _mm512_add_epi64(_mm512_maskz_mov_epi64(m[0], one), _mm512_maskz_mov_epi64(m[1], one)),
      _mm512_maskz_mov_epi64(m[2], one));
  __m512d vv = _mm512_mul_pd(v, v);
  __m512d t = _mm512_mask_blend_pd(m[0], vv, _mm512_sub_pd(v, ES__C8(1.0)));
  t = _mm512_mask_blend_pd(m[1], t, _mm512_div_pd(ES__C8(1.0), vv));
#define ES__PICK8(T, I) _mm512_permutexvar_pd(jv, _mm512_castpd256_pd512(_mm256_load_pd(T[I])))
  __m512d p = ES__PICK8(es__erfp, 7), q = ES__PICK8(es__erfq, 7);
  for (int i = 6; i >= 0; i--) {
    p = _mm512_fmadd_pd(p, t, ES__PICK8(es__erfp, i));
    q = _mm512_fmadd_pd(q, t, ES__PICK8(es__erfq, i));
  }
#undef ES__PICK8
  q = _mm512_fmadd_pd(q, t, ES__C8(1.0));
  *y = _mm512_div_pd(p, q);
  __m512d z = _mm512_castsi512_pd(_mm512_and_si512(
      _mm512_castpd_si512(v), _mm512_set1_epi64((long long)0xffffffff00000000ULL)));
  __m512d zz = _mm512_mul_pd(_mm512_sub_pd(z, v), _mm512_add_pd(z, v));
  __m512d w = _mm512_mul_pd(ES__C8(-2.0), v), el, e, b1, b2;
  es__exp8(_mm512_fnmadd_pd(z, z, ES__C8(-0.5625)), ea, &el, s1, s2);
  es__exp8(_mm512_add_pd(_mm512_fmadd_pd(w, vl, *y), zz), &e, &el, &b1, &b2);
  *mb = _mm512_mul_pd(_mm512_mul_pd(e, b1), b2);
  if (want_c) {
    __m512d c = _mm512_fmadd_pd(w, vl, zz);
    __m512d p = _mm512_fmadd_pd(ES__C8(1.0 / 120), c, ES__C8(1.0 / 24));
    p = _mm512_fmadd_pd(p, c, ES__C8(1.0 / 6));
    p = _mm512_fmadd_pd(p, c, ES__C8(0.5));
    p = _mm512_fmadd_pd(p, c, ES__C8(1.0));
    *mc = _mm512_add_pd(_mm512_fmadd_pd(ES__C8(kh), _mm512_mul_pd(c, p), ES__C8(kl)), ES__C8(kh));
  }
}

ES__AVX2 void es__erf4(__m256d x, __m256d *f, __m256d *df, int want_d) {
  const __m256d sgn = _mm256_castsi256_pd(_mm256_set1_epi64x((long long)ES__SIGN));
  __m256d a = _mm256_andnot_pd(sgn, x), sign = _mm256_and_pd(sgn, x);
  __m256d v = _mm256_min_pd(a, ES__C(ES__ERFVMAX)), m[3], y, ea, s1, s2, mb, mc;
  es__erf_core4(v, _mm256_setzero_pd(), want_d, ES__ERFKH, ES__ERFKL, m, &y, &ea, &s1, &s2, &mb,
                &mc);
  __m256d r = _mm256_sub_pd(
      ES__C(1.0), _mm256_mul_pd(_mm256_mul_pd(_mm256_div_pd(_mm256_mul_pd(ea, mb), v), s1), s2));
  r = _mm256_blendv_pd(_mm256_add_pd(ES__C(ES__ERX), y), r, m[1]);
  r = _mm256_blendv_pd(_mm256_fmadd_pd(v, y, v), r, m[0]);
  __m256d nan = _mm256_cmp_pd(x, x, _CMP_UNORD_Q);
  *f = _mm256_blendv_pd(_mm256_or_pd(r, sign), x, nan);
  if (want_d) {
    __m256d d = _mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(ea, mc), s1), s2);
    *df = _mm256_blendv_pd(d, x, nan);
  }
}

ES__AVX512 void es__erf8(__m512d x, __m512d *f, __m512d *df, int want_d) {
  const __m512i sgn = _mm512_set1_epi64((long long)ES__SIGN);
  const __m512i xi = _mm512_castpd_si512(x);
  __m512d a = _mm512_castsi512_pd(_mm512_andnot_si512(sgn, xi));
  __m512i sign = _mm512_and_si512(sgn, xi);
  __m512d v = _mm512_min_pd(a, ES__C8(ES__ERFVMAX)), y, ea, s1, s2, mb, mc;
  __mmask8 m[3];
  es__erf_core8(v, _mm512_setzero_pd(), want_d, ES__ERFKH, ES__ERFKL, m, &y, &ea, &s1, &s2, &mb,
                &mc);
  __m512d r = _mm512_sub_pd(
      ES__C8(1.0), _mm512_mul_pd(_mm512_mul_pd(_mm512_div_pd(_mm512_mul_pd(ea, mb), v), s1), s2));
  r = _mm512_mask_blend_pd(m[1], _mm512_add_pd(ES__C8(ES__ERX), y), r);
  r = _mm512_mask_blend_pd(m[0], _mm512_fmadd_pd(v, y, v), r);
  __mmask8 nan = _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q);
  *f = _mm512_mask_blend_pd(nan, _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(r), sign)),
                            x);
  if (want_d) {
    __m512d d = _mm512_mul_pd(_mm512_mul_pd(_mm512_mul_pd(ea, mc), s1), s2);
    *df = _mm512_mask_blend_pd(nan, d, x);
  }
}
ES__DRIVERS_X86(erf)

ES__AVX2 void es__gelu4(__m256d x, __m256d *f, __m256d *df, int want_d) {
  const __m256d sgn = _mm256_castsi256_pd(_mm256_set1_epi64x((long long)ES__SIGN));
  __m256d a = _mm256_andnot_pd(sgn, x);
  __m256d ac = _mm256_min_pd(a, ES__C(ES__GAMAX)), m[3], y, ea, s1, s2, mb, mc;
  __m256d v = _mm256_mul_pd(ac, ES__C(ES__ISQ2));
  __m256d vl =
      _mm256_add_pd(_mm256_fmsub_pd(ac, ES__C(ES__ISQ2), v), _mm256_mul_pd(ac, ES__C(ES__ISQ2LO)));
  es__erf_core4(v, vl, 1, ES__GELUKH, ES__GELUKL, m, &y, &ea, &s1, &s2, &mb, &mc);
  __m256d phi = _mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(ea, mc), s1), s2);
  __m256d delta = _mm256_mul_pd(vl, _mm256_mul_pd(ES__C(ES__SQRT8), phi));
  __m256d h0 = _mm256_mul_pd(
      ES__C(0.5),
      _mm256_sub_pd(ES__C(0.5),
                    _mm256_add_pd(_mm256_fmadd_pd(v, y, _mm256_sub_pd(v, ES__C(0.5))), delta)));
  __m256d h1 =
      _mm256_mul_pd(ES__C(0.5), _mm256_sub_pd(_mm256_sub_pd(ES__C(1.0 - ES__ERX), y), delta));
  __m256d eamb = _mm256_mul_pd(ea, mb);
  __m256d h2 =
      _mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(ES__C(0.5), _mm256_div_pd(eamb, v)), s1), s2);
  __m256d h = _mm256_blendv_pd(_mm256_blendv_pd(h0, h1, m[0]), h2, m[1]);
  __m256d fm = _mm256_blendv_pd(_mm256_fnmadd_pd(x, h, x), _mm256_mul_pd(x, h), x);
  __m256d g = _mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(ES__C(ES__ISQ2), eamb), s1), s2);
  __m256d ft = _mm256_blendv_pd(_mm256_sub_pd(x, g), _mm256_xor_pd(g, sgn), x);
  __m256d nan = _mm256_cmp_pd(x, x, _CMP_UNORD_Q);
  *f = _mm256_blendv_pd(_mm256_blendv_pd(fm, ft, m[1]), x, nan);
  if (want_d) {
    __m256d dp = _mm256_fmadd_pd(ac, phi, _mm256_sub_pd(ES__C(1.0), h));
    __m256d dm = _mm256_fnmadd_pd(ac, phi, h);
    __m256d dt = _mm256_mul_pd(
        _mm256_mul_pd(
            _mm256_mul_pd(
                ea, _mm256_fnmadd_pd(ac, mc, _mm256_div_pd(_mm256_mul_pd(ES__C(0.5), mb), v))),
            s1),
        s2);
    __m256d dn = _mm256_blendv_pd(dm, dt, m[1]);
    *df = _mm256_blendv_pd(_mm256_blendv_pd(dp, dn, x), x, nan);
  }
}

ES__AVX512 void es__gelu8(__m512d x, __m512d *f, __m512d *df, int want_d) {
  const __m512i sgn = _mm512_set1_epi64((long long)ES__SIGN);
  const __m512i xi = _mm512_castpd_si512(x);
  __m512d a = _mm512_castsi512_pd(_mm512_andnot_si512(sgn, xi));
  __mmask8 neg = _mm512_cmplt_epi64_mask(xi, _mm512_setzero_si512()); /* the sign bit */
  __m512d ac = _mm512_min_pd(a, ES__C8(ES__GAMAX)), y, ea, s1, s2, mb, mc;
  __m512d v = _mm512_mul_pd(ac, ES__C8(ES__ISQ2));
  __m512d vl = _mm512_add_pd(_mm512_fmsub_pd(ac, ES__C8(ES__ISQ2), v),
                             _mm512_mul_pd(ac, ES__C8(ES__ISQ2LO)));
  __mmask8 m[3];
  es__erf_core8(v, vl, 1, ES__GELUKH, ES__GELUKL, m, &y, &ea, &s1, &s2, &mb, &mc);
  __m512d phi = _mm512_mul_pd(_mm512_mul_pd(_mm512_mul_pd(ea, mc), s1), s2);
  __m512d delta = _mm512_mul_pd(vl, _mm512_mul_pd(ES__C8(ES__SQRT8), phi));
  __m512d h0 = _mm512_mul_pd(
      ES__C8(0.5),
      _mm512_sub_pd(ES__C8(0.5),
                    _mm512_add_pd(_mm512_fmadd_pd(v, y, _mm512_sub_pd(v, ES__C8(0.5))), delta)));
  __m512d h1 =
      _mm512_mul_pd(ES__C8(0.5), _mm512_sub_pd(_mm512_sub_pd(ES__C8(1.0 - ES__ERX), y), delta));
  __m512d eamb = _mm512_mul_pd(ea, mb);
  __m512d h2 =
      _mm512_mul_pd(_mm512_mul_pd(_mm512_mul_pd(ES__C8(0.5), _mm512_div_pd(eamb, v)), s1), s2);
  __m512d h = _mm512_mask_blend_pd(m[1], _mm512_mask_blend_pd(m[0], h0, h1), h2);
  __m512d fm = _mm512_mask_blend_pd(neg, _mm512_fnmadd_pd(x, h, x), _mm512_mul_pd(x, h));
  __m512d g = _mm512_mul_pd(_mm512_mul_pd(_mm512_mul_pd(ES__C8(ES__ISQ2), eamb), s1), s2);
  __m512d ft = _mm512_mask_blend_pd(
      neg, _mm512_sub_pd(x, g), _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(g), sgn)));
  __mmask8 nan = _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q);
  *f = _mm512_mask_blend_pd(nan, _mm512_mask_blend_pd(m[1], fm, ft), x);
  if (want_d) {
    __m512d dp = _mm512_fmadd_pd(ac, phi, _mm512_sub_pd(ES__C8(1.0), h));
    __m512d dm = _mm512_fnmadd_pd(ac, phi, h);
    __m512d dt = _mm512_mul_pd(
        _mm512_mul_pd(
            _mm512_mul_pd(
                ea, _mm512_fnmadd_pd(ac, mc, _mm512_div_pd(_mm512_mul_pd(ES__C8(0.5), mb), v))),
            s1),
        s2);
    __m512d dn = _mm512_mask_blend_pd(m[1], dm, dt);
    *df = _mm512_mask_blend_pd(nan, _mm512_mask_blend_pd(neg, dp, dn), x);
  }
}
ES__DRIVERS_X86(gelu)
#endif

/* The path in use (simd.h resolves AUTO on first use). */
static es__simd es__act_path = ES__SIMD_AUTO;

int es__activation_set_simd(es__simd path) { return es__simd_force(&es__act_path, path); }

es__simd es__activation_simd(void) { return es__simd_resolve(&es__act_path); }

static void es__eval_tanh(size_t n, const double *x, double *f, double *df) {
  switch (es__activation_simd()) {
#if ES__X86
    case ES__SIMD_AVX512:
      es__tanh_avx512(n, x, f, df);
      return;
    case ES__SIMD_AVX2:
      es__tanh_avx2(n, x, f, df);
      return;
    case ES__SIMD_SCALAR_FMA:
      es__tanh_fma(n, x, f, df);
      return;
#endif
    default:
      es__tanh_scalar(n, x, f, df);
  }
}

/* The scalar entries (quadrature, tests) take the fastest scalar path: the same bits. */
static double es__tanh(double x) {
  double t;
#if ES__X86
  if (es__activation_simd() != ES__SIMD_SCALAR) return es__tanh_fma1(x);
#endif
  es__tanh1(x, &t, NULL);
  return t;
}
static double es__dtanh(double x) {
  double t, d;
#if ES__X86
  if (es__activation_simd() != ES__SIMD_SCALAR) return es__dtanh_fma1(x);
#endif
  es__tanh1(x, &t, &d);
  return d;
}

/* The array kernel and the scalar entries of an activation built with ES__DRIVERS_*, as for
 * tanh above. */
#if ES__X86
#define ES__DISPATCH_X86(K)        \
  case ES__SIMD_AVX512:            \
    es__##K##_avx512(n, x, f, df); \
    return;                        \
  case ES__SIMD_AVX2:              \
    es__##K##_avx2(n, x, f, df);   \
    return;                        \
  case ES__SIMD_SCALAR_FMA:        \
    es__##K##_fma(n, x, f, df);    \
    return;
#define ES__ENTRY_X86(F) \
  if (es__activation_simd() != ES__SIMD_SCALAR) return F(x);
#else
#define ES__DISPATCH_X86(K)
#define ES__ENTRY_X86(F)
#endif
#define ES__DISPATCH(K)                                                        \
  static void es__eval_##K(size_t n, const double *x, double *f, double *df) { \
    switch (es__activation_simd()) {                                           \
      ES__DISPATCH_X86(K)                                                      \
      default:                                                                 \
        es__##K##_scalar(n, x, f, df);                                         \
    }                                                                          \
  }                                                                            \
  static double es__##K(double x) {                                            \
    double v;                                                                  \
    ES__ENTRY_X86(es__##K##_fma1)                                              \
    es__##K##1(x, &v, NULL);                                                   \
    return v;                                                                  \
  }                                                                            \
  static double es__d##K(double x) {                                           \
    double v, d;                                                               \
    ES__ENTRY_X86(es__d##K##_fma1)                                             \
    es__##K##1(x, &v, &d);                                                     \
    return d;                                                                  \
  }
ES__DISPATCH(silu)
ES__DISPATCH(sin)
ES__DISPATCH(erf)
ES__DISPATCH(gelu)

static const es_activation es__table[ES_ACT_COUNT] = {
    {ES_ACT_LINEAR, "linear", es__lin, es__dlin, es__eval_lin, 1, 1},
    {ES_ACT_RELU, "relu", es__relu, es__drelu, es__eval_relu, 0, 0},
    {ES_ACT_TANH, "tanh", es__tanh, es__dtanh, es__eval_tanh, 1, 1},
    {ES_ACT_ERF, "erf", es__erf, es__derf, es__eval_erf, 1, 1},
    {ES_ACT_GELU, "gelu", es__gelu, es__dgelu, es__eval_gelu, 1, 0},
    {ES_ACT_SILU, "silu", es__silu, es__dsilu, es__eval_silu, 1, 0},
    {ES_ACT_SIN, "sin", es__sin, es__dsin, es__eval_sin, 1, 1},
};

const es_activation *es_activation_find(const char *name) {
  if (!name) return NULL;
  for (int i = 0; i < ES_ACT_COUNT; i++)
    if (strcmp(es__table[i].name, name) == 0) return &es__table[i];
  return NULL;
}

const es_activation *es_activation_get(es_act_id id) {
  return (id >= 0 && id < ES_ACT_COUNT) ? &es__table[id] : NULL;
}

const char *es_activation_names(void) { return "linear, relu, tanh, erf, gelu, silu, sin"; }
