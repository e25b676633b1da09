/*
 * pgwait.h — every wait on a target's libpq connection, with a deadline.
 *
 * libpq's blocking calls (PQconnectdb, PQexec, PQgetResult, PQputCopyData on
 * a full socket) wait for ever on a link that died without a FIN or an RST:
 * a blackholing firewall or proxy, a frozen server, a vanished host. TCP
 * keepalives do not notice when something on the path still ACKs. So a
 * target connection is non-blocking and every wait on it goes through here:
 *
 *   - a poll on the socket in ticks of PGW_TICK_MS;
 *   - once a call has waited PGW_GRACE_MS, each tick looks at the stop flag
 *     and asks the hook (operator commands): either gives the call up, so a
 *     stop or a command is answered within about a second, and a healthy
 *     call is never cut short by one;
 *   - after PGW_SILENT_MS without a byte either way, a liveness probe on a
 *     side connection (its own deadline, PGW_PROBE_MS):
 *       it cannot connect                    → dead: "unreachable"
 *       the server no longer has our session → dead: "connection lost"
 *       our session is idle, or blocked on
 *       the network (ClientRead/ClientWrite) → dead: "connection lost" (the
 *                                              side connection terminates
 *                                              that session: its locks go)
 *       our session runs the statement       → a long statement: wait on,
 *                                              probe again PGW_SILENT_MS later
 *     So a dead link is noticed PGW_SILENT_MS to PGW_SILENT_MS + PGW_PROBE_MS
 *     after its last byte, and a long COMMIT or COPY is never taken for one.
 *     (Redshift has no pg_stat_activity pid check: there only "unreachable".)
 *   - after PGW_REPORT_MS without a byte, what the call waits on is told to
 *     w->report (when set; on the owner's thread), again every
 *     PGW_REPORT_EVERY_MS while it lasts, and report(NULL) once the call
 *     ends: one side query (its own deadline, PGW_REPORT_QUERY_MS) reads
 *     our session and the sessions blocking it (pg_blocking_pids joined to
 *     pg_stat_activity): a lock wait names the holder, else it is a long
 *     statement. Redshift has no pg_blocking_pids: there the report says
 *     so, without a query. A healthy call answers within PGW_REPORT_MS and
 *     costs nothing more; a failed side connection is reported once and
 *     left to the liveness probe.
 *   - a connection given up (dead, stop, command) is abandoned: its socket is
 *     shut down, so PQfinish never blocks on it, and every later call on it
 *     fails at once.
 *
 * Failures leave a one-line reason in w->err (no password: w->where is
 * host:port). Thread: a struct pgw belongs to the thread using its
 * connection at the time; the hook runs only on the thread that set it
 * (w->owner), so a handle lent to a helper thread never runs it there.
 */
#ifndef ZETL_PGWAIT_H
#define ZETL_PGWAIT_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define PGW_TICK_MS    200
#define PGW_GRACE_MS   800      /* a call this old may be given up for stop or a command */
#define PGW_SILENT_MS  10000    /* no byte for this long: probe */
#define PGW_PROBE_MS   5000     /* the probe's connect + query */
#define PGW_REPORT_MS  2000     /* no byte for this long: report what the call waits on */
#define PGW_REPORT_EVERY_MS 3000    /* ... again while it lasts */
#define PGW_REPORT_QUERY_MS 1500    /* the report's side query (after its connect, 2 s at most) */

/* What a silent call waits on (pgw.report); strings are valid during the call. */
struct pgw_wait {
    int         waited_ms;      /* since the call began */
    const char *stmt;           /* our statement, its start on one line ("" unknown) */
    const char *our_state;      /* our session in pg_stat_activity: "active", "" unknown */
    const char *our_event;      /* its wait event: "Lock:relation", "" none */
    int         holders;        /* sessions blocking ours, -1 unknown (see note) */
    int         pid;            /* the first holder (oldest transaction), 0 none */
    const char *user, *state;   /* its user and state ("idle in transaction") */
    const char *query;          /* its query: one line, cut, secrets hidden (pgw_scrub_query) */
    long long   holder_age_ms;  /* how long its transaction has run, -1 unknown */
    const char *note;           /* why holders is -1, or NULL */
};

struct pgw {
    PGconn     *conn;
    const char *dsn;            /* the probe's side connection (borrowed; may hold a password) */
    char        where[96];      /* "host:port" for messages */
    atomic_int *stop;           /* set: give up (may be NULL) */
    int       (*hook)(void *ctx);   /* non-zero: give up (operator command); may be NULL */
    void       *hook_ctx;
    pthread_t   owner;          /* the only thread that runs hook */
    int         check_session;  /* 1: the probe checks our backend in pg_stat_activity */
    int         deadline_ms;    /* >0: fail a call after this long, no probe (the probe's own) */
    int         silent_ms;      /* PGW_SILENT_MS */
    int         dead;           /* abandoned: every call fails */
    int         gave_up;        /* abandoned for stop or the hook (not the link) */
    atomic_int  cancel;         /* pgw_cancel: give up, from any thread */
    void      (*report)(void *ctx, const struct pgw_wait *wt);  /* a silent call; NULL: it ended */
    void       *report_ctx;
    int         reported;       /* report told of a wait in this call */
    char        stmt[128];      /* the statement of the last query, for the report */
    char        err[512];       /* why the last call failed, "" when it did not fail here */
};

/* Fill w for conn (made non-blocking); owner = the calling thread. */
void pgw_init(struct pgw *w, PGconn *conn, const char *dsn, atomic_int *stop,
              int (*hook)(void *), void *hook_ctx);

/*
 * Connect without blocking: PQconnectStartParams(kw, val, expand 1), then
 * polled, given up after timeout_s (the dsn's connect_timeout when it sets
 * one: pass 0) or when *stop is set. NULL with err on failure (a message
 * without the password: libpq's own, or the timeout).
 */
PGconn *pgw_connect(const char *const *kw, const char *const *val, atomic_int *stop,
                    int timeout_s, char *err, size_t errlen);

/* As PQexec / PQexecParams: the last result (a COPY_IN result ends the
 * loop). NULL: the call failed (w->err, or libpq's message when w->err is ""). */
PGresult *pgw_query(struct pgw *w, const char *sql);
PGresult *pgw_query_params(struct pgw *w, const char *sql, int nparams,
                           const char *const *values, const int *lengths);
/* Statements sent together in one round trip (libpq's pipeline mode: each
 * with its parameters, one Sync after the last), their results read in
 * order into res[0..n-1]: each its statement's last result, or
 * PGRES_PIPELINE_ABORTED for those after one that failed (in a transaction
 * block the block is then failed, as after any error: the caller rolls back).
 * 0, or -1 when the call failed (w->err; the connection is abandoned and
 * every res[i] is NULL). The caller clears the results. */
struct pgw_stmt {
    const char        *sql;
    int                nparams;
    const char *const *values;
    const int         *lengths;     /* NULL: text values */
};
int  pgw_pipeline(struct pgw *w, int n, const struct pgw_stmt *st, PGresult **res);
/* COPY data and its end (errmsg non-NULL: abort the COPY); 0 or -1. */
int  pgw_put_copy(struct pgw *w, const char *buf, size_t len);
int  pgw_end_copy(struct pgw *w, const char *errmsg);
/* The next result: 0 with *out (NULL when there are no more), -1 failed. */
int  pgw_result(struct pgw *w, PGresult **out);
/* From any thread: the call in flight (or the next) gives up as for stop. */
void pgw_cancel(struct pgw *w);
/* Give the connection up (shut its socket down); idempotent. */
void pgw_abandon(struct pgw *w);
/* A query text another session runs, made fit to show: one line, at most
 * len-1 bytes (cut at a character, "…" added), and from the first
 * "password" or "secret" (any case) on replaced by "(hidden)". */
void pgw_scrub_query(const char *q, char *out, size_t len);

#endif
