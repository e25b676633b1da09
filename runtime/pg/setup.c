/*
 * setup.c — the setup walkthrough's PostgreSQL part (setup.h; reached
 * through source_pg_ops, runtime/source/source_ops.h): the connection test
 * with the likely cause (and, for an unknown database, the ones there are),
 * and the table listing with replica identities. Thread: any but the
 * console's (network I/O).
 */
#include "runtime/pg/setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/base/clock.h"
#include "runtime/pg/preflight.h"

/* ---- connection test ---------------------------------------------------------- */

/* The libpq part of pg_source_connect's message ("...failed: <libpq>"). */
static const char *pg_reason(const char *err)
{
    const char *f = strstr(err, " failed: ");
    return f ? f + 9 : err;
}

static PGresult *pg_rows(PGconn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        setup_one_line(err, errlen, PQresultErrorMessage(r));
        PQclear(r);
        return NULL;
    }
    return r;
}

/* After "database does not exist": the databases the user could pick. */
static void pg_list_databases(const struct config_source *s, struct setup_conn *out)
{
    struct config_source alt = *s;
    char err[512];
    alt.database = "postgres";
    PGconn *c = pg_source_connect(&alt, 0, err, sizeof err);
    if (!c) return;
    PGresult *r = pg_rows(c, "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1",
                          err, sizeof err);
    for (int i = 0; r && i < PQntuples(r); i++) setup_conn_add_name(out, PQgetvalue(r, i, 0));
    PQclear(r);
    PQfinish(c);
    if (out->nnames > 0) {
        size_t o = strlen(out->message);
        for (int i = 0; i < out->nnames && o + 4 < sizeof out->message; i++) {
            int w = snprintf(out->message + o, sizeof out->message - o, "%s%s", i ? ", " : "; the server has: ",
                             out->names[i]);
            if (w > 0) o += (size_t)w;
        }
    }
}

int pg_setup_test(const struct config_integration *in, int timeout_s, struct setup_conn *out)
{
    const struct config_source *s = &in->source;
    (void)timeout_s;                /* libpq's: connect_timeout from the conninfo */
    snprintf(out->where, sizeof out->where, "postgres://%s:%d/%s as %s", s->host, s->port,
             s->database ? s->database : "", s->user);
    char err[1024];
    int64_t t0 = zclock_mono_ms();
    PGconn *c = pg_source_connect(s, 0, err, sizeof err);
    if (!c) {
        long took = (long)(zclock_mono_ms() - t0);
        setup_one_line(out->message, sizeof out->message, pg_reason(err));
        out->cause = strstr(err, "password_command") || (s->password_command && !strstr(err, " failed: "))
                   ? SETUP_CAUSE_PASSWORD_COMMAND : setup_classify(out->message, 0, took, 10000);
        if (out->cause == SETUP_CAUSE_NO_DATABASE) pg_list_databases(s, out);
        return -1;
    }
    PGresult *r = pg_rows(c, "SELECT current_setting('server_version')", err, sizeof err);
    if (r) {
        snprintf(out->server, sizeof out->server, "PostgreSQL %s", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    r = pg_rows(c, "SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname !~ '^pg_'"
                   " AND nspname <> 'information_schema' ORDER BY 1", err, sizeof err);
    if (!r) {
        snprintf(out->message, sizeof out->message, "listing schemas: %.700s", err);
        out->cause = SETUP_CAUSE_OTHER;
        PQfinish(c);
        return -1;
    }
    for (int i = 0; i < PQntuples(r); i++) setup_conn_add_name(out, PQgetvalue(r, i, 0));
    PQclear(r);
    PQfinish(c);
    return setup_conn_check_names(out, s->schemas, s->nschemas, "schema");
}

/* ---- tables -------------------------------------------------------------------- */

int pg_setup_list_tables(const struct config_integration *in, struct setup_table **out, int *n,
                         char *err, size_t errlen)
{
    const struct config_source *s = &in->source;
    struct setup_table *v = NULL;
    int nv = 0, cap = 0, rc = -1;
    PGconn *c = pg_source_connect(s, 0, err, errlen);
    if (!c) return -1;
    char qerr[512];
    PGresult *r = pg_rows(c,
        "SELECT n.nspname, c.relname,"
        " CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE COALESCE(s.n_live_tup, -1) END,"
        " c.relreplident,"
        " EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)"
        " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = c.oid"
        " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
        "   AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'"
        " ORDER BY 1, 2", qerr, sizeof qerr);
    if (!r) snprintf(err, errlen, "listing tables: %s", qerr);
    else rc = 0;
    for (int i = 0; r && rc == 0 && i < PQntuples(r); i++) {
        const char *schema = PQgetvalue(r, i, 0);
        if (!setup_name_listed(s->schemas, s->nschemas, schema)) continue;
        long long rows = strtoll(PQgetvalue(r, i, 2), NULL, 10);
        if (setup_tables_add(&v, &nv, &cap, schema, PQgetvalue(r, i, 1), PQgetvalue(r, i, 4)[0] == 't',
                             rows < 0 ? -1 : rows, PQgetvalue(r, i, 3)[0]) != 0) {
            snprintf(err, errlen, "out of memory listing tables");
            rc = -1;
        }
    }
    PQclear(r);
    PQfinish(c);
    if (rc != 0) {
        free(v);
        return -1;
    }
    *out = v;
    *n = nv;
    return 0;
}
