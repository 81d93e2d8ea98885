/* `edgesweep verify`: the layout and every checksum of an output file (rank 0), then chosen
 * points simulated again on all ranks and compared bit for bit (doc/output.md, Integrity). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edgesweep/driver.h"
#include "edgesweep/h5out.h"
#include "edgesweep/observables.h"
#include "sweep.h"

/* Simulate point P afresh as the run does (networks folded in order, in blocks of
 * networks_per_task when set) and compare with V.
 * Appends a line to LOG when they differ; returns 1 when they do. */
static int es__recompute(es__sweep *s, int64_t p, const es_h5_point *v, es_strbuf *log,
                         es_status *st) {
  const es_job *j = s->job;
  const int64_t nd = j->depth.n, M = v->status == ES_POINT_DONE ? v->networks_done : j->networks;
  const int64_t nl = j->nlags, S = es_obs_state_len(nl), R = es_nobs_len(nl);
  const int64_t P = es_obs_state_packed_len(nl);
  const int64_t nlag = ES_LAG_COUNT * nd * (nl > 0 ? nl : 1);
  double *rec = malloc((size_t)(ES__CHUNK * nd * R) * sizeof *rec);
  double *state = malloc((size_t)(2 * nd * S) * sizeof *state);
  double *block = state ? state + nd * S : NULL;
  double *fields = malloc((size_t)(ES_F_COUNT * nd + nlag + nd * P) * sizeof *fields);
  double *lag = fields ? fields + ES_F_COUNT * nd : NULL, *packed = lag ? lag + nlag : NULL;
  int64_t *valid = malloc((size_t)nd * sizeof *valid);
  char reason[ES_REASON_LEN] = "";
  int flagged = 0;
  *st = rec && state && fields && valid ? ES_OK : ES_ERR_NOMEM;
  if (*st != ES_OK) es_error_set("out of memory");
  if (*st == ES_OK) es_obs_state_init(state, nd, nl);
  /* A count the file's networks attribute does not allow is damage, not work to redo. */
  const int bad_m = v->status == ES_POINT_DONE && (M < 1 || M > j->networks);
  /* Blocks of networks_per_task folded from zero and combined in order, as the run does (a
   * single block, the whole point, when it is not set: the plain fold in network order). */
  const int64_t B = j->networks_per_task > 0 ? j->networks_per_task : (M > 0 ? M : 1);
  for (int64_t b0 = 0; *st == ES_OK && !bad_m && !flagged && b0 < M; b0 += B) {
    const int64_t b1 = b0 + B < M ? b0 + B : M;
    es_obs_state_init(block, nd, nl);
    *st = es__fold_networks(s, p, b0, b1, rec, block, &flagged, reason, NULL);
    if (*st == ES_OK && !flagged) es_obs_state_combine(state, block, nd, nl);
  }
  const char *diff = NULL;
  char name[80];
  if (*st == ES_OK) {
    const signed char status = flagged ? ES_POINT_FLAGGED : ES_POINT_DONE;
    if (flagged) {
      for (int64_t i = 0; i < ES_F_COUNT * nd + nlag; i++) fields[i] = NAN;
      for (int64_t k = 0; k < nd; k++) valid[k] = 0;
    } else {
      for (int64_t i = 0; i < nlag; i++) lag[i] = NAN; /* without lags: the placeholders */
      es_obs_state_finish(state, nd, nl, fields, valid, lag);
      es_obs_state_pack(state, nd, nl, packed);
    }
    if (bad_m) diff = "run/networks_done";
    if (!diff && status != v->status) diff = "run/status";
    for (int f = 0; !diff && f < ES_F_COUNT; f++)
      if (memcmp(fields + f * nd, v->fields + f * nd, (size_t)nd * sizeof *fields) != 0) {
        snprintf(name, sizeof name, "ensemble/%s", es_field_get((es_field)f)->name);
        diff = name;
      }
    if (!diff && memcmp(valid, v->networks, (size_t)nd * sizeof *valid) != 0)
      diff = "ensemble/networks";
    /* Compared as bytes: a lag before layer 1 holds the same NaN in both. */
    if (!diff && nl > 0 && memcmp(lag, v->lagfields, (size_t)nlag * sizeof *lag) != 0)
      diff = "ensemble/qts_*";
    if (!diff && !flagged && memcmp(packed, v->state, (size_t)(nd * P) * sizeof *packed) != 0)
      diff = "run/state";
    if (!diff &&
        es_h5out_point_checksum(nd, nl, fields, valid, lag, packed, M, status) != v->checksum)
      diff = "run/checksum";
  }
  if (diff)
    es_strbuf_printf(log,
                     "  BAD point (sigma_w2 %.17g, sigma_b2 %.17g, width %g): simulated "
                     "again, %s differs from the file\n",
                     j->sigma_w2.v[v->iw], j->sigma_b2.v[v->ib], j->width.v[v->in], diff);
  free(rec);
  free(state);
  free(fields);
  free(valid);
  return diff != NULL;
}

/* Rank 0: the points to recompute, done or flagged ones chosen by SEED, or the listed ones. */
static es_status es__choose(es_h5check *c, const es_verify_opts *o, int64_t **pts, int64_t *n) {
  const es_job *j = es_h5check_job(c);
  const int64_t np = j->sigma_w2.n * j->sigma_b2.n * j->width.n;
  signed char *status = malloc((size_t)np);
  int64_t *cand = malloc((size_t)(np + o->npoints + 1) * sizeof *cand), nc = 0;
  es_status st = status && cand ? ES_OK : ES_ERR_NOMEM;
  if (st != ES_OK) es_error_set("out of memory");
  if (st == ES_OK) st = es_h5check_read_status(c, status);
  if (st == ES_OK && o->npoints) {
    for (int64_t i = 0; st == ES_OK && i < o->npoints; i++) {
      if (o->points[i] < 0 || o->points[i] >= np) {
        es_error_set("--point %lld: the file has points 0 to %lld", (long long)o->points[i],
                     (long long)(np - 1));
        st = ES_ERR_INPUT;
      } else if (status[o->points[i]] == ES_POINT_DONE ||
                 status[o->points[i]] == ES_POINT_FLAGGED) {
        cand[nc++] = o->points[i];
      }
    }
  } else if (st == ES_OK) {
    for (int64_t p = 0; p < np; p++)
      if (status[p] == ES_POINT_DONE || status[p] == ES_POINT_FLAGGED) cand[nc++] = p;
    /* A partial Fisher-Yates shuffle driven by the seed: the same points for the same seed. */
    int64_t k = o->recompute < nc ? o->recompute : nc;
    uint64_t x = o->seed;
    for (int64_t i = 0; i < k; i++) {
      x = es_mix64(x + 0x9e3779b97f4a7c15ULL);
      int64_t r = i + (int64_t)(x % (uint64_t)(nc - i)), t = cand[i];
      cand[i] = cand[r];
      cand[r] = t;
    }
    nc = k;
  }
  free(status);
  if (st != ES_OK) {
    free(cand);
    return st;
  }
  *pts = cand;
  *n = nc;
  return ES_OK;
}

es_status es_verify(MPI_Comm comm, const es_verify_opts *o, FILE *out) {
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  double t0 = es_wtime();
  es_h5check *c = NULL;
  /* Every rank opens (read-only) and checks the layout: they read the points they simulate. */
  es_status st = es__agree(comm, es_h5check_open(o->path, &c));
  if (st != ES_OK) {
    es_h5check_close(&c);
    return st;
  }
  const es_job *j = es_h5check_job(c);
  double t_layout = es_wtime() - t0;
  es_status sums = ES_OK;
  char first[1024] = "";
  int64_t nbad = 0, *pts = NULL, npts = 0;
  if (rank == 0) {
    fprintf(out, "file          %s (%s)\n", o->path,
            es_h5check_finished(c) ? "completed" : "partial");
    fprintf(out,
            "layout        ok: every dataset present, types and shapes match the job's "
            "%lld x %lld x %lld x %lld coordinates (%.2f s)\n",
            (long long)j->sigma_w2.n, (long long)j->sigma_b2.n, (long long)j->depth.n,
            (long long)j->width.n, t_layout);
    const char *first_stored = NULL;
    const int64_t nstored = es_h5check_stored(c, &first_stored);
    if (nstored > 0)
      fprintf(out,
              "storage       an archive copy: %lld datasets compressed or chunked (/%s first); "
              "verifiable, not resumable\n",
              (long long)nstored, first_stored);
    double t1 = es_wtime();
    sums = es_h5check_sums(c, 1, NULL, out, &nbad);
    if (sums == ES_ERR_INPUT) snprintf(first, sizeof first, "%s", es_error_msg());
    fprintf(out, "checksums     %s: %lld points, %lld pairs (%.2f s)\n",
            sums == ES_OK ? "ok"
            : nbad        ? "FAILED"
                          : "error",
            (long long)(j->sigma_w2.n * j->sigma_b2.n * j->width.n),
            (long long)(j->sigma_w2.n * j->sigma_b2.n), es_wtime() - t1);
    if (sums == ES_OK && (o->recompute > 0 || o->npoints > 0)) sums = es__choose(c, o, &pts, &npts);
  }
  st = es__agree(comm, sums == ES_ERR_INPUT && nbad ? ES_OK : sums);
  if (st == ES_OK) {
    MPI_Bcast(&npts, 1, MPI_INT64_T, 0, comm);
    if (rank != 0) pts = malloc((size_t)(npts ? npts : 1) * sizeof *pts);
    st = es__agree(comm, pts || npts == 0 ? ES_OK : ES_ERR_NOMEM);
  }
  int64_t differ = 0;
  double t2 = es_wtime();
  if (st == ES_OK && npts > 0) {
    MPI_Bcast(pts, (int)npts, MPI_INT64_T, 0, comm);
    es__sweep s = {0};
    s.comm = comm;
    s.job = j;
    s.shape = (es_grid_shape){j->sigma_w2.n, j->sigma_b2.n, j->depth.n, j->width.n};
    es_strbuf log = {0};
    es_status mine = ES_OK;
    for (int64_t i = rank; mine == ES_OK && i < npts; i += size) {
      es_h5_point v;
      mine = es_h5check_point(c, pts[i], &v);
      if (mine == ES_OK) differ += es__recompute(&s, pts[i], &v, &log, &mine);
    }
    st = es__agree(comm, mine);
    /* Rank 0 prints every rank's findings, in rank order. */
    int len = log.s ? (int)log.len : 0,
        *lens = rank == 0 ? calloc((size_t)size, sizeof *lens) : NULL;
    MPI_Gather(&len, 1, MPI_INT, lens, 1, MPI_INT, 0, comm);
    int *disp = rank == 0 ? calloc((size_t)size, sizeof *disp) : NULL;
    int total = 0;
    for (int r = 0; rank == 0 && r < size; r++) disp[r] = total, total += lens[r];
    char *all = rank == 0 ? malloc((size_t)total + 1) : NULL;
    MPI_Gatherv(log.s ? log.s : "", len, MPI_CHAR, all, lens, disp, MPI_CHAR, 0, comm);
    if (rank == 0 && all) {
      all[total] = '\0';
      fputs(all, out);
    }
    free(all);
    free(lens);
    free(disp);
    es_strbuf_free(&log);
    int64_t sum = 0;
    MPI_Allreduce(&differ, &sum, 1, MPI_INT64_T, MPI_SUM, comm);
    differ = sum;
    if (rank == 0 && st == ES_OK)
      fprintf(out, "recomputed    %lld point%s on %d rank%s: %s (%.2f s)\n", (long long)npts,
              npts == 1 ? "" : "s", size, size == 1 ? "" : "s",
              differ ? "DIFFERENT bits" : "identical bits", es_wtime() - t2);
  }
  if (st == ES_OK && rank == 0 && (o->recompute > 0 || o->npoints > 0) && npts == 0)
    fprintf(out, "recomputed    nothing: no done or flagged point chosen\n");
  if (st == ES_OK && (nbad || differ)) {
    if (nbad)
      es_error_set("%s", first);
    else
      es_error_set("%s: %lld point%s simulated again differ%s from the file (listed above)",
                   o->path, (long long)differ, differ > 1 ? "s" : "", differ > 1 ? "" : "s");
    st = ES_ERR_INPUT;
  }
  st = es__agree(comm, st);
  if (rank == 0) fprintf(out, "result        %s\n", st == ES_OK ? "OK" : "FAILED");
  free(pts);
  es_h5check_close(&c);
  return st;
}
