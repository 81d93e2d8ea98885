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
  enum { OPT_SW2 = 256, OPT_SB2, OPT_LEAK, OPT_NOISE, OPT_Q0, OPT_C0, OPT_JSON, OPT_ACT };
  static const struct option opts[] = {{"activation", required_argument, NULL, OPT_ACT},
                                       {"sigma-w2", required_argument, NULL, OPT_SW2},
                                       {"sigma-b2", required_argument, NULL, OPT_SB2},
                                       {"leak", required_argument, NULL, OPT_LEAK},
                                       {"noise", required_argument, NULL, OPT_NOISE},
                                       {"q0", required_argument, NULL, OPT_Q0},
                                       {"c0", required_argument, NULL, OPT_C0},
                                       {"json", no_argument, NULL, OPT_JSON},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  *a = (es__mft_args){NULL, 0, 0, 1, 0, 1, 0.5, 0, 0, 0};
  int c;
  while ((c = es_cli_getopt(argc, argv, ":h", opts)) != -1) {
    char opt[32];
    snprintf(opt, sizeof opt, "--%s",
             c >= OPT_SW2 && c <= OPT_C0 ? opts[c - OPT_SW2 + 1].name : "");
    int ok = 1;
    switch (c) {
      case 'h': es_cli_help(stdout, es_cli_find(argv[0])); return -1;
      case OPT_ACT: a->activation = optarg; break;
      case OPT_JSON: a->json = 1; break;
      case OPT_SW2: ok = es__num(opt, optarg, 1e-300, 1e6, &a->sw2), a->has_sw2 = 1; break;
      case OPT_SB2: ok = es__num(opt, optarg, 0, 1e6, &a->sb2), a->has_sb2 = 1; break;
      case OPT_LEAK: ok = es__num(opt, optarg, 0, 1, &a->leak); break;
      case OPT_NOISE: ok = es__num(opt, optarg, 0, 1e6, &a->noise); break;
      case OPT_Q0: ok = es__num(opt, optarg, 1e-300, 1e6, &a->q0); break;
      case OPT_C0: ok = es__num(opt, optarg, -1, 1, &a->c0); break;
      default: return 2;
    }
    if (!ok) return 2;
  }
  if (optind < argc) {
    fprintf(stderr, "edgesweep %s: unexpected argument '%s'\n", argv[0], argv[optind]);
    return 2;
  }
  if (!a->activation || !es_activation_find(a->activation)) {
    /* The registry's names ("linear, relu, ...") as a list, for the suggestion. */
    char list[256], *save = NULL;
    const char *names[32];
    size_t n = 0;
    snprintf(list, sizeof list, "%s", es_activation_names());
    for (char *t = strtok_r(list, ", |", &save); t && n < 32; t = strtok_r(NULL, ", |", &save))
      names[n++] = t;
    const char *near = a->activation ? es_suggest(a->activation, names, n) : NULL;
    fprintf(stderr, "edgesweep %s: --activation %s (one of %s)", argv[0],
            a->activation ? "is unknown" : "is required", es_activation_names());
    if (near) fprintf(stderr, "; did you mean %s?", near);
    fputc('\n', stderr);
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
  printf("%s, sigma_w2 = %g, sigma_b2 = %g, leak = %g, noise = %g\n", a.activation, a.sw2, a.sb2,
         a.leak, a.noise);
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
