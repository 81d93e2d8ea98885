/* schedule: tasks of networks, handed out by rank 0 (which computes too); each point's
 * statistics folded in network order by the rank that owns the point, which writes it
 * (doc/output.md, Guarantees: the bits depend on nothing but the job).
 *
 * Protocol (tags below). A worker sends rank 0 a request: the ledger rows of the tasks it
 * finished since its last request, and whether it quits (signal, error). Rank 0 answers with
 * a run of queue entries (none: the end). A quitting worker gets no answer. A finished task's
 * result goes straight to the owner of its point (es__owner): the per-network measurements,
 * or the folded state when the task is the point's only one, or the reason when it was
 * flagged. The owner folds in network order and writes fields, counts, streaming state, then
 * the status last. Rank 0 sees no measurement: its work per task is a ledger row. */
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "edgesweep/ensemble.h"
#include "edgesweep/observables.h"
#include "sweep.h"

enum { ES_TAG_REQ = 101, ES_TAG_TASK = 102, ES_TAG_OWN = 105 };

/* A request: quit, the number of rows, then rows of (task id, flagged, start and end in us). */
enum { ES_R_QUIT, ES_R_COUNT, ES_R_HEAD, ES_R_ROW = 4 };
/* The most queue entries one answer hands out (and so rows one request reports). */
enum { ES__BATCH_MAX = 64 };

/* A result for an owner, in doubles: task id and kind, then the payload. */
enum { ES_M_ID, ES_M_KIND, ES_M_HEAD };
enum {
  ES_K_RECORDS, /* the task's networks' measurements */
  ES_K_STATE,   /* the point's state, folded where its only task ran */
  ES_K_BLOCK,   /* a block of networks_per_task networks, folded from zero */
  ES_K_FLAGGED  /* the reason, ES_REASON_LEN bytes */
};

/* Results of a task that arrived before the networks preceding it. */
typedef struct es__rec {
  int64_t begin, end;
  double *msg; /* the message: ES_M_HEAD doubles, then the measurements */
  struct es__rec *next;
} es__rec;

struct es__merge {
  int64_t next; /* the next network to fold */
  double *state;
  es__rec *buf; /* waiting results, sorted by begin */
  int flagged;
  int64_t reason_begin; /* the first network of the flagged task whose reason is kept */
  char reason[ES_REASON_LEN];
};

/* ---------- the plan ---------- */

static const es__sweep *es__qsort_ctx;
static int es__cost_cmp(const void *a, const void *b) {
  /* Largest first (cost ~ width, the same depth and M for all), then by point index so the
   * order is a pure function of the job. */
  const es__sweep *s = es__qsort_ctx;
  int64_t pa = *(const int64_t *)a, pb = *(const int64_t *)b, iw, ib, ia, ibb;
  es_grid_point(&s->shape, pa, &iw, &ib, &ia);
  es_grid_point(&s->shape, pb, &iw, &ib, &ibb);
  double ca = s->job->width.v[ia], cb = s->job->width.v[ibb];
  if (ca != cb) return ca < cb ? 1 : -1;
  return (pa > pb) - (pa < pb);
}

int64_t es__networks_per_task(const es_job *j, int64_t npoints, int size) {
  /* The job's: its blocks travel as folded states (es__run_task), of any size. */
  if (j->networks_per_task > 0) return j->networks_per_task;
  /* Else whole points unless there are too few points to keep every rank busy. That never
   * changes a number: a split point's networks are folded one by one in order. */
  int64_t T = j->networks;
  if (npoints < 4 * size) T = (j->networks * npoints + 4 * size - 1) / (4 * size);
  /* A task's measurements travel in one message, whose count is an int. */
  const int64_t row = j->depth.n * es_nobs_len(j->nlags);
  if (T > (INT_MAX - 64) / row) T = (INT_MAX - 64) / row;
  return T < 1 ? 1 : T;
}

es_status es__plan(es__sweep *s) {
  const es_job *j = s->job;
  s->shape = (es_grid_shape){j->sigma_w2.n, j->sigma_b2.n, j->depth.n, j->width.n};
  s->npoints = es_grid_npoints(&s->shape);
  const int64_t T = es__networks_per_task(j, s->npoints, s->size);
  int64_t per = (j->networks + T - 1) / T;
  s->order = malloc((size_t)s->npoints * sizeof *s->order);
  s->tasks = malloc((size_t)(s->npoints * per) * sizeof *s->tasks);
  ES_CHECK(s->order && s->tasks, ES_ERR_NOMEM, "out of memory for %lld tasks",
           (long long)(s->npoints * per));
  for (int64_t i = 0; i < s->npoints; i++) s->order[i] = i;
  es__qsort_ctx = s;
  qsort(s->order, (size_t)s->npoints, sizeof *s->order, es__cost_cmp);
  s->ntasks = 0;
  for (int64_t i = 0; i < s->npoints; i++)
    for (int64_t a = 0; a < j->networks; a += T)
      s->tasks[s->ntasks++] = (es__task){s->order[i], a, a + T < j->networks ? a + T : j->networks};
  return ES_OK;
}

es_status es__pending(es__sweep *s) {
  const int64_t np = s->npoints;
  signed char *status = calloc((size_t)np, 1);
  int64_t *done = calloc((size_t)np, sizeof *done);
  const int64_t npairs = s->shape.nw * s->shape.nb;
  s->pending = malloc((size_t)(s->ntasks ? s->ntasks : 1) * sizeof *s->pending);
  s->queue = malloc((size_t)(s->ntasks + npairs + 1) * sizeof *s->queue);
  s->left = calloc((size_t)np, sizeof *s->left);
  s->start_nets = calloc((size_t)np, sizeof *s->start_nets);
  s->was_done = calloc((size_t)np, 1);
  s->merge = calloc((size_t)np, sizeof *s->merge);
  s->point_tasks = calloc((size_t)np, sizeof *s->point_tasks);
  es_status st = status && done && s->pending && s->queue && s->left && s->start_nets &&
                         s->was_done && s->merge && s->point_tasks
                     ? ES_OK
                     : ES_ERR_NOMEM;
  if (st != ES_OK) es_error_set("out of memory");
  if (st == ES_OK && s->rank == 0) {
    int64_t start[3] = {0, 0, 0}, count[3] = {s->shape.nw, s->shape.nb, s->shape.nn};
    st = es_h5out_read_i8(s->out, ES_DS_RUN_STATUS, start, count, status);
    if (st == ES_OK) st = es_h5out_read_i64(s->out, ES_DS_RUN_NETWORKS_DONE, start, count, done);
    /* A flagged point whose reason is missing was flagged by a launch killed before its close
     * wrote the texts (es_h5out_close): compute it again, which flags it again. */
    for (int64_t p = 0; st == ES_OK && p < np; p++) {
      if (status[p] != ES_POINT_FLAGGED) continue;
      int64_t iw, ib, in;
      es_grid_point(&s->shape, p, &iw, &ib, &in);
      const int64_t at[3] = {iw, ib, in};
      int empty = 0;
      st = es_h5out_text_empty(s->out, ES_DS_RUN_REASON, at, &empty);
      if (empty) status[p] = ES_POINT_PENDING;
    }
  }
  st = es__agree(s->comm, st);
  if (st == ES_OK) {
    st = ES_MPI_ST(MPI_Bcast(status, (int)np, MPI_SIGNED_CHAR, 0, s->comm));
    if (st == ES_OK) st = ES_MPI_ST(MPI_Bcast(done, (int)np, MPI_INT64_T, 0, s->comm));
    s->npending = s->npoints_pending = 0;
    for (int64_t p = 0; p < np; p++) {
      /* Done points with fewer networks than the job asks grow; a pending point starts
       * over (whatever a killed run left of it is not trusted). */
      if (s->distrust && s->distrust[p]) status[p] = ES_POINT_PENDING; /* failed its checksum */
      s->was_done[p] = status[p] == ES_POINT_DONE && done[p] < s->job->networks;
      s->start_nets[p] = s->was_done[p] ? done[p] : 0;
      /* Blocks of networks_per_task continue only after a whole block: a point that stopped
       * inside one is computed again from its first network. */
      const int64_t B = s->job->networks_per_task;
      if (B > 0 && s->start_nets[p] % B != 0) s->start_nets[p] = 0;
    }
    for (int64_t t = 0; t < s->ntasks; t++) {
      es__task *k = &s->tasks[t];
      int64_t p = k->point;
      if (!(status[p] == ES_POINT_PENDING || s->was_done[p]) || k->end <= s->start_nets[p])
        continue;
      if (k->begin < s->start_nets[p]) k->begin = s->start_nets[p];
      s->pending[s->npending++] = t;
      if (s->left[p]++ == 0) s->npoints_pending++;
    }
    memcpy(s->point_tasks, s->left, (size_t)np * sizeof *s->point_tasks);
    /* A pair's theory costs about as much as a task of 2^14 neuron-networks per layer (tanh,
     * bench/README.md): it goes after the tasks that cost more, so that it runs beside the
     * sweep on whichever rank is free and the small tasks still even out the end. The order
     * changes no number: every pair is computed the same way on any rank. */
    const int64_t npairs = s->shape.nw * s->shape.nb;
    int64_t q = 0, t = 0;
    for (; t < s->npending; t++) {
      const es__task *k = &s->tasks[s->pending[t]];
      int64_t iw, ib, in;
      es_grid_point(&s->shape, k->point, &iw, &ib, &in);
      if ((double)(k->end - k->begin) * s->job->width.v[in] < 16384) break;
      s->queue[q++] = s->pending[t];
    }
    for (int64_t k = 0; k < npairs; k++) s->queue[q++] = s->ntasks + k;
    for (; t < s->npending; t++) s->queue[q++] = s->pending[t];
    s->nqueue = q;
  }
  free(status);
  free(done);
  return st;
}

void es__sweep_free(es__sweep *s) {
  if (s->merge)
    for (int64_t p = 0; p < s->npoints; p++)
      if (s->merge[p]) {
        for (es__rec *r = s->merge[p]->buf, *n; r; r = n) {
          n = r->next;
          free(r->msg);
          free(r);
        }
        free(s->merge[p]->state);
        free(s->merge[p]);
      }
  free(s->merge);
  free(s->order);
  free(s->tasks);
  free(s->pending);
  free(s->queue);
  free(s->left);
  free(s->start_nets);
  free(s->was_done);
  free(s->distrust);
  free(s->point_tasks);
  free(s->unreported);
  free(s->point_flagged);
  free(s->qcost);
  /* Sends still in flight only after an MPI failure: their buffers may be in use. */
  if (!s->broken)
    for (int i = 0; i < s->nsends; i++) free(s->sbuf[i]);
  free(s->sreq);
  free(s->sbuf);
  free(s->sidx);
}

/* ---------- computing one task ---------- */

es_ensemble_params es__ensemble_params(const es_job *j, double sw2, double sb2, int64_t n,
                                       int64_t nd, const int64_t *depths) {
  return (es_ensemble_params){j->act,
                              sw2,
                              sb2,
                              j->leak,
                              j->noise,
                              j->q0,
                              j->c0,
                              n,
                              nd,
                              depths,
                              es_rng_point_key(j->seed, sw2, sb2, n),
                              j->method == ES_METHOD_DENSE,
                              j->arch == ES_ARCH_RECURRENT,
                              j->nlags,
                              j->lags};
}

es_status es__compute(es__sweep *s, const es__task *t, double *rec, int *flagged, char *reason,
                      void (*poll)(es__sweep *)) {
  const es_job *j = s->job;
  int64_t iw, ib, in;
  es_grid_point(&s->shape, t->point, &iw, &ib, &in);
  const int64_t nd = j->depth.n;
  int64_t *depths = malloc((size_t)nd * sizeof *depths);
  ES_CHECK(depths, ES_ERR_NOMEM, "out of memory");
  for (int64_t k = 0; k < nd; k++) depths[k] = (int64_t)j->depth.v[k];
  const double sw2 = j->sigma_w2.v[iw], sb2 = j->sigma_b2.v[ib];
  const int64_t n = (int64_t)j->width.v[in];
  es_ensemble_params ep = es__ensemble_params(j, sw2, sb2, n, nd, depths);
  es_ensemble *e = NULL;
  es_status st = es_ensemble_create(&ep, &e);
  *flagged = 0;
  for (int64_t m = t->begin; st == ES_OK && m < t->end; m++) {
    if (es__stop) {
      es_error_set("stopped by signal %d", (int)es__stop);
      st = ES_ERR_STOPPED;
      break;
    }
    es_status ns = es_ensemble_network(e, m, rec + (m - t->begin) * nd * es_nobs_len(j->nlags));
    if (ns == ES_ERR_NUMERIC) {
      *flagged = 1;
      snprintf(reason, ES_REASON_LEN, "%s", es_error_msg());
      break;
    }
    st = ns;
    if (poll) poll(s);
  }
  es_ensemble_destroy(&e);
  free(depths);
  return st;
}

/* ---------- owners: writing points ---------- */

/* Write one point's depth column of a dataset laid out (sigma_w2, sigma_b2, depth, width[,
 * TAIL]) at (IW, IB, :, IN). Written directly the column is ND strided pieces, and MPI-IO
 * spends a system call and its bookkeeping on each (~15 datasets x ND per point); when the
 * point's (sigma_w2, sigma_b2) slab is small it is read whole, patched and written back in
 * one piece. Safe because one rank owns every point of a slab (es__owner); the bytes of the
 * other points are written back unchanged. BUF holds a slab (es__slab_elems). */
enum { ES__SLAB_MAX = 1 << 15 }; /* elements: 256 KiB */

static int64_t es__slab_elems(const es__sweep *s, int64_t tail) {
  const int64_t n = s->job->depth.n * s->job->width.n * tail;
  /* Below ~8 depths the two whole-slab calls cost more than the few pieces. */
  return s->job->depth.n >= 8 && n <= ES__SLAB_MAX ? n : 0;
}

/* The rank that folds and writes point P. When a pair's slab is patched whole
 * (es__write_column) every point of the pair has one owner, so that no two ranks rewrite one
 * slab; otherwise points are spread one by one. Who owns a point changes no bit: an owner
 * folds networks in network order, like any other rank would. */
static int es__owner(const es__sweep *s, int64_t p) {
  int64_t iw, ib, in;
  es_grid_point(&s->shape, p, &iw, &ib, &in);
  const int64_t key = es__slab_elems(s, 1) ? iw + s->shape.nw * ib : p;
  return (int)(key % s->size);
}

static void es__poll(es__sweep *s);

/* The CPU clock, read only when the stats are asked for. */
static double es__tick(const es__sweep *s) { return s->stats ? es_cputime() : 0.0; }

static es_status es__write_column(es__sweep *s, es_dataset name, int is_i64, int64_t iw, int64_t ib,
                                  int64_t in, int64_t tail, const void *col, void *buf) {
  const int64_t nd = s->job->depth.n, nn = s->job->width.n;
  int64_t start[5] = {iw, ib, 0, in, 0}, count[5] = {1, 1, nd, 1, tail};
  if (!buf || es__slab_elems(s, tail) == 0)
    return is_i64 ? es_h5out_write_i64(s->out, name, start, count, col)
                  : es_h5out_write_f64(s->out, name, start, count, col);
  int64_t s_slab[5] = {iw, ib, 0, 0, 0}, c_slab[5] = {1, 1, nd, nn, tail};
  ES_CALL(is_i64 ? es_h5out_read_i64(s->out, name, s_slab, c_slab, buf)
                 : es_h5out_read_f64(s->out, name, s_slab, c_slab, buf));
  const size_t row = (size_t)tail * 8; /* both types are 8 bytes */
  for (int64_t k = 0; k < nd; k++)
    memcpy((char *)buf + ((size_t)(k * nn + in) * row), (const char *)col + (size_t)k * row, row);
  return is_i64 ? es_h5out_write_i64(s->out, name, s_slab, c_slab, buf)
                : es_h5out_write_f64(s->out, name, s_slab, c_slab, buf);
}

static es_status es__write_point(es__sweep *s, int64_t p, es__merge *m) {
  const int64_t nd = s->job->depth.n, nl = s->job->nlags, S = es_obs_state_packed_len(nl);
  const int64_t L = nl > 0 ? nl : 1, nlag = ES_LAG_COUNT * nd * L;
  int64_t iw, ib, in;
  es_grid_point(&s->shape, p, &iw, &ib, &in);
  int64_t ps[3] = {iw, ib, in}, pc[3] = {1, 1, 1};
  signed char status = ES_POINT_PENDING;
  /* A done point that grows is marked pending first: a kill in between then recomputes it
   * from scratch instead of trusting half-written statistics. */
  if (s->was_done[p]) ES_CALL(es_h5out_write_i8(s->out, ES_DS_RUN_STATUS, ps, pc, &status));
  double *fields = malloc((size_t)(ES_F_COUNT * nd + nlag + nd * S) * sizeof *fields);
  double *lag = fields ? fields + ES_F_COUNT * nd : NULL, *packed = lag ? lag + nlag : NULL;
  int64_t *valid = malloc((size_t)nd * sizeof *valid);
  /* The slab buffer is an optimisation: without it the columns are written directly. It
   * holds the widest column (the state's) when that fits, else single values. */
  const int64_t slab = es__slab_elems(s, S) ? es__slab_elems(s, S) : es__slab_elems(s, 1);
  void *buf = slab ? malloc((size_t)slab * 8) : NULL;
  es_status st = fields && valid ? ES_OK : ES_ERR_NOMEM;
  if (st != ES_OK) es_error_set("out of memory");
  if (st == ES_OK) {
    if (m->flagged) {
      for (int64_t i = 0; i < ES_F_COUNT * nd + nlag; i++) fields[i] = NAN;
      for (int64_t k = 0; k < nd; k++) valid[k] = 0;
    } else {
      for (int64_t i = 0; i < nlag; i++) lag[i] = NAN;
      es_obs_state_finish(m->state, nd, nl, fields, valid, lag);
      es_obs_state_pack(m->state, nd, nl, packed);
    }
  }
  /* Without lags the qts datasets keep their NaN fill: nothing to write. */
  for (int v = 0; st == ES_OK && nl > 0 && v < ES_LAG_COUNT; v++)
    st = es__write_column(s, (es_dataset)(ES_DS_ENSEMBLE_QTS_AA_MEAN + v), 0, iw, ib, in, L,
                          lag + v * nd * L, es__slab_elems(s, S) ? buf : NULL);
  for (int f = 0; st == ES_OK && f < ES_F_COUNT; f++) {
    st = es__write_column(s, ES_DS_FIELD(f), 0, iw, ib, in, 1, fields + f * nd, buf);
  }
  if (st == ES_OK) st = es__write_column(s, ES_DS_ENSEMBLE_NETWORKS, 1, iw, ib, in, 1, valid, buf);
  if (st == ES_OK && !m->flagged) {
    st = es__write_column(s, ES_DS_RUN_STATE, 0, iw, ib, in, S, packed,
                          es__slab_elems(s, S) ? buf : NULL);
    if (st == ES_OK) st = es_h5out_write_i64(s->out, ES_DS_RUN_NETWORKS_DONE, ps, pc, &m->next);
  }
  if (st == ES_OK && m->flagged) st = es_h5out_write_text(s->out, ES_DS_RUN_REASON, ps, m->reason);
  status = m->flagged ? ES_POINT_FLAGGED : ES_POINT_DONE;
  /* The checksum of what was just written, then the status: a kill in between leaves a
   * pending point, never a done one without its checksum. */
  if (st == ES_OK) {
    uint64_t sum = es_h5out_point_checksum(nd, nl, fields, valid, lag, packed, m->next, status);
    st = es_h5out_write_u64(s->out, ES_DS_RUN_CHECKSUM, ps, pc, &sum);
  }
  if (st == ES_OK) st = es_h5out_write_i8(s->out, ES_DS_RUN_STATUS, ps, pc, &status);
  free(buf);
  free(fields);
  free(valid);
  return st;
}

/* The ledger is timing, not resume state (that is run/status, networks_done, state): rows
 * are kept and written ES__LEDGER_BATCH at a time, one write per dataset and run of
 * consecutive task ids, instead of seven one-element writes per task. */
enum { ES__LEDGER_BATCH = 1024 };

static int es__ledger_cmp(const void *a, const void *b) {
  const int64_t x = ((const es__ledger_row *)a)->id, y = ((const es__ledger_row *)b)->id;
  return (x > y) - (x < y);
}

static es_status es__ledger_flush(es__sweep *s) {
  es_status st = ES_OK;
  const int64_t n = s->nledger;
  s->nledger = 0;
  if (n == 0) return ES_OK;
  qsort(s->ledger, (size_t)n, sizeof *s->ledger, es__ledger_cmp);
  int64_t *iv = malloc((size_t)(4 * n) * sizeof *iv);
  double *fv = malloc((size_t)(3 * n) * sizeof *fv);
  if (!iv || !fv) {
    free(iv);
    free(fv);
    es_error_set("out of memory");
    return ES_ERR_NOMEM;
  }
  static const es_dataset ti[4] = {ES_DS_RUN_TASK_POINT, ES_DS_RUN_TASK_NETWORKS_BEGIN,
                                   ES_DS_RUN_TASK_NETWORKS_END, ES_DS_RUN_TASK_RANK};
  static const es_dataset tf[3] = {ES_DS_RUN_TASK_START, ES_DS_RUN_TASK_END,
                                   ES_DS_RUN_TASK_SECONDS};
  for (int64_t a = 0, b; st == ES_OK && a < n; a = b) {
    for (b = a + 1; b < n && s->ledger[b].id == s->ledger[b - 1].id + 1;) b++;
    const int64_t m = b - a, tt[1] = {s->ledger[a].id}, tc[1] = {m};
    for (int64_t r = 0; r < m; r++) {
      const es__ledger_row *l = &s->ledger[a + r];
      iv[r] = l->point;
      iv[m + r] = l->begin;
      iv[2 * m + r] = l->end;
      iv[3 * m + r] = l->rank;
      fv[r] = l->start;
      fv[m + r] = l->stop;
      fv[2 * m + r] = l->stop - l->start;
    }
    for (int i = 0; st == ES_OK && i < 4; i++)
      st = es_h5out_write_i64(s->out, ti[i], tt, tc, iv + i * m);
    for (int i = 0; st == ES_OK && i < 3; i++)
      st = es_h5out_write_f64(s->out, tf[i], tt, tc, fv + i * m);
  }
  free(iv);
  free(fv);
  return st;
}

/* ---------- owners: merging ---------- */

/* The state a point's first network is folded into: zero, or what the file holds when a done
 * point grows from its networks_done. STATE holds nd x es_obs_state_len doubles. */
static es_status es__state_start(es__sweep *s, int64_t p, double *state) {
  const int64_t nd = s->job->depth.n, nl = s->job->nlags;
  es_obs_state_init(state, nd, nl);
  if (s->start_nets[p] == 0) return ES_OK;
  int64_t iw, ib, in;
  es_grid_point(&s->shape, p, &iw, &ib, &in);
  return es_h5out_read_state(s->out, iw, ib, in, nd, nl, state);
}

/* The merge state of point P, created on first use (LOAD: from es__state_start). */
static es_status es__merge_of(es__sweep *s, int64_t p, int load, es__merge **out) {
  const int64_t nd = s->job->depth.n, S = es_obs_state_len(s->job->nlags);
  if (!s->merge[p]) {
    es__merge *m = calloc(1, sizeof *m);
    double *state = malloc((size_t)(nd * S) * sizeof *state);
    es_status st = m && state ? ES_OK : ES_ERR_NOMEM;
    if (st != ES_OK) es_error_set("out of memory");
    if (st == ES_OK && load) st = es__state_start(s, p, state);
    if (st != ES_OK) {
      free(m);
      free(state);
      return st;
    }
    m->state = state;
    m->next = s->start_nets[p];
    s->merge[p] = m;
  }
  *out = s->merge[p];
  return ES_OK;
}

/* Owner: take the result MSG (N doubles, taken over; es__ship's format) of one task of a point
 * this rank owns. Fold what continues the networks folded so far, in network order, and write
 * the point when its last task is in. */
static es_status es__take(es__sweep *s, double *msg, int64_t n) {
  const double c0 = es__tick(s);
  s->stat[ES_S_TAKEN]++;
  s->stat[ES_S_TAKEN_BYTES] += 8.0 * (double)n;
  const int64_t id = (int64_t)msg[ES_M_ID], nd = s->job->depth.n, nl = s->job->nlags;
  const int kind = (int)msg[ES_M_KIND];
  const int64_t stride = nd * es_nobs_len(nl), S = es_obs_state_len(nl);
  const es__task *t = &s->tasks[id];
  const int64_t p = t->point;
  es__merge *m;
  es_status st = es__merge_of(s, p, kind != ES_K_STATE, &m);
  if (st != ES_OK) {
    free(msg);
    return st;
  }
  if (kind == ES_K_FLAGGED) {
    /* The reason of the first flagged task in network order, whichever arrives first. */
    if (!m->flagged || t->begin < m->reason_begin) {
      memcpy(m->reason, msg + ES_M_HEAD, sizeof m->reason);
      m->reason[sizeof m->reason - 1] = '\0';
      m->reason_begin = t->begin;
    }
    m->flagged = 1;
    free(msg);
  } else if (kind == ES_K_STATE) { /* the point's only task, folded where it ran */
    ES_CHECK(n == ES_M_HEAD + nd * S, ES_ERR_INTERNAL, "a state of %lld doubles", (long long)n);
    memcpy(m->state, msg + ES_M_HEAD, (size_t)(nd * S) * sizeof *m->state);
    m->next = t->end;
    free(msg);
  } else {
    ES_CHECK(n == ES_M_HEAD + (kind == ES_K_BLOCK ? nd * S : (t->end - t->begin) * stride),
             ES_ERR_INTERNAL, "a task of %lld doubles", (long long)n);
    es__rec *r = malloc(sizeof *r), **at = &m->buf;
    if (!r) {
      free(msg);
      es_error_set("out of memory");
      return ES_ERR_NOMEM;
    }
    *r = (es__rec){t->begin, t->end, msg, NULL};
    while (*at && (*at)->begin < r->begin) at = &(*at)->next;
    r->next = *at;
    *at = r;
    while (m->buf && m->buf->begin == m->next) {
      es__rec *h = m->buf;
      if ((int)h->msg[ES_M_KIND] == ES_K_BLOCK)
        es_obs_state_combine(m->state, h->msg + ES_M_HEAD, nd, nl);
      else
        for (int64_t i = 0; i < h->end - h->begin; i++)
          es_obs_state_add(m->state, h->msg + ES_M_HEAD + i * stride, nd, nl);
      m->next = h->end;
      m->buf = h->next;
      free(h->msg);
      free(h);
    }
  }
  const double c1 = es__tick(s);
  s->stat[ES_S_FOLD] += c1 - c0;
  if (--s->left[p] == 0) {
    st = es__write_point(s, p, m);
    free(m->state);
    free(m);
    s->merge[p] = NULL;
    s->stat[ES_S_POINTS]++;
    s->stat[ES_S_WRITE] += es__tick(s) - c1;
  }
  return st;
}

/* ---------- messages between ranks ---------- */

/* Remember the first failure of this rank's serving, merging or writing: it stops handing out
 * (rank 0) or computing (a worker). An MPI failure also ends the waiting for messages. */
static void es__fail(es__sweep *s, es_status st) {
  if (s->fail == ES_OK) s->fail = st;
  if (st == ES_ERR_MPI) s->broken = 1;
  if (s->rank == 0) s->next = s->nqueue;
}

/* Send MSG (N doubles, taken over) to the owner of its task's point, or take it here. */
static es_status es__ship(es__sweep *s, double *msg, int64_t n) {
  const int o = es__owner(s, s->tasks[(int64_t)msg[ES_M_ID]].point);
  if (o == s->rank) return es__take(s, msg, n);
  if (s->nsends == s->capsends) {
    const int cap = s->capsends ? 2 * s->capsends : 16;
    MPI_Request *r = realloc(s->sreq, (size_t)cap * sizeof *r);
    if (r) s->sreq = r;
    double **b = r ? realloc(s->sbuf, (size_t)cap * sizeof *b) : NULL;
    if (b) s->sbuf = b;
    int *x = b ? realloc(s->sidx, (size_t)cap * sizeof *x) : NULL;
    if (x) s->sidx = x;
    if (!r || !b || !x) {
      free(msg);
      es_error_set("out of memory for the messages in flight");
      return ES_ERR_NOMEM;
    }
    s->capsends = cap;
  }
  /* Synchronous: its completion says the owner has it (es__exchange_end relies on this). */
  es_status st =
      ES_MPI_ST(MPI_Issend(msg, (int)n, MPI_DOUBLE, o, ES_TAG_OWN, s->comm, &s->sreq[s->nsends]));
  if (st != ES_OK) {
    free(msg);
    return st;
  }
  s->sbuf[s->nsends++] = msg;
  s->stat[ES_S_SENT]++;
  s->stat[ES_S_SENT_BYTES] += 8.0 * (double)n;
  return ES_OK;
}

/* Free the buffers of the sends the owners have received. */
static void es__sends_test(es__sweep *s) {
  if (s->nsends == 0 || s->broken) return;
  int outc = 0;
  es_status st = ES_MPI_ST(MPI_Testsome(s->nsends, s->sreq, &outc, s->sidx, MPI_STATUSES_IGNORE));
  if (st != ES_OK) {
    es__fail(s, st);
    return;
  }
  int k = 0;
  for (int i = 0; i < s->nsends; i++) {
    if (s->sreq[i] == MPI_REQUEST_NULL) {
      free(s->sbuf[i]);
      continue;
    }
    s->sreq[k] = s->sreq[i];
    s->sbuf[k++] = s->sbuf[i];
  }
  s->nsends = k;
}

/* Owner: take every result that has arrived. Returns whether one did. */
static int es__drain(es__sweep *s) {
  int any = 0;
  while (!s->broken) {
    int flag = 0, n = 0;
    MPI_Status ms;
    es_status st = ES_MPI_ST(MPI_Iprobe(MPI_ANY_SOURCE, ES_TAG_OWN, s->comm, &flag, &ms));
    if (st == ES_OK && !flag) break;
    if (st == ES_OK) st = ES_MPI_ST(MPI_Get_count(&ms, MPI_DOUBLE, &n));
    if (st != ES_OK) {
      es__fail(s, st);
      break;
    }
    any = 1;
    double *msg = malloc((size_t)(n > ES_M_HEAD ? n : ES_M_HEAD) * sizeof *msg), none[ES_M_HEAD];
    /* Received even without memory (truncated into NONE), so that its sender completes. */
    st = ES_MPI_ST(MPI_Recv(msg ? msg : none, msg ? n : ES_M_HEAD, MPI_DOUBLE, ms.MPI_SOURCE,
                            ES_TAG_OWN, s->comm, MPI_STATUS_IGNORE));
    if (msg && st == ES_OK && s->fail == ES_OK) {
      st = es__take(s, msg, n);
    } else {
      free(msg);
      if (!msg && st == ES_OK) {
        es_error_set("out of memory for a task's result");
        st = ES_ERR_NOMEM;
      }
    }
    if (st != ES_OK) es__fail(s, st);
  }
  return any;
}

/* ---------- computing tasks ---------- */

es_status es__fold_networks(es__sweep *s, int64_t p, int64_t begin, int64_t end, double *rec,
                            double *state, int *flagged, char *reason, void (*poll)(es__sweep *)) {
  const int64_t nd = s->job->depth.n, nl = s->job->nlags, stride = nd * es_nobs_len(nl);
  es_status st = ES_OK;
  *flagged = 0;
  for (int64_t a = begin; st == ES_OK && !*flagged && a < end; a += ES__CHUNK) {
    const es__task part = {p, a, a + ES__CHUNK < end ? a + ES__CHUNK : end};
    st = es__compute(s, &part, rec, flagged, reason, poll);
    for (int64_t i = 0; st == ES_OK && !*flagged && i < part.end - part.begin; i++)
      es_obs_state_add(state, rec + i * stride, nd, nl);
  }
  return st;
}

/* Compute task ID and ship its result. With networks_per_task set, the task is a block,
 * folded here from zero; the owner combines the blocks in order (es_obs_state_combine), so
 * the bits depend on networks_per_task, never on the ranks. Otherwise a point's only task is
 * folded here from the point's start, as the owner would (the same bits, fewer bytes, and
 * the fold leaves the owner), and a part of a split point travels as its networks'
 * measurements, which the owner folds one by one. *FLAGGED for the hand-out. */
static es_status es__run_task(es__sweep *s, int64_t id, int *flagged) {
  const es__task *t = &s->tasks[id];
  const int64_t nd = s->job->depth.n, nl = s->job->nlags, stride = nd * es_nobs_len(nl);
  const int64_t S = es_obs_state_len(nl), span = t->end - t->begin;
  const int64_t nreason = (ES_REASON_LEN + 7) / 8;
  const int block = s->job->networks_per_task > 0;
  const int fold = block || s->point_tasks[t->point] == 1;
  const int64_t chunk = fold && span > ES__CHUNK ? ES__CHUNK : span;
  int64_t n = fold ? nd * S : span * stride;
  double *msg = malloc((size_t)(ES_M_HEAD + (n > nreason ? n : nreason)) * sizeof *msg);
  double *rec = fold ? malloc((size_t)(chunk * stride) * sizeof *rec) : NULL;
  if (!msg || (fold && !rec)) {
    free(msg);
    free(rec);
    es_error_set("out of memory for a task's measurements");
    return ES_ERR_NOMEM;
  }
  double *out = msg + ES_M_HEAD;
  char reason[ES_REASON_LEN] = "";
  const double c0 = es__tick(s);
  es_status st = ES_OK;
  *flagged = 0;
  void (*poll)(es__sweep *) = s->size > 1 ? es__poll : NULL;
  if (block)
    es_obs_state_init(out, nd, nl);
  else if (fold)
    st = es__state_start(s, t->point, out);
  if (st == ES_OK)
    st = fold ? es__fold_networks(s, t->point, t->begin, t->end, rec, out, flagged, reason, poll)
              : es__compute(s, t, out, flagged, reason, poll);
  free(rec);
  if (st != ES_OK) {
    free(msg);
    return st;
  }
  int kind = block ? ES_K_BLOCK : fold ? ES_K_STATE : ES_K_RECORDS;
  if (*flagged) {
    kind = ES_K_FLAGGED;
    memcpy(out, reason, ES_REASON_LEN);
    n = nreason;
  }
  msg[ES_M_ID] = (double)id; /* exact: ids are far below 2^53 */
  msg[ES_M_KIND] = kind;
  s->stat[ES_S_TASKS]++;
  s->stat[ES_S_COMPUTE] += es__tick(s) - c0;
  return es__ship(s, msg, ES_M_HEAD + n);
}

/* ---------- rank 0: hand-out, ledger and progress ---------- */

/* Rank 0: task ID finished on RANK (FLAGGED) between T_START and T_END: its ledger row, and
 * the point counts as done when all its tasks are in (its owner writes it). */
static es_status es__report(es__sweep *s, int64_t id, int flagged, int rank, double t_start,
                            double t_end) {
  const es__task *t = &s->tasks[id];
  const int64_t p = t->point;
  es_status st = ES_OK;
  if (id < s->ledger_rows) {
    if (s->nledger == ES__LEDGER_BATCH) st = es__ledger_flush(s);
    if (st == ES_OK)
      s->ledger[s->nledger++] = (es__ledger_row){id, p, t->begin, t->end, rank, t_start, t_end};
  }
  s->point_flagged[p] |= (unsigned char)(flagged != 0);
  if (--s->unreported[p] == 0) {
    s->done++;
    s->flagged += s->point_flagged[p];
    es_progress_update(&s->prog, s->done);
  }
  return st;
}

/* The cost of queue entry ID in neuron-networks per layer: a task's width x networks; a
 * pair's theory about 2^14 (bench/README.md). Only the hand-out uses it: no number depends
 * on it. */
static double es__entry_cost(const es__sweep *s, int64_t id) {
  if (id >= s->ntasks) return 16384.0;
  const es__task *t = &s->tasks[id];
  int64_t iw, ib, in;
  es_grid_point(&s->shape, t->point, &iw, &ib, &in);
  return s->job->width.v[in] * (double)(t->end - t->begin);
}

/* Queue entries for the next request: as many as cost about 1/(4 size) of what is left (at
 * least one, at most ES__BATCH_MAX), so that rank 0 answers a few requests per rank instead
 * of one per task, while no answer holds more than a small share of the work and the last
 * entries (the smallest: the queue runs largest first) even out the end. */
static int64_t es__batch(const es__sweep *s) {
  const int64_t left = s->nqueue - s->next;
  if (left <= 0) return 0;
  const double *c = s->qcost, share = (c[s->nqueue] - c[s->next]) / (4.0 * s->size);
  int64_t k = 1;
  while (k < left && k < ES__BATCH_MAX && c[s->next + k + 1] - c[s->next] <= share) k++;
  return k;
}

/* Rank 0: answer every request that has arrived (a worker's report of its finished tasks and
 * its wish for more). */
static void es__serve(es__sweep *s) {
  while (!s->broken && s->active > 0) {
    int flag = 0, n = 0;
    MPI_Status ms;
    es_status st = ES_MPI_ST(MPI_Iprobe(MPI_ANY_SOURCE, ES_TAG_REQ, s->comm, &flag, &ms));
    if (st == ES_OK && !flag) return;
    if (st == ES_OK) st = ES_MPI_ST(MPI_Get_count(&ms, MPI_INT64_T, &n));
    if (st == ES_OK && (n < ES_R_HEAD || n > ES_R_HEAD + ES_R_ROW * ES__BATCH_MAX)) {
      es_error_set("a request of %d values from rank %d", n, ms.MPI_SOURCE);
      st = ES_ERR_INTERNAL;
    }
    int64_t r[ES_R_HEAD + ES_R_ROW * ES__BATCH_MAX];
    if (st == ES_OK)
      st = ES_MPI_ST(
          MPI_Recv(r, n, MPI_INT64_T, ms.MPI_SOURCE, ES_TAG_REQ, s->comm, MPI_STATUS_IGNORE));
    if (st != ES_OK) {
      es__fail(s, st);
      s->active = 0; /* the workers fail too, or the launcher ends them */
      return;
    }
    const int src = ms.MPI_SOURCE;
    const double c0 = es__tick(s);
    s->stat[ES_S_REQUESTS]++;
    s->stat[ES_S_ROWS] += (double)r[ES_R_COUNT];
    for (int64_t i = 0; st == ES_OK && i < r[ES_R_COUNT]; i++) {
      const int64_t *row = r + ES_R_HEAD + ES_R_ROW * i;
      st = es__report(s, row[0], (int)row[1], src, 1e-6 * (double)row[2], 1e-6 * (double)row[3]);
    }
    if (st != ES_OK) es__fail(s, st);
    if (r[ES_R_QUIT]) { /* stopped or failed: the others stop too, at their next request */
      s->active--;
      s->next = s->nqueue;
      continue;
    }
    int64_t give[2] = {s->next, es__batch(s)};
    s->next += give[1];
    if (give[1] == 0) s->active--;
    st = ES_MPI_ST(MPI_Send(give, 2, MPI_INT64_T, src, ES_TAG_TASK, s->comm));
    s->stat[ES_S_SERVE] += es__tick(s) - c0;
    if (st != ES_OK) {
      es__fail(s, st);
      s->active = 0;
      return;
    }
  }
}

/* Between networks: rank 0 answers requests, every rank takes the results it owns. */
static void es__poll(es__sweep *s) {
  if (s->rank == 0) es__serve(s);
  es__drain(s);
  es__sends_test(s);
}

/* Collective (a nonblocking barrier). Take every result still in flight: a rank enters the
 * barrier once the owners have all its sends, and keeps taking until every rank has entered
 * (the NBX exchange of Hoefler, Siebert and Lumsdaine). */
static es_status es__exchange_end(es__sweep *s) {
  if (s->size == 1) return ES_OK;
  MPI_Request bar = MPI_REQUEST_NULL;
  int in = 0, done = 0;
  while (!s->broken) {
    int busy = es__drain(s);
    es__sends_test(s);
    if (!in && s->nsends == 0 && !s->broken) {
      es_status st = ES_MPI_ST(MPI_Ibarrier(s->comm, &bar));
      if (st != ES_OK) es__fail(s, st);
      in = st == ES_OK;
    }
    if (in && !s->broken) {
      es_status st = ES_MPI_ST(MPI_Test(&bar, &done, MPI_STATUS_IGNORE));
      if (st != ES_OK) es__fail(s, st);
      if (done) return ES_OK;
    }
    if (!busy) sched_yield(); /* ranks may share cores */
  }
  return s->fail;
}

static es_status es__pair_timed(es__sweep *s, int64_t k) {
  const double c0 = es__tick(s);
  es_status st = es__pair(s, k);
  s->stat[ES_S_PAIRS]++;
  s->stat[ES_S_PAIR] += es__tick(s) - c0;
  return st;
}

static es_status es__manager(es__sweep *s) {
  es_status st = ES_OK;
  s->active = s->size - 1;
  while (st == ES_OK && s->next < s->nqueue) {
    if (es__stop) {
      es_error_set("stopped by signal %d", (int)es__stop);
      st = ES_ERR_STOPPED;
      break;
    }
    const int64_t id = s->queue[s->next++];
    if (id >= s->ntasks) {
      st = es__pair_timed(s, id - s->ntasks);
    } else {
      int fl = 0;
      const double t0 = es_wtime() - s->t0;
      st = es__run_task(s, id, &fl);
      if (st == ES_OK) st = es__report(s, id, fl, 0, t0, es_wtime() - s->t0);
    }
    if (st == ES_OK) st = s->fail;
    if (st == ES_OK && s->size > 1) es__poll(s);
  }
  if (st != ES_OK) s->next = s->nqueue;
  while (s->active > 0 && !s->broken) {
    es__serve(s);
    if (!es__drain(s)) sched_yield();
    es__sends_test(s);
  }
  es_status xs = es__exchange_end(s);
  if (st == ES_OK) st = xs != ES_OK ? xs : s->fail;
  /* The rows of every reported task, also after a signal or an error. */
  es_status ls = es__ledger_flush(s);
  return st != ES_OK ? st : ls;
}

static es_status es__worker(es__sweep *s) {
  int64_t r[ES_R_HEAD + ES_R_ROW * ES__BATCH_MAX];
  r[ES_R_COUNT] = 0;
  es_status st = ES_OK;
  for (;;) {
    if (st == ES_OK && es__stop) {
      es_error_set("stopped by signal %d", (int)es__stop);
      st = ES_ERR_STOPPED;
    }
    if (st == ES_OK) st = s->fail;
    r[ES_R_QUIT] = st != ES_OK;
    es_status ms = ES_MPI_ST(MPI_Send(r, (int)(ES_R_HEAD + ES_R_ROW * r[ES_R_COUNT]), MPI_INT64_T,
                                      0, ES_TAG_REQ, s->comm));
    r[ES_R_COUNT] = 0;
    int64_t give[2] = {0, 0};
    MPI_Request req = MPI_REQUEST_NULL;
    if (ms == ES_OK && st == ES_OK)
      ms = ES_MPI_ST(MPI_Irecv(give, 2, MPI_INT64_T, 0, ES_TAG_TASK, s->comm, &req));
    /* Waiting for rank 0, keep taking results: other ranks may be waiting on this one. */
    const double w0 = es_wtime();
    for (int got = st != ES_OK; ms == ES_OK && !got;) {
      ms = ES_MPI_ST(MPI_Test(&req, &got, MPI_STATUS_IGNORE));
      if (!got && !es__drain(s)) sched_yield();
      es__sends_test(s);
    }
    s->stat[ES_S_WAIT] += es_wtime() - w0;
    if (ms != ES_OK) {
      es__fail(s, ms);
      return ms;
    }
    if (st != ES_OK || give[1] == 0) break;
    for (int64_t i = 0; st == ES_OK && i < give[1]; i++) {
      const int64_t id = s->queue[give[0] + i];
      if (id >= s->ntasks) { /* a pair: written here, nothing to report */
        st = es__pair_timed(s, id - s->ntasks);
      } else {
        int fl = 0;
        const double t0 = es_wtime() - s->t0;
        st = es__run_task(s, id, &fl);
        int64_t *row = r + ES_R_HEAD + ES_R_ROW * r[ES_R_COUNT];
        if (st == ES_OK) {
          row[0] = id;
          row[1] = fl;
          row[2] = (int64_t)(1e6 * t0);
          row[3] = (int64_t)(1e6 * (es_wtime() - s->t0));
          r[ES_R_COUNT]++;
        }
      }
      if (st == ES_OK) st = s->fail;
      es__poll(s);
    }
  }
  es_status xs = es__exchange_end(s);
  if (st == ES_OK) st = xs != ES_OK ? xs : s->fail;
  return st;
}

/* Collective. Rank 0 prints every rank's stats (ES_S_*) on LOG: a line per rank, then the sum. */
static void es__stats_print(es__sweep *s, FILE *log) {
  s->stat[ES_S_RAW] = (double)es_h5out_raw_calls(s->out);
  double *all = s->rank == 0 ? malloc((size_t)s->size * ES_S_COUNT * sizeof *all) : NULL;
  es_status st = ES_MPI_ST(
      MPI_Gather(s->stat, ES_S_COUNT, MPI_DOUBLE, all, ES_S_COUNT, MPI_DOUBLE, 0, s->comm));
  if (st != ES_OK || !all) {
    free(all);
    return;
  }
  double sum[ES_S_COUNT] = {0};
  fprintf(log,
          "edgesweep: stats: rank wall_s requests us/request tasks compute_s kB/sent pairs "
          "pair_s taken points us/taken us/point wait_s raw_io\n");
  for (int r = 0; r <= s->size; r++) {
    const double *x = r < s->size ? all + r * ES_S_COUNT : sum;
    for (int i = 0; r < s->size && i < ES_S_COUNT; i++) sum[i] += x[i];
    char who[16];
    snprintf(who, sizeof who, r < s->size ? "%d" : "all", r);
#define ES__PER(a, b) (x[b] > 0 ? x[a] / x[b] : 0.0)
    fprintf(log,
            "edgesweep: stats: %4s %7.3f %8.0f %11.2f %5.0f %9.3f %7.2f %5.0f %6.3f %5.0f %6.0f "
            "%8.2f %8.2f %6.3f %7.0f\n",
            who, x[ES_S_WALL], x[ES_S_REQUESTS], 1e6 * ES__PER(ES_S_SERVE, ES_S_REQUESTS),
            x[ES_S_TASKS], x[ES_S_COMPUTE], 1e-3 * ES__PER(ES_S_SENT_BYTES, ES_S_SENT),
            x[ES_S_PAIRS], x[ES_S_PAIR], x[ES_S_TAKEN], x[ES_S_POINTS],
            1e6 * ES__PER(ES_S_FOLD, ES_S_TAKEN), 1e6 * ES__PER(ES_S_WRITE, ES_S_POINTS),
            x[ES_S_WAIT], x[ES_S_RAW]);
#undef ES__PER
  }
  free(all);
}

es_status es__schedule(es__sweep *s) {
  s->ledger_rows = s->rank == 0 ? es_h5out_extent(s->out, ES_DS_RUN_TASK_POINT) : 0;
  s->fail = ES_OK;
  s->broken = 0;
  s->stats = getenv("EDGESWEEP_STATS") != NULL;
  for (int i = 0; i < ES_S_COUNT; i++) s->stat[i] = 0;
  const double w0 = es_wtime();
  es_status st = ES_OK;
  if (s->rank != 0) {
    st = es__worker(s);
  } else {
    s->nledger = 0;
    s->ledger = malloc(ES__LEDGER_BATCH * sizeof *s->ledger);
    s->unreported = malloc((size_t)(s->npoints ? s->npoints : 1) * sizeof *s->unreported);
    s->point_flagged = calloc((size_t)(s->npoints ? s->npoints : 1), 1);
    st = s->ledger && s->unreported && s->point_flagged ? ES_OK : ES_ERR_NOMEM;
    if (st != ES_OK) es_error_set("out of memory for the task ledger");
    if (st == ES_OK) {
      memcpy(s->unreported, s->left, (size_t)s->npoints * sizeof *s->unreported);
      /* Prefix sums of the queue's costs, for es__batch. */
      s->qcost = malloc((size_t)(s->nqueue + 1) * sizeof *s->qcost);
      st = s->qcost ? ES_OK : ES_ERR_NOMEM;
      if (st != ES_OK) es_error_set("out of memory for the hand-out");
      if (st == ES_OK) s->qcost[0] = 0;
      for (int64_t q = 0; st == ES_OK && q < s->nqueue; q++)
        s->qcost[q + 1] = s->qcost[q] + es__entry_cost(s, s->queue[q]);
      if (st == ES_OK) st = es__manager(s);
    }
    free(s->ledger);
    s->ledger = NULL;
  }
  s->stat[ES_S_WALL] = es_wtime() - w0;
  /* Not after an MPI failure: the gather needs every rank. */
  if (s->stats && !s->broken) es__stats_print(s, stderr);
  return st;
}
