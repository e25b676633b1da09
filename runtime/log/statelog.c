/*
 * statelog.c — the SQLite connection under a handle: schema migrations, the
 * statement cache, errors, transactions, and the file itself (created 0600
 * under the state directory's lock). The bottom of the state log: healing
 * (statelog_heal.c) and the handle's calls (open, close, pruning in
 * statelog_handle.c) stand on it. Writes are in statelog_write.c, reads in
 * statelog_read.c, the JSON status in statelog_status.c. Contract: statelog.h.
 */
#include "runtime/base/clock.h"
#include "runtime/log/statelog_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- schema migrations --------------------------------------------------
 * migrations[i] takes the file from user_version i to i + 1. Append only:
 * a released step is never edited, a change is a new step. */
static const char *const migrations[] = {
    /* 0 → 1: the first schema */
    "CREATE TABLE integrations ("
    "  name         TEXT PRIMARY KEY NOT NULL,"
    "  state        TEXT NOT NULL,"
    "  reason       TEXT,"
    "  source       TEXT,"
    "  target       TEXT,"
    "  position     TEXT,"
    "  lag_ms       INTEGER,"
    "  bytes_behind INTEGER,"
    "  updated_at   INTEGER NOT NULL"
    ");"
    "CREATE TABLE tables ("
    "  integration     TEXT NOT NULL REFERENCES integrations(name) ON DELETE CASCADE,"
    "  name            TEXT NOT NULL,"
    "  target          TEXT NOT NULL,"
    "  state           TEXT NOT NULL,"
    "  reason          TEXT,"
    "  rows_copied     INTEGER NOT NULL DEFAULT 0,"
    "  rows_estimated  INTEGER NOT NULL DEFAULT 0,"
    "  inserts         INTEGER NOT NULL DEFAULT 0,"
    "  updates         INTEGER NOT NULL DEFAULT 0,"
    "  deletes         INTEGER NOT NULL DEFAULT 0,"
    "  last_applied_at INTEGER,"
    "  lag_ms          INTEGER,"
    "  updated_at      INTEGER NOT NULL,"
    "  PRIMARY KEY (integration, name)"
    ");"
    "CREATE TABLE activity ("
    "  id           INTEGER PRIMARY KEY,"
    "  integration  TEXT NOT NULL,"
    "  at           INTEGER NOT NULL,"
    "  pos_from     TEXT,"
    "  pos_to       TEXT,"
    "  transactions INTEGER NOT NULL DEFAULT 0,"
    "  inserted     INTEGER NOT NULL DEFAULT 0,"
    "  updated      INTEGER NOT NULL DEFAULT 0,"
    "  deleted      INTEGER NOT NULL DEFAULT 0,"
    "  bytes        INTEGER NOT NULL DEFAULT 0,"
    "  duration_ms  INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX activity_integration_at ON activity(integration, at);"
    "CREATE INDEX activity_at ON activity(at);"
    "CREATE TABLE lag_samples ("
    "  id           INTEGER PRIMARY KEY,"
    "  integration  TEXT NOT NULL,"
    "  at           INTEGER NOT NULL,"
    "  lag_ms       INTEGER NOT NULL,"
    "  bytes_behind INTEGER"
    ");"
    "CREATE INDEX lag_samples_integration_at ON lag_samples(integration, at);"
    "CREATE INDEX lag_samples_at ON lag_samples(at);"
    "CREATE TABLE lag_rollups ("
    "  integration TEXT NOT NULL,"
    "  minute      INTEGER NOT NULL,"
    "  n           INTEGER NOT NULL,"
    "  lag_min     INTEGER NOT NULL,"
    "  lag_sum     INTEGER NOT NULL,"
    "  lag_max     INTEGER NOT NULL,"
    "  bytes_max   INTEGER,"
    "  PRIMARY KEY (integration, minute)"
    ") WITHOUT ROWID;"
    "CREATE INDEX lag_rollups_minute ON lag_rollups(minute);"
    "CREATE TABLE events ("
    "  id          INTEGER PRIMARY KEY,"
    "  at          INTEGER NOT NULL,"
    "  integration TEXT,"
    "  tbl         TEXT,"
    "  level       TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),"
    "  kind        TEXT NOT NULL,"
    "  message     TEXT NOT NULL,"
    "  actor       TEXT"
    ");"
    "CREATE INDEX events_integration ON events(integration, id);"
    "CREATE TABLE commands ("
    "  id          INTEGER PRIMARY KEY,"
    "  integration TEXT NOT NULL,"
    "  tbl         TEXT,"
    "  command     TEXT NOT NULL"
    "              CHECK (command IN ('pause', 'resume', 'resync', 'delete', 'stop')),"
    "  actor       TEXT,"
    "  created_at  INTEGER NOT NULL,"
    "  claimed_at  INTEGER,"
    "  done_at     INTEGER,"
    "  result      TEXT"
    ");"
    "CREATE INDEX commands_pending ON commands(integration, claimed_at, id);",
    /* 1 → 2: what the applier waits on and the retry backoff (issue 18); the
     * retry-now command, so commands is rebuilt with the wider CHECK. */
    "ALTER TABLE integrations ADD COLUMN wait_kind TEXT;"
    "ALTER TABLE integrations ADD COLUMN wait_since INTEGER;"
    "ALTER TABLE integrations ADD COLUMN wait_what TEXT;"
    "ALTER TABLE integrations ADD COLUMN wait_detail TEXT;"
    "ALTER TABLE integrations ADD COLUMN wait_holders INTEGER;"
    "ALTER TABLE integrations ADD COLUMN wait_pid INTEGER;"
    "ALTER TABLE integrations ADD COLUMN wait_user TEXT;"
    "ALTER TABLE integrations ADD COLUMN wait_state TEXT;"
    "ALTER TABLE integrations ADD COLUMN wait_holder_since INTEGER;"
    "ALTER TABLE integrations ADD COLUMN wait_query TEXT;"
    "ALTER TABLE integrations ADD COLUMN retry_attempt INTEGER;"
    "ALTER TABLE integrations ADD COLUMN retry_at INTEGER;"
    "CREATE TABLE commands2 ("
    "  id          INTEGER PRIMARY KEY,"
    "  integration TEXT NOT NULL,"
    "  tbl         TEXT,"
    "  command     TEXT NOT NULL"
    "              CHECK (command IN ('pause', 'resume', 'resync', 'delete', 'stop', 'retry')),"
    "  actor       TEXT,"
    "  created_at  INTEGER NOT NULL,"
    "  claimed_at  INTEGER,"
    "  done_at     INTEGER,"
    "  result      TEXT"
    ");"
    "INSERT INTO commands2 SELECT id, integration, tbl, command, actor, created_at, claimed_at,"
    " done_at, result FROM commands;"
    "DROP TABLE commands;"
    "ALTER TABLE commands2 RENAME TO commands;"
    "CREATE INDEX commands_pending ON commands(integration, claimed_at, id);",
    /* 2 → 3: who runs each integration (liveness.h): the process that holds
     * its lock records itself, beats every RUNNER_HEARTBEAT_MS and records a
     * clean stop; a reader that finds the lock free knows who ran it last and
     * since when it has not. Not foreign-keyed: it outlives a deleted row. */
    "CREATE TABLE runners ("
    "  integration TEXT PRIMARY KEY NOT NULL,"
    "  pid         INTEGER NOT NULL,"
    "  actor       TEXT,"
    "  started_at  INTEGER NOT NULL,"
    "  seen_at     INTEGER NOT NULL,"
    "  stopped_at  INTEGER"
    ");",
    /* 3 → 4: lag computed at read time from its basis (statelog.h "Lag") */
    "ALTER TABLE integrations ADD COLUMN lag_basis_at INTEGER;"
    "ALTER TABLE integrations ADD COLUMN lag_pending INTEGER;"
    "ALTER TABLE integrations ADD COLUMN lag_res_ms INTEGER;"
    "ALTER TABLE integrations ADD COLUMN stall_from INTEGER;"
    "ALTER TABLE integrations ADD COLUMN stall_ms INTEGER;"
    "ALTER TABLE tables ADD COLUMN lag_basis_at INTEGER;",
    /* 4 → 5: commands without a CHECK on the command's name, so a new
     * command (resnapshot) needs no table rebuild: the one list of names is
     * statelog_write.c's, which enqueue checks. SQLite cannot drop a CHECK,
     * so the table is copied. */
    "CREATE TABLE commands_v2 ("
    "  id          INTEGER PRIMARY KEY,"
    "  integration TEXT NOT NULL,"
    "  tbl         TEXT,"
    "  command     TEXT NOT NULL,"
    "  actor       TEXT,"
    "  created_at  INTEGER NOT NULL,"
    "  claimed_at  INTEGER,"
    "  done_at     INTEGER,"
    "  result      TEXT"
    ");"
    "INSERT INTO commands_v2 (id, integration, tbl, command, actor, created_at, claimed_at, done_at, result)"
    " SELECT id, integration, tbl, command, actor, created_at, claimed_at, done_at, result FROM commands;"
    "DROP TABLE commands;"
    "ALTER TABLE commands_v2 RENAME TO commands;"
    "CREATE INDEX commands_pending ON commands(integration, claimed_at, id);",
    /* 5 → 6: the source's own newest position beside the applied one, and
     * the binlog retention horizon (statelog.h "Source position") */
    "ALTER TABLE integrations ADD COLUMN source_position TEXT;"
    "ALTER TABLE integrations ADD COLUMN source_position_at INTEGER;"
    "ALTER TABLE integrations ADD COLUMN bytes_between INTEGER;"
    "ALTER TABLE integrations ADD COLUMN files_between INTEGER;"
    "ALTER TABLE integrations ADD COLUMN binlog_expire_s INTEGER;"
    "ALTER TABLE integrations ADD COLUMN checkpoint_commit_at INTEGER;",
    /* 6 → 7: a table's copy progress (statelog.h "Copy progress"): when it
     * began, the chunks of a chunked copy, and the base and the mark its
     * rows/s is measured from */
    "ALTER TABLE tables ADD COLUMN copy_started_at INTEGER;"
    "ALTER TABLE tables ADD COLUMN copy_chunks INTEGER;"
    "ALTER TABLE tables ADD COLUMN copy_rate_at INTEGER;"
    "ALTER TABLE tables ADD COLUMN copy_rate_rows INTEGER;"
    "ALTER TABLE tables ADD COLUMN copy_mark_at INTEGER;"
    "ALTER TABLE tables ADD COLUMN copy_mark_rows INTEGER;",
    /* 7 → 8: what the table's target rows are shaped by (runtime/integ/shape.h:
     * column transforms, soft deletes), for the console and status */
    "ALTER TABLE tables ADD COLUMN shape TEXT;",
    /* 8 → 9: ha (runtime/integ/ha.c): this process's role, the lease's holder
     * and epoch, the standbys seen */
    "ALTER TABLE integrations ADD COLUMN ha_role TEXT;"
    "ALTER TABLE integrations ADD COLUMN ha_member TEXT;"
    "ALTER TABLE integrations ADD COLUMN ha_holder TEXT;"
    "ALTER TABLE integrations ADD COLUMN ha_holder_pid INTEGER;"
    "ALTER TABLE integrations ADD COLUMN ha_epoch INTEGER;"
    "ALTER TABLE integrations ADD COLUMN ha_standbys TEXT;",
};

_Static_assert(sizeof migrations / sizeof migrations[0] == STATELOG_SCHEMA_VERSION,
               "one migration step per schema version");

/* ---- the statement cache ------------------------------------------------- */

static const char *const stmt_sql[SQ_COUNT] = {
    /* state NULL keeps the row's state and reason (a new row: creating);
     * position NULL keeps the row's position. */
    [SQ_INTEG_UPSERT] =
        "INSERT INTO integrations (name, state, reason, source, target, position,"
        "                          lag_ms, bytes_behind, updated_at)"
        " VALUES (?1, coalesce(?2, 'creating'), ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        " ON CONFLICT (name) DO UPDATE SET"
        "  state = coalesce(?2, state),"
        "  reason = CASE WHEN ?2 IS NULL THEN reason ELSE ?3 END,"
        "  source = ?4, target = ?5, position = coalesce(?6, position),"
        "  lag_ms = ?7, bytes_behind = ?8, updated_at = ?9",
    [SQ_INTEG_POSITION] =
        "UPDATE integrations SET position = coalesce(?2, position), lag_ms = ?3,"
        " bytes_behind = ?4, updated_at = ?5 WHERE name = ?1",
    [SQ_INTEG_STATE_GET] = "SELECT state FROM integrations WHERE name = ?1",
    [SQ_INTEG_STATE_SET] =
        "INSERT INTO integrations (name, state, reason, updated_at) VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT (name) DO UPDATE SET state = ?2, reason = ?3, updated_at = ?4",
    /* ?2 NULL clears the wait. */
    [SQ_INTEG_WAIT_SET] =
        "UPDATE integrations SET wait_kind = ?2, wait_since = ?3, wait_what = ?4,"
        " wait_detail = ?5, wait_holders = ?6, wait_pid = ?7, wait_user = ?8,"
        " wait_state = ?9, wait_holder_since = ?10, wait_query = ?11, updated_at = ?12"
        " WHERE name = ?1",
    [SQ_INTEG_RETRY_SET] =
        "UPDATE integrations SET retry_attempt = ?2, retry_at = ?3, updated_at = ?4"
        " WHERE name = ?1",
    [SQ_INTEG_LAG_SET] =
        "UPDATE integrations SET lag_ms = ?2, bytes_behind = ?3, updated_at = ?4"
        " WHERE name = ?1",
    [SQ_TABLE_UPSERT] =
        "INSERT INTO tables (integration, name, target, state, reason, rows_copied,"
        "                    rows_estimated, inserts, updates, deletes,"
        "                    last_applied_at, lag_ms, updated_at, shape)"
        " VALUES (?1, ?2, coalesce(?3, ?2), coalesce(?4, 'pending'), ?5, ?6, ?7, ?8,"
        "         ?9, ?10, ?11, ?12, ?13, ?14)"
        " ON CONFLICT (integration, name) DO UPDATE SET"
        "  target = coalesce(?3, target), state = coalesce(?4, state),"
        "  reason = CASE WHEN ?4 IS NULL THEN reason ELSE ?5 END,"
        "  rows_copied = ?6, rows_estimated = ?7, inserts = ?8, updates = ?9,"
        "  deletes = ?10, last_applied_at = ?11, lag_ms = ?12, updated_at = ?13,"
        "  shape = coalesce(?14, shape)",
    [SQ_TABLE_ADD] =
        "UPDATE tables SET inserts = inserts + ?3, updates = updates + ?4,"
        " deletes = deletes + ?5, rows_copied = rows_copied + ?6,"
        " last_applied_at = coalesce(?7, last_applied_at), updated_at = ?8"
        " WHERE integration = ?1 AND name = ?2",
    /* statelog.h "Copy progress": ?3 rows, ?4 chunks (NULL: one read), ?5 now */
    [SQ_TABLE_COPY_BEGIN] =
        "UPDATE tables SET rows_copied = ?3, rows_estimated = 0, copy_chunks = ?4,"
        " copy_started_at = ?5, copy_rate_at = ?5, copy_rate_rows = ?3, copy_mark_at = ?5,"
        " copy_mark_rows = ?3, updated_at = ?5 WHERE integration = ?1 AND name = ?2",
    [SQ_TABLE_COPY_ROWS] =
        "UPDATE tables SET copy_rate_at = ?3, copy_rate_rows = rows_copied, copy_mark_at = ?3,"
        " copy_mark_rows = rows_copied, updated_at = ?3 WHERE integration = ?1 AND name = ?2",
    [SQ_TABLE_COPY_EST] =
        "UPDATE tables SET rows_estimated = ?3, updated_at = ?4 WHERE integration = ?1 AND name = ?2",
    /* ?3 rows more, ?4 chunks more, ?5 now, ?6 the window: a
     * mark that old becomes the base, and the mark moves to now (every
     * right-hand side reads the row as it was). */
    [SQ_TABLE_COPY_ADD] =
        "UPDATE tables SET rows_copied = rows_copied + ?3,"
        " copy_chunks = CASE WHEN ?4 > 0 THEN coalesce(copy_chunks, 0) + ?4 ELSE copy_chunks END,"
        " copy_rate_at = CASE WHEN ?5 - copy_mark_at >= ?6 THEN copy_mark_at ELSE copy_rate_at END,"
        " copy_rate_rows = CASE WHEN ?5 - copy_mark_at >= ?6 THEN copy_mark_rows ELSE copy_rate_rows END,"
        " copy_mark_rows = CASE WHEN copy_mark_at IS NULL OR ?5 - copy_mark_at >= ?6"
        "                       THEN rows_copied + ?3 ELSE copy_mark_rows END,"
        " copy_mark_at = CASE WHEN copy_mark_at IS NULL OR ?5 - copy_mark_at >= ?6 THEN ?5"
        "                     ELSE copy_mark_at END,"
        " updated_at = ?5 WHERE integration = ?1 AND name = ?2",
    [SQ_TABLE_STATE_GET] = "SELECT state FROM tables WHERE integration = ?1 AND name = ?2",
    [SQ_TABLE_STATE_SET] =
        "INSERT INTO tables (integration, name, target, state, reason, updated_at)"
        " VALUES (?1, ?2, ?2, ?3, ?4, ?5)"
        " ON CONFLICT (integration, name) DO UPDATE SET state = ?3, reason = ?4,"
        " updated_at = ?5,"
        /* ?6: a copy is now due, not begun: the last copy's figures go */
        " rows_copied = CASE WHEN ?6 THEN 0 ELSE rows_copied END,"
        " rows_estimated = CASE WHEN ?6 THEN 0 ELSE rows_estimated END,"
        " copy_chunks = CASE WHEN ?6 THEN NULL ELSE copy_chunks END,"
        " copy_started_at = CASE WHEN ?6 THEN NULL ELSE copy_started_at END,"
        " copy_rate_at = CASE WHEN ?6 THEN NULL ELSE copy_rate_at END,"
        " copy_rate_rows = CASE WHEN ?6 THEN NULL ELSE copy_rate_rows END,"
        " copy_mark_at = CASE WHEN ?6 THEN NULL ELSE copy_mark_at END,"
        " copy_mark_rows = CASE WHEN ?6 THEN NULL ELSE copy_mark_rows END",
    [SQ_ACTIVITY_INSERT] =
        "INSERT INTO activity (integration, at, pos_from, pos_to, transactions,"
        "                      inserted, updated, deleted, bytes, duration_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [SQ_LAG_INSERT] =
        "INSERT INTO lag_samples (integration, at, lag_ms, bytes_behind)"
        " VALUES (?1, ?2, ?3, ?4)",
    [SQ_EVENT_INSERT] =
        "INSERT INTO events (at, integration, tbl, level, kind, message, actor)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [SQ_CMD_INSERT] =
        "INSERT INTO commands (integration, tbl, command, actor, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [SQ_CMD_PENDING] =
        "SELECT id, integration, tbl, command, actor, created_at, claimed_at, done_at,"
        " result FROM commands WHERE integration = ?1 AND claimed_at IS NULL ORDER BY id",
    [SQ_CMD_ENDING] =
        "SELECT EXISTS (SELECT 1 FROM commands WHERE integration = ?1 AND claimed_at IS NULL"
        " AND command IN ('pause', 'delete', 'stop'))",
    [SQ_CMD_CLAIM] =
        "UPDATE commands SET claimed_at = ?2 WHERE id = ?1 AND claimed_at IS NULL",
    [SQ_CMD_GET] =
        "SELECT id, integration, tbl, command, actor, created_at, claimed_at, done_at,"
        " result FROM commands WHERE id = ?1",
    [SQ_CMD_DONE] =
        "UPDATE commands SET done_at = ?2, result = ?3"
        " WHERE id = ?1 AND claimed_at IS NOT NULL AND done_at IS NULL",
    /* Merge raw samples older than ?1 into their minute's rollup. */
    [SQ_PRUNE_ROLLUP] =
        "INSERT INTO lag_rollups (integration, minute, n, lag_min, lag_sum, lag_max,"
        "                         bytes_max)"
        " SELECT integration, (at / 60000) * 60000, count(*), min(lag_ms), sum(lag_ms),"
        "        max(lag_ms), max(bytes_behind)"
        " FROM lag_samples WHERE at < ?1 GROUP BY 1, 2"
        " ON CONFLICT (integration, minute) DO UPDATE SET"
        "  n = n + excluded.n,"
        "  lag_min = min(lag_min, excluded.lag_min),"
        "  lag_sum = lag_sum + excluded.lag_sum,"
        "  lag_max = max(lag_max, excluded.lag_max),"
        "  bytes_max = CASE WHEN bytes_max IS NULL THEN excluded.bytes_max"
        "                   WHEN excluded.bytes_max IS NULL THEN bytes_max"
        "                   ELSE max(bytes_max, excluded.bytes_max) END",
    [SQ_PRUNE_RAW] = "DELETE FROM lag_samples WHERE at < ?1",
    [SQ_PRUNE_ROLLUPS] = "DELETE FROM lag_rollups WHERE minute < ?1",
    [SQ_PRUNE_EVENTS] =
        "DELETE FROM events WHERE id <= (SELECT id FROM events ORDER BY id DESC"
        " LIMIT 1 OFFSET ?1)",
    [SQ_PRUNE_ACTIVITY] =
        "DELETE FROM activity WHERE id <= (SELECT id FROM activity ORDER BY id DESC"
        " LIMIT 1 OFFSET ?1)",
    [SQ_PRUNE_COMMANDS] = "DELETE FROM commands WHERE done_at IS NOT NULL AND done_at < ?1",
    [SQ_DEL_TABLES]   = "DELETE FROM tables WHERE integration = ?1",
    [SQ_DEL_INTEG]    = "DELETE FROM integrations WHERE name = ?1",
    [SQ_DEL_ACTIVITY] = "DELETE FROM activity WHERE integration = ?1",
    [SQ_DEL_LAG]      = "DELETE FROM lag_samples WHERE integration = ?1",
    [SQ_DEL_ROLLUPS]  = "DELETE FROM lag_rollups WHERE integration = ?1",
    [SQ_DEL_COMMANDS] = "DELETE FROM commands WHERE integration = ?1 AND done_at IS NULL",
    [SQ_READ_INTEGS] =
        "SELECT name, state, reason, source, target, position, lag_ms, bytes_behind,"
        " updated_at, wait_kind, wait_since, wait_what, wait_detail, wait_holders,"
        " wait_pid, wait_user, wait_state, wait_holder_since, wait_query,"
        " retry_attempt, retry_at, lag_basis_at, lag_pending, lag_res_ms, stall_from, stall_ms,"
        " source_position, source_position_at, bytes_between, files_between, binlog_expire_s,"
        " checkpoint_commit_at, ha_role, ha_member, ha_holder, ha_holder_pid, ha_epoch, ha_standbys"
        " FROM integrations WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
    [SQ_READ_TABLES] =
        "SELECT integration, name, target, state, reason, rows_copied, rows_estimated,"
        " inserts, updates, deletes, last_applied_at, lag_ms, updated_at, lag_basis_at,"
        " copy_started_at, copy_chunks, copy_rate_at, copy_rate_rows, shape"
        " FROM tables WHERE ?1 IS NULL OR integration = ?1 ORDER BY integration, name",
    [SQ_INTEG_BASIS_GET] =
        "SELECT lag_basis_at, lag_pending, lag_res_ms, stall_from, stall_ms,"
        " (SELECT max(at) FROM lag_samples WHERE integration = ?1)"
        " FROM integrations WHERE name = ?1",
    [SQ_INTEG_SOURCE_SET] =
        "UPDATE integrations SET source_position = ?2, source_position_at = ?3, bytes_between = ?4,"
        " files_between = ?5, binlog_expire_s = ?6, checkpoint_commit_at = ?7 WHERE name = ?1",
    [SQ_INTEG_HA_SET] =
        "UPDATE integrations SET ha_role = ?2, ha_member = ?3, ha_holder = ?4, ha_holder_pid = ?5,"
        " ha_epoch = ?6, ha_standbys = ?7 WHERE name = ?1",
    [SQ_INTEG_BASIS_SET] =
        "UPDATE integrations SET lag_basis_at = ?2, lag_pending = ?3, lag_res_ms = ?4,"
        " stall_from = ?5, stall_ms = ?6 WHERE name = ?1",
    /* A table that stops applying keeps when it was last current: the
     * integration's basis then (a fresh proof: now), or an earlier stop. */
    [SQ_TABLE_LAG_BASIS] =
        "UPDATE tables SET lag_basis_at ="
        " CASE WHEN ?3 IN ('failed', 'resync_required', 'resyncing') THEN"
        "  coalesce(lag_basis_at,"
        "   (SELECT CASE WHEN lag_pending = 1 OR ?4 - lag_basis_at >= ?5 THEN lag_basis_at"
        "                ELSE ?4 END"
        "    FROM integrations WHERE name = ?1 AND lag_basis_at IS NOT NULL), ?4)"
        " END WHERE integration = ?1 AND name = ?2",
    [SQ_READ_ACTIVITY] =
        "SELECT id, integration, at, pos_from, pos_to, transactions, inserted, updated,"
        " deleted, bytes, duration_ms FROM activity"
        " WHERE ?1 IS NULL OR integration = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
    /* A rollup minute [m, m + 60000) is included when it reaches past ?2. */
    [SQ_READ_LAG] =
        "SELECT at, lag_ms, lag_ms, lag_ms, bytes_behind, 1 FROM lag_samples"
        " WHERE integration = ?1 AND at >= ?2"
        " UNION ALL"
        " SELECT minute, CAST(round(CAST(lag_sum AS REAL) / n) AS INTEGER), lag_min,"
        "        lag_max, bytes_max, n FROM lag_rollups"
        " WHERE integration = ?1 AND minute > ?2 - 60000"
        " ORDER BY 1 DESC",
    [SQ_READ_EVENTS] =
        "SELECT id, at, integration, tbl, level, kind, message, actor FROM events"
        " WHERE (?1 IS NULL OR integration = ?1) AND (?2 IS NULL OR tbl = ?2)"
        "   AND (CASE level WHEN 'error' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END) >= ?3"
        " ORDER BY id DESC LIMIT ?4",
};

sqlite3_stmt *sl_stmt(struct statelog *sl, enum sl_stmt_id id, const char *op)
{
    sqlite3_stmt *st = sl->stmt[id];

    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    if (sqlite3_prepare_v3(sl->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                           &st, NULL) != SQLITE_OK) {
        sl_fail(sl, op);
        sqlite3_finalize(st);
        return NULL;
    }
    sl->stmt[id] = st;
    return st;
}

int sl_step_done(struct statelog *sl, sqlite3_stmt *st, const char *op)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return sl_fail(sl, op);
    return 0;
}

/* ---- errors ---------------------------------------------------------------- */

int sl_fail(struct statelog *sl, const char *op)
{
    int code = sl->db ? sqlite3_extended_errcode(sl->db) : SQLITE_CANTOPEN;

    if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB)
        sl->bad = SL_CORRUPT;
    else if (code == SQLITE_READONLY_DBMOVED && sl->bad == SL_OK)
        sl->bad = SL_MOVED;
    snprintf(sl->err, sizeof sl->err, "statelog %s: %s: %s", sl->path, op,
             sl->db ? sqlite3_errmsg(sl->db) : "not open");
    return -1;
}

int sl_failf(struct statelog *sl, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(sl->err, sizeof sl->err, "statelog %s: ", sl->path);

    if (n < 0 || (size_t)n >= sizeof sl->err)
        n = 0;
    va_start(ap, fmt);
    vsnprintf(sl->err + n, sizeof sl->err - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

const char *statelog_error(const struct statelog *sl)
{
    return sl ? sl->err : "statelog: no handle";
}

const char *statelog_path(const struct statelog *sl)
{
    return sl->path;
}

/* ---- binding and columns ---------------------------------------------------- */

int sl_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

int sl_bind_unknown(sqlite3_stmt *st, int i, int64_t v)
{
    return v < 0 ? sqlite3_bind_null(st, i) : sqlite3_bind_int64(st, i, v);
}

int sl_bind_time(sqlite3_stmt *st, int i, int64_t v)
{
    return v == 0 ? sqlite3_bind_null(st, i) : sqlite3_bind_int64(st, i, v);
}

char *sl_col_str(sqlite3_stmt *st, int i, int *oom)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    char *s;

    if (!t)
        return NULL;
    s = strdup((const char *)t);
    if (!s)
        *oom = 1;
    return s;
}

int64_t sl_col_i64(sqlite3_stmt *st, int i, int64_t dflt)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, i);
}

int64_t statelog_now_ms(void) { return zclock_wall_ms(); }

/* ---- transactions ----------------------------------------------------------- */

static int exec(struct statelog *sl, const char *sql, const char *op)
{
    if (sqlite3_exec(sl->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return sl_fail(sl, op);
    return 0;
}

int sl_tx_begin(struct statelog *sl, int write, const char *op)
{
    const char *sql;

    if (sl->txdepth > 0)
        sql = "SAVEPOINT sl";
    else
        sql = write ? "BEGIN IMMEDIATE" : "BEGIN";
    if (exec(sl, sql, op) < 0)
        return -1;
    sl->txdepth++;
    return 0;
}

int sl_tx_commit(struct statelog *sl, const char *op)
{
    if (exec(sl, sl->txdepth > 1 ? "RELEASE sl" : "COMMIT", op) < 0) {
        /* A commit that failed on a bad file ends the transaction, so the
         * next call (at depth 0) can heal; a caller that ignores the error
         * (a batch's bookkeeping) must not stay inside it forever. */
        if (sl->bad != SL_OK && sl->txdepth == 1) {
            sqlite3_exec(sl->db, "ROLLBACK", NULL, NULL, NULL);
            sl->txdepth = 0;
        }
        return -1;
    }
    sl->txdepth--;
    return 0;
}

void sl_tx_rollback(struct statelog *sl)
{
    if (sl->txdepth <= 0)
        return;
    if (sl->txdepth > 1) {
        sqlite3_exec(sl->db, "ROLLBACK TO sl; RELEASE sl", NULL, NULL, NULL);
    } else if (!sqlite3_get_autocommit(sl->db)) {
        sqlite3_exec(sl->db, "ROLLBACK", NULL, NULL, NULL);
    }
    sl->txdepth--;
}

/* ---- the state directory's lock and the file ------------------------------------ */

int sl_dir_lock(const char *path)
{
    char *dir = strdup(path), *slash;
    int fd = -1;

    if (!dir)
        return -1;
    slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    /* A directory that cannot be locked (an odd file system) still works:
     * the lock only orders concurrent heals. */
    while (fd >= 0 && flock(fd, LOCK_EX) < 0 && errno == EINTR)
        ;
    return fd;
}

void sl_dir_unlock(int fd)
{
    if (fd >= 0)
        close(fd);                   /* drops the flock */
}

void sl_side_path(char *buf, size_t len, const char *path, const char *suffix)
{
    snprintf(buf, len, "%s%s", path, suffix);
}

/*
 * Create the file 0600 when missing (whatever the umask), tighten it if not.
 * Caller holds the directory lock when the file may be missing.
 *
 * Never open() and close() an existing database file here: POSIX record
 * locks belong to the process, so closing ANY descriptor of the file drops
 * the locks of every other SQLite connection to it in this process (the
 * console's data thread beside an embedded runtime, parallel copy workers),
 * which then read stale snapshots. An existing file is chmod()ed by path; a
 * missing one is created with O_EXCL, when nothing can have it open.
 *
 * A -wal or -shm without its database belongs to a deleted file (a handle
 * may still write to it): SQLite would replay that WAL into the new file
 * and share that wal-index with the old one, so they are removed first.
 */
int sl_create_locked(const char *path, char *err, size_t errlen)
{
    char side[4096];
    struct stat st;
    int fd, rc = 0;

    if (stat(path, &st) == 0) {
        if ((st.st_mode & 0777) != 0600 && chmod(path, 0600) < 0) {
            snprintf(err, errlen, "state log %s: cannot set mode 0600: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    sl_side_path(side, sizeof side, path, "-wal");
    unlink(side);
    sl_side_path(side, sizeof side, path, "-shm");
    unlink(side);
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return sl_create_locked(path, err, errlen);   /* created by a process without the lock */
    if (fd < 0) {
        snprintf(err, errlen, "state log %s: cannot create: %s", path, strerror(errno));
        return -1;
    }
    if (fchmod(fd, 0600) < 0) {         /* a new, empty file: no connection has it open */
        snprintf(err, errlen, "state log %s: cannot set mode 0600: %s", path, strerror(errno));
        rc = -1;
    }
    close(fd);
    return rc;
}

int sl_make_file(const char *path, char *err, size_t errlen)
{
    struct stat st;
    int lock, rc;

    if (stat(path, &st) == 0)
        return sl_create_locked(path, err, errlen);    /* only tightens the mode */
    lock = sl_dir_lock(path);
    rc = sl_create_locked(path, err, errlen);
    sl_dir_unlock(lock);
    return rc;
}

/* ---- the connection ------------------------------------------------------------ */

static int pragma_int(struct statelog *sl, const char *sql, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(sl->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sl_fail(sl, sql);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sl_fail(sl, sql);
        sqlite3_finalize(st);
        return -1;
    }
    *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* PRAGMA quick_check: "ok", or the first problem (the file is corrupt). It
 * reads every page once: milliseconds for the pruned, bounded log. */
static int quick_check(struct statelog *sl)
{
    sqlite3_stmt *st = NULL;
    const char *row;
    int rc = -1, step;

    if (sqlite3_prepare_v2(sl->db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK)
        return sl_fail(sl, "quick_check");
    step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        sl_fail(sl, "quick_check");
        goto out;
    }
    row = (const char *)sqlite3_column_text(st, 0);
    if (!row || strcmp(row, "ok") != 0) {
        sl->bad = SL_CORRUPT;
        sl_failf(sl, "quick_check: %.160s", row ? row : "no answer");
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

static int refuse_newer(struct statelog *sl, int version)
{
    snprintf(sl->err, sizeof sl->err,
             "state log %s has schema version %d, this zetl knows up to %d; upgrade zetl",
             sl->path, version, STATELOG_SCHEMA_VERSION);
    return -1;
}

/* PRAGMA journal_mode answers the mode in force: a file system without
 * shared memory keeps the old one, which would break the two-process sharing. */
static int set_wal(struct statelog *sl)
{
    sqlite3_stmt *st = NULL;
    const char *mode;
    int rc = -1, step;

    if (sqlite3_prepare_v2(sl->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK)
        return sl_fail(sl, "set journal_mode=WAL");
    /* Two threads or processes opening a new file at once: the mode change
     * can answer SQLITE_BUSY at once, without the busy handler (SQLite will
     * not wait where waiting could deadlock). Try again for the busy time. */
    for (int waited = 0;; waited += 20) {
        step = sqlite3_step(st);
        if ((step & 0xff) != SQLITE_BUSY && (step & 0xff) != SQLITE_LOCKED) break;
        if (waited >= STATELOG_BUSY_MS) break;
        sqlite3_reset(st);
        sqlite3_sleep(20);
    }
    if (step != SQLITE_ROW) {
        sl_fail(sl, "set journal_mode=WAL");
        goto out;
    }
    mode = (const char *)sqlite3_column_text(st, 0);
    if (!mode || strcmp(mode, "wal") != 0) {
        sl_failf(sl, "set journal_mode=WAL: the file system kept journal mode %s; "
                 "put state_dir on a local file system", mode ? mode : "?");
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

/* Apply the missing steps, each in its own IMMEDIATE transaction; the version
 * is re-read inside it, so two processes opening a new file migrate once. */
static int migrate(struct statelog *sl)
{
    char sql[64];
    int v;

    for (;;) {
        if (sl_tx_begin(sl, 1, "migrate: begin") < 0)
            return -1;
        if (pragma_int(sl, "PRAGMA user_version", &v) < 0)
            goto rollback;
        if (v > STATELOG_SCHEMA_VERSION) {
            refuse_newer(sl, v);
            goto rollback;
        }
        if (v == STATELOG_SCHEMA_VERSION)
            break;
        if (exec(sl, migrations[v], "migrate") < 0)
            goto rollback;
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
        if (exec(sl, sql, "migrate: set user_version") < 0)
            goto rollback;
        if (sl_tx_commit(sl, "migrate: commit") < 0)
            goto rollback;
    }
    return sl_tx_commit(sl, "migrate: commit");

rollback:
    sl_tx_rollback(sl);
    return -1;
}

/* The connection at sl->path: created 0600 when missing, checked (user_version
 * readable, quick_check ok), WAL, migrated. On a corrupt file sl->bad is set
 * and the connection stays open: sl_heal moves the file aside before closing
 * it, so SQLite (which then sees the file moved) neither checkpoints into
 * nor deletes the WAL that goes aside with it. */
int sl_conn_open(struct statelog *sl)
{
    struct stat st;
    int v, rc;

    if (sl_make_file(sl->path, sl->err, sizeof sl->err) < 0)
        return -1;
    sl->dev = 0;
    sl->ino = 0;
    if (stat(sl->path, &st) == 0) {
        sl->dev = st.st_dev;
        sl->ino = st.st_ino;
    }
    rc = sqlite3_open_v2(sl->path, &sl->db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        if (sl->db)
            sl_fail(sl, "open");
        else
            snprintf(sl->err, sizeof sl->err, "statelog %s: open: out of memory", sl->path);
        goto fail;
    }
    sqlite3_extended_result_codes(sl->db, 1);
    if (sqlite3_busy_timeout(sl->db, STATELOG_BUSY_MS) != SQLITE_OK) {
        sl_fail(sl, "busy_timeout");
        goto fail;
    }
    /* Refuse a newer file before changing anything in it. */
    if (pragma_int(sl, "PRAGMA user_version", &v) < 0)
        goto fail;
    if (v > STATELOG_SCHEMA_VERSION) {
        refuse_newer(sl, v);
        goto fail;
    }
    if (quick_check(sl) < 0 || set_wal(sl) < 0 ||
        exec(sl, "PRAGMA synchronous = NORMAL", "set synchronous=NORMAL") < 0 ||
        exec(sl, "PRAGMA foreign_keys = ON", "set foreign_keys") < 0)
        goto fail;
    /* Up to date (the common case): no write lock needed to open. */
    if (v < STATELOG_SCHEMA_VERSION && migrate(sl) < 0) {
        /* Another process may have made the file newer meanwhile. */
        if (pragma_int(sl, "PRAGMA user_version", &v) == 0 && v > STATELOG_SCHEMA_VERSION)
            refuse_newer(sl, v);
        goto fail;
    }
    return 0;

fail:
    if (sl->bad != SL_CORRUPT)
        sl_conn_close(sl);
    return -1;
}

void sl_conn_close(struct statelog *sl)
{
    for (int i = 0; i < SQ_COUNT; i++) {
        sqlite3_finalize(sl->stmt[i]);
        sl->stmt[i] = NULL;
    }
    sqlite3_close(sl->db);
    sl->db = NULL;
    sl->txdepth = 0;
}
