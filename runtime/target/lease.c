/*
 * lease.c — the lease in a PostgreSQL target: lock, epoch, heartbeat
 * (lease.h says why and how it fences). Plain libpq under pgwait's
 * deadlines, on a session of its own; no struct target.
 */
#include "runtime/target/lease.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/target/pgwait.h"

struct tlease {
    PGconn     *conn;
    struct pgw  w;
    char       *dsn;
    char        integration[256];
    char        member[64];
    char        pidtxt[16];
    char        token[33];          /* this process among all, whatever member names and
                                       pids say (two containers: both "zetl", both pid 1) */
    char        lockname[280];      /* "zetl-lease:INTEGRATION": the lock's key, hashed */
    char        app[64];            /* our session's application_name */
    char        work_app[64];       /* the working sessions' ("zetl:INTEGRATION", pg.c) */
    int         locked;             /* this session holds the advisory lock */
};

static const char *const lease_ddl =
    "CREATE SCHEMA IF NOT EXISTS zetl; "
    "CREATE TABLE IF NOT EXISTS zetl.leases ("
    " integration text PRIMARY KEY,"
    " epoch bigint NOT NULL,"
    " holder text NOT NULL,"
    " pid integer,"
    " token text NOT NULL,"
    " acquired_at timestamptz NOT NULL DEFAULT now(),"
    " deleted_at timestamptz); "
    "CREATE TABLE IF NOT EXISTS zetl.lease_members ("
    " integration text NOT NULL,"
    " token text NOT NULL,"
    " member text NOT NULL,"
    " pid integer NOT NULL,"
    " seen_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (integration, token))";

/* Server notices ("already exists, skipping") are not for the operator. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* err: what failed, the server's message (or pgwait's), on one line. */
static void fail_msg(struct tlease *l, PGresult *r, const char *what, char *err, size_t errlen)
{
    const char *m = r ? PQresultErrorMessage(r) : "";
    if (!m || !*m) m = l->w.err[0] ? l->w.err : PQerrorMessage(l->conn);
    char one[400];
    snprintf(one, sizeof one, "%.399s", m && *m ? m : "no answer");
    for (char *p = one; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    size_t n = strlen(one);
    while (n && one[n - 1] == ' ') one[--n] = '\0';
    snprintf(err, errlen, "lease of %s in the target (%s): %s: %s", l->integration, l->w.where, what, one);
}

static PGresult *q(struct tlease *l, const char *sql, int n, const char *const *v)
{
    return n ? pgw_query_params(&l->w, sql, n, v, NULL) : pgw_query(&l->w, sql);
}

static int exec_ok(struct tlease *l, const char *sql, int n, const char *const *v, const char *what,
                   char *err, size_t errlen)
{
    PGresult *r = q(l, sql, n, v);
    int ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
    if (!ok) fail_msg(l, r, what, err, errlen);
    PQclear(r);
    return ok ? 0 : -1;
}

/* The lease's session, without creating anything. NULL with err. */
static struct tlease *lease_connect(const struct tlease_opts *o, char *err, size_t errlen)
{
    struct tlease *l = calloc(1, sizeof *l);
    if (!l || !(l->dsn = strdup(o->dsn ? o->dsn : ""))) {
        free(l);
        snprintf(err, errlen, "lease of %s: out of memory", o->integration);
        return NULL;
    }
    snprintf(l->integration, sizeof l->integration, "%s", o->integration);
    snprintf(l->member, sizeof l->member, "%s", o->member);
    snprintf(l->pidtxt, sizeof l->pidtxt, "%d", o->pid);
    snprintf(l->token, sizeof l->token, "%s", o->token);
    snprintf(l->lockname, sizeof l->lockname, "zetl-lease:%s", o->integration);
    snprintf(l->app, sizeof l->app, "zetl-lease:%.52s", o->integration);
    snprintf(l->work_app, sizeof l->work_app, "zetl:%.58s", o->integration);
    /* application_name after the dsn: ours even when the dsn names one, so
     * a contender can tell the lease session from the working ones. */
    const char *kw[] = { "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                         "keepalives_count", "dbname", "application_name", NULL };
    const char *val[] = { "10", "1", "10", "5", "3", l->dsn, l->app, NULL };
    char msg[400];
    l->conn = pgw_connect(kw, val, o->stop, 0, msg, sizeof msg);
    if (!l->conn) {
        snprintf(err, errlen, "lease of %s: cannot connect to the target: %s", o->integration, msg);
        tlease_close(l);
        return NULL;
    }
    pgw_init(&l->w, l->conn, l->dsn, o->stop, o->hook, o->hook_ctx);
    l->w.check_session = 1;
    if (o->deadline_ms > 0) l->w.deadline_ms = o->deadline_ms;
    PQsetNoticeProcessor(l->conn, quiet, NULL);
    return l;
}

int tlease_open(struct tlease **out, const struct tlease_opts *o, char *err, size_t errlen)
{
    *out = NULL;
    struct tlease *l = lease_connect(o, err, errlen);
    if (!l) return -1;
    /* Two processes creating them at once race on the catalog: once more. */
    if (exec_ok(l, lease_ddl, 0, NULL, "creating zetl.leases", err, errlen) != 0 &&
        exec_ok(l, lease_ddl, 0, NULL, "creating zetl.leases", err, errlen) != 0) {
        tlease_close(l);
        return -1;
    }
    *out = l;
    return 0;
}

void tlease_close(struct tlease *l)
{
    if (!l) return;
    if (l->conn) PQfinish(l->conn);     /* non-blocking, or shut down: never waits */
    free(l->dsn);
    free(l);
}

void tlease_cancel(struct tlease *l)
{
    if (l && l->conn) pgw_cancel(&l->w);
}

/* v's holder fields from zetl.leases, and the members seen within
 * takeover_s other than the holder (and us when we hold it). */
static int read_view(struct tlease *l, int takeover_s, struct tlease_view *v, char *err, size_t errlen)
{
    char ts[16];
    snprintf(ts, sizeof ts, "%d", takeover_s);
    const char *p[2] = { l->integration, ts };
    /* The holder's heartbeat is its member row (not the lease row, which
     * every fenced commit holds FOR SHARE for a moment). */
    PGresult *r = q(l,
        "SELECT l.epoch, l.holder, l.pid, extract(epoch FROM clock_timestamp() - "
        "  coalesce((SELECT m.seen_at FROM zetl.lease_members m WHERE m.integration = $1 "
        "  AND m.token = l.token), l.acquired_at))::float8, "
        "l.deleted_at IS NOT NULL, "
        "(SELECT string_agg(DISTINCT m.member, ', ' ORDER BY m.member) FROM zetl.lease_members m "
        "  WHERE m.integration = $1 AND m.token <> l.token "
        "  AND m.seen_at > clock_timestamp() - make_interval(secs => $2::int)) "
        ", l.token FROM zetl.leases l WHERE l.integration = $1", 2, p);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        fail_msg(l, r, "reading zetl.leases", err, errlen);
        PQclear(r);
        return -1;
    }
    int t = v->terminated;
    memset(v, 0, sizeof *v);
    v->terminated = t;
    v->beat_age_s = -1;
    if (PQntuples(r) == 1) {
        v->epoch = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        snprintf(v->holder, sizeof v->holder, "%s", PQgetvalue(r, 0, 1));
        v->holder_pid = atoi(PQgetvalue(r, 0, 2));
        v->beat_age_s = strtod(PQgetvalue(r, 0, 3), NULL);
        v->deleted = PQgetvalue(r, 0, 4)[0] == 't';
        v->ours = strcmp(PQgetvalue(r, 0, 6), l->token) == 0;
        snprintf(v->standbys, sizeof v->standbys, "%s", PQgetvalue(r, 0, 5));
    }
    PQclear(r);
    return 0;
}

/* This member is here (zetl.lease_members), for the holder's list of standbys. */
static int say_here(struct tlease *l, char *err, size_t errlen)
{
    const char *p[4] = { l->integration, l->member, l->pidtxt, l->token };
    return exec_ok(l,
        "INSERT INTO zetl.lease_members AS m (integration, member, pid, token, seen_at) "
        "VALUES ($1, $2, $3::int, $4, clock_timestamp()) ON CONFLICT (integration, token) "
        "DO UPDATE SET seen_at = EXCLUDED.seen_at", 4, p,
        "writing zetl.lease_members", err, errlen);
}

/* 1 the lock is ours now, 0 another session holds it, -1 failed. */
static int try_lock(struct tlease *l, char *err, size_t errlen)
{
    if (l->locked) return 1;
    const char *p[1] = { l->lockname };
    PGresult *r = q(l, "SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtextextended($1, 0))", 1, p);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        fail_msg(l, r, "trying the lock", err, errlen);
        PQclear(r);
        return -1;
    }
    l->locked = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return l->locked;
}

/*
 * The holder has been silent past takeover_s: end its lease session (the
 * one named like ours that holds an advisory lock) and its working sessions,
 * so the lock is freed and no transaction of its holds the epoch's row. Only
 * sessions of this user and database: the server refuses others anyway.
 * The number ended, or -1.
 */
static int end_silent_holder(struct tlease *l, char *err, size_t errlen)
{
    const char *p[2] = { l->app, l->work_app };
    PGresult *r = q(l,
        "SELECT count(pg_catalog.pg_terminate_backend(a.pid)) FROM pg_catalog.pg_stat_activity a "
        "WHERE a.pid <> pg_catalog.pg_backend_pid() AND a.usename = current_user "
        "AND a.datname = pg_catalog.current_database() AND (a.application_name = $2 OR "
        "(a.application_name = $1 AND EXISTS (SELECT 1 FROM pg_catalog.pg_locks k "
        "  WHERE k.pid = a.pid AND k.locktype = 'advisory' AND k.granted)))", 2, p);
    int n = -1;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) n = atoi(PQgetvalue(r, 0, 0));
    else fail_msg(l, r, "ending the silent holder's sessions", err, errlen);
    PQclear(r);
    return n;
}

/* Raise the epoch and name us: waits (lock_timeout 2 s) for the
 * transactions that passed the old epoch's check. 0 with *epoch, -1. */
static int raise_epoch(struct tlease *l, int64_t *epoch, char *err, size_t errlen)
{
    const char *p[4] = { l->integration, l->member, l->pidtxt, l->token };
    for (int attempt = 0;; attempt++) {
        if (exec_ok(l, "SET lock_timeout = '2s'", 0, NULL, "setting lock_timeout", err, errlen) != 0)
            return -1;
        PGresult *r = q(l,
            "INSERT INTO zetl.leases AS l (integration, epoch, holder, pid, token, acquired_at) "
            "VALUES ($1, 1, $2, $3::int, $4, clock_timestamp()) "
            "ON CONFLICT (integration) DO UPDATE SET epoch = l.epoch + 1, holder = EXCLUDED.holder, "
            "pid = EXCLUDED.pid, token = EXCLUDED.token, acquired_at = EXCLUDED.acquired_at "
            "RETURNING epoch", 4, p);
        int ok = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        int lock_wait = !ok && state && strcmp(state, "55P03") == 0;
        if (ok) *epoch = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        else fail_msg(l, r, "raising the lease's epoch", err, errlen);
        PQclear(r);
        if (exec_ok(l, "RESET lock_timeout", 0, NULL, "resetting lock_timeout", err, errlen) != 0)
            return -1;
        if (ok) {
            const char *d[1] = { l->integration };
            PQclear(q(l, "DELETE FROM zetl.lease_members WHERE integration = $1 "
                         "AND seen_at < clock_timestamp() - interval '1 day'", 1, d));
            return 0;
        }
        /* A transaction of the old holder sits on the row (frozen mid-commit):
         * end it, once; the lock we hold says it is no longer the holder. */
        if (!lock_wait || attempt > 0 || end_silent_holder(l, err, errlen) < 0) return -1;
    }
}

int tlease_try(struct tlease *l, int takeover_s, int64_t *epoch, struct tlease_view *v,
               char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    if (say_here(l, err, errlen) != 0 || read_view(l, takeover_s, v, err, errlen) != 0) return -1;
    if (v->deleted) return 2;
    int got = try_lock(l, err, errlen);
    if (got < 0) return -1;
    if (!got && v->epoch && v->beat_age_s > takeover_s) {
        int n = end_silent_holder(l, err, errlen);
        if (n < 0) return -1;
        v->terminated = n;
        /* The ended session lets its lock go as it exits: a moment. */
        for (int i = 0; i < 20 && got == 0; i++) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
            got = try_lock(l, err, errlen);
        }
        if (got < 0) return -1;
    }
    if (!got) return 0;
    if (raise_epoch(l, epoch, err, errlen) != 0) return -1;
    return 1;
}

int tlease_beat(struct tlease *l, int64_t epoch, int takeover_s, struct tlease_view *v,
                char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    if (say_here(l, err, errlen) != 0 || read_view(l, takeover_s, v, err, errlen) != 0) return -1;
    return v->epoch == epoch && !v->deleted && v->ours;
}

int tlease_relock(struct tlease *l, int64_t epoch, int takeover_s, struct tlease_view *v,
                  char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    int got = try_lock(l, err, errlen);
    if (got < 0) return -1;
    if (read_view(l, takeover_s, v, err, errlen) != 0) return -1;
    if (!got) return 0;
    if (v->epoch == epoch && !v->deleted && v->ours)
        return say_here(l, err, errlen) == 0 ? 1 : -1;
    return 0;   /* the lock is ours but the epoch moved: closing lets it go */
}

int tlease_mark_deleted(struct tlease *l, int64_t epoch, char *err, size_t errlen)
{
    char e[32];
    snprintf(e, sizeof e, "%lld", (long long)epoch);
    const char *p[2] = { l->integration, e };
    PGresult *r = q(l,
        "UPDATE zetl.leases SET deleted_at = clock_timestamp(), epoch = epoch + 1 "
        "WHERE integration = $1 AND epoch = $2::bigint", 2, p);
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(r), "1") == 0;
    if (!ok) {
        if (r && PQresultStatus(r) == PGRES_COMMAND_OK)
            snprintf(err, errlen, "lease of %s: the epoch moved before the delete was recorded", l->integration);
        else
            fail_msg(l, r, "recording the delete in zetl.leases", err, errlen);
    }
    PQclear(r);
    return ok ? 0 : -1;
}

int tlease_peek(const struct tlease_opts *o, int takeover_s, struct tlease_view *v, int *server_version,
                char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    *server_version = 0;
    struct tlease *l = lease_connect(o, err, errlen);
    if (!l) return -1;
    *server_version = PQserverVersion(l->conn);
    int rc = 0;
    PGresult *r = q(l, "SELECT pg_catalog.to_regclass('zetl.leases') IS NOT NULL AND "
                       "pg_catalog.to_regclass('zetl.lease_members') IS NOT NULL", 0, NULL);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        fail_msg(l, r, "looking for zetl.leases", err, errlen);
        rc = -1;
    } else if (PQgetvalue(r, 0, 0)[0] == 't') {
        rc = read_view(l, takeover_s, v, err, errlen) == 0 ? 1 : -1;
    }
    PQclear(r);
    tlease_close(l);
    return rc;
}
