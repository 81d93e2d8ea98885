#define _GNU_SOURCE /* fallocate */
#include "edgesweep/driver.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "edgesweep/buildinfo.h"
#include "edgesweep/critical.h"
#include "edgesweep/ensemble.h"
#include "edgesweep/h5out.h"
#include "edgesweep/mft.h"
#include "edgesweep/observables.h"
#include "edgesweep/theory.h"
#include "es_config.h"
#include "progress.h"
#include "simd.h"
#include "sweep.h"

/* ---------- signals: stop handing out work, drop the tasks in flight, flush, exit 3 ---------- */

volatile sig_atomic_t es__stop = 0;

static void es__on_signal(int sig) { es__stop = sig; }

/* Installed once, before MPI starts, and kept until the process ends: a signal in start-up,
 * in MPI_Init or MPI_Finalize, or while the file is closed is noted, never fatal, and the
 * run ends with exit 3 at its next safe point. */
void es_run_signals(void) {
  static int installed = 0;
  static const int sigs[3] = {SIGTERM, SIGUSR1, SIGINT};
  if (installed) return;
  installed = 1;
  for (int i = 0; i < 3; i++) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = es__on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(sigs[i], &sa, NULL);
  }
}

int es_run_stopped(void) { return (int)es__stop; }

/* Collective. ES_ERR_STOPPED on every rank when any rank has been signalled. */
static es_status es__stopped(MPI_Comm comm, const char *when) {
  es_status st = ES_OK;
  if (es__stop) {
    es_error_set("signal %d came %s", (int)es__stop, when);
    st = ES_ERR_STOPPED;
  }
  return es__agree(comm, st);
}

/* ---------- status agreement ---------- */

es_status es__mpi_status(int code, const char *call, const char *file, int line) {
  if (code == MPI_SUCCESS) return ES_OK;
  char msg[MPI_MAX_ERROR_STRING] = "";
  int len = 0, rank = -1;
  if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "code %d", code);
  int world_rank_ok = MPI_Comm_rank(MPI_COMM_WORLD, &rank) == MPI_SUCCESS;
  char where[48] = "";
  snprintf(where, sizeof where, world_rank_ok ? " on rank %d" : "", rank);
  es_error_set("MPI failed%s in %s (%s:%d): %s", where, call, file, line, msg);
  return ES_ERR_MPI;
}

es_status es__agree(MPI_Comm comm, es_status st) {
  int rank, mine = (int)st, worst;
  ES_MPI(MPI_Comm_rank(comm, &rank));
  ES_MPI(MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, comm));
  if (worst == ES_OK) return ES_OK;
  /* The lowest rank holding the worst status speaks. */
  int who = mine == worst ? rank : INT32_MAX, speaker;
  ES_MPI(MPI_Allreduce(&who, &speaker, 1, MPI_INT, MPI_MIN, comm));
  char msg[4096];
  snprintf(msg, sizeof msg, "%s", es_error_msg());
  ES_MPI(MPI_Bcast(msg, sizeof msg, MPI_CHAR, speaker, comm));
  es_error_set("%s", msg);
  return (es_status)worst;
}

/* ---------- job loading: rank 0 reads, everyone parses the same text ---------- */

static es_status es__load(MPI_Comm comm, const es_run_opts *o, es_job **job) {
  int rank;
  *job = NULL;
  ES_MPI(MPI_Comm_rank(comm, &rank));
  es_status st = ES_OK;
  if (rank == 0) st = es_job_load(o->job_path, o->sets, o->nsets, job);
  ES_CALL(es__agree(comm, st));
  long long len = rank == 0 ? (long long)strlen((*job)->text) : 0;
  ES_MPI(MPI_Bcast(&len, 1, MPI_LONG_LONG, 0, comm));
  char *text = rank == 0 ? (*job)->text : malloc((size_t)len + 1);
  st = text ? ES_OK : ES_ERR_NOMEM;
  ES_CALL(es__agree(comm, st));
  st = ES_MPI_ST(MPI_Bcast(text, (int)len + 1, MPI_CHAR, 0, comm));
  if (rank != 0) {
    if (st == ES_OK) st = es_job_parse(o->job_path, text, o->sets, o->nsets, job);
    free(text);
  }
  return es__agree(comm, st);
}

/* ---------- output safety ---------- */

/* The longest suffix edgesweep puts on the output's name (OUT.h5.partial.init). */
#define ES__SUFFIX_MAX (sizeof ".partial.init" - 1)
/* Open MPI 4.1's MPI-IO (OMPIO) formats the path it is given, plus ".locktest.RANK", into a
 * 256-byte buffer (sharedfp/lockedfile: a longer path aborts the process), and names a file
 * BASENAME_cid-C-PID.sm in its session directory (sharedfp/sm: NAME_MAX). Found by
 * experiment: the layout file's path must stay within these, with room for 10-digit ranks,
 * communicator ids and process ids. */
#define ES__MPIIO_PATH_MAX (255 - sizeof ".locktest." - 10)
#define ES__MPIIO_NAME_MAX (255 - sizeof "_cid--.sm" - 20)

/* Not collective. Whatever about the output path would fail later: empty, a directory, a
 * parent that is missing, not a directory or not writable, a name too long for the file
 * system or for MPI-IO once the .partial.init suffix is added. Touches nothing. */
static es_status es__check_path(const char *out) {
  ES_CHECK(out[0], ES_ERR_INPUT, "the output path is empty: give -o OUT.h5 or [run] output");
  const size_t len = strlen(out);
  ES_CHECK(out[len - 1] != '/', ES_ERR_INPUT,
           "%s: the output path names a directory; give a file name (e.g. %sout.h5)", out, out);
  const char *base = strrchr(out, '/');
  base = base ? base + 1 : out;
  ES_CHECK(strcmp(base, ".") != 0 && strcmp(base, "..") != 0, ES_ERR_INPUT,
           "%s: the output path names a directory; give a file name", out);
  char dir[PATH_MAX];
  ES_CHECK(len + ES__SUFFIX_MAX < sizeof dir, ES_ERR_INPUT,
           "%s: the output path is %zu characters; with its .partial.init suffix it exceeds "
           "the system's limit of %d (PATH_MAX)",
           out, len, PATH_MAX - 1);
  snprintf(dir, sizeof dir, "%.*s", base == out ? 1 : (int)(base - out - (base - out > 1)),
           base == out ? "." : out);
  struct stat sb;
  if (stat(dir, &sb) != 0) {
    ES_CHECK(errno != ENOENT, ES_ERR_INPUT, "%s: the output directory %s does not exist", out, dir);
    ES_CHECK(errno != ENOTDIR, ES_ERR_INPUT,
             "%s: the output directory %s is not a directory (a part of it is a file)", out, dir);
    ES_CHECK(0, ES_ERR_INPUT, "%s: the output directory %s: %s", out, dir, strerror(errno));
  }
  ES_CHECK(S_ISDIR(sb.st_mode), ES_ERR_INPUT, "%s: the output directory %s is not a directory", out,
           dir);
  ES_CHECK(access(dir, W_OK | X_OK) == 0, ES_ERR_INPUT,
           "%s: the output directory %s is not writable", out, dir);
  long name_max = pathconf(dir, _PC_NAME_MAX);
  if (name_max <= 0) name_max = NAME_MAX;
  ES_CHECK(strlen(base) + ES__SUFFIX_MAX <= (size_t)name_max, ES_ERR_INPUT,
           "%s: the file name is %zu characters; with its .partial.init suffix it exceeds this "
           "file system's limit of %ld (NAME_MAX): choose a shorter name",
           out, strlen(base), name_max);
  ES_CHECK(len + ES__SUFFIX_MAX <= ES__MPIIO_PATH_MAX &&
               strlen(base) + ES__SUFFIX_MAX <= ES__MPIIO_NAME_MAX,
           ES_ERR_INPUT,
           "%s: the output path is %zu characters; Open MPI's MPI-IO takes at most %zu (%zu for "
           "the file name) with the .partial.init suffix: choose a shorter path (a relative "
           "one counts only what you type)",
           out, len, ES__MPIIO_PATH_MAX - ES__SUFFIX_MAX, ES__MPIIO_NAME_MAX - ES__SUFFIX_MAX);
  /* The output, and each file edgesweep makes beside it, must be a regular file if it exists:
   * --force replaces files, never a directory or a device. */
  static const char *const sfx[] = {"", ".partial", ".partial.init", ".lock"};
  for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s%s", out, sfx[i]);
    if (stat(p, &sb) == 0)
      ES_CHECK(S_ISREG(sb.st_mode), ES_ERR_INPUT,
               "%s is a %s, not a file: edgesweep writes only regular files there (remove it "
               "or choose another output)",
               p, S_ISDIR(sb.st_mode) ? "directory" : "special file");
  }
  return ES_OK;
}

static es_status es__check_output(const char *out, int force) {
  ES_CHECK(strlen(out) < 4000, ES_ERR_INPUT, "output path too long");
  char partial[4100];
  snprintf(partial, sizeof partial, "%s.partial", out);
  ES_CHECK(force || access(out, F_OK) != 0, ES_ERR_INPUT,
           "%s exists; edgesweep never overwrites a result (use --force to replace it)", out);
  ES_CHECK(force || access(partial, F_OK) != 0, ES_ERR_INPUT,
           "%s exists: an interrupted run of this output. Continue it with --resume, or start over "
           "with --force",
           partial);
  char dir[4100];
  snprintf(dir, sizeof dir, "%s", out);
  char *slash = strrchr(dir, '/');
  if (slash == dir)
    dir[1] = '\0';
  else if (slash)
    *slash = '\0';
  else
    snprintf(dir, sizeof dir, ".");
  ES_CHECK(access(dir, F_OK) == 0, ES_ERR_INPUT, "%s: the output directory %s does not exist", out,
           dir);
  ES_CHECK(access(dir, W_OK) == 0, ES_ERR_INPUT, "%s: the output directory %s is not writable", out,
           dir);
  return ES_OK;
}

/* ---------- provenance ---------- */

void es_host(char *buf, size_t n) {
  snprintf(buf, n, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "model name", 10) == 0) {
      char *c = strchr(line, ':');
      if (c) {
        c++;
        while (*c == ' ') c++;
        c[strcspn(c, "\n")] = '\0';
        snprintf(buf, n, "%s", c);
      }
      break;
    }
  fclose(f);
  char hn[256];
  if (gethostname(hn, sizeof hn) == 0) {
    size_t l = strlen(buf);
    hn[sizeof hn - 1] = '\0';
    snprintf(buf + l, n - l, " on %s", hn);
  }
}

void es_libraries(char *buf, size_t n) {
  char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
  int len;
  if (MPI_Get_library_version(mpi, &len) != MPI_SUCCESS) snprintf(mpi, sizeof mpi, "MPI");
  mpi[strcspn(mpi, "\n,")] = '\0';
  /* No BLAS: the dense products are edgesweep's own kernel, so that their bits depend on N
   * alone. The kernels' path is recorded, though every path gives the same bits. */
  static const char *const path[] = {"auto", "scalar", "scalar+fma", "avx2", "avx512"};
  snprintf(buf, n, "%s; HDF5 %s; Random123 %s Philox4x32-10; own kernels, %s path", mpi,
           es_h5out_hdf5_version(), ES_RANDOM123_VERSION, path[es__simd_best()]);
}

/* ---------- one simulation point ---------- */

/* ---------- /theory: the 1/N predictions at every depth and width of one pair ---------- */

static es_status es__theory(es__sweep *s, const es_mft_params *mp, int64_t iw, int64_t ib,
                            const double *c_mft) {
  const es_job *j = s->job;
  const int64_t nd = j->depth.n, nn = j->width.n, tmax = (int64_t)j->depth.v[nd - 1];
  enum { NF = 12 };
  es_theory_layer *L = malloc((size_t)tmax * sizeof *L);
  es_theory2_layer *L2 = malloc((size_t)tmax * sizeof *L2);
  double *out = malloc((size_t)(NF * nd * nn) * sizeof *out);
  es_status st = L && L2 && out ? ES_OK : ES_ERR_NOMEM;
  if (st != ES_OK) es_error_set("out of memory");
  /* The recursions assume fresh weights per layer; shared (recurrent) weights correlate
   * the layers' fluctuations, so there is no 1/N theory for them: NaN. */
  /* Both inputs have |x|^2/N0 = q0 and cosine c0 (doc/physics.md §2): the two recursions
   * share their one-input moments. */
  es_status st2 = ES_ERR_INPUT;
  int ok = st == ES_OK && j->arch == ES_ARCH_FEEDFORWARD &&
           es_theory_layers_both(mp, j->c0, (int)tmax, L, L2, &st2) == ES_OK;
  /* Leak != 1 (feedforward): the forward sector of one input only (doc/physics.md §5.6). */
  es_theory_leak_layer *LL = NULL;
  if (st == ES_OK && !ok && j->arch == ES_ARCH_FEEDFORWARD) {
    LL = malloc((size_t)tmax * sizeof *LL);
    if (!LL || es_theory_leak_layers(mp, (int)tmax, LL) != ES_OK) {
      free(LL);
      LL = NULL;
    }
  }
  int ok2 = ok && st2 == ES_OK;
  /* Leak != 1: the two inputs and the tangent (doc/physics.md §5.6.3). */
  es_theory_leak2_layer *LP = NULL, *LT = NULL;
  if (LL) {
    LP = malloc((size_t)tmax * sizeof *LP);
    LT = malloc((size_t)tmax * sizeof *LT);
    if (!LP || es_theory_leak2_layers(mp, ES_THEORY_PAIR, j->q0, j->q0, j->c0 * j->q0, (int)tmax,
                                      LP) != ES_OK) {
      free(LP);
      LP = NULL;
    }
    if (!LT || es_theory_leak2_layers(mp, ES_THEORY_TANGENT, j->q0, 0, 0, (int)tmax, LT) != ES_OK) {
      free(LT);
      LT = NULL;
    }
  }
  for (int64_t k = 0; st == ES_OK && k < nd; k++)
    for (int64_t in = 0; in < nn; in++) {
      const double N = j->width.v[in];
      es_theory_pred pr = {NAN, NAN, NAN, NAN, NAN, NAN};
      es_theory2_pred p2 = {NAN, NAN, NAN, NAN};
      const es_theory_layer *l = &L[(int64_t)j->depth.v[k] - 1];
      if (ok) es_theory_predict(l, N, &pr);
      const int64_t d = (int64_t)j->depth.v[k] - 1;
      if (LL) es_theory_leak_predict(&LL[d], N, &pr);
      if (LT) es_theory_leak2_tangent_predict(&LT[d], N, &pr);
      if (ok2) es_theory2_predict(&L2[d], N, &p2);
      if (LP) es_theory_leak2_pair_predict(&LP[d], N, &p2);
      const double kurt = ok   ? 3 * (l->Vzz / (N * l->K * l->K))
                          : LL ? es_theory_leak_kurtosis(&LL[d], N)
                               : NAN;
      /* eps_K = kurtosis/3, as the regime map reads the measured one; at leak 1 also
       * Var G/(E G)^2 = Vzz/(N K^2). */
      const double epsk = ok ? l->Vzz / (N * l->K * l->K) : kurt / 3;
      /* No 1/N theory of c (recurrent; leak != 1 past the depth or leak range the series
       * covers): the MFT c, the leading order. */
      const double cm = ok2 ? p2.c_mean : LP && !isnan(p2.c_mean) ? p2.c_mean : c_mft[k];
      const double v[NF] = {pr.q_mean,      pr.q_var,      pr.logq_mean, pr.logq_var,
                            pr.logjac_mean, pr.logjac_var, kurt,         cm,
                            p2.c_var,       p2.qab_mean,   p2.qab_var,   epsk};
      for (int f = 0; f < NF; f++) out[(f * nd + k) * nn + in] = v[f];
    }
  static const es_dataset names[NF] = {
      ES_DS_THEORY_Q_MEAN,   ES_DS_THEORY_Q_VAR,       ES_DS_THEORY_LOGQ_MEAN,
      ES_DS_THEORY_LOGQ_VAR, ES_DS_THEORY_LOGJAC_MEAN, ES_DS_THEORY_LOGJAC_VAR,
      ES_DS_THEORY_KURTOSIS, ES_DS_THEORY_C_MEAN,      ES_DS_THEORY_C_VAR,
      ES_DS_THEORY_QAB_MEAN, ES_DS_THEORY_QAB_VAR,     ES_DS_THEORY_EPS_K};
  int64_t s4[4] = {iw, ib, 0, 0}, c4[4] = {1, 1, nd, nn};
  for (int f = 0; st == ES_OK && f < NF; f++)
    st = es_h5out_write_f64(s->out, names[f], s4, c4, out + f * nd * nn);
  free(L);
  free(L2);
  free(LL);
  free(LP);
  free(LT);
  free(out);
  return st;
}

/* /theory/xi_q, xi_c: the finite-width depth scales of one pair at every width. Shared
 * weights correlate the layers' fluctuations (no 1/N theory, as above): NaN. */
static es_status es__theory_xi(es__sweep *s, const es_mft_params *mp, const es_mft_point *pt,
                               int64_t iw, int64_t ib) {
  const es_job *j = s->job;
  const int64_t nn = j->width.n;
  double *v = malloc((size_t)(2 * nn) * sizeof *v);
  if (!v) {
    es_error_set("out of memory");
    return ES_ERR_NOMEM;
  }
  es_theory_xi x = {NAN, NAN, NAN, NAN};
  if (j->arch != ES_ARCH_FEEDFORWARD || es_theory_xi_coeffs(mp, pt, &x) != ES_OK)
    x = (es_theory_xi){NAN, NAN, NAN, NAN};
  for (int64_t in = 0; in < nn; in++) {
    v[in] = es_theory_xi_at(x.xi_q, x.d_q, j->width.v[in]);
    v[nn + in] = es_theory_xi_at(x.xi_c, x.d_c, j->width.v[in]);
  }
  int64_t s3[3] = {iw, ib, 0}, c3[3] = {1, 1, nn};
  es_status st = es_h5out_write_f64(s->out, ES_DS_THEORY_XI_Q, s3, c3, v);
  if (st == ES_OK) st = es_h5out_write_f64(s->out, ES_DS_THEORY_XI_C, s3, c3, v + nn);
  free(v);
  return st;
}

/* Not collective. The Gaussian-regime map (doc/physics.md §7) after the sweep, one (sigma_w2,
 * sigma_b2) slab at a time, each rank the sigma_b2 of its turn (rank, rank + size, ...): the
 * measured normalised kernel variance against the theory's leading order, and the class from
 * the measured eps_K = kurtosis/3 and eps_J = Var logjac. */
static es_status es__gaussian(es__sweep *s) {
  const es_job *j = s->job;
  const int64_t nd = j->depth.n, nn = j->width.n, m = nd * nn;
  enum { NIN = 6 };
  static const es_dataset in[NIN] = {ES_DS_ENSEMBLE_Q_MEAN,   ES_DS_ENSEMBLE_Q_VAR,
                                     ES_DS_ENSEMBLE_KURTOSIS, ES_DS_ENSEMBLE_LOGJAC_VAR,
                                     ES_DS_THEORY_EPS_K,      ES_DS_THEORY_LOGQ_VAR};
  double *b = malloc((size_t)(m * (NIN + 2)) * sizeof *b);
  signed char *cls = malloc((size_t)m), *status = malloc((size_t)m);
  int64_t *nets = malloc((size_t)m * sizeof *nets);
  es_status st = b && cls && status && nets ? ES_OK : ES_ERR_NOMEM;
  if (st != ES_OK) es_error_set("out of memory");
  double *dev = b + NIN * m, *err = dev + m;
  for (int64_t ib = s->rank; st == ES_OK && ib < j->sigma_b2.n; ib += s->size)
    for (int64_t iw = 0; st == ES_OK && iw < j->sigma_w2.n; iw++) {
      int64_t s4[4] = {iw, ib, 0, 0}, c4[4] = {1, 1, nd, nn}, s3[3] = {iw, ib, 0},
              c3[3] = {1, 1, nn};
      for (int f = 0; st == ES_OK && f < NIN; f++)
        st = es_h5out_read_f64(s->out, in[f], s4, c4, b + f * m);
      if (st == ES_OK) st = es_h5out_read_i64(s->out, ES_DS_ENSEMBLE_NETWORKS, s4, c4, nets);
      if (st == ES_OK) st = es_h5out_read_i8(s->out, ES_DS_RUN_STATUS, s3, c3, status);
      if (st != ES_OK) break;
      for (int64_t k = 0; k < nd; k++)
        for (int64_t n = 0; n < nn; n++) {
          const int64_t i = k * nn + n;
          double qm = b[i], qv = b[m + i], ku = b[2 * m + i], jv = b[3 * m + i];
          /* The theory's own order: (Vzz + 2K^2)/(N K^2) = eps_K + 2/N, not over its
           * corrected mean squared, whose O(T^2/N^2) part diverges where K1/(N K) -> -1. */
          /* Leak != 1: Var q/K^2 = N Var q/(N K^2), the theory's logq_var (eps_K is then
           * the kurtosis over 3, no longer Var G/(E G)^2). */
          double M = (double)nets[i], rm = qv / (qm * qm),
                 rt = j->leak == 1 ? b[4 * m + i] + 2 / j->width.v[n] : b[5 * m + i];
          int done = status[n] == ES_POINT_DONE && M >= 2;
          dev[i] = done ? rm / rt - 1 : NAN;
          /* Gaussian-sample error of a variance, 2/(M-1), and of the squared mean. */
          err[i] = done ? (rm / rt) * sqrt(2 / (M - 1) + 4 * qv / (M * qm * qm)) : NAN;
          cls[i] = (signed char)(done ? es_crit_regime(ku / 3, jv) : ES_REGIME_UNKNOWN);
        }
      st = es_h5out_write_f64(s->out, ES_DS_THEORY_KERNEL_VAR_DEV, s4, c4, dev);
      if (st == ES_OK)
        st = es_h5out_write_f64(s->out, ES_DS_THEORY_KERNEL_VAR_DEV_ERR, s4, c4, err);
      if (st == ES_OK) st = es_h5out_write_i8(s->out, ES_DS_THEORY_REGIME, s4, c4, cls);
    }
  free(b);
  free(cls);
  free(status);
  free(nets);
  return st;
}

/* ---------- mean-field theory and 1/N theory of one (sigma_w2, sigma_b2) ---------- */

/* The recurrent summary with leak or noise (doc/physics.md §3.6); leak 0 has no stationary
 * state (the residual net's variance grows without bound): NaN with the reason. */
static void es__recurrent_point(const es_mft_params *mp, es_mft_point *pt, double *corr_time) {
  if (mp->leak > 0 && es_mft_recurrent_point(mp, pt, corr_time) == ES_OK) return;
  const char *why = mp->leak > 0 ? es_error_msg() : "recurrent with leak 0: no stationary state";
  *pt = (es_mft_point){ES_PHASE_NO_FIXED_POINT, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, ""};
  *corr_time = NAN;
  snprintf(pt->reason, sizeof pt->reason, "%s", why);
}

/* The two-time DMFT C(t, t - L) at the recorded depths and the job's lags (doc/physics.md
 * §3.1.1): shared weights when recurrent, independent layers when feedforward. Its T x T
 * matrices may not fit for a very deep job: then NaN, the rest of the pair stands. */
static es_status es__two_time(es__sweep *s, const es_mft_params *mp, int64_t iw, int64_t ib) {
  const es_job *j = s->job;
  const int64_t nd = j->depth.n, nl = j->nlags, tmax = (int64_t)j->depth.v[nd - 1];
  double *q = malloc((size_t)(3 * tmax + 2 * nd * nl) * sizeof *q);
  int64_t *ts = malloc((size_t)nd * sizeof *ts);
  if (!q || !ts) {
    free(q);
    free(ts);
    es_error_set("out of memory");
    return ES_ERR_NOMEM;
  }
  double *caa = q + 3 * tmax, *cab = caa + nd * nl;
  for (int64_t k = 0; k < nd; k++) ts[k] = (int64_t)j->depth.v[k];
  if (es_mft_dmft_two_time(mp, j->arch == ES_ARCH_RECURRENT, (int)tmax, q, q + tmax, q + 2 * tmax,
                           nd, ts, nl, j->lags, caa, cab) != ES_OK)
    for (int64_t i = 0; i < 2 * nd * nl; i++) caa[i] = NAN;
  int64_t s4[4] = {iw, ib, 0, 0}, c4[4] = {1, 1, nd, nl};
  es_status st = es_h5out_write_f64(s->out, ES_DS_MFT_CTS_AA, s4, c4, caa);
  if (st == ES_OK) st = es_h5out_write_f64(s->out, ES_DS_MFT_CTS_AB, s4, c4, cab);
  free(q);
  free(ts);
  return st;
}

/* A task of the sweep's queue (schedule.c), run by whichever rank is free. */
es_status es__pair(es__sweep *s, int64_t k) {
  const es_job *j = s->job;
  const int64_t nd = j->depth.n, tmax = (int64_t)j->depth.v[nd - 1];
  const int64_t iw = k % j->sigma_w2.n, ib = k / j->sigma_w2.n;
  double *q = malloc((size_t)tmax * 3 * sizeof *q);
  double *rec = malloc((size_t)nd * 3 * sizeof *rec);
  if (!q || !rec) {
    free(q);
    free(rec);
    es_error_set("out of memory");
    return ES_ERR_NOMEM;
  }
  es_status st = ES_OK;
  es_mft_params mp = {j->act, j->sigma_w2.v[iw], j->sigma_b2.v[ib], j->leak, j->noise, j->q0,
                      j->c0};
  es_mft_point pt;
  if (es_mft_fixed_point(&mp, &pt) != ES_OK) {
    pt = (es_mft_point){ES_PHASE_NO_FIXED_POINT, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, ""};
    snprintf(pt.reason, sizeof pt.reason, "%s", es_error_msg());
  }
  /* Shared weights: the equal-time kernel is the feedforward one only at leak 1, noise 0
   * (doc/physics.md §3.1, §3.6); otherwise the summary is the stationary state of the two-time DMFT
   * and q, c, logjac below come from its time-dependent solution. */
  const int dmft = j->arch == ES_ARCH_RECURRENT && !(j->leak == 1 && j->noise == 0);
  double corr_time = j->arch == ES_ARCH_RECURRENT ? 0 : NAN; /* leak 1: C(tau >= 1) = C_inf */
  if (dmft) es__recurrent_point(&mp, &pt, &corr_time);
  int64_t s2[2] = {iw, ib}, c2[2] = {1, 1};
  const struct {
    es_dataset name;
    double v;
  } vals[] = {{ES_DS_MFT_Q_STAR, pt.q_star},   {ES_DS_MFT_C_STAR, pt.c_star},
              {ES_DS_MFT_CHI1, pt.chi1},       {ES_DS_MFT_CHI_Q, pt.chi_q},
              {ES_DS_MFT_CHI_C, pt.chi_c},     {ES_DS_MFT_XI_Q, pt.xi_q},
              {ES_DS_MFT_XI_C, pt.xi_c},       {ES_DS_MFT_LYAPUNOV, pt.lyapunov},
              {ES_DS_MFT_CORR_TIME, corr_time}};
  for (size_t i = 0; st == ES_OK && i < sizeof vals / sizeof vals[0]; i++)
    st = es_h5out_write_f64(s->out, vals[i].name, s2, c2, &vals[i].v);
  signed char ph = (signed char)pt.phase;
  if (st == ES_OK) st = es_h5out_write_i8(s->out, ES_DS_MFT_PHASE, s2, c2, &ph);
  if (st == ES_OK && pt.reason[0])
    st = es_h5out_write_text(s->out, ES_DS_MFT_REASON, s2, pt.reason);
  if (st == ES_OK) {
    es_status tr = dmft ? es_mft_dmft(&mp, 1, (int)tmax, q, q + tmax, q + 2 * tmax)
                        : es_mft_trajectory(&mp, (int)tmax, q, q + tmax, q + 2 * tmax);
    if (tr == ES_ERR_NOMEM) st = tr; /* the DMFT's T x T matrices */
    if (tr != ES_OK)
      for (int64_t t = 0; t < 3 * tmax; t++) q[t] = NAN;
  }
  for (int a = 0; a < 3; a++)
    for (int64_t d = 0; d < nd; d++) rec[a * nd + d] = q[a * tmax + (int64_t)j->depth.v[d] - 1];
  int64_t s3[3] = {iw, ib, 0}, c3[3] = {1, 1, nd};
  static const es_dataset tn[3] = {ES_DS_MFT_Q, ES_DS_MFT_C, ES_DS_MFT_LOGJAC};
  for (int a = 0; st == ES_OK && a < 3; a++)
    st = es_h5out_write_f64(s->out, tn[a], s3, c3, rec + a * nd);
  if (st == ES_OK && j->nlags > 0) st = es__two_time(s, &mp, iw, ib);
  if (st == ES_OK) st = es__theory(s, &mp, iw, ib, rec + nd);
  if (st == ES_OK) st = es__theory_xi(s, &mp, &pt, iw, ib);
  if (st == ES_OK && iw == 0) { /* the critical line at this sigma_b2 */
    double crit;
    char why[ES_REASON_LEN] = "";
    es_status cs =
        dmft ? es_mft_recurrent_critical(&mp, &crit, why) : es_mft_critical(&mp, &crit, why);
    if (cs != ES_OK) crit = NAN;
    int64_t s1[1] = {ib}, c1[1] = {1};
    st = es_h5out_write_f64(s->out, ES_DS_MFT_CRITICAL_SIGMA_W2, s1, c1, &crit);
  }
  /* Last, so that a pair cut short by a kill has no checksum (or a stale one that fails). */
  if (st == ES_OK) st = es_h5out_pair_seal(s->out, iw, ib, nd, j->width.n, j->nlags);
  free(q);
  free(rec);
  return st;
}

/* ---------- /phase: finite-N critical line, deepest Lyapunov exponent, measured xi_c ---------- */

/* Not collective. After every point is written: one (sigma_b2, width) slice at a time, so
 * memory stays at one slice whatever the grid; each rank takes the sigma_b2 of its turn
 * (rank, rank + size, ...), so that no rank reads the whole sweep back. */
static es_status es__phase(es__sweep *s) {
  const es_job *j = s->job;
  const int64_t nw = j->sigma_w2.n, nd = j->depth.n;
  double *buf = malloc((size_t)(nw * nd * 4 + nw * 4 + nd) * sizeof *buf);
  int64_t *t = malloc((size_t)nd * sizeof *t);
  if (!buf || !t) {
    free(buf);
    free(t);
    es_error_set("out of memory");
    return ES_ERR_NOMEM;
  }
  double *ly = buf, *lse = buf + nw * nd, *cm = buf + 2 * nw * nd, *cv = buf + 3 * nw * nd;
  double *deep = buf + 4 * nw * nd, *dse = deep + nw, *xi = dse + nw, *xie = xi + nw;
  double *se = xie + nw; /* nd entries */
  for (int64_t k = 0; k < nd; k++) t[k] = (int64_t)j->depth.v[k];
  /* MFT c* of every pair, written by the ranks that ran the pair tasks. */
  double *cstar = malloc((size_t)(nw * j->sigma_b2.n) * sizeof *cstar);
  int64_t z2[2] = {0, 0}, n2[2] = {nw, j->sigma_b2.n};
  es_status st = cstar ? es_h5out_read_f64(s->out, ES_DS_MFT_C_STAR, z2, n2, cstar) : ES_ERR_NOMEM;
  /* A (sigma_w2, width) slice is nw x nd strided values, one system call each through MPI-IO;
   * when the whole sigma_b2 block of the four fields is small it is read in nw pieces and
   * the slices are cut from memory. */
  static const es_dataset fin[4] = {ES_DS_ENSEMBLE_LYAPUNOV, ES_DS_ENSEMBLE_LYAPUNOV_STDERR,
                                    ES_DS_ENSEMBLE_C_MEAN, ES_DS_ENSEMBLE_C_VAR};
  double *const fout[4] = {ly, lse, cm, cv};
  const int64_t nn = j->width.n, blk = nw * nd * nn;
  double *block = st == ES_OK && nn > 1 && 4 * blk <= (1 << 23)
                      ? malloc((size_t)(4 * blk) * sizeof *block)
                      : NULL;
  for (int64_t ib = s->rank; st == ES_OK && ib < j->sigma_b2.n; ib += s->size)
    for (int64_t in = 0; st == ES_OK && in < j->width.n; in++) {
      if (block && in == 0)
        for (int f = 0; st == ES_OK && f < 4; f++) {
          int64_t sb[4] = {0, ib, 0, 0}, cb[4] = {nw, 1, nd, nn};
          st = es_h5out_read_f64(s->out, fin[f], sb, cb, block + f * blk);
        }
      for (int f = 0; st == ES_OK && f < 4; f++) {
        int64_t s4[4] = {0, ib, 0, in}, c4[4] = {nw, 1, nd, 1};
        if (block)
          for (int64_t i = 0; i < nw * nd; i++) fout[f][i] = block[f * blk + i * nn + in];
        else
          st = es_h5out_read_f64(s->out, fin[f], s4, c4, fout[f]);
      }
      if (st != ES_OK) break;
      for (int64_t iw = 0; iw < nw; iw++) {
        deep[iw] = ly[iw * nd + nd - 1];
        dse[iw] = lse[iw * nd + nd - 1];
        for (int64_t k = 0; k < nd; k++) se[k] = sqrt(cv[iw * nd + k] / (double)j->networks);
        const char *why;
        es_crit_xi(t, cm + iw * nd, se, nd, cstar[iw * j->sigma_b2.n + ib], &xi[iw], &xie[iw],
                   &why);
      }
      double crit, crit_err;
      const char *why;
      es_crit_crossing(j->sigma_w2.v, deep, dse, nw, &crit, &crit_err, &why);
      int64_t s3[3] = {0, ib, in}, c3[3] = {nw, 1, 1}, s2[2] = {ib, in}, c2[2] = {1, 1};
      st = es_h5out_write_f64(s->out, ES_DS_PHASE_LYAPUNOV, s3, c3, deep);
      if (st == ES_OK) st = es_h5out_write_f64(s->out, ES_DS_PHASE_LYAPUNOV_STDERR, s3, c3, dse);
      if (st == ES_OK) st = es_h5out_write_f64(s->out, ES_DS_PHASE_XI_C, s3, c3, xi);
      if (st == ES_OK) st = es_h5out_write_f64(s->out, ES_DS_PHASE_XI_C_ERR, s3, c3, xie);
      if (st == ES_OK)
        st = es_h5out_write_f64(s->out, ES_DS_PHASE_CRITICAL_SIGMA_W2, s2, c2, &crit);
      if (st == ES_OK)
        st = es_h5out_write_f64(s->out, ES_DS_PHASE_CRITICAL_SIGMA_W2_ERR, s2, c2, &crit_err);
    }
  free(block);
  free(buf);
  free(t);
  free(cstar);
  return st;
}

static es_status es__sweep_run(es__sweep *s, FILE *log, es_progress_mode mode) {
  es_status st = ES_OK;
  if (s->rank == 0) es_progress_start(&s->prog, log, mode, s->npoints_pending, "points");
  /* The /mft and /theory pairs are tasks of the queue (es__pair), beside the simulation. */
  st = es__schedule(s);
  if (s->rank == 0) es_progress_finish(&s->prog);
  /* Every point is in the file: then derive /phase from it. */
  st = es__agree(s->comm, st);
  if (st == ES_OK) st = es__stopped(s->comm, "after the sweep");
  if (st == ES_OK) st = es__agree(s->comm, es_h5out_flush(s->out));
  if (st == ES_OK) st = es__agree(s->comm, es__phase(s));
  if (st == ES_OK) st = es__agree(s->comm, es__gaussian(s));
  return st;
}

/* ---------- plan estimates: shown by `check`, enforced by `run` and `check` ---------- */

/* The room a new output takes: the layout's estimate (within a few per cent of the file)
 * with a margin, so that the disk check and the reservation made before HDF5 builds the
 * layout (es__reserve) use one bound, and a file that passes the one fits the other. */
static long double es__room(const es__estimate *e) { return e->out_bytes * 1.1L + 65536.0L; }

/* Refuse, before anything is written, a job that cannot fit this machine: every rank on this
 * node within the memory limit, and (for a new file) the output within the free disk. */
static es_status es__check_fits(const es_job *j, const es__estimate *e, int new_file) {
  const long double gib = 1073741824.0L, need = e->mem_bytes * e->local_ranks;
  const char *big = e->w_bytes >= 0.5L * e->mem_bytes
                        ? "the recurrent W (N^2 doubles): lower [grid] width"
                    : e->dmft_bytes >= 0.5L * e->mem_bytes
                        ? "the two-time DMFT (9 (T+1)^2 doubles): lower the deepest [grid] depth"
                        : "networks x depths x observables doubles per task: lower [ensemble] "
                          "networks (or networks_per_task) or the number of depths";
  ES_CHECK(need <= 0.9L * e->ram_bytes, ES_ERR_INPUT,
           "%s: one point needs ~%.3Lg GiB per rank (%d rank%s here: %.3Lg GiB), more than this "
           "machine's memory limit of %.3Lg GiB; mostly %s",
           j->path, e->mem_bytes / gib, e->local_ranks, e->local_ranks > 1 ? "s" : "", need / gib,
           e->ram_bytes / gib, big);
  ES_CHECK(!new_file || es__room(e) <= e->free_bytes, ES_ERR_INPUT,
           "%s: the output would take ~%.3Lg GiB but only %.3Lg GiB are free there: shrink [grid]",
           j->path, es__room(e) / gib, e->free_bytes / gib);
  return ES_OK;
}

/* Collective. Ranks of COMM on this node (shared memory). */
static int es__local_ranks(MPI_Comm comm) {
  MPI_Comm node;
  int n = 1;
  if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
    if (MPI_Comm_size(node, &n) != MPI_SUCCESS) n = 1; /* only an estimate's factor */
    if (MPI_Comm_free(&node) != MPI_SUCCESS) n = n > 0 ? n : 1;
  }
  return n;
}

/* Rank 0 decides between a fresh run (0), a resume of OUT.partial (1) and nothing to do
 * because OUT is complete (2); every rank learns it. A complete OUT whose points hold fewer
 * networks than the job asks is reopened as a partial file and grows. */
/* Rank 0 holds a POSIX write lock on OUT.lock for the whole run, which the kernel drops when
 * the process ends, kill -9 included. Parallel HDF5 takes no lock of its own, so this is what
 * refuses a second edgesweep on the same output, or a resume started while a killed launch's
 * ranks still run (they outlive a killed mpirun by about a second). Where the file system has
 * no locks (ENOLCK), the run goes on without. */
static es_status es__lock(es__sweep *s, const char *out) {
  char path[4200];
  snprintf(path, sizeof path, "%s.lock", out);
  s->lock_made = access(path, F_OK) != 0;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ES_OK; /* no such directory, not writable: the output checks say which */
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  if (fcntl(fd, F_SETLK, &fl) != 0 && errno != ENOLCK) {
    struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    long pid = fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK ? (long)q.l_pid : 0;
    close(fd); /* the file is the other run's */
    es_error_set(
        "%s is being written by another edgesweep (process %ld holds %s); wait for it "
        "to end or stop it, then run again",
        out, pid, path);
    return ES_ERR_INPUT;
  }
  s->lock_fd = fd;
  return ES_OK;
}

/* Rank 0, at the end: the lock goes with the run, and so does its file when this launch made
 * it or finished the output (a killed launch's file is left; it holds no lock). */
static void es__unlock(es__sweep *s, const char *out, int finished) {
  if (s->lock_fd < 0) return;
  char path[4200];
  snprintf(path, sizeof path, "%s.lock", out);
  if (s->lock_made || finished) unlink(path);
  close(s->lock_fd);
  s->lock_fd = -1;
}

/* Rank 0: open PATH for checking, refusing (ES_ERR_INPUT) what a resume cannot write into: a
 * damaged or older layout, or a compressed archive copy. */
static es_status es__open_resumable(const char *path, es_h5check **c) {
  es_status st = es_h5check_open(path, c);
  if (st == ES_OK) st = es_h5check_writable(*c);
  if (st == ES_ERR_INPUT) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", es_error_msg());
    es_error_set("%s; refusing to resume (use --force to start over)", msg);
  }
  if (st != ES_OK) es_h5check_close(c);
  return st;
}

static es_status es__mode(es__sweep *s, const es_run_opts *o, const char *out, int *mode) {
  es_status st = ES_OK;
  *mode = 0;
  if (s->rank == 0) st = es__check_path(out);
  if (s->rank == 0 && st == ES_OK) st = es__lock(s, out);
  if (s->rank == 0 && st == ES_OK) {
    char partial[4200];
    snprintf(partial, sizeof partial, "%s.partial", out);
    int64_t had = 0;
    if (o->resume && !o->force && access(partial, F_OK) == 0) {
      *mode = 1;
    } else if (o->resume && !o->force && access(out, F_OK) == 0) {
      char sha[65];
      st = es_h5out_networks(out, &had, sha);
      *mode = 2;
      if (st == ES_OK && strcmp(sha, s->job->sha256) != 0) {
        es_error_set("%s was written by a different job; refusing to resume it", out);
        st = ES_ERR_INPUT;
      }
      if (st == ES_OK && had > s->job->networks) {
        es_error_set(
            "%s holds %lld networks per point; a resume can add networks but not "
            "remove them (networks = %lld)",
            out, (long long)had, (long long)s->job->networks);
        st = ES_ERR_INPUT;
      }
      if (st == ES_OK && had < s->job->networks) { /* grown: checked before it is renamed */
        es_h5check *c = NULL;
        st = es__open_resumable(out, &c);
        es_h5check_close(&c);
      }
      if (st == ES_OK && had < s->job->networks) {
        if (rename(out, partial) != 0) {
          es_error_set("cannot rename %s to %s: %s", out, partial, strerror(errno));
          st = ES_ERR_IO;
        }
        *mode = 1;
      }
    } else {
      st = es__check_output(out, o->force);
    }
    es__estimate e;
    es__estimate_job(s->job, out, s->size, s->local_ranks, 0, &e);
    if (st == ES_OK) st = es__check_fits(s->job, &e, *mode == 0);
    /* The room reserved before HDF5 lays the file out: an upper bound on the estimate. */
    s->out_bytes = es__room(&e);
    if (st != ES_OK) es__unlock(s, out, 0);
  }
  es_status bs = ES_MPI_ST(MPI_Bcast(mode, 1, MPI_INT, 0, s->comm));
  return es__agree(s->comm, st != ES_OK ? st : bs);
}

/* Collective. Provenance of this launch; every rank holds the same (rank 0's) values. */
typedef struct {
  char host[512], libs[1024], created[32];
  es_h5_prov prov;
} es__prov;

static es_status es__provenance(es__sweep *s, const es_run_opts *o, es__prov *p) {
  es_host(p->host, sizeof p->host);
  es_libraries(p->libs, sizeof p->libs);
  es_timestamp(p->created, sizeof p->created);
  p->prov = (es_h5_prov){ES_VERSION, es_build_git_id, o->command_line, p->libs,
                         p->host,    p->created,      s->size};
  ES_MPI(MPI_Bcast(p->created, sizeof p->created, MPI_CHAR, 0, s->comm));
  ES_MPI(MPI_Bcast(p->host, sizeof p->host, MPI_CHAR, 0, s->comm));
  return ES_OK;
}

/* Rank 0. Take the room the output will ever need (es_h5out_layout_bytes, an upper bound)
 * beyond the end of PATH (made when CREATE) before HDF5 writes: the layout is allocated whole
 * at creation, and parallel HDF5 cannot back out of a write that fails half-way (a rank waits
 * for ever in its barrier; a vlen heap written in part leaves a file HDF5 cannot read). HDF5
 * truncates only a non-empty file, so the layout lands in the blocks taken; they are given
 * back when the file is complete. Quotas and the file size limit count; a file system
 * without fallocate goes on without. */
static es_status es__reserve(const char *path, long double bytes, int create) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      (long double)rl.rlim_cur < bytes) {
    es_error_set(
        "%s: no room for the output (~%.3Lg GiB): the file size limit (ulimit -f) is "
        "%.3Lg GiB",
        path, bytes / 1073741824.0L, (long double)rl.rlim_cur / 1073741824.0L);
    return ES_ERR_IO;
  }
  int fd = open(path, O_WRONLY | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0644);
  if (fd < 0) return ES_OK; /* the open that follows says why */
  int rc = bytes > 0 && bytes < 9e18L ? fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)bytes) : 0;
  int err = errno;
  close(fd);
  if (rc != 0 && (err == ENOSPC || err == EDQUOT || err == EFBIG)) {
    if (create) unlink(path);
    es_error_set("%s: no room for the output (~%.3Lg GiB%s): %s", path, bytes / 1073741824.0L,
                 create ? "" : " with what it holds; free space and resume", strerror(err));
    return ES_ERR_IO;
  }
  return ES_OK;
}

/* Collective. Before a resume trusts OUT.partial: rank 0 checks its layout (a damaged shape
 * or type, an older layout or an archive copy refuses the resume, exit 2) and the checksum of every
 * stored point; a point that fails is named on LOG and computed again, so a damaged value never
 * reaches the result. */
static es_status es__trust(es__sweep *s, const char *partial, FILE *log) {
  s->distrust = calloc((size_t)s->npoints, 1);
  es_status st = s->distrust ? ES_OK : ES_ERR_NOMEM;
  if (st != ES_OK) es_error_set("out of memory");
  if (st == ES_OK && s->rank == 0) {
    es_h5check *c = NULL;
    st = es__open_resumable(partial, &c);
    int64_t nbad = 0;
    if (st == ES_OK) st = es_h5check_sums(c, 0, s->distrust, NULL, &nbad);
    if (st == ES_ERR_INPUT && nbad > 0) {
      if (log) {
        fprintf(log,
                "edgesweep: warning: %lld stored point%s of %s fail%s the checksum and "
                "will be computed again:\n",
                (long long)nbad, nbad > 1 ? "s" : "", partial, nbad > 1 ? "" : "s");
        es_h5check_sums(c, 0, NULL, log, &nbad);
      }
      st = ES_OK;
    }
    es_h5check_close(&c);
  }
  st = es__agree(s->comm, st);
  if (st == ES_OK)
    st = ES_MPI_ST(MPI_Bcast(s->distrust, (int)s->npoints, MPI_UNSIGNED_CHAR, 0, s->comm));
  return st;
}

static es_status es__create_output(es__sweep *s, const es__prov *pv, const char *partial) {
  char init[4300];
  snprintf(init, sizeof init, "%s.init", partial);
  es_status st = ES_OK;
  if (s->rank == 0) {
    unlink(partial); /* only reached with --force or when it is absent */
    unlink(init);
    st = es__reserve(init, s->out_bytes, 1);
  }
  ES_CALL(es__agree(s->comm, st));
  es_status cs =
      es__agree(s->comm, es_h5out_create(s->comm, init, s->job, &pv->prov, s->ntasks, &s->out));
  if (cs != ES_OK) {
    if (s->rank == 0) unlink(init); /* a failed layout holds no data: give the room back */
    return cs;
  }
  ES_CALL(es__agree(s->comm, ES_MPI_ST(MPI_Barrier(s->comm))));
  if (s->rank == 0 && rename(init, partial) != 0) {
    es_error_set("cannot rename %s to %s: %s", init, partial, strerror(errno));
    st = ES_ERR_IO;
  }

  if (st == ES_OK) st = es_h5out_renamed(s->out, partial);
  return es__agree(s->comm, st);
}

es_status es_run(MPI_Comm comm, const es_run_opts *o, FILE *log) {
  es__sweep s = {0};
  s.comm = comm;
  ES_MPI(MPI_Comm_rank(comm, &s.rank));
  ES_MPI(MPI_Comm_size(comm, &s.size));
  s.t0 = es_wtime();
  s.lock_fd = -1;
  es_job *job = NULL;
  ES_CALL(es__load(comm, o, &job));
  s.job = job;
  const char *out = o->output ? o->output : job->output;
  int mode = 0;
  s.local_ranks = es__local_ranks(comm);
  es_status st = es__mode(&s, o, out, &mode);
  if (st == ES_OK && mode == 2) {
    if (s.rank == 0 && log) fprintf(log, "edgesweep: %s is complete; nothing to resume\n", out);
    es__unlock(&s, out, 0);
    es_job_destroy(&job);
    return ES_OK;
  }
  if (st == ES_OK) st = es__agree(comm, es__plan(&s));
  char partial[4200];
  snprintf(partial, sizeof partial, "%s.partial", out);
  es_run_signals();
  /* The last moment a signal leaves nothing behind. */
  if (st == ES_OK) st = es__stopped(comm, "before the output was created; nothing was written");
  es__prov pv;
  if (st == ES_OK) st = es__agree(comm, es__provenance(&s, o, &pv));
  if (st == ES_OK && mode == 1)
    st = es__agree(comm, s.rank == 0 ? es__reserve(partial, s.out_bytes, 0) : ES_OK);
  if (st == ES_OK && mode == 1) st = es__trust(&s, partial, log);
  if (st == ES_OK)
    st = mode == 1 ? es__agree(comm, es_h5out_open(comm, partial, job, &pv.prov, &s.out))
                   : es__create_output(&s, &pv, partial);
  const int opened = s.out != NULL;
  if (st == ES_OK) st = es__pending(&s);
  /* Phase times for the closing line: where a short sweep's seconds go. */
  const double t_setup = es_wtime() - s.t0;
  double t_sweep = 0;
  if (st == ES_OK) {
    if (s.rank == 0 && log && !o->quiet)
      fprintf(log,
              "edgesweep: %s%lld of %lld points (%lld tasks) x %lld networks on %d rank%s -> %s\n",
              mode == 1 ? "resuming: " : "", (long long)s.npoints_pending, (long long)s.npoints,
              (long long)s.npending, (long long)job->networks, s.size, s.size > 1 ? "s" : "", out);
    st = es__agree(comm, es__sweep_run(&s, log, o->quiet ? ES_PROGRESS_NONE : o->progress));
    t_sweep = es_wtime() - s.t0 - t_setup;
  }
  char done[32] = "";
  if (st == ES_OK) es_timestamp(done, sizeof done);
  es_status ds = ES_MPI_ST(MPI_Bcast(done, sizeof done, MPI_CHAR, 0, comm));
  if (st == ES_OK) st = ds;
  if (s.out) {
    es_status cs = es__agree(comm, es_h5out_close(&s.out, st == ES_OK ? done : NULL));
    if (st == ES_OK) st = cs;
  }
  if (st == ES_OK && s.rank == 0) {
    struct stat sb; /* the room taken beyond the end is not needed any more */
    if (stat(partial, &sb) == 0 && truncate(partial, sb.st_size) != 0) sb.st_size = 0;
    if (rename(partial, out) != 0) {
      es_error_set("cannot rename %s to %s: %s", partial, out, strerror(errno));
      st = ES_ERR_IO;
    } else if (log && !o->quiet) {
      const double t = es_wtime() - s.t0;
      fprintf(log,
              "edgesweep: wrote %s (%lld points, %lld flagged) in %.2f s: set-up %.2f, sweep "
              "%.2f, closing %.2f (MPI start-up and exit not included)\n",
              out, (long long)s.npoints, (long long)s.flagged, t, t_setup, t_sweep,
              t - t_setup - t_sweep);
    }
  }
  st = es__agree(comm, st);
  if (st == ES_ERR_STOPPED && !opened) {
    /* Stopped before the file existed: the message says so already. */
  } else if (st == ES_ERR_STOPPED) {
    int64_t done_here = 0;
    if (MPI_Allreduce(&s.done, &done_here, 1, MPI_INT64_T, MPI_SUM, comm) != MPI_SUCCESS)
      done_here = s.done; /* rank 0 counts every point it wrote */
    es_error_set(
        "%lld of %lld pending points finished before the signal; %s keeps them. "
        "Continue with: edgesweep run %s -o %s --resume",
        (long long)done_here, (long long)s.npoints_pending, partial, o->job_path, out);
  }
  es__unlock(&s, out, st == ES_OK);
  es__sweep_free(&s);
  es_job_destroy(&job);
  return st;
}

es_status es_check(MPI_Comm comm, const es_run_opts *o, FILE *f) {
  es_job *job = NULL;
  ES_CALL(es__load(comm, o, &job));
  int rank, size;
  ES_MPI(MPI_Comm_rank(comm, &rank));
  ES_MPI(MPI_Comm_size(comm, &size));
  const int local = es__local_ranks(comm);
  es_status st = ES_OK;
  if (rank == 0) {
    const es_job *j = job;
    const char *out = o->output ? o->output : j->output;
    es__estimate e;
    es__estimate_job(j, out, size, local, 0, &e);
    st = es__check_fits(j, &e, access(out, F_OK) != 0);
    if (st == ES_OK) es__estimate_job(j, out, size, local, 1, &e); /* the timed samples */
    fprintf(f, "job        %s (sha256 %.16s...)\n", j->path, j->sha256);
    fprintf(f, "model      %s %s, leak %g, noise %g, q0 %g, c0 %g, method %s\n",
            es_arch_name(j->arch), j->act->name, j->leak, j->noise, j->q0, j->c0,
            es_method_name(j->method));
    fprintf(f, "grid       %lld sigma_w2 x %lld sigma_b2 x %lld depths x %lld widths\n",
            (long long)j->sigma_w2.n, (long long)j->sigma_b2.n, (long long)j->depth.n,
            (long long)j->width.n);
    fprintf(f, "points     %lld simulations (one per sigma_w2, sigma_b2, width) to depth %g\n",
            (long long)e.points, j->depth.v[j->depth.n - 1]);
    char plan[160];
    if (e.ranks_upto < 0)
      snprintf(plan, sizeof plan, "on any number of ranks");
    else if (e.ranks <= e.ranks_upto)
      snprintf(plan, sizeof plan, "on up to %lld ranks", (long long)e.ranks_upto);
    else
      snprintf(plan, sizeof plan,
               "on %d ranks; networks_per_task = 0 splits points when there "
               "are fewer than 4 per rank, so check under the run's mpirun -n",
               e.ranks);
    fprintf(f,
            "tasks      %lld of <= %lld networks (the run's plan %s), and %lld (sigma_w2, "
            "sigma_b2) pairs of MFT and theory\n",
            (long long)e.tasks, (long long)e.networks_per_task, plan, (long long)e.pairs);
    const double core = e.sim_s + e.mft_s + e.theory_s + e.write_s + e.setup_s;
    /* Points are written by their owners: at least one per pair, at most one per rank. */
    const int64_t owners = e.pairs < e.ranks ? (e.pairs > 0 ? e.pairs : 1) : e.ranks;
    if (!e.measured)
      fprintf(f, "time       not sampled (the job does not fit this machine)\n");
    else
      fprintf(f,
              "time       ~%.3g core-seconds, ~%.3g s on %d rank%s (samples timed here): "
              "simulation %.3g, theory %.3g, MFT %.3g, writes %.3g (by the points' owners), "
              "set-up %.3g\n",
              core, fmax(core / e.ranks, e.write_s / (double)owners), e.ranks,
              e.ranks == 1 ? "" : "s", e.sim_s, e.theory_s, e.mft_s, e.write_s, e.setup_s);
    fprintf(f, "memory     ~%.3Lg MiB per rank (of %.3Lg GiB)\n", e.mem_bytes / 1048576.0L,
            e.ram_bytes / 1073741824.0L);
    fprintf(f, "output     %s, ~%.3Lg MiB (%.3Lg GiB free there)\n", out, e.out_bytes / 1048576.0L,
            e.free_bytes / 1073741824.0L);
  }
  es_job_destroy(&job);
  return es__agree(comm, st);
}
