/*
 * apply.c — a streaming round: the reader thread decodes the source log
 * into the bounded queue; this (the supervisor's) thread pops it, batches
 * committed transactions and applies each batch in one target transaction
 * that also writes the checkpoint.
 *
 * Batching is group commit: a batch closes at a source COMMIT once it holds
 * apply.batch_rows changes or apply.batch_ms has passed since it opened; when
 * no committed transaction waits in the queue behind it (or a heartbeat says
 * the source has nothing more), already a short linger after it opened
 * (apply_linger_ms: none while the stream is live, else, once the source
 * commits popped are LINGER_BEHIND_MS old, in proportion to what a batch
 * lately cost to apply, 1 to LINGER_MAX_MS). So a live stream's change is
 * applied as soon as the applier is free, and under load, while one batch
 * applies, the queue fills and the next batch is bigger; behind, the linger
 * makes batches bigger still. A transaction bigger than
 * the byte budget is applied in pieces into one open target transaction, and
 * committed (with its checkpoint) only at its source COMMIT: memory stays
 * bounded and the target never shows half a source transaction.
 *
 * Idle: a heartbeat with nothing pending moves the checkpoint to the
 * heartbeat's position (at most every IDLE_CHECKPOINT_MS), so a PostgreSQL
 * slot on a quiet database does not retain WAL without bound.
 *
 * The checkpoint only moves forward. A heartbeat may lag what is applied: a
 * walsender started at our checkpoint reports its slot's confirmed_flush
 * (sentPtr starts there) and then the records it decodes on its way up to
 * the start, all below it. Written, such a position would make the next
 * round stream again transactions the target holds: a keyed table absorbs
 * that, a table without a key gets each row twice. commit_batch refuses it.
 *
 * Schema changes are applied by comparing definitions (target_ensure_table's
 * diff), so replaying one after a crash is a no-op.
 */
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/base/clock.h"
#include "runtime/integ/drift.h"
#include "runtime/integ/integ.h"
#include "runtime/pipe/queue.h"
#include "runtime/source/source.h"
#include "runtime/target/target.h"

#define IDLE_CHECKPOINT_MS 5000
#define LAG_SAMPLE_MS      1000
#define COMMAND_POLL_MS    250
#define TARGET_PROBE_MS    5000     /* idle: prove the target still answers */
#define LINGER_MAX_MS        20     /* a caught-up batch stays open at most this long for more */
#define LINGER_PER_COST       4     /* ... and at most this many times what a batch costs to apply */
#define LINGER_BEHIND_MS    100     /* ... and only once the source commits popped are this old */

struct applier {
    struct integ  *in;
    struct zbatch *b;
    int      txn_open;          /* a target transaction is open */
    int      in_src_txn;        /* between BEGIN and COMMIT of a source transaction */
    int      resync_due;        /* a poll found us inside a source transaction: drive the
                                   resyncs at its COMMIT (under steady load a poll may
                                   rarely fall between two transactions) */
    struct ztxn last;           /* last source commit added to the batch */
    int      have_last;
    int64_t  batch_opened;      /* mono ms of the batch's first commit, 0 none */
    int      caught_up;         /* nothing committed waits in the queue: close the batch soon */
    uint64_t txns, rows, bytes; /* in the batch, for the activity row */
    struct zpos from;           /* checkpoint before the batch */
    int64_t  last_checkpoint_mono;  /* last checkpoint written (idle checkpoints) */
    int64_t  last_target_mono;      /* last time the target answered (idle probe) */
    size_t   budget;            /* bytes a batch may hold before it is applied */
    struct projection proj;     /* row layout → catalog definition */
    struct zpos stream_end;     /* end of the last source commit seen in the stream */
    uint64_t commit_lsn;        /* PostgreSQL: commit LSN of the transaction being popped */
    int64_t  batch_cost_us;     /* moving average of what applying and committing a batch took */
    int64_t  behind_us;         /* the last source commit popped: how long ago it was made
                                   (our clock − its commit time; 0 unknown) */
    struct itable *fault;       /* the table a failed apply is the fault of (badtable.c), or NULL */
};

/*
 * How long a caught-up batch stays open for more transactions. Not at all
 * while the stream is live (the last source commit popped was made less
 * than LINGER_BEHIND_MS ago): the applier then keeps up, and when it is busy
 * the queue fills and the next batch takes all that waits — group commit
 * without waiting, whatever the batches cost. Lingering there only adds lag.
 * Traced (bench/partial/stream22-*.md): at 5k rows/s in commits every
 * ~1.8 ms, a rule that lingered once a batch cost a third of the gap
 * between commits held each ~0.9 ms batch 3–4 ms (p50 lag 11.6 ms against
 * 6.9 without); at 8k inserts/s with updates and deletes in commits every
 * ~0.6 ms, one that lingered once a batch cost the whole gap held every
 * batch (~100 transactions, ~7 ms) the full 20 ms: its rows committed in
 * the target 20 ms after their source commit, where the applier needed 7.
 * Behind — the source is the bottleneck (on a small machine the walsender,
 * whose CPU each extra target commit takes) — in proportion to what a batch
 * has lately cost to apply and commit, at least 1 ms, at most LINGER_MAX_MS
 * and batch_ms: the target then sees fewer, bigger transactions.
 */
int apply_linger_ms(int64_t batch_cost_us, int64_t behind_us, int batch_ms)
{
    if (behind_us < (int64_t)LINGER_BEHIND_MS * 1000) return 0;
    int64_t ms = (batch_cost_us * LINGER_PER_COST + 999) / 1000;
    int cap = batch_ms < LINGER_MAX_MS ? batch_ms : LINGER_MAX_MS;
    if (ms > cap) ms = cap;
    return ms < 1 ? 1 : (int)ms;
}

/* ---- applying and checkpointing -------------------------------------------------- */

static int fail_target(struct integ *in, const char *what)
{
    snprintf(in->err, sizeof in->err, "target: %s: %s", what, target_error(in->tgt));
    return -1;
}

/* Apply what the batch holds into the open target transaction (opening it). */
static int apply_pending(struct applier *a)
{
    struct integ *in = a->in;
    if (!a->txn_open) {
        if (target_begin(in->tgt) != 0) return fail_target(in, "begin");
        a->txn_open = 1;
    }
    if (!zbatch_empty(a->b)) {
        /* Table by table, so an error names the table it came from. */
        for (int i = 0; i < a->b->ntables; i++) {
            struct zbatch one;
            zbatch_view(a->b, i, &one);
            if (target_apply(in->tgt, &one) == 0) continue;
            const struct ztable *d = a->b->tables[i].def;
            if (integ_error_is_table(target_sqlstate(in->tgt)))
                a->fault = integ_find_table(in, d->schema, d->name);
            return fail_target(in, "apply");
        }
        zbatch_reset(a->b);
    }
    return 0;
}

/*
 * A change of t cannot be stored (why): t fails at this point in the stream,
 * and its later changes are skipped (on_row). Changes of t already in the
 * open batch are before the failure and stay; the checkpoint moves on for
 * the others. A resync of t in flight is given up, and its mark removed in
 * the open transaction: a failed table is copied again only when asked.
 */
static int fail_table_here(struct applier *a, struct itable *t, const char *why)
{
    struct integ *in = a->in;
    char pos[ZPOS_FILE_MAX + ZPOS_GTID_MAX + 32], reason[2048];
    zpos_format(&a->stream_end, pos, sizeof pos);
    snprintf(reason, sizeof reason, "table %.200s, in the source transaction after %.300s: %.768s",
             t->source, pos, why);
    if (integ_resync_diverts(in, t)) {
        integ_resync_abort(in);
        t->resync_requested = 0;
        if (apply_pending(a) != 0) return -1;
        if (target_resync_unmark(in->tgt, t->source) != 0) return fail_target(in, "resync mark");
    }
    integ_fail_table(in, t, reason);
    return 0;
}

/*
 * Lag's basis (statelog.h "Lag"): the source commit time of the oldest
 * change not yet applied (in the batch or still queued), else the last
 * proof that the source was current (a heartbeat's arrival, or the commit
 * just applied). Readers compute lag = now − basis, so it keeps growing
 * while this thread is stuck in a target call or the round has ended.
 * b->at 0: no basis yet (nothing is written: the log keeps the last one).
 */
static void compute_basis(struct integ *in, int64_t now, struct statelog_lag_basis *b,
                          int64_t *behind)
{
    struct cqueue_stats st;
    cqueue_get_stats(in->q, &st);
    int64_t oldest_us = in->oldest_pending_us;
    if (st.oldest_commit_us && (!oldest_us || st.oldest_commit_us < oldest_us))
        oldest_us = st.oldest_commit_us;
    *b = (struct statelog_lag_basis){.stall_ms = (int64_t)in->cfg->alerts.stall_seconds * 1000};
    if (oldest_us) {
        int res = atomic_load(&in->commit_res_ms);
        b->at = oldest_us / 1000;
        b->pending = 1;
        b->res_ms = res > 0 ? res : 1;
        if (!in->basis_pending) in->wait_since_ms = now;    /* changes begin to wait */
        b->wait_since = in->wait_since_ms;
    } else if (in->proof_ms) {
        b->at = in->proof_ms;
        b->res_ms = in->proof_res_ms > 0 ? in->proof_res_ms : 1;
    }
    *behind = (int64_t)st.bytes_queued;
}

/* Write the basis (inside the caller's transaction, if any); the lag it
 * gives now, for the legacy lag_ms column and the samples. */
static int64_t write_basis(struct integ *in, int64_t now, int64_t *behind)
{
    struct statelog_lag_basis b;
    compute_basis(in, now, &b, behind);
    if (!b.at) return -1;
    if (statelog_set_lag_basis(in->sl, in->cfg->name, &b) == 0) in->basis_pending = b.pending;
    return statelog_lag_at(&b, now);
}

/*
 * The source's own position (statelog.h "Source position"), as the reader
 * last saw it, against the applied one: kept by the reader's sink (a
 * heartbeat, a commit's end) without a round trip, written with the
 * periodic lag write and while a target call waits (integ_write_source,
 * state.c).
 */
static void note_source(struct integ *in, const struct zpos *p)
{
    if (p->kind == ZPOS_NONE) return;
    pthread_mutex_lock(&in->src_mu);
    in->src_pos.kind = p->kind;
    in->src_pos.offset = p->offset;
    memcpy(in->src_pos.file, p->file, sizeof in->src_pos.file);
    in->src_pos.gtid[0] = '\0';                /* file:pos or an LSN is what is compared */
    in->src_pos_ms = zclock_wall_ms();
    pthread_mutex_unlock(&in->src_mu);
}

/* The commit time of the checkpoint at pos (commit_time_us 0: a heartbeat's,
 * which says nothing of when its file was last written). */
static void note_checkpoint_commit(struct integ *in, const struct zpos *pos, int64_t commit_time_us)
{
    if (pos->kind != ZPOS_BINLOG) return;
    if (commit_time_us > 0) {
        in->ckpt_commit_ms = commit_time_us / 1000;
        snprintf(in->ckpt_commit_file, sizeof in->ckpt_commit_file, "%s", pos->file);
    } else if (strcmp(pos->file, in->ckpt_commit_file) != 0) {
        in->ckpt_commit_ms = 0;                 /* a new file, nothing applied from it yet */
        in->ckpt_commit_file[0] = '\0';
    }
}

static void record_batch(struct applier *a, const struct zpos *to, int64_t took_ms)
{
    struct integ *in = a->in;
    char from[ZPOS_FILE_MAX + ZPOS_GTID_MAX + 32], top[sizeof from];
    zpos_format(&a->from, from, sizeof from);
    zpos_format(to, top, sizeof top);
    int64_t ins = 0, upd = 0, del = 0, now = zclock_wall_ms();
    statelog_begin(in->sl);
    for (int i = 0; i < in->ntables; i++) {
        struct itable *t = &in->tables[i];
        if (!t->ins && !t->upd && !t->del) continue;
        ins += t->ins; upd += t->upd; del += t->del;
        statelog_add_table_counts(in->sl, in->cfg->name, t->source, t->ins, t->upd, t->del, 0, now);
        t->ins = t->upd = t->del = 0;
    }
    if (a->txns || ins || upd || del) {
        struct statelog_activity act = {
            .integration = (char *)in->cfg->name, .at = now, .pos_from = from, .pos_to = top,
            .transactions = (int64_t)a->txns, .inserted = ins, .updated = upd, .deleted = del,
            .bytes = (int64_t)a->bytes, .duration_ms = took_ms,
        };
        statelog_record_activity(in->sl, &act);
    }
    int64_t behind, lag = write_basis(in, now, &behind);
    statelog_update_position(in->sl, in->cfg->name, top, lag, behind);
    integ_write_source(in);
    statelog_commit(in->sl);
}

/* Commit the batch up to the last source commit, with its checkpoint. */
static int commit_batch(struct applier *a, const struct zpos *pos, int64_t commit_time_us)
{
    struct integ *in = a->in;
    int64_t t0 = zclock_mono_us();
    if (zpos_before(pos, &in->applied)) {
        /* Nothing may do this (the header comment): should something, the
         * round stops loudly rather than the target diverging silently. */
        char p[ZPOS_FILE_MAX + ZPOS_GTID_MAX + 32], q[sizeof p];
        zpos_format(pos, p, sizeof p);
        zpos_format(&in->applied, q, sizeof q);
        snprintf(in->err, sizeof in->err, "the checkpoint would move back from %.300s to %.300s; nothing was committed "
                 "(the round starts again from the target's checkpoint)", q, p);
        return -1;
    }
    if (apply_pending(a) != 0) return -1;
    if (target_commit(in->tgt, pos, commit_time_us) != 0) {
        a->txn_open = 0;
        return fail_target(in, "commit");
    }
    a->txn_open = 0;
    in->applied = *pos;
    in->oldest_pending_us = 0;      /* everything up to pos is applied */
    in->wait_since_ms = zclock_wall_ms();   /* the applied position moved */
    /* A busy MariaDB sends no heartbeats: the commit just applied proves the
     * source was at least that current (lag then grows from it, as from a
     * heartbeat, once nothing is pending), to its timestamp's resolution. */
    if (commit_time_us / 1000 > in->proof_ms) {
        in->proof_ms = commit_time_us / 1000;
        in->proof_res_ms = atomic_load(&in->commit_res_ms) > 1 ? 1000 : 1;
    }
    if (pos->kind == ZPOS_LSN) atomic_store(&in->flushed_lsn, pos->offset);
    note_checkpoint_commit(in, pos, commit_time_us);
    int64_t cost = zclock_mono_us() - t0;
    record_batch(a, pos, cost / 1000);
    a->batch_cost_us = a->batch_cost_us ? (a->batch_cost_us * 7 + cost) / 8 : cost;
    a->from = *pos;
    a->txns = a->rows = a->bytes = 0;
    a->batch_opened = 0;
    a->caught_up = 0;
    a->have_last = 0;
    a->last_checkpoint_mono = a->last_target_mono = zclock_mono_ms();
    in->oldest_pending_us = 0;
    return 0;
}

static int flush(struct applier *a)
{
    if (!a->have_last) return 0;
    return commit_batch(a, &a->last.end, a->last.commit_time_us);
}

/* ---- items ------------------------------------------------------------------------- */

static int on_row(struct applier *a, const struct zrowchange *rc)
{
    struct integ *in = a->in;
    struct itable *t = integ_find_table(in, rc->table->schema, rc->table->name);
    if (!t) return 0;       /* not selected: the decoder's filter let a definition through */
    if (t->state == TSTATE_RESYNC_REQUIRED || t->state == TSTATE_FAILED ||
        t->state == TSTATE_DROPPED_SOURCE)
        return 0;           /* out of sync until resynced; its resync copies it afresh */
    if (t->skip_until.kind != ZPOS_NONE) {
        /* After a resync: skip what the copy holds (a transaction that began
         * before its binlog position, or committed below its consistent
         * point); the stream is in commit order, so the first one it does not
         * hold ends the skipping. */
        if (zpos_txn_in_copy(&a->stream_end, a->commit_lsn, &t->skip_until)) return 0;
        t->skip_until.kind = ZPOS_NONE;
    }
    struct zrowchange p;
    char why[768];
    int pr = integ_project(&a->proj, t, rc, &p);
    if (pr == 1) return 0;                      /* not for the target: its row filter */
    if (pr == INTEG_ROW_FAILS) {
        snprintf(why, sizeof why, "%s", a->proj.err);   /* its filter failed on the row */
        return fail_table_here(a, t, why);
    }
    if (pr < 0) {
        snprintf(in->err, sizeof in->err, "out of memory mapping rows of %s", t->source);
        return -1;
    }
    if (rc->op == ZOP_OVERSIZE) {               /* the reader's sink refused it (reader_row) */
        integ_row_too_big(in, t->def, p.before, rc->after && rc->table->ncols ? rc->after[0].v.u : 0,
                          why, sizeof why);
        return fail_table_here(a, t, why);
    }
    if (integ_row_refused(in, t, &p, why, sizeof why)) return fail_table_here(a, t, why);
    if (integ_resync_diverts(in, t)) {          /* being copied again: wait in the spool */
        struct zrowchange live;
        int d = integ_resync_divert(in, t, &p, &a->stream_end, a->commit_lsn, &live);
        if (d <= 0) return d;
        if (live.op == ZOP_TRUNCATE) {
            /* A chunked copy cannot judge a TRUNCATE by key: what waits in
             * the spool is older than it. The copy stops and resumes after
             * its frontier, with chunks read after this (resync.c). */
            integ_resync_abort(in);
            integ_log(in, STATELOG_INFO, t->source, "resync", "the table was truncated at the source during "
                      "its chunked copy: the copy goes on from its last handed-off chunk");
        }
        p = live;                               /* a row copied already: applies as usual */
    }
    a->b->refused = 0;
    if (target_add(in->tgt, a->b, &p, t->tschema, t->tname, 0) != 0) {
        /* The change's own shape (a keyless table's update without the full
         * old row): that table fails with the reason, the others go on. */
        if (a->b->refused) return fail_table_here(a, t, a->b->err);
        snprintf(in->err, sizeof in->err, "table %s: %s", t->source, a->b->err);
        return -1;
    }
    switch (rc->op) {
    case ZOP_INSERT: t->ins++; break;
    case ZOP_UPDATE: t->upd++; break;
    case ZOP_DELETE: t->del++; break;
    case ZOP_TRUNCATE: case ZOP_OVERSIZE: break;
    }
    a->rows++;
    if (zbatch_bytes(a->b) > a->budget) return apply_pending(a);
    return 0;
}

static int on_schema(struct applier *a, const struct zschema_change *sc)
{
    struct integ *in = a->in;
    /* DDL arrives between transactions: everything before it is committed first.
     * A resync in flight copies a definition the DDL may change: it starts over. */
    integ_resync_abort(in);
    if (flush(a) != 0) return -1;
    if (a->txn_open) {
        if (target_rollback(in->tgt) != 0) return fail_target(in, "rollback");
        a->txn_open = 0;
    }
    return integ_apply_ddl(in, sc);
}

/* ---- resync of one table while the others stream (resync.c) --------------------------- */

static int apply_cb(void *ctx) { return apply_pending(ctx); }

/* At a source-transaction boundary: finish the resyncs whose copy is done
 * (or hand off their chunks), and start those asked for while fewer than
 * apply.copy_workers run. */
static int drive_resync(struct applier *a)
{
    struct integ *in = a->in;
    while (integ_resync_ready(in)) {
        int r = integ_resync_replay(in, a->b, a->budget, apply_cb, a);
        if (r < 0) return -1;
        /* The spool's changes and the mark's removal (a chunk's hand-off:
         * the copy's progress; a failed copy: its progress reset, an initial
         * copy's table emptied) commit with the checkpoint. */
        if ((a->have_last ? flush(a) : commit_batch(a, &in->applied, 0)) != 0) return -1;
        if (r == 0) {
            integ_resync_done(in);
            in->last_lag_sample_ms = 0;         /* the state reviewed now (sample_lag), not in a second */
        }
    }
    for (int i = 0; i < in->ntables && in->nresync < integ_copy_workers(in); i++) {
        struct itable *t = &in->tables[i];
        if (!t->resync_requested || integ_resync_diverts(in, t)) continue;
        if (t->state == TSTATE_DROPPED_SOURCE) {
            t->resync_requested = 0;
            continue;
        }
        if (flush(a) != 0) return -1;           /* the mark must commit on its own */
        if (a->txn_open) {
            if (target_rollback(in->tgt) != 0) return fail_target(in, "rollback");
            a->txn_open = 0;
        }
        if (integ_resync_start(in, t) != 0) return -1;
    }
    return 0;
}

static void sample_lag(struct applier *a)
{
    struct integ *in = a->in;
    int64_t now = zclock_wall_ms(), behind;
    if (now - in->last_lag_sample_ms < LAG_SAMPLE_MS) return;
    in->last_lag_sample_ms = now;
    statelog_begin(in->sl);
    int64_t lag = write_basis(in, now, &behind);
    integ_review_state(in, lag);
    statelog_record_lag(in->sl, in->cfg->name, now, lag, behind);
    char pos[ZPOS_FILE_MAX + ZPOS_GTID_MAX + 32];
    zpos_format(&in->applied, pos, sizeof pos);
    statelog_update_position(in->sl, in->cfg->name, in->applied.kind ? pos : NULL, lag, behind);
    integ_write_source(in);
    statelog_commit(in->sl);
}

/* Caught up, between target transactions: a synced table's row counts,
 * source against target, when one is due (drift.c rate-limits). */
static void drift_when_caught_up(struct applier *a, struct drift *d)
{
    struct integ *in = a->in;
    if (!a->in_src_txn && !a->txn_open && !a->have_last && !in->oldest_pending_us &&
        cqueue_txns_queued(in->q) == 0)
        drift_step(d, in);
}

/* ---- the reader thread ------------------------------------------------------------------ */

/*
 * The reader's sink: the queue's, except that a row over integ_row_limit
 * goes in as a small ZOP_OVERSIZE marker (change.h). The queue, its spool
 * and the applier then never copy it: such a row costs only the source's
 * own buffer for it, and its table fails with the size (on_row).
 */
struct reader_sink {
    struct zsink q;             /* the queue's */
    struct integ *in;
    struct zvalue *img;         /* the marker's two images */
    int cap;                    /* columns img has room for */
};

static int reader_begin(void *c, const struct ztxn *t) { struct reader_sink *s = c; return s->q.begin(s->q.ctx, t); }
static int reader_commit(void *c, const struct ztxn *t)
{
    struct reader_sink *s = c;
    /* Only here does the transaction say how fine its commit time is. */
    atomic_store(&s->in->commit_res_ms, t->commit_time_whole_s ? 1000 : 1);
    note_source(s->in, &t->end);
    return s->q.commit(s->q.ctx, t);
}
static int reader_schema(void *c, const struct zschema_change *sc)
{
    struct reader_sink *s = c;
    return s->q.schema(s->q.ctx, sc);
}
static int reader_heartbeat(void *c, const struct zpos *pos, int64_t now_us)
{
    struct reader_sink *s = c;
    note_source(s->in, pos);        /* before the queue, which drops it when full */
    return s->q.heartbeat(s->q.ctx, pos, now_us);
}

static int reader_row(void *c, const struct zrowchange *rc)
{
    struct reader_sink *s = c;
    int n = rc->table->ncols;
    if (rc->op == ZOP_TRUNCATE || n == 0 || integ_row_bytes(rc->table, rc) <= integ_row_limit(s->in))
        return s->q.row(s->q.ctx, rc);
    if (n > s->cap) {
        struct zvalue *v = realloc(s->img, (size_t)n * 2 * sizeof *v);
        if (!v) return -1;
        s->img = v;
        s->cap = n;
    }
    const struct zvalue *src = rc->after ? rc->after : rc->before;
    for (int i = 0; i < n; i++) {
        s->img[i] = src[i];
        if ((src[i].kind == ZV_TEXT || src[i].kind == ZV_BYTES) && src[i].len > 64)
            s->img[i] = (struct zvalue){.kind = ZV_NULL};
        s->img[n + i] = (struct zvalue){.kind = ZV_NULL};
    }
    s->img[n] = (struct zvalue){.kind = ZV_UINT, .v.u = integ_row_bytes(rc->table, rc)};
    struct zrowchange m = {.op = ZOP_OVERSIZE, .table = rc->table, .before = s->img, .after = s->img + n,
};
    return s->q.row(s->q.ctx, &m);
}

static void *reader_main(void *arg)
{
    pthread_setname_np(pthread_self(), "z-read");   /* top -H, gdb */
    struct integ *in = arg;
    struct reader_sink rs = {.q = cqueue_sink(in->q), .in = in};
    struct zsink sink = {.ctx = &rs, .begin = reader_begin, .row = reader_row, .schema = reader_schema,
                         .commit = reader_commit, .heartbeat = reader_heartbeat};
    in->reader_rc = source_stream(in, &sink, in->reader_err, sizeof in->reader_err);
    free(rs.img);
    cqueue_stop(in->q);             /* wake the applier: the stream ended */
    return NULL;
}

static void stop_reader(struct integ *in)
{
    if (!in->reader_running) return;
    atomic_store(&in->stop_reader, 1);
    linkcut_fire(&in->rcut);        /* a read blocked on a frozen link ends now (linkcut.h) */
    cqueue_stop(in->q);
    pthread_join(in->reader, NULL);
    in->reader_running = 0;
}

/* ---- the round ------------------------------------------------------------------------ */

/* Where the round resumes: the target's checkpoint, once any resync it cut
 * short is marked to run again (resync.c). 0, or -1 with in->err; nothing
 * is open yet. */
static int stream_resume(struct integ *in, struct applier *a)
{
    if (integ_connect_target(in) != 0) return -1;
    int64_t ckpt_commit_us = 0;
    if (target_read_checkpoint(in->tgt, &in->resume, &ckpt_commit_us) < 0)
        return fail_target(in, "read checkpoint");
    if (in->resume.kind == ZPOS_NONE) {
        snprintf(in->err, sizeof in->err, "no checkpoint in the target: the initial copy did not finish");
        return -1;
    }
    if (integ_resync_marked(in) != 0) return -1;
    in->applied = in->resume;
    note_checkpoint_commit(in, &in->resume, ckpt_commit_us);
    pthread_mutex_lock(&in->src_mu);            /* the reader is not running yet */
    in->src_pos.kind = ZPOS_NONE;               /* until this round's reader sees the source */
    pthread_mutex_unlock(&in->src_mu);
    a->from = in->resume;
    a->stream_end = in->resume;
    if (in->resume.kind == ZPOS_LSN) atomic_store(&in->flushed_lsn, in->resume.offset);
    return 0;
}

/* The batch, the queue and the reader thread; tables the copy left pending
 * are synced from here on. 0, or -1 with in->err (stream_close closes what
 * was opened). */
static int stream_open(struct integ *in, struct applier *a)
{
    char qerr[512];
    size_t budget = (size_t)in->cfg->apply.memory_mb << 20;
    a->budget = budget / 2;         /* half for the queue, half for the batch */
    a->b = zbatch_new();
    if (!a->b || cqueue_open(&in->q, budget / 2, in->root->state_dir, in->cfg->name, qerr, sizeof qerr) != 0) {
        snprintf(in->err, sizeof in->err, "%s", a->b ? qerr : "out of memory");
        return -1;
    }
    atomic_store(&in->stop_reader, 0);
    if (!atomic_load(&in->stop)) linkcut_rearm(&in->rcut);
    in->reader_rc = 0;
    in->reader_err[0] = '\0';
    if (pthread_create(&in->reader, NULL, reader_main, in) != 0) {
        snprintf(in->err, sizeof in->err, "cannot start the reader thread");
        return -1;
    }
    in->reader_running = 1;
    in->streaming = 1;
    for (int i = 0; i < in->ntables; i++)    /* added since the checkpoint: streams from it */
        if (in->tables[i].state == TSTATE_PENDING && !in->tables[i].initial)
            integ_set_table_state(in, &in->tables[i], TSTATE_SYNCED, NULL, NULL);
    integ_review_state(in, -1);     /* active, or needs_attention for a failed table */
    a->last_checkpoint_mono = a->last_target_mono = zclock_mono_ms();
    return 0;
}

/* Every COMMAND_POLL_MS: a stop or an operator command, the resync, the lag
 * sample, the idle target's probe, the drift check. 0 go on; 1 the round
 * ends with *end; -1 an error (in->err). */
static int stream_poll(struct applier *a, struct drift *d, int64_t now, enum integ_round *end)
{
    struct integ *in = a->in;
    if (atomic_load(&in->stop)) {
        *end = ROUND_STOPPED;
        return 1;
    }
    enum integ_round r = integ_poll_commands(in);
    if (r != ROUND_NONE) {
        *end = r;
        return 1;
    }
    if (a->in_src_txn) a->resync_due = 1;
    else if (drive_resync(a) != 0) return -1;
    sample_lag(a);
    integ_note_queue(in);           /* the reader waiting on us (wait.c) */
    integ_note_held(in);            /* a source transaction held until its commit */
    /* With nothing to apply the target is never touched: probe it, so
     * an unreachable warehouse shows as failed, not as a quiet "active". */
    if (!a->txn_open && now - a->last_target_mono >= TARGET_PROBE_MS) {
        struct zpos probe;
        if (target_read_checkpoint(in->tgt, &probe, NULL) < 0) return fail_target(in, "probe");
        a->last_target_mono = now;
    }
    drift_when_caught_up(a, d);
    return 0;
}

/* The queue gave out: the reader ended (the stream failed or ended, or the
 * source no longer has the position) or the queue failed. The round's end,
 * with in->err. */
static enum integ_round stream_ended(struct integ *in)
{
    char qe[512];
    int qfailed = cqueue_error(in->q, qe, sizeof qe);
    stop_reader(in);
    if (qfailed) {
        snprintf(in->err, sizeof in->err, "change queue: %s", qe);
        return ROUND_ERROR;
    }
    if (in->reader_rc == SOURCE_POSITION_LOST) {
        snprintf(in->err, sizeof in->err, "%s", in->reader_err);
        return ROUND_POSITION_LOST;
    }
    snprintf(in->err, sizeof in->err, "%s", in->reader_err[0] ? in->reader_err : "the source stream ended");
    return ROUND_ERROR;
}

/* One item from the queue: into the batch, or what it says of the source. 0, or -1 with in->err. */
static int stream_item(struct applier *a, const struct cq_item *it)
{
    struct integ *in = a->in;
    switch (it->kind) {
    case CQ_BEGIN:
        a->in_src_txn = 1;
        a->commit_lsn = it->txn.commit_lsn;
        target_txn_begin(in->tgt, &it->txn, &a->stream_end);
        zbatch_set_time(a->b, it->txn.commit_time_us);     /* a soft delete's time (pg_apply.c) */
        if (!in->oldest_pending_us) in->oldest_pending_us = it->txn.commit_time_us;
        /* Changes begin to wait: say so before an apply that may block
         * (a locked table), so the lag grows from this commit and the
         * stall is seen; under load the basis already says pending. */
        if (!in->basis_pending) {
            int64_t behind;
            write_basis(in, zclock_wall_ms(), &behind);
        }
        return 0;
    case CQ_ROW:
        return on_row(a, &it->row);
    case CQ_SCHEMA:
        return on_schema(a, &it->schema);
    case CQ_COMMIT:
        a->in_src_txn = 0;
        a->stream_end = it->txn.end;
        a->last = it->txn;
        a->have_last = 1;
        a->txns++;
        a->bytes += it->txn.bytes;
        a->behind_us = it->txn.commit_time_us > 0 ? zclock_wall_us() - it->txn.commit_time_us : 0;
        if (!in->oldest_pending_us) in->oldest_pending_us = it->txn.commit_time_us;
        if (!a->batch_opened) a->batch_opened = zclock_mono_ms();
        /* Group commit: the batch closes when it is full; when no
         * committed transaction waits behind this one (caught up), at
         * most apply_linger_ms after it opened; else at batch_ms.
         * Under load the queue fills while a batch applies, so batches
         * grow by themselves; a quiet source's change waits milliseconds. */
        a->caught_up = cqueue_txns_queued(in->q) == 0;
        if (a->rows >= (uint64_t)in->cfg->apply.batch_rows && flush(a) != 0) return -1;
        if (a->resync_due) {
            a->resync_due = 0;
            if (drive_resync(a) != 0) return -1;
        }
        return 0;
    case CQ_HEARTBEAT:
        in->proof_ms = zclock_wall_ms();        /* its arrival: our clock, to the millisecond */
        in->proof_res_ms = 1;
        if (a->in_src_txn) return 0;
        if (a->have_last) {
            /* The source has nothing more: the batch closes within the
             * linger. Not at once: a walsender sends a keepalive whenever
             * it waits for WAL, which under a stream of small transactions
             * is between nearly every two of them, and one target
             * transaction per source transaction falls behind. */
            if (cqueue_txns_queued(in->q) == 0) a->caught_up = 1;
        } else if ((zclock_mono_ms() - a->last_checkpoint_mono >= IDLE_CHECKPOINT_MS ||
                    integ_resync_running(in)) &&   /* a hand-off waits for the checkpoint (resync.c) */
                   it->pos.kind != ZPOS_NONE &&
                   (in->applied.kind == ZPOS_NONE || zpos_before(&in->applied, &it->pos))) {
            /* Only forward: a walsender's first keepalives lag our start (header comment). */
            if (commit_batch(a, &it->pos, 0) != 0) return -1;
        }
        return 0;
    }
    return 0;
}

/* A clean end (stop, pause, delete): finish the batch at its last commit.
 * In the middle of a source transaction the batch (and the open target
 * transaction) hold part of it, mixed with whole ones: drop them all — the
 * checkpoint stays where it was and the source sends every one of them
 * again. The round's end (ROUND_ERROR when the last batch failed). */
static enum integ_round stream_finish(struct applier *a, enum integ_round end)
{
    struct integ *in = a->in;
    stop_reader(in);
    if (a->in_src_txn) {
        if (a->txn_open) target_rollback(in->tgt);
        a->txn_open = 0;
        a->have_last = 0;
    }
    if (end != ROUND_DELETED && flush(a) != 0) end = ROUND_ERROR;
    if (a->txn_open) target_rollback(in->tgt);
    a->txn_open = 0;
    return end;
}

/* The target refused what one table's changes asked: everything since the
 * checkpoint is rolled back, that table fails, and the next round replays
 * the others from the checkpoint at once. resyncing: the table was being
 * resynced, whose mark goes (failed waits for the operator, not a copy). */
static void fail_refused_table(struct applier *a, int resyncing)
{
    struct integ *in = a->in;
    char pos[ZPOS_FILE_MAX + ZPOS_GTID_MAX + 32], reason[2048];
    zpos_format(&a->from, pos, sizeof pos);
    snprintf(reason, sizeof reason, "table %.200s: the target refused its changes after %.300s: %.1024s; "
             "fix the data or the target table, then resync the table", a->fault->source, pos, in->err);
    if (resyncing) {
        a->fault->resync_requested = 0;
        if (target_begin(in->tgt) != 0 || target_resync_unmark(in->tgt, a->fault->source) != 0 ||
            target_commit(in->tgt, NULL, 0) != 0) {
            target_rollback(in->tgt);
            integ_log(in, STATELOG_WARNING, a->fault->source, "resync",
                      "cannot remove the resync mark (the next round copies the table again): %s",
                      target_error(in->tgt));
        }
    }
    integ_fail_table(in, a->fault, reason);
}

/* Whatever the round opened is closed, whichever way it ended; a table the
 * target refused fails alone (ROUND_TABLE_FAILED). The round's end. */
static enum integ_round stream_close(struct applier *a, enum integ_round end)
{
    struct integ *in = a->in;
    in->streaming = 0;
    int fault_resyncing = a->fault && integ_resync_diverts(in, a->fault);
    integ_resync_abort(in);         /* its mark stays: the next round copies it again */
    if (a->txn_open) target_rollback(in->tgt);
    a->txn_open = 0;
    stop_reader(in);
    if (end == ROUND_ERROR && a->fault) {
        fail_refused_table(a, fault_resyncing);
        end = ROUND_TABLE_FAILED;
    }
    if (in->q) cqueue_close(in->q);
    in->q = NULL;
    /* Definitions the queue handed out die with it: forget cached row maps. */
    for (int i = 0; i < in->ntables; i++) in->tables[i].map_src = NULL;
    zbatch_free(a->b);
    integ_projection_free(&a->proj);
    if (end == ROUND_ERROR && !in->err[0]) snprintf(in->err, sizeof in->err, "unknown error");
    return end;
}

enum integ_round integ_stream(struct integ *in)
{
    struct applier a = {.in = in};
    struct drift drift;
    enum integ_round end = ROUND_ERROR;
    in->err[0] = '\0';

    if (stream_resume(in, &a) != 0) return ROUND_ERROR;
    if (stream_open(in, &a) != 0) return stream_close(&a, ROUND_ERROR);
    int64_t last_poll = 0;
    drift_init(&drift, in);
    const int batch_ms = in->cfg->apply.batch_ms;
    for (;;) {
        int64_t now = zclock_mono_ms();
        if (now - last_poll >= COMMAND_POLL_MS) {
            last_poll = now;
            int r = stream_poll(&a, &drift, now, &end);
            if (r < 0) return stream_close(&a, ROUND_ERROR);
            if (r > 0) break;
        }
        /* The next poll on time: waiting a whole period from now would, under
         * a steady trickle, let each period end inside a pop that returns a
         * BEGIN, and the poll then always fall inside a source transaction. */
        int wait = (int)(last_poll + COMMAND_POLL_MS - now);
        if (wait < 1) wait = 1;
        if (a.batch_opened) {
            int64_t left = a.batch_opened - now +
                           (a.caught_up ? apply_linger_ms(a.batch_cost_us, a.behind_us, batch_ms) : batch_ms);
            if (left <= 0 && !a.in_src_txn) {
                if (flush(&a) != 0) return stream_close(&a, ROUND_ERROR);
                drift_when_caught_up(&a, &drift);   /* a busy stream is caught up here */
                continue;
            }
            if (left < wait) wait = left > 0 ? (int)left : 1;
        }
        struct cq_item it;
        int got = cqueue_pop(in->q, &it, wait);
        if (got < 0) {
            end = stream_ended(in);
            break;
        }
        if (atomic_exchange(&in->resync_kick, 0)) last_poll = 0;   /* a copy worker's news: poll now */
        if (got > 0 && stream_item(&a, &it) != 0) return stream_close(&a, ROUND_ERROR);
    }
    if (end == ROUND_STOPPED || end == ROUND_PAUSED || end == ROUND_DELETED) end = stream_finish(&a, end);
    return stream_close(&a, end);
}
