/* PLACEHOLDER being replaced by the MFT work (issue 4) in this session. */
#include <stdio.h>
#include "cli.h"
int es_cmd_mft(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "edgesweep mft: not yet\n"); return 1; }
int es_cmd_critical(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "edgesweep critical: not yet\n"); return 1; }
