/*
 * fuzz_binlog.c — libFuzzer target for the MySQL/MariaDB binlog decoder.
 *
 * The first input byte picks what the rest is:
 *   0..127    a binlog byte stream (file magic optional) fed to one decoder,
 *             in two pieces cut at the second byte's value, so the framer's
 *             partial-event buffering is exercised too;
 *   128..191  a TABLE_MAP body (2-byte LE length, then the body) followed by
 *             row images decoded with it until one fails;
 *   192..255  a MySQL binary JSON document.
 * The sink touches every value so a bad pointer or length faults here.
 *
 * Build (the decoder's files only; runtime/mysql/ also holds libmariadb code):
 *   clang -g -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -I. \
 *   tests/fuzz/fuzz_binlog.c runtime/mysql/{binlog,rows,tablemap,json,gtid,ddl,decoder}.c \
 *   runtime/pipe/change.c -lzstd -o /tmp/fuzz_binlog
 * Seeds: tests/fuzz/corpus/binlog/ (real MariaDB events, checksums off).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/pipe/change.h"
#include "runtime/mysql/binlog.h"
#include "runtime/mysql/decoder.h"
#include "runtime/mysql/json.h"
#include "runtime/mysql/rows.h"

static volatile uint64_t sink_hole;

static void touch(const struct zvalue *v, int n)
{
    uint64_t h = 0;
    for (int i = 0; v && i < n; i++) {
        h += v[i].kind;
        if (v[i].kind == ZV_TEXT || v[i].kind == ZV_BYTES)
            for (uint32_t k = 0; k < v[i].len; k++) h += (uint8_t)v[i].v.p[k];
    }
    sink_hole += h;
}

static int f_row(void *ctx, const struct zrowchange *rc)
{
    (void)ctx;
    touch(rc->before, rc->table->ncols);
    touch(rc->after, rc->table->ncols);
    for (int i = 0; i < rc->table->ncols; i++) sink_hole += strlen(rc->table->cols[i].name);
    return 0;
}
static int f_begin(void *ctx, const struct ztxn *t) { (void)ctx; sink_hole += (uint64_t)t->commit_time_us; return 0; }
static int f_commit(void *ctx, const struct ztxn *t) { (void)ctx; sink_hole += strlen(t->end.file) + strlen(t->end.gtid); return 0; }
static int f_schema(void *ctx, const struct zschema_change *sc)
{
    (void)ctx;
    sink_hole += sc->statement ? strlen(sc->statement) : 0;
    sink_hole += sc->reason ? strlen(sc->reason) : 0;
    if (sc->old_def) sink_hole += strlen(sc->old_def->name);
    return 0;
}
static int f_hb(void *ctx, const struct zpos *p, int64_t now) { (void)ctx; sink_hole += strlen(p->file) + (uint64_t)now; return 0; }
static void f_warn(void *ctx, const char *m) { (void)ctx; sink_hole += strlen(m); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    uint8_t mode = data[0];
    data++; size--;
    if (mode < 128) {
        struct zsink s = { .begin = f_begin, .row = f_row, .schema = f_schema, .commit = f_commit, .heartbeat = f_hb };
        struct mysql_decoder_opts o = { .sink = &s, .file = "fuzz-bin.000001", .warn = f_warn };
        struct mysql_decoder *d = mysql_decoder_new(&o);
        if (!d) return 0;
        size_t cut = data[0] < size ? data[0] : size;
        int rc = mysql_decoder_feed(d, data, cut);
        if (!rc) rc = mysql_decoder_feed(d, data + cut, size - cut);
        if (!rc) rc = mysql_decoder_finish(d);
        sink_hole += strlen(mysql_decoder_error(d));
        mysql_decoder_free(d);
    } else if (mode < 192) {
        if (size < 2) return 0;
        size_t tl = (size_t)data[0] | (size_t)data[1] << 8;
        data += 2; size -= 2;
        if (tl > size) tl = size;
        struct binlog_fde f;
        binlog_fde_default(&f);
        f.is_mariadb = mode & 1;
        struct rows_table t;
        char err[256];
        if (rows_table_build(&t, data, tl, &f, err, sizeof err) == 0) {
            struct rows_ctx c;
            rows_ctx_init(&c);
            c.warn = f_warn;
            struct zvalue *v = calloc(t.ncols, sizeof *v);
            uint8_t present[512];
            memset(present, 0xff, sizeof present);
            struct rd r;
            rd_init(&r, data + tl, size - tl);
            while (v && rd_left(&r) > 0) {
                size_t at = r.pos;
                if (rows_decode_image(&c, &t, &r, present, t.ncols, v, ZV_NULL) || r.pos == at) break;
                touch(v, (int)t.ncols);
                rows_ctx_reset(&c);
            }
            free(v);
            rows_ctx_free(&c);
            rows_table_free(&t);
        }
    } else {
        struct zbuf out = { 0 };
        char err[256];
        if (myjson_to_text(&out, data, size, err, sizeof err) == 0) sink_hole += out.len;
        zbuf_free(&out);
    }
    return 0;
}
