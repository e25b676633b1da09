/*
 * marks.c — the pg driver's resync marks (target.h; pgt_resync_*; the http
 * driver keeps them in its checkpoint file): which tables of an integration
 * are being copied again while the rest of it streams (runtime/integ/resync.c).
 *
 * zetl.resyncs(integration, source_table, started_at) sits beside the
 * checkpoint it qualifies. A mark is committed BEFORE the table's stream
 * changes are diverted to the resync spool, and removed in the SAME target
 * transaction that applies the spool and moves the checkpoint. So a mark
 * found when a round starts means a resync was cut short (crash, kill -9,
 * stop, pause, outage): the checkpoint may have moved past changes of that
 * table that were only in the lost spool, and the table must be copied again.
 * Keeping it in the target, not in the local SQLite log, means the two can
 * never disagree about the checkpoint.
 */
#include "runtime/target/target_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pgt_resync_mark(struct target *t, const char *source_table)
{
    const char *v[2] = {t->integration, source_table};
    int64_t n;
    int own = !t->in_txn;
    if (own && pgt_begin(t) != 0) return -1;
    if (tgt_stmt(t, "DELETE FROM zetl.resyncs WHERE integration = $1 AND source_table = $2",
                 2, v, NULL, &n) ||
        tgt_stmt(t, "INSERT INTO zetl.resyncs (integration, source_table) VALUES ($1, $2)",
                 2, v, NULL, &n)) {         /* started_at: the column default (none on Redshift) */
        if (own) pgt_rollback(t);
        return -1;
    }
    return own ? pgt_commit(t, NULL, 0) : 0;
}

int pgt_resync_unmark(struct target *t, const char *source_table)
{
    const char *v[2] = {t->integration, source_table};
    int64_t n;
    if (!t->in_txn) {
        snprintf(t->err, sizeof t->err, "target %s: resync mark removed outside a transaction",
                 t->integration);
        return -1;
    }
    return tgt_stmt(t, "DELETE FROM zetl.resyncs WHERE integration = $1 AND source_table = $2",
                    2, v, NULL, &n) ||
           tgt_stmt(t, "DELETE FROM zetl.copy_progress WHERE integration = $1 AND source_table = $2",
                    2, v, NULL, &n) ? -1 : 0;
}

/* ---- a chunked copy's progress: zetl.copy_progress (target.h) ---------------------------- */

int pgt_copy_progress_set(struct target *t, const char *source_table, const char *copied_to,
                          int64_t rows, int64_t chunks)
{
    char r[32], c[32];
    snprintf(r, sizeof r, "%lld", (long long)rows);
    snprintf(c, sizeof c, "%lld", (long long)chunks);
    const char *v[5] = {t->integration, source_table, copied_to, r, c};
    int64_t n;
    if (!t->in_txn) {
        snprintf(t->err, sizeof t->err, "target %s: copy progress written outside a transaction",
                 t->integration);
        return -1;
    }
    /* DELETE + INSERT rather than an upsert: Redshift has no ON CONFLICT. */
    return tgt_stmt(t, "DELETE FROM zetl.copy_progress WHERE integration = $1 AND source_table = $2",
                    2, v, NULL, &n) ||
           tgt_stmt(t, "INSERT INTO zetl.copy_progress (integration, source_table, copied_to, rows_copied, "
                       "chunks, updated_at) VALUES ($1, $2, $3, $4, $5, now())", 5, v, NULL, &n) ? -1 : 0;
}

int pgt_copy_progress_get(struct target *t, const char *source_table, char *copied_to, size_t len,
                          int64_t *rows, int64_t *chunks)
{
    const char *v[2] = {t->integration, source_table};
    PGresult *r = tgt_qp(t, "SELECT copied_to, rows_copied, chunks FROM zetl.copy_progress "
                            "WHERE integration = $1 AND source_table = $2", 2, v, NULL);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        tgt_seterr(t, r, "reading zetl.copy_progress");
        PQclear(r);
        return -1;
    }
    int found = PQntuples(r) > 0;
    copied_to[0] = '\0';
    *rows = *chunks = 0;
    if (found) {
        if (!PQgetisnull(r, 0, 0)) snprintf(copied_to, len, "%s", PQgetvalue(r, 0, 0));
        *rows = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
        *chunks = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
    }
    PQclear(r);
    return found;
}

/* ---- the shape a table's rows carry: zetl.table_shapes (target.h) ------------------------ */

int pgt_shape_set(struct target *t, const char *source_table, const char *shape)
{
    const char *v[3] = {t->integration, source_table, shape};
    int64_t n;
    if (!t->in_txn) {
        snprintf(t->err, sizeof t->err, "target %s: table shape written outside a transaction", t->integration);
        return -1;
    }
    return tgt_stmt(t, "DELETE FROM zetl.table_shapes WHERE integration = $1 AND source_table = $2",
                    2, v, NULL, &n) ||
           tgt_stmt(t, "INSERT INTO zetl.table_shapes (integration, source_table, shape, updated_at) "
                       "VALUES ($1, $2, $3, now())", 3, v, NULL, &n) ? -1 : 0;
}

int pgt_shape_get(struct target *t, const char *source_table, char *buf, size_t len)
{
    const char *v[2] = {t->integration, source_table};
    PGresult *r = tgt_qp(t, "SELECT shape FROM zetl.table_shapes WHERE integration = $1 AND source_table = $2",
                         2, v, NULL);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        tgt_seterr(t, r, "reading zetl.table_shapes");
        PQclear(r);
        return -1;
    }
    int found = PQntuples(r) > 0;
    if (found) snprintf(buf, len, "%s", PQgetisnull(r, 0, 0) ? "" : PQgetvalue(r, 0, 0));
    PQclear(r);
    return found;
}

int pgt_delete_after(struct target *t, const struct ztable *def, const int *cols, const struct zkey *after,
                     const char *schema, const char *table)
{
    /* k1 > $1 OR (k1 = $1 AND k2 > $2) OR …: a row comparison without row
     * constructors, which every dialect reads the same. */
    char vals[ZKEY_MAX][32];
    const char *v[ZKEY_MAX];
    struct zbuf *b = &t->sql;
    b->len = 0;
    tbuf_puts(b, "DELETE FROM ");
    tbuf_qname(b, schema, table);
    tbuf_puts(b, " WHERE ");
    for (int j = 0; j < after->n; j++) {
        if (after->uns[j]) snprintf(vals[j], sizeof vals[j], "%llu", (unsigned long long)after->v[j].u);
        else snprintf(vals[j], sizeof vals[j], "%lld", (long long)after->v[j].i);
        v[j] = vals[j];
        char p[32];
        tbuf_puts(b, j ? " OR (" : "(");
        for (int e = 0; e < j; e++) {
            tbuf_ident(b, def->cols[cols[e]].name);
            snprintf(p, sizeof p, " = $%d AND ", e + 1);
            tbuf_puts(b, p);
        }
        tbuf_ident(b, def->cols[cols[j]].name);
        snprintf(p, sizeof p, " > $%d)", j + 1);
        tbuf_puts(b, p);
    }
    if (b->oom) {
        snprintf(t->err, sizeof t->err, "target %s: out of memory", t->integration);
        return -1;
    }
    int64_t n;
    tgt_stage_forget(t, schema, table);
    return tgt_stmt(t, b->p, after->n, v, NULL, &n);
}

int pgt_resync_marks(struct target *t, char ***tables, int *n)
{
    *tables = NULL;
    *n = 0;
    const char *v[1] = {t->integration};
    PGresult *r = tgt_qp(t, "SELECT source_table FROM zetl.resyncs WHERE integration = $1 "
                            "ORDER BY started_at, source_table", 1, v, NULL);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        tgt_seterr(t, r, "reading zetl.resyncs");
        PQclear(r);
        return -1;
    }
    int rows = PQntuples(r);
    char **out = rows ? calloc((size_t)rows, sizeof *out) : NULL;
    if (rows && !out) goto oom;
    for (int i = 0; i < rows; i++) {
        out[i] = strdup(PQgetvalue(r, i, 0));
        if (!out[i]) {
            target_resync_marks_free(out, i);
            goto oom;
        }
    }
    PQclear(r);
    *tables = out;
    *n = rows;
    return 0;
oom:
    PQclear(r);
    snprintf(t->err, sizeof t->err, "target %s: out of memory reading zetl.resyncs", t->integration);
    return -1;
}

void target_resync_marks_free(char **tables, int n)
{
    for (int i = 0; i < n; i++) free(tables[i]);
    free(tables);
}
