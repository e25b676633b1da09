/*
 * statelog_runner.c — the runners table and command expiry: who runs each
 * integration (its lock holder's record, read by runtime/log/liveness.c) and the
 * commands nobody was running to take. Contract: statelog.h ("runners").
 *
 * These calls run a few times a minute per integration (start, heartbeat,
 * stop, one read per status refresh), so their statements are prepared per
 * call rather than held in the handle's cache, which serves the hot path.
 */
#include "runtime/log/statelog_int.h"

#include <stdlib.h>
#include <string.h>

/* A statement prepared for this call only; NULL (err set) on failure. */
static sqlite3_stmt *prepare(struct statelog *sl, const char *sql, const char *op)
{
    sqlite3_stmt *st = NULL;

    if (!sl->db) {
        sl_failf(sl, "%s: not open", op);
        return NULL;
    }
    if (sqlite3_prepare_v2(sl->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sl_fail(sl, op);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static int record_runner(struct statelog *sl, const char *integration,
                         const struct statelog_runner *r)
{
    const char *op = "record runner";
    sqlite3_stmt *st;
    int rc;

    if (!integration)
        return sl_failf(sl, "%s: no integration name", op);
    st = prepare(sl,
                 "INSERT INTO runners (integration, pid, actor, started_at, seen_at, stopped_at)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                 " ON CONFLICT (integration) DO UPDATE SET pid = ?2, actor = ?3,"
                 "  started_at = ?4, seen_at = ?5, stopped_at = ?6", op);
    if (!st)
        return -1;
    sl_bind_text(st, 1, integration);
    sqlite3_bind_int64(st, 2, r->pid);
    sl_bind_text(st, 3, r->actor);
    sqlite3_bind_int64(st, 4, r->started_at);
    sqlite3_bind_int64(st, 5, statelog_now_ms());
    sl_bind_time(st, 6, r->stopped_at);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sl_fail(sl, op);
    sqlite3_finalize(st);
    return rc;
}

int statelog_record_runner(struct statelog *sl, const char *integration,
                           const struct statelog_runner *r)
{
    int rc;

    SL_RUN(sl, rc, record_runner(sl, integration, r));
    return rc;
}

static int get_runner(struct statelog *sl, const char *integration, struct statelog_runner *out)
{
    const char *op = "get runner";
    sqlite3_stmt *st;
    int rc, oom = 0, r = -1;

    memset(out, 0, sizeof *out);
    st = prepare(sl, "SELECT pid, actor, started_at, seen_at, stopped_at FROM runners"
                     " WHERE integration = ?1", op);
    if (!st)
        return -1;
    sl_bind_text(st, 1, integration);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->pid        = sl_col_i64(st, 0, 0);
        out->actor      = sl_col_str(st, 1, &oom);
        out->started_at = sl_col_i64(st, 2, 0);
        out->seen_at    = sl_col_i64(st, 3, 0);
        out->stopped_at = sl_col_i64(st, 4, 0);
        if (oom) {
            statelog_clear_runner(out);
            sl_failf(sl, "%s: out of memory", op);
        } else {
            r = 1;
        }
    } else if (rc == SQLITE_DONE) {
        r = 0;
    } else {
        sl_fail(sl, op);
    }
    sqlite3_finalize(st);
    return r;
}

int statelog_get_runner(struct statelog *sl, const char *integration,
                        struct statelog_runner *out)
{
    int rc;

    SL_RUN(sl, rc, get_runner(sl, integration, out));
    return rc;
}

void statelog_clear_runner(struct statelog_runner *r)
{
    if (!r)
        return;
    free(r->actor);
    memset(r, 0, sizeof *r);
}

/* One transaction: the commands are read and expired under the write lock,
 * so a runtime claiming at the same moment cannot take one of them too. */
static int expire_commands(struct statelog *sl, const char *integration, int64_t before,
                           const char *result, int *n_out)
{
    const char *op = "expire commands";
    sqlite3_stmt *sel = NULL, *upd = NULL;
    int64_t now = statelog_now_ms();
    int rc, n = 0;

    if (n_out)
        *n_out = 0;
    if (sl_tx_begin(sl, 1, "expire commands: begin") < 0)
        return -1;
    sel = prepare(sl, "SELECT id, command, tbl, actor FROM commands WHERE integration = ?1"
                      " AND claimed_at IS NULL AND created_at < ?2 ORDER BY id", op);
    upd = prepare(sl, "UPDATE commands SET claimed_at = ?2, done_at = ?2, result = ?3"
                      " WHERE id = ?1 AND claimed_at IS NULL", op);
    if (!sel || !upd)
        goto rollback;
    sl_bind_text(sel, 1, integration);
    sqlite3_bind_int64(sel, 2, before);
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(sel, 0);
        const char *cmd = (const char *)sqlite3_column_text(sel, 1);
        const char *tbl = (const char *)sqlite3_column_text(sel, 2);
        const char *actor = (const char *)sqlite3_column_text(sel, 3);
        sqlite3_reset(upd);
        sqlite3_bind_int64(upd, 1, id);
        sqlite3_bind_int64(upd, 2, now);
        sl_bind_text(upd, 3, result);
        if (sqlite3_step(upd) != SQLITE_DONE) {
            sl_fail(sl, op);
            goto rollback;
        }
        if (statelog_record_event(sl, STATELOG_WARNING, integration, tbl, "command", actor,
                                  "command %lld: %s%s%s: %s", (long long)id, cmd ? cmd : "?",
                                  tbl ? " table " : "", tbl ? tbl : "", result) < 0)
            goto rollback;
        n++;
    }
    if (rc != SQLITE_DONE) {
        sl_fail(sl, op);
        goto rollback;
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    if (sl_tx_commit(sl, "expire commands: commit") < 0) {
        sl_tx_rollback(sl);
        return -1;
    }
    if (n_out)
        *n_out = n;
    return 0;

rollback:
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    sl_tx_rollback(sl);
    return -1;
}

int statelog_expire_commands(struct statelog *sl, const char *integration, int64_t before,
                             const char *result, int *n_out)
{
    int rc;

    SL_RUN(sl, rc, expire_commands(sl, integration, before, result, n_out));
    return rc;
}
