/* ensemble: simulate random networks one at a time and measure them at recorded depths.
 *
 * The gram method (doc/physics.md §2): for fresh i.i.d. weights, given the columns
 * X = [phi(h_a), phi(h_b) - phi(h_a), phi'(h_a) u] of a layer, the rows of the next layer's
 * increments are i.i.d. Gaussian with covariance sigma_w2 X^T X / N (+ sigma_b2 on h_a and the
 * noise g), so a layer costs O(N) instead of O(N^2), and is exact in law. Inputs are carried
 * as h_a and the difference d = h_b - h_a so that 1 - c stays accurate as c -> 1; the tangent
 * is renormalised every layer and its log-norm accumulated (no overflow at any depth).
 * No MPI, no I/O. Not collective.
 */
#ifndef EDGESWEEP_ENSEMBLE_H
#define EDGESWEEP_ENSEMBLE_H

#include <stdint.h>

#include "edgesweep/activation.h"
#include "edgesweep/rng.h"
#include "edgesweep/util.h"

/* Per-network observables at one recorded depth, in this order. */
typedef enum {
  ES_NOBS_QA,     /* |h_a|^2 / N */
  ES_NOBS_QB,     /* |h_b|^2 / N */
  ES_NOBS_QAB,    /* h_a . h_b / N */
  ES_NOBS_C,      /* q_ab / sqrt(q_a q_b), computed through 1 - c from |h_a - h_b|^2 */
  ES_NOBS_LOGJAC, /* ln(|u^t|^2 / N), |u^0|^2/N0 = 1 */
  ES_NOBS_LOGQ,   /* ln q_a */
  ES_NOBS_H4,     /* sum_i h_{a,i}^4 / N, for the pooled kurtosis */
  ES_NOBS_LYAP,   /* (logjac^t - logjac^1) / (2 (t - 1)); NaN at t = 1 */
  ES_NOBS_COUNT
} es_nobs;

typedef struct {
  const es_activation *act;
  double sigma_w2, sigma_b2;
  double leak, noise; /* gamma, g */
  double q0, c0;
  int64_t width;
  int64_t ndepth;       /* number of recorded depths */
  const int64_t *depth; /* recorded depths, ascending, >= 1 */
  es_rng_key key;       /* the point's stream key */
  int dense;            /* 0: gram sampling (fresh weights only); 1: explicit weights */
  int recurrent;        /* 1: one W, b shared by all layers (needs dense) */
  int64_t nlags;        /* two-time lags L (0: none, and no ring buffer) */
  const int64_t *lags;  /* the lags, ascending, >= 0 */
} es_ensemble_params;

/* Doubles per recorded depth of a network's record: the ES_NOBS_COUNT observables, then per
 * lag L the two-time overlaps q_aa(t, t - L) = h_a^t . h_a^(t-L) / N and
 * q_ab(t, t - L) = h_a^t . h_b^(t-L) / N (NaN when t - L < 1). */
#define ES_NOBS_LAG 2
static inline int64_t es_nobs_len(int64_t nlags) { return ES_NOBS_COUNT + ES_NOBS_LAG * nlags; }

typedef struct es_ensemble es_ensemble;

/* Workspace for one point: O(width) memory. The params (and depth array) must outlive it. */
es_status es_ensemble_create(const es_ensemble_params *p, es_ensemble **e);
void es_ensemble_destroy(es_ensemble **e);

/* Simulate network NETWORK of the point to the deepest recorded depth and write
 * out[k * es_nobs_len(nlags) + j] for recorded depth k and observable j.
 * A network whose tangent vanishes exactly (no active ReLU unit left) is dead: out holds NaN
 * from that depth on and the call succeeds. Returns ES_ERR_NUMERIC (with a message) when a
 * value overflowed; out then holds NaN from that depth on. */
es_status es_ensemble_network(es_ensemble *e, int64_t network, double *out);

#endif
