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

/* Not collective (pure). The size in bytes of JOB's output file with NTASKS ledger rows,
 * from the layout's own dataset table (what `check` reports). */
double es_h5out_layout_bytes(const es_job *job, int64_t ntasks);

/* Version string of the HDF5 library ("1.10.8"). */
const char *es_h5out_hdf5_version(void);

#endif
