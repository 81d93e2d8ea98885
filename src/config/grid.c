#include "edgesweep/grid.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *es__skip(const char *s) {
  while (isspace((unsigned char)*s)) s++;
  return s;
}

/* One finite number at *s; advances *s past it. */
static es_status es__number(const char **s, double *x) {
  const char *p = es__skip(*s);
  char *end;
  errno = 0;
  double v = strtod(p, &end);
  ES_CHECK(end != p, ES_ERR_INPUT, "expected a number at '%.20s'", *p ? p : "(end)");
  ES_CHECK(errno != ERANGE || v == 0.0, ES_ERR_INPUT, "number out of range at '%.20s'", p);
  ES_CHECK(isfinite(v), ES_ERR_INPUT, "'%.*s' is not a finite number", (int)(end - p), p);
  /* strtod accepts hex floats and "infinity": only plain decimals are job syntax. */
  for (const char *c = p; c < end; c++)
    ES_CHECK(strchr("0123456789+-.eE", *c), ES_ERR_INPUT, "'%.*s' is not a decimal number",
             (int)(end - p), p);
  *s = end;
  *x = v;
  return ES_OK;
}

static int es__cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static es_status es__alloc(es_axis *axis, int64_t n) {
  ES_CHECK(n >= 1, ES_ERR_INPUT, "the axis is empty");
  ES_CHECK(n <= ES_AXIS_MAX, ES_ERR_INPUT, "%lld values on one axis (limit %d)", (long long)n,
           ES_AXIS_MAX);
  axis->v = es_calloc((size_t)n, sizeof(double));
  if (!axis->v) return ES_ERR_NOMEM;
  axis->n = n;
  return ES_OK;
}

/* Arguments of NAME(...) at s (just past the parenthesis): up to 3 numbers. */
static es_status es__args(const char *s, const char *name, double *a, int *na) {
  *na = 0;
  s = es__skip(s);
  if (*s == ')') goto close;
  for (;;) {
    ES_CHECK(*na < 3, ES_ERR_INPUT, "%s() takes at most 3 arguments", name);
    ES_CALL(es__number(&s, &a[(*na)++]));
    s = es__skip(s);
    if (*s == ',') {
      s++;
      continue;
    }
    ES_CHECK(*s == ')', ES_ERR_INPUT, "expected ',' or ')' in %s(...) at '%.20s'", name,
             *s ? s : "(end)");
    break;
  }
close:
  s = es__skip(s + 1);
  ES_CHECK(*s == '\0', ES_ERR_INPUT, "unexpected text '%.20s' after %s(...)", s, name);
  return ES_OK;
}

static es_status es__linspace(const double *a, int na, int log10_, es_axis *axis) {
  const char *name = log10_ ? "logspace" : "linspace";
  ES_CHECK(na == 3, ES_ERR_INPUT, "%s(a, b, n) needs 3 arguments, got %d", name, na);
  ES_CHECK(a[2] == floor(a[2]) && a[2] >= 1, ES_ERR_INPUT,
           "%s(a, b, n): n must be an integer >= 1, got %g", name, a[2]);
  ES_CHECK(a[2] <= ES_AXIS_MAX, ES_ERR_INPUT, "%s: n = %g is above the limit %d", name, a[2],
           ES_AXIS_MAX);
  int64_t n = (int64_t)a[2];
  ES_CALL(es__alloc(axis, n));
  /* numpy: start + i*step, with the last value set to stop exactly. */
  double step = n > 1 ? (a[1] - a[0]) / (double)(n - 1) : 0.0;
  for (int64_t i = 0; i < n; i++) axis->v[i] = a[0] + (double)i * step;
  if (n > 1) axis->v[n - 1] = a[1];
  if (log10_)
    for (int64_t i = 0; i < n; i++) axis->v[i] = pow(10.0, axis->v[i]);
  return ES_OK;
}

static es_status es__range(const double *a, int na, es_axis *axis) {
  ES_CHECK(na >= 1 && na <= 3, ES_ERR_INPUT, "range(a, b[, step]) needs 2 or 3 arguments");
  double start = na >= 2 ? a[0] : 0.0, stop = na >= 2 ? a[1] : a[0];
  double step = na == 3 ? a[2] : 1.0;
  ES_CHECK(step != 0.0, ES_ERR_INPUT, "range(): step must not be 0");
  double count = ceil((stop - start) / step);
  ES_CHECK(count >= 1, ES_ERR_INPUT, "range(%g, %g, %g) is empty", start, stop, step);
  ES_CHECK(count <= ES_AXIS_MAX, ES_ERR_INPUT, "range(): %g values is above the limit %d", count,
           ES_AXIS_MAX);
  ES_CALL(es__alloc(axis, (int64_t)count));
  for (int64_t i = 0; i < axis->n; i++) axis->v[i] = start + (double)i * step;
  return ES_OK;
}

static es_status es__list(const char *s, es_axis *axis) {
  int64_t n = 1;
  for (const char *c = s; *c; c++) n += (*c == ',');
  ES_CALL(es__alloc(axis, n));
  for (int64_t i = 0; i < n; i++) {
    ES_CALL(es__number(&s, &axis->v[i]));
    s = es__skip(s);
    if (i + 1 < n) {
      ES_CHECK(*s == ',', ES_ERR_INPUT, "expected ',' at '%.20s'", *s ? s : "(end)");
      s++;
    }
  }
  ES_CHECK(*s == '\0', ES_ERR_INPUT, "unexpected text '%.20s' in the list", s);
  return ES_OK;
}

static es_status es__finish(int integer, es_axis *axis) {
  for (int64_t i = 0; i < axis->n; i++) {
    double v = axis->v[i];
    ES_CHECK(isfinite(v), ES_ERR_INPUT, "value number %lld is not finite (overflow)",
             (long long)i + 1);
    if (integer) {
      /* Floating steps may land a hair off an integer: accept that, nothing more. */
      double r = nearbyint(v);
      ES_CHECK(fabs(v - r) <= 1e-9 * fmax(1.0, fabs(v)), ES_ERR_INPUT, "%.17g is not an integer",
               v);
      ES_CHECK(fabs(r) < 9.0e15, ES_ERR_INPUT, "%.17g is too large", v);
      axis->v[i] = r;
    }
  }
  qsort(axis->v, (size_t)axis->n, sizeof(double), es__cmp);
  for (int64_t i = 1; i < axis->n; i++)
    ES_CHECK(axis->v[i] != axis->v[i - 1], ES_ERR_INPUT, "the value %.17g appears twice",
             axis->v[i]);
  return ES_OK;
}

es_status es_axis_parse(const char *expr, int integer, es_axis *axis) {
  axis->n = 0;
  axis->v = NULL;
  const char *s = es__skip(expr);
  ES_CHECK(*s, ES_ERR_INPUT, "the axis is empty");
  static const char *const fn[] = {"linspace", "logspace", "range"};
  es_status st = ES_ERR_INPUT;
  int is_fn = 0;
  for (int k = 0; k < 3; k++) {
    size_t len = strlen(fn[k]);
    if (strncmp(s, fn[k], len) == 0 && *es__skip(s + len) == '(') {
      double a[3];
      int na;
      is_fn = 1;
      st = es__args(es__skip(s + len) + 1, fn[k], a, &na);
      if (st == ES_OK) st = (k == 2) ? es__range(a, na, axis) : es__linspace(a, na, k, axis);
      break;
    }
  }
  if (!is_fn) {
    if (isalpha((unsigned char)*s)) {
      es_error_set("unknown expression '%.20s' (use a list, linspace, logspace or range)", s);
      return ES_ERR_INPUT;
    }
    st = es__list(s, axis);
  }
  if (st == ES_OK) st = es__finish(integer, axis);
  if (st != ES_OK) es_axis_free(axis);
  return st;
}

void es_axis_free(es_axis *axis) {
  free(axis->v);
  axis->v = NULL;
  axis->n = 0;
}
