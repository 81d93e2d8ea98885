#include "progress.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "edgesweep/util.h"

static void es__fmt_time(double s, char *buf, size_t n) {
  if (!(s >= 0) || s > 1e8)
    snprintf(buf, n, "?");
  else if (s < 60)
    snprintf(buf, n, "%.0fs", s);
  else if (s < 3600)
    snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
  else
    snprintf(buf, n, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

/* Can a person see F? Directly when it is a terminal. Under mpirun F is a pipe to mpirun, which
 * copies it to its own stderr: the ranks then still share mpirun's controlling terminal when it
 * was started from one (and have none in a batch job), so /dev/tty tells. srun's tasks have no
 * terminal unless started with --pty, which sets SLURM_PTY_PORT. */
static int es__visible(FILE *f) {
  if (isatty(fileno(f))) return 1;
  const int launched = getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") ||
                       getenv("PMI_RANK") || getenv("SLURM_STEP_ID");
  if (!launched) return 0;
  if (getenv("SLURM_STEP_ID")) return getenv("SLURM_PTY_PORT") != NULL;
  int fd = open("/dev/tty", O_WRONLY | O_NOCTTY);
  if (fd < 0) return 0;
  close(fd);
  return 1;
}

void es_progress_start(es_progress *p, FILE *f, es_progress_mode mode, int64_t total,
                       const char *what) {
  p->f = f;
  p->quiet = mode == ES_PROGRESS_NONE || !f;
  p->tty = f && (mode == ES_PROGRESS_BAR || (mode == ES_PROGRESS_AUTO && es__visible(f)));
  p->total = total;
  p->done = 0;
  p->t0 = p->last = es_wtime();
  p->what = what;
}

static void es__print(es_progress *p, int final) {
  double el = es_wtime() - p->t0;
  double rate = el > 0 ? (double)p->done / el : 0;
  char eta[32], els[32];
  es__fmt_time(rate > 0 ? (double)(p->total - p->done) / rate : -1, eta, sizeof eta);
  es__fmt_time(el, els, sizeof els);
  double frac = p->total ? (double)p->done / (double)p->total : 1;
  if (p->tty) {
    char bar[31];
    int w = (int)(frac * 30);
    for (int i = 0; i < 30; i++) bar[i] = i < w ? '#' : '.';
    bar[30] = '\0';
    fprintf(p->f, "\r[%s] %lld/%lld %s  %.2f/s  elapsed %s  ETA %s   %s", bar, (long long)p->done,
            (long long)p->total, p->what, rate, els, eta, final ? "\n" : "");
  } else {
    fprintf(p->f, "progress: %lld/%lld %s (%.0f%%), %.2f/s, elapsed %s, ETA %s\n",
            (long long)p->done, (long long)p->total, p->what, 100 * frac, rate, els, eta);
  }
  fflush(p->f);
}

void es_progress_update(es_progress *p, int64_t done) {
  p->done = done;
  if (p->quiet) return;
  double now = es_wtime();
  /* A bar redraws often; a log (Slurm) gets a line every 10 s at most. */
  double every = p->tty ? 0.2 : 10.0;
  if (now - p->last >= every) {
    p->last = now;
    es__print(p, 0);
  }
}

void es_progress_finish(es_progress *p) {
  if (!p->quiet) es__print(p, 1);
}
