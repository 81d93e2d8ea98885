/* activation: the registry (names, ids, properties) and the code path of the kernels; the
 * kernels live one family a file (piecewise.c, tanh.c, silu.c, sincos.c, erf.c). */
#include "edgesweep/activation.h"

#include <string.h>

#include "activation_impl.h"

/* The path in use (simd.h resolves AUTO on first use). */
static es__simd es__act_path = ES__SIMD_AUTO;

int es__activation_set_simd(es__simd path) { return es__simd_force(&es__act_path, path); }

es__simd es__activation_simd(void) { return es__simd_resolve(&es__act_path); }

static const es_activation es__table[ES_ACT_COUNT] = {
    {ES_ACT_LINEAR, "linear", es__lin, es__dlin, es__eval_lin, 1, 1},
    {ES_ACT_RELU, "relu", es__relu, es__drelu, es__eval_relu, 0, 0},
    {ES_ACT_TANH, "tanh", es__tanh, es__dtanh, es__eval_tanh, 1, 1},
    {ES_ACT_ERF, "erf", es__erf, es__derf, es__eval_erf, 1, 1},
    {ES_ACT_GELU, "gelu", es__gelu, es__dgelu, es__eval_gelu, 1, 0},
    {ES_ACT_SILU, "silu", es__silu, es__dsilu, es__eval_silu, 1, 0},
    {ES_ACT_SIN, "sin", es__sin, es__dsin, es__eval_sin, 1, 1},
};

const es_activation *es_activation_find(const char *name) {
  if (!name) return NULL;
  for (int i = 0; i < ES_ACT_COUNT; i++)
    if (strcmp(es__table[i].name, name) == 0) return &es__table[i];
  return NULL;
}

const es_activation *es_activation_get(es_act_id id) {
  return (id >= 0 && id < ES_ACT_COUNT) ? &es__table[id] : NULL;
}

const char *es_activation_names(void) { return "linear, relu, tanh, erf, gelu, silu, sin"; }
