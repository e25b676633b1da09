/*
 * test_statelog_heal.c — the state log heals: a truncated, garbled or
 * non-SQLite file is moved aside at open, corruption met by a write while
 * open heals and the write lands, a file deleted or replaced under an open
 * handle is noticed, and the fresh log gets back the rows the handle wrote.
 * stderr is captured to check the one-line notice. Each test works in its
 * own directory under one mktemp -d root.
 */
#include "tests/unit/test.h"

#include <fcntl.h>
#include <glob.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/log/statelog.h"

static char root[256];
static int dir_seq;

static void fresh_path(char *buf, size_t len)
{
    snprintf(buf, len, "%s/t%d/zetl.db", root, ++dir_seq);
}

/* ---- stderr capture ------------------------------------------------------------ */

static int saved_err = -1;
static char cap_path[300];

static void capture_begin(void)
{
    snprintf(cap_path, sizeof cap_path, "%s/stderr.%d", root, dir_seq);
    fflush(stderr);
    saved_err = dup(2);
    int fd = open(cap_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
}

/* What went to stderr since capture_begin, in buf (NUL-terminated). */
static void capture_end(char *buf, size_t len)
{
    fflush(stderr);
    dup2(saved_err, 2);
    close(saved_err);
    buf[0] = '\0';
    FILE *f = fopen(cap_path, "r");
    if (f) {
        size_t n = fread(buf, 1, len - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ---- helpers ----------------------------------------------------------------- */

static struct statelog *open_or_die(const char *path)
{
    struct statelog *sl = NULL;
    char err[512];

    if (statelog_open(&sl, path, err, sizeof err) < 0) {
        printf("FAIL %s: open %s — expected success, saw \"%s\"\n", test_current_, path, err);
        exit(1);
    }
    return sl;
}

/* A log with one integration, two tables and `events` events (to grow the file). */
static struct statelog *populated(const char *path, int events)
{
    struct statelog *sl = open_or_die(path);
    struct statelog_integration g = {
        .name = "tickit", .state = "active", .source = "mysql://127.0.0.1:3306",
        .target = "postgres://127.0.0.1:5432/wh", .position = "binlog.000003:4567",
        .lag_ms = -1, .bytes_behind = -1,
    };
    struct statelog_table t = { .integration = "tickit", .name = "tickit.sales",
                                .target = "crm.sales", .state = "synced", .lag_ms = -1 };
    statelog_upsert_integration(sl, &g);
    statelog_upsert_table(sl, &t);
    t.name = "tickit.users";
    t.target = NULL;
    t.state = NULL;
    statelog_upsert_table(sl, &t);
    statelog_record_transition(sl, "tickit", "tickit.users", NULL, "resync_required",
                               "unsupported DDL", NULL);
    statelog_begin(sl);
    for (int i = 0; i < events; i++)
        statelog_record_event(sl, STATELOG_INFO, "tickit", NULL, "info", NULL,
                              "event %d with some words to fill the page %040d", i, i);
    statelog_commit(sl);
    return sl;
}

/* Fold the WAL into the file, so bytes written into it are what SQLite reads. */
static void checkpoint(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK)
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(db);
}

static void garble(const char *path, off_t at, size_t n)
{
    char junk[65536];
    int fd = open(path, O_WRONLY);
    memset(junk, 0xA5, sizeof junk);
    if (n > sizeof junk)
        n = sizeof junk;
    if (fd < 0 || pwrite(fd, junk, n, at) != (ssize_t)n)
        printf("FAIL %s: garble %s — could not write\n", test_current_, path);
    close(fd);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* The one PATH.corrupt-* file (its name in buf), or the count found. */
static int aside_file(const char *path, char *buf, size_t len)
{
    char pat[400];
    glob_t g;
    int n;

    snprintf(pat, sizeof pat, "%s.corrupt-*[0-9]", path);
    if (glob(pat, 0, NULL, &g) != 0)
        return 0;
    n = (int)g.gl_pathc;
    if (n >= 1)
        snprintf(buf, len, "%s", g.gl_pathv[0]);
    globfree(&g);
    return n;
}

static void check_fresh(struct statelog *sl, const char *path, const char *what)
{
    struct stat st;
    char w[160];
    int64_t n = -1;

    snprintf(w, sizeof w, "%s: the fresh log is mode 0600", what);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, w);
    snprintf(w, sizeof w, "%s: the fresh log answers reads", what);
    CHECK(statelog_count_rows(sl, "integrations", &n) == 0, w);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    const char *mode = "?";
    int uv = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        mode = (const char *)sqlite3_column_text(q, 0);
    snprintf(w, sizeof w, "%s: the fresh log is in WAL mode", what);
    CHECK_STR(mode, "wal", w);
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        uv = sqlite3_column_int(q, 0);
    snprintf(w, sizeof w, "%s: the fresh log has the current schema version", what);
    CHECK_INT(uv, STATELOG_SCHEMA_VERSION, w);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* ---- corrupt at open ------------------------------------------------------------- */

static void open_heals(const char *what, void (*spoil)(const char *path))
{
    char path[300], aside[400] = "", out[4096], w[200];
    struct statelog *sl = populated((fresh_path(path, sizeof path), path), 400);

    statelog_close(sl);
    checkpoint(path);
    off_t before = file_size(path);
    spoil(path);
    off_t spoiled = file_size(path);

    capture_begin();
    sl = open_or_die(path);
    capture_end(out, sizeof out);

    snprintf(w, sizeof w, "%s: the bad file is moved aside", what);
    CHECK_INT(aside_file(path, aside, sizeof aside), 1, w);
    snprintf(w, sizeof w, "%s: it is kept as it was, for inspection", what);
    CHECK_INT(file_size(aside), spoiled, w);
    snprintf(w, sizeof w, "%s: one line on stderr", what);
    CHECK_INT(count_lines(out), 1, w);
    if (count_lines(out) != 1)
        printf("  stderr: %s", out);
    snprintf(w, sizeof w, "%s: the line names the file moved to", what);
    CHECK(aside[0] && strstr(out, aside) != NULL, w);
    snprintf(w, sizeof w, "%s: the line says the checkpoint of record is in the target", what);
    CHECK(strstr(out, "is corrupt") && strstr(out, "the checkpoint of record is in the target"), w);
    check_fresh(sl, path, what);
    int64_t n = -1;
    statelog_count_rows(sl, "integrations", &n);
    snprintf(w, sizeof w, "%s: the fresh log starts empty", what);
    CHECK_INT(n, 0, w);
    snprintf(w, sizeof w, "%s: the file was bigger than the spoiled one before", what);
    CHECK(before > 0, w);
    statelog_close(sl);
}

static void spoil_truncate(const char *path)
{
    if (truncate(path, 5000) != 0)
        printf("FAIL %s: truncate — could not\n", test_current_);
}

static void spoil_middle(const char *path)
{
    garble(path, file_size(path) / 2, 8192);
}

static void spoil_header(const char *path)
{
    garble(path, 0, 100);
}

static void test_open_truncated(void) { open_heals("truncated to 5000 bytes", spoil_truncate); }
static void test_open_garbled_middle(void) { open_heals("garbage in the middle", spoil_middle); }
static void test_open_not_a_database(void) { open_heals("garbage header", spoil_header); }

/* ---- corrupt while open ------------------------------------------------------------ */

static void test_write_heals(void)
{
    char path[300], aside[400] = "", out[4096];
    struct statelog *sl = populated((fresh_path(path, sizeof path), path), 400);
    struct statelog_integration *v = NULL;
    size_t n = 0;

    /* Garble the events table's root page (every insert reads it), then
     * have another connection write, so this handle drops its page cache. */
    checkpoint(path);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    int root_page = 0, page_size = 0;
    sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (sqlite3_prepare_v2(db, "SELECT rootpage, (SELECT page_size FROM pragma_page_size)"
                           " FROM sqlite_master WHERE name = 'events'", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
        root_page = sqlite3_column_int(q, 0);
        page_size = sqlite3_column_int(q, 1);
    }
    sqlite3_finalize(q);
    CHECK(root_page > 1 && page_size > 0, "found the events table's root page");
    garble(path, (off_t)(root_page - 1) * page_size, (size_t)page_size);
    sqlite3_exec(db, "INSERT INTO commands (integration, command, actor, created_at) VALUES ('x', 'stop', 't', 1)",
                 NULL, NULL, NULL);
    sqlite3_close(db);

    capture_begin();
    int rc = statelog_record_event(sl, STATELOG_INFO, "tickit", NULL, "info", NULL, "after");
    capture_end(out, sizeof out);

    CHECK_INT(rc, 0, "the write that met the corruption succeeds (in the fresh log)");
    CHECK_INT(aside_file(path, aside, sizeof aside), 1, "the corrupt file is moved aside");
    CHECK_INT(count_lines(out), 1, "one line on stderr");
    CHECK(aside[0] && strstr(out, aside) != NULL, "the line names the file moved to");
    check_fresh(sl, path, "healed while open");
    int64_t nev = -1;
    statelog_count_rows(sl, "events", &nev);
    CHECK_INT(nev, 2, "the fresh log holds the notice and the write that met the corruption");
    CHECK_INT(statelog_list_integrations(sl, NULL, &v, &n), 0, "the fresh log lists integrations");
    CHECK_INT(n, 1, "the integration row is back (from the handle's memory)");
    if (n == 1) {
        CHECK_STR(v[0].state, "active", "with its state");
        CHECK_STR(v[0].position, "binlog.000003:4567", "and the position it last had");
        CHECK_INT(v[0].ntables, 2, "and its two tables");
        if (v[0].ntables == 2) {
            CHECK_STR(v[0].tables[0].target, "crm.sales", "a table keeps its target");
            CHECK_STR(v[0].tables[1].state, "resync_required", "a table keeps its state");
            CHECK_STR(v[0].tables[1].reason, "unsupported DDL", "and its reason");
        }
    }
    statelog_free_integrations(v, n);
    struct statelog_event_filter f = { .min_level = STATELOG_WARNING };
    struct statelog_event *ev = NULL;
    size_t ne = 0;
    statelog_recent_events(sl, &f, 10, &ev, &ne);
    CHECK(ne >= 1 && strcmp(ev[ne - 1].kind, "statelog") == 0 && strstr(ev[ne - 1].message, aside),
          "the fresh log's first event says what happened");
    statelog_free_events(ev, ne);
    statelog_close(sl);
}

/* ---- deleted or replaced while open ----------------------------------------------- */

static void nap_past_recheck(void)
{
    struct timespec ts = { STATELOG_RECHECK_MS / 1000, (STATELOG_RECHECK_MS % 1000 + 200) * 1000000L };
    nanosleep(&ts, NULL);
}

static void test_deleted_noticed(void)
{
    char path[300], out[4096];
    struct statelog *sl = populated((fresh_path(path, sizeof path), path), 10);

    unlink(path);                   /* as `rm zetl.db`: the -wal and -shm stay */
    nap_past_recheck();
    capture_begin();
    int rc = statelog_record_lag(sl, "tickit", 0, 120, 0);
    capture_end(out, sizeof out);

    CHECK_INT(rc, 0, "the next write succeeds");
    CHECK(file_size(path) > 0, "a fresh log exists at the path again");
    CHECK_INT(count_lines(out), 1, "one line on stderr");
    CHECK(strstr(out, "was deleted while in use") != NULL, "it says the file was deleted");
    check_fresh(sl, path, "deleted while open");

    struct statelog *other = open_or_die(path);     /* as `zetl status` */
    struct statelog_integration *v = NULL;
    size_t n = 0;
    statelog_list_integrations(other, NULL, &v, &n);
    CHECK_INT(n, 1, "another handle sees the integration in the fresh log");
    if (n == 1) {
        CHECK_STR(v[0].state, "active", "with its state");
        CHECK_INT(v[0].lag_ms, 120, "and the lag written after the reopen");
        CHECK_INT(v[0].ntables, 2, "and its tables");
    }
    statelog_free_integrations(v, n);
    statelog_close(other);
    statelog_close(sl);
}

/* `zetl status` heals a file a runtime has open: the runtime reopens the
 * fresh file and writes its rows into it; the process says it once. */
static void test_other_handle_heals(void)
{
    char path[300], aside[400], out[4096];
    struct statelog *run = populated((fresh_path(path, sizeof path), path), 400);

    checkpoint(path);
    garble(path, file_size(path) / 2, 8192);
    capture_begin();
    struct statelog *status = open_or_die(path);
    nap_past_recheck();
    int rc = statelog_record_lag(run, "tickit", 0, 7, 0);
    capture_end(out, sizeof out);

    CHECK_INT(aside_file(path, aside, sizeof aside), 1, "the status handle moved the file aside");
    CHECK_INT(rc, 0, "the runtime's next write succeeds");
    CHECK_INT(count_lines(out), 1, "one line on stderr for the process, not one per handle");
    if (count_lines(out) != 1)
        printf("  stderr: %s", out);
    struct statelog_integration *v = NULL;
    size_t n = 0;
    statelog_list_integrations(status, NULL, &v, &n);
    CHECK_INT(n, 1, "the status handle sees the runtime's integration in the fresh log");
    if (n == 1)
        CHECK_INT(v[0].lag_ms, 7, "with the lag the runtime wrote after the heal");
    statelog_free_integrations(v, n);
    statelog_close(status);
    statelog_close(run);
}

/* Two handles of one process meet the same corrupt file at once: the one
 * that moves it aside says why; the other, finding the file replaced, stays
 * quiet, whichever of them gets to its notice first. */
static void *open_and_close(void *arg)
{
    struct statelog *sl = NULL;
    char err[512];
    if (statelog_open(&sl, (const char *)arg, err, sizeof err) == 0)
        statelog_close(sl);
    return NULL;
}

static void test_concurrent_heal_says_why(void)
{
    int bad = 0;
    char out[4096], last[4096] = "";

    for (int round = 0; round < 12 && !bad; round++) {
        char path[300];
        struct statelog *sl = populated((fresh_path(path, sizeof path), path), 300);
        statelog_close(sl);
        checkpoint(path);
        garble(path, file_size(path) / 2, 8192);
        pthread_t a, b;
        capture_begin();
        pthread_create(&a, NULL, open_and_close, path);
        pthread_create(&b, NULL, open_and_close, path);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        capture_end(out, sizeof out);
        if (count_lines(out) != 1 || !strstr(out, "is corrupt")) {
            bad = 1;
            snprintf(last, sizeof last, "%s", out);
        }
    }
    CHECK(!bad, "each round says once that the log was corrupt (not only that it was replaced)");
    if (bad)
        printf("  stderr: %s", last);
}

static void test_deferred_notices(void)
{
    char path[300], *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);

    fresh_path(path, sizeof path);
    {
        char dir[300];
        snprintf(dir, sizeof dir, "%s", path);
        *strrchr(dir, '/') = '\0';
        mkdir(dir, 0700);
    }
    FILE *f = fopen(path, "w");
    fputs("this is not a database, it is a text file long enough to have a header....\n", f);
    fclose(f);
    statelog_defer_notices(1);
    char out[1024];
    capture_begin();
    struct statelog *sl = open_or_die(path);
    capture_end(out, sizeof out);
    statelog_defer_notices(0);
    CHECK_STR(out, "", "a deferred notice does not go to stderr at once");
    statelog_flush_notices(mem);
    fclose(mem);
    CHECK(text && strstr(text, "is corrupt") && count_lines(text) == 1, "it is printed by the flush");
    free(text);
    statelog_close(sl);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(root, sizeof root, "%s/zetl-heal-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    TEST_RUN(test_open_truncated);
    TEST_RUN(test_open_garbled_middle);
    TEST_RUN(test_open_not_a_database);
    TEST_RUN(test_write_heals);
    TEST_RUN(test_deleted_noticed);
    TEST_RUN(test_other_handle_heals);
    TEST_RUN(test_concurrent_heal_says_why);
    TEST_RUN(test_deferred_notices);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return test_exit();
}
