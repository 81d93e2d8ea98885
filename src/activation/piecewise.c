/* linear and relu: plain loops the compiler vectorises, the same bits on every path. */
#include "activation_impl.h"

double es__lin(double x) { return x; }
double es__dlin(double x) {
  (void)x;
  return 1.0;
}
double es__relu(double x) { return x > 0.0 ? x : 0.0; }
double es__drelu(double x) { return x > 0.0 ? 1.0 : 0.0; }

/* One pass that reads x[i] before writing f[i], so that f may be x. */
#define ES__EVAL(NAME, F, DF)                                   \
  void NAME(size_t n, const double *x, double *f, double *df) { \
    if (df)                                                     \
      for (size_t i = 0; i < n; i++) {                          \
        double xi = x[i];                                       \
        f[i] = F(xi);                                           \
        df[i] = DF(xi);                                         \
      }                                                         \
    else                                                        \
      for (size_t i = 0; i < n; i++) f[i] = F(x[i]);            \
  }
ES__EVAL(es__eval_lin, es__lin, es__dlin)
ES__EVAL(es__eval_relu, es__relu, es__drelu)
#undef ES__EVAL
