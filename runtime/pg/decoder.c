/*
 * decoder.c — pgoutput messages → zsink calls (see decoder.h).
 */
#include "runtime/pg/decoder.h"
#include "runtime/base/buf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/pg/pgoutput.h"
#include "runtime/pg/streamed.h"
#include "runtime/pipe/held.h"

/* How a column's text value becomes a zvalue. */
enum conv { CV_TEXT = 0, CV_INT, CV_BYTEA };

struct pgrel {
    uint32_t       oid;         /* 0 = empty slot */
    struct ztable *def;         /* current definition (owned) */
    struct ztable *old;         /* definition the sink knows, until announced (owned) */
    uint8_t       *conv;        /* enum conv per column of def */
};

struct pgtype {
    uint32_t oid;
    char    *name;              /* "nsp.typname", quoted where needed; arrays "nsp.elem[]" */
    uint8_t  is_array;          /* typname began with '_' */
};

struct pgdec {
    struct zsink     sink;
    pgdec_resolve_fn resolve;
    void            *resolve_ctx;

    struct pgrel    *rels;      /* open addressing by OID, power-of-two capacity */
    size_t           rcap, rcount;
    struct pgtype   *types;
    size_t           ntypes, tcap;

    struct zvalue   *before, *after;    /* reused value arrays */
    int              vcap;
    uint8_t         *arena;     /* decoded bytea of the current message */
    size_t           acap, aused;

    int              in_txn;
    struct ztxn      txn;
    uint64_t         begin_lsn;         /* envelope LSN of Begin */
    uint64_t         final_lsn;         /* commit LSN announced by Begin */
    uint64_t         last_end;
    uint64_t         lsn;               /* LSN of the message being decoded */
    uint8_t          tag;

    struct pgstreamed *xs;              /* protocol 2: in-progress transactions held; NULL off */
    int            (*tick)(void *ctx);
    void            *tick_ctx;
    struct zheld    *held;              /* pgdec_set_held; NULL none */

    struct pgdec_stats st;
    char             err[512];
};

/* ---- built-in types ---------------------------------------------------- */

enum tm { TM_NONE = 0, TM_CHAR, TM_NUMERIC, TM_TIME, TM_BIT, TM_INTERVAL };

struct builtin {
    uint32_t    oid, array_oid;
    enum ztype  type;
    uint8_t     tm;             /* enum tm: how typmod reads */
    uint8_t     conv;           /* enum conv */
    const char *name;           /* format_type() without typmod */
    const char *fmt;            /* with typmod: %d placeholders, NULL = same as name */
};

static const struct builtin builtins[] = {
    {16,   1000, ZT_BOOL,        TM_NONE,     CV_TEXT,  "boolean", NULL},
    {17,   1001, ZT_BYTES,       TM_NONE,     CV_BYTEA, "bytea", NULL},
    {18,   1002, ZT_OTHER,       TM_NONE,     CV_TEXT,  "\"char\"", NULL},
    {19,   1003, ZT_TEXT,        TM_NONE,     CV_TEXT,  "name", NULL},
    {20,   1016, ZT_INT64,       TM_NONE,     CV_INT,   "bigint", NULL},
    {21,   1005, ZT_INT16,       TM_NONE,     CV_INT,   "smallint", NULL},
    {23,   1007, ZT_INT32,       TM_NONE,     CV_INT,   "integer", NULL},
    {25,   1009, ZT_TEXT,        TM_NONE,     CV_TEXT,  "text", NULL},
    {26,   1028, ZT_INT64,       TM_NONE,     CV_INT,   "oid", NULL},
    {114,  199,  ZT_JSON,        TM_NONE,     CV_TEXT,  "json", NULL},
    {142,  143,  ZT_OTHER,       TM_NONE,     CV_TEXT,  "xml", NULL},
    {600,  1017, ZT_OTHER,       TM_NONE,     CV_TEXT,  "point", NULL},
    {601,  1018, ZT_OTHER,       TM_NONE,     CV_TEXT,  "lseg", NULL},
    {602,  1019, ZT_OTHER,       TM_NONE,     CV_TEXT,  "path", NULL},
    {603,  1020, ZT_OTHER,       TM_NONE,     CV_TEXT,  "box", NULL},
    {604,  1027, ZT_OTHER,       TM_NONE,     CV_TEXT,  "polygon", NULL},
    {628,  629,  ZT_OTHER,       TM_NONE,     CV_TEXT,  "line", NULL},
    {650,  651,  ZT_CIDR,        TM_NONE,     CV_TEXT,  "cidr", NULL},
    {700,  1021, ZT_FLOAT32,     TM_NONE,     CV_TEXT,  "real", NULL},
    {701,  1022, ZT_FLOAT64,     TM_NONE,     CV_TEXT,  "double precision", NULL},
    {718,  719,  ZT_OTHER,       TM_NONE,     CV_TEXT,  "circle", NULL},
    {774,  775,  ZT_OTHER,       TM_NONE,     CV_TEXT,  "macaddr8", NULL},
    {790,  791,  ZT_OTHER,       TM_NONE,     CV_TEXT,  "money", NULL},
    {829,  1040, ZT_MACADDR,     TM_NONE,     CV_TEXT,  "macaddr", NULL},
    {869,  1041, ZT_INET,        TM_NONE,     CV_TEXT,  "inet", NULL},
    {1042, 1014, ZT_CHAR,        TM_CHAR,     CV_TEXT,  "bpchar", "character(%d)"},
    {1043, 1015, ZT_VARCHAR,     TM_CHAR,     CV_TEXT,  "character varying", "character varying(%d)"},
    {1082, 1182, ZT_DATE,        TM_NONE,     CV_TEXT,  "date", NULL},
    {1083, 1183, ZT_TIME,        TM_TIME,     CV_TEXT,  "time without time zone", "time(%d) without time zone"},
    {1114, 1115, ZT_TIMESTAMP,   TM_TIME,     CV_TEXT,  "timestamp without time zone", "timestamp(%d) without time zone"},
    {1184, 1185, ZT_TIMESTAMPTZ, TM_TIME,     CV_TEXT,  "timestamp with time zone", "timestamp(%d) with time zone"},
    {1186, 1187, ZT_INTERVAL,    TM_INTERVAL, CV_TEXT,  "interval", "interval(%d)"},
    {1266, 1270, ZT_TIMETZ,      TM_TIME,     CV_TEXT,  "time with time zone", "time(%d) with time zone"},
    {1560, 1561, ZT_BIT,         TM_BIT,      CV_TEXT,  "bit", "bit(%d)"},
    {1562, 1563, ZT_VARBIT,      TM_BIT,      CV_TEXT,  "bit varying", "bit varying(%d)"},
    {1700, 1231, ZT_DECIMAL,     TM_NUMERIC,  CV_TEXT,  "numeric", "numeric(%d,%d)"},
    {2950, 2951, ZT_UUID,        TM_NONE,     CV_TEXT,  "uuid", NULL},
    {3220, 3221, ZT_OTHER,       TM_NONE,     CV_TEXT,  "pg_lsn", NULL},
    {3614, 3643, ZT_OTHER,       TM_NONE,     CV_TEXT,  "tsvector", NULL},
    {3615, 3645, ZT_OTHER,       TM_NONE,     CV_TEXT,  "tsquery", NULL},
    {3802, 3807, ZT_JSON,        TM_NONE,     CV_TEXT,  "jsonb", NULL},
    {3904, 3905, ZT_OTHER,       TM_NONE,     CV_TEXT,  "int4range", NULL},
    {3906, 3907, ZT_OTHER,       TM_NONE,     CV_TEXT,  "numrange", NULL},
    {3908, 3909, ZT_OTHER,       TM_NONE,     CV_TEXT,  "tsrange", NULL},
    {3910, 3911, ZT_OTHER,       TM_NONE,     CV_TEXT,  "tstzrange", NULL},
    {3912, 3913, ZT_OTHER,       TM_NONE,     CV_TEXT,  "daterange", NULL},
    {3926, 3927, ZT_OTHER,       TM_NONE,     CV_TEXT,  "int8range", NULL},
};

static const struct builtin *builtin_find(uint32_t oid, int *is_array)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (builtins[i].oid == oid) { *is_array = 0; return &builtins[i]; }
        if (builtins[i].array_oid == oid) { *is_array = 1; return &builtins[i]; }
    }
    return NULL;
}

/* Appends s to buf, truncating at len (never writes past it). */
static void put_str(char *buf, size_t len, const char *s)
{
    size_t n = strlen(buf);
    if (n + 1 < len) snprintf(buf + n, len - n, "%s", s);
}

int pgdec_builtin_type(uint32_t oid, int32_t typmod, struct zcolumn *col,
                       char *name_buf, size_t name_len)
{
    int arr = 0;
    const struct builtin *b = builtin_find(oid, &arr);
    if (!b) return -1;
    col->type = b->type;
    col->is_array = (uint8_t)arr;
    col->length = -1;
    col->precision = 0;
    col->scale = 0;
    int n = 0;
    switch (b->tm) {
    case TM_CHAR:
        if (typmod >= 4) {
            col->length = typmod - 4;
            n = snprintf(name_buf, name_len, b->fmt, col->length);
        } else if (b->oid == 1042) {
            n = snprintf(name_buf, name_len, "bpchar");
        }
        break;
    case TM_NUMERIC:
        if (typmod >= 4) {
            int32_t t = typmod - 4;
            col->precision = (int16_t)((t >> 16) & 0xffff);
            col->scale = (int16_t)((((t & 0x7ff) ^ 1024)) - 1024);   /* 11-bit signed (PG 15) */
            n = snprintf(name_buf, name_len, b->fmt, col->precision, col->scale);
        }
        break;
    case TM_TIME:
        col->scale = 6;
        if (typmod >= 0) {
            col->scale = (int16_t)typmod;
            n = snprintf(name_buf, name_len, b->fmt, (int)typmod);
        }
        break;
    case TM_INTERVAL:
        col->scale = 6;
        if (typmod >= 0 && (typmod & 0xffff) != 0xffff) {
            col->scale = (int16_t)(typmod & 0xffff);
            n = snprintf(name_buf, name_len, b->fmt, col->scale);
        }
        break;
    case TM_BIT:
        if (typmod >= 0) {
            col->length = typmod;
            n = snprintf(name_buf, name_len, b->fmt, (int)typmod);
        }
        break;
    default:
        break;
    }
    if (n == 0) n = snprintf(name_buf, name_len, "%s", b->name);
    if (arr && n >= 0) put_str(name_buf, name_len, "[]");
    return 0;
}

/* ---- errors ------------------------------------------------------------------ */

static int fail(struct pgdec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct pgdec *d, const char *fmt, ...)
{
    char at[24];
    pgout_lsn_str(at, sizeof at, d->lsn);
    int n = snprintf(d->err, sizeof d->err, "pgoutput: message at %s ", at);
    if (n < 0 || (size_t)n >= sizeof d->err) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err + n, sizeof d->err - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- caches -------------------------------------------------------------------- */

static struct pgrel *rel_find(const struct pgdec *d, uint32_t oid)
{
    if (!d->rcap || oid == 0) return NULL;
    size_t mask = d->rcap - 1;
    for (size_t i = (oid * 2654435761u) & mask;; i = (i + 1) & mask) {
        if (d->rels[i].oid == oid) return &d->rels[i];
        if (d->rels[i].oid == 0) return NULL;
    }
}

static struct pgrel *rel_slot(struct pgdec *d, uint32_t oid)
{
    if ((d->rcount + 1) * 2 > d->rcap) {
        size_t ncap = d->rcap ? d->rcap * 2 : 16;
        struct pgrel *n = calloc(ncap, sizeof *n);
        if (!n) return NULL;
        for (size_t i = 0; i < d->rcap; i++) {
            if (!d->rels[i].oid) continue;
            size_t j = (d->rels[i].oid * 2654435761u) & (ncap - 1);
            while (n[j].oid) j = (j + 1) & (ncap - 1);
            n[j] = d->rels[i];
        }
        free(d->rels);
        d->rels = n;
        d->rcap = ncap;
    }
    size_t mask = d->rcap - 1;
    size_t i = (oid * 2654435761u) & mask;
    while (d->rels[i].oid && d->rels[i].oid != oid) i = (i + 1) & mask;
    if (!d->rels[i].oid) { d->rels[i].oid = oid; d->rcount++; }
    return &d->rels[i];
}

static struct pgtype *type_find(const struct pgdec *d, uint32_t oid)
{
    for (size_t i = 0; i < d->ntypes; i++)
        if (d->types[i].oid == oid) return &d->types[i];
    return NULL;
}

/* Appends ident to buf, double-quoted unless it is a plain lower-case name. */
static void put_ident(char *buf, size_t len, const char *id)
{
    int plain = id[0] && !(id[0] >= '0' && id[0] <= '9');
    for (const char *c = id; *c && plain; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) plain = 0;
    size_t n = strlen(buf);
    if (plain) { snprintf(buf + n, len - n, "%s", id); return; }
    if (n + 1 < len) buf[n++] = '"';
    for (const char *c = id; *c && n + 2 < len; c++) {
        if (*c == '"') buf[n++] = '"';
        buf[n++] = *c;
    }
    if (n + 1 < len) buf[n++] = '"';
    buf[n] = 0;
}

/* ---- construction ------------------------------------------------------------ */

struct pgdec *pgdec_new(const struct zsink *sink)
{
    struct pgdec *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->sink = *sink;
    return d;
}

static void rel_clear(struct pgrel *r)
{
    ztable_free(r->def);
    ztable_free(r->old);
    free(r->conv);
}

void pgdec_free(struct pgdec *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->rcap; i++)
        if (d->rels[i].oid) rel_clear(&d->rels[i]);
    free(d->rels);
    for (size_t i = 0; i < d->ntypes; i++) free(d->types[i].name);
    free(d->types);
    free(d->before);
    free(d->after);
    free(d->arena);
    pgstreamed_free(d->xs);
    if (d->held) {
        atomic_store(&d->held->open, 0);
        atomic_store(&d->held->bytes, 0);
        atomic_store(&d->held->since_ms, 0);
    }
    free(d);
}

int pgdec_stream_in_progress(struct pgdec *d, const char *dir, const char *name)
{
    if (!d->xs) d->xs = pgstreamed_new(dir, name);
    return d->xs ? 0 : -1;
}

void pgdec_set_tick(struct pgdec *d, int (*tick)(void *ctx), void *ctx)
{
    d->tick = tick;
    d->tick_ctx = ctx;
}

void pgdec_set_resolver(struct pgdec *d, pgdec_resolve_fn fn, void *ctx)
{
    d->resolve = fn;
    d->resolve_ctx = ctx;
}

void pgdec_set_held(struct pgdec *d, struct zheld *out) { d->held = out; }

/* What is held now, to d->held. */
static void publish_held(const struct pgdec *d)
{
    if (!d->held) return;
    struct pgstreamed_stats x;
    pgstreamed_stats(d->xs, &x);
    atomic_store(&d->held->bytes, x.held_bytes);
    atomic_store(&d->held->since_ms, x.oldest_ms);
    atomic_store(&d->held->open, x.open);
}

int pgdec_in_txn(const struct pgdec *d) { return d->in_txn || (d->xs && pgstreamed_in_block(d->xs)); }
uint64_t pgdec_last_commit_end(const struct pgdec *d) { return d->last_end; }
int64_t pgdec_txn_commit_time(const struct pgdec *d) { return d->txn.commit_time_us; }
const char *pgdec_error(const struct pgdec *d) { return d->err; }
void pgdec_stats(const struct pgdec *d, struct pgdec_stats *out)
{
    *out = d->st;
    if (d->xs) {
        struct pgstreamed_stats x;
        pgstreamed_stats(d->xs, &x);
        out->streamed_txns = x.txns;
        out->streamed_aborts = x.aborted + x.sub_aborted;
        out->streamed_bytes = x.bytes;
    }
}

const struct ztable *pgdec_table(const struct pgdec *d, uint32_t relid)
{
    const struct pgrel *r = rel_find(d, relid);
    return r ? r->def : NULL;
}

/* ---- Relation and Type ----------------------------------------------------------- */

static int on_type(struct pgdec *d, const struct pgout_type *m)
{
    struct pgtype *t = type_find(d, m->oid);
    if (!t) {
        struct pgtype *n = zarray_grow(d->types, &d->tcap, d->ntypes + 1, sizeof *n);
        if (!n) return fail(d, "(Type): out of memory");
        d->types = n;
        t = &d->types[d->ntypes++];
        memset(t, 0, sizeof *t);
        t->oid = m->oid;
    }
    char buf[300] = "";
    const char *tn = m->typname;
    t->is_array = tn[0] == '_' && tn[1] != 0;
    if (t->is_array) tn++;
    if (m->nspname[0]) {
        put_ident(buf, sizeof buf, m->nspname);
        put_str(buf, sizeof buf, ".");
    }
    put_ident(buf, sizeof buf, tn);
    if (t->is_array) put_str(buf, sizeof buf, "[]");
    char *name = strdup(buf);
    if (!name) return fail(d, "(Type): out of memory");
    free(t->name);
    t->name = name;
    return 0;
}

static int on_relation(struct pgdec *d, const struct pgout_relation *m)
{
    if (m->oid == 0)        /* InvalidOid; also the relation cache's empty-slot marker */
        return fail(d, "malformed (Relation %s.%s has the invalid OID 0)", m->nspname, m->relname);
    struct ztable *t = calloc(1, sizeof *t);
    uint8_t *conv = calloc(m->ncols ? m->ncols : 1, 1);
    uint32_t *oids = calloc(m->ncols ? m->ncols : 1, sizeof *oids);
    int32_t *mods = calloc(m->ncols ? m->ncols : 1, sizeof *mods);
    int rc = -1;
    if (!t || !conv || !oids || !mods) { fail(d, "(Relation): out of memory"); goto out_free; }
    t->schema = strdup(m->nspname[0] ? m->nspname : "pg_catalog");
    t->name = strdup(m->relname);
    t->id = m->oid;
    t->cols = calloc(m->ncols ? m->ncols : 1, sizeof *t->cols);
    if (!t->schema || !t->name || !t->cols) { fail(d, "(Relation): out of memory"); goto out_free; }

    int keyed = m->replident == 'd' || m->replident == 'i';
    struct rd cols = m->cols;
    for (int i = 0; i < m->ncols; i++) {
        struct pgout_column c;
        if (pgout_next_column(&cols, &c)) { fail(d, "malformed (Relation: column %d unreadable)", i + 1); goto out_free; }
        struct zcolumn *z = &t->cols[i];
        t->ncols = i + 1;
        z->name = strdup(c.name);
        if (!z->name) { fail(d, "(Relation): out of memory"); goto out_free; }
        z->nullable = 1;
        oids[i] = c.type_oid;
        mods[i] = c.typmod;
        char tname[300];
        int arr = 0;
        const struct builtin *b = builtin_find(c.type_oid, &arr);
        if (b && pgdec_builtin_type(c.type_oid, c.typmod, z, tname, sizeof tname) == 0) {
            conv[i] = arr ? CV_TEXT : b->conv;
            z->source_type = strdup(tname);
        } else {
            const struct pgtype *ty = type_find(d, c.type_oid);
            z->type = ZT_OTHER;
            z->length = -1;
            conv[i] = CV_TEXT;
            if (ty) {
                z->is_array = ty->is_array;
                z->source_type = strdup(ty->name);
            }
        }
        if ((b || type_find(d, c.type_oid)) && !z->source_type) { fail(d, "(Relation): out of memory"); goto out_free; }
        if (keyed && (c.flags & 1)) z->pk_ord = (int16_t)++t->npk;
    }
    t->ncols = m->ncols;

    if (d->resolve) {
        char rerr[300] = "";
        if (d->resolve(d->resolve_ctx, t, oids, mods, rerr, sizeof rerr)) {
            fail(d, "(Relation %s.%s, OID %u): resolving column types failed: %s",
                 t->schema, t->name, m->oid, rerr[0] ? rerr : "unknown error");
            goto out_free;
        }
        for (int i = 0; i < t->ncols; i++) {        /* the resolver may have re-typed (domains) */
            const struct zcolumn *z = &t->cols[i];
            conv[i] = z->is_array ? CV_TEXT
                    : (z->type == ZT_INT16 || z->type == ZT_INT32 || z->type == ZT_INT64) ? CV_INT
                    : z->type == ZT_BYTES ? CV_BYTEA : CV_TEXT;
        }
    }

    struct pgrel *r = rel_slot(d, m->oid);
    if (!r) { fail(d, "(Relation): out of memory"); goto out_free; }
    if (r->def) {
        if (!r->old) r->old = r->def;       /* the definition the sink knows */
        else ztable_free(r->def);           /* an intermediate no row used */
    }
    free(r->conv);
    r->def = t;
    r->conv = conv;
    t = NULL;
    conv = NULL;
    rc = 0;
out_free:
    ztable_free(t);
    free(conv);
    free(oids);
    free(mods);
    return rc;
}

static int streq(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

static int same_cols(const struct ztable *a, const struct ztable *b)
{
    if (a->ncols != b->ncols || a->npk != b->npk) return 0;
    for (int i = 0; i < a->ncols; i++) {
        const struct zcolumn *x = &a->cols[i], *y = &b->cols[i];
        if (!streq(x->name, y->name) || x->type != y->type || x->length != y->length ||
            x->precision != y->precision || x->scale != y->scale ||
            x->is_array != y->is_array || x->pk_ord != y->pk_ord ||
            x->nullable != y->nullable || !streq(x->source_type, y->source_type))
            return 0;
    }
    return 1;
}

/* Before the next row of r: tell the sink how the definition changed, if it did. */
static int announce(struct pgdec *d, struct pgrel *r)
{
    struct ztable *old = r->old;
    if (!old) return 0;
    r->old = NULL;
    int rc = 0;
    struct ztable *mid = NULL;
    int renamed = !streq(old->schema, r->def->schema) || !streq(old->name, r->def->name);
    int altered = !same_cols(old, r->def);
    const struct ztable *from = old;

    if (renamed) {
        const struct ztable *to = r->def;
        if (altered) {          /* rename first, keeping the old columns */
            mid = ztable_dup(old);
            if (!mid) { rc = fail(d, "(Relation): out of memory"); goto out; }
            free(mid->schema);
            free(mid->name);
            mid->schema = strdup(r->def->schema);
            mid->name = strdup(r->def->name);
            if (!mid->schema || !mid->name) { rc = fail(d, "(Relation): out of memory"); goto out; }
            to = mid;
        }
        struct zschema_change sc = { .kind = ZDDL_RENAME_TABLE, .old_def = old, .new_def = to };
        d->st.schema_changes++;
        if (d->sink.schema && (rc = d->sink.schema(d->sink.ctx, &sc)) != 0) goto out;
        from = to;
    }
    if (altered) {
        struct zschema_change sc = { .kind = ZDDL_ALTER_TABLE, .old_def = from, .new_def = r->def };
        d->st.schema_changes++;
        if (d->sink.schema && (rc = d->sink.schema(d->sink.ctx, &sc)) != 0) goto out;
    }
out:
    ztable_free(mid);
    ztable_free(old);
    return rc;
}

/* ---- values -------------------------------------------------------------------- */

static int parse_int(const uint8_t *p, uint32_t n, int64_t *out)
{
    uint32_t i = 0;
    int neg = 0;
    if (n && (p[0] == '-' || p[0] == '+')) { neg = p[0] == '-'; i = 1; }
    if (i == n) return -1;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        unsigned dgt = (unsigned)(p[i] - '0');
        if (v > (UINT64_C(9223372036854775808) - dgt) / 10) return -1;
        v = v * 10 + dgt;
    }
    if (!neg && v > INT64_MAX) return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* bytea output, hex ("\x00ff") or escape ("a\\b\001"), into out (room for n bytes). */
static int decode_bytea(const uint8_t *p, uint32_t n, uint8_t *out, uint32_t *outlen)
{
    uint32_t o = 0;
    if (n >= 2 && p[0] == '\\' && p[1] == 'x') {
        if ((n - 2) % 2) return -1;
        for (uint32_t i = 2; i < n; i += 2) {
            int hi = hexval(p[i]), lo = hexval(p[i + 1]);
            if (hi < 0 || lo < 0) return -1;
            out[o++] = (uint8_t)(hi << 4 | lo);
        }
    } else {
        for (uint32_t i = 0; i < n;) {
            if (p[i] != '\\') { out[o++] = p[i++]; continue; }
            if (i + 1 < n && p[i + 1] == '\\') { out[o++] = '\\'; i += 2; continue; }
            if (i + 3 < n && p[i + 1] >= '0' && p[i + 1] <= '3' && p[i + 2] >= '0' &&
                p[i + 2] <= '7' && p[i + 3] >= '0' && p[i + 3] <= '7') {
                out[o++] = (uint8_t)((p[i + 1] - '0') << 6 | (p[i + 2] - '0') << 3 | (p[i + 3] - '0'));
                i += 4;
                continue;
            }
            return -1;
        }
    }
    *outlen = o;
    return 0;
}

static int ensure_values(struct pgdec *d, int ncols, size_t arena)
{
    if (ncols > d->vcap) {
        int ncap = ncols < 16 ? 16 : ncols;
        struct zvalue *b = realloc(d->before, (size_t)ncap * sizeof *b);
        if (!b) return -1;
        d->before = b;
        struct zvalue *a = realloc(d->after, (size_t)ncap * sizeof *a);
        if (!a) return -1;
        d->after = a;
        d->vcap = ncap;
    }
    if (arena > d->acap) {
        size_t ncap = d->acap ? d->acap : 4096;
        while (ncap < arena) ncap *= 2;
        uint8_t *n = malloc(ncap);     /* nothing in it survives a message: no realloc copy */
        if (!n) return -1;
        free(d->arena);
        d->arena = n;
        d->acap = ncap;
    }
    d->aused = 0;
    return 0;
}

static int decode_tuple(struct pgdec *d, const struct pgrel *r, const struct pgout_tuple *t,
                        struct zvalue *out)
{
    const struct ztable *def = r->def;
    const char *what = pgout_tag_name(d->tag);
    if (t->ncols != def->ncols)
        return fail(d, "malformed (%s: tuple has %u columns, relation %s.%s (OID %u) has %d)",
                    what, t->ncols, def->schema, def->name, r->oid, def->ncols);
    struct rd cur;
    pgout_tuple_first(&cur, t);
    for (int i = 0; i < def->ncols; i++) {
        struct pgout_datum v;
        struct zvalue *z = &out[i];
        if (pgout_tuple_next(&cur, &v))
            return fail(d, "malformed (%s: column %d unreadable)", what, i + 1);
        z->len = 0;
        z->v.i = 0;
        switch (v.kind) {
        case 'n': z->kind = ZV_NULL; continue;
        case 'u': z->kind = ZV_UNCHANGED; continue;
        case 'b':
            return fail(d, "malformed (%s: column %s of %s.%s is binary tuple data, which zetl does not request; start replication without binary 'true')",
                        what, def->cols[i].name, def->schema, def->name);
        default: break;
        }
        switch (r->conv[i]) {
        case CV_INT:
            z->kind = ZV_INT;
            if (parse_int(v.p, v.len, &z->v.i))
                return fail(d, "malformed (%s: column %s of %s.%s: \"%.*s\" is not an integer)",
                            what, def->cols[i].name, def->schema, def->name,
                            (int)(v.len > 40 ? 40 : v.len), (const char *)v.p);
            break;
        case CV_BYTEA: {
            uint32_t n = 0;
            uint8_t *o = d->arena + d->aused;
            if (decode_bytea(v.p, v.len, o, &n))
                return fail(d, "malformed (%s: column %s of %s.%s: bytea text is neither hex nor escape format)",
                            what, def->cols[i].name, def->schema, def->name);
            d->aused += n;
            z->kind = ZV_BYTES;
            z->len = n;
            z->v.p = (const char *)o;
            break;
        }
        default:
            z->kind = ZV_TEXT;
            z->len = v.len;
            z->v.p = (const char *)v.p;
        }
    }
    return 0;
}

/* ---- rows ------------------------------------------------------------------------ */

static struct pgrel *row_rel(struct pgdec *d, uint32_t relid)
{
    struct pgrel *r = rel_find(d, relid);
    if (!r) {
        fail(d, "(%s) refers to relation OID %u, which no Relation message described",
             pgout_tag_name(d->tag), relid);
        return NULL;
    }
    return r;
}

static int need_txn(struct pgdec *d)
{
    if (d->in_txn) return 0;
    return fail(d, "(%s) arrived outside a transaction (no Begin)", pgout_tag_name(d->tag));
}

static int emit_row(struct pgdec *d, struct zrowchange *rc)
{
    d->st.rows++;
    return d->sink.row ? d->sink.row(d->sink.ctx, rc) : 0;
}

static int on_change(struct pgdec *d, const struct pgout_msg *m)
{
    int rc;
    if ((rc = need_txn(d))) return rc;
    struct zrowchange ch = {0};
    const struct pgout_tuple *oldt = NULL, *newt = NULL;
    uint32_t relid;
    uint8_t old_kind = 0;
    switch (m->tag) {
    case 'I':
        ch.op = ZOP_INSERT; relid = m->u.insert.relid; newt = &m->u.insert.newtup;
        break;
    case 'U':
        ch.op = ZOP_UPDATE; relid = m->u.update.relid; newt = &m->u.update.newtup;
        old_kind = m->u.update.old_kind;
        if (old_kind) oldt = &m->u.update.oldtup;
        break;
    default:
        ch.op = ZOP_DELETE; relid = m->u.del.relid; oldt = &m->u.del.oldtup;
        old_kind = m->u.del.old_kind;
        break;
    }
    struct pgrel *r = row_rel(d, relid);
    if (!r) return -1;
    size_t arena = (oldt ? oldt->len : 0) + (newt ? newt->len : 0);
    if (ensure_values(d, r->def->ncols, arena)) return fail(d, "(%s): out of memory", pgout_tag_name(d->tag));
    if (oldt && (rc = decode_tuple(d, r, oldt, d->before))) return rc;
    if (newt && (rc = decode_tuple(d, r, newt, d->after))) return rc;
    if ((rc = announce(d, r))) return rc;
    ch.table = r->def;
    ch.before = oldt ? d->before : NULL;
    ch.after = newt ? d->after : NULL;
    ch.before_key_only = old_kind == 'K';
    return emit_row(d, &ch);
}

static int on_truncate(struct pgdec *d, const struct pgout_truncate *m)
{
    int rc;
    if ((rc = need_txn(d))) return rc;
    struct rd ids = m->relids;
    for (uint32_t i = 0; i < m->nrels; i++) {
        struct pgrel *r = row_rel(d, rd_u32be(&ids));
        if (!r) return -1;
        if ((rc = announce(d, r))) return rc;
        struct zrowchange ch = { .op = ZOP_TRUNCATE, .table = r->def };
        if ((rc = emit_row(d, &ch))) return rc;
    }
    return 0;
}

/* ---- transactions ------------------------------------------------------------------ */

static int on_begin(struct pgdec *d, const struct pgout_begin *m)
{
    if (d->in_txn)
        return fail(d, "(Begin of xid %u) arrived inside transaction %" PRIu64 ", which never committed",
                    m->xid, d->txn.xid);
    memset(&d->txn, 0, sizeof d->txn);
    d->txn.xid = m->xid;
    d->txn.commit_time_us = pgdec_time_to_unix_us(m->commit_time);
    d->final_lsn = m->final_lsn;
    /* Known before any row: a resync's handoff decides by it whether the
     * copy already holds this transaction (zpos_txn_in_copy). Commit checks
     * it announces the same LSN, so txn.commit_lsn stays right to the end. */
    d->txn.commit_lsn = m->final_lsn;
    d->begin_lsn = d->lsn;
    d->in_txn = 1;
    return d->sink.begin ? d->sink.begin(d->sink.ctx, &d->txn) : 0;
}

static int on_commit(struct pgdec *d, const struct pgout_commit *m)
{
    int rc;
    if ((rc = need_txn(d))) return rc;
    if (m->commit_lsn != d->final_lsn) {
        char a[24], b[24];
        return fail(d, "(Commit) has commit LSN %s, but its Begin announced %s",
                    pgout_lsn_str(a, sizeof a, m->commit_lsn), pgout_lsn_str(b, sizeof b, d->final_lsn));
    }
    d->txn.end.kind = ZPOS_LSN;
    d->txn.end.offset = m->end_lsn;
    d->txn.commit_time_us = pgdec_time_to_unix_us(m->commit_time);
    d->txn.bytes = m->end_lsn > d->begin_lsn ? m->end_lsn - d->begin_lsn : 0;
    d->in_txn = 0;
    d->last_end = m->end_lsn;
    d->st.txns++;
    return d->sink.commit ? d->sink.commit(d->sink.ctx, &d->txn) : 0;
}

/* ---- protocol 2: streamed transactions ---------------------------------------- */

struct replay { struct pgdec *d; uint64_t n; };

static int replay_one(void *ctx, uint64_t lsn, const uint8_t *msg, size_t len)
{
    struct replay *p = ctx;
    struct pgdec *d = p->d;
    if (++p->n % 4096 == 0 && d->tick) {
        int rc = d->tick(d->tick_ctx);
        if (rc) return rc;
    }
    return pgdec_feed(d, lsn, msg, len);
}

/* Stream Commit: the held transaction to the sink as Begin, its messages, Commit. */
static int stream_commit(struct pgdec *d, const struct pgout_stream *m)
{
    if (d->in_txn)
        return fail(d, "(Stream Commit of xid %u) arrived inside transaction %" PRIu64 ", which never committed",
                    m->xid, d->txn.xid);
    uint64_t at = d->lsn, first = pgstreamed_first_lsn(d->xs, m->xid);
    uint8_t b[PGOUT_BEGIN_LEN], c[PGOUT_COMMIT_LEN];
    pgout_build_begin(b, m->commit_lsn, m->commit_time, m->xid);
    pgout_build_commit(c, m->commit_lsn, m->end_lsn, m->commit_time);
    int rc = pgdec_feed(d, first ? first : at, b, sizeof b);
    if (rc) return rc;
    struct replay p = {.d = d};
    char e[512];
    rc = pgstreamed_commit(d->xs, m->xid, replay_one, &p, e, sizeof e);
    if (rc == -1 && !d->err[0]) {
        char l[24];
        snprintf(d->err, sizeof d->err, "pgoutput: streamed transaction %u committed at %s: %.400s", m->xid,
                 pgout_lsn_str(l, sizeof l, m->commit_lsn), e);
    }
    if (rc) return rc;
    return pgdec_feed(d, at, c, sizeof c);
}

/* A message of protocol 2's streaming: 1 when it was one (rc in *rc), 0 when
 * it is an ordinary message for the protocol-1 path. */
static int stream_msg(struct pgdec *d, uint64_t lsn, const uint8_t *p, size_t len, int *rc)
{
    uint8_t tag = len ? p[0] : 0;
    int control = pgout_is_stream_control(tag);
    /* Inside a block every message but an Origin (no xid) is the open transaction's. */
    if (!control && (!pgstreamed_in_block(d->xs) || tag == 'O')) return 0;
    char e[512];
    d->lsn = lsn;
    d->tag = tag;
    d->err[0] = 0;
    d->st.messages++;
    *rc = 0;
    if (!control) {
        if (tag == 'B' || tag == 'C')
            *rc = fail(d, "(%s) arrived inside a stream block, which holds only changes", pgout_tag_name(tag));
        else if (pgstreamed_add(d->xs, lsn, p, len, e, sizeof e) != 0)
            *rc = fail(d, "(streamed %s): %s", pgout_tag_name(tag), e);
        return 1;
    }
    struct rd r;
    struct pgout_stream m;
    rd_init(&r, p, len);
    int prc = pgout_parse_stream(&r, &m);
    if (prc) {
        pgout_format_error(d->err, sizeof d->err, &r, prc, tag, lsn);
        *rc = -1;
        return 1;
    }
    switch (tag) {
    case 'S':
        if (d->in_txn)
            *rc = fail(d, "(Stream Start of xid %u) arrived inside transaction %" PRIu64, m.xid, d->txn.xid);
        else if (pgstreamed_start(d->xs, m.xid, m.first, e, sizeof e) != 0)
            *rc = fail(d, "(Stream Start of xid %u): %s", m.xid, e);
        break;
    case 'E':
        pgstreamed_stop(d->xs);
        break;
    case 'A':
        if (pgstreamed_abort(d->xs, m.xid, m.subxid, e, sizeof e) != 0)
            *rc = fail(d, "(Stream Abort of xid %u, subtransaction %u): %s", m.xid, m.subxid, e);
        break;
    case 'c':
        *rc = stream_commit(d, &m);
        break;
    }
    publish_held(d);
    return 1;
}

int pgdec_feed(struct pgdec *d, uint64_t lsn, const void *msg, size_t len)
{
    struct rd r;
    struct pgout_msg m;
    int src;
    if (d->xs && stream_msg(d, lsn, msg, len, &src)) return src;
    rd_init(&r, msg, len);
    d->lsn = lsn;
    d->tag = len ? ((const uint8_t *)msg)[0] : 0;
    d->err[0] = 0;
    d->st.messages++;
    int rc = pgout_parse(&r, &m);
    if (rc) {
        pgout_format_error(d->err, sizeof d->err, &r, rc, d->tag, lsn);
        return -1;
    }
    switch (m.tag) {
    case 'B': return on_begin(d, &m.u.begin);
    case 'C': return on_commit(d, &m.u.commit);
    case 'R': return on_relation(d, &m.u.relation);
    case 'Y': return on_type(d, &m.u.type);
    case 'I':
    case 'U':
    case 'D': return on_change(d, &m);
    case 'T': return on_truncate(d, &m.u.truncate);
    case 'O':               /* origin of a replicated transaction: nothing to do */
    case 'M':               /* pg_logical_emit_message: not a row change */
    default:
        return 0;
    }
}

int pgdec_keepalive(struct pgdec *d, uint64_t wal_end, int64_t send_time_pg)
{
    if (d->in_txn || !d->sink.heartbeat) return 0;
    struct zpos pos;
    memset(&pos, 0, sizeof pos);
    pos.kind = ZPOS_LSN;
    pos.offset = wal_end > d->last_end ? wal_end : d->last_end;
    return d->sink.heartbeat(d->sink.ctx, &pos, pgdec_time_to_unix_us(send_time_pg));
}
