/* pgwait.c — every wait on a target connection, with a deadline (see pgwait.h). */
#include "runtime/target/pgwait.h"
#include "runtime/base/clock.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

static void one_line(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ')) s[--n] = 0;
    for (char *p = s; *p; p++) if (*p == '\n' || *p == '\t') *p = ' ';
}

void pgw_init(struct pgw *w, PGconn *conn, const char *dsn, atomic_int *stop,
              int (*hook)(void *), void *hook_ctx)
{
    memset(w, 0, sizeof *w);
    w->conn = conn;
    w->dsn = dsn;
    w->stop = stop;
    w->hook = hook;
    w->hook_ctx = hook_ctx;
    w->owner = pthread_self();
    w->check_session = 1;
    w->silent_ms = PGW_SILENT_MS;
    const char *h = conn ? PQhost(conn) : NULL, *p = conn ? PQport(conn) : NULL;
    snprintf(w->where, sizeof w->where, "%s:%s", h && *h ? h : "localhost", p && *p ? p : "5432");
    if (conn) PQsetnonblocking(conn, 1);
}

void pgw_abandon(struct pgw *w)
{
    if (w->dead) return;
    w->dead = 1;
    int fd = w->conn ? PQsocket(w->conn) : -1;
    if (fd >= 0) shutdown(fd, SHUT_RDWR);   /* PQfinish then cannot block on a full socket */
}

static int fail(struct pgw *w)
{
    pgw_abandon(w);
    return -1;
}

/* ---- the liveness probe ------------------------------------------------------------------ */

/* Wait for fd (events) one tick; 1 ready, 0 not yet, -1 poll failed. */
static int wait_fd(int fd, short events, int ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int r = poll(&p, 1, ms);
    if (r < 0) return errno == EINTR ? 0 : -1;
    return r > 0;
}

/* Has the caller of w's call asked to give up (the probe's connect)? */
static int hook_says_stop(struct pgw *w)
{
    return w && (atomic_load(&w->cancel) ||
                 (w->hook && pthread_equal(pthread_self(), w->owner) && w->hook(w->hook_ctx)));
}

void pgw_cancel(struct pgw *w)
{
    atomic_store(&w->cancel, 1);
}

/* A server NOTICE ("schema ... already exists, skipping", a trigger's RAISE
 * NOTICE) is not for the operator, and libpq's default prints it on stderr,
 * which is the console's screen while curses owns it: dropped. */
static void drop_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* pgw_connect; parent: the call a probe serves, whose hook is asked too. */
static PGconn *connect_for(const char *const *kw, const char *const *val, atomic_int *stop,
                           struct pgw *parent, int timeout_s, char *err, size_t errlen)
{
    PGconn *c = PQconnectStartParams(kw, val, 1);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    PQsetNoticeProcessor(c, drop_notice, NULL);
    if (timeout_s <= 0) {                       /* the dsn's connect_timeout, else 10 s */
        PQconninfoOption *o = PQconninfo(c);
        for (PQconninfoOption *p = o; p && p->keyword; p++)
            if (strcmp(p->keyword, "connect_timeout") == 0 && p->val) timeout_s = atoi(p->val);
        PQconninfoFree(o);
        if (timeout_s <= 0) timeout_s = 10;
        if (timeout_s < 2) timeout_s = 2;       /* as libpq */
    }
    int64_t end = zclock_mono_ms() + (int64_t)timeout_s * 1000;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (PQstatus(c) != CONNECTION_BAD && st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        if (stop && atomic_load(stop)) {
            snprintf(err, errlen, "stopped while connecting");
            goto fail;
        }
        if (hook_says_stop(parent)) {
            parent->gave_up = 1;
            snprintf(err, errlen, "given up for an operator command while connecting");
            goto fail;
        }
        if (zclock_mono_ms() >= end) {
            snprintf(err, errlen, "no answer within %d s", timeout_s);
            goto fail;
        }
        int r = wait_fd(PQsocket(c), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, PGW_TICK_MS);
        if (r < 0) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            goto fail;
        }
        if (r > 0) st = PQconnectPoll(c);
    }
    if (PQstatus(c) == CONNECTION_OK) return c;
    snprintf(err, errlen, "%s", PQerrorMessage(c));
    one_line(err);
fail:
    /* Never blocks: the socket is shut down before PQfinish says goodbye. */
    if (PQsocket(c) >= 0) shutdown(PQsocket(c), SHUT_RDWR);
    PQfinish(c);
    return NULL;
}

PGconn *pgw_connect(const char *const *kw, const char *const *val, atomic_int *stop,
                    int timeout_s, char *err, size_t errlen)
{
    return connect_for(kw, val, stop, NULL, timeout_s, err, errlen);
}

/* Did our own connection get bytes after all (within ms)? The probe saw
 * our session idle: its answer may just be on its way. */
static int answer_arrives(struct pgw *w, int ms)
{
    int fd = PQsocket(w->conn);
    return fd >= 0 && wait_fd(fd, POLLIN, ms) > 0;
}

enum { PROBE_ALIVE = 0, PROBE_DEAD = -1 };

/* silent_s: how long our connection has been quiet. PROBE_ALIVE, or
 * PROBE_DEAD with w->err (the connection abandoned by the caller). */
static int probe(struct pgw *w, long long silent_s)
{
    const char *kw[] = {"fallback_application_name", "dbname", NULL};
    const char *val[] = {"zetl probe", w->dsn ? w->dsn : "", NULL};
    char e[400];
    int64_t t0 = zclock_mono_ms();
    PGconn *c = connect_for(kw, val, w->stop, w, PGW_PROBE_MS / 1000, e, sizeof e);
    if (!c) {
        if ((w->stop && atomic_load(w->stop)) || w->gave_up) {
            w->gave_up = 1;
            snprintf(w->err, sizeof w->err, "target %s: %s", w->where,
                     w->stop && atomic_load(w->stop) ? "stopped while waiting for an answer" : e);
            return PROBE_DEAD;
        }
        snprintf(w->err, sizeof w->err, "target %s unreachable: no answer for %lld s, and a new connection failed (%.160s)",
                 w->where, silent_s, e);
        return PROBE_DEAD;
    }
    if (!w->check_session) {            /* reachable: a long statement, as far as we can tell */
        PQfinish(c);
        return PROBE_ALIVE;
    }
    struct pgw side;
    pgw_init(&side, c, NULL, w->stop, w->hook, w->hook_ctx);
    side.owner = w->owner;              /* the hook runs on its own thread only */
    side.deadline_ms = PGW_PROBE_MS - (int)(zclock_mono_ms() - t0);
    if (side.deadline_ms < 1000) side.deadline_ms = 1000;
    char pid[16];
    snprintf(pid, sizeof pid, "%d", PQbackendPID(w->conn));
    const char *v[1] = {pid};
    PGresult *r = pgw_query_params(&side, PQserverVersion(c) >= 90600
        ? "SELECT state, coalesce(wait_event_type, ''), coalesce(wait_event, '') FROM pg_catalog.pg_stat_activity WHERE pid = $1"
        : "SELECT state, '', '' FROM pg_catalog.pg_stat_activity WHERE pid = $1", 1, v, NULL);
    int rv = PROBE_ALIVE, kill = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK && side.gave_up) {
        w->gave_up = 1;
        snprintf(w->err, sizeof w->err, "%s", side.err);
        rv = PROBE_DEAD;
    } else if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        if (side.err[0]) {              /* connected, then no answer: as unreachable */
            snprintf(w->err, sizeof w->err, "target %s unreachable: no answer for %lld s (%.160s)",
                     w->where, silent_s, side.err);
            rv = PROBE_DEAD;
        }                               /* else the catalog cannot be read: cannot tell, wait on */
    } else if (answer_arrives(w, 0)) {
        rv = PROBE_ALIVE;               /* it answered while we asked */
    } else if (PQntuples(r) == 0) {
        snprintf(w->err, sizeof w->err, "target %s: connection lost: no answer for %lld s, and the server no longer has our session (backend %s)",
                 w->where, silent_s, pid);
        rv = PROBE_DEAD;
    } else if ((strcmp(PQgetvalue(r, 0, 0), "active") != 0 || strcmp(PQgetvalue(r, 0, 1), "Client") == 0) &&
               !answer_arrives(w, 1000)) {   /* a statement that just ended: its answer is on the way */
        snprintf(w->err, sizeof w->err, "target %s: connection lost: no answer for %lld s, and the server sees our session (backend %s) %s%s%s; it was terminated",
                 w->where, silent_s, pid, PQgetvalue(r, 0, 0),
                 PQgetvalue(r, 0, 2)[0] ? " waiting on " : "", PQgetvalue(r, 0, 2));
        rv = PROBE_DEAD;
        kill = 1;
    }
    PQclear(r);
    if (kill) {                         /* its locks would hold up the retry */
        side.deadline_ms = 2000;
        PQclear(pgw_query_params(&side, "SELECT pg_catalog.pg_terminate_backend($1)", 1, v, NULL));
    }
    pgw_abandon(&side);
    PQfinish(c);
    return rv;
}

/* ---- what a silent call waits on ----------------------------------------------------------- */

void pgw_scrub_query(const char *q, char *out, size_t len)
{
    static const char *const secret[] = {"password", "secret"};
    size_t n = 0, cut = (size_t)-1;
    if (!len) return;
    out[0] = '\0';
    if (!q || len < 16) return;
    for (size_t i = 0; q[i] && cut == (size_t)-1; i++)
        for (size_t k = 0; k < sizeof secret / sizeof secret[0]; k++)
            if (strncasecmp(q + i, secret[k], strlen(secret[k])) == 0) cut = i;
    const char *hidden = "(hidden)", *more = "\xe2\x80\xa6";     /* … */
    size_t room = len - 1 - (strlen(hidden) + 1);   /* the tail always fits */
    int space = 0;
    for (size_t i = 0; q[i] && i < cut; i++) {
        unsigned char c = (unsigned char)q[i];
        if (isspace(c) || c < 0x20) {               /* one line, runs of blanks as one */
            if (space || n == 0) continue;
            space = 1;
            c = ' ';
        } else {
            space = 0;
        }
        if (n + 1 > room || (n + 4 > room && c >= 0xc0)) {    /* no half character */
            while (n && ((unsigned char)out[n - 1] & 0xc0) == 0x80) n--;
            if (n && (unsigned char)out[n - 1] >= 0xc0) n--;
            memcpy(out + n, more, 3);
            n += 3;
            cut = (size_t)-1;
            break;
        }
        out[n++] = (char)c;
    }
    if (cut != (size_t)-1) {
        if (n && out[n - 1] != ' ') out[n++] = ' ';
        memcpy(out + n, hidden, strlen(hidden));
        n += strlen(hidden);
    }
    out[n] = '\0';
}

/* The wait is over: the reporter hears so once. */
static void end_call(struct pgw *w)
{
    if (!w->reported) return;
    w->reported = 0;
    if (w->report && pthread_equal(pthread_self(), w->owner)) w->report(w->report_ctx, NULL);
}

/* Tell w->report what the call (silent for a while) waits on: one side query
 * on a connection of its own. 0, or -1 when it was given up for stop or the
 * hook (w->gave_up: the caller gives the call up). *again 0: do not ask again
 * in this call (the side connection failed: the liveness probe decides). */
static int report_wait(struct pgw *w, int64_t start, int *again)
{
    struct pgw_wait wt = {
        .waited_ms = (int)(zclock_mono_ms() - start), .stmt = w->stmt, .our_state = "", .our_event = "",
        .holders = -1, .user = "", .state = "", .query = "", .holder_age_ms = -1,
    };
    *again = 1;
    if (!w->check_session) {            /* Redshift: nothing to ask; said once */
        wt.note = "Redshift has no pg_blocking_pids: a session holding a lock cannot be shown";
        w->report(w->report_ctx, &wt);
        w->reported = 1;
        *again = 0;
        return 0;
    }
    const char *kw[] = {"fallback_application_name", "dbname", NULL};
    const char *val[] = {"zetl probe", w->dsn ? w->dsn : "", NULL};
    char e[400], note[480], q[256];
    PGconn *c = connect_for(kw, val, w->stop, w, 2, e, sizeof e);
    if (!c) {
        if ((w->stop && atomic_load(w->stop)) || w->gave_up) {
            w->gave_up = 1;
            snprintf(w->err, sizeof w->err, "target %s: %s", w->where,
                     w->stop && atomic_load(w->stop) ? "stopped while waiting for an answer" : e);
            return -1;
        }
        snprintf(note, sizeof note, "the server could not be asked what the statement waits on: %.400s", e);
        wt.note = note;
        w->report(w->report_ctx, &wt);
        w->reported = 1;
        *again = 0;
        return 0;
    }
    struct pgw side;
    pgw_init(&side, c, NULL, w->stop, w->hook, w->hook_ctx);
    side.owner = w->owner;
    side.deadline_ms = PGW_REPORT_QUERY_MS;
    PQsetNoticeProcessor(c, NULL, NULL);
    char pid[16];
    snprintf(pid, sizeof pid, "%d", PQbackendPID(w->conn));
    const char *v[1] = {pid};
    PGresult *r = NULL;
    if (PQserverVersion(c) >= 90600)
        r = pgw_query_params(&side,
            "SELECT a.state, coalesce(a.wait_event_type || ':' || a.wait_event, ''),"
            " pg_catalog.cardinality(pg_catalog.pg_blocking_pids(a.pid)), b.pid,"
            " coalesce(b.usename::text, ''), coalesce(b.state, ''),"
            " coalesce((extract(epoch FROM pg_catalog.now() - b.xact_start) * 1000)::bigint, -1),"
            " coalesce(pg_catalog.left(b.query, 400), '')"
            " FROM pg_catalog.pg_stat_activity a LEFT JOIN LATERAL ("
            "  SELECT s.pid, s.usename, s.state, s.xact_start, s.query FROM pg_catalog.pg_stat_activity s"
            "  WHERE s.pid = ANY (pg_catalog.pg_blocking_pids(a.pid))"
            "  ORDER BY s.xact_start NULLS LAST, s.pid LIMIT 1) b ON true"
            " WHERE a.pid = $1", 1, v, NULL);
    else
        wt.note = "this server (before PostgreSQL 9.6) has no pg_blocking_pids: a session holding a lock cannot be shown";
    if (side.gave_up) {
        PQclear(r);
        pgw_abandon(&side);
        PQfinish(c);
        w->gave_up = 1;
        snprintf(w->err, sizeof w->err, "%s", side.err);
        return -1;
    }
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        wt.our_state = PQgetvalue(r, 0, 0);
        wt.our_event = PQgetvalue(r, 0, 1);
        wt.holders = atoi(PQgetvalue(r, 0, 2));
        if (!PQgetisnull(r, 0, 3)) {
            wt.pid = atoi(PQgetvalue(r, 0, 3));
            wt.user = PQgetvalue(r, 0, 4);
            wt.state = PQgetvalue(r, 0, 5);
            wt.holder_age_ms = atoll(PQgetvalue(r, 0, 6));
            pgw_scrub_query(PQgetvalue(r, 0, 7), q, sizeof q);
            wt.query = q;
        }
    } else if (!wt.note) {
        snprintf(note, sizeof note, "the server could not say what the statement waits on: %.400s",
                 side.err[0] ? side.err : r ? PQresultErrorMessage(r) : PQerrorMessage(c));
        one_line(note);
        wt.note = note;
    }
    w->report(w->report_ctx, &wt);
    w->reported = 1;
    PQclear(r);
    pgw_abandon(&side);
    PQfinish(c);
    return 0;
}

/* ---- the wait ------------------------------------------------------------------------------ */

struct call {
    int64_t start, last, last_hook;
    int64_t next_report;        /* mono ms the report may run again; 0: not in this call */
};

/* Between ticks: give up for stop, the hook, the deadline or a dead link.
 * 0 go on, -1 given up (w->err, the connection abandoned). */
static int call_check(struct pgw *w, struct call *k)
{
    int64_t now = zclock_mono_ms();
    if (now - k->start >= PGW_GRACE_MS) {
        if (w->stop && atomic_load(w->stop)) {
            snprintf(w->err, sizeof w->err, "target %s: stopped while waiting for an answer", w->where);
            w->gave_up = 1;
            return fail(w);
        }
        if (atomic_load(&w->cancel)) {
            snprintf(w->err, sizeof w->err, "target %s: given up for an operator command while waiting for an answer", w->where);
            w->gave_up = 1;
            return fail(w);
        }
        if (w->hook && pthread_equal(pthread_self(), w->owner) && now - k->last_hook >= PGW_TICK_MS) {
            k->last_hook = now;
            if (w->hook(w->hook_ctx)) {
                snprintf(w->err, sizeof w->err, "target %s: given up for an operator command while waiting for an answer", w->where);
                w->gave_up = 1;
                return fail(w);
            }
        }
    }
    if (w->report && k->next_report && now - k->last >= PGW_REPORT_MS && now >= k->next_report &&
        pthread_equal(pthread_self(), w->owner)) {
        int again;
        if (report_wait(w, k->start, &again) != 0) return fail(w);
        k->next_report = again ? zclock_mono_ms() + PGW_REPORT_EVERY_MS : 0;
        now = zclock_mono_ms();
    }
    if (w->deadline_ms > 0) {
        if (now - k->start >= w->deadline_ms) {
            snprintf(w->err, sizeof w->err, "no answer from %s within %d ms", w->where, w->deadline_ms);
            return fail(w);
        }
        return 0;
    }
    if (now - k->last >= w->silent_ms) {
        if (probe(w, (now - k->last) / 1000) != PROBE_ALIVE) {
            pgw_abandon(w);
            return -1;
        }
        k->last = zclock_mono_ms();            /* a long statement: probe again later */
    }
    return 0;
}

/* One tick on the socket: read what came (1 when anything moved), 0 quiet, -1 failed. */
static int call_tick(struct pgw *w, short events)
{
    int fd = PQsocket(w->conn);
    if (fd < 0) {
        snprintf(w->err, sizeof w->err, "target %s: connection lost", w->where);
        pgw_abandon(w);
        return -1;
    }
    struct pollfd p = {.fd = fd, .events = events | POLLIN};
    int r = poll(&p, 1, PGW_TICK_MS);
    if (r < 0 && errno != EINTR) {
        snprintf(w->err, sizeof w->err, "target %s: poll: %s", w->where, strerror(errno));
        pgw_abandon(w);
        return -1;
    }
    if (r <= 0) return 0;
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && !PQconsumeInput(w->conn)) {
        snprintf(w->err, sizeof w->err, "target %s: connection lost: %s", w->where, PQerrorMessage(w->conn));
        one_line(w->err);
        pgw_abandon(w);
        return -1;
    }
    return 1;
}

static int begin_call(struct pgw *w, struct call *k)
{
    w->err[0] = '\0';
    k->start = k->last = k->last_hook = zclock_mono_ms();
    k->next_report = 1;
    if (w->dead) {
        snprintf(w->err, sizeof w->err, "target %s: the connection was given up (no answer, stop or command)", w->where);
        return -1;
    }
    return 0;
}

/* Send what libpq holds: 0 all sent, -1 failed. */
static int flush_out(struct pgw *w, struct call *k)
{
    for (;;) {
        int f = PQflush(w->conn);
        if (f == 0) return 0;
        if (f < 0) {
            snprintf(w->err, sizeof w->err, "target %s: connection lost: %s", w->where, PQerrorMessage(w->conn));
            one_line(w->err);
            pgw_abandon(w);
            return -1;
        }
        int t = call_tick(w, POLLOUT);
        if (t < 0) return -1;
        if (t > 0) k->last = zclock_mono_ms();
        if (call_check(w, k) != 0) return -1;   /* even while bytes trickle: stop, commands */
    }
}

static int wait_result(struct pgw *w, struct call *k, PGresult **out)
{
    *out = NULL;
    while (PQisBusy(w->conn)) {
        int t = call_tick(w, 0);
        if (t < 0) return -1;
        if (t > 0) k->last = zclock_mono_ms();
        if (call_check(w, k) != 0) return -1;
    }
    *out = PQgetResult(w->conn);
    return 0;
}

int pgw_result(struct pgw *w, PGresult **out)
{
    struct call k;
    *out = NULL;
    int rc = begin_call(w, &k) != 0 || flush_out(w, &k) != 0 ? -1 : wait_result(w, &k, out);
    end_call(w);
    return rc;
}

static PGresult *finish_query(struct pgw *w, struct call *k)
{
    PGresult *last = NULL, *r;
    if (flush_out(w, k) != 0) return NULL;
    for (;;) {
        if (wait_result(w, k, &r) != 0) {
            PQclear(last);
            return NULL;
        }
        if (!r) break;
        PQclear(last);
        last = r;
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH ||
            PQstatus(w->conn) == CONNECTION_BAD)
            break;
    }
    return last;
}

/* Results a caller left unread are read and dropped first, as PQexec does. */
static int drain(struct pgw *w, struct call *k)
{
    PGresult *r;
    while (PQtransactionStatus(w->conn) == PQTRANS_ACTIVE) {
        if (wait_result(w, k, &r) != 0) return -1;
        if (!r) break;
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) break;
    }
    return 0;
}

/* The statement's start, on one line, for a report (identifiers only: values
 * are parameters or COPY data, never in our SQL text). */
static void keep_stmt(struct pgw *w, const char *sql)
{
    size_t n = 0;
    while (*sql == ' ' || *sql == '\n') sql++;
    for (; sql[n] && n < sizeof w->stmt - 1; n++)
        w->stmt[n] = sql[n] == '\n' || sql[n] == '\t' ? ' ' : sql[n];
    w->stmt[n] = '\0';
}

PGresult *pgw_query(struct pgw *w, const char *sql)
{
    struct call k;
    PGresult *r = NULL;
    if (begin_call(w, &k) == 0 && drain(w, &k) == 0) {
        if (w->report) keep_stmt(w, sql);
        if (PQsendQuery(w->conn, sql)) r = finish_query(w, &k);
    }
    end_call(w);
    return r;
}

PGresult *pgw_query_params(struct pgw *w, const char *sql, int nparams,
                           const char *const *values, const int *lengths)
{
    struct call k;
    PGresult *r = NULL;
    if (begin_call(w, &k) == 0 && drain(w, &k) == 0) {
        if (w->report) keep_stmt(w, sql);
        if (PQsendQueryParams(w->conn, sql, nparams, NULL, values, lengths, NULL, 0))
            r = finish_query(w, &k);
    }
    end_call(w);
    return r;
}

/* The results of the pipeline's n statements, then its Sync. */
static int pipeline_results(struct pgw *w, struct call *k, int n, PGresult **res)
{
    PGresult *r;
    for (int i = 0; i < n; i++) {
        for (;;) {                      /* a statement's results end with a NULL */
            if (wait_result(w, k, &r) != 0) return -1;
            if (!r) break;
            PQclear(res[i]);
            res[i] = r;
        }
        if (!res[i]) return -1;
    }
    if (wait_result(w, k, &r) != 0) return -1;
    int synced = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    return synced ? 0 : -1;
}

int pgw_pipeline(struct pgw *w, int n, const struct pgw_stmt *st, PGresult **res)
{
    struct call k;
    int rc = -1;
    for (int i = 0; i < n; i++) res[i] = NULL;
    if (begin_call(w, &k) == 0 && drain(w, &k) == 0 && PQenterPipelineMode(w->conn)) {
        int sent = 1, named = 0;
        for (int i = 0; i < n && sent; i++) {
            /* A wait report names the first statement that does work (not BEGIN). */
            if (w->report && !named && (i == n - 1 || strcmp(st[i].sql, "BEGIN") != 0)) {
                keep_stmt(w, st[i].sql);
                named = 1;
            }
            sent = PQsendQueryParams(w->conn, st[i].sql, st[i].nparams, NULL, st[i].values, st[i].lengths, NULL, 0);
        }
        if (sent && PQpipelineSync(w->conn) && flush_out(w, &k) == 0 && pipeline_results(w, &k, n, res) == 0 &&
            PQexitPipelineMode(w->conn))
            rc = 0;
    }
    end_call(w);
    if (rc != 0) {
        if (!w->err[0])
            snprintf(w->err, sizeof w->err, "target %s: pipeline: %s", w->where, PQerrorMessage(w->conn));
        one_line(w->err);
        pgw_abandon(w);                 /* a pipeline left half read is no place to go on */
        for (int i = 0; i < n; i++) {
            PQclear(res[i]);
            res[i] = NULL;
        }
    }
    return rc;
}

static int put_copy(struct pgw *w, const char *buf, size_t len)
{
    struct call k;
    if (begin_call(w, &k) != 0) return -1;
    while (len) {
        int n = len > (1u << 20) ? (int)(1u << 20) : (int)len;
        int r = PQputCopyData(w->conn, buf, n);
        if (r < 0) return -1;
        if (r == 1) {
            buf += n;
            len -= (size_t)n;
        }
        /* Sent before the next chunk: libpq's buffer stays about a chunk. */
        if (flush_out(w, &k) != 0) return -1;
    }
    return 0;
}

int pgw_put_copy(struct pgw *w, const char *buf, size_t len)
{
    int rc = put_copy(w, buf, len);
    end_call(w);
    return rc;
}

static int end_copy(struct pgw *w, const char *errmsg)
{
    struct call k;
    if (begin_call(w, &k) != 0) return -1;
    for (;;) {
        int r = PQputCopyEnd(w->conn, errmsg);
        if (r < 0) return -1;
        if (flush_out(w, &k) != 0) return -1;
        if (r == 1) return 0;
    }
}

int pgw_end_copy(struct pgw *w, const char *errmsg)
{
    int rc = end_copy(w, errmsg);
    end_call(w);
    return rc;
}
