/* preflight.c (mysql) — checks of a MySQL/MariaDB source (see preflight.h). */
#include "runtime/mysql/preflight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/mysql/conn.h"
#include "runtime/mysql/schema.h"

#define REBOOT " in the DB parameter group (Aurora: the DB cluster parameter group), then reboot the instance"

struct vars {                     /* SHOW GLOBAL VARIABLES, kept as returned */
    MYSQL_RES *res;
    char    **names, **values;
    size_t    n;
};

static int vars_load(MYSQL *db, struct vars *v, char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    v->res = mysql_conn_query(db, "SHOW GLOBAL VARIABLES", err, errlen);
    if (!v->res) return -1;
    v->n = mysql_num_rows(v->res);
    v->names = calloc(v->n ? v->n : 1, sizeof *v->names);
    v->values = calloc(v->n ? v->n : 1, sizeof *v->values);
    if (!v->names || !v->values) {
        snprintf(err, errlen, "out of memory reading server variables");
        return -1;
    }
    MYSQL_ROW row;
    for (size_t i = 0; i < v->n && (row = mysql_fetch_row(v->res)); i++) {
        v->names[i] = row[0];
        v->values[i] = row[1] ? row[1] : "";
    }
    return 0;
}

static void vars_free(struct vars *v)
{
    if (v->res) mysql_free_result(v->res);
    free(v->names);
    free(v->values);
}

/* NULL when the server has no such variable (older version, other flavour). */
static const char *var(const struct vars *v, const char *name)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcasecmp(v->names[i], name) == 0) return v->values[i];
    return NULL;
}

/* A variable that must equal `want` (case-insensitive). */
static void check_equals(struct pf_report *r, const struct vars *v, int mariadb, const char *name,
                         const char *want, enum pf_status missing_status, const char *missing_note)
{
    const char *cur = var(v, name);
    char fix[384], rds[384];
    if (mariadb)
        snprintf(fix, sizeof fix, "SET GLOBAL %s=%s, and %s=%s under [mysqld] in my.cnf so it survives a restart",
                 name, want, name, want);
    else
        snprintf(fix, sizeof fix, "SET PERSIST %s=%s", name, want);
    snprintf(rds, sizeof rds, "set %s=%s" REBOOT, name, want);
    if (!cur) {
        pf_add(r, missing_status, name, want, missing_status == PF_PASS ? "" : fix, "",
               "not available on this server%s", missing_note);
        return;
    }
    pf_add(r, strcasecmp(cur, want) == 0 ? PF_PASS : PF_FAIL, name, want, fix, rds, "%s", cur);
}

static void check_retention(struct pf_report *r, const struct vars *v, int mariadb, MYSQL *db)
{
    const char *secs = var(v, "binlog_expire_logs_seconds");
    const char *days = var(v, "expire_logs_days");
    double s = secs ? atof(secs) : 0;
    if (s <= 0 && days) s = atof(days) * 86400.0;
    const char *basedir = var(v, "basedir");
    int rds = basedir && strncmp(basedir, "/rdsdbbin", 9) == 0;
    const char *fix = mariadb
        ? "SET GLOBAL binlog_expire_logs_seconds=604800 (and in my.cnf)"
        : "SET PERSIST binlog_expire_logs_seconds=604800";
    const char *fix_rds = "CALL mysql.rds_set_configuration('binlog retention hours', 168)";
    if (rds) {
        char err[256];
        MYSQL_RES *res = mysql_conn_query(db, "CALL mysql.rds_show_configuration", err, sizeof err);
        const char *hours = NULL;
        MYSQL_ROW row;
        while (res && (row = mysql_fetch_row(res)))
            if (row[0] && strcmp(row[0], "binlog retention hours") == 0) hours = row[1];
        double h = hours ? atof(hours) : 0;
        pf_add(r, h >= 24 ? PF_PASS : PF_FAIL, "binlog retention", ">= 24 hours", "", fix_rds,
               "%s hours on RDS", hours ? hours : "NULL (purged as soon as possible)");
        if (res) mysql_free_result(res);
        while (mysql_next_result(db) == 0) { /* drain the CALL's status result */ }
        return;
    }
    if (s <= 0)
        pf_add(r, PF_PASS, "binlog retention", ">= 24 hours", "", "", "never purged automatically");
    else
        pf_add(r, s >= 86400 ? PF_PASS : PF_WARN, "binlog retention", ">= 24 hours", fix, fix_rds,
               "%.1f hours: a zetl stopped for longer must resync", s / 3600.0);
}

/* Does SHOW GRANTS allow `priv` globally (ON *.*)? */
static int grants_have(char **grants, size_t n, const char *priv, const char *on)
{
    for (size_t i = 0; i < n; i++) {
        const char *g = grants[i];
        const char *o = strstr(g, " ON ");
        if (!o || strncmp(o + 4, on, strlen(on)) != 0) continue;
        if (strstr(g, "ALL PRIVILEGES") && (size_t)(strstr(g, "ALL PRIVILEGES") - g) < (size_t)(o - g))
            return 1;
        const char *p = strstr(g, priv);
        if (p && p < o) return 1;
    }
    return 0;
}

/* `name` with any backquote doubled (truncated to fit). */
static void backquote(char *out, size_t len, const char *name)
{
    size_t o = 0;
    out[o++] = '`';
    for (; *name && o + 3 < len; name++) {
        if (*name == '`') out[o++] = '`';
        out[o++] = *name;
    }
    out[o++] = '`';
    out[o] = '\0';
}

/*
 * The account the server matched this login to, as a GRANT names it: from
 * CURRENT_USER() ("appro@127.0.0.1"), not the configured user with '%' —
 * the server may have matched 'appro'@'127.0.0.1', and a grant to another
 * account changes nothing for this login. Single quotes as operators write
 * them; a name holding a quote or a backslash (whose meaning in a string
 * depends on sql_mode) is backquoted instead, doubling any backquote.
 */
static void matched_account(MYSQL *db, const struct config_integration *in, char *out, size_t len)
{
    char err[256], user[256], host[256];
    snprintf(user, sizeof user, "%s", in->source.user ? in->source.user : "");
    snprintf(host, sizeof host, "%%");
    MYSQL_RES *res = mysql_conn_query(db, "SELECT CURRENT_USER()", err, sizeof err);
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    const char *at = row && row[0] ? strrchr(row[0], '@') : NULL;
    if (at) {                       /* a host never holds '@'; a user name may */
        snprintf(user, sizeof user, "%.*s", (int)(at - row[0]), row[0]);
        snprintf(host, sizeof host, "%s", at + 1);
    }
    if (res) mysql_free_result(res);
    const char *part[2] = { user, host };
    size_t o = 0;
    for (int i = 0; i < 2 && o + 4 < len; i++) {
        int plain = !strpbrk(part[i], "'\\`");
        char q = plain ? '\'' : '`';
        if (i) out[o++] = '@';
        out[o++] = q;
        for (const char *p = part[i]; *p && o + 4 < len; p++) {
            if (*p == q) out[o++] = q;
            out[o++] = *p;
        }
        out[o++] = q;
    }
    out[o] = '\0';
}

static void check_privileges(struct pf_report *r, MYSQL *db, const struct config_integration *in)
{
    char err[512], account[600], qdb[300];
    matched_account(db, in, account, sizeof account);
    MYSQL_RES *res = mysql_conn_query(db, "SHOW GRANTS FOR CURRENT_USER()", err, sizeof err);
    if (!res) {
        pf_add(r, PF_WARN, "privileges", "", "", "", "cannot read grants: %s", err);
        return;
    }
    size_t n = mysql_num_rows(res);
    char **g = calloc(n ? n : 1, sizeof *g);
    MYSQL_ROW row;
    for (size_t i = 0; g && i < n && (row = mysql_fetch_row(res)); i++) g[i] = row[0] ? row[0] : "";
    char fix[1024];                 /* pf_add keeps what fits an item */
    int slave = g && (grants_have(g, n, "REPLICATION SLAVE", "*.*") ||
                      grants_have(g, n, "REPLICATION REPLICA", "*.*"));
    int client = g && (grants_have(g, n, "REPLICATION CLIENT", "*.*") ||
                       grants_have(g, n, "BINLOG MONITOR", "*.*") ||
                       grants_have(g, n, "SUPER", "*.*"));
    snprintf(fix, sizeof fix, "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO %s", account);
    pf_add(r, slave && client ? PF_PASS : PF_FAIL, "replication privileges",
           "REPLICATION SLAVE, REPLICATION CLIENT", fix, "", "%s%s%s",
           slave ? "REPLICATION SLAVE" : "no REPLICATION SLAVE",
           ", ", client ? "REPLICATION CLIENT" : "no REPLICATION CLIENT");
    for (int d = 0; g && d < in->source.ndatabases; d++) {
        char on[256];
        snprintf(on, sizeof on, "`%s`.*", in->source.databases[d]);
        int sel = grants_have(g, n, "SELECT", "*.*") || grants_have(g, n, "SELECT", on);
        char check[64];
        snprintf(check, sizeof check, "SELECT on %s", in->source.databases[d]);
        backquote(qdb, sizeof qdb, in->source.databases[d]);
        snprintf(fix, sizeof fix, "GRANT SELECT ON %s.* TO %s", qdb, account);
        pf_add(r, sel ? PF_PASS : PF_FAIL, check, "SELECT", fix, "", "%s",
               sel ? "granted" : "not granted on the database or *.*");
    }
    free(g);
    mysql_free_result(res);
}

static int database_configured(const struct config_integration *in, const char *schema)
{
    for (int d = 0; d < in->source.ndatabases; d++)
        if (strcmp(in->source.databases[d], schema) == 0) return 1;
    return 0;
}

static void check_tables(struct pf_report *r, MYSQL *db, const struct config_integration *in)
{
    char err[512];
    /* Keys from the catalog rows the runtime's loader reads (schema.h), which
     * a user with only SELECT can see, so check and copy agree on each table. */
    struct mysql_keyed keyed, unchunked, ukeyed;
    if (mysql_schema_keyed_load(db, &keyed, err, sizeof err) != 0 ||
        mysql_schema_unchunked_load(db, &unchunked, err, sizeof err) != 0 ||
        mysql_schema_ukeyed_load(db, &ukeyed, err, sizeof err) != 0) {
        pf_add(r, PF_FAIL, "tables", "", "", "", "cannot read primary keys: %s", err);
        mysql_schema_keyed_free(&keyed);
        mysql_schema_keyed_free(&unchunked);
        return;
    }
    MYSQL_RES *res = mysql_conn_query(db,
        "SELECT t.table_schema, t.table_name, COALESCE(t.table_rows, 0)"
        " FROM information_schema.tables t WHERE t.table_type IN ('BASE TABLE', 'SYSTEM VERSIONED')"
        " ORDER BY t.table_schema, t.table_name", err, sizeof err);
    if (!res) {
        pf_add(r, PF_FAIL, "tables", "", "", "", "cannot list tables: %s", err);
        mysql_schema_keyed_free(&keyed);
        mysql_schema_keyed_free(&unchunked);
        mysql_schema_keyed_free(&ukeyed);
        return;
    }
    int *seen_db = calloc((size_t)in->source.ndatabases + 1, sizeof *seen_db);
    long selected = 0, keyless = 0, oneread = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        if (!row[0] || !row[1] || !database_configured(in, row[0])) continue;
        for (int d = 0; seen_db && d < in->source.ndatabases; d++)
            if (strcmp(in->source.databases[d], row[0]) == 0) seen_db[d] = 1;
        if (!config_table_selected(&in->tables, row[0], row[1])) continue;
        selected++;
        if (!mysql_schema_keyed_has(&keyed, row[0], row[1])) {
            keyless++;
            char check[64], fix[1024], qs[300], qt[300];
            snprintf(check, sizeof check, "key of %.27s.%.27s", row[0], row[1]);
            backquote(qs, sizeof qs, row[0]);
            backquote(qt, sizeof qt, row[1]);
            snprintf(fix, sizeof fix, "ALTER TABLE %s.%s ADD PRIMARY KEY (...), or exclude the table", qs, qt);
            if (mysql_schema_keyed_has(&ukeyed, row[0], row[1]))
                pf_add(r, PF_WARN, check, "a primary key", fix, "",
                       "no primary key (~%s rows): its unique key of NOT NULL integers is the key zetl applies "
                       "its updates and deletes by, and lets its initial copy and a resync go in chunks by it",
                       row[2] ? row[2] : "?");
            else
                pf_add(r, PF_WARN, check, "a primary key", fix, "",
                       "no primary key (~%s rows): zetl keys it by the full row, so exact duplicate rows cannot be "
                       "told apart; its initial copy and a resync copy it in one read, from the start again if cut "
                       "short", row[2] ? row[2] : "?");
            if (!mysql_schema_keyed_has(&ukeyed, row[0], row[1])) oneread++;
        } else if (mysql_schema_keyed_has(&unchunked, row[0], row[1])) {
            oneread++;
            char check[64];
            snprintf(check, sizeof check, "copy of %.27s.%.27s", row[0], row[1]);
            pf_add(r, PF_PASS, check, "in chunks by key", "", "",
                   "copied in one read (~%s rows): its primary key is not all integers, so its initial copy "
                   "and a resync cannot go in chunks, and start again from the first row if cut short",
                   row[2] ? row[2] : "?");
        }
    }
    mysql_free_result(res);
    mysql_schema_keyed_free(&keyed);
    mysql_schema_keyed_free(&unchunked);
    mysql_schema_keyed_free(&ukeyed);
    for (int d = 0; seen_db && d < in->source.ndatabases; d++)
        if (!seen_db[d]) {
            char check[64];
            snprintf(check, sizeof check, "database %s", in->source.databases[d]);
            pf_add(r, PF_FAIL, check, "exists with tables",
                   "check databases: in the config, or CREATE the database", "",
                   "not found on the server (or it has no tables the user can see)");
        }
    free(seen_db);
    pf_add(r, selected > 0 ? PF_PASS : PF_FAIL, "selected tables", "at least one",
           "widen tables.include, or check tables.exclude", "",
           "%ld selected, %ld of them without a primary key, %ld copied in one read (no key, or a primary key "
           "not all integers); the others copy and resync in chunks (apply.copy_chunk_rows)", selected, keyless,
           oneread);
}

int mysql_preflight(const struct config_integration *in, struct pf_report *r,
                    char *err, size_t errlen)
{
    MYSQL *db = NULL;
    snprintf(r->subject, sizeof r->subject, "source %s: mysql://%s:%d", in->name,
             in->source.host, in->source.port);
    if (mysql_conn_open(&db, in->name, &in->source, 10, err, errlen) != 0) return -1;

    char desc[96];
    mysql_conn_describe(db, desc, sizeof desc);
    int mariadb = mysql_conn_is_mariadb(db);
    snprintf(r->subject, sizeof r->subject, "source %s: mysql://%s:%d (%s)", in->name,
             in->source.host, in->source.port, desc);
    unsigned long ver = mysql_get_server_version(db);       /* 100511 = 10.5.11 */
    int old = mariadb ? ver < 100300 : ver < 50700;
    pf_add(r, old ? PF_FAIL : PF_PASS, "server version",
           mariadb ? "MariaDB 10.3 or later" : "MySQL 5.7 or later",
           "upgrade the server", "", "%s", desc);

    struct vars v;
    int rc = -1;
    if (vars_load(db, &v, err, errlen) != 0) goto out;

    const char *logbin = var(&v, "log_bin");
    pf_add(r, logbin && strcasecmp(logbin, "ON") == 0 ? PF_PASS : PF_FAIL, "log_bin", "ON",
           "add log_bin=mysql-bin and server_id=1 under [mysqld] in my.cnf, then restart the server",
           "enable automated backups (retention 1 day or more), which turns the binary log on; on Aurora MySQL set binlog_format=ROW in the DB cluster parameter group and reboot",
           "%s", logbin ? logbin : "not available");
    check_equals(r, &v, mariadb, "binlog_format", "ROW", PF_FAIL, "");
    check_equals(r, &v, mariadb, "binlog_row_image", "FULL", PF_FAIL, "");
    check_equals(r, &v, mariadb, "binlog_row_metadata", "FULL", PF_WARN,
                 " (MySQL 8.0.1+, MariaDB 10.5+): column names come from information_schema only");

    const char *comp = var(&v, "binlog_transaction_compression");
    if (comp)
        pf_add(r, strcasecmp(comp, "OFF") == 0 ? PF_PASS : PF_FAIL, "binlog_transaction_compression",
               "OFF", "SET PERSIST binlog_transaction_compression=OFF",
               "set binlog_transaction_compression=OFF" REBOOT, "%s", comp);
    const char *rvo = var(&v, "binlog_row_value_options");
    if (rvo)
        pf_add(r, strcasestr(rvo, "PARTIAL_JSON") ? PF_FAIL : PF_PASS, "binlog_row_value_options",
               "'' (empty)", "SET PERSIST binlog_row_value_options=''",
               "set binlog_row_value_options to empty" REBOOT, "'%s'", rvo);
    check_retention(r, &v, mariadb, db);

    const char *sid = var(&v, "server_id");
    unsigned long source_id = sid ? strtoul(sid, NULL, 10) : 0;
    if (source_id == 0)
        pf_add(r, PF_FAIL, "server_id", "non-zero", "set server_id=1 under [mysqld] in my.cnf, then restart",
               "", "0: the server cannot serve replicas");
    else if (source_id == in->source.server_id)
        pf_add(r, PF_FAIL, "server_id", "differs from source.server_id",
               "choose another source.server_id in the zetl config", "",
               "%lu, the same as zetl's source.server_id", source_id);
    else
        pf_add(r, PF_PASS, "server_id", "", "", "", "%lu (zetl connects as %u)", source_id,
               in->source.server_id);

    if (mariadb)
        pf_add(r, PF_PASS, "gtid", "", "", "", "MariaDB GTIDs (gtid_domain_id %s)",
               var(&v, "gtid_domain_id") ? var(&v, "gtid_domain_id") : "?");
    else {
        const char *gm = var(&v, "gtid_mode");
        pf_add(r, PF_PASS, "gtid_mode", "", "", "", "%s%s", gm ? gm : "not available",
               gm && strcasecmp(gm, "ON") == 0 ? "" : " (positions by file:offset)");
    }
    check_privileges(r, db, in);
    check_tables(r, db, in);
    rc = 0;
out:
    vars_free(&v);
    mysql_close(db);
    return rc;
}
