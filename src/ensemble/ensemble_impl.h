/* Internal to the ensemble module: pieces the gram and dense methods share. */
#ifndef ES_ENSEMBLE_IMPL_H
#define ES_ENSEMBLE_IMPL_H

#include <stddef.h>

#include "edgesweep/ensemble.h"
#include "simd.h"

/* Cholesky factor of a 3x3 PSD matrix (row-major lower triangles s[6], l[6]). */
void es__chol3(const double s[6], double l[6]);

/* Layer 1 for both methods: h^1 = W^0 x + b^0 and u^1 = W^0 u^0, drawn exactly from their
 * Gaussian law given q0, c0 (stream (network, 1, ES_RNG_ROWS), normal k of neuron i its variate
 * k 2^40 + i, as in every gram layer; z holds 3N scratch doubles). */
void es__layer1(const es_ensemble_params *p, int64_t network, double *ha, double *d, double *u,
                double *z);

/* Observables of the state (h_a, d = h_b - h_a) at depth t into o[ES_NOBS_COUNT]. */
void es__measure(const double *ha, const double *d, size_t n, double logjac, double logjac1,
                 int64_t t, double *o);

/* ES_ERR_NUMERIC (and o set to NaN) when a measured value is not finite. */
es_status es__check_measure(double *o, int64_t network, int64_t t, double logjac);

/* Renormalise u to |u|^2/N = 1; return ln of the old |u|^2/N: -inf when u vanished exactly
 * (a dead network), +inf or NaN when it overflowed. */
double es__renorm(double *u, size_t n);

/* The last max(lag) + 1 layers' (h_a, d) of a network, for the two-time overlaps; exists
 * only when the job asks for lags. */
typedef struct es__ring es__ring;
/* *r = NULL when p has no lags. */
es_status es__ring_create(const es_ensemble_params *p, es__ring **r);
void es__ring_destroy(es__ring **r); /* NULL-safe */
/* Keep layer t's state (no-op on NULL). */
void es__ring_push(es__ring *r, int64_t t, const double *ha, const double *d);
/* The overlaps of h_a^t (HA) with both inputs' past at depth t into
 * o[ES_NOBS_COUNT + 2 l + {0, 1}] for each lag l (no-op on
 * NULL); ES_ERR_NUMERIC (o set NaN) when one is not finite. */
es_status es__ring_measure(const es__ring *r, int64_t t, const double *ha, int64_t network,
                           double *o);

/* The dense (explicit-weight) method: src/ensemble/dense.c. */
typedef struct es__dense es__dense;
es_status es__dense_create(const es_ensemble_params *p, es__dense **d);
void es__dense_destroy(es__dense **d); /* NULL-safe */
es_status es__dense_network(es__dense *d, int64_t network, double *out);
/* Rows of W drawn and used per feedforward chunk (0: automatic); tests and benchmarks vary
 * it. */
void es__dense_set_block_rows(int64_t rows);
/* The product kernel: y_c[i] = sum_j z[i][j] x_c[j] for rows i < rows of the row-major
 * rows x n matrix z, the columns x_c = x + c n and y_c = y + c ldy (c = 0, 1, 2). Its
 * summation order depends on n only (dense.c), so every path gives the same bits. */
void es__dense_mv3(int64_t rows, int64_t n, const double *z, const double *x, double *y,
                   int64_t ldy);
/* Force a path for es__dense_mv3 (AUTO: the CPU's best). Returns 0, or -1 when this CPU
 * cannot run it. */
int es__dense_set_simd(es__simd path);
es__simd es__dense_simd(void);

#endif
