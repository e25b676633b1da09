/*
 * verify.h — compare an integration's target with its source, table by
 * table: counts and an exact, order-independent comparison of every row
 * (see verify.c for the method). Read-only on the source; on the target it
 * uses one scratch table in schema "zetl" at a time and drops it.
 * Thread: the caller's.
 */
#ifndef ZETL_VERIFY_H
#define ZETL_VERIFY_H

#include <stdio.h>

#include "config/config.h"

/*
 * Prints one line per table ("match" or "MISMATCH" with the counts and the
 * key range of the differences) to out. Returns the number of mismatched
 * tables (0 = exact match), or -1 with err set.
 */
int verify_integration(const struct config *cfg, const struct config_integration *ci,
                       const char *only_table, FILE *out, char *err, size_t errlen);

#endif
