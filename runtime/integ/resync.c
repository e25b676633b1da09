/*
 * resync.c — copy one table again while the rest of the integration keeps
 * streaming (DESIGN.md, "Resync without locks").
 *
 *   1. mark     zetl.resyncs gets the table, committed in the target, before
 *               anything else: from here on the checkpoint may move past
 *               changes of this table that live only in the spool, and a
 *               crash must not forget that (integ_resync_marked: the next
 *               round copies it again).
 *   2. divert   the applier writes the table's stream changes, in order, to a
 *               spool file (runtime/pipe/spool.h, records of runtime/pipe/queue_rec.h)
 *               instead of the batch; the other tables apply as usual.
 *   3. copy     a worker thread copies the table in a consistent read on its
 *               own source and target connections, in one target transaction
 *               that truncates it first (integ_copy_table). Its read starts
 *               after the divert began, since the applier is never ahead of
 *               the source.
 *   4. replay   at a source-transaction boundary, once the copy is done and
 *               the checkpoint has reached the copy's position, the applier
 *               reads the spool back into the batch and removes the mark in
 *               the same target transaction as the checkpoint. Changes of
 *               transactions the copy already holds are skipped, the others
 *               applied; the stream skips any later one the copy holds too
 *               (t->skip_until). Without an exact position every change would
 *               be replayed by key: that converges for a table with a key, but
 *               gives a table without one a second copy of each such row.
 *
 * The copy's position is exact for both sources, with a different meaning
 * (zpos_txn_in_copy in runtime/pipe/change.h decides):
 *   MariaDB     binlog_snapshot_file/pos, a transaction boundary: a
 *               transaction is in the copy iff it starts before it (the
 *               spool's transaction marker is where the transaction starts,
 *               the end of the previous commit);
 *   PostgreSQL  the consistent point of the temporary slot whose exported
 *               snapshot the copy read: a transaction is in the copy iff its
 *               commit record's LSN (pgoutput Begin's final_lsn, carried as
 *               ztxn.commit_lsn to the marker) is below it. The end of the
 *               previous commit says nothing here: the consistent point may
 *               lie between it and this transaction's commit.
 *
 * Why this is exact, step by step (PostgreSQL; MariaDB reads the same with
 * "starts before the snapshot position"):
 *   - Transactions popped before the divert began were applied live and
 *     committed before the mark (drive_resync flushes first); the copy's
 *     consistent point is taken later, by the worker, and the applier is
 *     never ahead of the source, so each of them committed below it: the
 *     copy holds them too, and its TRUNCATE + load replaces what they did.
 *   - Every later transaction is popped while diverting, into the spool with
 *     its marker: the replay skips those below the consistent point and
 *     applies the others, in stream order. A commit exactly at the point is
 *     not in the copy (the snapshot sees commits strictly below it) and is
 *     replayed.
 *   - The replay waits (integ_resync_ready) until the checkpoint is at or
 *     past the copy's position, so every transaction the copy holds has been
 *     popped into the spool by then. The first transaction after the replay
 *     commits at or past that checkpoint, above the consistent point: it is
 *     applied live (skip_until clears on its first row of the table;
 *     skip_until is the stream side's guard, and skips nothing when the
 *     replay ran at that point).
 *   - A crash at any moment: until the replay's target transaction commits,
 *     the mark stays in zetl.resyncs and the next round copies the table
 *     again from scratch (integ_resync_marked), whatever the checkpoint
 *     skipped meanwhile and whatever that round streams into the table
 *     before its copy truncates it (the copy, the divert and the replay then
 *     run as above, from that round's checkpoint). The mark goes in the same
 *     transaction as a checkpoint at or past the copy's position, so a
 *     restart after it never streams a transaction the copy holds
 *     (skip_until lives in memory only: waiting for the checkpoint is what
 *     makes losing it harmless).
 *
 * Memory: the spool buffers 128 KiB and the replay applies the batch into the
 * open transaction whenever it passes the budget, so a resync of a busy table
 * costs disk, not memory. One resync runs at a time per integration; other
 * requests wait their turn with resync_requested set.
 *
 * Threads: everything here runs on the applier (supervisor) thread except
 * worker_main; the two share only the struct resync fields marked below.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/integ/integ.h"
#include "runtime/pipe/queue_rec.h"
#include "runtime/pipe/spool.h"
#include "runtime/target/target.h"

struct resync {
    struct integ  *in;
    struct itable *t;
    pthread_t      th;
    int            started;
    /* shared with the worker */
    atomic_int     done;        /* the worker has finished (rc, err, pos set) */
    atomic_int     abort;       /* ask the worker to give up */
    int            rc;
    char           err[1024];
    struct zpos    pos;         /* the copy's exact position, or ZPOS_NONE */
    /* the applier's */
    struct spool  *sp;
    struct zpos    marker;      /* transaction start written last to the spool */
    uint64_t       marker_lsn;  /* and its commit LSN (PostgreSQL; 0 MariaDB) */
    int            have_marker;
    uint64_t       diverted;    /* rows written to the spool */
};

static atomic_uint_fast64_t spool_seq;  /* NAME.resync-SEQ.spool; every supervisor thread takes one */

static void spool_name(const struct integ *in, char *buf, size_t len)
{
    snprintf(buf, len, "%s.resync", in->cfg->name);
}

int integ_resync_marked(struct integ *in)
{
    char **marks = NULL;
    int n = 0;
    if (target_resync_marks(in->tgt, &marks, &n) != 0) {
        snprintf(in->err, sizeof in->err, "target: %s", target_error(in->tgt));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        struct itable *t = NULL;
        for (int k = 0; k < in->ntables && !t; k++)
            if (strcmp(in->tables[k].source, marks[i]) == 0) t = &in->tables[k];
        if (!t || t->resync_requested) continue;     /* no longer selected: nothing to do */
        t->resync_requested = 1;
        integ_set_table_state(in, t, TSTATE_RESYNCING, "a resync was cut short: copying the table again", NULL);
    }
    target_resync_marks_free(marks, n);
    char name[300], e[512];
    spool_name(in, name, sizeof name);
    spool_remove_leftovers(in->root->state_dir, name, e, sizeof e);   /* a dead process's spools */
    return 0;
}

static void *worker_main(void *arg)
{
    pthread_setname_np(pthread_self(), "z-resync");   /* top -H, gdb */
    struct resync *r = arg;
    r->rc = integ_copy_table(r->in, r->t, &r->abort, &r->pos, r->err, sizeof r->err);
    atomic_store(&r->done, 1);
    return NULL;
}

static void resync_free(struct resync *r)
{
    if (!r) return;
    spool_destroy(r->sp);
    free(r);
}

/* Room for a record in the spool; the caller writes it, then spool_done frames it. */
static int spool_put(struct integ *in, struct resync *r, size_t n, uint8_t **body)
{
    char e[512];
    if (spool_reserve(r->sp, n, body, e, sizeof e) != 0) {
        snprintf(in->err, sizeof in->err, "resync of %s: spool: %s", r->t->source, e);
        return -1;
    }
    return 0;
}

static int spool_done(struct integ *in, struct resync *r)
{
    char e[512];
    if (spool_commit(r->sp, e, sizeof e) != 0) {
        snprintf(in->err, sizeof in->err, "resync of %s: spool: %s", r->t->source, e);
        return -1;
    }
    return 0;
}

int integ_resync_start(struct integ *in, struct itable *t)
{
    struct resync *r = calloc(1, sizeof *r);
    char name[300], e[512];
    if (!r) {
        snprintf(in->err, sizeof in->err, "out of memory starting the resync of %s", t->source);
        return -1;
    }
    r->in = in;
    r->t = t;
    if (target_resync_mark(in->tgt, t->source) != 0) {
        snprintf(in->err, sizeof in->err, "target: resync of %s: %s", t->source, target_error(in->tgt));
        free(r);
        return -1;
    }
    spool_name(in, name, sizeof name);
    if (spool_open(&r->sp, in->root->state_dir, name, atomic_fetch_add(&spool_seq, 1) + 1, e, sizeof e) != 0) {
        snprintf(in->err, sizeof in->err, "resync of %s: %s", t->source, e);
        free(r);
        return -1;
    }
    /* The definition every spooled row refers to (slot 1). */
    uint8_t *body;
    if (spool_put(in, r, qrec_table_size(t->tdef), &body) != 0) goto fail;
    qrec_table_write(body, 1, t->tdef);     /* the projected rows' (target names) */
    if (spool_done(in, r) != 0) goto fail;

    t->resync_requested = 0;
    t->skip_until.kind = ZPOS_NONE;
    integ_start_copy(in, t, TSTATE_RESYNCING, "copying the table while the others stream");
    integ_rearm_cut(in);
    if (pthread_create(&r->th, NULL, worker_main, r) != 0) {
        snprintf(in->err, sizeof in->err, "resync of %s: cannot start the copy thread", t->source);
        goto fail;
    }
    r->started = 1;
    in->resync = r;
    integ_log(in, STATELOG_INFO, t->source, "resync", "copying the table again; its changes wait in %s",
              spool_path(r->sp));
    return 0;
fail:
    resync_free(r);
    return -1;
}

int integ_resync_divert(struct integ *in, const struct zrowchange *p, const struct zpos *txn_start,
                        uint64_t commit_lsn)
{
    struct resync *r = in->resync;
    uint8_t *body;
    if (!r->have_marker || r->marker.kind != txn_start->kind || r->marker.offset != txn_start->offset ||
        strcmp(r->marker.file, txn_start->file) != 0 || r->marker_lsn != commit_lsn) {
        /* Where this transaction began, and its commit LSN: the replay skips
         * those the copy holds (zpos_txn_in_copy). end stays the start, which
         * the http target stamps on the replayed events as on live ones. */
        struct ztxn mark = {.end = *txn_start, .commit_lsn = commit_lsn};
        if (spool_put(in, r, qrec_txn_size(&mark), &body) != 0) return -1;
        qrec_txn_write(body, QREC_COMMIT, &mark);
        if (spool_done(in, r) != 0) return -1;
        r->marker = *txn_start;
        r->marker_lsn = commit_lsn;
        r->have_marker = 1;
    }
    uint64_t n;
    if (qrec_row_size(p, &n) != 0 || n > SPOOL_RECORD_MAX) {
        snprintf(in->err, sizeof in->err, "resync of %s: a change cannot be spooled (%s)", r->t->source,
                 n > SPOOL_RECORD_MAX ? "row too large" : "unknown value kind");
        return -1;
    }
    if (spool_put(in, r, (size_t)n, &body) != 0) return -1;
    qrec_row_write(body, 1, p);
    if (spool_done(in, r) != 0) return -1;
    r->diverted++;
    return 0;
}

int integ_resync_ready(struct integ *in)
{
    struct resync *r = in->resync;
    if (!r || !atomic_load(&r->done)) return 0;
    if (r->rc != 0) return 1;                   /* failed: the replay reports it */
    /* Wait for the checkpoint to reach the copy's position (header comment):
     * busy, that is the next batch; idle, the next heartbeat's checkpoint
     * (while a resync runs the applier checkpoints at every heartbeat, not
     * only every IDLE_CHECKPOINT_MS), which proves the source past it. A
     * checkpoint at the position (binlog) or past the consistent point (an
     * LSN: the end of a commit, or a heartbeat's) means every transaction
     * the copy holds has been popped. Positions of another kind (or none)
     * do not wait. */
    return !zpos_before(&in->applied, &r->pos);
}

static void join_worker(struct resync *r)
{
    if (r->started) pthread_join(r->th, NULL);
    r->started = 0;
}

int integ_resync_replay(struct integ *in, struct zbatch *b, size_t budget,
                        int (*apply)(void *ctx), void *ctx)
{
    struct resync *r = in->resync;
    struct itable *t = r->t;
    join_worker(r);
    if (r->rc != 0) {
        integ_set_table_state(in, t, TSTATE_FAILED, r->err, NULL);
        integ_log(in, STATELOG_ERROR, t->source, "resync", "%s", r->err);
        resync_free(r);
        in->resync = NULL;
        return 1;
    }
    char e[512];
    if (spool_flush(r->sp, e, sizeof e) != 0) {
        snprintf(in->err, sizeof in->err, "resync of %s: spool: %s", t->source, e);
        return -1;
    }
    struct qrec_defs defs = {0};
    uint64_t at = 0, limit = spool_written(r->sp), replayed = 0, skipped = 0;
    int skip = 0, rc = -1;
    for (;;) {
        const uint8_t *body;
        uint32_t len;
        uint64_t next;
        int got = spool_next(r->sp, at, limit, &body, &len, &next, e, sizeof e);
        if (got == 0) break;
        if (got < 0) {
            snprintf(in->err, sizeof in->err, "resync of %s: spool: %s", t->source, e);
            goto out;
        }
        at = next;
        struct cq_item it;
        int d = qrec_decode(&defs, body, len, &it);
        if (d < 0) {
            snprintf(in->err, sizeof in->err, "resync of %s: spool %s: a record at offset %llu does not decode",
                     t->source, spool_path(r->sp), (unsigned long long)at);
            goto out;
        }
        if (d == 0) continue;
        if (it.kind == CQ_COMMIT) {             /* a transaction marker (integ_resync_divert) */
            skip = zpos_txn_in_copy(&it.txn.end, it.txn.commit_lsn, &r->pos);
            if (!skip) target_txn_begin(in->tgt, NULL, &it.txn.end);
            continue;
        }
        if (it.kind != CQ_ROW) continue;
        if (skip) { skipped++; continue; }
        if (target_add(in->tgt, b, &it.row, t->tschema, t->tname, 0) != 0) {
            snprintf(in->err, sizeof in->err, "table %s: %s", t->source, b->err);
            goto out;
        }
        switch (it.row.op) {
        case ZOP_INSERT: t->ins++; break;
        case ZOP_UPDATE: t->upd++; break;
        case ZOP_DELETE: t->del++; break;
        case ZOP_TRUNCATE: case ZOP_OVERSIZE: break;
        }
        replayed++;
        if (zbatch_bytes(b) > budget && apply(ctx) != 0) goto out;
    }
    if (apply(ctx) != 0) goto out;              /* opens the transaction if nothing did */
    if (target_resync_unmark(in->tgt, t->source) != 0) {
        snprintf(in->err, sizeof in->err, "target: resync of %s: %s", t->source, target_error(in->tgt));
        goto out;
    }
    if (r->pos.kind != ZPOS_NONE) t->skip_until = r->pos;   /* the stream's guard (header comment) */
    integ_log(in, STATELOG_INFO, t->source, "resync",
              "copy done; %llu changes made meanwhile replayed, %llu skipped (the copy already held them)",
              (unsigned long long)replayed, (unsigned long long)skipped);
    rc = 0;
out:
    qrec_defs_free(&defs);
    return rc;
}

void integ_resync_done(struct integ *in)
{
    struct resync *r = in->resync;
    if (!r) return;
    integ_set_table_state(in, r->t, TSTATE_SYNCED, "resynced", NULL);
    resync_free(r);
    in->resync = NULL;
}

void integ_resync_abort(struct integ *in)
{
    struct resync *r = in->resync;
    if (!r) return;
    atomic_store(&r->abort, 1);
    linkcut_fire(&in->cut);         /* its source read may be blocked on a frozen link */
    join_worker(r);
    integ_rearm_cut(in);
    /* The mark stays in the target: whoever streams next copies it again. */
    r->t->resync_requested = 1;
    resync_free(r);
    in->resync = NULL;
}

int integ_resync_diverts(const struct integ *in, const struct itable *t)
{
    return in->resync && in->resync->t == t;
}
