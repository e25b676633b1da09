/*
 * decoder.h — pgoutput messages → struct zsink calls.
 *
 * A pgdec takes the pgoutput messages of one START_REPLICATION stream in
 * order (the payloads of XLogData, each with its envelope LSN) and drives a
 * zsink: begin, row*, schema*, commit, and heartbeat on idle keepalives.
 *
 * State it keeps:
 *   - a relation cache by OID, built from Relation messages into struct
 *     ztable (type OIDs mapped to enum ztype, typmod → length/precision/
 *     scale, a format_type()-style source_type, key flags → pk_ord), and a
 *     type cache from Type messages for non-built-in types;
 *   - the open transaction (xid, commit time, commit LSN from Begin).
 *
 * Schema changes: when a Relation message redefines a cached OID, the old
 * definition is kept until the next row (or truncate) of that relation; if the
 * definitions differ, the sink gets a zschema_change (ZDDL_RENAME_TABLE and/or
 * ZDDL_ALTER_TABLE with old_def/new_def) just before that row.
 *
 * Keys: with replica identity DEFAULT or INDEX the key flags give pk_ord in
 * column order; with FULL or NOTHING, npk is 0 (the full row is the key)
 * unless the resolver fills in the real primary key.
 *
 * Values: ZV_NULL, ZV_UNCHANGED ('u', unchanged TOAST), ZV_INT for int2/int4/
 * int8/oid, ZV_BYTES for bytea (hex or escape text form decoded), ZV_TEXT in
 * PostgreSQL's output syntax for everything else (numeric/float NaN and
 * ±Infinity, timestamps ±infinity, arrays "{...}" pass through exactly).
 * Text values point into the caller's message buffer; decoded bytea into the
 * decoder's scratch arena; both are valid for the sink call only. No
 * per-value allocation: the value arrays and the arena grow to the widest
 * row seen and are reused.
 *
 * The resolver hook lets the stream layer refine a relation's columns from
 * the catalog (format_type(atttypid, atttypmod), attnotnull, the primary key,
 * enums/domains). It is called with the ztable built from the Relation
 * message and may change type, length, precision, scale, nullable, pk_ord,
 * npk and source_type (malloc'd; free the old one) — not names or count.
 *
 * Thread: a pgdec belongs to the reader thread that feeds it.
 */
#ifndef ZETL_PG_DECODER_H
#define ZETL_PG_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/pipe/change.h"

struct pgdec;

/*
 * Catalog refinement of relation t (t->id is the OID). type_oids/typmods hold
 * the Relation message's values per column. 0 ok; non-zero fails the stream
 * with err (a resolver that prefers to degrade returns 0 and leaves t as is).
 */
typedef int (*pgdec_resolve_fn)(void *ctx, struct ztable *t, const uint32_t *type_oids,
                                const int32_t *typmods, char *err, size_t errlen);

struct pgdec_stats {
    uint64_t messages;          /* pgoutput messages fed */
    uint64_t txns;              /* commits delivered */
    uint64_t rows;              /* row changes delivered (truncate: one per table) */
    uint64_t schema_changes;
    uint64_t streamed_txns;     /* of them, streamed to us while they ran (protocol 2) */
    uint64_t streamed_aborts;   /* streamed transactions aborted, and subtransactions cut */
    uint64_t streamed_bytes;    /* bytes of changes held for them until their commit */
};

/* sink is copied. NULL on out of memory. */
struct pgdec *pgdec_new(const struct zsink *sink);
void pgdec_free(struct pgdec *d);

void pgdec_set_resolver(struct pgdec *d, pgdec_resolve_fn fn, void *ctx);

/* Where the decoder says what it holds of streamed transactions (after each
 * Stream Start, Stop, Abort and Commit, and zeros at pgdec_free); NULL none. */
struct zheld;
void pgdec_set_held(struct pgdec *d, struct zheld *out);

/*
 * Protocol version 2 with streaming 'on': the decoder also takes Stream
 * Start/Stop/Commit/Abort and the data messages of stream blocks. The
 * changes of an in-progress transaction are held in spool files
 * DIR/NAME-SEQ.spool (runtime/pg/streamed.h) and reach the sink only at
 * its Stream Commit, as one transaction — begin, rows, commit — exactly as
 * a protocol-1 stream delivers it; an abort leaves no trace. 0, or -1 on
 * out of memory.
 */
int pgdec_stream_in_progress(struct pgdec *d, const char *dir, const char *name);
/* While a streamed transaction is handed on (it may take minutes), tick(ctx)
 * is called every few thousand messages: the stream answers its server
 * there. Non-zero stops the hand-off and is returned by pgdec_feed. */
void pgdec_set_tick(struct pgdec *d, int (*tick)(void *ctx), void *ctx);

/*
 * One pgoutput message (an XLogData payload) whose envelope start LSN is lsn.
 * Returns 0; or -1 on a protocol/decoding error (pgdec_error() says what and
 * at which LSN); or the non-zero value a sink callback returned.
 */
int pgdec_feed(struct pgdec *d, uint64_t lsn, const void *msg, size_t len);

/*
 * A primary keepalive. When no transaction is open, everything committed
 * before wal_end has been delivered: the sink's heartbeat gets ZPOS_LSN
 * wal_end at the keepalive's server time. Returns like pgdec_feed.
 */
int pgdec_keepalive(struct pgdec *d, uint64_t wal_end, int64_t send_time_pg);

/* 1 between Begin and Commit, and inside a stream block. */
int pgdec_in_txn(const struct pgdec *d);
/* End LSN of the last delivered commit, 0 before the first. */
uint64_t pgdec_last_commit_end(const struct pgdec *d);
/* The commit time (Unix µs) of the transaction last begun or committed, 0 before the first. */
int64_t pgdec_txn_commit_time(const struct pgdec *d);
/* The current definition of a relation, NULL if no Relation message described it. */
const struct ztable *pgdec_table(const struct pgdec *d, uint32_t relid);
/* The last error ("" when none). */
const char *pgdec_error(const struct pgdec *d);
void pgdec_stats(const struct pgdec *d, struct pgdec_stats *out);

/* PostgreSQL µs-since-2000 → Unix µs, saturating: the value comes off the
 * wire, and one near INT64_MAX (a corrupt message) must not overflow. */
static inline int64_t pgdec_time_to_unix_us(int64_t pg_us)
{
    return pg_us > INT64_MAX - 946684800000000LL ? INT64_MAX : pg_us + 946684800000000LL;
}

/*
 * Maps a built-in type OID (PostgreSQL's fixed OIDs below 10000) and typmod to
 * a column: type, is_array, length/precision/scale, and a format_type()-style
 * name written to name_buf. Returns 0, or -1 for a non-built-in OID (caller
 * uses the Type message or the catalog).
 */
int pgdec_builtin_type(uint32_t oid, int32_t typmod, struct zcolumn *col,
                       char *name_buf, size_t name_len);

#endif
