/*
 * verify.c — `zetl verify`: is the target exactly the source?
 *
 * For each selected table, the source rows are read through the same code
 * path as the initial copy (a consistent read, values decoded as the stream
 * decodes them) and loaded with COPY into a scratch table in the target's
 * schema "zetl", created from the same definition and type mapping as the
 * real target table. PostgreSQL then compares the two as multisets:
 *
 *     (scratch EXCEPT ALL target)  rows only in the source
 *     (target EXCEPT ALL scratch)  rows only in the target
 *
 * Both empty: an exact match (counts included). Otherwise the table is named
 * with the two counts and the key range the differences fall in. The
 * comparison is order-independent and exact under the target's own equality
 * (jsonb ignores key order, numerics compare by value), and every value went
 * through one conversion on each side, so nothing is compared as text.
 *
 * Shaped tables (runtime/integ/shape.h): the source rows go through the
 * table's projection, so its row filter and column transforms apply, under
 * the same hash key, and the comparison is exact; a soft-delete table is
 * compared by its live rows. The line says which rows were compared.
 *
 * Run it when the integration is caught up (lag 0): rows changed on the
 * source after the read, and not yet applied, show up as differences.
 *
 * Names: the source is read by its own names (t->def), the target by the
 * target's (t->tdef, t->tschema, t->tname: rename rules and the target's
 * name length, names.h). A table refused for sharing its target name
 * (tables.c) is listed as REFUSED and counts as a mismatch.
 */
#include "runtime/check/verify.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/integ/integ.h"
#include "runtime/source/source.h"
#include "runtime/source/source_ops.h"
#include "runtime/target/pgwait.h"
#include "runtime/target/target.h"

struct vcopy {
    struct pgw *w;              /* every wait has a deadline (pgwait.h) */
    struct zbuf buf;
    const struct ztable *def;
    const struct integ *in;
    struct itable *t;
    struct projection proj;     /* the same projection and column transforms as the copy's */
    int64_t rows;
    char err[1024];
};

static int vcopy_row(void *ctx, const struct zrowchange *rc)
{
    struct vcopy *v = ctx;
    char why[768];
    struct zrowchange p;
    int pr = integ_project(&v->proj, v->t, rc, &p);
    if (pr == 1) return 0;                      /* not for the target: its row filter */
    if (pr < 0) {
        snprintf(v->err, sizeof v->err, "%s", v->proj.err);
        return -1;
    }
    if (integ_row_refused(v->in, v->t, &p, why, sizeof why)) {   /* as the copy and the stream refuse it */
        snprintf(v->err, sizeof v->err, "a source row cannot be stored in the target: %s", why);
        return -1;
    }
    target_copy_row(&v->buf, v->def, p.after);
    v->rows++;
    if (v->buf.oom) {
        snprintf(v->err, sizeof v->err, "out of memory");
        return -1;
    }
    if (v->buf.len >= (1u << 20)) {
        if (pgw_put_copy(v->w, v->buf.p, v->buf.len) != 0) {
            snprintf(v->err, sizeof v->err, "COPY: %.480s", v->w->err[0] ? v->w->err : PQerrorMessage(v->w->conn));
            return -1;
        }
        v->buf.len = 0;
    }
    return 0;
}

static void quiet_notice(void *arg, const char *msg) { (void)arg; (void)msg; }

/* Why a call on w failed: the wait's reason, the server's, or libpq's. */
static const char *why(const struct pgw *w, const PGresult *r)
{
    if (w->err[0]) return w->err;
    return r ? PQresultErrorMessage(r) : PQerrorMessage(w->conn);
}

static int exec_cmd(struct pgw *w, const char *sql, char *err, size_t errlen)
{
    PGresult *r = pgw_query(w, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok) snprintf(err, errlen, "%s", why(w, r));
    PQclear(r);
    return ok ? 0 : -1;
}

/* "a", "b" — the definition's columns, quoted. */
static void column_list(struct zbuf *s, const struct ztable *t)
{
    for (int i = 0; i < t->ncols; i++) {
        if (i) tbuf_puts(s, ", ");
        tbuf_ident(s, t->cols[i].name);
    }
}

/*
 * Fill zetl.<scratch> with t's source rows: a fresh table made exactly like
 * the target table (d: what target_ensure_table saw), loaded with COPY from
 * a consistent read of the source. sql is the caller's statement buffer.
 * 0, or -1 with err set.
 */
static int load_scratch(struct integ *in, struct itable *t, struct pgw *c, const char *scratch,
                        struct zbuf *sql, struct target_table_diff *d, char *err, size_t errlen)
{
    int rc = -1;
    struct vcopy v = {.w = c, .def = t->tdef, .in = in, .t = t};   /* target names: the scratch table's */

    /* Start from a fresh scratch table made exactly like the target table. */
    tbuf_puts(sql, "DROP TABLE IF EXISTS ");
    tbuf_qname(sql, "zetl", scratch);
    tbuf_putc(sql, '\0');
    if (exec_cmd(c, sql->p, err, errlen) != 0) goto out;
    if (target_ensure_table(in->tgt, t->tdef, "zetl", scratch, d) != 0) {
        snprintf(err, errlen, "creating the scratch table: %s", target_error(in->tgt));
        goto out;
    }
    sql->len = 0;
    tbuf_puts(sql, "COPY ");
    tbuf_qname(sql, "zetl", scratch);
    tbuf_puts(sql, " (");
    column_list(sql, t->tdef);
    tbuf_puts(sql, ") FROM STDIN");
    tbuf_putc(sql, '\0');
    PGresult *r = pgw_query(c, sql->p);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        snprintf(err, errlen, "COPY into the scratch table: %s", why(c, r));
        PQclear(r);
        goto out;
    }
    PQclear(r);
    struct zsink sink = {.ctx = &v, .row = vcopy_row};
    struct zpos pos;
    char serr[1024];
    int s = source_snapshot_table(in, t, &sink, &pos, serr, sizeof serr);
    if (s == 0 && v.buf.len && pgw_put_copy(c, v.buf.p, v.buf.len) != 0) s = -1;
    r = NULL;
    int copied = pgw_end_copy(c, s == 0 ? NULL : "source read failed") == 0 &&
                 pgw_result(c, &r) == 0 && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (s != 0 || !copied) {
        snprintf(err, errlen, "reading the source: %.900s", v.err[0] ? v.err : s != 0 ? serr : why(c, r));
        PQclear(r);
        while (!c->dead && pgw_result(c, &r) == 0 && r) PQclear(r);
        goto out;
    }
    PQclear(r);
    while (pgw_result(c, &r) == 0 && r) PQclear(r);    /* the COPY's end of results */
    rc = 0;
out:
    tbuf_free(&v.buf);
    integ_projection_free(&v.proj);
    return rc;
}

/*
 * Compare zetl.<scratch> with t's target table as multisets, both ways, with
 * the key range of the differences, and print the table's line to out.
 * 0 match, 1 mismatch, -1 error (err). sql is the caller's statement buffer.
 */
static int compare_scratch(struct itable *t, struct pgw *c, const char *scratch, struct zbuf *sql,
                           FILE *out, char *err, size_t errlen)
{
    int rc;
    sql->len = 0;
    const char *key = t->tdef->ncols ? t->tdef->cols[0].name : NULL;
    for (int i = 0; i < t->tdef->ncols; i++)
        if (t->tdef->cols[i].pk_ord == 1) key = t->tdef->cols[i].name;
    tbuf_puts(sql, "WITH s AS (SELECT ");
    column_list(sql, t->tdef);
    tbuf_puts(sql, " FROM ");
    tbuf_qname(sql, "zetl", scratch);
    tbuf_puts(sql, "), g AS (SELECT ");
    column_list(sql, t->tdef);
    tbuf_puts(sql, " FROM ");
    tbuf_qname(sql, t->tschema, t->tname);
    if (t->tdef->soft_delete) {         /* the rows marked deleted are the source's past */
        tbuf_puts(sql, " WHERE NOT ");
        tbuf_ident(sql, TARGET_SOFT_DELETED);
    } else if (t->tdef->history) {      /* so are the closed versions */
        tbuf_puts(sql, " WHERE ");
        tbuf_ident(sql, TARGET_HIST_ACTIVE);
    }
    tbuf_puts(sql, "), a AS (SELECT * FROM s EXCEPT ALL SELECT * FROM g),"
                   " b AS (SELECT * FROM g EXCEPT ALL SELECT * FROM s),"
                   " d AS (SELECT * FROM a UNION ALL SELECT * FROM b)"
                   " SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM g),"
                   " (SELECT count(*) FROM a), (SELECT count(*) FROM b), ");
    if (key) {
        tbuf_puts(sql, "(SELECT min(");
        tbuf_ident(sql, key);
        tbuf_puts(sql, ")::text FROM d), (SELECT max(");
        tbuf_ident(sql, key);
        tbuf_puts(sql, ")::text FROM d)");
    } else {
        tbuf_puts(sql, "NULL, NULL");
    }
    tbuf_putc(sql, '\0');
    PGresult *r = pgw_query(c, sql->p);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "comparing: %s", why(c, r));
        PQclear(r);
        return -1;
    }
    long long ns = atoll(PQgetvalue(r, 0, 0)), ng = atoll(PQgetvalue(r, 0, 1));
    long long only_s = atoll(PQgetvalue(r, 0, 2)), only_g = atoll(PQgetvalue(r, 0, 3));
    /* What was compared, where it is not every row of both. */
    const char *what = t->shape.filter && t->tdef->soft_delete ? " (the rows its filter selects; the target's live rows)"
                       : t->shape.filter ? " (the rows its filter selects)"
                       : t->tdef->soft_delete ? " (the target's live rows: those marked deleted are not compared)"
                       : t->tdef->history ? " (the target's active versions: the closed ones are not compared)" : "";
    if (only_s == 0 && only_g == 0) {
        fprintf(out, "  match     %-40s %lld rows%s\n", t->source, ns, what);
        rc = 0;
    } else {
        fprintf(out, "  MISMATCH  %-40s source %lld rows, target %lld rows: %lld only in the source, %lld only in the target",
                t->source, ns, ng, only_s, only_g);
        if (key && !PQgetisnull(r, 0, 4))
            fprintf(out, "; differences in %s %s .. %s", key, PQgetvalue(r, 0, 4), PQgetvalue(r, 0, 5));
        fputc('\n', out);
        rc = 1;
    }
    PQclear(r);
    return rc;
}

/* One table: 0 match, 1 mismatch (reported), -1 error (err). */
static int verify_table(struct integ *in, struct itable *t, struct pgw *c, FILE *out,
                        char *err, size_t errlen)
{
    char scratch[128];
    snprintf(scratch, sizeof scratch, "verify_%.40s_%d", in->cfg->name, (int)(t - in->tables));
    struct target_table_diff d = {0};
    int rc = -1;
    struct zbuf sql = {0};

    if (load_scratch(in, t, c, scratch, &sql, &d, err, errlen) == 0)
        rc = compare_scratch(t, c, scratch, &sql, out, err, errlen);

    sql.len = 0;
    tbuf_puts(&sql, "DROP TABLE IF EXISTS ");
    tbuf_qname(&sql, "zetl", scratch);
    tbuf_putc(&sql, '\0');
    if (!sql.oom) {
        char e2[256];
        exec_cmd(c, sql.p, e2, sizeof e2);
    }
    target_table_diff_free(&d);
    tbuf_free(&sql);
    return rc;
}

/* The integration's table states from the state log, when it has them (NULL otherwise). */
static struct statelog_integration *read_states(const struct config *cfg, const struct config_integration *ci)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", cfg->state_dir, STATELOG_FILENAME);
    if (access(path, R_OK) != 0) return NULL;
    struct statelog *sl = NULL;
    struct statelog_integration *v = NULL;
    size_t n = 0;
    char e[512];
    if (statelog_open(&sl, path, e, sizeof e) == 0 && statelog_list_integrations(sl, ci->name, &v, &n) == 0 &&
        n != 1) {
        statelog_free_integrations(v, n);
        v = NULL;
    }
    statelog_close(sl);
    return v;
}

/* A table that is not synced says so under its line: a difference is then expected. */
static void print_table_state(const struct statelog_integration *v, const struct itable *t, FILE *out)
{
    for (size_t k = 0; v && k < v->ntables; k++) {
        const struct statelog_table *st = &v->tables[k];
        if (strcmp(st->name, t->source) != 0 || !st->state || tstate_parse(st->state) == TSTATE_SYNCED) continue;
        fprintf(out, "            the table is %s%s%s\n", st->state, st->reason ? ": " : "",
                st->reason ? st->reason : "");
    }
}

int verify_integration(const struct config *cfg, const struct config_integration *ci,
                       const char *only_table, FILE *out, char *err, size_t errlen)
{
    struct integ in = {.cfg = ci, .src = source_driver(ci->source.kind), .root = cfg};
    int mismatches = 0, rc = -1;
    PGconn *c = NULL;
    struct statelog_integration *states = NULL;
    struct pgw w;
    const struct target_driver *d = target_driver(ci->target.kind);
    if (!d->reads_back) {
        snprintf(err, errlen, "integration %s: an %s target cannot be read back to verify", ci->name, d->name);
        return -1;
    }
    if (integ_load_tables(&in, err, errlen) != 0) goto out;
    states = read_states(cfg, ci);
    /* Named apart from the runtime's sessions, which a round's start may end. */
    struct target_opts o = {
        .kind = ci->target.kind, .source = &in.src->dialect, .dsn = ci->target.dsn,
        .integration = ci->name, .config = ci, .state_dir = cfg->state_dir, .app = "zetl verify",
    };
    char e[1024];
    if (target_connect(&in.tgt, &o, e, sizeof e) != 0) {
        snprintf(err, errlen, "%s", e);
        goto out;
    }
    /* Every wait has a deadline: a dead link fails verify instead of hanging it. */
    const char *kw[] = {"connect_timeout", "fallback_application_name", "keepalives", "dbname", NULL};
    const char *val[] = {"10", "zetl verify", "1", ci->target.dsn ? ci->target.dsn : "", NULL};
    c = pgw_connect(kw, val, NULL, 0, e, sizeof e);
    if (!c) {
        snprintf(err, errlen, "target %s: %s", target_describe(in.tgt), e);
        goto out;
    }
    pgw_init(&w, c, ci->target.dsn, NULL, NULL, NULL);
    PQsetNoticeProcessor(c, quiet_notice, NULL);
    if (exec_cmd(&w, "SET TimeZone = 'UTC'; SET DateStyle = ISO; SET extra_float_digits = 3", e, sizeof e) != 0) {
        snprintf(err, errlen, "target: %s", e);
        goto out;
    }
    fprintf(out, "integration %s:\n", ci->name);
    int seen = 0;
    for (int i = 0; i < in.ntables; i++) {
        struct itable *t = &in.tables[i];
        if (only_table && strcmp(only_table, t->source) != 0) continue;
        seen++;
        int r = verify_table(&in, t, &w, out, e, sizeof e);
        if (r < 0 && (w.dead || PQstatus(c) != CONNECTION_OK)) {   /* the link, not the table */
            snprintf(err, errlen, "integration %s, table %s: %s", ci->name, t->source, e);
            goto out;
        }
        if (r < 0) {        /* this table's own trouble (a row the target cannot hold): the others go on */
            fprintf(out, "  ERROR     %-40s %s\n", t->source, e);
            r = 1;
        }
        print_table_state(states, t, out);
        mismatches += r;
    }
    for (int i = 0; i < in.nrefused; i++) {    /* never written: its target is another's */
        if (only_table && strcmp(only_table, in.refused[i].source) != 0) continue;
        seen++;
        fprintf(out, "  REFUSED   %-40s %s; %s\n", in.refused[i].source, in.refused[i].what, in.refused[i].fix);
        mismatches++;
    }
    if (only_table && !seen) {
        snprintf(err, errlen, "integration %s: no selected table named %s (use schema.table as the source names it)",
                 ci->name, only_table);
        goto out;
    }
    rc = mismatches;
out:
    if (c) PQfinish(c);            /* non-blocking (or given up): never waits */
    if (in.tgt) target_close(in.tgt);
    integ_free_tables(&in);
    statelog_free_integrations(states, states ? 1 : 0);
    return rc;
}
