/* activation: the registry of nonlinearities phi and their derivatives.
 *
 * Pure functions, looked up by name at run time (STYLE A21), so one binary covers every
 * activation of a sweep. Not collective; no state.
 */
#ifndef EDGESWEEP_ACTIVATION_H
#define EDGESWEEP_ACTIVATION_H

#include <stddef.h>

#include "edgesweep/util.h"

typedef enum {
  ES_ACT_LINEAR,
  ES_ACT_RELU,
  ES_ACT_TANH,
  ES_ACT_ERF,
  ES_ACT_GELU,
  ES_ACT_SILU,
  ES_ACT_SIN,
  ES_ACT_COUNT
} es_act_id;

typedef struct es_activation {
  es_act_id id;
  const char *name;
  double (*phi)(double x);
  double (*dphi)(double x);
  /* phi and phi' of n values at once: f[i] = phi(x[i]), df[i] = phi'(x[i]).
   * The seam for vectorised kernels (issue 9); df may be NULL. */
  void (*eval)(size_t n, const double *x, double *f, double *df);
  /* Nonzero when phi is smooth (C^inf); zero for kinks (relu), so quadrature knows. */
  int smooth;
  /* Nonzero when phi(-x) = -phi(x). */
  int odd;
} es_activation;

/* Look an activation up by name (case-sensitive: "tanh", "relu", ...).
 * Returns NULL when the name is unknown. */
const es_activation *es_activation_find(const char *name);

/* By id; NULL when out of range. */
const es_activation *es_activation_get(es_act_id id);

/* Comma-separated list of the known names, for error messages and --help. */
const char *es_activation_names(void);

#endif
