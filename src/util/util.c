#define _POSIX_C_SOURCE 200809L
#include "edgesweep/util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const es__names[] = {
#define ES__NAME(code, msg) #code,
    ES_STATUS_MAP(ES__NAME)
#undef ES__NAME
};
static const char *const es__msgs[] = {
#define ES__MSG(code, msg) msg,
    ES_STATUS_MAP(ES__MSG)
#undef ES__MSG
};

const char *es_status_name(es_status s) {
  return (s >= 0 && s < ES_STATUS_COUNT) ? es__names[s] : "ES_UNKNOWN";
}

const char *es_status_str(es_status s) {
  return (s >= 0 && s < ES_STATUS_COUNT) ? es__msgs[s] : "unknown status";
}

static char es__errbuf[4096];

/* A message longer than the buffer loses its middle, not its end: the reason comes last. The
 * arguments may point into the buffer itself (es_error_set("%s", es_error_msg())). */
void es_error_set(const char *fmt, ...) {
  va_list ap, aq;
  va_start(ap, fmt);
  va_copy(aq, ap);
  char small[sizeof es__errbuf];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n < sizeof small) {
    memcpy(es__errbuf, small, (size_t)n + 1);
  } else {
    char *big = malloc((size_t)n + 1);
    if (big) {
      vsnprintf(big, (size_t)n + 1, fmt, aq);
      es_elide(es__errbuf, sizeof es__errbuf, big);
      free(big);
    } else {
      memcpy(es__errbuf, small, sizeof small);
    }
  }
  va_end(aq);
}

void es_elide(char *dst, size_t n, const char *s) {
  const size_t len = strlen(s);
  if (n == 0) return;
  if (len < n) {
    memmove(dst, s, len + 1);
    return;
  }
  char mid[48];
  int m = snprintf(mid, sizeof mid, " [... %zu characters ...] ", len);
  if (m < 0 || (size_t)m + 2 >= n) {
    snprintf(dst, n, "%s", s + len - (n - 1));
    return;
  }
  const size_t room = n - 1 - (size_t)m, head = room / 3, tail = room - head;
  char *t = malloc(n);
  if (!t) {
    memmove(dst, s, n - 1);
    dst[n - 1] = '\0';
    return;
  }
  memcpy(t, s, head);
  memcpy(t + head, mid, (size_t)m);
  memcpy(t + head + m, s + len - tail, tail);
  t[n - 1] = '\0';
  memcpy(dst, t, n);
  free(t);
}

const char *es_error_msg(void) { return es__errbuf; }

double es_wtime(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double es_cputime(void) {
  struct timespec t;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) return es_wtime();
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void es_timestamp(char *buf, size_t len) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

uint64_t es_mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t es_double_bits(double x) {
  uint64_t u;
  if (x == 0.0) x = 0.0; /* -0 and +0 are the same grid value */
  memcpy(&u, &x, sizeof u);
  return u;
}

void es_sum_init(es_sum *s) {
  s->h = 0x6564676573756d31ULL;
  s->n = 0;
}

static void es__sum_word(es_sum *s, uint64_t w) { s->h = es_mix64(s->h ^ es_mix64(w + s->n++)); }

void es_sum_f64(es_sum *s, const double *v, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    uint64_t u; /* the bits as stored: -0, NaN payloads and all */
    memcpy(&u, &v[i], sizeof u);
    es__sum_word(s, u);
  }
}

void es_sum_i64(es_sum *s, const int64_t *v, int64_t n) {
  for (int64_t i = 0; i < n; i++) es__sum_word(s, (uint64_t)v[i]);
}

uint64_t es_sum_final(const es_sum *s) {
  uint64_t h = es_mix64(s->h ^ s->n);
  return h ? h : 1;
}

void *es_calloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) es_error_set("out of memory allocating %zu x %zu bytes", n, size);
  return p;
}

void es_strbuf_printf(es_strbuf *b, const char *fmt, ...) {
  if (b->failed) return;
  for (;;) {
    size_t room = b->cap - b->len;
    va_list ap;
    va_start(ap, fmt);
    int n = b->s ? vsnprintf(b->s + b->len, room, fmt, ap) : -2;
    va_end(ap);
    if (n >= 0 && (size_t)n < room) {
      b->len += (size_t)n;
      return;
    }
    if (n == -1) {
      b->failed = 1;
      return;
    }
    size_t need = b->len + (n > 0 ? (size_t)n : 0) + 256;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
      b->failed = 1;
      return;
    }
    b->s = s;
    b->cap = cap;
    if (b->len == 0) b->s[0] = '\0';
  }
}

void es_strbuf_free(es_strbuf *b) {
  free(b->s);
  b->s = NULL;
  b->len = b->cap = 0;
  b->failed = 0;
}

/* SHA-256 (FIPS 180-4), straightforward and unoptimised: it hashes job texts only. */
static const uint32_t es__k256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ES__ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void es__sha256_block(uint32_t h[8], const unsigned char *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
           (uint32_t)p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ES__ROR(w[i - 15], 7) ^ ES__ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ES__ROR(w[i - 2], 17) ^ ES__ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t S1 = ES__ROR(e, 6) ^ ES__ROR(e, 11) ^ ES__ROR(e, 25);
    uint32_t ch = (e & f) ^ (~e & g);
    uint32_t t1 = k + S1 + ch + es__k256[i] + w[i];
    uint32_t S0 = ES__ROR(a, 2) ^ ES__ROR(a, 13) ^ ES__ROR(a, 22);
    uint32_t mj = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = S0 + mj;
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += k;
}

void es_sha256_hex(const void *data, size_t len, char hex[65]) {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  const unsigned char *p = data;
  size_t full = len / 64;
  for (size_t i = 0; i < full; i++) es__sha256_block(h, p + 64 * i);
  unsigned char tail[128] = {0};
  size_t rem = len - 64 * full;
  memcpy(tail, p + 64 * full, rem);
  tail[rem] = 0x80;
  size_t tl = (rem + 9 <= 64) ? 64 : 128;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) tail[tl - 1 - i] = (unsigned char)(bits >> (8 * i));
  es__sha256_block(h, tail);
  if (tl == 128) es__sha256_block(h, tail + 64);
  for (int i = 0; i < 8; i++) snprintf(hex + 8 * i, 9, "%08x", h[i]);
  hex[64] = '\0';
}

/* Optimal-string-alignment distance, stopping early past LIMIT; words are short (keys,
 * commands, options), so two rows of a fixed size suffice and longer words never match. */
static int es__edit_distance(const char *a, const char *b, int limit) {
  enum { MAXW = 64 };
  size_t la = strlen(a), lb = strlen(b);
  if (la >= MAXW || lb >= MAXW) return limit + 1;
  int d[3][MAXW + 1]; /* rows i-2, i-1, i (mod 3) */
  for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    int *r = d[i % 3], *p = d[(i + 2) % 3], *pp = d[(i + 1) % 3];
    r[0] = (int)i;
    int best = r[0];
    for (size_t j = 1; j <= lb; j++) {
      int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
      int v = p[j - 1] + (ca != cb);
      if (p[j] + 1 < v) v = p[j] + 1;
      if (r[j - 1] + 1 < v) v = r[j - 1] + 1;
      if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
          tolower((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1 < v)
        v = pp[j - 2] + 1;
      r[j] = v;
      if (v < best) best = v;
    }
    if (best > limit) return limit + 1;
  }
  return d[la % 3][lb];
}

const char *es_suggest(const char *word, const char *const *candidates, size_t n) {
  size_t len = strlen(word);
  int limit = len <= 4 ? 1 : len <= 8 ? 2 : 3, best = limit + 1;
  const char *pick = NULL;
  for (size_t i = 0; i < n; i++) {
    int dist = es__edit_distance(word, candidates[i], limit);
    if (dist < best) best = dist, pick = candidates[i];
  }
  return pick;
}
