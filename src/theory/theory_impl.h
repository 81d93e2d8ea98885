/* Internal to the theory module: what theory_leak2.c takes from theory.c. Pure; not collective. */
#ifndef EDGESWEEP_THEORY_IMPL_H
#define EDGESWEEP_THEORY_IMPL_H

#include "edgesweep/theory.h"

/* The two channels of one neuron that the leaky recursions follow (doc/physics.md §5.6.3):
 * two inputs (h_a, h_b), f = (phi_a^2, phi_a phi_b, phi_b^2); or an input and its tangent
 * (h, u), f = (phi^2, phi phi' u, phi'^2 u^2). */
enum { ES__PAIR = ES_THEORY_PAIR, ES__TANGENT = ES_THEORY_TANGENT };

/* One layer's Gaussian moments at the channels' metric k = (k11, k12, k22): m = E f,
 * J = dm/dk, H[A] = d2 m_A/dk2 (A, B, C index (11, 12, 22)), C = Cov(f_A, f_B). The pair's
 * are the leak-1 recursion's (§5.5); the tangent's need k12 = 0 (it stays 0 by u -> -u), where
 * the 12 row of H is not formed (it multiplies V's 11-12 and 12-22 entries, 0 by the same
 * symmetry). */
typedef struct {
  double m[3], J[3][3], H[3][3][3], C[3][3];
} es__same3;

/* ES_ERR_NOMEM when the 2-D rules' workspace is not there. */
es_status es__theory_same(const es_activation *act, int kind, const double k[3], es__same3 *o);

/* qab_mean, qab_var, c_mean, c_var at width N from the metric's k, K1 and N Cov(q_A, q_B). */
void es__theory2_pred_cq(const double k[3], const double K1[3], const double Cq[3][3], double N,
                         es_theory2_pred *o);

#endif
