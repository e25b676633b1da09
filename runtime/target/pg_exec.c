/*
 * pg_exec.c — the libpq target's statements (target_int.h): every query
 * through the handle's bounded waits (pgwait.h), and the error a failed one
 * leaves in t->err, with the server's message and, where we know it, the fix.
 * The bottom of the pg driver: pg.c, pg_apply.c, marks.c and count.c call
 * these; this file calls none of them.
 */
#include "runtime/target/target_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *fix_for(const char *state)
{
    if (!state) return NULL;
    if (strcmp(state, "42501") == 0)
        return "grant the target user CREATE on the database and USAGE, CREATE on the schema, or make it the tables' owner";
    if (strcmp(state, "42P01") == 0)
        return "the target table is missing: resync the table (it will be re-created)";
    if (strcmp(state, "42703") == 0)
        return "a column is missing in the target table: let zetl add it (table diff) or resync the table";
    if (strcmp(state, "22001") == 0 || strcmp(state, "22003") == 0)
        return "a source value does not fit the target column: widen the column or resync the table";
    if (strcmp(state, "23505") == 0)
        return "the target already holds a row with this key or a unique constraint the source lacks: drop the extra constraint, or resync the table";
    if (strcmp(state, "23502") == 0)
        return "the target column is NOT NULL but the source sent NULL: drop the NOT NULL or resync the table";
    if (strcmp(state, "3D000") == 0)
        return "create the target database, or fix dbname in the target dsn";
    if (strcmp(state, "28P01") == 0 || strcmp(state, "28000") == 0)
        return "check the user and password in the target dsn (and pg_hba.conf on the target)";
    if (strncmp(state, "53", 2) == 0)
        return "the target server is out of resources (disk, memory or connections): free some, zetl retries";
    return NULL;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ')) s[--n] = 0;
    for (char *p = s; *p; p++) if (*p == '\n' || *p == '\t') *p = ' ';
}

void tgt_seterr(struct target *t, PGresult *res, const char *what)
{
    char msg[600];
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(t->sqlstate, sizeof t->sqlstate, "%s", state ? state : "");
    const char *prim = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    if (prim)
        snprintf(msg, sizeof msg, "%s%s%s", prim, detail ? " (" : "", detail ? detail : "");
    else if (t->w.err[0])                       /* the wait gave up: no answer, stop, command */
        snprintf(msg, sizeof msg, "%s", t->w.err);
    else
        snprintf(msg, sizeof msg, "%s", t->conn ? PQerrorMessage(t->conn) : "no connection");
    if (detail && prim) {
        size_t n = strlen(msg);
        if (n + 1 < sizeof msg) { msg[n] = ')'; msg[n + 1] = 0; }
    }
    chomp(msg);
    const char *fix = fix_for(state);
    if (t->conn && (PQstatus(t->conn) == CONNECTION_BAD || t->w.dead))
        fix = "the connection to the target was lost: zetl reconnects and resumes from the checkpoint";
    snprintf(t->err, sizeof t->err, "target %s (%s): %s: %s%s%s", t->integration, t->desc,
             what, msg, fix ? "; " : "", fix ? fix : "");
}

/*
 * A transaction's BEGIN (pgt_begin) waits for its first statement and goes
 * in the same round trip: a simple query gets "BEGIN;" in front (its last
 * result is the statement's, a COPY's too), a statement with parameters
 * follows it in a pipeline. A round trip per transaction saved, which counts
 * on a busy target, where each one waits for the server to be scheduled.
 */
PGresult *tgt_q(struct target *t, const char *sql)
{
    if (!t->begin_pending) return pgw_query(&t->w, sql);
    t->begin_pending = 0;
    char *both = NULL;
    if (asprintf(&both, "BEGIN; %s", sql) < 0) return NULL;
    PGresult *r = pgw_query(&t->w, both);
    free(both);
    return r;
}

PGresult *tgt_qp(struct target *t, const char *sql, int nparams, const char *const *values,
                 const int *lengths)
{
    if (!t->begin_pending) return pgw_query_params(&t->w, sql, nparams, values, lengths);
    t->begin_pending = 0;
    struct pgw_stmt st[2] = {{"BEGIN", 0, NULL, NULL}, {sql, nparams, values, lengths}};
    PGresult *res[2];
    if (pgw_pipeline(&t->w, 2, st, res) != 0) return NULL;
    if (PQresultStatus(res[0]) != PGRES_COMMAND_OK) {
        PQclear(res[1]);
        return res[0];
    }
    PQclear(res[0]);
    return res[1];
}

int tgt_exec(struct target *t, const char *sql, const char *what)
{
    PGresult *r = tgt_q(t, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        tgt_seterr(t, r, what);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

int tgt_stmt(void *ctx, const char *sql, int nparams, const char *const *values,
             const int *lengths, int64_t *result)
{
    struct target *t = ctx;
    PGresult *r = tgt_qp(t, sql, nparams, values, lengths);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char what[200];
        snprintf(what, sizeof what, "statement \"%.120s%s\"", sql, strlen(sql) > 120 ? "…" : "");
        tgt_seterr(t, r, what);
        PQclear(r);
        return -1;
    }
    if (st == PGRES_TUPLES_OK)
        *result = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    else
        *result = strtoll(PQcmdTuples(r), NULL, 10);
    if (st == PGRES_COMMAND_OK) t->txn_rows += (uint64_t)*result;
    PQclear(r);
    return 0;
}
