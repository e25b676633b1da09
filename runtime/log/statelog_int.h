/*
 * statelog_int.h — internals shared by the state log's files: statelog.c (the
 * connection: its file, migrations, statements, errors, transactions),
 * statelog_heal.c (healing, under it only statelog.c), statelog_handle.c
 * (open, close, pruning), statelog_write.c, statelog_copy.c, statelog_read.c,
 * statelog_runner.c and statelog_status.c. Not for other modules.
 *
 * The handle owns one sqlite3 connection and a cache of prepared statements,
 * indexed by enum sl_stmt_id and prepared on first use. Thread: as the handle.
 */
#ifndef ZETL_STATELOG_INT_H
#define ZETL_STATELOG_INT_H

#include <sqlite3.h>
#include <sys/types.h>

#include "runtime/log/statelog.h"

enum sl_stmt_id {
    SQ_INTEG_UPSERT, SQ_INTEG_POSITION, SQ_INTEG_STATE_GET, SQ_INTEG_STATE_SET,
    SQ_INTEG_LAG_SET, SQ_INTEG_WAIT_SET, SQ_INTEG_RETRY_SET,
    SQ_TABLE_UPSERT, SQ_TABLE_ADD, SQ_TABLE_STATE_GET, SQ_TABLE_STATE_SET,
    SQ_TABLE_COPY_BEGIN, SQ_TABLE_COPY_ROWS, SQ_TABLE_COPY_EST, SQ_TABLE_COPY_ADD,
    SQ_ACTIVITY_INSERT, SQ_LAG_INSERT, SQ_EVENT_INSERT,
    SQ_CMD_INSERT, SQ_CMD_PENDING, SQ_CMD_CLAIM, SQ_CMD_GET, SQ_CMD_DONE, SQ_CMD_ENDING,
    SQ_PRUNE_ROLLUP, SQ_PRUNE_RAW, SQ_PRUNE_ROLLUPS, SQ_PRUNE_EVENTS,
    SQ_PRUNE_ACTIVITY, SQ_PRUNE_COMMANDS,
    SQ_DEL_TABLES, SQ_DEL_INTEG, SQ_DEL_ACTIVITY, SQ_DEL_LAG, SQ_DEL_ROLLUPS,
    SQ_DEL_COMMANDS,
    SQ_READ_INTEGS, SQ_READ_TABLES, SQ_READ_ACTIVITY, SQ_READ_LAG, SQ_READ_EVENTS,
    SQ_INTEG_BASIS_GET, SQ_INTEG_BASIS_SET, SQ_TABLE_LAG_BASIS, SQ_INTEG_SOURCE_SET,
    SQ_INTEG_HA_SET, SQ_COUNT
};

/* What a failed SQLite call says about the file (set by sl_fail). */
enum sl_bad { SL_OK = 0, SL_CORRUPT, SL_MOVED };

/* The integration and table rows this handle wrote: their identity and state,
 * written again into a fresh log after a heal (statelog_heal.c). */
struct sl_memo_integ {
    char *name, *state, *reason, *source, *target, *position;
};
struct sl_memo_table {
    char *integration, *name, *target, *state, *reason;
};

struct statelog {
    sqlite3      *db;               /* NULL after a failed reopen: sl_enter retries */
    char         *path;
    sqlite3_stmt *stmt[SQ_COUNT];   /* prepared on first use, finalized on close */
    int           txdepth;          /* nesting of sl_tx_begin, 0 = autocommit */
    unsigned      since_prune;      /* record calls since the last prune */
    struct statelog_limits lim;
    dev_t         dev;              /* the file the connection opened, */
    ino_t         ino;              /* compared with the path's (0: unknown) */
    int64_t       next_check_ms;    /* monotonic ms of the next path check */
    enum sl_bad   bad;              /* set by sl_fail, cleared by a heal */
    unsigned      heals;            /* fresh logs this handle started or joined */
    struct sl_memo_integ *mig;      /* sorted by name */
    size_t        nmig;
    struct sl_memo_table *mtb;      /* sorted by (integration, name) */
    size_t        nmtb, capmtb;
    char          err[256];
};

/* The cached statement `id`, reset and unbound; NULL (err set) on failure. */
sqlite3_stmt *sl_stmt(struct statelog *sl, enum sl_stmt_id id, const char *op);

/* err = "statelog: OP: <sqlite's message>"; returns -1. Also sets sl->bad
 * when SQLite's error says the file is corrupt or was moved. */
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

/* The integration's lag basis and the time of its newest lag sample (0
 * none); *found 0 when there is no such integration. statelog_read.c. */
int  sl_read_basis(struct statelog *sl, const char *integration,
                   struct statelog_lag_basis *b, int64_t *last_sample, int *found);

/* ---- healing (statelog_heal.c) ---------------------------------------------
 * A public call runs as SL_RUN(sl, rc, expr): sl_enter first (outside a
 * caller's transaction: heal a file the last call found bad, and every
 * STATELOG_RECHECK_MS compare the path's inode with the open file's); then
 * expr; when expr failed on a corrupt or moved file, heal and run expr once
 * more, so the write lands in the fresh log instead of being lost. */
#define SL_RUN(sl, rc, expr) do {                                \
        if (sl_enter(sl) < 0) {                                  \
            (rc) = -1;                                           \
            break;                                               \
        }                                                        \
        (rc) = (expr);                                           \
        if ((rc) < 0 && sl_recover(sl))                          \
            (rc) = (expr);                                       \
    } while (0)

int  sl_enter(struct statelog *sl);
/* 1 when a failure was a bad file and the heal worked (run the call again). */
int  sl_recover(struct statelog *sl);
/* Move the bad file aside (SL_CORRUPT) or forget the replaced one (SL_MOVED),
 * open a fresh log at the path, write the memo into it, say so once. */
int  sl_heal(struct statelog *sl);

/* statelog.c: open the connection at sl->path (create, check, migrate,
 * remember the inode); close it. sl_conn_open leaves sl->bad set when the
 * file is corrupt (including a failed PRAGMA quick_check). */
int  sl_conn_open(struct statelog *sl);
void sl_conn_close(struct statelog *sl);
/* Create the file 0600 when missing, under the state directory's lock. */
int  sl_make_file(const char *path, char *err, size_t errlen);
/* The same, for a caller that holds the directory lock already. */
int  sl_create_locked(const char *path, char *err, size_t errlen);
int  sl_dir_lock(const char *path);          /* fd to pass to sl_dir_unlock, or -1 */
void sl_dir_unlock(int fd);
/* buf = path + suffix ("-wal", "-shm"). */
void sl_side_path(char *buf, size_t len, const char *path, const char *suffix);

/* The memo: record what a successful write set; forget a deleted integration. */
void sl_memo_integ(struct statelog *sl, const char *name, const char *state,
                   const char *reason, const char *source, const char *target,
                   const char *position, int set_endpoints);
void sl_memo_table(struct statelog *sl, const char *integration, const char *name,
                   const char *target, const char *state, const char *reason);
void sl_memo_forget(struct statelog *sl, const char *integration);
void sl_memo_free(struct statelog *sl);

#endif
