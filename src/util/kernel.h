/* Internal preamble of the files with vectorised kernels (rng, activation, ensemble, dense):
 * include it before any code. Every code path must round exactly alike, so no contraction of
 * a*b+c behind our back: the fused multiply-adds are explicit (meson.build also passes
 * -ffp-contract=off; clang wants the pragma too). ES__X86 says whether the x86 intrinsics
 * (and so the AVX2 and AVX-512 paths) are compiled in; ES__INLINE, es__d and es__b are what
 * every scalar kernel uses (a double from its bits and back). */
#ifndef EDGESWEEP_UTIL_KERNEL_H
#define EDGESWEEP_UTIL_KERNEL_H

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#define ES__X86 1
#include <immintrin.h>
#else
#define ES__X86 0
#endif

#include <stdint.h>
#include <string.h>

#define ES__INLINE static inline __attribute__((always_inline))

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

#endif
