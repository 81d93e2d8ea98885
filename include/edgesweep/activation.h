/* activation: the registry of nonlinearities phi and their derivatives.
 *
 * Pure functions, looked up by name at run time, so one binary covers every
 * activation of a sweep. Not collective; no state.
 */
#ifndef EDGESWEEP_ACTIVATION_H
#define EDGESWEEP_ACTIVATION_H

#include <stddef.h>

#include "edgesweep/util.h"

typedef enum {
  ES_ACT_LINEAR,
  ES_ACT_RELU,
  ES_ACT_TANH,
  ES_ACT_ERF,
  ES_ACT_GELU,
  ES_ACT_SILU,
  ES_ACT_SIN,
  ES_ACT_COUNT
} es_act_id;

typedef struct es_activation {
  es_act_id id;
  const char *name;
  double (*phi)(double x);
  double (*dphi)(double x);
  /* phi and phi' of n values at once: f[i] = phi(x[i]), df[i] = phi'(x[i]); df may be NULL
   * and f may be x. Vectorised (AVX-512 or AVX2 when the CPU has it, the same bits as phi and
   * dphi on every path) for every activation: relu and linear by the compiler, the smooth
   * ones by hand (below). */
  void (*eval)(size_t n, const double *x, double *f, double *df);
  /* Nonzero when phi is smooth (C^inf); zero for kinks (relu), so quadrature knows. */
  int smooth;
  /* Nonzero when phi(-x) = -phi(x). */
  int odd;
} es_activation;

/* tanh and its derivative are edgesweep's own (src/activation/tanh.c), identical bits
 * on every path and CPU: tanh within 1.5 ulp of the exact value and tanh' = 1 - tanh^2 (computed
 * as 4 e^{-2|x|} / (1 + e^{-2|x|})^2 for |x| >= 0.625, so that it keeps its relative accuracy
 * in the tails) within 4 ulp where it is a normal number (the worst of 2.4e8 random points
 * in |x| < 25: 3.50 ulp, at x = -3.4652039134524335), to the last subnormal beyond;
 * tanh(+-0) = +-0, tanh(+-inf) = +-1, tanh' (+-inf) = 0, NaN in gives the same NaN out.
 * silu and silu' are edgesweep's own too, from the same e^y kernel: silu within 3 ulp;
 * silu' (formed so that it keeps its relative accuracy in both tails) within 4 ulp, or
 * 4 x 2^-60 absolute where its ulp is smaller, near its zero at x = -1.2785; subnormal
 * tails round once; silu(+inf) = +inf, silu'(+inf) = 1, silu(-inf) = silu'(-inf) = -0.
 * sin and cos (sin's phi') are edgesweep's own for |x| <= 2^20 (Cody-Waite reduction to
 * ~2^-106, fdlibm's kernels), within 1 ulp; beyond 2^20 they are libm's sin and cos, so
 * those bits follow the C library; sin(+-0) = +-0, sin and cos of +-inf are NaN.
 * erf and gelu = x Phi(x) are edgesweep's own (fdlibm's erf/erfc approximations, the e^y
 * kernel above, and |x|/sqrt(2) carried to twice double precision for gelu): erf within
 * 1 ulp, erf' within 2.5 ulp (subnormal tails round once), gelu within 4 ulp, gelu' within
 * 4.5 ulp, or 4.5 x 2^-55 absolute where its ulp is smaller (|gelu'| < 1/8, around its zero
 * at x = -0.7518, where 0.5 erfc - |x| phi cancels); erf(+-inf) = +-1, erf'(+-inf) = 0,
 * gelu(+inf) = +inf, gelu'(+inf) = 1, gelu(-inf) = gelu'(-inf) = -0.
 * NaN in gives the same NaN out for all of them.
 * tests/unit/test_activation.c checks the bounds against long double libm. */

/* Look an activation up by name (case-sensitive: "tanh", "relu", ...).
 * Returns NULL when the name is unknown. */
const es_activation *es_activation_find(const char *name);

/* By id; NULL when out of range. */
const es_activation *es_activation_get(es_act_id id);

/* Comma-separated list of the known names, for error messages and --help. */
const char *es_activation_names(void);

#endif
