/*
 * preflight.h (mysql) — every requirement zetl has of a MySQL/MariaDB source,
 * checked against the live server: flavour and version, the binlog settings
 * (log_bin, binlog_format, binlog_row_image, binlog_row_metadata,
 * binlog_transaction_compression, binlog_row_value_options, retention),
 * server_id, the user's privileges, the configured databases, and a primary
 * key on every selected table. Each item carries the current value, the
 * required value and the fix for a self-managed server and for RDS/Aurora.
 *
 * It asks no more than zetl itself needs: keys come from the catalog rows
 * the runtime's loader reads (mysql_schema_keyed_load), visible to a user
 * with only SELECT; a GRANT fix names the account the server matched
 * (CURRENT_USER()), quoted, not the configured user at '%'.
 *
 * Read-only: it runs SHOW and SELECT statements only. Thread: any.
 */
#ifndef ZETL_MYSQL_PREFLIGHT_H
#define ZETL_MYSQL_PREFLIGHT_H

#include <stddef.h>

#include "config/config.h"
#include "runtime/base/pfreport.h"

/*
 * Fill r (subject and items) for integration in. Returns 0 when the checks
 * ran (r->nfail says whether they passed), -1 when the server could not be
 * reached or queried, with err set (the connection error names the cause).
 */
int mysql_preflight(const struct config_integration *in, struct pf_report *r,
                    char *err, size_t errlen);

#endif
