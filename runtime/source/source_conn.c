/*
 * source_conn.c — connections to a source, below everything else of
 * runtime/source: the PostgreSQL conninfo, bounded waits and SQL
 * connections (source_pg.h), and MySQL/MariaDB's short SQL connections
 * registered in in->cut (source_my.h). The drivers (source_my.c,
 * source_pg.c) and the PostgreSQL reader (source_pgstream.c) connect
 * through these. Thread: the caller's.
 */
#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "runtime/integ/integ.h"
#include "runtime/mysql/conn.h"
#include "runtime/source/source.h"
#include "runtime/source/source_my.h"
#include "runtime/source/source_pg.h"

/* ---- PostgreSQL ---------------------------------------------------------------- */

/* Append key='value' with ' and \ escaped, as libpq's conninfo wants. */
static int kv(char *buf, size_t len, size_t *used, const char *key, const char *value)
{
    if (!value) return 0;
    size_t u = *used;
    int n = snprintf(buf + u, len - u, "%s%s='", u ? " " : "", key);
    if (n < 0 || (size_t)n >= len - u) return -1;
    u += (size_t)n;
    for (const char *p = value; *p; p++) {
        if (u + 3 >= len) return -1;
        if (*p == '\'' || *p == '\\') buf[u++] = '\\';
        buf[u++] = *p;
    }
    if (u + 2 >= len) return -1;
    buf[u++] = '\'';
    buf[u] = '\0';
    *used = u;
    return 0;
}

int source_pg_conninfo(const struct integ *in, char *buf, size_t len, char *err, size_t errlen)
{
    const struct config_source *s = &in->cfg->source;
    char password[4096], perr[512], port[16];
    if (config_password(s, 10000, password, sizeof password, perr, sizeof perr) != 0) {
        snprintf(err, errlen, "source %s: %s", in->cfg->name, perr);
        return -1;
    }
    static const char *const sslmode[] = {"disable", "prefer", "require", "verify-full"};
    snprintf(port, sizeof port, "%d", s->port);
    size_t used = 0;
    buf[0] = '\0';
    /* TCP keepalives and a TCP user timeout: a peer that stops ACKing (its
     * host died, a flow was dropped) breaks the connection in ~25 s even
     * while zetl only waits. The source config has no conninfo of its own,
     * so nothing an operator set is overridden. A server that is frozen, or
     * a middlebox that still ACKs, is caught by the waits' deadlines
     * (pg/pgwait.h) instead. */
    int rc = kv(buf, len, &used, "host", s->host) | kv(buf, len, &used, "port", port) |
             kv(buf, len, &used, "dbname", s->database) | kv(buf, len, &used, "user", s->user) |
             kv(buf, len, &used, "password", password[0] ? password : NULL) |
             kv(buf, len, &used, "sslmode", sslmode[s->tls]) |
             kv(buf, len, &used, "connect_timeout", "10") |
             kv(buf, len, &used, "keepalives", "1") | kv(buf, len, &used, "keepalives_idle", "10") |
             kv(buf, len, &used, "keepalives_interval", "5") | kv(buf, len, &used, "keepalives_count", "3") |
             kv(buf, len, &used, "tcp_user_timeout", "20000") |
             kv(buf, len, &used, "application_name", "zetl");
    memset(password, 0, sizeof password);
    if (rc) {
        snprintf(err, errlen, "source %s: connection settings too long", in->cfg->name);
        return -1;
    }
    return 0;
}

/* Bounded waits on the source (pg/pgwait.h): stop flag, silence deadline, probe. */
struct pgwait source_pg_wait(const atomic_int *stop, const char *probe_ci)
{
    return (struct pgwait){.stop = stop, .silence_ms = PGWAIT_SILENCE_MS, .probe_ci = probe_ci};
}

/* A SQL connection with the output settings of the stream, every wait
 * bounded by w. NULL with err. */
PGconn *source_pg_sql_connect(const struct integ *in, const struct pgwait *w, char *err, size_t errlen)
{
    char ci[8192], e[512];
    if (source_pg_conninfo(in, ci, sizeof ci, err, errlen) != 0) return NULL;
    const char *keys[] = {"dbname", NULL};
    const char *vals[] = {ci, NULL};
    PGconn *c = pgwait_connect(keys, vals, w, 0, e, sizeof e);
    memset(ci, 0, sizeof ci);
    if (!c) {
        snprintf(err, errlen, "source %s: postgres://%s:%d/%s as %s: %s", in->cfg->name,
                 in->cfg->source.host, in->cfg->source.port, in->cfg->source.database,
                 in->cfg->source.user, e);
        return NULL;
    }
    PGresult *r = pgwait_exec(c, w, "SET DateStyle = ISO; SET IntervalStyle = postgres; SET TimeZone = 'UTC';"
                                    " SET extra_float_digits = 3; SET bytea_output = hex", -1, NULL, e, sizeof e);
    if (!r) {
        snprintf(err, errlen, "source %s: %s", in->cfg->name, e);
        pgwait_abandon(c);
        return NULL;
    }
    PQclear(r);
    return c;
}

/* Closes a SQL connection; one whose last wait failed is abandoned (no goodbye). */
void source_pg_sql_close(PGconn *c, int dead)
{
    if (dead) pgwait_abandon(c);
    else if (c) PQfinish(c);
}

/* ---- MySQL/MariaDB ------------------------------------------------------------- */

int source_my_open(struct integ *in, MYSQL **db, char *err, size_t errlen)
{
    return mysql_conn_open_cut(db, in->cfg->name, &in->cfg->source, 10, &in->cut, err, errlen);
}

void source_my_close(struct integ *in, MYSQL *db)
{
    mysql_conn_close_cut(db, &in->cut);
}
