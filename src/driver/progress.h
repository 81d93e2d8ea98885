/* progress: done/total, rate and ETA on rank 0 (a live bar on a TTY, lines otherwise). */
#ifndef ES_PROGRESS_H
#define ES_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#include "edgesweep/driver.h"

typedef struct {
  FILE *f;
  int tty, quiet;
  int64_t total, done;
  double t0, last;
  const char *what;
} es_progress;

void es_progress_start(es_progress *p, FILE *f, es_progress_mode mode, int64_t total,
                       const char *what);
void es_progress_update(es_progress *p, int64_t done);
void es_progress_finish(es_progress *p);

#endif
