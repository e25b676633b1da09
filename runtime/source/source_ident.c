/*
 * source_ident.c — what the source is, and how many rows a table has there
 * (see source.h: source_identity, source_holds_gtid, source_count_rows), for
 * the checkpoint's owner check (ident.c) and the drift check (drift.c).
 */
#include "runtime/source/source.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/integ/integ.h"
#include "runtime/source/source_my.h"
#include "runtime/mysql/conn.h"
#include "runtime/pg/stream.h"
#include "runtime/source/source_pg.h"

static int pg_identity(struct integ *in, char *buf, size_t len, char *err, size_t errlen)
{
    struct pgwait w = source_pg_wait(&in->cut.fired, NULL);     /* every wait bounded (pg/pgwait.h) */
    PGconn *c = source_pg_sql_connect(in, &w, err, errlen);
    if (!c) return -1;
    int rc = -1;
    char qe[512];
    PGresult *r = pgwait_exec(c, &w, "SELECT system_identifier::text, current_database() FROM pg_control_system()",
                              0, NULL, qe, sizeof qe);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        snprintf(buf, len, "system_identifier=%s database=%s", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
        rc = 0;
    }
    int dead = !r;
    PQclear(r);
    source_pg_sql_close(c, dead);
    if (rc == 0) return 0;
    if (dead) {
        snprintf(err, errlen, "source %s: reading the system identifier: %s", in->cfg->name, qe);
        return -1;
    }
    /* pg_control_system() may not be granted to the replication user (or not
     * exist, as on some managed services); IDENTIFY_SYSTEM, which every
     * replication connection may run, says the same system identifier. */
    char ci[8192], e[1024];
    if (source_pg_conninfo(in, ci, sizeof ci, err, errlen) != 0) return -1;
    struct pgstream *st = pgstream_connect(ci, e, sizeof e);
    memset(ci, 0, sizeof ci);
    struct pgstream_sysinfo si;
    if (!st || pgstream_identify(st, &si) != 0) {
        snprintf(err, errlen, "source %s: reading the system identifier (IDENTIFY_SYSTEM): %s",
                 in->cfg->name, st ? pgstream_error(st) : e);
        pgstream_close(st);
        return -1;
    }
    snprintf(buf, len, "system_identifier=%s database=%s", si.systemid, in->cfg->source.database);
    pgstream_close(st);
    return 0;
}

/*
 * MySQL names a server by @@server_uuid. MariaDB has none, so it is named by
 * what tells its servers apart best: @@server_id (unique within a replication
 * topology, which MariaDB requires), the server's own @@hostname:@@port (the
 * server's, not the config's route to it, so a new DNS name or address for
 * the same server changes nothing; and two independent servers that both
 * kept the default server_id=1 still differ), and @@gtid_domain_id (the
 * replication domain its GTIDs — the checkpoint's — belong to). A failover
 * changes the identity; ident.c then asks source_holds_gtid.
 */
static int my_identity(struct integ *in, char *buf, size_t len, char *err, size_t errlen)
{
    MYSQL *db = NULL;
    char e[1024];
    if (source_my_open(in, &db, err, errlen) != 0) return -1;
    int maria = mysql_conn_is_mariadb(db);
    MYSQL_RES *res = mysql_conn_query(db, maria ? "SELECT @@server_id, @@hostname, @@port, @@gtid_domain_id"
                                                : "SELECT @@server_uuid", e, sizeof e);
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    int rc = -1;
    if (!row) {
        snprintf(err, errlen, "source %s: reading the server's identity: %s", in->cfg->name,
                 res ? "no row" : e);
    } else if (maria) {
        snprintf(buf, len, "MariaDB server_id=%s hostname=%s:%s gtid_domain_id=%s", row[0] ? row[0] : "?",
                 row[1] ? row[1] : "?", row[2] ? row[2] : "?", row[3] ? row[3] : "?");
        rc = 0;
    } else {
        snprintf(buf, len, "MySQL server_uuid=%s", row[0] ? row[0] : "?");
        rc = 0;
    }
    if (res) mysql_free_result(res);
    source_my_close(in, db);
    return rc;
}

int source_identity(struct integ *in, char *buf, size_t len, char *err, size_t errlen)
{
    buf[0] = '\0';
    return in->cfg->source.kind == SOURCE_MYSQL ? my_identity(in, buf, len, err, errlen)
                                                : pg_identity(in, buf, len, err, errlen);
}

/* Next "domain-server-seq" of a MariaDB GTID list at *p; 0, or -1 at the end or on junk. */
static int next_gtid(const char **p, unsigned long *d, unsigned long *s, unsigned long long *n)
{
    const char *q = *p;
    while (*q == ',' || *q == ' ' || *q == '\n') q++;
    if (!*q) return -1;
    char *end;
    *d = strtoul(q, &end, 10);
    if (end == q || *end != '-') return -1;
    q = end + 1;
    *s = strtoul(q, &end, 10);
    if (end == q || *end != '-') return -1;
    q = end + 1;
    *n = strtoull(q, &end, 10);
    if (end == q) return -1;
    *p = end;
    return 0;
}

static int maria_holds(const char *gtid, const char *state)
{
    const char *p = gtid;
    unsigned long d, s;
    unsigned long long n;
    int any = 0;
    while (next_gtid(&p, &d, &s, &n) == 0) {
        int held = 0;
        const char *q = state;
        unsigned long d2, s2;
        unsigned long long n2;
        while (!held && next_gtid(&q, &d2, &s2, &n2) == 0)
            held = d2 == d && s2 == s && n2 >= n;
        if (!held) return 0;
        any = 1;
    }
    return any && !*p;
}

int source_holds_gtid(struct integ *in, const char *gtid, char *err, size_t errlen)
{
    if (in->cfg->source.kind != SOURCE_MYSQL || !gtid || !gtid[0]) return 0;
    MYSQL *db = NULL;
    char e[1024];
    if (source_my_open(in, &db, err, errlen) != 0) return -1;
    int rc = -1;
    if (mysql_conn_is_mariadb(db)) {
        MYSQL_RES *res = mysql_conn_query(db, "SELECT @@GLOBAL.gtid_binlog_state", e, sizeof e);
        MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
        if (row) rc = maria_holds(gtid, row[0] ? row[0] : "");
        else snprintf(err, errlen, "source %s: reading gtid_binlog_state: %s", in->cfg->name, res ? "no row" : e);
        if (res) mysql_free_result(res);
    } else {
        /* The set is a value: a parameter, never SQL text. */
        static const char sql[] = "SELECT GTID_SUBSET(?, @@GLOBAL.gtid_executed)";
        MYSQL_STMT *st = mysql_stmt_init(db);
        MYSQL_BIND in_b[1], out_b[1];
        unsigned long glen = strlen(gtid);
        long long result = 0;
        my_bool is_null = 0;
        memset(in_b, 0, sizeof in_b);
        memset(out_b, 0, sizeof out_b);
        in_b[0].buffer_type = MYSQL_TYPE_STRING;
        in_b[0].buffer = (void *)gtid;
        in_b[0].buffer_length = glen;
        in_b[0].length = &glen;
        out_b[0].buffer_type = MYSQL_TYPE_LONGLONG;
        out_b[0].buffer = &result;
        out_b[0].is_null = &is_null;
        if (!st || mysql_stmt_prepare(st, sql, sizeof sql - 1) || mysql_stmt_bind_param(st, in_b) ||
            mysql_stmt_execute(st) || mysql_stmt_bind_result(st, out_b) || mysql_stmt_fetch(st) != 0)
            snprintf(err, errlen, "source %s: GTID_SUBSET of the checkpoint's GTID set: %s", in->cfg->name,
                     st ? mysql_stmt_error(st) : mysql_error(db));
        else
            rc = !is_null && result;
        if (st) mysql_stmt_close(st);
    }
    source_my_close(in, db);
    return rc;
}

/* `name` with embedded backquotes doubled; -1 when it does not fit. */
static int my_quote_ident(const char *name, char *buf, size_t len)
{
    size_t o = 0;
    if (len < 3) return -1;
    buf[o++] = '`';
    for (const char *p = name; *p; p++) {
        if (o + 4 > len) return -1;
        if (*p == '`') buf[o++] = '`';
        buf[o++] = *p;
    }
    buf[o++] = '`';
    buf[o] = '\0';
    return 0;
}

static int my_count_rows(struct integ *in, const char *schema, const char *table, int timeout_ms,
                         int64_t *n, char *err, size_t errlen)
{
    char qs[520], qt[520], sql[1200], e[1024];
    if (my_quote_ident(schema, qs, sizeof qs) || my_quote_ident(table, qt, sizeof qt)) {
        snprintf(err, errlen, "source %s: table name %s.%s too long", in->cfg->name, schema, table);
        return -1;
    }
    MYSQL *db = NULL;
    if (source_my_open(in, &db, err, errlen) != 0) return -1;
    if (mysql_conn_is_mariadb(db))
        snprintf(sql, sizeof sql, "SET STATEMENT max_statement_time=%.3f FOR SELECT COUNT(*) FROM %s.%s",
                 timeout_ms / 1000.0, qs, qt);
    else
        snprintf(sql, sizeof sql, "SELECT /*+ MAX_EXECUTION_TIME(%d) */ COUNT(*) FROM %s.%s", timeout_ms, qs, qt);
    MYSQL_RES *res = mysql_conn_query(db, sql, e, sizeof e);
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    int rc = -1;
    if (row && row[0]) {
        *n = strtoll(row[0], NULL, 10);
        rc = 0;
    } else {
        snprintf(err, errlen, "source %s: counting %s.%s: %s", in->cfg->name, schema, table, res ? "no row" : e);
    }
    if (res) mysql_free_result(res);
    source_my_close(in, db);
    return rc;
}

static int pg_count_rows(struct integ *in, const char *schema, const char *table, int timeout_ms,
                         int64_t *n, char *err, size_t errlen)
{
    /* Bounded: the count by statement_timeout on the server, the link by a
     * silence a little longer than that (pg/pgwait.h). */
    struct pgwait w = source_pg_wait(&in->cut.fired, NULL);
    w.silence_ms = timeout_ms + PGWAIT_SILENCE_MS;
    PGconn *c = source_pg_sql_connect(in, &w, err, errlen);
    if (!c) return -1;
    int rc = -1, dead = 0;
    char set[64], qe[512];
    char *qs = PQescapeIdentifier(c, schema, strlen(schema));
    char *qt = PQescapeIdentifier(c, table, strlen(table));
    char *sql = NULL;
    PGresult *r = NULL;
    if (!qs || !qt || !(sql = malloc(strlen(qs) + strlen(qt) + 40))) {
        snprintf(err, errlen, "source %s: counting %s.%s: out of memory", in->cfg->name, schema, table);
        goto out;
    }
    sprintf(sql, "SELECT count(*) FROM %s.%s", qs, qt);
    snprintf(set, sizeof set, "SET statement_timeout = %d", timeout_ms);
    PQclear(pgwait_exec(c, &w, set, 0, NULL, qe, sizeof qe));
    r = pgwait_exec(c, &w, sql, 0, NULL, qe, sizeof qe);
    dead = !r;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        *n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        rc = 0;
    } else {
        char m[512];
        snprintf(m, sizeof m, "%s", r ? PQresultErrorMessage(r) : qe);
        size_t k = strlen(m);
        while (k && (m[k - 1] == '\n' || m[k - 1] == ' ')) m[--k] = '\0';
        snprintf(err, errlen, "source %s: counting %s.%s: %s", in->cfg->name, schema, table, m);
    }
out:
    PQclear(r);
    free(sql);
    PQfreemem(qs);
    PQfreemem(qt);
    source_pg_sql_close(c, dead);
    return rc;
}

int source_count_rows(struct integ *in, const char *schema, const char *table, int timeout_ms,
                      int64_t *n, char *err, size_t errlen)
{
    *n = -1;
    return in->cfg->source.kind == SOURCE_MYSQL ? my_count_rows(in, schema, table, timeout_ms, n, err, errlen)
                                                : pg_count_rows(in, schema, table, timeout_ms, n, err, errlen);
}
