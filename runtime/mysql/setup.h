/*
 * setup.h — the setup walkthrough's MySQL/MariaDB part: the methods
 * source_mysql_ops gives runtime/check/setup.c (see source_ops.h for what
 * each must do, and runtime/check/setup.h for the walkthrough). Read-only on
 * the server; no message holds a password. Thread: any but the console's:
 * each blocks on the network for up to its connect timeout.
 */
#ifndef ZETL_MYSQL_SETUP_H
#define ZETL_MYSQL_SETUP_H

#include <stddef.h>

#include "config/config.h"
#include "runtime/base/setupconn.h"

/* The connection test: out->where, then ok or the cause; the server's
 * version and databases. 0 when connected and every configured database
 * exists, -1 otherwise. */
int mysql_setup_test(const struct config_integration *in, int timeout_s, struct setup_conn *out);
/* The base tables of the configured databases, with primary-key status as
 * the runtime's loader reads it and the server's row estimate. 0 with *out
 * (free()) and *n, or -1 with err. */
int mysql_setup_list_tables(const struct config_integration *in, struct setup_table **out, int *n,
                            char *err, size_t errlen);
#endif
