/* PLACEHOLDER being replaced by the MFT work (issue 4) in this session. */
#include "edgesweep/mft.h"
#include <math.h>
const char *es_phase_name(es_phase p) { (void)p; return "unknown"; }
es_status es_mft_fixed_point(const es_mft_params *p, es_mft_point *out) {
  (void)p; (void)out; es_error_set("mft not implemented"); return ES_ERR_INTERNAL; }
es_status es_mft_critical(const es_mft_params *p, double *s, char reason[96]) {
  (void)p; (void)reason; *s = NAN; es_error_set("mft not implemented"); return ES_ERR_INTERNAL; }
es_status es_mft_trajectory(const es_mft_params *p, int T, double *q, double *c, double *l) {
  (void)p; (void)T; (void)q; (void)c; (void)l; es_error_set("mft not implemented"); return ES_ERR_INTERNAL; }
