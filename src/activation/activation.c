#include "edgesweep/activation.h"

#include <math.h>
#include <string.h>

/* Scalar definitions. gelu = x Phi(x) with the exact normal CDF; silu = x sigmoid(x). */
static double es__lin(double x) { return x; }
static double es__dlin(double x) {
  (void)x;
  return 1.0;
}
static double es__relu(double x) { return x > 0.0 ? x : 0.0; }
static double es__drelu(double x) { return x > 0.0 ? 1.0 : 0.0; }
static double es__tanh(double x) { return tanh(x); }
static double es__dtanh(double x) {
  double t = tanh(x);
  return 1.0 - t * t;
}
static double es__erf(double x) { return erf(x); }
static double es__derf(double x) { return 2.0 / sqrt(ES_PI) * exp(-x * x); }
static double es__gelu(double x) { return 0.5 * x * erfc(-x / sqrt(2.0)); }
static double es__dgelu(double x) {
  return 0.5 * erfc(-x / sqrt(2.0)) + x * exp(-0.5 * x * x) / sqrt(2.0 * ES_PI);
}
static double es__sigmoid(double x) {
  /* Written so that neither branch overflows exp. */
  if (x >= 0.0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}
static double es__silu(double x) { return x * es__sigmoid(x); }
static double es__dsilu(double x) {
  double s = es__sigmoid(x);
  return s * (1.0 + x * (1.0 - s));
}
static double es__sin(double x) { return sin(x); }
static double es__dsin(double x) { return cos(x); }

/* Array versions: plain loops the compiler may vectorise; tanh computes t once. */
#define ES__EVAL(NAME, F, DF)                                                 \
  static void NAME(size_t n, const double *x, double *f, double *df) {        \
    for (size_t i = 0; i < n; i++) f[i] = F(x[i]);                            \
    if (df)                                                                   \
      for (size_t i = 0; i < n; i++) df[i] = DF(x[i]);                        \
  }
ES__EVAL(es__eval_lin, es__lin, es__dlin)
ES__EVAL(es__eval_relu, es__relu, es__drelu)
ES__EVAL(es__eval_erf, es__erf, es__derf)
ES__EVAL(es__eval_gelu, es__gelu, es__dgelu)
ES__EVAL(es__eval_silu, es__silu, es__dsilu)
ES__EVAL(es__eval_sin, es__sin, es__dsin)
#undef ES__EVAL

static void es__eval_tanh(size_t n, const double *x, double *f, double *df) {
  for (size_t i = 0; i < n; i++) {
    double t = tanh(x[i]);
    f[i] = t;
    if (df) df[i] = 1.0 - t * t;
  }
}

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
