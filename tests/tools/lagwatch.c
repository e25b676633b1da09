/*
 * lagwatch — when does each row become visible in a PostgreSQL target? For
 * the streaming and catch-up benchmarks (bench/run.sh), with rows written by
 * tests/tools/rowgen.c: (id bigint, ..., ts_us bigint), ts_us being the
 * source server's clock at insert in microseconds since the epoch.
 *
 *   lagwatch CONNINFO SCHEMA.TABLE --from ID --to ID [--timeout S] [--poll-ms P]
 *
 * Polls `SELECT id, ts_us FROM SCHEMA.TABLE WHERE id BETWEEN lowest-unseen
 * AND TO` every P ms (default 10) until every id FROM..TO has been seen, or S
 * seconds (default 600) have passed. The first time a row is seen, its lag is
 * (wall clock just before the query that returned it) - ts_us: the source and
 * the target run on this machine, so both clocks are the same clock. The
 * query's snapshot is taken right after that instant, so the figure is at
 * most one poll interval (plus the query's own start-up) late, never early.
 * A missing table or a failing query is retried until the deadline (a
 * replicator may create the table after we start, or a server may restart).
 *
 * Output, one line on stdout:
 *   seen N of M seconds S lag_p50_ms A lag_p95_ms B lag_p99_ms C lag_max_ms D
 * seconds: from the start until the last row was seen (or the deadline);
 * percentiles by nearest rank over the rows seen. Exit status: 0 when every
 * row was seen, 1 otherwise (the last error, if any, on stderr), 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define UNSEEN INT64_MIN

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least p of the values at or below it. */
static double pct_ms(const int64_t *sorted, size_t n, double p)
{
    if (n == 0) return 0;
    size_t rank = (size_t)(p * (double)n + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return (double)sorted[rank - 1] / 1000.0;
}

static int usage(void)
{
    fprintf(stderr, "usage: lagwatch CONNINFO SCHEMA.TABLE --from ID --to ID [--timeout S] [--poll-ms P]\n");
    return 2;
}

/* "schema"."table", quoted; NULL on a bad name (message printed). */
static char *quoted_table(PGconn *c, const char *qual)
{
    const char *dot = strchr(qual, '.');
    if (!dot || dot == qual || !dot[1]) {
        fprintf(stderr, "lagwatch: table '%s' must be schema.table\n", qual);
        return NULL;
    }
    char *qs = PQescapeIdentifier(c, qual, (size_t)(dot - qual));
    char *qt = PQescapeIdentifier(c, dot + 1, strlen(dot + 1));
    char *out = NULL;
    if (qs && qt && (out = malloc(strlen(qs) + strlen(qt) + 2)))
        sprintf(out, "%s.%s", qs, qt);
    if (!out) fprintf(stderr, "lagwatch: %s\n", PQerrorMessage(c));
    PQfreemem(qs);
    PQfreemem(qt);
    return out;
}

int main(int argc, char **argv)
{
    long long from = -1, to = -1, timeout_s = 600, poll_ms = 10;
    if (argc < 3) return usage();
    for (int i = 3; i < argc; i++) {
        long long *dst = NULL;
        if (strcmp(argv[i], "--from") == 0) dst = &from;
        else if (strcmp(argv[i], "--to") == 0) dst = &to;
        else if (strcmp(argv[i], "--timeout") == 0) dst = &timeout_s;
        else if (strcmp(argv[i], "--poll-ms") == 0) dst = &poll_ms;
        char *end = NULL;
        if (!dst || i + 1 >= argc || (*dst = strtoll(argv[i + 1], &end, 10), !end || *end || *dst < 0)) {
            fprintf(stderr, "lagwatch: bad option '%s'\n", argv[i]);
            return usage();
        }
        i++;
    }
    if (from < 0 || to < from || timeout_s < 1 || poll_ms < 1) {
        fprintf(stderr, "lagwatch: --from and --to are required, with 0 <= FROM <= TO\n");
        return 2;
    }

    size_t m = (size_t)(to - from + 1), seen = 0, low = 0;
    int64_t *lag = malloc(m * sizeof *lag);
    if (!lag) { fprintf(stderr, "lagwatch: out of memory for %zu rows\n", m); return 1; }
    for (size_t i = 0; i < m; i++) lag[i] = UNSEEN;

    double t0 = mono_s(), deadline = t0 + (double)timeout_s, t_last = t0;
    char lasterr[512] = "";
    char *qtab = NULL, sql[600], lo[32], hi[32];
    PGconn *c = NULL;
    int rc = 1;

    snprintf(hi, sizeof hi, "%lld", to);
    while (seen < m && mono_s() < deadline) {
        if (!c || PQstatus(c) != CONNECTION_OK) {
            PQfinish(c);
            c = PQconnectdb(argv[1]);
            if (PQstatus(c) != CONNECTION_OK) {
                snprintf(lasterr, sizeof lasterr, "connecting: %s", PQerrorMessage(c));
                sleep_ms(200);
                continue;
            }
            if (!qtab && !(qtab = quoted_table(c, argv[2]))) { rc = 2; goto out; }
            snprintf(sql, sizeof sql, "SELECT id, ts_us FROM %s WHERE id BETWEEN $1::bigint AND $2::bigint", qtab);
        }
        snprintf(lo, sizeof lo, "%lld", from + (long long)low);
        const char *params[2] = { lo, hi };
        int64_t at = wall_us();
        PGresult *r = PQexecParams(c, sql, 2, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            snprintf(lasterr, sizeof lasterr, "%s", PQerrorMessage(c));
            PQclear(r);
            sleep_ms(100);
            continue;
        }
        int n = PQntuples(r);
        for (int i = 0; i < n; i++) {
            long long id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
            long long ts = strtoll(PQgetvalue(r, i, 1), NULL, 10);
            size_t k = (size_t)(id - from);
            if (id < from || id > to || lag[k] != UNSEEN) continue;
            lag[k] = at - ts;
            seen++;
            t_last = mono_s();
        }
        PQclear(r);
        while (low < m && lag[low] != UNSEEN) low++;
        if (seen < m) sleep_ms(poll_ms);
    }

    /* Compact the seen lags and sort them. */
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (lag[i] != UNSEEN) lag[k++] = lag[i];
    qsort(lag, k, sizeof *lag, cmp_i64);
    printf("seen %zu of %zu seconds %.3f lag_p50_ms %.1f lag_p95_ms %.1f lag_p99_ms %.1f lag_max_ms %.1f\n",
           k, m, (seen == m ? t_last : mono_s()) - t0, pct_ms(lag, k, 0.50), pct_ms(lag, k, 0.95),
           pct_ms(lag, k, 0.99), k ? (double)lag[k - 1] / 1000.0 : 0.0);
    if (seen == m) rc = 0;
    else if (lasterr[0]) fprintf(stderr, "lagwatch: %s: %zu of %zu rows seen; last error: %s", argv[2], seen, m, lasterr);
out:
    PQfinish(c);
    free(qtab);
    free(lag);
    return rc;
}
