/*
 * pg_stream_dump — stream a PostgreSQL source through zetl's pgoutput decoder
 * and print every change in a stable text form (for tests).
 *
 *   pg_stream_dump [--dsn-env VAR] [--slot NAME] [--publication NAME]
 *                  [--table SCHEMA.TABLE]... [--create] [--create-only] [--drop]
 *                  [--seconds N] [--commits M] [--ack-commits K] [--start LSN]
 *                  [--heartbeats] [--tables-info] [--status-ms MS]
 *   pg_stream_dump --preflight CONFIG.yaml [--integration NAME]
 *
 * The DSN (libpq key=value, may hold a password) is read from the environment
 * variable VAR (default ZH_PGSRC_DSN), never from argv, and never printed.
 *
 * Output, one line each:
 *   SLOT name 0/16B3748 snapshot-name          (--create)
 *   TABLE public.t [id int32 "integer" key1 notnull, ...]   (--tables-info, first row of a table)
 *   INSERT public.t [1, "abc", NULL, x'00ff', UNCHANGED]
 *   UPDATE public.t [new values] [KEY [...] | OLD [...]]
 *   DELETE public.t KEY [...] | OLD [...]
 *   TRUNCATE public.t
 *   SCHEMA ALTER|RENAME public.t [cols] -> public.t [cols]
 *   COMMIT 0/16B3830
 *   HEARTBEAT 0/16B3900                        (--heartbeats)
 * Text values are JSON string literals (as PostgreSQL's to_json(text) writes
 * them), integers bare, bytes x'hex'. The first K commits (--ack-commits,
 * default all) are confirmed to the server as durably applied as soon as they
 * are printed. Exits 0 after a clean stop (N seconds, M commits, SIGINT/TERM).
 *
 * --preflight runs runtime/pg/preflight.c for a postgres integration of the
 * config (the first, or NAME) and prints the report; exit 0 when nothing
 * failed, 1 when a check failed, 3 when the checks could not run.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "config/config.h"
#include "runtime/pipe/change.h"
#include "runtime/pg/catalog.h"
#include "runtime/pg/decoder.h"
#include "runtime/pg/preflight.h"
#include "runtime/pg/stream.h"
#include "runtime/check/preflight.h"

static atomic_int stop_flag;
static _Atomic uint64_t flushed;

struct dump {
    long   commits;
    long   max_commits;         /* 0 = no limit */
    long   ack_commits;         /* -1 = all */
    int    heartbeats;
    int    tables_info;
    uint32_t seen[4096];        /* relation OIDs whose TABLE line was printed */
    int    nseen;
};

static void on_signal(int sig) { (void)sig; atomic_store(&stop_flag, 1); }

static void put_text(const char *p, uint32_t n)
{
    putchar('"');
    for (uint32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '"': fputs("\\\"", stdout); break;
        case '\\': fputs("\\\\", stdout); break;
        case '\b': fputs("\\b", stdout); break;
        case '\f': fputs("\\f", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        default:
            if (c < 0x20) printf("\\u%04x", c);
            else putchar(c);
        }
    }
    putchar('"');
}

static void put_values(const struct zvalue *v, int n)
{
    putchar('[');
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", stdout);
        switch (v[i].kind) {
        case ZV_NULL: fputs("NULL", stdout); break;
        case ZV_UNCHANGED: fputs("UNCHANGED", stdout); break;
        case ZV_INT: printf("%" PRId64, v[i].v.i); break;
        case ZV_UINT: printf("%" PRIu64, v[i].v.u); break;
        case ZV_FLOAT: printf("%.17g", v[i].v.f); break;
        case ZV_TEXT: put_text(v[i].v.p, v[i].len); break;
        case ZV_BYTES:
            fputs("x'", stdout);
            for (uint32_t j = 0; j < v[i].len; j++) printf("%02x", (unsigned char)v[i].v.p[j]);
            putchar('\'');
            break;
        default: fputs("?", stdout);
        }
    }
    putchar(']');
}

static void put_def(const struct ztable *t)
{
    printf("%s.%s [", t->schema, t->name);
    for (int i = 0; i < t->ncols; i++) {
        const struct zcolumn *c = &t->cols[i];
        printf("%s%s %s%s \"%s\"", i ? ", " : "", c->name, ztype_name(c->type),
               c->is_array ? "[]" : "", c->source_type ? c->source_type : "?");
        if (c->length >= 0 && (c->type == ZT_CHAR || c->type == ZT_VARCHAR || c->type == ZT_BIT || c->type == ZT_VARBIT))
            printf(" len%d", c->length);
        if (c->type == ZT_DECIMAL) printf(" p%d s%d", c->precision, c->scale);
        if (c->pk_ord) printf(" key%d", c->pk_ord);
        if (!c->nullable) fputs(" notnull", stdout);
    }
    putchar(']');
}

static int d_begin(void *ctx, const struct ztxn *t) { (void)ctx; (void)t; return 0; }

static int d_row(void *ctx, const struct zrowchange *rc)
{
    struct dump *d = ctx;
    const struct ztable *t = rc->table;
    if (d->tables_info) {
        int seen = 0;
        for (int i = 0; i < d->nseen; i++) if (d->seen[i] == (uint32_t)t->id) seen = 1;
        if (!seen && d->nseen < 4096) {
            d->seen[d->nseen++] = (uint32_t)t->id;
            fputs("TABLE ", stdout);
            put_def(t);
            putchar('\n');
        }
    }
    static const char *ops[] = { "?", "INSERT", "UPDATE", "DELETE", "TRUNCATE" };
    printf("%s %s.%s", ops[rc->op], t->schema, t->name);
    if (rc->after) { putchar(' '); put_values(rc->after, t->ncols); }
    if (rc->before) {
        fputs(rc->before_key_only ? " KEY " : " OLD ", stdout);
        put_values(rc->before, t->ncols);
    }
    putchar('\n');
    return 0;
}

static int d_schema(void *ctx, const struct zschema_change *sc)
{
    (void)ctx;
    printf("SCHEMA %s ", sc->kind == ZDDL_RENAME_TABLE ? "RENAME" : sc->kind == ZDDL_ALTER_TABLE ? "ALTER" : "OTHER");
    put_def(sc->old_def);
    fputs(" -> ", stdout);
    put_def(sc->new_def);
    putchar('\n');
    return 0;
}

static int d_commit(void *ctx, const struct ztxn *t)
{
    struct dump *d = ctx;
    char p[64];
    zpos_format(&t->end, p, sizeof p);
    printf("COMMIT %s\n", p);
    fflush(stdout);
    d->commits++;
    if (d->ack_commits < 0 || d->commits <= d->ack_commits) atomic_store(&flushed, t->end.offset);
    if (d->max_commits && d->commits >= d->max_commits) atomic_store(&stop_flag, 1);
    return 0;
}

static int d_heartbeat(void *ctx, const struct zpos *pos, int64_t now_us)
{
    struct dump *d = ctx;
    (void)now_us;
    if (d->heartbeats) {
        char p[64];
        zpos_format(pos, p, sizeof p);
        printf("HEARTBEAT %s\n", p);
        fflush(stdout);
    }
    return 0;
}

static int preflight(const char *path, const char *name)
{
    struct config *cfg = NULL;
    char err[4096];
    if (config_load(path, &cfg, err, sizeof err)) {
        fprintf(stderr, "pg_stream_dump: %s\n", err);
        return 3;
    }
    const struct config_integration *in = NULL;
    for (int i = 0; i < cfg->nintegrations && !in; i++)
        if (cfg->integrations[i].source.kind == SOURCE_POSTGRES &&
            (!name || strcmp(cfg->integrations[i].name, name) == 0))
            in = &cfg->integrations[i];
    if (!in) {
        fprintf(stderr, "pg_stream_dump: %s has no postgres integration%s%s\n", path, name ? " named " : "", name ? name : "");
        config_free(cfg);
        return 3;
    }
    struct pf_report r = {0};
    int rc = pg_preflight(in, &r, err, sizeof err);
    if (rc) fprintf(stderr, "pg_stream_dump: %s\n", err);
    else pf_print(&r, stdout);
    rc = rc ? 3 : r.nfail ? 1 : 0;
    pf_free(&r);
    config_free(cfg);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: pg_stream_dump [--dsn-env VAR] [--slot NAME] [--publication NAME] "
            "[--table SCHEMA.TABLE]... [--create] [--create-only] [--drop] [--seconds N] "
            "[--commits M] [--ack-commits K] [--start LSN] [--heartbeats] [--tables-info] [--status-ms MS]\n"
            "       pg_stream_dump --preflight CONFIG.yaml [--integration NAME]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *dsn_env = "ZH_PGSRC_DSN", *slot = "zetl_dump", *pub = "zetl_dump";
    const char *pf_path = NULL, *pf_name = NULL;
    struct pgstream_table tables[64];
    int ntables = 0, create = 0, create_only = 0, drop = 0, seconds = 10, status_ms = 1000;
    uint64_t start = 0;
    static struct dump d = { .ack_commits = -1 };
    char err[1024];
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--dsn-env") && v) { dsn_env = v; i++; }
        else if (!strcmp(a, "--slot") && v) { slot = v; i++; }
        else if (!strcmp(a, "--publication") && v) { pub = v; i++; }
        else if (!strcmp(a, "--table") && v && ntables < 64) {
            char *s = strdup(v), *dot = strchr(s, '.');
            if (!dot) usage();
            *dot = 0;
            tables[ntables].schema = s;
            tables[ntables++].name = dot + 1;
            i++;
        }
        else if (!strcmp(a, "--create")) create = 1;
        else if (!strcmp(a, "--create-only")) create = create_only = 1;
        else if (!strcmp(a, "--drop")) drop = 1;
        else if (!strcmp(a, "--seconds") && v) { seconds = atoi(v); i++; }
        else if (!strcmp(a, "--commits") && v) { d.max_commits = atol(v); i++; }
        else if (!strcmp(a, "--ack-commits") && v) { d.ack_commits = atol(v); i++; }
        else if (!strcmp(a, "--start") && v) {
            if (pgstream_parse_lsn(v, &start)) usage();
            i++;
        }
        else if (!strcmp(a, "--preflight") && v) { pf_path = v; i++; }
        else if (!strcmp(a, "--integration") && v) { pf_name = v; i++; }
        else if (!strcmp(a, "--status-ms") && v) { status_ms = atoi(v); i++; }
        else if (!strcmp(a, "--heartbeats")) d.heartbeats = 1;
        else if (!strcmp(a, "--tables-info")) d.tables_info = 1;
        else usage();
    }
    if (pf_path) return preflight(pf_path, pf_name);
    const char *dsn = getenv(dsn_env);
    if (!dsn || !*dsn) {
        fprintf(stderr, "pg_stream_dump: environment variable %s (the source DSN) is not set\n", dsn_env);
        return 2;
    }

    PGconn *sql = PQconnectdb(dsn);
    if (PQstatus(sql) != CONNECTION_OK) {
        fprintf(stderr, "pg_stream_dump: SQL connection failed: %s", PQerrorMessage(sql));
        PQfinish(sql);
        return 1;
    }
    struct pgstream *s = pgstream_connect(dsn, err, sizeof err);
    struct pgcatalog *cat = pgcatalog_new(sql, NULL);
    struct pgdec *dec = NULL;
    if (!s) { fprintf(stderr, "pg_stream_dump: %s\n", err); goto out; }

    struct pgstream_sysinfo si;
    if (pgstream_identify(s, &si)) { fprintf(stderr, "pg_stream_dump: %s\n", pgstream_error(s)); goto out; }

    if (create) {
        if (ntables && pgstream_publication_ensure(sql, NULL, pub, tables, ntables, err, sizeof err)) {
            fprintf(stderr, "pg_stream_dump: %s\n", err);
            goto out;
        }
        char snap[128];
        uint64_t cp;
        if (pgstream_create_slot(s, slot, 0, snap, sizeof snap, &cp)) {
            fprintf(stderr, "pg_stream_dump: %s\n", pgstream_error(s));
            goto out;
        }
        printf("SLOT %s %X/%X %s\n", slot, (unsigned)(cp >> 32), (unsigned)cp, snap);
        fflush(stdout);
        if (create_only) { rc = 0; goto out; }
    }

    struct zsink sink = { .ctx = &d, .begin = d_begin, .row = d_row, .schema = d_schema, .commit = d_commit, .heartbeat = d_heartbeat };
    dec = pgdec_new(&sink);
    if (!dec || !cat) { fprintf(stderr, "pg_stream_dump: out of memory\n"); goto out; }
    pgdec_set_resolver(dec, pgcatalog_resolve, cat);

    const char *pubs[1] = { pub };
    if (pgstream_start(s, slot, start, pubs, 1)) {
        fprintf(stderr, "pg_stream_dump: %s\n", pgstream_error(s));
        goto out;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGALRM, on_signal);
    if (seconds > 0) alarm((unsigned)seconds);

    struct pgstream_loop loop = { .dec = dec, .flushed_lsn = &flushed, .stop = &stop_flag,
                                  .status_interval_ms = status_ms, .poll_ms = 100 };
    int r = pgstream_run(s, &loop);
    fflush(stdout);
    if (r) {
        fprintf(stderr, "pg_stream_dump: %s\n", pgstream_error(s)[0] ? pgstream_error(s) : "the sink stopped the stream");
        goto out;
    }
    uint64_t f = atomic_load(&flushed), rcv = pgstream_received_lsn(s);
    fprintf(stderr, "pg_stream_dump: stopped after %ld commits; received %X/%X, confirmed %X/%X\n", d.commits,
            (unsigned)(rcv >> 32), (unsigned)rcv, (unsigned)(f >> 32), (unsigned)f);
    rc = 0;
out:
    if (drop && s) {
        pgstream_close(s);
        s = NULL;
        int dr = -1;
        for (int tries = 0; tries < 50 && dr; tries++) {      /* the walsender may still hold the slot */
            dr = pgstream_slot_drop_sql(sql, NULL, slot, err, sizeof err);
            if (dr) usleep(100000);
        }
        if (dr || pgstream_publication_drop(sql, NULL, pub, err, sizeof err)) {
            fprintf(stderr, "pg_stream_dump: %s\n", err);
            rc = 1;
        }
    }
    pgdec_free(dec);
    pgcatalog_free(cat);
    pgstream_close(s);
    PQfinish(sql);
    return rc;
}
