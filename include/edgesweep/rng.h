/* rng: counter-based random streams (Random123 Philox4x64-10), keyed by task identity.
 *
 * A stream is named by (seed, sigma_w2, sigma_b2, N) in the key and (network, layer,
 * purpose) in the counter, so every number is a pure function of what it is for and never
 * of which rank or in which order it was drawn (STYLE A15, SPEC §6). Not collective.
 */
#ifndef EDGESWEEP_RNG_H
#define EDGESWEEP_RNG_H

#include <stddef.h>
#include <stdint.h>

/* What a stream is used for: one value per independent use in a layer. */
typedef enum {
  ES_RNG_ROWS = 1,    /* the conditional-Gaussian rows of a layer (gram method) */
  ES_RNG_NOISE = 2,   /* the per-input noise xi of a layer */
  ES_RNG_WEIGHTS = 3, /* the explicit W of a layer, row-major (dense method) */
  ES_RNG_BIAS = 4,    /* the explicit b of a layer (dense method) */
  ES_RNG_TEST = 15    /* reserved for tests */
} es_rng_purpose;

typedef struct {
  uint64_t key[2];
} es_rng_key;

typedef struct {
  uint64_t key[2];
  uint64_t ctr[4]; /* network, layer, purpose, block index */
  double buf[4];   /* variates of the last block not handed out yet */
  int nbuf;
} es_rng;

/* Key of one grid point: the seed and a 64-bit hash of the exact (sigma_w2, sigma_b2, N). */
es_rng_key es_rng_point_key(uint64_t seed, double sigma_w2, double sigma_b2, int64_t width);

/* Start the stream (network, layer, purpose) of a point at its first variate. */
void es_rng_init(es_rng *r, es_rng_key key, uint64_t network, uint64_t layer,
                 es_rng_purpose purpose);

/* The next n standard normal variates (Box-Muller on 53-bit uniforms: exact in law up to
 * |z| <= 8.57, where 53-bit uniforms end). */
void es_rng_normals(es_rng *r, double *z, size_t n);

/* Raw 4x64-bit Philox block for counter c under key k (for tests of the generator). */
void es_rng_philox(const uint64_t key[2], const uint64_t ctr[4], uint64_t out[4]);

#endif
