/* cli: the command line (layer 6; these may print and choose exit codes). One table of
 * commands gives the usage, `edgesweep help [CMD]`, `CMD --help` and the suggestions for a
 * mistyped command or option. Options follow getopt_long: `--opt value` and `--opt=value`,
 * unique prefixes, options and arguments in any order, `--` ends the options. */
#ifndef ES_CLI_H
#define ES_CLI_H

#include <getopt.h>
#include <stdio.h>

enum { ES_EXIT_OK = 0, ES_EXIT_FAIL = 1, ES_EXIT_INPUT = 2, ES_EXIT_STOPPED = 3 };

typedef struct {
  const char *name;     /* as typed after `edgesweep` */
  const char *synopsis; /* the usage line(s) */
  const char *summary;  /* one line for the command list */
  const char *help;     /* the rest of `CMD --help`: options and what it does */
} es_cli_command;

/* The command NAME, or NULL. */
const es_cli_command *es_cli_find(const char *name);

/* Print the general usage (every command's synopsis and summary) to F. */
void es_cli_usage(FILE *f);

/* Print CMD's help (synopsis, then its text) to F. */
void es_cli_help(FILE *f, const es_cli_command *cmd);

/* `edgesweep help [CMD]`; ARGV[0] is "help". Returns the exit code. */
int es_cli_help_command(int argc, char **argv);

/* An unknown command: a message with the closest command, if any; returns ES_EXIT_INPUT. */
int es_cli_unknown_command(const char *name);

/* getopt_long over ARGV (ARGV[0] is the command) with the message conventions of edgesweep:
 * returns the option's value like getopt_long, -1 at the end, 'h' for -h/--help, or '?' after
 * printing "edgesweep CMD: ..." (unknown option with a suggestion, missing value) to stderr.
 * SHORTOPTS must start with ':' and LONGOPTS end with a zero entry. */
int es_cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

/* `edgesweep mft ...` and `edgesweep critical ...`; argv[0] is the subcommand name.
 * Return the process exit code (0 ok, 2 bad arguments, 1 runtime failure). */
int es_cmd_mft(int argc, char **argv);
int es_cmd_critical(int argc, char **argv);

#endif
