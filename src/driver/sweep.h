/* sweep: the state of one `run` shared by driver.c (flow, output, theory) and schedule.c
 * (tasks, manager/worker protocol, merging). Private to the driver. */
#ifndef ES_SWEEP_H
#define ES_SWEEP_H

#include <mpi.h>
#include <signal.h>
#include <stdint.h>

#include "edgesweep/config.h"
#include "edgesweep/ensemble.h"
#include "edgesweep/h5out.h"
#include "progress.h"

/* One task: networks [begin, end) of one simulation point. */
typedef struct {
  int64_t point, begin, end;
} es__task;

typedef struct es__merge es__merge;

/* One row of the task ledger (run/task_*), kept by rank 0 until es__ledger_flush. */
typedef struct {
  int64_t id, point, begin, end, rank;
  double start, stop;
} es__ledger_row;

/* What one rank spent on the sweep: counts, CPU seconds (thread) and wall seconds. With
 * EDGESWEEP_STATS set, rank 0 prints every rank's at the end (bench/README, Rank 0 at scale). */
enum {
  ES_S_REQUESTS,    /* rank 0: requests answered */
  ES_S_ROWS,        /* rank 0: finished tasks reported to it */
  ES_S_SERVE,       /* rank 0: CPU answering them (ledger rows and progress included) */
  ES_S_TASKS,       /* tasks computed */
  ES_S_COMPUTE,     /* CPU computing them (the fold of a point's only task included) */
  ES_S_PAIRS,       /* (sigma_w2, sigma_b2) pairs of MFT and theory computed */
  ES_S_PAIR,        /* CPU computing them */
  ES_S_SENT,        /* results sent to other ranks' points */
  ES_S_SENT_BYTES,  /* their bytes */
  ES_S_TAKEN,       /* results taken for points this rank owns */
  ES_S_TAKEN_BYTES, /* their bytes */
  ES_S_FOLD,        /* CPU folding them */
  ES_S_POINTS,      /* points written */
  ES_S_WRITE,       /* CPU writing them */
  ES_S_WAIT,        /* wall seconds waiting for rank 0's answer */
  ES_S_WALL,        /* wall seconds of the whole schedule */
  ES_S_RAW,         /* reads and writes through MPI-IO directly (es_h5out_raw_calls) */
  ES_S_COUNT
};

typedef struct {
  MPI_Comm comm;
  int rank, size;
  const es_job *job;
  es_grid_shape shape;
  int64_t npoints;
  int64_t *order;  /* points, largest first */
  es__task *tasks; /* the full plan; a task's id is its index (the ledger row) */
  int64_t ntasks;
  int64_t *pending; /* ids of the tasks to compute in this launch, in order */
  int64_t npending, npoints_pending;
  /* The queue handed out: the pending tasks and, as ids ntasks + k, the /mft and /theory of
   * every (sigma_w2, sigma_b2) pair k (sigma_w2 fastest), so that they overlap the sweep. */
  int64_t *queue;
  int64_t nqueue;
  es_h5out *out;
  int64_t ledger_rows;    /* rows of the file's ledger (the plan of the launch that made it) */
  es__ledger_row *ledger; /* rank 0: finished tasks' rows not yet in the file */
  int64_t nledger;
  double t0;
  /* rank 0: hand-out, ledger and progress */
  int64_t next, done, flagged;
  int active;
  int64_t *unreported;          /* per point: tasks not reported yet */
  unsigned char *point_flagged; /* per point: a reported task was flagged */
  double *qcost;                /* prefix sums of the queue entries' costs (es__batch) */
  /* every rank: the points it owns (es__owner) and the results it sends */
  es__merge **merge;    /* per point, while its tasks are in flight */
  int64_t *left;        /* per point: tasks whose results have not arrived yet */
  int64_t *point_tasks; /* per point: tasks in this launch */
  MPI_Request *sreq;    /* results sent to owners, not yet received */
  double **sbuf;
  int *sidx; /* room for MPI_Testsome's indices */
  int nsends, capsends;
  es_status fail; /* the first failure in serving, merging or writing */
  int broken;     /* an MPI call failed: stop waiting for messages */
  int stats;      /* EDGESWEEP_STATS is set: time the parts (es_cputime ~0.3 us a call) */
  double stat[ES_S_COUNT];
  int64_t *start_nets; /* per point: networks already in the file (a resume raising M) */
  signed char *was_done;
  es_progress prog;
  unsigned char *distrust; /* per point: failed its checksum on resume, recompute (or NULL) */
  int lock_fd;             /* rank 0: OUT.lock, write-locked for the whole run (-1: none) */
  int lock_made;           /* rank 0: this launch created OUT.lock */
  int local_ranks;         /* ranks on this node */
  long double out_bytes;   /* rank 0: the layout's size, reserved before it is built */
} es__sweep;

/* Set by SIGTERM, SIGUSR1, SIGINT: stop handing out work and drop the tasks in flight. */
extern volatile sig_atomic_t es__stop;

/* Not collective. ES_OK when CODE is MPI_SUCCESS; otherwise ES_ERR_MPI with MPI's own message,
 * the call and the rank (MPI_ERRORS_RETURN is set, so MPI returns its failures). */
es_status es__mpi_status(int code, const char *call, const char *file, int line);
#define ES_MPI_ST(call) es__mpi_status((call), #call, __FILE__, __LINE__)
#define ES_MPI(call) ES_CALL(ES_MPI_ST(call))

/* Collective. Every rank learns the worst status and the message of a rank that has it. */
es_status es__agree(MPI_Comm comm, es_status st);

/* Not collective. The ensemble parameters of JOB's point (sw2, sb2, width n) recording the
 * ND depths DEPTHS (which must outlive the ensemble). */
es_ensemble_params es__ensemble_params(const es_job *j, double sw2, double sb2, int64_t n,
                                       int64_t nd, const int64_t *depths);

/* Not collective. Networks per task of the plan for NPOINTS points on SIZE ranks; a point
 * of M networks is ceil(M / that) tasks. */
int64_t es__networks_per_task(const es_job *j, int64_t npoints, int size);

/* Collective. Build the plan: points largest first, cut into tasks of networks. */
es_status es__plan(es__sweep *s);

/* Collective. Read the file's progress (status, networks done) and choose the tasks to run. */
es_status es__pending(es__sweep *s);

/* Collective. Compute the pending tasks: rank 0 hands them out and computes too; the owner
 * of each point folds its networks in network order and writes the point when its last task
 * is in. */
es_status es__schedule(es__sweep *s);

/* Not collective. Simulate the networks of task T into REC ((end - begin) x ndepth x
 * ES_NOBS_COUNT). An overflow flags the point (*FLAGGED, REASON of ES_REASON_LEN bytes); a
 * signal drops the task (ES_ERR_STOPPED). POLL (may be NULL) runs between networks. */
es_status es__compute(es__sweep *s, const es__task *t, double *rec, int *flagged, char *reason,
                      void (*poll)(es__sweep *));

/* Networks simulated at a time when they are folded where they run: bounds the memory. */
enum { ES__CHUNK = 64 };

/* Not collective. Simulate networks [BEGIN, END) of point P, ES__CHUNK at a time into REC
 * (room for ES__CHUNK networks' measurements), and add each to STATE in network order: what
 * a block, a point's only task and `verify` fold. An overflow flags the point (*FLAGGED,
 * REASON) and ends the fold. POLL as in es__compute. */
es_status es__fold_networks(es__sweep *s, int64_t p, int64_t begin, int64_t end, double *rec,
                            double *state, int *flagged, char *reason, void (*poll)(es__sweep *));

/* Not collective (driver.c). The mean-field and 1/N theory of pair K (sigma_w2 fastest), and
 * for the first sigma_w2 the critical sigma_w2 of its sigma_b2, written by the calling rank. */
es_status es__pair(es__sweep *s, int64_t k);

/* What a job will cost (estimate.c): shown by `check`, enforced by `run` and `check`.
 * Sizes are long double: no product of job sizes can overflow (a recurrent W at N = 2^24 is
 * 2^51 bytes; the largest grid times the largest depth list is far beyond int64 too). */
typedef struct {
  int64_t points, pairs, tasks, networks_per_task;
  int ranks;          /* the task count is the plan on RANKS ranks */
  int64_t ranks_upto; /* and on any number up to this one (-1: any number at all) */
  int local_ranks;    /* ranks on this node: they share its memory */
  long double mem_bytes, out_bytes, ram_bytes, free_bytes;
  long double w_bytes, dmft_bytes, task_bytes; /* the parts of mem_bytes that usually dominate */
  /* Core-seconds: the simulation, the MFT and the 1/N theory sampled on this machine (when
   * measured), rank 0's writes and every rank's set-up from a model. */
  int measured;
  double sim_s, mft_s, theory_s, write_s, setup_s;
} es__estimate;

/* Not collective. Estimate JOB writing OUT on SIZE ranks, LOCAL_RANKS of them on this node;
 * MEASURE times samples of the simulation and theory (up to ~1 s), else only counts, memory
 * and sizes are filled. */
void es__estimate_job(const es_job *j, const char *out, int size, int local_ranks, int measure,
                      es__estimate *e);

/* Free what es__plan and es__pending allocated. */
void es__sweep_free(es__sweep *s);

#endif
