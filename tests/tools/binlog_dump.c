/*
 * binlog_dump — decode MySQL/MariaDB binlog files (or a byte stream on stdin)
 * with runtime/mysql/decoder and print one line per row change:
 *
 *   INSERT db.t [1, "abc", NULL, x'00ff']
 *   UPDATE db.t [1, "abc"] -> [1, "abd"]
 *   DELETE db.t [1, "abd"]
 *
 * Integers print as decimal, floats with %.17g, text in double quotes with
 * \" \\ \n \r \t and \xNN escapes for other control bytes, bytes as x'hex',
 * NULL, and ~ for an unchanged (absent) column.
 *
 *   binlog_dump [-t] [-q] [-v] [-s] [-g GTID] FILE...
 *     -t   also print BEGIN / COMMIT <position> / DDL / TRUNCATE / WARN lines
 *     -v   one line per value instead: "OP db.t KEY COLUMN VALUE", KEY being the
 *          row's first value (UPDATE prints its after image, DELETE its before)
 *     -q   print nothing per row; at the end
 *          "events N rows N txns N bytes N seconds S maxrss_kb N"
 *     -s   read stdin as one byte stream (chunks of 64 KiB)
 *     -g   GTID state to start from
 * Exit status 1 with the decoder's error on stderr when decoding fails.
 */
#include "runtime/pipe/change.h"
#include "tests/tools/zvalue_text.h"
#include "runtime/mysql/decoder.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int quiet, trace, per_value;
static char obuf[1 << 16];
static size_t olen;

static void flush_out(void) { fwrite(obuf, 1, olen, stdout); olen = 0; }
static void out(const char *s, size_t n)
{
    if (olen + n > sizeof obuf) flush_out();
    if (n > sizeof obuf) { fwrite(s, 1, n, stdout); return; }
    memcpy(obuf + olen, s, n); olen += n;
}
static void outs(const char *s) { out(s, strlen(s)); }

static void value(const struct zvalue *v) { zvalue_text(v, out); }

static void image(const struct ztable *t, const struct zvalue *v)
{
    out("[", 1);
    for (int i = 0; i < t->ncols; i++) { if (i) outs(", "); value(&v[i]); }
    out("]", 1);
}

static int on_row(void *ctx, const struct zrowchange *rc)
{
    (void)ctx;
    if (quiet) return 0;
    const struct ztable *t = rc->table;
    static const char *ops[] = { "?", "INSERT", "UPDATE", "DELETE", "TRUNCATE" };
    if (per_value && rc->op != ZOP_TRUNCATE) {
        const struct zvalue *img = rc->op == ZOP_DELETE ? rc->before : rc->after;
        for (int i = 0; i < t->ncols; i++) {
            outs(ops[rc->op]); out(" ", 1); outs(t->schema); out(".", 1); outs(t->name); out(" ", 1);
            value(&img[0]); out(" ", 1); outs(t->cols[i].name); out(" ", 1); value(&img[i]); out("\n", 1);
        }
        return 0;
    }
    outs(ops[rc->op <= 4 ? rc->op : 0]); out(" ", 1);
    outs(t->schema); out(".", 1); outs(t->name);
    if (rc->op == ZOP_INSERT) { out(" ", 1); image(t, rc->after); }
    else if (rc->op == ZOP_DELETE) { out(" ", 1); image(t, rc->before); }
    else if (rc->op == ZOP_UPDATE) { out(" ", 1); image(t, rc->before); outs(" -> "); image(t, rc->after); }
    out("\n", 1);
    return 0;
}

static int on_begin(void *ctx, const struct ztxn *t) { (void)ctx; (void)t; if (trace && !quiet) outs("BEGIN\n"); return 0; }

static int on_commit(void *ctx, const struct ztxn *t)
{
    (void)ctx;
    if (!trace || quiet) return 0;
    char p[1200], b[1400];
    zpos_format(&t->end, p, sizeof p);
    snprintf(b, sizeof b, "COMMIT %s xid=%" PRIu64 " time=%" PRId64 "\n", p, t->xid, t->commit_time_us);
    outs(b);
    return 0;
}

static int on_schema(void *ctx, const struct zschema_change *sc)
{
    (void)ctx;
    if (!trace || quiet) return 0;
    static const char *k[] = { "?", "CREATE_TABLE", "DROP_TABLE", "RENAME_TABLE", "ALTER_TABLE", "UNSUPPORTED" };
    outs("DDL "); outs(k[sc->kind <= 5 ? sc->kind : 0]); outs(": ");
    outs(sc->statement ? sc->statement : ""); if (sc->reason) { outs(" -- "); outs(sc->reason); } out("\n", 1);
    return 0;
}

static void on_warn(void *ctx, const char *msg)
{
    (void)ctx;
    if (!trace || quiet) return;
    outs("WARN "); outs(msg); out("\n", 1);
}

int main(int argc, char **argv)
{
    int opt, stream = 0;
    const char *gtid = NULL;
    while ((opt = getopt(argc, argv, "tqvsg:")) != -1) {
        switch (opt) {
        case 'v': per_value = 1; break;
        case 't': trace = 1; break;
        case 'q': quiet = 1; break;
        case 's': stream = 1; break;
        case 'g': gtid = optarg; break;
        default:
            fprintf(stderr, "usage: binlog_dump [-t] [-q] [-v] [-g GTID] FILE... | binlog_dump [-t|-q|-v] -s < stream\n");
            return 2;
        }
    }
    struct zsink sink = { .begin = on_begin, .row = on_row, .schema = on_schema, .commit = on_commit };
    struct mysql_decoder_opts o = { .sink = &sink, .gtid = gtid, .warn = on_warn, .offset = 0 };
    struct mysql_decoder *d = mysql_decoder_new(&o);
    if (!d) { fprintf(stderr, "binlog_dump: out of memory\n"); return 1; }
    int rc = 0;
    struct mysql_decoder_stats acc, sum = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (stream) {
        static uint8_t buf[65536];
        ssize_t n;
        while (!rc && (n = read(0, buf, sizeof buf)) > 0) rc = mysql_decoder_feed(d, buf, (size_t)n);
        if (!rc) rc = mysql_decoder_finish(d);
    } else {
        /* The file list given again (bench/run.sh repeats it to time enough
         * work) is a new pass: a fresh decoder, as a new replica stream would
         * be; the same decoder would rightly take the second pass's first
         * GTID_LIST for a binlog reset. The counts add up over the passes. */
        for (int i = optind; i < argc && !rc; i++) {
            if (i > optind && strcmp(argv[i], argv[optind]) == 0) {
                mysql_decoder_get_stats(d, &acc);
                sum.events += acc.events; sum.rows += acc.rows; sum.txns += acc.txns; sum.bytes += acc.bytes;
                mysql_decoder_free(d);
                if (!(d = mysql_decoder_new(&o))) { fprintf(stderr, "binlog_dump: out of memory\n"); return 1; }
            }
            rc = mysql_decoder_file(d, argv[i]);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    flush_out();
    if (quiet) {
        struct mysql_decoder_stats st;
        struct rusage ru;
        mysql_decoder_get_stats(d, &st);
        st.events += sum.events; st.rows += sum.rows; st.txns += sum.txns; st.bytes += sum.bytes;
        getrusage(RUSAGE_SELF, &ru);
        printf("events %" PRIu64 " rows %" PRIu64 " txns %" PRIu64 " bytes %" PRIu64 " seconds %.3f maxrss_kb %ld\n",
               st.events, st.rows, st.txns, st.bytes,
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, ru.ru_maxrss);
    }
    if (rc) fprintf(stderr, "%s\n", mysql_decoder_error(d));
    fflush(stdout);
    mysql_decoder_free(d);
    return rc ? 1 : 0;
}
