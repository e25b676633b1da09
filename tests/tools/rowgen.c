/*
 * rowgen — a paced row generator for the benchmarks (bench/run.sh): inserts
 * rows into one table of a PostgreSQL or MariaDB source at a fixed rate,
 * paced by the monotonic clock, in small or large transactions.
 *
 *   rowgen pg CONNINFO SCHEMA.TABLE [options]
 *   rowgen mysql SOCKET SCHEMA.TABLE [options]   (as root over the unix socket,
 *                                                 as tests/lib/harness.sh allows)
 * Options:
 *   --rows N        rows to insert: ids START .. START+N-1 (default 0)
 *   --start ID      first id (default 1)
 *   --rate R        rows per second; 0 = as fast as possible (default 0)
 *   --txn-rows K    rows per transaction; 0 = with a rate, what is due at each
 *                   tick, without one, all N rows in one transaction (default 0)
 *   --tick-ms T     pacing tick in ms (default 5)
 *   --create        CREATE SCHEMA/DATABASE and TABLE IF NOT EXISTS first
 *   --mix           (pg) with each transaction's N inserted rows, update N
 *                   rows inserted MIX_BACK ids earlier and delete N/2 rows
 *                   inserted 2 × MIX_BACK ids earlier, in the same
 *                   transaction (one statement): 2.5 changes per row paced;
 *                   a reader of the inserted rows has long seen the rows the
 *                   later deletes remove
 *
 * The table: (id bigint PRIMARY KEY, k int, c varchar(120), ts_us bigint), with
 * ts_us the server's clock when the row is inserted, in microseconds since the
 * epoch (PostgreSQL clock_timestamp(), MariaDB NOW(6)), so a reader on the same
 * machine measures the lag from the source to wherever the row turns up.
 * Every value is a bind parameter; identifiers are quoted.
 *
 * Pacing: at any time t after the start, START + floor(R * t) rows are due;
 * each step inserts what is due (at most K per transaction) in one
 * transaction, then sleeps a tick once nothing is due. When the database is
 * slower than R, the generator falls behind; behind_max_ms says by how much.
 *
 * Output, one line on stdout:
 *   rows N txns T seconds S rows_per_s R behind_max_ms B
 * Exit status: 0 ok, 1 database error (message on stderr), 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <mysql.h>

#define PAYLOAD "rowgen payload: the quick brown fox jumps over the lazy dog, 0123456789 abcdefghij #"
#define MY_CHUNKS 4
#define MIX_BACK 30000

static const int my_chunk[MY_CHUNKS] = { 1000, 100, 10, 1 };   /* rows per prepared INSERT */

struct gen {
    int         is_pg;
    char        schema[128], table[128];
    PGconn     *pg;
    MYSQL      *my;
    MYSQL_STMT *my_ins[MY_CHUNKS];
    int         mix;
    char        err[1024];
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    if (s <= 0) return;
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static int usage(void)
{
    fprintf(stderr, "usage: rowgen pg CONNINFO SCHEMA.TABLE | mysql SOCKET SCHEMA.TABLE\n"
                    "       [--rows N] [--start ID] [--rate R] [--txn-rows K] [--tick-ms T] [--create] [--mix]\n");
    return 2;
}

static int split_name(struct gen *g, const char *qual)
{
    const char *dot = strchr(qual, '.');
    if (!dot || dot == qual || !dot[1] || strchr(dot + 1, '.') ||
        (size_t)(dot - qual) >= sizeof g->schema || strlen(dot + 1) >= sizeof g->table) {
        fprintf(stderr, "rowgen: table '%s' must be schema.table\n", qual);
        return -1;
    }
    memcpy(g->schema, qual, (size_t)(dot - qual));
    g->schema[dot - qual] = 0;
    strcpy(g->table, dot + 1);
    return 0;
}

/* ---- PostgreSQL ------------------------------------------------------------ */

static int pg_exec(struct gen *g, const char *sql)
{
    PGresult *r = PQexec(g->pg, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) snprintf(g->err, sizeof g->err, "%s", PQerrorMessage(g->pg));
    PQclear(r);
    return ok ? 0 : -1;
}

static int pg_open(struct gen *g, const char *conninfo, int create)
{
    int rc = -1;
    char *qs = NULL, *qt = NULL, sql[1024];
    g->pg = PQconnectdb(conninfo);
    if (PQstatus(g->pg) != CONNECTION_OK) {
        snprintf(g->err, sizeof g->err, "connecting: %s", PQerrorMessage(g->pg));
        return -1;
    }
    qs = PQescapeIdentifier(g->pg, g->schema, strlen(g->schema));
    qt = PQescapeIdentifier(g->pg, g->table, strlen(g->table));
    if (!qs || !qt) { snprintf(g->err, sizeof g->err, "%s", PQerrorMessage(g->pg)); goto out; }
    if (create) {
        /* no "already exists, skipping" notices on stderr */
        snprintf(sql, sizeof sql, "SET client_min_messages = warning; CREATE SCHEMA IF NOT EXISTS %s; CREATE TABLE IF NOT EXISTS %s.%s ("
                 "id bigint PRIMARY KEY, k int NOT NULL, c varchar(120) NOT NULL, ts_us bigint NOT NULL)", qs, qs, qt);
        if (pg_exec(g, sql) != 0) goto out;
    }
    if (g->mix)
        snprintf(sql, sizeof sql, "WITH i AS (INSERT INTO %s.%s (id, k, c, ts_us) SELECT i, (i %% 1000)::int, $3 || i::text, "
                 "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint FROM generate_series($1::bigint, $2::bigint) i), "
                 "u AS (UPDATE %s.%s SET k = k + 1, c = left(c || '+', 120) WHERE id BETWEEN $1::bigint - %d AND $2::bigint - %d), "
                 "d AS (DELETE FROM %s.%s WHERE id BETWEEN $1::bigint - %d AND $1::bigint - %d + ($2::bigint - $1::bigint + 1) / 2 - 1) "
                 "SELECT 1", qs, qt, qs, qt, MIX_BACK, MIX_BACK, qs, qt, 2 * MIX_BACK, 2 * MIX_BACK);
    else
        snprintf(sql, sizeof sql, "INSERT INTO %s.%s (id, k, c, ts_us) SELECT i, (i %% 1000)::int, $3 || i::text, "
                 "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint FROM generate_series($1::bigint, $2::bigint) i", qs, qt);
    PGresult *r = PQprepare(g->pg, "ins", sql, 3, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(g->err, sizeof g->err, "preparing the INSERT: %s", PQerrorMessage(g->pg));
        PQclear(r);
        goto out;
    }
    PQclear(r);
    rc = 0;
out:
    PQfreemem(qs);
    PQfreemem(qt);
    return rc;
}

/* One transaction: ids first .. first+n-1 in one statement. */
static int pg_insert(struct gen *g, int64_t first, int64_t n)
{
    char lo[32], hi[32];
    snprintf(lo, sizeof lo, "%" PRId64, first);
    snprintf(hi, sizeof hi, "%" PRId64, first + n - 1);
    const char *params[3] = { lo, hi, PAYLOAD };
    PGresult *r = PQexecPrepared(g->pg, "ins", 3, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok) snprintf(g->err, sizeof g->err, "INSERT of ids %s..%s: %s", lo, hi, PQerrorMessage(g->pg));
    PQclear(r);
    return ok ? 0 : -1;
}

/* ---- MariaDB ---------------------------------------------------------------- */

/* `name` with backticks doubled. */
static void my_quote(char *out, size_t outlen, const char *name)
{
    size_t o = 0;
    out[o++] = '`';
    for (const char *p = name; *p && o + 3 < outlen; p++) {
        if (*p == '`') out[o++] = '`';
        out[o++] = *p;
    }
    out[o++] = '`';
    out[o] = 0;
}

static int my_exec(struct gen *g, const char *sql)
{
    if (mysql_query(g->my, sql) == 0) return 0;
    snprintf(g->err, sizeof g->err, "%s", mysql_error(g->my));
    return -1;
}

static int my_open(struct gen *g, const char *socket, int create)
{
    char qs[300], qt[300], sql[1024];
    g->my = mysql_init(NULL);
    if (!g->my || !mysql_real_connect(g->my, NULL, "root", NULL, NULL, 0, socket, 0)) {
        snprintf(g->err, sizeof g->err, "connecting to %s: %s", socket, g->my ? mysql_error(g->my) : "out of memory");
        return -1;
    }
    my_quote(qs, sizeof qs, g->schema);
    my_quote(qt, sizeof qt, g->table);
    if (create) {
        snprintf(sql, sizeof sql, "CREATE DATABASE IF NOT EXISTS %s", qs);
        if (my_exec(g, sql) != 0) return -1;
        snprintf(sql, sizeof sql, "CREATE TABLE IF NOT EXISTS %s.%s (id BIGINT NOT NULL PRIMARY KEY, "
                 "k INT NOT NULL, c VARCHAR(120) NOT NULL, ts_us BIGINT NOT NULL)", qs, qt);
        if (my_exec(g, sql) != 0) return -1;
    }
    /* the sequence engine's seq_1_to_N tables live in every database */
    if (mysql_select_db(g->my, g->schema) != 0 || mysql_autocommit(g->my, 0) != 0) {
        snprintf(g->err, sizeof g->err, "%s", mysql_error(g->my));
        return -1;
    }
    for (int i = 0; i < MY_CHUNKS; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO %s.%s (id, k, c, ts_us) SELECT x.b + s.seq, (x.b + s.seq) MOD 1000, "
                 "CONCAT(x.p, x.b + s.seq), CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED) "
                 "FROM (SELECT CAST(? AS SIGNED) AS b, CAST(? AS CHAR) AS p) x JOIN seq_1_to_%d s", qs, qt, my_chunk[i]);
        g->my_ins[i] = mysql_stmt_init(g->my);
        if (!g->my_ins[i] || mysql_stmt_prepare(g->my_ins[i], sql, strlen(sql)) != 0) {
            snprintf(g->err, sizeof g->err, "preparing the INSERT: %s",
                     g->my_ins[i] ? mysql_stmt_error(g->my_ins[i]) : "out of memory");
            return -1;
        }
    }
    return 0;
}

static int my_insert(struct gen *g, int64_t first, int64_t n)
{
    int64_t at = first;
    for (int i = 0; i < MY_CHUNKS; i++) {
        while (first + n - at >= my_chunk[i]) {
            long long base = at - 1;
            unsigned long plen = (unsigned long)strlen(PAYLOAD);
            MYSQL_BIND b[2];
            memset(b, 0, sizeof b);
            b[0].buffer_type = MYSQL_TYPE_LONGLONG;
            b[0].buffer = &base;
            b[1].buffer_type = MYSQL_TYPE_STRING;
            b[1].buffer = (char *)PAYLOAD;
            b[1].buffer_length = plen;
            b[1].length = &plen;
            if (mysql_stmt_bind_param(g->my_ins[i], b) != 0 || mysql_stmt_execute(g->my_ins[i]) != 0) {
                snprintf(g->err, sizeof g->err, "INSERT of ids from %" PRId64 ": %s", at, mysql_stmt_error(g->my_ins[i]));
                mysql_rollback(g->my);
                return -1;
            }
            at += my_chunk[i];
        }
    }
    if (mysql_commit(g->my) != 0) {
        snprintf(g->err, sizeof g->err, "COMMIT: %s", mysql_error(g->my));
        return -1;
    }
    return 0;
}

static void gen_close(struct gen *g)
{
    if (g->pg) PQfinish(g->pg);
    for (int i = 0; i < MY_CHUNKS; i++)
        if (g->my_ins[i]) mysql_stmt_close(g->my_ins[i]);
    if (g->my) mysql_close(g->my);
}

/* ---- main ------------------------------------------------------------------- */

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    struct gen g;
    int64_t rows = 0, start = 1, rate = 0, txn_rows = 0, tick_ms = 5;
    int create = 0;

    memset(&g, 0, sizeof g);
    if (argc < 4) return usage();
    if (strcmp(argv[1], "pg") == 0) g.is_pg = 1;
    else if (strcmp(argv[1], "mysql") != 0) return usage();
    if (split_name(&g, argv[3]) != 0) return 2;
    for (int i = 4; i < argc; i++) {
        int64_t *dst = NULL;
        if (strcmp(argv[i], "--create") == 0) { create = 1; continue; }
        if (strcmp(argv[i], "--mix") == 0) { g.mix = 1; continue; }
        if (strcmp(argv[i], "--rows") == 0) dst = &rows;
        else if (strcmp(argv[i], "--start") == 0) dst = &start;
        else if (strcmp(argv[i], "--rate") == 0) dst = &rate;
        else if (strcmp(argv[i], "--txn-rows") == 0) dst = &txn_rows;
        else if (strcmp(argv[i], "--tick-ms") == 0) dst = &tick_ms;
        if (!dst || i + 1 >= argc || parse_i64(argv[i + 1], dst) != 0) {
            fprintf(stderr, "rowgen: bad option '%s'%s\n", argv[i], dst ? " (expects a number >= 0)" : "");
            return usage();
        }
        i++;
    }
    if (start < 1 || tick_ms < 1) {
        fprintf(stderr, "rowgen: --start and --tick-ms must be at least 1\n");
        return 2;
    }

    if (g.mix && !g.is_pg) {
        fprintf(stderr, "rowgen: --mix is for a PostgreSQL source\n");
        return 2;
    }
    if ((g.is_pg ? pg_open(&g, argv[2], create) : my_open(&g, argv[2], create)) != 0) {
        fprintf(stderr, "rowgen: %s.%s: %s\n", g.schema, g.table, g.err);
        gen_close(&g);
        return 1;
    }

    int64_t sent = 0, txns = 0;
    double t0 = mono_s(), behind_max = 0;
    while (sent < rows) {
        double now = mono_s();
        int64_t due = rows;
        if (rate > 0) {
            due = (int64_t)((now - t0) * (double)rate);
            if (due > rows) due = rows;
            if (due <= sent) { sleep_s((double)tick_ms / 1000.0); continue; }
            double late = now - (t0 + (double)(sent + 1) / (double)rate);   /* the oldest due row's wait */
            if (late > behind_max) behind_max = late;
        }
        int64_t n = due - sent;
        if (txn_rows > 0 && n > txn_rows) n = txn_rows;
        if ((g.is_pg ? pg_insert(&g, start + sent, n) : my_insert(&g, start + sent, n)) != 0) {
            fprintf(stderr, "rowgen: %s.%s: %s\n", g.schema, g.table, g.err);
            gen_close(&g);
            return 1;
        }
        sent += n;
        txns++;
    }
    double secs = mono_s() - t0;
    printf("rows %" PRId64 " txns %" PRId64 " seconds %.3f rows_per_s %.0f behind_max_ms %.0f\n",
           sent, txns, secs, secs > 0 ? (double)sent / secs : 0.0, behind_max * 1000.0);
    gen_close(&g);
    return 0;
}
