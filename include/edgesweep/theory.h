/* theory: leading 1/N ("one-loop") corrections to mean-field theory, shared/physics.md §5.1.
 *
 * For one input and its tangent, the recursions of the metric's mean (K + K1/N), its variance
 * (Vzz/N), the tangent's (R + R1/N, Vuu/N) and their cross terms, layer by layer, give the
 * ensemble mean and variance of q, ln q and logjac = ln(|u|^2/N) to O(1/N) at any width.
 * Serial and pure; every function is "Not collective".
 */
#ifndef EDGESWEEP_THEORY_H
#define EDGESWEEP_THEORY_H

#include "edgesweep/mft.h"

/* The N-independent coefficients at one layer. */
typedef struct {
  double K, K1, Vzz; /* metric: E G = K + K1/N, N Var G = Vzz */
  double R, R1, Vuu; /* tangent metric, same meaning */
  double Vzu, W;     /* cross terms */
} es_theory_layer;

/* Run the recursions from layer 1 to layer T (out[t-1] for t = 1..T). Feedforward, leak 1
 * (ES_ERR_INPUT otherwise, with the reason). */
es_status es_theory_layers(const es_mft_params *p, int T, es_theory_layer *out);

/* Predictions at width N from one layer's coefficients. */
typedef struct {
  double q_mean, q_var, logq_mean, logq_var, logjac_mean, logjac_var;
} es_theory_pred;

void es_theory_predict(const es_theory_layer *l, double N, es_theory_pred *out);

#endif
