/* Internal to the rng module, its tests and benchmarks: the code path of the normal kernels. */
#ifndef EDGESWEEP_RNG_IMPL_H
#define EDGESWEEP_RNG_IMPL_H

#include "edgesweep/rng.h"
#include "simd.h"

/* Force a path for es_rng_normals (AUTO: back to the CPU's best). Returns 0, or -1 when this
 * CPU or build cannot run it (the path is then unchanged). */
int es__rng_set_simd(es__simd path);
/* The path es_rng_normals uses now. */
es__simd es__rng_simd(void);

#endif
