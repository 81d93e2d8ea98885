/* Which vectorised path this CPU can run: one answer for every module that has kernels. */
#include "simd.h"

#include <stdlib.h>
#include <string.h>

int es__simd_supported(es__simd p) {
  switch (p) {
    case ES__SIMD_AUTO:
    case ES__SIMD_SCALAR: return 1;
#if defined(__x86_64__) && defined(__GNUC__)
    case ES__SIMD_SCALAR_FMA: return __builtin_cpu_supports("fma");
    case ES__SIMD_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case ES__SIMD_AVX512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
             __builtin_cpu_supports("fma");
#endif
    default: return 0;
  }
}

es__simd es__simd_best(void) {
  static const char *const names[] = {"", "scalar", "fma", "avx2", "avx512"};
  const char *cap = getenv("EDGESWEEP_SIMD");
  for (int p = ES__SIMD_AVX512; cap && p >= ES__SIMD_SCALAR; p--)
    if (strcmp(cap, names[p]) == 0) {
      while (p > ES__SIMD_SCALAR && !es__simd_supported((es__simd)p)) p--;
      return (es__simd)p;
    }
  for (int p = ES__SIMD_AVX512; p > ES__SIMD_SCALAR; p--)
    if (es__simd_supported((es__simd)p)) return (es__simd)p;
  return ES__SIMD_SCALAR;
}
