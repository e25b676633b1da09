/*
 * statelog_int.h — internals shared by statelog.c (open, migrations, writes),
 * statelog_read.c (reads) and statelog_status.c (JSON). Not for other modules.
 *
 * The handle owns one sqlite3 connection and a cache of prepared statements,
 * indexed by enum sl_stmt_id and prepared on first use. Thread: as the handle.
 */
#ifndef ZETL_STATELOG_INT_H
#define ZETL_STATELOG_INT_H

#include <sqlite3.h>

#include "runtime/statelog.h"

enum sl_stmt_id {
    SQ_INTEG_UPSERT, SQ_INTEG_POSITION, SQ_INTEG_STATE_GET, SQ_INTEG_STATE_SET,
    SQ_INTEG_LAG_SET,
    SQ_TABLE_UPSERT, SQ_TABLE_ADD, SQ_TABLE_STATE_GET, SQ_TABLE_STATE_SET,
    SQ_ACTIVITY_INSERT, SQ_LAG_INSERT, SQ_EVENT_INSERT,
    SQ_CMD_INSERT, SQ_CMD_PENDING, SQ_CMD_CLAIM, SQ_CMD_GET, SQ_CMD_DONE,
    SQ_PRUNE_ROLLUP, SQ_PRUNE_RAW, SQ_PRUNE_ROLLUPS, SQ_PRUNE_EVENTS,
    SQ_PRUNE_ACTIVITY, SQ_PRUNE_COMMANDS,
    SQ_DEL_TABLES, SQ_DEL_INTEG, SQ_DEL_ACTIVITY, SQ_DEL_LAG, SQ_DEL_ROLLUPS,
    SQ_DEL_COMMANDS,
    SQ_READ_INTEGS, SQ_READ_TABLES, SQ_READ_ACTIVITY, SQ_READ_LAG, SQ_READ_EVENTS,
    SQ_COUNT
};

struct statelog {
    sqlite3      *db;
    char         *path;
    sqlite3_stmt *stmt[SQ_COUNT];   /* prepared on first use, finalized on close */
    int           txdepth;          /* nesting of sl_tx_begin, 0 = autocommit */
    unsigned      since_prune;      /* record calls since the last prune */
    struct statelog_limits lim;
    char          err[256];
};

/* The cached statement `id`, reset and unbound; NULL (err set) on failure. */
sqlite3_stmt *sl_stmt(struct statelog *sl, enum sl_stmt_id id, const char *op);

/* err = "statelog: OP: <sqlite's message>"; returns -1. */
int  sl_fail(struct statelog *sl, const char *op);
/* err = "statelog: " + printf; returns -1. */
int  sl_failf(struct statelog *sl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Step a statement that returns no rows (or ignores them), then reset it. */
int  sl_step_done(struct statelog *sl, sqlite3_stmt *st, const char *op);

/* After a record call: run statelog_prune every lim.prune_every calls. A
 * failed prune is retried next time and never fails the record call. */
void sl_maybe_prune(struct statelog *sl);

/* Outermost: BEGIN IMMEDIATE (write) or BEGIN (read); nested: SAVEPOINT. */
int  sl_tx_begin(struct statelog *sl, int write, const char *op);
int  sl_tx_commit(struct statelog *sl, const char *op);
void sl_tx_rollback(struct statelog *sl);

/* Bind text or NULL; bind an int64, NULL when v < 0 (unknown) / v == 0 (time). */
int  sl_bind_text(sqlite3_stmt *st, int i, const char *s);
int  sl_bind_unknown(sqlite3_stmt *st, int i, int64_t v);
int  sl_bind_time(sqlite3_stmt *st, int i, int64_t v);

/* Column readers: a copy of the text (NULL for SQL NULL; sets *oom when a
 * copy fails), an integer with `dflt` for SQL NULL. */
char   *sl_col_str(sqlite3_stmt *st, int i, int *oom);
int64_t sl_col_i64(sqlite3_stmt *st, int i, int64_t dflt);

#endif
