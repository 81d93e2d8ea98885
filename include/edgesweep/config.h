/* config: the job file (doc/jobfile.md), its overrides, validation and canonical identity.
 *
 * Every key is declared once in a table with its type, default and help; the
 * parser, the validation messages, `jobs/reference.ini` checks and the canonical form all
 * come from it. Not collective: rank 0 parses and the driver broadcasts the text.
 */
#ifndef EDGESWEEP_CONFIG_H
#define EDGESWEEP_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "edgesweep/activation.h"
#include "edgesweep/grid.h"
#include "edgesweep/util.h"

typedef enum { ES_ARCH_FEEDFORWARD = 0, ES_ARCH_RECURRENT = 1 } es_arch;
typedef enum { ES_METHOD_AUTO = 0, ES_METHOD_GRAM = 1, ES_METHOD_DENSE = 2 } es_method;

/* A parsed, validated job. Immutable after es_job_load (treat as const). */
typedef struct es_job {
  char *path;      /* job file path as given */
  char *text;      /* the job file's full text (stored in the output) */
  char *canonical; /* canonical form: parsed values of every key that changes a number */
  char sha256[65]; /* SHA-256 of canonical */

  /* [run] */
  char *name;
  uint64_t seed;
  char *output; /* default NAME.h5 */

  /* [network] */
  es_arch arch;
  const es_activation *act;
  double leak, noise, q0, c0;

  /* [grid]: axes sorted ascending, no repeats */
  es_axis sigma_w2, sigma_b2, depth, width;

  /* [ensemble] */
  int64_t networks;
  es_method method; /* resolved: never AUTO after load */
  int64_t networks_per_task;
  int64_t nlags; /* two-time lags (0: none) */
  int64_t *lags; /* nlags lags, ascending, distinct, >= 0 */
} es_job;

/* One `--set section.key=value` override. */
typedef struct {
  const char *text; /* "section.key=value" as typed */
} es_override;

/* Parse and validate PATH with the overrides applied in order. On ES_ERR_INPUT the message
 * (es_error_msg) names the file, the line and the key. *job is NULL on failure.
 * Not collective. */
es_status es_job_load(const char *path, const es_override *sets, int nsets, es_job **job);

/* The same from a text already in memory (PATH is used only in messages). */
es_status es_job_parse(const char *path, const char *text, const es_override *sets, int nsets,
                       es_job **job);

/* Free a job; NULL-safe; sets *job to NULL. */
void es_job_destroy(es_job **job);

/* Name of an enum value as it appears in a job file. */
const char *es_arch_name(es_arch a);
const char *es_method_name(es_method m);

/* Print every key with its type, default and help, in INI form (for --help and docs). */
void es_job_print_keys(FILE *f);

#endif
