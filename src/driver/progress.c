#include "progress.h"

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

void es_progress_start(es_progress *p, FILE *f, int quiet, int64_t total, const char *what) {
  p->f = f;
  p->quiet = quiet || !f;
  p->tty = f && isatty(fileno(f));
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
    fprintf(p->f, "\r[%s] %lld/%lld %s  %.2f/s  elapsed %s  ETA %s   %s", bar,
            (long long)p->done, (long long)p->total, p->what, rate, els, eta,
            final ? "\n" : "");
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
