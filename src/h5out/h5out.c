#include "edgesweep/h5out.h"

#include <hdf5.h>
#include <hdf5_hl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgesweep/buildinfo.h"
#include "edgesweep/critical.h"
#include "edgesweep/mft.h"
#include "edgesweep/observables.h"
#include "h5out_impl.h"

/* Set when HDF5 could not close a file (its final flush failed): the library then holds a
 * half-closed file that crashes its own shutdown (HDF5 1.10 at MPI_Finalize). */
static int es__unclosed = 0;

/* Fail with the HDF5 call named when it returns a negative value. */
#define ES_H5(call)                                                            \
  do {                                                                         \
    if ((call) < 0) {                                                          \
      es_error_set("HDF5 call failed: %s (%s:%d)", #call, __FILE__, __LINE__); \
      return ES_ERR_HDF5;                                                      \
    }                                                                          \
  } while (0)

typedef enum { ES__F64, ES__I64, ES__U64, ES__I8, ES__TEXT } es__dtype;

/* One dataset of the layout; AXES names its dimensions by letter (h5out.h). */
typedef struct {
  const char *group, *name;
  es__dtype type;
  const char *axes;
  es_codes codes;
  const char *units, *description;
} es__dsdef;

static const es__dsdef es__layout[] = {
#define ES__ROW(id, group, name, type, axes, codes, units, desc) \
  {group, name, ES__##type, axes, ES_CODES_##codes, units, desc},
    ES_DATASET_MAP(ES__ROW)
#undef ES__ROW
};
#define ES__NLAYOUT ((int)(sizeof es__layout / sizeof es__layout[0]))
#define ES__OBJECT_BYTES 1250.0 /* headers, attributes, scale references per object */
_Static_assert(ES__NLAYOUT + ES_F_COUNT == ES_DS_COUNT, "the dataset enum and table differ");
_Static_assert(ES_DS_ENSEMBLE_NETWORKS == (int)ES_F_COUNT, "the /ensemble fields come first");

/* The definition of dataset DS: an /ensemble field from the observables' table, or a row. */
static es__dsdef es__def(es_dataset ds) {
  if ((int)ds < ES_F_COUNT) {
    const es_field_desc *f = es_field_get((es_field)ds);
    return (es__dsdef){"ensemble",    f->name,  ES__F64,       "wbdn",
                       ES_CODES_NONE, f->units, f->description};
  }
  return es__layout[ds - ES_F_COUNT];
}

void es__h5_def(es_dataset ds, const char **group, const char **name, char *type,
                const char **axes) {
  const es__dsdef d = es__def(ds);
  static const char code[] = {'f', 'i', 'u', 'b', 's'};
  *group = d.group;
  *name = d.name;
  *type = code[d.type];
  *axes = d.axes;
}

/* "group/name" of dataset DS. */
static void es__path(es_dataset ds, char p[64]) {
  const es__dsdef def = es__def(ds);
  snprintf(p, 64, "%s/%s", def.group, def.name);
}

/* A code table: the values and the CF flag meanings (space-separated) of a code dataset. */
typedef struct {
  const signed char *values;
  int n;
  const char *meanings;
} es__codetab;

#define ES__VAL(id, v, meaning) v,
#define ES__MEANING(id, v, meaning) " " meaning
static const signed char es__status_values[] = {ES_POINT_STATUS_MAP(ES__VAL)};
static const signed char es__phase_values[] = {ES_PHASE_MAP(ES__VAL)};
static const signed char es__regime_values[] = {ES_REGIME_MAP(ES__VAL)};
/* The meanings start with a space, skipped when written. */
static const es__codetab es__codetabs[] = {
    [ES_CODES_NONE] = {NULL, 0, NULL},
    [ES_CODES_STATUS] = {es__status_values, (int)sizeof es__status_values,
                         ES_POINT_STATUS_MAP(ES__MEANING)},
    [ES_CODES_PHASE] = {es__phase_values, (int)sizeof es__phase_values, ES_PHASE_MAP(ES__MEANING)},
    [ES_CODES_REGIME] = {es__regime_values, (int)sizeof es__regime_values,
                         ES_REGIME_MAP(ES__MEANING)},
};
#undef ES__VAL
#undef ES__MEANING

/* Axes by letter: w sigma_w2, b sigma_b2, d depth, n width, t task, s statistic, l lag. */
#define ES__NAXES 7

typedef struct {
  char path[64];
  hid_t id;
  hid_t mem_type;
  int rank;
  /* Where its elements start in the file, for es__raw_io; -1: through HDF5 only. */
  MPI_Offset raw;
  size_t esize;
  int64_t dims[ES__NAXES];
} es__ds;

static const char es__axis_letters[] = "wbdntsl";
#define ES__NGROUPS 5
static const char *const es__groups[ES__NGROUPS] = {"ensemble", "mft", "theory", "phase", "run"};
static const char *const es__group_axes[ES__NGROUPS] = {"wbdnl", "wbdl", "wbdn", "wbn", "wbdnts"};

/* A text element kept until the close (es_h5out_write_text). Plain bytes: gathered as such. */
typedef struct {
  int64_t start[ES__NAXES];
  int32_t ds;
  char text[ES_REASON_LEN];
} es__text;

struct es_h5out {
  MPI_Comm comm;
  hid_t file, xfer;
  MPI_File fh;                         /* HDF5's own MPI-IO handle of the file (es__raw_setup) */
  int64_t nraw;                        /* reads and writes made on it directly */
  hid_t str_type;                      /* variable-length string type of the TEXT datasets */
  hid_t scales[ES__NAXES];             /* root coordinates (task, statistic: none) */
  hid_t local[ES__NGROUPS][ES__NAXES]; /* per-group copies, -1 where a group lacks the axis */
  es__ds ds[ES_DS_COUNT];              /* by es_dataset */
  int nds;
  int64_t dims[ES__NAXES];
  char *path;     /* for the close's serial pass */
  es__text *text; /* this rank's texts, written at the close */
  size_t ntext, captext;
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

/* An attribute of N values (N = 0: a scalar) of file type FTYPE from memory type MTYPE. */
static es_status es__attr_vals(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *v,
                               int n) {
  hsize_t dim = (hsize_t)n;
  hid_t sp = n ? H5Screate_simple(1, &dim, NULL) : H5Screate(H5S_SCALAR);
  ES_H5(sp);
  hid_t a = H5Acreate2(obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
  ES_H5(a);
  ES_H5(H5Awrite(a, mtype, v));
  H5Aclose(a);
  H5Sclose(sp);
  return ES_OK;
}

static es_status es__attr_num(hid_t obj, const char *name, hid_t type, const void *v) {
  return es__attr_vals(obj, name, type, type, v, 0);
}

static es_status es__describe(hid_t obj, const char *units, const char *long_name,
                              const char *description) {
  ES_CALL(es__attr_str(obj, "units", units));
  ES_CALL(es__attr_str(obj, "long_name", long_name));
  if (description) ES_CALL(es__attr_str(obj, "description", description));
  return ES_OK;
}

/* Coordinate datasets, made dimension scales. The root holds one per axis (doc/output.md); each
 * group holds its own copy as well, because xarray's open_dataset(group=G) reads coordinate
 * values only from inside G. Every dataset axis gets both scales attached. */
static const char *const es__axis_names[ES__NAXES] = {"sigma_w2", "sigma_b2",  "depth", "width",
                                                      "task",     "statistic", "lag"};

static es_status es__scale(es_h5out *h, const es_job *j, const char *group, int a, hid_t *out) {
  const es_axis *ax[4] = {&j->sigma_w2, &j->sigma_b2, &j->depth, &j->width};
  static const char *const units[ES__NAXES] = {"1", "1", "layers", "neurons", "1", "1", "layers"};
  static const char *const longs[ES__NAXES] = {
      "weight variance sigma_w^2 (W_ij ~ N(0, sigma_w^2/N))",
      "bias variance sigma_b^2",
      "recorded depth t (pre-activation layer h^t)",
      "hidden width N",
      "task index",
      "slot of the stored streaming statistics (es_obs_state_pack): M2 of q_a, q_b, q_ab, c, "
      "logjac, ln q_a, h^4, lyapunov, then the means of q_b and h^4, C(q, h^4), then the M2 "
      "of q_aa and of q_ab per lag (one live network: its values in the M2 slots); the count "
      "and the other means are the /ensemble values",
      "lag L of the two-time overlap q(t, t - L) ([ensemble] lags; 0 alone, NaN data, when "
      "the job has none)"};
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
    for (hsize_t i = 0; i < n; i++)
      iv[i] = a < 4 ? (int64_t)ax[a]->v[i] : a == 6 ? (j->nlags ? j->lags[i] : 0) : (int64_t)i;
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
  h->dims[5] = es_obs_state_packed_len(j->nlags);
  h->dims[6] = j->nlags > 0 ? j->nlags : 1;
  for (int a = 0; a < 4; a++) ES_CALL(es__scale(h, j, "", a, &h->scales[a]));
  ES_CALL(es__scale(h, j, "", 6, &h->scales[6]));
  for (int g = 0; g < ES__NGROUPS; g++)
    for (int a = 0; a < ES__NAXES; a++)
      if (strchr(es__group_axes[g], es__axis_letters[a]))
        ES_CALL(es__scale(h, j, es__groups[g], a, &h->local[g][a]));
  return ES_OK;
}

/* The CF flag attributes of a code dataset: flag_values (of the dataset's type) and
 * flag_meanings, so that readers take the codes' meaning from the file. */
static es_status es__flags(hid_t d, es_codes codes) {
  const es__codetab *c = &es__codetabs[codes];
  if (!c->values) return ES_OK;
  ES_CALL(es__attr_vals(d, "flag_values", H5T_STD_I8LE, H5T_NATIVE_SCHAR, c->values, c->n));
  ES_CALL(es__attr_str(d, "flag_meanings", c->meanings + 1));
  if (codes == ES_CODES_REGIME) { /* the class bounds, for plots and readers */
    const double k[2] = {ES_REGIME_GAUSSIAN_EPS_K, ES_REGIME_PERTURBATIVE_EPS_K},
                 jb[2] = {ES_REGIME_GAUSSIAN_EPS_J, ES_REGIME_PERTURBATIVE_EPS_J};
    ES_CALL(es__attr_vals(d, "eps_K_bounds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, k, 2));
    ES_CALL(es__attr_vals(d, "eps_J_bounds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, jb, 2));
  }
  return ES_OK;
}

static es_status es__dataset(es_h5out *h, es_dataset ds) {
  const es__dsdef def = es__def(ds);
  hsize_t dims[ES__NAXES];
  int rank = (int)strlen(def.axes), which[ES__NAXES];
  for (int i = 0; i < rank; i++) {
    which[i] = (int)(strchr(es__axis_letters, def.axes[i]) - es__axis_letters);
    dims[i] = (hsize_t)h->dims[which[i]];
  }
  hid_t ftype, mtype;
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  ES_H5(dcpl);
  /* Early allocation and a fill value: pending entries read as NaN / 0 / "" and later
   * independent writes touch no metadata. Written everywhere but /run/state, which is read only
   * where its point is done: a quarter of the layout's bytes, which rank 0 would write while
   * every other rank waits. (The integers' 0 is written too, small as it is: a pending status
   * must not depend on what the file system or HDF5's space reuse leaves unwritten.) */
  ES_H5(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY));
  const int fill = ds != ES_DS_RUN_STATE;
  ES_H5(H5Pset_fill_time(dcpl, fill ? H5D_FILL_TIME_ALLOC : H5D_FILL_TIME_NEVER));
  if (def.type == ES__F64) {
    double nan = NAN;
    ftype = H5T_IEEE_F64LE;
    mtype = H5T_NATIVE_DOUBLE;
    ES_H5(H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &nan));
  } else if (def.type == ES__I64) {
    int64_t z = 0;
    ftype = H5T_STD_I64LE;
    mtype = H5T_NATIVE_INT64;
    ES_H5(H5Pset_fill_value(dcpl, H5T_NATIVE_INT64, &z));
  } else if (def.type == ES__U64) {
    uint64_t z = 0;
    ftype = H5T_STD_U64LE;
    mtype = H5T_NATIVE_UINT64;
    ES_H5(H5Pset_fill_value(dcpl, H5T_NATIVE_UINT64, &z));
  } else if (def.type == ES__I8) {
    signed char z = 0;
    ftype = H5T_STD_I8LE;
    mtype = H5T_NATIVE_SCHAR;
    ES_H5(H5Pset_fill_value(dcpl, H5T_NATIVE_SCHAR, &z));
  } else {
    const char *empty = "";
    ftype = mtype = h->str_type;
    ES_H5(H5Pset_fill_value(dcpl, h->str_type, &empty));
  }
  hid_t sp = H5Screate_simple(rank, dims, NULL);
  ES_H5(sp);
  char path[64];
  es__path(ds, path);
  hid_t d = H5Dcreate2(h->file, path, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ES_H5(d);
  H5Sclose(sp);
  H5Pclose(dcpl);
  int g = 0;
  while (g < ES__NGROUPS && strcmp(es__groups[g], def.group) != 0) g++;
  ES_CHECK(g < ES__NGROUPS, ES_ERR_INTERNAL, "unknown group %s", def.group);
  for (int i = 0; i < rank; i++) {
    ES_H5(H5DSattach_scale(d, h->local[g][which[i]], (unsigned)i));
    if (h->scales[which[i]] >= 0) ES_H5(H5DSattach_scale(d, h->scales[which[i]], (unsigned)i));
  }
  ES_CALL(es__describe(d, def.units, def.description, NULL));
  ES_CALL(es__flags(d, def.codes));
  es__ds *e = &h->ds[ds];
  snprintf(e->path, sizeof e->path, "%s", path);
  e->id = d;
  e->raw = -1;
  e->mem_type = mtype;
  e->rank = rank;
  h->nds++;
  return ES_OK;
}

static es_status es__note_history(es_h5out *h, const es_h5_prov *prov);

static es_status es__provenance(es_h5out *h, const es_job *j, const es_h5_prov *p) {
  hid_t f = h->file;
  ES_CALL(es__attr_str(f, "format", "edgesweep/1"));
  /* CF attributes: the codes' flag_values/flag_meanings and units follow CF; coordinates are
   * the exact values used (no CF coordinate encoding). */
  ES_CALL(es__attr_str(f, "Conventions", "CF-1.8"));
  char title[512];
  snprintf(title, sizeof title, "edgesweep sweep %s: %s %s networks", j->name,
           es_arch_name(j->arch), j->act->name);
  ES_CALL(es__attr_str(f, "title", title));
  ES_CALL(es__note_history(h, p));
  ES_CALL(es__attr_str(f, "version", p->version));
  ES_CALL(es__attr_str(f, "git_commit", p->git_commit));
  ES_CALL(es__attr_num(f, "git_dirty", H5T_NATIVE_INT, &es_build_git_dirty));
  ES_CALL(es__attr_str(f, "compiler", es_build_compiler));
  ES_CALL(es__attr_str(f, "compile_flags", es_build_flags));
  /* A group opened alone (xarray's group=) still names its run. */
  for (int g = 0; g < ES__NGROUPS; g++) {
    hid_t gid = H5Gopen2(f, es__groups[g], H5P_DEFAULT);
    ES_H5(gid);
    es_status st = es__attr_str(gid, "format", "edgesweep/1");
    if (st == ES_OK) st = es__attr_str(gid, "job_sha256", j->sha256);
    if (st == ES_OK) st = es__attr_str(gid, "git_commit", p->git_commit);
    H5Gclose(gid);
    ES_CALL(st);
  }
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

/* Text datasets are variable-length UTF-8 strings, which netCDF-C reads as NC_STRING (it
 * cannot read fixed-length strings). */
static es_status es__text_type(es_h5out *h) {
  h->str_type = H5Tcopy(H5T_C_S1);
  ES_H5(h->str_type);
  ES_H5(H5Tset_size(h->str_type, H5T_VARIABLE));
  ES_H5(H5Tset_cset(h->str_type, H5T_CSET_UTF8));
  return ES_OK;
}

/* What the checksums cover, in order, on the datasets themselves: a reader can recompute
 * them (doc/output.md, Integrity). */
static es_status es__checksum_order(es_h5out *h, const es_job *j) {
  es_strbuf b = {0};
  char p[64];
  for (int f = 0; f < ES_F_COUNT; f++) {
    es__path(ES_DS_FIELD(f), p);
    es_strbuf_printf(&b, "%s ", p);
  }
  for (int v = 0; j->nlags > 0 && v < ES_LAG_COUNT; v++) {
    es__path((es_dataset)(ES_DS_ENSEMBLE_QTS_AA_MEAN + v), p);
    es_strbuf_printf(&b, "%s ", p);
  }
  es_strbuf_printf(&b, "ensemble/networks [status 1: run/state run/networks_done] run/status");
  es_status st =
      b.failed ? ES_ERR_NOMEM : es__attr_str(h->ds[ES_DS_RUN_CHECKSUM].id, "checksum_order", b.s);
  es_strbuf_free(&b);
  ES_CALL(st);
  for (int i = 0; i < ES_H5_PAIR_SETS; i++) {
    es__path(es_h5out_pair_sets[i], p);
    es_strbuf_printf(&b, "%s ", p);
  }
  if (j->nlags > 0) es_strbuf_printf(&b, "mft/cts_aa mft/cts_ab ");
  es_strbuf_printf(&b, "[first sigma_w2: mft/critical_sigma_w2]");
  st = b.failed ? ES_ERR_NOMEM
                : es__attr_str(h->ds[ES_DS_RUN_PAIR_CHECKSUM].id, "checksum_order", b.s);
  es_strbuf_free(&b);
  return st;
}

static es_status es__raw_setup(es_h5out *h);

static es_status es__create(es_h5out *h, const char *path, const es_job *j, const es_h5_prov *prov,
                            int64_t ntasks) {
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
  ES_CALL(es__text_type(h));
  for (int g = 0; g < ES__NGROUPS; g++) {
    hid_t gid = H5Gcreate2(h->file, es__groups[g], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ES_H5(gid);
    H5Gclose(gid);
  }
  /* Collective writes while the layout is built (every rank holds the same values). */
  ES_H5(H5Pset_dxpl_mpio(h->xfer, H5FD_MPIO_COLLECTIVE));
  ES_CALL(es__coords(h, j, ntasks));
  for (int i = 0; i < ES_DS_COUNT; i++) ES_CALL(es__dataset(h, (es_dataset)i));
  ES_CALL(es__provenance(h, j, prov));
  ES_CALL(es__checksum_order(h, j));
  ES_H5(H5Fflush(h->file, H5F_SCOPE_GLOBAL));
  /* From here on each rank writes its own points on its own. */
  ES_H5(H5Pset_dxpl_mpio(h->xfer, H5FD_MPIO_INDEPENDENT));
  return es__raw_setup(h);
}

/* The bytes of every dataset's elements plus a per-object allowance for headers,
 * attributes and dimension-scale references, measured on files of 1 to 10^5 points
 * (bench/README.md): what `check` reports, before any file exists. */
long double es_h5out_layout_bytes(const es_job *j, int64_t ntasks) {
  const long double dims[ES__NAXES] = {(long double)j->sigma_w2.n,
                                       (long double)j->sigma_b2.n,
                                       (long double)j->depth.n,
                                       (long double)j->width.n,
                                       (long double)(ntasks > 0 ? ntasks : 1),
                                       (long double)es_obs_state_packed_len(j->nlags),
                                       (long double)(j->nlags > 0 ? j->nlags : 1)};
  long double bytes = 0, objects = 0;
  for (int ds = 0; ds < ES_DS_COUNT; ds++) {
    const es__dsdef def = es__def((es_dataset)ds);
    /* A variable-length text element is a 16-byte heap reference (the texts are few). */
    long double n = def.type == ES__I8 ? 1 : def.type == ES__TEXT ? 16 : 8;
    for (const char *a = def.axes; *a; a++)
      n *= dims[strchr(es__axis_letters, *a) - es__axis_letters];
    bytes += n;
    objects++;
  }
  for (int a = 0; a < ES__NAXES; a++) { /* coordinates: at the root and in each group */
    int copies = a < 4 || a == 6;
    for (int g = 0; g < ES__NGROUPS; g++)
      copies += strchr(es__group_axes[g], es__axis_letters[a]) != NULL;
    bytes += copies * 8 * dims[a];
    objects += copies;
  }
  return bytes + ES__OBJECT_BYTES * objects + (long double)strlen(j->text) +
         (long double)strlen(j->canonical);
}

/* Read a variable-length string attribute into a malloc'ed string (NULL if absent). */
char *es__attr_get_str(hid_t obj, const char *name) {
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
  ES_CHECK(h->file >= 0, ES_ERR_INPUT,
           "%s: cannot open it as HDF5 to resume (corrupt or not "
           "an edgesweep file); use --force to start over",
           path);
  char *fmt = es__attr_get_str(h->file, "format");
  int ok = fmt && strcmp(fmt, "edgesweep/1") == 0;
  free(fmt);
  ES_CHECK(ok, ES_ERR_INPUT,
           "%s: not an edgesweep/1 file; refusing to resume it (use --force to start over)", path);
  char *sha = es__attr_get_str(h->file, "job_sha256");
  char *canon = es__attr_get_str(h->file, "job_canonical");
  ok = sha && strcmp(sha, j->sha256) == 0;
  char diff[400] = "";
  if (!ok) es__first_difference(canon ? canon : "", j->canonical, diff, sizeof diff);
  free(sha);
  free(canon);
  ES_CHECK(ok, ES_ERR_INPUT, "%s was written by a different job (%s); refusing to resume", path,
           diff);
  int64_t had = 0;
  ES_CHECK(es__attr_get_i64(h->file, "networks", &had), ES_ERR_INPUT,
           "%s: the root attribute 'networks' is missing or not one integer", path);
  ES_CHECK(j->networks >= had, ES_ERR_INPUT,
           "%s holds %lld networks per point; a resume can add networks but not remove them "
           "(networks = %lld)",
           path, (long long)had, (long long)j->networks);
  if (j->networks > had) {
    ES_H5(H5Adelete(h->file, "networks"));
    ES_CALL(es__attr_num(h->file, "networks", H5T_NATIVE_INT64, &j->networks));
  }
  h->xfer = H5Pcreate(H5P_DATASET_XFER);
  ES_H5(h->xfer);
  ES_H5(H5Pset_dxpl_mpio(h->xfer, H5FD_MPIO_INDEPENDENT));
  ES_CALL(es__text_type(h));
  for (int i = 0; i < ES_DS_COUNT; i++) {
    const es__dsdef def = es__def((es_dataset)i);
    char p[64];
    es__path((es_dataset)i, p);
    hid_t d = H5Dopen2(h->file, p, H5P_DEFAULT);
    ES_CHECK(d >= 0, ES_ERR_INPUT, "%s: dataset %s is missing; cannot resume (use --force)", path,
             p);
    es__ds *e = &h->ds[i];
    h->nds++;
    e->id = d;
    e->raw = -1;
    if (def.type == ES__TEXT) {
      hid_t t = H5Dget_type(d);
      htri_t vl = t >= 0 ? H5Tis_variable_str(t) : -1;
      if (t >= 0) H5Tclose(t);
      ES_CHECK(vl > 0, ES_ERR_INPUT,
               "%s: %s holds fixed-length strings (an older edgesweep "
               "wrote it); finish it with that version or start over with --force",
               path, p);
    }
    hid_t sp = H5Dget_space(d);
    snprintf(e->path, sizeof e->path, "%s", p);
    e->rank = H5Sget_simple_extent_ndims(sp);
    H5Sclose(sp);
    e->mem_type = def.type == ES__F64   ? H5T_NATIVE_DOUBLE
                  : def.type == ES__I64 ? H5T_NATIVE_INT64
                  : def.type == ES__U64 ? H5T_NATIVE_UINT64
                  : def.type == ES__I8  ? H5T_NATIVE_SCHAR
                                        : h->str_type;
  }
  return es__raw_setup(h);
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

/* Append one line "time: command (edgesweep VERSION, RANKS ranks)" for this launch to the root
 * attribute "history" (CF: one line per command that wrote the file). */
static es_status es__note_history(es_h5out *h, const es_h5_prov *prov) {
  char *old = es__attr_get_str(h->file, "history");
  es_strbuf b = {0};
  es_strbuf_printf(&b, "%s%s%s: %s (edgesweep %s, git %s, %d rank%s)", old ? old : "",
                   old && *old ? "\n" : "", prov->created, prov->command_line, prov->version,
                   prov->git_commit, prov->ranks, prov->ranks == 1 ? "" : "s");
  free(old);
  es_status st = b.failed ? ES_ERR_NOMEM : es__attr_str(h->file, "history", b.s);
  es_strbuf_free(&b);
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

es_status es_h5out_open(MPI_Comm comm, const char *path, const es_job *job, const es_h5_prov *prov,
                        es_h5out **out) {
  *out = NULL;
  es_h5out *h = es__alloc_handle(comm);
  ES_CHECK(h, ES_ERR_NOMEM, "out of memory");
  /* Read-only first: HDF5 opening a file that is not HDF5 (an empty one) for writing would
   * write to it before it fails. */
  int rank = 0, hdf5 = 0;
  if (MPI_Comm_rank(comm, &rank) == MPI_SUCCESS && rank == 0) hdf5 = H5Fis_hdf5(path) > 0;
  if (MPI_Bcast(&hdf5, 1, MPI_INT, 0, comm) != MPI_SUCCESS) hdf5 = 0;
  if (!hdf5) {
    es_error_set(
        "%s: cannot open it as HDF5 to resume (corrupt or not an edgesweep file); use "
        "--force to start over",
        path);
    return es__fail_cleanup(&h, ES_ERR_INPUT);
  }
  h->path = strdup(path);
  es_status st = h->path ? es__open(h, path, job) : ES_ERR_NOMEM;
  if (st == ES_OK) st = es__note_resume(h, prov);
  if (st == ES_OK) st = es__note_history(h, prov);
  /* Not complete until this launch completes it. */
  if (st == ES_OK) st = es__attr_str(h->file, "completed", "");
  if (st != ES_OK) return es__fail_cleanup(&h, st);
  *out = h;
  return ES_OK;
}

es_status es_h5out_create(MPI_Comm comm, const char *path, const es_job *job,
                          const es_h5_prov *prov, int64_t ntasks, es_h5out **out) {
  *out = NULL;
  es_h5out *h = es__alloc_handle(comm);
  ES_CHECK(h, ES_ERR_NOMEM, "out of memory");
  h->path = strdup(path);
  es_status st = h->path ? es__create(h, path, job, prov, ntasks) : ES_ERR_NOMEM;
  if (st != ES_OK) {
    /* The half-built layout is garbage: emptied first, so that closing it (which flushes
     * metadata) finds room on a full disk instead of failing. The caller removes it. */
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0 && truncate(path, 0) != 0) { /* nothing more to do: close reports */
    }
    return es__fail_cleanup(&h, st);
  }
  *out = h;
  return ES_OK;
}

/* Not collective. The datasets edgesweep writes and reads point by point are contiguous,
 * allocated at creation and unfiltered, with file types equal to the native ones: a box of
 * elements that is one run in the file is then read and written with one MPI-IO call on HDF5's
 * own file handle at the dataset's offset, the same bytes that H5Dwrite would move, without
 * HDF5's ~5 us of selection and property work per call (~40 calls a point). The mpio driver
 * keeps no raw-data cache and leaves the file view at bytes from 0 after each call, so the two
 * paths mix. Anything else (text, an archive copy's chunks) goes through HDF5. */
static es_status es__raw_setup(es_h5out *h) {
  hid_t fapl = H5Fget_access_plist(h->file);
  ES_H5(fapl);
  MPI_File *fhp = NULL;
  herr_t e = H5Fget_vfd_handle(h->file, fapl, (void **)&fhp);
  H5Pclose(fapl);
  for (int i = 0; i < h->nds; i++) h->ds[i].raw = -1;
  if (e < 0 || !fhp) return ES_OK; /* not the mpio driver: HDF5 does it all */
  const char *io = getenv("EDGESWEEP_IO");
  if (io && strcmp(io, "hdf5") == 0) return ES_OK;
  h->fh = *fhp;
  for (int i = 0; i < h->nds; i++) {
    es__ds *d = &h->ds[i];
    hid_t dcpl = H5Dget_create_plist(d->id), ft = H5Dget_type(d->id), sp = H5Dget_space(d->id);
    hsize_t dims[ES__NAXES];
    const int ok = dcpl >= 0 && ft >= 0 && sp >= 0 && H5Pget_layout(dcpl) == H5D_CONTIGUOUS &&
                   H5Pget_nfilters(dcpl) == 0 && H5Tget_class(ft) != H5T_STRING &&
                   H5Tequal(ft, d->mem_type) > 0 && d->rank <= ES__NAXES &&
                   H5Sget_simple_extent_dims(sp, dims, NULL) == d->rank;
    const haddr_t off = ok ? H5Dget_offset(d->id) : HADDR_UNDEF;
    if (ok && off != HADDR_UNDEF) {
      d->raw = (MPI_Offset)off;
      d->esize = H5Tget_size(ft);
      for (int a = 0; a < d->rank; a++) d->dims[a] = (int64_t)dims[a];
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    if (ft >= 0) H5Tclose(ft);
    if (sp >= 0) H5Sclose(sp);
  }
  return ES_OK;
}

/* The box START, COUNT of D as one run of elements in the file: its first element's index
 * (*first) and length (*n); 0 when the box is not one run, or is too large for one call. */
static int es__raw_run(const es__ds *d, const int64_t *start, const int64_t *count, int64_t *first,
                       int64_t *n) {
  if (d->raw < 0) return 0;
  /* Row-major: axes after the first partial one must be whole, those before it single. */
  int a = 0;
  while (a < d->rank && count[a] == 1) a++;
  for (int b = a + 1; b < d->rank; b++)
    if (count[b] != d->dims[b] || start[b] != 0) return 0;
  int64_t idx = 0, len = 1;
  for (int b = 0; b < d->rank; b++) {
    if (start[b] < 0 || count[b] < 1 || start[b] + count[b] > d->dims[b]) return 0;
    idx = idx * d->dims[b] + start[b];
    len *= count[b];
  }
  if (len * (int64_t)d->esize > (1 << 30)) return 0; /* an int count of bytes; HDF5 splits */
  *first = idx;
  *n = len;
  return 1;
}

static es_status es__raw_io(es_h5out *h, es__ds *d, int64_t first, int64_t n, void *data,
                            int write) {
  const MPI_Offset at = d->raw + (MPI_Offset)first * (MPI_Offset)d->esize;
  h->nraw++;
  const int bytes = (int)(n * (int64_t)d->esize);
  MPI_Status ms;
  int rc = write ? MPI_File_write_at(h->fh, at, data, bytes, MPI_BYTE, &ms)
                 : MPI_File_read_at(h->fh, at, data, bytes, MPI_BYTE, &ms);
  int got = 0;
  if (rc == MPI_SUCCESS) rc = MPI_Get_count(&ms, MPI_BYTE, &got);
  if (rc != MPI_SUCCESS || got != bytes) {
    char why[MPI_MAX_ERROR_STRING] = "a short count";
    int len = 0;
    if (rc != MPI_SUCCESS) MPI_Error_string(rc, why, &len);
    es_error_set("MPI-IO: %s %s failed (%d of %d bytes at offset %lld): %s",
                 write ? "writing" : "reading", d->path, got, bytes, (long long)at, why);
    return ES_ERR_IO;
  }
  return ES_OK;
}

static es__ds *es__find(es_h5out *h, es_dataset ds) {
  return (int)ds >= 0 && ds < ES_DS_COUNT && (int)ds < h->nds ? &h->ds[ds] : NULL;
}

static es_status es__write(es_h5out *h, es_dataset ds, const int64_t *start, const int64_t *count,
                           const void *data) {
  es__ds *d = es__find(h, ds);
  ES_CHECK(d, ES_ERR_INTERNAL, "no dataset %d in the layout", (int)ds);
  int64_t first, len;
  if (es__raw_run(d, start, count, &first, &len))
    return es__raw_io(h, d, first, len, (void *)data, 1);
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
  ES_CHECK(e >= 0, ES_ERR_HDF5, "HDF5: writing %s failed", d->path);
  return ES_OK;
}

static es_status es__read(es_h5out *h, es_dataset ds, const int64_t *start, const int64_t *count,
                          hid_t mtype, void *data) {
  es__ds *d = es__find(h, ds);
  ES_CHECK(d, ES_ERR_INTERNAL, "no dataset %d in the layout", (int)ds);
  int64_t first, len;
  if (mtype == d->mem_type && es__raw_run(d, start, count, &first, &len))
    return es__raw_io(h, d, first, len, data, 0);
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
  ES_CHECK(e >= 0, ES_ERR_HDF5, "HDF5: reading %s failed", d->path);
  return ES_OK;
}

es_status es_h5out_read_i8(es_h5out *h, es_dataset ds, const int64_t *start, const int64_t *count,
                           signed char *data) {
  return es__read(h, ds, start, count, H5T_NATIVE_SCHAR, data);
}

es_status es_h5out_read_i64(es_h5out *h, es_dataset ds, const int64_t *start, const int64_t *count,
                            int64_t *data) {
  return es__read(h, ds, start, count, H5T_NATIVE_INT64, data);
}

es_status es_h5out_read_f64(es_h5out *h, es_dataset ds, const int64_t *start, const int64_t *count,
                            double *data) {
  return es__read(h, ds, start, count, H5T_NATIVE_DOUBLE, data);
}

es_status es_h5out_read_state(es_h5out *h, int64_t iw, int64_t ib, int64_t in, int64_t nd,
                              int64_t nlags, double *state) {
  const int64_t P = es_obs_state_packed_len(nlags), L = nlags > 0 ? nlags : 1;
  double *pk = malloc((size_t)(nd * (P + ES_F_COUNT + ES_LAG_COUNT * L)) * sizeof *pk);
  int64_t *valid = malloc((size_t)nd * sizeof *valid);
  es_status st = pk && valid ? ES_OK : ES_ERR_NOMEM;
  if (st != ES_OK) es_error_set("out of memory");
  double *out = pk ? pk + nd * P : NULL, *lag = out ? out + nd * ES_F_COUNT : NULL;
  int64_t s4[4] = {iw, ib, 0, in}, c4[4] = {1, 1, nd, 1};
  int64_t s5[5] = {iw, ib, 0, in, 0}, c5[5] = {1, 1, nd, 1, P}, l5[5] = {1, 1, nd, 1, L};
  if (st == ES_OK) st = es_h5out_read_f64(h, ES_DS_RUN_STATE, s5, c5, pk);
  if (st == ES_OK) st = es_h5out_read_i64(h, ES_DS_ENSEMBLE_NETWORKS, s4, c4, valid);
  for (int f = 0; st == ES_OK && f < ES_F_COUNT; f++)
    st = es_h5out_read_f64(h, ES_DS_FIELD(f), s4, c4, out + f * nd);
  for (int v = 0; st == ES_OK && nlags > 0 && v < ES_LAG_COUNT; v++)
    st = es_h5out_read_f64(h, (es_dataset)(ES_DS_ENSEMBLE_QTS_AA_MEAN + v), s5, l5,
                           lag + v * nd * L);
  if (st == ES_OK) es_obs_state_unpack(pk, out, valid, lag, nd, nlags, state);
  free(pk);
  free(valid);
  return st;
}

es_status es_h5out_write_f64(es_h5out *h, es_dataset ds, const int64_t *start, const int64_t *count,
                             const double *data) {
  return es__write(h, ds, start, count, data);
}

es_status es_h5out_write_i64(es_h5out *h, es_dataset ds, const int64_t *start, const int64_t *count,
                             const int64_t *data) {
  return es__write(h, ds, start, count, data);
}

es_status es_h5out_write_i8(es_h5out *h, es_dataset ds, const int64_t *start, const int64_t *count,
                            const signed char *data) {
  return es__write(h, ds, start, count, data);
}

es_status es_h5out_write_u64(es_h5out *h, es_dataset ds, const int64_t *start, const int64_t *count,
                             const uint64_t *data) {
  return es__write(h, ds, start, count, data);
}

es_status es_h5out_write_text(es_h5out *h, es_dataset ds, const int64_t *start, const char *text) {
  es__ds *d = es__find(h, ds);
  ES_CHECK(d && es__def(ds).type == ES__TEXT, ES_ERR_INTERNAL, "dataset %d is not text", (int)ds);
  if (h->ntext == h->captext) {
    size_t cap = h->captext ? 2 * h->captext : 64;
    es__text *t = realloc(h->text, cap * sizeof *t);
    ES_CHECK(t, ES_ERR_NOMEM, "out of memory for the texts of %s", d->path);
    h->text = t;
    h->captext = cap;
  }
  es__text *t = &h->text[h->ntext++];
  memset(t, 0, sizeof *t);
  t->ds = (int32_t)ds;
  for (int i = 0; i < d->rank; i++) t->start[i] = start[i];
  snprintf(t->text, sizeof t->text, "%s", text ? text : "");
  return ES_OK;
}

es_status es_h5out_text_empty(es_h5out *h, es_dataset ds, const int64_t *start, int *empty) {
  es__ds *d = es__find(h, ds);
  ES_CHECK(d && es__def(ds).type == ES__TEXT, ES_ERR_INTERNAL, "dataset %d is not text", (int)ds);
  const int64_t one[ES__NAXES] = {1, 1, 1, 1, 1, 1, 1};
  char *v = NULL;
  ES_CALL(es__read(h, ds, start, one, h->str_type, &v));
  *empty = !v || !*v;
  if (v) H5free_memory(v);
  return ES_OK;
}

int64_t es_h5out_extent(es_h5out *h, es_dataset ds) {
  es__ds *d = es__find(h, ds);
  if (!d) return -1;
  hid_t sp = H5Dget_space(d->id);
  hsize_t dims[ES__NAXES] = {0};
  H5Sget_simple_extent_dims(sp, dims, NULL);
  H5Sclose(sp);
  return (int64_t)dims[0];
}

es_status es_h5out_renamed(es_h5out *h, const char *path) {
  char *p = strdup(path);
  ES_CHECK(p, ES_ERR_NOMEM, "out of memory");
  free(h->path);
  h->path = p;
  return ES_OK;
}

int64_t es_h5out_raw_calls(const es_h5out *h) { return h ? h->nraw : 0; }

es_status es_h5out_flush(es_h5out *h) {
  ES_H5(H5Fflush(h->file, H5F_SCOPE_GLOBAL));
  return ES_OK;
}

/* Collective. Every rank's texts, on rank 0 (*all, *n; NULL and 0 elsewhere). */
static es_status es__gather_texts(es_h5out *h, es__text **all, size_t *n) {
  int rank, size;
  MPI_Comm_rank(h->comm, &rank);
  MPI_Comm_size(h->comm, &size);
  *all = NULL;
  *n = 0;
  long long mine = (long long)(h->ntext * sizeof(es__text));
  long long *counts = rank == 0 ? malloc((size_t)size * sizeof *counts) : NULL;
  int *rc = rank == 0 ? malloc((size_t)size * sizeof *rc) : NULL;
  int *displs = rank == 0 ? malloc((size_t)size * sizeof *displs) : NULL;
  MPI_Gather(&mine, 1, MPI_LONG_LONG, counts, 1, MPI_LONG_LONG, 0, h->comm);
  int ok = 1;
  long long total = 0;
  if (rank == 0) {
    ok = counts && rc && displs;
    for (int r = 0; ok && r < size; r++) {
      ok = total + counts[r] <= INT32_MAX;
      rc[r] = (int)counts[r];
      displs[r] = (int)total;
      total += counts[r];
    }
    if (ok && total > 0) {
      *all = malloc((size_t)total);
      ok = *all != NULL;
    }
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, h->comm);
  if (ok && mine <= INT32_MAX)
    MPI_Gatherv(h->text, (int)mine, MPI_BYTE, *all, rc, displs, MPI_BYTE, 0, h->comm);
  free(counts);
  free(rc);
  free(displs);
  if (!ok) {
    free(*all);
    *all = NULL;
    es_error_set("the texts (reasons) of the run do not fit in memory or in one gather");
    return ES_ERR_NOMEM;
  }
  *n = (size_t)total / sizeof(es__text);
  return ES_OK;
}

/* Not collective (rank 0, with the parallel file closed). Write the N texts T into PATH. */
static es_status es__write_texts(const char *path, hid_t vl, const es__text *t, size_t n) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  ES_H5(fapl);
  /* OUT.lock already keeps other edgesweeps away; HDF5's own lock may fail on shared file
   * systems that have none. */
  ES_H5(H5Pset_file_locking(fapl, 0, 1));
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, fapl);
  H5Pclose(fapl);
  ES_CHECK(f >= 0, ES_ERR_HDF5, "%s: cannot reopen it to write the texts", path);
  hid_t ids[ES_DS_COUNT];
  for (int i = 0; i < ES_DS_COUNT; i++) ids[i] = -1;
  hid_t ms = H5Screate(H5S_SCALAR);
  es_status st = ms >= 0 ? ES_OK : ES_ERR_HDF5;
  for (size_t k = 0; st == ES_OK && k < n; k++) {
    char p[64];
    es__path((es_dataset)t[k].ds, p);
    if (ids[t[k].ds] < 0) ids[t[k].ds] = H5Dopen2(f, p, H5P_DEFAULT);
    hsize_t st0[ES__NAXES], one[ES__NAXES] = {1, 1, 1, 1, 1, 1, 1};
    for (int i = 0; i < ES__NAXES; i++) st0[i] = (hsize_t)t[k].start[i];
    hid_t fs = ids[t[k].ds] >= 0 ? H5Dget_space(ids[t[k].ds]) : -1;
    const char *v = t[k].text;
    if (fs < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, st0, NULL, one, NULL) < 0 ||
        H5Dwrite(ids[t[k].ds], vl, ms, fs, H5P_DEFAULT, &v) < 0) {
      es_error_set("HDF5: writing the text of %s failed", p);
      st = ES_ERR_HDF5;
    }
    if (fs >= 0) H5Sclose(fs);
  }
  for (int i = 0; i < ES_DS_COUNT; i++)
    if (ids[i] >= 0) H5Dclose(ids[i]);
  if (ms >= 0) H5Sclose(ms);
  if (H5Fclose(f) < 0) {
    es__unclosed = 1;
    if (st == ES_OK) {
      es_error_set(
          "HDF5: closing %s after writing the texts failed (disk full or an I/O "
          "error?)",
          path);
      st = ES_ERR_IO;
    }
  }
  return st;
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
  if (h->xfer >= 0) H5Pclose(h->xfer);
  const int opened = h->file >= 0;
  if (opened && H5Fclose(h->file) < 0) {
    es__unclosed = 1;
    if (st == ES_OK) {
      es_error_set(
          "HDF5: closing the output file failed (its last flush could not be "
          "written: disk full or an I/O error?)");
      st = ES_ERR_IO;
    }
  }
  /* Parallel HDF5 1.10 cannot write variable-length strings (not even independently), which
   * netCDF-C needs for text. The texts are few (reasons), so each rank keeps its own and
   * rank 0 writes them all here, alone, once the parallel file is closed. A kill before
   * this loses them: a flagged point whose reason is then empty is computed again on
   * resume (es__pending), and /mft is rewritten by every launch. */
  es__text *all = NULL;
  size_t n = 0;
  es_status gs = es__gather_texts(h, &all, &n);
  if (st == ES_OK) st = gs;
  if (st == ES_OK && opened && n > 0 && h->path) st = es__write_texts(h->path, h->str_type, all, n);
  free(all);
  if (h->str_type >= 0) H5Tclose(h->str_type);
  free(h->text);
  free(h->path);
  free(h);
  *hp = NULL;
  return st;
}

int es_h5out_finalize(void) {
  if (es__unclosed) return -1;
  H5close();
  return 0;
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
  static const char *const attrs[] = {"format",     "version",      "git_commit", "name",
                                      "job_sha256", "command_line", "created",    "completed",
                                      "host",       "libraries",    "compiler",   "history"};
  for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) es__print_attr(f, file, attrs[i]);
  int64_t ranks = 0;
  es__attr_get_i64(file, "ranks", &ranks);
  fprintf(f, "%-13s %lld\n", "ranks", (long long)ranks);
  int64_t n[3];
  double *ax[3] = {es__read_coord(file, "sigma_w2", &n[0]), es__read_coord(file, "sigma_b2", &n[1]),
                   es__read_coord(file, "width", &n[2])};
  es_status st = ES_OK;
  char ps[64], pr[64];
  es__path(ES_DS_RUN_STATUS, ps);
  es__path(ES_DS_RUN_REASON, pr);
  hid_t ds = H5Dopen2(file, ps, H5P_DEFAULT), dr = H5Dopen2(file, pr, H5P_DEFAULT);
  int64_t np = (ax[0] && ax[1] && ax[2]) ? n[0] * n[1] * n[2] : 0;
  signed char *status = np ? malloc((size_t)np) : NULL;
  char **reason = np ? calloc((size_t)np, sizeof *reason) : NULL;
  hid_t st_type = H5Tcopy(H5T_C_S1);
  H5Tset_size(st_type, H5T_VARIABLE);
  H5Tset_cset(st_type, H5T_CSET_UTF8);
  if (ds < 0 || dr < 0 || !status || !reason ||
      H5Dread(ds, H5T_NATIVE_SCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, status) < 0 ||
      H5Dread(dr, st_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, reason) < 0) {
    es_error_set("%s: cannot read /run/status (damaged file?)", path);
    st = ES_ERR_INPUT;
  } else {
    int64_t cnt[3] = {0, 0, 0};
    for (int64_t p = 0; p < np; p++)
      cnt[status[p] >= ES_POINT_PENDING && status[p] <= ES_POINT_FLAGGED ? status[p]
                                                                         : ES_POINT_PENDING]++;
    fprintf(f,
            "points        %lld (sigma_w2 %lld x sigma_b2 %lld x width %lld): %lld done, "
            "%lld flagged, %lld pending\n",
            (long long)np, (long long)n[0], (long long)n[1], (long long)n[2],
            (long long)cnt[ES_POINT_DONE], (long long)cnt[ES_POINT_FLAGGED],
            (long long)cnt[ES_POINT_PENDING]);
    int shown = 0;
    for (int64_t p = 0; p < np; p++) {
      if (status[p] == ES_POINT_DONE) continue;
      if (shown++ == 20) {
        fprintf(f, "  ... (%lld more not done)\n",
                (long long)(cnt[ES_POINT_PENDING] + cnt[ES_POINT_FLAGGED] - 20));
        break;
      }
      int64_t in = p % n[2], ib = (p / n[2]) % n[1], iw = p / (n[2] * n[1]);
      fprintf(f, "  %-8s sigma_w2 %-10.6g sigma_b2 %-10.6g width %-7g %s\n",
              status[p] == ES_POINT_FLAGGED ? "flagged" : "pending", ax[0][iw], ax[1][ib],
              ax[2][in], status[p] == ES_POINT_FLAGGED && reason[p] ? reason[p] : "");
    }
  }
  H5Tclose(st_type);
  if (ds >= 0) H5Dclose(ds);
  if (dr >= 0) H5Dclose(dr);
  if (reason) {
    for (int64_t p = 0; p < np; p++)
      if (reason[p]) H5free_memory(reason[p]);
  }
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
  /* Every shape and type checked before anything is read (verify.c). */
  es_h5check *c = NULL;
  ES_CALL(es_h5check_open(path, &c));
  es_h5check_close(&c);
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
  herr_t e = es__attr_get_i64(file, "networks", networks) ? 0 : -1;
  char *sha = es__attr_get_str(file, "job_sha256");
  snprintf(sha256, 65, "%s", sha ? sha : "");
  free(sha);
  H5Fclose(file);
  ES_CHECK(e >= 0, ES_ERR_INPUT, "%s: no 'networks' attribute: not an edgesweep file", path);
  return ES_OK;
}
