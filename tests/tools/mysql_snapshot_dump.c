/*
 * mysql_snapshot_dump — load MySQL/MariaDB table definitions
 * (runtime/mysql/schema) and take a consistent snapshot
 * (runtime/mysql/snapshot), printing everything in a stable text form:
 *
 *   TABLE db.t npk=2 ncols=5
 *   COL db.t.c type=varchar length=10 precision=0 scale=0 nullable=1 unsigned=0 pk=1 source_type=varchar(10)
 *   POSITION binlog.000001:1234 gtid=0-1-5 mode=exact
 *   ROW db.t [1, "abc", NULL, x'00ff', 0.5]
 *   TSV db.t<TAB>1<TAB>"abc"<TAB>NULL …   (-T: the same values, tab-separated)
 *   PROGRESS db.t 20000 300000                (-P)
 *   WARN db.t column d: zero … copied as NULL (-w)
 *   COPIED db.t 300000
 *   DROPPED db.t                              (the table vanished before its read)
 *   DONE rows=300000 hwm_kb=5120
 *
 * Values print exactly as tests/tools/binlog_dump prints them (integers in
 * decimal, floats %.17g, text in double quotes with \" \\ \n \r \t \xNN
 * escapes, bytes as x'hex', NULL), so a ROW line equals binlog_dump's INSERT
 * line for the same row with "INSERT" replaced by "ROW".
 *
 *   mysql_snapshot_dump [-c FILE [-i NAME]] [-d DB]... [-I PATTERN]... [-X COLPATTERN]...
 *                       [-k CHUNK] [-t DB.TABLE] [-q] [-s] [-P] [-T] [-w] [-W FILE] [-S N]
 *     -c/-i  use this config file (first integration unless -i)
 *     -d -I -X  else a config from ZH_HOST ZH_MY_PORT ZH_MY_USER ZH_MY_PASSWORD with
 *            these databases, include patterns (default DB.%) and exclude_columns
 *     -k     keyset chunk size (default 10000)
 *     -t     one table, in its own consistent read (mysql_snapshot_table, resync)
 *     -T     TSV lines instead of ROW lines
 *     -q     no ROW lines      -s  schema only      -P  PROGRESS lines   -w  WARN lines
 *     -W     after POSITION, wait (≤ 60 s) until FILE exists before copying
 *     -S N   raise the stop flag after N rows; prints "STOPPED rc=N ms=M" (M: stop → return)
 * Exit 1 with the error on stderr on failure.
 */
#include "config/config.h"
#include "runtime/pipe/change.h"
#include "tests/tools/zvalue_text.h"
#include "runtime/mysql/conn.h"
#include "runtime/mysql/schema.h"
#include "runtime/mysql/snapshot.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int quiet, show_progress, show_warn, tsv;
static uint64_t total_rows, stop_after;
static atomic_int stop_flag;
static struct timespec stop_at;
static char obuf[1 << 16];
static size_t olen;

static void flush_out(void) { fwrite(obuf, 1, olen, stdout); olen = 0; fflush(stdout); }
static void out(const char *s, size_t n)
{
    if (olen + n > sizeof obuf) { fwrite(obuf, 1, olen, stdout); olen = 0; }
    if (n > sizeof obuf) { fwrite(s, 1, n, stdout); return; }
    memcpy(obuf + olen, s, n); olen += n;
}
static void outs(const char *s) { out(s, strlen(s)); }

static void value(const struct zvalue *v) { zvalue_text(v, out); }

static int on_row(void *ctx, const struct zrowchange *rc)
{
    (void)ctx;
    total_rows++;
    if (stop_after && total_rows == stop_after) {
        clock_gettime(CLOCK_MONOTONIC, &stop_at);
        atomic_store(&stop_flag, 1);
    }
    if (quiet) return 0;
    const struct ztable *t = rc->table;
    if (tsv) {
        outs("TSV "); outs(t->schema); out(".", 1); outs(t->name);
        for (int i = 0; i < t->ncols; i++) { out("\t", 1); value(&rc->after[i]); }
        outs("\n");
        return 0;
    }
    outs("ROW "); outs(t->schema); out(".", 1); outs(t->name); outs(" [");
    for (int i = 0; i < t->ncols; i++) { if (i) outs(", "); value(&rc->after[i]); }
    outs("]\n");
    return 0;
}

static void on_progress(void *ctx, const struct ztable *t, uint64_t copied, uint64_t est)
{
    (void)ctx;
    if (!show_progress) return;
    char b[512];
    snprintf(b, sizeof b, "PROGRESS %s.%s %" PRIu64 " %" PRIu64 "\n", t->schema, t->name, copied, est);
    outs(b);
}

static void on_warn(void *ctx, const char *msg)
{
    (void)ctx;
    if (!show_warn) return;
    outs("WARN "); outs(msg); outs("\n");
}

static void print_table(const struct ztable *t)
{
    char b[2048];
    snprintf(b, sizeof b, "TABLE %s.%s npk=%d ncols=%d\n", t->schema, t->name, t->npk, t->ncols);
    outs(b);
    for (int i = 0; i < t->ncols; i++) {
        const struct zcolumn *c = &t->cols[i];
        snprintf(b, sizeof b, "COL %s.%s.%s type=%s length=%d precision=%d scale=%d nullable=%d unsigned=%d pk=%d source_type=%s\n",
                 t->schema, t->name, c->name, ztype_name(c->type), c->length, c->precision, c->scale,
                 c->nullable, c->is_unsigned, c->pk_ord, c->source_type ? c->source_type : "");
        outs(b);
    }
}

static long hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

/* Append s to a YAML single-quoted scalar ('' doubles a quote; "${" is escaped as "$${"). */
static void yq(char *buf, size_t len, const char *s)
{
    size_t n = strlen(buf);
    if (n + 1 < len) buf[n++] = '\'';
    for (; *s && n + 4 < len; s++) {
        if (*s == '\'') buf[n++] = '\'';
        if (s[0] == '$' && s[1] == '{') buf[n++] = '$';
        buf[n++] = *s;
    }
    if (n + 1 < len) buf[n++] = '\'';
    buf[n] = '\0';
}

static void cat(char *buf, size_t len, const char *s) { strncat(buf, s, len - strlen(buf) - 1); }

static int list_yaml(char *y, size_t len, const char *key, char **items, int n)
{
    cat(y, len, "      "); cat(y, len, key); cat(y, len, ": [");
    for (int i = 0; i < n; i++) { if (i) cat(y, len, ", "); yq(y, len, items[i]); }
    cat(y, len, "]\n");
    return 0;
}

static void elapsed_ms(const struct timespec *a, long *ms)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    *ms = (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

int main(int argc, char **argv)
{
    const char *cfgpath = NULL, *iname = NULL, *one = NULL, *waitfile = NULL;
    char *dbs[32], *incs[32], *xcols[32];
    int ndb = 0, ninc = 0, nx = 0, schema_only = 0, opt;
    uint32_t chunk = 0;
    while ((opt = getopt(argc, argv, "c:i:d:I:X:k:t:qsPTwW:S:")) != -1) {
        switch (opt) {
        case 'c': cfgpath = optarg; break;
        case 'i': iname = optarg; break;
        case 'd': if (ndb < 32) dbs[ndb++] = optarg; break;
        case 'I': if (ninc < 32) incs[ninc++] = optarg; break;
        case 'X': if (nx < 32) xcols[nx++] = optarg; break;
        case 'k': chunk = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 't': one = optarg; break;
        case 'q': quiet = 1; break;
        case 's': schema_only = 1; break;
        case 'P': show_progress = 1; break;
        case 'T': tsv = 1; break;
        case 'w': show_warn = 1; break;
        case 'W': waitfile = optarg; break;
        case 'S': stop_after = strtoull(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: mysql_snapshot_dump [-c FILE [-i NAME]] [-d DB]... [-I PAT]... [-X COLPAT]... "
                            "[-k CHUNK] [-t DB.TABLE] [-q] [-s] [-P] [-T] [-w] [-W FILE] [-S N]\n");
            return 2;
        }
    }
    char err[2048];
    struct config *cfg = NULL;
    if (cfgpath) {
        if (config_load(cfgpath, &cfg, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    } else {
        const char *host = getenv("ZH_HOST"), *port = getenv("ZH_MY_PORT");
        const char *user = getenv("ZH_MY_USER"), *pw = getenv("ZH_MY_PASSWORD");
        if (!host || !port || !user || !ndb) {
            fprintf(stderr, "mysql_snapshot_dump: need -c FILE, or ZH_HOST ZH_MY_PORT ZH_MY_USER [ZH_MY_PASSWORD] and -d DB\n");
            return 2;
        }
        static char y[16384];
        snprintf(y, sizeof y, "integrations:\n  - name: snapdump\n    source:\n      kind: mysql\n      host: ");
        yq(y, sizeof y, host);
        cat(y, sizeof y, "\n      port: "); cat(y, sizeof y, port);
        cat(y, sizeof y, "\n      user: "); yq(y, sizeof y, user);
        if (pw) { cat(y, sizeof y, "\n      password: "); yq(y, sizeof y, pw); }
        cat(y, sizeof y, "\n      tls: disable\n");
        list_yaml(y, sizeof y, "databases", dbs, ndb);
        cat(y, sizeof y, "    target:\n      kind: postgres\n      dsn: 'host=127.0.0.1'\n    tables:\n");
        char *defs[32], defbuf[32][256];
        if (!ninc) {
            for (int i = 0; i < ndb; i++) { snprintf(defbuf[i], sizeof defbuf[i], "%s.%%", dbs[i]); defs[i] = defbuf[i]; }
            list_yaml(y, sizeof y, "include", defs, ndb);
        } else {
            list_yaml(y, sizeof y, "include", incs, ninc);
        }
        if (nx) list_yaml(y, sizeof y, "exclude_columns", xcols, nx);
        if (config_load_buffer("mysql_snapshot_dump", y, strlen(y), &cfg, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
    }
    const struct config_integration *in = iname ? config_find(cfg, iname) : &cfg->integrations[0];
    if (!in || cfg->nintegrations == 0) { fprintf(stderr, "mysql_snapshot_dump: no such integration\n"); return 1; }

    struct mysql_snapshot_opts o = {
        .row = on_row, .progress = on_progress, .warn = on_warn, .stop = &stop_flag, .chunk_rows = chunk,
    };
    struct mysql_snapshot *s = NULL;
    struct ztable **tables = NULL;
    int ntables = 0, rc = 1;
    char pos[2048];
    struct zpos zp;
    enum mysql_snapshot_mode mode;

    if (one) {
        /* Resync path: the definition from its own connection, then the table's own read. */
        MYSQL *db;
        char schema[256];
        const char *dot = strchr(one, '.');
        if (!dot || (size_t)(dot - one) >= sizeof schema) { fprintf(stderr, "-t wants DB.TABLE\n"); goto out; }
        memcpy(schema, one, (size_t)(dot - one));
        schema[dot - one] = '\0';
        if (mysql_conn_open(&db, in->name, &in->source, 30, err, sizeof err)) { fprintf(stderr, "%s\n", err); goto out; }
        struct ztable *t = NULL;
        int r = mysql_schema_load_one(db, in, schema, dot + 1, &t, err, sizeof err);
        mysql_close(db);
        if (r == 1) { fprintf(stderr, "mysql_snapshot_dump: %s does not exist\n", one); goto out; }
        if (r) { fprintf(stderr, "%s\n", err); goto out; }
        print_table(t);
        uint64_t n = 0;
        r = mysql_snapshot_table(in, t, &o, &zp, &mode, &n, err, sizeof err);
        zpos_format(&zp, pos, sizeof pos);
        char line[2300];
        snprintf(line, sizeof line, "POSITION %s mode=%s\n", pos, mode == MYSQL_SNAPSHOT_EXACT ? "exact" : "replay");
        outs(line);
        if (r) { flush_out(); fprintf(stderr, "%s\n", err); ztable_free(t); goto out; }
        snprintf(line, sizeof line, "COPIED %s.%s %" PRIu64 "\n", t->schema, t->name, n);
        outs(line);
        ztable_free(t);
        snprintf(line, sizeof line, "DONE rows=%" PRIu64 " hwm_kb=%ld\n", total_rows, hwm_kb());
        outs(line);
        rc = 0;
        goto out;
    }

    if (mysql_snapshot_begin(&s, in, &o, err, sizeof err)) { fprintf(stderr, "%s\n", err); goto out; }
    if (mysql_schema_load(mysql_snapshot_conn(s), in, &tables, &ntables, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    for (int i = 0; i < ntables; i++) print_table(tables[i]);
    mysql_snapshot_position(s, &zp, &mode);
    zpos_format(&zp, pos, sizeof pos);
    {
        char line[2300];
        snprintf(line, sizeof line, "POSITION %s mode=%s\n", pos, mode == MYSQL_SNAPSHOT_EXACT ? "exact" : "replay");
        outs(line);
    }
    flush_out();
    if (schema_only) { rc = 0; goto out; }
    if (waitfile) {
        for (int i = 0; i < 6000 && access(waitfile, F_OK) != 0; i++) usleep(10000);
    }
    for (int i = 0; i < ntables; i++) {
        uint64_t n = 0;
        int r = mysql_snapshot_copy(s, tables[i], &n, err, sizeof err);
        if (r == MYSQL_SNAPSHOT_STOPPED) {
            long ms;
            elapsed_ms(&stop_at, &ms);
            flush_out();
            printf("STOPPED rc=%d ms=%ld rows=%" PRIu64 "\n", r, ms, total_rows);
            rc = 0;
            goto out;
        }
        if (r == MYSQL_SNAPSHOT_NO_TABLE) {
            char line[600];
            snprintf(line, sizeof line, "DROPPED %s.%s\n", tables[i]->schema, tables[i]->name);
            outs(line);
            continue;
        }
        if (r) { flush_out(); fprintf(stderr, "%s\n", err); goto out; }
        char line[600];
        snprintf(line, sizeof line, "COPIED %s.%s %" PRIu64 "\n", tables[i]->schema, tables[i]->name, n);
        outs(line);
    }
    {
        char line[128];
        snprintf(line, sizeof line, "DONE rows=%" PRIu64 " hwm_kb=%ld\n", total_rows, hwm_kb());
        outs(line);
    }
    rc = 0;
out:
    flush_out();
    mysql_schema_free(tables, ntables);
    mysql_snapshot_end(s);
    config_free(cfg);
    return rc;
}
