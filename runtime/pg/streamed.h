/*
 * streamed.h — the in-progress transactions a protocol-2 stream sends
 * before they commit (pgoutput with streaming 'on', PostgreSQL 14+).
 *
 * A transaction bigger than the server's logical_decoding_work_mem is sent
 * in blocks while it runs (Stream Start … Stream Stop), interleaved with
 * other transactions, and then ends with a Stream Commit or a Stream Abort.
 * Without streaming the server spills it to its own disk (pg_replslot) and
 * sends it only at commit; with it, zetl keeps it here, on its own disk, and
 * hands it on whole at the commit, so it is applied exactly once and in
 * commit order like any other transaction.
 *
 * One spool file per open transaction (runtime/pipe/spool.h), named
 * DIR/NAME-SEQ.spool. A record is a data message as protocol 1 has it:
 *
 *     [u64 lsn][u32 xid of its (sub)transaction][tag][the message after its xid]
 *
 * Subtransactions: each one's first record's offset is kept; a Stream Abort
 * of a subtransaction cuts the spool back there. Everything after that
 * point belongs to it or to subtransactions nested in it: a subtransaction
 * ends before its parent goes on, and the server streams a transaction's
 * changes in the order they were made. (PostgreSQL's own subscriber cuts its
 * files the same way.)
 *
 * Nothing outlives the process: after a restart the server sends every
 * transaction that had not committed before the checkpoint again from its
 * first change, so the files of a dead process are only removed
 * (spool_remove_leftovers) and a Stream Start that says "first segment"
 * for a transaction already held starts it over.
 *
 * Memory: the spool's write buffer (128 KiB) per open transaction, and its
 * read buffer while one is replayed; the rows are on disk.
 *
 * Thread: a pgstreamed belongs to the stream's reader thread.
 */
#ifndef ZETL_PG_STREAMED_H
#define ZETL_PG_STREAMED_H

#include <stddef.h>
#include <stdint.h>

struct pgstreamed;

struct pgstreamed_stats {
    uint64_t txns;              /* transactions streamed to us and committed */
    uint64_t aborted;           /* … and aborted as a whole */
    uint64_t sub_aborted;       /* subtransactions cut back */
    uint64_t messages;          /* data messages spooled */
    uint64_t bytes;             /* their bytes */
    int      open;              /* transactions held now */
    uint64_t held_bytes;        /* their spools' bytes */
    int64_t  oldest_ms;         /* wall ms the oldest of them began to arrive; 0 none */
};

/* Spools go to DIR/NAME-SEQ.spool; both strings are copied. NULL on out of memory. */
struct pgstreamed *pgstreamed_new(const char *dir, const char *name);
/* Removes every spool still held. NULL is a no-op. */
void pgstreamed_free(struct pgstreamed *x);

/* Stream Start of xid: its later data messages go to its spool; first: the
 * server starts it from its first change (anything held of it is dropped). */
int pgstreamed_start(struct pgstreamed *x, uint32_t xid, int first, char *err, size_t errlen);
/* A data message of the open block (pgout_stream_xid: data[0] the tag,
 * data[1..4] subxid, the rest the message). lsn: its envelope's. */
int pgstreamed_add(struct pgstreamed *x, uint64_t lsn, const uint8_t *data, size_t len,
                   char *err, size_t errlen);
/* Stream Stop: the block ends. */
void pgstreamed_stop(struct pgstreamed *x);
/* 1 between a Stream Start and its Stream Stop. */
int pgstreamed_in_block(const struct pgstreamed *x);
/* Stream Abort: subxid == xid drops the transaction, else cuts back that
 * subtransaction (nothing when none of it was sent). */
int pgstreamed_abort(struct pgstreamed *x, uint32_t xid, uint32_t subxid, char *err, size_t errlen);

/* Stream Commit of xid: each held message in order to fn(ctx, lsn, msg,
 * len) — msg a protocol-1 message, valid for the call — then the spool is
 * removed. A transaction that sent nothing (all of it aborted
 * subtransactions, or never held) replays nothing. 0, -1 with err, or fn's
 * non-zero value (the spool is removed all the same). */
typedef int (*pgstreamed_fn)(void *ctx, uint64_t lsn, const uint8_t *msg, size_t len);
int pgstreamed_commit(struct pgstreamed *x, uint32_t xid, pgstreamed_fn fn, void *ctx,
                      char *err, size_t errlen);

/* The envelope LSN of xid's first held message; 0 when none is held. */
uint64_t pgstreamed_first_lsn(const struct pgstreamed *x, uint32_t xid);

void pgstreamed_stats(const struct pgstreamed *x, struct pgstreamed_stats *out);

#endif
