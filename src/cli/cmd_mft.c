/* `edgesweep mft` and `edgesweep critical`: the mean-field numbers of one point, for people
 * and (with --json) for scripts. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edgesweep/mft.h"

typedef struct {
  const char *activation;
  double sw2, sb2, leak, noise, q0, c0;
  int has_sw2, has_sb2, json;
} es__mft_args;

static const char es__mft_usage[] =
    "usage: edgesweep mft --activation A --sigma-w2 X --sigma-b2 Y [--leak G] [--noise g]\n"
    "                     [--q0 Q] [--c0 C] [--json]\n"
    "       edgesweep critical --activation A --sigma-b2 Y [--leak G] [--json]\n"
    "activations: linear, relu, tanh, erf, gelu, silu, sin\n";

/* A finite number within [lo, hi] from the whole of TEXT, or a message and 0. */
static int es__num(const char *opt, const char *text, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || *end || errno == ERANGE || !isfinite(v) || strpbrk(text, "xXnNiI")) {
    fprintf(stderr, "edgesweep: %s: '%s' is not a finite number\n", opt, text);
    return 0;
  }
  if (v < lo || v > hi) {
    fprintf(stderr, "edgesweep: %s: %s is out of range [%g, %g]\n", opt, text, lo, hi);
    return 0;
  }
  *out = v;
  return 1;
}

/* Parse; returns 0 (ok), 2 (bad arguments, message printed) or -1 (--help printed). */
static int es__parse(int argc, char **argv, es__mft_args *a) {
  *a = (es__mft_args){NULL, 0, 0, 1, 0, 1, 0.5, 0, 0, 0};
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
      fputs(es__mft_usage, stdout);
      return -1;
    }
    if (strcmp(o, "--json") == 0) {
      a->json = 1;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "edgesweep %s: %s needs a value\n%s", argv[0], o, es__mft_usage);
      return 2;
    }
    const char *v = argv[++i];
    int ok = 1;
    if (strcmp(o, "--activation") == 0)
      a->activation = v;
    else if (strcmp(o, "--sigma-w2") == 0)
      ok = es__num(o, v, 1e-300, 1e6, &a->sw2), a->has_sw2 = 1;
    else if (strcmp(o, "--sigma-b2") == 0)
      ok = es__num(o, v, 0, 1e6, &a->sb2), a->has_sb2 = 1;
    else if (strcmp(o, "--leak") == 0)
      ok = es__num(o, v, 0, 1, &a->leak);
    else if (strcmp(o, "--noise") == 0)
      ok = es__num(o, v, 0, 1e6, &a->noise);
    else if (strcmp(o, "--q0") == 0)
      ok = es__num(o, v, 1e-300, 1e6, &a->q0);
    else if (strcmp(o, "--c0") == 0)
      ok = es__num(o, v, -1, 1, &a->c0);
    else {
      fprintf(stderr, "edgesweep %s: unknown option '%s'\n%s", argv[0], o, es__mft_usage);
      return 2;
    }
    if (!ok) return 2;
  }
  if (!a->activation || !es_activation_find(a->activation)) {
    fprintf(stderr, "edgesweep %s: --activation %s (one of %s)\n", argv[0],
            a->activation ? "is unknown" : "is required", es_activation_names());
    return 2;
  }
  if (!a->has_sb2) {
    fprintf(stderr, "edgesweep %s: --sigma-b2 is required\n", argv[0]);
    return 2;
  }
  return 0;
}

/* JSON has no inf or NaN: print null. */
static void es__jnum(const char *key, double v, int last) {
  if (isfinite(v))
    printf("\"%s\": %.17g%s", key, v, last ? "" : ", ");
  else
    printf("\"%s\": null%s", key, last ? "" : ", ");
}

int es_cmd_mft(int argc, char **argv) {
  es__mft_args a;
  int rc = es__parse(argc, argv, &a);
  if (rc) return rc < 0 ? 0 : rc;
  if (!a.has_sw2) {
    fprintf(stderr, "edgesweep mft: --sigma-w2 is required\n");
    return 2;
  }
  es_mft_params p = {es_activation_find(a.activation), a.sw2, a.sb2, a.leak, a.noise, a.q0, a.c0};
  es_mft_point o;
  if (es_mft_fixed_point(&p, &o) != ES_OK) {
    fprintf(stderr, "edgesweep mft: %s\n", es_error_msg());
    return 1;
  }
  if (a.json) {
    printf("{\"activation\": \"%s\", ", a.activation);
    es__jnum("sigma_w2", a.sw2, 0);
    es__jnum("sigma_b2", a.sb2, 0);
    es__jnum("leak", a.leak, 0);
    es__jnum("noise", a.noise, 0);
    es__jnum("q_star", o.q_star, 0);
    es__jnum("c_star", o.c_star, 0);
    es__jnum("chi1", o.chi1, 0);
    es__jnum("chi_q", o.chi_q, 0);
    es__jnum("chi_c", o.chi_c, 0);
    es__jnum("xi_q", o.xi_q, 0);
    es__jnum("xi_c", o.xi_c, 0);
    es__jnum("lyapunov", o.lyapunov, 0);
    printf("\"phase\": \"%s\", \"reason\": \"%s\"}\n", es_phase_name(o.phase), o.reason);
    return 0;
  }
  printf("%s, sigma_w2 = %g, sigma_b2 = %g, leak = %g, noise = %g\n", a.activation, a.sw2,
         a.sb2, a.leak, a.noise);
  printf("  phase     %s%s%s\n", es_phase_name(o.phase), o.reason[0] ? ": " : "", o.reason);
  printf("  q*        %.12g\n  c*        %.12g\n", o.q_star, o.c_star);
  printf("  chi_1     %.12g\n  chi_q     %.12g\n  chi_c     %.12g\n", o.chi1, o.chi_q, o.chi_c);
  printf("  xi_q      %.12g\n  xi_c      %.12g\n", o.xi_q, o.xi_c);
  printf("  lambda    %.12g   (= ln(chi_1)/2 per layer)\n", o.lyapunov);
  return 0;
}

int es_cmd_critical(int argc, char **argv) {
  es__mft_args a;
  int rc = es__parse(argc, argv, &a);
  if (rc) return rc < 0 ? 0 : rc;
  es_mft_params p = {es_activation_find(a.activation), 1, a.sb2, a.leak, a.noise, a.q0, a.c0};
  double c;
  char why[ES_REASON_LEN];
  if (es_mft_critical(&p, &c, why) != ES_OK) {
    fprintf(stderr, "edgesweep critical: %s\n", es_error_msg());
    return 1;
  }
  if (a.json) {
    printf("{\"activation\": \"%s\", ", a.activation);
    es__jnum("sigma_b2", a.sb2, 0);
    es__jnum("critical_sigma_w2", c, 1);
    printf(", \"reason\": \"%s\"}\n", why);
  } else if (isfinite(c)) {
    printf("%.12g\n", c);
  } else {
    printf("nan (%s)\n", why);
  }
  return 0;
}
