/* The stored state: unpack(pack(s), finish(s)) is s bit for bit, over random states with dead
 * depths, one or no live network, NaN lags and lyapunov, signed zeros and infinities; and a
 * state rebuilt that way continues exactly like the original. */
#include <stdint.h>

#include "edgesweep/observables.h"
#include "es_test.h"

static uint64_t es__x = 0x9e3779b97f4a7c15ULL;
static uint64_t next_u64(void) {
  es__x ^= es__x << 13;
  es__x ^= es__x >> 7;
  es__x ^= es__x << 17;
  return es__x;
}
static double uniform(void) { return (double)(next_u64() >> 11) * 0x1.0p-53; }

/* One value of an observable: mostly ordinary, now and then an edge case. */
static double value(int j) {
  const uint64_t r = next_u64() % 64;
  if (r == 0) return -0.0;
  if (r == 1) return 0.0;
  if (r == 2 && j != ES_NOBS_QA) return INFINITY;
  if (r == 3 && j != ES_NOBS_QA) return -INFINITY;
  if (r == 4 && j != ES_NOBS_QA) return -NAN;
  return (uniform() - 0.3) * (1 << (next_u64() % 20));
}

/* Records of M networks at ND depths with NL lags: a depth of a network is dead with
 * probability DEAD; lag l is NaN at depths below l (before layer 1) for every network;
 * lyapunov is NaN at the first depth. */
static void records(double *rec, int64_t m, int64_t nd, int64_t nl, double dead) {
  const int64_t R = es_nobs_len(nl);
  for (int64_t i = 0; i < m; i++)
    for (int64_t k = 0; k < nd; k++) {
      double *x = rec + (i * nd + k) * R;
      for (int j = 0; j < ES_NOBS_COUNT; j++) x[j] = value(j);
      for (int64_t l = 0; l < ES_NOBS_LAG * nl; l++) x[ES_NOBS_COUNT + l] = value(-1);
      for (int64_t l = 0; l < nl; l++)
        if (k <= l) x[ES_NOBS_COUNT + 2 * l] = x[ES_NOBS_COUNT + 2 * l + 1] = NAN;
      if (k == 0) x[ES_NOBS_LYAP] = NAN;
      if (uniform() < dead) x[ES_NOBS_QA] = NAN;
    }
}

/* Build a state of M networks, round-trip it, then add M2 more networks to both. */
static void round_trip(int64_t m, int64_t m2, int64_t nd, int64_t nl, double dead) {
  const int64_t S = es_obs_state_len(nl), P = es_obs_state_packed_len(nl), R = es_nobs_len(nl);
  const int64_t L = nl > 0 ? nl : 1;
  double *rec = malloc((size_t)((m + m2) * nd * R + 1) * sizeof *rec);
  double *st = malloc((size_t)(nd * S) * sizeof *st),
         *back = malloc((size_t)(nd * S) * sizeof *back);
  double *pk = malloc((size_t)(nd * P) * sizeof *pk);
  double *out = malloc((size_t)(ES_F_COUNT * nd) * sizeof *out);
  double *lag = malloc((size_t)(ES_LAG_COUNT * nd * L) * sizeof *lag);
  int64_t *valid = malloc((size_t)nd * sizeof *valid);
  records(rec, m + m2, nd, nl, dead);
  es_obs_state_init(st, nd, nl);
  for (int64_t i = 0; i < m; i++) es_obs_state_add(st, rec + i * nd * R, nd, nl);
  es_obs_state_finish(st, nd, nl, out, valid, lag);
  es_obs_state_pack(st, nd, nl, pk);
  for (int64_t i = 0; i < nd * S; i++) back[i] = 12345.0; /* unpack must set every slot */
  es_obs_state_unpack(pk, out, valid, lag, nd, nl, back);
  if (memcmp(st, back, (size_t)(nd * S) * sizeof *st) != 0) {
    for (int64_t i = 0; i < nd * S; i++)
      if (memcmp(st + i, back + i, sizeof *st) != 0) {
        ES_FAIL_AT("m %lld nd %lld nl %lld: depth %lld (n %lld) slot %lld: %.17g != %.17g",
                   (long long)m, (long long)nd, (long long)nl, (long long)(i / S),
                   (long long)valid[i / S], (long long)(i % S), st[i], back[i]);
        break;
      }
  }
  for (int64_t i = m; i < m + m2; i++) {
    es_obs_state_add(st, rec + i * nd * R, nd, nl);
    es_obs_state_add(back, rec + i * nd * R, nd, nl);
  }
  if (memcmp(st, back, (size_t)(nd * S) * sizeof *st) != 0)
    ES_FAIL_AT("m %lld + %lld nd %lld nl %lld: the continued states differ", (long long)m,
               (long long)m2, (long long)nd, (long long)nl);
  free(rec);
  free(st);
  free(back);
  free(pk);
  free(out);
  free(lag);
  free(valid);
}

int main(void) {
  /* What is left out: the count and the six means /ensemble holds, and each lag's mean. */
  ASSERT_EQ_INT(ES_STATE_COUNT - ES_STATE_PACKED_COUNT, 7);
  ASSERT_EQ_INT(es_obs_state_len(3) - es_obs_state_packed_len(3), 7 + 6);

  for (int rep = 0; rep < 200; rep++) {
    const int64_t m = (int64_t)(next_u64() % 6), m2 = (int64_t)(next_u64() % 4);
    const int64_t nd = 1 + (int64_t)(next_u64() % 12), nl = (int64_t)(next_u64() % 4);
    round_trip(m, m2, nd, nl, rep % 3 == 0 ? 0.0 : rep % 3 == 1 ? 0.3 : 0.8);
  }
  round_trip(64, 32, 50, 2, 0.05); /* a realistic size */
  round_trip(0, 3, 4, 1, 0.0);     /* nothing yet: the zero state */

  /* The means come from the fields: a changed field changes the state rebuilt, so the
   * fields the checksum covers are what a resume trusts. */
  {
    const int64_t nd = 2, nl = 1, S = es_obs_state_len(nl), P = es_obs_state_packed_len(nl);
    double rec[3 * 2 * (ES_NOBS_COUNT + 2)];
    records(rec, 3, nd, nl, 0.0);
    double st[2 * (ES_STATE_COUNT + 4)], back[2 * (ES_STATE_COUNT + 4)],
        pk[2 * (ES_STATE_PACKED_COUNT + 2)];
    double out[ES_F_COUNT * 2], lag[ES_LAG_COUNT * 2];
    int64_t valid[2];
    es_obs_state_init(st, nd, nl);
    for (int i = 0; i < 3; i++) es_obs_state_add(st, rec + i * nd * es_nobs_len(nl), nd, nl);
    es_obs_state_finish(st, nd, nl, out, valid, lag);
    es_obs_state_pack(st, nd, nl, pk);
    ASSERT_EQ_INT(valid[1], 3);
    out[ES_F_C_MEAN * nd + 1] = nextafter(out[ES_F_C_MEAN * nd + 1], INFINITY);
    es_obs_state_unpack(pk, out, valid, lag, nd, nl, back);
    ASSERT(memcmp(st, back, sizeof st) != 0);
    ASSERT(memcmp(back + S + ES_ST_MOMENTS + 2 * ES_NOBS_C, out + ES_F_C_MEAN * nd + 1,
                  sizeof *out) == 0);
    (void)P;
  }
  ES_TEST_END();
}
