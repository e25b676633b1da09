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
 * Chunked (apply.copy_chunk_rows > 0, an integer primary key — runtime/pipe/zkey.h
 * says why only those —, a source and a target that can): the copy goes in
 * chunks of rows in key order, each read in a consistent read of its own
 * with its own exact position P_c and loaded in a target transaction of its
 * own (integ_copy_chunks), so no source transaction outlives a chunk and a
 * crash loses at most the chunks not yet handed off. The frontier F is the
 * last key handed off; zetl.copy_progress holds it, written in the same
 * target transaction as a checkpoint at or past the position of the chunk
 * that ends at F. The rule for a change of the table, by its key k (an
 * update that moves the key is a delete of the old key and an insert of the
 * new, each judged alone):
 *   - k <= F: applied live, like any synced table's change;
 *   - k > F: written to the spool with its transaction's marker.
 * The hand-off of chunk c (rows lo_c < k <= hi_c, position P_c), on the
 * applier thread once the worker committed the chunk and the checkpoint is
 * at or past P_c, reads the spool in order:
 *   - lo_c < k <= hi_c: skipped if its transaction is in the chunk
 *     (zpos_txn_in_copy against P_c), else applied — after the chunk's rows,
 *     which are committed in the target already;
 *   - k > hi_c, transaction in the chunk: dropped. It committed before P_c,
 *     and every later chunk is read after P_c (on PostgreSQL the next
 *     chunk's slot is asked for only once this chunk's was made, so its
 *     consistent point is at or past P_c: source_pg.c; parallel readers
 *     take their reads' snapshots one after another in chunk order, below),
 *     so the chunk that covers k holds its effect;
 *   - k > hi_c, transaction not in the chunk: carried to a new spool, to be
 *     judged by a later chunk's position the same way;
 * then F = hi_c and the progress go into the transaction, which the caller
 * commits with the checkpoint. k <= lo_c cannot be in the spool: the spool
 * holds only changes after the frontier of their time, and each hand-off
 * carries on only keys above its chunk.
 * Why exact: a key k <= F was copied by a chunk whose hand-off waited for
 * the checkpoint to pass its position, so every transaction that chunk holds
 * had been popped (and judged) by then; every change of k popped later is
 * after the chunk's read and applies live. A key k > F is in the target only
 * as a chunk's rows not yet handed off, which the next chunk's load deletes
 * (target_delete_after) before loading; its changes are judged against the
 * position of the chunk that covers it. The last chunk (fewer rows than the
 * limit) covers every key above its lower bound, and its hand-off removes
 * the mark and the progress with the checkpoint.
 * A crash, kill -9, stop or pause at any moment: the checkpoint and F were
 * committed together, so the next round streams from that checkpoint (every
 * change of a key <= F after it applies live, as above) and the resync,
 * marked still, resumes with the chunk after F (t->resync_resume), deleting
 * what lies above F first. A TRUNCATE of the table during the copy, which
 * has no key to judge, starts the copy over; a DDL statement stops it, and
 * it resumes from F under the new definition, as a synced table lives on
 * through DDL.
 *
 * Parallel chunks (apply.copy_workers > 1, copy.c): the table is cut into
 * ranges (lo, hi] in key order before each is read — hi the key limit rows
 * after lo as the table stands then, the last range open — and up to
 * copy_workers readers copy ranges at once, each range in its own
 * consistent read and target transaction as above. The argument above
 * holds unchanged for them because (1) every range's bounds are fixed
 * before any change is judged by them, and a range's rows in the target
 * are exactly its read's (the rows after F were cleared before any range
 * loaded, and nothing else writes above F); (2) the reads take their
 * snapshots in range order (a range's read waits until the one before has
 * fixed its position), so a later chunk's position is at or past an
 * earlier one's, as "dropped" above needs; (3) the hand-offs go in range
 * order whatever order the loads commit in (pend[] by seq), each waiting
 * for the checkpoint to pass its own position. A crash loses at most the
 * chunks admitted ahead of the hand-offs (window), as with one reader.
 *
 * Memory: the spool buffers 128 KiB and the replay applies the batch into the
 * open transaction whenever it passes the budget, so a resync of a busy table
 * costs disk, not memory. Up to apply.copy_workers tables copy at once,
 * each with its own worker thread, connections, spool and frontier, and a
 * share of apply.memory_mb; the applier hands off whichever is ready. Other
 * requests wait their turn with resync_requested set. Each table's argument
 * above stands alone: the tables share only the checkpoint, which each
 * hand-off waits to pass its own chunk's position. An abort stops every
 * copy under way (the link cut that ends a blocked read is shared); each
 * resumes from its committed frontier.
 *
 * Threads: everything here runs on the applier (supervisor) thread except
 * worker_main; the two share only the struct resync fields marked below.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/base/clock.h"
#include "runtime/integ/integ.h"
#include "runtime/pipe/queue_rec.h"
#include "runtime/pipe/spool.h"
#include "runtime/source/source.h"
#include "runtime/target/target.h"

#define CHUNKS_AHEAD 4     /* chunks read ahead of the hand-offs, at most (one reader) */
#define PEND_MAX (INTEG_RESYNCS_MAX + CHUNKS_AHEAD)   /* the most any window admits */

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
    /* a chunked copy (chunked.c's header comment below) */
    int            chunked;
    uint32_t       limit;       /* rows per chunk */
    int            kcols[ZKEY_MAX];   /* key columns of t->tdef (the rows the applier sees) */
    int            nk;
    struct zkey    from;        /* where the worker starts (n 0: the first row) */
    struct zkey    frontier;    /* the applier's: rows up to it are copied and handed off,
                                   their changes apply live (n 0: none yet) */
    int64_t        rows_done, chunks_done;  /* as committed with the frontier */
    uint64_t       replayed, skipped;       /* over the whole copy, for the last message */
    pthread_mutex_t mu;         /* guards pend, npend, next_seq */
    pthread_cond_t cv;
    struct copy_chunk pend[PEND_MAX];   /* loaded by the worker, not yet handed off, by seq */
    int            npend;
    uint64_t       next_seq;    /* the chunk the next hand-off takes */
    uint64_t       window;      /* chunks admitted ahead of it (chunk_admit) */
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
        t->resync_resume = 1;          /* a chunked copy goes on from its progress */
        if (t->initial || t->state == TSTATE_PENDING || t->state == TSTATE_SNAPSHOTTING) {
            t->initial = 1;            /* never synced: its initial copy (copy.c) was cut short */
            integ_set_table_state(in, t, TSTATE_PENDING, "its initial copy was cut short: it goes on "
                                  "from its last committed chunk in its turn", NULL);
        } else {
            integ_set_table_state(in, t, TSTATE_RESYNCING, "a resync was cut short: copying the table again", NULL);
        }
    }
    target_resync_marks_free(marks, n);
    char name[300], e[512];
    spool_name(in, name, sizeof name);
    spool_remove_leftovers(in->root->state_dir, name, e, sizeof e);   /* a dead process's spools */
    return 0;
}

/* The applier, maybe waiting on its queue, is to drive the resyncs now
 * (apply.c: a kicked pop ends its wait; the poll runs). */
static void kick(struct integ *in)
{
    atomic_store(&in->resync_kick, 1);
    if (in->q) cqueue_wake(in->q);
}

/* A chunk loaded (struct chunk_hooks' done): queued in seq order for the
 * applier's hand-off, which takes them in that order (parallel readers
 * commit in any). chunk_admit keeps them within the window, so there is
 * always room. Non-zero: stop copying. */
static int chunk_loaded(void *ctx, const struct copy_chunk *ch)
{
    struct resync *r = ctx;
    pthread_mutex_lock(&r->mu);
    int stop = atomic_load(&r->abort) || r->npend == PEND_MAX;
    if (!stop) {
        int i = r->npend;
        while (i > 0 && r->pend[i - 1].seq > ch->seq) {
            r->pend[i] = r->pend[i - 1];
            i--;
        }
        r->pend[i] = *ch;
        r->npend++;
    }
    pthread_mutex_unlock(&r->mu);
    if (!stop) kick(r->in);
    return stop;
}

/* Chunk seq may be read once it is within the window of the next hand-off
 * (struct chunk_hooks' admit): the chunks loaded and not handed off stay
 * bounded — a crash loses at most those. Non-zero: stop copying. */
static int chunk_admit(void *ctx, uint64_t seq)
{
    struct resync *r = ctx;
    pthread_mutex_lock(&r->mu);
    while (seq >= r->next_seq + r->window && !atomic_load(&r->abort)) {
        struct timespec ts = zclock_deadline(CLOCK_REALTIME, 200);
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    }
    int stop = atomic_load(&r->abort);
    pthread_mutex_unlock(&r->mu);
    return stop;
}

static void *worker_main(void *arg)
{
    pthread_setname_np(pthread_self(), "z-resync");   /* top -H, gdb */
    struct resync *r = arg;
    if (r->chunked) {
        struct chunk_hooks h = {.done = chunk_loaded, .admit = chunk_admit, .ctx = r};
        r->rc = integ_copy_chunks(r->in, r->t, &r->from, r->limit, &r->abort, &h, r->err, sizeof r->err);
    }
    else
        r->rc = integ_copy_table(r->in, r->t, &r->abort, &r->pos, r->err, sizeof r->err);
    atomic_store(&r->done, 1);
    kick(r->in);
    return NULL;
}

static void resync_free(struct resync *r)
{
    if (!r) return;
    spool_destroy(r->sp);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
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

/*
 * The mark, committed, and whether (and from where) the copy goes in chunks:
 * a fresh chunked copy writes empty progress with the mark; one cut short
 * (t->resync_resume) reads where it got to.
 */
static int mark_start(struct integ *in, struct resync *r)
{
    struct itable *t = r->t;
    int resume = t->resync_resume;
    t->resync_resume = 0;
    r->nk = zkey_columns(t->tdef, r->kcols);
    r->chunked = in->cfg->apply.copy_chunk_rows > 0 && r->nk > 0 && source_can_chunk(in) &&
                 target_can_chunk(in->tgt);
    r->limit = (uint32_t)in->cfg->apply.copy_chunk_rows;
    /* One reader reads up to CHUNKS_AHEAD ahead; N parallel readers N + 2 (one
     * in flight each, two loaded and waiting for their hand-off). */
    int readers = integ_copy_workers(in);
    r->window = (uint64_t)(readers > 1 ? readers + 2 : CHUNKS_AHEAD);
    if (target_begin(in->tgt) != 0) goto target_failed;
    if (r->chunked && resume) {
        char k[ZKEY_TEXT_MAX];
        int found = target_copy_progress_get(in->tgt, t->source, k, sizeof k, &r->rows_done, &r->chunks_done);
        if (found < 0) goto target_failed;
        if (found && k[0] && zkey_parse(k, t->tdef, r->kcols, r->nk, &r->from) != 0) {
            integ_log(in, STATELOG_WARNING, t->source, "resync", "the copy's progress \"%.60s\" in "
                      "zetl.copy_progress does not fit the table's key: copying it from the start", k);
            found = 0;
        }
        if (found && r->from.n && integ_shape_differs(in, t, NULL, 0) != 0) {
            /* its chunks so far carry another shape (or it cannot be read) */
            integ_log(in, STATELOG_INFO, t->source, "resync", "the rows copied so far carry other column "
                      "transforms than the config's: copying the table from the start");
            found = 0;
        }
        if (!found) r->from.n = 0;
        if (!r->from.n) r->rows_done = r->chunks_done = 0;
    }
    r->frontier = r->from;
    if (target_resync_mark(in->tgt, t->source) != 0 ||
        (r->chunked && !r->from.n && target_copy_progress_set(in->tgt, t->source, NULL, 0, 0) != 0) ||
        target_commit(in->tgt, NULL, 0) != 0)
        goto target_failed;
    return 0;
target_failed:
    snprintf(in->err, sizeof in->err, "target: resync of %s: %s", t->source, target_error(in->tgt));
    target_rollback(in->tgt);
    return -1;
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
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (mark_start(in, r) != 0) {
        resync_free(r);
        return -1;
    }
    spool_name(in, name, sizeof name);
    if (spool_open(&r->sp, in->root->state_dir, name, atomic_fetch_add(&spool_seq, 1) + 1, e, sizeof e) != 0) {
        snprintf(in->err, sizeof in->err, "resync of %s: %s", t->source, e);
        resync_free(r);
        return -1;
    }
    /* The definition every spooled row refers to (slot 1). */
    uint8_t *body;
    if (spool_put(in, r, qrec_table_size(t->tdef), &body) != 0) goto fail;
    qrec_table_write(body, 1, t->tdef);     /* the projected rows' (target names) */
    if (spool_done(in, r) != 0) goto fail;

    t->resync_requested = 0;
    t->skip_until.kind = ZPOS_NONE;
    /* A resumed chunked copy goes on from what its chunks before copied. */
    integ_start_copy(in, t, t->initial ? TSTATE_SNAPSHOTTING : TSTATE_RESYNCING,
                     t->initial ? "initial copy while the stream runs" : "copying the table while the others stream",
                     r->chunked ? r->rows_done : 0, r->chunked ? r->chunks_done : -1);
    integ_rearm_cut(in);
    if (pthread_create(&r->th, NULL, worker_main, r) != 0) {
        snprintf(in->err, sizeof in->err, "resync of %s: cannot start the copy thread", t->source);
        goto fail;
    }
    r->started = 1;
    in->resync[in->nresync++] = r;
    if (!r->chunked) {
        integ_log(in, STATELOG_INFO, t->source, "resync", "copying the table again; its changes wait in %s",
                  spool_path(r->sp));
    } else if (r->from.n) {
        char k[ZKEY_TEXT_MAX];
        zkey_format(&r->from, k, sizeof k);
        integ_log(in, STATELOG_INFO, t->source, "resync", "chunked copy resuming after key %s (%lld rows in "
                  "%lld chunks copied before); chunks of %u rows, changes after the copied keys wait in %s",
                  k, (long long)r->rows_done, (long long)r->chunks_done, r->limit, spool_path(r->sp));
    } else {
        integ_log(in, STATELOG_INFO, t->source, "resync", "copying the table again in chunks of %u rows by "
                  "key; changes after the copied keys wait in %s", r->limit, spool_path(r->sp));
    }
    return 0;
fail:
    resync_free(r);
    return -1;
}

/* Write one change to the spool, after its transaction's marker. */
static int spool_change(struct integ *in, struct resync *r, const struct zrowchange *p,
                        const struct zpos *txn_start, uint64_t commit_lsn)
{
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

/* Is key k of the table handed off already (at or below the frontier)? */
static int copied(const struct resync *r, const struct zkey *k)
{
    return r->frontier.n && zkey_cmp(k, &r->frontier) <= 0;
}

static int bad_key(struct integ *in, const struct resync *r)
{
    snprintf(in->err, sizeof in->err, "resync of %s: a change carries no integer key; the table's "
             "definition and its rows disagree: resync it again", r->t->source);
    return -1;
}

/* The key a spooled or streamed change is judged by (the header comment):
 * an insert's new row, a delete's or update's old one (an update without
 * one — pgoutput sends none when the key did not change — its new one). */
static int change_key(const struct resync *r, const struct zrowchange *p, struct zkey *k)
{
    const struct zvalue *img = p->op == ZOP_INSERT || (p->op == ZOP_UPDATE && !p->before) ? p->after : p->before;
    return img ? zkey_of(r->t->tdef, r->kcols, r->nk, img, k) : -1;
}

/* The resync of t under way, or NULL. */
static struct resync *resync_of(const struct integ *in, const struct itable *t)
{
    for (int i = 0; i < in->nresync; i++)
        if (in->resync[i]->t == t) return in->resync[i];
    return NULL;
}

int integ_resync_divert(struct integ *in, const struct itable *t, const struct zrowchange *p,
                        const struct zpos *txn_start, uint64_t commit_lsn, struct zrowchange *live)
{
    struct resync *r = resync_of(in, t);
    if (!r->chunked) return spool_change(in, r, p, txn_start, commit_lsn);
    *live = *p;
    if (p->op == ZOP_TRUNCATE || p->op == ZOP_OVERSIZE) return 1;   /* the caller restarts the copy */
    struct zkey kb, ka;
    if (change_key(r, p, &kb) != 0) return bad_key(in, r);
    if (p->op != ZOP_UPDATE) return copied(r, &kb) ? 1 : spool_change(in, r, p, txn_start, commit_lsn);
    if (!p->after || zkey_of(r->t->tdef, r->kcols, r->nk, p->after, &ka) != 0) return bad_key(in, r);
    int cb = copied(r, &kb), ca = copied(r, &ka);
    if (zkey_cmp(&kb, &ka) == 0 || (cb && ca)) return cb ? 1 : spool_change(in, r, p, txn_start, commit_lsn);
    /* The key moves: the old row's delete and the new row's insert, each
     * judged by its own key, here and in the hand-off (a spooled update
     * whose keys a chunk's upper bound separates would be half right). */
    struct zrowchange del = {.op = ZOP_DELETE, .table = p->table, .before = p->before,
                             .before_key_only = p->before_key_only};
    struct zrowchange ins = {.op = ZOP_INSERT, .table = p->table, .after = p->after};
    if (!cb && spool_change(in, r, &del, txn_start, commit_lsn) != 0) return -1;
    if (!ca && spool_change(in, r, &ins, txn_start, commit_lsn) != 0) return -1;
    if (cb) *live = del;
    else if (ca) *live = ins;
    return cb || ca;
}

/* Is resync r's next step due (integ_resync_ready, for one)? */
static int ready_one(struct integ *in, struct resync *r)
{
    if (r->chunked) {
        /* The oldest chunk loaded, once the checkpoint is at or past its
         * position (as below); a failed worker at once. */
        pthread_mutex_lock(&r->mu);
        int have = r->npend > 0 && r->pend[0].seq == r->next_seq;
        struct zpos pos = r->pend[0].pos;
        pthread_mutex_unlock(&r->mu);
        if (!have) return atomic_load(&r->done) && r->rc != 0;
        if (!zpos_before(&in->applied, &pos)) return 1;
        /* Idle, a PostgreSQL source's next keepalive would be up to a
         * second away: the reader asks for one now. */
        atomic_store(&in->want_position, 1);
        return 0;
    }
    if (!atomic_load(&r->done)) return 0;
    if (r->rc != 0) return 1;                   /* failed: the replay reports it */
    /* Wait for the checkpoint to reach the copy's position (header comment):
     * busy, that is the next batch; idle, the next heartbeat's checkpoint
     * (while a resync runs the applier checkpoints at every heartbeat, not
     * only every IDLE_CHECKPOINT_MS), which proves the source past it. A
     * checkpoint at the position (binlog) or past the consistent point (an
     * LSN: the end of a commit, or a heartbeat's) means every transaction
     * the copy holds has been popped. Positions of another kind (or none)
     * do not wait. */
    if (!zpos_before(&in->applied, &r->pos)) return 1;
    atomic_store(&in->want_position, 1);        /* as for a chunk, above */
    return 0;
}

int integ_resync_ready(struct integ *in)
{
    for (int i = 0; i < in->nresync; i++)
        if (ready_one(in, in->resync[i])) {
            in->resync_ready = i;
            return 1;
        }
    return 0;
}

static void join_worker(struct resync *r)
{
    if (r->started) pthread_join(r->th, NULL);
    r->started = 0;
}

/* Reading the spool back, flushed first: spool_read gives its items in
 * order, 1 each (a marker CQ_COMMIT or a CQ_ROW), 0 at the end, -1 with
 * in->err; reader_free after. */
struct reader {
    struct qrec_defs defs;
    uint64_t at, limit;
};

static int reader_open(struct integ *in, struct resync *r, struct reader *rd)
{
    char e[512];
    memset(rd, 0, sizeof *rd);
    if (spool_flush(r->sp, e, sizeof e) != 0) {
        snprintf(in->err, sizeof in->err, "resync of %s: spool: %s", r->t->source, e);
        return -1;
    }
    rd->limit = spool_written(r->sp);
    return 0;
}

static int spool_read(struct integ *in, struct resync *r, struct reader *rd, struct cq_item *it)
{
    char e[512];
    for (;;) {
        const uint8_t *body;
        uint32_t len;
        uint64_t next;
        int got = spool_next(r->sp, rd->at, rd->limit, &body, &len, &next, e, sizeof e);
        if (got == 0) return 0;
        if (got < 0) {
            snprintf(in->err, sizeof in->err, "resync of %s: spool: %s", r->t->source, e);
            return -1;
        }
        rd->at = next;
        int d = qrec_decode(&rd->defs, body, len, it);
        if (d < 0) {
            snprintf(in->err, sizeof in->err, "resync of %s: spool %s: a record at offset %llu does not decode",
                     r->t->source, spool_path(r->sp), (unsigned long long)rd->at);
            return -1;
        }
        if (d > 0 && (it->kind == CQ_COMMIT || it->kind == CQ_ROW)) return 1;
    }
}

static void reader_free(struct reader *rd)
{
    qrec_defs_free(&rd->defs);
}

/* Count a replayed change on its table. */
static void count_change(struct itable *t, enum zop op)
{
    switch (op) {
    case ZOP_INSERT: t->ins++; break;
    case ZOP_UPDATE: t->upd++; break;
    case ZOP_DELETE: t->del++; break;
    case ZOP_TRUNCATE: case ZOP_OVERSIZE: break;
    }
}

/* Carry a spooled change to the next spool (a later chunk judges it). */
static int carry(struct integ *in, struct resync *r, struct spool *next, const struct cq_item *txn,
                 int *marked, const struct zrowchange *row)
{
    uint8_t *body;
    uint64_t n;
    char e[512];
    if (!*marked) {
        if (spool_reserve(next, qrec_txn_size(&txn->txn), &body, e, sizeof e) != 0) goto fail;
        qrec_txn_write(body, QREC_COMMIT, &txn->txn);
        if (spool_commit(next, e, sizeof e) != 0) goto fail;
        *marked = 1;
    }
    if (qrec_row_size(row, &n) != 0 || spool_reserve(next, (size_t)n, &body, e, sizeof e) != 0) goto fail;
    qrec_row_write(body, 1, row);
    if (spool_commit(next, e, sizeof e) != 0) goto fail;
    return 0;
fail:
    snprintf(in->err, sizeof in->err, "resync of %s: spool: %s", r->t->source, e);
    return -1;
}

/* A new spool for the changes a hand-off carries on, with the table's definition. */
static int next_spool(struct integ *in, struct resync *r, struct spool **out)
{
    char name[300], e[512];
    uint8_t *body;
    spool_name(in, name, sizeof name);
    if (spool_open(out, in->root->state_dir, name, atomic_fetch_add(&spool_seq, 1) + 1, e, sizeof e) != 0 ||
        spool_reserve(*out, qrec_table_size(r->t->tdef), &body, e, sizeof e) != 0) {
        snprintf(in->err, sizeof in->err, "resync of %s: %s", r->t->source, e);
        return -1;
    }
    qrec_table_write(body, 1, r->t->tdef);
    if (spool_commit(*out, e, sizeof e) != 0) {
        snprintf(in->err, sizeof in->err, "resync of %s: spool: %s", r->t->source, e);
        return -1;
    }
    return 0;
}

/*
 * The hand-off of the oldest chunk loaded (the header comment): the spool
 * read through, its changes applied, skipped, dropped or carried to a new
 * spool; the frontier and the progress (or, after the last chunk, the mark)
 * into the open transaction. 0 the last chunk, 2 another, -1 error.
 */
static int hand_off(struct integ *in, struct resync *r, struct zbatch *b, size_t budget,
                    int (*apply)(void *ctx), void *ctx)
{
    struct itable *t = r->t;
    struct copy_chunk ch;
    pthread_mutex_lock(&r->mu);
    ch = r->pend[0];
    pthread_mutex_unlock(&r->mu);
    struct spool *next = NULL;
    struct reader rd;
    if (reader_open(in, r, &rd) != 0) return -1;
    if (!ch.last && next_spool(in, r, &next) != 0) goto fail_defs;
    struct cq_item txn = {0}, it;
    uint64_t replayed = 0, skipped = 0;
    int in_copy = 0, marked = 0, begun = 0, got;
    while ((got = spool_read(in, r, &rd, &it)) != 0) {
        if (got < 0) goto fail_defs;
        if (it.kind == CQ_COMMIT) {             /* a transaction marker (spool_change) */
            txn = it;
            in_copy = zpos_txn_in_copy(&it.txn.end, it.txn.commit_lsn, &ch.pos);
            marked = begun = 0;
            continue;
        }
        struct zkey k;
        if (change_key(r, &it.row, &k) != 0) {
            bad_key(in, r);
            goto fail_defs;
        }
        if (!ch.last && zkey_cmp(&k, &ch.hi) > 0) {
            /* In the chunk: a later chunk, read after P_c, holds it too. */
            if (!in_copy && carry(in, r, next, &txn, &marked, &it.row) != 0) goto fail_defs;
            continue;
        }
        if (in_copy) { skipped++; continue; }
        if (!begun) target_txn_begin(in->tgt, NULL, &txn.txn.end);
        begun = 1;
        replayed++;
        if (target_add(in->tgt, b, &it.row, t->tschema, t->tname, 0) != 0) {
            snprintf(in->err, sizeof in->err, "table %s: %s", t->source, b->err);
            goto fail_defs;
        }
        count_change(t, it.row.op);
        if (zbatch_bytes(b) > budget && apply(ctx) != 0) goto fail_defs;
    }
    reader_free(&rd);
    if (apply(ctx) != 0) goto fail;             /* opens the transaction if nothing did */
    r->rows_done += (int64_t)ch.rows;
    r->chunks_done++;
    r->replayed += replayed;
    r->skipped += skipped;
    char hk[ZKEY_TEXT_MAX] = "";
    if (!ch.last) zkey_format(&ch.hi, hk, sizeof hk);
    if ((ch.last ? target_resync_unmark(in->tgt, t->source)
                 : target_copy_progress_set(in->tgt, t->source, hk, r->rows_done, r->chunks_done)) != 0) {
        snprintf(in->err, sizeof in->err, "target: resync of %s: %s", t->source, target_error(in->tgt));
        goto fail;
    }
    pthread_mutex_lock(&r->mu);
    memmove(&r->pend[0], &r->pend[1], (size_t)(r->npend - 1) * sizeof r->pend[0]);
    r->npend--;
    r->next_seq++;
    pthread_cond_broadcast(&r->cv);             /* chunk_admit: the window moved */
    pthread_mutex_unlock(&r->mu);
    spool_destroy(r->sp);
    r->sp = next;
    r->have_marker = 0;                         /* the next divert writes its marker anew */
    if (ch.last) {
        join_worker(r);
        integ_log(in, STATELOG_INFO, t->source, "resync",
                  "copy done; %lld rows in %lld chunks; %llu changes made meanwhile replayed, %llu skipped "
                  "(the copy already held them)", (long long)r->rows_done, (long long)r->chunks_done,
                  (unsigned long long)r->replayed, (unsigned long long)r->skipped);
        return 0;
    }
    r->frontier = ch.hi;
    return 2;
fail_defs:
    reader_free(&rd);
fail:
    spool_destroy(next);
    return -1;
}

/* Remove resync i from in->resync, keeping the others' order. */
static void resync_remove(struct integ *in, int i)
{
    memmove(&in->resync[i], &in->resync[i + 1], (size_t)(in->nresync - i - 1) * sizeof in->resync[0]);
    in->resync[--in->nresync] = NULL;
}

int integ_resync_replay(struct integ *in, struct zbatch *b, size_t budget,
                        int (*apply)(void *ctx), void *ctx)
{
    struct resync *r = in->resync[in->resync_ready];
    struct itable *t = r->t;
    if (r->chunked) {
        pthread_mutex_lock(&r->mu);
        int have = r->npend > 0 && r->pend[0].seq == r->next_seq;
        pthread_mutex_unlock(&r->mu);
        if (have) return hand_off(in, r, b, budget, apply, ctx);
    }
    join_worker(r);
    if (r->rc != 0) {
        if (r->chunked && (apply(ctx) != 0 || target_copy_progress_set(in->tgt, t->source, NULL, 0, 0) != 0))
            return -1;      /* failed: the next copy starts over (the table's changes are dropped now) */
        /* A table whose initial copy failed keeps none of its rows (its
         * chunks', or the stream's while it waited its turn), as with the
         * one-read copy: failed means empty until its resync. */
        if (t->initial && (apply(ctx) != 0 || integ_truncate(in->tgt, t) != 0)) {
            snprintf(in->err, sizeof in->err, "target: emptying %s after its failed copy: %s", t->source,
                     target_error(in->tgt));
            return -1;
        }
        t->initial = 0;
        char reason[1280];
        snprintf(reason, sizeof reason, "%s%s", r->err, strstr(r->err, "resync the table") ? "" :
                 "; fix the data or the target table, then resync the table");
        integ_set_table_state(in, t, TSTATE_FAILED, reason, NULL);
        integ_log(in, STATELOG_ERROR, t->source, "resync", "%s", reason);
        resync_free(r);
        resync_remove(in, in->resync_ready);
        return 1;
    }
    struct reader rd;
    if (reader_open(in, r, &rd) != 0) return -1;
    struct cq_item it;
    uint64_t replayed = 0, skipped = 0;
    int skip = 0, rc = -1, got;
    while ((got = spool_read(in, r, &rd, &it)) != 0) {
        if (got < 0) goto out;
        if (it.kind == CQ_COMMIT) {             /* a transaction marker (integ_resync_divert) */
            skip = zpos_txn_in_copy(&it.txn.end, it.txn.commit_lsn, &r->pos);
            if (!skip) target_txn_begin(in->tgt, NULL, &it.txn.end);
            continue;
        }
        if (skip) { skipped++; continue; }
        if (target_add(in->tgt, b, &it.row, t->tschema, t->tname, 0) != 0) {
            snprintf(in->err, sizeof in->err, "table %s: %s", t->source, b->err);
            goto out;
        }
        count_change(t, it.row.op);
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
    reader_free(&rd);
    return rc;
}

void integ_resync_done(struct integ *in)
{
    if (in->resync_ready >= in->nresync) return;
    struct resync *r = in->resync[in->resync_ready];
    /* After the initial copy no reason, as after the one-read copy: the
     * reason column is for what needs a word. */
    integ_set_table_state(in, r->t, TSTATE_SYNCED, r->t->initial ? NULL : "resynced", NULL);
    r->t->initial = 0;
    resync_free(r);
    resync_remove(in, in->resync_ready);
}

void integ_resync_abort(struct integ *in)
{
    if (!in->nresync) return;
    for (int i = 0; i < in->nresync; i++) {
        struct resync *r = in->resync[i];
        pthread_mutex_lock(&r->mu);
        atomic_store(&r->abort, 1);
        pthread_cond_broadcast(&r->cv); /* a chunked copy's worker may wait for room */
        pthread_mutex_unlock(&r->mu);
    }
    linkcut_fire(&in->cut);         /* a source read may be blocked on a frozen link */
    for (int i = 0; i < in->nresync; i++) join_worker(in->resync[i]);
    integ_rearm_cut(in);
    /* The marks stay in the target: whoever streams next copies the tables
     * again, a chunked copy from its committed frontier on. */
    while (in->nresync) {
        struct resync *r = in->resync[in->nresync - 1];
        r->t->resync_requested = 1;
        r->t->resync_resume = r->chunked;
        resync_free(r);
        in->resync[--in->nresync] = NULL;
    }
}

int integ_resync_diverts(const struct integ *in, const struct itable *t)
{
    return resync_of(in, t) != NULL;
}

int integ_resync_running(const struct integ *in)
{
    return in->nresync > 0;
}
