/* h5out: the one HDF5 output file of a sweep (doc/output.md). The only module that sees hdf5.h.
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
#include "edgesweep/observables.h"
#include "edgesweep/util.h"

/* Point status in /run/status: X(ID, value, CF flag meaning). */
#define ES_POINT_STATUS_MAP(X) \
  X(PENDING, 0, "pending")     \
  X(DONE, 1, "done")           \
  X(FLAGGED, 2, "flagged")

typedef enum {
#define ES__PS(id, v, meaning) ES_POINT_##id = v,
  ES_POINT_STATUS_MAP(ES__PS)
#undef ES__PS
} es_point_status;

/* Which code table (flag_values/flag_meanings attributes) a code dataset uses. */
typedef enum { ES_CODES_NONE, ES_CODES_STATUS, ES_CODES_PHASE, ES_CODES_REGIME } es_codes;

/* Every dataset of the layout besides the coordinates and the /ensemble fields (which come
 * from ES_FIELD_MAP in observables.h, as ES_DS_ENSEMBLE_<field>, first and in its order):
 *   X(ID, group, name, type, axes, codes, units, description)
 * TYPE: F64 (NaN fill), I64, U64 and I8 (0 fill), TEXT (a variable-length string, "" fill).
 * AXES name the dimensions by letter: w sigma_w2, b sigma_b2, d depth, n width, t task,
 * s statistic. CODES: the code table of an I8 code dataset, else NONE.
 * A new dataset is one row here: the enum ES_DS_<ID> follows, the file gets it with its
 * attributes and dimension scales, a resume reopens it, and writers name it by the enum. */
#define ES_DATASET_MAP(X)                                                                          \
  X(ENSEMBLE_NETWORKS, "ensemble", "networks", I64, "wbdn", NONE, "1",                             \
    "number of networks in the statistics")                                                        \
  X(ENSEMBLE_QTS_AA_MEAN, "ensemble", "qts_aa_mean", F64, "wbdnl", NONE, "1",                      \
    "ensemble mean of the two-time overlap q_aa(t, t-L) = h_a^t . h_a^(t-L) / N at lag L "         \
    "(NaN where t - L < 1)")                                                                       \
  X(ENSEMBLE_QTS_AA_VAR, "ensemble", "qts_aa_var", F64, "wbdnl", NONE, "1",                        \
    "unbiased variance over networks of q_aa(t, t-L)")                                             \
  X(ENSEMBLE_QTS_AB_MEAN, "ensemble", "qts_ab_mean", F64, "wbdnl", NONE, "1",                      \
    "ensemble mean of the cross-input two-time overlap q_ab(t, t-L) = h_a^t . h_b^(t-L) / N")      \
  X(ENSEMBLE_QTS_AB_VAR, "ensemble", "qts_ab_var", F64, "wbdnl", NONE, "1",                        \
    "unbiased variance over networks of q_ab(t, t-L)")                                             \
  X(MFT_Q_STAR, "mft", "q_star", F64, "wb", NONE, "1",                                             \
    "MFT fixed point q* reached from q0 (NaN: none); recurrent: stationary C(0) of the "           \
    "two-time DMFT (doc/physics.md 3.6)")                                                          \
  X(MFT_C_STAR, "mft", "c_star", F64, "wb", NONE, "1",                                             \
    "MFT fixed point c* of the correlation map")                                                   \
  X(MFT_CHI1, "mft", "chi1", F64, "wb", NONE, "1",                                                 \
    "chi_1 = (1-gamma)^2 + sigma_w2 E[phi'^2] at q*; recurrent: "                                  \
    "exp(2 lambda), the DMFT tangent's growth per step")                                           \
  X(MFT_CHI_Q, "mft", "chi_q", F64, "wb", NONE, "1", "chi_q = F'(q*), slope of the q-map")         \
  X(MFT_CHI_C, "mft", "chi_c", F64, "wb", NONE, "1", "chi_c, slope of the c-map at c*")            \
  X(MFT_XI_Q, "mft", "xi_q", F64, "wb", NONE, "layers", "xi_q = -1/ln chi_q (inf at chi_q = 1)")   \
  X(MFT_XI_C, "mft", "xi_c", F64, "wb", NONE, "layers", "xi_c = -1/ln chi_c (inf at chi_c = 1)")   \
  X(MFT_LYAPUNOV, "mft", "lyapunov", F64, "wb", NONE, "1/layer",                                   \
    "lambda = ln(chi_1)/2 (recurrent: from the "                                                   \
    "DMFT's tangent dynamics)")                                                                    \
  X(MFT_PHASE, "mft", "phase", I8, "wb", PHASE, "1",                                               \
    "0 ordered, 1 chaotic, 2 critical, 3 no finite fixed point")                                   \
  X(MFT_REASON, "mft", "reason", TEXT, "wb", NONE, "",                                             \
    "why a value is NaN (empty when all exist)")                                                   \
  X(MFT_CORR_TIME, "mft", "corr_time", F64, "wb", NONE, "steps",                                   \
    "recurrent: decay time of the stationary autocorrelation, C(tau) - C_inf ~ "                   \
    "exp(-tau/corr_time) (doc/physics.md 3.6); 0 where C(tau >= 1) = C_inf (fixed point, "         \
    "leak 1); NaN feedforward")                                                                    \
  X(MFT_Q, "mft", "q", F64, "wbd", NONE, "1", "MFT trajectory q^t from q0 at the recorded depths") \
  X(MFT_C, "mft", "c", F64, "wbd", NONE, "1", "MFT trajectory c^t from c0 at the recorded depths") \
  X(MFT_LOGJAC, "mft", "logjac", F64, "wbd", NONE, "1", "MFT ln(r^t/r^0) of the tangent")          \
  X(MFT_CTS_AA, "mft", "cts_aa", F64, "wbdl", NONE, "1",                                           \
    "two-time DMFT C_aa(t, t-L) from q0, c0 (shared weights when recurrent, doc/physics.md "       \
    "3.1.1); NaN where t - L < 1")                                                                 \
  X(MFT_CTS_AB, "mft", "cts_ab", F64, "wbdl", NONE, "1",                                           \
    "two-time DMFT C_ab(t, t-L) across the two inputs; NaN where t - L < 1")                       \
  X(MFT_CRITICAL_SIGMA_W2, "mft", "critical_sigma_w2", F64, "b", NONE, "1",                        \
    "sigma_w2 where chi_1(q*) = 1 at this sigma_b2 (recurrent: lambda = 0 of the "                 \
    "stationary DMFT; NaN: none)")                                                                 \
  X(THEORY_Q_MEAN, "theory", "q_mean", F64, "wbdn", NONE, "1",                                     \
    "1/N theory (doc/physics.md 5.1; leak != 1: doc/physics.md 5.6): E q = K + K1/N (NaN: "        \
    "recurrent, q* = 0 class / blow-up at t, or leak below ~0.13, where the layers' "              \
    "correlations need more terms of the series than it sums; q_var, logq_*, kurtosis alike)")     \
  X(THEORY_Q_VAR, "theory", "q_var", F64, "wbdn", NONE, "1", "1/N theory: Var q = (Vzz + 2K^2)/N") \
  X(THEORY_LOGQ_MEAN, "theory", "logq_mean", F64, "wbdn", NONE, "1", "1/N theory: E ln q")         \
  X(THEORY_LOGQ_VAR, "theory", "logq_var", F64, "wbdn", NONE, "1",                                 \
    "1/N theory: Var ln q = (Vzz + 2K^2)/(N K^2)")                                                 \
  X(THEORY_LOGJAC_MEAN, "theory", "logjac_mean", F64, "wbdn", NONE, "1",                           \
    "1/N theory: E ln(|u|^2/N) = ln R + (R1/R - (Vuu + 2R^2)/(2R^2))/N (leak != 1: "               \
    "doc/physics.md 5.6.3. NaN: recurrent; leak != 1 with leak below ~0.2, where the series "      \
    "between layers does not converge, a metric beyond the 2-D rule's range (tanh: q above "       \
    "~30), or depth beyond 400)")                                                                  \
  X(THEORY_LOGJAC_VAR, "theory", "logjac_var", F64, "wbdn", NONE, "1",                             \
    "1/N theory: Var logjac = (Vuu + 2R^2)/(N R^2) (NaN as logjac_mean)")                          \
  X(THEORY_KURTOSIS, "theory", "kurtosis", F64, "wbdn", NONE, "1",                                 \
    "1/N theory: excess kurtosis 3 Vzz/(N K^2) (leak != 1: doc/physics.md 5.6; NaN: "              \
    "recurrent)")                                                                                  \
  X(THEORY_C_MEAN, "theory", "c_mean", F64, "wbdn", NONE, "1",                                     \
    "1/N theory (doc/physics.md 5.5): E c = c + [grad c.K1 + tr(Hess c nCov q)/2]/N (NaN past "    \
    "q = 50 for smooth activations, where the 2-D quadrature is not verified); where "             \
    "1 - |c| < 1e-4 (ordered phase, deep) the MFT c, the limit; leak != 1: doc/physics.md 5.6.3, " \
    "the MFT c where that is NaN (leak below ~0.2, a metric beyond the 2-D rules' range, depth "   \
    "beyond 400); recurrent: the MFT c")                                                           \
  X(THEORY_C_VAR, "theory", "c_var", F64, "wbdn", NONE, "1",                                       \
    "1/N theory (doc/physics.md 5.5): Var c = grad c' Cov q grad c (NaN where 1 - |c| < 1e-4: "    \
    "O((1-c)^2 T/N), beyond the expansion's resolution; leak != 1: doc/physics.md 5.6.3, NaN "     \
    "also for leak below ~0.2, where the series between layers does not converge, a metric "       \
    "beyond the 2-D rule's range, or depth beyond 400; recurrent)")                                \
  X(THEORY_QAB_MEAN, "theory", "qab_mean", F64, "wbdn", NONE, "1",                                 \
    "1/N theory (doc/physics.md 5.5; leak != 1: 5.6.3): E q_ab = k_ab + K1_ab/N (NaN where "       \
    "1 - |c| < 1e-4, recurrent; leak != 1: as c_var)")                                             \
  X(THEORY_QAB_VAR, "theory", "qab_var", F64, "wbdn", NONE, "1",                                   \
    "1/N theory: Var q_ab = (V_ab,ab + k_aa k_bb + k_ab^2)/N (NaN as qab_mean)")                   \
  X(THEORY_EPS_K, "theory", "eps_K", F64, "wbdn", NONE, "1",                                       \
    "Gaussianity (doc/physics.md 7), theory: Var G/(E G)^2 = Vzz/(N K^2) = kurtosis/3; leak != "   \
    "1: "                                                                                          \
    "the theory's kurtosis/3 (doc/physics.md 5.6) (NaN: recurrent)")                               \
  X(THEORY_KERNEL_VAR_DEV, "theory", "kernel_var_dev", F64, "wbdn", NONE, "1",                     \
    "measured over leading-order theory normalised kernel variance minus 1: "                      \
    "(Var q/(E q)^2)_ensemble / ((Vzz + 2K^2)/(N K^2)) - 1; leak != 1: over the theory's "         \
    "logq_var (NaN: point not done, recurrent)")                                                   \
  X(THEORY_KERNEL_VAR_DEV_ERR, "theory", "kernel_var_dev_err", F64, "wbdn", NONE, "1",             \
    "standard error of kernel_var_dev (Gaussian-sample error of the variance and the mean)")       \
  X(THEORY_REGIME, "theory", "regime", I8, "wbdn", REGIME, "1",                                    \
    "measured regime (doc/physics.md 7) from eps_K = kurtosis/3 and eps_J = logjac_var: "          \
    "1 Gaussian (eps_K < 0.02, eps_J < 0.1), 2 perturbative (eps_K < 0.2, eps_J < 0.6), "          \
    "3 non-perturbative, 0 unknown")                                                               \
  X(THEORY_XI_Q, "theory", "xi_q", F64, "wbn", NONE, "layers",                                     \
    "1/N-corrected depth scale of E q^t - E q^inf (doc/physics.md): 1/xi_q,N = -ln chi_q - "       \
    "beta/(chi_q N), xi_q,N = xi_q + xi_q^2 beta/(chi_q N) + O(1/N^2); both phases. q* = 0: "      \
    "xi_q (beta -> 0 with q*). NaN: no finite fixed point, leak != 1, or recurrent")               \
  X(THEORY_XI_C, "theory", "xi_c", F64, "wbn", NONE, "layers",                                     \
    "1/N-corrected depth scale of E c^t's relaxation (doc/physics.md 5.4): 1/xi_c,N = "            \
    "-ln chi_c - d_c/N; c* = 1 (ordered, no noise): d_c = c_mean, the per-layer 1/N growth of "    \
    "the mean tangent norm; c* < 1 (chaotic phase, or noise): d_c from the c-mode of the "         \
    "two-input recursion (5.4.1c), the tail's rate, reached only after several xi_c. inf where "   \
    "that rate is <= 0. NaN: no finite fixed point, "                                              \
    "1 - |c*| < 1e-4 or q* > 50 (smooth phi) with c* < 1, leak != 1, or recurrent")                \
  X(PHASE_CRITICAL_SIGMA_W2, "phase", "critical_sigma_w2", F64, "bn", NONE, "1",                   \
    "finite-N critical sigma_w2: first zero crossing of the measured lyapunov (deepest "           \
    "depth) along sigma_w2, linear interpolation (NaN: no crossing in the grid)")                  \
  X(PHASE_CRITICAL_SIGMA_W2_ERR, "phase", "critical_sigma_w2_err", F64, "bn", NONE, "1",           \
    "standard error of critical_sigma_w2 from the lyapunov errors of the bracketing points")       \
  X(PHASE_LYAPUNOV, "phase", "lyapunov", F64, "wbn", NONE, "1/layer",                              \
    "measured lyapunov at the deepest depth")                                                      \
  X(PHASE_LYAPUNOV_STDERR, "phase", "lyapunov_stderr", F64, "wbn", NONE, "1/layer",                \
    "its standard error")                                                                          \
  X(PHASE_XI_C, "phase", "xi_c", F64, "wbn", NONE, "layers",                                       \
    "measured correlation length: -1/slope of a weighted fit of ln|c^t - c*_MFT| over the "        \
    "depths where it exceeds 3 standard errors (NaN: too few such depths or no decay)")            \
  X(PHASE_XI_C_ERR, "phase", "xi_c_err", F64, "wbn", NONE, "layers",                               \
    "standard error of xi_c from the fit")                                                         \
  X(RUN_STATUS, "run", "status", I8, "wbn", STATUS, "1",                                           \
    "0 pending, 1 done, 2 flagged (non-finite or overflow, see reason)")                           \
  X(RUN_REASON, "run", "reason", TEXT, "wbn", NONE, "", "why a point was flagged")                 \
  X(RUN_NETWORKS_DONE, "run", "networks_done", I64, "wbn", NONE, "1",                              \
    "networks folded into the point's statistics (a resume with more networks adds to them)")      \
  X(RUN_CHECKSUM, "run", "checksum", U64, "wbn", NONE, "1",                                        \
    "checksum of the point's numeric values and status (doc/output.md, Integrity); 0: none")       \
  X(RUN_PAIR_CHECKSUM, "run", "pair_checksum", U64, "wb", NONE, "1",                               \
    "checksum of the pair's numeric /mft and /theory values (doc/output.md, Integrity); 0: none")  \
  X(RUN_STATE, "run", "state", F64, "wbdns", NONE, "1",                                            \
    "the part of the point's streaming statistics (observables.h) that /ensemble does not hold "   \
    "bitwise: with ensemble/networks and the means there, what a resume with more networks "       \
    "continues from; set for done points only (elsewhere unwritten and never read)")               \
  X(RUN_TASK_POINT, "run", "task_point", I64, "t", NONE, "1",                                      \
    "flat index (sigma_w2, sigma_b2, width) of the task")                                          \
  X(RUN_TASK_NETWORKS_BEGIN, "run", "task_networks_begin", I64, "t", NONE, "1",                    \
    "first network of the task")                                                                   \
  X(RUN_TASK_NETWORKS_END, "run", "task_networks_end", I64, "t", NONE, "1",                        \
    "one past the last network of the task")                                                       \
  X(RUN_TASK_RANK, "run", "task_rank", I64, "t", NONE, "1", "MPI rank that computed the task")     \
  X(RUN_TASK_START, "run", "task_start", F64, "t", NONE, "s",                                      \
    "start, seconds since the run began")                                                          \
  X(RUN_TASK_END, "run", "task_end", F64, "t", NONE, "s", "end, seconds since the run began")      \
  X(RUN_TASK_SECONDS, "run", "task_seconds", F64, "t", NONE, "s", "wall time of the task")

/* The datasets: ES_DS_ENSEMBLE_<field> for the /ensemble fields, then ES_DS_<ID>. */
typedef enum {
#define ES__DSF(id, name, units, desc) ES_DS_ENSEMBLE_##id,
  ES_FIELD_MAP(ES__DSF)
#undef ES__DSF
#define ES__DS(id, ...) ES_DS_##id,
      ES_DATASET_MAP(ES__DS)
#undef ES__DS
          ES_DS_COUNT
} es_dataset;

/* The dataset of /ensemble field F (the fields come first, in field order). */
#define ES_DS_FIELD(f) ((es_dataset)(int)(f))

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
 * Appends this launch (PROV's time, ranks, command line) to the root attributes "resumes" and
 * "history". */
es_status es_h5out_open(MPI_Comm comm, const char *path, const es_job *job, const es_h5_prov *prov,
                        es_h5out **h);

/* Not collective. Independent read of a hyperslab of dataset DS: START and COUNT have one
 * entry per axis of the dataset. */
es_status es_h5out_read_i8(es_h5out *h, es_dataset ds, const int64_t *start, const int64_t *count,
                           signed char *data);
es_status es_h5out_read_i64(es_h5out *h, es_dataset ds, const int64_t *start, const int64_t *count,
                            int64_t *data);
es_status es_h5out_read_f64(es_h5out *h, es_dataset ds, const int64_t *start, const int64_t *count,
                            double *data);

/* Not collective. Independent write of a hyperslab of dataset DS. */
es_status es_h5out_write_f64(es_h5out *h, es_dataset ds, const int64_t *start, const int64_t *count,
                             const double *data);
es_status es_h5out_write_i64(es_h5out *h, es_dataset ds, const int64_t *start, const int64_t *count,
                             const int64_t *data);
es_status es_h5out_write_i8(es_h5out *h, es_dataset ds, const int64_t *start, const int64_t *count,
                            const signed char *data);
es_status es_h5out_write_u64(es_h5out *h, es_dataset ds, const int64_t *start, const int64_t *count,
                             const uint64_t *data);

/* Not collective. The full streaming state (ND x es_obs_state_len(NLAGS)) of the done point
 * (IW, IB, IN) back from the file: its stored run/state and the /ensemble values
 * es_obs_state_finish wrote (es_obs_state_unpack). */
es_status es_h5out_read_state(es_h5out *h, int64_t iw, int64_t ib, int64_t in, int64_t nd,
                              int64_t nlags, double *state);

/* Not collective. One element of the TEXT dataset DS (cut to ES_REASON_LEN - 1 bytes). Parallel
 * HDF5 cannot write variable-length strings, so the text is kept by the calling rank and
 * written by es_h5out_close; a launch killed before its close loses its texts (they read ""). */
es_status es_h5out_write_text(es_h5out *h, es_dataset ds, const int64_t *start, const char *text);
/* Not collective. Whether the element of TEXT dataset DS at START is empty (*empty = 1). */
es_status es_h5out_text_empty(es_h5out *h, es_dataset ds, const int64_t *start, int *empty);

/* Not collective. Length of the first axis of dataset DS. */
int64_t es_h5out_extent(es_h5out *h, es_dataset ds);

/* Not collective. The file was renamed to PATH while open (the close reopens it by name). */
es_status es_h5out_renamed(es_h5out *h, const char *path);

/* Collective. Flush everything to the file. */
es_status es_h5out_flush(es_h5out *h);
/* Not collective. How many reads and writes this rank made with one MPI-IO call on the file
 * directly (a box of a contiguous dataset that is one run in the file) rather than through
 * HDF5; 0 with EDGESWEEP_IO=hdf5 in the environment, which sends all of them through HDF5
 * (for tests: both paths write the same bytes). */
int64_t es_h5out_raw_calls(const es_h5out *h);

/* Collective. Set the root attribute "completed" (a time stamp, or "" when the run did not
 * finish), close, then rank 0 reopens the file alone to write every rank's texts; free. NULL-safe;
 * sets *h to NULL. Returns the first error met. */
es_status es_h5out_close(es_h5out **h, const char *completed);

/* Not collective (serial, read-only). Print provenance, progress and the points not done of
 * an output file (final or .partial) for `edgesweep info`. ES_ERR_INPUT when PATH is not an
 * edgesweep file. */
es_status es_h5out_info(const char *path, FILE *f);

/* Not collective (serial, read-only). The networks per point a finished file holds and the
 * job identity (SHA-256 of the canonical job) that wrote it. */
es_status es_h5out_networks(const char *path, int64_t *networks, char sha256[65]);

/* ---------- integrity (doc/output.md, Integrity) ---------- */

/* /run/checksum of a point: a hash (es_sum) of, in this order, the /ensemble fields
 * (observables.h order, ND depths each), when the job has NLAGS > 0 lags the two-time fields
 * qts_aa_mean, qts_aa_var, qts_ab_mean, qts_ab_var (ND x NLAGS each, LAGFIELDS in es_lagstat
 * order), ensemble/networks (ND), then for a done point (STATUS 1) run/state (the stored part,
 * ND x es_obs_state_packed_len(NLAGS), STATE) and run/networks_done; last the status. So it
 * covers everything es_h5out_read_state rebuilds a resumed point from. Without lags the qts
 * placeholders (NaN) are left out. Texts (the reason) are left out: they reach the file only
 * at the close. Never 0 (0 in the file: no checksum). */
uint64_t es_h5out_point_checksum(int64_t nd, int64_t nlags, const double *fields,
                                 const int64_t *networks, const double *lagfields,
                                 const double *state, int64_t networks_done, signed char status);

/* /run/pair_checksum of a (sigma_w2, sigma_b2) pair: the datasets of es_h5out_pair_sets in
 * that order (the /mft scalars and phase, the ND-long /mft trajectories, the ND x NN /theory
 * fields of the pair: VALUES holds them as doubles in that order, phase included), when the
 * job has NL > 0 lags mft/cts_aa and mft/cts_ab (ND x NL each), and for the first sigma_w2
 * (CRITICAL not NULL) mft/critical_sigma_w2 of the sigma_b2. */
#define ES_H5_PAIR_SETS 26
extern const es_dataset es_h5out_pair_sets[ES_H5_PAIR_SETS];
uint64_t es_h5out_pair_checksum(int64_t nd, int64_t nn, int64_t nl, const double *values,
                                const double *critical);
/* Doubles that pair VALUES hold for ND depths, NN widths and NL lags. */
int64_t es_h5out_pair_len(int64_t nd, int64_t nn, int64_t nl);
/* Not collective. Read back pair (IW, IB)'s values just written by this rank and write its
 * /run/pair_checksum: the pair's last write, so a pair cut short by a kill has none. */
es_status es_h5out_pair_seal(es_h5out *h, int64_t iw, int64_t ib, int64_t nd, int64_t nn,
                             int64_t nl);

/* A file opened for checking (serial, read-only; not collective). es_h5check_open refuses
 * (ES_ERR_INPUT, message naming the attribute or dataset) a file that is not edgesweep/1, whose
 * job_canonical does not parse back to itself or hash to job_sha256, or where any dataset of
 * the layout or coordinate is missing or has another type or shape than the job's coordinates
 * give (coordinates: other values); it reads no dataset before its shape is checked. */
typedef struct es_h5check es_h5check;
es_status es_h5check_open(const char *path, es_h5check **c);
void es_h5check_close(es_h5check **c);
const es_job *es_h5check_job(const es_h5check *c); /* networks: the file's */
int es_h5check_finished(const es_h5check *c);      /* "completed" is set */
/* Datasets of the layout stored compressed or chunked (an archive copy, e.g. h5repack -f),
 * and the first one's path. */
int64_t es_h5check_stored(const es_h5check *c, const char **first);
/* ES_ERR_INPUT, with a message saying what to do, when such datasets make the file one that
 * parallel HDF5 cannot write into (es_h5check_stored > 0); a resume must refuse it. */
es_status es_h5check_writable(const es_h5check *c);

/* Point P's stored values (buffers owned by C, valid until the next call). */
typedef struct {
  int64_t iw, ib, in;
  const double *fields, *state; /* ES_F_COUNT x nd; nd x es_obs_state_packed_len(nlags), packed */
  const double *lagfields;      /* ES_LAG_COUNT x nd x nlags (qts_*), empty without lags */
  const int64_t *networks;      /* nd */
  int64_t networks_done;
  signed char status;
  uint64_t checksum; /* stored */
} es_h5_point;
es_status es_h5check_point(es_h5check *c, int64_t p, es_h5_point *v);

/* Status of every point (NP = nw x nb x nn bytes). */
es_status es_h5check_read_status(es_h5check *c, signed char *status);

/* Check every done or flagged point's checksum (and, in a completed file, that no point is
 * pending) and, when PAIRS, every written pair's. BAD (points, may be NULL) gets 1 where a
 * point fails; OUT (may be NULL) a line per failure (the first 20); *NBAD the failures.
 * ES_ERR_INPUT naming the first failure when there is one. */
es_status es_h5check_sums(es_h5check *c, int pairs, unsigned char *bad, FILE *out, int64_t *nbad);

/* Version string of the HDF5 library ("1.10.8"). */
const char *es_h5out_hdf5_version(void);

/* Not collective. Shut HDF5 down before MPI_Finalize; -1 (and nothing done) when a file could
 * not be closed, whose half-closed state would crash HDF5's shutdown: then the caller must end
 * the process without MPI_Finalize. */
int es_h5out_finalize(void);

/* Not collective. An upper bound of the bytes of the file es_h5out_create makes for JOB
 * (storage is allocated at creation, so this is also its size when complete). */
long double es_h5out_layout_bytes(const es_job *j, int64_t ntasks);

#endif
