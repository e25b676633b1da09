/* rows.c — row images → zvalues (see rows.h); table maps are built in tablemap.c. */
#include "runtime/mysql/rows.h"
#include "runtime/mysql/json.h"
#include "runtime/mysql/rows_text.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MySQL's latin1 is Windows-1252, except that the five bytes cp1252 leaves
 * undefined (0x81 0x8D 0x8F 0x90 0x9D) map to the C1 controls of the same
 * value. 0xA0..0xFF are ISO-8859-1 = U+00A0..U+00FF. */
static const uint16_t cp1252_hi[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

struct rows_block { struct rows_block *next; size_t cap, used; char data[]; };

#define ARENA_BLOCK 65536

void *rows_arena_alloc(struct rows_arena *a, size_t n)
{
    struct rows_block *b = a->cur;           /* always the last block of the chain */
    n = (n + 7) & ~(size_t)7;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        struct rows_block *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->cap = cap; nb->used = 0; nb->next = NULL;
        if (b) b->next = nb; else a->head = nb;
        a->bytes += cap;
        a->cur = b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

void rows_arena_reset(struct rows_arena *a)
{
    /* Keep the first block; give back the rest so one huge row does not pin
     * its memory for the rest of the stream. */
    struct rows_block *b = a->head ? a->head->next : NULL;
    while (b) { struct rows_block *n = b->next; a->bytes -= b->cap; free(b); b = n; }
    if (a->head) {
        if (a->head->cap > ARENA_BLOCK * 16) { a->bytes -= a->head->cap; free(a->head); a->head = NULL; }
        else { a->head->next = NULL; a->head->used = 0; }
    }
    a->cur = a->head;
}

void rows_arena_free(struct rows_arena *a)
{
    struct rows_block *b = a->head;
    while (b) { struct rows_block *n = b->next; free(b); b = n; }
    memset(a, 0, sizeof *a);
}

void rows_ctx_init(struct rows_ctx *c) { memset(c, 0, sizeof *c); }
void rows_ctx_reset(struct rows_ctx *c) { rows_arena_reset(&c->arena); c->scratch.len = 0; }
void rows_ctx_free(struct rows_ctx *c) { rows_arena_free(&c->arena); zbuf_free(&c->scratch); }

/* ---- value decoding ------------------------------------------------------------------------ */

#define FAIL(...) do { snprintf(c->err, sizeof c->err, __VA_ARGS__); return -1; } while (0)

static void warn_col(struct rows_ctx *c, struct rows_table *t, uint32_t i, const char *what)
{
    struct rows_col *col = &t->cols[i];
    if (col->warned) return;
    col->warned = 1;
    if (!c->warn) return;
    char msg[512];
    snprintf(msg, sizeof msg, "%s.%s column %s: %s", t->zt->schema, t->zt->name,
             t->zt->cols[i].name, what);
    c->warn(c->warn_ctx, msg);
}

static int set_text(struct rows_ctx *c, struct zvalue *v, const char *buf, size_t n)
{
    char *d = rows_arena_alloc(&c->arena, n ? n : 1);
    if (!d) FAIL("out of memory decoding a row");
    memcpy(d, buf, n);
    v->kind = ZV_TEXT; v->len = (uint32_t)n; v->v.p = d;
    return 0;
}

static int text_latin1(struct rows_ctx *c, struct zvalue *v, const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] < 0x80) i++;
    v->kind = ZV_TEXT;
    if (i == n) { v->len = (uint32_t)n; v->v.p = (const char *)s; return 0; }    /* ASCII: zero copy */
    uint8_t *d = rows_arena_alloc(&c->arena, n * 3 + 1), *o = d;
    if (!d) FAIL("out of memory decoding a row");
    memcpy(o, s, i); o += i;
    for (; i < n; i++) {
        uint32_t u = s[i];
        if (u < 0x80) { *o++ = (uint8_t)u; continue; }
        if (u < 0xA0) u = cp1252_hi[u - 0x80];
        if (u < 0x800) { *o++ = (uint8_t)(0xC0 | (u >> 6)); *o++ = (uint8_t)(0x80 | (u & 0x3f)); }
        else { *o++ = (uint8_t)(0xE0 | (u >> 12)); *o++ = (uint8_t)(0x80 | ((u >> 6) & 0x3f));
               *o++ = (uint8_t)(0x80 | (u & 0x3f)); }
    }
    v->len = (uint32_t)(o - d); v->v.p = (const char *)d;
    return 0;
}

static int text_iconv(struct rows_ctx *c, struct rows_col *col, struct zvalue *v, const uint8_t *s, size_t n)
{
    size_t cap = n * 4 + 4;
    char *d = rows_arena_alloc(&c->arena, cap);
    if (!d) FAIL("out of memory decoding a row");
    char *in = (char *)(uintptr_t)s, *out = d;
    size_t inl = n, outl = cap;
    iconv((iconv_t)col->iconv, NULL, NULL, NULL, NULL);
    if (iconv((iconv_t)col->iconv, &in, &inl, &out, &outl) == (size_t)-1)
        FAIL("string not valid in its charset (collation %u)", col->collation);
    v->kind = ZV_TEXT; v->len = (uint32_t)(cap - outl); v->v.p = d;
    return 0;
}

static int string_value(struct rows_ctx *c, struct rows_col *col, struct zvalue *v,
                        const uint8_t *s, size_t n, int blob)
{
    switch (col->cs) {
    case CS_UTF8:
        v->kind = ZV_TEXT; v->len = (uint32_t)n; v->v.p = (const char *)s; return 0;
    case CS_UNKNOWN:
        v->kind = blob ? ZV_BYTES : ZV_TEXT; v->len = (uint32_t)n; v->v.p = (const char *)s; return 0;
    case CS_BINARY:
        v->kind = ZV_BYTES; v->len = (uint32_t)n; v->v.p = (const char *)s; return 0;
    case CS_LATIN1:
        return text_latin1(c, v, s, n);
    case CS_ICONV:
        return text_iconv(c, col, v, s, n);
    }
    FAIL("character set of collation %u is not supported", col->collation);
}

static int zero_date(struct rows_ctx *c, struct rows_table *t, uint32_t i, struct zvalue *v, const char *what)
{
    warn_col(c, t, i, what);
    v->kind = ZV_NULL;
    return 0;
}

/*
 * The decoders below each take one family of column types. Each reads the
 * value of column i from r into v and returns 0, or -1 with c->err set. A
 * truncated image is not their error: they return 0 with r->err set, and
 * decode_value reports it once, naming the column.
 */

/* TINYINT … BIGINT, FLOAT, DOUBLE, YEAR: fixed-width little-endian numbers. */
static int decode_fixed(struct rows_ctx *c, struct rows_table *t, uint32_t i, struct rd *r, struct zvalue *v)
{
    struct rows_col *col = &t->cols[i];
    switch (col->real_type) {
    case MYT_TINY:
        if (col->is_unsigned) { v->kind = ZV_UINT; v->v.u = rd_u8(r); }
        else { v->kind = ZV_INT; v->v.i = (int8_t)rd_u8(r); }
        break;
    case MYT_SHORT:
        if (col->is_unsigned) { v->kind = ZV_UINT; v->v.u = rd_u16le(r); }
        else { v->kind = ZV_INT; v->v.i = (int16_t)rd_u16le(r); }
        break;
    case MYT_INT24: {
        uint32_t x = rd_u24le(r);
        if (col->is_unsigned) { v->kind = ZV_UINT; v->v.u = x; }
        else { v->kind = ZV_INT; v->v.i = (x & 0x800000) ? (int64_t)x - 0x1000000 : (int64_t)x; }
        break;
    }
    case MYT_LONG:
        if (col->is_unsigned) { v->kind = ZV_UINT; v->v.u = rd_u32le(r); }
        else { v->kind = ZV_INT; v->v.i = (int32_t)rd_u32le(r); }
        break;
    case MYT_LONGLONG:
        if (col->is_unsigned) { v->kind = ZV_UINT; v->v.u = rd_u64le(r); }
        else { v->kind = ZV_INT; v->v.i = (int64_t)rd_u64le(r); }
        break;
    case MYT_FLOAT: {
        uint32_t x = rd_u32le(r); float f; memcpy(&f, &x, 4);
        v->kind = ZV_FLOAT; v->v.f = f;
        break;
    }
    case MYT_DOUBLE: {
        uint64_t x = rd_u64le(r); double f; memcpy(&f, &x, 8);
        v->kind = ZV_FLOAT; v->v.f = f;
        break;
    }
    case MYT_YEAR: {
        uint8_t y = rd_u8(r);
        v->kind = ZV_INT; v->v.i = y ? 1900 + y : 0;
        break;
    }
    default:
        FAIL("column %u has MySQL type %u, which zetl does not decode", i + 1, col->real_type);
    }
    return 0;
}

/* DECIMAL and BIT: packed big-endian, sent as text. */
static int decode_packed(struct rows_ctx *c, struct rows_table *t, uint32_t i, struct rd *r, struct zvalue *v)
{
    struct rows_col *col = &t->cols[i];
    char buf[96], *o = buf;
    if (col->real_type == MYT_NEWDECIMAL) {
        size_t sz = rows_decimal_size(col->prec, col->scale);
        const uint8_t *p = rd_bytes(r, sz);
        if (!p) return 0;
        int n = rows_decimal_text(p, col->prec, col->scale, buf);
        if (n < 0) FAIL("DECIMAL(%u,%u) value is malformed", col->prec, col->scale);
        return set_text(c, v, buf, (size_t)n);
    }
    uint64_t x = rd_uint_be(r, col->meta);                 /* MYT_BIT */
    if (r->err) return 0;
    for (int b = col->bits - 1; b >= 0; b--) *o++ = (char)('0' + ((x >> b) & 1));
    return set_text(c, v, buf, (size_t)(o - buf));
}

/* TIME (old: signed 24-bit HHMMSS) and TIME2 (packed, with fsp fraction digits). */
static int decode_time(struct rows_ctx *c, struct rows_table *t, uint32_t i, struct rd *r, struct zvalue *v)
{
    struct rows_col *col = &t->cols[i];
    char buf[96], *o = buf;
    if (col->real_type == MYT_TIME) {
        uint32_t x = rd_u24le(r);
        if (r->err) return 0;
        int32_t s = (x & 0x800000) ? (int32_t)x - 0x1000000 : (int32_t)x;
        if (s < 0) { *o++ = '-'; s = -s; }
        o = rows_put_hours(o, (uint32_t)s / 10000); *o++ = ':';
        o = rows_put_n(o, (uint32_t)s / 100 % 100, 2); *o++ = ':'; o = rows_put_n(o, (uint32_t)s % 100, 2);
        return set_text(c, v, buf, (size_t)(o - buf));
    }
    int fsp = (int)col->meta;
    int64_t packed;
    if (fsp >= 5) {
        uint64_t x = rd_uint_be(r, 6);
        packed = (int64_t)x - 0x800000000000LL;
    } else {
        int64_t ip = (int64_t)rd_uint_be(r, 3) - 0x800000;
        int64_t frac = 0;
        if (fsp >= 3) {
            frac = (int64_t)rd_uint_be(r, 2);
            if (ip < 0 && frac) { ip++; frac -= 0x10000; }
            frac *= 100;
        } else if (fsp >= 1) {
            frac = rd_u8(r);
            if (ip < 0 && frac) { ip++; frac -= 0x100; }
            frac *= 10000;
        }
        packed = ip * (1LL << 24) + frac;
    }
    if (r->err) return 0;
    int neg = packed < 0;
    uint64_t tt = neg ? (uint64_t)(-packed) : (uint64_t)packed;
    uint64_t hms = tt >> 24;
    uint32_t us = (uint32_t)(tt % (1u << 24));
    uint32_t h = (uint32_t)((hms >> 12) % 1024), mi = (uint32_t)((hms >> 6) % 64), s = (uint32_t)(hms % 64);
    if (mi > 59 || s > 59 || us > 999999) FAIL("TIME value is malformed");
    if (neg) *o++ = '-';
    o = rows_put_hours(o, h); *o++ = ':'; o = rows_put_n(o, mi, 2); *o++ = ':'; o = rows_put_n(o, s, 2);
    o = rows_put_frac(o, us, fsp);
    return set_text(c, v, buf, (size_t)(o - buf));
}

/* DATE, DATETIME (old: YYYYMMDDhhmmss as an integer) and DATETIME2 (packed).
 * A zero or partly zero date is NULL, with a warning. */
static int decode_date(struct rows_ctx *c, struct rows_table *t, uint32_t i, struct rd *r, struct zvalue *v)
{
    struct rows_col *col = &t->cols[i];
    char buf[96], *o = buf;
    if (col->real_type == MYT_DATE || col->real_type == MYT_NEWDATE) {
        uint32_t x = rd_u24le(r);
        if (r->err) return 0;
        uint32_t d = x & 31, m = (x >> 5) & 15, y = x >> 9;
        if (y == 0 || m == 0 || d == 0) return zero_date(c, t, i, v, "zero or partial-zero DATE decoded as NULL");
        if (m > 12) FAIL("DATE value has month %u", m);
        o = rows_put_date(o, y, m, d);
        return set_text(c, v, buf, (size_t)(o - buf));
    }
    if (col->real_type == MYT_DATETIME) {
        uint64_t x = rd_u64le(r);
        if (r->err) return 0;
        uint32_t dpart = (uint32_t)(x / 1000000), tpart = (uint32_t)(x % 1000000);
        uint32_t y = dpart / 10000, m = dpart / 100 % 100, d = dpart % 100;
        if (y == 0 || m == 0 || d == 0) return zero_date(c, t, i, v, "zero or partial-zero DATETIME decoded as NULL");
        if (y > 9999 || m > 12 || d > 31) FAIL("DATETIME value is malformed");
        o = rows_put_date(o, y, m, d); *o++ = ' ';
        o = rows_put_hms(o, tpart / 10000, tpart / 100 % 100, tpart % 100);
        return set_text(c, v, buf, (size_t)(o - buf));
    }
    int fsp = (int)col->meta;                               /* MYT_DATETIME2 */
    uint64_t ip = rd_uint_be(r, 5);
    uint32_t us = 0;
    if (fsp >= 5) us = (uint32_t)rd_uint_be(r, 3);
    else if (fsp >= 3) us = (uint32_t)rd_uint_be(r, 2) * 100;
    else if (fsp >= 1) us = (uint32_t)rd_u8(r) * 10000;
    if (r->err) return 0;
    if (ip < 0x8000000000ULL) FAIL("DATETIME value is negative");
    ip -= 0x8000000000ULL;
    uint64_t ymd = ip >> 17, ym = ymd >> 5, hms = ip % (1 << 17);
    uint32_t d = (uint32_t)(ymd % 32), m = (uint32_t)(ym % 13), y = (uint32_t)(ym / 13);
    uint32_t h = (uint32_t)(hms >> 12), mi = (uint32_t)((hms >> 6) % 64), s = (uint32_t)(hms % 64);
    if (y == 0 || m == 0 || d == 0) return zero_date(c, t, i, v, "zero or partial-zero DATETIME decoded as NULL");
    if (y > 9999 || h > 23 || mi > 59 || s > 59 || us > 999999) FAIL("DATETIME value is malformed");
    o = rows_put_date(o, y, m, d); *o++ = ' '; o = rows_put_hms(o, h, mi, s);
    o = rows_put_frac(o, us, fsp);
    return set_text(c, v, buf, (size_t)(o - buf));
}

/* TIMESTAMP (seconds, little-endian) and TIMESTAMP2 (big-endian, with fsp
 * fraction digits): UTC text with "+00"; zero is NULL, with a warning. */
static int decode_timestamp(struct rows_ctx *c, struct rows_table *t, uint32_t i, struct rd *r, struct zvalue *v)
{
    struct rows_col *col = &t->cols[i];
    char buf[96], *o = buf;
    int fsp = col->real_type == MYT_TIMESTAMP2 ? (int)col->meta : 0;
    uint32_t sec = col->real_type == MYT_TIMESTAMP2 ? rd_u32be(r) : rd_u32le(r);
    uint32_t us = 0;
    if (fsp >= 5) us = (uint32_t)rd_uint_be(r, 3);
    else if (fsp >= 3) us = (uint32_t)rd_uint_be(r, 2) * 100;
    else if (fsp >= 1) us = (uint32_t)rd_u8(r) * 10000;
    if (r->err) return 0;
    if (sec == 0 && us == 0) return zero_date(c, t, i, v, "zero TIMESTAMP decoded as NULL");
    if (us > 999999) FAIL("TIMESTAMP value is malformed");
    uint32_t y, m, d;
    rows_civil_from_days(sec / 86400, &y, &m, &d);
    uint32_t tod = sec % 86400;
    o = rows_put_date(o, y, m, d); *o++ = ' '; o = rows_put_hms(o, tod / 3600, tod / 60 % 60, tod % 60);
    o = rows_put_frac(o, us, fsp);
    memcpy(o, "+00", 3); o += 3;
    return set_text(c, v, buf, (size_t)(o - buf));
}

/* CHAR, VARCHAR, BINARY, VARBINARY: a 1- or 2-byte length, then the bytes. */
static int decode_string(struct rows_ctx *c, struct rows_table *t, uint32_t i, struct rd *r, struct zvalue *v)
{
    struct rows_col *col = &t->cols[i];
    size_t n = col->meta > 255 ? rd_u16le(r) : rd_u8(r);
    const uint8_t *s = rd_bytes(r, n);
    if (!s) return 0;
    if (col->real_type == MYT_STRING && col->cs == CS_BINARY && n < col->meta) {
        /* BINARY(n) is stored without its trailing 0x00 padding; SELECT returns it padded. */
        uint8_t *pd = rows_arena_alloc(&c->arena, col->meta);
        if (!pd) FAIL("out of memory decoding a row");
        memcpy(pd, s, n);
        memset(pd + n, 0, col->meta - n);
        v->kind = ZV_BYTES; v->len = col->meta; v->v.p = (const char *)pd;
        return 0;
    }
    return string_value(c, col, v, s, n, 0);
}

/* BLOB and TEXT, JSON (binary JSON → text), GEOMETRY (WKB after a 4-byte SRID):
 * a length of meta bytes, then the bytes. */
static int decode_blob(struct rows_ctx *c, struct rows_table *t, uint32_t i, struct rd *r, struct zvalue *v)
{
    struct rows_col *col = &t->cols[i];
    size_t n = (size_t)rd_uint_le(r, col->meta);
    const uint8_t *s = rd_bytes(r, n);
    if (!s) return 0;
    if (col->real_type == MYT_GEOMETRY) {
        if (n < 4) FAIL("GEOMETRY value of %zu bytes is shorter than its SRID", n);
        v->kind = ZV_BYTES; v->len = (uint32_t)(n - 4); v->v.p = (const char *)s + 4;
        return 0;
    }
    if (col->real_type == MYT_JSON) {
        c->scratch.len = 0;
        char je[200];
        if (myjson_to_text(&c->scratch, s, n, je, sizeof je)) { c->bad_value = 1; FAIL("column %s: %s", t->zt->cols[i].name, je); }
        return set_text(c, v, c->scratch.p ? c->scratch.p : "", c->scratch.len);
    }
    return string_value(c, col, v, s, n, 1);
}

/* ENUM: a 1-based index into the labels (0 is the empty string). */
static int decode_enum(struct rows_ctx *c, struct rows_table *t, uint32_t i, struct rd *r, struct zvalue *v)
{
    struct rows_col *col = &t->cols[i];
    char buf[96];
    uint32_t x = (uint32_t)rd_uint_le(r, col->meta);
    if (r->err) return 0;
    if (x == 0) return set_text(c, v, "", 0);
    if (col->nlabels == 0) {
        warn_col(c, t, i, "ENUM labels unknown (binlog_row_metadata is not FULL): index sent as text");
        return set_text(c, v, buf, (size_t)snprintf(buf, sizeof buf, "%u", x));
    }
    if (x > col->nlabels) FAIL("ENUM index %u beyond its %u labels", x, col->nlabels);
    return string_value(c, col, v, (const uint8_t *)col->label[x - 1], col->label_len[x - 1], 0);
}

/* SET: a bitmask over the labels, sent as the labels joined by commas. */
static int decode_set(struct rows_ctx *c, struct rows_table *t, uint32_t i, struct rd *r, struct zvalue *v)
{
    struct rows_col *col = &t->cols[i];
    char buf[96];
    uint64_t x = rd_uint_le(r, col->meta);
    if (r->err) return 0;
    if (col->nlabels == 0) {
        warn_col(c, t, i, "SET labels unknown (binlog_row_metadata is not FULL): bitmask sent as text");
        return set_text(c, v, buf, (size_t)snprintf(buf, sizeof buf, "%llu", (unsigned long long)x));
    }
    if (col->nlabels < 64 && (x >> col->nlabels)) FAIL("SET bitmask has members beyond its %u labels", col->nlabels);
    size_t need = 0;
    for (uint32_t b = 0; b < col->nlabels && b < 64; b++)
        if (x >> b & 1) need += col->label_len[b] + 1;
    char *d = rows_arena_alloc(&c->arena, need ? need : 1), *q = d;
    if (!d) FAIL("out of memory decoding a row");
    for (uint32_t b = 0; b < col->nlabels && b < 64; b++) {
        if (!(x >> b & 1)) continue;
        if (q != d) *q++ = ',';
        memcpy(q, col->label[b], col->label_len[b]); q += col->label_len[b];
    }
    struct zvalue tmp;
    if (string_value(c, col, &tmp, (const uint8_t *)d, (size_t)(q - d), 0)) return -1;
    *v = tmp;
    if (v->kind == ZV_BYTES) v->kind = ZV_TEXT;
    return 0;
}

/* decode_value: column i's value from the row image, by its binlog type. */
static int decode_value(struct rows_ctx *c, struct rows_table *t, uint32_t i, struct rd *r, struct zvalue *v)
{
    struct rows_col *col = &t->cols[i];
    int rc;
    switch (col->real_type) {
    case MYT_TINY: case MYT_SHORT: case MYT_INT24: case MYT_LONG: case MYT_LONGLONG:
    case MYT_FLOAT: case MYT_DOUBLE: case MYT_YEAR:
        rc = decode_fixed(c, t, i, r, v);
        break;
    case MYT_NEWDECIMAL: case MYT_BIT:
        rc = decode_packed(c, t, i, r, v);
        break;
    case MYT_TIME: case MYT_TIME2:
        rc = decode_time(c, t, i, r, v);
        break;
    case MYT_DATE: case MYT_NEWDATE: case MYT_DATETIME: case MYT_DATETIME2:
        rc = decode_date(c, t, i, r, v);
        break;
    case MYT_TIMESTAMP: case MYT_TIMESTAMP2:
        rc = decode_timestamp(c, t, i, r, v);
        break;
    case MYT_VARCHAR: case MYT_VAR_STRING: case MYT_STRING:
        rc = decode_string(c, t, i, r, v);
        break;
    case MYT_BLOB: case MYT_TINY_BLOB: case MYT_MEDIUM_BLOB: case MYT_LONG_BLOB:
    case MYT_JSON: case MYT_GEOMETRY:
        rc = decode_blob(c, t, i, r, v);
        break;
    case MYT_ENUM:
        rc = decode_enum(c, t, i, r, v);
        break;
    case MYT_SET:
        rc = decode_set(c, t, i, r, v);
        break;
    case MYT_NULL:
        v->kind = ZV_NULL;
        rc = 0;
        break;
    default:
        FAIL("column %u has MySQL type %u, which zetl does not decode", i + 1, col->real_type);
    }
    if (rc) return -1;
    if (r->err) FAIL("row image truncated in column %s (%s)", t->zt->cols[i].name,
                     t->zt->cols[i].source_type ? t->zt->cols[i].source_type : "?");
    return 0;
}

int rows_decode_image(struct rows_ctx *c, struct rows_table *t, struct rd *r,
                      const uint8_t *present, uint32_t npresent, struct zvalue *out,
                      uint8_t absent_kind)
{
    const uint8_t *nulls = rd_bytes(r, (npresent + 7) / 8);
    if (!nulls) FAIL("row image truncated (null bitmap)");
    uint32_t k = 0;
    for (uint32_t i = 0; i < t->ncols; i++) {
        struct zvalue *v = &out[i];
        v->len = 0;
        if (!((present[i / 8] >> (i % 8)) & 1)) { v->kind = absent_kind; continue; }
        uint32_t bit = k++;
        if ((nulls[bit / 8] >> (bit % 8)) & 1) { v->kind = ZV_NULL; continue; }
        if (decode_value(c, t, i, r, v)) return -1;
    }
    return 0;
}
