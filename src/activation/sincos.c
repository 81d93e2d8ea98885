/* sin and its derivative cos, edgesweep's own. */
#include "kernels.h"

/* sin and cos (phi = sin, phi' = cos) for |x| <= ES__SINBIG: k = round(|x| 2/pi) and
 * r + y = |x| - k pi/2 to ~2^-106 relative (pi/2 = P1 + P2 + P3, Cody-Waite; |x| - k P1 is
 * exact with FMA, the k P2 step is an exact two-sum and two-product), then fdlibm's kernels
 * (k_sin.c, k_cos.c in musl's __sin/__cos form; Sun's notice in erf.c) on [-pi/4, pi/4]
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

#if ES__X86
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
#endif

ES__FAMILY(sin)
