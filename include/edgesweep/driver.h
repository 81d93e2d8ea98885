/* driver: `edgesweep run` as a library call (main is a shim).
 *
 * Plans the sweep, divides the simulation points among the ranks (rank 0 hands them out,
 * largest first, and computes too), writes the one output file, reports progress, and
 * turns every failure into a status that all ranks agree on. Collective over COMM.
 */
#ifndef EDGESWEEP_DRIVER_H
#define EDGESWEEP_DRIVER_H

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

#include "edgesweep/config.h"
#include "edgesweep/util.h"

/* How progress is shown on rank 0: AUTO draws a live bar when a person can see it (stderr is
 * a terminal, or a launcher such as mpirun runs in one) and periodic lines otherwise. */
typedef enum {
  ES_PROGRESS_AUTO,
  ES_PROGRESS_BAR,
  ES_PROGRESS_LOG,
  ES_PROGRESS_NONE
} es_progress_mode;

typedef struct {
  const char *job_path;
  const es_override *sets;
  int nsets;
  const char *output; /* -o; NULL = from the job */
  int force;          /* overwrite an existing output */
  int resume;         /* continue OUT.partial (a fresh run when there is none) */
  int quiet;          /* no progress, no closing summary */
  es_progress_mode progress;
  const char *command_line;
} es_run_opts;

/* Collective. Run the sweep. Returns ES_OK, ES_ERR_INPUT (nothing written), or another
 * status with a message (es_error_msg) on rank 0. LOG receives progress on rank 0. */
es_status es_run(MPI_Comm comm, const es_run_opts *opts, FILE *log);

/* Not collective. Note SIGTERM, SIGUSR1 and SIGINT from now to the end of the process
 * instead of dying of them; es_run stops at its next safe point (exit 3). Call it before
 * MPI_Init so that start-up is covered too; es_run calls it as well. */
void es_run_signals(void);

/* The signal noted since es_run_signals (0: none). */
int es_run_stopped(void);

/* Collective. Validate the job and print the plan (points, tasks, estimates) on rank 0. */
es_status es_check(MPI_Comm comm, const es_run_opts *opts, FILE *out);

/* `edgesweep verify` (doc/output.md, Integrity). */
typedef struct {
  const char *path;
  int64_t recompute;     /* points to re-simulate, chosen by seed (0: none) */
  uint64_t seed;         /* choice of those points */
  const int64_t *points; /* or these flat point indices (npoints of them) */
  int64_t npoints;
} es_verify_opts;

/* Collective. Check PATH's layout and checksums on rank 0, then re-simulate the chosen
 * points on all ranks and demand the stored bits. ES_OK only when everything holds;
 * ES_ERR_INPUT with a message naming what failed otherwise. Prints a summary to OUT (rank 0). */
es_status es_verify(MPI_Comm comm, const es_verify_opts *opts, FILE *out);

/* Not collective. What runs this binary, for --version and the file: MPI library (as run;
 * callable before MPI_Init), HDF5, Random123, the SIMD path; and the host. */
void es_libraries(char *buf, size_t n);
void es_host(char *buf, size_t n);

#endif
