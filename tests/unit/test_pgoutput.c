/*
 * test_pgoutput.c — pgoutput parsers and the decoder on byte fixtures.
 *
 * Every message type, every tuple kind, the XLogData and keepalive envelopes;
 * every prefix of every fixture rejected with an error naming the LSN;
 * malformed input (bad tags, negative lengths, column count mismatch).
 */
#include "tests/unit/test.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/pipe/change.h"
#include "runtime/pg/decoder.h"
#include "runtime/pg/pgoutput.h"

#define LSN 0x16B3748ULL

/* ---- a byte builder ------------------------------------------------------ */

struct buf { uint8_t b[8192]; size_t n; };

static void b8(struct buf *b, uint8_t v) { b->b[b->n++] = v; }
static void b16(struct buf *b, uint16_t v) { b8(b, (uint8_t)(v >> 8)); b8(b, (uint8_t)v); }
static void b32(struct buf *b, uint32_t v) { b16(b, (uint16_t)(v >> 16)); b16(b, (uint16_t)v); }
static void b64(struct buf *b, uint64_t v) { b32(b, (uint32_t)(v >> 32)); b32(b, (uint32_t)v); }
static void bstr(struct buf *b, const char *s) { size_t n = strlen(s) + 1; memcpy(b->b + b->n, s, n); b->n += n; }
static void btext(struct buf *b, const char *s) { b8(b, 't'); b32(b, (uint32_t)strlen(s)); memcpy(b->b + b->n, s, strlen(s)); b->n += strlen(s); }

static void msg_begin(struct buf *b, uint64_t final_lsn, int64_t t, uint32_t xid)
{
    b->n = 0; b8(b, 'B'); b64(b, final_lsn); b64(b, (uint64_t)t); b32(b, xid);
}

static void msg_commit(struct buf *b, uint64_t commit_lsn, uint64_t end_lsn, int64_t t)
{
    b->n = 0; b8(b, 'C'); b8(b, 0); b64(b, commit_lsn); b64(b, end_lsn); b64(b, (uint64_t)t);
}

/* public.t (oid 16385): id int4 key, name varchar(20), data bytea, amount numeric(10,2),
   at timestamptz(3), tags int4[], mood public.mood (oid 16390), big text */
static void msg_relation(struct buf *b, const char *relname, int extra_col)
{
    b->n = 0; b8(b, 'R'); b32(b, 16385); bstr(b, "public"); bstr(b, relname); b8(b, 'd');
    b16(b, (uint16_t)(8 + extra_col));
    b8(b, 1); bstr(b, "id");     b32(b, 23);    b32(b, 0xffffffff);
    b8(b, 0); bstr(b, "name");   b32(b, 1043);  b32(b, 24);
    b8(b, 0); bstr(b, "data");   b32(b, 17);    b32(b, 0xffffffff);
    b8(b, 0); bstr(b, "amount"); b32(b, 1700);  b32(b, (10 << 16 | 2) + 4);
    b8(b, 0); bstr(b, "at");     b32(b, 1184);  b32(b, 3);
    b8(b, 0); bstr(b, "tags");   b32(b, 1007);  b32(b, 0xffffffff);
    b8(b, 0); bstr(b, "mood");   b32(b, 16390); b32(b, 0xffffffff);
    b8(b, 0); bstr(b, "big");    b32(b, 25);    b32(b, 0xffffffff);
    if (extra_col) { b8(b, 0); bstr(b, "added"); b32(b, 20); b32(b, 0xffffffff); }
}

static void msg_type(struct buf *b)
{
    b->n = 0; b8(b, 'Y'); b32(b, 16390); bstr(b, "public"); bstr(b, "mood");
}

static void tuple_full(struct buf *b, const char *id)
{
    b16(b, 8);
    btext(b, id); btext(b, "héllo"); btext(b, "\\x00ff10"); btext(b, "NaN");
    btext(b, "infinity"); btext(b, "{1,2,NULL}"); btext(b, "happy"); b8(b, 'u');
}

static void msg_insert(struct buf *b)
{
    b->n = 0; b8(b, 'I'); b32(b, 16385); b8(b, 'N'); tuple_full(b, "1");
}

static void msg_update_key(struct buf *b)
{
    b->n = 0; b8(b, 'U'); b32(b, 16385);
    b8(b, 'K'); b16(b, 8); btext(b, "1"); for (int i = 0; i < 7; i++) b8(b, 'n');
    b8(b, 'N'); tuple_full(b, "2");
}

static void msg_update_plain(struct buf *b)
{
    b->n = 0; b8(b, 'U'); b32(b, 16385); b8(b, 'N'); tuple_full(b, "2");
}

static void msg_update_old(struct buf *b)
{
    b->n = 0; b8(b, 'U'); b32(b, 16385); b8(b, 'O'); tuple_full(b, "2"); b8(b, 'N'); tuple_full(b, "3");
}

static void msg_delete_key(struct buf *b)
{
    b->n = 0; b8(b, 'D'); b32(b, 16385); b8(b, 'K'); b16(b, 8); btext(b, "3");
    for (int i = 0; i < 7; i++) b8(b, 'n');
}

static void msg_delete_old(struct buf *b)
{
    b->n = 0; b8(b, 'D'); b32(b, 16385); b8(b, 'O'); tuple_full(b, "3");
}

static void msg_truncate(struct buf *b)
{
    b->n = 0; b8(b, 'T'); b32(b, 1); b8(b, PGOUT_TRUNCATE_CASCADE | PGOUT_TRUNCATE_RESTART_IDENTITY); b32(b, 16385);
}

static void msg_origin(struct buf *b)
{
    b->n = 0; b8(b, 'O'); b64(b, 0x1234); bstr(b, "node_a");
}

static void msg_message(struct buf *b)
{
    b->n = 0; b8(b, 'M'); b8(b, 1); b64(b, 0x99); bstr(b, "zetl"); b32(b, 3); b8(b, 'a'); b8(b, 0); b8(b, 'z');
}

/* ---- a recording sink ---------------------------------------------------------- */

struct rec {
    char out[16384];
    size_t n;
    int stop_on_row;
};

static void rp(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rp(struct rec *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(r->out + r->n, sizeof r->out - r->n, fmt, ap);
    va_end(ap);
    if (k > 0) r->n += (size_t)k < sizeof r->out - r->n ? (size_t)k : sizeof r->out - r->n - 1;
}

static void rvals(struct rec *r, const struct zvalue *v, int n)
{
    rp(r, "[");
    for (int i = 0; i < n; i++) {
        if (i) rp(r, ", ");
        switch (v[i].kind) {
        case ZV_NULL: rp(r, "NULL"); break;
        case ZV_UNCHANGED: rp(r, "UNCHANGED"); break;
        case ZV_INT: rp(r, "%lld", (long long)v[i].v.i); break;
        case ZV_TEXT: rp(r, "\"%.*s\"", (int)v[i].len, v[i].v.p); break;
        case ZV_BYTES:
            rp(r, "x'");
            for (uint32_t j = 0; j < v[i].len; j++) rp(r, "%02x", (uint8_t)v[i].v.p[j]);
            rp(r, "'");
            break;
        default: rp(r, "?"); break;
        }
    }
    rp(r, "]");
}

static int s_begin(void *c, const struct ztxn *t) { rp(c, "BEGIN %llu\n", (unsigned long long)t->xid); return 0; }
static int s_commit(void *c, const struct ztxn *t)
{
    char p[64];
    zpos_format(&t->end, p, sizeof p);
    rp(c, "COMMIT %s %lld\n", p, (long long)t->commit_time_us);
    return 0;
}
static int s_row(void *c, const struct zrowchange *rc)
{
    struct rec *r = c;
    static const char *ops[] = { "?", "INSERT", "UPDATE", "DELETE", "TRUNCATE" };
    rp(r, "%s %s.%s", ops[rc->op], rc->table->schema, rc->table->name);
    if (rc->after) { rp(r, " "); rvals(r, rc->after, rc->table->ncols); }
    if (rc->before) { rp(r, rc->before_key_only ? " KEY " : " OLD "); rvals(r, rc->before, rc->table->ncols); }
    rp(r, "\n");
    return r->stop_on_row ? 42 : 0;
}
static int s_schema(void *c, const struct zschema_change *sc)
{
    rp(c, "SCHEMA %d %s.%s(%d) -> %s.%s(%d)\n", sc->kind, sc->old_def->schema, sc->old_def->name,
       sc->old_def->ncols, sc->new_def->schema, sc->new_def->name, sc->new_def->ncols);
    return 0;
}
static int s_heartbeat(void *c, const struct zpos *p, int64_t now)
{
    char b[64];
    zpos_format(p, b, sizeof b);
    rp(c, "HEARTBEAT %s %lld\n", b, (long long)now);
    return 0;
}

static struct pgdec *new_dec(struct rec *r)
{
    memset(r, 0, sizeof *r);
    struct zsink s = { .ctx = r, .begin = s_begin, .row = s_row, .schema = s_schema, .commit = s_commit, .heartbeat = s_heartbeat };
    return pgdec_new(&s);
}

static int feed(struct pgdec *d, struct buf *b) { return pgdec_feed(d, LSN, b->b, b->n); }

/* ---- envelope ---------------------------------------------------------------------- */

static void test_envelope(void)
{
    struct buf b = {0};
    struct rd r;
    struct pgout_copy c;

    b8(&b, 'w'); b64(&b, 0x100000016B3748ULL); b64(&b, 0x200); b64(&b, 777); b8(&b, 'B'); b8(&b, 'x');
    rd_init(&r, b.b, b.n);
    CHECK_INT(pgout_parse_copy(&r, &c), 0, "XLogData parses");
    CHECK_INT(c.tag, 'w', "XLogData tag");
    CHECK_U64(c.w.start_lsn, 0x100000016B3748ULL, "XLogData start LSN");
    CHECK_U64(c.w.wal_end, 0x200, "XLogData wal end");
    CHECK_INT(c.w.send_time, 777, "XLogData send time");
    CHECK_MEM(c.w.data, c.w.len, "Bx", 2, "XLogData payload is the rest");

    b.n = 0; b8(&b, 'w'); b64(&b, 1); b64(&b, 2); b64(&b, 3);
    rd_init(&r, b.b, b.n);
    CHECK_INT(pgout_parse_copy(&r, &c), 0, "XLogData with an empty payload parses");
    CHECK_INT(c.w.len, 0, "empty payload length");

    b.n = 0; b8(&b, 'k'); b64(&b, 0x16B3748); b64(&b, 12345); b8(&b, 1);
    rd_init(&r, b.b, b.n);
    CHECK_INT(pgout_parse_copy(&r, &c), 0, "keepalive parses");
    CHECK_U64(c.k.wal_end, 0x16B3748, "keepalive wal end");
    CHECK_INT(c.k.send_time, 12345, "keepalive send time");
    CHECK_INT(c.k.reply_requested, 1, "keepalive reply requested");

    struct buf full = b;
    int all_rejected = 1;
    for (size_t n = 0; n < full.n; n++) {
        rd_init(&r, full.b, n);
        if (pgout_parse_copy(&r, &c) != PGOUT_E_TRUNC) all_rejected = 0;
    }
    CHECK(all_rejected, "keepalive: every prefix rejected as truncated");
    rd_init(&r, full.b, full.n - 3);
    pgout_parse_copy(&r, &c);
    char err[300];
    pgout_format_error(err, sizeof err, &r, PGOUT_E_TRUNC, 'k', LSN);
    CHECK_STR(err, "pgoutput: message at 0/16B3748 truncated (Keepalive: need 8 bytes, have 6)",
              "truncated keepalive names the field it needed");

    b8(&full, 0);
    rd_init(&r, full.b, full.n);
    CHECK_INT(pgout_parse_copy(&r, &c), PGOUT_E_TRAILING, "keepalive with a trailing byte rejected");

    b.n = 0; b8(&b, 'x'); b64(&b, 0);
    rd_init(&r, b.b, b.n);
    CHECK_INT(pgout_parse_copy(&r, &c), PGOUT_E_TAG, "unknown envelope tag rejected");

    uint8_t st[PGOUT_STATUS_LEN];
    pgout_build_status(st, 0x0102030405060708ULL, 0x10, 0x20, 0x30, 1);
    static const uint8_t want[PGOUT_STATUS_LEN] = {
        'r', 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x20,
        0, 0, 0, 0, 0, 0, 0, 0x30, 1 };
    CHECK_MEM(st, sizeof st, want, sizeof want, "standby status update bytes");
}

/* ---- each message parsed ----------------------------------------------------------- */

static int parse(struct buf *b, struct pgout_msg *m, struct rd *r)
{
    rd_init(r, b->b, b->n);
    return pgout_parse(r, m);
}

static void test_messages(void)
{
    struct buf b = {0};
    struct pgout_msg m;
    struct rd r;

    msg_begin(&b, 0x16B3800, 700000000000LL, 731);
    CHECK_INT(parse(&b, &m, &r), 0, "Begin parses");
    CHECK_U64(m.u.begin.final_lsn, 0x16B3800, "Begin final LSN");
    CHECK_INT(m.u.begin.commit_time, 700000000000LL, "Begin commit time");
    CHECK_INT(m.u.begin.xid, 731, "Begin xid");

    msg_commit(&b, 0x16B3800, 0x16B3830, 700000000001LL);
    CHECK_INT(parse(&b, &m, &r), 0, "Commit parses");
    CHECK_U64(m.u.commit.commit_lsn, 0x16B3800, "Commit LSN");
    CHECK_U64(m.u.commit.end_lsn, 0x16B3830, "Commit end LSN");
    CHECK_INT(m.u.commit.commit_time, 700000000001LL, "Commit time");

    msg_origin(&b);
    CHECK_INT(parse(&b, &m, &r), 0, "Origin parses");
    CHECK_STR(m.u.origin.name, "node_a", "Origin name");
    CHECK_U64(m.u.origin.lsn, 0x1234, "Origin LSN");

    msg_relation(&b, "t", 0);
    CHECK_INT(parse(&b, &m, &r), 0, "Relation parses");
    CHECK_INT(m.u.relation.oid, 16385, "Relation OID");
    CHECK_STR(m.u.relation.nspname, "public", "Relation namespace");
    CHECK_STR(m.u.relation.relname, "t", "Relation name");
    CHECK_INT(m.u.relation.replident, 'd', "Relation replica identity");
    CHECK_INT(m.u.relation.ncols, 8, "Relation column count");
    struct rd cols = m.u.relation.cols;
    struct pgout_column c;
    CHECK_INT(pgout_next_column(&cols, &c), 0, "first column");
    CHECK_STR(c.name, "id", "first column name");
    CHECK_INT(c.flags, 1, "first column is key");
    CHECK_INT(c.type_oid, 23, "first column type");
    CHECK_INT(c.typmod, -1, "first column typmod -1");
    pgout_next_column(&cols, &c);
    CHECK_INT(c.typmod, 24, "varchar(20) typmod");

    msg_type(&b);
    CHECK_INT(parse(&b, &m, &r), 0, "Type parses");
    CHECK_INT(m.u.type.oid, 16390, "Type OID");
    CHECK_STR(m.u.type.typname, "mood", "Type name");

    msg_insert(&b);
    CHECK_INT(parse(&b, &m, &r), 0, "Insert parses");
    CHECK_INT(m.u.insert.relid, 16385, "Insert relid");
    CHECK_INT(m.u.insert.newtup.ncols, 8, "Insert tuple columns");
    struct rd cur;
    struct pgout_datum dv;
    pgout_tuple_first(&cur, &m.u.insert.newtup);
    pgout_tuple_next(&cur, &dv);
    CHECK(dv.kind == 't' && dv.len == 1 && dv.p[0] == '1', "Insert first datum is text \"1\"");
    for (int i = 0; i < 7; i++) pgout_tuple_next(&cur, &dv);
    CHECK_INT(dv.kind, 'u', "Insert last datum is unchanged TOAST");
    CHECK_INT(rd_end(&cur), 0, "tuple walk consumes the span");

    msg_update_key(&b);
    CHECK_INT(parse(&b, &m, &r), 0, "Update with old key parses");
    CHECK_INT(m.u.update.old_kind, 'K', "Update old kind K");
    CHECK_INT(m.u.update.oldtup.ncols, 8, "Update key tuple columns");
    msg_update_old(&b);
    CHECK_INT(parse(&b, &m, &r), 0, "Update with old row parses");
    CHECK_INT(m.u.update.old_kind, 'O', "Update old kind O");
    msg_update_plain(&b);
    CHECK_INT(parse(&b, &m, &r), 0, "Update without old tuple parses");
    CHECK_INT(m.u.update.old_kind, 0, "Update old kind none");

    msg_delete_key(&b);
    CHECK_INT(parse(&b, &m, &r), 0, "Delete with key parses");
    CHECK_INT(m.u.del.old_kind, 'K', "Delete old kind K");
    msg_delete_old(&b);
    CHECK_INT(parse(&b, &m, &r), 0, "Delete with old row parses");
    CHECK_INT(m.u.del.old_kind, 'O', "Delete old kind O");

    msg_truncate(&b);
    CHECK_INT(parse(&b, &m, &r), 0, "Truncate parses");
    CHECK_INT(m.u.truncate.nrels, 1, "Truncate relation count");
    CHECK_INT(m.u.truncate.options, 3, "Truncate cascade + restart identity");
    CHECK_INT(rd_u32be(&m.u.truncate.relids), 16385, "Truncate relid");

    msg_message(&b);
    CHECK_INT(parse(&b, &m, &r), 0, "Message parses");
    CHECK_STR(m.u.message.prefix, "zetl", "Message prefix");
    CHECK_MEM(m.u.message.content, m.u.message.len, "a\0z", 3, "Message content with a NUL");
    CHECK_INT(m.u.message.flags, 1, "Message transactional");

    /* binary tuple data parses structurally (the decoder rejects it) */
    b.n = 0; b8(&b, 'I'); b32(&b, 1); b8(&b, 'N'); b16(&b, 1); b8(&b, 'b'); b32(&b, 4); b32(&b, 7);
    CHECK_INT(parse(&b, &m, &r), 0, "binary datum parses");
    pgout_tuple_first(&cur, &m.u.insert.newtup);
    pgout_tuple_next(&cur, &dv);
    CHECK(dv.kind == 'b' && dv.len == 4, "binary datum kind and length");
}

/* ---- truncation at every prefix ------------------------------------------------------ */

static void all_prefixes(const char *name, void (*build)(struct buf *))
{
    struct buf b = {0};
    build(&b);
    struct rec rec;
    int ok = 1;
    char first_bad[600] = "";
    for (size_t n = 0; n < b.n; n++) {
        struct pgdec *d = new_dec(&rec);
        struct buf x = {0};
        /* relation, type and an open transaction, so only the prefix can fail */
        msg_type(&x); feed(d, &x);
        msg_relation(&x, "t", 0); feed(d, &x);
        msg_begin(&x, 0x16B3800, 0, 1); feed(d, &x);
        int rc = pgdec_feed(d, LSN, b.b, n);
        const char *e = pgdec_error(d);
        if (rc != -1 || !strstr(e, "pgoutput: message at 0/16B3748 truncated (")) {
            if (ok) snprintf(first_bad, sizeof first_bad, "prefix %zu: rc %d, \"%s\"", n, rc, e);
            ok = 0;
        }
        pgdec_free(d);
    }
    char what[1000];
    snprintf(what, sizeof what, "%s: all %zu prefixes rejected as truncated, naming the LSN%s%s",
             name, b.n, ok ? "" : " — ", first_bad);
    CHECK(ok, what);
}

static void build_begin(struct buf *b) { msg_begin(b, 1, 2, 3); }
static void build_commit(struct buf *b) { msg_commit(b, 1, 2, 3); }
static void build_rel(struct buf *b) { msg_relation(b, "t", 0); }

static void test_truncated(void)
{
    all_prefixes("Begin", build_begin);
    all_prefixes("Commit", build_commit);
    all_prefixes("Origin", msg_origin);
    all_prefixes("Relation", build_rel);
    all_prefixes("Type", msg_type);
    all_prefixes("Insert", msg_insert);
    all_prefixes("Update K", msg_update_key);
    all_prefixes("Update O", msg_update_old);
    all_prefixes("Update", msg_update_plain);
    all_prefixes("Delete K", msg_delete_key);
    all_prefixes("Delete O", msg_delete_old);
    all_prefixes("Truncate", msg_truncate);
    all_prefixes("Message", msg_message);

    struct rec rec;
    struct pgdec *d = new_dec(&rec);
    uint8_t ins[] = { 'I', 0 };
    CHECK_INT(pgdec_feed(d, LSN, ins, 2), -1, "Insert with 1 byte of relid fails");
    CHECK_STR(pgdec_error(d), "pgoutput: message at 0/16B3748 truncated (Insert: need 4 bytes, have 1)",
              "truncated Insert error text");
    uint8_t rel[] = { 'R', 0, 0, 0, 1, 'p', 'u' };
    pgdec_feed(d, LSN, rel, sizeof rel);
    CHECK_STR(pgdec_error(d), "pgoutput: message at 0/16B3748 truncated (Relation: need a NUL-terminated string, have 2 bytes)",
              "truncated string error text");
    CHECK_INT(pgdec_feed(d, LSN, ins, 0), -1, "empty message fails");
    CHECK(strstr(pgdec_error(d), "truncated (message: need 1 bytes, have 0)") != NULL, "empty message error text");
    pgdec_free(d);
}

/* ---- malformed ------------------------------------------------------------------------ */

static void expect_err(struct pgdec *d, struct buf *b, const char *needle, const char *what)
{
    int rc = feed(d, b);
    const char *e = pgdec_error(d);
    char w[300];
    snprintf(w, sizeof w, "%s (error: %s)", what, e);
    CHECK(rc == -1 && strstr(e, needle) != NULL && strstr(e, "0/16B3748") != NULL, w);
}

static void test_malformed(void)
{
    struct rec rec;
    struct pgdec *d = new_dec(&rec);
    struct buf b = {0};

    b.n = 0; b8(&b, 'Z'); b32(&b, 0);
    expect_err(d, &b, "unknown message tag 0x5A", "unknown tag rejected");
    b.n = 0; b8(&b, 'S'); b32(&b, 5); b8(&b, 1);
    expect_err(d, &b, "Stream Start message", "stream message rejected clearly");

    msg_type(&b); feed(d, &b);
    msg_relation(&b, "t", 0); feed(d, &b);

    b.n = 0; b8(&b, 'I'); b32(&b, 16385); b8(&b, 'N'); b16(&b, 0);
    expect_err(d, &b, "Insert) arrived outside a transaction", "Insert outside a transaction rejected");

    msg_begin(&b, 0x16B3800, 0, 9); CHECK_INT(feed(d, &b), 0, "Begin accepted");
    msg_begin(&b, 0x16B3800, 0, 10);
    expect_err(d, &b, "inside transaction 9", "nested Begin rejected");

    b.n = 0; b8(&b, 'I'); b32(&b, 16385); b8(&b, 'N'); b16(&b, 1); b8(&b, 't'); b32(&b, 0xfffffffe);
    expect_err(d, &b, "negative length", "negative datum length rejected");
    b.n = 0; b8(&b, 'I'); b32(&b, 16385); b8(&b, 'N'); b16(&b, 0x8001);
    expect_err(d, &b, "negative length or count", "negative column count rejected");
    b.n = 0; b8(&b, 'I'); b32(&b, 16385); b8(&b, 'N'); b16(&b, 1); b8(&b, 'x');
    expect_err(d, &b, "unknown tuple data kind 0x78", "bad tuple kind rejected");
    b.n = 0; b8(&b, 'I'); b32(&b, 16385); b8(&b, 'X'); b16(&b, 0);
    expect_err(d, &b, "expected tuple marker", "Insert without 'N' rejected");
    b.n = 0; b8(&b, 'U'); b32(&b, 16385); b8(&b, 'K'); b16(&b, 0); b8(&b, 'K'); b16(&b, 0);
    expect_err(d, &b, "expected tuple marker", "Update with two old tuples rejected");
    b.n = 0; b8(&b, 'D'); b32(&b, 16385); b8(&b, 'N'); b16(&b, 0);
    expect_err(d, &b, "expected tuple marker", "Delete with a new tuple rejected");
    b.n = 0; b8(&b, 'I'); b32(&b, 16385); b8(&b, 'N'); b16(&b, 2); btext(&b, "1"); b8(&b, 'n');
    expect_err(d, &b, "tuple has 2 columns, relation public.t (OID 16385) has 8", "column count mismatch rejected");
    b.n = 0; b8(&b, 'I'); b32(&b, 99); b8(&b, 'N'); b16(&b, 0);
    expect_err(d, &b, "relation OID 99, which no Relation message described", "unknown relation rejected");
    msg_insert(&b); b8(&b, 0);
    expect_err(d, &b, "1 bytes left after the message", "trailing bytes rejected");
    b.n = 0; b8(&b, 'T'); b32(&b, 0x80000000u); b8(&b, 0);
    expect_err(d, &b, "negative length or count", "negative truncate count rejected");
    b.n = 0; b8(&b, 'M'); b8(&b, 0); b64(&b, 0); bstr(&b, "p"); b32(&b, 0xffffffff);
    expect_err(d, &b, "negative length or count", "negative message length rejected");
    b.n = 0; b8(&b, 'R'); b32(&b, 1); bstr(&b, "s"); bstr(&b, "t"); b8(&b, 'd'); b16(&b, 0xffff);
    expect_err(d, &b, "negative length or count", "negative relation column count rejected");

    /* fuzz regression: a Relation with OID 0 was cached in an "empty" slot and leaked */
    b.n = 0; b8(&b, 'R'); b32(&b, 0); bstr(&b, "s"); bstr(&b, "t"); b8(&b, 'd'); b16(&b, 0);
    expect_err(d, &b, "invalid OID 0", "Relation with OID 0 rejected");

    /* fuzz regression: a Type message with a long namespace overflowed the name buffer */
    {
        char longname[400];
        memset(longname, 'N', sizeof longname - 1);
        longname[sizeof longname - 1] = 0;
        b.n = 0; b8(&b, 'Y'); b32(&b, 20000); bstr(&b, longname); bstr(&b, "_Typ\"e");
        CHECK_INT(feed(d, &b), 0, "Type with a 399-byte namespace accepted (name truncated, no overflow)");
        b.n = 0; b8(&b, 'Y'); b32(&b, 20001); bstr(&b, "s"); bstr(&b, longname);
        CHECK_INT(feed(d, &b), 0, "Type with a 399-byte name accepted");
    }

    /* binary data is rejected by the decoder */
    b.n = 0; b8(&b, 'I'); b32(&b, 16385); b8(&b, 'N'); b16(&b, 8); b8(&b, 'b'); b32(&b, 4); b32(&b, 1);
    for (int i = 0; i < 7; i++) b8(&b, 'n');
    expect_err(d, &b, "column id of public.t is binary tuple data", "binary tuple data rejected");
    /* int column that is not an integer */
    b.n = 0; b8(&b, 'I'); b32(&b, 16385); b8(&b, 'N'); b16(&b, 8); btext(&b, "1x");
    for (int i = 0; i < 7; i++) b8(&b, 'n');
    expect_err(d, &b, "\"1x\" is not an integer", "bad integer text rejected");
    b.n = 0; b8(&b, 'I'); b32(&b, 16385); b8(&b, 'N'); b16(&b, 8); btext(&b, "1"); b8(&b, 'n'); btext(&b, "\\xzz");
    for (int i = 0; i < 5; i++) b8(&b, 'n');
    expect_err(d, &b, "bytea text is neither hex nor escape", "bad bytea text rejected");

    msg_commit(&b, 0x16B3999, 0x16B4000, 0);
    expect_err(d, &b, "its Begin announced 0/16B3800", "Commit LSN not matching Begin rejected");
    pgdec_free(d);
}

/* ---- the decoder end to end ----------------------------------------------------------- */

static void test_decoder(void)
{
    struct rec rec;
    struct pgdec *d = new_dec(&rec);
    struct buf b = {0};

    CHECK_INT(pgdec_keepalive(d, 0x500, 0), 0, "idle keepalive");
    msg_type(&b); CHECK_INT(feed(d, &b), 0, "Type fed");
    msg_relation(&b, "t", 0); CHECK_INT(feed(d, &b), 0, "Relation fed");
    const struct ztable *t = pgdec_table(d, 16385);
    CHECK(t != NULL, "relation cached");
    if (!t) { pgdec_free(d); return; }
    CHECK_STR(t->schema, "public", "table schema");
    CHECK_INT(t->npk, 1, "one key column");
    CHECK_INT(t->cols[0].pk_ord, 1, "id is key 1");
    CHECK_INT(t->cols[0].type, ZT_INT32, "int4 → ZT_INT32");
    CHECK_STR(t->cols[0].source_type, "integer", "int4 source type");
    CHECK_INT(t->cols[1].type, ZT_VARCHAR, "varchar type");
    CHECK_INT(t->cols[1].length, 20, "varchar(20) length");
    CHECK_STR(t->cols[1].source_type, "character varying(20)", "varchar source type");
    CHECK_INT(t->cols[2].type, ZT_BYTES, "bytea type");
    CHECK_INT(t->cols[3].type, ZT_DECIMAL, "numeric type");
    CHECK_INT(t->cols[3].precision, 10, "numeric precision");
    CHECK_INT(t->cols[3].scale, 2, "numeric scale");
    CHECK_STR(t->cols[3].source_type, "numeric(10,2)", "numeric source type");
    CHECK_INT(t->cols[4].type, ZT_TIMESTAMPTZ, "timestamptz type");
    CHECK_INT(t->cols[4].scale, 3, "timestamptz(3) scale");
    CHECK_STR(t->cols[4].source_type, "timestamp(3) with time zone", "timestamptz source type");
    CHECK(t->cols[5].type == ZT_INT32 && t->cols[5].is_array, "int4[] is an int32 array");
    CHECK_STR(t->cols[5].source_type, "integer[]", "int4[] source type");
    CHECK_INT(t->cols[6].type, ZT_OTHER, "custom type is ZT_OTHER");
    CHECK_STR(t->cols[6].source_type, "public.mood", "custom type source type from the Type message");

    msg_begin(&b, 0x16B3800, 700000000000000LL, 731); CHECK_INT(feed(d, &b), 0, "Begin fed");
    CHECK_INT(pgdec_keepalive(d, 0x600, 0), 0, "keepalive inside a transaction");
    msg_insert(&b); CHECK_INT(feed(d, &b), 0, "Insert fed");
    msg_update_key(&b); CHECK_INT(feed(d, &b), 0, "Update K fed");
    msg_update_plain(&b); CHECK_INT(feed(d, &b), 0, "Update fed");
    msg_update_old(&b); CHECK_INT(feed(d, &b), 0, "Update O fed");
    msg_delete_key(&b); CHECK_INT(feed(d, &b), 0, "Delete K fed");
    msg_delete_old(&b); CHECK_INT(feed(d, &b), 0, "Delete O fed");
    msg_origin(&b); CHECK_INT(feed(d, &b), 0, "Origin fed");
    msg_message(&b); CHECK_INT(feed(d, &b), 0, "Message fed");
    msg_truncate(&b); CHECK_INT(feed(d, &b), 0, "Truncate fed");
    /* ALTER TABLE ADD COLUMN: a new Relation, then a row */
    msg_relation(&b, "t", 1); CHECK_INT(feed(d, &b), 0, "changed Relation fed");
    b.n = 0; b8(&b, 'I'); b32(&b, 16385); b8(&b, 'N'); b16(&b, 9);
    btext(&b, "4"); for (int i = 0; i < 7; i++) b8(&b, 'n'); btext(&b, "-9223372036854775808");
    CHECK_INT(feed(d, &b), 0, "Insert after the change fed");
    /* the same definition again: no schema change */
    msg_relation(&b, "t", 1); feed(d, &b);
    b.n = 0; b8(&b, 'D'); b32(&b, 16385); b8(&b, 'K'); b16(&b, 9); btext(&b, "4"); for (int i = 0; i < 8; i++) b8(&b, 'n');
    CHECK_INT(feed(d, &b), 0, "Delete after an identical Relation fed");
    /* rename */
    msg_relation(&b, "t2", 1); feed(d, &b);
    b.n = 0; b8(&b, 'D'); b32(&b, 16385); b8(&b, 'K'); b16(&b, 9); btext(&b, "5"); for (int i = 0; i < 8; i++) b8(&b, 'n');
    CHECK_INT(feed(d, &b), 0, "Delete after a rename fed");
    msg_commit(&b, 0x16B3800, 0x16B3830, 700000000000001LL); CHECK_INT(feed(d, &b), 0, "Commit fed");
    CHECK_INT(pgdec_keepalive(d, 0x16B3900, 1000000), 0, "idle keepalive after commit");
    CHECK_U64(pgdec_last_commit_end(d), 0x16B3830, "last commit end");

    const char *full = "[1, \"héllo\", x'00ff10', \"NaN\", \"infinity\", \"{1,2,NULL}\", \"happy\", UNCHANGED]";
    char want[4096];
    snprintf(want, sizeof want,
             "HEARTBEAT 0/500 946684800000000\n"
             "BEGIN 731\n"
             "INSERT public.t %s\n"
             "UPDATE public.t [2%s KEY [1, NULL, NULL, NULL, NULL, NULL, NULL, NULL]\n"
             "UPDATE public.t [2%s\n"
             "UPDATE public.t [3%s OLD [2%s\n"
             "DELETE public.t KEY [3, NULL, NULL, NULL, NULL, NULL, NULL, NULL]\n"
             "DELETE public.t OLD [3%s\n"
             "TRUNCATE public.t\n"
             "SCHEMA 4 public.t(8) -> public.t(9)\n"
             "INSERT public.t [4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, -9223372036854775808]\n"
             "DELETE public.t KEY [4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL]\n"
             "SCHEMA 3 public.t(9) -> public.t2(9)\n"
             "DELETE public.t2 KEY [5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL]\n"
             "COMMIT 0/16B3830 %lld\n"
             "HEARTBEAT 0/16B3900 946684801000000\n",
             full, full + 2, full + 2, full + 2, full + 2, full + 2,
             700000000000001LL + 946684800000000LL);
    CHECK_STR(rec.out, want, "decoded stream");

    struct pgdec_stats st;
    pgdec_stats(d, &st);
    CHECK_U64(st.txns, 1, "one transaction");
    CHECK_U64(st.rows, 10, "ten rows (truncate counts one)");
    CHECK_U64(st.schema_changes, 2, "two schema changes");

    /* a sink's non-zero return is passed through */
    msg_begin(&b, 0x16B4000, 0, 732); feed(d, &b);
    rec.stop_on_row = 1;
    msg_insert(&b);
    b.n = 0; b8(&b, 'I'); b32(&b, 16385); b8(&b, 'N'); b16(&b, 9); for (int i = 0; i < 9; i++) b8(&b, 'n');
    CHECK_INT(feed(d, &b), 42, "sink's return value passed through");
    CHECK_STR(pgdec_error(d), "", "no decoder error on a sink stop");
    pgdec_free(d);
}

static void test_bytea_and_types(void)
{
    struct rec rec;
    struct pgdec *d = new_dec(&rec);
    struct buf b = {0};
    b.n = 0; b8(&b, 'R'); b32(&b, 7); bstr(&b, ""); bstr(&b, "Odd \"T\""); b8(&b, 'f'); b16(&b, 4);
    b8(&b, 1); bstr(&b, "a"); b32(&b, 17); b32(&b, 0xffffffff);
    b8(&b, 1); bstr(&b, "b"); b32(&b, 17); b32(&b, 0xffffffff);
    b8(&b, 1); bstr(&b, "c"); b32(&b, 20); b32(&b, 0xffffffff);
    b8(&b, 1); bstr(&b, "d"); b32(&b, 21); b32(&b, 0xffffffff);
    CHECK_INT(feed(d, &b), 0, "replica identity FULL relation");
    const struct ztable *t = pgdec_table(d, 7);
    CHECK_INT(t->npk, 0, "FULL: no key columns (full row is the key)");
    CHECK_STR(t->schema, "pg_catalog", "empty namespace is pg_catalog");
    msg_begin(&b, 0x10, 0, 1); feed(d, &b);
    b.n = 0; b8(&b, 'I'); b32(&b, 7); b8(&b, 'N'); b16(&b, 4);
    btext(&b, "a\\\\b\\000\\377"); btext(&b, "\\x"); btext(&b, "9223372036854775807"); btext(&b, "-32768");
    CHECK_INT(feed(d, &b), 0, "escape-format bytea, empty bytea, int extremes");
    CHECK_STR(rec.out, "BEGIN 1\nINSERT pg_catalog.Odd \"T\" [x'615c6200ff', x'', 9223372036854775807, -32768]\n",
              "bytea escape and hex decoded, integers exact");
    b.n = 0; b8(&b, 'I'); b32(&b, 7); b8(&b, 'N'); b16(&b, 4);
    b8(&b, 'n'); b8(&b, 'n'); btext(&b, "9223372036854775808"); b8(&b, 'n');
    CHECK_INT(feed(d, &b), -1, "int8 overflow rejected");

    struct zcolumn z;
    char name[128];
    CHECK_INT(pgdec_builtin_type(1042, 5 + 4, &z, name, sizeof name), 0, "bpchar builtin");
    CHECK_STR(name, "character(5)", "bpchar(5) name");
    pgdec_builtin_type(1083, -1, &z, name, sizeof name);
    CHECK_STR(name, "time without time zone", "time name");
    CHECK_INT(z.scale, 6, "time default scale 6");
    pgdec_builtin_type(1562, 12, &z, name, sizeof name);
    CHECK_STR(name, "bit varying(12)", "varbit name");
    CHECK_INT(z.length, 12, "varbit length");
    pgdec_builtin_type(1231, -1, &z, name, sizeof name);
    CHECK_STR(name, "numeric[]", "numeric[] name");
    CHECK(z.is_array && z.type == ZT_DECIMAL, "numeric[] is a decimal array");
    pgdec_builtin_type(1700, ((5 << 16) | (0x7ff & -2)) + 4, &z, name, sizeof name);
    CHECK_INT(z.scale, -2, "numeric(5,-2) negative scale");
    pgdec_builtin_type(3802, -1, &z, name, sizeof name);
    CHECK_INT(z.type, ZT_JSON, "jsonb is json");
    CHECK_INT(pgdec_builtin_type(16390, -1, &z, name, sizeof name), -1, "non-builtin OID");
    pgdec_free(d);
}

/* Fuzzer find: a commit time near INT64_MAX overflowed the epoch shift. */
/* ---- protocol 2: streamed in-progress transactions ---------------------------------- */

/* The data message in b as a stream block sends it: xid after the tag. */
static void with_xid(struct buf *b, uint32_t xid)
{
    memmove(b->b + 5, b->b + 1, b->n - 1);
    b->b[1] = (uint8_t)(xid >> 24); b->b[2] = (uint8_t)(xid >> 16); b->b[3] = (uint8_t)(xid >> 8); b->b[4] = (uint8_t)xid;
    b->n += 4;
}
static void msg_ins_id(struct buf *b, const char *id)
{
    b->n = 0; b8(b, 'I'); b32(b, 16385); b8(b, 'N'); b16(b, 8); btext(b, id);
    for (int i = 0; i < 7; i++) b8(b, 'n');
}
static void st_start(struct buf *b, uint32_t xid, int first) { b->n = 0; b8(b, 'S'); b32(b, xid); b8(b, (uint8_t)first); }
static void st_stop(struct buf *b) { b->n = 0; b8(b, 'E'); }
static void st_abort(struct buf *b, uint32_t xid, uint32_t sub) { b->n = 0; b8(b, 'A'); b32(b, xid); b32(b, sub); }
static void st_commit(struct buf *b, uint32_t xid, uint64_t lsn, uint64_t end, int64_t t)
{
    b->n = 0; b8(b, 'c'); b32(b, xid); b8(b, 0); b64(b, lsn); b64(b, end); b64(b, (uint64_t)t);
}
static int spools_in(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) if (strstr(e->d_name, ".spool")) n++;
    if (d) closedir(d);
    return n;
}

static void test_stream_parse(void)
{
    struct buf b = {0};
    struct rd r;
    struct pgout_stream m;
    st_start(&b, 900, 1); rd_init(&r, b.b, b.n);
    CHECK_INT(pgout_parse_stream(&r, &m), 0, "Stream Start parses");
    CHECK(m.tag == 'S' && m.xid == 900 && m.first == 1, "Stream Start: xid 900, first segment");
    st_commit(&b, 900, 0x5000, 0x5030, 77); rd_init(&r, b.b, b.n);
    CHECK_INT(pgout_parse_stream(&r, &m), 0, "Stream Commit parses");
    CHECK(m.xid == 900 && m.commit_lsn == 0x5000 && m.end_lsn == 0x5030 && m.commit_time == 77, "Stream Commit's fields");
    st_abort(&b, 900, 901); rd_init(&r, b.b, b.n);
    CHECK_INT(pgout_parse_stream(&r, &m), 0, "Stream Abort parses");
    CHECK(m.xid == 900 && m.subxid == 901, "Stream Abort: xid and subxid");
    st_stop(&b); rd_init(&r, b.b, b.n);
    CHECK_INT(pgout_parse_stream(&r, &m), 0, "Stream Stop parses");
    /* every prefix of a Stream Commit is refused as truncated, a longer one as trailing */
    st_commit(&b, 900, 0x5000, 0x5030, 77);
    int bad = 0;
    for (size_t k = 1; k < b.n; k++) { rd_init(&r, b.b, k); if (pgout_parse_stream(&r, &m) != PGOUT_E_TRUNC) bad++; }
    CHECK_INT(bad, 0, "every prefix of a Stream Commit is truncated");
    b8(&b, 0); rd_init(&r, b.b, b.n);
    CHECK_INT(pgout_parse_stream(&r, &m), PGOUT_E_TRAILING, "a byte after a Stream Commit");
    uint32_t x = 0;
    msg_ins_id(&b, "1"); with_xid(&b, 0xA1B2C3D4);
    CHECK_INT(pgout_stream_xid(b.b, b.n, &x), 0, "xid of a streamed Insert");
    CHECK(x == 0xA1B2C3D4, "the streamed Insert's xid");
    CHECK_INT(pgout_stream_xid(b.b, 4, &x), PGOUT_E_TRUNC, "a streamed message too short for its xid");
    /* protocol 1's decoder refuses them as before */
    struct rec rec;
    struct pgdec *d = new_dec(&rec);
    st_start(&b, 900, 1);
    CHECK_INT(feed(d, &b), -1, "Stream Start without streaming asked for");
    CHECK(strstr(pgdec_error(d), "Stream Start") != NULL, "the error names the message");
    pgdec_free(d);
}

/*
 * A protocol-2 stream: a transaction streamed in two blocks around an
 * ordinary one, with a subtransaction rolled back; another streamed and
 * aborted; each goes to the sink only at its Stream Commit, whole, in
 * commit order, and leaves no spool behind.
 */
static void test_stream_decoder(void)
{
    char dir[] = "/tmp/zetl-pgstream.XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "a spool directory");
    struct rec rec;
    struct pgdec *d = new_dec(&rec);
    struct buf b = {0};
    CHECK_INT(pgdec_stream_in_progress(d, dir, "t.streamed"), 0, "streaming on");
    msg_type(&b); feed(d, &b);
    msg_relation(&b, "t", 0); feed(d, &b);

    st_start(&b, 900, 1); CHECK_INT(feed(d, &b), 0, "Stream Start 900");
    CHECK_INT(pgdec_in_txn(d), 1, "inside a stream block: in a transaction (no heartbeat)");
    msg_ins_id(&b, "10"); with_xid(&b, 900); CHECK_INT(feed(d, &b), 0, "900: insert 10");
    msg_ins_id(&b, "11"); with_xid(&b, 901); CHECK_INT(feed(d, &b), 0, "901 (released subtransaction): insert 11");
    st_stop(&b); CHECK_INT(feed(d, &b), 0, "Stream Stop");
    CHECK_INT(pgdec_in_txn(d), 0, "between blocks: no transaction");
    CHECK_INT(spools_in(dir), 1, "900 is held in a spool");

    msg_begin(&b, 0x6000, 5, 731); feed(d, &b);
    msg_ins_id(&b, "1"); feed(d, &b);
    msg_commit(&b, 0x6000, 0x6030, 5); CHECK_INT(feed(d, &b), 0, "an ordinary transaction in between");

    st_start(&b, 950, 1); feed(d, &b);
    msg_ins_id(&b, "50"); with_xid(&b, 950); CHECK_INT(feed(d, &b), 0, "950: insert 50");
    st_stop(&b); feed(d, &b);

    st_start(&b, 900, 0); CHECK_INT(feed(d, &b), 0, "Stream Start 900 again (not first)");
    msg_ins_id(&b, "12"); with_xid(&b, 900); feed(d, &b);
    msg_ins_id(&b, "13"); with_xid(&b, 902); feed(d, &b);
    msg_ins_id(&b, "14"); with_xid(&b, 903); feed(d, &b);         /* 903 nested in 902 */
    st_stop(&b); feed(d, &b);
    st_abort(&b, 900, 902); CHECK_INT(feed(d, &b), 0, "ROLLBACK TO the savepoint of 902");
    st_abort(&b, 950, 950); CHECK_INT(feed(d, &b), 0, "950 aborted");
    CHECK_INT(spools_in(dir), 1, "950's spool is gone");
    st_abort(&b, 960, 960); CHECK_INT(feed(d, &b), 0, "an abort of one never held");
    st_start(&b, 900, 0); feed(d, &b);
    msg_ins_id(&b, "15"); with_xid(&b, 900); feed(d, &b);
    st_stop(&b); feed(d, &b);
    CHECK_STR(rec.out, "BEGIN 731\nINSERT public.t [1, NULL, NULL, NULL, NULL, NULL, NULL, NULL]\nCOMMIT 0/6030 946684800000005\n",
              "nothing of a streamed transaction reaches the sink before its commit");
    rec.n = 0; rec.out[0] = 0;

    st_commit(&b, 900, 0x7000, 0x7040, 9); CHECK_INT(feed(d, &b), 0, "Stream Commit 900");
    CHECK_STR(rec.out,
              "BEGIN 900\n"
              "INSERT public.t [10, NULL, NULL, NULL, NULL, NULL, NULL, NULL]\n"
              "INSERT public.t [11, NULL, NULL, NULL, NULL, NULL, NULL, NULL]\n"
              "INSERT public.t [12, NULL, NULL, NULL, NULL, NULL, NULL, NULL]\n"
              "INSERT public.t [15, NULL, NULL, NULL, NULL, NULL, NULL, NULL]\n"
              "COMMIT 0/7040 946684800000009\n",
              "900 whole at its commit, without the rolled-back 902 and 903");
    CHECK_INT(spools_in(dir), 0, "no spool left");
    CHECK_U64(pgdec_last_commit_end(d), 0x7040, "the streamed commit's end is the position");
    struct pgdec_stats st;
    pgdec_stats(d, &st);
    CHECK_U64(st.streamed_txns, 1, "one streamed transaction");
    CHECK_U64(st.streamed_aborts, 2, "an abort and a subtransaction cut");

    /* A Stream Start of the first segment again drops what was held. */
    st_start(&b, 970, 1); feed(d, &b);
    msg_ins_id(&b, "70"); with_xid(&b, 970); feed(d, &b);
    st_stop(&b); feed(d, &b);
    st_start(&b, 970, 1); feed(d, &b);
    msg_ins_id(&b, "71"); with_xid(&b, 970); feed(d, &b);
    st_stop(&b); feed(d, &b);
    rec.n = 0; rec.out[0] = 0;
    st_commit(&b, 970, 0x8000, 0x8040, 9); feed(d, &b);
    CHECK_STR(rec.out, "BEGIN 970\nINSERT public.t [71, NULL, NULL, NULL, NULL, NULL, NULL, NULL]\nCOMMIT 0/8040 946684800000009\n",
              "a transaction sent again from its first segment is held once");

    /* Malformed: a Begin inside a block, a change too short for its xid. */
    st_start(&b, 980, 1); feed(d, &b);
    msg_begin(&b, 0x9000, 5, 981);
    CHECK_INT(feed(d, &b), -1, "a Begin inside a stream block");
    CHECK(strstr(pgdec_error(d), "(Begin) arrived inside a stream block") != NULL, "… is refused, named");
    b.n = 0; b8(&b, 'I'); b8(&b, 0);
    CHECK_INT(feed(d, &b), -1, "a streamed change too short for its xid");
    CHECK(strstr(pgdec_error(d), "too short") != NULL, "… says so");
    st_stop(&b); feed(d, &b);
    pgdec_free(d);
    CHECK_INT(spools_in(dir), 0, "freeing the decoder removes held spools");
    rmdir(dir);
}

static void test_time_saturates(void)
{
    CHECK(pgdec_time_to_unix_us(INT64_MAX) == INT64_MAX, "INT64_MAX saturates instead of overflowing");
    CHECK(pgdec_time_to_unix_us(INT64_MAX - 946684800000000LL) == INT64_MAX, "the last representable value maps to INT64_MAX");
    CHECK_INT(pgdec_time_to_unix_us(0), 946684800000000LL, "2000-01-01 is 946684800 s after the Unix epoch");
    CHECK_INT(pgdec_time_to_unix_us(-946684800000000LL), 0, "the Unix epoch");
}

int main(void)
{
    TEST_RUN(test_time_saturates);
    TEST_RUN(test_envelope);
    TEST_RUN(test_messages);
    TEST_RUN(test_truncated);
    TEST_RUN(test_malformed);
    TEST_RUN(test_decoder);
    TEST_RUN(test_bytea_and_types);
    TEST_RUN(test_stream_parse);
    TEST_RUN(test_stream_decoder);
    return test_exit();
}
