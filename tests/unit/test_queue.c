/*
 * test_queue.c — the bounded change queue (runtime/pipe/queue.h): exact round
 * trips, order, spilling under a tiny budget with a reader and an applier
 * thread, stop, reset, replaced table definitions, corrupt and truncated
 * spool files, a failing spool write.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/integ/integ.h"
#include "runtime/pipe/queue.h"
#include "runtime/pipe/queue_rec.h"
#include "runtime/pipe/spool.h"
#include "tests/unit/test.h"

static char root[256];

/* ---- fixtures ----------------------------------------------------------------- */

static struct zcolumn cols3[] = {
    { .name = "id", .type = ZT_INT64, .length = -1, .pk_ord = 1, .source_type = "bigint" },
    { .name = "Name", .type = ZT_VARCHAR, .length = 40, .nullable = 1, .source_type = "varchar(40)" },
    { .name = "blob", .type = ZT_BYTES, .length = -1, .nullable = 1, .source_type = NULL },
};
static struct ztable t3 = { .schema = "shop", .name = "Users", .id = 77, .ncols = 3,
                            .cols = cols3, .npk = 1 };

static struct zcolumn colsv[] = {
    { .name = "id", .type = ZT_INT64, .length = -1, .pk_ord = 1, .source_type = "bigint" },
    { .name = "n", .type = ZT_INT64, .length = -1, .nullable = 1, .source_type = "bigint" },
    { .name = "u", .type = ZT_UINT64, .length = -1, .nullable = 1, .is_unsigned = 1,
      .source_type = "bigint unsigned" },
    { .name = "f", .type = ZT_FLOAT64, .length = -1, .nullable = 1, .source_type = "double" },
    { .name = "d", .type = ZT_DECIMAL, .length = -1, .precision = 12, .scale = 3,
      .nullable = 1, .source_type = "decimal(12,3)" },
    { .name = "t", .type = ZT_TEXT, .length = -1, .nullable = 1, .is_array = 1, .source_type = "text[]" },
    { .name = "b", .type = ZT_BYTES, .length = -1, .nullable = 1, .source_type = "bytea" },
};
static struct ztable tv = { .schema = "public", .name = "values", .id = 16384, .ncols = 7,
                            .cols = colsv, .npk = 1 };

static struct zvalue vnull(void) { return (struct zvalue){ .kind = ZV_NULL }; }
static struct zvalue vint(int64_t i) { return (struct zvalue){ .kind = ZV_INT, .v.i = i }; }
static struct zvalue vuint(uint64_t u) { return (struct zvalue){ .kind = ZV_UINT, .v.u = u }; }
static struct zvalue vflt(double f) { return (struct zvalue){ .kind = ZV_FLOAT, .v.f = f }; }
static struct zvalue vtext(const char *p, uint32_t n)
{
    return (struct zvalue){ .kind = ZV_TEXT, .len = n, .v.p = p };
}
static struct zvalue vbytes(const char *p, uint32_t n)
{
    return (struct zvalue){ .kind = ZV_BYTES, .len = n, .v.p = p };
}

static struct ztxn txn_at(uint64_t off, int64_t t_us)
{
    struct ztxn t;

    memset(&t, 0, sizeof t);
    t.end.kind = ZPOS_BINLOG;
    snprintf(t.end.file, sizeof t.end.file, "binlog.000042");
    t.end.offset = off;
    t.commit_time_us = t_us;
    t.xid = off * 10;
    t.bytes = 123;
    return t;
}

static int open_q(struct cqueue **q, size_t budget, const char *name)
{
    char err[512];

    if (cqueue_open(q, budget, root, name, err, sizeof err)) {
        printf("# cqueue_open: %s\n", err);
        return -1;
    }
    return 0;
}

/* Spool files of queue `name` in root right now. */
static int count_spools(const char *name)
{
    DIR *d = opendir(root);
    struct dirent *e;
    size_t nl = strlen(name);
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (strncmp(e->d_name, name, nl) == 0 && e->d_name[nl] == '-' && l > 6 &&
            strcmp(e->d_name + l - 6, ".spool") == 0)
            n++;
    }
    closedir(d);
    return n;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int value_eq(const struct zvalue *a, const struct zvalue *b)
{
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case ZV_INT:
    case ZV_UINT:
        return a->v.u == b->v.u;
    case ZV_FLOAT:
        return memcmp(&a->v.f, &b->v.f, 8) == 0;        /* NaN and -0.0 bit for bit */
    case ZV_TEXT:
    case ZV_BYTES:
        return a->len == b->len && (a->len == 0 || memcmp(a->v.p, b->v.p, a->len) == 0);
    default:
        return 1;
    }
}

static int images_eq(const struct zvalue *a, const struct zvalue *b, int n)
{
    if (!a || !b)
        return a == b;
    for (int i = 0; i < n; i++)
        if (!value_eq(&a[i], &b[i]))
            return 0;
    return 1;
}

static int table_eq(const struct ztable *a, const struct ztable *b)
{
    if (!a || !b)
        return a == b;
    if (strcmp(a->schema, b->schema) || strcmp(a->name, b->name) || a->id != b->id ||
        a->ncols != b->ncols || a->npk != b->npk)
        return 0;
    for (int i = 0; i < a->ncols; i++) {
        const struct zcolumn *x = &a->cols[i], *y = &b->cols[i];
        if (strcmp(x->name, y->name) || x->type != y->type || x->length != y->length ||
            x->precision != y->precision || x->scale != y->scale ||
            x->nullable != y->nullable || x->is_unsigned != y->is_unsigned ||
            x->is_array != y->is_array || x->pk_ord != y->pk_ord)
            return 0;
        if ((x->source_type == NULL) != (y->source_type == NULL) ||
            (x->source_type && strcmp(x->source_type, y->source_type)))
            return 0;
    }
    return 1;
}

/* Pop with a short timeout; kind 0 when nothing came. */
static int pop_kind(struct cqueue *q, struct cq_item *it)
{
    int r = cqueue_pop(q, it, 1000);
    return r == 1 ? (int)it->kind : r;
}

/* ---- every value kind, every row shape ----------------------------------------- */

static void test_values_roundtrip(void)
{
    struct cqueue *q;
    struct cq_item it;
    static const char nulls[] = "a\0b\0c";
    static const char bin[] = { (char)0xff, 0, (char)0x80, 1 };
    struct zvalue after[7], before[7], key[7];
    struct ztxn b = txn_at(0, 0), c = txn_at(4567, 1700000000123456);
    struct zsink s;

    if (open_q(&q, 1 << 20, "values"))
        return;
    s = cqueue_sink(q);
    after[0] = vint(INT64_MIN);
    after[1] = vint(INT64_MAX);
    after[2] = vuint(UINT64_MAX);
    after[3] = vflt(NAN);
    after[4] = vtext("-12.340", 7);
    after[5] = vtext(nulls, sizeof nulls);              /* NULs inside, 6 bytes */
    after[6] = vbytes(bin, sizeof bin);
    for (int i = 0; i < 7; i++) {
        before[i] = after[i];
        key[i] = vnull();
    }
    before[1] = (struct zvalue){ .kind = ZV_UNCHANGED };
    before[3] = vflt(INFINITY);
    before[4] = vtext("", 0);                           /* empty text */
    before[5] = vtext(NULL, 0);                         /* empty text, no pointer */
    before[6] = vnull();
    key[0] = vint(-1);

    struct zrowchange ins = { .op = ZOP_INSERT, .table = &tv, .after = after };
    struct zrowchange upd = { .op = ZOP_UPDATE, .table = &tv, .before = before, .after = after };
    struct zrowchange del = { .op = ZOP_DELETE, .table = &tv, .before = key, .before_key_only = 1 };
    struct zrowchange trn = { .op = ZOP_TRUNCATE, .table = &tv };
    struct zvalue inf2[7];
    memcpy(inf2, after, sizeof inf2);
    inf2[3] = vflt(-INFINITY);
    inf2[0] = vint(0);
    struct zrowchange ins2 = { .op = ZOP_INSERT, .table = &tv, .after = inf2 };

    CHECK_INT(s.begin(s.ctx, &b), 0, "begin accepted");
    CHECK_INT(s.row(s.ctx, &ins), 0, "insert accepted");
    CHECK_INT(s.row(s.ctx, &upd), 0, "update accepted");
    CHECK_INT(s.row(s.ctx, &del), 0, "delete accepted");
    CHECK_INT(s.row(s.ctx, &trn), 0, "truncate accepted");
    CHECK_INT(s.row(s.ctx, &ins2), 0, "second insert accepted");
    CHECK_INT(s.commit(s.ctx, &c), 0, "commit accepted");

    CHECK_INT(pop_kind(q, &it), CQ_BEGIN, "BEGIN first");
    CHECK_INT(it.txn.end.kind, ZPOS_BINLOG, "begin position kind");
    CHECK_INT(pop_kind(q, &it), CQ_ROW, "then the insert");
    CHECK_INT(it.row.op, ZOP_INSERT, "insert op");
    CHECK(it.row.table != &tv && table_eq(it.row.table, &tv), "the consumer has its own exact copy of the table definition");
    CHECK(it.row.before == NULL, "insert has no before image");
    CHECK_INT(it.row.after[0].kind, ZV_INT, "INT kind");
    CHECK(it.row.after[0].v.i == INT64_MIN, "INT64_MIN exact");
    CHECK(it.row.after[1].v.i == INT64_MAX, "INT64_MAX exact");
    CHECK_INT(it.row.after[2].kind, ZV_UINT, "UINT kind");
    CHECK(it.row.after[2].v.u == UINT64_MAX, "UINT64_MAX exact");
    CHECK(isnan(it.row.after[3].v.f), "NaN stays NaN");
    CHECK_MEM(it.row.after[4].v.p, it.row.after[4].len, "-12.340", 7, "decimal text exact");
    CHECK_MEM(it.row.after[5].v.p, it.row.after[5].len, nulls, sizeof nulls, "text with NUL bytes exact");
    CHECK_INT(it.row.after[6].kind, ZV_BYTES, "BYTES kind");
    CHECK_MEM(it.row.after[6].v.p, it.row.after[6].len, bin, sizeof bin, "bytes exact");
    CHECK(images_eq(it.row.after, after, 7), "insert image equal value for value");

    CHECK_INT(pop_kind(q, &it), CQ_ROW, "then the update");
    CHECK_INT(it.row.op, ZOP_UPDATE, "update op");
    CHECK(images_eq(it.row.before, before, 7), "before image exact");
    CHECK(images_eq(it.row.after, after, 7), "after image exact");
    CHECK_INT(it.row.before[1].kind, ZV_UNCHANGED, "UNCHANGED kept");
    CHECK(isinf(it.row.before[3].v.f) && it.row.before[3].v.f > 0, "+inf exact");
    CHECK_INT(it.row.before[4].len, 0, "empty text has length 0");
    CHECK(it.row.before[4].kind == ZV_TEXT && it.row.before[5].kind == ZV_TEXT, "empty texts stay TEXT (not NULL)");
    CHECK_INT(it.row.before[6].kind, ZV_NULL, "NULL kept");
    CHECK_INT(it.row.before_key_only, 0, "full before image");

    CHECK_INT(pop_kind(q, &it), CQ_ROW, "then the delete");
    CHECK_INT(it.row.op, ZOP_DELETE, "delete op");
    CHECK(it.row.after == NULL, "delete has no after image");
    CHECK_INT(it.row.before_key_only, 1, "before_key_only kept");
    CHECK(images_eq(it.row.before, key, 7), "key image exact");

    CHECK_INT(pop_kind(q, &it), CQ_ROW, "then the truncate");
    CHECK_INT(it.row.op, ZOP_TRUNCATE, "truncate op");
    CHECK(it.row.before == NULL && it.row.after == NULL, "truncate has no images");
    CHECK(table_eq(it.row.table, &tv), "truncate names its table");

    CHECK_INT(pop_kind(q, &it), CQ_ROW, "then the second insert");
    CHECK(isinf(it.row.after[3].v.f) && it.row.after[3].v.f < 0, "-inf exact");
    CHECK(images_eq(it.row.after, inf2, 7), "second image exact");

    CHECK_INT(pop_kind(q, &it), CQ_COMMIT, "COMMIT last");
    CHECK_STR(it.txn.end.file, "binlog.000042", "commit file");
    CHECK_U64(it.txn.end.offset, 4567, "commit offset");
    CHECK(it.txn.commit_time_us == 1700000000123456, "commit time exact");
    CHECK_U64(it.txn.xid, 45670, "xid");
    CHECK_U64(it.txn.bytes, 123, "txn bytes");
    CHECK_INT(cqueue_pop(q, &it, 0), 0, "then nothing (poll)");
    cqueue_close(q);
}

/* ---- schema changes, heartbeats, long positions ----------------------------------- */

static void test_schema_heartbeat(void)
{
    struct cqueue *q;
    struct cq_item it;
    struct zsink s;
    struct ztxn b = txn_at(0, 0), c = txn_at(900, 5);
    char gtid[ZPOS_GTID_MAX];
    struct zpos hb;
    struct zcolumn cols2[2] = { cols3[0], cols3[1] };
    struct ztable t2 = t3;

    t2.ncols = 2;
    t2.cols = cols2;
    for (int i = 0; i < ZPOS_GTID_MAX - 1; i++)
        gtid[i] = "0123456789abcdef-:,"[i % 19];
    gtid[ZPOS_GTID_MAX - 1] = 0;
    memcpy(c.end.gtid, gtid, sizeof gtid);
    memset(c.end.file, 'f', ZPOS_FILE_MAX - 1);
    c.end.file[ZPOS_FILE_MAX - 1] = 0;
    memset(&hb, 0, sizeof hb);
    hb.kind = ZPOS_LSN;
    hb.offset = 0x16B3748ull | (7ull << 32);

    struct zschema_change create = { .kind = ZDDL_CREATE_TABLE, .new_def = &t2,
                                     .statement = "CREATE TABLE shop.Users (id bigint, Name varchar(40))" };
    struct zschema_change alter = { .kind = ZDDL_ALTER_TABLE, .old_def = &t2, .new_def = &t3,
                                    .statement = "ALTER TABLE shop.Users ADD blob blob" };
    struct zschema_change drop = { .kind = ZDDL_DROP_TABLE, .old_def = &t3 };
    struct zschema_change unsup = { .kind = ZDDL_UNSUPPORTED, .old_def = &t3,
                                    .statement = "ALTER TABLE shop.Users PARTITION BY HASH(id)",
                                    .reason = "partitioning change" };

    if (open_q(&q, 1 << 20, "schema"))
        return;
    s = cqueue_sink(q);
    CHECK_INT(s.begin(s.ctx, &b), 0, "begin");
    CHECK_INT(s.schema(s.ctx, &create), 0, "create accepted");
    CHECK_INT(s.schema(s.ctx, &alter), 0, "alter accepted");
    CHECK_INT(s.schema(s.ctx, &drop), 0, "drop accepted");
    CHECK_INT(s.schema(s.ctx, &unsup), 0, "unsupported accepted");
    CHECK_INT(s.commit(s.ctx, &c), 0, "commit with a long GTID set");
    CHECK_INT(s.heartbeat(s.ctx, &hb, 1700000000000001), 0, "heartbeat accepted");

    CHECK_INT(pop_kind(q, &it), CQ_BEGIN, "begin");
    CHECK_INT(pop_kind(q, &it), CQ_SCHEMA, "create");
    CHECK_INT(it.schema.kind, ZDDL_CREATE_TABLE, "create kind");
    CHECK(it.schema.old_def == NULL, "create has no old definition");
    CHECK(table_eq(it.schema.new_def, &t2), "create's new definition exact");
    CHECK_STR(it.schema.statement, create.statement, "create statement");
    CHECK_STR(it.schema.reason, NULL, "create has no reason");
    CHECK_INT(pop_kind(q, &it), CQ_SCHEMA, "alter");
    CHECK(table_eq(it.schema.old_def, &t2) && table_eq(it.schema.new_def, &t3), "alter's old and new definitions exact");
    CHECK_INT(pop_kind(q, &it), CQ_SCHEMA, "drop");
    CHECK(table_eq(it.schema.old_def, &t3) && it.schema.new_def == NULL, "drop has old, no new");
    CHECK_STR(it.schema.statement, NULL, "drop without statement stays NULL");
    CHECK_INT(pop_kind(q, &it), CQ_SCHEMA, "unsupported");
    CHECK_INT(it.schema.kind, ZDDL_UNSUPPORTED, "unsupported kind");
    CHECK_STR(it.schema.reason, "partitioning change", "reason kept");
    CHECK_INT(pop_kind(q, &it), CQ_COMMIT, "commit");
    CHECK_STR(it.txn.end.gtid, gtid, "1023-byte GTID set exact");
    CHECK_INT(strlen(it.txn.end.file), ZPOS_FILE_MAX - 1, "127-byte file name exact");
    CHECK_INT(pop_kind(q, &it), CQ_HEARTBEAT, "heartbeat");
    CHECK_INT(it.pos.kind, ZPOS_LSN, "heartbeat LSN kind");
    CHECK_U64(it.pos.offset, hb.offset, "heartbeat LSN");
    CHECK(it.now_us == 1700000000000001, "heartbeat time");
    cqueue_close(q);
}

/* ---- a reader and an applier thread -------------------------------------------------- */

/* Row i of a generated stream: id i, a name of 0..60 bytes derived from i,
 * a blob of i % 7 bytes with NULs. */
struct gen {
    char name[64];
    char blob[8];
    struct zvalue v[3];
};

static void gen_row(struct gen *g, uint64_t i)
{
    int n = (int)(i % 61);

    for (int k = 0; k < n; k++)
        g->name[k] = (char)('a' + (i + (uint64_t)k) % 26);
    for (int k = 0; k < 7; k++)
        g->blob[k] = (char)((i >> k) & 1 ? 0 : 0xA0 + k);
    g->v[0] = vint((int64_t)i);
    g->v[1] = (i % 13 == 0) ? vnull() : vtext(g->name, (uint32_t)n);
    g->v[2] = vbytes(g->blob, (uint32_t)(i % 7));
}

struct prod {
    struct cqueue *q;
    int      ntxn;
    int      rows_per_txn;      /* txn k has rows_per_txn rows, or 1 + k % 5 when 0 */
    int      big_first;         /* txn 0 has this many rows */
    int      rc;                /* first non-zero sink return */
    int64_t  done_ms;
};

static int txn_rows(const struct prod *p, int k)
{
    if (k == 0 && p->big_first)
        return p->big_first;
    return p->rows_per_txn ? p->rows_per_txn : 1 + k % 5;
}

static void *producer(void *arg)
{
    struct prod *p = arg;
    struct zsink s = cqueue_sink(p->q);
    uint64_t i = 0;
    struct gen g;

    for (int k = 0; k < p->ntxn && !p->rc; k++) {
        struct ztxn b = txn_at(0, 0), c = txn_at((uint64_t)k + 1, 1000 + k);
        int n = txn_rows(p, k);

        if ((p->rc = s.begin(s.ctx, &b)))
            break;
        for (int r = 0; r < n; r++, i++) {
            gen_row(&g, i);
            struct zrowchange rc = { .op = ZOP_INSERT, .table = &t3, .after = g.v };
            if ((p->rc = s.row(s.ctx, &rc)))
                break;
        }
        if (!p->rc)
            p->rc = s.commit(s.ctx, &c);
    }
    p->done_ms = now_ms();
    return NULL;
}

struct cons {
    struct cqueue *q;
    const struct prod *p;
    int      ntxn;
    uint64_t rows, bad, order_errors, txns;
    int      last_rc;
    uint64_t spool_seen;        /* spool files seen on disk while reading */
    int64_t  done_ms;
};

static void *consumer(void *arg)
{
    struct cons *c = arg;
    struct cq_item it;
    struct gen g;
    int in_txn = 0, txn_rows_seen = 0;

    while (c->txns < (uint64_t)c->ntxn) {
        int r = cqueue_pop(c->q, &it, 5000);
        if (r != 1) {
            c->last_rc = r;
            break;
        }
        switch (it.kind) {
        case CQ_BEGIN:
            if (in_txn)
                c->order_errors++;
            in_txn = 1;
            txn_rows_seen = 0;
            break;
        case CQ_ROW:
            gen_row(&g, c->rows);
            if (!in_txn || it.row.after[0].v.i != (int64_t)c->rows)
                c->order_errors++;
            if (!images_eq(it.row.after, g.v, 3) || !table_eq(it.row.table, &t3))
                c->bad++;
            c->rows++;
            txn_rows_seen++;
            if (c->rows % 4096 == 0 && c->spool_seen == 0) {
                struct cqueue_stats st;
                cqueue_get_stats(c->q, &st);
                c->spool_seen = st.spool_files;
            }
            break;
        case CQ_COMMIT:
            if (!in_txn || it.txn.end.offset != c->txns + 1 ||
                it.txn.commit_time_us != (int64_t)(1000 + c->txns) ||
                (c->p && txn_rows_seen != txn_rows(c->p, (int)c->txns)))
                c->order_errors++;
            in_txn = 0;
            c->txns++;
            break;
        default:
            c->order_errors++;
        }
    }
    c->done_ms = now_ms();
    return NULL;
}

static void test_order_many_txns(void)
{
    struct cqueue *q;
    pthread_t pt, ct;
    struct prod p = { .ntxn = 20000 };
    struct cons c = { .ntxn = 20000, .p = &p };
    struct cqueue_stats st;

    if (open_q(&q, 256 * 1024, "order"))
        return;
    p.q = c.q = q;
    pthread_create(&ct, NULL, consumer, &c);
    pthread_create(&pt, NULL, producer, &p);
    pthread_join(pt, NULL);
    pthread_join(ct, NULL);
    CHECK_INT(p.rc, 0, "the reader queued 20000 transactions");
    CHECK_U64(c.txns, 20000, "the applier saw every commit");
    CHECK_U64(c.rows, 60000, "every row arrived");
    CHECK_U64(c.order_errors, 0, "in order, each row inside its transaction");
    CHECK_U64(c.bad, 0, "every value exact");
    cqueue_get_stats(q, &st);
    CHECK_U64(st.txns_total, 20000, "stats count 20000 commits");
    CHECK_U64(st.txns_queued, 0, "nothing queued at the end");
    CHECK(st.mem_peak <= 256 * 1024, "memory stayed within the budget");
    CHECK_INT(count_spools("order"), 0, "no spool file for small transactions");
    cqueue_close(q);
}

static long proc_status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);

    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return v;
}

/* Sanitizers and valgrind keep shadow memory: RSS says nothing about the queue. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RSS_MEANINGLESS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define RSS_MEANINGLESS 1
#endif
#endif
#ifndef RSS_MEANINGLESS
#define RSS_MEANINGLESS 0
#endif

static int under_valgrind(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int v = 0;

    if (!f)
        return 0;
    while (!v && fgets(line, sizeof line, f))
        v = strstr(line, "vgpreload") != NULL;
    fclose(f);
    return v;
}

static void test_spill_200k(void)
{
    const size_t budget = 64 * 1024;
    struct cqueue *q;
    pthread_t pt, ct;
    struct prod p = { .ntxn = 3, .big_first = 200000, .rows_per_txn = 3 };
    struct cons c = { .ntxn = 3, .p = &p };
    struct cqueue_stats st;
    struct cq_item it;
    long base_kb, hwm_kb;
    int reset_hwm, fd;

    if (open_q(&q, budget, "spill"))
        return;
    /* Peak RSS from here on: "5" resets VmHWM (Linux 4.0+). */
    fd = open("/proc/self/clear_refs", O_WRONLY);
    reset_hwm = fd >= 0 && write(fd, "5", 1) == 1;
    if (fd >= 0)
        close(fd);
    base_kb = proc_status_kb("VmRSS");
    p.q = c.q = q;
    /* The producer first: it never blocks inside a transaction, so with a
     * 64 KiB budget it must spill; only then the consumer, so a fast consumer
     * cannot keep the transaction in memory and make the spill a matter of
     * timing (up to 10 s, then the checks below say what happened). */
    pthread_create(&pt, NULL, producer, &p);
    for (int i = 0; i < 1000; i++) {
        cqueue_get_stats(q, &st);
        if (st.spool_files_total > 0) break;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    pthread_create(&ct, NULL, consumer, &c);
    pthread_join(pt, NULL);
    pthread_join(ct, NULL);
    hwm_kb = proc_status_kb("VmHWM");
    CHECK_INT(p.rc, 0, "the reader queued a 200000-row transaction without blocking or failing");
    CHECK_U64(c.rows, 200006, "every row arrived");
    CHECK_U64(c.order_errors, 0, "in order");
    CHECK_U64(c.bad, 0, "every value exact");
    CHECK(c.spool_seen > 0, "a spool file existed while the transaction streamed");
    cqueue_get_stats(q, &st);
    CHECK(st.spool_files_total >= 1, "the big transaction spilled");
    CHECK(st.spool_bytes_total > 4 * budget, "most of it went through the spool");
    CHECK(st.mem_peak <= budget, "the queue's memory never passed the budget");
    printf("# spill: mem_peak %llu of %zu, spooled %llu bytes, VmRSS before %ld kB, VmHWM %ld kB\n",
           (unsigned long long)st.mem_peak, budget, (unsigned long long)st.spool_bytes_total,
           base_kb, hwm_kb);
    if (reset_hwm && base_kb > 0 && hwm_kb > 0 && !under_valgrind() && !RSS_MEANINGLESS)
        CHECK(hwm_kb - base_kb <= (long)(budget / 1024) + 1024,
              "peak RSS stays within budget + 1 MiB of the start");
    else
        printf("# spill: peak RSS check skipped (no VmHWM reset, or under valgrind or a sanitizer)\n");
    CHECK_INT(cqueue_pop(q, &it, 0), 0, "nothing left");
    CHECK_INT(count_spools("spill"), 0, "the spool file is deleted once consumed");
    cqueue_get_stats(q, &st);
    CHECK_U64(st.spool_bytes, 0, "no spooled bytes left");
    CHECK_U64(st.spool_files, 0, "no spool file counted");
    cqueue_close(q);
}

/* Values bigger than the spool's buffers and than the whole budget. */
static void test_huge_values(void)
{
    struct cqueue *q;
    struct zsink s;
    struct cq_item it;
    struct ztxn b = txn_at(0, 0), c = txn_at(3, 3);
    size_t mib = 1 << 20, k300 = 300 * 1024;
    char *big = malloc(mib), *mid = malloc(k300);
    int ok = 1;

    if (!big || !mid || open_q(&q, 64 * 1024, "huge")) {
        free(big);
        free(mid);
        return;
    }
    for (size_t i = 0; i < mib; i++)
        big[i] = (char)(i * 31 + (i >> 12));
    for (size_t i = 0; i < k300; i++)
        mid[i] = (char)('a' + i % 26);
    s = cqueue_sink(q);
    struct zvalue v1[3] = { vint(1), vnull(), vbytes(big, (uint32_t)mib) };
    struct zvalue v2[3] = { vint(2), vtext("small", 5), vnull() };
    struct zvalue v3[3] = { vint(3), vtext(mid, (uint32_t)k300), vbytes(big, 7) };
    struct zrowchange r1 = { .op = ZOP_INSERT, .table = &t3, .after = v1 };
    struct zrowchange r2 = { .op = ZOP_INSERT, .table = &t3, .after = v2 };
    struct zrowchange r3 = { .op = ZOP_UPDATE, .table = &t3, .before = v1, .after = v3 };
    ok &= s.begin(s.ctx, &b) == 0;
    ok &= s.row(s.ctx, &r1) == 0;
    ok &= s.row(s.ctx, &r2) == 0;
    ok &= s.row(s.ctx, &r3) == 0;
    ok &= s.commit(s.ctx, &c) == 0;
    CHECK(ok, "rows with a 1 MiB and a 300 kB value queued under a 64 kB budget");
    CHECK_INT(pop_kind(q, &it), CQ_BEGIN, "begin");
    CHECK_INT(pop_kind(q, &it), CQ_ROW, "the 1 MiB row");
    CHECK(images_eq(it.row.after, v1, 3), "1 MiB of bytes exact");
    CHECK_INT(pop_kind(q, &it), CQ_ROW, "the small row");
    CHECK(images_eq(it.row.after, v2, 3), "small row exact");
    CHECK_INT(pop_kind(q, &it), CQ_ROW, "the update");
    CHECK(images_eq(it.row.before, v1, 3) && images_eq(it.row.after, v3, 3),
          "before (1 MiB) and after (300 kB) images exact");
    CHECK_INT(pop_kind(q, &it), CQ_COMMIT, "commit");
    cqueue_close(q);
    free(big);
    free(mid);
}

static uint32_t crc32c_ref(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;

    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}

static void test_crc(void)
{
    uint8_t buf[1000];
    int same = 1;

    CHECK_U64(spool_crc32c(0, "123456789", 9), 0xE3069283u, "CRC-32C check value");
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7 + (i >> 3));
    for (size_t n = 0; n <= sizeof buf; n += 37)
        for (size_t off = 0; off < 8; off++)
            if (n + off <= sizeof buf)
                same &= spool_crc32c(0, buf + off, n) == crc32c_ref(buf + off, n);
    CHECK(same, "CRC-32C equals the bitwise reference at every length and alignment");
}

/* ---- stop, reset ----------------------------------------------------------------- */

struct waiter {
    struct cqueue *q;
    int     rc;
    int64_t done_ms;
};

static void *wait_pop(void *arg)
{
    struct waiter *w = arg;
    struct cq_item it;

    w->rc = cqueue_pop(w->q, &it, -1);
    w->done_ms = now_ms();
    return NULL;
}

/* A change nearly as big as the budget fits in memory when memory is empty
 * (a DDL statement outside a transaction); the next transaction must still
 * find room once it has been read. */
struct outsized {
    struct cqueue *q;
    int rc;
};

static void *outsized_producer(void *arg)
{
    struct outsized *o = arg;
    struct zsink s = cqueue_sink(o->q);
    static char big[60 * 1024];
    struct zschema_change sc = { .kind = ZDDL_UNSUPPORTED, .statement = big, .reason = "test" };
    struct zvalue v[3] = { vint(0), vnull(), vnull() };
    struct zrowchange rc = { .op = ZOP_INSERT, .table = &t3, .after = v };

    memset(big, 'x', sizeof big - 1);
    for (int k = 0; k < 3 && !o->rc; k++) {
        struct ztxn b = txn_at(0, 0), c = txn_at((uint64_t)k + 1, k);
        if ((o->rc = s.schema(s.ctx, &sc)) || (o->rc = s.begin(s.ctx, &b)) ||
            (o->rc = s.row(s.ctx, &rc)) || (o->rc = s.commit(s.ctx, &c)))
            break;
    }
    return NULL;
}

static void test_outsized_change(void)
{
    struct cqueue *q;
    struct outsized o = { 0 };
    struct cq_item it;
    struct cqueue_stats st;
    pthread_t t;
    int commits = 0, ddl = 0;

    if (open_q(&q, 64 * 1024, "outsized"))
        return;
    o.q = q;
    pthread_create(&t, NULL, outsized_producer, &o);
    while (commits < 3 && cqueue_pop(q, &it, 3000) == 1) {
        commits += it.kind == CQ_COMMIT;
        ddl += it.kind == CQ_SCHEMA && strlen(it.schema.statement) == 60 * 1024 - 1;
    }
    if (commits < 3)
        cqueue_stop(q);
    pthread_join(t, NULL);
    CHECK_INT(commits, 3, "a 60 kB DDL statement, then a transaction, three times, through a 64 kB budget");
    CHECK_INT(ddl, 3, "each statement exact");
    CHECK_INT(o.rc, 0, "the reader was never stuck");
    cqueue_get_stats(q, &st);
    CHECK(st.mem_peak <= 64 * 1024, "within the budget");
    cqueue_close(q);
}

static void test_stop(void)
{
    struct cqueue *q;
    pthread_t t;
    struct prod p = { .ntxn = 1000000, .rows_per_txn = 20 };
    struct waiter w = { 0 };
    struct cqueue_stats st;
    struct cq_item it;
    int64_t t0;

    /* The applier waits on an empty queue. */
    if (open_q(&q, 64 * 1024, "stop"))
        return;
    t0 = now_ms();
    CHECK_INT(cqueue_pop(q, &it, 150), 0, "an empty queue times out");
    CHECK(now_ms() - t0 >= 140 && now_ms() - t0 < 1000, "after about the timeout");
    w.q = q;
    pthread_create(&t, NULL, wait_pop, &w);
    usleep(200 * 1000);
    t0 = now_ms();
    cqueue_stop(q);
    pthread_join(t, NULL);
    CHECK_INT(w.rc, -1, "stop wakes a waiting applier with -1");
    CHECK(w.done_ms - t0 < 1000, "within a second");
    cqueue_close(q);

    /* The reader waits between transactions for room; nobody consumes. */
    if (open_q(&q, 64 * 1024, "stop"))
        return;
    p.q = q;
    pthread_create(&t, NULL, producer, &p);
    usleep(300 * 1000);
    cqueue_get_stats(q, &st);
    CHECK(st.mem_bytes > 32 * 1024 && st.mem_bytes <= 64 * 1024, "the reader filled the budget and waits");
    CHECK_U64(st.spool_files_total, 0, "small transactions never spill");
    t0 = now_ms();
    cqueue_stop(q);
    pthread_join(t, NULL);
    CHECK_INT(p.rc, -1, "stop makes the waiting sink return -1");
    CHECK(p.done_ms - t0 < 1000, "within a second");
    CHECK_INT(cqueue_pop(q, &it, 0), -1, "pop after stop is -1");
    {
        struct zsink s = cqueue_sink(q);
        struct ztxn b = txn_at(0, 0);
        CHECK_INT(s.begin(s.ctx, &b), -1, "the sink after stop is -1");
    }
    cqueue_close(q);
}

static void test_reset(void)
{
    struct cqueue *q;
    struct zsink s;
    struct cq_item it;
    struct cqueue_stats st;
    struct gen g;
    struct ztxn b = txn_at(0, 0), c = txn_at(1, 111);

    if (open_q(&q, 64 * 1024, "reset"))
        return;
    s = cqueue_sink(q);
    s.begin(s.ctx, &b);
    for (uint64_t i = 0; i < 5000; i++) {       /* ~250 kB: spills */
        gen_row(&g, i);
        struct zrowchange rc = { .op = ZOP_INSERT, .table = &t3, .after = g.v };
        s.row(s.ctx, &rc);
    }
    CHECK_INT(s.commit(s.ctx, &c), 0, "a spilled transaction queued");
    CHECK_INT(count_spools("reset"), 1, "its spool file exists");
    cqueue_get_stats(q, &st);
    CHECK_U64(st.txns_queued, 1, "one transaction queued");
    CHECK_INT(pop_kind(q, &it), CQ_BEGIN, "the applier read its BEGIN");
    cqueue_stop(q);
    cqueue_reset(q);
    CHECK_INT(count_spools("reset"), 0, "reset deletes the spool file");
    cqueue_get_stats(q, &st);
    CHECK_U64(st.txns_queued, 0, "reset: no transaction queued");
    CHECK_U64(st.spool_bytes, 0, "reset: no spooled bytes");
    CHECK_U64(st.mem_bytes, 0, "reset: no chunk memory");
    CHECK_INT(st.newest_end.kind, ZPOS_NONE, "reset: no newest position");
    CHECK_INT(cqueue_pop(q, &it, 0), 0, "reset: nothing to read, and not stopped");

    /* The source restarts from the checkpoint, with the same table pointer. */
    struct ztxn c2 = txn_at(2, 222);
    gen_row(&g, 7);
    struct zrowchange rc = { .op = ZOP_INSERT, .table = &t3, .after = g.v };
    CHECK_INT(s.begin(s.ctx, &b), 0, "begin after reset");
    CHECK_INT(s.row(s.ctx, &rc), 0, "row after reset");
    CHECK_INT(s.commit(s.ctx, &c2), 0, "commit after reset");
    CHECK_INT(pop_kind(q, &it), CQ_BEGIN, "after reset: BEGIN");
    CHECK_INT(pop_kind(q, &it), CQ_ROW, "after reset: the row");
    CHECK(table_eq(it.row.table, &t3), "the definition is sent again after reset");
    CHECK(images_eq(it.row.after, g.v, 3), "its values exact");
    CHECK_INT(pop_kind(q, &it), CQ_COMMIT, "after reset: COMMIT");
    CHECK_U64(it.txn.end.offset, 2, "the new transaction's position");
    cqueue_close(q);
}

/* ---- table definitions replaced behind the same pointer -------------------------- */

static void test_table_replaced(void)
{
    struct cqueue *q;
    struct zsink s;
    struct cq_item it;
    struct zcolumn c2[2] = { cols3[0], cols3[1] };
    struct zcolumn c3[3] = { cols3[0], cols3[1], cols3[2] };
    struct ztable t = { .schema = "shop", .name = "T", .id = 5, .ncols = 2, .cols = c2, .npk = 1 };
    struct ztable twin = t;         /* another pointer, same content */
    struct ztxn b = txn_at(0, 0), c = txn_at(1, 1);
    struct zvalue v[3] = { vint(1), vtext("x", 1), vbytes("yz", 2) };
    struct zrowchange rc = { .op = ZOP_INSERT, .table = &t, .after = v };
    struct zrowchange rtwin = { .op = ZOP_INSERT, .table = &twin, .after = v };
    const struct ztable *first = NULL, *added = NULL;
    char rename[3] = "id";

    if (open_q(&q, 1 << 20, "replaced"))
        return;
    s = cqueue_sink(q);
    s.begin(s.ctx, &b);
    s.row(s.ctx, &rc);
    s.row(s.ctx, &rtwin);
    t.ncols = 3;                     /* ALTER TABLE ADD: same struct, new columns */
    t.cols = c3;
    s.row(s.ctx, &rc);
    c3[0].name = rename;             /* a rename of equal length, in place */
    s.row(s.ctx, &rc);
    rename[0] = 'I';                 /* the same name buffer rewritten */
    s.row(s.ctx, &rc);
    c3[2].type = ZT_TEXT;            /* a retype */
    s.row(s.ctx, &rc);
    t.ncols = 2;                     /* and back to the first layout */
    t.cols = c2;
    CHECK_INT(s.row(s.ctx, &rc), 0, "rows after each change accepted");
    CHECK_INT(s.commit(s.ctx, &c), 0, "commit");

    pop_kind(q, &it);
    CHECK_INT(pop_kind(q, &it), CQ_ROW, "first row");
    CHECK_INT(it.row.table->ncols, 2, "first row: two columns");
    first = it.row.table;
    CHECK_INT(pop_kind(q, &it), CQ_ROW, "twin row");
    CHECK(it.row.table == first, "another pointer with the same content: the same definition");
    CHECK_INT(pop_kind(q, &it), CQ_ROW, "row after ADD COLUMN");
    CHECK_INT(it.row.table->ncols, 3, "the new definition: three columns");
    CHECK_STR(it.row.table->cols[2].name, "blob", "the added column");
    CHECK(images_eq(it.row.after, v, 3), "three values");
    added = it.row.table;
    CHECK(added != first, "a new pointer for new content");
    CHECK_INT(pop_kind(q, &it), CQ_ROW, "row after rename");
    CHECK_STR(it.row.table->cols[0].name, "id", "renamed (new buffer) seen");
    CHECK_INT(pop_kind(q, &it), CQ_ROW, "row after in-place rename");
    CHECK_STR(it.row.table->cols[0].name, "Id", "renamed in place seen");
    CHECK(it.row.table != added && it.row.table != first, "a pointer per content");
    CHECK_INT(pop_kind(q, &it), CQ_ROW, "row after retype");
    CHECK_INT(it.row.table->cols[2].type, ZT_TEXT, "retype seen");
    CHECK_INT(pop_kind(q, &it), CQ_ROW, "row after going back");
    CHECK(it.row.table == first, "the first layout again: the first pointer again");
    CHECK_INT(pop_kind(q, &it), CQ_COMMIT, "commit");
    CHECK(first->ncols == 2 && strcmp(first->cols[1].name, "Name") == 0 && added->ncols == 3,
          "earlier definitions stay valid until close");
    cqueue_close(q);
}

/* More table pointers than the queue tracks: it starts over, and every row
 * still arrives with its own definition. */
static void test_many_tables(void)
{
    enum { N = 17000 };
    struct cqueue *q;
    struct zsink s;
    struct cq_item it;
    struct ztable *tabs = calloc(N, sizeof *tabs);
    struct ztxn b = txn_at(0, 0), c = txn_at(1, 1);
    int bad = 0, rows = 0;

    if (!tabs || open_q(&q, 8 << 20, "many")) {
        free(tabs);
        return;
    }
    s = cqueue_sink(q);
    for (int i = 0; i < N; i++) {
        tabs[i] = t3;
        tabs[i].id = (uint64_t)i;
    }
    s.begin(s.ctx, &b);
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < N; i += round ? 97 : 1) {
            struct zvalue v[3] = { vint(i), vnull(), vnull() };
            struct zrowchange rc = { .op = ZOP_INSERT, .table = &tabs[i], .after = v };
            s.row(s.ctx, &rc);
        }
    CHECK_INT(s.commit(s.ctx, &c), 0, "rows of 17000 table pointers queued");
    pop_kind(q, &it);
    while (pop_kind(q, &it) == CQ_ROW) {
        rows++;
        if (it.row.table->id != (uint64_t)it.row.after[0].v.i)
            bad++;
    }
    CHECK_INT(it.kind, CQ_COMMIT, "then the commit");
    CHECK_INT(rows, N + (N + 96) / 97, "every row");
    CHECK_INT(bad, 0, "each with its own table's definition");
    cqueue_close(q);
    free(tabs);
}

/* ---- stats ------------------------------------------------------------------------ */

static void test_stats(void)
{
    struct cqueue *q;
    struct zsink s;
    struct cq_item it;
    struct cqueue_stats st;
    struct zpos hb = { .kind = ZPOS_LSN, .offset = 9 };

    if (open_q(&q, 1 << 20, "stats"))
        return;
    s = cqueue_sink(q);
    for (int k = 1; k <= 3; k++) {
        struct ztxn b = txn_at(0, 0), c = txn_at((uint64_t)k * 100, 1000 * k);
        struct zvalue v[3] = { vint(k), vnull(), vnull() };
        struct zrowchange rc = { .op = ZOP_INSERT, .table = &t3, .after = v };
        s.begin(s.ctx, &b);
        s.row(s.ctx, &rc);
        s.commit(s.ctx, &c);
    }
    cqueue_get_stats(q, &st);
    CHECK_U64(st.txns_queued, 3, "three transactions queued");
    CHECK_U64(cqueue_txns_queued(q), 3, "cqueue_txns_queued agrees: three");
    CHECK(st.oldest_commit_us == 1000, "oldest commit time is the first's");
    CHECK_U64(st.newest_end.offset, 300, "newest end is the third's");
    CHECK(st.mem_bytes > 0 && st.mem_bytes <= st.budget_bytes, "memory counted");
    CHECK(st.bytes_total > 0, "bytes counted");
    CHECK_U64(st.bytes_queued, st.bytes_total, "all of them queued");
    for (int i = 0; i < 3; i++)
        pop_kind(q, &it);
    cqueue_get_stats(q, &st);
    CHECK_U64(st.txns_queued, 2, "after the first COMMIT is popped: two");
    CHECK_U64(cqueue_txns_queued(q), 2, "cqueue_txns_queued agrees: two");
    CHECK(st.oldest_commit_us == 2000, "oldest is now the second's");
    for (int i = 0; i < 6; i++)
        pop_kind(q, &it);
    cqueue_get_stats(q, &st);
    CHECK_U64(st.txns_queued, 0, "all popped: none");
    CHECK_U64(cqueue_txns_queued(q), 0, "cqueue_txns_queued agrees: none");
    CHECK_U64(st.bytes_queued, 0, "no bytes queued");
    CHECK(st.oldest_commit_us == 0, "no oldest commit time");
    CHECK_U64(st.newest_end.offset, 300, "newest end stays for bytes-behind");
    CHECK_INT(s.heartbeat(s.ctx, &hb, 42), 0, "heartbeat queued");
    CHECK_INT(pop_kind(q, &it), CQ_HEARTBEAT, "heartbeat popped");
    cqueue_close(q);

    /* A heartbeat when memory is full is dropped, not waited for. */
    if (open_q(&q, 64 * 1024, "stats"))
        return;
    s = cqueue_sink(q);
    {
        struct ztxn b = txn_at(0, 0), c = txn_at(1, 1);
        struct gen g;
        s.begin(s.ctx, &b);
        for (uint64_t i = 0; i < 3000; i++) {
            gen_row(&g, i);
            struct zrowchange rc = { .op = ZOP_INSERT, .table = &t3, .after = g.v };
            s.row(s.ctx, &rc);
        }
        s.commit(s.ctx, &c);
    }
    int64_t t0 = now_ms();
    CHECK_INT(s.heartbeat(s.ctx, &hb, 43), 0, "heartbeat on a full queue returns 0");
    CHECK(now_ms() - t0 < 100, "at once");
    cqueue_get_stats(q, &st);
    CHECK_U64(st.heartbeats_dropped, 1, "and is counted as dropped");
    while (cqueue_pop(q, &it, 0) == 1)
        ;
    CHECK_INT(s.heartbeat(s.ctx, &hb, 44), 0, "heartbeat on a drained queue");
    CHECK_INT(pop_kind(q, &it), CQ_HEARTBEAT, "is queued");
    CHECK(it.now_us == 44, "the new one");
    cqueue_close(q);
}

/* ---- spool files: leftovers, mode, corruption, write failure ------------------------ */

static void touch(const char *name)
{
    char path[512];
    int fd;

    snprintf(path, sizeof path, "%s/%s", root, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0)
        close(fd);
}

static int exists(const char *name)
{
    char path[512];
    struct stat sb;

    snprintf(path, sizeof path, "%s/%s", root, name);
    return stat(path, &sb) == 0;
}

static void test_leftovers(void)
{
    struct cqueue *q;

    touch("left-7.spool");
    touch("left-x.spool");
    touch("left-12-3.spool");
    touch("leftover-1.spool");
    touch("left-7.spool.bak");
    if (open_q(&q, 64 * 1024, "left"))
        return;
    CHECK(!exists("left-7.spool"), "a leftover spool of this queue is deleted at open");
    CHECK(exists("left-x.spool") && exists("left-12-3.spool") && exists("leftover-1.spool") &&
          exists("left-7.spool.bak"), "other files are left alone");
    cqueue_close(q);
}

/* One spilled transaction of n rows, queued from this thread (the reader never
 * waits inside a transaction); returns the sink's last result. */
static int spill_txn(struct cqueue *q, uint64_t n)
{
    struct zsink s = cqueue_sink(q);
    struct ztxn b = txn_at(0, 0), c = txn_at(1, 1);
    struct gen g;
    int rc = s.begin(s.ctx, &b);

    for (uint64_t i = 0; i < n && !rc; i++) {
        gen_row(&g, i);
        struct zrowchange r = { .op = ZOP_INSERT, .table = &t3, .after = g.v };
        rc = s.row(s.ctx, &r);
    }
    return rc ? rc : s.commit(s.ctx, &c);
}

/* Pop until something other than an item; count rows, check they are in order. */
static int drain(struct cqueue *q, uint64_t *rows, int *in_order)
{
    struct cq_item it;
    int r;

    *rows = 0;
    *in_order = 1;
    while ((r = cqueue_pop(q, &it, 200)) == 1)
        if (it.kind == CQ_ROW && it.row.after[0].v.i != (int64_t)(*rows)++)
            *in_order = 0;
    return r;
}

static void corrupt_case(const char *what, void (*damage)(int fd, off_t size), const char *expect)
{
    struct cqueue *q;
    char path[512], err[512], msg[600];
    struct stat sb;
    uint64_t rows;
    int in_order, fd;

    if (open_q(&q, 64 * 1024, "corrupt"))
        return;
    CHECK_INT(spill_txn(q, 20000), 0, "a spilled transaction queued");
    snprintf(path, sizeof path, "%s/corrupt-1.spool", root);
    CHECK_INT(stat(path, &sb), 0, "the spool file is named NAME-1.spool");
    CHECK_INT(sb.st_mode & 0777, 0600, "the spool file is mode 0600");
    fd = open(path, O_RDWR);
    if (fd >= 0) {
        damage(fd, sb.st_size);
        close(fd);
    }
    CHECK_INT(drain(q, &rows, &in_order), -1, "reading it fails with -1, no crash");
    CHECK(rows > 0 && in_order, "the records before the damage arrive in order");
    CHECK(rows < 20000, "not all of them");
    CHECK_INT(cqueue_error(q, err, sizeof err), 1, "the queue holds an error");
    snprintf(msg, sizeof msg, "%s: the message names the file and says \"%s\"", what, expect);
    CHECK(strstr(err, path) && strstr(err, expect), msg);
    printf("# %s: %s\n", what, err);
    CHECK_INT(cqueue_pop(q, &(struct cq_item){ 0 }, 0), -1, "the error is sticky for the applier");
    {
        struct zsink s = cqueue_sink(q);
        struct ztxn b = txn_at(0, 0);
        CHECK_INT(s.begin(s.ctx, &b), -1, "and for the reader");
    }
    cqueue_close(q);
    CHECK_INT(count_spools("corrupt"), 0, "close deletes the spool file");
}

/* A byte inside the first spooled record's body (after its 8-byte frame). */
static void flip_body(int fd, off_t size)
{
    unsigned char b;

    (void)size;
    if (pread(fd, &b, 1, 12) == 1) {
        b ^= 0x40;
        if (pwrite(fd, &b, 1, 12) != 1)
            perror("pwrite");
    }
}

/* Whatever lies in the middle of the file: a length, a checksum or a body. */
static void flip_middle(int fd, off_t size)
{
    unsigned char b;

    if (pread(fd, &b, 1, size / 2) == 1) {
        b ^= 0x40;
        if (pwrite(fd, &b, 1, size / 2) != 1)
            perror("pwrite");
    }
}

static void cut_half(int fd, off_t size)
{
    if (ftruncate(fd, size / 2) != 0)
        perror("ftruncate");
}

static void bad_length(int fd, off_t size)
{
    uint32_t len = 0x7ffffff0u;

    (void)size;
    if (pwrite(fd, &len, 4, 0) != 4)
        perror("pwrite");
}

static void test_corrupt_spool(void)
{
    corrupt_case("flipped byte in a record", flip_body, "checksum");
    corrupt_case("flipped byte mid-file", flip_middle, "corrupt");
    corrupt_case("truncated file", cut_half, "short read");
    corrupt_case("impossible length", bad_length, "corrupt");
}

static void test_spool_write_error(void)
{
    struct cqueue *q;
    struct rlimit old, lim;
    char err[512];
    int rc;

    if (open_q(&q, 64 * 1024, "full"))
        return;
    /* The file size limit stands in for a full disk: write() fails with EFBIG. */
    signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 200 * 1024;
    setrlimit(RLIMIT_FSIZE, &lim);
    rc = spill_txn(q, 20000);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);
    CHECK_INT(rc, -1, "the sink returns -1 when the spool cannot be written");
    CHECK_INT(cqueue_error(q, err, sizeof err), 1, "the queue holds the error");
    CHECK(strstr(err, "full-1.spool") && strstr(err, "File too large"),
          "the message names the spool file and the cause");
    printf("# write error: %s\n", err);
    CHECK_INT(cqueue_pop(q, &(struct cq_item){ 0 }, 0), -1, "the applier sees -1");
    cqueue_reset(q);
    CHECK_INT(cqueue_error(q, err, sizeof err), 0, "reset clears the error");
    CHECK_INT(spill_txn(q, 20000), 0, "and the queue works again");
    cqueue_close(q);
}

static void test_bad_input(void)
{
    struct cqueue *q;
    struct zsink s;
    char err[512];
    struct ztxn b = txn_at(0, 0);
    struct zvalue v[3] = { vint(1), { .kind = 42 }, vnull() };
    struct zrowchange rc = { .op = ZOP_INSERT, .table = &t3, .after = v };

    CHECK_INT(cqueue_open(&q, 1 << 20, root, "a/b", err, sizeof err), -1, "a name with '/' is refused");
    CHECK(strstr(err, "plain file name") != NULL, "with the reason");
    if (open_q(&q, 1 << 20, "bad"))
        return;
    s = cqueue_sink(q);
    s.begin(s.ctx, &b);
    CHECK_INT(s.row(s.ctx, &rc), -1, "a value of unknown kind is refused");
    CHECK_INT(cqueue_error(q, err, sizeof err), 1, "with an error");
    CHECK(strstr(err, "shop.Users") != NULL, "naming the table");
    cqueue_close(q);
}

/* The record decoder on damaged bodies: every truncation and thousands of
 * random byte changes of each record kind decode or are refused, never read
 * out of bounds (run under valgrind / ASan to see the "never"). */
static void test_decode_damage(void)
{
    struct qrec_defs d;
    struct cq_item it;
    static uint8_t bodies[6][4096], work[4096];
    size_t lens[6];
    struct ztxn c = txn_at(77, 5);
    struct zvalue v[3] = { vint(-5), vtext("hello", 5), vbytes("\0\1", 2) };
    struct zrowchange rc = { .op = ZOP_UPDATE, .table = &t3, .before = v, .after = v };
    struct zschema_change sc = { .kind = ZDDL_ALTER_TABLE, .old_def = &t3, .new_def = &t3,
                                 .statement = "ALTER", .reason = NULL };
    struct zpos hb = { .kind = ZPOS_LSN, .offset = 1 };
    uint64_t rsz;
    unsigned seed = 12345;
    int ok = 0, refused = 0, table_ok;

    memset(&d, 0, sizeof d);
    memcpy(c.end.gtid, "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-77", 42);
    lens[0] = qrec_table_size(&t3);
    qrec_table_write(bodies[0], 1, &t3);
    lens[1] = qrec_txn_size(&c);
    qrec_txn_write(bodies[1], QREC_COMMIT, &c);
    qrec_row_size(&rc, &rsz);
    lens[2] = (size_t)rsz;
    qrec_row_write(bodies[2], 1, &rc);
    lens[3] = qrec_schema_size(&sc);
    qrec_schema_write(bodies[3], 1, 1, &sc);
    lens[4] = qrec_heartbeat_size(&hb);
    qrec_heartbeat_write(bodies[4], &hb, 9);
    bodies[5][0] = QREC_TABLES_RESET;
    lens[5] = 1;
    table_ok = qrec_decode(&d, bodies[0], (uint32_t)lens[0], &it) == 0;
    CHECK(table_ok, "a table definition decodes");
    for (int k = 1; k < 5; k++)
        ok += qrec_decode(&d, bodies[k], (uint32_t)lens[k], &it) == 1;
    CHECK_INT(ok, 4, "every intact record decodes");
    ok = 0;
    for (int k = 0; k < 6; k++) {
        for (size_t n = 0; n < lens[k]; n++) {          /* every truncation */
            memcpy(work, bodies[k], n);
            int r = n ? qrec_decode(&d, work, (uint32_t)n, &it) : -1;
            refused += r < 0;
            if (k == 5 || k == 0)
                qrec_decode(&d, bodies[0], (uint32_t)lens[0], &it);   /* slot 1 back */
        }
        for (int m = 0; m < 3000; m++) {                /* random damage */
            memcpy(work, bodies[k], lens[k]);
            for (int j = 0; j < 1 + m % 4; j++) {
                seed = seed * 1103515245u + 12345u;
                work[(seed >> 8) % lens[k]] ^= (uint8_t)(1u << ((seed >> 4) % 8));
            }
            int r = qrec_decode(&d, work, (uint32_t)lens[k], &it);
            ok += r >= 0;
            refused += r < 0;
            if (k == 5 || k == 0)
                qrec_decode(&d, bodies[0], (uint32_t)lens[0], &it);
        }
    }
    CHECK(refused > 0, "damaged records are refused");
    printf("# decode damage: %d accepted, %d refused\n", ok, refused);
    qrec_defs_free(&d);
}

/* Group commit's linger (apply.c): none while the stream is live (the last
 * source commit popped under 100 ms old); behind, a cheap batch lingers
 * about a millisecond, a costlier one in proportion, never past 20 ms or
 * batch_ms. */
static void test_caught_up_linger(void)
{
    const int64_t B = 250000;           /* 250 ms behind */
    CHECK_INT(apply_linger_ms(0, B, 200), 1, "behind, no batch applied yet: 1 ms");
    CHECK_INT(apply_linger_ms(100, B, 200), 1, "behind, 0.1 ms batch: rounded up to 1 ms");
    CHECK_INT(apply_linger_ms(600, B, 200), 3, "behind, 0.6 ms batch: 4 x, rounded up");
    CHECK_INT(apply_linger_ms(2500, B, 200), 10, "behind, 2.5 ms batch: 10 ms");
    CHECK_INT(apply_linger_ms(5000, B, 200), 20, "behind, 5 ms batch: 20 ms, the cap");
    CHECK_INT(apply_linger_ms(3000000, B, 200), 20, "behind, a 3 s batch: still the cap");
    CHECK_INT(apply_linger_ms(5000, B, 7), 7, "batch_ms below the cap bounds it");
    CHECK_INT(apply_linger_ms(5000, B, 1), 1, "batch_ms 1: 1 ms");
    int prev = 0, ok = 1;
    for (int64_t us = 0; us <= 10000; us += 37) {
        int l = apply_linger_ms(us, B, 200);
        if (l < prev || l < 1 || l > 20) ok = 0;
        prev = l;
    }
    CHECK(ok, "the linger never shrinks as the cost grows, and stays within 1..20 ms");
    /* Live: apply at once, whatever a batch costs against the gap between commits. */
    CHECK_INT(apply_linger_ms(900, 1500, 200), 0, "0.9 ms batches, commits 1.5 ms old (5k rows/s): at once");
    CHECK_INT(apply_linger_ms(7000, 30000, 200), 0,
              "7 ms batches of ~100 small commits, 30 ms old (8k rows/s mixed): at once, not 20 ms more");
    CHECK_INT(apply_linger_ms(7000, 99999, 200), 0, "just under 100 ms old: at once");
    CHECK_INT(apply_linger_ms(7000, 100000, 200), 20, "100 ms old: behind, linger");
    CHECK_INT(apply_linger_ms(7000, 0, 200), 0, "commit time unknown: at once");
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    char cmd[300];

    snprintf(root, sizeof root, "%s/zetl-queue-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    TEST_RUN(test_spill_200k);          /* first: its peak-RSS check wants a quiet heap */
    TEST_RUN(test_values_roundtrip);
    TEST_RUN(test_schema_heartbeat);
    TEST_RUN(test_order_many_txns);
    TEST_RUN(test_huge_values);
    TEST_RUN(test_crc);
    TEST_RUN(test_outsized_change);
    TEST_RUN(test_stop);
    TEST_RUN(test_reset);
    TEST_RUN(test_table_replaced);
    TEST_RUN(test_many_tables);
    TEST_RUN(test_caught_up_linger);
    TEST_RUN(test_stats);
    TEST_RUN(test_leftovers);
    TEST_RUN(test_corrupt_spool);
    TEST_RUN(test_spool_write_error);
    TEST_RUN(test_bad_input);
    TEST_RUN(test_decode_damage);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return test_exit();
}
