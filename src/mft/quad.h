/* Internal to the mft module and to theory, its one other user: the quadrature behind the
 * Gaussian expectations of mft.h (quad.c). Pure but for the vector path, chosen once (every
 * path gives the same bits). */
#ifndef EDGESWEEP_MFT_QUAD_H
#define EDGESWEEP_MFT_QUAD_H

#include "edgesweep/mft.h"

/* The n-point Gauss-Legendre nodes x and weights w on [-1, 1] (Newton on the Legendre
 * recurrence). */
void es__gauss_legendre(int n, double *x, double *w);

/* The module's rule for E[f(z)], z ~ N(0, 1), at variance q: composite Gauss-Legendre,
 * FINE (16-point panels, at most 2048 nodes: 1-D expectations) or not (8-point, at most 512:
 * each axis of a 2-D one). es__normal_rule writes the nodes z and weights w (the normal
 * density folded in) and returns their count; es__normal_rule_panels is its panel count, the
 * same for every q that gives the same rule (a cache key). */
int es__normal_rule_panels(double q, int fine);
int es__normal_rule(double q, int fine, double *z, double *w);

/* The fast rules (trapezoid, lattice, Gauss-Hermite, closed-form parts; doc/physics.md §3.4).
 * es__e1_fast: E[phi^2], E[phi'^2] and the Stein form E[phi^2 (z^2 - 1)] at variance q into
 * out; es__e2_fast: E[g(u_a) g(u_b)] (g = phi, or phi' when deriv) into *out. Both return 0
 * when the activation has no fast rule (or the memory for one is not there): the caller then
 * takes the reference rule. */
int es__e1_fast(const es_activation *act, double q, double out[3]);
int es__e2_fast(const es_activation *act, int deriv, double qa, double qb, double qab, double *out);

/* The trapezoid rule's pieces, shared with theory's 2-D split rule. es__step: the largest
 * step in z for phi(sigma z) of this activation (0: no fast rule); es__tweights: the weights
 * h N(k h), k = 0..K; es__tnodes: the half-width ceil(ES__TL / h) in nodes, capped at CAP
 * (h then grows to ES__TL / CAP). */
#define ES__TL 9.0 /* N(9) ~ 1e-18: the truncation is below double rounding */
double es__step(es_act_id id, double sigma);
void es__tweights(double h, int K, double *w);
int es__tnodes(double *h, int cap);

/* *BUF with room for N doubles (realloc'd, *CAP updated), or NULL when the memory is not
 * there (*BUF then unchanged). */
double *es__grow(double **buf, size_t *cap, size_t n);

/* Force the vector path of the lattice sums (ES__SIMD_AUTO: the best this CPU has); -1 when
 * the CPU lacks it. For tests: every path gives the same bits. */
int es__quad_set_simd(int path);

/* The reference 2-D rule: a tensor of coarse normal rules in whitened coordinates. */
double es__e2_ref(double (*g)(double), double qa, double qb, double qab);

#endif
