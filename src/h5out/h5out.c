#include "edgesweep/h5out.h"

#include <hdf5.h>
#include <hdf5_hl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgesweep/observables.h"

/* Fail with the HDF5 call named when it returns a negative value (STYLE A6, V7). */
#define ES_H5(call)                                                                \
  do {                                                                             \
    if ((call) < 0) {                                                              \
      es_error_set("HDF5 call failed: %s (%s:%d)", #call, __FILE__, __LINE__);     \
      return ES_ERR_HDF5;                                                          \
    }                                                                              \
  } while (0)

#define ES__STRLEN 96 /* fixed-length string datasets (reasons): parallel HDF5 cannot
                         write variable-length data */

typedef enum { ES__F64, ES__I64, ES__I8, ES__STR } es__dtype;

/* One dataset of the layout. AXES names its dimensions by letter:
 * w = sigma_w2, b = sigma_b2, d = depth, n = width, t = task. */
typedef struct {
  const char *group, *name;
  es__dtype type;
  const char *axes, *units, *description;
} es__dsdef;

static const es__dsdef es__layout[] = {
    {"ensemble", "networks", ES__I64, "wbdn", "1", "number of networks in the statistics"},
    {"mft", "q_star", ES__F64, "wb", "1", "MFT fixed point q* reached from q0 (NaN: none)"},
    {"mft", "c_star", ES__F64, "wb", "1", "MFT fixed point c* of the correlation map"},
    {"mft", "chi1", ES__F64, "wb", "1", "chi_1 = (1-gamma)^2 + sigma_w2 E[phi'^2] at q*"},
    {"mft", "chi_q", ES__F64, "wb", "1", "chi_q = F'(q*), slope of the q-map"},
    {"mft", "chi_c", ES__F64, "wb", "1", "chi_c, slope of the c-map at c*"},
    {"mft", "xi_q", ES__F64, "wb", "layers", "xi_q = -1/ln chi_q (inf at chi_q = 1)"},
    {"mft", "xi_c", ES__F64, "wb", "layers", "xi_c = -1/ln chi_c (inf at chi_c = 1)"},
    {"mft", "lyapunov", ES__F64, "wb", "1/layer", "lambda = ln(chi_1)/2"},
    {"mft", "phase", ES__I8, "wb", "1",
     "0 ordered, 1 chaotic, 2 critical, 3 no finite fixed point"},
    {"mft", "reason", ES__STR, "wb", "", "why a value is NaN (empty when all exist)"},
    {"mft", "q", ES__F64, "wbd", "1", "MFT trajectory q^t from q0 at the recorded depths"},
    {"mft", "c", ES__F64, "wbd", "1", "MFT trajectory c^t from c0 at the recorded depths"},
    {"mft", "logjac", ES__F64, "wbd", "1", "MFT ln(r^t/r^0) of the tangent"},
    {"mft", "critical_sigma_w2", ES__F64, "b", "1",
     "sigma_w2 where chi_1(q*) = 1 at this sigma_b2 (NaN: none)"},
    {"theory", "q_mean", ES__F64, "wbdn", "1",
     "1/N theory (physics.md 5.1): E q = K + K1/N (NaN: leak != 1, recurrent, or q* = 0 "
     "class / blow-up at t)"},
    {"theory", "q_var", ES__F64, "wbdn", "1", "1/N theory: Var q = (Vzz + 2K^2)/N"},
    {"theory", "logq_mean", ES__F64, "wbdn", "1", "1/N theory: E ln q"},
    {"theory", "logq_var", ES__F64, "wbdn", "1", "1/N theory: Var ln q = (Vzz + 2K^2)/(N K^2)"},
    {"theory", "logjac_mean", ES__F64, "wbdn", "1",
     "1/N theory: E ln(|u|^2/N) = ln R + (R1/R - (Vuu + 2R^2)/(2R^2))/N"},
    {"theory", "logjac_var", ES__F64, "wbdn", "1", "1/N theory: Var logjac = (Vuu + 2R^2)/(N R^2)"},
    {"theory", "kurtosis", ES__F64, "wbdn", "1", "1/N theory: excess kurtosis 3 Vzz/(N K^2)"},
    {"theory", "c_mean", ES__F64, "wbdn", "1",
     "1/N theory (physics.md 5.5): E c = c + [grad c.K1 + tr(Hess c nCov q)/2]/N (NaN past "
     "q = 50 for smooth activations, where the 2-D quadrature is not verified); where "
     "1 - |c| < 1e-4 (ordered phase, deep) the MFT c, the limit; leak != 1 or recurrent: the "
     "MFT c"},
    {"theory", "c_var", ES__F64, "wbdn", "1",
     "1/N theory (physics.md 5.5): Var c = grad c' Cov q grad c (NaN where 1 - |c| < 1e-4: "
     "O((1-c)^2 T/N), beyond the expansion's resolution)"},
    {"theory", "qab_mean", ES__F64, "wbdn", "1",
     "1/N theory (physics.md 5.5): E q_ab = k_ab + K1_ab/N (NaN where 1 - |c| < 1e-4)"},
    {"theory", "qab_var", ES__F64, "wbdn", "1",
     "1/N theory: Var q_ab = (V_ab,ab + k_aa k_bb + k_ab^2)/N (NaN where 1 - |c| < 1e-4)"},
    {"theory", "eps_K", ES__F64, "wbdn", "1",
     "Gaussianity (physics.md 7), theory: Var G/(E G)^2 = Vzz/(N K^2) = kurtosis/3"},
    {"theory", "kernel_var_dev", ES__F64, "wbdn", "1",
     "measured over leading-order theory normalised kernel variance minus 1: "
     "(Var q/(E q)^2)_ensemble / ((Vzz + 2K^2)/(N K^2)) - 1 (NaN: point not done)"},
    {"theory", "kernel_var_dev_err", ES__F64, "wbdn", "1",
     "standard error of kernel_var_dev (Gaussian-sample error of the variance and the mean)"},
    {"theory", "regime", ES__I8, "wbdn", "1",
     "measured regime (physics.md 7) from eps_K = kurtosis/3 and eps_J = logjac_var: "
     "1 Gaussian (eps_K < 0.02, eps_J < 0.1), 2 perturbative (eps_K < 0.2, eps_J < 0.6), "
     "3 non-perturbative, 0 unknown"},
    {"phase", "critical_sigma_w2", ES__F64, "bn", "1",
     "finite-N critical sigma_w2: first zero crossing of the measured lyapunov (deepest depth) "
     "along sigma_w2, linear interpolation (NaN: no crossing in the grid)"},
    {"phase", "critical_sigma_w2_err", ES__F64, "bn", "1",
     "standard error of critical_sigma_w2 from the lyapunov errors of the bracketing points"},
    {"phase", "lyapunov", ES__F64, "wbn", "1/layer", "measured lyapunov at the deepest depth"},
    {"phase", "lyapunov_stderr", ES__F64, "wbn", "1/layer", "its standard error"},
    {"phase", "xi_c", ES__F64, "wbn", "layers",
     "measured correlation length: -1/slope of a weighted fit of ln|c^t - c*_MFT| over the "
     "depths where it exceeds 3 standard errors (NaN: too few such depths or no decay)"},
    {"phase", "xi_c_err", ES__F64, "wbn", "layers", "standard error of xi_c from the fit"},
    {"run", "status", ES__I8, "wbn", "1",
     "0 pending, 1 done, 2 flagged (non-finite or overflow, see reason)"},
    {"run", "reason", ES__STR, "wbn", "", "why a point was flagged"},
    {"run", "networks_done", ES__I64, "wbn", "1",
     "networks folded into the point's statistics (a resume with more networks adds to them)"},
    {"run", "state", ES__F64, "wbdns", "1",
     "streaming statistics of the point (observables.h): what a resume with more networks "
     "continues from"},
    {"run", "task_point", ES__I64, "t", "1", "flat index (sigma_w2, sigma_b2, width) of the task"},
    {"run", "task_networks_begin", ES__I64, "t", "1", "first network of the task"},
    {"run", "task_networks_end", ES__I64, "t", "1", "one past the last network of the task"},
    {"run", "task_rank", ES__I64, "t", "1", "MPI rank that computed the task"},
    {"run", "task_start", ES__F64, "t", "s", "start, seconds since the run began"},
    {"run", "task_end", ES__F64, "t", "s", "end, seconds since the run began"},
    {"run", "task_seconds", ES__F64, "t", "s", "wall time of the task"},
};
#define ES__NLAYOUT ((int)(sizeof es__layout / sizeof es__layout[0]))
#define ES__OBJECT_BYTES 1250.0 /* headers, attributes, scale references per object */
#define ES__MAXDS (ES__NLAYOUT + ES_F_COUNT)

typedef struct {
  char path[64];
  hid_t id;
  hid_t mem_type;
  int rank;
} es__ds;

/* Axes by letter: w sigma_w2, b sigma_b2, d depth, n width, t task, s statistic. */
#define ES__NAXES 6
static const char es__axis_letters[] = "wbdnts";
#define ES__NGROUPS 5
static const char *const es__groups[ES__NGROUPS] = {"ensemble", "mft", "theory", "phase", "run"};
static const char *const es__group_axes[ES__NGROUPS] = {"wbdn", "wbd", "wbdn", "wbn", "wbdnts"};

struct es_h5out {
  MPI_Comm comm;
  hid_t file, xfer;
  hid_t str_type; /* fixed-length string type */
  hid_t scales[ES__NAXES];             /* root coordinates (task, statistic: none) */
  hid_t local[ES__NGROUPS][ES__NAXES]; /* per-group copies, -1 where a group lacks the axis */
  es__ds ds[ES__MAXDS];
  int nds;
  int64_t dims[ES__NAXES];
};


static es_status es__attr_str(hid_t obj, const char *name, const char *value) {
  hid_t t = H5Tcopy(H5T_C_S1);
  ES_H5(t);
  ES_H5(H5Tset_size(t, H5T_VARIABLE));
  ES_H5(H5Tset_cset(t, H5T_CSET_UTF8));
  hid_t sp = H5Screate(H5S_SCALAR);
  ES_H5(sp);
  if (H5Aexists(obj, name) > 0) ES_H5(H5Adelete(obj, name));
  hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  ES_H5(a);
  const char *v = value ? value : "";
  ES_H5(H5Awrite(a, t, &v));
  H5Aclose(a);
  H5Sclose(sp);
  H5Tclose(t);
  return ES_OK;
}

static es_status es__attr_num(hid_t obj, const char *name, hid_t type, const void *v) {
  hid_t sp = H5Screate(H5S_SCALAR);
  ES_H5(sp);
  hid_t a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
  ES_H5(a);
  ES_H5(H5Awrite(a, type, v));
  H5Aclose(a);
  H5Sclose(sp);
  return ES_OK;
}

static es_status es__describe(hid_t obj, const char *units, const char *long_name,
                              const char *description) {
  ES_CALL(es__attr_str(obj, "units", units));
  ES_CALL(es__attr_str(obj, "long_name", long_name));
  if (description) ES_CALL(es__attr_str(obj, "description", description));
  return ES_OK;
}

/* Coordinate datasets, made dimension scales. The root holds one per axis (SPEC §5); each
 * group holds its own copy as well, because xarray's open_dataset(group=G) reads coordinate
 * values only from inside G. Every dataset axis gets both scales attached. */
static const char *const es__axis_names[ES__NAXES] = {"sigma_w2", "sigma_b2", "depth",
                                                      "width",    "task",     "statistic"};

static es_status es__scale(es_h5out *h, const es_job *j, const char *group, int a, hid_t *out) {
  const es_axis *ax[4] = {&j->sigma_w2, &j->sigma_b2, &j->depth, &j->width};
  static const char *const units[ES__NAXES] = {"1", "1", "layers", "neurons", "1", "1"};
  static const char *const longs[ES__NAXES] = {
      "weight variance sigma_w^2 (W_ij ~ N(0, sigma_w^2/N))", "bias variance sigma_b^2",
      "recorded depth t (pre-activation layer h^t)", "hidden width N", "task index",
      "slot of the streaming statistics: n, then (mean, M2) per observable, then C(q, h^4)"};
  hsize_t n = (hsize_t)h->dims[a];
  char path[64];
  snprintf(path, sizeof path, "%s%s%s", group, *group ? "/" : "", es__axis_names[a]);
  hid_t sp = H5Screate_simple(1, &n, NULL);
  ES_H5(sp);
  hid_t type = a < 2 ? H5T_IEEE_F64LE : H5T_STD_I64LE;
  hid_t d = H5Dcreate2(h->file, path, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ES_H5(d);
  H5Sclose(sp);
  /* Every rank passes the same values; HDF5 writes them once, collectively. */
  if (a < 2) {
    ES_H5(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, h->xfer, ax[a]->v));
  } else {
    int64_t *iv = malloc(n * sizeof *iv);
    ES_CHECK(iv, ES_ERR_NOMEM, "out of memory");
    for (hsize_t i = 0; i < n; i++) iv[i] = a < 4 ? (int64_t)ax[a]->v[i] : (int64_t)i;
    herr_t e = H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, h->xfer, iv);
    free(iv);
    ES_H5(e);
  }
  ES_H5(H5DSset_scale(d, es__axis_names[a]));
  ES_CALL(es__describe(d, units[a], longs[a], NULL));
  *out = d;
  return ES_OK;
}

static es_status es__coords(es_h5out *h, const es_job *j, int64_t ntasks) {
  const es_axis *ax[4] = {&j->sigma_w2, &j->sigma_b2, &j->depth, &j->width};
  for (int a = 0; a < 4; a++) h->dims[a] = ax[a]->n;
  h->dims[4] = ntasks > 0 ? ntasks : 1;
  h->dims[5] = ES_STATE_COUNT;
  for (int a = 0; a < 4; a++) ES_CALL(es__scale(h, j, "", a, &h->scales[a]));
  for (int g = 0; g < ES__NGROUPS; g++)
    for (int a = 0; a < ES__NAXES; a++)
      if (strchr(es__group_axes[g], es__axis_letters[a]))
        ES_CALL(es__scale(h, j, es__groups[g], a, &h->local[g][a]));
  return ES_OK;
}

static es_status es__dataset(es_h5out *h, const char *group, const char *name, es__dtype type,
                             const char *axes, const char *units, const char *desc) {
  ES_CHECK(h->nds < ES__MAXDS, ES_ERR_INTERNAL, "too many datasets");
  hsize_t dims[ES__NAXES];
  int rank = (int)strlen(axes), which[ES__NAXES];
  for (int i = 0; i < rank; i++) {
    which[i] = (int)(strchr(es__axis_letters, axes[i]) - es__axis_letters);
    dims[i] = (hsize_t)h->dims[which[i]];
  }
  hid_t ftype, mtype;
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  ES_H5(dcpl);
  /* Early allocation and a fill value: pending entries read as NaN / 0 / "" and later
   * independent writes touch no metadata. */
  ES_H5(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY));
  ES_H5(H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC));
  if (type == ES__F64) {
    double nan = NAN;
    ftype = H5T_IEEE_F64LE;
    mtype = H5T_NATIVE_DOUBLE;
    ES_H5(H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &nan));
  } else if (type == ES__I64) {
    int64_t z = 0;
    ftype = H5T_STD_I64LE;
    mtype = H5T_NATIVE_INT64;
    ES_H5(H5Pset_fill_value(dcpl, H5T_NATIVE_INT64, &z));
  } else if (type == ES__I8) {
    signed char z = 0;
    ftype = H5T_STD_I8LE;
    mtype = H5T_NATIVE_SCHAR;
    ES_H5(H5Pset_fill_value(dcpl, H5T_NATIVE_SCHAR, &z));
  } else {
    ftype = mtype = h->str_type;
  }
  hid_t sp = H5Screate_simple(rank, dims, NULL);
  ES_H5(sp);
  char path[64];
  snprintf(path, sizeof path, "%s/%s", group, name);
  hid_t d = H5Dcreate2(h->file, path, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ES_H5(d);
  H5Sclose(sp);
  H5Pclose(dcpl);
  int g = 0;
  while (g < ES__NGROUPS && strcmp(es__groups[g], group) != 0) g++;
  ES_CHECK(g < ES__NGROUPS, ES_ERR_INTERNAL, "unknown group %s", group);
  for (int i = 0; i < rank; i++) {
    ES_H5(H5DSattach_scale(d, h->local[g][which[i]], (unsigned)i));
    if (h->scales[which[i]] >= 0) ES_H5(H5DSattach_scale(d, h->scales[which[i]], (unsigned)i));
  }
  ES_CALL(es__describe(d, units, desc, NULL));
  es__ds *e = &h->ds[h->nds++];
  snprintf(e->path, sizeof e->path, "%s", path);
  e->id = d;
  e->mem_type = mtype;
  e->rank = rank;
  return ES_OK;
}

static es_status es__provenance(es_h5out *h, const es_job *j, const es_h5_prov *p) {
  hid_t f = h->file;
  ES_CALL(es__attr_str(f, "format", "edgesweep/1"));
  ES_CALL(es__attr_str(f, "version", p->version));
  ES_CALL(es__attr_str(f, "git_commit", p->git_commit));
  ES_CALL(es__attr_str(f, "job", j->text));
  ES_CALL(es__attr_str(f, "job_canonical", j->canonical));
  ES_CALL(es__attr_str(f, "job_sha256", j->sha256));
  ES_CALL(es__attr_str(f, "job_path", j->path));
  ES_CALL(es__attr_num(f, "seed", H5T_NATIVE_UINT64, &j->seed));
  ES_CALL(es__attr_str(f, "command_line", p->command_line));
  ES_CALL(es__attr_num(f, "ranks", H5T_NATIVE_INT, &p->ranks));
  ES_CALL(es__attr_str(f, "created", p->created));
  ES_CALL(es__attr_str(f, "completed", ""));
  ES_CALL(es__attr_str(f, "libraries", p->libraries));
  ES_CALL(es__attr_str(f, "host", p->host));
  ES_CALL(es__attr_str(f, "name", j->name));
  ES_CALL(es__attr_str(f, "architecture", es_arch_name(j->arch)));
  ES_CALL(es__attr_str(f, "activation", j->act->name));
  ES_CALL(es__attr_str(f, "method", es_method_name(j->method)));
  ES_CALL(es__attr_num(f, "networks", H5T_NATIVE_INT64, &j->networks));
  ES_CALL(es__attr_num(f, "leak", H5T_NATIVE_DOUBLE, &j->leak));
  ES_CALL(es__attr_num(f, "noise", H5T_NATIVE_DOUBLE, &j->noise));
  ES_CALL(es__attr_num(f, "q0", H5T_NATIVE_DOUBLE, &j->q0));
  ES_CALL(es__attr_num(f, "c0", H5T_NATIVE_DOUBLE, &j->c0));
  return ES_OK;
}

static es_status es__create(es_h5out *h, const char *path, const es_job *j,
                            const es_h5_prov *prov, int64_t ntasks) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  ES_H5(fapl);
  ES_H5(H5Pset_fapl_mpio(fapl, h->comm, MPI_INFO_NULL));
  ES_H5(H5Pset_all_coll_metadata_ops(fapl, 1));
  ES_H5(H5Pset_coll_metadata_write(fapl, 1));
  h->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  ES_CHECK(h->file >= 0, ES_ERR_IO, "cannot create the HDF5 file %s", path);
  h->xfer = H5Pcreate(H5P_DATASET_XFER);
  ES_H5(h->xfer);
  h->str_type = H5Tcopy(H5T_C_S1);
  ES_H5(h->str_type);
  ES_H5(H5Tset_size(h->str_type, ES__STRLEN));
  ES_H5(H5Tset_strpad(h->str_type, H5T_STR_NULLTERM));
  for (int g = 0; g < ES__NGROUPS; g++) {
    hid_t gid = H5Gcreate2(h->file, es__groups[g], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ES_H5(gid);
    H5Gclose(gid);
  }
  /* Collective writes while the layout is built (every rank holds the same values). */
  ES_H5(H5Pset_dxpl_mpio(h->xfer, H5FD_MPIO_COLLECTIVE));
  ES_CALL(es__coords(h, j, ntasks));
  for (int f = 0; f < ES_F_COUNT; f++) {
    const es_field_desc *d = es_field_get((es_field)f);
    ES_CALL(es__dataset(h, "ensemble", d->name, ES__F64, "wbdn", d->units, d->description));
  }
  for (int i = 0; i < ES__NLAYOUT; i++) {
    const es__dsdef *d = &es__layout[i];
    ES_CALL(es__dataset(h, d->group, d->name, d->type, d->axes, d->units, d->description));
  }
  ES_CALL(es__provenance(h, j, prov));
  ES_H5(H5Fflush(h->file, H5F_SCOPE_GLOBAL));
  /* From here on each rank writes its own points on its own. */
  ES_H5(H5Pset_dxpl_mpio(h->xfer, H5FD_MPIO_INDEPENDENT));
  return ES_OK;
}

/* The bytes of every dataset's elements plus a per-object allowance for headers,
 * attributes and dimension-scale references, measured on files of 1 to 10^5 points
 * (bench/README.md): what `check` reports, before any file exists. */
double es_h5out_layout_bytes(const es_job *j, int64_t ntasks) {
  const double dims[ES__NAXES] = {(double)j->sigma_w2.n, (double)j->sigma_b2.n,
                                  (double)j->depth.n,    (double)j->width.n,
                                  (double)(ntasks > 0 ? ntasks : 1), ES_STATE_COUNT};
  double bytes = 0, objects = 0;
  for (int i = -ES_F_COUNT; i < ES__NLAYOUT; i++) {
    const char *axes = i < 0 ? "wbdn" : es__layout[i].axes;
    const es__dtype t = i < 0 ? ES__F64 : es__layout[i].type;
    double n = t == ES__I8 ? 1 : t == ES__STR ? ES__STRLEN : 8;
    for (const char *a = axes; *a; a++) n *= dims[strchr(es__axis_letters, *a) - es__axis_letters];
    bytes += n;
    objects++;
  }
  for (int a = 0; a < ES__NAXES; a++) { /* coordinates: at the root and in each group */
    int copies = a < 4;
    for (int g = 0; g < ES__NGROUPS; g++) copies += strchr(es__group_axes[g], es__axis_letters[a]) != NULL;
    bytes += copies * 8 * dims[a];
    objects += copies;
  }
  return bytes + ES__OBJECT_BYTES * objects + (double)strlen(j->text) + strlen(j->canonical);
}

/* Read a variable-length string attribute into a malloc'ed string (NULL if absent). */
static char *es__attr_get_str(hid_t obj, const char *name) {
  if (H5Aexists(obj, name) <= 0) return NULL;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return NULL;
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  char *v = NULL, *out = NULL;
  if (H5Aread(a, t, &v) >= 0 && v) {
    out = malloc(strlen(v) + 1);
    if (out) strcpy(out, v);
    H5free_memory(v);
  }
  H5Tclose(t);
  H5Aclose(a);
  return out;
}

/* Name the first line where two canonical job texts differ, for the refusal message. */
static void es__first_difference(const char *a, const char *b, char *buf, size_t n) {
  while (*a || *b) {
    size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
    if (la != lb || strncmp(a, b, la) != 0) {
      snprintf(buf, n, "the file has '%.*s', this job has '%.*s'", (int)(la > 120 ? 120 : la), a,
               (int)(lb > 120 ? 120 : lb), b);
      return;
    }
    a += la + (a[la] == '\n');
    b += lb + (b[lb] == '\n');
  }
  snprintf(buf, n, "the canonical forms differ");
}

static es_status es__open(es_h5out *h, const char *path, const es_job *j) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  ES_H5(fapl);
  ES_H5(H5Pset_fapl_mpio(fapl, h->comm, MPI_INFO_NULL));
  ES_H5(H5Pset_all_coll_metadata_ops(fapl, 1));
  ES_H5(H5Pset_coll_metadata_write(fapl, 1));
  h->file = H5Fopen(path, H5F_ACC_RDWR, fapl);
  H5Pclose(fapl);
  ES_CHECK(h->file >= 0, ES_ERR_INPUT, "%s: cannot open it as HDF5 to resume (corrupt or not "
           "an edgesweep file); use --force to start over", path);
  char *fmt = es__attr_get_str(h->file, "format");
  int ok = fmt && strcmp(fmt, "edgesweep/1") == 0;
  free(fmt);
  ES_CHECK(ok, ES_ERR_INPUT, "%s: not an edgesweep/1 file; refusing to resume it", path);
  char *sha = es__attr_get_str(h->file, "job_sha256");
  char *canon = es__attr_get_str(h->file, "job_canonical");
  ok = sha && strcmp(sha, j->sha256) == 0;
  char diff[400] = "";
  if (!ok) es__first_difference(canon ? canon : "", j->canonical, diff, sizeof diff);
  free(sha);
  free(canon);
  ES_CHECK(ok, ES_ERR_INPUT, "%s was written by a different job (%s); refusing to resume",
           path, diff);
  int64_t had = 0;
  if (H5Aexists(h->file, "networks") > 0) {
    hid_t a = H5Aopen(h->file, "networks", H5P_DEFAULT);
    ES_H5(a);
    ES_H5(H5Aread(a, H5T_NATIVE_INT64, &had));
    H5Aclose(a);
  }
  ES_CHECK(j->networks >= had, ES_ERR_INPUT,
           "%s holds %lld networks per point; a resume can add networks but not remove them "
           "(networks = %lld)", path, (long long)had, (long long)j->networks);
  if (j->networks > had) {
    ES_H5(H5Adelete(h->file, "networks"));
    ES_CALL(es__attr_num(h->file, "networks", H5T_NATIVE_INT64, &j->networks));
  }
  h->xfer = H5Pcreate(H5P_DATASET_XFER);
  ES_H5(h->xfer);
  ES_H5(H5Pset_dxpl_mpio(h->xfer, H5FD_MPIO_INDEPENDENT));
  h->str_type = H5Tcopy(H5T_C_S1);
  ES_H5(h->str_type);
  ES_H5(H5Tset_size(h->str_type, ES__STRLEN));
  ES_H5(H5Tset_strpad(h->str_type, H5T_STR_NULLTERM));
  for (int i = 0; i < ES_F_COUNT + ES__NLAYOUT; i++) {
    char p[64];
    es__dtype type = ES__F64;
    if (i < ES_F_COUNT) {
      snprintf(p, sizeof p, "ensemble/%s", es_field_get((es_field)i)->name);
    } else {
      const es__dsdef *d = &es__layout[i - ES_F_COUNT];
      snprintf(p, sizeof p, "%s/%s", d->group, d->name);
      type = d->type;
    }
    hid_t d = H5Dopen2(h->file, p, H5P_DEFAULT);
    ES_CHECK(d >= 0, ES_ERR_INPUT, "%s: dataset %s is missing; cannot resume (use --force)",
             path, p);
    hid_t sp = H5Dget_space(d);
    es__ds *e = &h->ds[h->nds++];
    snprintf(e->path, sizeof e->path, "%s", p);
    e->id = d;
    e->rank = H5Sget_simple_extent_ndims(sp);
    H5Sclose(sp);
    e->mem_type = type == ES__F64   ? H5T_NATIVE_DOUBLE
                  : type == ES__I64 ? H5T_NATIVE_INT64
                  : type == ES__I8  ? H5T_NATIVE_SCHAR
                                    : h->str_type;
  }
  return ES_OK;
}

static es_h5out *es__alloc_handle(MPI_Comm comm) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  es_h5out *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->comm = comm;
  h->file = h->xfer = h->str_type = -1;
  for (int a = 0; a < ES__NAXES; a++) {
    h->scales[a] = -1;
    for (int g = 0; g < ES__NGROUPS; g++) h->local[g][a] = -1;
  }
  return h;
}

/* Keep the first error message across the cleanup's own calls. */
static es_status es__fail_cleanup(es_h5out **h, es_status st) {
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", es_error_msg());
  es_h5out_close(h, NULL);
  es_error_set("%s", msg);
  return st;
}

/* Append "time, ranks, command" of this resume to the root attribute "resumes". */
static es_status es__note_resume(es_h5out *h, const es_h5_prov *prov) {
  char *old = es__attr_get_str(h->file, "resumes");
  es_strbuf b = {0};
  es_strbuf_printf(&b, "%s%s%s, %d ranks: %s", old ? old : "", old && *old ? "\n" : "",
                   prov->created, prov->ranks, prov->command_line);
  free(old);
  es_status st = b.failed ? ES_ERR_NOMEM : es__attr_str(h->file, "resumes", b.s);
  es_strbuf_free(&b);
  return st;
}

es_status es_h5out_open(MPI_Comm comm, const char *path, const es_job *job,
                        const es_h5_prov *prov, es_h5out **out) {
  *out = NULL;
  es_h5out *h = es__alloc_handle(comm);
  ES_CHECK(h, ES_ERR_NOMEM, "out of memory");
  es_status st = es__open(h, path, job);
  if (st == ES_OK) st = es__note_resume(h, prov);
  if (st != ES_OK) return es__fail_cleanup(&h, st);
  *out = h;
  return ES_OK;
}

es_status es_h5out_create(MPI_Comm comm, const char *path, const es_job *job,
                          const es_h5_prov *prov, int64_t ntasks, es_h5out **out) {
  *out = NULL;
  es_h5out *h = es__alloc_handle(comm);
  ES_CHECK(h, ES_ERR_NOMEM, "out of memory");
  es_status st = es__create(h, path, job, prov, ntasks);
  if (st != ES_OK) return es__fail_cleanup(&h, st);
  *out = h;
  return ES_OK;
}

static es__ds *es__find(es_h5out *h, const char *path) {
  for (int i = 0; i < h->nds; i++)
    if (strcmp(h->ds[i].path, path) == 0) return &h->ds[i];
  return NULL;
}

static es_status es__write(es_h5out *h, const char *dset, const int64_t *start,
                           const int64_t *count, const void *data) {
  es__ds *d = es__find(h, dset);
  ES_CHECK(d, ES_ERR_INTERNAL, "no dataset %s in the layout", dset);
  hsize_t st[ES__NAXES], ct[ES__NAXES];
  hsize_t n = 1;
  for (int i = 0; i < d->rank; i++) {
    st[i] = (hsize_t)start[i];
    ct[i] = (hsize_t)count[i];
    n *= ct[i];
  }
  hid_t fs = H5Dget_space(d->id);
  ES_H5(fs);
  ES_H5(H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, ct, NULL));
  hid_t ms = H5Screate_simple(1, &n, NULL);
  ES_H5(ms);
  herr_t e = H5Dwrite(d->id, d->mem_type, ms, fs, h->xfer, data);
  H5Sclose(ms);
  H5Sclose(fs);
  ES_CHECK(e >= 0, ES_ERR_HDF5, "HDF5: writing %s failed", dset);
  return ES_OK;
}

static es_status es__read(es_h5out *h, const char *dset, const int64_t *start,
                          const int64_t *count, hid_t mtype, void *data) {
  es__ds *d = es__find(h, dset);
  ES_CHECK(d, ES_ERR_INTERNAL, "no dataset %s in the layout", dset);
  hsize_t st[ES__NAXES], ct[ES__NAXES], n = 1;
  for (int i = 0; i < d->rank; i++) {
    st[i] = (hsize_t)start[i];
    ct[i] = (hsize_t)count[i];
    n *= ct[i];
  }
  hid_t fs = H5Dget_space(d->id);
  ES_H5(fs);
  ES_H5(H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, ct, NULL));
  hid_t ms = H5Screate_simple(1, &n, NULL);
  ES_H5(ms);
  herr_t e = H5Dread(d->id, mtype, ms, fs, h->xfer, data);
  H5Sclose(ms);
  H5Sclose(fs);
  ES_CHECK(e >= 0, ES_ERR_HDF5, "HDF5: reading %s failed", dset);
  return ES_OK;
}

es_status es_h5out_read_i8(es_h5out *h, const char *dset, const int64_t *start,
                           const int64_t *count, signed char *data) {
  return es__read(h, dset, start, count, H5T_NATIVE_SCHAR, data);
}

es_status es_h5out_read_i64(es_h5out *h, const char *dset, const int64_t *start,
                            const int64_t *count, int64_t *data) {
  return es__read(h, dset, start, count, H5T_NATIVE_INT64, data);
}

es_status es_h5out_read_f64(es_h5out *h, const char *dset, const int64_t *start,
                            const int64_t *count, double *data) {
  return es__read(h, dset, start, count, H5T_NATIVE_DOUBLE, data);
}

es_status es_h5out_write_f64(es_h5out *h, const char *dset, const int64_t *start,
                             const int64_t *count, const double *data) {
  return es__write(h, dset, start, count, data);
}

es_status es_h5out_write_i64(es_h5out *h, const char *dset, const int64_t *start,
                             const int64_t *count, const int64_t *data) {
  return es__write(h, dset, start, count, data);
}

es_status es_h5out_write_i8(es_h5out *h, const char *dset, const int64_t *start,
                            const int64_t *count, const signed char *data) {
  return es__write(h, dset, start, count, data);
}

es_status es_h5out_write_str(es_h5out *h, const char *dset, const int64_t *start,
                             const char *text) {
  char buf[ES__STRLEN] = {0};
  snprintf(buf, sizeof buf, "%s", text ? text : "");
  int64_t count[ES__NAXES] = {1, 1, 1, 1, 1, 1};
  return es__write(h, dset, start, count, buf);
}

int64_t es_h5out_extent(es_h5out *h, const char *dset) {
  es__ds *d = es__find(h, dset);
  if (!d) return -1;
  hid_t sp = H5Dget_space(d->id);
  hsize_t dims[ES__NAXES] = {0};
  H5Sget_simple_extent_dims(sp, dims, NULL);
  H5Sclose(sp);
  return (int64_t)dims[0];
}

es_status es_h5out_flush(es_h5out *h) {
  ES_H5(H5Fflush(h->file, H5F_SCOPE_GLOBAL));
  return ES_OK;
}

es_status es_h5out_close(es_h5out **hp, const char *completed) {
  if (!hp || !*hp) return ES_OK;
  es_h5out *h = *hp;
  es_status st = ES_OK;
  if (h->file >= 0 && completed) st = es__attr_str(h->file, "completed", completed);
  for (int i = 0; i < h->nds; i++) H5Dclose(h->ds[i].id);
  for (int a = 0; a < ES__NAXES; a++) {
    if (h->scales[a] >= 0) H5Dclose(h->scales[a]);
    for (int g = 0; g < ES__NGROUPS; g++)
      if (h->local[g][a] >= 0) H5Dclose(h->local[g][a]);
  }
  if (h->str_type >= 0) H5Tclose(h->str_type);
  if (h->xfer >= 0) H5Pclose(h->xfer);
  if (h->file >= 0 && H5Fclose(h->file) < 0 && st == ES_OK) {
    es_error_set("HDF5: closing the output file failed");
    st = ES_ERR_HDF5;
  }
  free(h);
  *hp = NULL;
  return st;
}

const char *es_h5out_hdf5_version(void) {
  static char v[32];
  unsigned maj, min, rel;
  H5get_libversion(&maj, &min, &rel);
  snprintf(v, sizeof v, "%u.%u.%u", maj, min, rel);
  return v;
}

/* ---------- `edgesweep info` ---------- */

static void es__print_attr(FILE *f, hid_t file, const char *name) {
  char *v = es__attr_get_str(file, name);
  fprintf(f, "%-13s %s\n", name, v ? (*v ? v : "(not yet)") : "(absent)");
  free(v);
}

/* Read a whole 1-D double coordinate; NULL on failure. */
static double *es__read_coord(hid_t file, const char *name, int64_t *n) {
  hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
  if (d < 0) return NULL;
  hid_t sp = H5Dget_space(d);
  hsize_t dim = 0;
  H5Sget_simple_extent_dims(sp, &dim, NULL);
  H5Sclose(sp);
  double *v = malloc((dim ? dim : 1) * sizeof *v);
  if (v && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
    free(v);
    v = NULL;
  }
  H5Dclose(d);
  *n = (int64_t)dim;
  return v;
}

static es_status es__info(hid_t file, const char *path, FILE *f) {
  char *fmt = es__attr_get_str(file, "format");
  int ok = fmt && strncmp(fmt, "edgesweep/", 10) == 0;
  free(fmt);
  ES_CHECK(ok, ES_ERR_INPUT, "%s: not an edgesweep file (no format attribute 'edgesweep/...')",
           path);
  fprintf(f, "file          %s\n", path);
  static const char *const attrs[] = {"format",  "version", "git_commit", "name",
                                      "job_sha256", "command_line", "created", "completed",
                                      "host",    "libraries", "resumes"};
  for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) es__print_attr(f, file, attrs[i]);
  int ranks = 0;
  if (H5Aexists(file, "ranks") > 0) {
    hid_t a = H5Aopen(file, "ranks", H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_INT, &ranks);
    H5Aclose(a);
  }
  fprintf(f, "%-13s %d\n", "ranks", ranks);
  int64_t n[3];
  double *ax[3] = {es__read_coord(file, "sigma_w2", &n[0]), es__read_coord(file, "sigma_b2", &n[1]),
                   es__read_coord(file, "width", &n[2])};
  es_status st = ES_OK;
  hid_t ds = H5Dopen2(file, "run/status", H5P_DEFAULT), dr = H5Dopen2(file, "run/reason", H5P_DEFAULT);
  int64_t np = (ax[0] && ax[1] && ax[2]) ? n[0] * n[1] * n[2] : 0;
  signed char *status = np ? malloc((size_t)np) : NULL;
  char *reason = np ? malloc((size_t)np * ES__STRLEN) : NULL;
  hid_t st_type = H5Tcopy(H5T_C_S1);
  H5Tset_size(st_type, ES__STRLEN);
  if (ds < 0 || dr < 0 || !status || !reason ||
      H5Dread(ds, H5T_NATIVE_SCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, status) < 0 ||
      H5Dread(dr, st_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, reason) < 0) {
    es_error_set("%s: cannot read /run/status (damaged file?)", path);
    st = ES_ERR_INPUT;
  } else {
    int64_t cnt[3] = {0, 0, 0};
    for (int64_t p = 0; p < np; p++) cnt[status[p] >= 0 && status[p] <= 2 ? status[p] : 0]++;
    fprintf(f, "points        %lld (sigma_w2 %lld x sigma_b2 %lld x width %lld): %lld done, "
               "%lld flagged, %lld pending\n",
            (long long)np, (long long)n[0], (long long)n[1], (long long)n[2], (long long)cnt[1],
            (long long)cnt[2], (long long)cnt[0]);
    int shown = 0;
    for (int64_t p = 0; p < np; p++) {
      if (status[p] == 1) continue;
      if (shown++ == 20) {
        fprintf(f, "  ... (%lld more not done)\n", (long long)(cnt[0] + cnt[2] - 20));
        break;
      }
      int64_t in = p % n[2], ib = (p / n[2]) % n[1], iw = p / (n[2] * n[1]);
      fprintf(f, "  %-8s sigma_w2 %-10.6g sigma_b2 %-10.6g width %-7g %s\n",
              status[p] == 2 ? "flagged" : "pending", ax[0][iw], ax[1][ib], ax[2][in],
              status[p] == 2 ? reason + p * ES__STRLEN : "");
    }
  }
  H5Tclose(st_type);
  if (ds >= 0) H5Dclose(ds);
  if (dr >= 0) H5Dclose(dr);
  free(status);
  free(reason);
  for (int i = 0; i < 3; i++) free(ax[i]);
  return st;
}

es_status es_h5out_info(const char *path, FILE *f) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  htri_t is = H5Fis_hdf5(path);
  ES_CHECK(is > 0, ES_ERR_INPUT, "%s: %s", path,
           is == 0 ? "not an HDF5 file" : "cannot open it (missing or unreadable)");
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  ES_CHECK(file >= 0, ES_ERR_INPUT, "%s: cannot open it as HDF5", path);
  es_status st = es__info(file, path, f);
  H5Fclose(file);
  return st;
}

es_status es_h5out_networks(const char *path, int64_t *networks, char sha256[65]) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  *networks = -1;
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  ES_CHECK(file >= 0, ES_ERR_INPUT, "%s: cannot open it as HDF5", path);
  herr_t e = -1;
  if (H5Aexists(file, "networks") > 0) {
    hid_t a = H5Aopen(file, "networks", H5P_DEFAULT);
    e = a >= 0 ? H5Aread(a, H5T_NATIVE_INT64, networks) : -1;
    if (a >= 0) H5Aclose(a);
  }
  char *sha = es__attr_get_str(file, "job_sha256");
  snprintf(sha256, 65, "%s", sha ? sha : "");
  free(sha);
  H5Fclose(file);
  ES_CHECK(e >= 0, ES_ERR_INPUT, "%s: no 'networks' attribute: not an edgesweep file", path);
  return ES_OK;
}
