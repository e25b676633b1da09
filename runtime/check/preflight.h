/*
 * preflight.h — `zetl check` and the console's `c`: every check of one
 * integration, printed (preflight_integration).
 *
 * The checks themselves live with each source and target
 * (runtime/mysql/preflight.c, runtime/pg/preflight.c,
 * runtime/check/setup_target.c, runtime/target/); each fills a report
 * (runtime/base/pfreport.h: items with the value found, the value required,
 * a status and the fixes), and this module runs all of an integration's,
 * once, for both `zetl check` and the console's `c`. An item never holds a
 * secret.
 *
 * Thread: the caller's; it blocks on the network (never the console thread).
 */
#ifndef ZETL_PREFLIGHT_H
#define ZETL_PREFLIGHT_H

#include <stdio.h>

#include "runtime/base/pfreport.h"

/*
 * Every check of one integration, printed to out as each part finishes:
 * the source (mysql_preflight / pg_preflight), its tables' target names
 * (skipped when the source cannot be reached), and the target: for
 * target_preflight where the driver has a check of its own (http: the
 * endpoint answers), else setup_target_test (a connection within
 * PREFLIGHT_TIMEOUT_S, may zetl create schemas and tables, zetl's own
 * schema and checkpoint table). A part that cannot run (unreachable) is one failure
 * naming host:port and the cause. Ends with the integration's totals.
 * `zetl check` and the console's `c` both call this and nothing else, so
 * the two cannot drift. *nfail, *nwarn (either may be NULL) get the totals;
 * returns 0 when nothing failed, 1 otherwise. Blocks on the network for up
 * to a few deadlines: never call it on the console thread.
 */
#define PREFLIGHT_TIMEOUT_S 10
struct config;
struct config_integration;
int preflight_integration(const struct config *cfg, const struct config_integration *in, FILE *out,
                          int *nfail, int *nwarn);

#endif
