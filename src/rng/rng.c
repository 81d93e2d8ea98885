#include "edgesweep/rng.h"

#include <math.h>
#include <Random123/philox.h>

#include "edgesweep/util.h"

es_rng_key es_rng_point_key(uint64_t seed, double sigma_w2, double sigma_b2, int64_t width) {
  /* Chained mixing of the exact bit patterns: equal grid values give equal streams in any
   * job, whatever the grid around them. */
  uint64_t h = es_mix64(0x65646765737765ULL ^ es_double_bits(sigma_w2));
  h = es_mix64(h ^ es_double_bits(sigma_b2));
  h = es_mix64(h ^ (uint64_t)width);
  es_rng_key k = {{seed, h}};
  return k;
}

void es_rng_init(es_rng *r, es_rng_key key, uint64_t network, uint64_t layer,
                 es_rng_purpose purpose) {
  r->key[0] = key.key[0];
  r->key[1] = key.key[1];
  r->ctr[0] = network;
  r->ctr[1] = layer;
  r->ctr[2] = (uint64_t)purpose;
  r->ctr[3] = 0;
  r->nbuf = 0;
}

void es_rng_philox(const uint64_t key[2], const uint64_t ctr[4], uint64_t out[4]) {
  philox4x64_ctr_t c = {{ctr[0], ctr[1], ctr[2], ctr[3]}};
  philox4x64_key_t k = {{key[0], key[1]}};
  philox4x64_ctr_t x = philox4x64(c, k);
  for (int i = 0; i < 4; i++) out[i] = x.v[i];
}

/* One Philox block gives four 53-bit uniforms and so two Box-Muller pairs. */
static void es__block(es_rng *r, double z[4]) {
  uint64_t x[4];
  es_rng_philox(r->key, r->ctr, x);
  r->ctr[3]++;
  const double two53 = 1.0 / 9007199254740992.0;
  for (int p = 0; p < 2; p++) {
    double u1 = (double)((x[2 * p] >> 11) + 1) * two53; /* (0, 1]: log never sees 0 */
    double u2 = (double)(x[2 * p + 1] >> 11) * two53;   /* [0, 1) */
    double rad = sqrt(-2.0 * log(u1));
    double th = 2.0 * ES_PI * u2;
    z[2 * p] = rad * cos(th);
    z[2 * p + 1] = rad * sin(th);
  }
}

void es_rng_normals(es_rng *r, double *z, size_t n) {
  size_t i = 0;
  while (i < n && r->nbuf > 0) z[i++] = r->buf[4 - r->nbuf--];
  for (; i + 4 <= n; i += 4) es__block(r, z + i);
  if (i < n) {
    es__block(r, r->buf);
    r->nbuf = 4;
    while (i < n) z[i++] = r->buf[4 - r->nbuf--];
  }
}
