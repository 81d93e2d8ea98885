/* PLACEHOLDER: the dense method is being written (issue 6). */
#include <stdlib.h>

#include "ensemble_impl.h"

struct es__dense {
  int unused;
};

es_status es__dense_create(const es_ensemble_params *p, es__dense **d) {
  (void)p;
  *d = NULL;
  es_error_set("the dense method is not implemented yet");
  return ES_ERR_INTERNAL;
}

void es__dense_destroy(es__dense **d) {
  if (d && *d) {
    free(*d);
    *d = NULL;
  }
}

es_status es__dense_network(es__dense *d, int64_t network, double *out) {
  (void)d;
  (void)network;
  (void)out;
  return ES_ERR_INTERNAL;
}
