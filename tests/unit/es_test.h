/* Minimal test harness: asserts print the expression and both values (libuv test/task.h). */
#ifndef ES_TEST_H
#define ES_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int es_test_failures = 0;

#define ES_FAIL_AT(...)                                   \
  do {                                                    \
    fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                         \
    fputc('\n', stderr);                                  \
    es_test_failures++;                                   \
  } while (0)

#define ASSERT(cond)                      \
  do {                                    \
    if (!(cond)) ES_FAIL_AT("%s", #cond); \
  } while (0)

#define ASSERT_EQ_INT(a, b)                                                         \
  do {                                                                              \
    long long es__a = (long long)(a), es__b = (long long)(b);                       \
    if (es__a != es__b) ES_FAIL_AT("%s == %s: %lld != %lld", #a, #b, es__a, es__b); \
  } while (0)

#define ASSERT_EQ_STR(a, b)                                                                        \
  do {                                                                                             \
    const char *es__a = (a), *es__b = (b);                                                         \
    if (strcmp(es__a, es__b) != 0) ES_FAIL_AT("%s == %s: \"%s\" != \"%s\"", #a, #b, es__a, es__b); \
  } while (0)

/* |a - b| <= tol, printing both values with full precision. */
#define ASSERT_NEAR(a, b, tol)                                                           \
  do {                                                                                   \
    double es__a = (a), es__b = (b), es__t = (tol);                                      \
    if (!(fabs(es__a - es__b) <= es__t))                                                 \
      ES_FAIL_AT("%s ~ %s: %.17g vs %.17g (diff %.3g > tol %.3g)", #a, #b, es__a, es__b, \
                 fabs(es__a - es__b), es__t);                                            \
  } while (0)

/* Relative closeness, for values of any magnitude. */
#define ASSERT_REL(a, b, rtol)                                                      \
  do {                                                                              \
    double es__a = (a), es__b = (b), es__r = (rtol);                                \
    if (!(fabs(es__a - es__b) <= es__r * fabs(es__b)))                              \
      ES_FAIL_AT("%s ~ %s: %.17g vs %.17g (rel %.3g > %.3g)", #a, #b, es__a, es__b, \
                 fabs(es__a - es__b) / fabs(es__b), es__r);                         \
  } while (0)

/* A z-score bound: |estimate - expected| <= k * stderr. */
#define ASSERT_Z(est, expected, se, k)                                                             \
  do {                                                                                             \
    double es__e = (est), es__x = (expected), es__s = (se);                                        \
    double es__z = (es__e - es__x) / es__s;                                                        \
    if (!(fabs(es__z) <= (k)))                                                                     \
      ES_FAIL_AT("%s vs %s: %.10g vs %.10g, se %.3g, z = %.2f (bound %g)", #est, #expected, es__e, \
                 es__x, es__s, es__z, (double)(k));                                                \
  } while (0)

#define ES_TEST_END()                                                                    \
  do {                                                                                   \
    if (es_test_failures) fprintf(stderr, "%d assertion(s) failed\n", es_test_failures); \
    return es_test_failures ? 1 : 0;                                                     \
  } while (0)

#endif
