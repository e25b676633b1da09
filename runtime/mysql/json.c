/* json.c — MySQL binary JSON → text (see json.h).
 *
 * Wire layout of a value (type byte, then the body):
 *
 *   0x00/0x01 small/large object   0x02/0x03 small/large array
 *   0x04 literal (0 null, 1 true, 2 false)
 *   0x05 int16  0x06 uint16  0x07 int32  0x08 uint32  0x09 int64  0x0a uint64
 *   0x0b double (8 bytes LE)   0x0c string   0x0f opaque
 *
 *   object/array body (offsets/counts 2 bytes when small, 4 when large):
 *     count, size                 size = bytes of the whole body
 *     key entries (objects)       count × { key offset, key length u16 }
 *     value entries               count × { type u8, offset | inlined value }
 *     keys, values                at their offsets, relative to the body start
 *   Inlined: literals, int16, uint16 (and int32, uint32 in large containers).
 *
 *   string: length as 1..5 bytes of 7 bits, low group first, high bit = more;
 *           then the UTF-8 bytes
 *   opaque: field type u8, length (as for strings), the bytes
 */
#include "runtime/mysql/json.h"
#include "runtime/mysql/rows.h"          /* enum mysql_type */
#include "runtime/mysql/rows_text.h"
#include "runtime/base/b64.h"
#include "runtime/base/buf.h"
#include "runtime/base/json.h"
#include "runtime/base/rd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_DEPTH_MAX 128

/*
 * The work budget. MySQL lays every value out once, so a document of n
 * bytes holds at most n/3 + 1 values (each entry takes 3 bytes or more) and
 * renders to at most ~6n bytes (a control character escapes to \u00XX).
 * Entries whose offsets point at the same sub-document (a DAG, which MySQL
 * never writes) would render it once per path: exponential in the nesting.
 * Visiting more than n + JSON_NODES_SLACK values, or writing more than
 * JSON_OUT_FACTOR × n + JSON_OUT_SLACK bytes, ends the rendering.
 */
#define JSON_NODES_SLACK 16
#define JSON_OUT_FACTOR  16
#define JSON_OUT_SLACK   4096

struct jctx {
    struct zbuf *out;
    char *err; size_t errlen;
    size_t doc_len;                 /* input bytes, for the budget's message */
    size_t nodes, max_nodes;        /* values visited so far, and the cap */
    size_t out_start, max_out;      /* out->len at the start; bytes it may grow by */
};

static int jfail(struct jctx *j, const char *why)
{
    snprintf(j->err, j->errlen, "JSON value malformed: %s", why);
    return -1;
}

static void put(struct jctx *j, const char *s, size_t n) { zbuf_put(j->out, s, n); }
static void puts_(struct jctx *j, const char *s) { put(j, s, strlen(s)); }

static int read_varlen(struct rd *r, uint32_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 5; i++) {
        uint8_t b = rd_u8(r);
        if (r->err) return -1;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (v > 0xffffffffu) return -1;
            *out = (uint32_t)v;
            return 0;
        }
    }
    return -1;
}

static void put_double(struct jctx *j, double d)
{
    char b[40];
    if (!isfinite(d)) { puts_(j, "null"); return; }   /* MySQL cannot store these */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, d);
        if (strtod(b, NULL) == d) break;
    }
    if (!strpbrk(b, ".eE")) strcat(b, ".0");
    puts_(j, b);
}

static int put_opaque(struct jctx *j, uint8_t ftype, const uint8_t *s, size_t n)
{
    char b[128];
    int len;
    struct rd r;
    rd_init(&r, s, n);
    switch (ftype) {
    case MYT_NEWDECIMAL: case MYT_DECIMAL: {
        if (n < 2) return jfail(j, "opaque DECIMAL too short");
        int prec = s[0], scale = s[1];
        size_t sz = rows_decimal_size(prec, scale);
        if (sz == 0 || sz > n - 2) return jfail(j, "opaque DECIMAL size");
        len = rows_decimal_text(s + 2, prec, scale, b);
        if (len < 0) return jfail(j, "opaque DECIMAL digits");
        put(j, b, (size_t)len);
        return 0;
    }
    case MYT_DATE: case MYT_TIME: case MYT_TIME2: case MYT_DATETIME: case MYT_DATETIME2:
    case MYT_TIMESTAMP: case MYT_TIMESTAMP2: {
        if (n < 8) return jfail(j, "opaque temporal too short");
        int64_t packed = (int64_t)rd_u64le(&r);
        char kind = (ftype == MYT_DATE) ? 'd' : (ftype == MYT_TIME || ftype == MYT_TIME2) ? 't' : 'T';
        b[0] = '"';
        len = rows_packed_temporal_text(packed, kind, b + 1);
        b[len + 1] = '"';
        put(j, b, (size_t)len + 2);
        return 0;
    }
    default:
        snprintf(b, sizeof b, "\"base64:type%u:", ftype);
        puts_(j, b);
        zb64_encode(j->out, s, n);
        put(j, "\"", 1);
        return 0;
    }
}

static int value(struct jctx *j, uint8_t type, struct rd *r, int depth);

/* A scalar or container whose body starts at r->pos and runs to r->len. */
static int container(struct jctx *j, uint8_t type, const uint8_t *body, size_t avail, int depth)
{
    int large = type == 0x01 || type == 0x03, obj = type <= 0x01;
    size_t w = large ? 4 : 2;
    struct rd r;
    if (depth > JSON_DEPTH_MAX) return jfail(j, "nested too deeply");
    rd_init(&r, body, avail);
    uint64_t count = rd_uint_le(&r, w), size = rd_uint_le(&r, w);
    if (r.err) return jfail(j, "container header truncated");
    if (size > avail || size < 2 * w) return jfail(j, "container size out of range");
    size_t hdr = 2 * w + (size_t)count * ((obj ? w + 2 : 0) + 1 + w);
    if (count > size || hdr > size) return jfail(j, "container count out of range");
    r.len = (size_t)size;                       /* offsets are bounded by the body */
    put(j, obj ? "{" : "[", 1);
    for (uint64_t i = 0; i < count; i++) {
        if (i) put(j, ", ", 2);
        if (obj) {
            struct rd k = r;
            k.pos = 2 * w + (size_t)i * (w + 2);
            uint64_t koff = rd_uint_le(&k, w);
            uint16_t klen = rd_u16le(&k);
            if (k.err || koff > size || klen > size - koff) return jfail(j, "key out of range");
            zjson_string(j->out, (const char *)body + koff, klen, ZJSON_BYTES_KEEP);
            put(j, ": ", 2);
        }
        struct rd e = r;
        e.pos = 2 * w + (obj ? (size_t)count * (w + 2) : 0) + (size_t)i * (1 + w);
        uint8_t vt = rd_u8(&e);
        if (e.err) return jfail(j, "value entry truncated");
        int inlined = vt == 0x04 || vt == 0x05 || vt == 0x06 || (large && (vt == 0x07 || vt == 0x08));
        if (inlined) {
            struct rd in;
            rd_init(&in, e.p + e.pos, w);
            if (value(j, vt, &in, depth + 1)) return -1;
            continue;
        }
        uint64_t off = rd_uint_le(&e, w);
        if (e.err || off < hdr || off >= size) return jfail(j, "value offset out of range");
        struct rd v;
        rd_init(&v, body + off, (size_t)(size - off));
        if (value(j, vt, &v, depth + 1)) return -1;
    }
    put(j, obj ? "}" : "]", 1);
    return 0;
}

/* Within the budget above? Checked once per value visited. */
static int budget_ok(struct jctx *j)
{
    if (++j->nodes <= j->max_nodes && j->out->len - j->out_start <= j->max_out) return 1;
    snprintf(j->err, j->errlen,
             "JSON value malformed: entries share sub-documents, so it would render more than "
             "%zu bytes (or %zu values) from %zu bytes; MySQL never writes this",
             j->max_out, j->max_nodes, j->doc_len);
    return 0;
}

static int value(struct jctx *j, uint8_t type, struct rd *r, int depth)
{
    char b[32];
    if (!budget_ok(j)) return -1;
    switch (type) {
    case 0x00: case 0x01: case 0x02: case 0x03:
        return container(j, type, r->p + r->pos, rd_left(r), depth);
    case 0x04: {
        uint8_t l = rd_u8(r);
        if (r->err) return jfail(j, "literal truncated");
        if (l == 0) puts_(j, "null");
        else if (l == 1) puts_(j, "true");
        else if (l == 2) puts_(j, "false");
        else return jfail(j, "unknown literal");
        return 0;
    }
    case 0x05: snprintf(b, sizeof b, "%d", (int16_t)rd_u16le(r)); break;
    case 0x06: snprintf(b, sizeof b, "%u", rd_u16le(r)); break;
    case 0x07: snprintf(b, sizeof b, "%d", (int32_t)rd_u32le(r)); break;
    case 0x08: snprintf(b, sizeof b, "%u", rd_u32le(r)); break;
    case 0x09: snprintf(b, sizeof b, "%lld", (long long)(int64_t)rd_u64le(r)); break;
    case 0x0a: snprintf(b, sizeof b, "%llu", (unsigned long long)rd_u64le(r)); break;
    case 0x0b: {
        uint64_t x = rd_u64le(r);
        double d;
        memcpy(&d, &x, 8);
        if (r->err) return jfail(j, "double truncated");
        put_double(j, d);
        return 0;
    }
    case 0x0c: {
        uint32_t n;
        if (read_varlen(r, &n)) return jfail(j, "string length");
        const uint8_t *s = rd_bytes(r, n);
        if (!s) return jfail(j, "string truncated");
        zjson_string(j->out, (const char *)s, n, ZJSON_BYTES_KEEP);
        return 0;
    }
    case 0x0f: {
        uint8_t ft = rd_u8(r);
        uint32_t n;
        if (r->err || read_varlen(r, &n)) return jfail(j, "opaque header");
        const uint8_t *s = rd_bytes(r, n);
        if (!s) return jfail(j, "opaque truncated");
        return put_opaque(j, ft, s, n);
    }
    default:
        return jfail(j, "unknown value type");
    }
    if (r->err) return jfail(j, "number truncated");
    puts_(j, b);
    return 0;
}

int myjson_to_text(struct zbuf *out, const uint8_t *doc, size_t len, char *err, size_t errlen)
{
    struct jctx j = { .out = out, .err = err, .errlen = errlen, .doc_len = len,
                      .max_nodes = len + JSON_NODES_SLACK, .out_start = out->len,
                      .max_out = len * JSON_OUT_FACTOR + JSON_OUT_SLACK };
    struct rd r;
    if (len == 0) { puts_(&j, "null"); return out->oom ? -1 : 0; }
    rd_init(&r, doc, len);
    uint8_t t = rd_u8(&r);
    if (value(&j, t, &r, 0)) return -1;
    if (out->oom) { snprintf(err, errlen, "out of memory rendering JSON"); return -1; }
    return 0;
}
