/* erf and gelu = x Phi(x) and their derivatives, edgesweep's own. */
#include "kernels.h"

/* fdlibm's erf/erfc (s_erf.c, the notice below) on
 * v >= 0 in four intervals j: v < 0.84375 (t = v^2), < 1.25 (t = v - 1), < 1/0.35 and beyond
 * (t = 1/v^2), each a rational P(t)/Q(t) whose coefficients the vector code picks per lane;
 * in the two tails erfc(v) = e^{-z^2-0.5625} e^{(z-v)(z+v)+P/Q} / v with z = v cut to 21 bits,
 * so that z^2 is exact and e^{-v^2} keeps its relative accuracy; both exponentials come from
 * the e^y kernel (kernels.h), and the 2^k of the first is applied last (subnormal tails round
 * once). gelu's v = |x|/sqrt(2) is carried as v + vl (double-double) into both exponentials
 * and, as erf'(v) vl, into the first two intervals, since erfc's condition number grows
 * like 2 v^2 and would amplify the rounding of |x|/sqrt(2) a hundredfold in the tails.
 *
 * The coefficients are fdlibm's (FreeBSD msun s_erf.c, k_sin.c and k_cos.c for
 * sincos.c): Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved. Developed at
 * SunPro, a Sun Microsystems, Inc. business. Permission to use, copy, modify, and distribute
 * this software is freely granted, provided that this notice is preserved. */
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

#if ES__X86
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
#endif

ES__FAMILY(erf)
ES__FAMILY(gelu)
