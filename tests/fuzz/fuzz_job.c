/* libFuzzer target: the job parser and grid expressions must reject any input cleanly (a
 * status and a message, never a crash, a leak or undefined behaviour). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgesweep/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  /* The whole input as a job file, with and without an override. */
  es_job *j = NULL;
  if (es_job_parse("fuzz.ini", text, NULL, 0, &j) == ES_OK) es_job_destroy(&j);
  es_override o = {"grid.depth=1, 2"};
  if (es_job_parse("fuzz.ini", text, &o, 1, &j) == ES_OK) es_job_destroy(&j);
  /* Its first line as a grid expression, integer and real. */
  char *nl = strchr(text, '\n');
  if (nl) *nl = '\0';
  es_axis a;
  if (es_axis_parse(text, 1, &a) == ES_OK) es_axis_free(&a);
  if (es_axis_parse(text, 0, &a) == ES_OK) es_axis_free(&a);
  free(text);
  return 0;
}
