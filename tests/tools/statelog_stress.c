/*
 * statelog_stress — drives the SQLite log from several processes at once,
 * for tests/integration/test_statelog_procs.sh.
 *
 *   statelog_stress write PATH N NAME   N iterations on integration NAME, each
 *                                       one transaction: an activity row
 *                                       (pos_to "NAME:i"), a lag sample, a
 *                                       transition of table "t", +1 insert on
 *                                       "t". After each commit prints "i\n"
 *                                       to stdout with a single write(2).
 *   statelog_stress read PATH N         N times: status JSON must parse, the
 *                                       total of "inserts" never decreases, and
 *                                       in one read snapshot every
 *                                       integration's counts agree.
 *   statelog_stress check PATH          integrity_check = ok; prints one line
 *                                       per integration
 *                                       "NAME activity=A lag=L transitions=T inserts=I"
 *                                       and exits 1 unless A = L = T = I.
 * Exit status: 0 ok, 1 failure (message on stderr), 2 usage.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/log/statelog.h"

/* ---- a small JSON validator that sums the "inserts" members ---------------- */

struct js {
    const char *p;
    int         err;
    long long   inserts;      /* sum of every numeric "inserts" member */
};

static void js_ws(struct js *j)
{
    while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')
        j->p++;
}

static int js_lit(struct js *j, const char *lit)
{
    size_t n = strlen(lit);

    if (strncmp(j->p, lit, n) != 0)
        return j->err = 1, -1;
    j->p += n;
    return 0;
}

/* A string; its contents (escapes kept raw) copied into key when given. */
static void js_string(struct js *j, char *key, size_t keylen)
{
    size_t k = 0;

    if (*j->p != '"') {
        j->err = 1;
        return;
    }
    j->p++;
    while (*j->p && *j->p != '"') {
        unsigned char c = (unsigned char)*j->p;
        if (c < 0x20) {
            j->err = 1;
            return;
        }
        if (c == '\\') {
            j->p++;
            if (*j->p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", j->p[i]) || !j->p[i]) {
                        j->err = 1;
                        return;
                    }
                j->p += 4;
            } else if (!*j->p || !strchr("\"\\/bfnrt", *j->p)) {
                j->err = 1;
                return;
            }
        }
        if (key && k + 1 < keylen)
            key[k++] = (char)c;
        j->p++;
    }
    if (*j->p != '"') {
        j->err = 1;
        return;
    }
    j->p++;
    if (key)
        key[k] = '\0';
}

static long long js_number(struct js *j)
{
    char *end;
    double d = strtod(j->p, &end);

    if (end == j->p)
        return j->err = 1, 0;
    j->p = end;
    return (long long)d;
}

static void js_value(struct js *j, const char *key, int depth);

static void js_object(struct js *j, int depth)
{
    char key[64];

    j->p++;
    js_ws(j);
    if (*j->p == '}') {
        j->p++;
        return;
    }
    for (;;) {
        js_ws(j);
        js_string(j, key, sizeof key);
        js_ws(j);
        if (j->err || *j->p != ':') {
            j->err = 1;
            return;
        }
        j->p++;
        js_value(j, key, depth + 1);
        js_ws(j);
        if (j->err)
            return;
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p == '}') {
            j->p++;
            return;
        }
        j->err = 1;
        return;
    }
}

static void js_array(struct js *j, int depth)
{
    j->p++;
    js_ws(j);
    if (*j->p == ']') {
        j->p++;
        return;
    }
    for (;;) {
        js_value(j, NULL, depth + 1);
        js_ws(j);
        if (j->err)
            return;
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p == ']') {
            j->p++;
            return;
        }
        j->err = 1;
        return;
    }
}

static void js_value(struct js *j, const char *key, int depth)
{
    js_ws(j);
    if (depth > 32) {
        j->err = 1;
        return;
    }
    switch (*j->p) {
    case '{': js_object(j, depth); break;
    case '[': js_array(j, depth); break;
    case '"': js_string(j, NULL, 0); break;
    case 't': js_lit(j, "true"); break;
    case 'f': js_lit(j, "false"); break;
    case 'n': js_lit(j, "null"); break;
    default: {
        long long v = js_number(j);
        if (key && strcmp(key, "inserts") == 0)
            j->inserts += v;
    }
    }
}

static int json_check(const char *s, long long *inserts)
{
    struct js j = { .p = s };

    js_value(&j, NULL, 0);
    js_ws(&j);
    if (j.err || *j.p)
        return -1;
    *inserts = j.inserts;
    return 0;
}

/* ---- modes -------------------------------------------------------------------- */

static struct statelog *open_log(const char *path)
{
    struct statelog *sl;
    char err[256];

    if (statelog_open(&sl, path, err, sizeof err) < 0) {
        fprintf(stderr, "statelog_stress: %s\n", err);
        exit(1);
    }
    return sl;
}

static int fail(struct statelog *sl, const char *what)
{
    fprintf(stderr, "statelog_stress: %s: %s\n", what, statelog_error(sl));
    statelog_rollback(sl);
    statelog_close(sl);
    return 1;
}

static int mode_write(const char *path, long n, const char *name)
{
    struct statelog *sl = open_log(path);
    struct statelog_integration g = {
        .name = (char *)name, .source = "mysql://127.0.0.1:3306",
        .target = "postgres://127.0.0.1:5432/warehouse", .lag_ms = -1, .bytes_behind = -1,
    };
    char pos_from[96], pos_to[96], line[32];

    if (statelog_upsert_integration(sl, &g) < 0)
        return fail(sl, "upsert integration");
    for (long i = 1; i <= n; i++) {
        snprintf(pos_from, sizeof pos_from, "%s:%ld", name, i - 1);
        snprintf(pos_to, sizeof pos_to, "%s:%ld", name, i);
        struct statelog_activity a = {
            .integration = (char *)name, .pos_from = pos_from, .pos_to = pos_to,
            .transactions = 1, .inserted = 1, .bytes = 100, .duration_ms = 1,
        };
        if (statelog_begin(sl) < 0)
            return fail(sl, "begin");
        if (statelog_record_activity(sl, &a) < 0)
            return fail(sl, "record activity");
        if (statelog_record_lag(sl, name, 0, i % 1000, i) < 0)
            return fail(sl, "record lag");
        if (statelog_record_transition(sl, name, "t", NULL, i % 2 ? "resyncing" : "synced",
                                       NULL, "stress") < 0)
            return fail(sl, "record transition");
        if (statelog_add_table_counts(sl, name, "t", 1, 0, 0, 0, statelog_now_ms()) < 0)
            return fail(sl, "add table counts");
        if (statelog_commit(sl) < 0)
            return fail(sl, "commit");
        int len = snprintf(line, sizeof line, "%ld\n", i);
        if (write(1, line, (size_t)len) != len) {
            statelog_close(sl);
            return 1;
        }
    }
    statelog_close(sl);
    return 0;
}

/* Per integration, in one read snapshot: activity, lag samples, table
 * transition events and inserts. Returns rows printed, -1 on error. */
static int snapshot_counts(const char *path, int print, int *inconsistent)
{
    static const char *sql =
        "SELECT i.name,"
        " (SELECT count(*) FROM activity a WHERE a.integration = i.name),"
        " (SELECT count(*) FROM lag_samples l WHERE l.integration = i.name)"
        "   + (SELECT coalesce(sum(n), 0) FROM lag_rollups r WHERE r.integration = i.name),"
        " (SELECT count(*) FROM events e WHERE e.integration = i.name"
        "    AND e.kind = 'transition' AND e.tbl IS NOT NULL),"
        " (SELECT coalesce(sum(inserts), 0) FROM tables t WHERE t.integration = i.name)"
        " FROM integrations i ORDER BY i.name";
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rows = 0, rc;

    *inconsistent = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(db, STATELOG_BUSY_MS);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long a = sqlite3_column_int64(st, 1), l = sqlite3_column_int64(st, 2),
                  t = sqlite3_column_int64(st, 3), ins = sqlite3_column_int64(st, 4);
        if (print)
            printf("%s activity=%lld lag=%lld transitions=%lld inserts=%lld\n",
                   (const char *)sqlite3_column_text(st, 0), a, l, t, ins);
        if (a != l || a != t || a != ins) {
            fprintf(stderr, "statelog_stress: integration %s inconsistent: activity=%lld "
                    "lag=%lld transitions=%lld inserts=%lld\n",
                    (const char *)sqlite3_column_text(st, 0), a, l, t, ins);
            *inconsistent = 1;
        }
        rows++;
    }
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rows;
fail:
    fprintf(stderr, "statelog_stress: counts: %s\n", db ? sqlite3_errmsg(db) : "open failed");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return -1;
}

static int mode_read(const char *path, long n)
{
    struct statelog *sl = open_log(path);
    long long last = -1, inserts;
    int bad;

    for (long i = 0; i < n; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f || statelog_write_status_json(sl, f, NULL) < 0) {
            if (f)
                fclose(f);
            free(buf);
            return fail(sl, "status json");
        }
        fclose(f);
        if (json_check(buf, &inserts) < 0) {
            fprintf(stderr, "statelog_stress: status JSON does not parse: %s", buf);
            free(buf);
            statelog_close(sl);
            return 1;
        }
        free(buf);
        if (inserts < last) {
            fprintf(stderr, "statelog_stress: inserts went from %lld to %lld\n", last, inserts);
            statelog_close(sl);
            return 1;
        }
        last = inserts;
        if (snapshot_counts(path, 0, &bad) < 0 || bad) {
            statelog_close(sl);
            return 1;
        }
    }
    printf("read %ld times, inserts %lld\n", n, last);
    statelog_close(sl);
    return 0;
}

static int mode_check(const char *path)
{
    struct statelog *sl = open_log(path);   /* recovers the WAL; migration no-op */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    const char *res;
    int ok, bad;

    statelog_close(sl);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        fprintf(stderr, "statelog_stress: integrity_check: %s\n", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        sqlite3_close(db);
        return 1;
    }
    res = (const char *)sqlite3_column_text(st, 0);
    ok = res && strcmp(res, "ok") == 0;
    printf("integrity %s\n", res ? res : "(null)");
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (!ok)
        return 1;
    if (snapshot_counts(path, 1, &bad) < 0 || bad)
        return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "write") == 0)
        return mode_write(argv[2], atol(argv[3]), argv[4]);
    if (argc == 4 && strcmp(argv[1], "read") == 0)
        return mode_read(argv[2], atol(argv[3]));
    if (argc == 3 && strcmp(argv[1], "check") == 0)
        return mode_check(argv[2]);
    fprintf(stderr, "usage: statelog_stress write PATH N NAME | read PATH N | check PATH\n");
    return 2;
}
