/* Code paths of the vectorised kernels (normals, activations, the gram pass), shared by the
 * modules that have them. All paths give the same bits. Internal (es__): tests and benchmarks
 * force one. AUTO picks, at run time, AVX512 when the CPU has AVX-512F, AVX2 and FMA; else AVX2
 * when it has AVX2 and FMA; else SCALAR_FMA when it has FMA; else SCALAR (portable C, fma()
 * from libm: slow but exact). The environment variable EDGESWEEP_SIMD=scalar|fma|avx2|avx512
 * caps that choice (timing, debugging). */
#ifndef EDGESWEEP_SIMD_H
#define EDGESWEEP_SIMD_H

typedef enum {
  ES__SIMD_AUTO = 0,
  ES__SIMD_SCALAR = 1,
  ES__SIMD_SCALAR_FMA = 2,
  ES__SIMD_AVX2 = 3,
  ES__SIMD_AVX512 = 4
} es__simd;

/* 1 when this CPU and build can run path P (AUTO and SCALAR always). */
int es__simd_supported(es__simd p);
/* The CPU's best path, capped by EDGESWEEP_SIMD. */
es__simd es__simd_best(void);

#endif
