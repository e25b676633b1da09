/*
 * fuzz_pgoutput.c — libFuzzer target for the pgoutput parsers and decoder.
 *
 * Input: a sequence of frames, each a 2-byte big-endian length and that many
 * bytes (a short last frame takes what is left). Frame i is fed to the
 * replication-envelope parser, and, when it is an XLogData, its payload to a
 * decoder with a sink that touches every value; otherwise the frame itself is
 * fed to the decoder as a pgoutput message. One decoder sees the whole input,
 * so Relation/Type state carries from frame to frame. An input whose first
 * byte is odd gets a decoder of protocol 2 with streaming on (its spools in
 * one scratch directory made at the first such input): stream blocks,
 * aborts, cuts and commits that replay what was held.
 *
 * Build: clang -g -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE -I. \
 *   -I/usr/include/postgresql tests/fuzz/fuzz_pgoutput.c runtime/pg/pgoutput.c \
 *   runtime/pg/decoder.c runtime/pipe/change.c -o /tmp/fuzz_pgoutput
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/pipe/change.h"
#include "runtime/pg/decoder.h"
#include "runtime/pg/pgoutput.h"

static volatile uint64_t sink_hole;

static void touch(const struct zvalue *v, int n)
{
    uint64_t h = 0;
    for (int i = 0; i < n; i++) {
        h += v[i].kind;
        if (v[i].kind == ZV_TEXT || v[i].kind == ZV_BYTES)
            for (uint32_t j = 0; j < v[i].len; j++) h += (uint8_t)v[i].v.p[j];
        else if (v[i].kind == ZV_INT)
            h += (uint64_t)v[i].v.i;
    }
    sink_hole += h;
}

static int f_begin(void *c, const struct ztxn *t) { (void)c; sink_hole += t->xid; return 0; }
static int f_commit(void *c, const struct ztxn *t) { (void)c; sink_hole += t->end.offset; return 0; }
static int f_heartbeat(void *c, const struct zpos *p, int64_t now) { (void)c; sink_hole += p->offset + (uint64_t)now; return 0; }

static int f_row(void *c, const struct zrowchange *rc)
{
    (void)c;
    const struct ztable *t = rc->table;
    for (int i = 0; i < t->ncols; i++) sink_hole += strlen(t->cols[i].name);
    if (rc->after) touch(rc->after, t->ncols);
    if (rc->before) touch(rc->before, t->ncols);
    return 0;
}

static int f_schema(void *c, const struct zschema_change *sc)
{
    (void)c;
    sink_hole += (uint64_t)sc->old_def->ncols + (uint64_t)sc->new_def->ncols;
    for (int i = 0; i < sc->new_def->ncols; i++)
        if (sc->new_def->cols[i].source_type) sink_hole += strlen(sc->new_def->cols[i].source_type);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zsink sink = { .begin = f_begin, .row = f_row, .schema = f_schema, .commit = f_commit, .heartbeat = f_heartbeat };
    struct pgdec *d = pgdec_new(&sink);
    if (!d) return 0;
    static char dir[] = "/tmp/zetl-fuzz-pgstream.XXXXXX";
    static int have_dir;
    if (size && (data[0] & 1)) {
        if (!have_dir) have_dir = mkdtemp(dir) != NULL ? 1 : -1;
        if (have_dir == 1) pgdec_stream_in_progress(d, dir, "fuzz.streamed");
    }
    size_t pos = 0;
    uint64_t lsn = 0x16B3748;
    while (pos < size) {
        size_t n = size - pos;
        if (n >= 2) {
            size_t want = (size_t)data[pos] << 8 | data[pos + 1];
            pos += 2;
            n = size - pos;
            if (want < n) n = want;
        } else {
            pos += n;
            n = 0;
        }
        const uint8_t *m = data + pos;
        pos += n;

        struct rd r;
        struct pgout_copy c;
        rd_init(&r, m, n);
        int rc = pgout_parse_copy(&r, &c);
        char err[512];
        if (rc) {
            pgout_format_error(err, sizeof err, &r, rc, n ? m[0] : 0, lsn);
            if (pgdec_feed(d, lsn, m, n) < 0) sink_hole += strlen(pgdec_error(d));
        } else if (c.tag == 'w') {
            if (pgdec_feed(d, c.w.start_lsn, c.w.data, c.w.len) < 0) sink_hole += strlen(pgdec_error(d));
        } else {
            pgdec_keepalive(d, c.k.wal_end, c.k.send_time);
        }
        lsn += n + 1;
    }
    pgdec_free(d);
    return 0;
}
