/* ddl.c — recognize the statements of QUERY events that change tables (see ddl.h). */
#include "runtime/mysql/ddl.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "runtime/pipe/change.h"

struct tok { const char *s; size_t n; char q; };

static int next_tok(const char *q, size_t len, size_t *pos, struct tok *t)
{
    size_t i = *pos;
    for (;;) {
        while (i < len && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r')) i++;
        if (i >= len) break;
        if (i + 1 < len && q[i] == '/' && q[i + 1] == '*') {
            if (i + 2 < len && q[i + 2] == '!') {            /* executable comment: read inside */
                i += 3;
                while (i < len && q[i] >= '0' && q[i] <= '9') i++;
                continue;
            }
            const char *e = NULL;
            for (size_t k = i + 2; k + 1 < len; k++) if (q[k] == '*' && q[k + 1] == '/') { e = q + k; break; }
            i = e ? (size_t)(e - q) + 2 : len;
            continue;
        }
        if (i + 1 < len && q[i] == '*' && q[i + 1] == '/') { i += 2; continue; }
        if (q[i] == '#' || (i + 2 < len && q[i] == '-' && q[i + 1] == '-' && q[i + 2] == ' ')) {
            while (i < len && q[i] != '\n') i++;
            continue;
        }
        break;
    }
    if (i >= len) { *pos = i; return 0; }
    t->q = 0;
    if (q[i] == '`' || q[i] == '"') {
        char qc = q[i];
        size_t s = ++i;
        while (i < len && !(q[i] == qc && !(i + 1 < len && q[i + 1] == qc))) i += (q[i] == qc) ? 2 : 1;
        t->s = q + s; t->n = (i < len ? i : len) - s; t->q = qc;
        *pos = i < len ? i + 1 : len;
        return 1;
    }
    unsigned char c = (unsigned char)q[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' || c >= 0x80) {
        size_t s = i;
        while (i < len) {
            c = (unsigned char)q[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '$' || c >= 0x80)) break;
            i++;
        }
        t->s = q + s; t->n = i - s;
    } else {
        t->s = q + i; t->n = 1; i++;
    }
    *pos = i;
    return 1;
}

static int kw(const struct tok *t, const char *w)
{
    return !t->q && strlen(w) == t->n && strncasecmp(t->s, w, t->n) == 0;
}

static void copy_ident(const struct tok *t, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < t->n && o + 1 < outlen; i++) {
        out[o++] = t->s[i];
        if (t->q && t->s[i] == t->q && i + 1 < t->n && t->s[i + 1] == t->q) i++;   /* `a``b` */
    }
    out[o] = 0;
}

/* name := ident [ '.' ident ] */
static int read_name(const char *q, size_t len, size_t *pos, const char *db, size_t dblen,
                     char *schema, size_t sl, char *table, size_t tl)
{
    struct tok a, b, c;
    if (!next_tok(q, len, pos, &a)) return -1;
    size_t save = *pos;
    if (next_tok(q, len, pos, &b) && b.n == 1 && b.s[0] == '.' && !b.q) {
        if (!next_tok(q, len, pos, &c)) return -1;
        copy_ident(&a, schema, sl);
        copy_ident(&c, table, tl);
        return 0;
    }
    *pos = save;
    snprintf(schema, sl, "%.*s", (int)dblen, db ? db : "");
    copy_ident(&a, table, tl);
    return 0;
}

static int ddl_scan(const char *q, size_t len, const char *db, size_t dblen, int nth,
                    char *schema, size_t sl, char *table, size_t tl,
                    char *to_schema, size_t tsl, char *to_table, size_t ttl)
{
    size_t pos = 0;
    struct tok t;
    int kind = 0, list = 0;
    if (!next_tok(q, len, &pos, &t)) return 0;
    if (kw(&t, "CREATE")) {
        if (!next_tok(q, len, &pos, &t)) return 0;
        if (kw(&t, "OR")) { next_tok(q, len, &pos, &t); if (!next_tok(q, len, &pos, &t)) return 0; }
        if (kw(&t, "TEMPORARY")) return 0;
        if (kw(&t, "TABLE")) {
            size_t save = pos;
            if (next_tok(q, len, &pos, &t) && kw(&t, "IF")) { next_tok(q, len, &pos, &t); next_tok(q, len, &pos, &t); }
            else pos = save;
            kind = ZDDL_CREATE_TABLE;
        } else {
            if (kw(&t, "UNIQUE") || kw(&t, "FULLTEXT") || kw(&t, "SPATIAL")) next_tok(q, len, &pos, &t);
            if (!kw(&t, "INDEX")) return 0;
            while (next_tok(q, len, &pos, &t) && !kw(&t, "ON")) {}
            if (!kw(&t, "ON")) return 0;
            kind = ZDDL_ALTER_TABLE;
        }
    } else if (kw(&t, "ALTER")) {
        while (next_tok(q, len, &pos, &t) && (kw(&t, "ONLINE") || kw(&t, "IGNORE"))) {}
        if (!kw(&t, "TABLE")) return 0;
        size_t save = pos;
        if (next_tok(q, len, &pos, &t) && kw(&t, "IF")) { next_tok(q, len, &pos, &t); }
        else pos = save;
        kind = ZDDL_ALTER_TABLE;
    } else if (kw(&t, "DROP")) {
        if (!next_tok(q, len, &pos, &t)) return 0;
        if (kw(&t, "TEMPORARY")) return 0;
        if (kw(&t, "TABLE")) {
            size_t save = pos;
            if (next_tok(q, len, &pos, &t) && kw(&t, "IF")) next_tok(q, len, &pos, &t);
            else pos = save;
            kind = ZDDL_DROP_TABLE; list = 1;
        } else if (kw(&t, "INDEX")) {
            while (next_tok(q, len, &pos, &t) && !kw(&t, "ON")) {}
            if (!kw(&t, "ON")) return 0;
            kind = ZDDL_ALTER_TABLE;
        } else if (kw(&t, "DATABASE") || kw(&t, "SCHEMA")) {
            if (nth) return 0;
            size_t save = pos;
            if (next_tok(q, len, &pos, &t) && kw(&t, "IF")) next_tok(q, len, &pos, &t);
            else pos = save;
            if (!next_tok(q, len, &pos, &t)) return 0;
            copy_ident(&t, schema, sl);
            table[0] = 0;
            return ZDDL_UNSUPPORTED;
        } else return 0;
    } else if (kw(&t, "RENAME")) {
        if (!next_tok(q, len, &pos, &t) || !(kw(&t, "TABLE") || kw(&t, "TABLES"))) return 0;
        kind = ZDDL_RENAME_TABLE; list = 2;
    } else if (kw(&t, "TRUNCATE")) {
        size_t save = pos;
        if (!(next_tok(q, len, &pos, &t) && kw(&t, "TABLE"))) pos = save;
        kind = -1;
    } else {
        return 0;
    }
    for (int i = 0;; i++) {
        if (read_name(q, len, &pos, db, dblen, schema, sl, table, tl)) return 0;
        if (i == nth && list != 2) return kind;
        if (!list) return 0;
        if (list == 2) {                    /* a TO b */
            char s2[256], t2[256];
            if (!next_tok(q, len, &pos, &t) || !kw(&t, "TO")) return 0;
            if (read_name(q, len, &pos, db, dblen, s2, sizeof s2, t2, sizeof t2)) return 0;
            if (i == nth) {
                if (to_schema) snprintf(to_schema, tsl, "%s", s2);
                if (to_table) snprintf(to_table, ttl, "%s", t2);
                return kind;
            }
        }
        if (!next_tok(q, len, &pos, &t) || t.n != 1 || t.s[0] != ',') return 0;
    }
}

int mysql_ddl_nth(const char *q, size_t len, const char *db, size_t dblen, int nth,
                  char *schema, size_t sl, char *table, size_t tl)
{
    return ddl_scan(q, len, db, dblen, nth, schema, sl, table, tl, NULL, 0, NULL, 0);
}

int mysql_ddl_rename_to(const char *q, size_t len, const char *db, size_t dblen, int nth,
                        char *schema, size_t sl, char *table, size_t tl)
{
    char s1[256], t1[256];
    if (ddl_scan(q, len, db, dblen, nth, s1, sizeof s1, t1, sizeof t1, schema, sl, table, tl) != ZDDL_RENAME_TABLE)
        return -1;
    return 0;
}

int mysql_ddl_classify(const char *q, size_t qlen, const char *db, size_t dblen,
                       char *schema, size_t schemalen, char *table, size_t tablelen)
{
    return mysql_ddl_nth(q, qlen, db, dblen, 0, schema, schemalen, table, tablelen);
}

int mysql_stmt_starts_with(const char *q, size_t len, const char *w, const char *w2)
{
    size_t pos = 0;
    struct tok t;
    if (!next_tok(q, len, &pos, &t) || !kw(&t, w)) return 0;
    if (!w2) return 1;
    return next_tok(q, len, &pos, &t) && kw(&t, w2);
}


/* Length of the well-formed UTF-8 sequence at p (2..4), or 0 (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n == 0 || n > left) return 0;
    for (size_t i = 1; i < n; i++) if ((p[i] & 0xc0) != 0x80) return 0;
    if (c == 0xe0 && p[1] < 0xa0) return 0;             /* overlong */
    if (c == 0xed && p[1] > 0x9f) return 0;             /* surrogate */
    if (c == 0xf0 && p[1] < 0x90) return 0;             /* overlong */
    if (c == 0xf4 && p[1] > 0x8f) return 0;             /* above U+10FFFF */
    return n;
}

void mysql_stmt_quote(char *out, size_t outlen, const char *q, size_t qlen, size_t max)
{
    const unsigned char *p = (const unsigned char *)q;
    size_t i = 0, o = 0, chars = 0;
    if (outlen == 0) return;
    while (i < qlen && chars < max) {
        size_t n = p[i] >= 0x80 ? utf8_seq(p + i, qlen - i) : 1;
        if (o + (n ? n : 1) + 1 > outlen) break;
        if (n == 0) { out[o++] = '?'; i++; }
        else if (n == 1) { out[o++] = p[i] < 0x20 || p[i] == 0x7f ? ' ' : (char)p[i]; i++; }
        else { memcpy(out + o, p + i, n); o += n; i += n; }
        chars++;
    }
    if (i < qlen && o + 4 <= outlen) { memcpy(out + o, "...", 3); o += 3; }
    out[o] = 0;
}
