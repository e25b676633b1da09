/*
 * pgoutput_bench — decode speed of the pgoutput decoder (runtime/pg/decoder.h)
 * on one core, no I/O: realistic pgoutput messages are built in memory once,
 * then fed through pgdec_feed() repeatedly to a sink that touches every value.
 *
 *   pgoutput_bench [--rows N] [--seconds S] [--quick]
 *
 * The stream: one Relation for bench.orders, a 10-column table of mixed
 * types (int8 key, int4, int2, numeric(12,2), float8, bool, timestamptz,
 * varchar(120), bpchar(60), jsonb; replica identity default), then
 * transactions of 100 rows: Begin, 70 Inserts and 30 Updates (new tuple
 * only, as with REPLICA IDENTITY DEFAULT and an unchanged key), Commit.
 * Every value is text tuple data ('t'), varying per row; one row in 16 has a
 * NULL numeric and one in 32 an unchanged-TOAST jsonb ('u' in Updates). A
 * pass over the prebuilt buffer (N rows, default 200,000; --quick 50,000) is
 * repeated until at least S seconds (default 3; --quick 1) have elapsed.
 *
 * Bytes counted are the pgoutput message bytes (the XLogData payloads, no
 * CopyData/XLogData envelope). Output, one line:
 *   messages N rows N bytes N seconds S cpu_seconds C mb_per_s X rows_per_s R
 * with MB = 10^6 bytes and mb_per_s = bytes / wall seconds (single thread;
 * cpu_seconds is this process's CPU time, so noise from other processes
 * shows as seconds > cpu_seconds). Exit status: 0 ok, 1 failure, 2 usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/pipe/change.h"
#include "runtime/pg/decoder.h"

#define NCOLS 10
#define ROWS_PER_TXN 100
#define RELID 16500u

/* ---- a growable byte buffer holding many length-prefixed messages --------- */

struct out { uint8_t *b; size_t n, cap; };

static void grow(struct out *o, size_t need)
{
    if (o->n + need <= o->cap) return;
    size_t cap = o->cap ? o->cap : 1 << 20;
    while (cap < o->n + need) cap *= 2;
    uint8_t *nb = realloc(o->b, cap);
    if (!nb) { fprintf(stderr, "pgoutput_bench: out of memory\n"); exit(1); }
    o->b = nb;
    o->cap = cap;
}
static void p8(struct out *o, uint8_t v) { grow(o, 1); o->b[o->n++] = v; }
static void p16(struct out *o, uint16_t v) { p8(o, (uint8_t)(v >> 8)); p8(o, (uint8_t)v); }
static void p32(struct out *o, uint32_t v) { p16(o, (uint16_t)(v >> 16)); p16(o, (uint16_t)v); }
static void p64(struct out *o, uint64_t v) { p32(o, (uint32_t)(v >> 32)); p32(o, (uint32_t)v); }
static void pstr(struct out *o, const char *s)
{
    size_t n = strlen(s) + 1;
    grow(o, n); memcpy(o->b + o->n, s, n); o->n += n;
}
static void ptext(struct out *o, const char *s, size_t n)
{
    p8(o, 't'); p32(o, (uint32_t)n);
    grow(o, n); memcpy(o->b + o->n, s, n); o->n += n;
}
static void ptextz(struct out *o, const char *s) { ptext(o, s, strlen(s)); }

/* Message framing inside the prebuilt buffer: a 4-byte little-endian length
 * (host order) then the message. The framing is not counted as bytes. */
static size_t msg_open(struct out *o) { grow(o, 4); size_t at = o->n; o->n += 4; return at; }
static void msg_close(struct out *o, size_t at)
{
    uint32_t len = (uint32_t)(o->n - at - 4);
    memcpy(o->b + at, &len, 4);
}

static void relation(struct out *o)
{
    p8(o, 'R'); p32(o, RELID); pstr(o, "bench"); pstr(o, "orders"); p8(o, 'd'); p16(o, NCOLS);
    p8(o, 1); pstr(o, "id");       p32(o, 20);   p32(o, 0xffffffff);            /* int8 */
    p8(o, 0); pstr(o, "k");        p32(o, 23);   p32(o, 0xffffffff);            /* int4 */
    p8(o, 0); pstr(o, "qty");      p32(o, 21);   p32(o, 0xffffffff);            /* int2 */
    p8(o, 0); pstr(o, "amount");   p32(o, 1700); p32(o, (12 << 16 | 2) + 4);   /* numeric(12,2) */
    p8(o, 0); pstr(o, "price");    p32(o, 701);  p32(o, 0xffffffff);            /* float8 */
    p8(o, 0); pstr(o, "flag");     p32(o, 16);   p32(o, 0xffffffff);            /* bool */
    p8(o, 0); pstr(o, "created");  p32(o, 1184); p32(o, 6);                     /* timestamptz(6) */
    p8(o, 0); pstr(o, "c");        p32(o, 1043); p32(o, 120 + 4);               /* varchar(120) */
    p8(o, 0); pstr(o, "pad");      p32(o, 1042); p32(o, 60 + 4);                /* bpchar(60) */
    p8(o, 0); pstr(o, "payload");  p32(o, 3802); p32(o, 0xffffffff);            /* jsonb */
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next_rand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

static void tuple(struct out *o, uint64_t id, int is_update)
{
    char v[256];
    uint64_t r = next_rand();
    p16(o, NCOLS);
    snprintf(v, sizeof v, "%" PRIu64, id); ptextz(o, v);
    snprintf(v, sizeof v, "%" PRIu64, r % 1000000); ptextz(o, v);
    snprintf(v, sizeof v, "%" PRIu64, (r >> 20) % 1000); ptextz(o, v);
    if (id % 16 == 0) p8(o, 'n');
    else { snprintf(v, sizeof v, "%" PRIu64 ".%02" PRIu64, (r >> 8) % 10000000, r % 100); ptextz(o, v); }
    snprintf(v, sizeof v, "%.17g", (double)(r % 100000000) / 7.0); ptextz(o, v);
    ptextz(o, (r & 1) ? "t" : "f");
    snprintf(v, sizeof v, "2026-%02d-%02d %02d:%02d:%02d.%06d+00", (int)(r % 12) + 1,
             (int)((r >> 4) % 28) + 1, (int)((r >> 9) % 24), (int)((r >> 14) % 60),
             (int)((r >> 20) % 60), (int)((r >> 26) % 1000000));
    ptextz(o, v);
    /* sysbench-style c: groups of 11 digits joined by '-' (up to 119 chars) */
    int n = 0, groups = 5 + (int)(r % 6);
    for (int g = 0; g < groups; g++)
        n += snprintf(v + n, sizeof v - (size_t)n, "%s%011" PRIu64, g ? "-" : "", next_rand() % (uint64_t)100000000000);
    ptext(o, v, (size_t)n);
    /* bpchar(60) arrives blank-padded to 60 */
    n = snprintf(v, sizeof v, "%011" PRIu64 "-%011" PRIu64, next_rand() % (uint64_t)100000000000,
                 next_rand() % (uint64_t)100000000000);
    memset(v + n, ' ', (size_t)(60 - n)); ptext(o, v, 60);
    if (is_update && id % 32 == 0) p8(o, 'u');
    else {
        snprintf(v, sizeof v, "{\"sku\": \"SKU-%06" PRIu64 "\", \"tags\": [\"a\", \"b\"], \"qty\": %" PRIu64 "}",
                 r % 1000000, (r >> 30) % 50);
        ptextz(o, v);
    }
}

/* Builds Begin / rows / Commit for `rows` rows; returns the message count. */
static uint64_t build(struct out *o, uint64_t rows)
{
    uint64_t msgs = 0, id = 1;
    uint32_t xid = 1000;
    int64_t t = 848000000000000LL;          /* 2026-11 in µs since 2000 */
    for (uint64_t done = 0; done < rows; xid++, t += 1000) {
        size_t at = msg_open(o);
        p8(o, 'B'); p64(o, 0); p64(o, (uint64_t)t); p32(o, xid);
        msg_close(o, at); msgs++;
        for (int k = 0; k < ROWS_PER_TXN && done < rows; k++, done++) {
            at = msg_open(o);
            if (k < ROWS_PER_TXN * 7 / 10) {
                p8(o, 'I'); p32(o, RELID); p8(o, 'N'); tuple(o, id++, 0);
            } else {
                p8(o, 'U'); p32(o, RELID); p8(o, 'N');
                tuple(o, 1 + next_rand() % id, 1);
            }
            msg_close(o, at); msgs++;
        }
        at = msg_open(o);
        p8(o, 'C'); p8(o, 0); p64(o, 0); p64(o, 0); p64(o, (uint64_t)t);
        msg_close(o, at); msgs++;
    }
    return msgs;
}

/* ---- a sink that reads every value ------------------------------------------- */

struct acc { uint64_t rows, txns, sum, vals; };

static void touch(struct acc *a, const struct zvalue *v, int n)
{
    for (int i = 0; i < n; i++) {
        a->vals++;
        switch (v[i].kind) {
        case ZV_INT: a->sum += (uint64_t)v[i].v.i; break;
        case ZV_UINT: a->sum += v[i].v.u; break;
        case ZV_FLOAT: a->sum += (uint64_t)v[i].v.f; break;
        case ZV_TEXT: case ZV_BYTES:
            /* read the first and last byte and the length: every value's bytes are reached */
            if (v[i].len) a->sum += (uint8_t)v[i].v.p[0] + (uint8_t)v[i].v.p[v[i].len - 1];
            a->sum += v[i].len;
            break;
        default: a->sum += v[i].kind; break;
        }
    }
}

static int s_begin(void *ctx, const struct ztxn *t) { (void)ctx; (void)t; return 0; }
static int s_row(void *ctx, const struct zrowchange *rc)
{
    struct acc *a = ctx;
    a->rows++;
    if (rc->before) touch(a, rc->before, rc->table->ncols);
    if (rc->after) touch(a, rc->after, rc->table->ncols);
    return 0;
}
static int s_schema(void *ctx, const struct zschema_change *sc) { (void)ctx; (void)sc; return 0; }
static int s_commit(void *ctx, const struct ztxn *t)
{
    struct acc *a = ctx;
    a->txns++;
    a->sum += (uint64_t)t->commit_time_us;
    return 0;
}
static int s_heartbeat(void *ctx, const struct zpos *p, int64_t now) { (void)ctx; (void)p; (void)now; return 0; }

static double now_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: pgoutput_bench [--rows N] [--seconds S] [--quick]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    uint64_t rows = 200000;
    double min_secs = 3.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) { rows = 50000; min_secs = 1.0; }
        else if (!strcmp(argv[i], "--rows") && i + 1 < argc) rows = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) min_secs = strtod(argv[++i], NULL);
        else usage();
    }
    if (!rows) usage();

    struct out rel = { 0 }, body = { 0 };
    relation(&rel);
    uint64_t body_msgs = build(&body, rows);

    struct acc a = { 0 };
    struct zsink sink = { .ctx = &a, .begin = s_begin, .row = s_row, .schema = s_schema,
                          .commit = s_commit, .heartbeat = s_heartbeat };
    struct pgdec *d = pgdec_new(&sink);
    if (!d) { fprintf(stderr, "pgoutput_bench: out of memory\n"); return 1; }

    uint64_t lsn = 0x1000000, messages = 0, bytes = 0;
    double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID), w1;
    if (pgdec_feed(d, lsn, rel.b, rel.n)) {
        fprintf(stderr, "pgoutput_bench: Relation: %s\n", pgdec_error(d));
        return 1;
    }
    messages++; bytes += rel.n;
    do {
        size_t off = 0;
        while (off < body.n) {
            uint32_t len;
            memcpy(&len, body.b + off, 4);
            off += 4;
            int rc = pgdec_feed(d, lsn, body.b + off, len);
            if (rc) { fprintf(stderr, "pgoutput_bench: %s\n", pgdec_error(d)); return 1; }
            lsn += len;
            off += len;
            bytes += len;
        }
        messages += body_msgs;
        w1 = now_s(CLOCK_MONOTONIC);
    } while (w1 - w0 < min_secs);
    double c1 = now_s(CLOCK_PROCESS_CPUTIME_ID);

    if (a.rows == 0 || a.vals != a.rows * NCOLS) {
        fprintf(stderr, "pgoutput_bench: sink saw %" PRIu64 " rows, %" PRIu64 " values\n", a.rows, a.vals);
        return 1;
    }
    double secs = w1 - w0;
    printf("messages %" PRIu64 " rows %" PRIu64 " bytes %" PRIu64 " seconds %.3f cpu_seconds %.3f "
           "mb_per_s %.1f rows_per_s %.0f\n",
           messages, a.rows, bytes, secs, c1 - c0, (double)bytes / secs / 1e6, (double)a.rows / secs);
    fprintf(stderr, "pgoutput_bench: %" PRIu64 " txns, checksum %" PRIu64 "\n", a.txns, a.sum);
    pgdec_free(d);
    free(rel.b);
    free(body.b);
    return 0;
}
