/* rng: counter-based random streams (Random123 Philox4x32-10), keyed by task identity.
 *
 * A stream is named by (seed, sigma_w2, sigma_b2, N) and (network, layer, purpose), so every
 * number is a pure function of what it is for and never of which rank or in which order it
 * was drawn (doc/output.md, Guarantees). Not collective.
 *
 * The stream, exactly (what the scalar and the AVX2 paths both compute, bit for bit):
 *   Philox key  K = es_mix64(es_mix64(es_mix64(es_mix64(seed) ^ point_hash) ^ (network >> 32))
 *                   ^ (layer >> 32)), as {low 32 bits, high 32 bits};
 *   block b     counter {b mod 2^32, (b >> 32) | purpose << 28, layer mod 2^32,
 *                        network mod 2^32}, output words x0..x3 = philox4x32_10(ctr, K);
 *   uniforms    u1 = 2 - float(0x3FF | (x0 x1) >> 12) in (0, 1], u2 likewise from (x2 x3) in
 *               [0, 1): the top 52 bits of each 64-bit word;
 *   normals     group g = blocks 8g .. 8g+7; variate 16g + j is rho_j cos(2 pi u2_j) and
 *               variate 16g + 8 + j is rho_j sin(2 pi u2_j), rho_j = sqrt(-2 ln u1_j), j < 8.
 * The counter is injective for fewer than 2^60 blocks per stream (2^61 variates).
 * Accuracy: log, sin and cos are polynomial (fdlibm's log kernel; sin and cos of 2 pi u2 after
 * an exact reduction to a quarter turn), so each variate is within 4 * 2^-53 * max(rho, 1)
 * of the exact Box-Muller transform of its uniforms (tests/unit/test_rng.c measures it);
 * |z| <= 8.49, where 52-bit uniforms end.
 */
#ifndef EDGESWEEP_RNG_H
#define EDGESWEEP_RNG_H

#include <stddef.h>
#include <stdint.h>

/* What a stream is used for: one value per independent use in a layer (< 16). */
typedef enum {
  ES_RNG_ROWS = 1,    /* the conditional-Gaussian rows of a layer (gram method) */
  ES_RNG_NOISE = 2,   /* the per-input noise xi of a layer */
  ES_RNG_WEIGHTS = 3, /* the explicit W of a layer, row-major (dense method) */
  ES_RNG_BIAS = 4,    /* the explicit b of a layer (dense method) */
  ES_RNG_TEST = 15    /* reserved for tests */
} es_rng_purpose;

typedef struct {
  uint64_t key[2]; /* seed, hash of the point */
} es_rng_key;

typedef struct {
  uint32_t key[2]; /* Philox key */
  uint32_t ctr[3]; /* counter words 1..3 without the block bits: purpose << 28, layer, network */
  uint64_t group;  /* the next group of 16 variates to generate */
  double buf[16];  /* the last group's variates not handed out yet: buf[16 - nbuf ..] */
  int nbuf;
} es_rng;

/* Key of one grid point: the seed and a 64-bit hash of the exact (sigma_w2, sigma_b2, N). */
es_rng_key es_rng_point_key(uint64_t seed, double sigma_w2, double sigma_b2, int64_t width);

/* Start the stream (network, layer, purpose) of a point at its first variate. */
void es_rng_init(es_rng *r, es_rng_key key, uint64_t network, uint64_t layer,
                 es_rng_purpose purpose);

/* The next n standard normal variates of the stream. */
void es_rng_normals(es_rng *r, double *z, size_t n);

/* Move to variate number INDEX of the stream (0 is the first): O(1). */
void es_rng_seek(es_rng *r, uint64_t index);

/* Raw Philox4x32-10 block for counter c under key k (for tests of the generator). */
void es_rng_philox4x32(const uint32_t key[2], const uint32_t ctr[4], uint32_t out[4]);

#endif
