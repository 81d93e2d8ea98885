/* silu = x sigmoid(x) and its derivative, edgesweep's own (the e^y kernel of kernels.h). */
#include "kernels.h"

#define ES__SYMIN -800.0 /* silu: x e^x rounds to -0 below -752; 2^k halves stay normal */

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

#if ES__X86
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
#endif

ES__FAMILY(silu)
