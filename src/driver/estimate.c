/* estimate: what a job will cost, from the run's own planner, the output layout's own table
 * and, for `check`, short samples of the run's own computations timed on this machine. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "edgesweep/ensemble.h"
#include "edgesweep/mft.h"
#include "edgesweep/observables.h"
#include "edgesweep/theory.h"
#include "sweep.h"

/* An owner's writes per point, measured on the dev machine (bench/README.md, Rank 0 at scale):
 * a fixed part (about 40 MPI-IO calls, the checksum, the status last) and a part per recorded
 * depth (the columns and the streaming state, read back and written whole when the slab is
 * small). */
#define ES__WRITE_POINT_S 50e-6
#define ES__WRITE_DEPTH_S 0.4e-6
/* Per rank: MPI and HDF5 set-up, the file's layout (mpirun's own launch not included). */
#define ES__SETUP_S 0.04

/* Seconds to simulate one network of width index IN to the deepest depth: networks of the
 * middle (sigma_w2, sigma_b2) are run, at first to a shallow depth, deeper while one takes
 * under 2 ms, then as many as 20 ms allow; the time scales with the layers. */
static double es__sample_network(const es_job *j, int64_t in) {
  const int64_t nd = j->depth.n, tmax = (int64_t)j->depth.v[nd - 1];
  const double sw2 = j->sigma_w2.v[j->sigma_w2.n / 2], sb2 = j->sigma_b2.v[j->sigma_b2.n / 2];
  /* Wide networks are sampled narrower and scaled (dense: N^2 per layer, gram: N), so that
   * check stays quick and never holds a recurrent W of the real size. */
  const int dense = j->method == ES_METHOD_DENSE;
  const int64_t nreal = (int64_t)j->width.v[in], cap = dense ? 1024 : 65536;
  const int64_t n = nreal > cap ? cap : nreal;
  const double scale = dense ? ((double)nreal / n) * ((double)nreal / n) : (double)nreal / n;
  int64_t *dep = malloc((size_t)nd * sizeof *dep);
  double *rec = malloc((size_t)(nd * es_nobs_len(j->nlags)) * sizeof *rec);
  double per = NAN;
  for (int64_t ts = tmax < 4 ? tmax : 4; dep && rec;) {
    int64_t k = 0;
    for (int64_t i = 0; i < nd && j->depth.v[i] <= (double)ts; i++)
      dep[k++] = (int64_t)j->depth.v[i];
    if (k == 0 || dep[k - 1] != ts) dep[k++] = ts;
    es_ensemble_params ep = es__ensemble_params(j, sw2, sb2, n, k, dep);
    es_ensemble *e = NULL;
    if (es_ensemble_create(&ep, &e) != ES_OK) break;
    const double t0 = es_cputime();
    int64_t m = 0;
    double dt = 0;
    do {
      es_ensemble_network(e, m++, rec);
      dt = es_cputime() - t0;
    } while (m < j->networks && dt < (ts < tmax ? 2e-3 : 20e-3));
    es_ensemble_destroy(&e);
    per = dt / (double)m * (double)tmax / (double)ts * scale;
    if (ts == tmax || dt / (double)m >= 2e-3) break;
    ts = ts * 4 < tmax ? ts * 4 : tmax;
  }
  free(dep);
  free(rec);
  return per;
}

/* Seconds of the MFT (fixed point, trajectory, critical line) and of the 1/N theory of one
 * (sigma_w2, sigma_b2) pair, averaged over up to 9 pairs spread over the grid (both phases
 * and the edge between them cost differently), within ~0.5 s. */
static void es__sample_pairs(const es_job *j, double *mft_s, double *theory_s) {
  const int64_t nw = j->sigma_w2.n, nb = j->sigma_b2.n, nd = j->depth.n;
  const int T = (int)j->depth.v[nd - 1];
  const int dmft = j->arch == ES_ARCH_RECURRENT && !(j->leak == 1 && j->noise == 0);
  const int theory = j->arch == ES_ARCH_FEEDFORWARD && j->leak == 1;
  const int leaky = j->arch == ES_ARCH_FEEDFORWARD && j->leak != 1;
  /* Lags add the two-time DMFT's C(t, t - L), of either architecture. */
  int64_t *ts = j->nlags > 0 ? malloc((size_t)nd * sizeof *ts) : NULL;
  double *cts = j->nlags > 0 ? malloc((size_t)(2 * nd * j->nlags) * sizeof *cts) : NULL;
  for (int64_t k = 0; ts && k < nd; k++) ts[k] = (int64_t)j->depth.v[k];
  double *q = malloc((size_t)T * 3 * sizeof *q);
  es_theory_layer *L = malloc((size_t)T * sizeof *L);
  es_theory2_layer *L2 = malloc((size_t)T * sizeof *L2);
  es_theory_leak_layer *LL = leaky ? malloc((size_t)T * sizeof *LL) : NULL;
  es_theory_leak2_layer *LP = leaky ? malloc((size_t)T * sizeof *LP) : NULL;
  double tm = 0, tt = 0, tc = 0;
  int n = 0, nc = 0;
  const double start = es_cputime();
  for (int s = 0; q && L && L2 && s < 9 && (n == 0 || es_cputime() - start < 0.5); s++) {
    const int64_t iw = (2 * (s % 3) + 1) * nw / 6, ib = (2 * (s / 3) + 1) * nb / 6;
    es_mft_params mp = {j->act, j->sigma_w2.v[iw], j->sigma_b2.v[ib], j->leak, j->noise, j->q0,
                        j->c0};
    es_mft_point pt;
    double t0 = es_cputime();
    es_mft_fixed_point(&mp, &pt);
    if (dmft)
      es_mft_dmft(&mp, 1, T, q, q + T, q + 2 * T);
    else
      es_mft_trajectory(&mp, T, q, q + T, q + 2 * T);
    if (ts && cts)
      es_mft_dmft_two_time(&mp, j->arch == ES_ARCH_RECURRENT, T, q, q + T, q + 2 * T, nd, ts,
                           j->nlags, j->lags, cts, cts + nd * j->nlags);
    double t1 = es_cputime();
    if (theory) { /* the run's own call (driver.c, es__theory) */
      es_status st2;
      es_theory_layers_both(&mp, j->c0, T, L, L2, &st2);
    }
    if (leaky && LL && LP) { /* doc/physics.md 5.6: one input, the pair, the tangent */
      es_theory_leak_layers(&mp, T, LL);
      es_theory_leak2_layers(&mp, ES_THEORY_PAIR, j->q0, j->q0, j->c0 * j->q0, T, LP);
      es_theory_leak2_layers(&mp, ES_THEORY_TANGENT, j->q0, 0, 0, T, LP);
    }
    if (j->arch == ES_ARCH_FEEDFORWARD) { /* the finite-width correlation lengths */
      es_theory_xi x;
      es_theory_xi_coeffs(&mp, &pt, &x);
    }
    double t2 = es_cputime();
    if (s < 3) { /* the critical line: once per sigma_b2 */
      double crit;
      char why[96];
      es_mft_critical(&mp, &crit, why);
      tc += es_cputime() - t2;
      nc++;
    }
    tm += t1 - t0;
    tt += t2 - t1;
    n++;
  }
  free(q);
  free(L);
  free(L2);
  free(LL);
  free(LP);
  free(ts);
  free(cts);
  *mft_s = n ? tm / n * (double)(nw * nb) + (nc ? tc / nc * (double)nb : 0) : NAN;
  *theory_s = n ? tt / n * (double)(nw * nb) : NAN;
}

/* The memory limit this process lives under: physical memory, or a smaller cgroup (v2 or v1)
 * limit (Slurm's and containers' way to cap a job). */
static long double es__mem_limit(void) {
  long double lim = (long double)sysconf(_SC_PHYS_PAGES) * (long double)sysconf(_SC_PAGESIZE);
  static const char *const files[] = {"/sys/fs/cgroup/memory.max",
                                      "/sys/fs/cgroup/memory/memory.limit_in_bytes"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    FILE *f = fopen(files[i], "r");
    if (!f) continue;
    char buf[64] = "";
    if (fgets(buf, sizeof buf, f)) {
      char *end;
      long double v = strtold(buf, &end);
      if (end != buf && v > 0 && v < lim) lim = v;
    }
    fclose(f);
  }
  return lim;
}

void es__estimate_job(const es_job *j, const char *out, int size, int local_ranks, int measure,
                      es__estimate *e) {
  memset(e, 0, sizeof *e);
  long double maxn = 0;
  for (int64_t i = 0; i < j->width.n; i++) maxn = fmaxl(maxn, j->width.v[i]);
  const long double nw = j->sigma_w2.n, nb = j->sigma_b2.n, nd = j->depth.n, nn = j->width.n;
  const long double tmax = j->depth.v[j->depth.n - 1], nwb = nw * nb;
  e->pairs = j->sigma_w2.n * j->sigma_b2.n;
  e->points = e->pairs * j->width.n;
  e->ranks = size;
  e->local_ranks = local_ranks > 0 ? local_ranks : 1;
  e->networks_per_task = es__networks_per_task(j, e->points, size);
  e->tasks = e->points * ((j->networks + e->networks_per_task - 1) / e->networks_per_task);
  /* With networks_per_task = 0 the plan splits points only when there are fewer than 4 per
   * rank: the count holds up to this many ranks (-1: any number). */
  e->ranks_upto = j->networks_per_task > 0 ? -1 : e->points / 4;
  const long double points = (long double)e->points, ntasks = (long double)e->tasks;
  /* Per rank: one network's workspace (a recurrent W is N^2 doubles, held per network; dense
   * feedforward draws W a chunk of rows at a time), a task's measurements (an owner also
   * receives results from every rank and holds the state of its points in flight), the pair tasks'
   * theory (per depth up to the deepest; the two-time DMFT of a leaky or noisy recurrent
   * network is 9 (T+1)^2 doubles), rank 0's plan and post-processing slices. */
  e->w_bytes = j->arch == ES_ARCH_RECURRENT ? maxn * maxn * 8 : 0;
  /* With lags each network keeps its last max(L) + 1 layers' (h_a, d). */
  const long double ring =
      j->nlags > 0 ? (long double)(j->lags[j->nlags - 1] + 1) * 2 * maxn * 8 : 0;
  const long double ws =
      e->w_bytes + ring +
      (j->method == ES_METHOD_DENSE ? 13 * maxn * 8 + 32768.0L * 8 : 4 * maxn * 8 + 65536.0L * 8);
  /* A task's measurements, all held at once (a task folded where it ran holds 64 networks'
   * at a time: this bound is high for those). */
  e->task_bytes = (long double)e->networks_per_task * nd * es_nobs_len(j->nlags) * 8;
  const long double inflight =
      (long double)size * (e->task_bytes + es_obs_state_len(j->nlags) * nd * 8);
  const int dmft =
      (j->arch == ES_ARCH_RECURRENT && !(j->leak == 1 && j->noise == 0)) || j->nlags > 0;
  e->dmft_bytes = dmft ? 9 * (tmax + 1) * (tmax + 1) * 8 : 0;
  /* Leak != 1 (feedforward): the two-channel recursion's 3x3 blocks per pair of layers,
   * 18 (T+2)^2 doubles, and its 2-D Hermite workspace (doc/physics.md 5.6.3). */
  const long double tl = fminl(tmax, ES_THEORY_LEAK2_TMAX) + 2;
  const long double leak2 =
      j->arch == ES_ARCH_FEEDFORWARD && j->leak != 1 ? 18 * tl * tl * 8 + (12 << 20) : 0;
  const long double theory =
      tmax * (2 * 8 * 16 + 3 * 8) + 12 * nd * nn * 8 + fmaxl(e->dmft_bytes, leak2);
  const long double plan = points * 64 + ntasks * 40 + nwb * 8 + 4096 * 64;
  const long double post =
      fminl(4 * nw * nd * nn, 1 << 23) * 8 + nw * nd * 4 * 8 + nd * nn * (7 * 8 + 10) + nw * nb * 8;
  e->mem_bytes = ws + e->task_bytes + theory + inflight + plan + post + (16 << 20);
  e->out_bytes = es_h5out_layout_bytes(j, e->tasks);
  e->write_s = (double)e->points * (ES__WRITE_POINT_S + ES__WRITE_DEPTH_S * (double)nd);
  e->setup_s = ES__SETUP_S * size;
  e->ram_bytes = es__mem_limit();
  e->free_bytes = HUGE_VALL;
  char dir[4100];
  snprintf(dir, sizeof dir, "%s", out);
  char *slash = strrchr(dir, '/');
  if (slash)
    slash == dir ? (void)(dir[1] = '\0') : (void)(*slash = '\0');
  else
    snprintf(dir, sizeof dir, ".");
  struct statvfs fs;
  if (statvfs(dir, &fs) == 0) e->free_bytes = (long double)fs.f_bavail * (long double)fs.f_frsize;
  if (!measure) return;
  e->measured = 1;
  for (int64_t in = 0; in < j->width.n; in++)
    e->sim_s += es__sample_network(j, in) * (double)j->networks * (double)e->pairs;
  es__sample_pairs(j, &e->mft_s, &e->theory_s);
}
