#include "edgesweep/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the key table: every job key is declared here once ---- */

typedef enum { ES__STR, ES__U64, ES__INT, ES__DBL, ES__ENUM, ES__AXIS, ES__IAXIS } es__type;

typedef struct {
  const char *section, *key;
  es__type type;
  const char *def;     /* default as text; NULL = required */
  double min, max;     /* bounds for numbers (inclusive) */
  const char *choices; /* "a|b|c" for enums */
  const char *help;
} es__keydef;

#define ES__NOLIM -HUGE_VAL, HUGE_VAL
static const es__keydef es__keys[] = {
    {"run", "name", ES__STR, "edgesweep", ES__NOLIM, NULL,
     "name of the run; the default output is NAME.h5"},
    {"run", "seed", ES__U64, "0", ES__NOLIM, NULL,
     "64-bit seed of every random stream (unsigned integer)"},
    {"run", "output", ES__STR, "", ES__NOLIM, NULL,
     "output HDF5 path (default NAME.h5); -o on the command line overrides it"},
    {"network", "architecture", ES__ENUM, "feedforward", ES__NOLIM, "feedforward|recurrent",
     "feedforward: fresh W, b per layer; recurrent: one W, b shared by all steps"},
    {"network", "activation", ES__ENUM, "tanh", ES__NOLIM, "linear|relu|tanh|erf|gelu|silu|sin",
     "the nonlinearity phi"},
    {"network", "leak", ES__DBL, "1", 0.0, 1.0, NULL,
     "gamma in h' = (1-gamma) h + W phi(h) + b + xi; 1 is the standard MLP"},
    {"network", "noise", ES__DBL, "0", 0.0, HUGE_VAL, NULL,
     "g: variance of the noise xi added per layer, independently per input"},
    {"network", "q0", ES__DBL, "1", 1e-300, HUGE_VAL, NULL, "|x|^2/N0 of both inputs (> 0)"},
    {"network", "c0", ES__DBL, "0.5", -1.0, 1.0, NULL, "cosine between the two inputs"},
    {"grid", "sigma_w2", ES__AXIS, NULL, 1e-300, HUGE_VAL, NULL,
     "weight variance sigma_w^2 (> 0): list, linspace, logspace or range"},
    {"grid", "sigma_b2", ES__AXIS, "0", 0.0, HUGE_VAL, NULL, "bias variance sigma_b^2 (>= 0)"},
    {"grid", "depth", ES__IAXIS, NULL, 1, 1e6, NULL,
     "recorded depths t (layers, integers >= 1); one simulation to the deepest serves all"},
    {"grid", "width", ES__IAXIS, NULL, 1, 1 << 24, NULL, "hidden widths N (integers >= 1)"},
    {"ensemble", "networks", ES__INT, "64", 2, 1e9, NULL, "M: networks per grid point (>= 2)"},
    {"ensemble", "method", ES__ENUM, "auto", ES__NOLIM, "auto|gram|dense",
     "gram: exact conditional-Gaussian sampling, O(N) per layer (fresh weights only); "
     "dense: explicit W; auto: gram where it is exact"},
    {"ensemble", "networks_per_task", ES__INT, "0", 0, 1e9, NULL,
     "0: chosen by edgesweep (one fold in network order); K: blocks of K networks combined "
     "in order (few points on many ranks; bits depend on K, never on the ranks)"},
    {"ensemble", "lags", ES__IAXIS, "", 0, 1e6, NULL,
     "lags L (integers >= 0, below the deepest depth) of the two-time overlaps "
     "q(t, t - L) at every recorded depth t; empty = none"},
};
#define ES__NKEYS ((int)(sizeof es__keys / sizeof es__keys[0]))

/* Raw values as found: text plus where it came from (line 0 = --set). */
typedef struct {
  char *value;
  int line;
  int from_set;
} es__raw;

typedef struct {
  const char *path;
  es__raw raw[ES__NKEYS];
  int line;       /* current line of the reader */
  int indented;   /* the current line starts with a blank: inih reads it as a continuation */
  int last_key;   /* the key the file set last (-1: none), which a continuation extends */
  int long_line;  /* first line longer than the parser's buffer */
  es_status st;   /* first error found by the handler */
  char err[1024]; /* its message */
  const char *text, *pos;
} es__parse;

static int es__find_key(const char *section, const char *key) {
  for (int i = 0; i < ES__NKEYS; i++)
    if (strcmp(es__keys[i].section, section) == 0 && strcmp(es__keys[i].key, key) == 0) return i;
  return -1;
}

static int es__known_section(const char *section) {
  for (int i = 0; i < ES__NKEYS; i++)
    if (strcmp(es__keys[i].section, section) == 0) return 1;
  return 0;
}

/* The reader counts lines so the handler knows where each key is, and notices lines the
 * parser would split (V13: never truncate silently). */
static void es__fail(es__parse *ps, int line, const char *fmt, const char *a, const char *b);

static char *es__reader(char *str, int num, void *stream) {
  es__parse *ps = stream;
  if (!*ps->pos) return NULL;
  const char *nl = strchr(ps->pos, '\n');
  size_t len = nl ? (size_t)(nl - ps->pos) + 1 : strlen(ps->pos);
  ps->line++;
  ps->indented = *ps->pos == ' ' || *ps->pos == '\t';
  /* A section header without its ']' is reported on its own line (the parser would go on
   * and blame the next key for being in the wrong section). */
  const char *c = ps->pos;
  while (c < ps->pos + len && (*c == ' ' || *c == '\t')) c++;
  if (c < ps->pos + len && *c == '[' && !memchr(c, ']', (size_t)(ps->pos + len - c))) {
    char head[64];
    size_t hl = strcspn(c, "\r\n");
    snprintf(head, sizeof head, "%.*s", (int)(hl < 40 ? hl : 40), c);
    es__fail(ps, ps->line, "section header '%s%s' has no closing ']'", head, hl > 40 ? "..." : "");
  }
  if (len > (size_t)num - 1) {
    if (!ps->long_line) ps->long_line = ps->line;
    len = (size_t)num - 1;
    /* Skip the rest of the long line so later line numbers stay right. */
    memcpy(str, ps->pos, len);
    str[len] = '\0';
    ps->pos = nl ? nl + 1 : ps->pos + strlen(ps->pos);
    return str;
  }
  memcpy(str, ps->pos, len);
  str[len] = '\0';
  ps->pos += len;
  return str;
}

static void es__fail(es__parse *ps, int line, const char *fmt, const char *a, const char *b) {
  if (ps->st != ES_OK) return;
  ps->st = ES_ERR_INPUT;
  char msg[512], ea[128], eb[128];
  es_elide(ea, sizeof ea, a);
  es_elide(eb, sizeof eb, b);
  snprintf(msg, sizeof msg, fmt, ea, eb);
  snprintf(ps->err, sizeof ps->err, "%s:%d: %s", ps->path, line, msg);
}

/* Add to the message of the first error (nothing when an earlier error holds it). */
static void es__append(es__parse *ps, const char *fmt, const char *a) {
  size_t l = strlen(ps->err);
  if (l < sizeof ps->err) snprintf(ps->err + l, sizeof ps->err - l, fmt, a);
}

/* "did you mean": the closest key of SECTION, else the same key in another section, else
 * the closest key anywhere (a key put under the wrong header). */
static void es__hint_key(es__parse *ps, const char *section, const char *key) {
  const char *names[ES__NKEYS], *full[ES__NKEYS];
  char buf[ES__NKEYS][64];
  size_t n = 0;
  for (int i = 0; i < ES__NKEYS; i++)
    if (strcmp(es__keys[i].section, section) == 0) names[n++] = es__keys[i].key;
  const char *near = es_suggest(key, names, n);
  if (near) {
    es__append(ps, "; did you mean %s?", near);
    return;
  }
  for (int i = 0; i < ES__NKEYS; i++) {
    snprintf(buf[i], sizeof buf[i], "[%s] %s", es__keys[i].section, es__keys[i].key);
    full[i] = buf[i];
    names[i] = es__keys[i].key;
    if (strcmp(es__keys[i].key, key) == 0) {
      es__append(ps, "; it belongs under %s", buf[i]);
      return;
    }
  }
  near = es_suggest(key, names, ES__NKEYS);
  for (int i = 0; near && i < ES__NKEYS; i++)
    if (names[i] == near) es__append(ps, "; did you mean %s?", full[i]);
}

static es_status es__store(es__parse *ps, const char *section, const char *key, const char *value,
                           int line, int from_set) {
  const int first = ps->st == ES_OK; /* only the first error gets a hint */
  if (!es__known_section(section)) {
    static const char *const secs[] = {"run", "network", "grid", "ensemble"};
    const char *near = es_suggest(section, secs, 4);
    es__fail(ps, line, "[%s] %s: unknown section (sections: run, network, grid, ensemble)", section,
             key);
    if (near && first) es__append(ps, "; did you mean [%s]?", near);
    return ES_ERR_INPUT;
  }
  int k = es__find_key(section, key);
  if (k < 0) {
    es__fail(ps, line, "[%s] %s: unknown key", section, key);
    if (first) es__hint_key(ps, section, key);
    return ES_ERR_INPUT;
  }
  if (ps->raw[k].value && !from_set && !ps->raw[k].from_set) {
    char where[64];
    snprintf(where, sizeof where, "%d", ps->raw[k].line);
    es__fail(ps, line, "[%s] %s: duplicate key (first set on line ", section, key);
    size_t l = strlen(ps->err);
    snprintf(ps->err + l, sizeof ps->err - l, "%s)", where);
    return ES_ERR_INPUT;
  }
  char *v = malloc(strlen(value) + 1);
  if (!v) {
    ps->st = ES_ERR_NOMEM;
    snprintf(ps->err, sizeof ps->err, "out of memory");
    return ES_ERR_NOMEM;
  }
  strcpy(v, value);
  free(ps->raw[k].value);
  ps->raw[k] = (es__raw){v, line, from_set};
  return ES_OK;
}

/* A value may go on over indented lines (inih's continuation, as Python's configparser):
 * the parts are joined with a space, so long lists need no long line. */
static void es__continue(es__parse *ps, const char *section, const char *name, const char *value) {
  if (ps->st != ES_OK) return;
  if (strchr(value, '=')) { /* an indented key, not a continuation */
    es__fail(ps, ps->line,
             "[%s] %s: an indented line continues the value above; start keys "
             "at the beginning of the line",
             section, name);
    return;
  }
  es__raw *r = &ps->raw[ps->last_key];
  char *v = realloc(r->value, strlen(r->value) + strlen(value) + 2);
  if (!v) {
    ps->st = ES_ERR_NOMEM;
    snprintf(ps->err, sizeof ps->err, "out of memory");
    return;
  }
  strcat(strcat(v, " "), value);
  r->value = v;
}

static int es__handler(void *user, const char *section, const char *name, const char *value) {
  es__parse *ps = user;
  if (ps->indented && ps->last_key >= 0 && es__find_key(section, name) == ps->last_key) {
    es__continue(ps, section, name, value);
    return 1;
  }
  if (es__store(ps, section, name, value, ps->line, 0) == ES_OK)
    ps->last_key = es__find_key(section, name);
  return 1; /* keep going: the first error is kept, later lines still count */
}

/* ---- conversion and validation ---- */

/* Prefix "FILE:LINE: [section] key: " (or the --set form) to the current message. */
static es_status es__keyerr(const es__parse *ps, int k, const char *msg) {
  const es__keydef *d = &es__keys[k];
  const es__raw *r = &ps->raw[k];
  char m[900], v[160];
  snprintf(m, sizeof m, "%s", msg);
  if (!r->value)
    es_error_set("%s: [%s] %s: %s", ps->path, d->section, d->key, m);
  else if (r->from_set)
    es_error_set("--set %s.%s=%s: %s", d->section, d->key, (es_elide(v, sizeof v, r->value), v), m);
  else
    es_error_set("%s:%d: [%s] %s: %s", ps->path, r->line, d->section, d->key, m);
  return ES_ERR_INPUT;
}

static const char *es__value(const es__parse *ps, int k) {
  return ps->raw[k].value ? ps->raw[k].value : es__keys[k].def;
}

static es_status es__conv_double(const es__parse *ps, int k, double *out) {
  const char *s = es__value(ps, k);
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  while (isspace((unsigned char)*end)) end++;
  char m[300];
  if (end == s || *end || !isfinite(v) || errno == ERANGE || strpbrk(s, "xXnNiI")) {
    snprintf(m, sizeof m, "'%s' is not a finite number", s);
    return es__keyerr(ps, k, m);
  }
  if (v < es__keys[k].min || v > es__keys[k].max) {
    if (es__keys[k].min > 0 && es__keys[k].min < 1e-100)
      snprintf(m, sizeof m, "%s must be > 0", s);
    else
      snprintf(m, sizeof m, "%s is out of range [%g, %g]", s, es__keys[k].min, es__keys[k].max);
    return es__keyerr(ps, k, m);
  }
  /* -0 means 0: one value, one bit pattern, one job identity. */
  *out = v + 0.0;
  return ES_OK;
}

static es_status es__conv_int(const es__parse *ps, int k, int64_t *out, int unsigned_) {
  const char *s = es__value(ps, k);
  char m[300];
  const char *p = s;
  while (isspace((unsigned char)*p)) p++;
  if (!isdigit((unsigned char)*p)) {
    snprintf(m, sizeof m, "'%s' is not a non-negative integer", s);
    return es__keyerr(ps, k, m);
  }
  char *end;
  errno = 0;
  unsigned long long v = strtoull(p, &end, 10);
  while (isspace((unsigned char)*end)) end++;
  if (*end || errno == ERANGE || (!unsigned_ && v > (unsigned long long)INT64_MAX)) {
    snprintf(m, sizeof m, "'%s' is not an integer in range", s);
    return es__keyerr(ps, k, m);
  }
  if (!unsigned_ && ((double)v < es__keys[k].min || (double)v > es__keys[k].max)) {
    snprintf(m, sizeof m, "%s is out of range [%g, %g]", s, es__keys[k].min, es__keys[k].max);
    return es__keyerr(ps, k, m);
  }
  *out = (int64_t)v;
  return ES_OK;
}

static es_status es__conv_enum(const es__parse *ps, int k, int *out) {
  const char *s = es__value(ps, k);
  const char *c = es__keys[k].choices;
  for (int i = 0; *c; i++) {
    const char *bar = strchr(c, '|');
    size_t len = bar ? (size_t)(bar - c) : strlen(c);
    if (strlen(s) == len && strncmp(s, c, len) == 0) {
      *out = i;
      return ES_OK;
    }
    c += len + (bar ? 1 : 0);
  }
  char m[400];
  snprintf(m, sizeof m, "'%s' is not one of %s", s, es__keys[k].choices);
  return es__keyerr(ps, k, m);
}

static es_status es__conv_axis(const es__parse *ps, int k, es_axis *axis) {
  const char *s = es__value(ps, k);
  if (!s) return es__keyerr(ps, k, "missing (required key)");
  int integer = es__keys[k].type == ES__IAXIS;
  es_status st = es_axis_parse(s, integer, axis);
  if (st != ES_OK) {
    char m[700];
    snprintf(m, sizeof m, "%s", es_error_msg());
    return st == ES_ERR_INPUT ? es__keyerr(ps, k, m) : st;
  }
  for (int64_t i = 0; i < axis->n; i++) {
    double v = axis->v[i];
    if (v < es__keys[k].min || v > es__keys[k].max) {
      char m[300];
      if (es__keys[k].min > 0 && es__keys[k].min < 1e-100)
        snprintf(m, sizeof m, "value %.17g must be > 0", v);
      else
        snprintf(m, sizeof m, "value %.17g is out of range [%g, %g]", v, es__keys[k].min,
                 es__keys[k].max);
      es_axis_free(axis);
      return es__keyerr(ps, k, m);
    }
  }
  return ES_OK;
}

static char *es__strdup(const char *s) {
  char *d = malloc(strlen(s) + 1);
  if (d) strcpy(d, s);
  return d;
}

static void es__axis_text(es_strbuf *b, const char *key, const es_axis *a) {
  es_strbuf_printf(b, "%s = ", key);
  for (int64_t i = 0; i < a->n; i++) es_strbuf_printf(b, "%s%.17g", i ? ", " : "", a->v[i]);
  es_strbuf_printf(b, "\n");
}

/* Canonical form: parsed values of every key that changes a number of the output.
 * name and output only say where, so they are left out, and so is networks: the first M
 * networks of a point never depend on M. networks_per_task is in it when set: its blocks of
 * networks are combined in order, so it changes the last bits. */
static es_status es__canonical(es_job *j) {
  es_strbuf b = {0};
  es_strbuf_printf(&b, "# edgesweep canonical job v1\n[run]\nseed = %llu\n",
                   (unsigned long long)j->seed);
  es_strbuf_printf(&b, "[network]\narchitecture = %s\nactivation = %s\n", es_arch_name(j->arch),
                   j->act->name);
  es_strbuf_printf(&b, "leak = %.17g\nnoise = %.17g\nq0 = %.17g\nc0 = %.17g\n[grid]\n", j->leak,
                   j->noise, j->q0, j->c0);
  es__axis_text(&b, "sigma_w2", &j->sigma_w2);
  es__axis_text(&b, "sigma_b2", &j->sigma_b2);
  es__axis_text(&b, "depth", &j->depth);
  es__axis_text(&b, "width", &j->width);
  /* networks is left out: more networks continue the same job (a resume adds them). */
  es_strbuf_printf(&b, "[ensemble]\nmethod = %s\n", es_method_name(j->method));
  /* Only when set, so that a job without lags keeps its identity. */
  for (int64_t i = 0; i < j->nlags; i++)
    es_strbuf_printf(&b, "%s%lld%s", i ? ", " : "lags = ", (long long)j->lags[i],
                     i + 1 == j->nlags ? "\n" : "");
  if (j->networks_per_task > 0)
    es_strbuf_printf(&b, "networks_per_task = %lld\n", (long long)j->networks_per_task);
  if (b.failed || !b.s) {
    es_strbuf_free(&b);
    es_error_set("out of memory building the canonical job");
    return ES_ERR_NOMEM;
  }
  j->canonical = b.s;
  es_sha256_hex(b.s, b.len, j->sha256);
  return ES_OK;
}

static es_status es__apply_set(es__parse *ps, const char *whole) {
  char text[200]; /* for messages: a long value loses its middle */
  es_elide(text, sizeof text, whole);
  const char *dot = strchr(whole, '.');
  const char *eq = strchr(whole, '=');
  if (!dot || !eq || dot > eq) {
    es_error_set("--set %s: expected section.key=value", text);
    return ES_ERR_INPUT;
  }
  char section[64], key[64];
  size_t ls = (size_t)(dot - whole), lk = (size_t)(eq - dot - 1);
  if (ls == 0 || ls >= sizeof section || lk == 0 || lk >= sizeof key) {
    es_error_set("--set %s: expected section.key=value", text);
    return ES_ERR_INPUT;
  }
  memcpy(section, whole, ls);
  section[ls] = '\0';
  memcpy(key, dot + 1, lk);
  key[lk] = '\0';
  const char *value = eq + 1;
  while (isspace((unsigned char)*value)) value++;
  ps->st = ES_OK;
  if (es__store(ps, section, key, value, 0, 1) != ES_OK) {
    es_error_set("--set %s: %s", text, strstr(ps->err, ": ") ? strstr(ps->err, ": ") + 2 : ps->err);
    return ps->st;
  }
  return ES_OK;
}

static es_status es__convert(const es__parse *ps, es_job *j) {
  int e;
  int64_t i64;
  ES_CALL(es__conv_enum(ps, es__find_key("network", "architecture"), &e));
  j->arch = (es_arch)e;
  ES_CALL(es__conv_enum(ps, es__find_key("network", "activation"), &e));
  j->act = es_activation_get((es_act_id)e);
  ES_CALL(es__conv_enum(ps, es__find_key("ensemble", "method"), &e));
  j->method = (es_method)e;
  ES_CALL(es__conv_double(ps, es__find_key("network", "leak"), &j->leak));
  ES_CALL(es__conv_double(ps, es__find_key("network", "noise"), &j->noise));
  ES_CALL(es__conv_double(ps, es__find_key("network", "q0"), &j->q0));
  ES_CALL(es__conv_double(ps, es__find_key("network", "c0"), &j->c0));
  ES_CALL(es__conv_int(ps, es__find_key("run", "seed"), &i64, 1));
  j->seed = (uint64_t)i64;
  ES_CALL(es__conv_int(ps, es__find_key("ensemble", "networks"), &j->networks, 0));
  ES_CALL(
      es__conv_int(ps, es__find_key("ensemble", "networks_per_task"), &j->networks_per_task, 0));
  ES_CALL(es__conv_axis(ps, es__find_key("grid", "sigma_w2"), &j->sigma_w2));
  ES_CALL(es__conv_axis(ps, es__find_key("grid", "sigma_b2"), &j->sigma_b2));
  ES_CALL(es__conv_axis(ps, es__find_key("grid", "depth"), &j->depth));
  ES_CALL(es__conv_axis(ps, es__find_key("grid", "width"), &j->width));
  int klags = es__find_key("ensemble", "lags");
  if (*es__value(ps, klags)) {
    es_axis lags = {0};
    ES_CALL(es__conv_axis(ps, klags, &lags));
    j->lags = malloc((size_t)lags.n * sizeof *j->lags);
    if (!j->lags) {
      es_axis_free(&lags);
      es_error_set("out of memory");
      return ES_ERR_NOMEM;
    }
    j->nlags = lags.n;
    for (int64_t i = 0; i < lags.n; i++) j->lags[i] = (int64_t)lags.v[i];
    es_axis_free(&lags);
    const int64_t tmax = (int64_t)j->depth.v[j->depth.n - 1];
    if (j->lags[j->nlags - 1] >= tmax) {
      char m[200];
      snprintf(m, sizeof m,
               "lag %lld reaches before layer 1 at every recorded depth (deepest %lld)",
               (long long)j->lags[j->nlags - 1], (long long)tmax);
      return es__keyerr(ps, klags, m);
    }
  }

  int kname = es__find_key("run", "name"), kout = es__find_key("run", "output");
  const char *name = es__value(ps, kname);
  if (!*name) return es__keyerr(ps, kname, "must not be empty");
  for (const char *c = name; *c; c++)
    if (*c == '/' || iscntrl((unsigned char)*c))
      return es__keyerr(ps, kname, "must not contain '/' or control characters");
  j->name = es__strdup(name);
  const char *out = es__value(ps, kout);
  if (*out) {
    j->output = es__strdup(out);
  } else if (j->name) {
    j->output = malloc(strlen(name) + 4);
    if (j->output) sprintf(j->output, "%s.h5", name);
  }
  if (!j->name || !j->output) {
    es_error_set("out of memory");
    return ES_ERR_NOMEM;
  }

  /* Combinations the engine cannot run (yet) are input errors, found before any work. */
  int kmeth = es__find_key("ensemble", "method");
  if (j->method == ES_METHOD_AUTO)
    j->method = j->arch == ES_ARCH_RECURRENT ? ES_METHOD_DENSE : ES_METHOD_GRAM;
  if (j->arch == ES_ARCH_RECURRENT && j->method == ES_METHOD_GRAM)
    return es__keyerr(ps, kmeth,
                      "gram sampling is exact only for fresh weights per layer; "
                      "recurrent networks need method = dense");
  return ES_OK;
}

es_status es_job_parse(const char *path, const char *text, const es_override *sets, int nsets,
                       es_job **job) {
  *job = NULL;
  es__parse *ps = calloc(1, sizeof *ps);
  es_job *j = calloc(1, sizeof *j);
  if (!ps || !j) {
    free(ps);
    free(j);
    es_error_set("out of memory");
    return ES_ERR_NOMEM;
  }
  ps->path = path;
  ps->text = ps->pos = text;
  ps->last_key = -1;
  int rc = ini_parse_stream(es__reader, ps, es__handler, ps);
  es_status st = ES_OK;
  if (ps->long_line) {
    es_error_set(
        "%s:%d: line longer than %d characters (go on with the value on indented "
        "lines below it)",
        path, ps->long_line, INI_MAX_LINE - 2);
    st = ES_ERR_INPUT;
  } else if (ps->st != ES_OK) {
    es_error_set("%s", ps->err);
    st = ps->st;
  } else if (rc != 0) {
    es_error_set("%s:%d: not INI syntax (expected [section] or key = value)", path, rc);
    st = ES_ERR_INPUT;
  }
  for (int i = 0; st == ES_OK && i < nsets; i++) st = es__apply_set(ps, sets[i].text);
  if (st == ES_OK) {
    j->path = es__strdup(path);
    j->text = es__strdup(text);
    st = (j->path && j->text) ? es__convert(ps, j) : ES_ERR_NOMEM;
  }
  if (st == ES_OK) st = es__canonical(j);
  for (int i = 0; i < ES__NKEYS; i++) free(ps->raw[i].value);
  free(ps);
  if (st != ES_OK) {
    es_job_destroy(&j);
    return st;
  }
  *job = j;
  return ES_OK;
}

es_status es_job_load(const char *path, const es_override *sets, int nsets, es_job **job) {
  *job = NULL;
  FILE *f = fopen(path, "rb");
  ES_CHECK(f, ES_ERR_INPUT, "%s: cannot open the job file: %s", path, strerror(errno));
  es_strbuf b = {0};
  char chunk[4096];
  size_t n;
  es_strbuf_printf(&b, "%s", "");
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (memchr(chunk, '\0', n)) {
      fclose(f);
      es_strbuf_free(&b);
      es_error_set("%s: not a text file (contains NUL bytes)", path);
      return ES_ERR_INPUT;
    }
    es_strbuf_printf(&b, "%.*s", (int)n, chunk);
    if (b.len > (1u << 20)) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad || b.failed) {
    es_strbuf_free(&b);
    es_error_set("%s: cannot read the job file", path);
    return ES_ERR_INPUT;
  }
  if (b.len > (1u << 20)) {
    es_strbuf_free(&b);
    es_error_set("%s: job file larger than 1 MiB", path);
    return ES_ERR_INPUT;
  }
  es_status st = es_job_parse(path, b.s, sets, nsets, job);
  es_strbuf_free(&b);
  return st;
}

void es_job_destroy(es_job **job) {
  if (!job || !*job) return;
  es_job *j = *job;
  free(j->path);
  free(j->text);
  free(j->canonical);
  free(j->name);
  free(j->output);
  es_axis_free(&j->sigma_w2);
  es_axis_free(&j->sigma_b2);
  es_axis_free(&j->depth);
  es_axis_free(&j->width);
  free(j->lags);
  free(j);
  *job = NULL;
}

const char *es_arch_name(es_arch a) { return a == ES_ARCH_RECURRENT ? "recurrent" : "feedforward"; }

const char *es_method_name(es_method m) {
  return m == ES_METHOD_GRAM ? "gram" : m == ES_METHOD_DENSE ? "dense" : "auto";
}

void es_job_print_keys(FILE *f) {
  const char *sec = "";
  for (int i = 0; i < ES__NKEYS; i++) {
    const es__keydef *d = &es__keys[i];
    if (strcmp(sec, d->section) != 0) fprintf(f, "%s[%s]\n", i ? "\n" : "", sec = d->section);
    fprintf(f, "# %s\n", d->help);
    if (d->choices) fprintf(f, "# one of: %s\n", d->choices);
    /* The parser takes no inline comments, so "required" stands on a line of its own: the
     * printed file is a valid job once the required values are filled in. */
    if (!d->def) fprintf(f, "# required: fill in a value\n");
    fprintf(f, "%s = %s\n", d->key, d->def ? d->def : "");
  }
}
