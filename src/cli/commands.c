/* The command table: usage, help and suggestions come from here and nowhere else. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "edgesweep/util.h"

static const es_cli_command es__commands[] = {
    {"run",
     "edgesweep run JOB.ini [-o OUT.h5] [--resume] [--force] [--set section.key=value]...\n"
     "              [--progress=auto|bar|log|none] [--quiet]",
     "run a sweep (alone, or under mpirun / srun)",
     "  -o, --output=OUT.h5   the output file (default: the job's [run] output, else NAME.h5)\n"
     "      --resume          continue OUT.h5.partial (any rank count); a fresh run if there\n"
     "                        is none, nothing to do if OUT.h5 is complete\n"
     "      --force           replace an existing OUT.h5 or OUT.h5.partial\n"
     "      --set KEY=VALUE   override a job key, e.g. --set grid.width=256 (repeatable)\n"
     "      --progress=MODE   auto (a live bar where a person sees it, also under mpirun in a\n"
     "                        terminal; lines every 10 s in a log), bar, log or none\n"
     "      --quiet           no progress and no closing summary\n"
     "\n"
     "While it runs the output is OUT.h5.partial, renamed to OUT.h5 at the end. Exit codes:\n"
     "0 done, 1 runtime failure, 2 bad input (nothing written), 3 stopped by SIGTERM, SIGUSR1\n"
     "or SIGINT (the partial file is kept: continue with --resume).\n"},
    {"check", "edgesweep check JOB.ini [--set section.key=value]...",
     "validate a job; print points, tasks, time, memory and output size",
     "      --set KEY=VALUE   override a job key (repeatable)\n"
     "\n"
     "Nothing is written. Exit 0 when the job is valid and fits, 2 otherwise (the message\n"
     "names the file, line and key).\n"},
    {"info", "edgesweep info OUT.h5", "provenance, progress and the points not done",
     "Works on finished and partial (OUT.h5.partial) files. Exit 2 for a file that is not an\n"
     "edgesweep output.\n"},
    {"mft",
     "edgesweep mft --activation=A --sigma-w2=X --sigma-b2=Y [--leak=G] [--noise=g] [--q0=Q]\n"
     "              [--c0=C] [--json]",
     "mean-field fixed point, chi_1, depth scales, Lyapunov exponent and phase",
     "      --activation=A    linear, relu, tanh, erf, gelu, silu or sin\n"
     "      --sigma-w2=X      weight variance (> 0)\n"
     "      --sigma-b2=Y      bias variance (>= 0)\n"
     "      --leak=G          gamma in h' = (1-gamma) h + W phi(h) + b + xi (default 1)\n"
     "      --noise=g         variance of the noise xi per layer (default 0)\n"
     "      --q0=Q, --c0=C    the inputs' |x|^2/N0 (default 1) and cosine (default 0.5)\n"
     "      --json            one JSON object (null for inf and NaN)\n"},
    {"critical", "edgesweep critical --activation=A --sigma-b2=Y [--leak=G] [--noise=g] [--json]",
     "the critical sigma_w2 (chi_1 = 1) at one sigma_b2",
     "      --activation=A    linear, relu, tanh, erf, gelu, silu or sin\n"
     "      --sigma-b2=Y      bias variance (>= 0)\n"
     "      --leak=G, --noise=g, --q0=Q, --c0=C   as for mft\n"
     "      --json            one JSON object\n"
     "\n"
     "Prints the critical sigma_w2, or nan with the reason when there is none.\n"},
    {"keys", "edgesweep keys", "print every job key with its default and meaning",
     "The output is a job file: fill in the required values and it is valid\n"
     "(edgesweep keys > job.ini).\n"},
    {"help", "edgesweep help [COMMAND]", "this list, or one command's options",
     "Also: edgesweep COMMAND --help, edgesweep --help, edgesweep --version.\n"},
};
enum { ES__NCMD = sizeof es__commands / sizeof es__commands[0] };

const es_cli_command *es_cli_find(const char *name) {
  for (int i = 0; i < ES__NCMD; i++)
    if (strcmp(es__commands[i].name, name) == 0) return &es__commands[i];
  return NULL;
}

void es_cli_usage(FILE *f) {
  fputs(
      "usage: edgesweep COMMAND [OPTIONS]   (edgesweep COMMAND --help for its options)\n\n"
      "commands:\n",
      f);
  for (int i = 0; i < ES__NCMD; i++)
    fprintf(f, "  %-9s %s\n", es__commands[i].name, es__commands[i].summary);
  fputs(
      "\n  edgesweep --help | --version\n\n"
      "run under MPI as: mpirun -n P edgesweep run JOB.ini (or srun, or alone).\n"
      "exit codes: 0 done, 1 runtime failure, 2 bad input (nothing written), 3 stopped by\n"
      "SIGTERM/SIGUSR1/SIGINT (OUT.h5.partial kept; continue with --resume).\n",
      f);
}

void es_cli_help(FILE *f, const es_cli_command *cmd) {
  fprintf(f, "usage: %s\n\n%s\n", cmd->synopsis, cmd->summary);
  if (cmd->help[0]) fprintf(f, "\n%s", cmd->help);
}

int es_cli_help_command(int argc, char **argv) {
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    es_cli_help(stdout, es_cli_find("help"));
    return ES_EXIT_OK;
  }
  if (argc < 2) {
    es_cli_usage(stdout);
    return ES_EXIT_OK;
  }
  const es_cli_command *c = es_cli_find(argv[1]);
  if (!c) return es_cli_unknown_command(argv[1]);
  es_cli_help(stdout, c);
  return ES_EXIT_OK;
}

int es_cli_unknown_command(const char *name) {
  const char *names[ES__NCMD];
  for (int i = 0; i < ES__NCMD; i++) names[i] = es__commands[i].name;
  const char *near = es_suggest(name, names, ES__NCMD);
  fprintf(stderr, "edgesweep: unknown command '%s'", name);
  if (near) fprintf(stderr, "; did you mean '%s'?", near);
  fputs("\n(edgesweep help lists the commands)\n", stderr);
  return ES_EXIT_INPUT;
}

/* The long option that ARG (as typed, with "--" and maybe "=value") comes closest to. */
static const char *es__near_option(const char *arg, const struct option *longopts) {
  char word[64];
  const char *a = arg[0] == '-' && arg[1] == '-' ? arg + 2 : arg + (arg[0] == '-');
  size_t n = strcspn(a, "=");
  if (n >= sizeof word) return NULL;
  memcpy(word, a, n);
  word[n] = '\0';
  const char *names[64];
  size_t k = 0;
  for (; longopts[k].name && k < 64; k++) names[k] = longopts[k].name;
  return es_suggest(word, names, k);
}

int es_cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts) {
  opterr = 0;
  int prev = optind;
  int c = getopt_long(argc, argv, shortopts, longopts, NULL);
  if (c != '?' && c != ':') return c;
  /* The option at fault is the last word getopt_long consumed. */
  const char *bad = argv[optind - 1 >= prev ? optind - 1 : prev];
  if (c == ':') {
    fprintf(stderr, "edgesweep %s: option '%s' needs a value\n", argv[0], bad);
  } else if (optopt && !(bad[0] == '-' && bad[1] == '-')) {
    fprintf(stderr, "edgesweep %s: unknown option '-%c'\n", argv[0], optopt);
  } else {
    const char *near = es__near_option(bad, longopts);
    int takes = -1; /* has_arg of the option named exactly, if any */
    for (int i = 0; longopts[i].name; i++)
      if (strncmp(bad + 2, longopts[i].name, strcspn(bad + 2, "=")) == 0 &&
          strlen(longopts[i].name) == strcspn(bad + 2, "="))
        takes = longopts[i].has_arg;
    if (takes == no_argument && strchr(bad, '='))
      fprintf(stderr, "edgesweep %s: option '%.*s' takes no value\n", argv[0],
              (int)strcspn(bad, "="), bad);
    else if (near)
      fprintf(stderr, "edgesweep %s: unknown option '%s'; did you mean '--%s'?\n", argv[0], bad,
              near);
    else
      fprintf(stderr, "edgesweep %s: unknown or ambiguous option '%s'\n", argv[0], bad);
  }
  fprintf(stderr, "(edgesweep %s --help lists its options)\n", argv[0]);
  return '?';
}
