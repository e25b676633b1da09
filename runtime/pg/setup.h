/*
 * setup.h — the setup walkthrough's PostgreSQL part: the methods
 * source_pg_ops gives runtime/check/setup.c (see source_ops.h for what each
 * must do, and runtime/check/setup.h for the walkthrough). Read-only on the
 * server; no message holds a password. Thread: any but the console's: each
 * blocks on the network for up to libpq's connect timeout.
 */
#ifndef ZETL_PG_SETUP_H
#define ZETL_PG_SETUP_H

#include <stddef.h>

#include "config/config.h"
#include "runtime/base/setupconn.h"

/* The connection test: out->where, then ok or the cause (an unknown
 * database lists those the user could pick); the server's version and
 * schemas. timeout_s is libpq's (connect_timeout). 0 when connected and
 * every configured schema exists, -1 otherwise. */
int pg_setup_test(const struct config_integration *in, int timeout_s, struct setup_conn *out);
/* The base tables of the configured schemas, with primary-key status,
 * replica identity and the server's row estimate. 0 with *out (free()) and
 * *n, or -1 with err. */
int pg_setup_list_tables(const struct config_integration *in, struct setup_table **out, int *n,
                         char *err, size_t errlen);
#endif
