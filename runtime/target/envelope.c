/*
 * envelope.c — row changes as JSON change events (see envelope.h).
 * Pure: unit-tested in tests/unit/test_http_envelope.c.
 */
#include "runtime/target/envelope.h"
#include "runtime/base/b64.h"
#include "runtime/base/json.h"
#include "runtime/base/utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_SAFE_INT 9007199254740992LL       /* 2^53: every JSON parser reads it exactly */
#define JSON_MAX_DEPTH 512                     /* nesting accepted in a JSON column */

/* ---- strings -------------------------------------------------------------------- */

void envelope_json_string(struct zbuf *out, const char *s, size_t n)
{
    zjson_string(out, s, n, ZJSON_BYTES_FFFD);
}

/* ---- JSON columns: validate and compact ---------------------------------------------- */

struct jc {
    const char *p, *end;
    struct zbuf *out;
    int depth;
};

static void jc_ws(struct jc *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A JSON number at p (n bytes); its length, 0 if not one. */
static size_t json_number_len(const char *p, size_t n)
{
    size_t i = 0;
    if (i < n && p[i] == '-') i++;
    if (i < n && p[i] == '0') i++;
    else if (i < n && p[i] >= '1' && p[i] <= '9') while (i < n && is_digit(p[i])) i++;
    else return 0;
    if (i < n && p[i] == '.') {
        if (++i >= n || !is_digit(p[i])) return 0;
        while (i < n && is_digit(p[i])) i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-')) i++;
        if (i >= n || !is_digit(p[i])) return 0;
        while (i < n && is_digit(p[i])) i++;
    }
    return i;
}

static int jc_string(struct jc *j)
{
    const char *s = j->p++;                 /* the opening quote */
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            tbuf_put(j->out, s, (size_t)(j->p - s));
            return 0;
        }
        if (c < 0x20) return -1;
        if (c == '\\') {
            if (j->end - j->p < 2) return -1;
            char e = j->p[1];
            if (e == 'u') {
                if (j->end - j->p < 6 || !is_hex(j->p[2]) || !is_hex(j->p[3]) ||
                    !is_hex(j->p[4]) || !is_hex(j->p[5]))
                    return -1;
                j->p += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                j->p += 2;
            } else {
                return -1;
            }
            continue;
        }
        size_t k = c < 0x80 ? 1 : zutf8_len((const unsigned char *)j->p, (size_t)(j->end - j->p));
        if (!k) return -1;
        j->p += k;
    }
    return -1;
}

static int jc_value(struct jc *j);

/* An object or array: open/close '{' '}' or '[' ']'; members are "key": value. */
static int jc_container(struct jc *j, char close, int object)
{
    if (++j->depth > JSON_MAX_DEPTH) return -1;
    tbuf_putc(j->out, *j->p++);
    jc_ws(j);
    if (j->p < j->end && *j->p == close) {
        tbuf_putc(j->out, *j->p++);
        j->depth--;
        return 0;
    }
    for (;;) {
        jc_ws(j);
        if (object) {
            if (j->p >= j->end || *j->p != '"' || jc_string(j)) return -1;
            jc_ws(j);
            if (j->p >= j->end || *j->p != ':') return -1;
            tbuf_putc(j->out, *j->p++);
        }
        if (jc_value(j)) return -1;
        jc_ws(j);
        if (j->p >= j->end) return -1;
        if (*j->p == ',') {
            tbuf_putc(j->out, *j->p++);
            continue;
        }
        if (*j->p != close) return -1;
        tbuf_putc(j->out, *j->p++);
        j->depth--;
        return 0;
    }
}

static int jc_value(struct jc *j)
{
    jc_ws(j);
    if (j->p >= j->end) return -1;
    size_t left = (size_t)(j->end - j->p), n;
    switch (*j->p) {
    case '{': return jc_container(j, '}', 1);
    case '[': return jc_container(j, ']', 0);
    case '"': return jc_string(j);
    case 't': n = 4; if (left < n || memcmp(j->p, "true", n)) return -1; break;
    case 'f': n = 5; if (left < n || memcmp(j->p, "false", n)) return -1; break;
    case 'n': n = 4; if (left < n || memcmp(j->p, "null", n)) return -1; break;
    default:
        if (!(n = json_number_len(j->p, left))) return -1;
    }
    tbuf_put(j->out, j->p, n);
    j->p += n;
    return 0;
}

int envelope_json_compact(struct zbuf *out, const char *s, size_t n)
{
    size_t mark = out->len;
    struct jc j = {.p = s, .end = s + n, .out = out};
    int rc = jc_value(&j);
    jc_ws(&j);
    if (rc || j.p != j.end) {
        out->len = mark;
        if (out->p) out->p[mark] = '\0';
        return -1;
    }
    return 0;
}

/* ---- values ----------------------------------------------------------------------- */

static void put_int(struct zbuf *out, int64_t v)
{
    char tmp[32];
    int safe = v >= -JSON_SAFE_INT && v <= JSON_SAFE_INT;
    snprintf(tmp, sizeof tmp, safe ? "%" PRId64 : "\"%" PRId64 "\"", v);
    tbuf_puts(out, tmp);
}

static void put_uint(struct zbuf *out, uint64_t v)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, v <= (uint64_t)JSON_SAFE_INT ? "%" PRIu64 : "\"%" PRIu64 "\"", v);
    tbuf_puts(out, tmp);
}

/* The shortest decimal that reads back to the same double (float for FLOAT32). */
static void put_float(struct zbuf *out, double f, int single)
{
    char tmp[40];
    if (isnan(f)) { tbuf_puts(out, "\"NaN\""); return; }
    if (isinf(f)) { tbuf_puts(out, f > 0 ? "\"Infinity\"" : "\"-Infinity\""); return; }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, f);
        double back = strtod(tmp, NULL);
        if (single ? (float)back == (float)f : back == f) break;
    }
    tbuf_puts(out, tmp);
}

/* "+00" → "Z", "+05" → "+05:00", "+05:30" kept; 0 ok, -1 not an offset ISO 8601 can spell. */
static int put_offset(struct zbuf *out, const char *z, size_t n)
{
    if (n < 3 || (z[0] != '+' && z[0] != '-') || !is_digit(z[1]) || !is_digit(z[2])) return -1;
    if (n == 3) {
        if (z[1] == '0' && z[2] == '0') tbuf_putc(out, 'Z');
        else { tbuf_put(out, z, 3); tbuf_puts(out, ":00"); }
        return 0;
    }
    if (n == 6 && z[3] == ':' && is_digit(z[4]) && is_digit(z[5])) {
        if (memcmp(z + 1, "00:00", 5) == 0) tbuf_putc(out, 'Z');
        else tbuf_put(out, z, 6);
        return 0;
    }
    return -1;
}

/* Length of "HH:MM:SS[.fff]" at s, 0 if not that shape. */
static size_t clock_len(const char *s, size_t n)
{
    if (n < 8 || !is_digit(s[0]) || !is_digit(s[1]) || s[2] != ':' || !is_digit(s[3]) ||
        !is_digit(s[4]) || s[5] != ':' || !is_digit(s[6]) || !is_digit(s[7]))
        return 0;
    size_t i = 8;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i])) i++;
    }
    return i;
}

/*
 * A date/time in PostgreSQL's ISO output ("2024-02-29 10:00:00.5+00") as
 * ISO 8601 ("2024-02-29T10:00:00.5Z"); anything else as the source spells it.
 */
static void put_datetime(struct zbuf *out, const struct zcolumn *c, const char *s, size_t n)
{
    size_t mark = out->len, i = 0;
    int has_date = c->type == ZT_TIMESTAMP || c->type == ZT_TIMESTAMPTZ;
    int has_tz = c->type == ZT_TIMESTAMPTZ || c->type == ZT_TIMETZ;
    tbuf_putc(out, '"');
    if (has_date) {
        while (i < n && is_digit(s[i])) i++;
        if (i < 4 || n - i < 7 || s[i] != '-' || !is_digit(s[i + 1]) || !is_digit(s[i + 2]) ||
            s[i + 3] != '-' || !is_digit(s[i + 4]) || !is_digit(s[i + 5]) || s[i + 6] != ' ')
            goto raw;
        tbuf_put(out, s, i + 6);
        tbuf_putc(out, 'T');
        i += 7;
    }
    size_t k = clock_len(s + i, n - i);
    if (!k) goto raw;
    tbuf_put(out, s + i, k);
    i += k;
    if (has_tz ? put_offset(out, s + i, n - i) != 0 : i != n) goto raw;
    tbuf_putc(out, '"');
    return;
raw:
    out->len = mark;
    envelope_json_string(out, s, n);
}

/* Text of an integer column: a JSON number when it is one that fits exactly. */
static void put_int_text(struct zbuf *out, const char *s, size_t n)
{
    size_t digits = n && s[0] == '-' ? n - 1 : n;
    if (n && json_number_len(s, n) == n && !memchr(s, '.', n) && !memchr(s, 'e', n) &&
        !memchr(s, 'E', n) && digits <= 15)
        tbuf_put(out, s, n);
    else
        envelope_json_string(out, s, n);
}

void envelope_value(struct zbuf *out, const struct zcolumn *c, const struct zvalue *v)
{
    switch (v->kind) {
    case ZV_NULL: case ZV_UNCHANGED: tbuf_puts(out, "null"); return;
    case ZV_BYTES:
        tbuf_putc(out, '"');
        zb64_encode(out, v->v.p, v->len);
        tbuf_putc(out, '"');
        return;
    case ZV_INT: case ZV_UINT: {
        uint64_t nz = v->kind == ZV_INT ? (uint64_t)(v->v.i != 0) : (uint64_t)(v->v.u != 0);
        char tmp[32];
        if (c->type == ZT_BOOL) {
            tbuf_puts(out, nz ? "true" : "false");
        } else if (c->type == ZT_DECIMAL) {          /* exact, as a string like any DECIMAL */
            if (v->kind == ZV_INT) snprintf(tmp, sizeof tmp, "\"%" PRId64 "\"", v->v.i);
            else snprintf(tmp, sizeof tmp, "\"%" PRIu64 "\"", v->v.u);
            tbuf_puts(out, tmp);
        } else if (v->kind == ZV_INT) {
            put_int(out, v->v.i);
        } else {
            put_uint(out, v->v.u);
        }
        return;
    }
    case ZV_FLOAT: put_float(out, v->v.f, c->type == ZT_FLOAT32); return;
    case ZV_TEXT: break;
    default: tbuf_puts(out, "null"); return;
    }
    const char *s = v->v.p;
    size_t n = v->len;
    if (c->is_array) {
        envelope_json_string(out, s, n);
        return;
    }
    switch (c->type) {
    case ZT_BOOL:
        if ((n == 1 && (s[0] == 't' || s[0] == '1')) || (n == 4 && memcmp(s, "true", 4) == 0))
            tbuf_puts(out, "true");
        else if ((n == 1 && (s[0] == 'f' || s[0] == '0')) || (n == 5 && memcmp(s, "false", 5) == 0))
            tbuf_puts(out, "false");
        else
            envelope_json_string(out, s, n);
        return;
    case ZT_INT16: case ZT_INT32: case ZT_INT64: case ZT_UINT64: case ZT_YEAR:
        put_int_text(out, s, n);
        return;
    case ZT_FLOAT32: case ZT_FLOAT64:
        if (n && json_number_len(s, n) == n) tbuf_put(out, s, n);
        else envelope_json_string(out, s, n);      /* NaN, Infinity, -Infinity */
        return;
    case ZT_JSON:
        if (envelope_json_compact(out, s, n) != 0) envelope_json_string(out, s, n);
        return;
    case ZT_TIMESTAMP: case ZT_TIMESTAMPTZ: case ZT_TIME: case ZT_TIMETZ:
        put_datetime(out, c, s, n);
        return;
    default:
        envelope_json_string(out, s, n);
    }
}

/* ---- the event ---------------------------------------------------------------------------- */

static void put_key(struct zbuf *out, const char *name, int first)
{
    if (!first) tbuf_putc(out, ',');
    envelope_json_string(out, name, strlen(name));
    tbuf_putc(out, ':');
}

static void put_str_or_null(struct zbuf *out, const char *s)
{
    if (s) envelope_json_string(out, s, strlen(s));
    else tbuf_puts(out, "null");
}

/*
 * A row image as an object. key_only: just the key columns (the source
 * logged no more). fill: a full image that supplies ZV_UNCHANGED values, or
 * NULL; an unchanged value it cannot supply is left out.
 */
static void put_image(struct zbuf *out, const struct ztable *t, const struct zvalue *vals,
                      int key_only, const struct zvalue *fill)
{
    if (!vals) {
        tbuf_puts(out, "null");
        return;
    }
    tbuf_putc(out, '{');
    int first = 1;
    for (int i = 0; i < t->ncols; i++) {
        const struct zcolumn *c = &t->cols[i];
        if (key_only && t->npk > 0 && c->pk_ord == 0) continue;
        const struct zvalue *v = &vals[i];
        if (v->kind == ZV_UNCHANGED) {
            if (!fill || fill[i].kind == ZV_UNCHANGED) continue;
            v = &fill[i];
        }
        put_key(out, c->name, first);
        first = 0;
        envelope_value(out, c, v);
    }
    tbuf_putc(out, '}');
}

int envelope_encode(struct zbuf *out, const struct envelope_src *src, const struct zrowchange *rc,
                    const char *tschema, const char *tname, int64_t now_ms)
{
    const struct ztable *t = rc->table;
    const char *op = "c";
    const struct zvalue *before = NULL, *after = NULL;
    switch (rc->op) {
    case ZOP_INSERT: op = src->snapshot ? "r" : "c"; after = rc->after; break;
    case ZOP_UPDATE: op = "u"; before = rc->before; after = rc->after; break;
    case ZOP_DELETE: op = "d"; before = rc->before; break;
    case ZOP_TRUNCATE: op = "t"; break;
    case ZOP_OVERSIZE: break;       /* never sent: the applier fails its table (apply.c) */
    }
    char num[32];
    tbuf_puts(out, "{\"op\":\"");
    tbuf_puts(out, op);
    tbuf_puts(out, "\",\"before\":");
    put_image(out, t, before, rc->before_key_only, NULL);
    tbuf_puts(out, ",\"after\":");
    /* unchanged (TOAST) values come from a full before image when there is one */
    put_image(out, t, after, 0, rc->before && !rc->before_key_only ? rc->before : NULL);

    tbuf_puts(out, ",\"source\":{\"connector\":");
    put_str_or_null(out, src->connector);
    tbuf_puts(out, ",\"name\":");
    put_str_or_null(out, src->name);
    tbuf_puts(out, ",\"db\":");
    put_str_or_null(out, src->db ? src->db : t->schema);
    tbuf_puts(out, ",\"schema\":");
    put_str_or_null(out, t->schema);
    tbuf_puts(out, ",\"table\":");
    put_str_or_null(out, t->name);
    tbuf_puts(out, ",\"pos\":");
    put_str_or_null(out, src->pos);
    snprintf(num, sizeof num, ",\"seq\":%" PRIu64, src->seq);
    tbuf_puts(out, num);
    tbuf_puts(out, ",\"txid\":");
    if (src->txid) put_uint(out, src->txid);
    else tbuf_puts(out, "null");
    tbuf_puts(out, ",\"ts_ms\":");
    if (src->ts_ms) put_int(out, src->ts_ms);
    else tbuf_puts(out, "null");
    tbuf_puts(out, src->snapshot ? ",\"snapshot\":true}" : ",\"snapshot\":false}");

    tbuf_puts(out, ",\"target\":");
    const char *ts = tschema ? tschema : t->schema, *tn = tname ? tname : t->name;
    tbuf_putc(out, '"');
    zjson_escape(out, ts, strlen(ts), ZJSON_BYTES_FFFD);
    tbuf_putc(out, '.');
    zjson_escape(out, tn, strlen(tn), ZJSON_BYTES_FFFD);
    tbuf_putc(out, '"');
    snprintf(num, sizeof num, ",\"ts_ms\":%" PRId64 "}\n", now_ms);
    tbuf_puts(out, num);
    return out->oom ? -1 : 0;
}
