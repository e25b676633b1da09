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
                    2, v, NULL, &n);
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
