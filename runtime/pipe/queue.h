/*
 * queue.h — the bounded change queue between a source's reader thread and
 * the applier thread.
 *
 * The reader drives the queue's struct zsink (cqueue_sink); the queue copies
 * every borrowed change into compact binary records and hands them, in the
 * same order, to the applier through cqueue_pop. Memory is bounded by the
 * budget, not by transaction size: a transaction that does not fit spills to
 * a spool file (runtime/pipe/spool.h) and streams through it.
 *
 *   reader ──► sink ──► [ memory chunks | spool file | memory chunks ... ] ──► cqueue_pop
 *
 * Invariants
 *   - Order: records come out exactly in the order they went in. The queue is
 *     a list of segments, each a memory chunk or a spool file; the producer
 *     appends to the last, the consumer reads the first, a segment is freed
 *     (a spool file deleted) as soon as it has been read and a later one exists.
 *   - Memory: chunk memory (queued records plus at most one spare chunk) never
 *     exceeds the budget (at least CQ_BUDGET_MIN). Chunks are budget/8 bytes
 *     (8 KiB..1 MiB); a record larger than that gets a chunk of its own. Outside the budget: the
 *     producer's spool write buffer and the consumer's spool read buffer
 *     (128 KiB each, grown only for a larger record), the table definitions,
 *     and one record's copy for a record larger than the write buffer.
 *   - The producer never blocks inside a transaction (a PostgreSQL reader must
 *     keep answering keepalives): when the open transaction's next record
 *     would take memory past the budget, it and the rest of that transaction,
 *     COMMIT included, go to a new spool file SPOOL_DIR/NAME-SEQ.spool (0600);
 *     later records go to memory again, after the spool file in the order.
 *     The consumer deletes the file as soon as it has read past its end.
 *     Between transactions, begin() waits until a fresh chunk fits the budget
 *     (backpressure on the source; cqueue_stop is answered at once, and the
 *     wait re-checks every 250 ms regardless), so only transactions bigger
 *     than the free memory spill, and disk use is bounded by them.
 *     A heartbeat never waits: when memory is full it is dropped (counted in
 *     the stats) — the queue then holds work the applier has not done, so the
 *     heartbeat proves nothing yet, and a later one will.
 *   - Spool files left by a process that died are deleted by cqueue_open (the
 *     source replays from its checkpoint anyway); every spool record carries a
 *     CRC-32C, and a corrupt or truncated record is an error, never a crash.
 *   - Table definitions: the first time a change references a struct ztable
 *     (by pointer and content: a source may free a definition and allocate
 *     the next one at the same address, or alter one in place), the queue
 *     sends a copy of it ahead of the change. The consumer keeps one struct
 *     ztable per distinct content and frees none until cqueue_reset or
 *     cqueue_close: a popped definition stays valid that long, the same
 *     content always comes back as the same pointer, and a pointer never
 *     takes another meaning within that time (caching by pointer is safe
 *     until reset/close — not across them). Memory for definitions grows with
 *     the distinct definitions seen, not with rows.
 *
 * Ownership: everything an item points at (rows' values, strings) is owned
 * by the queue and valid until the next cqueue_pop, cqueue_reset or
 * cqueue_close; table definitions as above. Steady state allocates nothing per
 * row on either side.
 *
 * Threads: exactly one producer thread (the source's reader, through the sink)
 * and one consumer thread (the applier, cqueue_pop). cqueue_stop and
 * cqueue_get_stats/cqueue_error may be called from any thread at any time.
 * cqueue_reset and cqueue_close only when no thread is inside a sink callback
 * or cqueue_pop (after cqueue_stop and joining both threads). A mutex and two
 * condition variables (room for the producer, records for the consumer); the
 * producer takes the mutex per chunk, per 256 records and per commit, not per
 * row; the consumer when it has read all it last saw published, and per commit.
 *
 * Errors: -1 with a message (cqueue_error) naming the spool file and the
 * cause: a spool write failure (disk full), a short read, a corrupt record,
 * an invalid change (a value of unknown kind, a record over 1 GiB). An error
 * is sticky: the sink then returns -1 to the source and cqueue_pop returns -1,
 * until cqueue_reset.
 */
#ifndef ZETL_QUEUE_H
#define ZETL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/pipe/change.h"

#define CQ_BUDGET_MIN   (64u * 1024)    /* smaller budgets are raised to this */

struct cqueue;

enum cq_kind { CQ_BEGIN = 1, CQ_ROW, CQ_SCHEMA, CQ_COMMIT, CQ_HEARTBEAT };

/* One popped change; only the member of its kind is set. */
struct cq_item {
    enum cq_kind kind;
    struct ztxn txn;                 /* BEGIN (end not yet known), COMMIT */
    struct zrowchange row;           /* ROW */
    struct zschema_change schema;    /* SCHEMA */
    struct zpos pos;                 /* HEARTBEAT: the source is current up to here */
    int64_t now_us;                  /* HEARTBEAT: source server time, µs since the epoch */
};

struct cqueue_stats {
    uint64_t budget_bytes;          /* the memory budget in effect */
    uint64_t mem_bytes;             /* chunk memory held now: queued records + spare chunk */
    uint64_t mem_peak;              /* highest mem_bytes since open/reset */
    uint64_t spool_bytes;           /* bytes in spool files on disk now */
    uint64_t spool_bytes_total;     /* bytes ever written to spool files */
    uint64_t spool_files;           /* spool files on disk now */
    uint64_t spool_files_total;     /* spool files ever created (transactions that spilled) */
    uint64_t bytes_total;           /* record bytes ever queued (memory and spool) */
    uint64_t bytes_queued;          /* record bytes queued, not yet popped (popped side
                                       counted at each COMMIT and segment end) */
    uint64_t txns_queued;           /* committed transactions whose COMMIT is not yet popped */
    uint64_t txns_total;            /* COMMITs ever queued */
    uint64_t heartbeats_dropped;    /* heartbeats not queued because memory was full */
    int64_t  oldest_commit_us;      /* commit time of the oldest queued transaction; 0 none */
    struct zpos newest_end;         /* end of the newest COMMIT queued since open/reset
                                       (kind ZPOS_NONE before the first) */
};

/* Open a queue of budget_bytes of memory, spilling to spool_dir (created 0700
 * when missing) in files named NAME-SEQ.spool; NAME is a plain file name
 * (the integration's). Deletes NAME-*.spool leftovers. */
int  cqueue_open(struct cqueue **out, size_t budget_bytes, const char *spool_dir,
                 const char *name, char *err, size_t errlen);
/* Free everything, delete spool files (NULL is a no-op). */
void cqueue_close(struct cqueue *q);

/* The producer's sink (ctx = q). Callbacks return 0, or -1 after an error or
 * cqueue_stop (the source stops and returns it). */
struct zsink cqueue_sink(struct cqueue *q);

/* Next change: 1 with *out filled, 0 when timeout_ms passed with nothing to
 * read (0 polls, < 0 waits without limit), -1 after cqueue_stop or an error. */
int  cqueue_pop(struct cqueue *q, struct cq_item *out, int timeout_ms);

/* Wake the consumer once: a cqueue_pop waiting with nothing to read returns
 * 0 now, as at its timeout (one that has records returns them as usual). For
 * another thread whose news the consumer acts on between pops (a copy
 * worker's chunk, runtime/integ/resync.c). Any thread; returns at once. */
void cqueue_wake(struct cqueue *q);

/* Wake both sides for good: the producer's callbacks and cqueue_pop return -1
 * (records still queued are not delivered: the source replays them from the
 * checkpoint). Any thread; returns at once. */
void cqueue_stop(struct cqueue *q);

/* Discard everything queued (spool files deleted, definitions forgotten),
 * clear a stop and an error: the source restarts from the checkpoint. */
void cqueue_reset(struct cqueue *q);

/* Thread-safe snapshot of the counters. */
void cqueue_get_stats(struct cqueue *q, struct cqueue_stats *out);
/* Just stats.txns_queued: the applier asks at every COMMIT it pops, and the
 * whole stats (with newest_end's GTID text) are a few kB to copy. */
uint64_t cqueue_txns_queued(struct cqueue *q);
/* Since when (monotonic ms, runtime/base/clock.h) the producer waits for room
 * before a transaction: the queue is full and the applier behind; 0 when it
 * does not wait. */
int64_t  cqueue_full_since_ms(struct cqueue *q);

/* 1 with the error message copied into buf when the queue failed, else 0. */
int  cqueue_error(struct cqueue *q, char *buf, size_t len);

#endif
