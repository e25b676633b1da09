/* decoder.c — binlog events → zsink calls (see decoder.h). */
#include "runtime/mysql/decoder.h"
#include "runtime/base/clock.h"
#include "runtime/mysql/binlog.h"
#include "runtime/mysql/ddl.h"
#include "runtime/mysql/gtid.h"
#include "runtime/mysql/rows.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

struct tent {                   /* one table-map cache slot */
    uint64_t id;
    uint8_t  used;
    uint8_t  want;
    struct rows_table t;
};

struct mysql_decoder {
    struct zsink sink;
    struct mysql_decoder_opts o;
    struct binlog_fde fde;
    char file[ZPOS_FILE_MAX];
    uint64_t next_off;          /* where the next fed event starts */
    uint64_t ev_off;            /* where the event being decoded starts */
    int inner;                  /* decoding inside a TRANSACTION_PAYLOAD */
    uint32_t outer_log_pos;
    char err[1024];

    /* transaction */
    int in_txn, implicit_txn;
    struct ztxn txn;
    uint64_t txn_start;
    struct gtid_state gtid;
    int have_maria, have_mysql;
    struct binlog_maria_gtid pend_maria;
    struct binlog_gtid pend_mysql;
    struct zpos last;           /* after the last commit */

    /* tables */
    struct tent *tab;
    size_t tcap, tn;

    /* rows */
    struct rows_ctx rc;
    struct zvalue *vals;
    size_t nvals;

    /* stream framing */
    uint8_t *ibuf;
    size_t ilen, icap;
    int started;
    int rotated;
    int magic_n;                /* bytes of the magic seen so far */

    /* compressed transactions */
    ZSTD_DStream *zs;
    uint8_t *pbuf;
    size_t pcap;

    struct zbuf stmt;
    struct mysql_decoder_stats st;
    uint8_t warned_types[32];   /* one bit per event type already reported as unknown */
    int lost;                   /* the error says the source's history was reset under us */
    int rotations;              /* ROTATE events seen (a dump opens with an artificial one) */
};

/* ---- errors ------------------------------------------------------------------ */

static int derr(struct mysql_decoder *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int derr(struct mysql_decoder *d, const char *fmt, ...)
{
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(d->err, sizeof d->err, "binlog: event at %s:%" PRIu64 "%s %s",
             d->file[0] ? d->file : "(unknown file)", d->ev_off,
             d->inner ? " (inside TRANSACTION_PAYLOAD)" : "", msg);
    return -1;
}

static int sink_stop(struct mysql_decoder *d, int rc, const char *what)
{
    snprintf(d->err, sizeof d->err, "binlog: event at %s:%" PRIu64 " sink stopped the decoder in %s (%d)",
             d->file, d->ev_off, what, rc);
    return rc;
}

const char *mysql_decoder_error(const struct mysql_decoder *d) { return d->err; }
int mysql_decoder_position_lost(const struct mysql_decoder *d) { return d->lost; }

/* ---- table cache --------------------------------------------------------------- */

static size_t hslot(uint64_t id, size_t cap)
{
    id ^= id >> 33; id *= 0xff51afd7ed558ccdULL; id ^= id >> 33;
    return (size_t)id & (cap - 1);
}

static struct tent *tfind(struct mysql_decoder *d, uint64_t id)
{
    if (!d->tcap) return NULL;
    for (size_t i = hslot(id, d->tcap);; i = (i + 1) & (d->tcap - 1)) {
        if (!d->tab[i].used) return NULL;
        if (d->tab[i].id == id) return &d->tab[i];
    }
}

static int tgrow(struct mysql_decoder *d)
{
    size_t ncap = d->tcap ? d->tcap * 2 : 64;
    struct tent *nt = calloc(ncap, sizeof *nt);
    if (!nt) return -1;
    for (size_t i = 0; i < d->tcap; i++) {
        if (!d->tab[i].used) continue;
        size_t k = hslot(d->tab[i].id, ncap);
        while (nt[k].used) k = (k + 1) & (ncap - 1);
        nt[k] = d->tab[i];
    }
    free(d->tab);
    d->tab = nt; d->tcap = ncap;
    return 0;
}

static struct tent *tinsert(struct mysql_decoder *d, uint64_t id)
{
    if ((d->tn + 1) * 2 > d->tcap && tgrow(d)) return NULL;
    size_t i = hslot(id, d->tcap);
    while (d->tab[i].used) i = (i + 1) & (d->tcap - 1);
    memset(&d->tab[i], 0, sizeof d->tab[i]);
    d->tab[i].used = 1;
    d->tab[i].id = id;
    d->tn++;
    return &d->tab[i];
}

/* Drop entries (all, or those of one table) and rehash the rest. */
static void tdrop(struct mysql_decoder *d, const char *schema, const char *table)
{
    struct tent *old = d->tab;
    size_t ocap = d->tcap;
    d->tab = NULL; d->tcap = 0; d->tn = 0;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].used) continue;
        struct ztable *z = old[i].t.zt;
        int match = !schema || (z && strcmp(z->schema, schema) == 0 && strcmp(z->name, table) == 0);
        struct tent *n = match ? NULL : tinsert(d, old[i].id);
        if (n) { n->want = old[i].want; n->t = old[i].t; }
        else rows_table_free(&old[i].t);
    }
    free(old);
}

static struct tent *tfind_name(struct mysql_decoder *d, const char *schema, const char *table)
{
    struct tent *best = NULL;
    for (size_t i = 0; i < d->tcap; i++) {
        struct tent *e = &d->tab[i];
        if (e->used && e->t.zt && strcmp(e->t.zt->schema, schema) == 0 &&
            strcmp(e->t.zt->name, table) == 0 && (!best || e->id > best->id))
            best = e;
    }
    return best;
}

/* ---- lifecycle -------------------------------------------------------------------- */

struct mysql_decoder *mysql_decoder_new(const struct mysql_decoder_opts *o)
{
    struct mysql_decoder *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->o = *o;
    if (o->sink) d->sink = *o->sink;
    binlog_fde_default(&d->fde);
    if (o->file) snprintf(d->file, sizeof d->file, "%s", o->file);
    d->next_off = o->offset;
    rows_ctx_init(&d->rc);
    d->rc.warn = o->warn;
    d->rc.warn_ctx = o->ctx;
    gtid_state_init(&d->gtid);
    if (o->gtid && o->gtid[0] && gtid_state_parse(&d->gtid, o->gtid, d->err, sizeof d->err)) {
        /* keep the message; the first call reports it */
        d->gtid.bad = 1;
    }
    d->last.kind = ZPOS_BINLOG;
    snprintf(d->last.file, sizeof d->last.file, "%s", d->file);
    d->last.offset = o->offset;
    gtid_state_format(&d->gtid, d->last.gtid, sizeof d->last.gtid);
    return d;
}

void mysql_decoder_free(struct mysql_decoder *d)
{
    if (!d) return;
    tdrop(d, NULL, NULL);
    free(d->tab);
    rows_ctx_free(&d->rc);
    free(d->vals);
    free(d->ibuf);
    free(d->pbuf);
    if (d->zs) ZSTD_freeDStream(d->zs);
    zbuf_free(&d->stmt);
    gtid_state_free(&d->gtid);
    free(d);
}

void mysql_decoder_position(const struct mysql_decoder *d, struct zpos *out) { *out = d->last; }
void mysql_decoder_get_stats(const struct mysql_decoder *d, struct mysql_decoder_stats *out) { *out = d->st; }

/* ---- transactions ------------------------------------------------------------------- */

static int txn_begin(struct mysql_decoder *d, const struct binlog_header *h, int implicit)
{
    if (d->in_txn) return 0;
    memset(&d->txn, 0, sizeof d->txn);
    d->txn.commit_time_us = (int64_t)h->timestamp * 1000000;
    d->txn_start = d->have_mysql || d->have_maria ? d->txn_start : d->ev_off;
    d->in_txn = 1;
    d->implicit_txn = implicit;
    if (d->sink.begin) {
        int rc = d->sink.begin(d->sink.ctx, &d->txn);
        if (rc) return sink_stop(d, rc, "begin");
    }
    return 0;
}

/* Fold the pending GTID into the state and move the position to end_pos. */
static void advance(struct mysql_decoder *d, uint64_t end_pos)
{
    if (d->have_maria)
        gtid_state_maria_set(&d->gtid, d->pend_maria.domain_id, d->pend_maria.server_id,
                             d->pend_maria.seq_no);
    if (d->have_mysql && d->pend_mysql.gno > 0)
        gtid_state_mysql_add(&d->gtid, d->pend_mysql.sid, d->pend_mysql.gno);
    if (d->have_maria || d->have_mysql) {
        if (gtid_state_format(&d->gtid, d->last.gtid, sizeof d->last.gtid) && d->o.warn)
            d->o.warn(d->o.ctx, "GTID set too long for a position; positions keep file:offset only");
    }
    d->last.kind = ZPOS_BINLOG;
    snprintf(d->last.file, sizeof d->last.file, "%s", d->file);
    d->last.offset = end_pos;
    d->have_maria = d->have_mysql = 0;
}

static uint64_t end_pos_of(struct mysql_decoder *d, const struct binlog_header *h)
{
    if (d->inner) return d->outer_log_pos;
    return h->log_pos ? h->log_pos : d->ev_off + h->event_size;
}

static int txn_commit(struct mysql_decoder *d, const struct binlog_header *h, uint64_t xid)
{
    if (!d->in_txn) return 0;
    uint64_t end = end_pos_of(d, h);
    int64_t ct = d->have_mysql && d->pend_mysql.immediate_commit_us
                     ? (int64_t)d->pend_mysql.immediate_commit_us
                     : (int64_t)h->timestamp * 1000000;
    uint8_t whole_s = !(d->have_mysql && d->pend_mysql.immediate_commit_us);   /* before advance() clears it */
    advance(d, end);
    d->txn.end = d->last;
    d->txn.commit_time_us = ct;
    d->txn.commit_time_whole_s = whole_s;
    d->txn.xid = xid;
    d->txn.bytes = end > d->txn_start ? end - d->txn_start : 0;
    d->in_txn = 0;
    d->implicit_txn = 0;
    d->st.txns++;
    if (d->tn > 10000) tdrop(d, NULL, NULL);    /* table ids only grow; maps are per txn */
    if (d->sink.commit) {
        int rc = d->sink.commit(d->sink.ctx, &d->txn);
        if (rc) return sink_stop(d, rc, "commit");
    }
    return 0;
}

/* ---- DDL (statements are recognized by ddl.c) ------------------------------------------ */

static int ask_def(struct mysql_decoder *d, const char *schema, const char *table, struct ztable **out)
{
    *out = NULL;
    if (!d->o.table_def) return 0;
    int rc = d->o.table_def(d->o.ctx, schema, table, out);
    if (rc < 0) return sink_stop(d, rc, "table_def");
    if (rc > 0) *out = NULL;
    return 0;
}

static int emit_schema(struct mysql_decoder *d, int kind, const char *schema, const char *table,
                       const char *to_schema, const char *to_table, const char *stmt)
{
    struct zschema_change sc;
    struct ztable *nd = NULL;
    struct tent *e = table[0] ? tfind_name(d, schema, table) : NULL;
    char reason[640];
    int rc = 0;
    memset(&sc, 0, sizeof sc);
    sc.statement = stmt;
    if (kind == -1) {                               /* TRUNCATE */
        /* Without a cached definition the table is named only (ncols 0). */
        struct ztable named = { .schema = (char *)(uintptr_t)schema, .name = (char *)(uintptr_t)table };
        struct zrowchange r = { .op = ZOP_TRUNCATE, .table = e ? e->t.zt : &named };
        d->st.rows++;
        if (d->sink.row && (rc = d->sink.row(d->sink.ctx, &r))) return sink_stop(d, rc, "row");
        return 0;
    } else if (kind == ZDDL_UNSUPPORTED) {
        snprintf(reason, sizeof reason, "DROP DATABASE %s drops every table in it", schema);
        sc.reason = reason;
    }
    sc.kind = (enum zddl)kind;
    sc.old_def = (kind == ZDDL_CREATE_TABLE || !e) ? NULL : e->t.zt;
    if (kind == ZDDL_CREATE_TABLE || kind == ZDDL_ALTER_TABLE) {
        if ((rc = ask_def(d, schema, table, &nd))) return rc;
    } else if (kind == ZDDL_RENAME_TABLE && to_table) {
        if ((rc = ask_def(d, to_schema, to_table, &nd))) return rc;
    }
    sc.new_def = nd;
    if (d->sink.schema) rc = d->sink.schema(d->sink.ctx, &sc);
    ztable_free(nd);
    if (table[0]) tdrop(d, schema, table);          /* the next TABLE_MAP rebuilds it */
    if (rc) return sink_stop(d, rc, "schema");
    return 0;
}

/*
 * Does the nth table of this DDL concern the replicated set? Asked before any
 * table work (cache scans, table_def catalog queries, sink calls), so DDL in
 * databases zetl does not replicate costs a tokenizer pass and a want_table
 * call per named table, whatever the number of replicated tables. A RENAME
 * counts when either name is wanted.
 */
static int ddl_wanted(struct mysql_decoder *d, const struct binlog_query *qe, int kind, int n,
                      const char *schema, const char *table)
{
    if (!d->o.want_table || !table[0]) return 1;        /* DROP DATABASE: rare, and the sink decides */
    if (d->o.want_table(d->o.ctx, schema, table)) return 1;
    char ts[256], tt[256];
    return kind == ZDDL_RENAME_TABLE &&
           mysql_ddl_rename_to(qe->query, qe->query_len, qe->db, qe->db_len, n, ts, sizeof ts, tt, sizeof tt) == 0 &&
           d->o.want_table(d->o.ctx, ts, tt);
}

static int handle_ddl(struct mysql_decoder *d, const struct binlog_header *h, const struct binlog_query *qe)
{
    char schema[256], table[256];
    int kind = mysql_ddl_nth(qe->query, qe->query_len, qe->db, qe->db_len, 0, schema, sizeof schema, table, sizeof table);
    int wanted = 0;
    for (int n = 0, k = kind; k && !wanted; n++) {
        if (n) k = mysql_ddl_nth(qe->query, qe->query_len, qe->db, qe->db_len, n, schema, sizeof schema, table, sizeof table);
        if (k) wanted = ddl_wanted(d, qe, k, n, schema, table);
        if (k == ZDDL_UNSUPPORTED && !table[0]) break;
    }
    if (!wanted) {
        d->st.skipped_ddl += kind != 0;
        if (!d->in_txn) advance(d, end_pos_of(d, h));     /* GRANT, CREATE VIEW, other databases: nothing to apply */
        return 0;
    }
    kind = mysql_ddl_nth(qe->query, qe->query_len, qe->db, qe->db_len, 0, schema, sizeof schema, table, sizeof table);
    int opened = 0, rc;
    if (!d->in_txn) {
        if ((rc = txn_begin(d, h, 1))) return rc;
        opened = 1;
    }
    d->stmt.len = 0;
    zbuf_put(&d->stmt, qe->query, qe->query_len);
    zbuf_put(&d->stmt, "", 1);
    if (d->stmt.oom) return derr(d, "out of memory");
    for (int n = 0; kind; n++) {
        if (n) kind = mysql_ddl_nth(qe->query, qe->query_len, qe->db, qe->db_len, n, schema, sizeof schema, table, sizeof table);
        if (!kind) break;
        if (!ddl_wanted(d, qe, kind, n, schema, table)) continue;
        char ts[256], tt[256];
        int ren = kind == ZDDL_RENAME_TABLE &&
                  mysql_ddl_rename_to(qe->query, qe->query_len, qe->db, qe->db_len, n, ts, sizeof ts, tt, sizeof tt) == 0;
        if ((rc = emit_schema(d, kind, schema, table, ren ? ts : NULL, ren ? tt : NULL, d->stmt.p))) return rc;
        if (kind == ZDDL_UNSUPPORTED && !table[0]) break;
    }
    if (opened) return txn_commit(d, h, 0);
    return 0;
}

static int handle_query(struct mysql_decoder *d, const struct binlog_header *h, const struct binlog_query *qe)
{
    const char *q = qe->query;
    size_t n = qe->query_len;
    if (mysql_stmt_starts_with(q, n, "BEGIN", NULL)) return txn_begin(d, h, 0);
    if (mysql_stmt_starts_with(q, n, "COMMIT", NULL)) return txn_commit(d, h, 0);
    if (mysql_stmt_starts_with(q, n, "ROLLBACK", "TO")) return 0;
    if (mysql_stmt_starts_with(q, n, "ROLLBACK", NULL)) return txn_commit(d, h, 0);   /* non-transactional part stays */
    if (mysql_stmt_starts_with(q, n, "SAVEPOINT", NULL) || mysql_stmt_starts_with(q, n, "RELEASE", NULL)) return 0;
    if (mysql_stmt_starts_with(q, n, "XA", "START")) return txn_begin(d, h, 0);
    if (mysql_stmt_starts_with(q, n, "XA", "PREPARE")) return txn_commit(d, h, 0);
    if (mysql_stmt_starts_with(q, n, "XA", NULL)) {
        if (d->o.warn) d->o.warn(d->o.ctx, "XA transaction: its rows were applied at XA PREPARE");
        if (!d->in_txn) advance(d, end_pos_of(d, h));
        return 0;
    }
    if (mysql_stmt_starts_with(q, n, "INSERT", NULL) || mysql_stmt_starts_with(q, n, "UPDATE", NULL) ||
        mysql_stmt_starts_with(q, n, "DELETE", NULL) || mysql_stmt_starts_with(q, n, "REPLACE", NULL) ||
        mysql_stmt_starts_with(q, n, "LOAD", NULL))
    {
        char quoted[MYSQL_STMT_QUOTE_MAX * 4 + 4];
        mysql_stmt_quote(quoted, sizeof quoted, q, n, MYSQL_STMT_QUOTE_MAX);
        return derr(d, "QUERY carries a data change as a statement (\"%s\"): the binlog is not in row format; "
                    "set binlog_format=ROW (SET GLOBAL binlog_format=ROW and in the server config), then resync",
                    quoted);
    }
    return handle_ddl(d, h, qe);
}

/* ---- rows ------------------------------------------------------------------------------- */

static uint32_t popcount_bits(const uint8_t *bm, uint32_t n)
{
    uint32_t c = 0;
    for (uint32_t i = 0; i < n / 8; i++) c += (uint32_t)__builtin_popcount(bm[i]);
    if (n % 8) c += (uint32_t)__builtin_popcount(bm[n / 8] & ((1u << (n % 8)) - 1));
    return c;
}

/*
 * A well-formed TABLE_MAP with a column we cannot decode: the table needs
 * attention, the stream goes on. Its rows are skipped (cached as unwanted,
 * keyed by the raw map so the report is made once per table id), and the
 * sink hears a ZDDL_UNSUPPORTED naming the table and the cause.
 */
static int table_unsupported(struct mysql_decoder *d, struct tent *t, const struct binlog_table_map *tm,
                             const uint8_t *body, size_t blen, const char *why)
{
    char schema[256], table[256], reason[1024];
    snprintf(schema, sizeof schema, "%.*s", (int)tm->db_len, tm->db);
    snprintf(table, sizeof table, "%.*s", (int)tm->table_len, tm->table);
    if (!t) t = tinsert(d, tm->table_id);
    else rows_table_free(&t->t);
    if (!t) return derr(d, "out of memory");
    memset(&t->t, 0, sizeof t->t);
    t->t.raw = malloc(blen ? blen : 1);
    if (!t->t.raw) return derr(d, "out of memory");
    memcpy(t->t.raw, body, blen);
    t->t.raw_len = blen;
    t->want = 0;
    if (d->o.want_table && !d->o.want_table(d->o.ctx, schema, table)) return 0;
    snprintf(reason, sizeof reason, "table %s.%s cannot be replicated: %s", schema, table, why);
    if (d->o.warn) d->o.warn(d->o.ctx, reason);
    struct ztable named = { .schema = schema, .name = table, .id = tm->table_id };
    struct zschema_change sc = { .kind = ZDDL_UNSUPPORTED, .old_def = &named, .reason = reason };
    int rc = d->sink.schema ? d->sink.schema(d->sink.ctx, &sc) : 0;
    if (rc) return sink_stop(d, rc, "schema");
    return 0;
}

static int handle_table_map(struct mysql_decoder *d, const uint8_t *body, size_t blen)
{
    struct binlog_table_map tm;
    struct rd r;
    char e[256];
    rd_init(&r, body, blen);
    if (binlog_parse_table_map(&r, &d->fde, &tm, e, sizeof e)) return derr(d, "%s", e);
    struct tent *t = tfind(d, tm.table_id);
    if (t && t->t.raw_len == blen && memcmp(t->t.raw, body, blen) == 0) return 0;
    struct rows_table nt;
    int brc = rows_table_build(&nt, body, blen, &d->fde, e, sizeof e);
    if (brc == -2) return table_unsupported(d, t, &tm, body, blen, e);
    if (brc) return derr(d, "TABLE_MAP for %.*s.%.*s: %s", (int)tm.db_len, tm.db, (int)tm.table_len, tm.table, e);
    if (!nt.has_names && d->o.table_def) {
        struct ztable *def = NULL;
        int rc = ask_def(d, nt.zt->schema, nt.zt->name, &def);
        if (rc) { rows_table_free(&nt); return rc; }
        if (def && rows_table_apply_def(&nt, def, e, sizeof e) && d->o.warn) d->o.warn(d->o.ctx, e);
        ztable_free(def);
    }
    if (!t) t = tinsert(d, tm.table_id);
    else rows_table_free(&t->t);
    if (!t) { rows_table_free(&nt); return derr(d, "out of memory"); }
    t->t = nt;
    t->want = d->o.want_table ? (d->o.want_table(d->o.ctx, nt.zt->schema, nt.zt->name) != 0) : 1;
    if ((size_t)nt.ncols * 2 > d->nvals) {
        struct zvalue *nv = realloc(d->vals, (size_t)nt.ncols * 2 * sizeof *nv);
        if (!nv) return derr(d, "out of memory");
        d->vals = nv; d->nvals = (size_t)nt.ncols * 2;
    }
    return 0;
}

/*
 * One value of a wanted table cannot be decoded (d->rc.err names its column;
 * e.g. a JSON document over its work budget). The event's framing is sound,
 * so only this table is out of step: the sink hears a ZDDL_UNSUPPORTED
 * naming the table, column, binlog position and the fix (a resync copies
 * the table with SELECT, where the server renders the value), the rest of
 * this event is skipped, and the stream goes on for the other tables.
 */
static int row_value_failed(struct mysql_decoder *d, const struct binlog_header *h, struct rows_table *tb)
{
    char reason[1024];
    d->rc.bad_value = 0;
    snprintf(reason, sizeof reason,
             "table %s.%s cannot be streamed: %s at %s:%" PRIu64 "%s, %s; resync the table "
             "(its copy reads the value through SELECT)",
             tb->zt->schema, tb->zt->name, binlog_type_name(h->type), d->file[0] ? d->file : "(unknown file)",
             d->ev_off, d->inner ? " (inside TRANSACTION_PAYLOAD)" : "", d->rc.err);
    if (d->o.warn) d->o.warn(d->o.ctx, reason);
    d->st.skipped_events++;
    struct zschema_change sc = { .kind = ZDDL_UNSUPPORTED, .old_def = tb->zt, .reason = reason };
    int rc = d->sink.schema ? d->sink.schema(d->sink.ctx, &sc) : 0;
    if (rc) return sink_stop(d, rc, "schema");
    return 0;
}

static int handle_rows(struct mysql_decoder *d, const struct binlog_header *h, const uint8_t *body, size_t blen)
{
    struct binlog_rows re;
    struct rd r;
    char e[256];
    int rc;
    rd_init(&r, body, blen);
    if (binlog_parse_rows(&r, &d->fde, h->type, &re, e, sizeof e)) return derr(d, "%s", e);
    struct tent *t = tfind(d, re.table_id);
    if (!t) return derr(d, "%s for table id %" PRIu64 " with no TABLE_MAP before it",
                        binlog_type_name(h->type), re.table_id);
    if (!t->want) { d->st.skipped_events++; goto stmt_end; }
    struct rows_table *tb = &t->t;
    if (re.ncols != tb->ncols)
        return derr(d, "%s for %s.%s has %u columns but its TABLE_MAP has %u",
                    binlog_type_name(h->type), tb->zt->schema, tb->zt->name, re.ncols, tb->ncols);
    if (!d->in_txn && (rc = txn_begin(d, h, 1))) return rc;
    uint32_t np = popcount_bits(re.present, re.ncols);
    uint32_t npa = re.present_after ? popcount_bits(re.present_after, re.ncols) : 0;
    int before_key_only = np != re.ncols;
    struct zvalue *v1 = d->vals, *v2 = d->vals + tb->ncols;
    struct rd rr;
    rd_init(&rr, re.rows, re.rows_len);
    while (rd_left(&rr) > 0) {
        size_t row_start = rr.pos;
        struct zrowchange ch;
        memset(&ch, 0, sizeof ch);
        ch.op = (enum zop)re.op;
        ch.table = tb->zt;
        if (re.op == ZOP_INSERT) {
            if (rows_decode_image(&d->rc, tb, &rr, re.present, np, v1, ZV_NULL)) goto bad;
            ch.after = v1;
        } else if (re.op == ZOP_DELETE) {
            if (rows_decode_image(&d->rc, tb, &rr, re.present, np, v1, ZV_NULL)) goto bad;
            ch.before = v1;
            ch.before_key_only = (uint8_t)before_key_only;
        } else {
            if (rows_decode_image(&d->rc, tb, &rr, re.present, np, v1, ZV_NULL)) goto bad;
            if (rows_decode_image(&d->rc, tb, &rr, re.present_after, npa, v2, ZV_UNCHANGED)) goto bad;
            ch.before = v1;
            ch.after = v2;
            ch.before_key_only = (uint8_t)before_key_only;
        }
        if (rr.pos == row_start) {              /* no column present: a row of zero bytes, forever */
            snprintf(d->rc.err, sizeof d->rc.err, "row image with no columns present");
            goto bad;
        }
        d->st.rows++;
        if (d->sink.row && (rc = d->sink.row(d->sink.ctx, &ch))) { rows_ctx_reset(&d->rc); return sink_stop(d, rc, "row"); }
        rows_ctx_reset(&d->rc);
    }
stmt_end:
    if ((re.flags & 1) && d->implicit_txn && d->in_txn) return txn_commit(d, h, 0);
    return 0;
bad:
    rows_ctx_reset(&d->rc);
    if (d->rc.bad_value) {
        if ((rc = row_value_failed(d, h, tb))) return rc;
        goto stmt_end;
    }
    return derr(d, "%s for %s.%s: %s", binlog_type_name(h->type), t->t.zt->schema, t->t.zt->name, d->rc.err);
}

/* ---- compressed transactions ----------------------------------------------------------------- */

static int event(struct mysql_decoder *d, const uint8_t *ev, size_t len);

static int feed_inner(struct mysql_decoder *d, const uint8_t *p, size_t n, size_t *used)
{
    size_t off = 0;
    while (n - off >= BINLOG_HEADER_LEN) {
        const uint8_t *s = p + off + 9;
        uint32_t sz = (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
        if (sz < BINLOG_HEADER_LEN || sz > BINLOG_EVENT_MAX)
            return derr(d, "inner event size %u out of range", sz);
        if (n - off < sz) break;
        int rc = event(d, p + off, sz);
        if (rc) return rc;
        off += sz;
    }
    *used = off;
    return 0;
}

static int handle_payload(struct mysql_decoder *d, const struct binlog_header *h, const uint8_t *body, size_t blen)
{
    struct binlog_payload pl;
    struct rd r;
    char e[256];
    int rc = 0;
    rd_init(&r, body, blen);
    if (binlog_parse_payload(&r, &pl, e, sizeof e))
        return derr(d, "%s; or turn compression off: SET PERSIST binlog_transaction_compression=OFF", e);
    struct binlog_fde outer = d->fde;
    d->fde.checksum_alg = BINLOG_CHECKSUM_OFF;      /* inner events carry no checksum */
    d->inner = 1;
    d->outer_log_pos = h->log_pos ? h->log_pos : (uint32_t)(d->ev_off + h->event_size);
    size_t have = 0, used;
    if (pl.compression == 255) {
        rc = feed_inner(d, pl.payload, pl.payload_len, &used);
        if (!rc && used != pl.payload_len) rc = derr(d, "TRANSACTION_PAYLOAD ends inside an event");
        goto out;
    }
    if (!d->zs && !(d->zs = ZSTD_createDStream())) { rc = derr(d, "out of memory"); goto out; }
    ZSTD_initDStream(d->zs);
    ZSTD_inBuffer in = { pl.payload, pl.payload_len, 0 };
    size_t last = 1;
    for (;;) {
        if (d->pcap - have < 65536) {
            size_t nc = d->pcap ? d->pcap * 2 : 1 << 20;
            if (nc > (size_t)BINLOG_EVENT_MAX * 2) { rc = derr(d, "TRANSACTION_PAYLOAD inner event too large"); goto out; }
            uint8_t *nb = realloc(d->pbuf, nc);
            if (!nb) { rc = derr(d, "out of memory"); goto out; }
            d->pbuf = nb; d->pcap = nc;
        }
        ZSTD_outBuffer ob = { d->pbuf + have, d->pcap - have, 0 };
        size_t before_in = in.pos;
        last = ZSTD_decompressStream(d->zs, &ob, &in);
        if (ZSTD_isError(last)) {
            rc = derr(d, "TRANSACTION_PAYLOAD: zstd: %s; or turn compression off: SET PERSIST binlog_transaction_compression=OFF",
                      ZSTD_getErrorName(last));
            goto out;
        }
        have += ob.pos;
        if ((rc = feed_inner(d, d->pbuf, have, &used))) goto out;
        if (used) { memmove(d->pbuf, d->pbuf + used, have - used); have -= used; }
        if (in.pos == in.size && ob.pos < ob.size) break;       /* input consumed, output flushed */
        if (ob.pos == 0 && in.pos == before_in && ob.size > 0 && last == 0) break;
    }
    if (last != 0) { rc = derr(d, "TRANSACTION_PAYLOAD: zstd frame is truncated"); goto out; }
    if (have) rc = derr(d, "TRANSACTION_PAYLOAD ends inside an event (%zu bytes left)", have);
out:
    d->inner = 0;
    d->fde = outer;
    if (d->pcap > (8u << 20)) { free(d->pbuf); d->pbuf = NULL; d->pcap = 0; }
    return rc;
}

/* ---- one event --------------------------------------------------------------------------- */

/*
 * A MariaDB GTID_LIST opens every binlog file with the server's GTID state
 * before it: the last seq of every domain-server pair. Seqs of a pair only
 * grow, so a list behind what this stream already read — a pair of ours
 * with a lower seq, or none of our pairs at all — means the history was
 * reset under the stream (RESET MASTER while the dump ran: the server goes
 * on with the re-created files, and the transactions between would be
 * skipped without a word). The position is lost: mysql_decoder_position_lost.
 */
static int gtid_list_check(struct mysql_decoder *d, const struct binlog_gtid_list *gl)
{
    /* Only at a file this stream moved into: a dump opens with an artificial
     * ROTATE, and a list sent for the file it starts in may predate the
     * checkpoint's own GTIDs. */
    if (d->rotations < 2 || d->gtid.kind != GTID_MARIA || d->gtid.nm == 0) return 0;
    int any = 0, behind = 0;
    struct binlog_gtid_entry ge = { 0 };
    for (uint32_t k = 0; k < d->gtid.nm && !behind; k++) {
        const struct gtid_maria *m = &d->gtid.m[k];
        for (uint32_t i = 0; i < gl->count; i++) {
            binlog_gtid_list_get(gl, i, &ge);
            if (ge.domain_id != m->domain || ge.server_id != m->server) continue;
            any = 1;
            if (ge.seq_no < m->seq) { behind = 1; break; }
        }
    }
    if (!behind && any) return 0;
    char have[ZPOS_GTID_MAX];
    gtid_state_format(&d->gtid, have, sizeof have);
    d->lost = 1;
    if (behind)
        return derr(d, "GTID_LIST: the server's binlog before this file ends at %" PRIu32 "-%" PRIu32 "-%" PRIu64
                    ", behind the %.300s this stream already read: the binlog was reset (RESET MASTER) while zetl "
                    "was reading it; the transactions in between are gone from the source log, so every table "
                    "must be resynced (press R in the console)", ge.domain_id, ge.server_id, ge.seq_no, have);
    return derr(d, "GTID_LIST: the server's binlog before this file has none of the GTIDs %.300s this stream already "
                "read: the binlog was reset (RESET MASTER) while zetl was reading it; the transactions in between "
                "are gone from the source log, so every table must be resynced (press R in the console)", have);
}

/*
 * A type this decoder does not know (a newer server's). The header gave its
 * size, so it can be skipped; the operator hears of it once per type, since
 * a future type might carry data. Types known to carry rows or GTIDs never
 * come here: each has its own case that decodes it or fails.
 */
static int unknown_type(struct mysql_decoder *d, const struct binlog_header *h)
{
    uint8_t bit = (uint8_t)(1u << (h->type % 8));
    if (d->warned_types[h->type / 8] & bit) return 0;
    d->warned_types[h->type / 8] |= bit;
    if (!d->o.warn) return 0;
    char msg[512];
    snprintf(msg, sizeof msg,
             "binlog: event at %s:%" PRIu64 " has type %u, unknown to zetl%s: skipped (warned once per type); "
             "if this server version logs changes in it, they are not replicated — report the type and the server version",
             d->file[0] ? d->file : "(unknown file)", d->ev_off, h->type,
             (h->flags & BINLOG_F_IGNORABLE) ? " (the server marks it ignorable)" : "");
    d->o.warn(d->o.ctx, msg);
    return 0;
}

/* ROTATE: the next file and the offset in it where reading goes on. */
static int handle_rotate(struct mysql_decoder *d, struct rd *r)
{
    struct binlog_rotate ro;
    char e[256];
    if (binlog_parse_rotate(r, &d->fde, &ro, e, sizeof e)) return derr(d, "%s", e);
    snprintf(d->file, sizeof d->file, "%.*s", (int)ro.file_len, ro.file);
    d->next_off = ro.position;
    if (!d->in_txn) {
        snprintf(d->last.file, sizeof d->last.file, "%s", d->file);
        d->last.offset = ro.position;
    }
    d->rotated = 1;     /* tells the framer: next_off already set */
    d->rotations++;
    return 0;
}

/* GTID, ANONYMOUS_GTID (MySQL): the GTID of the transaction that follows. */
static int handle_gtid(struct mysql_decoder *d, const struct binlog_header *h, struct rd *r)
{
    struct binlog_gtid g;
    char e[256];
    if (binlog_parse_gtid(r, &g, e, sizeof e)) return derr(d, "%s", e);
    if (d->in_txn) return derr(d, "GTID inside an open transaction (missing XID/COMMIT)");
    d->pend_mysql = g;
    d->have_mysql = h->type == BL_GTID;
    if (h->type == BL_ANONYMOUS_GTID) { d->have_mysql = 1; d->pend_mysql.gno = 0; }
    d->txn_start = d->ev_off;
    return 0;
}

/* GTID (MariaDB): the GTID of the transaction that follows, which it opens
 * unless it is standalone (DDL). */
static int handle_maria_gtid(struct mysql_decoder *d, const struct binlog_header *h, struct rd *r)
{
    struct binlog_maria_gtid g;
    char e[256];
    if (binlog_parse_maria_gtid(r, h->server_id, &g, e, sizeof e)) return derr(d, "%s", e);
    if (d->in_txn) return derr(d, "GTID inside an open transaction (missing XID/COMMIT)");
    d->pend_maria = g;
    d->have_maria = 1;
    d->txn_start = d->ev_off;
    if (!(g.flags & MARIA_GTID_STANDALONE)) return txn_begin(d, h, 0);
    return 0;
}

/* GTID_LIST (MariaDB): the GTID state at the start of a file seeds ours. */
static int handle_gtid_list(struct mysql_decoder *d, struct rd *r)
{
    struct binlog_gtid_list gl;
    char e[256];
    int rc;
    if (binlog_parse_gtid_list(r, &gl, e, sizeof e)) return derr(d, "%s", e);
    if ((rc = gtid_list_check(d, &gl))) return rc;
    for (uint32_t i = 0; i < gl.count; i++) {
        struct binlog_gtid_entry ge;
        binlog_gtid_list_get(&gl, i, &ge);
        gtid_state_maria_seed(&d->gtid, ge.domain_id, ge.server_id, ge.seq_no);
    }
    if (!d->in_txn) gtid_state_format(&d->gtid, d->last.gtid, sizeof d->last.gtid);
    return 0;
}

/* HEARTBEAT: the source is idle; between transactions, tell the sink where we are. */
static int handle_heartbeat(struct mysql_decoder *d, const struct binlog_header *h, struct rd *r)
{
    struct binlog_heartbeat hb;
    char e[256];
    int rc;
    if (binlog_parse_heartbeat(r, h->type, h->log_pos, &hb, e, sizeof e)) return derr(d, "%s", e);
    if (d->in_txn || !d->sink.heartbeat) return 0;
    struct zpos p = d->last;
    if (hb.file_len && hb.file_len < sizeof p.file) {
        snprintf(p.file, sizeof p.file, "%.*s", (int)hb.file_len, hb.file);
        p.offset = hb.position;
    }
    int64_t now = h->timestamp ? (int64_t)h->timestamp * 1000000 : zclock_wall_us();
    if ((rc = d->sink.heartbeat(d->sink.ctx, &p, now))) return sink_stop(d, rc, "heartbeat");
    return 0;
}

static int event(struct mysql_decoder *d, const uint8_t *ev, size_t len)
{
    struct binlog_header h;
    const uint8_t *body;
    size_t blen;
    char e[256];
    struct rd r;

    d->st.events++;
    if (!d->inner) d->st.bytes += len;
    if (len >= BINLOG_HEADER_LEN && ev[4] == BL_FORMAT_DESCRIPTION) {
        struct binlog_fde f;
        if (binlog_parse_fde(ev, len, &f, e, sizeof e)) return derr(d, "%s", e);
        if (!d->inner) d->fde = f;
        return 0;
    }
    if (binlog_frame(ev, len, &d->fde, &h, &body, &blen, e, sizeof e)) return derr(d, "%s", e);
    rd_init(&r, body, blen);
    switch (h.type) {
    case BL_ROTATE:
        return handle_rotate(d, &r);
    case BL_QUERY: {
        struct binlog_query q;
        if (binlog_parse_query(&r, &d->fde, &q, e, sizeof e)) return derr(d, "%s", e);
        return handle_query(d, &h, &q);
    }
    case BL_XID: {
        struct binlog_xid x;
        if (binlog_parse_xid(&r, &x, e, sizeof e)) return derr(d, "%s", e);
        return txn_commit(d, &h, x.xid);
    }
    case BL_GTID: case BL_ANONYMOUS_GTID:
        return handle_gtid(d, &h, &r);
    case BL_MARIA_GTID:
        return handle_maria_gtid(d, &h, &r);
    case BL_GTID_LIST:
        return handle_gtid_list(d, &r);
    case BL_ANNOTATE_ROWS: case BL_ROWS_QUERY: case BL_BINLOG_CHECKPOINT: case BL_STOP:
    case BL_PREVIOUS_GTIDS: case BL_INTVAR: case BL_RAND: case BL_USER_VAR:
    case BL_TRANSACTION_CONTEXT: case BL_VIEW_CHANGE: case BL_START_V3:
    case BL_SLAVE: case BL_IGNORABLE: case BL_UNKNOWN:
        return 0;
    case BL_LOAD: case BL_CREATE_FILE: case BL_APPEND_BLOCK: case BL_EXEC_LOAD: case BL_DELETE_FILE:
    case BL_NEW_LOAD: case BL_BEGIN_LOAD_QUERY: case BL_EXECUTE_LOAD_QUERY:
        return derr(d, "%s: a LOAD DATA was logged as a statement, not as rows: the binlog is not in row format; "
                    "set binlog_format=ROW (SET GLOBAL binlog_format=ROW and in the server config), then resync",
                    binlog_type_name(h.type));
    case BL_PRE_GA_WRITE_ROWS: case BL_PRE_GA_UPDATE_ROWS: case BL_PRE_GA_DELETE_ROWS:
        return derr(d, "%s: rows in the pre-release format of MySQL 5.1.0-5.1.15, which zetl does not read; "
                    "upgrade the source server", binlog_type_name(h.type));
    case BL_GTID_TAGGED:
        return derr(d, "GTID_TAGGED: a transaction with a tagged GTID (MySQL 8.3+, gtid_next='AUTOMATIC:<tag>' "
                    "or '<uuid>:<tag>:<n>'), which zetl cannot record, so a resume by GTID could apply it twice; "
                    "commit without a tag (SET gtid_next='AUTOMATIC')");
    case BL_PARTIAL_ROW_DATA:
        return derr(d, "PARTIAL_ROW_DATA: MariaDB split a rows event larger than binlog_row_event_fragment_threshold "
                    "into fragments, which zetl does not reassemble; raise binlog_row_event_fragment_threshold "
                    "(SET GLOBAL and in the server config) above the largest rows event, or split the large transaction");
    case BL_TABLE_MAP:
        return handle_table_map(d, body, blen);
    case BL_WRITE_ROWS_V1: case BL_UPDATE_ROWS_V1: case BL_DELETE_ROWS_V1:
    case BL_WRITE_ROWS_V2: case BL_UPDATE_ROWS_V2: case BL_DELETE_ROWS_V2:
        return handle_rows(d, &h, body, blen);
    case BL_PARTIAL_UPDATE_ROWS:
        return derr(d, "PARTIAL_UPDATE_ROWS: the server logs partial JSON updates, which lose the full row image; "
                    "set binlog_row_value_options='' (SET PERSIST binlog_row_value_options='')");
    case BL_WRITE_ROWS_COMPRESSED_V1: case BL_UPDATE_ROWS_COMPRESSED_V1: case BL_DELETE_ROWS_COMPRESSED_V1:
    case BL_WRITE_ROWS_COMPRESSED: case BL_UPDATE_ROWS_COMPRESSED: case BL_DELETE_ROWS_COMPRESSED:
    case BL_QUERY_COMPRESSED:
        return derr(d, "%s: MariaDB binlog compression is not supported; set log_bin_compress=OFF "
                    "(SET GLOBAL log_bin_compress=OFF and in the server config)", binlog_type_name(h.type));
    case BL_TRANSACTION_PAYLOAD:
        if (d->inner) return derr(d, "TRANSACTION_PAYLOAD nested inside another");
        return handle_payload(d, &h, body, blen);
    case BL_XA_PREPARE:
        return txn_commit(d, &h, 0);
    case BL_HEARTBEAT: case BL_HEARTBEAT_V2:
        return handle_heartbeat(d, &h, &r);
    case BL_INCIDENT:
        return derr(d, "INCIDENT: the server recorded that changes may be missing from the binlog "
                    "(e.g. a failed non-transactional statement); resync the affected tables");
    case BL_START_ENCRYPTION:
        return derr(d, "START_ENCRYPTION: the binlog file is encrypted on disk; read it through the "
                    "replication protocol instead");
    default:
        return unknown_type(d, &h);
    }
}

int mysql_decoder_event(struct mysql_decoder *d, const uint8_t *ev, size_t len)
{
    if (d->gtid.bad) return -1;
    /* Where does this event start? Its log_pos says where it ends. */
    uint64_t lp = 0, sz = 0;
    if (len >= BINLOG_HEADER_LEN) {
        lp = (uint32_t)ev[13] | (uint32_t)ev[14] << 8 | (uint32_t)ev[15] << 16 | (uint32_t)ev[16] << 24;
        sz = (uint32_t)ev[9] | (uint32_t)ev[10] << 8 | (uint32_t)ev[11] << 16 | (uint32_t)ev[12] << 24;
    }
    d->ev_off = (lp && lp >= sz) ? lp - sz : d->next_off;
    d->rotated = 0;
    int rc = event(d, ev, len);
    if (rc) return rc;
    if (!d->rotated) d->next_off = lp ? lp : d->ev_off + len;
    return 0;
}

/* ---- byte streams and files ----------------------------------------------------------------- */

static int one(struct mysql_decoder *d, const uint8_t *ev, size_t len)
{
    d->ev_off = d->next_off;
    d->rotated = 0;
    int rc = event(d, ev, len);
    if (rc) return rc;
    if (!d->rotated) d->next_off += len;
    return 0;
}

static uint32_t ev_size(const uint8_t *h)
{
    return (uint32_t)h[9] | (uint32_t)h[10] << 8 | (uint32_t)h[11] << 16 | (uint32_t)h[12] << 24;
}

int mysql_decoder_feed(struct mysql_decoder *d, const uint8_t *p, size_t len)
{
    if (d->gtid.bad) return -1;
    while (!d->started && len > 0) {        /* the \xfebin magic may arrive in pieces */
        if ((uint8_t)p[0] != (uint8_t)BINLOG_MAGIC[d->magic_n]) {
            if (d->magic_n) { d->ev_off = 0; return derr(d, "stream starts with a broken \\xfebin magic"); }
            d->started = 1;                 /* a stream of events without the file magic */
            break;
        }
        p++; len--;
        if (++d->magic_n == BINLOG_MAGIC_LEN) {
            d->started = 1;
            if (d->next_off == 0) d->next_off = BINLOG_MAGIC_LEN;
        }
    }
    while (len > 0) {
        if (d->ilen > 0) {                          /* finish the buffered event first */
            if (d->ilen < BINLOG_HEADER_LEN) {      /* icap >= 4096: see stash */
                size_t take = BINLOG_HEADER_LEN - d->ilen < len ? BINLOG_HEADER_LEN - d->ilen : len;
                memcpy(d->ibuf + d->ilen, p, take);
                d->ilen += take; p += take; len -= take;
                if (d->ilen < BINLOG_HEADER_LEN) continue;
            }
            size_t need = ev_size(d->ibuf);
            if (need < BINLOG_HEADER_LEN || need > BINLOG_EVENT_MAX) {
                d->ev_off = d->next_off;
                return derr(d, "declares size %zu, out of range (19..%u)", need, BINLOG_EVENT_MAX);
            }
            if (need > d->icap) {
                uint8_t *nb = realloc(d->ibuf, need);
                if (!nb) return derr(d, "out of memory");
                d->ibuf = nb; d->icap = need;
            }
            size_t take = need - d->ilen < len ? need - d->ilen : len;
            memcpy(d->ibuf + d->ilen, p, take);
            d->ilen += take; p += take; len -= take;
            if (d->ilen < need) continue;
            int rc = one(d, d->ibuf, d->ilen);
            d->ilen = 0;
            if (d->icap > (4u << 20)) { free(d->ibuf); d->ibuf = NULL; d->icap = 0; }
            if (rc) return rc;
            continue;
        }
        if (len < BINLOG_HEADER_LEN) goto stash;
        size_t sz = ev_size(p);
        if (sz < BINLOG_HEADER_LEN || sz > BINLOG_EVENT_MAX) {
            d->ev_off = d->next_off;
            return derr(d, "declares size %zu, out of range (19..%u)", sz, BINLOG_EVENT_MAX);
        }
        if (len < sz) goto stash;
        int rc = one(d, p, sz);
        if (rc) return rc;
        p += sz; len -= sz;
    }
    return 0;
stash:
    if (len > d->icap) {
        size_t nc = len < 4096 ? 4096 : len;
        uint8_t *nb = realloc(d->ibuf, nc);
        if (!nb) return derr(d, "out of memory");
        d->ibuf = nb; d->icap = nc;
    }
    memcpy(d->ibuf, p, len);
    d->ilen = len;
    return 0;
}

int mysql_decoder_finish(struct mysql_decoder *d)
{
    if (d->ilen == 0) return 0;
    d->ev_off = d->next_off;
    size_t need = d->ilen >= BINLOG_HEADER_LEN ? ev_size(d->ibuf) : BINLOG_HEADER_LEN;
    return derr(d, "truncated (need %zu bytes, have %zu)", need, d->ilen);
}

int mysql_decoder_file(struct mysql_decoder *d, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(d->err, sizeof d->err, "binlog: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    snprintf(d->file, sizeof d->file, "%s", base);
    size_t cap = 1 << 20;
    uint8_t *buf = malloc(cap);
    int rc = 0;
    if (!buf) { close(fd); snprintf(d->err, sizeof d->err, "binlog: out of memory"); return -1; }
    uint8_t magic[BINLOG_MAGIC_LEN];
    ssize_t n = read(fd, magic, sizeof magic);
    if (n != BINLOG_MAGIC_LEN || memcmp(magic, BINLOG_MAGIC, BINLOG_MAGIC_LEN) != 0) {
        snprintf(d->err, sizeof d->err, "binlog: %s is not a binlog file (no \\xfebin magic at offset 0)", path);
        rc = -1;
        goto out;
    }
    d->started = 1;
    d->next_off = BINLOG_MAGIC_LEN;
    d->ilen = 0;
    d->last.kind = ZPOS_BINLOG;
    if (!d->last.file[0]) { snprintf(d->last.file, sizeof d->last.file, "%s", d->file); d->last.offset = 4; }
    for (;;) {
        n = read(fd, buf, cap);
        if (n < 0) {
            if (errno == EINTR) continue;
            snprintf(d->err, sizeof d->err, "binlog: reading %s: %s", path, strerror(errno));
            rc = -1;
            break;
        }
        if (n == 0) { rc = mysql_decoder_finish(d); break; }
        if ((rc = mysql_decoder_feed(d, buf, (size_t)n))) break;
    }
out:
    free(buf);
    close(fd);
    return rc;
}
