/* h5out's internals shared by h5out.c (the writer) and verify.c (the checker). Private. */
#ifndef ES_H5OUT_IMPL_H
#define ES_H5OUT_IMPL_H

#include <hdf5.h>

#include "edgesweep/h5out.h"

/* Dataset DS's group, name, type ('f' f64, 'i' i64, 'u' u64, 'b' i8, 's' text) and axes
 * (letters: w sigma_w2, b sigma_b2, d depth, n width, t task, s statistic). */
void es__h5_def(es_dataset ds, const char **group, const char **name, char *type,
                const char **axes);

/* A string attribute as a malloc'ed string (NULL: absent or not a string). */
char *es__attr_get_str(hid_t obj, const char *name);

/* A scalar integer attribute into *V; 0 when absent or not exactly one integer. */
int es__attr_get_i64(hid_t obj, const char *name, int64_t *v);

#endif
