/* util: status codes, error propagation, messages, timers, hashing.
 *
 * The lowest layer. Everything above returns es_status and records a message with
 * es_error_set(); only the driver and main decide what to print and how to exit.
 * No MPI, no HDF5, no abort.
 */
#ifndef EDGESWEEP_UTIL_H
#define EDGESWEEP_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* One table for codes, names and messages (libuv UV_ERRNO_MAP style). */
#define ES_STATUS_MAP(X)                 \
  X(ES_OK, "ok")                         \
  X(ES_ERR_INPUT, "bad input")           \
  X(ES_ERR_IO, "input/output error")     \
  X(ES_ERR_NOMEM, "out of memory")       \
  X(ES_ERR_NUMERIC, "numerical failure") \
  X(ES_ERR_MPI, "MPI error")             \
  X(ES_ERR_HDF5, "HDF5 error")           \
  X(ES_ERR_STOPPED, "stopped by signal") \
  X(ES_ERR_INTERNAL, "internal error")

typedef enum {
#define ES__ENUM(code, msg) code,
  ES_STATUS_MAP(ES__ENUM)
#undef ES__ENUM
      ES_STATUS_COUNT
} es_status;

/* Name ("ES_ERR_INPUT") and short description of a status. Never NULL. */
const char *es_status_name(es_status s);
const char *es_status_str(es_status s);

/* The last error message of this thread of control (one per process: the engine is
 * single-threaded per rank). es_error_set formats it; es_error_msg reads it. */
void es_error_set(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
const char *es_error_msg(void);

/* Copy S into DST (N bytes), dropping its middle when it does not fit: "head [... L
 * characters ...] tail", so that a long value keeps its start and the message its end. */
void es_elide(char *dst, size_t n, const char *s);

/* Propagate a non-OK status to the caller. */
#define ES_CALL(expr)                 \
  do {                                \
    es_status es__s = (expr);         \
    if (es__s != ES_OK) return es__s; \
  } while (0)

/* Fail with CODE and a formatted message when COND is false. The format is part of
 * the variadic arguments so no GNU extension is needed. */
#define ES_CHECK(cond, code, ...) \
  do {                            \
    if (!(cond)) {                \
      es_error_set(__VA_ARGS__);  \
      return (code);              \
    }                             \
  } while (0)

/* Wall-clock seconds since an arbitrary origin (monotonic). */
double es_wtime(void);

/* CPU seconds of the calling thread (es_wtime when the clock is missing): what a piece of
 * work costs, whatever share of the cores it got. */
double es_cputime(void);

/* ISO 8601 UTC time stamp of now into buf (>= 21 bytes). */
void es_timestamp(char *buf, size_t len);

/* SHA-256 of a byte string as 64 lowercase hex digits plus NUL into hex[65]. */
void es_sha256_hex(const void *data, size_t len, char hex[65]);

/* 64-bit mixing function (splitmix64 finaliser): used to key random streams. */
uint64_t es_mix64(uint64_t x);

/* Bits of a double as an integer (for hashing exact values). */
uint64_t es_double_bits(double x);

/* The candidate closest to WORD by edit distance (insertions, deletions, substitutions and
 * swaps of neighbours, case-insensitive), if it is close enough to be a likely typo (at most
 * 1 edit for words up to 4 characters, 2 up to 8, 3 beyond); NULL otherwise. For "did you
 * mean" hints. Not collective. */
const char *es_suggest(const char *word, const char *const *candidates, size_t n);

/* Checksum of stored values (/run/checksum, README "Integrity"): a 64-bit hash chained over
 * the exact bits of each value in a fixed order, the same on every machine and rank count.
 * Not cryptographic: it catches damage, not forgery. es_sum_final never returns 0, which the
 * files use for "no checksum". */
typedef struct {
  uint64_t h, n;
} es_sum;
void es_sum_init(es_sum *s);
void es_sum_f64(es_sum *s, const double *v, int64_t n);
void es_sum_i64(es_sum *s, const int64_t *v, int64_t n);
uint64_t es_sum_final(const es_sum *s);

/* calloc that never returns NULL silently: NULL plus an error message. */
void *es_calloc(size_t n, size_t size);

/* A growable string buffer, used to build canonical texts and messages. */
typedef struct {
  char *s;
  size_t len, cap;
  int failed; /* set when an allocation failed: the text is then incomplete */
} es_strbuf;

void es_strbuf_printf(es_strbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void es_strbuf_free(es_strbuf *b);

#define ES_PI 3.14159265358979323846

/* Room for a reason (why a value is NaN, why a point was flagged), the terminating NUL
 * included: longer texts are cut. */
#define ES_REASON_LEN 96

#endif
