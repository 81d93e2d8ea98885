/* cli: the subcommands other than `run` (layer 6; these may print and choose exit codes). */
#ifndef ES_CLI_H
#define ES_CLI_H

/* `edgesweep mft ...` and `edgesweep critical ...`; argv[0] is the subcommand name.
 * Return the process exit code (0 ok, 2 bad arguments, 1 runtime failure). */
int es_cmd_mft(int argc, char **argv);
int es_cmd_critical(int argc, char **argv);

#endif
