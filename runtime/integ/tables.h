/*
 * tables.h — what `zetl check` asks of the table list (tables.c): do the
 * selected tables get target names of their own (names.h)?
 *
 * integ_check_names reads the source catalog as the runtime does at start
 * (rename rules, the target's name length, exclude_columns) and adds to r one
 * FAIL item per refused table (two source tables with one target table, or
 * two columns with one target column: the item names both and the fix), or
 * one PASS item. 0, or -1 with err when the source could not be read.
 * Thread: the caller's; it opens and closes its own source connection.
 */
#ifndef ZETL_TABLES_H
#define ZETL_TABLES_H

#include <stddef.h>

#include "config/config.h"
#include "runtime/base/pfreport.h"

int integ_check_names(const struct config *root, const struct config_integration *ci,
                      struct pf_report *r, char *err, size_t errlen);

#endif
