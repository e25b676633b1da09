/*
 * statelog_write.c — the write half of the SQLite log: integration and table
 * rows, transitions, activity, lag, events, deletion and the command queue.
 * Contract: statelog.h. Every multi-statement write is one transaction.
 */
#include "runtime/base/buf.h"
#include "runtime/log/statelog_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const level_names[] = { "info", "warning", "error" };

int statelog_integration_state_valid(const char *state)
{
    return istate_logged(istate_parse(state));
}

int statelog_table_state_valid(const char *state)
{
    return tstate_logged(tstate_parse(state));
}

/* ---- events ---------------------------------------------------------------- */

static int insert_event(struct statelog *sl, int64_t at, enum statelog_level level,
                        const char *integration, const char *table, const char *kind,
                        const char *actor, const char *message)
{
    const char *op = "record event";
    sqlite3_stmt *st = sl_stmt(sl, SQ_EVENT_INSERT, op);

    if (!st)
        return -1;
    if ((unsigned)level > STATELOG_ERROR)
        level = STATELOG_ERROR;
    sqlite3_bind_int64(st, 1, at ? at : statelog_now_ms());
    sl_bind_text(st, 2, integration);
    sl_bind_text(st, 3, table);
    sqlite3_bind_text(st, 4, level_names[level], -1, SQLITE_STATIC);
    sl_bind_text(st, 5, kind ? kind : "info");
    sl_bind_text(st, 6, message ? message : "");
    sl_bind_text(st, 7, actor);
    return sl_step_done(sl, st, op);
}

int statelog_record_event(struct statelog *sl, enum statelog_level level,
                          const char *integration, const char *table,
                          const char *kind, const char *actor, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    int n, rc;

    va_start(ap, fmt);
    n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return sl_failf(sl, "record event: out of memory");
    SL_RUN(sl, rc, insert_event(sl, 0, level, integration, table, kind, actor, msg));
    free(msg);
    if (rc == 0)
        sl_maybe_prune(sl);
    return rc;
}

/* ---- integrations and tables ------------------------------------------------- */

static int upsert_integration(struct statelog *sl, const struct statelog_integration *in)
{
    const char *op = "upsert integration";
    sqlite3_stmt *st;

    if (!in->name)
        return sl_failf(sl, "%s: no name", op);
    if (in->state && !statelog_integration_state_valid(in->state))
        return sl_failf(sl, "%s %s: unknown integration state \"%s\"", op, in->name,
                        in->state);
    if (!(st = sl_stmt(sl, SQ_INTEG_UPSERT, op)))
        return -1;
    sl_bind_text(st, 1, in->name);
    sl_bind_text(st, 2, in->state);
    sl_bind_text(st, 3, in->reason);
    sl_bind_text(st, 4, in->source);
    sl_bind_text(st, 5, in->target);
    sl_bind_text(st, 6, in->position);
    sl_bind_unknown(st, 7, in->lag_ms);
    sl_bind_unknown(st, 8, in->bytes_behind);
    sqlite3_bind_int64(st, 9, statelog_now_ms());
    return sl_step_done(sl, st, op);
}

static int update_position(struct statelog *sl, const char *integration,
                             const char *position, int64_t lag_ms, int64_t bytes_behind)
{
    const char *op = "update position";
    sqlite3_stmt *st = sl_stmt(sl, SQ_INTEG_POSITION, op);

    if (!st)
        return -1;
    sl_bind_text(st, 1, integration);
    sl_bind_text(st, 2, position);
    sl_bind_unknown(st, 3, lag_ms);
    sl_bind_unknown(st, 4, bytes_behind);
    sqlite3_bind_int64(st, 5, statelog_now_ms());
    if (sl_step_done(sl, st, op) < 0)
        return -1;
    if (sqlite3_changes(sl->db) == 0)
        return sl_failf(sl, "%s: no integration named %s", op, integration);
    return 0;
}

static int set_wait(struct statelog *sl, const char *integration, const struct statelog_wait *w)
{
    const char *op = "set wait";
    sqlite3_stmt *st = sl_stmt(sl, SQ_INTEG_WAIT_SET, op);
    static const struct statelog_wait none;

    if (!st)
        return -1;
    if (!w || !w->kind)
        w = &none;
    sl_bind_text(st, 1, integration);
    sl_bind_text(st, 2, w->kind);
    sl_bind_time(st, 3, w->kind ? w->since : 0);
    sl_bind_text(st, 4, w->what);
    sl_bind_text(st, 5, w->detail);
    if (w->kind)
        sqlite3_bind_int64(st, 6, w->holders);
    else
        sqlite3_bind_null(st, 6);
    sl_bind_time(st, 7, w->holder_pid);
    sl_bind_text(st, 8, w->holder_user);
    sl_bind_text(st, 9, w->holder_state);
    sl_bind_time(st, 10, w->holder_since);
    sl_bind_text(st, 11, w->holder_query);
    sqlite3_bind_int64(st, 12, statelog_now_ms());
    if (sl_step_done(sl, st, op) < 0)
        return -1;
    if (sqlite3_changes(sl->db) == 0)
        return sl_failf(sl, "%s: no integration named %s", op, integration);
    return 0;
}

static int set_retry(struct statelog *sl, const char *integration, int64_t attempt, int64_t at)
{
    const char *op = "set retry";
    sqlite3_stmt *st = sl_stmt(sl, SQ_INTEG_RETRY_SET, op);

    if (!st)
        return -1;
    sl_bind_text(st, 1, integration);
    sl_bind_time(st, 2, attempt > 0 ? attempt : 0);
    sl_bind_time(st, 3, attempt > 0 ? at : 0);
    sqlite3_bind_int64(st, 4, statelog_now_ms());
    if (sl_step_done(sl, st, op) < 0)
        return -1;
    if (sqlite3_changes(sl->db) == 0)
        return sl_failf(sl, "%s: no integration named %s", op, integration);
    return 0;
}

static int upsert_table(struct statelog *sl, const struct statelog_table *in)
{
    const char *op = "upsert table";
    sqlite3_stmt *st;

    if (!in->integration || !in->name)
        return sl_failf(sl, "%s: no integration or table name", op);
    if (in->state && !statelog_table_state_valid(in->state))
        return sl_failf(sl, "%s %s/%s: unknown table state \"%s\"", op, in->integration,
                        in->name, in->state);
    if (!(st = sl_stmt(sl, SQ_TABLE_UPSERT, op)))
        return -1;
    sl_bind_text(st, 1, in->integration);
    sl_bind_text(st, 2, in->name);
    sl_bind_text(st, 3, in->target);
    sl_bind_text(st, 4, in->state);
    sl_bind_text(st, 5, in->reason);
    sqlite3_bind_int64(st, 6, in->rows_copied);
    sqlite3_bind_int64(st, 7, in->rows_estimated);
    sqlite3_bind_int64(st, 8, in->inserts);
    sqlite3_bind_int64(st, 9, in->updates);
    sqlite3_bind_int64(st, 10, in->deletes);
    sl_bind_time(st, 11, in->last_applied_at);
    sl_bind_unknown(st, 12, in->lag_ms);
    sqlite3_bind_int64(st, 13, statelog_now_ms());
    sl_bind_text(st, 14, in->shape);     /* NULL keeps the row's; "" none */
    return sl_step_done(sl, st, op);
}

static int add_table_counts(struct statelog *sl, const char *integration,
                              const char *table, int64_t inserts, int64_t updates,
                              int64_t deletes, int64_t rows_copied,
                              int64_t last_applied_at)
{
    const char *op = "add table counts";
    sqlite3_stmt *st = sl_stmt(sl, SQ_TABLE_ADD, op);

    if (!st)
        return -1;
    sl_bind_text(st, 1, integration);
    sl_bind_text(st, 2, table);
    sqlite3_bind_int64(st, 3, inserts);
    sqlite3_bind_int64(st, 4, updates);
    sqlite3_bind_int64(st, 5, deletes);
    sqlite3_bind_int64(st, 6, rows_copied);
    sl_bind_time(st, 7, last_applied_at);
    sqlite3_bind_int64(st, 8, statelog_now_ms());
    if (sl_step_done(sl, st, op) < 0)
        return -1;
    if (sqlite3_changes(sl->db) == 0)
        return sl_failf(sl, "%s: no table %s in integration %s", op, table, integration);
    return 0;
}

/* The row's current state into *out (NULL when there is no row). */
static int current_state(struct statelog *sl, const char *integration, const char *table,
                         char **out)
{
    const char *op = "record transition: read state";
    sqlite3_stmt *st = sl_stmt(sl, table ? SQ_TABLE_STATE_GET : SQ_INTEG_STATE_GET, op);
    int rc, oom = 0;

    *out = NULL;
    if (!st)
        return -1;
    sl_bind_text(st, 1, integration);
    if (table)
        sl_bind_text(st, 2, table);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sl_col_str(st, 0, &oom);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sl_fail(sl, op);
    if (oom)
        return sl_failf(sl, "%s: out of memory", op);
    return 0;
}

/* to is a valid state of an integration (table NULL) or of a table. */
static enum statelog_level transition_level(const char *table, const char *to)
{
    if (!table) {
        switch (istate_parse(to)) {
        case ISTATE_FAILED:          return STATELOG_ERROR;
        case ISTATE_NEEDS_ATTENTION: return STATELOG_WARNING;
        default:                     return STATELOG_INFO;
        }
    }
    switch (tstate_parse(to)) {
    case TSTATE_FAILED:          return STATELOG_ERROR;
    case TSTATE_RESYNC_REQUIRED:
    case TSTATE_DROPPED_SOURCE:  return STATELOG_WARNING;
    default:                     return STATELOG_INFO;
    }
}

static int record_transition(struct statelog *sl, const char *integration,
                               const char *table, const char *from_state,
                               const char *to_state, const char *reason,
                               const char *actor)
{
    const char *op = "record transition";
    char *current = NULL, *msg = NULL;
    sqlite3_stmt *st;
    int64_t now = statelog_now_ms();
    int n;

    if (!integration)
        return sl_failf(sl, "%s: no integration name", op);
    if (table ? !statelog_table_state_valid(to_state)
              : !statelog_integration_state_valid(to_state))
        return sl_failf(sl, "%s %s%s%s: unknown %s state \"%s\"", op, integration,
                        table ? "/" : "", table ? table : "",
                        table ? "table" : "integration", to_state ? to_state : "(null)");
    if (sl_tx_begin(sl, 1, "record transition: begin") < 0)
        return -1;
    if (!from_state) {
        if (current_state(sl, integration, table, &current) < 0)
            goto rollback;
        from_state = current ? current : "(new)";
    }
    if (!(st = sl_stmt(sl, table ? SQ_TABLE_STATE_SET : SQ_INTEG_STATE_SET, op)))
        goto rollback;
    sl_bind_text(st, 1, integration);
    if (table) {
        sl_bind_text(st, 2, table);
        sl_bind_text(st, 3, to_state);
        sl_bind_text(st, 4, reason);
        sqlite3_bind_int64(st, 5, now);
        /* Into a copy from outside one: the copy is due, its figures not yet known. */
        sqlite3_bind_int(st, 6, tstate_copying(tstate_parse(to_state)) &&
                                !tstate_copying(tstate_parse(from_state)));
    } else {
        sl_bind_text(st, 2, to_state);
        sl_bind_text(st, 3, reason);
        sqlite3_bind_int64(st, 4, now);
    }
    if (sl_step_done(sl, st, op) < 0)
        goto rollback;
    if (table) {
        if (!(st = sl_stmt(sl, SQ_TABLE_LAG_BASIS, op)))
            goto rollback;
        sl_bind_text(st, 1, integration);
        sl_bind_text(st, 2, table);
        sl_bind_text(st, 3, to_state);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_int64(st, 5, STATELOG_PROOF_FRESH_MS);
        if (sl_step_done(sl, st, op) < 0)
            goto rollback;
    }
    n = reason ? asprintf(&msg, "%s -> %s: %s", from_state, to_state, reason)
               : asprintf(&msg, "%s -> %s", from_state, to_state);
    if (n < 0) {
        msg = NULL;
        sl_failf(sl, "%s: out of memory", op);
        goto rollback;
    }
    if (insert_event(sl, now, transition_level(table, to_state), integration, table,
                     "transition", actor, msg) < 0)
        goto rollback;
    if (sl_tx_commit(sl, "record transition: commit") < 0)
        goto rollback;
    free(msg);
    free(current);
    sl_maybe_prune(sl);
    return 0;

rollback:
    sl_tx_rollback(sl);
    free(msg);
    free(current);
    return -1;
}

/* ---- activity and lag ------------------------------------------------------- */

static int record_activity(struct statelog *sl, const struct statelog_activity *a)
{
    const char *op = "record activity";
    sqlite3_stmt *st = sl_stmt(sl, SQ_ACTIVITY_INSERT, op);

    if (!st)
        return -1;
    if (!a->integration)
        return sl_failf(sl, "%s: no integration name", op);
    sl_bind_text(st, 1, a->integration);
    sqlite3_bind_int64(st, 2, a->at ? a->at : statelog_now_ms());
    sl_bind_text(st, 3, a->pos_from);
    sl_bind_text(st, 4, a->pos_to);
    sqlite3_bind_int64(st, 5, a->transactions);
    sqlite3_bind_int64(st, 6, a->inserted);
    sqlite3_bind_int64(st, 7, a->updated);
    sqlite3_bind_int64(st, 8, a->deleted);
    sqlite3_bind_int64(st, 9, a->bytes);
    sqlite3_bind_int64(st, 10, a->duration_ms);
    if (sl_step_done(sl, st, op) < 0)
        return -1;
    sl_maybe_prune(sl);
    return 0;
}

static int record_lag(struct statelog *sl, const char *integration, int64_t at,
                        int64_t lag_ms, int64_t bytes_behind)
{
    const char *op = "record lag";
    sqlite3_stmt *st;
    int64_t now = statelog_now_ms();

    if (!integration)
        return sl_failf(sl, "%s: no integration name", op);
    if (sl_tx_begin(sl, 1, "record lag: begin") < 0)
        return -1;
    if (lag_ms >= 0) {               /* an unknown lag is not a sample */
        if (!(st = sl_stmt(sl, SQ_LAG_INSERT, op)))
            goto rollback;
        sl_bind_text(st, 1, integration);
        sqlite3_bind_int64(st, 2, at ? at : now);
        sqlite3_bind_int64(st, 3, lag_ms);
        sl_bind_unknown(st, 4, bytes_behind);
        if (sl_step_done(sl, st, op) < 0)
            goto rollback;
    }
    if (!(st = sl_stmt(sl, SQ_INTEG_LAG_SET, op)))
        goto rollback;
    sl_bind_text(st, 1, integration);
    sl_bind_unknown(st, 2, lag_ms);
    sl_bind_unknown(st, 3, bytes_behind);
    sqlite3_bind_int64(st, 4, now);
    if (sl_step_done(sl, st, op) < 0)
        goto rollback;
    if (sl_tx_commit(sl, "record lag: commit") < 0)
        goto rollback;
    sl_maybe_prune(sl);
    return 0;

rollback:
    sl_tx_rollback(sl);
    return -1;
}

/*
 * Fill the lag samples since the newest one from the basis about to be
 * replaced: nobody sampled (the applier was stuck in a target call, or no
 * process ran), and for that time the old basis is what was known, so
 * lag(t) = statelog_lag_at(old, t) is what a sampler would have written.
 */
static int fill_lag_gap(struct statelog *sl, const char *integration, int64_t now)
{
    const char *op = "set lag basis: fill the gap";
    struct statelog_lag_basis old;
    int64_t last, from, step;
    int found;
    sqlite3_stmt *st;

    if (sl_read_basis(sl, integration, &old, &last, &found) < 0)
        return -1;
    if (!found)
        return sl_failf(sl, "set lag basis: no integration named %s", integration);
    if (!old.at || !last || now - last <= STATELOG_LAG_GAP_MS)
        return 0;
    from = last > now - sl->lim.lag_raw_ms ? last : now - sl->lim.lag_raw_ms;
    step = (now - from) / STATELOG_LAG_FILL_MAX;
    if (step < 1000)
        step = 1000;
    for (int64_t t = from + step; t < now; t += step) {
        if (!(st = sl_stmt(sl, SQ_LAG_INSERT, op)))
            return -1;
        sl_bind_text(st, 1, integration);
        sqlite3_bind_int64(st, 2, t);
        sqlite3_bind_int64(st, 3, statelog_lag_at(&old, t));
        sqlite3_bind_null(st, 4);
        if (sl_step_done(sl, st, op) < 0)
            return -1;
    }
    return 0;
}

static int set_lag_basis(struct statelog *sl, const char *integration,
                         const struct statelog_lag_basis *b)
{
    const char *op = "set lag basis";
    sqlite3_stmt *st;

    if (!integration)
        return sl_failf(sl, "%s: no integration name", op);
    if (sl_tx_begin(sl, 1, "set lag basis: begin") < 0)
        return -1;
    if (fill_lag_gap(sl, integration, statelog_now_ms()) < 0)
        goto rollback;
    if (!(st = sl_stmt(sl, SQ_INTEG_BASIS_SET, op)))
        goto rollback;
    sl_bind_text(st, 1, integration);
    sl_bind_time(st, 2, b->at);
    sqlite3_bind_int64(st, 3, b->pending ? 1 : 0);
    sqlite3_bind_int64(st, 4, b->res_ms > 0 ? b->res_ms : 1);
    sl_bind_time(st, 5, b->pending ? b->wait_since : 0);
    sqlite3_bind_int64(st, 6, b->stall_ms > 0 ? b->stall_ms : 0);
    if (sl_step_done(sl, st, op) < 0)
        goto rollback;
    if (sl_tx_commit(sl, "set lag basis: commit") < 0)
        goto rollback;
    return 0;

rollback:
    sl_tx_rollback(sl);
    return -1;
}

/* ---- deletion ----------------------------------------------------------------- */

static int delete_integration_rows(struct statelog *sl, const char *integration,
                                     const char *actor)
{
    static const enum sl_stmt_id dels[] = {
        SQ_DEL_TABLES, SQ_DEL_INTEG, SQ_DEL_ACTIVITY, SQ_DEL_LAG, SQ_DEL_ROLLUPS,
        SQ_DEL_COMMANDS,
    };
    const char *op = "delete integration rows";
    sqlite3_stmt *st;

    if (!integration)
        return sl_failf(sl, "%s: no integration name", op);
    if (sl_tx_begin(sl, 1, "delete integration rows: begin") < 0)
        return -1;
    for (size_t i = 0; i < sizeof dels / sizeof dels[0]; i++) {
        if (!(st = sl_stmt(sl, dels[i], op)))
            goto rollback;
        sl_bind_text(st, 1, integration);
        if (sl_step_done(sl, st, op) < 0)
            goto rollback;
    }
    if (insert_event(sl, 0, STATELOG_INFO, integration, NULL, "deleted", actor,
                     "integration removed from the state log") < 0)
        goto rollback;
    if (sl_tx_commit(sl, "delete integration rows: commit") < 0)
        goto rollback;
    return 0;

rollback:
    sl_tx_rollback(sl);
    return -1;
}

/* ---- the command queue ---------------------------------------------------------- */

static int read_command(sqlite3_stmt *st, struct statelog_command *c)
{
    int oom = 0;

    c->id          = sqlite3_column_int64(st, 0);
    c->integration = sl_col_str(st, 1, &oom);
    c->table       = sl_col_str(st, 2, &oom);
    c->command     = sl_col_str(st, 3, &oom);
    c->actor       = sl_col_str(st, 4, &oom);
    c->created_at  = sl_col_i64(st, 5, 0);
    c->claimed_at  = sl_col_i64(st, 6, 0);
    c->done_at     = sl_col_i64(st, 7, 0);
    c->result      = sl_col_str(st, 8, &oom);
    return oom ? -1 : 0;
}

static void command_clear(struct statelog_command *c)
{
    free(c->integration);
    free(c->table);
    free(c->command);
    free(c->actor);
    free(c->result);
}

void statelog_free_commands(struct statelog_command *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        command_clear(&v[i]);
    free(v);
}

static int enqueue_command(struct statelog *sl, const char *integration,
                             const char *table, const char *command,
                             const char *actor, int64_t *id_out)
{
    const char *op = "enqueue command";
    sqlite3_stmt *st;
    char *msg = NULL;
    int64_t id, now = statelog_now_ms();
    int n;

    if (!integration)
        return sl_failf(sl, "%s: no integration name", op);
    enum zcmd cmd = zcmd_parse(command);
    if (cmd == ZCMD_UNKNOWN)
        return sl_failf(sl, "%s: unknown command \"%s\" (pause, resume, resync, resnapshot, delete, stop, retry)",
                        op, command ? command : "(null)");
    if (cmd == ZCMD_RESYNC && !table)
        return sl_failf(sl, "%s: resync of %s names no table", op, integration);
    if (sl_tx_begin(sl, 1, "enqueue command: begin") < 0)
        return -1;
    if (!(st = sl_stmt(sl, SQ_CMD_INSERT, op)))
        goto rollback;
    sl_bind_text(st, 1, integration);
    sl_bind_text(st, 2, table);
    sl_bind_text(st, 3, command);
    sl_bind_text(st, 4, actor);
    sqlite3_bind_int64(st, 5, now);
    if (sl_step_done(sl, st, op) < 0)
        goto rollback;
    id = sqlite3_last_insert_rowid(sl->db);
    n = table ? asprintf(&msg, "command %lld: %s table %s requested", (long long)id,
                         command, table)
              : asprintf(&msg, "command %lld: %s requested", (long long)id, command);
    if (n < 0) {
        msg = NULL;
        sl_failf(sl, "%s: out of memory", op);
        goto rollback;
    }
    if (insert_event(sl, now, STATELOG_INFO, integration, table, "action", actor, msg) < 0)
        goto rollback;
    if (sl_tx_commit(sl, "enqueue command: commit") < 0)
        goto rollback;
    free(msg);
    if (id_out)
        *id_out = id;
    return 0;

rollback:
    sl_tx_rollback(sl);
    free(msg);
    return -1;
}

/* BEGIN IMMEDIATE takes the write lock before the read, so no other handle
 * can read the same unclaimed rows until this claim commits. */
static int claim_commands(struct statelog *sl, const char *integration,
                            struct statelog_command **out, size_t *n)
{
    const char *op = "claim commands";
    struct statelog_command *v = NULL, *nv;
    size_t len = 0, cap = 0;
    sqlite3_stmt *st;
    int64_t now = statelog_now_ms();
    int rc;

    *out = NULL;
    *n = 0;
    if (sl_tx_begin(sl, 1, "claim commands: begin") < 0)
        return -1;
    if (!(st = sl_stmt(sl, SQ_CMD_PENDING, op)))
        goto rollback;
    sl_bind_text(st, 1, integration);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!(nv = zarray_grow(v, &cap, len + 1, sizeof *v))) {
            sl_failf(sl, "%s: out of memory", op);
            goto rollback_reset;
        }
        v = nv;
        memset(&v[len], 0, sizeof v[len]);
        if (read_command(st, &v[len++]) < 0) {
            sl_failf(sl, "%s: out of memory", op);
            goto rollback_reset;
        }
        v[len - 1].claimed_at = now;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sl_fail(sl, op);
        goto rollback;
    }
    for (size_t i = 0; i < len; i++) {
        if (!(st = sl_stmt(sl, SQ_CMD_CLAIM, op)))
            goto rollback;
        sqlite3_bind_int64(st, 1, v[i].id);
        sqlite3_bind_int64(st, 2, now);
        if (sl_step_done(sl, st, op) < 0)
            goto rollback;
    }
    if (sl_tx_commit(sl, "claim commands: commit") < 0)
        goto rollback;
    *out = v;
    *n = len;
    return 0;

rollback_reset:
    sqlite3_reset(st);
rollback:
    sl_tx_rollback(sl);
    statelog_free_commands(v, len);
    return -1;
}

static int get_command(struct statelog *sl, int64_t id, struct statelog_command *c,
                       const char *op)
{
    sqlite3_stmt *st = sl_stmt(sl, SQ_CMD_GET, op);
    int rc, r = -1;

    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (read_command(st, c) < 0)
            sl_failf(sl, "%s: out of memory", op);
        else
            r = 0;
    } else if (rc == SQLITE_DONE) {
        sl_failf(sl, "%s: no command %lld", op, (long long)id);
    } else {
        sl_fail(sl, op);
    }
    sqlite3_reset(st);
    return r;
}

static int get_command_alloc(struct statelog *sl, int64_t id, struct statelog_command **out)
{
    struct statelog_command *c = calloc(1, sizeof *c);

    *out = NULL;
    if (!c)
        return sl_failf(sl, "get command: out of memory");
    if (get_command(sl, id, c, "get command") < 0) {
        statelog_free_commands(c, 1);
        return -1;
    }
    *out = c;
    return 0;
}

static int complete_command(struct statelog *sl, int64_t id, const char *result)
{
    const char *op = "complete command";
    struct statelog_command c = { 0 };
    sqlite3_stmt *st;
    char *msg = NULL;
    int64_t now = statelog_now_ms();
    int ok = result && strcmp(result, "ok") == 0;

    if (sl_tx_begin(sl, 1, "complete command: begin") < 0)
        return -1;
    if (get_command(sl, id, &c, op) < 0)
        goto rollback;
    if (!(st = sl_stmt(sl, SQ_CMD_DONE, op)))
        goto rollback;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    sl_bind_text(st, 3, result ? result : "ok");
    if (sl_step_done(sl, st, op) < 0)
        goto rollback;
    if (sqlite3_changes(sl->db) == 0) {
        sl_failf(sl, "%s: command %lld is %s", op, (long long)id,
                 c.done_at ? "already done" : "not claimed");
        goto rollback;
    }
    if (asprintf(&msg, "command %lld: %s%s%s: %s", (long long)id, c.command,
                 c.table ? " table " : "", c.table ? c.table : "",
                 result ? result : "ok") < 0) {
        msg = NULL;
        sl_failf(sl, "%s: out of memory", op);
        goto rollback;
    }
    if (insert_event(sl, now, ok || !result ? STATELOG_INFO : STATELOG_WARNING,
                     c.integration, c.table, "command", c.actor, msg) < 0)
        goto rollback;
    if (sl_tx_commit(sl, "complete command: commit") < 0)
        goto rollback;
    free(msg);
    command_clear(&c);
    return 0;

rollback:
    sl_tx_rollback(sl);
    free(msg);
    command_clear(&c);
    return -1;
}

/* ---- the public calls: heal on a bad file, remember rows for a fresh log ---- */

int statelog_upsert_integration(struct statelog *sl, const struct statelog_integration *in)
{
    int rc;

    SL_RUN(sl, rc, upsert_integration(sl, in));
    if (rc == 0)
        sl_memo_integ(sl, in->name, in->state, in->reason, in->source, in->target,
                      in->position, 1);
    return rc;
}

int statelog_update_position(struct statelog *sl, const char *integration,
                             const char *position, int64_t lag_ms, int64_t bytes_behind)
{
    int rc;

    SL_RUN(sl, rc, update_position(sl, integration, position, lag_ms, bytes_behind));
    if (rc == 0)
        sl_memo_integ(sl, integration, NULL, NULL, NULL, NULL, position, 0);
    return rc;
}

int statelog_set_wait(struct statelog *sl, const char *integration, const struct statelog_wait *w)
{
    int rc;

    SL_RUN(sl, rc, set_wait(sl, integration, w));
    return rc;
}

int statelog_set_retry(struct statelog *sl, const char *integration, int64_t attempt, int64_t at_ms)
{
    int rc;

    SL_RUN(sl, rc, set_retry(sl, integration, attempt, at_ms));
    return rc;
}

int statelog_upsert_table(struct statelog *sl, const struct statelog_table *in)
{
    int rc;

    SL_RUN(sl, rc, upsert_table(sl, in));
    if (rc == 0)
        sl_memo_table(sl, in->integration, in->name, in->target, in->state, in->reason);
    return rc;
}

int statelog_add_table_counts(struct statelog *sl, const char *integration,
                              const char *table, int64_t inserts, int64_t updates,
                              int64_t deletes, int64_t rows_copied,
                              int64_t last_applied_at)
{
    int rc;

    SL_RUN(sl, rc, add_table_counts(sl, integration, table, inserts, updates, deletes,
                                    rows_copied, last_applied_at));
    return rc;
}

int statelog_record_transition(struct statelog *sl, const char *integration,
                               const char *table, const char *from_state,
                               const char *to_state, const char *reason,
                               const char *actor)
{
    int rc;

    SL_RUN(sl, rc, record_transition(sl, integration, table, from_state, to_state, reason,
                                     actor));
    if (rc == 0 && table)
        sl_memo_table(sl, integration, table, NULL, to_state, reason);
    else if (rc == 0)
        sl_memo_integ(sl, integration, to_state, reason, NULL, NULL, NULL, 0);
    return rc;
}

int statelog_record_activity(struct statelog *sl, const struct statelog_activity *a)
{
    int rc;

    SL_RUN(sl, rc, record_activity(sl, a));
    return rc;
}

int statelog_set_lag_basis(struct statelog *sl, const char *integration,
                           const struct statelog_lag_basis *b)
{
    int rc;

    SL_RUN(sl, rc, set_lag_basis(sl, integration, b));
    return rc;
}

static int set_source(struct statelog *sl, const char *integration, const struct statelog_source *s)
{
    const char *op = "set source position";
    sqlite3_stmt *st = sl_stmt(sl, SQ_INTEG_SOURCE_SET, op);

    if (!st)
        return -1;
    sl_bind_text(st, 1, integration);
    sl_bind_text(st, 2, s->position);
    sl_bind_time(st, 3, s->at);
    sl_bind_unknown(st, 4, s->bytes_between);
    sl_bind_unknown(st, 5, s->files_between);
    sl_bind_unknown(st, 6, s->expire_s);
    sl_bind_time(st, 7, s->checkpoint_commit_at);
    return sl_step_done(sl, st, op);
}

static int set_ha(struct statelog *sl, const char *integration, const struct statelog_ha *h)
{
    const char *op = "set ha";
    sqlite3_stmt *st = sl_stmt(sl, SQ_INTEG_HA_SET, op);

    if (!st)
        return -1;
    sl_bind_text(st, 1, integration);
    sl_bind_text(st, 2, h->role);
    sl_bind_text(st, 3, h->member);
    sl_bind_text(st, 4, h->holder);
    sqlite3_bind_int64(st, 5, h->holder_pid);
    sqlite3_bind_int64(st, 6, h->epoch);
    sl_bind_text(st, 7, h->standbys);
    return sl_step_done(sl, st, op);
}

int statelog_set_ha(struct statelog *sl, const char *integration, const struct statelog_ha *h)
{
    int rc;

    SL_RUN(sl, rc, set_ha(sl, integration, h));
    return rc;
}

int statelog_set_source(struct statelog *sl, const char *integration,
                        const struct statelog_source *s)
{
    int rc;

    SL_RUN(sl, rc, set_source(sl, integration, s));
    return rc;
}

int64_t statelog_purge_not_before(const struct statelog_source *s)
{
    if (s->expire_s <= 0 || s->checkpoint_commit_at <= 0)
        return 0;
    return s->checkpoint_commit_at + s->expire_s * 1000;
}

int statelog_record_lag(struct statelog *sl, const char *integration, int64_t at,
                        int64_t lag_ms, int64_t bytes_behind)
{
    int rc;

    SL_RUN(sl, rc, record_lag(sl, integration, at, lag_ms, bytes_behind));
    return rc;
}

int statelog_delete_integration_rows(struct statelog *sl, const char *integration,
                                     const char *actor)
{
    int rc;

    SL_RUN(sl, rc, delete_integration_rows(sl, integration, actor));
    if (rc == 0)
        sl_memo_forget(sl, integration);
    return rc;
}

int statelog_enqueue_command(struct statelog *sl, const char *integration,
                             const char *table, const char *command,
                             const char *actor, int64_t *id_out)
{
    int rc;

    SL_RUN(sl, rc, enqueue_command(sl, integration, table, command, actor, id_out));
    return rc;
}

int statelog_claim_commands(struct statelog *sl, const char *integration,
                            struct statelog_command **out, size_t *n)
{
    int rc;

    SL_RUN(sl, rc, claim_commands(sl, integration, out, n));
    return rc;
}

static int ending_command(struct statelog *sl, const char *integration)
{
    sqlite3_stmt *st = sl_stmt(sl, SQ_CMD_ENDING, "look for a waiting command");
    if (!st)
        return -1;
    sl_bind_text(st, 1, integration);
    int rc = sqlite3_step(st), r = -1;
    if (rc == SQLITE_ROW)
        r = sqlite3_column_int(st, 0) != 0;
    else
        sl_fail(sl, "look for a waiting command");
    sqlite3_reset(st);
    return r;
}

int statelog_ending_command_waits(struct statelog *sl, const char *integration)
{
    int rc;

    SL_RUN(sl, rc, ending_command(sl, integration));
    return rc;
}

int statelog_complete_command(struct statelog *sl, int64_t id, const char *result)
{
    int rc;

    SL_RUN(sl, rc, complete_command(sl, id, result));
    return rc;
}

int statelog_get_command(struct statelog *sl, int64_t id, struct statelog_command **out)
{
    int rc;

    SL_RUN(sl, rc, get_command_alloc(sl, id, out));
    return rc;
}
