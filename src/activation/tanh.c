/* tanh and its derivative, edgesweep's own. */
#include "kernels.h"

/*   |x| < 0.625:  tanh = x + x z P(z)/Q(z), z = x^2 (Cephes' rational), tanh' = 1 - tanh^2;
 *   |x| >= 0.625: m = e^{-2|x|} (kernels.h), q2 = 2m/(1+m) = 1 - tanh, tanh' = q2 + q2 tanh,
 *                 which stays accurate where 1 - tanh^2 would cancel.
 * One division serves both branches: P/Q or 2m/(1+m). */
#define ES__TP0 -9.64399179425052238628E-1
#define ES__TP1 -9.92877231001918586564E1
#define ES__TP2 -1.61468768441708447952E3
#define ES__TQ0 1.12811678491632931402E2
#define ES__TQ1 2.23548839060100448583E3
#define ES__TQ2 4.84406305325125486048E3
#define ES__SMALL 0.625
#define ES__YMIN -746.0 /* e^{-746} rounds to 0 */

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
    double e, el, s1, s2;
    es__exp1(y, &e, &el, &s1, &s2);
    double m = (e * s1) * s2;
    double q2 = (2.0 * m) / (1.0 + m);
    tt = 1.0 - q2;
    d = fma(q2, tt, q2);
  }
  *t = es__d(es__b(tt) | sign);
  if (dt) *dt = d;
}

#if ES__X86
/* 4 lanes of es__tanh1, operation for operation. */
ES__AVX2 void es__tanh4(__m256d x, __m256d *t, __m256d *dt, int want_d) {
  const __m256d sgn = _mm256_castsi256_pd(_mm256_set1_epi64x((long long)ES__SIGN));
  __m256d a = _mm256_andnot_pd(sgn, x), sign = _mm256_and_pd(sgn, x);
  __m256d small = _mm256_cmp_pd(a, ES__C(ES__SMALL), _CMP_LT_OQ);
  __m256d z = _mm256_mul_pd(a, a);
  __m256d p =
      _mm256_fmadd_pd(_mm256_fmadd_pd(ES__C(ES__TP0), z, ES__C(ES__TP1)), z, ES__C(ES__TP2));
  __m256d q = _mm256_fmadd_pd(_mm256_fmadd_pd(_mm256_add_pd(z, ES__C(ES__TQ0)), z, ES__C(ES__TQ1)),
                              z, ES__C(ES__TQ2));
  __m256d y = _mm256_max_pd(_mm256_mul_pd(ES__C(-2.0), a), ES__C(ES__YMIN));
  __m256d e, el, s1, s2;
  es__exp4(y, &e, &el, &s1, &s2);
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

/* 8 lanes of es__tanh1 with AVX-512F (masks for the selects; integer ops for the sign). */
ES__AVX512 void es__tanh8(__m512d x, __m512d *t, __m512d *dt, int want_d) {
  const __m512i sgn = _mm512_set1_epi64((long long)ES__SIGN);
  const __m512i xi = _mm512_castpd_si512(x);
  __m512d a = _mm512_castsi512_pd(_mm512_andnot_si512(sgn, xi));
  __m512i sign = _mm512_and_si512(sgn, xi);
  __mmask8 small = _mm512_cmp_pd_mask(a, ES__C8(ES__SMALL), _CMP_LT_OQ);
  __m512d z = _mm512_mul_pd(a, a);
  __m512d p =
      _mm512_fmadd_pd(_mm512_fmadd_pd(ES__C8(ES__TP0), z, ES__C8(ES__TP1)), z, ES__C8(ES__TP2));
  __m512d q = _mm512_fmadd_pd(
      _mm512_fmadd_pd(_mm512_add_pd(z, ES__C8(ES__TQ0)), z, ES__C8(ES__TQ1)), z, ES__C8(ES__TQ2));
  __m512d y = _mm512_max_pd(_mm512_mul_pd(ES__C8(-2.0), a), ES__C8(ES__YMIN));
  __m512d e, el, s1, s2;
  es__exp8(y, &e, &el, &s1, &s2);
  __m512d m = _mm512_mul_pd(_mm512_mul_pd(e, s1), s2);
  const __m512d one = ES__C8(1.0);
  __m512d num = _mm512_mask_blend_pd(small, _mm512_mul_pd(ES__C8(2.0), m), p);
  __m512d den = _mm512_mask_blend_pd(small, _mm512_add_pd(one, m), q);
  __m512d rq = _mm512_div_pd(num, den);
  __m512d ts = _mm512_fmadd_pd(_mm512_mul_pd(a, z), rq, a);
  __m512d tl = _mm512_sub_pd(one, rq);
  __m512d tt = _mm512_mask_blend_pd(small, tl, ts);
  __mmask8 nan = _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q);
  *t = _mm512_mask_blend_pd(nan,
                            _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(tt), sign)), x);
  if (want_d) {
    __m512d ds = _mm512_fnmadd_pd(tt, tt, one);
    __m512d dl = _mm512_fmadd_pd(rq, tl, rq);
    *dt = _mm512_mask_blend_pd(nan, _mm512_mask_blend_pd(small, dl, ds), x);
  }
}
#endif

ES__FAMILY(tanh)
