/* Code paths of the vectorised kernels (normals, activations, the gram pass), shared by the
 * modules that have them. All paths give the same bits. Internal (es__): tests and benchmarks
 * force one. AUTO picks, at run time, AVX512 when the CPU has AVX-512F, AVX2 and FMA; else AVX2
 * when it has AVX2 and FMA; else SCALAR_FMA when it has FMA; else SCALAR (portable C, fma()
 * from libm: slow but exact). The environment variable EDGESWEEP_SIMD=scalar|fma|avx2|avx512
 * caps that choice (timing, debugging). */
#ifndef EDGESWEEP_UTIL_SIMD_H
#define EDGESWEEP_UTIL_SIMD_H

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

/* A module's path in *SLOT: force P (AUTO: back to the CPU's best); -1 when this CPU or build
 * cannot run it (*SLOT unchanged). */
static inline int es__simd_force(es__simd *slot, es__simd p) {
  if (!es__simd_supported(p)) return -1;
  *slot = p == ES__SIMD_AUTO ? es__simd_best() : p;
  return 0;
}
/* The path in *SLOT, resolved on first use (AUTO: not yet): one load per call after that. */
static inline es__simd es__simd_resolve(es__simd *slot) {
  if (*slot == ES__SIMD_AUTO) *slot = es__simd_best();
  return *slot;
}

#endif
