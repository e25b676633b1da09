/*
 * shape.c — column transforms (shape.h). The keyed hash is OpenSSL's HMAC
 * with SHA-256: a well-kept implementation, where a hand-written one would
 * be one more thing to get right.
 */
#include "runtime/integ/shape.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/target/target.h"

const char *shape_name(enum shape_x x)
{
    switch (x) {
    case SHAPE_HASH: return "hash";
    case SHAPE_MASK: return "mask";
    case SHAPE_NULL: return "null";
    case SHAPE_KEEP: break;
    }
    return "";
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
}

/* HMAC-SHA-256 of p[0..n) under key, as 64 hex digits into out. */
static int hmac_hex(const char *key, const void *p, size_t n, char out[SHAPE_HASH_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const unsigned char none;
    if (!HMAC(EVP_sha256(), key, (int)strlen(key), n ? p : &none, n, md, &mdlen) || mdlen != 32) return -1;
    hex(md, mdlen, out);
    return 0;
}

void shape_key_id(const char *key, char out[9])
{
    char h[SHAPE_HASH_HEX];
    static const char label[] = "zetl hash_key id";
    if (!key || hmac_hex(key, label, sizeof label - 1, h) != 0) {
        snprintf(out, 9, "none");
        return;
    }
    memcpy(out, h, 8);
    out[8] = '\0';
}

static int is_text(const struct zcolumn *c)
{
    return !c->is_array && (c->type == ZT_CHAR || c->type == ZT_VARCHAR || c->type == ZT_TEXT);
}

static int is_float(const struct zcolumn *c)
{
    return c->type == ZT_FLOAT32 || c->type == ZT_FLOAT64;
}

static uint64_t fnv64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

void shape_free(struct shape *s)
{
    free(s->x);
    free(s->sig);
    free(s->reads);
    memset(s, 0, sizeof *s);
}

/* Why column c may not take transform x (NULL: it may); fix for the operator. */
static const char *refusal(const struct ztable *def, const struct zcolumn *c, unsigned bits, enum shape_x x,
                           const char **fix)
{
    if (bits & (bits - 1)) {
        *fix = "keep the column in one of hash_columns, mask_columns and null_columns";
        return "is in more than one of tables.hash_columns, mask_columns and null_columns";
    }
    if (c->pk_ord || (def->npk == 0 && c->uk_ord)) {
        *fix = "leave it out of the transform lists (or out of the table with tables.exclude_columns)";
        return def->npk ? "is part of the primary key, which finds the table's rows: a key column is never transformed"
                        : "is part of the unique key the table is keyed and copied by: a key column is never transformed";
    }
    if (x == SHAPE_MASK && !is_text(c)) {
        *fix = "mask applies to CHAR, VARCHAR and TEXT columns: hash or null it instead (hash_columns, null_columns)";
        return "is not a text column";
    }
    if (x == SHAPE_HASH && is_float(c)) {
        *fix = "null it instead (null_columns), or leave it out with tables.exclude_columns";
        return "is a floating-point column, whose text differs between the copy and the stream, so its hash would too";
    }
    return NULL;
}

/* A table's refusal: what and fix (one line each); returns 1. */
static int refuse(char *what, size_t whatlen, char *fix, size_t fixlen, const char *f, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static int refuse(char *what, size_t whatlen, char *fix, size_t fixlen, const char *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, whatlen, fmt, ap);
    va_end(ap);
    snprintf(fix, fixlen, "%s, then restart zetl", f);
    return 1;
}

static void sig_item(struct zbuf *sig, const char *a, const char *b)
{
    if (sig->len) zbuf_putc(sig, ',');
    zbuf_puts(sig, a);
    if (b) zbuf_puts(sig, b);
}

/* The column transforms: s->x, tdef's types, the signature's items. 0, 1 refused, -1 oom. */
static int shape_columns(const struct config_tables *ct, const struct ztable *def, struct ztable *tdef,
                         struct shape *s, struct zbuf *sig, char *what, size_t whatlen, char *fix, size_t fixlen)
{
    char kid[9] = "";
    for (int i = 0; i < def->ncols; i++) {
        const struct zcolumn *c = &def->cols[i];
        unsigned bits = config_column_transforms(ct, def->schema, def->name, c->name);
        if (!bits) continue;
        enum shape_x x = bits & COLX_NULL ? SHAPE_NULL : bits & COLX_HASH ? SHAPE_HASH : SHAPE_MASK;
        const char *f = NULL, *why = refusal(def, c, bits, x, &f);
        if (why) return refuse(what, whatlen, fix, fixlen, f, "column %s.%s.%s %s", def->schema, def->name, c->name, why);
        if (!s->x && !(s->x = calloc((size_t)def->ncols, 1))) return -1;
        s->n = def->ncols;
        s->x[i] = (uint8_t)x;
        struct zcolumn *tc = &tdef->cols[i];
        sig_item(sig, tc->name, "=");
        zbuf_puts(sig, shape_name(x));
        switch (x) {
        case SHAPE_HASH:
            if (!kid[0]) shape_key_id(ct->hash_key, kid);
            zbuf_putc(sig, ':');
            zbuf_puts(sig, kid);
            free(tc->source_type);          /* the target's type is ours now, not the source's */
            tc->source_type = NULL;
            tc->type = ZT_VARCHAR;
            tc->length = SHAPE_HASH_HEX;
            tc->precision = tc->scale = 0;
            tc->is_array = tc->is_unsigned = tc->pg_builtin = 0;
            s->nhash++;
            break;
        case SHAPE_MASK:
            tc->pg_builtin = 0;
            s->nmask++;
            break;
        case SHAPE_NULL:
            tc->nullable = 1;
            s->nnull++;
            break;
        case SHAPE_KEEP:
            break;
        }
    }
    return 0;
}

/* The mode (history, soft_delete): tdef's flag, the signature's item. 0, or 1 refused. */
static int shape_mode(const struct config_tables *ct, const struct ztable *def, struct ztable *tdef,
                      struct shape *s, struct zbuf *sig, char *what, size_t whatlen, char *fix, size_t fixlen)
{
    int hist = config_table_history(ct, def->schema, def->name);
    int soft = config_table_soft_delete(ct, def->schema, def->name);
    if (!hist && !soft) return 0;
    const char *key = hist ? "history" : "soft_delete";
    const char *own[3] = {hist ? TARGET_HIST_ACTIVE : TARGET_SOFT_DELETED, hist ? TARGET_HIST_CREATED : TARGET_SOFT_DELETED_AT,
                          hist ? TARGET_HIST_DELETED : TARGET_SOFT_DELETED_AT};
    for (int i = 0; i < def->ncols; i++)
        for (int k = 0; k < 3; k++)
            if (!strcmp(def->cols[i].name, own[k]))
                return refuse(what, whatlen, fix, fixlen, hist ? "rename the column on the source, or leave the table out of history"
                                                               : "rename the column on the source, or leave the table out of soft_delete",
                              "table %s.%s is in tables.%s but has a column %s of its own", def->schema, def->name, key, own[k]);
    if (hist && soft)
        return refuse(what, whatlen, fix, fixlen, "keep it in one of them (history keeps deleted rows too, as closed versions)",
                      "table %s.%s is in both tables.history and tables.soft_delete", def->schema, def->name);
    if (def->npk == 0 && def->nuk == 0)
        return refuse(what, whatlen, fix, fixlen, hist ? "add a primary key on the source, or leave the table out of history"
                                                       : "add a primary key on the source, or leave the table out of soft_delete",
                      "table %s.%s is in tables.%s but has no primary key (nor a unique key of NOT NULL integers) to %s",
                      def->schema, def->name, key, hist ? "keep its versions by" : "mark its deleted rows by");
    tdef->history = s->history = hist;
    tdef->soft_delete = (uint8_t)soft;
    s->soft_delete = soft;
    sig_item(sig, key, NULL);
    return 0;
}

/* The row filter: s->filter, s->reads, the signature's item. 0, 1 refused, -1 oom. */
static int shape_filter_of(const struct config_tables *ct, const struct ztable *def, struct shape *s,
                           struct zbuf *sig, char *what, size_t whatlen, char *fix, size_t fixlen)
{
    int nf = 0;
    const struct config_filter *f = config_table_filter(ct, def->schema, def->name, &nf);
    if (!f) return 0;
    char e[512];
    if (nf > 1)
        return refuse(what, whatlen, fix, fixlen, "keep one filters entry per table (join the conditions with AND)",
                      "table %s.%s is matched by %d tables.filters entries", def->schema, def->name, nf);
    if (!(s->reads = calloc((size_t)def->ncols + 1, 1))) return -1;
    if (shape_filter_check(f->where, def, s->reads, e, sizeof e) != 0)
        return refuse(what, whatlen, fix, fixlen, "correct the where expression (an SQLite expression over the table's columns)",
                      "the filter of table %s.%s (config line %d): %s", def->schema, def->name, f->line, e);
    s->filter = f->where;
    char h[9];
    snprintf(h, sizeof h, "%08x", (unsigned)(fnv64(f->where) & 0xffffffffu));
    sig_item(sig, "filter:", h);
    return 0;
}

int shape_table(const struct config_tables *ct, const struct ztable *def, struct ztable *tdef,
                struct shape *s, char *what, size_t whatlen, char *fix, size_t fixlen)
{
    memset(s, 0, sizeof *s);
    struct zbuf sig = {0};
    int rc = shape_columns(ct, def, tdef, s, &sig, what, whatlen, fix, fixlen);
    if (rc == 0) rc = shape_mode(ct, def, tdef, s, &sig, what, whatlen, fix, fixlen);
    if (rc == 0) rc = shape_filter_of(ct, def, s, &sig, what, whatlen, fix, fixlen);
    if (rc == 0) {
        static atomic_uint_fast64_t gens;
        s->gen = atomic_fetch_add(&gens, 1) + 1;
        s->key = ct->hash_key;
        zbuf_putc(&sig, '\0');
        if (sig.oom || !(s->sig = strdup(sig.p ? sig.p : ""))) rc = -1;
    }
    zbuf_free(&sig);
    if (rc != 0) shape_free(s);
    return rc;
}

/* UTF-8 characters in p[0..n) (a continuation byte starts none). */
static size_t chars(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += ((unsigned char)p[i] & 0xC0) != 0x80;
    return k;
}

int shape_values(const struct shape *s, struct zvalue *vals, struct zbuf *scratch)
{
    if (!s->x) return 0;
    /* Room first, so no value's text moves once written. */
    size_t need = 0;
    for (int i = 0; i < s->n; i++) {
        const struct zvalue *v = &vals[i];
        if (v->kind == ZV_NULL || v->kind == ZV_UNCHANGED) continue;
        if (s->x[i] == SHAPE_HASH) need += SHAPE_HASH_HEX;
        else if (s->x[i] == SHAPE_MASK && v->kind == ZV_TEXT) need += v->len;
    }
    scratch->len = 0;
    if (need && zbuf_reserve(scratch, need) != 0) return -1;
    for (int i = 0; i < s->n; i++) {
        struct zvalue *v = &vals[i];
        if (!s->x[i] || v->kind == ZV_UNCHANGED) continue;   /* unchanged TOAST: the target keeps its (shaped) value */
        if (s->x[i] == SHAPE_NULL) {
            v->kind = ZV_NULL;
            continue;
        }
        if (v->kind == ZV_NULL) continue;
        char *o = scratch->p + scratch->len;
        if (s->x[i] == SHAPE_HASH) {
            char num[32];
            const void *p = v->v.p;
            size_t n = v->len;
            if (v->kind == ZV_INT || v->kind == ZV_UINT) {
                n = (size_t)(v->kind == ZV_INT ? snprintf(num, sizeof num, "%lld", (long long)v->v.i)
                                               : snprintf(num, sizeof num, "%llu", (unsigned long long)v->v.u));
                p = num;
            } else if (v->kind == ZV_FLOAT) {   /* refused at the table's load; never hashed */
                n = (size_t)snprintf(num, sizeof num, "%.17g", v->v.f);
                p = num;
            }
            if (hmac_hex(s->key ? s->key : "", p, n, o) != 0) return -1;
            scratch->len += SHAPE_HASH_HEX;
            v->kind = ZV_TEXT;
            v->v.p = o;
            v->len = SHAPE_HASH_HEX;
        } else if (v->kind == ZV_TEXT) {       /* mask: text columns only (shape_table) */
            size_t total = chars(v->v.p, v->len), seen = 0, i0 = 0;
            size_t hide = total > SHAPE_MASK_KEEP ? total - SHAPE_MASK_KEEP : total, w = 0;
            const char *p = v->v.p;
            /* '*' per hidden character, then the kept characters' bytes */
            while (i0 < v->len && seen < hide) {
                i0++;
                while (i0 < v->len && ((unsigned char)p[i0] & 0xC0) == 0x80) i0++;
                seen++;
                o[w++] = '*';
            }
            memcpy(o + w, p + i0, v->len - i0);
            w += v->len - i0;
            scratch->len += w;
            v->v.p = o;
            v->len = (uint32_t)w;
        }
    }
    if (scratch->p) scratch->p[scratch->len] = '\0';
    return 0;
}

/* ---- row filters: SQLite evaluates the expression --------------------------------------- */

struct shape_eval {
    sqlite3 *db;
    struct { uint64_t gen; sqlite3_stmt *st; } *c;
    int n, cap, last;
};

#define FILTER_PREFIX "SELECT CASE WHEN ("
#define EVAL_CACHE_MAX 1024     /* statements kept; past it (many reloads) all are made again */

/* A column name as an SQLite identifier, in double quotes. */
static void put_name(struct zbuf *q, const char *name)
{
    zbuf_putc(q, '"');
    for (const char *n = name; *n; n++) {
        if (*n == '"') zbuf_putc(q, '"');
        zbuf_putc(q, *n);
    }
    zbuf_putc(q, '"');
}

/* Only a SELECT reading the row and calling functions may run. */
static int allowed(int action)
{
    return action == SQLITE_SELECT || action == SQLITE_READ || action == SQLITE_FUNCTION ? SQLITE_OK : SQLITE_DENY;
}

static int authorize(void *ctx, int action, const char *a, const char *b, const char *c, const char *d)
{
    (void)ctx; (void)a; (void)b; (void)c; (void)d;
    return allowed(action);
}

static sqlite3 *eval_db(void)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_set_authorizer(db, authorize, NULL);
    sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 1 << 20);
    return db;
}

/* The statement for where over def's columns; NULL with err (and the
 * expression's character the error is at, where SQLite says). */
static sqlite3_stmt *prepare(sqlite3 *db, const char *where, const struct ztable *def, char *err, size_t errlen)
{
    struct zbuf q = {0};
    zbuf_puts(&q, FILTER_PREFIX);
    size_t at = q.len;
    zbuf_puts(&q, where);
    size_t end = q.len;
    zbuf_puts(&q, ") THEN 1 ELSE 0 END FROM (SELECT ");
    for (int i = 0; i < def->ncols; i++) {
        char ph[24];
        snprintf(ph, sizeof ph, "%s?%d AS ", i ? ", " : "", i + 1);
        zbuf_puts(&q, ph);
        put_name(&q, def->cols[i].name);
    }
    zbuf_puts(&q, ")");
    if (q.oom) {
        snprintf(err, errlen, "out of memory");
        zbuf_free(&q);
        return NULL;
    }
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(db, q.p, (int)q.len + 1, SQLITE_PREPARE_PERSISTENT, &st, &tail);
    if (rc != SQLITE_OK) {
        int off = sqlite3_error_offset(db);
        if (off >= (int)at && off < (int)end)
            snprintf(err, errlen, "%s at character %d of the expression", sqlite3_errmsg(db), off - (int)at + 1);
        else if (off == (int)end)
            snprintf(err, errlen, "%s at its end (character %d of the expression: is it cut short?)",
                     sqlite3_errmsg(db), off - (int)at + 1);
        else
            snprintf(err, errlen, "%s (is it one expression, with its parentheses closed?)", sqlite3_errmsg(db));
        st = NULL;
    } else if (tail && *tail) {
        snprintf(err, errlen, "it must be one expression");
        sqlite3_finalize(st);
        st = NULL;
    }
    zbuf_free(&q);
    return st;
}

/* The columns an expression reads: SQLite tells an authorizer of each
 * column of a real table a statement reads (SQLITE_READ). */
struct reads_ctx { const struct ztable *def; uint8_t *reads; };

static int collect_reads(void *ctx, int action, const char *tbl, const char *col, const char *c, const char *d)
{
    (void)c; (void)d;
    struct reads_ctx *r = ctx;
    if (action == SQLITE_READ && tbl && col && !strcmp(tbl, "zetl_row"))
        for (int i = 0; i < r->def->ncols; i++)
            if (!strcmp(r->def->cols[i].name, col)) r->reads[i] = 1;
    return allowed(action);
}

static void find_reads(const char *where, const struct ztable *def, uint8_t *reads)
{
    sqlite3 *db = NULL;
    struct zbuf q = {0};
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, NULL) != SQLITE_OK) goto out;
    zbuf_puts(&q, "CREATE TABLE zetl_row (");
    for (int i = 0; i < def->ncols; i++) {
        if (i) zbuf_puts(&q, ", ");
        put_name(&q, def->cols[i].name);
    }
    zbuf_puts(&q, ")");
    if (q.oom || sqlite3_exec(db, q.p, NULL, NULL, NULL) != SQLITE_OK) goto out;
    struct reads_ctx r = {def, reads};
    sqlite3_set_authorizer(db, collect_reads, &r);
    q.len = 0;
    zbuf_puts(&q, "SELECT (");
    zbuf_puts(&q, where);
    zbuf_puts(&q, ") FROM zetl_row");
    sqlite3_stmt *st = NULL;
    if (!q.oom) sqlite3_prepare_v2(db, q.p, -1, &st, NULL);
    sqlite3_finalize(st);
out:
    zbuf_free(&q);
    sqlite3_close(db);
}

int shape_filter_check(const char *where, const struct ztable *def, uint8_t *reads, char *err, size_t errlen)
{
    sqlite3 *db = eval_db();
    if (!db) {
        snprintf(err, errlen, "cannot open SQLite in memory");
        return 1;
    }
    sqlite3_stmt *st = prepare(db, where, def, err, errlen);
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (st && reads) find_reads(where, def, reads);
    return st ? 0 : 1;
}

void shape_eval_free(struct shape_eval *ev)
{
    if (!ev) return;
    for (int i = 0; i < ev->n; i++) sqlite3_finalize(ev->c[i].st);
    free(ev->c);
    sqlite3_close(ev->db);
    free(ev);
}

static sqlite3_stmt *eval_stmt(struct shape_eval **evp, const struct shape *s, const struct ztable *def,
                               char *err, size_t errlen)
{
    struct shape_eval *ev = *evp;
    if (!ev) {
        if (!(ev = calloc(1, sizeof *ev)) || !(ev->db = eval_db())) {
            free(ev);
            snprintf(err, errlen, "cannot open SQLite in memory for the row filter");
            return NULL;
        }
        *evp = ev;
    }
    if (ev->last < ev->n && ev->c[ev->last].gen == s->gen) return ev->c[ev->last].st;
    for (int i = 0; i < ev->n; i++)
        if (ev->c[i].gen == s->gen) return ev->c[ev->last = i].st;
    if (ev->n >= EVAL_CACHE_MAX) {
        for (int i = 0; i < ev->n; i++) sqlite3_finalize(ev->c[i].st);
        ev->n = 0;
    }
    if (ev->n == ev->cap) {
        int cap = ev->cap ? ev->cap * 2 : 16;
        void *c = realloc(ev->c, (size_t)cap * sizeof *ev->c);
        if (!c) {
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        ev->c = c;
        ev->cap = cap;
    }
    sqlite3_stmt *st = prepare(ev->db, s->filter, def, err, errlen);
    if (!st) return NULL;
    ev->c[ev->n].gen = s->gen;
    ev->c[ev->n].st = st;
    ev->last = ev->n++;
    return st;
}

/* One value, by its column's type (shape.h). */
static int bind_value(sqlite3_stmt *st, int i, const struct zcolumn *c, const struct zvalue *v)
{
    switch (v->kind) {
    case ZV_NULL: return sqlite3_bind_null(st, i);
    case ZV_INT: return sqlite3_bind_int64(st, i, (sqlite3_int64)v->v.i);
    case ZV_UINT:
        return v->v.u <= (uint64_t)INT64_MAX ? sqlite3_bind_int64(st, i, (sqlite3_int64)v->v.u)
                                             : sqlite3_bind_double(st, i, (double)v->v.u);
    case ZV_FLOAT: return sqlite3_bind_double(st, i, v->v.f);
    case ZV_BYTES: return sqlite3_bind_blob(st, i, v->len ? v->v.p : "", (int)v->len, SQLITE_STATIC);
    case ZV_TEXT: break;
    default: return sqlite3_bind_null(st, i);
    }
    char num[64];
    int numeric = !c->is_array && (c->type == ZT_DECIMAL || c->type == ZT_FLOAT32 || c->type == ZT_FLOAT64 ||
                                   c->type == ZT_INT16 || c->type == ZT_INT32 || c->type == ZT_INT64 ||
                                   c->type == ZT_UINT64 || c->type == ZT_YEAR);
    if ((numeric || c->type == ZT_BOOL) && v->len < sizeof num) {
        memcpy(num, v->v.p, v->len);
        num[v->len] = '\0';
        if (c->type == ZT_BOOL && !c->is_array)
            return sqlite3_bind_int(st, i, num[0] == 't' || num[0] == 'T' || num[0] == '1' || num[0] == 'y');
        if (numeric) {
            char *e;
            if (c->type != ZT_DECIMAL && c->type != ZT_FLOAT32 && c->type != ZT_FLOAT64) {
                long long x = strtoll(num, &e, 10);
                if (*num && !*e) return sqlite3_bind_int64(st, i, x);
            }
            double d = strtod(num, &e);
            if (*num && !*e) return sqlite3_bind_double(st, i, d);
        }
    }
    return sqlite3_bind_text(st, i, v->len ? v->v.p : "", (int)v->len, SQLITE_STATIC);
}

int shape_filter(struct shape_eval **ev, const struct shape *s, const struct ztable *def,
                 const struct zvalue *vals, const struct zvalue *before, char *err, size_t errlen)
{
    if (!s->filter) return 1;
    sqlite3_stmt *st = eval_stmt(ev, s, def, err, errlen);
    if (!st) return -1;
    int unknown = 0;
    for (int i = 0; i < def->ncols; i++) {
        const struct zvalue *v = &vals[i];
        if (v->kind == ZV_UNCHANGED) {          /* the same as before: take it from there */
            if (before && before[i].kind != ZV_UNCHANGED) v = &before[i];
            else if (s->reads && s->reads[i]) {
                unknown = 1;
                snprintf(err, errlen, "the row filter reads column %s, whose unchanged value PostgreSQL did not send "
                         "(TOAST); set REPLICA IDENTITY FULL on the source table, then resync it", def->cols[i].name);
            }
        }
        if (bind_value(st, i + 1, &def->cols[i], v) != SQLITE_OK) {
            snprintf(err, errlen, "row filter: %s", sqlite3_errmsg((*ev)->db));
            sqlite3_reset(st);
            return -1;
        }
    }
    int rc = sqlite3_step(st), r = -1;
    if (rc == SQLITE_ROW) r = sqlite3_column_int(st, 0) != 0;
    else snprintf(err, errlen, "row filter: %s", sqlite3_errmsg((*ev)->db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    /* An unchanged value the expression may read: it cannot be judged. */
    return unknown && r >= 0 ? -2 : r;
}
