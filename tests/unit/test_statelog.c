/*
 * test_statelog.c — the SQLite log: migrations, file mode, transitions,
 * counts, reads, lag rollup and pruning, the command queue, status JSON.
 * Each test works in its own directory under one mktemp -d root.
 */
#include "tests/unit/test.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/log/statelog.h"

static char root[256];
static int dir_seq;

/* A fresh path ROOT/tN/SUB/zetl.db (the directory is not created). */
static void fresh_path(char *buf, size_t len, const char *sub)
{
    snprintf(buf, len, "%s/t%d/%s/zetl.db", root, ++dir_seq, sub);
}

static int raw_exec_int(const char *path, const char *sql, long long *out)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW && out)
        *out = sqlite3_column_int64(st, 0);
    rc = (s == SQLITE_ROW || s == SQLITE_DONE) ? 0 : -1;
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

static struct statelog *open_or_die(const char *path)
{
    struct statelog *sl = NULL;
    char err[256];

    if (statelog_open(&sl, path, err, sizeof err) < 0) {
        printf("FAIL %s: open %s — expected success, saw \"%s\"\n", test_current_, path, err);
        exit(1);
    }
    return sl;
}

static void add_integration(struct statelog *sl, const char *name)
{
    struct statelog_integration g = {
        .name = (char *)name, .state = "active", .source = "mysql://127.0.0.1:3306",
        .target = "postgres://127.0.0.1:5432/warehouse", .lag_ms = -1, .bytes_behind = -1,
    };
    if (statelog_upsert_integration(sl, &g) < 0)
        printf("FAIL %s: upsert %s — %s\n", test_current_, name, statelog_error(sl));
}

/* ---- open and migrations ------------------------------------------------------- */

static void test_migrate_empty(void)
{
    char path[512], dir[512];
    long long v = -1, n = -1;
    struct stat st;
    struct statelog *sl;

    fresh_path(path, sizeof path, "state/nested");
    sl = open_or_die(path);
    statelog_close(sl);
    CHECK(raw_exec_int(path, "PRAGMA user_version", &v) == 0, "user_version readable");
    CHECK_INT(v, STATELOG_SCHEMA_VERSION, "user_version is the latest after migrating 0");
    raw_exec_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                 "('integrations','tables','activity','lag_samples','lag_rollups','events',"
                 "'commands')", &n);
    CHECK_INT(n, 7, "all seven tables exist");
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700, "missing parent dir created 0700");
    {
        sqlite3 *db;
        sqlite3_stmt *q;
        sqlite3_open(path, &db);
        sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL);
        sqlite3_step(q);
        CHECK_STR((const char *)sqlite3_column_text(q, 0), "wal", "journal mode is WAL");
        sqlite3_finalize(q);
        sqlite3_close(db);
    }
}

static void test_reopen_noop(void)
{
    char path[512];
    long long v = -1;
    struct statelog *sl, *sl2;
    struct statelog_integration *g;
    size_t n;

    fresh_path(path, sizeof path, "s");
    sl = open_or_die(path);
    add_integration(sl, "tickit");
    statelog_close(sl);
    sl = open_or_die(path);
    sl2 = open_or_die(path);          /* a second handle at the same time */
    raw_exec_int(path, "PRAGMA user_version", &v);
    CHECK_INT(v, STATELOG_SCHEMA_VERSION, "reopening keeps user_version");
    CHECK(statelog_list_integrations(sl2, NULL, &g, &n) == 0, "list after reopen");
    CHECK_INT(n, 1, "reopening keeps the rows");
    CHECK_STR(n ? g[0].name : NULL, "tickit", "the row is the one written");
    statelog_free_integrations(g, n);
    statelog_close(sl2);
    statelog_close(sl);
}

/* A version-1 log (commands with a CHECK on the command's name) migrates:
 * its commands are kept, and the resnapshot command can be queued. */
static void test_migrate_v1_commands(void)
{
    char path[512];
    long long v = -1, n = -1;
    int64_t id = 0;
    struct statelog *sl;
    sqlite3 *db = NULL;

    fresh_path(path, sizeof path, "v4");
    sl = open_or_die(path);
    statelog_close(sl);
    /* Back to version 4's commands table (a CHECK on the name), holding a
     * pending pause, without version 6's source columns and version 7's copy
     * columns, version 8's shape and version 9's ha columns; only the steps
     * from 4 on run again. */
    sqlite3_open(path, &db);
    CHECK(sqlite3_exec(db, "DROP TABLE commands; CREATE TABLE commands (id INTEGER PRIMARY KEY,"
                           " integration TEXT NOT NULL, tbl TEXT, command TEXT NOT NULL"
                           " CHECK (command IN ('pause', 'resume', 'resync', 'delete', 'stop', 'retry')),"
                           " actor TEXT, created_at INTEGER NOT NULL, claimed_at INTEGER, done_at INTEGER,"
                           " result TEXT); CREATE INDEX commands_pending ON commands(integration, claimed_at, id);"
                           " INSERT INTO commands (integration, command, actor, created_at)"
                           " VALUES ('tickit', 'pause', 'ops', 1);"
                           " ALTER TABLE integrations DROP COLUMN source_position;"
                           " ALTER TABLE integrations DROP COLUMN source_position_at;"
                           " ALTER TABLE integrations DROP COLUMN bytes_between;"
                           " ALTER TABLE integrations DROP COLUMN files_between;"
                           " ALTER TABLE integrations DROP COLUMN binlog_expire_s;"
                           " ALTER TABLE integrations DROP COLUMN checkpoint_commit_at;"
                           " ALTER TABLE tables DROP COLUMN copy_started_at;"
                           " ALTER TABLE tables DROP COLUMN copy_chunks;"
                           " ALTER TABLE tables DROP COLUMN copy_rate_at;"
                           " ALTER TABLE tables DROP COLUMN copy_rate_rows;"
                           " ALTER TABLE tables DROP COLUMN copy_mark_at;"
                           " ALTER TABLE tables DROP COLUMN copy_mark_rows;"
                           " ALTER TABLE tables DROP COLUMN shape;"
                           " ALTER TABLE integrations DROP COLUMN ha_role;"
                           " ALTER TABLE integrations DROP COLUMN ha_member;"
                           " ALTER TABLE integrations DROP COLUMN ha_holder;"
                           " ALTER TABLE integrations DROP COLUMN ha_holder_pid;"
                           " ALTER TABLE integrations DROP COLUMN ha_epoch;"
                           " ALTER TABLE integrations DROP COLUMN ha_standbys;"
                           " PRAGMA user_version = 4",
                       NULL, NULL, NULL) == SQLITE_OK, "a version-4 commands table made");
    sqlite3_close(db);
    sl = open_or_die(path);
    raw_exec_int(path, "PRAGMA user_version", &v);
    CHECK_INT(v, STATELOG_SCHEMA_VERSION, "version 4 migrated to the latest");
    raw_exec_int(path, "SELECT count(*) FROM commands WHERE command = 'pause' AND actor = 'ops'", &n);
    CHECK_INT(n, 1, "the pending command is kept");
    CHECK(statelog_enqueue_command(sl, "tickit", NULL, "resnapshot", "ops", &id) == 0,
          "resnapshot can be queued after the migration");
    CHECK(statelog_enqueue_command(sl, "tickit", NULL, "bogus", "ops", &id) < 0,
          "an unknown command is still refused");
    statelog_close(sl);
}

static void test_newer_refused(void)
{
    char path[512], err[256], want[700];
    long long v = -1, n = -1;
    struct statelog *sl = (struct statelog *)1;

    fresh_path(path, sizeof path, "s");
    sl = open_or_die(path);               /* creates dir and file */
    statelog_close(sl);
    unlink(path);
    raw_exec_int(path, "PRAGMA user_version = 999", NULL);
    CHECK_INT(statelog_open(&sl, path, err, sizeof err), -1, "a file from a newer zetl is refused");
    CHECK(sl == NULL, "no handle on refusal");
    snprintf(want, sizeof want, "state log %s has schema version 999, this zetl knows up to %d; "
             "upgrade zetl", path, STATELOG_SCHEMA_VERSION);
    CHECK_STR(err, want, "refusal message");
    raw_exec_int(path, "PRAGMA user_version", &v);
    CHECK_INT(v, 999, "the newer file's version is untouched");
    raw_exec_int(path, "SELECT count(*) FROM sqlite_master", &n);
    CHECK_INT(n, 0, "nothing was created in the newer file");
}

static void test_file_mode(void)
{
    char path[512], wal[520];
    struct stat st;
    struct statelog *sl;
    mode_t old = umask(022);

    fresh_path(path, sizeof path, "s");
    sl = open_or_die(path);
    add_integration(sl, "x");
    CHECK(stat(path, &st) == 0, "file exists");
    CHECK_INT(st.st_mode & 0777, 0600, "new file is 0600 under umask 022");
    snprintf(wal, sizeof wal, "%s-wal", path);
    CHECK(stat(wal, &st) == 0 && (st.st_mode & 0777) == 0600, "WAL file is 0600 too");
    statelog_close(sl);
    chmod(path, 0644);
    sl = open_or_die(path);
    stat(path, &st);
    CHECK_INT(st.st_mode & 0777, 0600, "an existing 0644 file is tightened to 0600");
    statelog_close(sl);
    umask(old);
}

/* ---- writes ------------------------------------------------------------------------ */

static void test_transition(void)
{
    char path[512];
    struct statelog *sl;
    struct statelog_integration *g = NULL;
    struct statelog_event *e = NULL;
    size_t n = 0, ne = 0;

    fresh_path(path, sizeof path, "s");
    sl = open_or_die(path);
    add_integration(sl, "tickit");
    CHECK_INT(statelog_record_transition(sl, "tickit", NULL, NULL, "paused", "operator pause",
                                         "alice from 10.0.0.7"), 0, "integration transition");
    CHECK_INT(statelog_record_transition(sl, "tickit", "tickit.sales", NULL, "resync_required",
                                         "unsupported DDL: ALTER TABLE", NULL), 0,
              "table transition creates the table row");
    CHECK_INT(statelog_record_transition(sl, "tickit", NULL, NULL, "sleeping", NULL, NULL), -1,
              "unknown integration state refused");
    CHECK(strstr(statelog_error(sl), "unknown integration state \"sleeping\"") != NULL,
          "error names the unknown state");
    CHECK_INT(statelog_record_transition(sl, "tickit", "t", NULL, "active", NULL, NULL), -1,
              "integration state is not a table state");

    statelog_list_integrations(sl, NULL, &g, &n);
    CHECK_INT(n, 1, "one integration");
    if (n == 1) {
        CHECK_STR(g[0].state, "paused", "integration state written");
        CHECK_STR(g[0].reason, "operator pause", "integration reason written");
        CHECK_INT(g[0].ntables, 1, "one table");
        if (g[0].ntables == 1) {
            CHECK_STR(g[0].tables[0].state, "resync_required", "table state written");
            CHECK_STR(g[0].tables[0].target, "tickit.sales", "new table row: target = name");
        }
    }
    statelog_free_integrations(g, n);

    statelog_recent_events(sl, NULL, 10, &e, &ne);
    CHECK_INT(ne, 2, "one event per transition, none for refused ones");
    if (ne == 2) {
        CHECK_STR(e[0].kind, "transition", "event kind");
        CHECK_STR(e[0].table, "tickit.sales", "newest first: the table transition");
        CHECK_STR(e[0].level, "warning", "resync_required is a warning");
        CHECK_STR(e[0].message, "(new) -> resync_required: unsupported DDL: ALTER TABLE",
                  "table transition message");
        CHECK_STR(e[1].actor, "alice from 10.0.0.7", "actor recorded");
        CHECK_STR(e[1].message, "active -> paused: operator pause", "from state read from the row");
        CHECK(e[1].table == NULL, "integration event has no table");
    }
    statelog_free_events(e, ne);

    /* A transition to synced with no reason clears the reason. */
    statelog_record_transition(sl, "tickit", "tickit.sales", "resync_required", "synced", NULL,
                               NULL);
    statelog_list_integrations(sl, "tickit", &g, &n);
    CHECK(n == 1 && g[0].ntables == 1 && g[0].tables[0].reason == NULL,
          "reason cleared by a transition without one");
    statelog_free_integrations(g, n);

    /* A table of an integration that does not exist: refused (foreign key). */
    CHECK_INT(statelog_record_transition(sl, "ghost", "t", NULL, "synced", NULL, NULL), -1,
              "table of an unknown integration refused");
    statelog_close(sl);
}

static void test_counts(void)
{
    char path[512];
    struct statelog *sl;
    struct statelog_integration *g = NULL;
    size_t n = 0;
    struct statelog_table t = {
        .integration = "tickit", .name = "tickit.sales", .target = "dw.sales",
        .state = "snapshotting", .rows_copied = 100, .rows_estimated = 1000,
        .inserts = 5, .lag_ms = -1,
    };

    fresh_path(path, sizeof path, "s");
    sl = open_or_die(path);
    add_integration(sl, "tickit");
    CHECK_INT(statelog_upsert_table(sl, &t), 0, "upsert table");
    CHECK_INT(statelog_add_table_counts(sl, "tickit", "tickit.sales", 10, 2, 1, 50, 0), 0, "add 1");
    CHECK_INT(statelog_add_table_counts(sl, "tickit", "tickit.sales", 7, 3, 0, 25,
                                        1795255200000LL), 0, "add 2");
    CHECK_INT(statelog_add_table_counts(sl, "tickit", "nope", 1, 0, 0, 0, 0), -1,
              "adding to a missing table fails");
    CHECK(strstr(statelog_error(sl), "no table nope in integration tickit") != NULL,
          "error names the missing table");
    statelog_list_integrations(sl, "tickit", &g, &n);
    if (n == 1 && g[0].ntables == 1) {
        struct statelog_table *r = &g[0].tables[0];
        CHECK_INT(r->inserts, 22, "inserts add up");
        CHECK_INT(r->updates, 5, "updates add up");
        CHECK_INT(r->deletes, 1, "deletes add up");
        CHECK_INT(r->rows_copied, 175, "rows_copied adds up");
        CHECK_INT(r->rows_estimated, 1000, "rows_estimated kept");
        CHECK_INT(r->last_applied_at, 1795255200000LL, "last_applied_at set");
        CHECK_STR(r->target, "dw.sales", "target kept");
    } else {
        CHECK(0, "one integration with one table");
    }
    statelog_free_integrations(g, n);

    /* An upsert with state NULL keeps the state; counters are absolute. */
    t.state = NULL;
    t.inserts = 1;
    statelog_upsert_table(sl, &t);
    statelog_list_integrations(sl, "tickit", &g, &n);
    CHECK(n == 1 && g[0].ntables == 1 && strcmp(g[0].tables[0].state, "snapshotting") == 0,
          "upsert without a state keeps it");
    CHECK(n == 1 && g[0].ntables == 1 && g[0].tables[0].inserts == 1,
          "upsert sets counters absolutely");
    statelog_free_integrations(g, n);

    /* A batch in one transaction, rolled back: nothing visible. */
    CHECK_INT(statelog_begin(sl), 0, "begin");
    statelog_add_table_counts(sl, "tickit", "tickit.sales", 1000, 0, 0, 0, 0);
    statelog_record_activity(sl, &(struct statelog_activity){ .integration = "tickit" });
    statelog_rollback(sl);
    statelog_list_integrations(sl, "tickit", &g, &n);
    CHECK(n == 1 && g[0].ntables == 1 && g[0].tables[0].inserts == 1,
          "a rolled-back batch leaves the counts");
    statelog_free_integrations(g, n);
    int64_t c = -1;
    statelog_count_rows(sl, "activity", &c);
    CHECK_INT(c, 0, "a rolled-back batch leaves no activity");
    CHECK_INT(statelog_begin(sl), 0, "begin again");
    statelog_add_table_counts(sl, "tickit", "tickit.sales", 1000, 0, 0, 0, 0);
    statelog_record_transition(sl, "tickit", "tickit.sales", NULL, "synced", NULL, NULL);
    CHECK_INT(statelog_commit(sl), 0, "commit a batch with a nested transition");
    statelog_list_integrations(sl, "tickit", &g, &n);
    CHECK(n == 1 && g[0].ntables == 1 && g[0].tables[0].inserts == 1001,
          "a committed batch is visible");
    statelog_free_integrations(g, n);

    CHECK_INT(statelog_update_position(sl, "tickit", "binlog.000003:4567", 120, 0), 0,
              "update position");
    CHECK_INT(statelog_update_position(sl, "ghost", "x", 0, 0), -1,
              "update position of a missing integration fails");
    statelog_close(sl);
}

/* ---- reads ------------------------------------------------------------------------- */

static void test_newest_first(void)
{
    char path[512];
    struct statelog *sl;
    struct statelog_activity *a = NULL;
    struct statelog_lag_sample *l = NULL;
    struct statelog_event *e = NULL;
    size_t n = 0;
    int64_t t0 = 1795255200000LL;

    fresh_path(path, sizeof path, "s");
    sl = open_or_die(path);
    for (int i = 0; i < 3; i++) {
        char to[32];
        snprintf(to, sizeof to, "binlog.000001:%d", 100 * (i + 1));
        struct statelog_activity in = {
            .integration = "tickit", .at = t0 + i * 1000, .pos_from = "binlog.000001:4",
            .pos_to = to, .transactions = i + 1, .inserted = 10 * i, .updated = 1,
            .deleted = 2, .bytes = 1000, .duration_ms = 15,
        };
        statelog_record_activity(sl, &in);
        statelog_record_lag(sl, "tickit", t0 + i * 1000, 100 * i, 4096);
    }
    statelog_record_activity(sl, &(struct statelog_activity){ .integration = "other", .at = t0 });

    CHECK_INT(statelog_recent_activity(sl, "tickit", 2, &a, &n), 0, "recent activity");
    CHECK_INT(n, 2, "limit honoured");
    if (n == 2) {
        CHECK_STR(a[0].pos_to, "binlog.000001:300", "activity newest first");
        CHECK_STR(a[1].pos_to, "binlog.000001:200", "activity second newest");
        CHECK_INT(a[0].transactions, 3, "activity fields read back");
        CHECK_INT(a[0].inserted, 20, "activity inserted read back");
        CHECK_INT(a[0].duration_ms, 15, "activity duration read back");
    }
    statelog_free_activity(a, n);
    statelog_recent_activity(sl, NULL, 100, &a, &n);
    CHECK_INT(n, 4, "activity of all integrations");
    statelog_free_activity(a, n);

    CHECK_INT(statelog_record_lag(sl, "tickit", t0 + 5000, -1, -1), 0, "record unknown lag");
    CHECK_INT(statelog_lag_since(sl, "tickit", t0 + 500, &l, &n), 0, "lag since");
    CHECK_INT(n, 2, "lag samples at or after T; an unknown lag is not a sample");
    if (n == 2) {
        CHECK_INT(l[0].at, t0 + 2000, "lag newest first");
        CHECK_INT(l[0].lag_ms, 200, "lag value");
        CHECK_INT(l[0].bytes_behind, 4096, "bytes behind");
        CHECK_INT(l[0].samples, 1, "raw sample");
    }
    statelog_free_lag(l);

    statelog_record_event(sl, STATELOG_INFO, "tickit", NULL, "action", "bob", "paused by %s", "bob");
    statelog_record_event(sl, STATELOG_ERROR, "tickit", "tickit.sales", "error",
                          NULL, "apply failed: %d rows", 3);
    statelog_record_event(sl, STATELOG_WARNING, "tickit", "tickit.users", "warning", NULL, "slow");
    statelog_record_event(sl, STATELOG_INFO, NULL, NULL, "start", NULL, "zetl %s started", "0.1.0");
    CHECK_INT(statelog_recent_events(sl, NULL, 3, &e, &n), 0, "recent events");
    CHECK_INT(n, 3, "event limit honoured");
    if (n == 3) {
        CHECK_STR(e[0].message, "zetl 0.1.0 started", "events newest first, printf formatted");
        CHECK(e[0].integration == NULL, "process-wide event");
        CHECK_STR(e[2].message, "apply failed: 3 rows", "third newest");
    }
    statelog_free_events(e, n);
    struct statelog_event_filter f = { .min_level = STATELOG_WARNING };
    statelog_recent_events(sl, &f, 10, &e, &n);
    CHECK_INT(n, 2, "filter: warnings and errors");
    if (n == 2) {
        CHECK_STR(e[0].level, "warning", "newest warning-or-worse first");
        CHECK_STR(e[1].level, "error", "then the error");
    }
    statelog_free_events(e, n);
    f = (struct statelog_event_filter){ .integration = "tickit", .table = "tickit.sales" };
    statelog_recent_events(sl, &f, 10, &e, &n);
    CHECK_INT(n, 1, "filter: one table");
    CHECK_STR(n ? e[0].kind : NULL, "error", "filtered event");
    statelog_free_events(e, n);
    statelog_close(sl);
}

/* ---- lag rollup and pruning ---------------------------------------------------------- */

static void test_lag_rollup(void)
{
    char path[512];
    struct statelog *sl;
    struct statelog_limits lim;
    struct statelog_lag_sample *l = NULL;
    size_t n = 0;
    int64_t c = -1;
    const int64_t now = 1795255200000LL;            /* a minute boundary */
    const int64_t m1 = now - 2 * 3600 * 1000;       /* two hours ago */
    const int64_t m2 = m1 + 60000;

    fresh_path(path, sizeof path, "s");
    sl = open_or_die(path);
    statelog_get_limits(sl, &lim);
    lim.prune_every = 0;                 /* only explicit prunes here */
    statelog_set_limits(sl, &lim);
    add_integration(sl, "a");

    /* minute m1: lags 10, 20, 30, 40, 50, 60 (min 10, avg 35, max 60) */
    for (int i = 0; i < 6; i++)
        statelog_record_lag(sl, "a", m1 + i * 10000, 10 * (i + 1), 100 * i);
    /* minute m2: 7, 8 */
    statelog_record_lag(sl, "a", m2 + 1000, 7, -1);
    statelog_record_lag(sl, "a", m2 + 2000, 8, -1);
    /* older than 7 days: dropped after rollup */
    for (int i = 0; i < 4; i++)
        statelog_record_lag(sl, "a", now - 8LL * 24 * 3600 * 1000 + i * 1000, 1, 0);
    /* recent: stays raw */
    for (int i = 0; i < 5; i++)
        statelog_record_lag(sl, "a", now - 10 * 60000 + i * 1000, 500 + i, 0);
    /* another integration, old */
    statelog_record_lag(sl, "b", m1 + 5000, 99, 0);

    CHECK_INT(statelog_prune(sl, now), 0, "prune");
    statelog_count_rows(sl, "lag_samples", &c);
    CHECK_INT(c, 5, "only the last hour stays raw");
    statelog_count_rows(sl, "lag_rollups", &c);
    CHECK_INT(c, 3, "one rollup per integration and minute; 8-day-old minute dropped");

    CHECK_INT(statelog_lag_since(sl, "a", now - 3 * 3600 * 1000, &l, &n), 0, "lag since 3h");
    CHECK_INT(n, 7, "5 raw + 2 rollups merged");
    if (n == 7) {
        CHECK_INT(l[0].at, now - 10 * 60000 + 4000, "newest raw first");
        CHECK_INT(l[5].at, m2, "then the newer rollup");
        CHECK_INT(l[5].samples, 2, "rollup m2 counts 2 samples");
        CHECK_INT(l[5].bytes_behind, -1, "unknown bytes stay unknown");
        CHECK_INT(l[6].at, m1, "oldest rollup last");
        CHECK_INT(l[6].lag_min_ms, 10, "rollup min");
        CHECK_INT(l[6].lag_ms, 35, "rollup avg");
        CHECK_INT(l[6].lag_max_ms, 60, "rollup max");
        CHECK_INT(l[6].bytes_behind, 500, "rollup bytes = max");
        CHECK_INT(l[6].samples, 6, "rollup n");
    }
    statelog_free_lag(l);

    /* A late sample in an already rolled-up minute merges into it. */
    statelog_record_lag(sl, "a", m1 + 59000, 200, 0);
    statelog_prune(sl, now);
    statelog_prune(sl, now);             /* idempotent */
    statelog_count_rows(sl, "lag_rollups", &c);
    CHECK_INT(c, 3, "merge: no new rollup row");
    statelog_lag_since(sl, "a", m1, &l, &n);
    if (n >= 1) {
        CHECK_INT(l[n - 1].samples, 7, "merged n");
        CHECK_INT(l[n - 1].lag_max_ms, 200, "merged max");
        CHECK_INT(l[n - 1].lag_ms, (210 + 200 + 3) / 7, "merged avg");   /* 410/7 = 58.57 → 59 */
    }
    statelog_free_lag(l);

    /* Events and activity keep the newest N. */
    lim.events_max = 50;
    lim.activity_max = 20;
    statelog_set_limits(sl, &lim);
    for (int i = 0; i < 120; i++) {
        statelog_record_event(sl, STATELOG_INFO, "a", NULL, "info", NULL, "event %d", i);
        statelog_record_activity(sl, &(struct statelog_activity){ .integration = "a",
                                                                  .at = now + i });
    }
    statelog_prune(sl, now);
    statelog_count_rows(sl, "events", &c);
    CHECK_INT(c, 50, "events pruned to the bound");
    statelog_count_rows(sl, "activity", &c);
    CHECK_INT(c, 20, "activity pruned to the bound");
    struct statelog_event *e = NULL;
    statelog_recent_events(sl, NULL, 1, &e, &n);
    CHECK_STR(n ? e[0].message : NULL, "event 119", "the newest event survives");
    statelog_free_events(e, n);

    /* Automatic pruning from the record calls keeps the table bounded. */
    lim.prune_every = 10;
    lim.events_max = 25;
    statelog_set_limits(sl, &lim);
    for (int i = 0; i < 1000; i++)
        statelog_record_event(sl, STATELOG_INFO, "a", NULL, "info", NULL, "auto %d", i);
    statelog_count_rows(sl, "events", &c);
    CHECK(c >= 25 && c <= 35, "automatic pruning bounds events (25 + at most prune_every)");
    statelog_close(sl);
}

/* ---- command queue ----------------------------------------------------------------- */

static void test_commands(void)
{
    char path[512];
    struct statelog *console, *runtime;
    struct statelog_command *c = NULL, *got = NULL;
    size_t n = 0;
    int64_t id1 = 0, id2 = 0, id3 = 0;

    fresh_path(path, sizeof path, "s");
    console = open_or_die(path);
    runtime = open_or_die(path);
    CHECK_INT(statelog_enqueue_command(console, "tickit", NULL, "pause", "alice@10.0.0.7", &id1),
              0, "enqueue pause");
    CHECK_INT(statelog_enqueue_command(console, "tickit", "tickit.sales", "resync",
                                       "alice@10.0.0.7", &id2), 0, "enqueue resync");
    CHECK_INT(statelog_enqueue_command(console, "other", NULL, "stop", "bob", &id3), 0,
              "enqueue for another integration");
    CHECK_INT(statelog_enqueue_command(console, "tickit", NULL, "explode", "x", NULL), -1,
              "unknown command refused");
    CHECK_INT(statelog_enqueue_command(console, "tickit", NULL, "resync", "x", NULL), -1,
              "resync without a table refused");

    CHECK_INT(statelog_claim_commands(runtime, "tickit", &c, &n), 0, "claim");
    CHECK_INT(n, 2, "claims the integration's commands only");
    if (n == 2) {
        CHECK_INT(c[0].id, id1, "oldest first");
        CHECK_STR(c[0].command, "pause", "command text");
        CHECK_STR(c[1].table, "tickit.sales", "command table");
        CHECK_STR(c[1].actor, "alice@10.0.0.7", "command actor");
        CHECK(c[1].claimed_at != 0, "claimed_at set");
    }
    statelog_free_commands(c, n);
    CHECK_INT(statelog_claim_commands(console, "tickit", &c, &n), 0, "claim again");
    CHECK_INT(n, 0, "a command is claimed once");
    statelog_free_commands(c, n);

    CHECK_INT(statelog_complete_command(runtime, id2, "ok"), 0, "complete");
    CHECK_INT(statelog_complete_command(runtime, id2, "ok"), -1, "complete twice fails");
    CHECK_INT(statelog_complete_command(runtime, id3, "ok"), -1, "complete unclaimed fails");
    CHECK(strstr(statelog_error(runtime), "not claimed") != NULL, "error says not claimed");
    CHECK_INT(statelog_get_command(console, id2, &got), 0, "get command");
    if (got) {
        CHECK(got->done_at != 0, "done_at recorded");
        CHECK_STR(got->result, "ok", "result recorded");
    }
    statelog_free_commands(got, 1);
    CHECK_INT(statelog_get_command(console, 9999, &got), -1, "get a missing command fails");

    struct statelog_event *e = NULL;
    struct statelog_event_filter f = { .integration = "tickit" };
    statelog_recent_events(console, &f, 10, &e, &n);
    CHECK_INT(n, 3, "two action events and one command event");
    if (n == 3) {
        CHECK_STR(e[0].kind, "command", "completion event");
        CHECK_STR(e[0].message, "command 2: resync table tickit.sales: ok", "completion message");
        CHECK_STR(e[0].actor, "alice@10.0.0.7", "completion keeps the actor");
        CHECK_STR(e[2].kind, "action", "enqueue is an operator action");
        CHECK_STR(e[2].actor, "alice@10.0.0.7", "action actor");
    }
    statelog_free_events(e, n);
    statelog_close(runtime);
    statelog_close(console);
}

/* ---- status JSON ------------------------------------------------------------------ */

static char *status_json(struct statelog *sl, const char *only)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (statelog_write_status_json(sl, f, only) < 0)
        printf("FAIL %s: status json — %s\n", test_current_, statelog_error(sl));
    fclose(f);
    return buf;
}

/* Lag is computed at the read from the basis the runtime wrote: it grows
 * with nobody writing, stalls show, gaps in the samples are filled. */
static void test_lag_basis(void)
{
    char path[512];
    struct statelog *sl;
    struct statelog_integration *v = NULL;
    size_t n = 0;
    int64_t now = statelog_now_ms();

    fresh_path(path, sizeof path, "basis");
    sl = open_or_die(path);
    statelog_upsert_integration(sl, &(struct statelog_integration){
        .name = "my", .state = "active", .lag_ms = 0, .bytes_behind = 0 });
    statelog_record_transition(sl, "my", "db.t", NULL, "synced", NULL, NULL);
    statelog_record_transition(sl, "my", "db.u", NULL, "synced", NULL, NULL);
    statelog_record_lag(sl, "my", now - 20000, 0, 0);   /* the last sample, 20 s ago */
    struct statelog_lag_basis b = { .at = now - 20000, .pending = 1, .res_ms = 1000,
                                    .wait_since = now - 20000, .stall_ms = 5000 };
    CHECK_INT(statelog_set_lag_basis(sl, "my", &b), 0, "set a pending basis 20 s old");
    CHECK_INT(statelog_set_lag_basis(sl, "my", &b), 0, "write it again: the gap since the sample is filled from it");
    int64_t nsamples = 0;
    statelog_count_rows(sl, "lag_samples", &nsamples);
    CHECK(nsamples >= 17 && nsamples <= 21, "the 20 s without samples are filled, one a second");
    CHECK_INT(statelog_list_integrations(sl, "my", &v, &n), 0, "read");
    CHECK(n == 1 && v[0].lag_ms >= 20000 && v[0].lag_ms < 22000, "lag = now - the oldest pending commit");
    CHECK(n == 1 && v[0].lag_res_ms == 1000, "its resolution is kept");
    CHECK(n == 1 && v[0].stalled_since == now - 20000, "waiting 20 s over a 5 s stall: stalled since then");
    CHECK(n == 1 && v[0].ntables == 2 && v[0].tables[0].lag_ms == v[0].lag_ms,
          "a synced table's lag is the integration's");
    statelog_free_integrations(v, n);

    char *js = status_json(sl, "my");
    CHECK(js && strstr(js, "\"lag_ms\": 20000,") && strstr(js, "\"lag_resolution_ms\": 1000") &&
          strstr(js, "\"stalled\": true"), "JSON: whole seconds, resolution, stalled");
    free(js);

    /* A table stops applying: its lag grows from when it was last current. */
    statelog_record_transition(sl, "my", "db.u", NULL, "failed", "boom", NULL);
    b = (struct statelog_lag_basis){ .at = now, .pending = 0, .res_ms = 1 };
    statelog_set_lag_basis(sl, "my", &b);
    statelog_list_integrations(sl, "my", &v, &n);
    CHECK(n == 1 && v[0].lag_ms == 0 && v[0].stalled_since == 0, "a fresh proof: lag 0, not stalled");
    CHECK(n == 1 && v[0].tables[1].lag_ms >= 20000, "the failed table's lag keeps growing from its stop");
    statelog_free_integrations(v, n);

    /* A proof 10 s old, nobody writing since: lag 10 s, and lag_since fills the open gap. */
    b = (struct statelog_lag_basis){ .at = now - 10000, .pending = 0, .res_ms = 1 };
    statelog_set_lag_basis(sl, "my", &b);
    statelog_list_integrations(sl, "my", &v, &n);
    CHECK(n == 1 && v[0].lag_ms >= 10000 && v[0].lag_ms < 12000, "a stale proof: lag grows from it");
    statelog_free_integrations(v, n);
    struct statelog_lag_sample *ls = NULL;
    size_t nl = 0;
    statelog_record_lag(sl, "my", now - 8000, 2000, 0);
    CHECK_INT(statelog_lag_since(sl, "my", now - 60000, &ls, &nl), 0, "lag since");
    CHECK(nl > 0 && ls[0].at >= now && ls[0].lag_ms >= 10000, "the open gap ends at now with the lag now");
    statelog_free_lag(ls);
    statelog_close(sl);
}

static void test_status_json(void)
{
    char path[512];
    struct statelog *sl;
    char *js;

    fresh_path(path, sizeof path, "s");
    sl = open_or_die(path);
    struct statelog_integration g = {
        .name = "tickit", .state = "active", .source = "mysql://127.0.0.1:3306",
        .target = "postgres://127.0.0.1:5432/warehouse", .position = "binlog.000003:4567",
        .lag_ms = 120, .bytes_behind = 0,
    };
    statelog_upsert_integration(sl, &g);
    statelog_upsert_table(sl, &(struct statelog_table){
        .integration = "tickit", .name = "tickit.sales", .target = "tickit.sales",
        .state = "synced", .rows_copied = 172456, .inserts = 10, .updates = 2, .deletes = 1,
        .last_applied_at = 1795255200123LL, .lag_ms = -1 });
    statelog_upsert_table(sl, &(struct statelog_table){
        .integration = "tickit", .name = "tickit.users", .target = "crm.users",
        .state = "failed", .reason = "bad \"key\"\\ on\nline 2\ttab \x01 caf\xc3\xa9 \xe2\x9c\x93 "
                                     "\xf0\x9f\x98\x80 \xff end",
        .lag_ms = -1 });
    statelog_upsert_integration(sl, &(struct statelog_integration){
        .name = "zeta", .state = "paused", .reason = "paused by alice", .source = "postgres://db:5432/app",
        .target = "redshift://dw:5439/dev", .lag_ms = -1, .bytes_behind = -1 });

    js = status_json(sl, NULL);
    CHECK_STR(js,
        "{\"integrations\": [{\"name\": \"tickit\", \"state\": \"active\", \"reason\": null, "
        "\"source\": \"mysql://127.0.0.1:3306\", \"target\": \"postgres://127.0.0.1:5432/warehouse\", "
        "\"position\": \"binlog.000003:4567\", \"lag_ms\": 120, \"bytes_behind\": 0, "
        "\"lag_resolution_ms\": 1, \"stalled\": false, \"stalled_since\": null, "
        "\"tables\": [{\"name\": \"tickit.sales\", \"target\": \"tickit.sales\", \"state\": \"synced\", "
        "\"reason\": null, \"rows_copied\": 172456, \"inserts\": 10, \"updates\": 2, "
        "\"deletes\": 1, \"last_applied_at\": \"2026-11-21T10:00:00Z\", \"lag_ms\": 120, \"copy\": null, \"shape\": null}, "
        "{\"name\": \"tickit.users\", \"target\": \"crm.users\", \"state\": \"failed\", "
        "\"reason\": \"bad \\\"key\\\"\\\\ on\\nline 2\\ttab \\u0001 caf\xc3\xa9 \xe2\x9c\x93 "
        "\xf0\x9f\x98\x80 \\ufffd end\", \"rows_copied\": 0, \"inserts\": 0, \"updates\": 0, "
        "\"deletes\": 0, \"last_applied_at\": null, \"lag_ms\": null, \"copy\": null, \"shape\": null}], \"wait\": null, \"retry\": null, "
        "\"source_position\": null, \"source_position_at\": null, \"bytes_between\": null, \"files_between\": null, \"binlog_expire_seconds\": null, \"checkpoint_commit_at\": null, \"binlog_purge_not_before\": null, \"ha\": null}, "
        "{\"name\": \"zeta\", \"state\": \"paused\", \"reason\": \"paused by alice\", "
        "\"source\": \"postgres://db:5432/app\", \"target\": \"redshift://dw:5439/dev\", "
        "\"position\": null, \"lag_ms\": null, \"bytes_behind\": null, "
        "\"lag_resolution_ms\": 1, \"stalled\": false, \"stalled_since\": null, \"tables\": [], "
        "\"wait\": null, \"retry\": null, "
        "\"source_position\": null, \"source_position_at\": null, \"bytes_between\": null, \"files_between\": null, \"binlog_expire_seconds\": null, \"checkpoint_commit_at\": null, \"binlog_purge_not_before\": null, \"ha\": null}]}\n",
        "status JSON matches the contract exactly");
    free(js);

    js = status_json(sl, "zeta");
    const char *pfx = "{\"integrations\": [{\"name\": \"zeta\"";
    CHECK(js && strncmp(js, pfx, strlen(pfx)) == 0 &&
          !strstr(js, "tickit"), "status JSON for one integration");
    free(js);
    js = status_json(sl, "nope");
    CHECK_STR(js, "{\"integrations\": []}\n", "unknown integration: empty list");
    free(js);

    /* Deleting an integration removes its rows and keeps the audit trail. */
    statelog_record_transition(sl, "tickit", NULL, NULL, "deleting", NULL, "alice");
    CHECK_INT(statelog_delete_integration_rows(sl, "tickit", "alice"), 0, "delete rows");
    js = status_json(sl, NULL);
    CHECK(js && !strstr(js, "tickit"), "deleted integration gone from status");
    free(js);
    int64_t c = -1;
    statelog_count_rows(sl, "tables", &c);
    CHECK_INT(c, 0, "its tables are gone");
    struct statelog_event *e = NULL;
    size_t n = 0;
    statelog_recent_events(sl, &(struct statelog_event_filter){ .integration = "tickit" }, 10,
                           &e, &n);
    CHECK_INT(n, 2, "events kept: the transition and the deletion");
    CHECK_STR(n ? e[0].kind : NULL, "deleted", "deletion event");
    statelog_free_events(e, n);
    statelog_close(sl);
}

/*
 * Opening a second handle in the same process must not break the first: a
 * raw open()+close() of the database file drops this process's POSIX locks,
 * after which the first handle read stale snapshots and never saw new
 * commands (found with parallel copy workers; the console does the same).
 * Another process writes between the opens, as `zetl_command` did.
 */
/* What the applier waits on and the retry backoff (schema 2): written, read
 * back, printed in the status JSON, cleared. */
static void test_wait_retry(void)
{
    char path[512];
    struct statelog *sl;
    struct statelog_integration *g = NULL;
    size_t n = 0;

    fresh_path(path, sizeof path, "s");
    sl = open_or_die(path);
    add_integration(sl, "shop");
    int64_t now = statelog_now_ms();
    struct statelog_wait w = {
        .kind = "lock", .since = now - 5000, .what = "COMMIT", .detail = "waiting 5s for a lock held by pid 42",
        .holders = 1, .holder_pid = 42, .holder_user = "bob", .holder_state = "idle in transaction",
        .holder_since = now - 60000, .holder_query = "LOCK TABLE \"s\".\"t\"",
    };
    CHECK(statelog_set_wait(sl, "shop", &w) == 0, "set a wait");
    CHECK(statelog_set_retry(sl, "shop", 3, now + 8000) == 0, "set a retry");
    CHECK(statelog_set_wait(sl, "nope", &w) < 0, "a wait for an unknown integration is refused");
    statelog_list_integrations(sl, "shop", &g, &n);
    CHECK_INT(n, 1, "one integration");
    CHECK_STR(n ? g[0].wait.kind : NULL, "lock", "the wait's kind is read back");
    CHECK_INT(n ? g[0].wait.holder_pid : 0, 42, "the holder's pid is read back");
    CHECK_STR(n ? g[0].wait.holder_query : NULL, "LOCK TABLE \"s\".\"t\"", "its query is read back");
    CHECK_INT(n ? g[0].retry_attempt : 0, 3, "the retry attempt is read back");
    CHECK_INT(n ? g[0].retry_at : 0, now + 8000, "the next try's time is read back");
    statelog_free_integrations(g, n);
    char *js = status_json(sl, "shop");
    CHECK(js && strstr(js, "\"wait\": {\"kind\": \"lock\", \"since\": \"") &&
          strstr(js, "\"holders\": 1, \"holder\": {\"pid\": 42, \"user\": \"bob\", \"state\": \"idle in transaction\"") &&
          strstr(js, "\"query\": \"LOCK TABLE \\\"s\\\".\\\"t\\\"\"}}"), "status JSON has the wait and its holder");
    CHECK(js && strstr(js, "\"retry\": {\"attempt\": 3, \"next_at\": \"") && strstr(js, "\"under_way\": false}"),
          "status JSON has the retry");
    free(js);
    CHECK(statelog_set_wait(sl, "shop", NULL) == 0 && statelog_set_retry(sl, "shop", 0, 0) == 0, "cleared");
    js = status_json(sl, "shop");
    CHECK(js && strstr(js, "\"wait\": null, \"retry\": null, \"source_position\": null"), "cleared: null in the status JSON");
    free(js);
    int64_t id = 0;
    CHECK(statelog_enqueue_command(sl, "shop", NULL, "retry", "alice", &id) == 0, "retry is a command");
    statelog_close(sl);
}

/* rows/s and the ETA from the base, at a given now (statelog_copy_rate_at). */
static void test_copy_rate(void)
{
    struct statelog_table t = {.rows_copied = 0};
    double r;
    int64_t eta;

    statelog_copy_rate_at(&t, 100000, &r, &eta);
    CHECK(r == -1 && eta == -1, "no base: no rate, no ETA");
    t = (struct statelog_table){.rows_copied = 500, .copy_base_at = 99500, .copy_base_rows = 0};
    statelog_copy_rate_at(&t, 100000, &r, &eta);
    CHECK(r == -1, "a base under a second old: no rate yet");
    t = (struct statelog_table){.rows_copied = 300, .copy_base_at = 90000, .copy_base_rows = 300,
                                .rows_estimated = 1000};
    statelog_copy_rate_at(&t, 100000, &r, &eta);
    CHECK(r == -1 && eta == -1, "no row since the base (the rows have not begun): no rate, no ETA");
    t = (struct statelog_table){.rows_copied = 25000, .copy_base_at = 90000, .copy_base_rows = 5000,
                                .rows_estimated = 100000};
    statelog_copy_rate_at(&t, 100000, &r, &eta);
    CHECK(r > 1999.9 && r < 2000.1, "20,000 rows in 10 s: 2,000 rows/s");
    CHECK_INT(eta, 38, "75,000 rows left at 2,000 rows/s: 37.5 s, rounded up to 38");
    t.rows_estimated = 0;
    statelog_copy_rate_at(&t, 100000, &r, &eta);
    CHECK(r > 0 && eta == -1, "no estimate: a rate, no ETA");
    t.rows_estimated = 25000;
    statelog_copy_rate_at(&t, 100000, &r, &eta);
    CHECK(r > 0 && eta == -1, "the estimate reached: no ETA (an estimate is not a count)");
    t.rows_estimated = 24000;
    statelog_copy_rate_at(&t, 100000, &r, &eta);
    CHECK(eta == -1, "copied past the estimate: no ETA");
    t = (struct statelog_table){.rows_copied = 6000, .copy_base_at = 40000, .copy_base_rows = 5000,
                                .rows_estimated = 100000};
    statelog_copy_rate_at(&t, 100000, &r, &eta);
    CHECK(r > 16.6 && r < 16.7, "a copy that stopped moving: the rate falls as the window grows");
    CHECK_INT(eta, 5640, "... and the ETA grows: 94,000 rows at 16.7 rows/s");
    t.rows_copied = 5001;
    t.rows_estimated = INT64_MAX;
    statelog_copy_rate_at(&t, 100000000, &r, &eta);
    CHECK(eta > 0, "a crawl toward a huge estimate: a number, no overflow");
}

/* A table's copy written by the copying thread and read back by every reader:
 * begin (a resumed chunked copy's rows and chunks), the estimate, rows added
 * with the chunks, the base moving to the mark after the window, the JSON. */
static void test_copy_progress(void)
{
    char path[512];
    struct statelog *sl;
    struct statelog_integration *g = NULL;
    size_t n = 0;
    long long v = -1;

    fresh_path(path, sizeof path, "s");
    sl = open_or_die(path);
    add_integration(sl, "my");
    statelog_record_transition(sl, "my", "db.big", NULL, "resyncing", "copying", NULL);
    statelog_record_transition(sl, "my", "db.one", NULL, "snapshotting", NULL, NULL);
    statelog_record_transition(sl, "my", "db.done", NULL, "synced", NULL, NULL);
    int64_t t0 = statelog_now_ms();
    CHECK_INT(statelog_copy_begin(sl, "my", "db.big", 4000, 2), 0, "a chunked copy resumes: 4,000 rows, 2 chunks");
    CHECK_INT(statelog_copy_begin(sl, "my", "db.one", 0, -1), 0, "a copy in one read begins");
    CHECK_INT(statelog_copy_begin(sl, "my", "db.nope", 0, -1), -1, "a missing table: an error");
    CHECK(strstr(statelog_error(sl), "no table db.nope in integration my") != NULL, "... that names it");
    CHECK_INT(statelog_copy_estimate(sl, "my", "db.big", 20000), 0, "the source's estimate");
    CHECK_INT(statelog_copy_rows(sl, "my", "db.big"), 0, "its rows begin");
    CHECK_INT(statelog_copy_add(sl, "my", "db.big", 2000, 1), 0, "a chunk: 2,000 rows, chunk 3");
    CHECK_INT(statelog_copy_add(sl, "my", "db.one", 700, 0), 0, "rows of the copy in one read");
    statelog_list_integrations(sl, "my", &g, &n);
    const struct statelog_table *big = n == 1 && g[0].ntables == 3 ? &g[0].tables[0] : NULL;
    const struct statelog_table *done = big ? &g[0].tables[1] : NULL, *one = big ? &g[0].tables[2] : NULL;
    CHECK(big && !strcmp(big->name, "db.big") && big->rows_copied == 6000 && big->rows_estimated == 20000 &&
          big->copy_chunks == 3, "read back: 6,000 rows of ~20,000, 3 chunks");
    CHECK(big && big->copy_started_at >= t0 && big->copy_started_at <= t0 + 5000, "its start time");
    CHECK(big && big->copy_base_rows == 4000 && big->copy_base_at >= t0, "the base: where its rows began");
    CHECK(one && one->rows_copied == 700 && one->copy_chunks == -1 && one->rows_estimated == 0,
          "the copy in one read: 700 rows, no chunks, no estimate");
    CHECK(done && done->copy_rows_per_s == -1 && done->copy_eta_s == -1, "a synced table: no rate, no ETA");
    statelog_free_integrations(g, n);

    /* 12 s later (the base and the mark moved back by hand): the next add
     * makes the mark the base, and the rate is measured from it. */
    raw_exec_int(path, "UPDATE tables SET copy_rate_at = copy_rate_at - 20000, copy_mark_at = copy_mark_at - 12000,"
                       " copy_started_at = copy_started_at - 20000 WHERE name = 'db.big'", NULL);
    CHECK_INT(statelog_copy_add(sl, "my", "db.big", 4000, 2), 0, "two more chunks");
    raw_exec_int(path, "SELECT copy_rate_rows FROM tables WHERE name = 'db.big'", &v);
    CHECK_INT(v, 4000, "the mark 12 s old became the base");
    raw_exec_int(path, "SELECT copy_mark_rows FROM tables WHERE name = 'db.big'", &v);
    CHECK_INT(v, 10000, "the mark moved to now");
    CHECK_INT(statelog_copy_add(sl, "my", "db.big", 1000, 0), 0, "rows within a chunk (chunks kept)");
    raw_exec_int(path, "SELECT copy_rate_rows FROM tables WHERE name = 'db.big'", &v);
    CHECK_INT(v, 4000, "a fresh mark: the base stays");
    statelog_list_integrations(sl, "my", &g, &n);
    big = n == 1 && g[0].ntables == 3 ? &g[0].tables[0] : NULL;
    /* 7,000 rows over ~12 s: ~580 rows/s; 9,000 rows left: ~16 s */
    CHECK(big && big->copy_chunks == 5 && big->rows_copied == 11000, "11,000 rows, 5 chunks");
    CHECK(big && big->copy_rows_per_s > 500 && big->copy_rows_per_s < 600, "rows/s from the base 12 s ago");
    CHECK(big && big->copy_eta_s >= 15 && big->copy_eta_s <= 18, "ETA = rows left / rate");
    statelog_free_integrations(g, n);

    char *js = status_json(sl, "my");
    CHECK(js && strstr(js, "\"name\": \"db.big\"") && strstr(js, "\"copy\": {\"rows\": 11000, \"estimated\": 20000, "
                                                              "\"chunks\": 5, \"rows_per_s\": "),
          "JSON: the chunked copy's rows, estimate and chunks");
    CHECK(js && strstr(js, "\"copy\": {\"rows\": 700, \"estimated\": null, \"chunks\": null, "
                           "\"rows_per_s\": "),
          "JSON: the copy in one read: no estimate, no chunks");
    CHECK(js && strstr(js, "\"name\": \"db.done\"") && strstr(js, "\"lag_ms\": null, \"copy\": null, \"shape\": null}"),
          "JSON: a table not copying: copy null");
    const char *eta = js ? strstr(js, "\"eta_s\": ") : NULL;
    CHECK(eta && eta[9] >= '1' && eta[9] <= '9', "JSON: the chunked copy's eta_s is a number");
    free(js);
    statelog_close(sl);
}

/* A version 1 log (before the wait and retry columns) opens, migrates and keeps its rows. */
static void test_migrate_v1(void)
{
    char path[512], dir[512];
    long long v = -1, n = -1;

    fresh_path(path, sizeof path, "s");
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    mkdir(dir, 0700);
    *strrchr(dir, '/') = '\0';
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    mkdir(dir, 0700);
    sqlite3 *db;
    sqlite3_open(path, &db);
    CHECK(sqlite3_exec(db,
        "CREATE TABLE integrations (name TEXT PRIMARY KEY NOT NULL, state TEXT NOT NULL, reason TEXT,"
        " source TEXT, target TEXT, position TEXT, lag_ms INTEGER, bytes_behind INTEGER, updated_at INTEGER NOT NULL);"
        "CREATE TABLE tables (integration TEXT NOT NULL REFERENCES integrations(name) ON DELETE CASCADE,"
        " name TEXT NOT NULL, target TEXT NOT NULL, state TEXT NOT NULL, reason TEXT,"
        " rows_copied INTEGER NOT NULL DEFAULT 0, rows_estimated INTEGER NOT NULL DEFAULT 0,"
        " inserts INTEGER NOT NULL DEFAULT 0, updates INTEGER NOT NULL DEFAULT 0, deletes INTEGER NOT NULL DEFAULT 0,"
        " last_applied_at INTEGER, lag_ms INTEGER, updated_at INTEGER NOT NULL, PRIMARY KEY (integration, name));"
        "CREATE TABLE activity (id INTEGER PRIMARY KEY, integration TEXT NOT NULL, at INTEGER NOT NULL,"
        " pos_from TEXT, pos_to TEXT, transactions INTEGER NOT NULL DEFAULT 0, inserted INTEGER NOT NULL DEFAULT 0,"
        " updated INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
        " duration_ms INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE lag_samples (id INTEGER PRIMARY KEY, integration TEXT NOT NULL, at INTEGER NOT NULL,"
        " lag_ms INTEGER NOT NULL, bytes_behind INTEGER);"
        "CREATE TABLE lag_rollups (integration TEXT NOT NULL, minute INTEGER NOT NULL, n INTEGER NOT NULL,"
        " lag_min INTEGER NOT NULL, lag_sum INTEGER NOT NULL, lag_max INTEGER NOT NULL, bytes_max INTEGER,"
        " PRIMARY KEY (integration, minute)) WITHOUT ROWID;"
        "CREATE TABLE events (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, integration TEXT, tbl TEXT,"
        " level TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')), kind TEXT NOT NULL,"
        " message TEXT NOT NULL, actor TEXT);"
        "CREATE TABLE commands (id INTEGER PRIMARY KEY, integration TEXT NOT NULL, tbl TEXT, command TEXT NOT NULL"
        " CHECK (command IN ('pause', 'resume', 'resync', 'delete', 'stop')), actor TEXT, created_at INTEGER NOT NULL,"
        " claimed_at INTEGER, done_at INTEGER, result TEXT);"
        "CREATE INDEX commands_pending ON commands(integration, claimed_at, id);"
        "INSERT INTO integrations VALUES ('old', 'active', NULL, 'mysql://h:3306', 'postgres://h:5432/w', 'b.1:4', 5, 0, 1);"
        "INSERT INTO commands (integration, command, actor, created_at, done_at, result)"
        " VALUES ('old', 'pause', 'bob', 1, 2, 'ok');"
        "PRAGMA user_version = 1;", NULL, NULL, NULL) == SQLITE_OK, "a version 1 log written by hand");
    sqlite3_close(db);
    struct statelog *sl = open_or_die(path);
    raw_exec_int(path, "PRAGMA user_version", &v);
    CHECK_INT(v, STATELOG_SCHEMA_VERSION, "migrated to the latest version");
    raw_exec_int(path, "SELECT count(*) FROM commands WHERE result = 'ok'", &n);
    CHECK_INT(n, 1, "the old commands are kept");
    struct statelog_integration *g = NULL;
    size_t k = 0;
    statelog_list_integrations(sl, "old", &g, &k);
    CHECK(k == 1 && !g[0].wait.kind && g[0].retry_attempt == 0 && !strcmp(g[0].position, "b.1:4"),
          "the old row is kept, waiting on nothing");
    CHECK(k == 1 && !g[0].src.position && g[0].src.bytes_between == -1 && g[0].src.files_between == -1 &&
          g[0].src.expire_s == -1 && g[0].src.checkpoint_commit_at == 0,
          "its source position and retention are unknown (6)");
    statelog_free_integrations(g, k);
    struct statelog_source src = {.position = "b.1:900", .at = 1000, .bytes_between = 896, .files_between = 0,
                                  .expire_s = 86400, .checkpoint_commit_at = 5000};
    CHECK(statelog_set_source(sl, "old", &src) == 0, "the source position is written");
    statelog_list_integrations(sl, "old", &g, &k);
    CHECK(k == 1 && g[0].src.position && !strcmp(g[0].src.position, "b.1:900") && g[0].src.at == 1000 &&
          g[0].src.bytes_between == 896 && g[0].src.files_between == 0 && g[0].src.expire_s == 86400 &&
          g[0].src.checkpoint_commit_at == 5000, "... and read back");
    CHECK(k == 1 && statelog_purge_not_before(&g[0].src) == 5000 + 86400000LL,
          "the purge horizon is the checkpoint's commit + the expiry");
    statelog_free_integrations(g, k);
    src.expire_s = 0;
    CHECK(statelog_purge_not_before(&src) == 0, "expiry 0: never purged, no horizon");
    CHECK(statelog_enqueue_command(sl, "old", NULL, "retry", "bob", NULL) == 0, "a retry command fits the new check");
    raw_exec_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'runners'", &n);
    CHECK_INT(n, 1, "the migration creates the runners table (3)");
    raw_exec_int(path, "SELECT count(*) FROM pragma_table_info('integrations') WHERE name IN"
                       " ('lag_basis_at', 'lag_pending', 'lag_res_ms', 'stall_from', 'stall_ms')", &n);
    CHECK_INT(n, 5, "the migration adds the lag basis (4)");
    raw_exec_int(path, "SELECT count(*) FROM pragma_table_info('tables') WHERE name = 'lag_basis_at'", &n);
    CHECK_INT(n, 1, "and the tables' lag basis (4)");
    statelog_close(sl);
}

static void test_second_handle_keeps_first_current(void)
{
    char path[512], err[512];
    struct statelog *a = NULL, *b = NULL;
    fresh_path(path, sizeof path, "locks");
    CHECK_INT(statelog_open(&a, path, err, sizeof err), 0, "open the first handle");
    if (!a) return;
    int64_t id, n = -1;
    statelog_enqueue_command(a, "x", NULL, "pause", "test", &id);
    struct statelog_command *cmds = NULL;
    size_t nc = 0;
    statelog_claim_commands(a, "x", &cmds, &nc);
    statelog_free_commands(cmds, nc);
    for (int round = 0; round < 3; round++) {
        /* a helper thread opening and closing its own handle */
        CHECK_INT(statelog_open(&b, path, err, sizeof err), 0, "open and close a second handle");
        statelog_close(b);
        b = NULL;
        /* another process enqueues */
        char cmd[700];
        snprintf(cmd, sizeof cmd, "sqlite3 '%s' \"INSERT INTO commands (integration, command, actor, created_at)"
                 " VALUES ('x', 'resume', 'other', 1)\"", path);
        CHECK_INT(system(cmd), 0, "another process enqueues a command");
        cmds = NULL;
        nc = 0;
        CHECK_INT(statelog_claim_commands(a, "x", &cmds, &nc), 0, "the first handle claims");
        CHECK_INT(nc, 1, "the first handle sees the other process's command");
        statelog_free_commands(cmds, nc);
    }
    statelog_count_rows(a, "commands", &n);
    CHECK_INT(n, 4, "every command is visible to the first handle");
    statelog_close(a);
}

/* Schema 3: an old (version 1) log opens and gains the runners table; the
 * runner row round-trips; expiry takes only the commands older than its
 * bound, which no claim returns afterwards. */
static void test_runners_and_expiry(void)
{
    char path[512];
    struct statelog *sl;
    struct statelog_runner r;
    struct statelog_command *c = NULL;
    size_t nc = 0;
    int64_t id1 = 0, id2 = 0;
    int expired = -1;

    fresh_path(path, sizeof path, "state");
    sl = open_or_die(path);
    add_integration(sl, "tickit");

    CHECK_INT(statelog_get_runner(sl, "tickit", &r), 0, "no runner row before a runner");
    struct statelog_runner w = {.pid = 4242, .actor = "zetl run by ann from 10.0.0.7",
                                .started_at = 1795255200000LL};
    CHECK_INT(statelog_record_runner(sl, "tickit", &w), 0, "record a runner");
    CHECK_INT(statelog_get_runner(sl, "tickit", &r), 1, "the runner row reads back");
    CHECK_INT(r.pid, 4242, "runner pid");
    CHECK_STR(r.actor, "zetl run by ann from 10.0.0.7", "runner actor");
    CHECK_INT(r.started_at, 1795255200000LL, "runner started_at");
    CHECK(r.seen_at >= statelog_now_ms() - 5000, "seen_at is set to now by the log");
    CHECK_INT(r.stopped_at, 0, "no stop while running");
    statelog_clear_runner(&r);
    w.stopped_at = 1795255300000LL;
    CHECK_INT(statelog_record_runner(sl, "tickit", &w), 0, "record the clean stop");
    CHECK_INT(statelog_get_runner(sl, "tickit", &r), 1, "read the stopped runner");
    CHECK_INT(r.stopped_at, 1795255300000LL, "stopped_at read back");
    statelog_clear_runner(&r);

    CHECK_INT(statelog_enqueue_command(sl, "tickit", NULL, "pause", "console by ann", &id1), 0, "enqueue 1");
    CHECK_INT(statelog_enqueue_command(sl, "tickit", NULL, "resume", "console by ann", &id2), 0, "enqueue 2");
    raw_exec_int(path, "UPDATE commands SET created_at = 1000 WHERE command = 'pause'", NULL);
    CHECK_INT(statelog_expire_commands(sl, "tickit", 5000, "expired: nobody was running tickit when it was sent",
                                       &expired), 0, "expire");
    CHECK_INT(expired, 1, "only the command older than the bound expires");
    CHECK_INT(statelog_get_command(sl, id1, &c), 0, "read the expired command");
    if (c) {
        CHECK_STR(c->result, "expired: nobody was running tickit when it was sent", "its result says why");
        CHECK(c->claimed_at && c->done_at, "claimed and done");
    }
    statelog_free_commands(c, c ? 1 : 0);
    CHECK_INT(statelog_claim_commands(sl, "tickit", &c, &nc), 0, "claim");
    CHECK_INT(nc, 1, "the claim gets the newer command only");
    if (nc == 1) CHECK_INT(c[0].id, id2, "the newer one");
    statelog_free_commands(c, nc);
    statelog_close(sl);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(root, sizeof root, "%s/zetl-statelog-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    TEST_RUN(test_migrate_empty);
    TEST_RUN(test_reopen_noop);
    TEST_RUN(test_migrate_v1_commands);
    TEST_RUN(test_newer_refused);
    TEST_RUN(test_file_mode);
    TEST_RUN(test_transition);
    TEST_RUN(test_counts);
    TEST_RUN(test_newest_first);
    TEST_RUN(test_lag_rollup);
    TEST_RUN(test_commands);
    TEST_RUN(test_runners_and_expiry);
    TEST_RUN(test_lag_basis);
    TEST_RUN(test_status_json);
    TEST_RUN(test_second_handle_keeps_first_current);
    TEST_RUN(test_wait_retry);
    TEST_RUN(test_migrate_v1);
    TEST_RUN(test_copy_rate);
    TEST_RUN(test_copy_progress);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return test_exit();
}
