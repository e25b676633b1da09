/*
 * count.c — the pg driver's target_count_rows and target_table_exists
 * (target.h; pgt_count_rows, pgt_table_exists): one table's row count on the
 * applier's own connection, outside its transactions, under a statement
 * timeout so a huge table cannot hold the stream up for long.
 */
#include "runtime/target/target_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pgt_count_rows(struct target *t, const char *schema, const char *table, int live, int timeout_ms,
                   int64_t *n)
{
    *n = -1;
    if (t->in_txn) {
        snprintf(t->err, sizeof t->err, "target %s: count inside an open transaction", t->integration);
        return -1;
    }
    char set[80], what[300];
    /* Not SET LOCAL: Redshift has no such form. RESET afterwards either way. */
    snprintf(set, sizeof set, "SET statement_timeout = %d", timeout_ms);
    snprintf(what, sizeof what, "counting the rows of %s.%s", schema, table);
    if (tgt_exec(t, set, what) != 0) return -1;
    t->sql.len = 0;
    tbuf_puts(&t->sql, "SELECT count(*) FROM ");
    tbuf_qname(&t->sql, schema, table);
    if (live == 1) {                    /* a soft-delete table's rows not marked deleted */
        tbuf_puts(&t->sql, " WHERE NOT ");
        tbuf_ident(&t->sql, TARGET_SOFT_DELETED);
    } else if (live == 2) {             /* a history table's active versions */
        tbuf_puts(&t->sql, " WHERE ");
        tbuf_ident(&t->sql, TARGET_HIST_ACTIVE);
    }
    int rc = -1;
    if (t->sql.oom) {
        snprintf(t->err, sizeof t->err, "target %s: out of memory", t->integration);
        goto out;
    }
    PGresult *r = tgt_q(t, t->sql.p);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        *n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        rc = 0;
    } else {
        tgt_seterr(t, r, what);
    }
    PQclear(r);
out:
    PQclear(tgt_q(t, "RESET statement_timeout"));
    return rc;
}

int pgt_table_exists(struct target *t, const char *schema, const char *table)
{
    const char *v[2] = { schema, table };
    PGresult *r = tgt_qp(t, "SELECT 1 FROM information_schema.tables "
                            "WHERE table_schema = $1 AND table_name = $2", 2, v, NULL);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        char what[300];
        snprintf(what, sizeof what, "looking for table %s.%s", schema, table);
        tgt_seterr(t, r, what);
        PQclear(r);
        return -1;
    }
    int found = PQntuples(r) > 0;
    PQclear(r);
    return found;
}
