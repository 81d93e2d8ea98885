/* config and grid: expressions with numpy's meaning, validation messages naming file, line
 * and key, overrides, defaults, the canonical identity. */
#include "edgesweep/config.h"

#include <math.h>
#include <string.h>

#include "es_test.h"

static es_job *parse(const char *text, const char *set) {
  es_override o = {set};
  es_job *j = NULL;
  es_status st = es_job_parse("t.ini", text, set ? &o : NULL, set ? 1 : 0, &j);
  if (st != ES_OK) fprintf(stderr, "  (parse: %s)\n", es_error_msg());
  return j;
}

static void expect_error(const char *text, const char *set, const char *needle) {
  es_override o = {set};
  es_job *j = NULL;
  es_status st = es_job_parse("t.ini", text, set ? &o : NULL, set ? 1 : 0, &j);
  ASSERT_EQ_INT(st, ES_ERR_INPUT);
  ASSERT(j == NULL);
  if (!strstr(es_error_msg(), needle))
    ES_FAIL_AT("message '%s' lacks '%s'", es_error_msg(), needle);
}

static const char *const base = "[grid]\nsigma_w2 = 1\ndepth = 4\nwidth = 16\n";

int main(void) {
  es_axis a;
  /* linspace includes both ends; logspace is 10**linspace; range excludes the end. */
  ASSERT_EQ_INT(es_axis_parse("linspace(0.5, 4, 15)", 0, &a), ES_OK);
  ASSERT_EQ_INT(a.n, 15);
  ASSERT(a.v[0] == 0.5 && a.v[14] == 4.0);
  ASSERT_NEAR(a.v[1], 0.75, 1e-15);
  es_axis_free(&a);
  ASSERT_EQ_INT(es_axis_parse("logspace(-1, 1, 3)", 0, &a), ES_OK);
  ASSERT_NEAR(a.v[0], 0.1, 1e-16);
  ASSERT(a.v[1] == 1.0 && a.v[2] == 10.0);
  es_axis_free(&a);
  ASSERT_EQ_INT(es_axis_parse("range(1, 10, 3)", 1, &a), ES_OK);
  ASSERT_EQ_INT(a.n, 3);
  ASSERT(a.v[0] == 1 && a.v[1] == 4 && a.v[2] == 7);
  es_axis_free(&a);
  ASSERT_EQ_INT(es_axis_parse("range(0, 1, 0.25)", 0, &a), ES_OK);
  ASSERT_EQ_INT(a.n, 4);
  es_axis_free(&a);
  ASSERT_EQ_INT(es_axis_parse(" 8 , 2,4 ", 1, &a), ES_OK); /* sorted ascending */
  ASSERT(a.n == 3 && a.v[0] == 2 && a.v[1] == 4 && a.v[2] == 8);
  es_axis_free(&a);
  ASSERT_EQ_INT(es_axis_parse("linspace(1, 64, 64)", 1, &a), ES_OK);
  ASSERT(a.v[63] == 64 && a.v[10] == 11);
  es_axis_free(&a);
  ASSERT_EQ_INT(es_axis_parse("linspace(1, 2, 3)", 1, &a), ES_ERR_INPUT); /* 1.5 */
  ASSERT_EQ_INT(es_axis_parse("1, 2, 1", 0, &a), ES_ERR_INPUT);
  ASSERT_EQ_INT(es_axis_parse("1,,2", 0, &a), ES_ERR_INPUT);
  ASSERT_EQ_INT(es_axis_parse("1 2", 0, &a), ES_ERR_INPUT);
  ASSERT_EQ_INT(es_axis_parse("range(5, 1)", 1, &a), ES_ERR_INPUT);
  ASSERT_EQ_INT(es_axis_parse("range(1, 5, 0)", 1, &a), ES_ERR_INPUT);
  ASSERT_EQ_INT(es_axis_parse("linspace(1, 2, 0)", 0, &a), ES_ERR_INPUT);
  ASSERT_EQ_INT(es_axis_parse("linspace(1, 2, 3) x", 0, &a), ES_ERR_INPUT);
  ASSERT_EQ_INT(es_axis_parse("0x10", 0, &a), ES_ERR_INPUT);
  ASSERT_EQ_INT(es_axis_parse("1e999", 0, &a), ES_ERR_INPUT);
  ASSERT_EQ_INT(es_axis_parse("range(0, 1e9)", 1, &a), ES_ERR_INPUT); /* above the limit */

  /* Defaults, and the resolved method. */
  es_job *j = parse(base, NULL);
  ASSERT(j != NULL);
  if (j) {
    ASSERT_EQ_STR(j->act->name, "tanh");
    ASSERT_EQ_INT(j->networks, 64);
    ASSERT_EQ_INT(j->method, ES_METHOD_GRAM);
    ASSERT_EQ_STR(j->output, "edgesweep.h5");
    ASSERT(j->leak == 1.0 && j->noise == 0.0 && j->q0 == 1.0 && j->c0 == 0.5);
    ASSERT(j->sigma_b2.n == 1 && j->sigma_b2.v[0] == 0.0);
    ASSERT_EQ_INT(strlen(j->sha256), 64);
  }
  /* --set overrides a key of the file and the identity follows the value. */
  es_job *k = parse(base, "grid.width=32");
  ASSERT(k && k->width.v[0] == 32.0);
  if (j && k) ASSERT(strcmp(j->sha256, k->sha256) != 0);
  es_job_destroy(&k);
  ASSERT(k == NULL);
  /* Text that parses to the same values has the same identity. */
  k = parse(
      "; comment\n[grid]\nwidth = 16.0\ndepth=4\nsigma_w2 = linspace(1, 1, 1)\n"
      "[run]\nname = other\n",
      NULL);
  if (j && k) ASSERT_EQ_STR(j->sha256, k->sha256);
  es_job_destroy(&k);
  es_job_destroy(&j);
  es_job_destroy(&j); /* NULL-safe */

  expect_error("[grid]\nsigma_w2 = 1\ndepth = 4\nwidth = 16\nwidht = 3\n", NULL,
               "t.ini:5: [grid] widht: unknown key");
  expect_error("[grid]\nsigma_w2 = 1\ndepth = 4\ndepth = 5\nwidth = 1\n", NULL,
               "t.ini:4: [grid] depth: duplicate key (first set on line 3)");
  expect_error("[grid]\nsigma_w2 = 1\ndepth = 4\n", NULL, "[grid] width: missing");
  expect_error(base, "ensemble.networks=1", "--set ensemble.networks=1");
  expect_error(base, "network.q0=0", "q0");
  expect_error(base, "network.noise=-1", "noise");
  expect_error(base, "network.activation=Tanh", "activation");
  /* Recurrent nets need explicit weights: auto picks dense, an explicit gram is refused. */
  expect_error(
      "[network]\narchitecture = recurrent\n[ensemble]\nmethod = gram\n[grid]\n"
      "sigma_w2 = 1\ndepth = 4\nwidth = 16\n",
      NULL, "t.ini:4: [ensemble] method");
  es_job *r = parse(base, "network.architecture=recurrent");
  ASSERT(r != NULL);
  if (r) ASSERT_EQ_INT(r->method, ES_METHOD_DENSE);
  es_job_destroy(&r);
  r = parse(base, "ensemble.method=dense");
  ASSERT(r != NULL);
  if (r) ASSERT_EQ_INT(r->arch, ES_ARCH_FEEDFORWARD);
  es_job_destroy(&r);
  expect_error(base, "run.name=a/b", "name");
  expect_error(base, "run.seed=18446744073709551616", "seed");
  /* A line longer than the parser's buffer is an error, never silently cut. */
  char longline[400] = "[grid]\nsigma_w2 = 1";
  for (int i = 0; i < 100; i++) strcat(longline, ", 1");
  strcat(longline, "\n");
  expect_error(longline, NULL, "t.ini:2: line longer than");
  /* ...and a long list goes on over indented lines: 300 values, the same job (same identity)
   * as a one-line list; errors still name the key's first line. */
  char cont[4096] = "[grid]\nsigma_w2 = 0.01", one[4096] = "[grid]\nsigma_w2 = 0.01";
  for (int i = 2; i <= 300; i++) {
    char v[16];
    snprintf(v, sizeof v, ", %g", 0.01 * i);
    if (i % 10 == 1) strcat(cont, "\n   ");
    strcat(cont, v);
    strcat(one, v);
  }
  strcat(cont, "\ndepth = 4\nwidth = 16\n");
  strcat(one, "\ndepth = 4\nwidth = 16\n");
  es_job *jc = parse(cont, NULL), *j1 = NULL;
  ASSERT(jc != NULL);
  if (jc) {
    ASSERT_EQ_INT(jc->sigma_w2.n, 300);
    ASSERT(jc->sigma_w2.v[299] == 0.01 * 300);
  }
  /* The one-line form is too long for the file; --set has no line limit. */
  char setv[4096];
  snprintf(setv, sizeof setv, "grid.sigma_w2=%s", one + strlen("[grid]\nsigma_w2 = "));
  *strchr(setv, '\n') = '\0';
  j1 = parse(base, setv);
  ASSERT(j1 != NULL);
  if (jc && j1) ASSERT(strcmp(jc->sha256, j1->sha256) == 0);
  es_job_destroy(&jc);
  es_job_destroy(&j1);
  expect_error("[grid]\nsigma_w2 = 1,\n   2, x\ndepth = 4\nwidth = 16\n", NULL,
               "t.ini:2: [grid] sigma_w2");
  /* An indented key is a continuation to inih: say so instead of a puzzling value. */
  expect_error("[grid]\nsigma_w2 = 1\n  depth = 4\nwidth = 16\n", NULL,
               "t.ini:3: [grid] sigma_w2: an indented line continues");
  /* Every key is printable with its default for the docs. */
  FILE *f = tmpfile();
  es_job_print_keys(f);
  long n = ftell(f);
  ASSERT(n > 500);
  fclose(f);
  ES_TEST_END();
}
