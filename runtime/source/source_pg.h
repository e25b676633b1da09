/*
 * source_pg.h — internal to the PostgreSQL source driver (source_pg.c): its
 * connections (source_conn.c) and its reader (source_pgstream.c).
 *
 * Every wait on the source is bounded (pg/pgwait.h): by a stop flag, and by
 * a silence deadline after which the server is probed (probe_ci) or given up
 * on. Thread: the caller's.
 */
#ifndef ZETL_SOURCE_PG_H
#define ZETL_SOURCE_PG_H

#include <stdatomic.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "runtime/pipe/change.h"
#include "runtime/pg/pgwait.h"

struct integ;

/*
 * libpq conninfo for a PostgreSQL source (host, port, dbname, user, the
 * password from config_password, sslmode from tls), values quoted. Holds a
 * secret: never print it. 0, or -1 with err.
 */
int  source_pg_conninfo(const struct integ *in, char *buf, size_t len, char *err, size_t errlen);
/* Waits stopped by *stop, given up on after PGWAIT_SILENCE_MS of silence
 * unless a probe with probe_ci (a conninfo, or NULL: no probe) finds our
 * backend alive. */
struct pgwait source_pg_wait(const atomic_int *stop, const char *probe_ci);
/* A SQL connection with the stream's output settings; NULL with err. */
PGconn *source_pg_sql_connect(const struct integ *in, const struct pgwait *w, char *err, size_t errlen);
/* PQfinish; dead: pgwait_abandon (no goodbye into a dead link). */
void source_pg_sql_close(PGconn *c, int dead);
/*
 * A walsender of this process on the integration's slot (0: none): one it may
 * have to give up on. source_pg_slot_reclaim then finds the slot still held
 * by it — a dead link leaves it there for wal_sender_timeout, an idle one
 * for ever — ends it (pg_terminate_backend) and waits up to 5 s for the
 * slot to be free. 1 the slot exists, 0 it does not, -1 with err.
 */
void source_pg_slot_holder(const char *slot, int pid);
int  source_pg_slot_reclaim(struct integ *in, PGconn *sql, const struct pgwait *w, char *err, size_t errlen);
/* source_stream for a PostgreSQL source. */
int source_pg_stream(struct integ *in, const struct zsink *sink, char *err, size_t errlen);

#endif
