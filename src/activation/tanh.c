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
/* es__tanh1 on K vectors of 4 lanes from memory (dt NULL: no tanh'), operation for
 * operation, each step for all K before the next so that their dependency chains overlap; in
 * place is fine (all loads come first). */
#define es__each(K) for (int k = 0; k < (K); k++)
ES__AVX2 void es__tanh4(int K, const double *xp, double *tp, double *dtp) {
  const __m256d sgn = _mm256_castsi256_pd(_mm256_set1_epi64x((long long)ES__SIGN));
  const __m256d one = ES__C(1.0);
  __m256d x[ES__K4], a[ES__K4], sign[ES__K4], small[ES__K4], z[ES__K4], p[ES__K4], q[ES__K4];
  __m256d y[ES__K4], e[ES__K4], el[ES__K4], s1[ES__K4], s2[ES__K4], kd[ES__K4], rq[ES__K4];
  __m256d tt[ES__K4], tl[ES__K4], nan[ES__K4];
  es__each(K) x[k] = _mm256_loadu_pd(xp + 4 * k);
  es__each(K) {
    a[k] = _mm256_andnot_pd(sgn, x[k]);
    sign[k] = _mm256_and_pd(sgn, x[k]);
    small[k] = _mm256_cmp_pd(a[k], ES__C(ES__SMALL), _CMP_LT_OQ);
    z[k] = _mm256_mul_pd(a[k], a[k]);
  }
  es__each(K) p[k] =
      _mm256_fmadd_pd(_mm256_fmadd_pd(ES__C(ES__TP0), z[k], ES__C(ES__TP1)), z[k], ES__C(ES__TP2));
  es__each(K) q[k] =
      _mm256_fmadd_pd(_mm256_fmadd_pd(_mm256_add_pd(z[k], ES__C(ES__TQ0)), z[k], ES__C(ES__TQ1)),
                      z[k], ES__C(ES__TQ2));
  es__each(K) y[k] = _mm256_max_pd(_mm256_mul_pd(ES__C(-2.0), a[k]), ES__C(ES__YMIN));
  es__exp4n(K, y, e, el, s1, s2, kd);
  es__each(K) {
    __m256d m = _mm256_mul_pd(_mm256_mul_pd(e[k], s1[k]), s2[k]);
    __m256d num = _mm256_blendv_pd(_mm256_mul_pd(ES__C(2.0), m), p[k], small[k]);
    __m256d den = _mm256_blendv_pd(_mm256_add_pd(one, m), q[k], small[k]);
    rq[k] = _mm256_div_pd(num, den); /* P/Q or q2 = 2m/(1+m) */
  }
  es__each(K) {
    __m256d ts = _mm256_fmadd_pd(_mm256_mul_pd(a[k], z[k]), rq[k], a[k]);
    tl[k] = _mm256_sub_pd(one, rq[k]);
    tt[k] = _mm256_blendv_pd(tl[k], ts, small[k]);
    nan[k] = _mm256_cmp_pd(x[k], x[k], _CMP_UNORD_Q);
    _mm256_storeu_pd(tp + 4 * k, _mm256_blendv_pd(_mm256_or_pd(tt[k], sign[k]), x[k], nan[k]));
  }
  if (dtp) es__each(K) {
      __m256d ds = _mm256_fnmadd_pd(tt[k], tt[k], one);
      __m256d dl = _mm256_fmadd_pd(rq[k], tl[k], rq[k]);
      _mm256_storeu_pd(dtp + 4 * k,
                       _mm256_blendv_pd(_mm256_blendv_pd(dl, ds, small[k]), x[k], nan[k]));
    }
}
#undef es__each

/* es__tanh1 on K vectors of 8 lanes from memory (dt NULL: no tanh'), each step for all K
 * before the next, so that their dependency chains overlap; in place is fine (all loads come
 * first). The same values by exact equivalents that keep work off the multiply pipes:
 * y = (-a) - a for -2 a, m + m for 2 m, and one scalef for (e s1) s2 (both round e 2^k once:
 * e s1 is exact). */
#define es__each(K) for (int k = 0; k < (K); k++)
ES__AVX512 void es__tanh8(int K, const double *xp, double *tp, double *dtp) {
  const __m512i sgn = _mm512_set1_epi64((long long)ES__SIGN);
  const __m512d one = ES__C8(1.0);
  __m512d x[ES__K8], a[ES__K8], z[ES__K8], p[ES__K8], q[ES__K8], y[ES__K8], e[ES__K8];
  __m512d el[ES__K8], s1[ES__K8], s2[ES__K8], kd[ES__K8], rq[ES__K8], tt[ES__K8], tl[ES__K8];
  __m512i sign[ES__K8];
  __mmask8 small[ES__K8], nan[ES__K8];
  es__each(K) x[k] = _mm512_loadu_pd(xp + 8 * k);
  es__each(K) {
    const __m512i xi = _mm512_castpd_si512(x[k]);
    a[k] = _mm512_castsi512_pd(_mm512_andnot_si512(sgn, xi));
    sign[k] = _mm512_and_si512(sgn, xi);
    small[k] = _mm512_cmp_pd_mask(a[k], ES__C8(ES__SMALL), _CMP_LT_OQ);
    nan[k] = _mm512_cmp_pd_mask(x[k], x[k], _CMP_UNORD_Q);
    z[k] = _mm512_mul_pd(a[k], a[k]);
  }
  es__each(K) p[k] = _mm512_fmadd_pd(_mm512_fmadd_pd(ES__C8(ES__TP0), z[k], ES__C8(ES__TP1)), z[k],
                                     ES__C8(ES__TP2));
  es__each(K) q[k] =
      _mm512_fmadd_pd(_mm512_fmadd_pd(_mm512_add_pd(z[k], ES__C8(ES__TQ0)), z[k], ES__C8(ES__TQ1)),
                      z[k], ES__C8(ES__TQ2));
  es__each(K) {
    __m512d na = _mm512_castsi512_pd(_mm512_or_si512(sgn, _mm512_castpd_si512(a[k])));
    y[k] = _mm512_max_pd(_mm512_sub_pd(na, a[k]), ES__C8(ES__YMIN));
  }
  es__exp8n(K, y, e, el, s1, s2, kd);
  es__each(K) {
    __m512d m = _mm512_scalef_pd(e[k], kd[k]);
    __m512d num = _mm512_mask_blend_pd(small[k], _mm512_add_pd(m, m), p[k]);
    __m512d den = _mm512_mask_blend_pd(small[k], _mm512_add_pd(one, m), q[k]);
    rq[k] = _mm512_div_pd(num, den); /* P/Q or q2 = 2m/(1+m) */
  }
  es__each(K) {
    __m512d ts = _mm512_fmadd_pd(_mm512_mul_pd(a[k], z[k]), rq[k], a[k]);
    tl[k] = _mm512_sub_pd(one, rq[k]);
    tt[k] = _mm512_mask_blend_pd(small[k], tl[k], ts);
    __m512d t = _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(tt[k]), sign[k]));
    _mm512_storeu_pd(tp + 8 * k, _mm512_mask_blend_pd(nan[k], t, x[k]));
  }
  if (dtp) es__each(K) {
      __m512d ds = _mm512_fnmadd_pd(tt[k], tt[k], one);
      __m512d dl = _mm512_fmadd_pd(rq[k], tl[k], rq[k]);
      _mm512_storeu_pd(dtp + 8 * k,
                       _mm512_mask_blend_pd(nan[k], _mm512_mask_blend_pd(small[k], dl, ds), x[k]));
    }
}
#undef es__each
#endif

ES__FAMILY_MEM(tanh)
