/*
 * sqlgen.c — SQL text for the target, without a connection: identifier
 * quoting, values in PostgreSQL input syntax, COPY text fields, and the
 * Redshift dialect's parameterized DML (see target.h). Pure and unit-tested.
 */
#include "runtime/target/target.h"

#include "runtime/base/clock.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffers ------------------------------------------------------------------- */

int target_quote_ident(const char *name, char *buf, size_t len)
{
    size_t o = 0;
    if (len < 3) return -1;
    buf[o++] = '"';
    for (const char *s = name; *s; s++) {
        size_t need = *s == '"' ? 2 : 1;
        if (o + need + 2 > len) return -1;
        buf[o++] = *s;
        if (*s == '"') buf[o++] = '"';
    }
    buf[o++] = '"';
    buf[o] = 0;
    return 0;
}

void tbuf_ident(struct zbuf *b, const char *name)
{
    tbuf_putc(b, '"');
    for (const char *s = name, *run = name;; s++) {
        if (*s == '"' || !*s) {
            tbuf_put(b, run, (size_t)(s - run));
            if (!*s) break;
            tbuf_puts(b, "\"\"");
            run = s + 1;
        }
    }
    tbuf_putc(b, '"');
}

void tbuf_qname(struct zbuf *b, const char *schema, const char *name)
{
    if (schema && *schema) {
        tbuf_ident(b, schema);
        tbuf_putc(b, '.');
    }
    tbuf_ident(b, name);
}

/* ---- values ----------------------------------------------------------------------- */

static const char hexd[] = "0123456789abcdef";

/* The decimal digits of v at o (room for 20); their count. Integers are most
 * of a row's COPY text, and snprintf's format handling cost more per value
 * than everything else the applier did with it (callgrind, a catch-up). */
static int u64_dec(char *o, uint64_t v)
{
    char t[20];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++) o[i] = t[n - 1 - i];
    return n;
}

static void put_number(struct zbuf *b, const struct zcolumn *c, const struct zvalue *v)
{
    char tmp[64];
    int n = 0;
    if (c && c->type == ZT_BOOL && (v->kind == ZV_INT || v->kind == ZV_UINT)) {
        tbuf_puts(b, (v->kind == ZV_INT ? v->v.i != 0 : v->v.u != 0) ? "true" : "false");
        return;
    }
    switch (v->kind) {
    case ZV_INT:
        if (v->v.i < 0) {
            tmp[0] = '-';
            n = 1 + u64_dec(tmp + 1, 0 - (uint64_t)v->v.i);
        } else {
            n = u64_dec(tmp, (uint64_t)v->v.i);
        }
        break;
    case ZV_UINT: n = u64_dec(tmp, v->v.u); break;
    case ZV_FLOAT:
        if (isnan(v->v.f)) n = snprintf(tmp, sizeof tmp, "NaN");
        else if (isinf(v->v.f)) n = snprintf(tmp, sizeof tmp, v->v.f > 0 ? "Infinity" : "-Infinity");
        else if (c && c->type == ZT_FLOAT32) n = snprintf(tmp, sizeof tmp, "%.9g", v->v.f);
        else n = snprintf(tmp, sizeof tmp, "%.17g", v->v.f);
        break;
    default: return;
    }
    tbuf_put(b, tmp, (size_t)n);
}

static void put_hex(struct zbuf *b, const struct zvalue *v)
{
    if (zbuf_reserve(b, (size_t)v->len * 2)) return;
    const unsigned char *s = (const unsigned char *)v->v.p;
    char *o = b->p + b->len;
    for (uint32_t i = 0; i < v->len; i++) {
        *o++ = hexd[s[i] >> 4];
        *o++ = hexd[s[i] & 15];
    }
    b->len += (size_t)v->len * 2;
    b->p[b->len] = 0;
}

void target_value_text(struct zbuf *b, const struct zcolumn *c, const struct zvalue *v,
                       int hex_prefix)
{
    switch (v->kind) {
    case ZV_INT: case ZV_UINT: case ZV_FLOAT: put_number(b, c, v); break;
    case ZV_TEXT: tbuf_put(b, v->v.p, v->len); break;
    case ZV_BYTES:
        if (hex_prefix) tbuf_puts(b, "\\x");
        put_hex(b, v);
        break;
    default: break;
    }
}

void target_copy_field(struct zbuf *b, const struct zcolumn *c, const struct zvalue *v)
{
    switch (v->kind) {
    case ZV_NULL: case ZV_UNCHANGED: tbuf_puts(b, "\\N"); return;
    case ZV_BYTES: tbuf_puts(b, "\\\\x"); put_hex(b, v); return;
    case ZV_TEXT: break;
    default: put_number(b, c, v); return;
    }
    /* Text: copy runs of plain bytes, escape the four COPY specials
     * (copy_esc: the letter after the backslash; 0 for a plain byte). */
    static const char copy_esc[256] = {['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r'};
    if (zbuf_reserve(b, (size_t)v->len * 2)) return;
    const char *s = v->v.p;
    char *o = b->p + b->len;
    for (uint32_t i = 0, n = v->len; i < n;) {
        uint32_t j = i;
        while (j < n && !copy_esc[(unsigned char)s[j]]) j++;
        memcpy(o, s + i, j - i);
        o += j - i;
        if (j == n) break;
        *o++ = '\\';
        *o++ = copy_esc[(unsigned char)s[j]];
        i = j + 1;
    }
    b->len = (size_t)(o - b->p);
    b->p[b->len] = 0;
}

void target_copy_row(struct zbuf *b, const struct ztable *def, const struct zvalue *vals)
{
    for (int c = 0; c < def->ncols; c++) {
        if (c) tbuf_putc(b, '\t');
        target_copy_field(b, &def->cols[c], &vals[c]);
    }
    tbuf_putc(b, '\n');
}

/* ---- soft deletes (target.h) ---------------------------------------------------------- */

void target_soft_time_sql(struct zbuf *q, const char *x)
{
    tbuf_puts(q, "(timestamptz 'epoch' + (");
    tbuf_puts(q, x);
    tbuf_puts(q, " / 1000000) * interval '1 second' + (");
    tbuf_puts(q, x);
    tbuf_puts(q, " % 1000000) * interval '1 microsecond')");
}

int64_t target_soft_time(int64_t us)
{
    return us > 0 ? us : zclock_wall_us();
}

/* ---- parameterized statements ---------------------------------------------------------- */

struct pstmt {
    struct zbuf sql, vals;
    size_t *off;
    int *lens;
    const char **ptrs;
    int n, cap;
    target_stmt_fn fn;
    void *ctx;
    char *err;
    size_t errlen;
};

static int ps_fail(struct pstmt *p, const char *what)
{
    snprintf(p->err, p->errlen, "%s", what);
    return -1;
}

static void ps_clear(struct pstmt *p)
{
    p->sql.len = 0;
    if (p->sql.p) p->sql.p[0] = 0;
    p->vals.len = 0;
    p->n = 0;
}

static void ps_free(struct pstmt *p)
{
    tbuf_free(&p->sql);
    tbuf_free(&p->vals);
    free(p->off);
    free(p->lens);
    free(p->ptrs);
}

/* Write a placeholder for value v of column c into the SQL ("NULL" needs none). */
static int ps_value(struct pstmt *p, const struct zcolumn *c, const struct zvalue *v, int rs)
{
    if (v->kind == ZV_NULL) {
        tbuf_puts(&p->sql, "NULL");
        return 0;
    }
    if (v->kind == ZV_UNCHANGED) return ps_fail(p, "an unchanged (TOAST) value reached a statement");
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 256;
        size_t *o = realloc(p->off, (size_t)cap * sizeof *o);
        if (o) p->off = o;
        int *l = realloc(p->lens, (size_t)cap * sizeof *l);
        if (l) p->lens = l;
        const char **q = realloc(p->ptrs, (size_t)cap * sizeof *q);
        if (q) p->ptrs = q;
        if (!o || !l || !q) return ps_fail(p, "out of memory building a statement");
        p->cap = cap;
    }
    size_t start = p->vals.len;
    int bytes = c && (c->type == ZT_BYTES || c->type == ZT_GEOMETRY) && !c->is_array;
    target_value_text(&p->vals, c, v, !(rs && bytes));
    p->lens[p->n] = (int)(p->vals.len - start);
    p->off[p->n] = start;
    tbuf_put(&p->vals, "", 1);              /* NUL terminator */
    p->n++;
    char ph[24];
    snprintf(ph, sizeof ph, "$%d", p->n);
    if (rs && c && c->type == ZT_JSON && !c->is_array) {
        tbuf_puts(&p->sql, "JSON_PARSE(");
        tbuf_puts(&p->sql, ph);
        tbuf_putc(&p->sql, ')');
    } else if (rs && bytes) {
        tbuf_puts(&p->sql, "FROM_HEX(");
        tbuf_puts(&p->sql, ph);
        tbuf_putc(&p->sql, ')');
    } else
        tbuf_puts(&p->sql, ph);
    return 0;
}

static int ps_run(struct pstmt *p, int64_t *result)
{
    if (p->sql.oom || p->vals.oom) return ps_fail(p, "out of memory building a statement");
    for (int i = 0; i < p->n; i++) p->ptrs[i] = p->vals.p + p->off[i];
    int64_t dummy;
    int rv = p->fn(p->ctx, p->sql.p, p->n, p->ptrs, p->lens, result ? result : &dummy);
    ps_clear(p);
    return rv;
}

/* key predicate for one row: "k" = $n AND … (IS NULL for NULL values). */
static int ps_match(struct pstmt *p, const struct zb_table *bt, const struct zvalue *img, int rs)
{
    for (int k = 0; k < bt->nkeycols; k++) {
        const struct zcolumn *c = &bt->def->cols[bt->keycols[k]];
        const struct zvalue *v = &img[bt->keycols[k]];
        if (k) tbuf_puts(&p->sql, " AND ");
        tbuf_ident(&p->sql, c->name);
        if (v->kind == ZV_NULL) {
            tbuf_puts(&p->sql, " IS NULL");
            continue;
        }
        tbuf_puts(&p->sql, " = ");
        if (ps_value(p, c, v, rs)) return -1;
    }
    return 0;
}

static size_t row_bytes(const struct zb_table *bt, const struct zvalue *img, int key_only)
{
    size_t n = 0;
    int cnt = key_only ? bt->nkeycols : bt->def->ncols;
    for (int i = 0; i < cnt; i++) {
        const struct zvalue *v = &img[key_only ? bt->keycols[i] : i];
        n += (v->kind == ZV_TEXT || v->kind == ZV_BYTES) ? (size_t)v->len * 2 + 8 : 24;
    }
    return n;
}

int target_partial_update_sql(const struct zb_table *bt, const struct zb_row *r, int rs,
                              target_stmt_fn fn, void *ctx, char *err, size_t errlen)
{
    struct pstmt p = { .fn = fn, .ctx = ctx, .err = err, .errlen = errlen };
    int rv = -1, nset = 0;
    const struct zvalue *where = r->state == ZB_MOVE ? r->old_key : r->image;
    tbuf_puts(&p.sql, "UPDATE ");
    tbuf_qname(&p.sql, bt->tschema, bt->tname);
    tbuf_puts(&p.sql, " SET ");
    for (int i = 0; i < bt->def->ncols; i++) {
        const struct zcolumn *c = &bt->def->cols[i];
        if (r->image[i].kind == ZV_UNCHANGED) continue;
        if (r->state != ZB_MOVE && c->pk_ord > 0) continue;
        if (nset++) tbuf_puts(&p.sql, ", ");
        tbuf_ident(&p.sql, c->name);
        tbuf_puts(&p.sql, " = ");
        if (ps_value(&p, c, &r->image[i], rs)) goto out;
    }
    if (!nset) { rv = 0; goto out; }
    tbuf_puts(&p.sql, " WHERE ");
    if (ps_match(&p, bt, where, rs)) goto out;
    rv = ps_run(&p, NULL);
out:
    ps_free(&p);
    return rv;
}

/* INSERT … VALUES chunker. */
struct ins {
    struct pstmt *p;
    const struct zb_table *bt;
    int rows;
    size_t bytes;
};

static void ins_head(struct ins *in)
{
    tbuf_puts(&in->p->sql, "INSERT INTO ");
    tbuf_qname(&in->p->sql, in->bt->tschema, in->bt->tname);
    tbuf_puts(&in->p->sql, " (");
    for (int i = 0; i < in->bt->def->ncols; i++) {
        if (i) tbuf_puts(&in->p->sql, ", ");
        tbuf_ident(&in->p->sql, in->bt->def->cols[i].name);
    }
    tbuf_puts(&in->p->sql, ") VALUES ");
}

static int ins_flush(struct ins *in)
{
    if (!in->rows) return 0;
    in->rows = 0;
    in->bytes = 0;
    return ps_run(in->p, NULL);
}

static int ins_row(struct ins *in, const struct zvalue *img)
{
    int nc = in->bt->def->ncols;
    size_t rb = row_bytes(in->bt, img, 0);
    if (in->rows && (in->p->n + nc > TARGET_RS_MAX_PARAMS ||
                     in->bytes + rb > TARGET_RS_MAX_VALUE_BYTES))
        if (ins_flush(in)) return -1;
    if (!in->rows) ins_head(in);
    else tbuf_puts(&in->p->sql, ", ");
    tbuf_putc(&in->p->sql, '(');
    for (int i = 0; i < nc; i++) {
        if (i) tbuf_puts(&in->p->sql, ", ");
        if (ps_value(in->p, &in->bt->def->cols[i], &img[i], 1)) return -1;
    }
    tbuf_putc(&in->p->sql, ')');
    in->rows++;
    in->bytes += rb;
    return 0;
}

/* The time expression of µs us (target_soft_time_sql) over one parameter. */
static int ps_time(struct pstmt *p, int64_t us)
{
    static const struct zcolumn c64 = {.type = ZT_INT64};
    struct zvalue v = {.kind = ZV_INT, .v.i = target_soft_time(us)};
    size_t at = p->sql.len;
    if (ps_value(p, &c64, &v, 1)) return -1;   /* its placeholder, then used twice */
    char x[32];
    snprintf(x, sizeof x, "%.*s::bigint", (int)(p->sql.len - at), p->sql.p + at);
    p->sql.len = at;
    target_soft_time_sql(&p->sql, x);
    return 0;
}

/* The mode's mark, at the time (µs us), of img's key, or (img NULL) of
 * every row it concerns: a soft-delete table's row marked deleted (every
 * live one); a history table's active version closed (every active one). */
static int mode_mark(struct pstmt *p, const struct zb_table *bt, const struct zvalue *img, int64_t us)
{
    int h = bt->history;
    const char *flag = h ? TARGET_HIST_ACTIVE : TARGET_SOFT_DELETED;
    tbuf_puts(&p->sql, "UPDATE ");
    tbuf_qname(&p->sql, bt->tschema, bt->tname);
    tbuf_puts(&p->sql, " SET ");
    tbuf_ident(&p->sql, flag);
    tbuf_puts(&p->sql, h ? " = false, " : " = true, ");
    tbuf_ident(&p->sql, h ? TARGET_HIST_DELETED : TARGET_SOFT_DELETED_AT);
    tbuf_puts(&p->sql, " = ");
    if (ps_time(p, us)) return -1;
    tbuf_puts(&p->sql, " WHERE ");
    if (h || !img) {
        tbuf_puts(&p->sql, h ? "" : "NOT ");
        tbuf_ident(&p->sql, flag);
    }
    if (img) {
        tbuf_puts(&p->sql, h ? " AND " : "");
        if (ps_match(p, bt, img, 1)) return -1;
    }
    return ps_run(p, NULL);
}

/* History (target.h), one row of a segment: its key's active version closed
 * (UPSERT, DELETE), and for an UPSERT the new version added, at the row's
 * time. */
static int hist_row(struct pstmt *p, const struct zb_table *bt, const struct zb_row *r, int64_t us)
{
    if (mode_mark(p, bt, r->image, us)) return -1;
    if (r->state != ZB_UPSERT) return 0;
    tbuf_puts(&p->sql, "INSERT INTO ");
    tbuf_qname(&p->sql, bt->tschema, bt->tname);
    tbuf_puts(&p->sql, " (");
    for (int i = 0; i < bt->def->ncols; i++) {
        tbuf_ident(&p->sql, bt->def->cols[i].name);
        tbuf_puts(&p->sql, ", ");
    }
    tbuf_ident(&p->sql, TARGET_HIST_ACTIVE);
    tbuf_puts(&p->sql, ", ");
    tbuf_ident(&p->sql, TARGET_HIST_CREATED);
    tbuf_puts(&p->sql, ") VALUES (");
    for (int i = 0; i < bt->def->ncols; i++) {
        if (ps_value(p, &bt->def->cols[i], &r->image[i], 1)) return -1;
        tbuf_puts(&p->sql, ", ");
    }
    tbuf_puts(&p->sql, "true, ");
    if (ps_time(p, us)) return -1;
    tbuf_putc(&p->sql, ')');
    return ps_run(p, NULL);
}

/* DELETE … WHERE key IN (…) chunker, for keyed rows. */
static int del_keys(struct pstmt *p, const struct zb_table *bt, const struct zb_seg *s)
{
    int rows = 0;
    size_t bytes = 0;
    int single = bt->nkeycols == 1;
    for (int i = 0; i < s->nrows; i++) {
        const struct zb_row *r = &s->rows[i];
        if (r->state != ZB_UPSERT && (r->state != ZB_DELETE || bt->def->soft_delete)) continue;
        size_t rb = row_bytes(bt, r->image, 1);
        if (rows && (p->n + bt->nkeycols > TARGET_RS_MAX_PARAMS ||
                     bytes + rb > TARGET_RS_MAX_VALUE_BYTES)) {
            if (single) tbuf_putc(&p->sql, ')');
            if (ps_run(p, NULL)) return -1;
            rows = 0;
            bytes = 0;
        }
        if (!rows) {
            tbuf_puts(&p->sql, "DELETE FROM ");
            tbuf_qname(&p->sql, bt->tschema, bt->tname);
            tbuf_puts(&p->sql, " WHERE ");
            if (single) {
                tbuf_ident(&p->sql, bt->def->cols[bt->keycols[0]].name);
                tbuf_puts(&p->sql, " IN (");
            }
        } else
            tbuf_puts(&p->sql, single ? ", " : " OR ");
        if (single) {
            int k = bt->keycols[0];
            if (ps_value(p, &bt->def->cols[k], &r->image[k], 1)) return -1;
        } else {
            tbuf_putc(&p->sql, '(');
            if (ps_match(p, bt, r->image, 1)) return -1;
            tbuf_putc(&p->sql, ')');
        }
        rows++;
        bytes += rb;
    }
    if (rows) {
        if (single) tbuf_putc(&p->sql, ')');
        if (ps_run(p, NULL)) return -1;
    }
    return 0;
}

/* Keyless removal of -n copies: count, delete all, re-insert the survivors. */
static int keyless_remove(struct pstmt *p, struct ins *in, const struct zb_table *bt,
                          const struct zb_row *r)
{
    int64_t have = 0, gone = 0;
    tbuf_puts(&p->sql, "SELECT count(*) FROM ");
    tbuf_qname(&p->sql, bt->tschema, bt->tname);
    tbuf_puts(&p->sql, " WHERE ");
    if (ps_match(p, bt, r->image, 1) || ps_run(p, &have)) return -1;
    if (!have) return 0;
    tbuf_puts(&p->sql, "DELETE FROM ");
    tbuf_qname(&p->sql, bt->tschema, bt->tname);
    tbuf_puts(&p->sql, " WHERE ");
    if (ps_match(p, bt, r->image, 1) || ps_run(p, &gone)) return -1;
    for (int64_t k = have + r->n; k > 0; k--)
        if (ins_row(in, r->image)) return -1;
    return 0;
}

int target_redshift_table_sql(const struct zb_table *bt, target_stmt_fn fn, void *ctx,
                              char *err, size_t errlen)
{
    struct pstmt p = { .fn = fn, .ctx = ctx, .err = err, .errlen = errlen };
    struct pstmt ip = { .fn = fn, .ctx = ctx, .err = err, .errlen = errlen };
    struct ins in = { .p = &ip, .bt = bt };
    int rv = -1;
    int keyless = !bt->keyed;
    if (bt->truncate && (bt->history || bt->def->soft_delete)) {
        if (mode_mark(&p, bt, NULL, bt->truncate_us)) goto out;
    } else if (bt->truncate) {    /* DELETE, not TRUNCATE: that would commit */
        tbuf_puts(&p.sql, "DELETE FROM ");
        tbuf_qname(&p.sql, bt->tschema, bt->tname);
        if (ps_run(&p, NULL)) goto out;
    }
    for (int si = 0; si < bt->nsegs; si++) {
        const struct zb_seg *s = &bt->segs[si];
        if (s->move) {
            for (int i = 0; i < s->nrows; i++)
                if (s->rows[i].state == ZB_MOVE &&
                    target_partial_update_sql(bt, &s->rows[i], 1, fn, ctx, err, errlen)) goto out;
            continue;
        }
        if (keyless) {
            for (int i = 0; i < s->nrows; i++)
                if (s->rows[i].state == ZB_COUNT && s->rows[i].n < 0 &&
                    keyless_remove(&p, &in, bt, &s->rows[i])) goto out;
            for (int i = 0; i < s->nrows; i++)
                for (int64_t k = 0; s->rows[i].state == ZB_COUNT && k < s->rows[i].n; k++)
                    if (ins_row(&in, s->rows[i].image)) goto out;
            if (ins_flush(&in)) goto out;
            continue;
        }
        if (bt->history) {
            for (int i = 0; i < s->nrows; i++) {   /* no partial row: zbatch_add refuses it */
                const struct zb_row *r = &s->rows[i];
                if ((r->state == ZB_UPSERT || r->state == ZB_DELETE) && hist_row(&p, bt, r, r->at_us)) goto out;
            }
            continue;
        }
        if (del_keys(&p, bt, s)) goto out;
        for (int i = 0; i < s->nrows && bt->def->soft_delete; i++)
            if (s->rows[i].state == ZB_DELETE && mode_mark(&p, bt, s->rows[i].image, s->rows[i].at_us)) goto out;
        for (int i = 0; i < s->nrows; i++)
            if (s->rows[i].state == ZB_UPSERT && ins_row(&in, s->rows[i].image)) goto out;
        if (ins_flush(&in)) goto out;
        for (int i = 0; i < s->nrows; i++)
            if (s->rows[i].state == ZB_PARTIAL &&
                target_partial_update_sql(bt, &s->rows[i], 1, fn, ctx, err, errlen)) goto out;
    }
    rv = 0;
out:
    ps_free(&p);
    ps_free(&ip);
    return rv;
}
