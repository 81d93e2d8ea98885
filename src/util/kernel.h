/* Internal preamble of the files with vectorised kernels (rng, activation, ensemble, dense):
 * include it before any code. Every code path must round exactly alike, so no contraction of
 * a*b+c behind our back: the fused multiply-adds are explicit (meson.build also passes
 * -ffp-contract=off; clang wants the pragma too). ES__X86 says whether the x86 intrinsics
 * (and so the AVX2 and AVX-512 paths) are compiled in. */
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

#endif
