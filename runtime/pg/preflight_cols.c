/*
 * preflight_cols.c (pg) — `zetl check` on a PostgreSQL source's columns (see
 * preflight.h): a table left with no column to replicate (none on the
 * source, or every one in tables.exclude_columns) is excluded, and each
 * STORED generated column is one the target must compute (no stream before
 * PostgreSQL 18 carries its values): a PostgreSQL target is asked to create
 * it, in a temporary table inside a transaction rolled back; Redshift and
 * http targets cannot, so it is not replicated (a warning).
 */
#include "runtime/base/buf.h"
#include "runtime/pg/preflight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/target/target.h"

/* Columns: 0 schema, 1 table, 2 column, 3 STORED generated, 4 expression,
 * 5 a type to probe with, 6 in the primary key (key columns only). */
static const char cols_sql[] =
    "SELECT n.nspname, c.relname, a.attname, a.attgenerated = 's', "
    "       pg_catalog.pg_get_expr(d.adbin, d.adrelid), "
    "       CASE WHEN a.atttypid < 16384 THEN pg_catalog.format_type(a.atttypid, a.atttypmod) "
    "            WHEN t.typtype = 'd' AND t.typbasetype < 16384 "
    "                 THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) "
    "            ELSE 'text' END, "
    "       EXISTS (SELECT 1 FROM pg_catalog.pg_index i, "
    "                      unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(att, n) "
    "               WHERE i.indrelid = c.oid AND i.indisprimary AND k.att = a.attnum "
    "                 AND k.n <= i.indnkeyatts) "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
    "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
    /* generated columns only: pg_get_expr opens the relation (a lock wait) */
    "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
    "                                 AND a.attgenerated = 's' "
    "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
    "  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' "
    "ORDER BY 1, 2, a.attnum";

static void one_line(char *s)
{
    char *o = s;
    for (const char *q = s; *q; q++) {
        char ch = (*q == '\n' || *q == '\t' || *q == '\r') ? ' ' : *q;
        if (ch == ' ' && (o == s || o[-1] == ' ')) continue;
        *o++ = ch;
    }
    while (o > s && o[-1] == ' ') o--;
    *o = 0;
}

int pgpf_cols_load(struct pgpf_cols *c, PGconn *sql, const struct config_integration *in,
                   char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->in = in;
    c->r = PQexec(sql, cols_sql);
    if (PQresultStatus(c->r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "preflight query failed: %s", PQresultErrorMessage(c->r));
        one_line(err);
        PQclear(c->r);
        c->r = NULL;
        return -1;
    }
    return 0;
}

void pgpf_cols_free(struct pgpf_cols *c)
{
    PQclear(c->r);
    PQfinish(c->tgt);
    memset(c, 0, sizeof *c);
}

static int row_of(const struct pgpf_cols *c, int row, const char *schema, const char *name)
{
    return strcmp(PQgetvalue(c->r, row, 0), schema) == 0 && strcmp(PQgetvalue(c->r, row, 1), name) == 0;
}

static int excluded(const struct pgpf_cols *c, int row)
{
    return config_column_excluded(&c->in->tables, PQgetvalue(c->r, row, 0), PQgetvalue(c->r, row, 1),
                                  PQgetvalue(c->r, row, 2));
}

int pgpf_cols_kept(const struct pgpf_cols *c, const char *schema, const char *name, int *total)
{
    int kept = 0;
    *total = 0;
    for (int i = 0; i < PQntuples(c->r); i++) {
        if (!row_of(c, i, schema, name)) continue;
        (*total)++;
        if (!excluded(c, i)) kept++;
    }
    return kept;
}

/* A server NOTICE is not for the operator, and libpq's default prints it on
 * stderr, which is the console's screen while curses owns it: dropped. */
static void drop_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* The target, once per check run; NULL (with c->tgt_err) when it cannot be reached. */
static PGconn *target(struct pgpf_cols *c)
{
    if (c->tgt || c->tgt_tried) return c->tgt;
    c->tgt_tried = 1;
    const char *kw[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
    const char *val[] = {"10", "zetl", c->in->target.dsn ? c->in->target.dsn : "", NULL};
    PGconn *t = PQconnectdbParams(kw, val, 1);
    if (!t || PQstatus(t) != CONNECTION_OK) {
        /* libpq's connection messages name host and port, never the password */
        snprintf(c->tgt_err, sizeof c->tgt_err, "%s", t ? PQerrorMessage(t) : "out of memory");
        one_line(c->tgt_err);
        PQfinish(t);
        return NULL;
    }
    PQsetNoticeProcessor(t, drop_notice, NULL);
    PQclear(PQexec(t, "SET statement_timeout = 10000"));
    c->tgt = t;
    return t;
}

/* Can the target create column `gen` of schema.name (the kept columns around it)?
 * 0 yes; -1 with why set. */
static int probe(struct pgpf_cols *c, PGconn *t, const char *schema, const char *name, int gen,
                 char *why, size_t whylen)
{
    struct zbuf sql = { 0 };
    int rc = -1;
#define PUT(s) zbuf_puts(&sql, (s))
    PUT("CREATE TEMPORARY TABLE zetl_generated_probe (");
    int first = 1;
    for (int i = 0; i < PQntuples(c->r); i++) {
        if (!row_of(c, i, schema, name) || excluded(c, i)) continue;
        int is_gen = PQgetvalue(c->r, i, 3)[0] == 't';
        if (is_gen && i != gen) continue;
        const char *col = PQgetvalue(c->r, i, 2);
        char *q = PQescapeIdentifier(t, col, strlen(col));
        if (!q) goto oom;
        if (!first) PUT(", ");
        first = 0;
        PUT(q);
        PQfreemem(q);
        PUT(" ");
        PUT(PQgetvalue(c->r, i, 5));
        if (is_gen) {
            PUT(" GENERATED ALWAYS AS (");
            PUT(PQgetvalue(c->r, i, 4));
            PUT(") STORED");
        }
    }
    PUT(")");
#undef PUT
    if (sql.oom) goto oom;
    PGresult *r = PQexec(t, "BEGIN");
    PQclear(r);
    r = PQexec(t, sql.p);
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        rc = 0;
    } else {
        snprintf(why, whylen, "%s", PQresultErrorMessage(r));
        one_line(why);
    }
    PQclear(r);
    PQclear(PQexec(t, "ROLLBACK"));
    zbuf_free(&sql);
    return rc;
oom:
    zbuf_free(&sql);
    snprintf(why, whylen, "out of memory");
    return -1;
}

void pgpf_cols_check_generated(struct pgpf_cols *c, const char *schema, const char *name,
                               struct pf_report *rep)
{
    const struct target_driver *td = target_driver(c->in->target.kind);
    for (int i = 0; i < PQntuples(c->r); i++) {
        if (!row_of(c, i, schema, name) || PQgetvalue(c->r, i, 3)[0] != 't' || excluded(c, i)) continue;
        const char *col = PQgetvalue(c->r, i, 2);
        char check[64], expr[72], fix[384], why[300];
        snprintf(check, sizeof check, "column %s.%s.%s", schema, name, col);
        snprintf(expr, sizeof expr, "%s", PQgetvalue(c->r, i, 4));
        if (strlen(PQgetvalue(c->r, i, 4)) >= sizeof expr) memcpy(expr + sizeof expr - 4, "...", 4);
        snprintf(fix, sizeof fix, "add \"%s.%s.%s\" to tables.exclude_columns (the column is then not replicated)",
                 schema, name, col);
        if (PQgetvalue(c->r, i, 6)[0] == 't') {
            char fixk[384];
            snprintf(fixk, sizeof fixk, "add \"%s.%s\" to tables.exclude (a key column cannot be excluded alone)",
                     schema, name);
            pf_add(rep, PF_FAIL, check, "a key column the stream carries", fixk, "",
                   "GENERATED ALWAYS AS (%s) STORED in the primary key: pgoutput before PostgreSQL 18 sends no value for it",
                   expr);
        } else if (!td->computes_generated) {
            pf_add(rep, PF_WARN, check, "a PostgreSQL target to compute it", fix, "",
                   "GENERATED ALWAYS AS (%s) STORED: not replicated (the %s target cannot compute it)",
                   expr, td->label);
        } else if (!target(c)) {
            pf_add(rep, PF_WARN, check, "the target can compute it", "check that the target is reachable", "",
                   "GENERATED ALWAYS AS (%s) STORED: not checked on the target: %s", expr, c->tgt_err);
        } else if (probe(c, c->tgt, schema, name, i, why, sizeof why) != 0) {
            char fix2[512];
            snprintf(fix2, sizeof fix2, "%.300s; or create on the target what the expression needs (a function, a type)", fix);
            pf_add(rep, PF_FAIL, check, "the target can compute it", fix2, "",
                   "GENERATED ALWAYS AS (%s) STORED: the target cannot create it: %s", expr, why);
        } else {
            pf_add(rep, PF_PASS, check, "", "", "",
                   "GENERATED ALWAYS AS (%s) STORED: computed by the target", expr);
        }
    }
}
