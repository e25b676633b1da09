/*
 * catalog.c — the decoder's resolver: relation columns from pg_catalog
 * (see catalog.h).
 */
#include "runtime/pg/catalog.h"
#include "runtime/base/buf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The server's message as one line (libpq's may span several). */
static const char *catmsg(const PGresult *r)
{
    static _Thread_local char buf[400];
    snprintf(buf, sizeof buf, "%s", r ? PQresultErrorMessage(r) : "no result");
    char *o = buf;
    for (const char *q = buf; *q; q++) {
        char ch = (*q == '\n' || *q == '\t' || *q == '\r') ? ' ' : *q;
        if (ch == ' ' && (o == buf || o[-1] == ' ')) continue;
        *o++ = ch;
    }
    while (o > buf && o[-1] == ' ') o--;
    *o = 0;
    return buf;
}

struct catcol {
    char    *name;
    uint32_t type_oid;          /* the Relation message's */
    int32_t  typmod;
    /* resolved */
    int      found;
    enum ztype type;
    int32_t  length;
    int16_t  precision, scale;
    uint8_t  nullable, is_array;
    int16_t  pk_ord;
    int16_t  uk_ord;            /* position in the chunk key (change.h, nuk) */
    char    *source_type;
};

struct catrel {
    uint32_t       oid;
    int            ncols;
    int            npk;
    int            nuk;         /* no primary key: the chunk key's columns, or 0 */
    struct catcol *cols;
};

struct pgcatalog {
    PGconn        *sql;
    const struct pgwait *w;
    struct catrel *rels;
    size_t         n, cap;
};

struct pgcatalog *pgcatalog_new(PGconn *sql, const struct pgwait *w)
{
    struct pgcatalog *c = calloc(1, sizeof *c);
    if (c) {
        c->sql = sql;
        c->w = w;
    }
    return c;
}

static void catrel_clear(struct catrel *r)
{
    for (int i = 0; i < r->ncols; i++) {
        free(r->cols[i].name);
        free(r->cols[i].source_type);
    }
    free(r->cols);
    r->cols = NULL;
    r->ncols = 0;
}

void pgcatalog_free(struct pgcatalog *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) catrel_clear(&c->rels[i]);
    free(c->rels);
    free(c);
}

static int cat_matches(const struct catrel *r, const struct ztable *t, const uint32_t *oids, const int32_t *mods)
{
    if (r->ncols != t->ncols) return 0;
    for (int i = 0; i < t->ncols; i++)
        if (r->cols[i].type_oid != oids[i] || r->cols[i].typmod != mods[i] ||
            strcmp(r->cols[i].name, t->cols[i].name) != 0)
            return 0;
    return 1;
}

static const char cat_query[] =
    "SELECT a.attname, a.atttypid, a.atttypmod, pg_catalog.format_type(a.atttypid, a.atttypmod), "
    "       a.attnotnull, t.typtype, t.typcategory, "
    "       t.typbasetype, t.typtypmod, pg_catalog.format_type(t.typbasetype, t.typtypmod), "
    "       COALESCE(et.typtype, ''), "
    "       COALESCE((SELECT k.n FROM pg_catalog.pg_index i, "
    "                        unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(att, n) "
    "                 WHERE i.indrelid = a.attrelid AND i.indisprimary AND k.att = a.attnum "
    "                   AND k.n <= i.indnkeyatts), 0), "   /* INCLUDE columns are payload, not key */
    /* The chunk key of a table without a primary key (change.h, nuk): a unique,
     * immediate, valid index of plain NOT NULL int2/int4/int8 columns, neither
     * partial nor on expressions; the replica identity's first, then the one
     * of fewest columns. */
    "       COALESCE((SELECT k.n FROM pg_catalog.pg_index i, "
    "                        unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(att, n) "
    "                 WHERE i.indexrelid = (SELECT u.indexrelid FROM pg_catalog.pg_index u "
    "                     WHERE u.indrelid = a.attrelid AND u.indisunique AND u.indimmediate AND u.indisvalid "
    "                       AND u.indpred IS NULL AND u.indexprs IS NULL AND u.indnkeyatts <= 8 "
    "                       AND NOT EXISTS (SELECT 1 FROM unnest(u.indkey::pg_catalog.int2[]) WITH ORDINALITY "
    "                                              AS x(att, n) "
    "                           JOIN pg_catalog.pg_attribute ua ON ua.attrelid = u.indrelid AND ua.attnum = x.att "
    "                           WHERE x.n <= u.indnkeyatts "
    "                             AND (NOT ua.attnotnull OR ua.atttypid NOT IN (20, 21, 23))) "
    "                     ORDER BY u.indisreplident DESC, u.indnkeyatts, u.indexrelid LIMIT 1) "
    "                   AND k.att = a.attnum AND k.n <= i.indnkeyatts), 0) "
    "FROM pg_catalog.pg_attribute a "
    "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
    "LEFT JOIN pg_catalog.pg_type et ON t.typcategory = 'A' AND et.oid = t.typelem "
    "WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped";

/* Fills a fresh cache entry for t from the catalog. */
static int cat_load(struct pgcatalog *c, struct catrel *cr, const struct ztable *t,
                    const uint32_t *oids, const int32_t *mods, char *err, size_t errlen)
{
    char oidbuf[16];
    snprintf(oidbuf, sizeof oidbuf, "%" PRIu64, t->id);
    const char *params[1] = { oidbuf };
    char qe[512];
    PGresult *r = pgwait_exec(c->sql, c->w, cat_query, 1, params, qe, sizeof qe);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "catalog query for %s.%s failed: %s", t->schema, t->name, r ? catmsg(r) : qe);
        PQclear(r);
        return -1;
    }
    cr->oid = (uint32_t)t->id;
    cr->cols = calloc((size_t)(t->ncols ? t->ncols : 1), sizeof *cr->cols);
    if (!cr->cols) { PQclear(r); snprintf(err, errlen, "out of memory"); return -1; }
    cr->ncols = t->ncols;
    cr->npk = 0;
    int has_pk = 0;
    for (int i = 0; i < t->ncols; i++) {
        struct catcol *cc = &cr->cols[i];
        cc->name = strdup(t->cols[i].name);
        if (!cc->name) { PQclear(r); snprintf(err, errlen, "out of memory"); return -1; }
        cc->type_oid = oids[i];
        cc->typmod = mods[i];
        cc->nullable = 1;
        for (int row = 0; row < PQntuples(r); row++) {
            if (strcmp(PQgetvalue(r, row, 0), cc->name) != 0) continue;
            uint32_t atttypid = (uint32_t)strtoul(PQgetvalue(r, row, 1), NULL, 10);
            int32_t atttypmod = (int32_t)strtol(PQgetvalue(r, row, 2), NULL, 10);
            int pk = atoi(PQgetvalue(r, row, 11));
            cc->uk_ord = (int16_t)atoi(PQgetvalue(r, row, 12));
            cc->nullable = PQgetvalue(r, row, 4)[0] != 't';
            cc->pk_ord = (int16_t)pk;
            if (pk > 0) has_pk = 1;
            if (atttypid != oids[i] || atttypmod != mods[i]) break;   /* retyped since: keep the message's */
            cc->found = 1;
            char typtype = PQgetvalue(r, row, 5)[0];
            char elemtype = PQgetvalue(r, row, 10)[0];
            const char *srctype = PQgetvalue(r, row, 3);
            struct zcolumn z = t->cols[i];
            cc->type = z.type;
            cc->length = z.length;
            cc->precision = z.precision;
            cc->scale = z.scale;
            cc->is_array = z.is_array;
            if (typtype == 'e' || elemtype == 'e') {
                cc->type = ZT_ENUM;
                cc->is_array = elemtype == 'e';
            } else if (typtype == 'd') {
                uint32_t base = (uint32_t)strtoul(PQgetvalue(r, row, 7), NULL, 10);
                int32_t bmod = (int32_t)strtol(PQgetvalue(r, row, 8), NULL, 10);
                char tmp[128];
                struct zcolumn bz = z;
                if (pgdec_builtin_type(base, bmod, &bz, tmp, sizeof tmp) == 0) {
                    cc->type = bz.type;
                    cc->length = bz.length;
                    cc->precision = bz.precision;
                    cc->scale = bz.scale;
                    cc->is_array = bz.is_array;
                }
                srctype = PQgetvalue(r, row, 9);    /* the domain's base type: what a target can create */
            }
            /* User types keep the decoder's schema-qualified name (format_type omits a
               visible schema, which a target cannot rely on); built-ins and domains
               (now their base type) take format_type's text. */
            if (atttypid >= 16384 && typtype != 'd') break;
            cc->source_type = strdup(srctype);
            if (!cc->source_type) { PQclear(r); snprintf(err, errlen, "out of memory"); return -1; }
            break;
        }
    }
    cr->nuk = 0;
    if (has_pk) {
        for (int i = 0; i < cr->ncols; i++) if (cr->cols[i].pk_ord > 0) cr->npk++;
    } else {
        cr->npk = -1;   /* no primary key: keep the replica identity's key */
        for (int i = 0; i < cr->ncols; i++) if (cr->cols[i].uk_ord > 0) cr->nuk++;
    }
    PQclear(r);
    return 0;
}

int pgcatalog_resolve(void *cat, struct ztable *t, const uint32_t *type_oids,
                      const int32_t *typmods, char *err, size_t errlen)
{
    struct pgcatalog *c = cat;
    struct catrel *cr = NULL;
    for (size_t i = 0; i < c->n; i++)
        if (c->rels[i].oid == (uint32_t)t->id) { cr = &c->rels[i]; break; }
    if (cr && !cat_matches(cr, t, type_oids, typmods)) catrel_clear(cr);
    if (!cr) {
        struct catrel *n = zarray_grow(c->rels, &c->cap, c->n + 1, sizeof *n);
        if (!n) { snprintf(err, errlen, "out of memory"); return -1; }
        c->rels = n;
        cr = &c->rels[c->n++];
        memset(cr, 0, sizeof *cr);
    }
    if (!cr->cols && cat_load(c, cr, t, type_oids, typmods, err, errlen)) {
        catrel_clear(cr);
        return -1;
    }
    for (int i = 0; i < t->ncols; i++) {
        const struct catcol *cc = &cr->cols[i];
        struct zcolumn *z = &t->cols[i];
        z->nullable = cc->nullable;
        if (cr->npk >= 0) z->pk_ord = cc->pk_ord;
        z->uk_ord = cr->npk >= 0 ? 0 : cc->uk_ord;
        if (!cc->found) continue;
        z->type = cc->type;
        z->length = cc->length;
        z->precision = cc->precision;
        z->scale = cc->scale;
        z->is_array = cc->is_array;
        if (cc->source_type) {
            char *st = strdup(cc->source_type);
            if (!st) { snprintf(err, errlen, "out of memory"); return -1; }
            free(z->source_type);
            z->source_type = st;
        }
    }
    if (cr->npk >= 0) t->npk = cr->npk;
    t->nuk = cr->npk >= 0 ? 0 : cr->nuk;
    return 0;
}
