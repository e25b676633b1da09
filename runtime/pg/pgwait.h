/*
 * pgwait.h — waits on a PostgreSQL source connection that always end.
 *
 * libpq's blocking calls (PQconnectdb, PQexec, PQgetCopyData(…, 0),
 * PQgetResult) wait for the server without limit. A peer that vanished
 * without a FIN or an RST — a dead host, a dropped NAT flow, a frozen server,
 * a middlebox that still ACKs — holds them forever, and TCP keepalives do not
 * notice while something still ACKs. The waits here instead:
 *
 *   - tick every PGWAIT_TICK_MS and end with PGWAIT_STOPPED once *stop is
 *     set (so SIGTERM is answered whatever the server does);
 *   - after silence_ms without a byte from the server while an answer is
 *     due, probe: a side connection (probe_ci, PGWAIT_PROBE_MS at most)
 *     looks up our backend (PQbackendPID) in pg_stat_activity. Found, and not
 *     blocked sending to us (ClientWrite, WalSenderWriteData): the server is
 *     busy with a long request (a lock wait, a big sort before COPY's first
 *     row) and the wait goes on for another silence_ms. Gone, blocked
 *     sending, or no answer at all: the link is dead, PGWAIT_FAILED.
 *     Without probe_ci the silence alone fails the wait.
 *
 * A NULL struct pgwait means the old behaviour: no stop, no deadline.
 * Messages name the server as host:port (never the conninfo, which may hold
 * a password). A connection a wait gave up on must be closed with
 * pgwait_abandon: PQfinish alone may block writing to the dead peer.
 *
 * Thread: any; a PGconn belongs to the calling thread. *stop may be set by
 * any thread.
 */
#ifndef ZETL_PG_PGWAIT_H
#define ZETL_PG_PGWAIT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#define PGWAIT_TICK_MS     200
#define PGWAIT_SILENCE_MS  15000    /* + PGWAIT_PROBE_MS: a dead link is noticed in ~20 s */
#define PGWAIT_PROBE_MS    5000
#define PGWAIT_CONNECT_MS  10000    /* a connection attempt, when no timeout is given */

enum { PGWAIT_OK = 0, PGWAIT_FAILED = -1, PGWAIT_STOPPED = -2 };

struct pgwait {
    const atomic_int *stop;     /* optional: non-zero ends a wait with PGWAIT_STOPPED */
    int         silence_ms;     /* 0: PGWAIT_SILENCE_MS */
    const char *probe_ci;       /* conninfo for the probe (a secret, never printed); NULL: none */
};

/*
 * Connects without blocking past timeout_ms (0: PGWAIT_CONNECT_MS) or *stop.
 * keys/vals as PQconnectdbParams with expand_dbname 1. NULL with err set
 * ("cannot connect to host:port: why"); on PGWAIT_STOPPED err says so.
 */
PGconn *pgwait_connect(const char *const *keys, const char *const *vals, const struct pgwait *w,
                       int timeout_ms, char *err, size_t errlen);

/*
 * Waits until more input has been read into libpq (PQconsumeInput). For a
 * caller whose non-blocking read (PQgetCopyData(…, 1)) returned 0.
 * PGWAIT_OK, PGWAIT_FAILED or PGWAIT_STOPPED with err set.
 */
int pgwait_input(PGconn *c, const struct pgwait *w, char *err, size_t errlen);

/*
 * PQexec / PQexecParams with the waits above: nparams < 0 sends a simple
 * query (replication commands; several statements), otherwise the extended
 * protocol with text parameters. Returns the last result — or the first
 * COPY one — as PQexec does (the caller checks its status and clears it),
 * or NULL with err set (no answer, stopped, connection lost).
 */
PGresult *pgwait_exec(PGconn *c, const struct pgwait *w, const char *sql, int nparams,
                      const char *const *params, char *err, size_t errlen);
/*
 * pgwait_exec in two halves, for a caller that works elsewhere while the
 * server answers: pgwait_send sends (0, or -1 with err), pgwait_collect
 * waits for the answer as pgwait_exec does.
 */
int       pgwait_send(PGconn *c, const char *sql, int nparams, const char *const *params, char *err, size_t errlen);
PGresult *pgwait_collect(PGconn *c, const struct pgwait *w, char *err, size_t errlen);
/* After PQgetCopyData returned -1: the COPY's final result (as PQgetResult), then the rest drained. */
PGresult *pgwait_copy_result(PGconn *c, const struct pgwait *w, char *err, size_t errlen);

/*
 * Is backend pid alive on the server, and not blocked sending to us?
 * 1 yes (busy or idle there); 0 no, with why ("no answer to a new
 * connection within 5 s", "our session is gone", …); PGWAIT_STOPPED.
 */
int pgwait_probe(const char *probe_ci, int pid, const atomic_int *stop, char *why, size_t whylen);

/* Closes c without waiting on its peer: shutdown(2) of its socket, then PQfinish. */
void pgwait_abandon(PGconn *c);

/* "host:port" of c for messages. */
const char *pgwait_where(PGconn *c, char *buf, size_t len);

#endif
