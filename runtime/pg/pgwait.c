/* pgwait.c — waits on a PostgreSQL source connection that always end (see pgwait.h). */
#include "runtime/pg/pgwait.h"
#include "runtime/base/clock.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* libpq's message as one line. */
static const char *pqmsg(PGconn *c, char *buf, size_t len)
{
    snprintf(buf, len, "%s", c ? PQerrorMessage(c) : "out of memory");
    char *o = buf;
    for (const char *p = buf; *p; p++) {
        char ch = (*p == '\n' || *p == '\t' || *p == '\r') ? ' ' : *p;
        if (ch == ' ' && (o == buf || o[-1] == ' ')) continue;
        *o++ = ch;
    }
    while (o > buf && o[-1] == ' ') o--;
    *o = 0;
    return buf;
}

const char *pgwait_where(PGconn *c, char *buf, size_t len)
{
    const char *h = c ? PQhost(c) : NULL, *p = c ? PQport(c) : NULL;
    snprintf(buf, len, "%s:%s", h && *h ? h : "?", p && *p ? p : "5432");
    return buf;
}

static int stopped(const struct pgwait *w)
{
    return w && w->stop && atomic_load(w->stop);
}

void pgwait_abandon(PGconn *c)
{
    if (!c) return;
    int fd = PQsocket(c);
    if (fd >= 0) shutdown(fd, SHUT_RDWR);      /* PQfinish's goodbye then fails at once */
    PQfinish(c);
}

/* A server NOTICE ("schema ... already exists, skipping", a trigger's RAISE
 * NOTICE) is not for the operator, and libpq's default prints it on stderr,
 * which is the console's screen while curses owns it: dropped. */
static void drop_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *pgwait_connect(const char *const *keys, const char *const *vals, const struct pgwait *w,
                       int timeout_ms, char *err, size_t errlen)
{
    char m[400], where[300];
    PGconn *c = PQconnectStartParams(keys, vals, 1);
    if (!c || PQstatus(c) == CONNECTION_BAD) {
        snprintf(err, errlen, "cannot connect to %s: %s", pgwait_where(c, where, sizeof where),
                 pqmsg(c, m, sizeof m));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, drop_notice, NULL);
    int64_t deadline = zclock_mono_ms() + (timeout_ms > 0 ? timeout_ms : PGWAIT_CONNECT_MS);
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    for (;;) {
        if (st == PGRES_POLLING_OK) return c;
        if (st == PGRES_POLLING_FAILED) {
            snprintf(err, errlen, "cannot connect to %s: %s", pgwait_where(c, where, sizeof where),
                     pqmsg(c, m, sizeof m));
            break;
        }
        if (stopped(w)) {
            snprintf(err, errlen, "stopped while connecting to %s", pgwait_where(c, where, sizeof where));
            break;
        }
        int64_t left = deadline - zclock_mono_ms();
        if (left <= 0) {
            snprintf(err, errlen, "cannot connect to %s: no answer within %d s (is the server up and reachable?)",
                     pgwait_where(c, where, sizeof where),
                     (timeout_ms > 0 ? timeout_ms : PGWAIT_CONNECT_MS) / 1000);
            break;
        }
        struct pollfd p = {.fd = PQsocket(c), .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT};
        int pr = poll(&p, 1, (int)(left < PGWAIT_TICK_MS ? left : PGWAIT_TICK_MS));
        if (pr < 0 && errno != EINTR) {
            snprintf(err, errlen, "connecting to %s: poll: %s", pgwait_where(c, where, sizeof where), strerror(errno));
            break;
        }
        if (pr > 0) st = PQconnectPoll(c);
    }
    pgwait_abandon(c);
    return NULL;
}

/*
 * One wait for input of at most PGWAIT_TICK_MS. 1: input was read (*quiet
 * restarts); 0: nothing yet, go on; PGWAIT_FAILED / PGWAIT_STOPPED with err.
 */
static int step(PGconn *c, const struct pgwait *w, int64_t *quiet, char *err, size_t errlen)
{
    char m[400], where[300];
    if (stopped(w)) {
        snprintf(err, errlen, "stopped while waiting for %s", pgwait_where(c, where, sizeof where));
        return PGWAIT_STOPPED;
    }
    struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};
    if (p.fd < 0) {
        snprintf(err, errlen, "connection to %s lost: %s", pgwait_where(c, where, sizeof where), pqmsg(c, m, sizeof m));
        return PGWAIT_FAILED;
    }
    int pr = poll(&p, 1, w ? PGWAIT_TICK_MS : -1);
    if (pr < 0 && errno != EINTR) {
        snprintf(err, errlen, "waiting for %s: poll: %s", pgwait_where(c, where, sizeof where), strerror(errno));
        return PGWAIT_FAILED;
    }
    int64_t now = zclock_mono_ms();
    if (pr > 0) {
        if (!PQconsumeInput(c)) {
            snprintf(err, errlen, "connection to %s lost: %s", pgwait_where(c, where, sizeof where),
                     pqmsg(c, m, sizeof m));
            return PGWAIT_FAILED;
        }
        *quiet = now;
        return 1;
    }
    if (!w || w->silence_ms < 0) return 0;
    int silence = w->silence_ms > 0 ? w->silence_ms : PGWAIT_SILENCE_MS;
    if (now - *quiet < silence) return 0;
    char why[300] = "no liveness probe was possible";
    if (w->probe_ci) {
        int alive = pgwait_probe(w->probe_ci, PQbackendPID(c), w->stop, why, sizeof why);
        if (alive == PGWAIT_STOPPED) {
            snprintf(err, errlen, "stopped while waiting for %s", pgwait_where(c, where, sizeof where));
            return PGWAIT_STOPPED;
        }
        if (alive == 1) {           /* busy with our request: wait on */
            *quiet = zclock_mono_ms();
            return 0;
        }
    }
    snprintf(err, errlen, "no answer from the PostgreSQL server at %s for %d s, and %s: "
             "the network link or the server is dead (zetl reconnects when it answers again)",
             pgwait_where(c, where, sizeof where), (int)((now - *quiet) / 1000), why);
    return PGWAIT_FAILED;
}

int pgwait_input(PGconn *c, const struct pgwait *w, char *err, size_t errlen)
{
    int64_t quiet = zclock_mono_ms();
    for (;;) {
        int r = step(c, w, &quiet, err, errlen);
        if (r == 1) return PGWAIT_OK;
        if (r < 0) return r;
    }
}

/* Waits until a result can be taken without blocking. */
static int until_ready(PGconn *c, const struct pgwait *w, char *err, size_t errlen)
{
    int64_t quiet = zclock_mono_ms();
    while (PQisBusy(c)) {
        int r = step(c, w, &quiet, err, errlen);
        if (r < 0) return r;
    }
    return PGWAIT_OK;
}

/* Results until NULL (or a COPY state); returns the last, as PQexec. */
static PGresult *collect(PGconn *c, const struct pgwait *w, char *err, size_t errlen)
{
    PGresult *last = NULL;
    char m[400];
    for (;;) {
        if (until_ready(c, w, err, errlen) != PGWAIT_OK) {
            PQclear(last);
            return NULL;
        }
        PGresult *r = PQgetResult(c);
        if (!r) break;
        ExecStatusType st = PQresultStatus(r);
        PQclear(last);
        last = r;
        if (st == PGRES_COPY_OUT || st == PGRES_COPY_IN || st == PGRES_COPY_BOTH) break;
        if (PQstatus(c) == CONNECTION_BAD) break;
    }
    if (!last) snprintf(err, errlen, "no result: %s", pqmsg(c, m, sizeof m));
    return last;
}

int pgwait_send(PGconn *c, const char *sql, int nparams, const char *const *params, char *err, size_t errlen)
{
    char m[400], where[300];
    int sent = nparams < 0 ? PQsendQuery(c, sql)
                           : PQsendQueryParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
    if (!sent) {
        snprintf(err, errlen, "sending a query to %s failed: %s", pgwait_where(c, where, sizeof where),
                 pqmsg(c, m, sizeof m));
        return -1;
    }
    return 0;
}

PGresult *pgwait_collect(PGconn *c, const struct pgwait *w, char *err, size_t errlen)
{
    return collect(c, w, err, errlen);
}

PGresult *pgwait_exec(PGconn *c, const struct pgwait *w, const char *sql, int nparams,
                      const char *const *params, char *err, size_t errlen)
{
    if (pgwait_send(c, sql, nparams, params, err, errlen) != 0) return NULL;
    return collect(c, w, err, errlen);
}

PGresult *pgwait_copy_result(PGconn *c, const struct pgwait *w, char *err, size_t errlen)
{
    if (until_ready(c, w, err, errlen) != PGWAIT_OK) return NULL;
    PGresult *r = PQgetResult(c);
    if (!r) {
        char m[400];
        snprintf(err, errlen, "no result after the COPY: %s", pqmsg(c, m, sizeof m));
        return NULL;
    }
    PGresult *rest = collect(c, w, err, errlen);     /* normally none */
    PQclear(rest);
    return r;
}

int pgwait_probe(const char *probe_ci, int pid, const atomic_int *stop, char *why, size_t whylen)
{
    const char *keys[] = {"dbname", "application_name", NULL};
    const char *vals[] = {probe_ci, "zetl probe", NULL};
    struct pgwait pw = {.stop = stop, .silence_ms = PGWAIT_PROBE_MS};
    int64_t t0 = zclock_mono_ms();
    char e[400];
    PGconn *c = pgwait_connect(keys, vals, &pw, PGWAIT_PROBE_MS, e, sizeof e);
    if (!c) {
        if (stop && atomic_load(stop)) return PGWAIT_STOPPED;
        snprintf(why, whylen, "a new connection failed too (%s)", e);
        return 0;
    }
    int left = PGWAIT_PROBE_MS - (int)(zclock_mono_ms() - t0);
    pw.silence_ms = left < 1000 ? 1000 : left;
    char pidtxt[16];
    snprintf(pidtxt, sizeof pidtxt, "%d", pid);
    const char *params[1] = {pidtxt};
    PGresult *r = pgwait_exec(c, &pw, "SELECT coalesce(wait_event, '') FROM pg_catalog.pg_stat_activity "
                                      "WHERE pid = $1::int", 1, params, e, sizeof e);
    int rc = 1;
    if (!r) {
        rc = stop && atomic_load(stop) ? PGWAIT_STOPPED : 0;
        snprintf(why, whylen, "a new connection got no answer to a query within %d s", PGWAIT_PROBE_MS / 1000);
        pgwait_abandon(c);
        return rc;
    }
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        const char *ev = PQntuples(r) ? PQgetvalue(r, 0, 0) : NULL;
        if (!ev) {
            snprintf(why, whylen, "our session (backend pid %d) is gone from the server", pid);
            rc = 0;
        } else if (strcmp(ev, "ClientWrite") == 0 || strcmp(ev, "WalSenderWriteData") == 0) {
            snprintf(why, whylen, "our session (backend pid %d) is blocked sending to us (%s) while nothing arrives",
                     pid, ev);
            rc = 0;
        }
    }
    /* A query error (e.g. no access to pg_stat_activity): the server answers; wait on. */
    PQclear(r);
    PQfinish(c);
    return rc;
}
