/* grid: sweep axes from expressions, and the point numbering of a sweep.
 *
 * An axis is a sorted list of distinct values, written in a job as a list "1, 2, 4" or one
 * of linspace(a, b, n), logspace(a, b, n), range(a, b[, step]) with numpy's meaning.
 * A simulation point is (sigma_w2, sigma_b2, width); every recorded depth comes from one
 * simulation to the deepest depth. Not collective; no state.
 */
#ifndef EDGESWEEP_GRID_H
#define EDGESWEEP_GRID_H

#include <stdint.h>

#include "edgesweep/util.h"

typedef struct {
  int64_t n;
  double *v; /* n values, ascending, distinct */
} es_axis;

/* Largest number of values one axis may hold (checked, never truncated). */
#define ES_AXIS_MAX 1000000

/* Parse EXPR into AXIS. INTEGER requires every value to be an integer. On ES_ERR_INPUT
 * the message says what is wrong with the expression (the caller adds file/line/key). */
es_status es_axis_parse(const char *expr, int integer, es_axis *axis);

void es_axis_free(es_axis *axis);

/* Simulation points: index p <-> (iw, ib, in) in row-major order (sigma_w2 slowest). */
typedef struct {
  int64_t nw, nb, nd, nn;
} es_grid_shape;

static inline int64_t es_grid_npoints(const es_grid_shape *s) { return s->nw * s->nb * s->nn; }

static inline void es_grid_point(const es_grid_shape *s, int64_t p, int64_t *iw, int64_t *ib,
                                 int64_t *in) {
  *in = p % s->nn;
  *ib = (p / s->nn) % s->nb;
  *iw = p / (s->nn * s->nb);
}

#endif
