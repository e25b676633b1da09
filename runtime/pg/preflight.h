/*
 * preflight.h (pg) — every requirement zetl has of a PostgreSQL source,
 * checked against the live server: version (pgoutput needs 10+), wal_level,
 * replication slots and WAL senders to spare, the user's REPLICATION right
 * (or rds_replication), a working replication connection (pg_hba.conf), the
 * slot (plugin, database, not lost), the publication: when it does not exist,
 * can zetl create it (CREATE on the database and ownership of every selected
 * table, else a FAIL naming the tables, their owner and the owner's
 * CREATE PUBLICATION statement); when it does, its operations, its tables and
 * its owner (a WARN when zetl cannot ALTER or DROP it), WAL retention, and for every selected
 * table a key that makes its updates and deletes replicable, a column to
 * replicate, and a target that can compute its STORED generated columns. Each item
 * carries the current value, the required value and the fix for a
 * self-managed server and for RDS/Aurora (runtime/base/pfreport.h).
 *
 * Read-only: SELECTs and IDENTIFY_SYSTEM only; nothing is created (on the
 * target, a temporary table in a transaction rolled back).
 * Secrets: the password is used for the connections and never appears in an
 * item or an error. Thread: any.
 */
#ifndef ZETL_PG_PREFLIGHT_H
#define ZETL_PG_PREFLIGHT_H

#include <stddef.h>

#include <libpq-fe.h>

#include "config/config.h"
#include "runtime/base/pfreport.h"

/*
 * A regular (replication = 0) or walsender (replication = 1, database mode)
 * connection to the source per its config: host, port, database, user,
 * password or password_command, tls → sslmode. NULL with err set on failure.
 */
PGconn *pg_source_connect(const struct config_source *s, int replication, char *err, size_t errlen);

/*
 * Fill r for integration in (a postgres source). Returns 0 when the checks
 * ran (r->nfail says whether they passed), -1 when the server could not be
 * reached or queried, with err set.
 */
int pg_preflight(const struct config_integration *in, struct pf_report *r, char *err, size_t errlen);

/*
 * The checks on an open SQL connection. repl_err: NULL when a replication
 * connection succeeded, else why it failed (the wrapper above tries one).
 */
int pg_preflight_conn(PGconn *sql, const struct config_integration *in, const char *repl_err,
                      struct pf_report *r, char *err, size_t errlen);

/*
 * The column checks of pg_preflight (preflight_cols.c), for each selected
 * table: load the source's columns once; pgpf_cols_kept counts a table's
 * columns left after tables.exclude_columns (*total: before), 0 meaning
 * it is excluded, not replicated; pgpf_cols_check_generated adds an item
 * per STORED generated column: PASS when a PostgreSQL target can create it
 * (tried in a temporary table, rolled back), FAIL naming the column and the
 * fix (exclude_columns) when it cannot or when it is a key column, WARN on a
 * Redshift/http target (not replicated). The target connection is opened
 * once, on first need, and closed by pgpf_cols_free.
 */
struct pgpf_cols {
    const struct config_integration *in;
    PGresult *r;                /* schema, table, column, generated, expr, type, key */
    PGconn   *tgt;
    int       tgt_tried;
    char      tgt_err[300];
};
int  pgpf_cols_load(struct pgpf_cols *c, PGconn *sql, const struct config_integration *in,
                    char *err, size_t errlen);
int  pgpf_cols_kept(const struct pgpf_cols *c, const char *schema, const char *name, int *total);
void pgpf_cols_check_generated(struct pgpf_cols *c, const char *schema, const char *name,
                               struct pf_report *rep);
void pgpf_cols_free(struct pgpf_cols *c);

#endif
