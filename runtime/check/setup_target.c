/* setup_target.c — the target test of the walkthrough and of `zetl check`
 * (see setup.h): connect, may zetl create schemas and tables, zetl's schema
 * and checkpoint table, Redshift identifier case. */
#include "runtime/base/clock.h"
#include "runtime/check/setup.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/target/target.h"

int setup_dsn_check(const char *dsn, char *err, size_t errlen)
{
    char *perr = NULL;
    if (!dsn || !*dsn) {
        snprintf(err, errlen, "the DSN is empty; e.g. host=warehouse.internal port=5432 dbname=analytics user=zetl");
        return -1;
    }
    PQconninfoOption *o = PQconninfoParse(dsn, &perr);
    if (!o) {
        PQfreemem(perr);     /* it may quote the password */
        snprintf(err, errlen, "not a libpq connection string: write key=value pairs (values with spaces in single quotes) or a postgresql:// URI");
        return -1;
    }
    PQconninfoFree(o);
    return 0;
}

/* Run sql; 0 ok, else -1 with the server's message in msg. */
static int exec_ok(PGconn *c, const char *sql, char *msg, size_t len)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) setup_one_line(msg, len, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* BEGIN; CREATE SCHEMA probe; CREATE TABLE probe.t; ROLLBACK. */
static void check_create(PGconn *c, const char *db, const char *user, struct pf_report *r)
{
    char schema[64], sql[512], msg[512] = "", fix[384];
    snprintf(schema, sizeof schema, "zetl_init_probe_%ld", (long)getpid());
    char *qs = PQescapeIdentifier(c, schema, strlen(schema));
    char *qdb = PQescapeIdentifier(c, db, strlen(db));
    char *qu = PQescapeIdentifier(c, user, strlen(user));
    if (!qs || !qdb || !qu) {
        pf_add(r, PF_FAIL, "create schema and table", "allowed", "", "", "out of memory");
        goto out;
    }
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s; CREATE TABLE %s.probe (id integer)", qs, qs);
    snprintf(fix, sizeof fix, "GRANT CREATE ON DATABASE %s TO %s;", qdb, qu);
    int ok = exec_ok(c, "BEGIN", msg, sizeof msg) == 0 && exec_ok(c, sql, msg, sizeof msg) == 0;
    char ignore[64];
    exec_ok(c, "ROLLBACK", ignore, sizeof ignore);
    pf_add(r, ok ? PF_PASS : PF_FAIL, "create schema and table", "CREATE on the database", fix, "",
           "%s", ok ? "allowed (tried in a transaction that was rolled back)" : msg);
    if (!ok) goto out;
    /* zetl's own schema, when someone else made it. */
    const char *p[1] = {"zetl"};
    PGresult *z = PQexecParams(c, "SELECT pg_catalog.has_schema_privilege(n.nspname, 'CREATE') AND "
                                  "pg_catalog.has_schema_privilege(n.nspname, 'USAGE') "
                                  "FROM pg_catalog.pg_namespace n WHERE n.nspname = $1", 1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(z) == PGRES_TUPLES_OK && PQntuples(z) == 1) {
        int zok = PQgetvalue(z, 0, 0)[0] == 't';
        snprintf(fix, sizeof fix, "GRANT USAGE, CREATE ON SCHEMA zetl TO %s;", qu);
        pf_add(r, zok ? PF_PASS : PF_FAIL, "schema zetl", "USAGE and CREATE (zetl.checkpoints)", fix, "",
               "%s", zok ? "exists, usable" : "exists, but this user may not create in it");
    } else {
        pf_add(r, PF_PASS, "schema zetl", "", "", "", "created at the first start (zetl.checkpoints)");
    }
    PQclear(z);
    /* The checkpoint table, when an earlier run (perhaps as another user) made it:
     * every batch reads and writes it in the apply transaction. */
    const char *cp[2] = {"zetl", "checkpoints"};
    z = PQexecParams(c, "SELECT pg_catalog.has_table_privilege(c.oid, 'SELECT, INSERT, UPDATE, DELETE'), "
                        "pg_catalog.pg_get_userbyid(c.relowner) "
                        "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = $1 AND c.relname = $2", 2, NULL, cp, NULL, NULL, 0);
    if (PQresultStatus(z) == PGRES_TUPLES_OK && PQntuples(z) == 1) {
        int cok = PQgetvalue(z, 0, 0)[0] == 't';
        snprintf(fix, sizeof fix, "as %s: GRANT SELECT, INSERT, UPDATE, DELETE ON zetl.checkpoints TO %s;",
                 PQgetvalue(z, 0, 1), qu);
        pf_add(r, cok ? PF_PASS : PF_FAIL, "zetl.checkpoints", "SELECT, INSERT, UPDATE, DELETE", fix, "",
               "%s", cok ? "exists, writable" : "exists, but this user may not read and write it");
    }
    PQclear(z);
out:
    PQfreemem(qs);
    PQfreemem(qdb);
    PQfreemem(qu);
}

static void check_redshift_case(PGconn *c, const char *user, struct pf_report *r)
{
    char fix[384], msg[256] = "";
    PGresult *s = PQexec(c, "SHOW enable_case_sensitive_identifier");
    if (PQresultStatus(s) != PGRES_TUPLES_OK || PQntuples(s) != 1) {
        setup_one_line(msg, sizeof msg, PQresultErrorMessage(s));
        pf_add(r, PF_WARN, "enable_case_sensitive_identifier", "on", "", "", "cannot read it: %s", msg);
        PQclear(s);
        return;
    }
    const char *v = PQgetvalue(s, 0, 0);
    int on = strcmp(v, "on") == 0 || strcmp(v, "true") == 0;
    char *qu = PQescapeIdentifier(c, user, strlen(user));
    snprintf(fix, sizeof fix, "ALTER USER %s SET enable_case_sensitive_identifier TO true; (zetl sets it in its own sessions; other clients need it to see mixed-case names)",
             qu ? qu : user);
    pf_add(r, on ? PF_PASS : PF_WARN, "enable_case_sensitive_identifier", "on", fix,
           "set enable_case_sensitive_identifier=true in the cluster's parameter group (applies to new sessions)",
           "%s", v);
    PQfreemem(qu);
    PQclear(s);
}

int setup_target_test(enum target_kind kind, const char *dsn, int timeout_s, struct setup_conn *conn,
                      struct pf_report *r)
{
    const struct target_driver *d = target_driver(kind);
    char shown[512], tmo[16], msg[768];
    memset(conn, 0, sizeof *conn);
    config_redact(dsn, shown, sizeof shown);
    snprintf(conn->where, sizeof conn->where, "%.299s", shown);
    snprintf(r->subject, sizeof r->subject, "target %s: %.140s", d->name, shown);
    if (setup_dsn_check(dsn, conn->message, sizeof conn->message) != 0) {
        conn->cause = SETUP_CAUSE_OTHER;
        return -1;
    }
    snprintf(tmo, sizeof tmo, "%d", timeout_s);
    const char *kw[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
    const char *val[] = {tmo, "zetl init", dsn, NULL};
    int64_t t0 = zclock_mono_ms();
    PGconn *c = PQconnectdbParams(kw, val, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        long took = (long)(zclock_mono_ms() - t0);
        setup_one_line(conn->message, sizeof conn->message, c ? PQerrorMessage(c) : "out of memory");
        conn->cause = setup_classify(conn->message, 0, took, timeout_s * 1000L);
        PQfinish(c);
        return -1;
    }
    PQsetNoticeProcessor(c, quiet, NULL);
    conn->ok = 1;
    PGresult *v = PQexec(c, "SELECT pg_catalog.version(), current_database(), current_user");
    char db[128] = "?", user[128] = "?", ver[256] = "";
    if (PQresultStatus(v) == PGRES_TUPLES_OK && PQntuples(v) == 1) {
        snprintf(ver, sizeof ver, "%s", PQgetvalue(v, 0, 0));
        snprintf(db, sizeof db, "%s", PQgetvalue(v, 0, 1));
        snprintf(user, sizeof user, "%s", PQgetvalue(v, 0, 2));
    } else {
        setup_one_line(msg, sizeof msg, PQresultErrorMessage(v));
        snprintf(ver, sizeof ver, "? (%.200s)", msg);
    }
    PQclear(v);
    int redshift = strstr(ver, "Redshift") != NULL;
    char *sp = strchr(ver, ' ');
    if (!redshift && sp && (sp = strchr(sp + 1, ' '))) *sp = '\0';    /* "PostgreSQL 15.4" */
    snprintf(conn->server, sizeof conn->server, "%.120s", redshift ? "Amazon Redshift" : ver);
    pf_add(r, PF_PASS, "connect", "", "", "", "%s, database %s as %s", conn->server, db, user);
    if (redshift && !d->redshift)
        pf_add(r, PF_WARN, "target kind", "redshift", "choose the kind redshift for this server", "",
               "the server is Amazon Redshift, the kind chosen is postgres");
    else if (!redshift && d->redshift)
        pf_add(r, PF_WARN, "target kind", "postgres", "choose the kind postgres for this server", "",
               "the server is not Redshift (%s)", conn->server);
    check_create(c, db, user, r);
    if (redshift) check_redshift_case(c, user, r);
    PQfinish(c);
    return 0;
}
