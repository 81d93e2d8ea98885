/* observables: from per-network measurements to the ensemble statistics of doc/physics.md §10.
 *
 * One descriptor table lists every /ensemble field with its units and description:
 * the HDF5 layout, the docs and the reductions all come from it. Reductions run over
 * networks in index order, so the bits never depend on who computed which network.
 * Not collective.
 */
#ifndef EDGESWEEP_OBSERVABLES_H
#define EDGESWEEP_OBSERVABLES_H

#include <stdint.h>

#include "edgesweep/ensemble.h"
#include "edgesweep/util.h"

/* The /ensemble fields, in this order. */
#define ES_FIELD_MAP(X)                                                                \
  X(Q_MEAN, "q_mean", "1", "ensemble mean of q_a = |h_a|^2/N")                         \
  X(Q_VAR, "q_var", "1", "unbiased variance over networks of q_a")                     \
  X(QAB_MEAN, "qab_mean", "1", "ensemble mean of q_ab = h_a.h_b/N")                    \
  X(QAB_VAR, "qab_var", "1", "unbiased variance over networks of q_ab")                \
  X(C_MEAN, "c_mean", "1", "ensemble mean of c = q_ab/sqrt(q_a q_b)")                  \
  X(C_VAR, "c_var", "1", "unbiased variance over networks of c")                       \
  X(LOGJAC_MEAN, "logjac_mean", "1", "ensemble mean of ln(|u^t|^2/N), |u^0|^2/N0 = 1") \
  X(LOGJAC_VAR, "logjac_var", "1", "unbiased variance over networks of logjac")        \
  X(LOGQ_MEAN, "logq_mean", "1", "ensemble mean of ln q_a")                            \
  X(LOGQ_VAR, "logq_var", "1", "unbiased variance over networks of ln q_a")            \
  X(KURTOSIS, "kurtosis", "1",                                                         \
    "excess kurtosis of one pre-activation h_a,i pooled over neurons and networks")    \
  X(KURTOSIS_STDERR, "kurtosis_stderr", "1",                                           \
    "standard error of kurtosis (delta method over networks)")                         \
  X(LYAPUNOV, "lyapunov", "1/layer",                                                   \
    "mean over networks of (logjac^t - logjac^1)/(2(t-1)); NaN at t = 1")              \
  X(LYAPUNOV_STDERR, "lyapunov_stderr", "1/layer", "standard error of lyapunov")

typedef enum {
#define ES__F(id, name, units, desc) ES_F_##id,
  ES_FIELD_MAP(ES__F)
#undef ES__F
      ES_F_COUNT
} es_field;

typedef struct {
  const char *name, *units, *description;
} es_field_desc;

/* Descriptor of field f (never NULL for f < ES_F_COUNT). */
const es_field_desc *es_field_get(es_field f);

/* Streaming statistics of one point, per recorded depth: ES_STATE_COUNT doubles per depth
 * (count of live networks, Welford means and sums of squared deviations of each observable,
 * and the co-moment of q and h^4 for the kurtosis error). Networks are added one at a time in
 * network order, so the bits depend only on the networks, never on who computed them; a
 * stored state continues exactly when more networks are added later. */
enum {
  ES_ST_N = 0,      /* live networks */
  ES_ST_MOMENTS = 1 /* then (mean, M2) for each of the ES_NOBS_COUNT observables */
};
#define ES_STATE_COUNT (1 + 2 * ES_NOBS_COUNT + 1)
#define ES_ST_C_Q_H4 (ES_STATE_COUNT - 1) /* sum of (q - mean q)(h4 - mean h4) */

/* Per lag, after the ES_STATE_COUNT doubles of a depth: (mean, M2) of q_aa(t, t - L), then
 * of q_ab(t, t - L), over the same live networks (count ES_ST_N). */
static inline int64_t es_obs_state_len(int64_t nlags) {
  return ES_STATE_COUNT + 2 * ES_NOBS_LAG * nlags;
}

/* The two-time statistics of each lag, out[(v * ndepth + k) * nlags + l]. */
typedef enum {
  ES_LAG_AA_MEAN,
  ES_LAG_AA_VAR,
  ES_LAG_AB_MEAN,
  ES_LAG_AB_VAR,
  ES_LAG_COUNT
} es_lagstat;

/* Zero a state of ndepth depths (state[k * es_obs_state_len(nlags) + i]). */
void es_obs_state_init(double *state, int64_t ndepth, int64_t nlags);

/* Add one network's measurements net[k * es_nobs_len(nlags) + j]; a depth where the network
 * is dead (NaN q) is skipped. */
void es_obs_state_add(double *state, const double *net, int64_t ndepth, int64_t nlags);

/* Add the state SRC of a later block of networks to DST (Chan, Golub and LeVeque's pairwise
 * update of counts, means, sums of squared deviations and the co-moment). A DST with no live
 * network at a depth takes SRC's values there as they are, so a single block combined into
 * an empty state keeps its bits. Folding blocks in a fixed order gives bits that depend on
 * the blocks, not on who computed them. */
void es_obs_state_combine(double *dst, const double *src, int64_t ndepth, int64_t nlags);

/* The /ensemble fields out[f * ndepth + k], the live-network counts valid[k] and, when
 * nlags > 0, the two-time statistics lagout[(v * ndepth + k) * nlags + l] (es_lagstat v).
 * Fewer than two live networks, or a lag reaching before layer 1: NaN. The kurtosis error is
 * the delta-method (linearised) error of m4/m2^2, which the leave-one-out jackknife
 * approaches for large M. */
void es_obs_state_finish(const double *state, int64_t ndepth, int64_t nlags, double *out,
                         int64_t *valid, double *lagout);

#endif
