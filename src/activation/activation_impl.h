/* Internal to the activation module, its tests and benchmarks: the code path of the kernels
 * and the entries of each family (one file each) that the registry in activation.c lists. */
#ifndef EDGESWEEP_ACTIVATION_IMPL_H
#define EDGESWEEP_ACTIVATION_IMPL_H

#include <stddef.h>

#include "edgesweep/activation.h"
#include "simd.h"

/* Force the path of the activation kernels (AUTO: the CPU's best). Returns 0, or -1 when this
 * CPU or build cannot run it (the path is then unchanged). */
int es__activation_set_simd(es__simd path);
es__simd es__activation_simd(void);

/* phi, phi' and the array kernel (es_activation's phi, dphi, eval) of activation K. */
#define ES__ENTRIES(K)       \
  double es__##K(double x);  \
  double es__d##K(double x); \
  void es__eval_##K(size_t n, const double *x, double *f, double *df);
ES__ENTRIES(lin)  /* piecewise.c */
ES__ENTRIES(relu) /* piecewise.c */
ES__ENTRIES(tanh) /* tanh.c */
ES__ENTRIES(silu) /* silu.c */
ES__ENTRIES(sin)  /* sincos.c */
ES__ENTRIES(erf)  /* erf.c */
ES__ENTRIES(gelu) /* erf.c */
#undef ES__ENTRIES

#endif
