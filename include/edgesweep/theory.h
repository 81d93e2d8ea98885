/* theory: leading 1/N ("one-loop") corrections to mean-field theory, doc/physics.md §5.1.
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

/* ---- depth scales at finite width (doc/physics.md §5.4) ----
 * Near the fixed point the O(1/N) parts of the recursions relax with the same eigenvalue as
 * the O(1) parts (a Jordan block), which shifts the decay rates of E q^t - E q^inf and of
 * E[1 - c^t] by d/N: 1/xi_N = 1/xi - d/N + O(1/N^2). */
typedef struct {
  double xi_q, xi_c; /* the MFT depth scales (es_mft_point's) */
  double d_q;        /* beta/chi_q: E q's relaxation */
  double d_c;        /* c_mean, the per-layer 1/N growth of the mean tangent: E[1 - c]'s
                        relaxation in the ordered phase; NaN in the chaotic phase */
} es_theory_xi;

/* The coefficients at the fixed point PT of P (es_mft_fixed_point's). q* = 0: d_q = d_c = 0,
 * their limits (the fluctuations vanish with q*); relu and linear: 0 exactly. No finite fixed
 * point: all NaN. Leak 1 only (ES_ERR_INPUT otherwise, with the reason). */
es_status es_theory_xi_coeffs(const es_mft_params *p, const es_mft_point *pt, es_theory_xi *out);

/* 1/(1/xi - d/N): +inf where the shifted rate is <= 0 (no decay at this width), NaN when
 * either input is. */
double es_theory_xi_at(double xi, double d, double N);

/* ---- two inputs a, b (doc/physics.md §5.5) ----
 * Components are ordered A = (aa, ab, bb). E G_A = k_A + K1_A/N and N Cov(G_A, G_B) = V[A][B]
 * for the metric G of the layer; q = (1/N) h h^T is Wishart given G. */
typedef struct {
  double k[3], K1[3], V[3][3];
  /* 0: K1, V valid. 1: |c| came within ES_THEORY_CEDGE of 1 at this layer or an earlier one;
   * the Price derivatives of the c-direction degenerate there, so K1 and V are NaN and k
   * continues as the MFT (see es_theory2_predict for what is reported). 2: no finite
   * nonzero metric (q* = 0 class or blow-up): everything NaN. 3: a smooth activation's metric
   * passed ES_THEORY_QMAX2 (growing without bound, e.g. gelu/silu at large sigma_w2), beyond
   * the range where the 2-D quadrature is accurate (doc/physics.md 3.4): everything NaN. */
  int edge;
} es_theory2_layer;

#define ES_THEORY_CEDGE 1e-4
#define ES_THEORY_QMAX2 50.0

/* Run the two-input recursions from layer 1 (inputs with |x_a|^2/N0 = qa0, |x_b|^2/N0 = qb0,
 * x_a.x_b/N0 = qab0) to layer T (out[t-1]). Feedforward, leak 1 (ES_ERR_INPUT otherwise). */
es_status es_theory2_layers(const es_mft_params *p, double qa0, double qb0, double qab0, int T,
                            es_theory2_layer *out);

/* es_theory_layers into ONE and es_theory2_layers(p, q0, q0, c0 q0, T) into TWO (its status
 * in *ST2), for two inputs with the one input's q0: their k_aa and k_bb then follow the
 * one-input K bitwise, so the one-input moments are integrated once for both. The same bits
 * as the two calls. Returns the one-input recursion's status (ES_ERR_NOMEM: no workspace). */
es_status es_theory_layers_both(const es_mft_params *p, double c0, int T, es_theory_layer *one,
                                es_theory2_layer *two, es_status *st2);

typedef struct {
  double qab_mean, qab_var, c_mean, c_var;
} es_theory2_pred;

/* Predictions at width N (edge 2 or 3: all NaN). At an edge layer (edge == 1): c_mean is the MFT c
 * (the 1/N shift of 1 - c is O((1 - c) T/N), below 1e-4 T/N there), c_var NaN (it is O((1 - c)^2
 * T/N) and the expansion in q no longer resolves it), qab_mean/qab_var are NaN. */
void es_theory2_predict(const es_theory2_layer *l, double N, es_theory2_pred *out);

/* ---- feedforward nets with leak and noise: one input's forward sector (doc/physics.md §5.6) ----
 * E q = K + K1/N and N Var q = Vq (V = N Var of the conditional variance K_t of h^t_i given
 * the earlier layers' metrics). Any leak in [0, 1]; at leak 1 K, K1 and Vq equal
 * es_theory_layers' K, K1 and Vzz + 2K^2. The tangent sector (logjac) is not derived. */
typedef struct {
  double K, K1, V, Vq;
  double D4; /* N (E h_i^4 - 3 (E h_i^2)^2), one pre-activation's fourth cumulant */
} es_theory_leak_layer;

/* Layers 1..T (out[t-1]); NaN from a layer whose K is not finite and positive, or whose
 * correlation with an earlier layer needs more terms of the Mehler series than it sums
 * (leak below ~0.13). */
es_status es_theory_leak_layers(const es_mft_params *p, int T, es_theory_leak_layer *out);

/* q_mean, q_var, logq_mean, logq_var at width N; logjac_* NaN. */
void es_theory_leak_predict(const es_theory_leak_layer *l, double N, es_theory_pred *out);
/* Excess kurtosis of one pre-activation at width N: D4/(N K^2). */
double es_theory_leak_kurtosis(const es_theory_leak_layer *l, double N);

/* ---- feedforward nets with leak and noise: two channels of one neuron (doc/physics.md §5.6.3)
 * ---- ES_THEORY_PAIR: the two inputs (h_a, h_b), channel metric (q_aa, q_ab, q_bb); the noise is
 * independent between them. ES_THEORY_TANGENT: the input and its tangent (h, u), metric
 * (q, h.u/N, r). The same delta method as es_theory_leak_layers, on the 2-D Gaussian
 * variables, with the cross-layer expectations by a 2-D Mehler series. */
enum { ES_THEORY_PAIR = 0, ES_THEORY_TANGENT = 1 };

/* Layers past this depth are not computed (time O(T^3), memory O(T^2)): edge 5. */
#define ES_THEORY_LEAK2_TMAX 400

typedef struct {
  /* E q_A = k_A + K1_A/N, N Cov(q_A, q_B) = Cq[A][B], A, B over (11, 12, 22). */
  double k[3], K1[3], Cq[3][3];
  /* 0: valid. 1 (pair): |c| within ES_THEORY_CEDGE of 1 here or earlier: k is the MFT, K1
   * and Cq NaN (as es_theory2_layer). 2: no finite nonzero metric. 3 (smooth phi): the pair's
   * metric passed ES_THEORY_QMAX2, or either kind's is so large that the 2-D rule would need
   * more than 401 nodes per axis (tanh: q above ~30). 4: the Mehler series between two layers
   * does not converge in its terms (layer-to-layer correlation above ~0.79: leak below
   * ~0.2). 5: deeper than
   * ES_THEORY_LEAK2_TMAX. 2..5: everything NaN from that layer on. */
  int edge;
} es_theory_leak2_layer;

/* Layers 1..T (out[t-1]). Pair: inputs |x_a|^2/N0 = qa0, |x_b|^2/N0 = qb0, x_a.x_b/N0 = qab0;
 * tangent: qa0 is q0 (qb0, qab0 unused) and r^0 = 1. Any leak in [0, 1]; at leak 1 the
 * pair's k, K1 and Cq equal es_theory2_layers' k, K1 and V + Wick term, the tangent's 22
 * entries es_theory_layers' R, R1 and Vuu + 2R^2. ES_ERR_NOMEM without the workspace. */
es_status es_theory_leak2_layers(const es_mft_params *p, int kind, double qa0, double qb0,
                                 double qab0, int T, es_theory_leak2_layer *out);

/* Pair: qab_mean, qab_var, c_mean, c_var at width N (edge 1: c_mean the MFT c, rest NaN). */
void es_theory_leak2_pair_predict(const es_theory_leak2_layer *l, double N, es_theory2_pred *out);

/* Tangent: the logjac_mean and logjac_var entries of OUT at width N (NaN past an edge). */
void es_theory_leak2_tangent_predict(const es_theory_leak2_layer *l, double N, es_theory_pred *out);

#endif
