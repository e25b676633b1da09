/* snapshot.c — consistent MySQL/MariaDB table copies with a binlog position (see snapshot.h). */
#include "runtime/mysql/snapshot.h"
#include "runtime/base/buf.h"

#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/mysql/conn.h"

#define STOP_EVERY 1024     /* rows between checks of *stop */

struct mysql_snapshot {
    MYSQL   *db;
    const struct config_integration *in;
    struct mysql_snapshot_opts o;
    struct zpos pos;
    enum mysql_snapshot_mode mode;
    int      dead;          /* the connection was cancelled mid-result: only _end */
};

/* ---- small helpers ---------------------------------------------------------------------- */

static int stopped(const struct mysql_snapshot *s) { return s->o.stop && atomic_load(s->o.stop); }

static int exec(struct mysql_snapshot *s, const char *sql, char *err, size_t errlen)
{
    if (mysql_query(s->db, sql) == 0) return 0;
    snprintf(err, errlen, "source %s: %s (error %u) running: %s", s->in->name, mysql_error(s->db),
             mysql_errno(s->db), sql);
    return -1;
}

/* One string-returning prepared statement with string parameters: the first
 * column of its first row into buf ("" for none or NULL). */
static int scalar(MYSQL *db, const char *sql, const char *const *params, int n,
                  char *buf, size_t len, char *err, size_t errlen)
{
    MYSQL_BIND pb[4], rb;
    unsigned long rlen = 0;
    my_bool isnull = 0;
    int rc = -1;
    buf[0] = '\0';
    MYSQL_STMT *st = mysql_stmt_init(db);
    if (!st) { snprintf(err, errlen, "out of memory"); return -1; }
    memset(pb, 0, sizeof pb);
    for (int i = 0; i < n && i < 4; i++) {
        pb[i].buffer_type = MYSQL_TYPE_STRING;
        pb[i].buffer = (void *)(uintptr_t)params[i];
        pb[i].buffer_length = strlen(params[i]);
    }
    memset(&rb, 0, sizeof rb);
    rb.buffer_type = MYSQL_TYPE_STRING;
    rb.buffer = buf;
    rb.buffer_length = len - 1;
    rb.length = &rlen;
    rb.is_null = &isnull;
    if (mysql_stmt_prepare(st, sql, strlen(sql)) || (n && mysql_stmt_bind_param(st, pb)) ||
        mysql_stmt_execute(st) || mysql_stmt_bind_result(st, &rb)) {
        snprintf(err, errlen, "%s (error %u) running: %s", mysql_stmt_error(st), mysql_stmt_errno(st), sql);
        goto out;
    }
    int f = mysql_stmt_fetch(st);
    if (f == 1) {
        snprintf(err, errlen, "%s (error %u) reading: %s", mysql_stmt_error(st), mysql_stmt_errno(st), sql);
        goto out;
    }
    if (f == MYSQL_NO_DATA || isnull) buf[0] = '\0';
    else buf[rlen < len - 1 ? rlen : len - 1] = '\0';
    rc = 0;
out:
    mysql_stmt_close(st);
    return rc;
}

/* ---- begin: session, consistent read, position ------------------------------------------ */

static int session_setup(struct mysql_snapshot *s, int mariadb, char *err, size_t errlen)
{
    static const char *const required[] = {
        "SET NAMES utf8mb4",
        "SET SESSION time_zone = '+00:00'",
        "SET SESSION sql_mode = ''",
        "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        NULL
    };
    for (int i = 0; required[i]; i++)
        if (exec(s, required[i], err, errlen)) return -1;
    /* Best effort: a long streamed read must not hit a statement limit, and the
     * server must wait for a slow consumer (the target) rather than drop us. */
    (void)mysql_query(s->db, mariadb ? "SET SESSION max_statement_time = 0"
                                     : "SET SESSION max_execution_time = 0");
    (void)mysql_query(s->db, "SET SESSION net_write_timeout = 3600");
    return 0;
}

static void strip_newlines(char *g)
{
    char *o = g;
    for (char *p = g; *p; p++) if (*p != '\n' && *p != '\r') *o++ = *p;
    *o = '\0';
}

static int position_mariadb(struct mysql_snapshot *s, char *err, size_t errlen)
{
    char qerr[512], off[64] = "";
    if (exec(s, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", err, errlen)) return -1;
    MYSQL_RES *r = mysql_conn_query(s->db, "SHOW STATUS LIKE 'binlog_snapshot_%'", qerr, sizeof qerr);
    if (!r) { snprintf(err, errlen, "source %s: %s", s->in->name, qerr); return -1; }
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(r))) {
        if (!row[0] || !row[1]) continue;
        if (!strcasecmp(row[0], "Binlog_snapshot_file")) snprintf(s->pos.file, sizeof s->pos.file, "%s", row[1]);
        else if (!strcasecmp(row[0], "Binlog_snapshot_position")) snprintf(off, sizeof off, "%s", row[1]);
    }
    mysql_free_result(r);
    if (!s->pos.file[0] || !off[0]) {
        snprintf(err, errlen, "source %s: the server reports no binlog position for the snapshot: "
                 "binary logging is off; start the server with log_bin (and binlog_format=ROW)", s->in->name);
        return -1;
    }
    s->pos.kind = ZPOS_BINLOG;
    s->pos.offset = strtoull(off, NULL, 10);
    s->mode = MYSQL_SNAPSHOT_EXACT;
    /* The GTID state at exactly that point (not @@gtid_binlog_pos, which moves on). */
    s->pos.gtid[0] = '\0';
    if (s->o.no_gtid) return 0;
    const char *p[2] = { s->pos.file, off };
    char gtid[ZPOS_GTID_MAX + 1];
    if (scalar(s->db, "SELECT BINLOG_GTID_POS(?, ?)", p, 2, gtid, sizeof gtid, qerr, sizeof qerr)) {
        snprintf(err, errlen, "source %s: finding the GTID state at %s:%s: %s", s->in->name,
                 s->pos.file, off, qerr);
        return -1;
    }
    size_t glen = strlen(gtid);
    if (glen < sizeof s->pos.gtid) memcpy(s->pos.gtid, gtid, glen + 1);
    return 0;
}

static int position_mysql(struct mysql_snapshot *s, char *err, size_t errlen)
{
    char qerr[512];
    const char *stmt;
    /* Before the read starts (see snapshot.h, REPLAY). */
    MYSQL_RES *r = mysql_conn_binlog_status(s->db, &stmt, qerr, sizeof qerr);
    if (!r) { snprintf(err, errlen, "source %s: reading the binlog position: %s", s->in->name, qerr); return -1; }
    MYSQL_ROW row = mysql_fetch_row(r);
    unsigned nf = mysql_num_fields(r);
    if (!row || !row[0] || !row[1]) {
        mysql_free_result(r);
        snprintf(err, errlen, "source %s: %s returned nothing: binary logging is off; "
                 "enable log_bin with binlog_format=ROW (on RDS/Aurora: set a backup retention period and "
                 "binlog_format in the DB cluster parameter group)", s->in->name, stmt);
        return -1;
    }
    s->pos.kind = ZPOS_BINLOG;
    snprintf(s->pos.file, sizeof s->pos.file, "%s", row[0]);
    s->pos.offset = strtoull(row[1], NULL, 10);
    if (nf >= 5 && row[4] && strlen(row[4]) < sizeof s->pos.gtid) {
        snprintf(s->pos.gtid, sizeof s->pos.gtid, "%s", row[4]);
        strip_newlines(s->pos.gtid);
    }
    mysql_free_result(r);
    s->mode = MYSQL_SNAPSHOT_REPLAY;
    return exec(s, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", err, errlen);
}

int mysql_snapshot_begin(struct mysql_snapshot **out, const struct config_integration *in,
                         const struct mysql_snapshot_opts *opts, char *err, size_t errlen)
{
    *out = NULL;
    struct mysql_snapshot *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, errlen, "source %s: out of memory starting a snapshot", in->name); return -1; }
    s->in = in;
    s->o = *opts;
    if (!s->o.chunk_rows) s->o.chunk_rows = 10000;
    if (s->o.timeout_s <= 0) s->o.timeout_s = 60;
    if (mysql_conn_open_cut(&s->db, in->name, &in->source, s->o.timeout_s, s->o.cut, err, errlen)) goto free_s;
    int mariadb = mysql_conn_is_mariadb(s->db);
    if (session_setup(s, mariadb, err, errlen)) goto close_db;
    if ((mariadb ? position_mariadb : position_mysql)(s, err, errlen)) goto close_db;
    *out = s;
    return 0;
close_db:
    mysql_conn_close_cut(s->db, s->o.cut);
free_s:
    free(s);
    return -1;
}

void mysql_snapshot_position(const struct mysql_snapshot *s, struct zpos *pos,
                             enum mysql_snapshot_mode *mode)
{
    if (pos) *pos = s->pos;
    if (mode) *mode = s->mode;
}

MYSQL *mysql_snapshot_conn(struct mysql_snapshot *s) { return s->db; }

int mysql_snapshot_renew(struct mysql_snapshot *s, char *err, size_t errlen)
{
    if (s->dead) {
        snprintf(err, errlen, "source %s: the snapshot was abandoned; start a new one", s->in->name);
        return -1;
    }
    if (exec(s, "COMMIT", err, errlen)) return -1;
    memset(&s->pos, 0, sizeof s->pos);
    return (mysql_conn_is_mariadb(s->db) ? position_mariadb : position_mysql)(s, err, errlen);
}

int mysql_snapshot_release(struct mysql_snapshot *s, char *err, size_t errlen)
{
    if (s->dead) {
        snprintf(err, errlen, "source %s: the snapshot was abandoned; start a new one", s->in->name);
        return -1;
    }
    return exec(s, "COMMIT", err, errlen) ? -1 : 0;
}

void mysql_snapshot_end(struct mysql_snapshot *s)
{
    if (!s) return;
    if (!s->dead) (void)mysql_query(s->db, "COMMIT");
    mysql_conn_close_cut(s->db, s->o.cut);
    free(s);
}

/* ---- reading a table ----------------------------------------------------------------------- */

/* One column's result binding and its storage. */
struct col {
    enum ztype type;
    int      scale;         /* fsp */
    int      bits;          /* BIT length */
    int      var;           /* bound as bytes into buf */
    MYSQL_BIND *b;          /* its result bind */
    unsigned long len;
    my_bool  isnull, error;
    int      warned;        /* zero-date warning given for this copy */
    union { int64_t i; float f; double d; MYSQL_TIME t; } num;
    char    *buf;           /* var: the value bytes (grows to the largest value) */
    unsigned long cap;
    char     txt[80];       /* formatted temporal / BIT(≤64) text */
};

/* The last row's key, bound as the next chunk's parameters. */
struct keyval {
    int      col;           /* index into the select list */
    enum enum_field_types ptype;
    my_bool  is_unsigned;
    unsigned long len;
    union { int64_t i; MYSQL_TIME t; } num;
    char    *buf;
    unsigned long cap;
};

struct reader {
    struct mysql_snapshot *s;
    const struct ztable *t;
    int ncols;
    struct col *c;
    MYSQL_BIND *rb;
    struct zvalue *vals;
    int npk;
    struct keyval *k;       /* npk entries, in key order */
    MYSQL_BIND *pb;         /* parameters: k1, then k1..kn (n ≥ 2) */
    int nparams;
    uint64_t copied, estimated;
    char *err;
    size_t errlen;
};

static int keyset_type(enum ztype t)
{
    switch (t) {
    case ZT_INT16: case ZT_INT32: case ZT_INT64: case ZT_UINT64: case ZT_YEAR:
    case ZT_DECIMAL: case ZT_DATE: case ZT_TIME: case ZT_TIMESTAMP: case ZT_TIMESTAMPTZ:
    case ZT_CHAR: case ZT_VARCHAR: case ZT_TEXT: case ZT_BYTES:
        return 1;
    default:
        return 0;
    }
}

/* Append `name` quoted with backquotes (doubled inside). */
static void put_ident(struct zbuf *b, const char *name)
{
    zbuf_putc(b, '`');
    for (const char *q = name; *q; q++) { if (*q == '`') zbuf_putc(b, '`'); zbuf_putc(b, *q); }
    zbuf_putc(b, '`');
}

/* SELECT `c1`,… FROM `db`.`t` [WHERE keyset] [ORDER BY key] [LIMIT n] */
/* "k1 OP ?" for one key column; "k1 OP= ? AND (k1, …, kn) OP (?, …, ?)" for
 * several (the first column's range lets the optimizer use the index). Its
 * parameters: k1, then k1..kn (n ≥ 2) — bind_key_params' order. */
static void put_key_pred(struct zbuf *b, const struct ztable *t, const int *keycols, int npk, const char *op)
{
    put_ident(b, t->cols[keycols[0]].name);
    if (npk == 1) {
        zbuf_puts(b, " ");
        zbuf_puts(b, op);
        zbuf_puts(b, " ?");
        return;
    }
    zbuf_puts(b, op[0] == '>' ? " >= ? AND (" : " <= ? AND (");
    for (int k = 0; k < npk; k++) {
        if (k) zbuf_puts(b, ", ");
        put_ident(b, t->cols[keycols[k]].name);
    }
    zbuf_puts(b, ") ");
    zbuf_puts(b, op);
    zbuf_puts(b, " (");
    for (int k = 0; k < npk; k++) zbuf_puts(b, k ? ", ?" : "?");
    zbuf_puts(b, ")");
}

/* SELECT of every column (or, keys_only, of the key's) in key order: after
 * a key (next), up to one (upper), at most limit rows (0: no LIMIT) and
 * from offset on. */
static char *build_select(const struct ztable *t, const int *keycols, int npk, int next, int upper,
                          int keys_only, uint32_t limit, uint32_t offset)
{
    struct zbuf b = { 0 };
    char num[64];
    zbuf_puts(&b, "SELECT ");
    for (int i = 0; i < (keys_only ? npk : t->ncols); i++) {
        if (i) zbuf_puts(&b, ", ");
        put_ident(&b, t->cols[keys_only ? keycols[i] : i].name);
    }
    zbuf_puts(&b, " FROM ");
    put_ident(&b, t->schema);
    zbuf_puts(&b, ".");
    put_ident(&b, t->name);
    if (npk && (next || upper)) {
        zbuf_puts(&b, " WHERE ");
        if (next) put_key_pred(&b, t, keycols, npk, ">");
        if (next && upper) zbuf_puts(&b, " AND ");
        if (upper) put_key_pred(&b, t, keycols, npk, "<=");
    }
    if (npk) {
        zbuf_puts(&b, " ORDER BY ");
        for (int k = 0; k < npk; k++) {
            if (k) zbuf_puts(&b, ", ");
            put_ident(&b, t->cols[keycols[k]].name);
        }
        if (limit) {
            snprintf(num, sizeof num, " LIMIT %u", limit);
            zbuf_puts(&b, num);
            if (offset) {
                snprintf(num, sizeof num, " OFFSET %u", offset);
                zbuf_puts(&b, num);
            }
        }
    }
    if (b.oom) { zbuf_free(&b); return NULL; }
    return b.p;
}

static void reader_free(struct reader *r)
{
    if (r->c) for (int i = 0; i < r->ncols; i++) free(r->c[i].buf);
    if (r->k) for (int i = 0; i < r->npk; i++) free(r->k[i].buf);
    free(r->c); free(r->rb); free(r->vals); free(r->k); free(r->pb);
}

static int reader_init(struct reader *r)
{
    const struct ztable *t = r->t;
    r->ncols = t->ncols;
    r->c = calloc((size_t)t->ncols, sizeof *r->c);
    r->rb = calloc((size_t)t->ncols, sizeof *r->rb);
    r->vals = calloc((size_t)t->ncols, sizeof *r->vals);
    if (!r->c || !r->rb || !r->vals) return -1;
    for (int i = 0; i < t->ncols; i++) {
        const struct zcolumn *z = &t->cols[i];
        struct col *c = &r->c[i];
        MYSQL_BIND *b = &r->rb[i];
        c->type = z->type;
        c->scale = z->scale < 0 ? 0 : z->scale > 6 ? 6 : z->scale;
        c->bits = z->length;
        c->b = b;
        b->length = &c->len;
        b->is_null = &c->isnull;
        b->error = &c->error;
        switch (z->type) {
        case ZT_BOOL: case ZT_INT16: case ZT_INT32: case ZT_INT64: case ZT_UINT64: case ZT_YEAR:
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->is_unsigned = z->is_unsigned;
            b->buffer = &c->num.i;
            break;
        case ZT_FLOAT32:
            b->buffer_type = MYSQL_TYPE_FLOAT;
            b->buffer = &c->num.f;
            break;
        case ZT_FLOAT64:
            b->buffer_type = MYSQL_TYPE_DOUBLE;
            b->buffer = &c->num.d;
            break;
        case ZT_DATE:
            b->buffer_type = MYSQL_TYPE_DATE;
            b->buffer = &c->num.t;
            break;
        case ZT_TIME:
            b->buffer_type = MYSQL_TYPE_TIME;
            b->buffer = &c->num.t;
            break;
        case ZT_TIMESTAMP: case ZT_TIMESTAMPTZ:
            b->buffer_type = MYSQL_TYPE_DATETIME;
            b->buffer = &c->num.t;
            break;
        default:            /* DECIMAL, BIT, strings, bytes, ENUM/SET, JSON, GEOMETRY, other */
            c->var = 1;
            c->cap = 256;
            c->buf = malloc(c->cap);
            if (!c->buf) return -1;
            b->buffer_type = MYSQL_TYPE_BLOB;
            b->buffer = c->buf;
            b->buffer_length = c->cap;
            break;
        }
    }
    /* Keyset pagination needs a key whose SQL order and comparison agree:
     * the primary key, or without one the unique key of NOT NULL integers
     * the catalog chose (change.h, nuk). */
    int keycols[64], pk = t->npk > 0, nkey = pk ? t->npk : t->nuk;
    r->npk = nkey > 0 && nkey <= 64 ? nkey : 0;
    for (int k = 0; k < 64; k++) keycols[k] = -1;
    for (int i = 0; i < t->ncols && r->npk; i++) {
        int o = pk ? t->cols[i].pk_ord : t->cols[i].uk_ord;
        if (!o) continue;
        if (o > r->npk || keycols[o - 1] >= 0 || !keyset_type(t->cols[i].type)) { r->npk = 0; break; }
        keycols[o - 1] = i;
    }
    for (int k = 0; k < r->npk; k++) if (keycols[k] < 0) r->npk = 0;
    if (!r->npk) return 0;
    r->k = calloc((size_t)r->npk, sizeof *r->k);
    r->nparams = r->npk == 1 ? 1 : r->npk + 1;
    r->pb = calloc((size_t)r->nparams, sizeof *r->pb);
    if (!r->k || !r->pb) return -1;
    for (int k = 0; k < r->npk; k++) {
        struct keyval *kv = &r->k[k];
        const struct zcolumn *z = &t->cols[keycols[k]];
        kv->col = keycols[k];
        kv->is_unsigned = z->is_unsigned;
        switch (z->type) {
        case ZT_INT16: case ZT_INT32: case ZT_INT64: case ZT_UINT64: case ZT_YEAR:
            kv->ptype = MYSQL_TYPE_LONGLONG; break;
        case ZT_DATE: kv->ptype = MYSQL_TYPE_DATE; break;
        case ZT_TIME: kv->ptype = MYSQL_TYPE_TIME; break;
        case ZT_TIMESTAMP: case ZT_TIMESTAMPTZ: kv->ptype = MYSQL_TYPE_DATETIME; break;
        case ZT_DECIMAL: kv->ptype = MYSQL_TYPE_NEWDECIMAL; break;   /* compared as DECIMAL, not double */
        case ZT_BYTES: kv->ptype = MYSQL_TYPE_BLOB; break;           /* binary: no charset conversion */
        default: kv->ptype = MYSQL_TYPE_STRING; break;               /* column collation decides */
        }
    }
    return 0;
}

/* Remember the current row's key for the next chunk's parameters. */
static int save_key(struct reader *r)
{
    for (int k = 0; k < r->npk; k++) {
        struct keyval *kv = &r->k[k];
        struct col *c = &r->c[kv->col];
        switch (kv->ptype) {
        case MYSQL_TYPE_LONGLONG: kv->num.i = c->num.i; break;
        case MYSQL_TYPE_DATE: case MYSQL_TYPE_DATETIME: kv->num.t = c->num.t; break;
        case MYSQL_TYPE_TIME:
            kv->num.t = c->num.t;
            /* The wire format carries days and an hour < 24. */
            kv->num.t.hour = c->num.t.day * 24 + c->num.t.hour;
            kv->num.t.day = kv->num.t.hour / 24;
            kv->num.t.hour %= 24;
            break;
        default:
            if (c->len + 1 > kv->cap) {
                char *nb = realloc(kv->buf, c->len + 1);
                if (!nb) return -1;
                kv->buf = nb; kv->cap = c->len + 1;
            }
            memcpy(kv->buf, c->buf, c->len);
            kv->len = c->len;
            break;
        }
    }
    return 0;
}

static void bind_key_params(struct reader *r)
{
    memset(r->pb, 0, (size_t)r->nparams * sizeof *r->pb);
    for (int p = 0; p < r->nparams; p++) {
        struct keyval *kv = &r->k[p == 0 ? 0 : r->npk == 1 ? 0 : p - 1];
        MYSQL_BIND *b = &r->pb[p];
        b->buffer_type = kv->ptype;
        b->is_unsigned = kv->is_unsigned;
        switch (kv->ptype) {
        case MYSQL_TYPE_LONGLONG: b->buffer = &kv->num.i; break;
        case MYSQL_TYPE_DATE: case MYSQL_TYPE_DATETIME: case MYSQL_TYPE_TIME:
            b->buffer = &kv->num.t; break;
        default:
            b->buffer = kv->buf ? kv->buf : (char *)"";
            b->buffer_length = kv->len;
            break;
        }
    }
}

static const uint32_t pow10u[7] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };

static char *put_n(char *o, unsigned long v, int width)
{
    for (int i = width - 1; i >= 0; i--) { o[i] = (char)('0' + v % 10); v /= 10; }
    return o + width;
}

static char *put_frac(char *o, unsigned long us, int fsp)
{
    if (fsp <= 0) return o;
    *o++ = '.';
    return put_n(o, (us % 1000000) / pow10u[6 - fsp], fsp);
}

static char *put_date(char *o, const MYSQL_TIME *t)
{
    o = put_n(o, t->year, 4); *o++ = '-'; o = put_n(o, t->month, 2); *o++ = '-';
    return put_n(o, t->day, 2);
}

static char *put_hms(char *o, unsigned h, const MYSQL_TIME *t)
{
    o = put_n(o, h, h >= 1000 ? 4 : h >= 100 ? 3 : 2); *o++ = ':';
    o = put_n(o, t->minute, 2); *o++ = ':';
    return put_n(o, t->second, 2);
}

static void warn_zero(struct reader *r, int i, const char *what)
{
    static const char *const fmt = "%s.%s column %s: %s";
    if (!r->s->o.warn || r->c[i].warned) return;
    r->c[i].warned = 1;
    char msg[512];
    snprintf(msg, sizeof msg, fmt, r->t->schema, r->t->name, r->t->cols[i].name, what);
    r->s->o.warn(r->s->o.ctx, msg);
}

/* The fetched row → r->vals, exactly as rows.c decodes the binlog. */
static int convert_row(struct reader *r)
{
    for (int i = 0; i < r->ncols; i++) {
        struct col *c = &r->c[i];
        struct zvalue *v = &r->vals[i];
        const MYSQL_TIME *tm = &c->num.t;
        char *o = c->txt;
        v->len = 0;
        if (c->isnull) { v->kind = ZV_NULL; continue; }
        switch (c->type) {
        case ZT_BOOL: case ZT_INT16: case ZT_INT32: case ZT_INT64: case ZT_UINT64: case ZT_YEAR:
            if (c->b->is_unsigned) { v->kind = ZV_UINT; v->v.u = (uint64_t)c->num.i; }
            else { v->kind = ZV_INT; v->v.i = c->num.i; }
            continue;
        case ZT_FLOAT32: v->kind = ZV_FLOAT; v->v.f = (double)c->num.f; continue;
        case ZT_FLOAT64: v->kind = ZV_FLOAT; v->v.f = c->num.d; continue;
        case ZT_DATE:
            if (!tm->year || !tm->month || !tm->day) {
                warn_zero(r, i, "zero or partial-zero DATE copied as NULL");
                v->kind = ZV_NULL;
                continue;
            }
            o = put_date(o, tm);
            break;
        case ZT_TIME:
            if (tm->neg) *o++ = '-';
            o = put_hms(o, tm->day * 24 + tm->hour, tm);
            o = put_frac(o, tm->second_part, c->scale);
            break;
        case ZT_TIMESTAMP: case ZT_TIMESTAMPTZ:
            if (!tm->year || !tm->month || !tm->day) {
                warn_zero(r, i, c->type == ZT_TIMESTAMP ? "zero or partial-zero DATETIME copied as NULL"
                                                         : "zero TIMESTAMP copied as NULL");
                v->kind = ZV_NULL;
                continue;
            }
            o = put_date(o, tm); *o++ = ' ';
            o = put_hms(o, tm->hour, tm);
            o = put_frac(o, tm->second_part, c->scale);
            if (c->type == ZT_TIMESTAMPTZ) { memcpy(o, "+00", 3); o += 3; }
            break;
        case ZT_BIT: {
            /* big-endian bytes → c->bits digits, most significant first */
            uint64_t x = 0;
            for (unsigned long k = 0; k < c->len && k < 8; k++) x = x << 8 | (uint8_t)c->buf[k];
            int n = c->bits > 0 && c->bits <= 64 ? c->bits : (int)c->len * 8;
            for (int b = n - 1; b >= 0; b--) *o++ = (char)('0' + ((x >> b) & 1));
            break;
        }
        case ZT_GEOMETRY:
            if (c->len < 4) {
                snprintf(r->err, r->errlen, "%s.%s column %s: GEOMETRY value of %lu bytes is shorter than its SRID",
                         r->t->schema, r->t->name, r->t->cols[i].name, c->len);
                return -1;
            }
            v->kind = ZV_BYTES; v->len = (uint32_t)(c->len - 4); v->v.p = c->buf + 4;
            continue;
        case ZT_BYTES:
            v->kind = ZV_BYTES; v->len = (uint32_t)c->len; v->v.p = c->buf;
            continue;
        default:            /* DECIMAL, CHAR/VARCHAR/TEXT, ENUM, SET, JSON, other: UTF-8 text */
            v->kind = ZV_TEXT; v->len = (uint32_t)c->len; v->v.p = c->buf;
            continue;
        }
        v->kind = ZV_TEXT;
        v->len = (uint32_t)(o - c->txt);
        v->v.p = c->txt;
    }
    return 0;
}

/* After MYSQL_DATA_TRUNCATED: grow the buffers of long values and fetch them whole. */
static int fetch_long_values(struct reader *r, MYSQL_STMT *st)
{
    int rebind = 0;
    for (int i = 0; i < r->ncols; i++) {
        struct col *c = &r->c[i];
        if (!c->var || c->isnull || c->len <= c->cap) continue;
        unsigned long nc = c->len + c->len / 4 + 64;
        char *nb = realloc(c->buf, nc);
        if (!nb) {
            snprintf(r->err, r->errlen, "out of memory reading a %lu-byte value of %s.%s column %s",
                     c->len, r->t->schema, r->t->name, r->t->cols[i].name);
            return -1;
        }
        c->buf = nb; c->cap = nc;
        c->b->buffer = nb; c->b->buffer_length = nc;
        if (mysql_stmt_fetch_column(st, c->b, (unsigned)i, 0) != 0) {
            snprintf(r->err, r->errlen, "reading %s.%s column %s: %s (error %u)", r->t->schema, r->t->name,
                     r->t->cols[i].name, mysql_stmt_error(st), mysql_stmt_errno(st));
            return -1;
        }
        rebind = 1;
    }
    if (rebind && mysql_stmt_bind_result(st, r->rb) != 0) {
        snprintf(r->err, r->errlen, "rebinding the result of %s.%s: %s", r->t->schema, r->t->name,
                 mysql_stmt_error(st));
        return -1;
    }
    return 0;
}

static void progress(struct reader *r, int final)
{
    if (!r->s->o.progress) return;
    uint64_t est = final ? r->copied : r->estimated;
    r->s->o.progress(r->s->o.ctx, r->t, r->copied, est);
}

/*
 * Execute st (params bound) and stream its rows to the callback.
 * Returns 0 and *got rows, -1 error, STOPPED, NO_TABLE or the callback's value.
 * On anything but 0 the statement's remaining rows are abandoned.
 */
static int stream_rows(struct reader *r, MYSQL_STMT *st, uint64_t *got, int one_pass)
{
    struct mysql_snapshot *s = r->s;
    *got = 0;
    if (mysql_stmt_execute(st) != 0) {
        unsigned e = mysql_stmt_errno(st);
        snprintf(r->err, r->errlen, "source %s: reading %s.%s: %s (error %u)%s", s->in->name,
                 r->t->schema, r->t->name, mysql_stmt_error(st), e,
                 e == ER_TABLE_DEF_CHANGED ? "; the table was altered after the snapshot began: resync it" : "");
        return e == ER_NO_SUCH_TABLE ? MYSQL_SNAPSHOT_NO_TABLE : -1;
    }
    if (mysql_stmt_bind_result(st, r->rb) != 0) goto stmt_error;
    struct zrowchange rc = { .op = ZOP_INSERT, .table = r->t, .after = r->vals };
    for (;;) {
        int f = mysql_stmt_fetch(st);
        if (f == MYSQL_NO_DATA) break;
        if (f == 1) goto stmt_error;
        if (f == MYSQL_DATA_TRUNCATED && fetch_long_values(r, st)) goto abandon_err;
        if (convert_row(r)) goto abandon_err;
        if (r->npk && save_key(r)) {
            snprintf(r->err, r->errlen, "out of memory keeping the key of %s.%s", r->t->schema, r->t->name);
            goto abandon_err;
        }
        int cb = s->o.row(s->o.ctx, &rc);
        if (cb) {
            snprintf(r->err, r->errlen, "source %s: copy of %s.%s stopped by its consumer (%d)",
                     s->in->name, r->t->schema, r->t->name, cb);
            s->dead = 1;
            mariadb_cancel(s->db);
            return cb;
        }
        (*got)++;
        r->copied++;
        if (r->copied % STOP_EVERY == 0 && stopped(s)) goto abandon_stop;
        if (one_pass && r->copied % s->o.chunk_rows == 0) progress(r, 0);
    }
    mysql_stmt_free_result(st);
    return 0;
abandon_stop:
    snprintf(r->err, r->errlen, "source %s: copy of %s.%s stopped", s->in->name, r->t->schema, r->t->name);
    s->dead = 1;
    mariadb_cancel(s->db);      /* do not drain the rest of a large result */
    return MYSQL_SNAPSHOT_STOPPED;
stmt_error:
    snprintf(r->err, r->errlen, "source %s: reading %s.%s: %s (error %u)", s->in->name,
             r->t->schema, r->t->name, mysql_stmt_error(st), mysql_stmt_errno(st));
abandon_err:
    s->dead = 1;
    mariadb_cancel(s->db);
    return -1;
}

/* NULL on failure with r->err set and *code the server's error number (0 if none). */
static MYSQL_STMT *prepare(struct reader *r, const char *sql, unsigned *code)
{
    *code = 0;
    MYSQL_STMT *st = mysql_stmt_init(r->s->db);
    if (!st) { snprintf(r->err, r->errlen, "out of memory preparing a read"); return NULL; }
    if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
        *code = mysql_stmt_errno(st);
        if (*code == ER_NO_SUCH_TABLE)
            snprintf(r->err, r->errlen, "source %s: table %s.%s no longer exists (dropped at the source)",
                     r->s->in->name, r->t->schema, r->t->name);
        else
            snprintf(r->err, r->errlen, "source %s: preparing the read of %s.%s: %s (error %u)%s",
                     r->s->in->name, r->t->schema, r->t->name, mysql_stmt_error(st), *code,
                     *code == ER_BAD_FIELD_ERROR ? "; its definition changed: reload it and copy again" : "");
        mysql_stmt_close(st);
        return NULL;
    }
    return st;
}

uint64_t mysql_snapshot_estimate(struct mysql_snapshot *s, const struct ztable *t)
{
    const char *p[2] = { t->schema, t->name };
    char buf[32], qerr[256];
    if (s->dead)
        return 0;
    if (scalar(s->db, "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
               p, 2, buf, sizeof buf, qerr, sizeof qerr) == 0)
        return strtoull(buf, NULL, 10);
    return 0;
}

static void estimate(struct reader *r)
{
    r->estimated = mysql_snapshot_estimate(r->s, r->t);
}

int mysql_snapshot_copy(struct mysql_snapshot *s, const struct ztable *t, uint64_t *rows,
                        char *err, size_t errlen)
{
    struct reader r = { .s = s, .t = t, .err = err, .errlen = errlen };
    MYSQL_STMT *first = NULL, *next = NULL;
    char *sql_first = NULL, *sql_next = NULL;
    int rc = -1;
    if (rows) *rows = 0;
    if (s->dead) {
        snprintf(err, errlen, "source %s: the snapshot was abandoned; start a new one", s->in->name);
        return -1;
    }
    if (t->ncols <= 0) {
        snprintf(err, errlen, "source %s: %s.%s has no columns to copy", s->in->name, t->schema, t->name);
        return -1;
    }
    if (stopped(s)) {
        snprintf(err, errlen, "source %s: copy of %s.%s stopped", s->in->name, t->schema, t->name);
        return MYSQL_SNAPSHOT_STOPPED;
    }
    if (reader_init(&r)) { snprintf(err, errlen, "out of memory copying %s.%s", t->schema, t->name); goto out; }
    estimate(&r);
    progress(&r, 0);
    int keycols[64] = { 0 };
    for (int k = 0; k < r.npk; k++) keycols[k] = r.k[k].col;
    sql_first = build_select(t, keycols, r.npk, 0, 0, 0, s->o.chunk_rows, 0);
    sql_next = r.npk ? build_select(t, keycols, r.npk, 1, 0, 0, s->o.chunk_rows, 0) : NULL;
    if (!sql_first || (r.npk && !sql_next)) { snprintf(err, errlen, "out of memory"); goto out; }
    unsigned code;
    if (!(first = prepare(&r, sql_first, &code))) {
        rc = code == ER_NO_SUCH_TABLE ? MYSQL_SNAPSHOT_NO_TABLE : -1;
        goto out;
    }
    uint64_t got;
    rc = stream_rows(&r, first, &got, r.npk == 0);
    if (rc) goto out;
    if (r.npk) {
        if (!(next = prepare(&r, sql_next, &code))) { rc = -1; goto out; }
        while (got == s->o.chunk_rows) {
            progress(&r, 0);
            if (stopped(s)) {
                snprintf(err, errlen, "source %s: copy of %s.%s stopped", s->in->name, t->schema, t->name);
                rc = MYSQL_SNAPSHOT_STOPPED;
                goto out;
            }
            bind_key_params(&r);
            if (mysql_stmt_bind_param(next, r.pb) != 0) {
                snprintf(err, errlen, "source %s: binding the key of %s.%s: %s", s->in->name, t->schema,
                         t->name, mysql_stmt_error(next));
                rc = -1;
                goto out;
            }
            rc = stream_rows(&r, next, &got, 0);
            if (rc) goto out;
        }
    }
    progress(&r, 1);
    rc = 0;
out:
    if (rows) *rows = r.copied;
    if (first) mysql_stmt_close(first);
    if (next) mysql_stmt_close(next);
    free(sql_first);
    free(sql_next);
    reader_free(&r);
    return rc;
}

/* The reader's key parameters from an integer key (zkey.h). */
static void key_to_zkey(const struct reader *r, struct zkey *k)
{
    k->n = r->npk;
    for (int j = 0; j < r->npk; j++) {
        k->uns[j] = r->k[j].is_unsigned || r->t->cols[r->k[j].col].type == ZT_UINT64;
        k->v[j].i = r->k[j].num.i;
    }
}

/* Parameters for an integer key's bounds, in put_key_pred's order: the
 * lower key's set (after), then the upper's (upto); each set is k1, then
 * k1..kn (n ≥ 2). pb has room for 2 * (ZKEY_MAX + 1); vals for the values. */
static int bind_bounds(const struct reader *r, const struct zkey *after, const struct zkey *upto,
                       MYSQL_BIND *pb, int64_t *vals)
{
    int n = 0, per = r->npk == 1 ? 1 : r->npk + 1;
    const struct zkey *set[2] = { after, upto };
    for (int s = 0; s < 2; s++) {
        if (!set[s]) continue;
        if (set[s]->n != r->npk) return -1;
        for (int p = 0; p < per; p++, n++) {
            int j = p == 0 ? 0 : r->npk == 1 ? 0 : p - 1;
            if (r->k[j].ptype != MYSQL_TYPE_LONGLONG) return -1;
            vals[n] = set[s]->v[j].i;       /* the same bits for an unsigned column */
            memset(&pb[n], 0, sizeof pb[n]);
            pb[n].buffer_type = MYSQL_TYPE_LONGLONG;
            pb[n].is_unsigned = r->k[j].is_unsigned;
            pb[n].buffer = &vals[n];
        }
    }
    return n;
}

/* The reader of a chunked table (its key integers, zkey_columns): 0, or -1 with err. */
static int chunk_reader(struct reader *r, int *keycols)
{
    const struct mysql_snapshot *s = r->s;
    const struct ztable *t = r->t;
    int cols[ZKEY_MAX];
    if (s->dead) {
        snprintf(r->err, r->errlen, "source %s: the snapshot was abandoned; start a new one", s->in->name);
        return -1;
    }
    if (reader_init(r)) {
        snprintf(r->err, r->errlen, "out of memory copying %s.%s", t->schema, t->name);
        return -1;
    }
    if (!zkey_columns(t, cols) || r->npk != (t->npk > 0 ? t->npk : t->nuk) || r->npk > ZKEY_MAX) {
        snprintf(r->err, r->errlen, "source %s: %s.%s has no integer primary key to copy in chunks by",
                 s->in->name, t->schema, t->name);
        return -1;
    }
    for (int k = 0; k < r->npk; k++) keycols[k] = r->k[k].col;
    return 0;
}

int mysql_snapshot_chunk(struct mysql_snapshot *s, const struct ztable *t, const struct zkey *after,
                         const struct zkey *upto, uint32_t limit, uint64_t *rows, struct zkey *last,
                         char *err, size_t errlen)
{
    struct reader r = { .s = s, .t = t, .err = err, .errlen = errlen };
    MYSQL_STMT *st = NULL;
    char *sql = NULL;
    int rc = -1, keycols[ZKEY_MAX];
    MYSQL_BIND pb[2 * (ZKEY_MAX + 1)];
    int64_t vals[2 * (ZKEY_MAX + 1)];
    *rows = 0;
    if (after && after->n == 0) after = NULL;
    if (upto && upto->n == 0) upto = NULL;
    if (chunk_reader(&r, keycols) != 0) goto out;
    if (limit == 0 && !upto) {
        snprintf(err, errlen, "source %s: a chunk of %s.%s without a limit or an end", s->in->name,
                 t->schema, t->name);
        goto out;
    }
    /* A range fixed in advance (upto) is read whole: no LIMIT. */
    if (!(sql = build_select(t, keycols, r.npk, after != NULL, upto != NULL, 0, upto ? 0 : limit, 0))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    unsigned code;
    if (!(st = prepare(&r, sql, &code))) {
        rc = code == ER_NO_SUCH_TABLE ? MYSQL_SNAPSHOT_NO_TABLE : -1;
        goto out;
    }
    int np = bind_bounds(&r, after, upto, pb, vals);
    if (np < 0) {
        snprintf(err, errlen, "source %s: the chunk bound does not fit the key of %s.%s", s->in->name,
                 t->schema, t->name);
        goto out;
    }
    if (np && mysql_stmt_bind_param(st, pb) != 0) {
        snprintf(err, errlen, "source %s: binding the key of %s.%s: %s", s->in->name, t->schema,
                 t->name, mysql_stmt_error(st));
        goto out;
    }
    rc = stream_rows(&r, st, rows, 0);
    if (rc == 0 && *rows) key_to_zkey(&r, last);
out:
    if (st) mysql_stmt_close(st);
    free(sql);
    reader_free(&r);
    return rc;
}

int mysql_snapshot_chunk_bound(struct mysql_snapshot *s, const struct ztable *t, const struct zkey *after,
                               uint32_t n, struct zkey *bound, char *err, size_t errlen)
{
    struct reader r = { .s = s, .t = t, .err = err, .errlen = errlen };
    MYSQL_STMT *st = NULL;
    char *sql = NULL;
    int rc = -1, keycols[ZKEY_MAX];
    MYSQL_BIND pb[2 * (ZKEY_MAX + 1)], rb[ZKEY_MAX];
    int64_t vals[2 * (ZKEY_MAX + 1)], got[ZKEY_MAX];
    my_bool isnull[ZKEY_MAX];
    if (after && after->n == 0) after = NULL;
    if (chunk_reader(&r, keycols) != 0) goto out;
    if (n == 0) {
        snprintf(err, errlen, "source %s: a chunk of no rows of %s.%s", s->in->name, t->schema, t->name);
        goto out;
    }
    if (!(sql = build_select(t, keycols, r.npk, after != NULL, 0, 1, 1, n - 1))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    unsigned code;
    if (!(st = prepare(&r, sql, &code))) goto out;
    int np = bind_bounds(&r, after, NULL, pb, vals);
    if (np < 0) {
        snprintf(err, errlen, "source %s: the chunk bound does not fit the key of %s.%s", s->in->name,
                 t->schema, t->name);
        goto out;
    }
    memset(rb, 0, sizeof rb);
    for (int j = 0; j < r.npk; j++) {
        rb[j].buffer_type = MYSQL_TYPE_LONGLONG;
        rb[j].is_unsigned = r.k[j].is_unsigned;
        rb[j].buffer = &got[j];
        rb[j].is_null = &isnull[j];
    }
    if ((np && mysql_stmt_bind_param(st, pb) != 0) || mysql_stmt_execute(st) != 0 ||
        mysql_stmt_bind_result(st, rb) != 0) {
        snprintf(err, errlen, "source %s: finding the next chunk's end in %s.%s: %s (error %u)", s->in->name,
                 t->schema, t->name, mysql_stmt_error(st), mysql_stmt_errno(st));
        goto out;
    }
    int f = mysql_stmt_fetch(st);
    if (f == MYSQL_NO_DATA) {
        rc = 0;                         /* fewer than n rows after: the last chunk */
    } else if (f != 0) {
        snprintf(err, errlen, "source %s: finding the next chunk's end in %s.%s: %s (error %u)", s->in->name,
                 t->schema, t->name, mysql_stmt_error(st), mysql_stmt_errno(st));
    } else {
        bound->n = r.npk;
        for (int j = 0; j < r.npk; j++) {
            if (isnull[j]) {
                snprintf(err, errlen, "source %s: %s.%s has a NULL in its key", s->in->name, t->schema, t->name);
                goto out;
            }
            bound->uns[j] = r.k[j].is_unsigned || t->cols[r.k[j].col].type == ZT_UINT64;
            bound->v[j].i = got[j];
        }
        rc = 1;
    }
out:
    if (st) mysql_stmt_close(st);
    free(sql);
    reader_free(&r);
    return rc;
}

int mysql_snapshot_table(const struct config_integration *in, const struct ztable *t,
                         const struct mysql_snapshot_opts *opts, struct zpos *pos,
                         enum mysql_snapshot_mode *mode, uint64_t *rows,
                         char *err, size_t errlen)
{
    struct mysql_snapshot *s;
    if (rows) *rows = 0;
    if (mysql_snapshot_begin(&s, in, opts, err, errlen)) return -1;
    mysql_snapshot_position(s, pos, mode);
    int rc = mysql_snapshot_copy(s, t, rows, err, errlen);
    mysql_snapshot_end(s);
    return rc;
}
