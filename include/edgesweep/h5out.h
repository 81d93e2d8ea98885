/* h5out: the one HDF5 output file of a sweep (SPEC §5). The only module that sees hdf5.h.
 *
 * The layout is created collectively up front, every dataset early-allocated, contiguous
 * and filled (NaN for numbers), so later writes are independent hyperslab writes that go
 * straight to the file through MPI-IO: a worker writes its point when it finishes it, and
 * what was written survives a kill. Attributes and flushes are collective.
 */
#ifndef EDGESWEEP_H5OUT_H
#define EDGESWEEP_H5OUT_H

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

#include "edgesweep/config.h"
#include "edgesweep/util.h"

typedef struct es_h5out es_h5out;

/* Provenance written as root attributes. */
typedef struct {
  const char *version, *git_commit, *command_line, *libraries, *host, *created;
  int ranks;
} es_h5_prov;

/* Collective. Create PATH (truncating it: the caller has decided it may) with the whole
 * layout for JOB, NTASKS ledger rows, and the provenance attributes. */
es_status es_h5out_create(MPI_Comm comm, const char *path, const es_job *job,
                          const es_h5_prov *prov, int64_t ntasks, es_h5out **h);

/* Collective. Open an existing (partial) output to resume it. Refuses (ES_ERR_INPUT, with a
 * message saying what differs) a file that is not edgesweep's or that another job wrote.
 * Appends this launch (PROV's time, ranks, command line) to the root attribute "resumes". */
es_status es_h5out_open(MPI_Comm comm, const char *path, const es_job *job,
                        const es_h5_prov *prov, es_h5out **h);

/* Not collective. Independent read of a hyperslab of an int8 dataset (e.g. "run/status"). */
es_status es_h5out_read_i8(es_h5out *h, const char *dset, const int64_t *start,
                           const int64_t *count, signed char *data);
es_status es_h5out_read_i64(es_h5out *h, const char *dset, const int64_t *start,
                            const int64_t *count, int64_t *data);
es_status es_h5out_read_f64(es_h5out *h, const char *dset, const int64_t *start,
                            const int64_t *count, double *data);

/* Not collective. Independent write of a hyperslab of dataset "group/name" (e.g.
 * "ensemble/q_mean"): START and COUNT have one entry per axis of the dataset. */
es_status es_h5out_write_f64(es_h5out *h, const char *dset, const int64_t *start,
                             const int64_t *count, const double *data);
es_status es_h5out_write_i64(es_h5out *h, const char *dset, const int64_t *start,
                             const int64_t *count, const int64_t *data);
es_status es_h5out_write_u64(es_h5out *h, const char *dset, const int64_t *start,
                             const int64_t *count, const uint64_t *data);
es_status es_h5out_write_i8(es_h5out *h, const char *dset, const int64_t *start,
                            const int64_t *count, const signed char *data);
/* One fixed-length string element (truncated to the dataset's length, 95 bytes). */
es_status es_h5out_write_str(es_h5out *h, const char *dset, const int64_t *start,
                             const char *text);

/* Not collective. Length of the first axis of a dataset of the layout (-1: no such). */
int64_t es_h5out_extent(es_h5out *h, const char *dset);

/* Collective. Flush everything to the file. */
es_status es_h5out_flush(es_h5out *h);

/* Collective. Set the root attribute "completed" (a time stamp, or "" when the run did not
 * finish), close, and free. NULL-safe; sets *h to NULL. Returns the first error met. */
es_status es_h5out_close(es_h5out **h, const char *completed);

/* Not collective (serial, read-only). Print provenance, progress and the points not done of
 * an output file (final or .partial) for `edgesweep info`. ES_ERR_INPUT when PATH is not an
 * edgesweep file. */
es_status es_h5out_info(const char *path, FILE *f);

/* Not collective (serial, read-only). The networks per point a finished file holds and the
 * job identity (SHA-256 of the canonical job) that wrote it. */
es_status es_h5out_networks(const char *path, int64_t *networks, char sha256[65]);

/* ---------- integrity (README, Integrity) ---------- */

#define ES_H5_REASON_MAX 95 /* bytes of a reason string that are stored and checksummed */

/* /run/checksum of a point: a hash (es_sum) of, in this order, the /ensemble fields
 * (observables.h order, ND depths each), ensemble/networks (ND), then for a done point
 * (STATUS 1) run/state (ND x ES_STATE_COUNT) and run/networks_done, for a flagged one
 * (STATUS 2) run/reason; last the status. Never 0 (0 in the file: no checksum). */
uint64_t es_h5out_point_checksum(int64_t nd, const double *fields, const int64_t *networks,
                                 const double *state, int64_t networks_done,
                                 const char *reason, signed char status);

/* /run/pair_checksum of a (sigma_w2, sigma_b2) pair: the /mft scalars in the order of
 * es_h5out_mft_scalars, mft/phase, mft/reason, the trajectories mft/q, mft/c, mft/logjac (ND
 * each), the /theory fields in the order of es_h5out_theory_fields (ND x NN each), and for the
 * first sigma_w2 (CRITICAL not NULL) mft/critical_sigma_w2 of the sigma_b2. */
#define ES_H5_MFT_SCALARS 8
#define ES_H5_THEORY_FIELDS 12
extern const char *const es_h5out_mft_scalars[ES_H5_MFT_SCALARS];
extern const char *const es_h5out_theory_fields[ES_H5_THEORY_FIELDS];
uint64_t es_h5out_pair_checksum(int64_t nd, int64_t nn, const double *scalars,
                                signed char phase, const char *reason, const double *traj,
                                const double *theory, const double *critical);

/* A file opened for checking (serial, read-only; not collective). es_h5check_open refuses
 * (ES_ERR_INPUT, message naming the attribute or dataset) a file that is not edgesweep/1, whose
 * job_canonical does not parse or hash to job_sha256, or where any dataset of the layout is
 * missing or has another type or shape than the job's coordinates give; it reads nothing
 * before its shape is known. */
typedef struct es_h5check es_h5check;
es_status es_h5check_open(const char *path, es_h5check **c);
void es_h5check_close(es_h5check **c);
const es_job *es_h5check_job(const es_h5check *c); /* networks: the file's */
int es_h5check_finished(const es_h5check *c);     /* "completed" is set */

/* Point P's stored values (buffers owned by C, valid until the next call) and checksums. */
typedef struct {
  int64_t iw, ib, in;
  const double *fields, *state; /* ES_F_COUNT x nd; nd x ES_STATE_COUNT */
  const int64_t *networks;      /* nd */
  int64_t networks_done;
  signed char status;
  char reason[ES_H5_REASON_MAX + 1];
  uint64_t checksum; /* stored */
  uint64_t sum;      /* of the stored values */
} es_h5_point;
es_status es_h5check_point(es_h5check *c, int64_t p, es_h5_point *v);

/* Status, networks done and stored checksum of every point (either may be NULL). */
es_status es_h5check_read_status(es_h5check *c, signed char *status, int64_t *networks_done,
                                 uint64_t *checksum);

/* Check every done or flagged point's checksum (and, in a completed file, that no point is
 * pending) and, when PAIRS, every written pair's. BAD (points, may be NULL) gets 1 where a point fails;
 * OUT (may be NULL) a line per failure (the first 20). ES_ERR_INPUT naming the first failure
 * when there is one. */
es_status es_h5check_sums(es_h5check *c, int pairs, unsigned char *bad, FILE *out,
                          int64_t *nbad);

/* Version string of the HDF5 library ("1.10.8"). */
const char *es_h5out_hdf5_version(void);

#endif
