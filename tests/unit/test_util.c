/* util: status table, SHA-256 against FIPS 180-4 vectors, string buffer, mixing. */
#include "edgesweep/util.h"

#include <string.h>

#include "es_test.h"

int main(void) {
  ASSERT_EQ_STR(es_status_name(ES_OK), "ES_OK");
  ASSERT_EQ_STR(es_status_name(ES_ERR_INPUT), "ES_ERR_INPUT");
  ASSERT_EQ_STR(es_status_str(ES_ERR_HDF5), "HDF5 error");
  ASSERT_EQ_STR(es_status_name((es_status)999), "ES_UNKNOWN");

  char hex[65];
  es_sha256_hex("", 0, hex);
  ASSERT_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  es_sha256_hex("abc", 3, hex);
  ASSERT_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  es_sha256_hex(m448, strlen(m448), hex);
  ASSERT_EQ_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* One million 'a' (FIPS 180-2 appendix B.3): many blocks. */
  static char million[1000000];
  memset(million, 'a', sizeof million);
  es_sha256_hex(million, sizeof million, hex);
  ASSERT_EQ_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  /* Lengths around the padding boundary (55, 56, 64 bytes) must differ from each other. */
  char h55[65], h56[65];
  es_sha256_hex(million, 55, h55);
  es_sha256_hex(million, 56, h56);
  ASSERT(strcmp(h55, h56) != 0);

  es_strbuf b = {0};
  for (int i = 0; i < 1000; i++) es_strbuf_printf(&b, "%d,", i);
  ASSERT(!b.failed);
  ASSERT_EQ_INT(b.len, 3890);
  ASSERT(strncmp(b.s, "0,1,2,", 6) == 0);
  es_strbuf_free(&b);
  ASSERT(b.s == NULL);

  ASSERT(es_mix64(1) != es_mix64(2));
  ASSERT_EQ_INT(es_double_bits(-0.0), es_double_bits(0.0));

  /* Suggestions: one typo of each kind, case, and nothing for an unrelated word. */
  static const char *const keys[] = {"sigma_w2", "sigma_b2",          "depth", "width",
                                     "networks", "networks_per_task", "run",   "check"};
  const size_t nk = sizeof keys / sizeof keys[0];
  ASSERT_EQ_STR(es_suggest("widht", keys, nk), "width");        /* swap */
  ASSERT_EQ_STR(es_suggest("dept", keys, nk), "depth");         /* deletion */
  ASSERT_EQ_STR(es_suggest("networkss", keys, nk), "networks"); /* insertion */
  ASSERT_EQ_STR(es_suggest("sigma_w3", keys, nk), "sigma_w2");  /* substitution */
  ASSERT_EQ_STR(es_suggest("DEPTH", keys, nk), "depth");        /* case */
  ASSERT_EQ_STR(es_suggest("rnu", keys, nk), "run");
  ASSERT(es_suggest("seed", keys, nk) == NULL);
  ASSERT(es_suggest("xyz", keys, nk) == NULL);
  ASSERT(es_suggest("", keys, nk) == NULL);
  char longword[200];
  memset(longword, 'a', sizeof longword - 1);
  longword[sizeof longword - 1] = '\0';
  ASSERT(es_suggest(longword, keys, nk) == NULL);

  es_error_set("x=%d", 42);
  ASSERT_EQ_STR(es_error_msg(), "x=42");
  ES_TEST_END();
}
