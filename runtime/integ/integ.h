/*
 * integ.h — one integration inside the runtime (internal to runtime/).
 *
 * Threads per integration:
 *   supervisor  owns the lifecycle and the state machines; it is also the
 *               applier (pops the queue, batches, applies, checkpoints), so
 *               the target connection and the state log handle live on it
 *   reader      decodes the source log into the bounded queue (cqueue); it
 *               only touches the source connection and the queue
 * The supervisor starts and joins the reader; an error in either ends the
 * streaming round, and the supervisor retries from the target's checkpoint.
 *
 * Shared between the two: `stop_reader`, `flushed_lsn` (the applier's last
 * durable LSN, which the PostgreSQL reader reports to the server), the
 * source's newest position the reader has seen (`src_pos` under `src_mu`)
 * and the server's binlog expiry (`binlog_expire_s`), which the applier
 * writes to the state log, and the reader's result (written before the
 * reader exits, read after the join).
 */
#ifndef ZETL_INTEG_H
#define ZETL_INTEG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config/config.h"
#include "runtime/base/states.h"
#include "runtime/pipe/change.h"
#include "runtime/pipe/held.h"
#include "runtime/base/linkcut.h"
#include "runtime/log/statelog.h"
#include "runtime/target/target.h"
#include "runtime/integ/shape.h"

struct cqueue;
struct target;
struct runtime;
struct source_ops;

/* Per-table runtime state, indexed like integ.tables. */
struct itable {
    char     *source;        /* "schema.table" */
    char     *tschema;       /* target schema (after rename) */
    char     *tname;         /* target table */
    enum tstate state;       /* table state; TSTATE_UNKNOWN: none yet, or a state
                                the log holds that this zetl does not know */
    struct ztable *def;      /* definition from the source catalog (owned) */
    struct ztable *tdef;     /* def with the target's column names (names.h; owned):
                                what the target side (DDL, apply, copy, verify) uses */
    /* change counts since the last flush to the state log */
    int64_t   ins, upd, del;
    int64_t   last_applied_ms;
    /* projection of the decoder's row layout onto def (apply.c) */
    const struct ztable *map_src;
    int       map_ncols;
    int      *map;           /* def column i comes from row column map[i], -1 none */
    int       resync_requested;
    int       resync_resume;  /* the next resync resumes its chunked copy where the target's
                                 zetl.copy_progress says (a cut-short one); else it starts over */
    int       initial;        /* its resync is the initial copy (copy.c, in chunks while the
                                 stream runs): shown pending, then snapshotting; the
                                 integration is snapshotting until no table is */
    struct zpos skip_until;  /* after a resync: the copy's position; the stream skips the
                                table's changes the copy holds (zpos_txn_in_copy) */
    struct shape shape;      /* column transforms (shape.h); shape.x NULL: none */
    char     *refuse_what;   /* set when the table may not run (shape_table refused it):
                                why and the fix; tables.c moves it to in->refused */
    char     *refuse_fix;
};

/*
 * What a round came to: the copy, the stream, a wait in the backoff or while
 * paused, a poll of the operator's commands. ROUND_NONE: nothing ended it,
 * go on (stream after the copy, keep waiting, keep applying); every other
 * value ends the round and says how. A function returning it never returns
 * -1: an error is ROUND_ERROR, with in->err. Plain 0 / -1 stay the rule for
 * everything else in runtime/integ.
 */
enum integ_round {
    ROUND_NONE = 0,      /* nothing ended the round: go on */
    ROUND_STOPPED,       /* stop requested: checkpointed, exit */
    ROUND_PAUSED,        /* pause command: wait for resume */
    ROUND_DELETED,       /* delete command: done for good */
    ROUND_ERROR,         /* retry with backoff */
    ROUND_POSITION_LOST, /* source log no longer has our position: failed, resync needed */
    ROUND_RESYNC,        /* resync command outside a stream: the next round starts it */
    ROUND_TABLE_FAILED,  /* one table failed (badtable.c): the next round, at once, without it */
    ROUND_RETRY,         /* retry command in the backoff (in->retry_waiting only): the next attempt now */
    ROUND_RESNAPSHOT,    /* resnapshot command: the next round, at once, copies every table
                            from a fresh position (in->resnapshot) */
    ROUND_LEASE_LOST     /* ha: another member holds the lease now (ha.c): stand by */
};

#define INTEG_RESYNCS_MAX 16    /* apply.copy_workers' upper bound (config.c) */
struct integ;
/* apply.copy_workers, within 1..INTEG_RESYNCS_MAX: tables copied at once (state.c). */
int integ_copy_workers(const struct integ *in);

struct iha;

struct integ {
    const struct config_integration *cfg;
    const struct source_ops *src;  /* the source's driver: source_driver(cfg->source.kind) */
    const struct config *root;
    struct runtime *rt;
    int       log_stderr;
    char      actor[160];

    pthread_t thread;
    int       started;
    atomic_int stop;              /* runtime_stop: finish the batch and exit */
    atomic_int done;              /* the supervisor thread has exited */
    atomic_int ended_deleted;     /* it exited because the integration is deleted */
    /* Source connections a blocked read may sit on (linkcut.h): `cut` the
     * supervisor's and its resync worker's (fired by a stop, a resync given
     * up, or the sentry seeing a command wait), `rcut` the reader's (fired
     * by stop_reader and a stop). */
    struct linkcut cut, rcut;
    _Atomic int64_t polled_ms;    /* monotonic time of the last command poll (sentry.h) */
    int64_t   locked_at;          /* wall ms its lock was taken: commands older expire (liveness.h) */
    int64_t   beat_ms;            /* monotonic ms of the last runner heartbeat (supervisor only) */

    struct statelog *sl;          /* supervisor thread's handle */
    struct target *tgt;           /* supervisor (applier) thread's connection */
    enum istate state;            /* integration state; ISTATE_UNKNOWN: none yet, or a
                                     state the log holds that this zetl does not know */
    char      err[1024];          /* last error, for the state's reason */
    char      pending_delete_actor[160]; /* who asked for the delete being carried out */
    enum istate state_before_retry; /* http target retrying a delivery: the state to return
                                     to; ISTATE_UNKNOWN none */
    enum integ_round retry_cmd_end; /* a command taken during those retries that ends the round, ROUND_NONE none */
    /* A lost position (the source log purged past the checkpoint, a slot
     * dropped) cannot be caught up table by table: the whole integration is
     * copied again. position_lost: the last round ended so (a resync is then
     * carried out as a re-snapshot); resnapshot: one is asked for, and the
     * next round's integ_snapshot discards the checkpoint first. */
    int       position_lost;
    int       resnapshot;
    char      resnapshot_actor[160];

    struct itable *tables;
    int       ntables;
    /* selected tables refused because their target name is another's
     * (tables.c): not in tables, shown failed with the reason */
    struct irefused { char *source, *what, *fix; int shaped; } *refused;   /* shaped: by shape_table */
    int       nrefused;
    uint64_t  refused_sig;        /* the refusals last logged, to log each once */

    /* streaming round */
    struct cqueue *q;
    pthread_t reader;
    int       reader_running;
    atomic_int stop_reader;
    _Atomic uint64_t flushed_lsn; /* PostgreSQL: durable in the target */
    atomic_int resync_kick;       /* a copy worker has news (a chunk loaded, done): the
                                     applier drives the resyncs now, not at its next poll */
    atomic_int want_position;     /* the applier waits for the source's position to pass a
                                     chunk's (resync.c): the reader asks for a heartbeat now */
    struct zheld held;            /* reader: source transactions held before their commit */
    int       reader_rc;          /* set by the reader before it exits */
    char      reader_err[1024];
    struct zpos resume;           /* where the reader starts (the checkpoint) */

    /* lag and position */
    struct zpos applied;          /* last checkpoint written */
    int64_t   proof_ms;           /* wall time the source last proved we are current */
    int64_t   proof_res_ms;       /* proof_ms is good to: 1, 1000 from a whole-second commit time */
    atomic_int commit_res_ms;     /* set by the reader: commit times are good to 1 or 1000 ms */
    int64_t   oldest_pending_us;  /* commit time of the oldest change not yet applied, 0 none */
    int64_t   last_lag_sample_ms;
    int64_t   wait_since_ms;      /* wall: the applied position last moved or changes began to wait */
    /* the source's own position (statelog.h "Source position") */
    pthread_mutex_t src_mu;       /* guards src_pos, src_pos_ms (held for a copy only) */
    struct zpos src_pos;          /* reader: newest source position seen (no GTID), kind 0 none */
    int64_t   src_pos_ms;         /* reader: wall ms it was seen */
    _Atomic int64_t binlog_expire_s; /* reader: the server's binlog expiry, s (0 never), -1 unknown */
    int64_t   ckpt_commit_ms;     /* applier: commit time of the last transaction applied */
    char      ckpt_commit_file[ZPOS_FILE_MAX]; /* applier: the binlog file it was in */
    int       basis_pending;      /* the lag basis last written said changes wait */

    /* tables copied while the others stream (resync.c): up to
     * apply.copy_workers at once, resync[0..nresync) */
    struct resync *resync[INTEG_RESYNCS_MAX];
    int       nresync;
    /* chunk reads under way, over every table's copy: at most
     * apply.copy_workers (copy.c, parallel chunks of one table) */
    pthread_mutex_t copy_mu;
    pthread_cond_t copy_cv;
    int       copy_reads;
    int       resync_ready;       /* the index integ_resync_ready found */
    int       streaming;          /* inside integ_stream: a resync command starts online */
    char      attention[256];     /* needs_attention's reason now, "" when none */

    /* why it is stuck (wait.c): what the state log shows it waits on */
    int       wait_shown;         /* WAIT_* recorded in the state log now */
    int64_t   wait_written_ms;    /* mono ms the queue wait was last written */
    int       retry_attempt;      /* the failed round's next attempt, 0 none */
    int       retry_waiting;      /* in the backoff before it: a retry command starts it */
    struct iha *ha;               /* ha.c: the lease, NULL when ha is off */
    _Atomic int64_t ha_epoch;     /* ha.c: the lease's epoch while this process holds it, else 0;
                                     read by any thread (the PostgreSQL reader: whose slot) */
};

enum { WAIT_NONE = 0, WAIT_TARGET, WAIT_QUEUE, WAIT_HELD };

/* Before new work on the supervisor's thread: the cut is armed again unless
 * a stop is under way (a stop sets in->stop before it fires). */
static inline void integ_rearm_cut(struct integ *in)
{
    if (!atomic_load(&in->stop)) linkcut_rearm(&in->cut);
}

/* ---- the integration's record (state.c): below every other file here and
 * below runtime/source, which writes through it too. ---- */

/* Logging: one line on stderr (when enabled) and an event in the state log. */
void integ_log(struct integ *in, enum statelog_level lvl, const char *table,
               const char *kind, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The actor of what the runtime does by itself (retries, recoveries, the
 * state a round ends in): never the operator who started the process, so
 * the log tells an automatic retry from a key pressed. */
#define INTEG_ACTOR_RUNTIME "zetl"

/* State transitions (integration when table is NULL), logged with reason and
 * actor: the command's actor for what an operator asked, NULL for the
 * runtime's own (recorded as INTEG_ACTOR_RUNTIME). */
void integ_set_state(struct integ *in, enum istate state, const char *reason, const char *actor);
void integ_set_table_state(struct integ *in, struct itable *t, enum tstate state,
                           const char *reason, const char *actor);

/*
 * While streaming: active, or needs_attention when some table is failed or
 * resync_required (and no resync of it is asked for), or the lag (ms, -1
 * unknown) is over the alerts' lag_seconds. Only a change is recorded; a
 * paused, failed or deleting integration is left alone.
 */
void integ_review_state(struct integ *in, int64_t lag_ms);

/* Write the source's newest position seen by the reader, the bytes (or
 * binlog files) between it and in->applied, the binlog expiry and the
 * checkpoint's commit time to the state log (statelog_set_source).
 * Supervisor thread (apply.c; wait.c while a target call waits). */
void integ_write_source(struct integ *in);
/* Write this process into the integration's runner row (liveness.h): at
 * start, as the heartbeat (integ_poll_commands, every RUNNER_HEARTBEAT_MS)
 * and, stopping = 1, at a clean stop. Supervisor thread. */
void integ_record_runner(struct integ *in, int stopping);
/* The selected table schema.name, or NULL. */
struct itable *integ_find_table(struct integ *in, const char *schema, const char *name);
/* The backoff after a failed round, in the state log: attempt and when
 * (at_ms 0: under way); attempt 0 clears ("Why it is stuck" below). */
void integ_retry_set(struct integ *in, int attempt, int64_t at_ms);

/* ---- the rest of the integration ---- */

/* The supervisor thread body (supervisor.c). */
void *integ_main(void *arg);

/*
 * Tables (tables.c): discover the selected tables and their definitions, with
 * their target names (names.h). Two selected tables with one target table, or
 * a table with two columns of one target name, are refused: left out of
 * in->tables, listed in in->refused, shown failed with the reason (once per
 * change of the refusals); the other tables go on.
 */
int  integ_load_tables(struct integ *in, char *err, size_t errlen);
void integ_free_tables(struct integ *in);

/* The initial copy (copy.c): every table, then the checkpoint; ROUND_NONE
 * when there is a checkpoint to stream from (found, or just written), else
 * how the round ended. With in->resnapshot the
 * checkpoint is discarded first (target_discard_checkpoint, committed on its
 * own: a crash after it copies again, never streams from the old one). */
enum integ_round integ_snapshot(struct integ *in);
/* Streaming (apply.c): reader + applier until stop, pause, delete or error;
 * never ROUND_NONE. */
enum integ_round integ_stream(struct integ *in);
/* How long (ms) a caught-up batch stays open for more: none while the last
 * source commit popped is under 100 ms old (behind_us), else in proportion
 * to what a batch lately cost to apply (µs), from 1 ms to 20 ms and batch_ms. */
int  apply_linger_ms(int64_t batch_cost_us, int64_t behind_us, int batch_ms);

/*
 * One bad table never stops the others (badtable.c). A row the target cannot
 * store, or a target error that is the fault of the table being applied,
 * fails that table alone: `failed` with a reason naming the table, the
 * column, the key (when short) and the source position; its later changes
 * are not applied, the other tables go on. A resync copies it anew.
 *   integ_row_refused      1 (why set) when a change or copied row cannot be
 *                          stored: a text value holding a NUL byte (a
 *                          PostgreSQL-protocol target), or a row bigger than
 *                          integ_row_limit; else 0. Any thread.
 *   integ_row_limit        the largest row (bytes of its values, both images)
 *                          apply.memory_mb allows: a quarter of it
 *   integ_error_is_table   1 when a target error (its SQLSTATE) is the fault of
 *                          the data or the table being applied (data exception,
 *                          constraint, undefined object, privilege, program
 *                          limit), 0 for the connection, the server, a conflict
 *   integ_fail_table       the state change and an error event (supervisor thread)
 */
int  integ_row_refused(const struct integ *in, const struct itable *t, const struct zrowchange *p,
                       char *why, size_t len);
size_t integ_row_limit(const struct integ *in);
/* The bytes of a change's values (both images), as integ_row_limit counts them. */
uint64_t integ_row_bytes(const struct ztable *def, const struct zrowchange *p);
/* why = "a row of N MB … over the largest row …" for a row of bytes whose key is in img. */
void integ_row_too_big(const struct integ *in, const struct ztable *def, const struct zvalue *img,
                       uint64_t bytes, char *why, size_t len);
int  integ_error_is_table(const char *sqlstate);
void integ_fail_table(struct integ *in, struct itable *t, const char *reason);

/* Commands from the state log's queue: the end of the round one asks for,
 * or ROUND_NONE to go on (ROUND_LEASE_LOST first when ha lost the lease). */
enum integ_round integ_poll_commands(struct integ *in);

/*
 * ha (ha.c; config `ha:`; the lease itself: runtime/target/lease.h). All on
 * the supervisor thread. With ha off each is a no-op (acquire: ROUND_NONE;
 * epoch 0: no fence).
 *   integ_ha_init       at start: 0, or -1 out of memory
 *   integ_ha_acquire    before a round: ROUND_NONE once this process holds the
 *                       lease, meanwhile `standby` (holder named), taking
 *                       commands; else what ended the wait (stop, pause, …)
 *   integ_ha_epoch      the epoch every target connection of the round
 *                       fences its commits with (target_opts.fence_epoch)
 *   integ_ha_fenced     the flag such a commit sets when the epoch moved
 *   integ_ha_poll       ROUND_LEASE_LOST when the lease was lost; also
 *                       writes the lease's view to the state log
 *   integ_ha_confirm    after a round failed: waits for a heartbeat from now
 *                       (at most one call's deadline): ROUND_LEASE_LOST when
 *                       the failure was the lease's (a thawed process whose
 *                       sessions the new holder ended), so it is not shown
 *                       as `failed`; ROUND_NONE otherwise
 *   integ_ha_lost       after a round ended so: says why, lets it go
 *   integ_ha_release    lets the lease go (a stop hands it over at once)
 *   integ_ha_mark_deleted  the holder's delete, recorded in the lease so no
 *                       standby takes the integration up again
 *   integ_ha_refuse     1 (result says why) when this process is a standby:
 *                       what acts on the target is sent to the holder
 */
int  integ_ha_init(struct integ *in);
void integ_ha_free(struct integ *in);
int  integ_ha_enabled(const struct integ *in);
enum integ_round integ_ha_acquire(struct integ *in);
int64_t integ_ha_epoch(const struct integ *in);
atomic_int *integ_ha_fenced(struct integ *in);
enum integ_round integ_ha_poll(struct integ *in);
enum integ_round integ_ha_confirm(struct integ *in);
void integ_ha_lost(struct integ *in);
void integ_ha_release(struct integ *in);
int  integ_ha_mark_deleted(struct integ *in, char *err, size_t errlen);
int  integ_ha_refuse(struct integ *in, const char *what, char *result, size_t len);

/* Row projection: a row in the decoder's layout → the table's catalog
 * definition (columns matched by name; excluded columns dropped, missing
 * ones NULL), then its row filter and column transforms (shape.h). *out is
 * valid until the next call on the same projection. 0 with *out (an update
 * the filter moves out of the table: a delete of its old row); 1 the row is
 * not for the target (filtered out: nothing to apply); -1 out of memory;
 * INTEG_ROW_FAILS the filter failed on the row or cannot judge it, why in
 * err (the table fails with it). One projection per thread: it owns a filter
 * evaluator. */
struct projection {
    struct zvalue *before, *after;
    int cap;
    struct zbuf sb, sa;     /* the transformed texts of before and after (shape.h) */
    struct shape_eval *ev;  /* the row filters' (shape.h), made on first use */
    char err[512];
};
#define INTEG_ROW_FAILS (-2)
int  integ_project(struct projection *p, struct itable *t, const struct zrowchange *rc,
                   struct zrowchange *out);
void integ_projection_free(struct projection *p);
int  integ_add_table(struct integ *in, struct ztable *def, enum tstate state);

/* A table's copy begins (copy.c): rows copied back to rows (0, or what a
 * resumed chunked copy's chunks copied before), chunks committed (-1: a
 * copy in one read), the state set (statelog.h "Copy progress"). */
void integ_start_copy(struct integ *in, struct itable *t, enum tstate state, const char *reason,
                      int64_t rows, int64_t chunks);
/* Do t's target rows carry another shape than t->shape (zetl.table_shapes;
 * none recorded counts as ""), on a target that keeps shapes? 1 yes (what
 * says how, when given), 0 no, -1 error (in->err). copy.c. */
int  integ_shape_differs(struct integ *in, const struct itable *t, char *what, size_t len);
/* After a restart: a table holding rows of another shape goes
 * resync_required, saying so (copy.c). 0, or -1 with in->err. */
int  integ_check_shapes(struct integ *in);
/* Empty t's target table for a copy in the open transaction, recording the
 * shape its rows will carry (copy.c; shape.h). 0, or -1 (target_error). */
int  integ_truncate(struct target *tgt, const struct itable *t);
/* Create or check every target table (copy.c); 0, or -1 with in->err. */
int  integ_ensure_tables(struct integ *in);

/* After a delete command ended the round: drop what source objects can be
 * dropped, mark deleted (the reason names what is left); always ROUND_DELETED. */
enum integ_round integ_finish_delete(struct integ *in);
/*
 * Resync without locks (resync.c; DESIGN.md "Resync without locks"), driven
 * by the applier thread at source-transaction boundaries:
 *   integ_resync_start    mark the table in the target (committed), divert its
 *                         stream changes to a spool, start a worker thread
 *                         that copies it on its own connections
 *   integ_resync_divert   on_row: a change of the table being copied → spool;
 *                         returns 0 when it took the change, 1 when the
 *                         caller applies *live as usual (a chunked copy: a
 *                         row already copied; *live is the change, or the
 *                         part of a key-moving update that is)
 *   integ_resync_ready    1 when the worker has finished (a chunked copy: a
 *                         chunk is loaded) and the checkpoint has reached the
 *                         copy's position (or the copy failed)
 *   integ_resync_replay   worker ok: the spool's changes → the batch (skipping
 *                         those the copy holds when its position is exact),
 *                         the mark removed (a chunked copy: its progress
 *                         moved, the mark removed after the last chunk), in
 *                         the open target transaction; the caller commits it
 *                         with the checkpoint, then calls integ_resync_done
 *                         when 0 was returned (2: a chunk handed off, more to
 *                         come). Worker failed: the table is failed with the
 *                         reason (its mark stays: retried at the next round),
 *                         and 1 is returned.
 *   integ_resync_abort    stop every worker and drop the spools (round end, DDL,
 *                         a TRUNCATE during a chunked copy: the link cut that
 *                         ends a blocked read is shared); the marks stay, so
 *                         each table is copied again, a chunked copy from its
 *                         committed frontier
 * Up to apply.copy_workers tables copy at once, each with its own worker,
 * connections, spool and frontier; integ_resync_ready picks one that is
 * ready, and replay and done act on that one.
 * Each returns 0 or -1 with in->err unless said otherwise.
 */
struct zbatch;
int  integ_resync_marked(struct integ *in);
int  integ_resync_start(struct integ *in, struct itable *t);
/* txn_start: where the change's transaction begins (the end of the previous
 * commit); commit_lsn: its commit LSN (PostgreSQL), 0 elsewhere. */
int  integ_resync_divert(struct integ *in, const struct itable *t, const struct zrowchange *p,
                         const struct zpos *txn_start, uint64_t commit_lsn, struct zrowchange *live);
int  integ_resync_diverts(const struct integ *in, const struct itable *t);
/* 1 while any table is being copied (a worker runs or a hand-off waits). */
int  integ_resync_running(const struct integ *in);
int  integ_resync_ready(struct integ *in);
int  integ_resync_replay(struct integ *in, struct zbatch *b, size_t budget,
                         int (*apply)(void *ctx), void *ctx);
void integ_resync_done(struct integ *in);
void integ_resync_abort(struct integ *in);
/* The worker's copy (copy.c): truncate and copy t on connections of its own,
 * in one target transaction; *pos the copy's exact position or ZPOS_NONE. */
int  integ_copy_table(struct integ *in, struct itable *t, atomic_int *abort, struct zpos *pos,
                      char *err, size_t errlen);
/* A chunk of a chunked copy, loaded and committed (copy.c → resync.c). */
struct copy_chunk {
    uint64_t    seq;            /* 0, 1, … in key order, within one integ_copy_chunks */
    struct zkey lo;             /* rows after this key (n 0: from the first) */
    struct zkey hi;             /* up to this one: the last row read, or the range's end
                                   fixed in advance (last: meaningless) */
    int         last;           /* the table ends in this chunk */
    struct zpos pos;            /* its read's exact position, or ZPOS_NONE */
    uint64_t    rows;
};
/* What a chunked copy tells its caller (resync.c): done(ctx, chunk) after
 * each chunk's commit, on the thread that committed it, in any order of seq
 * when chunks go in parallel; admit(ctx, seq) before chunk seq is read, which
 * may wait (chunks read ahead of the hand-offs are bounded). A non-zero
 * return from either ends the copy. */
struct chunk_hooks {
    int  (*done)(void *ctx, const struct copy_chunk *ch);
    int  (*admit)(void *ctx, uint64_t seq);
    void *ctx;
};
/*
 * The worker's chunked copy (copy.c): t in chunks of limit rows by key from
 * after *from (n 0: from the first, truncating the table), each read in a
 * consistent read of its own and loaded in a target transaction of its own;
 * the rows after *from (loaded by chunks whose hand-off never committed) are
 * deleted first. With apply.copy_workers > 1 (and a source that can say
 * where a chunk ends) that many readers copy the table's chunks at once,
 * each a range fixed in advance, taking their reads' snapshots in key order.
 * hooks as struct chunk_hooks says. 0 when the last chunk was handed on or
 * a hook said stop, or -1 with err.
 */
int  integ_copy_chunks(struct integ *in, struct itable *t, const struct zkey *from, uint32_t limit,
                       atomic_int *abort, const struct chunk_hooks *hooks, char *err, size_t errlen);

/* Connect the target if not connected (in->tgt); 0, or -1 with in->err. */
int  integ_connect_target(struct integ *in);
/* target_opts.on_retry for the applier's own target (target_retry.c): a failed
 * delivery attempt → `failed` with the reason and a warning event; while it
 * waits, operator commands are taken (one that ends the round gives the retry
 * up and is carried out by the supervisor through retry_cmd_end); delivered →
 * back to the state before. Supervisor thread only. */
int  integ_target_retry(void *ctx, enum target_retry ev, const char *reason);
/*
 * Why it is stuck (wait.c; README "Why is it stuck"), shown in the state log
 * (statelog_set_wait / statelog_set_retry), supervisor thread only:
 *   integ_target_wait   target_opts.on_wait of the applier's own target: a
 *                       lock and its holder, or a long statement; NULL clears
 *   integ_note_queue    from the apply loop every poll: the reader waiting
 *                       for room in the change queue for 2 s is shown, and
 *                       cleared when it has room again (cheap: one mutex)
 *   integ_note_held     likewise: a source transaction held until its commit
 *   integ_wait_clear    the round ended: no wait shown
 *   integ_retry_set     the backoff after a failed round: attempt and when
 *                       (at_ms 0: under way); attempt 0 clears (state.c)
 */
struct pgw_wait;
void integ_target_wait(void *ctx, const struct pgw_wait *wt);
void integ_note_queue(struct integ *in);
/* A source transaction held 2 s or more before its commit (in->held, a
 * PostgreSQL streamed one) is the wait "held", with its size, until none is
 * held; a target or queue wait is shown first. */
void integ_note_held(struct integ *in);
void integ_wait_clear(struct integ *in);

/* A source schema change, applied to the target by definition diff (ddl.c). */
int  integ_apply_ddl(struct integ *in, const struct zschema_change *sc);

#endif
