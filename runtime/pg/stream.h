/*
 * stream.h — a PostgreSQL logical replication stream (libpq, pgoutput).
 *
 * A pgstream is one walsender connection (replication=database) used in this
 * order:
 *
 *     pgstream_connect → pgstream_identify → [pgstream_create_slot]
 *        → pgstream_start → pgstream_run (until stop or error) → pgstream_close
 *
 * pgstream_run feeds every XLogData payload to a struct pgdec (which drives
 * the zsink), answers keepalives that request a reply at once, and sends a
 * standby status update at least every status_interval_ms. The position it
 * reports as written/flushed/applied is only ever *flushed_lsn: the LSN the
 * applier has durably committed in the target. Never what was merely
 * received: the server may recycle WAL up to what we confirm, so confirming
 * early would lose data on a crash.
 *
 * The connection starts with fixed output settings so every value arrives in
 * one stable text form: DateStyle=ISO, IntervalStyle=postgres, TimeZone=UTC,
 * extra_float_digits=3 (exact floats), bytea_output=hex.
 *
 * The walsender accepts only the simple query protocol, so replication
 * commands (CREATE_REPLICATION_SLOT, START_REPLICATION, DROP_REPLICATION_SLOT)
 * cannot take parameters: slot names are checked against PostgreSQL's own
 * rule ([a-z0-9_], at most 63) and quoted; publication names are quoted as
 * identifiers inside a quoted literal. Everything that is plain SQL — the
 * publication functions, and the catalog resolver (catalog.h) — runs on a separate regular
 * connection (the caller's PGconn) with identifiers escaped by
 * PQescapeIdentifier and values passed by PQexecParams.
 *
 * The conninfo (it may hold a password) is never logged or copied into an
 * error message.
 *
 * Thread: a pgstream belongs to one thread (the reader);
 * *flushed_lsn and *stop may be written by any thread.
 */
#ifndef ZETL_PG_STREAM_H
#define ZETL_PG_STREAM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "runtime/pipe/change.h"
#include "runtime/pg/catalog.h"    /* the resolver lived here first; users of stream.h still get it */
#include "runtime/pg/decoder.h"

struct pgstream;

struct pgstream_sysinfo {
    char     systemid[32];
    uint32_t timeline;
    uint64_t xlogpos;           /* current WAL flush position */
    char     dbname[128];
};

/*
 * Opens a replication connection. conninfo is libpq key=value or a URI
 * without "replication"; the stream adds replication=database and the output
 * settings above. NULL on failure with err set (never holding the conninfo).
 */
struct pgstream *pgstream_connect(const char *conninfo, char *err, size_t errlen);
/* The same with bounded waits (pgwait.h): the connect, and every command
 * after it, end at *w's stop flag or when the server stops answering. w is
 * copied; its stop flag and probe_ci must stay valid while commands run on
 * the stream. NULL: unbounded, as pgstream_connect. */
struct pgwait;
struct pgstream *pgstream_connect_wait(const char *conninfo, const struct pgwait *w, char *err, size_t errlen);
void pgstream_close(struct pgstream *s);
const char *pgstream_error(const struct pgstream *s);
/* The server's version number (e.g. 150004). */
int pgstream_server_version(const struct pgstream *s);
/* Before pgstream_start: on a server that can (PostgreSQL 14+), ask for
 * protocol version 2 with streaming 'on', so a transaction too big for the
 * server's logical_decoding_work_mem comes while it runs instead of being
 * spilled to the server's disk (pg_replslot) and sent at its commit; the
 * decoder must then hold such transactions (pgdec_stream_in_progress).
 * Returns 1 when asked, 0 when the server is older. */
int pgstream_stream_in_progress(struct pgstream *s);

int pgstream_identify(struct pgstream *s, struct pgstream_sysinfo *out);

/*
 * CREATE_REPLICATION_SLOT slot [TEMPORARY] LOGICAL pgoutput EXPORT_SNAPSHOT.
 * snapshot gets the exported snapshot name, *consistent_lsn the point from
 * which the slot streams. The snapshot stays usable (SET TRANSACTION SNAPSHOT
 * on another connection) only until the next command on this connection:
 * copy the tables before calling pgstream_start.
 */
int pgstream_create_slot(struct pgstream *s, const char *slot, int temporary,
                         char *snapshot, size_t snaplen, uint64_t *consistent_lsn);
/* The same in two halves: _send asks and returns at once (the server waits
 * for the transactions running on it meanwhile); _finish waits for the
 * answer. Nothing else may go on the connection in between. 0, or -1 with
 * pgstream_error. */
int pgstream_create_slot_send(struct pgstream *s, const char *slot, int temporary);
int pgstream_create_slot_finish(struct pgstream *s, const char *slot, char *snapshot, size_t snaplen,
                                uint64_t *consistent_lsn);
/* DROP_REPLICATION_SLOT slot WAIT. */
int pgstream_drop_slot(struct pgstream *s, const char *slot);

/*
 * START_REPLICATION SLOT slot LOGICAL start_lsn (proto_version '1',
 * publication_names '"p1","p2"'; or proto_version '2', streaming 'on' after
 * pgstream_stream_in_progress). start_lsn 0 means: from the slot's
 * confirmed position. The server streams transactions committing after
 * max(start_lsn, confirmed_flush_lsn).
 */
int pgstream_start(struct pgstream *s, const char *slot, uint64_t start_lsn,
                   const char *const *publications, int npub);

struct pgstream_loop {
    struct pgdec           *dec;
    const _Atomic uint64_t *flushed_lsn;    /* durably committed in the target (applier) */
    const atomic_int       *stop;           /* non-zero: finish cleanly and return 0 */
    atomic_int             *want_position;  /* set by another thread: between transactions,
                                               ask for a keepalive now (its wal_end, a
                                               heartbeat) and clear it; NULL none */
    int                     status_interval_ms; /* default 10000 */
    int                     poll_ms;        /* socket wait per round; default 200 (stop latency) */
    /* Liveness: a status update asks for a reply when no transaction is
     * open, or when the server has been quiet for 2 s; no byte for
     * silence_ms after such a request (default PGWAIT_SILENCE_MS) probes the
     * walsender on a side connection opened with probe_ci (pgwait_probe;
     * NULL: no probe) and fails the stream unless it is alive and busy. */
    int                     silence_ms;
    const char             *probe_ci;       /* a secret: never printed */
    /* Called between transactions every idle_ms (none when NULL); non-zero
     * ends the stream with that value and err filled. Runs on this thread:
     * it must bound its own waits. */
    int                   (*idle)(void *ctx, char *err, size_t errlen);
    void                   *idle_ctx;
    int                     idle_ms;
};

/*
 * Streams until *stop, an error, or a sink callback returning non-zero.
 * Returns 0 after a clean stop (a final status update, CopyDone, the server's
 * reply drained for 1 s at most — none when the server had gone quiet, so a
 * stop never waits on a dead link), the sink's value, or
 * -1 with pgstream_error() set (decoder errors included). After a non-zero
 * return the connection is still in COPY mode: close it.
 */
int pgstream_run(struct pgstream *s, const struct pgstream_loop *l);

/* 1 when the server stopped answering (pgstream_close then skips the goodbye). */
int pgstream_dead(const struct pgstream *s);
/* The walsender's process id on the server. */
int pgstream_backend_pid(const struct pgstream *s);

/* LSN the server last told us it had sent up to (XLogData/keepalive wal_end). */
uint64_t pgstream_received_lsn(const struct pgstream *s);

/* "0/16B3748" ↔ LSN. 0 ok, -1 malformed. */
int pgstream_parse_lsn(const char *s, uint64_t *out);

/* ---- publications (regular SQL connection) ---------------------------------
 * Each takes a struct pgwait bounding its waits (pgwait.h; NULL: unbounded). */

struct pgstream_table {
    const char *schema;
    const char *name;
};

/*
 * Creates publication name FOR TABLE the given tables (identifiers quoted),
 * or adopts an existing one after checking that it publishes insert, update,
 * delete and truncate, and covers every table (FOR ALL TABLES does). A
 * mismatch fails with the statement that would fix it.
 */
int pgstream_publication_ensure(PGconn *sql, const struct pgwait *w, const char *name,
                                const struct pgstream_table *tables, int ntables, char *err, size_t errlen);
/*
 * The drift check, at every connect and now and then while streaming: does
 * publication name still publish every operation and every table? Someone
 * may have run ALTER PUBLICATION … DROP TABLE (or SET (publish = …)), and
 * from then on the server silently leaves those changes out of the stream.
 * Each table it lacks is added back (ALTER PUBLICATION … ADD TABLE, names
 * quoted) and reported through drift(ctx, i, why) — the changes made while
 * it was missing are gone from the stream, so the caller marks it for a
 * resync; why says so, or why the repair failed and the statement to run.
 * Missing operations are set back the same way and every table is reported.
 * w bounds the waits (NULL: none). 0 (also when drift was found and
 * reported), or -1 with err when the check itself failed.
 */
int pgstream_publication_check(PGconn *sql, const struct pgwait *w, const char *name,
                               const struct pgstream_table *tables, int ntables,
                               void (*drift)(void *ctx, int i, const char *why), void *ctx,
                               char *err, size_t errlen);
int pgstream_publication_drop(PGconn *sql, const struct pgwait *w, const char *name, char *err, size_t errlen);
/* Drops a slot through SQL (pg_drop_replication_slot); 0 also when it did not exist. */
int pgstream_slot_drop_sql(PGconn *sql, const struct pgwait *w, const char *slot, char *err, size_t errlen);

#endif
