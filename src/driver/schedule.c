/* schedule: tasks of networks, handed out by rank 0 (which computes too), and the merge of
 * every network into its point's statistics in network order (doc/output.md, Guarantees: the bits
 * depend on nothing but the job).
 *
 * Protocol (tags below). A worker sends a request header; when it carries a finished task
 * the per-network measurements follow (and a reason when the point was flagged). Rank 0
 * replies with the next task id or -1. A quitting worker (signal, error) gets no reply.
 * Rank 0 writes every point: fields, counts, streaming state, then the status last. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edgesweep/ensemble.h"
#include "edgesweep/observables.h"
#include "sweep.h"

enum { ES_TAG_REQ = 101, ES_TAG_TASK = 102, ES_TAG_DATA = 103, ES_TAG_REASON = 104 };

/* Request header. */
enum { ES_H_TASK, ES_H_FLAGGED, ES_H_QUIT, ES_H_START_US, ES_H_END_US, ES_H_COUNT };

/* Records of a task that arrived before the networks preceding it. */
typedef struct es__rec {
  int64_t begin, end;
  double *data;
  struct es__rec *next;
} es__rec;

struct es__merge {
  int64_t next; /* the next network to fold */
  double *state;
  es__rec *buf; /* waiting records, sorted by begin */
  int flagged;
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
  /* The job's, or whole points unless there are too few points to keep every rank busy. It
   * never changes a number: networks are folded in order. */
  int64_t T = j->networks_per_task;
  if (T <= 0) {
    T = j->networks;
    if (npoints < 4 * size) T = (j->networks * npoints + 4 * size - 1) / (4 * size);
  }
  /* A task's measurements travel in one message, whose count is an int. */
  const int64_t row = j->depth.n * es_nobs_len(j->nlags);
  if (T > INT_MAX / row) T = INT_MAX / row;
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
  es_status st = status && done && s->pending && s->queue && s->left && s->start_nets &&
                         s->was_done && s->merge
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
          free(r->data);
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

/* ---------- rank 0: merging and writing points ---------- */

/* Write one point's depth column of a dataset laid out (sigma_w2, sigma_b2, depth, width[,
 * TAIL]) at (IW, IB, :, IN). Written directly the column is ND strided pieces, and MPI-IO
 * spends a system call and its bookkeeping on each (~15 datasets x ND per point); when the
 * point's (sigma_w2, sigma_b2) slab is small it is read whole, patched and written back in
 * one piece. Safe because rank 0 is the only writer of these datasets; the bytes of the other
 * points are written back unchanged. BUF holds a slab (es__slab_elems). */
enum { ES__SLAB_MAX = 1 << 15 }; /* elements: 256 KiB */

static int64_t es__slab_elems(const es__sweep *s, int64_t tail) {
  const int64_t n = s->job->depth.n * s->job->width.n * tail;
  /* Below ~8 depths the two whole-slab calls cost more than the few pieces. */
  return s->job->depth.n >= 8 && n <= ES__SLAB_MAX ? n : 0;
}

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

/* The merge state of point P, created on first use (from the file when the point grows). */
static es_status es__merge_of(es__sweep *s, int64_t p, es__merge **out) {
  const int64_t nd = s->job->depth.n, nl = s->job->nlags, S = es_obs_state_len(nl);
  if (!s->merge[p]) {
    es__merge *m = calloc(1, sizeof *m);
    double *state = malloc((size_t)(nd * S) * sizeof *state);
    if (!m || !state) {
      free(m);
      free(state);
      es_error_set("out of memory");
      return ES_ERR_NOMEM;
    }
    m->state = state;
    m->next = s->start_nets[p];
    es_obs_state_init(state, nd, nl);
    if (s->was_done[p]) {
      int64_t iw, ib, in;
      es_grid_point(&s->shape, p, &iw, &ib, &in);
      es_status st = es_h5out_read_state(s->out, iw, ib, in, nd, nl, state);
      if (st != ES_OK) {
        free(state);
        free(m);
        return st;
      }
    }
    s->merge[p] = m;
  }
  *out = s->merge[p];
  return ES_OK;
}

/* Rank 0: a task is finished (REC is taken over; NULL when flagged). Fold what is in order,
 * write the ledger row, and the point when it is complete. */
static es_status es__deliver(es__sweep *s, int64_t id, double *rec, int flagged, const char *reason,
                             int rank, double t_start, double t_end) {
  const es__task *t = &s->tasks[id];
  const int64_t p = t->point, nd = s->job->depth.n, nl = s->job->nlags;
  const int64_t stride = nd * es_nobs_len(nl);
  es__merge *m;
  es_status st = es__merge_of(s, p, &m);
  if (st != ES_OK) {
    free(rec);
    return st;
  }
  if (flagged) {
    if (!m->flagged) snprintf(m->reason, sizeof m->reason, "%s", reason);
    m->flagged = 1;
    free(rec);
  } else {
    es__rec *r = malloc(sizeof *r), **at = &m->buf;
    if (!r) {
      free(rec);
      es_error_set("out of memory");
      return ES_ERR_NOMEM;
    }
    *r = (es__rec){t->begin, t->end, rec, NULL};
    while (*at && (*at)->begin < r->begin) at = &(*at)->next;
    r->next = *at;
    *at = r;
    /* Fold every record that continues the networks folded so far, in network order. */
    while (m->buf && m->buf->begin == m->next) {
      es__rec *h = m->buf;
      for (int64_t i = 0; i < h->end - h->begin; i++)
        es_obs_state_add(m->state, h->data + i * stride, nd, nl);
      m->next = h->end;
      m->buf = h->next;
      free(h->data);
      free(h);
    }
  }
  if (id < s->ledger_rows) {
    if (s->nledger == ES__LEDGER_BATCH) st = es__ledger_flush(s);
    if (st == ES_OK)
      s->ledger[s->nledger++] = (es__ledger_row){id, p, t->begin, t->end, rank, t_start, t_end};
  }
  if (st == ES_OK && --s->left[p] == 0) {
    st = es__write_point(s, p, m);
    s->done++;
    s->flagged += m->flagged;
    free(m->state);
    free(m);
    s->merge[p] = NULL;
    es_progress_update(&s->prog, s->done);
  }
  return st;
}

/* ---------- rank 0: hand-out ---------- */

static es_status es__serve_status = ES_OK;

/* An MPI failure while serving: stop handing out and waiting for workers (they fail too, or
 * the launcher ends them), keep the message. */
static void es__serve_fail(es__sweep *s, es_status st) {
  if (es__serve_status == ES_OK || es__serve_status == ES_ERR_STOPPED) es__serve_status = st;
  s->next = s->nqueue;
  s->active = 0;
}

/* Answer every pending request (waiting for one when BLOCK). */
static void es__serve(es__sweep *s, int block) {
  const int64_t stride = s->job->depth.n * es_nobs_len(s->job->nlags);
  for (;;) {
    int flag = 0;
    MPI_Status ms;
    es_status ms_st;
    if (block) {
      ms_st = ES_MPI_ST(MPI_Probe(MPI_ANY_SOURCE, ES_TAG_REQ, s->comm, &ms));
      flag = 1;
      block = 0;
    } else {
      ms_st = ES_MPI_ST(MPI_Iprobe(MPI_ANY_SOURCE, ES_TAG_REQ, s->comm, &flag, &ms));
    }
    if (ms_st != ES_OK) {
      es__serve_fail(s, ms_st);
      return;
    }
    if (!flag) return;
    int src = ms.MPI_SOURCE;
    int64_t h[ES_H_COUNT];
    ms_st = ES_MPI_ST(
        MPI_Recv(h, ES_H_COUNT, MPI_INT64_T, src, ES_TAG_REQ, s->comm, MPI_STATUS_IGNORE));
    if (ms_st != ES_OK) {
      es__serve_fail(s, ms_st);
      return;
    }
    if (h[ES_H_TASK] >= 0) { /* a simulation task (finished pairs are not reported) */
      const es__task *t = &s->tasks[h[ES_H_TASK]];
      char reason[ES_REASON_LEN] = "";
      double *rec = NULL;
      if (h[ES_H_FLAGGED]) {
        ms_st = ES_MPI_ST(MPI_Recv(reason, ES_REASON_LEN, MPI_CHAR, src, ES_TAG_REASON, s->comm,
                                   MPI_STATUS_IGNORE));
      } else {
        int64_t n = (t->end - t->begin) * stride;
        rec = malloc((size_t)n * sizeof *rec);
        /* Receive even when out of memory, so the protocol stays in step. */
        double dummy;
        ms_st = ES_MPI_ST(MPI_Recv(rec ? rec : &dummy, rec ? (int)n : 0, MPI_DOUBLE, src,
                                   ES_TAG_DATA, s->comm, MPI_STATUS_IGNORE));
      }
      if (ms_st != ES_OK) {
        free(rec);
        es__serve_fail(s, ms_st);
        return;
      }
      es_status st = es__deliver(s, h[ES_H_TASK], rec, (int)h[ES_H_FLAGGED], reason, src,
                                 1e-6 * (double)h[ES_H_START_US], 1e-6 * (double)h[ES_H_END_US]);
      if (st != ES_OK && es__serve_status == ES_OK) {
        es__serve_status = st;
        s->next = s->nqueue; /* hand out nothing more */
      }
    }
    if (h[ES_H_QUIT]) { /* stopped or failed: the others stop too, at their next task */
      s->active--;
      s->next = s->nqueue;
      continue;
    }
    int64_t task = s->next < s->nqueue ? s->queue[s->next++] : -1;
    if (task < 0) s->active--;
    ms_st = ES_MPI_ST(MPI_Send(&task, 1, MPI_INT64_T, src, ES_TAG_TASK, s->comm));
    if (ms_st != ES_OK) {
      es__serve_fail(s, ms_st);
      return;
    }
  }
}

static void es__poll(es__sweep *s) { es__serve(s, 0); }

static es_status es__manager(es__sweep *s) {
  const int64_t stride = s->job->depth.n * es_nobs_len(s->job->nlags);
  es_status st = ES_OK;
  es__serve_status = ES_OK;
  s->active = s->size - 1;
  while (st == ES_OK && s->next < s->nqueue) {
    if (es__stop) {
      es_error_set("stopped by signal %d", (int)es__stop);
      st = ES_ERR_STOPPED;
      break;
    }
    int64_t id = s->queue[s->next++];
    if (id >= s->ntasks) {
      st = es__pair(s, id - s->ntasks);
      if (st == ES_OK) st = es__serve_status;
      if (st == ES_OK && s->size > 1) es__serve(s, 0);
      continue;
    }
    const es__task *t = &s->tasks[id];
    double *rec = malloc((size_t)((t->end - t->begin) * stride) * sizeof *rec);
    ES_CHECK(rec, ES_ERR_NOMEM, "out of memory for a task's measurements");
    char reason[ES_REASON_LEN] = "";
    int fl;
    double t0 = es_wtime() - s->t0;
    st = es__compute(s, t, rec, &fl, reason, s->size > 1 ? es__poll : NULL);
    if (st == ES_OK)
      st = es__deliver(s, id, rec, fl, reason, 0, t0, es_wtime() - s->t0);
    else
      free(rec);
    if (st == ES_OK) st = es__serve_status;
    if (st == ES_OK && s->size > 1) es__serve(s, 0);
  }
  if (st != ES_OK) s->next = s->nqueue;
  while (s->active > 0) es__serve(s, 1);
  if (st == ES_OK) st = es__serve_status;
  /* The rows of every delivered task, also after a signal or an error. */
  es_status ls = es__ledger_flush(s);
  return st != ES_OK ? st : ls;
}

static es_status es__worker(es__sweep *s) {
  const int64_t stride = s->job->depth.n * es_nobs_len(s->job->nlags);
  int64_t h[ES_H_COUNT] = {-1, 0, 0, 0, 0}, id;
  double *rec = NULL;
  char reason[ES_REASON_LEN] = "";
  es_status st = ES_OK;
  for (;;) {
    if (st == ES_OK && es__stop) {
      es_error_set("stopped by signal %d", (int)es__stop);
      st = ES_ERR_STOPPED;
    }
    h[ES_H_QUIT] = st != ES_OK;
    es_status ms = ES_MPI_ST(MPI_Send(h, ES_H_COUNT, MPI_INT64_T, 0, ES_TAG_REQ, s->comm));
    if (ms == ES_OK && h[ES_H_TASK] >= 0) {
      const es__task *t = &s->tasks[h[ES_H_TASK]];
      if (h[ES_H_FLAGGED])
        ms = ES_MPI_ST(MPI_Send(reason, ES_REASON_LEN, MPI_CHAR, 0, ES_TAG_REASON, s->comm));
      else
        ms = ES_MPI_ST(MPI_Send(rec, (int)((t->end - t->begin) * stride), MPI_DOUBLE, 0,
                                ES_TAG_DATA, s->comm));
    }
    free(rec);
    rec = NULL;
    if (ms != ES_OK) return ms;
    if (st != ES_OK) return st;
    ES_MPI(MPI_Recv(&id, 1, MPI_INT64_T, 0, ES_TAG_TASK, s->comm, MPI_STATUS_IGNORE));
    if (id < 0) return ES_OK;
    if (id >= s->ntasks) { /* a pair: written here, nothing to send back */
      st = es__pair(s, id - s->ntasks);
      h[ES_H_TASK] = -1;
      h[ES_H_FLAGGED] = 0;
      continue;
    }
    const es__task *t = &s->tasks[id];
    rec = malloc((size_t)((t->end - t->begin) * stride) * sizeof *rec);
    int fl = 0;
    double t0 = es_wtime() - s->t0;
    st = rec ? es__compute(s, t, rec, &fl, reason, NULL) : ES_ERR_NOMEM;
    if (!rec) es_error_set("out of memory for a task's measurements");
    h[ES_H_TASK] = st == ES_OK ? id : -1;
    h[ES_H_FLAGGED] = fl;
    h[ES_H_START_US] = (int64_t)(1e6 * t0);
    h[ES_H_END_US] = (int64_t)(1e6 * (es_wtime() - s->t0));
  }
}

es_status es__schedule(es__sweep *s) {
  s->ledger_rows = s->rank == 0 ? es_h5out_extent(s->out, ES_DS_RUN_TASK_POINT) : 0;
  if (s->rank != 0) return es__worker(s);
  s->nledger = 0;
  s->ledger = malloc(ES__LEDGER_BATCH * sizeof *s->ledger);
  ES_CHECK(s->ledger, ES_ERR_NOMEM, "out of memory for the task ledger");
  es_status st = es__manager(s);
  free(s->ledger);
  s->ledger = NULL;
  return st;
}
