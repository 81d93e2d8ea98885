/* verify: read an output file without trusting it. Every dataset's type and shape is checked
 * against the job the file names before a byte is read, so a damaged or crafted file gives a
 * message, never a wrong read; then the checksums of the points and pairs are recomputed
 * from the stored values (doc/output.md, Integrity). Serial and read-only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edgesweep/h5out.h"
#include "edgesweep/observables.h"
#include "h5out_impl.h"

const es_dataset es_h5out_pair_sets[ES_H5_PAIR_SETS] = {ES_DS_MFT_Q_STAR,
                                                        ES_DS_MFT_C_STAR,
                                                        ES_DS_MFT_CHI1,
                                                        ES_DS_MFT_CHI_Q,
                                                        ES_DS_MFT_CHI_C,
                                                        ES_DS_MFT_XI_Q,
                                                        ES_DS_MFT_XI_C,
                                                        ES_DS_MFT_LYAPUNOV,
                                                        ES_DS_MFT_PHASE,
                                                        ES_DS_MFT_Q,
                                                        ES_DS_MFT_C,
                                                        ES_DS_MFT_LOGJAC,
                                                        ES_DS_THEORY_Q_MEAN,
                                                        ES_DS_THEORY_Q_VAR,
                                                        ES_DS_THEORY_LOGQ_MEAN,
                                                        ES_DS_THEORY_LOGQ_VAR,
                                                        ES_DS_THEORY_LOGJAC_MEAN,
                                                        ES_DS_THEORY_LOGJAC_VAR,
                                                        ES_DS_THEORY_KURTOSIS,
                                                        ES_DS_THEORY_C_MEAN,
                                                        ES_DS_THEORY_C_VAR,
                                                        ES_DS_THEORY_QAB_MEAN,
                                                        ES_DS_THEORY_QAB_VAR,
                                                        ES_DS_THEORY_EPS_K,
                                                        ES_DS_THEORY_XI_Q,
                                                        ES_DS_THEORY_XI_C};

uint64_t es_h5out_point_checksum(int64_t nd, int64_t nlags, const double *fields,
                                 const int64_t *networks, const double *lagfields,
                                 const double *state, int64_t networks_done, signed char status) {
  es_sum s;
  es_sum_init(&s);
  es_sum_f64(&s, fields, (int64_t)ES_F_COUNT * nd);
  if (nlags > 0) es_sum_f64(&s, lagfields, ES_LAG_COUNT * nd * nlags);
  es_sum_i64(&s, networks, nd);
  if (status == ES_POINT_DONE) {
    es_sum_f64(&s, state, nd * es_obs_state_packed_len(nlags));
    es_sum_i64(&s, &networks_done, 1);
  }
  int64_t st = status;
  es_sum_i64(&s, &st, 1);
  return es_sum_final(&s);
}

/* The two-time DMFT joins the pair sets only when the job has lags (without, its datasets
 * are NaN placeholders and a file's sums stay as they were). */
static const es_dataset es__lag_pair_sets[2] = {ES_DS_MFT_CTS_AA, ES_DS_MFT_CTS_AB};
static int es__pair_nsets(int64_t nl) { return ES_H5_PAIR_SETS + (nl > 0 ? 2 : 0); }
static es_dataset es__pair_ds(int i) {
  return i < ES_H5_PAIR_SETS ? es_h5out_pair_sets[i] : es__lag_pair_sets[i - ES_H5_PAIR_SETS];
}

/* Pair set I's hyperslab of one pair: rank, and COUNT (1, 1, then the length of each axis
 * beyond (w, b): depth ND, width NN, lag NL); returns the values it holds. */
static int64_t es__pair_shape(int i, int64_t nd, int64_t nn, int64_t nl, int *rank,
                              int64_t count[4]) {
  const char *g, *n, *axes;
  char t;
  es__h5_def(es__pair_ds(i), &g, &n, &t, &axes);
  int64_t k = 1;
  *rank = (int)strlen(axes);
  for (int a = 0; a < 4; a++) {
    count[a] = a < 2 || a >= *rank ? 1 : axes[a] == 'd' ? nd : axes[a] == 'n' ? nn : nl;
    k *= count[a];
  }
  return k;
}

static int64_t es__pair_count(int i, int64_t nd, int64_t nn, int64_t nl) {
  int rank;
  int64_t count[4];
  return es__pair_shape(i, nd, nn, nl, &rank, count);
}

int64_t es_h5out_pair_len(int64_t nd, int64_t nn, int64_t nl) {
  int64_t n = 0;
  for (int i = 0; i < es__pair_nsets(nl); i++) n += es__pair_count(i, nd, nn, nl);
  return n;
}

uint64_t es_h5out_pair_checksum(int64_t nd, int64_t nn, int64_t nl, const double *values,
                                const double *critical) {
  es_sum s;
  es_sum_init(&s);
  es_sum_f64(&s, values, es_h5out_pair_len(nd, nn, nl));
  if (critical) es_sum_f64(&s, critical, 1);
  return es_sum_final(&s);
}

es_status es_h5out_pair_seal(es_h5out *h, int64_t iw, int64_t ib, int64_t nd, int64_t nn,
                             int64_t nl) {
  double *v = malloc((size_t)es_h5out_pair_len(nd, nn, nl) * sizeof *v), crit;
  ES_CHECK(v, ES_ERR_NOMEM, "out of memory");
  es_status st = ES_OK;
  int64_t at = 0;
  for (int i = 0; st == ES_OK && i < es__pair_nsets(nl); i++) {
    int rank;
    int64_t count[4];
    const int64_t start[4] = {iw, ib, 0, 0}, k = es__pair_shape(i, nd, nn, nl, &rank, count);
    st = es_h5out_read_f64(h, es__pair_ds(i), start, count, v + at);
    at += k;
  }
  if (st == ES_OK && iw == 0) {
    const int64_t s1[1] = {ib}, c1[1] = {1};
    st = es_h5out_read_f64(h, ES_DS_MFT_CRITICAL_SIGMA_W2, s1, c1, &crit);
  }
  if (st == ES_OK) {
    uint64_t sum = es_h5out_pair_checksum(nd, nn, nl, v, iw == 0 ? &crit : NULL);
    const int64_t s2[2] = {iw, ib}, c2[2] = {1, 1};
    st = es_h5out_write_u64(h, ES_DS_RUN_PAIR_CHECKSUM, s2, c2, &sum);
  }
  free(v);
  return st;
}

/* ---------- the checked file ---------- */

#define ES__AXES "wbdntsl"
#define ES__NAX 7

struct es_h5check {
  hid_t file;
  char *path;
  es_job *job;
  int64_t dims[ES__NAX]; /* by axis letter, ES__AXES */
  int64_t nlags;         /* the job's lags (0: none; the lag axis then holds 0 alone) */
  int finished;
  int64_t nstored; /* datasets stored compressed or chunked, not as edgesweep writes them */
  char stored[64]; /* the first of them */
  double *fields, *state, *lagfields; /* one point's values */
  int64_t *networks;
  double *pair; /* one pair's values (es_h5out_pair_len) */
};

static int64_t es__dim(const es_h5check *c, char axis) {
  return c->dims[strchr(ES__AXES, axis) - ES__AXES];
}

/* Check that PATH is a dataset of class CLS ('f' 8-byte float, 'i' signed 8-byte integer,
 * 'b' 1-byte integer, 'u' unsigned 8-byte integer, 'n' any 8-byte number, 's' string) with the
 * dims of AXES. */
static es_status es__check_ds(es_h5check *c, const char *path, char cls, const char *axes) {
  hid_t d =
      H5Oexists_by_name(c->file, path, H5P_DEFAULT) > 0 ? H5Dopen2(c->file, path, H5P_DEFAULT) : -1;
  ES_CHECK(d >= 0, ES_ERR_INPUT, "%s: dataset /%s is missing (or not a dataset)", c->path, path);
  hid_t t = H5Dget_type(d), sp = H5Dget_space(d), pl = H5Dget_create_plist(d);
  /* An archive copy (h5repack -f ...): readable, but parallel HDF5 cannot write into it. */
  if (pl >= 0 && (H5Pget_nfilters(pl) > 0 || H5Pget_layout(pl) != H5D_CONTIGUOUS) &&
      c->nstored++ == 0)
    snprintf(c->stored, sizeof c->stored, "%s", path);
  if (pl >= 0) H5Pclose(pl);
  H5T_class_t k = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
  size_t size = t >= 0 ? H5Tget_size(t) : 0;
  H5T_sign_t sign = k == H5T_INTEGER ? H5Tget_sign(t) : H5T_SGN_ERROR;
  const int vlen = k == H5T_STRING && H5Tis_variable_str(t) > 0;
  int rank =
      sp >= 0 && H5Sget_simple_extent_type(sp) == H5S_SIMPLE ? H5Sget_simple_extent_ndims(sp) : -1;
  hsize_t dims[H5S_MAX_RANK];
  if (rank > 0 && rank <= H5S_MAX_RANK) H5Sget_simple_extent_dims(sp, dims, NULL);
  if (t >= 0) H5Tclose(t);
  if (sp >= 0) H5Sclose(sp);
  H5Dclose(d);
  int ok = cls == 'f'   ? k == H5T_FLOAT && size == 8
           : cls == 'i' ? k == H5T_INTEGER && size == 8 && sign == H5T_SGN_2
           : cls == 'u' ? k == H5T_INTEGER && size == 8 && sign == H5T_SGN_NONE
           : cls == 'b' ? k == H5T_INTEGER && size == 1
           : cls == 'n' ? (k == H5T_INTEGER || k == H5T_FLOAT) && size == 8
                        : vlen;
  static const char *const what[] = {
      "8-byte floats",   "signed 8-byte integers", "unsigned 8-byte integers",
      "1-byte integers", "8-byte numbers",         "variable-length strings"};
  ES_CHECK(ok, ES_ERR_INPUT, "%s: /%s does not hold %s", c->path, path,
           what[strchr("fiubns", cls) - "fiubns"]);
  const int want = (int)strlen(axes);
  ES_CHECK(rank == want, ES_ERR_INPUT, "%s: /%s has %d dimensions, the layout %d", c->path, path,
           rank, want);
  for (int i = 0; i < want; i++)
    ES_CHECK((int64_t)dims[i] == es__dim(c, axes[i]), ES_ERR_INPUT,
             "%s: /%s has %llu entries along dimension %d, the job's coordinates %lld", c->path,
             path, (unsigned long long)dims[i], i + 1, (long long)es__dim(c, axes[i]));
  return ES_OK;
}

static es_status es__read(es_h5check *c, const char *path, hid_t mtype, int rank,
                          const int64_t *start, const int64_t *count, void *buf) {
  hid_t d = H5Dopen2(c->file, path, H5P_DEFAULT);
  ES_CHECK(d >= 0, ES_ERR_INPUT, "%s: cannot open /%s", c->path, path);
  hsize_t st[ES__NAX], ct[ES__NAX], n = 1;
  for (int i = 0; i < rank; i++) {
    st[i] = (hsize_t)start[i];
    ct[i] = (hsize_t)count[i];
    n *= ct[i];
  }
  hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, &n, NULL);
  herr_t e = fs >= 0 && ms >= 0 ? H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, ct, NULL) : -1;
  if (e >= 0) e = H5Dread(d, mtype, ms, fs, H5P_DEFAULT, buf);
  if (ms >= 0) H5Sclose(ms);
  if (fs >= 0) H5Sclose(fs);
  H5Dclose(d);
  ES_CHECK(e >= 0, ES_ERR_INPUT, "%s: reading /%s failed (damaged file?)", c->path, path);
  return ES_OK;
}

/* "group/name" of dataset DS. */
static const char *es__dspath(es_dataset ds, char p[64]) {
  const char *g, *n, *axes;
  char t;
  es__h5_def(ds, &g, &n, &t, &axes);
  snprintf(p, 64, "%s/%s", g, n);
  return p;
}

/* A scalar integer attribute, only when it is one integer (a crafted array would overrun). */
int es__attr_get_i64(hid_t obj, const char *name, int64_t *v) {
  hid_t a = H5Aexists(obj, name) > 0 ? H5Aopen(obj, name, H5P_DEFAULT) : -1;
  if (a < 0) return 0;
  hid_t sp = H5Aget_space(a), t = H5Aget_type(a);
  int ok = sp >= 0 && t >= 0 && H5Sget_simple_extent_npoints(sp) == 1 &&
           H5Tget_class(t) == H5T_INTEGER && H5Aread(a, H5T_NATIVE_INT64, v) >= 0;
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  H5Aclose(a);
  return ok;
}

static es_status es__attr_i64(es_h5check *c, const char *name, int64_t *v) {
  ES_CHECK(es__attr_get_i64(c->file, name, v), ES_ERR_INPUT,
           "%s: the root attribute '%s' is missing or not one integer", c->path, name);
  return ES_OK;
}

/* Coordinates: at the root and in every group that has the axis, the job's exact values. */
static es_status es__check_coords(es_h5check *c) {
  const es_axis *ax[4] = {&c->job->sigma_w2, &c->job->sigma_b2, &c->job->depth, &c->job->width};
  static const char *const names[ES__NAX] = {"sigma_w2", "sigma_b2",  "depth", "width",
                                             "task",     "statistic", "lag"};
  static const char *const groups[] = {"", "ensemble", "mft", "theory", "phase", "run"};
  static const char *const gaxes[] = {"wbdnl", "wbdnl", "wbdl", "wbdn", "wbn", "wbdnts"};
  int64_t most = 1;
  for (int a = 0; a < ES__NAX; a++) most = c->dims[a] > most ? c->dims[a] : most;
  double *v = malloc((size_t)most * sizeof *v);
  ES_CHECK(v, ES_ERR_NOMEM, "out of memory");
  es_status st = ES_OK;
  for (size_t g = 0; st == ES_OK && g < sizeof groups / sizeof groups[0]; g++)
    for (int a = 0; st == ES_OK && a < ES__NAX; a++) {
      if (!strchr(gaxes[g], ES__AXES[a])) continue;
      char path[64];
      snprintf(path, sizeof path, "%s%s%s", groups[g], *groups[g] ? "/" : "", names[a]);
      char one[2] = {ES__AXES[a], 0};
      st = es__check_ds(c, path, 'n', one);
      int64_t z = 0;
      if (st == ES_OK) st = es__read(c, path, H5T_NATIVE_DOUBLE, 1, &z, &c->dims[a], v);
      for (int64_t i = 0; st == ES_OK && i < c->dims[a]; i++) {
        /* task, statistic: 0, 1, ...; lag: the job's lags, or 0 alone */
        const double want = a < 4    ? ax[a]->v[i]
                            : a == 6 ? (c->nlags ? (double)c->job->lags[i] : 0.0)
                                     : (double)i;
        if (!(v[i] == want)) {
          es_error_set("%s: /%s[%lld] is %.17g, the job's %s is %.17g", c->path, path, (long long)i,
                       v[i], names[a], want);
          st = ES_ERR_INPUT;
        }
      }
    }
  free(v);
  return st;
}

static es_status es__check_layout(es_h5check *c) {
  /* The ledger's length is the plan of the launch that made the file: take it from one, and
   * bound it by the most tasks a plan can have (one network each). */
  hid_t d = H5Oexists_by_name(c->file, "run/task_point", H5P_DEFAULT) > 0
                ? H5Dopen2(c->file, "run/task_point", H5P_DEFAULT)
                : -1;
  ES_CHECK(d >= 0, ES_ERR_INPUT, "%s: dataset /run/task_point is missing", c->path);
  hid_t sp = H5Dget_space(d);
  hsize_t n = 0;
  if (H5Sget_simple_extent_ndims(sp) == 1) H5Sget_simple_extent_dims(sp, &n, NULL);
  H5Sclose(sp);
  H5Dclose(d);
  const double most = (double)(c->dims[0] * c->dims[1] * c->dims[3]) * (double)c->job->networks;
  ES_CHECK(n >= 1 && (double)n <= most, ES_ERR_INPUT,
           "%s: /run/task_point has %llu entries; a plan of this job has 1 to %.0f tasks", c->path,
           (unsigned long long)n, most);
  c->dims[4] = (int64_t)n;
  /* A file from before /run/state was packed has the full state there: said as such, not as
   * a coordinate of the wrong length. */
  d = H5Oexists_by_name(c->file, "run/state", H5P_DEFAULT) > 0
          ? H5Dopen2(c->file, "run/state", H5P_DEFAULT)
          : -1;
  hsize_t sd[5] = {0, 0, 0, 0, 0};
  if (d >= 0) {
    sp = H5Dget_space(d);
    if (H5Sget_simple_extent_ndims(sp) == 5) H5Sget_simple_extent_dims(sp, sd, NULL);
    H5Sclose(sp);
    H5Dclose(d);
  }
  ES_CHECK((int64_t)sd[4] != es_obs_state_len(c->nlags), ES_ERR_INPUT,
           "%s: /run/state holds the full streaming state (%llu values per depth; this "
           "edgesweep stores %lld): an older edgesweep wrote it, and only that version can "
           "verify or resume it",
           c->path, (unsigned long long)sd[4], (long long)c->dims[5]);
  ES_CALL(es__check_coords(c));
  for (int i = 0; i < ES_DS_COUNT; i++) {
    const char *g, *name, *axes;
    char type, path[64];
    es__h5_def((es_dataset)i, &g, &name, &type, &axes);
    ES_CALL(es__check_ds(c, es__dspath((es_dataset)i, path), type, axes));
  }
  return ES_OK;
}

/* The canonical job with its long lists cut into indented continuation lines, which the job
 * parser reads as one value (its lines are limited to 198 characters). */
static char *es__reflow(const char *canon) {
  es_strbuf b = {0};
  int col = 0;
  for (const char *p = canon; *p; p++) {
    if (col > 120 && p[0] == ' ' && p[-1] == ',') {
      es_strbuf_printf(&b, "\n  ");
      col = 2;
      continue;
    }
    es_strbuf_printf(&b, "%c", *p);
    col = *p == '\n' ? 0 : col + 1;
  }
  if (b.failed) {
    es_strbuf_free(&b);
    return NULL;
  }
  return b.s ? b.s : calloc(1, 1); /* an empty text is a job too (of defaults) */
}

void es_h5check_close(es_h5check **cp) {
  if (!cp || !*cp) return;
  es_h5check *c = *cp;
  if (c->file >= 0) H5Fclose(c->file);
  es_job_destroy(&c->job);
  free(c->path);
  free(c->fields);
  free(c->state);
  free(c->lagfields);
  free(c->networks);
  free(c->pair);
  free(c);
  *cp = NULL;
}

es_status es_h5check_open(const char *path, es_h5check **out) {
  *out = NULL;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  htri_t is = H5Fis_hdf5(path);
  ES_CHECK(is > 0, ES_ERR_INPUT, "%s: %s", path,
           is == 0 ? "not an HDF5 file" : "cannot open it (missing, unreadable or damaged)");
  es_h5check *c = calloc(1, sizeof *c);
  ES_CHECK(c, ES_ERR_NOMEM, "out of memory");
  c->path = malloc(strlen(path) + 1);
  if (c->path) strcpy(c->path, path);
  /* No HDF5 lock: some shared file systems have none, and a running sweep holds OUT.lock. */
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0) H5Pset_file_locking(fapl, 0, 1);
  c->file = H5Fopen(path, H5F_ACC_RDONLY, fapl >= 0 ? fapl : H5P_DEFAULT);
  if (fapl >= 0) H5Pclose(fapl);
  es_status st = c->path ? ES_OK : ES_ERR_NOMEM;
  if (st == ES_OK && c->file < 0) {
    es_error_set("%s: cannot open it as HDF5 (damaged or truncated?)", path);
    st = ES_ERR_INPUT;
  }
  char *fmt = st == ES_OK ? es__attr_get_str(c->file, "format") : NULL;
  char *canon = st == ES_OK ? es__attr_get_str(c->file, "job_canonical") : NULL;
  char *sha = st == ES_OK ? es__attr_get_str(c->file, "job_sha256") : NULL;
  char *done = st == ES_OK ? es__attr_get_str(c->file, "completed") : NULL;
  if (st == ES_OK && !(fmt && strcmp(fmt, "edgesweep/1") == 0)) {
    es_error_set("%s: not an edgesweep/1 file (root attribute 'format')", path);
    st = ES_ERR_INPUT;
  }
  if (st == ES_OK && !canon) {
    es_error_set("%s: the root attribute 'job_canonical' is missing", path);
    st = ES_ERR_INPUT;
  }
  if (st == ES_OK) {
    char where[300];
    snprintf(where, sizeof where, "%s:job_canonical", path);
    char *text = es__reflow(canon);
    st = text ? es_job_parse(where, text, NULL, 0, &c->job) : ES_ERR_NOMEM;
    if (!text) es_error_set("out of memory");
    free(text);
  }
  /* The job read back must be the one the file names, to the byte. */
  if (st == ES_OK && strcmp(c->job->canonical, canon) != 0) {
    es_error_set("%s: 'job_canonical' is not a canonical job (altered?)", path);
    st = ES_ERR_INPUT;
  }
  if (st == ES_OK && !(sha && strcmp(sha, c->job->sha256) == 0)) {
    es_error_set("%s: 'job_sha256' is not the SHA-256 of 'job_canonical' (altered job)", path);
    st = ES_ERR_INPUT;
  }
  if (st == ES_OK) st = es__attr_i64(c, "networks", &c->job->networks);
  if (st == ES_OK && c->job->networks < 1) {
    es_error_set("%s: the root attribute 'networks' is %lld", path, (long long)c->job->networks);
    st = ES_ERR_INPUT;
  }
  c->finished = done && *done;
  free(fmt);
  free(canon);
  free(sha);
  free(done);
  if (st == ES_OK) {
    const es_job *j = c->job;
    c->nlags = j->nlags;
    int64_t d[ES__NAX] = {j->sigma_w2.n,
                          j->sigma_b2.n,
                          j->depth.n,
                          j->width.n,
                          0,
                          es_obs_state_packed_len(j->nlags),
                          j->nlags > 0 ? j->nlags : 1};
    memcpy(c->dims, d, sizeof d);
    st = es__check_layout(c);
  }
  if (st == ES_OK) {
    const int64_t nd = c->dims[2], nn = c->dims[3];
    c->fields = malloc((size_t)(ES_F_COUNT * nd) * sizeof *c->fields);
    c->state = malloc((size_t)(c->dims[5] * nd) * sizeof *c->state);
    c->lagfields = malloc((size_t)(ES_LAG_COUNT * nd * c->dims[6]) * sizeof *c->lagfields);
    c->networks = malloc((size_t)nd * sizeof *c->networks);
    c->pair = malloc((size_t)es_h5out_pair_len(nd, nn, c->nlags) * sizeof *c->pair);
    if (!c->fields || !c->state || !c->lagfields || !c->networks || !c->pair) {
      es_error_set("out of memory");
      st = ES_ERR_NOMEM;
    }
  }
  if (st != ES_OK) {
    es_h5check_close(&c);
    return st;
  }
  *out = c;
  return ES_OK;
}

const es_job *es_h5check_job(const es_h5check *c) { return c->job; }

int64_t es_h5check_stored(const es_h5check *c, const char **first) {
  if (first) *first = c->stored;
  return c->nstored;
}

es_status es_h5check_writable(const es_h5check *c) {
  ES_CHECK(c->nstored == 0, ES_ERR_INPUT,
           "%s: %lld datasets are stored compressed or chunked (/%s first): an archive copy, "
           "which parallel HDF5 cannot write into; resume the original, or a copy made "
           "writable by 'h5repack -l CONTI' (doc/output.md, Size and archive copies)",
           c->path, (long long)c->nstored, c->stored);
  return ES_OK;
}
int es_h5check_finished(const es_h5check *c) { return c->finished; }

es_status es_h5check_read_status(es_h5check *c, signed char *status) {
  int64_t z[3] = {0, 0, 0}, n[3] = {c->dims[0], c->dims[1], c->dims[3]};
  return es__read(c, "run/status", H5T_NATIVE_SCHAR, 3, z, n, status);
}

es_status es_h5check_point(es_h5check *c, int64_t p, es_h5_point *v) {
  const int64_t nd = c->dims[2], nn = c->dims[3], nb = c->dims[1];
  const int64_t in = p % nn, ib = (p / nn) % nb, iw = p / (nn * nb);
  int64_t s4[4] = {iw, ib, 0, in}, c4[4] = {1, 1, nd, 1};
  int64_t s3[3] = {iw, ib, in}, c3[3] = {1, 1, 1};
  int64_t s5[5] = {iw, ib, 0, in, 0}, c5[5] = {1, 1, nd, 1, c->dims[5]};
  int64_t l5[5] = {1, 1, nd, 1, c->dims[6]};
  char path[64];
  for (int f = 0; f < ES_F_COUNT; f++)
    ES_CALL(es__read(c, es__dspath(ES_DS_FIELD(f), path), H5T_NATIVE_DOUBLE, 4, s4, c4,
                     c->fields + f * nd));
  for (int v = 0; v < ES_LAG_COUNT; v++)
    ES_CALL(es__read(c, es__dspath((es_dataset)(ES_DS_ENSEMBLE_QTS_AA_MEAN + v), path),
                     H5T_NATIVE_DOUBLE, 5, s5, l5, c->lagfields + v * nd * c->dims[6]));
  ES_CALL(es__read(c, "ensemble/networks", H5T_NATIVE_INT64, 4, s4, c4, c->networks));
  ES_CALL(es__read(c, "run/state", H5T_NATIVE_DOUBLE, 5, s5, c5, c->state));
  ES_CALL(es__read(c, "run/networks_done", H5T_NATIVE_INT64, 3, s3, c3, &v->networks_done));
  ES_CALL(es__read(c, "run/status", H5T_NATIVE_SCHAR, 3, s3, c3, &v->status));
  ES_CALL(es__read(c, "run/checksum", H5T_NATIVE_UINT64, 3, s3, c3, &v->checksum));
  v->iw = iw, v->ib = ib, v->in = in;
  v->fields = c->fields;
  v->networks = c->networks;
  v->state = c->state;
  v->lagfields = c->lagfields;
  return ES_OK;
}

/* One sigma_w2 slab read whole, a read per dataset (not per point): 20 000 points in 0.2 s. */
typedef struct {
  double *f64;    /* the points' fields and state, then the pairs' values */
  int64_t *i64;   /* networks, networks_done */
  uint64_t *sums; /* stored and recomputed checksums of points, then of pairs */
} es__slab;

/* Stored and recomputed checksums of every point and pair of slab IW: ONE[q] and TWO[q] for
 * the NB x NN points (q = ib nn + in; TWO only where STATUS is done or flagged), PONE[ib] and
 * PTWO[ib] for the pairs. */
static es_status es__slab_sums(es_h5check *c, int64_t iw, es__slab *b, const signed char *status,
                               uint64_t *one, uint64_t *two, uint64_t *pone, uint64_t *ptwo) {
  const int64_t nb = c->dims[1], nd = c->dims[2], nn = c->dims[3], S = c->dims[5];
  const int64_t m = nb * nd * nn, L = c->dims[6];
  int64_t s4[4] = {iw, 0, 0, 0}, c4[4] = {1, nb, nd, nn}, s3[3] = {iw, 0, 0}, c3[3] = {1, nb, nn};
  int64_t s5[5] = {iw, 0, 0, 0, 0}, c5[5] = {1, nb, nd, nn, S};
  double *fields = b->f64, *state = fields + ES_F_COUNT * m, *lag = state + S * m;
  int64_t l5[5] = {1, nb, nd, nn, L};
  int64_t *nets = b->i64, *done = nets + m;
  char path[64];
  for (int f = 0; f < ES_F_COUNT; f++)
    ES_CALL(es__read(c, es__dspath(ES_DS_FIELD(f), path), H5T_NATIVE_DOUBLE, 4, s4, c4,
                     fields + f * m));
  ES_CALL(es__read(c, "ensemble/networks", H5T_NATIVE_INT64, 4, s4, c4, nets));
  ES_CALL(es__read(c, "run/state", H5T_NATIVE_DOUBLE, 5, s5, c5, state));
  for (int v = 0; v < ES_LAG_COUNT; v++)
    ES_CALL(es__read(c, es__dspath((es_dataset)(ES_DS_ENSEMBLE_QTS_AA_MEAN + v), path),
                     H5T_NATIVE_DOUBLE, 5, s5, l5, lag + v * m * L));
  ES_CALL(es__read(c, "run/networks_done", H5T_NATIVE_INT64, 3, s3, c3, done));
  ES_CALL(es__read(c, "run/checksum", H5T_NATIVE_UINT64, 3, s3, c3, one));
  for (int64_t q = 0; q < nb * nn; q++) {
    const int64_t ib = q / nn, in = q % nn;
    two[q] = 0;
    if (status[q] != ES_POINT_DONE && status[q] != ES_POINT_FLAGGED) continue;
    /* The point's columns, gathered into the point buffers. */
    for (int f = 0; f < ES_F_COUNT; f++)
      for (int64_t k = 0; k < nd; k++)
        c->fields[f * nd + k] = fields[f * m + (ib * nd + k) * nn + in];
    for (int64_t k = 0; k < nd; k++) {
      c->networks[k] = nets[(ib * nd + k) * nn + in];
      memcpy(c->state + k * S, state + ((ib * nd + k) * nn + in) * S, (size_t)S * sizeof *state);
      for (int v = 0; v < ES_LAG_COUNT; v++)
        memcpy(c->lagfields + (v * nd + k) * L, lag + v * m * L + ((ib * nd + k) * nn + in) * L,
               (size_t)L * sizeof *lag);
    }
    two[q] = es_h5out_point_checksum(nd, c->nlags, c->fields, c->networks, c->lagfields, c->state,
                                     done[q], status[q]);
  }
  /* The pairs: each set read for the whole slab, then each pair's values gathered. */
  const int64_t nl = c->nlags;
  double *all = b->f64, *crit = all + nb * es_h5out_pair_len(nd, nn, nl);
  int64_t off = 0;
  for (int i = 0; i < es__pair_nsets(nl); i++) {
    int rank;
    int64_t pc[4];
    const int64_t k = es__pair_shape(i, nd, nn, nl, &rank, pc), ps[4] = {iw, 0, 0, 0};
    pc[1] = nb;
    ES_CALL(es__read(c, es__dspath(es__pair_ds(i), path), H5T_NATIVE_DOUBLE, rank, ps, pc,
                     all + off * nb));
    off += k;
  }
  if (iw == 0) {
    int64_t s1[1] = {0}, c1[1] = {nb};
    ES_CALL(es__read(c, "mft/critical_sigma_w2", H5T_NATIVE_DOUBLE, 1, s1, c1, crit));
  }
  int64_t s2[2] = {iw, 0}, c2[2] = {1, nb};
  ES_CALL(es__read(c, "run/pair_checksum", H5T_NATIVE_UINT64, 2, s2, c2, pone));
  for (int64_t ib = 0; ib < nb; ib++) {
    off = 0;
    for (int i = 0; i < es__pair_nsets(nl); i++) {
      const int64_t k = es__pair_count(i, nd, nn, nl);
      memcpy(c->pair + off, all + off * nb + ib * k, (size_t)k * sizeof *all);
      off += k;
    }
    ptwo[ib] = es_h5out_pair_checksum(nd, nn, nl, c->pair, iw == 0 ? crit + ib : NULL);
  }
  return ES_OK;
}

es_status es_h5check_sums(es_h5check *c, int pairs, unsigned char *bad, FILE *out, int64_t *nbad) {
  const es_job *j = c->job;
  const int64_t nw = c->dims[0], nb = c->dims[1], nd = c->dims[2], nn = c->dims[3];
  const int64_t np = nw * nb * nn, m = nb * nd * nn;
  signed char *status = malloc((size_t)np);
  es__slab b;
  const int64_t nf = (ES_F_COUNT + c->dims[5] + ES_LAG_COUNT * c->dims[6]) * m,
                npair = nb * (es_h5out_pair_len(nd, nn, c->nlags) + 1);
  b.f64 = malloc((size_t)(nf > npair ? nf : npair) * sizeof *b.f64);
  b.i64 = malloc((size_t)(m + nb * nn) * sizeof *b.i64);
  b.sums = malloc((size_t)(2 * nb * nn + 2 * nb) * sizeof *b.sums);
  es_status st = status && b.f64 && b.i64 && b.sums ? ES_OK : ES_ERR_NOMEM;
  if (st != ES_OK) es_error_set("out of memory for a slab of %lld points", (long long)(nb * nn));
  if (st == ES_OK) st = es_h5check_read_status(c, status);
  *nbad = 0;
  int64_t named = 0;
  char first[512] = "";
#define ES__BAD(...)                                         \
  do {                                                       \
    char m_[400];                                            \
    snprintf(m_, sizeof m_, __VA_ARGS__);                    \
    if (!first[0]) snprintf(first, sizeof first, "%s", m_);  \
    if (out && named++ < 20) fprintf(out, "  BAD %s\n", m_); \
    ++*nbad;                                                 \
  } while (0)
  uint64_t *one = b.sums, *two = one + nb * nn, *pone = two + nb * nn, *ptwo = pone + nb;
  for (int64_t iw = 0; st == ES_OK && iw < nw; iw++) {
    const signed char *sl = status + iw * nb * nn;
    st = es__slab_sums(c, iw, &b, sl, one, two, pone, ptwo);
    for (int64_t q = 0; st == ES_OK && q < nb * nn; q++) {
      const int64_t p = iw * nb * nn + q, ib = q / nn, in = q % nn;
      const char *why = NULL;
      if (sl[q] < ES_POINT_PENDING || sl[q] > ES_POINT_FLAGGED)
        why = "its status is not 0, 1 or 2";
      else if (sl[q] == ES_POINT_PENDING)
        why = c->finished ? "pending in a completed file" : NULL;
      else if (one[q] == 0)
        why = "marked done but has no checksum";
      else if (one[q] != two[q])
        why = "its values or status do not match its checksum";
      if (bad) bad[p] = why != NULL;
      if (why)
        ES__BAD("point (sigma_w2 %.17g, sigma_b2 %.17g, width %g): %s", j->sigma_w2.v[iw],
                j->sigma_b2.v[ib], j->width.v[in], why);
    }
    /* Pairs: written by every launch, so a partial file may lack some; a completed one not. */
    for (int64_t ib = 0; pairs && st == ES_OK && ib < nb; ib++)
      if (pone[ib] == 0 ? c->finished : pone[ib] != ptwo[ib])
        ES__BAD(
            "pair (sigma_w2 %.17g, sigma_b2 %.17g): its /mft and /theory values %s",
            j->sigma_w2.v[iw], j->sigma_b2.v[ib],
            pone[ib] == 0 ? "have no checksum in a completed file" : "do not match their checksum");
  }
#undef ES__BAD
  free(status);
  free(b.f64);
  free(b.i64);
  free(b.sums);
  if (st == ES_OK && *nbad) {
    es_error_set("%s: %lld checksum failure%s, first: %s", c->path, (long long)*nbad,
                 *nbad > 1 ? "s" : "", first);
    st = ES_ERR_INPUT;
  }
  return st;
}
