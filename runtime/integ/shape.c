/*
 * shape.c — column transforms (shape.h). The keyed hash is OpenSSL's HMAC
 * with SHA-256: a well-kept implementation, where a hand-written one would
 * be one more thing to get right.
 */
#include "runtime/integ/shape.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
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

void shape_free(struct shape *s)
{
    free(s->x);
    free(s->sig);
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

int shape_table(const struct config_tables *ct, const struct ztable *def, struct ztable *tdef,
                struct shape *s, char *what, size_t whatlen, char *fix, size_t fixlen)
{
    memset(s, 0, sizeof *s);
    struct zbuf sig = {0};
    char kid[9] = "";
    for (int i = 0; i < def->ncols; i++) {
        const struct zcolumn *c = &def->cols[i];
        unsigned bits = config_column_transforms(ct, def->schema, def->name, c->name);
        if (!bits) continue;
        enum shape_x x = bits & COLX_NULL ? SHAPE_NULL : bits & COLX_HASH ? SHAPE_HASH : SHAPE_MASK;
        const char *f = NULL, *why = refusal(def, c, bits, x, &f);
        if (why) {
            snprintf(what, whatlen, "column %s.%s.%s %s", def->schema, def->name, c->name, why);
            snprintf(fix, fixlen, "%s, then restart zetl", f);
            zbuf_free(&sig);
            shape_free(s);
            return 1;
        }
        if (!s->x && !(s->x = calloc((size_t)def->ncols, 1))) goto oom;
        s->n = def->ncols;
        s->x[i] = (uint8_t)x;
        struct zcolumn *tc = &tdef->cols[i];
        if (sig.len) zbuf_putc(&sig, ',');
        zbuf_puts(&sig, tc->name);
        zbuf_putc(&sig, '=');
        zbuf_puts(&sig, shape_name(x));
        switch (x) {
        case SHAPE_HASH:
            if (!kid[0]) shape_key_id(ct->hash_key, kid);
            zbuf_putc(&sig, ':');
            zbuf_puts(&sig, kid);
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
    if (config_table_soft_delete(ct, def->schema, def->name)) {
        const char *why = NULL;
        for (int i = 0; i < def->ncols && !why; i++)
            if (!strcmp(def->cols[i].name, TARGET_SOFT_DELETED) || !strcmp(def->cols[i].name, TARGET_SOFT_DELETED_AT))
                why = def->cols[i].name;
        if (why || (def->npk == 0 && def->nuk == 0)) {
            if (why)
                snprintf(what, whatlen, "table %s.%s is in tables.soft_delete but has a column %s of its own",
                         def->schema, def->name, why);
            else
                snprintf(what, whatlen, "table %s.%s is in tables.soft_delete but has no primary key (nor a unique "
                         "key of NOT NULL integers) to mark its deleted rows by", def->schema, def->name);
            snprintf(fix, fixlen, "%s, then restart zetl",
                     why ? "rename the column on the source, or leave the table out of soft_delete"
                         : "add a primary key on the source, or leave the table out of soft_delete");
            zbuf_free(&sig);
            shape_free(s);
            return 1;
        }
        tdef->soft_delete = 1;
        s->soft_delete = 1;
        if (sig.len) zbuf_putc(&sig, ',');
        zbuf_puts(&sig, "soft_delete");
    }
    s->key = ct->hash_key;
    zbuf_putc(&sig, '\0');
    if (sig.oom || !(s->sig = strdup(sig.p ? sig.p : ""))) goto oom;
    zbuf_free(&sig);
    return 0;
oom:
    zbuf_free(&sig);
    shape_free(s);
    return -1;
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
