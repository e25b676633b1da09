/*
 * setup.c — the setup walkthrough's MySQL/MariaDB part (setup.h; reached
 * through source_mysql_ops, runtime/source/source_ops.h): the connection
 * test with the likely cause and the table listing. Thread: any but the
 * console's (network I/O).
 */
#include "runtime/mysql/setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/base/clock.h"
#include "runtime/mysql/conn.h"
#include "runtime/mysql/schema.h"

/* ---- connection test ---------------------------------------------------------- */

int mysql_setup_test(const struct config_integration *in, int timeout_s, struct setup_conn *out)
{
    const struct config_source *s = &in->source;
    snprintf(out->where, sizeof out->where, "mysql://%s:%d as %s", s->host, s->port, s->user);
    MYSQL *db = NULL;
    char err[1024];
    int64_t t0 = zclock_mono_ms();

    if (mysql_conn_open(&db, in->name, s, timeout_s, err, sizeof err) != 0) {
        long took = (long)(zclock_mono_ms() - t0);
        char pre[600];
        unsigned code = 0;
        const char *e = strstr(err, "(error ");
        for (const char *n; e && (n = strstr(e + 1, "(error ")); ) e = n;
        if (e) code = (unsigned)strtoul(e + 7, NULL, 10);
        snprintf(pre, sizeof pre, "cannot connect to mysql://%s:%d as %s: ", s->host, s->port, s->user);
        const char *m = strstr(err, pre);
        char msg[768];
        if (m && e && e > m + strlen(pre))
            snprintf(msg, sizeof msg, "%.*s", (int)(e - m - strlen(pre) - 1), m + strlen(pre));
        else
            snprintf(msg, sizeof msg, "%.767s", err);
        setup_one_line(out->message, sizeof out->message, msg);
        out->cause = !e && s->password_command ? SETUP_CAUSE_PASSWORD_COMMAND
                   : setup_classify(msg, code, took, timeout_s * 1000L);
        return -1;
    }
    mysql_conn_describe(db, out->server, sizeof out->server);
    MYSQL_RES *res = mysql_conn_query(db, "SHOW DATABASES", err, sizeof err);
    if (!res) {
        setup_one_line(out->message, sizeof out->message, err);
        out->cause = SETUP_CAUSE_OTHER;
        mysql_close(db);
        return -1;
    }
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)))
        if (row[0] && strcmp(row[0], "information_schema") && strcmp(row[0], "mysql") &&
            strcmp(row[0], "performance_schema") && strcmp(row[0], "sys"))
            setup_conn_add_name(out, row[0]);
    mysql_free_result(res);
    mysql_close(db);
    return setup_conn_check_names(out, s->databases, s->ndatabases, "database");
}

/* ---- tables -------------------------------------------------------------------- */

int mysql_setup_list_tables(const struct config_integration *in, struct setup_table **out, int *n,
                            char *err, size_t errlen)
{
    const struct config_source *s = &in->source;
    struct setup_table *v = NULL;
    int nv = 0, cap = 0, rc = -1;
    MYSQL *db = NULL;
    if (mysql_conn_open(&db, in->name, s, 10, err, errlen) != 0) return -1;
    /* Keys as the runtime's loader reads them (mysql/schema.h): visible with SELECT alone. */
    struct mysql_keyed keyed;
    MYSQL_RES *res = NULL;
    if (mysql_schema_keyed_load(db, &keyed, err, errlen) != 0) goto close_db;
    res = mysql_conn_query(db,
        "SELECT t.table_schema, t.table_name, t.table_rows"
        " FROM information_schema.tables t WHERE t.table_type IN ('BASE TABLE', 'SYSTEM VERSIONED')"
        " AND t.table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')"
        " ORDER BY t.table_schema, t.table_name", err, errlen);
    MYSQL_ROW row;
    while (res && (row = mysql_fetch_row(res))) {
        if (!row[0] || !row[1] || !setup_name_listed(s->databases, s->ndatabases, row[0])) continue;
        if (setup_tables_add(&v, &nv, &cap, row[0], row[1], mysql_schema_keyed_has(&keyed, row[0], row[1]),
                             row[2] ? strtoll(row[2], NULL, 10) : -1, 0) != 0) {
            snprintf(err, errlen, "out of memory listing tables");
            goto close_db;
        }
    }
    if (res) rc = 0;
close_db:
    if (res) mysql_free_result(res);
    mysql_schema_keyed_free(&keyed);
    mysql_close(db);
    if (rc != 0) {
        free(v);
        return -1;
    }
    *out = v;
    *n = nv;
    return 0;
}
