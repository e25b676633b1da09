/*
 * copy.c — the initial copy of an integration: every selected table, copied
 * by the source in one consistent read, loaded into the target in ONE target
 * transaction that truncates the tables first and ends by writing the
 * checkpoint (the position where the stream continues). A crash at any
 * moment leaves no checkpoint, and the next round simply copies again.
 * That is the copy in one read; by default the initial copy goes in chunks
 * while the stream runs instead (copy_by_chunks below: the checkpoint and a
 * resync mark per table, then resync.c copies them).
 *
 * Memory: rows are applied into the open transaction whenever the batch
 * reaches the byte budget.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/base/clock.h"
#include "runtime/integ/ident.h"
#include "runtime/integ/integ.h"
#include "runtime/source/source.h"
#include "runtime/source/source_ops.h"
#include "runtime/target/target.h"

struct copier {
    struct integ *in;
    struct target *tgt;         /* the connection rows go to (a worker's own, or in->tgt) */
    struct statelog *sl;        /* the state-log handle of the copying thread */
    struct zbatch *b;
    size_t budget;
    struct projection proj;
    struct itable *cur;         /* table of the last row (rows come table by table) */
    const struct itable *rated; /* the table whose rows began last (statelog_copy_rows) */
    int64_t pending;            /* rows copied not yet reported to the state log */
    uint64_t bytes;             /* the rows' size as loaded (COPY text, batch or raw COPY
                                   data), ever: a chunk's width (integ_copy_chunks) */
    int64_t last_report_ms;
    atomic_int *abort;          /* a resync's worker: give up when set */
    int raw;                    /* a raw COPY into cur's table is open (a PostgreSQL source's data) */
    int raw_binary;             /* the table raw_ok last said yes to comes in binary */
    const struct itable *said_binary;   /* the table the binary format was logged for (once,
                                           not once per chunk) */
    struct loader *ld;          /* the load writer thread; NULL: loads run inline */
    int textmode;               /* rows go as COPY text (a postgres target), else in batches */
    struct zbuf *text;          /* textmode: COPY text of text_t's rows not yet handed on */
    const struct itable *text_t;
    const struct itable *open;  /* inline textmode: the table whose COPY is open */
    int fail_here;              /* the initial copy on the supervisor thread: a bad table is
                                   failed here and its rows skipped (badtable.c) */
    char *refused;              /* fail_here: per in->tables index, failed during this pass */
    const struct itable *fault; /* the table the last error is the fault of, or NULL */
    enum integ_round cmd_end;   /* an operator command that ends the copy; ROUND_NONE none */
    int64_t last_cmd_ms;
    /* A chunked copy (integ_copy_chunks): the job that begins the next
     * chunk's transaction, the callback for each chunk committed (on the
     * writer's thread), and what the reader learns of them. */
    int need_begin;             /* the next job handed on begins the transaction */
    int (*chunk_done)(void *ctx, const struct copy_chunk *ch);
    void *chunk_ctx;
    atomic_int chunk_stop;      /* chunk_done said stop */
    atomic_int_fast64_t chunks_committed;
    int64_t chunks_told;        /* of them, reported to the state log */
    char err[1024];
};

#define COPY_LOAD_BYTES (4u << 20)      /* a batch handed on (target_apply) */
#define COPY_TEXT_BYTES (1u << 20)      /* COPY text handed on */

/*
 * The load writer. Reading the source and loading the target take about the
 * same time; done one after the other on one thread, each server idles while
 * the other works (a MariaDB full load ran at 0.6 of a `mariadb | psql COPY`
 * pipe, whose two processes overlap). With a writer thread that owns the
 * target connection while rows are loaded, the reader fills one load while
 * the writer sends the previous one: double buffering, so at most two loads
 * are held. The reader uses the target itself only after copy_flush() (the
 * writer idle, its COPY ended), which also orders the connection's use
 * between the two threads. A chunked copy's transactions are the writer's
 * too: a job may begin one (the chunk's first) and commit it (its last), so
 * the reader reads the next chunk while the writer still loads and commits
 * the one before (copy_chunk).
 *
 * Into a postgres target (a load transaction) a load is COPY text the reader
 * encodes itself, and the writer keeps ONE COPY per table open across loads:
 * PostgreSQL spends markedly more CPU on many COPY commands than on one (100
 * COPYs of 20,000 rows in a transaction cost it 6.7 s of CPU against 3.9 s
 * for one COPY of the same 2M rows, measured with psql). Other targets get
 * batches (target_apply); the http kind loads inline, as its target_add
 * writes into the target handle.
 */
enum job_kind { JOB_ROWS = 1, JOB_TEXT, JOB_END };

struct load_job {
    enum job_kind kind;
    struct zbatch *b;           /* JOB_ROWS */
    struct zbuf *text;          /* JOB_TEXT: whole rows of COPY text of t */
    const struct itable *t;     /* whose rows (messages; JOB_TEXT: the COPY's table) */
    int begin;                  /* first: begin a load transaction (a chunk after the first) */
    int commit;                 /* last: end the COPY and commit chunk's transaction */
    struct copy_chunk chunk;    /* commit: the chunk committed, for chunk_done */
};

struct loader {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct copier *c;           /* its reader's (for c->in only) */
    struct target *tgt;
    struct load_job job;        /* handed to the writer; kind 0: the writer is idle */
    struct zbatch *spare;       /* the empty batch the reader takes next */
    struct zbuf *tspare;        /* the empty text buffer the reader takes next */
    const struct itable *open;  /* the table whose COPY the writer has open, or NULL */
    const struct itable *fault; /* the table a failed load is the fault of, or NULL */
    int failed, quit;
    char err[1024];
};

/* One job on the target; 0, or -1 with err and *fault (the table the target
 * blames, badtable.c; NULL: not one table's). Where the writer runs it, or inline. */
static int run_job(struct integ *in, struct target *tgt, const struct itable **open,
                   const struct load_job *j, char *err, size_t errlen, const struct itable **fault)
{
    const struct itable *t = j->t;
    int rc = 0;
    if (j->begin && (rc = target_begin(tgt)) == 0) target_set_load(tgt);
    if (rc != 0) {
        t = NULL;                       /* the message below; no table's fault */
    } else if (j->kind == JOB_ROWS) {
        for (int i = 0; i < j->b->ntables && rc == 0; i++) {     /* by table: an error names its own */
            struct zbatch one;
            zbatch_view(j->b, i, &one);
            if ((rc = target_apply(tgt, &one)) != 0)
                t = integ_find_table(in, j->b->tables[i].def->schema, j->b->tables[i].def->name);
        }
    } else {
        if (*open && (j->kind == JOB_END || *open != t)) {
            t = *open;
            *open = NULL;
            rc = target_load_raw_end(tgt, 0);
        }
        if (rc == 0 && j->kind == JOB_TEXT) {
            t = j->t;
            if (!*open) {
                rc = target_load_raw_begin(tgt, t->tschema, t->tname, t->tdef, 0);
                if (rc == 0) *open = t;
            }
            if (rc == 0) rc = target_load_raw_data(tgt, j->text->p, j->text->len);
        }
    }
    if (rc == 0 && j->commit) {
        if (*open) {
            t = *open;
            *open = NULL;
            rc = target_load_raw_end(tgt, 0);
        }
        if (rc == 0) rc = target_commit(tgt, NULL, 0);
    }
    if (rc != 0) {
        snprintf(err, errlen, "target: loading %s: %s", t ? t->source : "the copy", target_error(tgt));
        *fault = t && integ_error_is_table(target_sqlstate(tgt)) ? t : NULL;
    }
    return rc;
}

/* A chunk's transaction committed (run_job of a job with commit): counted,
 * and told to chunk_done, on the thread that committed it. Its answer stop
 * is kept for the reader. */
static void chunk_committed(struct copier *c, const struct load_job *j)
{
    if (!j->commit) return;
    atomic_fetch_add(&c->chunks_committed, 1);
    if (c->chunk_done && c->chunk_done(c->chunk_ctx, &j->chunk) != 0) atomic_store(&c->chunk_stop, 1);
}

static void *loader_main(void *arg)
{
    pthread_setname_np(pthread_self(), "z-copy-write");   /* top -H, gdb */
    struct loader *ld = arg;
    struct copier *c = ld->c;
    pthread_mutex_lock(&ld->mu);
    for (;;) {
        while (!ld->job.kind && !ld->quit) pthread_cond_wait(&ld->cv, &ld->mu);
        if (!ld->job.kind) break;
        struct load_job j = ld->job;
        int failed = ld->failed;
        pthread_mutex_unlock(&ld->mu);
        char e[1024];
        const struct itable *fault = NULL;
        int rc = failed ? 0 : run_job(c->in, ld->tgt, &ld->open, &j, e, sizeof e, &fault);
        if (rc == 0 && !failed) chunk_committed(c, &j);
        pthread_mutex_lock(&ld->mu);
        if (rc != 0 && !ld->failed) {
            ld->failed = 1;
            ld->fault = fault;
            snprintf(ld->err, sizeof ld->err, "%s", e);
        }
        if (j.kind == JOB_ROWS) {
            zbatch_reset(j.b);
            ld->spare = j.b;
        } else if (j.kind == JOB_TEXT) {
            j.text->len = 0;
            ld->tspare = j.text;
        }
        ld->job.kind = 0;
        pthread_cond_broadcast(&ld->cv);
    }
    pthread_mutex_unlock(&ld->mu);
    return NULL;
}

/* Start c's writer (not for a target without one — load_writer, the http
 * kind — or when no thread can start: the loads then run inline). */
static void loader_start(struct copier *c)
{
    if (!target_driver(c->in->cfg->target.kind)->load_writer) return;
    struct loader *ld = calloc(1, sizeof *ld);
    if (!ld || !(ld->spare = zbatch_new()) || !(ld->tspare = calloc(1, sizeof *ld->tspare))) goto fail;
    ld->tgt = c->tgt;
    ld->c = c;
    pthread_mutex_init(&ld->mu, NULL);
    pthread_cond_init(&ld->cv, NULL);
    if (pthread_create(&ld->th, NULL, loader_main, ld) != 0) {
        pthread_cond_destroy(&ld->cv);
        pthread_mutex_destroy(&ld->mu);
        goto fail;
    }
    c->ld = ld;
    return;
fail:
    if (ld) {
        zbatch_free(ld->spare);
        free(ld->tspare);
    }
    free(ld);
}

static int copy_commands(struct copier *c);

/* Under ld->mu: wait until the writer is idle; 1 (with c->err) when a load failed.
 * Operator commands are taken meanwhile (a writer stuck on a dead link). */
static int wait_idle(struct loader *ld, struct copier *c)
{
    while (ld->job.kind) {
        struct timespec until = zclock_deadline(CLOCK_REALTIME, 250);
        if (pthread_cond_timedwait(&ld->cv, &ld->mu, &until) == 0 || !ld->job.kind) continue;
        pthread_mutex_unlock(&ld->mu);
        copy_commands(c);
        pthread_mutex_lock(&ld->mu);
    }
    if (ld->failed) {
        snprintf(c->err, sizeof c->err, "%s", ld->err);
        c->fault = ld->fault;
    }
    return ld->failed;
}

/* Wait until the writer is idle: 0, or -1 with c->err when a load failed. */
static int loader_drain(struct copier *c)
{
    struct loader *ld = c->ld;
    if (!ld) return 0;
    pthread_mutex_lock(&ld->mu);
    int failed = wait_idle(ld, c);
    pthread_mutex_unlock(&ld->mu);
    return failed ? -1 : 0;
}

static void loader_stop(struct copier *c)
{
    struct loader *ld = c->ld;
    if (!ld) return;
    pthread_mutex_lock(&ld->mu);
    ld->quit = 1;
    pthread_cond_broadcast(&ld->cv);
    pthread_mutex_unlock(&ld->mu);
    pthread_join(ld->th, NULL);     /* the writer finishes a job under way first */
    pthread_cond_destroy(&ld->cv);
    pthread_mutex_destroy(&ld->mu);
    zbatch_free(ld->spare);
    if (ld->tspare) tbuf_free(ld->tspare);
    free(ld->tspare);
    free(ld);
    c->ld = NULL;
}

/* Hand a job to the writer — which takes the batch or text, the reader going
 * on with the spare — or run it inline. 0, or -1 with c->err. */
static int copy_job_ex(struct copier *c, enum job_kind kind, const struct itable *t, const struct copy_chunk *commit)
{
    struct load_job j = {.kind = kind, .b = c->b, .text = c->text, .t = t, .begin = c->need_begin,
                         .commit = commit != NULL};
    if (commit) j.chunk = *commit;
    c->need_begin = 0;
    struct loader *ld = c->ld;
    if (!ld) {
        int rc = run_job(c->in, c->tgt, &c->open, &j, c->err, sizeof c->err, &c->fault);
        if (rc == 0) chunk_committed(c, &j);
        if (kind == JOB_ROWS) zbatch_reset(c->b);
        else if (kind == JOB_TEXT) c->text->len = 0;
        return rc;
    }
    pthread_mutex_lock(&ld->mu);
    int failed = wait_idle(ld, c);
    if (!failed) {
        if (kind == JOB_ROWS) {
            c->b = ld->spare;
            ld->spare = NULL;
        } else if (kind == JOB_TEXT) {
            c->text = ld->tspare;
            ld->tspare = NULL;
        }
        ld->job = j;
        pthread_cond_broadcast(&ld->cv);
    }
    pthread_mutex_unlock(&ld->mu);
    return failed ? -1 : 0;
}

static int copy_job(struct copier *c, enum job_kind kind, const struct itable *t)
{
    return copy_job_ex(c, kind, t, NULL);
}

/* Everything read so far into the target, and a COPY the loads left open
 * ended: the target is the caller's again when this returns 0 (else c->err). */
static int copy_flush(struct copier *c)
{
    if (c->textmode) {
        if (c->text && c->text->len && copy_job(c, JOB_TEXT, c->text_t) != 0) return -1;
        if (copy_job(c, JOB_END, NULL) != 0) return -1;
    } else if ((!zbatch_empty(c->b) || c->need_begin) && copy_job(c, JOB_ROWS, c->cur) != 0) {
        return -1;
    }
    return loader_drain(c);
}

/* A chunk read to its end: what is left of it, the end of its COPY and its
 * commit go to the writer as one job, and the reader goes on to read the
 * next chunk while the writer finishes this one (chunk_committed reports it).
 * 0, or -1 with c->err (an earlier job failed). */
static int copy_commit(struct copier *c, const struct copy_chunk *ch)
{
    if (c->textmode)
        return copy_job_ex(c, c->text && c->text->len ? JOB_TEXT : JOB_END, c->text_t, ch);
    return copy_job_ex(c, zbatch_empty(c->b) ? JOB_END : JOB_ROWS, c->cur, ch);
}

/* The copy failed: wait for the writer, forget its COPY (the caller's
 * rollback abandons it), its failure (the caller has c->err and c->fault)
 * and what was not handed on. */
static void copy_abandon(struct copier *c)
{
    loader_drain(c);
    if (c->ld) {
        pthread_mutex_lock(&c->ld->mu);
        c->ld->open = NULL;
        c->ld->failed = 0;
        c->ld->fault = NULL;
        pthread_mutex_unlock(&c->ld->mu);
    }
    c->open = NULL;
    c->raw = 0;
    c->cur = NULL;
    c->text_t = NULL;
    if (c->text) c->text->len = 0;
    zbatch_reset(c->b);
}

/* Rows as COPY text (a postgres target, in a load transaction): decided at
 * the copy's start, while the target is idle. */
static int copy_text_start(struct copier *c)
{
    c->textmode = target_load_raw_ok(c->tgt);
    c->text_t = NULL;
    if (c->textmode && !c->text && !(c->text = calloc(1, sizeof *c->text))) {
        snprintf(c->err, sizeof c->err, "out of memory");
        return -1;
    }
    return 0;
}

static void copy_text_free(struct copier *c)
{
    if (c->text) tbuf_free(c->text);
    free(c->text);
    c->text = NULL;
}

int integ_connect_target(struct integ *in)
{
    if (in->tgt && target_broken(in->tgt)) {    /* a dead link given up (pgwait.h) */
        target_close(in->tgt);
        in->tgt = NULL;
    }
    if (in->tgt) return 0;
    struct target_opts o = {
        .kind = in->cfg->target.kind, .source = &in->src->dialect,
        .dsn = in->cfg->target.dsn, .integration = in->cfg->name,
        .config = in->cfg, .state_dir = in->root->state_dir, .stop = &in->stop,
        .on_retry = integ_target_retry, .retry_ctx = in,
        .on_wait = integ_target_wait, .wait_ctx = in,
        .fence_epoch = integ_ha_epoch(in), .fenced = integ_ha_fenced(in),
    };
    char e[1024];
    if (target_connect(&in->tgt, &o, e, sizeof e) != 0) {
        snprintf(in->err, sizeof in->err, "%s", e);
        in->tgt = NULL;
        return -1;
    }
    return 0;
}

void integ_start_copy(struct integ *in, struct itable *t, enum tstate state, const char *reason,
                      int64_t rows, int64_t chunks)
{
    struct statelog_table row = {
        .integration = (char *)in->cfg->name, .name = t->source, .state = NULL, .lag_ms = -1,
    };
    statelog_upsert_table(in->sl, &row);            /* rows_copied back to 0 */
    integ_set_table_state(in, t, state, reason, NULL);  /* into a copy: the last one's figures go */
    statelog_copy_begin(in->sl, in->cfg->name, t->source, rows, chunks);
}

/* The rows of t copied since the last report, and the chunks committed
 * since (a chunked copy's), to the state log: its copy progress. */
static void report_to(struct copier *c, const struct itable *t)
{
    int64_t committed = atomic_load(&c->chunks_committed);
    int64_t chunks = committed - c->chunks_told;
    c->chunks_told = committed;
    if (!c->pending && !chunks) return;
    statelog_copy_add(c->sl, c->in->cfg->name, t->source, c->pending, chunks);
    c->pending = 0;
    c->last_report_ms = zclock_mono_ms();
}

static void report(struct copier *c)
{
    if (c->cur) report_to(c, c->cur);
}

/* zsink.estimate: the source's estimate of a table's rows, as its copy starts. */
static void copy_estimate(void *ctx, const struct ztable *def, int64_t rows)
{
    struct copier *c = ctx;
    const struct itable *t = integ_find_table(c->in, def->schema, def->name);
    if (t) statelog_copy_estimate(c->sl, c->in->cfg->name, t->source, rows);
}

/* Rows of another table begin: report the last one's, find this one (its
 * rows/s is measured from here: a table of the initial copy may wait long
 * for the tables before it). */
static int copy_switch_table(struct copier *c, const struct ztable *def)
{
    report(c);
    c->cur = integ_find_table(c->in, def->schema, def->name);
    if (!c->cur) {
        snprintf(c->err, sizeof c->err, "the copy returned rows of %s.%s, which is not selected",
                 def->schema, def->name);
        return -1;
    }
    if (c->rated != c->cur) {
        c->rated = c->cur;
        statelog_copy_rows(c->sl, c->in->cfg->name, c->cur->source);
    }
    return 0;
}

/* The supervisor's own copy (the initial one, on its state-log handle):
 * operator commands every 250 ms. One that ends the round (pause, delete,
 * stop) ends the copy: the target call in flight, on whichever thread, gives
 * up (target_cancel). A resync waits for the stream. 0 go on, -1 ended. */
static int copy_commands(struct copier *c)
{
    if (c->sl != c->in->sl || c->cmd_end != ROUND_NONE) return c->cmd_end != ROUND_NONE ? -1 : 0;
    int64_t now = zclock_mono_ms();
    if (now - c->last_cmd_ms < 250) return 0;
    c->last_cmd_ms = now;
    enum integ_round r = integ_poll_commands(c->in);
    if (r == ROUND_NONE || r == ROUND_RESYNC) return 0;
    c->cmd_end = r;
    target_cancel(c->tgt);
    return -1;
}

/* A copy that failed because its source read was cut (sentry.h: a pause,
 * delete or stop waited while the read was blocked): the waiting command
 * decides how the round ends. ROUND_NONE when it was no cut. */
static enum integ_round cut_command(struct integ *in)
{
    if (atomic_load(&in->stop) || !atomic_load(&in->cut.fired)) return ROUND_NONE;
    enum integ_round r = integ_poll_commands(in);
    return r == ROUND_RESYNC ? ROUND_NONE : r;
}

/* After rows went out: progress once a second, and stop when asked. */
static int copy_progress(struct copier *c)
{
    /* and at once when the writer committed a chunk: the chunks shown keep up */
    if (zclock_mono_ms() - c->last_report_ms >= 1000 || atomic_load(&c->chunks_committed) != c->chunks_told)
        report(c);
    if (copy_commands(c) != 0) {
        snprintf(c->err, sizeof c->err, "an operator command ended the copy");
        return -1;
    }
    if (atomic_load(&c->in->stop) || atomic_load(&c->in->cut.fired) || (c->abort && atomic_load(c->abort))) {
        snprintf(c->err, sizeof c->err, "stopped during the copy");
        return -1;
    }
    return 0;
}

/* Initial copy (fail_here): a table already failed is not copied. */
static int copy_skips(const struct copier *c, const struct itable *t)
{
    return c->fail_here && t->state == TSTATE_FAILED;
}

/* A row of c->cur cannot be stored (why): the initial copy fails the table
 * and skips its rows (what it loaded is truncated at the end); a resync or
 * a parallel worker, on another thread, fails its copy with the reason. */
static int copy_refuse(struct copier *c, const char *why)
{
    struct itable *t = (struct itable *)c->cur;
    c->fault = t;
    if (!c->fail_here) {
        snprintf(c->err, sizeof c->err, "table %.200s: %.768s", t->source, why);
        return -1;
    }
    char reason[1024];
    snprintf(reason, sizeof reason, "table %.200s: %.768s (found by the initial copy)", t->source, why);
    integ_fail_table(c->in, t, reason);
    if (c->refused) c->refused[t - c->in->tables] = 1;
    c->fault = NULL;
    return copy_progress(c);
}

/* The projection failed: out of memory fails the copy; a row filter that
 * failed on the row fails the table (copy_refuse). */
static int copy_project_failed(struct copier *c, int pr)
{
    if (pr == INTEG_ROW_FAILS) return copy_refuse(c, c->proj.err);
    snprintf(c->err, sizeof c->err, "table %s: out of memory", c->cur->source);
    return -1;
}

static int copy_row(void *ctx, const struct zrowchange *rc)
{
    struct copier *c = ctx;
    if ((!c->cur || strcmp(c->cur->def->name, rc->table->name) != 0 ||
         strcmp(c->cur->def->schema, rc->table->schema) != 0) && copy_switch_table(c, rc->table) != 0)
        return -1;
    if (copy_skips(c, c->cur)) return copy_progress(c);
    struct zrowchange p;
    char why[768];
    if (c->textmode) {
        /* Rows of the previous table go first: a text load is one table's. */
        if (c->text_t != c->cur && c->text->len && copy_job(c, JOB_TEXT, c->text_t) != 0) return -1;
        c->text_t = c->cur;
        int pr = integ_project(&c->proj, c->cur, rc, &p);
        if (pr == 1) return copy_progress(c);  /* not for the target: its row filter */
        if (pr < 0) return copy_project_failed(c, pr);
        if (integ_row_refused(c->in, c->cur, &p, why, sizeof why)) return copy_refuse(c, why);
        size_t before = c->text->len;
        target_copy_row(c->text, c->cur->def, p.after);
        c->bytes += c->text->len - before;
        if (c->text->oom) {
            snprintf(c->err, sizeof c->err, "table %s: out of memory", c->cur->source);
            return -1;
        }
        c->pending++;
        if (c->text->len >= COPY_TEXT_BYTES && copy_job(c, JOB_TEXT, c->cur) != 0) return -1;
        return copy_progress(c);
    }
    int pr = integ_project(&c->proj, c->cur, rc, &p);
    if (pr == 1) return copy_progress(c);      /* not for the target: its row filter */
    if (pr < 0) return copy_project_failed(c, pr);
    if (integ_row_refused(c->in, c->cur, &p, why, sizeof why)) return copy_refuse(c, why);
    size_t before = zbatch_bytes(c->b);
    if (target_add(c->tgt, c->b, &p, c->cur->tschema, c->cur->tname, 1) != 0) {
        snprintf(c->err, sizeof c->err, "table %s: %s", c->cur->source,
                 c->b->err[0] ? c->b->err : "out of memory");
        return -1;
    }
    c->pending++;
    if (zbatch_bytes(c->b) > before) c->bytes += zbatch_bytes(c->b) - before;
    /* Rows go out in small loads: while the target takes one, the source
     * server keeps sending into the socket, so the two work at the same
     * time (one big batch would leave each idle while the other works). */
    if (zbatch_bytes(c->b) > (c->budget < COPY_LOAD_BYTES ? c->budget : COPY_LOAD_BYTES) &&
        copy_job(c, JOB_ROWS, c->cur) != 0)
        return -1;
    return copy_progress(c);
}

/*
 * A PostgreSQL source into a postgres-dialect target: the source's COPY text
 * goes into the truncated table as it is — PostgreSQL→PostgreSQL keeps every
 * column's declared type, so decoding each value only to encode it again
 * would cost the CPU that makes a full load slower than a plain COPY pipe.
 * Only where the rows need no projection (the copy reads the catalog's own
 * definition). Only a copy that reads COPY text asks (zsink.raw_ok, change.h):
 * a PostgreSQL source's.
 *
 * In PostgreSQL's binary COPY format where that carries every value
 * unchanged (target_load_binary_ok): the target then parses no text —
 * int4 -> "42" -> int4 — which is about a tenth of its CPU on a pgbench
 * table. Else in text, which converts between encodings and types.
 */
static int copy_raw_ok(void *ctx, const struct ztable *def, int src_version, const char *src_encoding)
{
    struct copier *c = ctx;
    if (copy_flush(c) != 0 || !target_load_raw_ok(c->tgt))
        return ZRAW_NO;                         /* (a failed load: the row path reports it) */
    struct itable *t = integ_find_table(c->in, def->schema, def->name);
    if (!t || t->def != def || copy_skips(c, t)) return ZRAW_NO;   /* a failed table's rows are skipped */
    if (t->shape.x || t->shape.filter) return ZRAW_NO;  /* transforms, a row filter: row by row (shape.h) */
    c->raw_binary = target_load_binary_ok(c->tgt, t->tschema, t->tname, t->tdef, src_version, src_encoding) == 1;
    return c->raw_binary ? ZRAW_BINARY : ZRAW_TEXT;
}

static int copy_raw_rows(void *ctx, const struct ztable *def, const char *buf, size_t len, int64_t nrows)
{
    struct copier *c = ctx;
    if (!buf) {                                 /* the table's rows are all in */
        if (!c->raw) return 0;
        c->raw = 0;
        if (target_load_raw_end(c->tgt, 0) != 0) goto target_failed;
        report(c);
        return 0;
    }
    if (!c->raw) {
        /* Rows of an earlier table still batched go first: one COPY at a time. */
        if (copy_flush(c) != 0 || copy_switch_table(c, def) != 0) return -1;
        if (target_load_raw_begin(c->tgt, c->cur->tschema, c->cur->tname, c->cur->tdef, c->raw_binary) != 0)
            goto target_failed;
        if (c->raw_binary && c->said_binary != c->cur)
            statelog_record_event(c->sl, STATELOG_INFO, c->in->cfg->name, c->cur->source, "snapshot", NULL,
                                  "copying in binary COPY format (same types, major version and encoding)");
        if (c->raw_binary) c->said_binary = c->cur;
        c->raw = 1;
    }
    if (target_load_raw_data(c->tgt, buf, len) != 0) goto target_failed;
    c->pending += nrows;
    c->bytes += len;
    return copy_progress(c);
target_failed:
    snprintf(c->err, sizeof c->err, "target: loading %s.%s: %s", def->schema, def->name, target_error(c->tgt));
    c->fault = integ_error_is_table(target_sqlstate(c->tgt)) ? integ_find_table(c->in, def->schema, def->name)
                                                              : NULL;
    return -1;
}

int integ_shape_differs(struct integ *in, const struct itable *t, char *what, size_t len)
{
    char have[4096];
    const char *want = t->shape.sig ? t->shape.sig : "";
    if (!target_keeps_shapes(in->tgt)) return 0;
    int f = target_shape_get(in->tgt, t->source, have, sizeof have);
    if (f < 0) {
        snprintf(in->err, sizeof in->err, "target: table %s: %s", t->source, target_error(in->tgt));
        return -1;
    }
    if (strcmp(have, want) == 0) return 0;
    if (what)
        snprintf(what, len, "its column transforms changed: the target's rows carry %s%s%s, the config asks %s%s%s; "
                 "resync the table to write them again", have[0] ? "\"" : "", have[0] ? have : "none",
                 have[0] ? "\"" : "", want[0] ? "\"" : "", want[0] ? want : "none", want[0] ? "\"" : "");
    return 1;
}

int integ_check_shapes(struct integ *in)
{
    for (int i = 0; i < in->ntables; i++) {
        struct itable *t = &in->tables[i];
        if (t->state != TSTATE_SYNCED) continue;    /* a copy under way records its own (begin_clear) */
        char what[1024];
        int d = integ_shape_differs(in, t, what, sizeof what);
        if (d < 0) return -1;
        if (d) integ_set_table_state(in, t, TSTATE_RESYNC_REQUIRED, what, NULL);
    }
    return 0;
}

/* Create or check the target tables; a column the target lacks is added. */
int integ_ensure_tables(struct integ *in)
{
    for (int i = 0; i < in->ntables; i++) {
        struct itable *t = &in->tables[i];
        struct target_table_diff d = {0};
        if (target_ensure_table(in->tgt, t->tdef, t->tschema, t->tname, &d) != 0) {
            snprintf(in->err, sizeof in->err, "target: table %s.%s: %s", t->tschema, t->tname,
                     target_error(in->tgt));
            return -1;
        }
        for (int k = 0; k < d.ndiffs; k++) {
            const struct target_diff *df = &d.diffs[k];
            if (df->kind == TDIFF_MISSING) {
                for (int c = 0; c < t->tdef->ncols; c++)
                    if (strcmp(t->tdef->cols[c].name, df->column) == 0 &&
                        target_add_column(in->tgt, t->tschema, t->tname, &t->tdef->cols[c]) != 0) {
                        snprintf(in->err, sizeof in->err, "target: adding column %s to %s.%s: %s",
                                 df->column, t->tschema, t->tname, target_error(in->tgt));
                        target_table_diff_free(&d);
                        return -1;
                    }
                integ_log(in, STATELOG_INFO, t->source, "ddl", "added column %s to the target", df->column);
            } else if (df->kind == TDIFF_TYPE) {
                integ_log(in, STATELOG_WARNING, t->source, "schema",
                          "target column %s is %s, the source maps to %s; values are loaded as they are",
                          df->column, df->have, df->want);
            }
        }
        target_table_diff_free(&d);
    }
    return 0;
}

/*
 * The PostgreSQL initial copy with apply.copy_workers > 1: every worker has
 * its own source connection in the slot's exported snapshot (so all see the
 * same data), its own target connection, batch and state-log handle, and
 * takes tables one at a time: truncate, copy, commit — without the
 * checkpoint. When every worker has committed, the coordinator writes the
 * checkpoint (the slot's consistent point) on its own connection. A crash
 * before that leaves no checkpoint, and the next round copies again.
 */
struct worker {
    struct integ *in;
    pthread_t th;
    const char *snap;
    atomic_int *next;          /* the next table index to take */
    atomic_int *failed;        /* set by the first worker that fails */
    char **why;                /* per table index: why its copy failed it alone (badtable.c), or NULL */
    int rc;
    char err[1024];
};

/* A copier on connections of its own (a parallel worker, a resync's copy):
 * target connection and state-log handle. stop: the flag its target's
 * retries watch (the http kind). */
static int copier_open(struct copier *c, atomic_int *stop, char *err, size_t errlen)
{
    struct integ *in = c->in;
    struct target_opts o = {
        .kind = in->cfg->target.kind, .source = &in->src->dialect,
        .dsn = in->cfg->target.dsn, .integration = in->cfg->name,
        .config = in->cfg, .state_dir = in->root->state_dir, .stop = stop,
        .fence_epoch = integ_ha_epoch(in), .fenced = integ_ha_fenced(in),
    };
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", in->root->state_dir, STATELOG_FILENAME);
    c->b = zbatch_new();
    if (!c->b) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (target_connect(&c->tgt, &o, err, errlen) != 0 || statelog_open(&c->sl, path, err, errlen) != 0)
        return -1;
    loader_start(c);
    return 0;
}

static void copier_close(struct copier *c)
{
    loader_stop(c);
    copy_text_free(c);
    if (c->tgt) target_close(c->tgt);
    statelog_close(c->sl);
    zbatch_free(c->b);
    integ_projection_free(&c->proj);
}

/* The sink a copier's reads deliver to (rows, raw COPY data, the estimate). */
static struct zsink copier_sink(struct copier *c)
{
    return (struct zsink){.ctx = c, .row = copy_row, .raw_ok = copy_raw_ok, .raw_rows = copy_raw_rows,
                          .estimate = copy_estimate};
}

/* Empty t's target table for a copy, in the open transaction, and record
 * the shape the rows about to come carry (shape.h: zetl.table_shapes). */
int integ_truncate(struct target *tgt, const struct itable *t)
{
    return target_truncate(tgt, t->def, t->tschema, t->tname) != 0 ||
           target_shape_set(tgt, t->source, t->shape.sig ? t->shape.sig : "") != 0 ? -1 : 0;
}

/*
 * One table on the copier's own connections: truncated and loaded in one
 * target transaction, with a plain commit (the checkpoint is the caller's).
 * snap: the exported PostgreSQL snapshot parallel workers share; NULL: the
 * table's own consistent read, whose exact position (or ZPOS_NONE) goes to
 * *pos. what names the work in messages ("copying", "resync of"). 0, or -1
 * with err.
 */
static int copy_one(struct copier *c, struct itable *t, const char *snap, struct zpos *pos,
                    const char *what, char *err, size_t errlen)
{
    char e[1024];
    c->cur = NULL;
    c->fault = NULL;
    if (target_begin(c->tgt) != 0 || integ_truncate(c->tgt, t) != 0)
        goto target_failed;
    target_set_load(c->tgt);            /* no row of the load is left in the table */
    c->err[0] = '\0';
    e[0] = '\0';
    struct zsink sink = copier_sink(c);
    int rc = copy_text_start(c);
    if (rc == 0)
        rc = snap ? source_copy_table(c->in, snap, t->def, &sink, e, sizeof e)
                  : source_snapshot_table(c->in, t, &sink, pos, e, sizeof e);
    if (rc != 0 || copy_flush(c) != 0) {
        copy_abandon(c);
        snprintf(err, errlen, "%s %s: %s", what, t->source, c->err[0] ? c->err : e);
        target_rollback(c->tgt);
        return -1;
    }
    if (target_commit(c->tgt, NULL, 0) != 0) goto target_failed;
    report(c);
    return 0;
target_failed:
    snprintf(err, errlen, "target: %s %s: %s", what, t->source, target_error(c->tgt));
    target_rollback(c->tgt);
    return -1;
}

/* A copy worker's share of the memory budget: up to copy_workers run at once
 * (the parallel one-read copy's workers, or the tables copied while streaming). */
static size_t worker_budget(const struct integ *in)
{
    return ((size_t)in->cfg->apply.memory_mb << 19) / (size_t)integ_copy_workers(in);
}

static void *worker_main(void *arg)
{
    pthread_setname_np(pthread_self(), "z-copy");   /* top -H, gdb */
    struct worker *w = arg;
    struct integ *in = w->in;
    struct copier c = {.in = in, .budget = worker_budget(in)};
    w->rc = -1;
    if (copier_open(&c, &in->stop, w->err, sizeof w->err) != 0) goto out;
    for (;;) {
        int i = atomic_fetch_add(w->next, 1);
        if (i >= in->ntables || atomic_load(w->failed) || atomic_load(&in->stop)) break;
        if (copy_one(&c, &in->tables[i], w->snap, NULL, "copying", w->err, sizeof w->err) == 0) continue;
        if (!c.fault || atomic_load(&in->stop)) goto out;
        /* That table's fault (rolled back): it fails alone, the others go on. */
        if (!(w->why[i] = strdup(w->err))) goto out;
    }
    w->rc = 0;
out:
    if (w->rc != 0) atomic_store(w->failed, 1);
    copier_close(&c);
    return NULL;
}

static enum integ_round parallel_copy(struct integ *in)
{
    int n = in->cfg->apply.copy_workers < in->ntables ? in->cfg->apply.copy_workers : in->ntables;
    char snap[128];
    struct zpos pos;
    void *export = NULL;
    integ_set_state(in, ISTATE_SNAPSHOTTING, NULL, NULL);
    for (int i = 0; i < in->ntables; i++) {
        struct itable *t = &in->tables[i];
        integ_start_copy(in, t, TSTATE_SNAPSHOTTING, NULL, 0, -1);
    }
    if (source_export_begin(in, snap, sizeof snap, &pos, &export, in->err, sizeof in->err) != 0)
        return ROUND_ERROR;
    atomic_int next = 0, failed = 0;
    struct worker *w = calloc((size_t)n, sizeof *w);
    char **why = calloc((size_t)in->ntables, sizeof *why);
    int started = 0;
    for (int i = 0; w && why && i < n; i++) {
        w[i] = (struct worker){.in = in, .snap = snap, .next = &next, .failed = &failed, .why = why};
        if (pthread_create(&w[i].th, NULL, worker_main, &w[i]) != 0) break;
        started++;
    }
    enum integ_round end = ROUND_NONE;
    for (int i = 0; i < started; i++) {
        pthread_join(w[i].th, NULL);
        if (w[i].rc != 0 && end == ROUND_NONE) {
            snprintf(in->err, sizeof in->err, "%s", w[i].err);
            end = atomic_load(&in->stop) ? ROUND_STOPPED : ROUND_ERROR;
        }
    }
    if (!w || started < n) {
        if (end == ROUND_NONE) snprintf(in->err, sizeof in->err, "cannot start the copy workers");
        end = ROUND_ERROR;
    }
    if (end == ROUND_ERROR) {
        enum integ_round r = cut_command(in);
        if (r != ROUND_NONE) end = r;
    }
    free(w);
    source_export_end(in, export);
    for (int i = 0; why && i < in->ntables; i++) {
        if (why[i] && end == ROUND_NONE) {
            char reason[1536];
            snprintf(reason, sizeof reason, "table %.200s: the initial copy failed: %.1024s; fix the data or "
                     "the target table, then resync the table", in->tables[i].source, why[i]);
            integ_fail_table(in, &in->tables[i], reason);
        }
        free(why[i]);
    }
    free(why);
    if (end != ROUND_NONE) return end;

    if (target_begin(in->tgt) != 0 || target_commit(in->tgt, &pos, 0) != 0) {
        snprintf(in->err, sizeof in->err, "target: writing the checkpoint: %s", target_error(in->tgt));
        return ROUND_ERROR;
    }
    in->applied = pos;
    char p[ZPOS_FILE_MAX + ZPOS_GTID_MAX + 32];
    zpos_format(&pos, p, sizeof p);
    statelog_update_position(in->sl, in->cfg->name, p, -1, -1);
    for (int i = 0; i < in->ntables; i++)
        if (in->tables[i].state != TSTATE_FAILED)
            integ_set_table_state(in, &in->tables[i], TSTATE_SYNCED, NULL, NULL);
    integ_log(in, STATELOG_INFO, NULL, "snapshot", "initial copy of %d tables by %d workers done at %s",
              in->ntables, n, p);
    return ROUND_NONE;
}

/*
 * A re-snapshot asked for (the resnapshot command, or a resync of an
 * integration whose position is lost): the checkpoint and the resync marks
 * go first, committed on their own. From then on every round, after a
 * crash too, finds no checkpoint and copies every table in one consistent
 * read, truncating them in the copy's transaction: nothing of the old
 * stream survives to be applied twice, and the stream starts from the
 * copy's position, so nothing is lost. 0, or -1 with in->err.
 */
static int resnapshot_begin(struct integ *in, int found, const struct zpos *cp)
{
    char p[ZPOS_FILE_MAX + ZPOS_GTID_MAX + 32] = "";
    if (found == 1) {
        if (target_discard_checkpoint(in->tgt) != 0) {
            snprintf(in->err, sizeof in->err, "target: discarding the checkpoint for the re-snapshot: %s",
                     target_error(in->tgt));
            return -1;
        }
        zpos_format(cp, p, sizeof p);
    }
    for (int i = 0; i < in->ntables; i++) {
        struct itable *t = &in->tables[i];
        t->resync_requested = 0;
        memset(&t->skip_until, 0, sizeof t->skip_until);
        if (t->state == TSTATE_FAILED)    /* copied again too: the copy skips only failed */
            integ_set_table_state(in, t, TSTATE_PENDING, "re-snapshot: copied again", NULL);
    }
    integ_log(in, STATELOG_WARNING, NULL, "resnapshot",
              "re-snapshot asked by %s: %s%s%s; every table is copied again from a fresh position, then streams from there",
              in->resnapshot_actor[0] ? in->resnapshot_actor : in->actor,
              p[0] ? "checkpoint " : "no checkpoint to discard", p, p[0] ? " discarded" : "");
    in->resnapshot = 0;
    in->position_lost = 0;
    return 0;
}

/*
 * The initial copy in chunks (apply.copy_chunk_rows > 0; a source and a
 * target that can):
 * every table is marked for a resync, with no copy progress, in one target
 * transaction with the checkpoint at the source's position now. The stream
 * then starts at once from that checkpoint, and the resync machinery
 * (resync.c, whose header has the exactly-once argument) copies the tables,
 * apply.copy_workers at a time, those with an integer key in chunks, the
 * others in one read each, while the stream runs. From the commit on, a crash resumes
 * like any cut-short resync: each marked table from its committed chunks.
 * Before it, nothing was written but the source's slot or nothing: the next
 * round starts here again. 0: marked, stream from the checkpoint; 1: this
 * integration copies in one read (nothing done); -1 with in->err.
 */
static int copy_by_chunks(struct integ *in)
{
    if (in->cfg->apply.copy_chunk_rows <= 0 || !source_can_chunk(in) || !target_can_chunk(in->tgt))
        return 1;
    int keyed = 0, kcols[ZKEY_MAX];
    for (int i = 0; i < in->ntables && !keyed; i++)
        keyed = in->tables[i].state != TSTATE_FAILED && zkey_columns(in->tables[i].tdef, kcols) > 0;
    if (!keyed) return 1;               /* nothing to chunk: one read is as good */
    struct zpos pos;
    int rc = source_start_at(in, &pos, in->err, sizeof in->err);
    if (rc != 0) return rc;             /* 1: no exact position, one read */
    if (target_begin(in->tgt) != 0) goto target_failed;
    int n = 0;
    for (int i = 0; i < in->ntables; i++) {
        struct itable *t = &in->tables[i];
        if (t->state == TSTATE_FAILED) continue;
        if (target_resync_mark(in->tgt, t->source) != 0 ||
            target_copy_progress_set(in->tgt, t->source, NULL, 0, 0) != 0)
            goto target_failed;
        n++;
    }
    if (target_commit(in->tgt, &pos, 0) != 0) goto target_failed;
    in->applied = pos;
    char p[ZPOS_FILE_MAX + ZPOS_GTID_MAX + 32];
    zpos_format(&pos, p, sizeof p);
    statelog_update_position(in->sl, in->cfg->name, p, -1, -1);
    for (int i = 0; i < in->ntables; i++) {
        struct itable *t = &in->tables[i];
        if (t->state == TSTATE_FAILED) continue;
        t->resync_requested = 1;
        t->resync_resume = 0;
        t->initial = 1;
        memset(&t->skip_until, 0, sizeof t->skip_until);
        integ_set_table_state(in, t, TSTATE_PENDING, "waiting for its turn in the initial copy", NULL);
    }
    integ_log(in, STATELOG_INFO, NULL, "snapshot", "initial copy of %d tables while streaming from %s: "
              "each is copied in turn, in chunks of %d rows by key where it has an integer key, and "
              "resumes from its last chunk after a restart", n, p, in->cfg->apply.copy_chunk_rows);
    return 0;
target_failed:
    snprintf(in->err, sizeof in->err, "target: initial copy: %s", target_error(in->tgt));
    target_rollback(in->tgt);
    return -1;
}

enum integ_round integ_snapshot(struct integ *in)
{
    in->err[0] = '\0';
    if (integ_connect_target(in) != 0) return ROUND_ERROR;
    /* A round's start: no other connection of ours is in use, so any other
     * session named as ours was left behind by a dead link, maybe holding
     * locks (a truncated table, rows of an uncommitted batch) the retry would wait on. */
    int reaped = target_reap_stale(in->tgt);
    if (reaped > 0)
        integ_log(in, STATELOG_WARNING, NULL, "target", "ended %d target session(s) an earlier connection left behind", reaped);
    struct zpos cp;
    int found = target_read_checkpoint(in->tgt, &cp, NULL);
    if (found < 0) {
        snprintf(in->err, sizeof in->err, "target: reading the checkpoint: %s", target_error(in->tgt));
        return ROUND_ERROR;
    }
    if (integ_load_tables(in, in->err, sizeof in->err) != 0) return ROUND_ERROR;
    if (in->resnapshot) {
        if (resnapshot_begin(in, found, &cp) != 0) return ROUND_ERROR;
        found = 0;
    }
    if (integ_check_source(in, found, &cp) != 0) return ROUND_ERROR;   /* ident.c */
    if (integ_ensure_tables(in) != 0) return ROUND_ERROR;
    if (found == 1 && integ_check_shapes(in) != 0) return ROUND_ERROR;
    if (found == 1) return ROUND_NONE;  /* copied before: stream from the checkpoint */

    integ_set_state(in, ISTATE_SNAPSHOTTING, NULL, NULL);
    int chunked = copy_by_chunks(in);
    if (chunked < 0) return ROUND_ERROR;
    if (chunked == 0) return ROUND_NONE;    /* streaming; the resyncs copy the tables */
    if (source_can_export(in) && in->cfg->apply.copy_workers > 1 && in->ntables > 1)
        return parallel_copy(in);
    struct copier c = {.in = in, .tgt = in->tgt, .sl = in->sl, .b = zbatch_new(),
                       .budget = (size_t)in->cfg->apply.memory_mb << 19, .fail_here = 1,
                       .refused = calloc((size_t)in->ntables + 1, 1)};
    enum integ_round end = ROUND_ERROR;
    if (!c.b || !c.refused) {
        snprintf(in->err, sizeof in->err, "out of memory");
        goto out;
    }
    loader_start(&c);
    struct zsink sink = copier_sink(&c);
    struct zpos pos;
    /* A pass copies every table not failed. A load the target refuses for
     * one table's sake (badtable.c) fails that table, and the copy runs
     * again without it: at most one pass per table. */
    for (int pass = 0;; pass++) {
        if (target_begin(in->tgt) != 0) goto target_failed;
        target_set_load(in->tgt);       /* the tables are truncated below, in this transaction */
        for (int i = 0; i < in->ntables; i++) {
            struct itable *t = &in->tables[i];
            c.refused[i] = 0;
            if (t->state == TSTATE_FAILED) continue;
            integ_start_copy(in, t, TSTATE_SNAPSHOTTING, NULL, 0, -1);
            if (integ_truncate(in->tgt, t) != 0) goto target_failed;
        }
        if (copy_text_start(&c) != 0) {
            snprintf(in->err, sizeof in->err, "%s", c.err);
            target_rollback(in->tgt);
            goto out;
        }
        c.err[0] = '\0';
        c.fault = NULL;
        int rc = source_snapshot(in, &sink, &pos, in->err, sizeof in->err);
        if (rc != 0 || copy_flush(&c) != 0) {
            copy_abandon(&c);
            target_rollback(in->tgt);
            int stopped = rc != 0 && atomic_load(&in->stop);
            if (!stopped && c.cmd_end == ROUND_NONE) c.cmd_end = cut_command(in);
            if (c.fault && !stopped && c.cmd_end == ROUND_NONE && pass < in->ntables) {
                char reason[1536];
                snprintf(reason, sizeof reason, "table %.200s: the initial copy failed: %.1024s; fix the data "
                         "or the target table, then resync the table", c.fault->source, c.err);
                integ_fail_table(in, (struct itable *)c.fault, reason);
                continue;
            }
            if (c.err[0]) snprintf(in->err, sizeof in->err, "%s", c.err);
            end = stopped ? ROUND_STOPPED : ROUND_ERROR;
            if (c.cmd_end != ROUND_NONE) end = c.cmd_end;   /* pause, delete, stop: not a failure */
            goto out;
        }
        break;
    }
    report(&c);
    /* A table failed by a row it could not store keeps none of the rows
     * loaded before it: failed means empty until its resync. */
    for (int i = 0; i < in->ntables; i++)
        if (c.refused[i] && integ_truncate(in->tgt, &in->tables[i]) != 0)
            goto target_failed;
    if (target_commit(in->tgt, &pos, 0) != 0) goto target_failed;
    in->applied = pos;
    char p[ZPOS_FILE_MAX + ZPOS_GTID_MAX + 32];
    zpos_format(&pos, p, sizeof p);
    statelog_update_position(in->sl, in->cfg->name, p, -1, -1);
    int nfailed = 0;
    for (int i = 0; i < in->ntables; i++) {
        if (in->tables[i].state == TSTATE_FAILED) nfailed++;
        else integ_set_table_state(in, &in->tables[i], TSTATE_SYNCED, NULL, NULL);
    }
    if (nfailed)
        integ_log(in, STATELOG_WARNING, NULL, "snapshot", "initial copy of %d tables done at %s; %d failed "
                  "(each says why; resync it once fixed)", in->ntables - nfailed, p, nfailed);
    else
        integ_log(in, STATELOG_INFO, NULL, "snapshot", "initial copy of %d tables done at %s", in->ntables, p);
    end = ROUND_NONE;                   /* copied: stream from the checkpoint */
    goto out;
target_failed:
    snprintf(in->err, sizeof in->err, "target: initial copy: %s", target_error(in->tgt));
    target_rollback(in->tgt);
    end = c.cmd_end != ROUND_NONE ? c.cmd_end : ROUND_ERROR;
out:
    loader_stop(&c);
    copy_text_free(&c);
    zbatch_free(c.b);
    free(c.refused);
    integ_projection_free(&c.proj);
    return end;
}

/* What a copy of t is called in its messages (a table's failure reason). */
static const char *copy_what(const struct itable *t)
{
    return t->initial ? "initial copy of" : "resync of";
}

/*
 * One table copied again while the others stream (resync.c's worker thread):
 * its own target connection and state-log handle, one target transaction that
 * truncates the table and loads the copy. The checkpoint is the applier's: a
 * plain commit here. Rows are reported as copied as they go (the console shows
 * the progress); *pos is the copy's exact position where the source gives one.
 */
int integ_copy_table(struct integ *in, struct itable *t, atomic_int *abort, struct zpos *pos,
                     char *err, size_t errlen)
{
    struct copier c = {.in = in, .abort = abort, .budget = worker_budget(in)};
    memset(pos, 0, sizeof *pos);
    int rc = copier_open(&c, abort, err, errlen) == 0 ? copy_one(&c, t, NULL, pos, copy_what(t), err, errlen) : -1;
    copier_close(&c);
    return rc;
}

/*
 * One chunk on the copier's connections (integ_copy_chunks), in a target
 * transaction of its own. The first of a run begins it here and clears the
 * rows after ch->lo (or the whole table, from the start). A later chunk
 * clears nothing: from the first chunk's clear on, nothing writes a key
 * above the frontier but these loads (resync.c: the applier applies a change
 * live only at or below the frontier, and a hand-off only up to its own
 * chunk's end), so the table holds no key after ch->lo. (A DELETE per chunk
 * would cost a scan per chunk where the target's planner does not use the
 * key's index: a table without statistics yet.) Its transaction is begun by
 * the first job handed on, after the writer committed the chunk before.
 *
 * The chunk's rows are read and handed on, and its commit with its last
 * rows (copy_commit): the reader returns while the writer still loads and
 * commits, and reads the next chunk meanwhile — a chunk boundary costs no
 * pause of the pipe. chunk_committed reports each chunk once committed.
 * 0, or -1 with err (the transaction under way rolled back).
 */
struct chunk_read { void *h; struct zchunk_req q; struct copy_chunk *ch; struct zkey last; };
static int read_chunk(struct copier *c, struct itable *t, void *ctx, char *e, size_t elen)
{
    struct chunk_read *k = ctx;
    struct copy_chunk *ch = k->ch;
    return source_chunk_read(c->in, k->h, t->def, &k->q, &ch->pos, &ch->rows, &k->last, e, elen);
}

/* A transaction begun that clears t's rows after lo (n 0: every row). */
static int begin_clear(struct target *tgt, const struct itable *t, const int *kcols, const struct zkey *lo)
{
    if (target_begin(tgt) != 0) return -1;
    return lo->n ? target_delete_after(tgt, t->tdef, kcols, lo, t->tschema, t->tname)
                 : integ_truncate(tgt, t);
}

/* first: clear the rows after ch->lo (or the whole table) in the chunk's
 * transaction, begun here; else the writer begins it with the first job
 * (c->need_begin). Then the read (k) and the commit handed on. */
static int copy_chunk(struct copier *c, struct itable *t, struct chunk_read *k, const int *kcols,
                      int first, char *err, size_t errlen)
{
    struct copy_chunk *ch = k->ch;
    char e[1024];
    c->cur = NULL;
    c->fault = NULL;
    c->err[0] = '\0';
    e[0] = '\0';
    if (first) {                        /* nothing handed on yet: the target is ours */
        if (begin_clear(c->tgt, t, kcols, &ch->lo) != 0) {
            snprintf(err, errlen, "target: %s %s: %s", copy_what(t), t->source, target_error(c->tgt));
            target_rollback(c->tgt);
            return -1;
        }
        target_set_load(c->tgt);        /* no row of the load is left in the table */
        if (copy_text_start(c) != 0) goto failed;
    } else {
        c->need_begin = 1;
        c->text_t = NULL;
    }
    if (read_chunk(c, t, k, e, sizeof e) != 0) goto failed;
    if (!k->q.upto) {                   /* a range fixed in advance keeps its end and knows if last */
        ch->last = ch->rows < k->q.limit;
        if (ch->rows) ch->hi = k->last;
    }
    report_to(c, t);                 /* its rows, before its hand-off can make the table synced */
    if (copy_commit(c, ch) != 0) goto failed;
    return 0;
failed:
    copy_abandon(c);                    /* the writer idle: the target is ours */
    snprintf(err, errlen, "%s %s: %s", copy_what(t), t->source, c->err[0] ? c->err : e);
    target_rollback(c->tgt);
    return -1;
}

/*
 * The next chunk's rows: copy_chunk_rows (limit), or fewer, so that a chunk
 * of rows as wide as the last one's stays within apply.copy_chunk_mb (the
 * target transaction and the source read of one chunk stay bounded by bytes
 * too, not only by rows). The first chunk has no width to go by: with a cap,
 * it is a probe of at most COPY_PROBE_ROWS rows.
 */
#define COPY_PROBE_ROWS 10000
static uint32_t chunk_rows(const struct integ *in, uint32_t limit, uint64_t rows, uint64_t bytes)
{
    uint64_t cap = (uint64_t)in->cfg->apply.copy_chunk_mb << 20;
    if (!cap || !rows || !bytes) return limit;
    uint64_t n = cap / (bytes / rows ? bytes / rows : 1);
    return n < 1 ? 1 : n < limit ? (uint32_t)n : limit;
}

/* The first chunk's size: the limit, or a probe when chunks go by bytes too. */
static uint32_t first_rows(const struct integ *in, uint32_t limit)
{
    return in->cfg->apply.copy_chunk_mb > 0 && limit > COPY_PROBE_ROWS ? COPY_PROBE_ROWS : limit;
}

/* One reader: chunks of limit rows one after another (the next one's lower
 * bound is the last key of the one before). */
static int copy_chunks_one(struct integ *in, struct itable *t, const struct zkey *from, uint32_t limit,
                           atomic_int *abort, const struct chunk_hooks *hooks, char *err, size_t errlen)
{
    struct copier c = {.in = in, .abort = abort, .budget = worker_budget(in), .chunk_done = hooks->done,
                       .chunk_ctx = hooks->ctx};
    /* raw_ok and raw_rows: a PostgreSQL source's chunks come as COPY data, as its one-read copy does */
    struct zsink sink = copier_sink(&c);
    int kcols[ZKEY_MAX], rc = -1;
    struct copy_chunk ch = {.lo = *from};
    struct chunk_read k = {.ch = &ch};
    zkey_columns(t->tdef, kcols);
    if (copier_open(&c, abort, err, errlen) != 0) goto out;
    if (source_chunk_begin(in, &sink, 0, &k.h, err, errlen) != 0) goto out;
    uint32_t rows = first_rows(in, limit);
    for (int first = 1;; first = 0) {   /* the run's first chunk clears (copy_chunk) */
        if (atomic_load(abort) || atomic_load(&in->stop) || (hooks->admit && hooks->admit(hooks->ctx, ch.seq))) {
            snprintf(err, errlen, "%s %s: stopped during the copy", copy_what(t), t->source);
            goto drain;
        }
        if (atomic_load(&c.chunk_stop)) break;      /* done() said stop: not a failure */
        uint64_t b0 = c.bytes;
        k.q = (struct zchunk_req){.after = ch.lo.n ? &ch.lo : NULL, .limit = rows};
        if (copy_chunk(&c, t, &k, kcols, first, err, errlen) != 0) goto out;
        if (ch.last) break;
        ch.lo = ch.hi;
        ch.seq++;
        rows = chunk_rows(in, limit, ch.rows, c.bytes - b0);
    }
    /* The last chunk committed (or the one that failed told) before the reply. */
    if (loader_drain(&c) != 0) {
        snprintf(err, errlen, "%s %s: %s", copy_what(t), t->source, c.err);
        target_rollback(c.tgt);
        goto out;
    }
    rc = 0;
    goto out;
drain:
    copy_abandon(&c);                   /* a chunk handed on still commits, and is told */
    target_rollback(c.tgt);
out:
    if (c.sl) report_to(&c, t);      /* the chunks committed since the last report */
    source_chunk_end(in, k.h);
    copier_close(&c);
    return rc;
}

/*
 * Several readers (apply.copy_workers > 1): the table's key space is cut
 * into ranges in key order as the readers ask for work — each range's end
 * is the key limit rows after its start, as the table stands then
 * (source_chunk_bound; the last range is open) — and each reader copies
 * the ranges it takes as copy_chunks_one copies a chunk: a consistent read
 * of its own, a target transaction of its own. Two orders hold whatever the
 * threads do: the ranges are cut in order (under the plan's lock), and the
 * reads take their snapshots in that order (snap_turn, passed on by the
 * source's snapped callback once a read's position is fixed), so a later
 * range's position is never before an earlier one's — what resync.c's
 * hand-off needs of "a later chunk" (its header). The rows after *from were
 * cleared before any range loads; a range's load then clears nothing.
 * In-flight reads over every table stay within apply.copy_workers
 * (in->copy_reads); the hand-off takes the chunks in seq order whatever
 * order they commit in.
 */
struct chunk_plan {
    struct integ *in;
    struct itable *t;
    uint32_t limit;             /* copy_chunk_rows */
    atomic_int *abort;
    const struct chunk_hooks *hooks;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t next_seq;          /* the next range to cut */
    struct zkey next_lo;        /* its start (n 0: the table's) */
    uint32_t rows;              /* its rows (chunk_rows of the last range read) */
    int cut_last;               /* the open last range is cut: no more */
    uint64_t snap_turn;         /* the range whose read may take its snapshot now */
    int failed;                 /* a reader failed (err): every reader stops */
    char err[1024];
};

struct chunk_reader {
    struct chunk_plan *p;
    pthread_t th;
    int started;
    int rc;
};

static void plan_fail(struct chunk_plan *p, const char *err)
{
    pthread_mutex_lock(&p->mu);
    if (!p->failed) {
        p->failed = 1;
        snprintf(p->err, sizeof p->err, "%s", err);
    }
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static int plan_stopped(const struct chunk_plan *p)
{
    return atomic_load(p->abort) || atomic_load(&p->in->stop);
}

/* source's snapped: this read's position is fixed; the next range's read may take its own. */
struct turn { struct chunk_plan *p; int passed; };
static void pass_turn(void *ctx)
{
    struct turn *u = ctx;
    pthread_mutex_lock(&u->p->mu);
    u->p->snap_turn++;
    u->passed = 1;
    pthread_cond_broadcast(&u->p->cv);
    pthread_mutex_unlock(&u->p->mu);
}

/* Under p->mu: wait for range seq's turn to take its snapshot. 0, or -1
 * when the plan failed or the copy stops. */
static int turn_wait(struct chunk_plan *p, uint64_t seq)
{
    while (p->snap_turn != seq) {
        if (p->failed || plan_stopped(p)) return -1;
        struct timespec ts = zclock_deadline(CLOCK_REALTIME, 200);
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
    }
    return p->failed || plan_stopped(p) ? -1 : 0;
}

/* One of the copy_workers chunk reads of the integration (every table's):
 * 0 taken, -1 the copy stops meanwhile. */
static int read_take(struct chunk_plan *p)
{
    struct integ *in = p->in;
    int rc = 0;
    pthread_mutex_lock(&in->copy_mu);
    while (in->copy_reads >= integ_copy_workers(in)) {
        if (plan_stopped(p)) { rc = -1; break; }
        struct timespec ts = zclock_deadline(CLOCK_REALTIME, 200);
        pthread_cond_timedwait(&in->copy_cv, &in->copy_mu, &ts);
    }
    if (rc == 0) in->copy_reads++;
    pthread_mutex_unlock(&in->copy_mu);
    return rc;
}

static void read_give(struct integ *in)
{
    pthread_mutex_lock(&in->copy_mu);
    in->copy_reads--;
    pthread_cond_broadcast(&in->copy_cv);
    pthread_mutex_unlock(&in->copy_mu);
}

/* A reader thread: its own copier and source handle; ranges until none is left. */
static void *chunk_reader_main(void *arg)
{
    pthread_setname_np(pthread_self(), "z-copy-chunk");   /* top -H, gdb */
    struct chunk_reader *rd = arg;
    struct chunk_plan *p = rd->p;
    struct integ *in = p->in;
    struct itable *t = p->t;
    const struct chunk_hooks *hooks = p->hooks;
    struct copier c = {.in = in, .abort = p->abort, .budget = worker_budget(in) / (size_t)integ_copy_workers(in),
                       .chunk_done = hooks->done, .chunk_ctx = hooks->ctx};
    struct zsink sink = copier_sink(&c);
    struct copy_chunk ch;
    struct chunk_read k = {.ch = &ch};
    char err[1024] = "";
    int kcols[ZKEY_MAX];
    zkey_columns(t->tdef, kcols);
    rd->rc = -1;
    if (copier_open(&c, p->abort, err, sizeof err) != 0 ||
        source_chunk_begin(in, &sink, 1, &k.h, err, sizeof err) != 0)
        goto out;
    if (copy_text_start(&c) != 0) {     /* the target idle: decided once */
        snprintf(err, sizeof err, "%s %s: %.900s", copy_what(t), t->source, c.err);
        goto out;
    }
    for (;;) {
        /* Cut the next range, in order. */
        pthread_mutex_lock(&p->mu);
        if (p->failed || p->cut_last || plan_stopped(p) || atomic_load(&c.chunk_stop)) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        memset(&ch, 0, sizeof ch);
        ch.seq = p->next_seq;
        ch.lo = p->next_lo;
        uint32_t rows = p->rows;
        int b = source_chunk_bound(in, k.h, t->def, ch.lo.n ? &ch.lo : NULL, rows, &ch.hi, err, sizeof err);
        if (b < 0) {
            pthread_mutex_unlock(&p->mu);
            goto out;
        }
        if (b == 0) {
            ch.last = 1;                /* the open end: every row after lo, however many came since */
            p->cut_last = 1;
        } else {
            p->next_lo = ch.hi;
        }
        p->next_seq++;
        pthread_mutex_unlock(&p->mu);
        /* Within the hand-off's window, then in turn for the snapshot, then one of the reads. */
        if (hooks->admit && hooks->admit(hooks->ctx, ch.seq)) {
            atomic_store(&c.chunk_stop, 1);
            break;
        }
        pthread_mutex_lock(&p->mu);
        int go = turn_wait(p, ch.seq);
        pthread_mutex_unlock(&p->mu);
        if (go != 0 || read_take(p) != 0) break;
        struct turn u = {.p = p};
        uint64_t b0 = c.bytes;
        k.q = (struct zchunk_req){.after = ch.lo.n ? &ch.lo : NULL, .upto = ch.last ? NULL : &ch.hi,
                                  .limit = UINT32_MAX, .snapped = pass_turn, .snap_ctx = &u};
        int rc = copy_chunk(&c, t, &k, kcols, 0, err, sizeof err);
        read_give(in);
        if (!u.passed) {                /* failed before its snapshot: nobody may take the next */
            if (rc == 0) snprintf(err, sizeof err, "%s %s: a chunk's read took no snapshot", copy_what(t), t->source);
            goto out;
        }
        if (rc != 0) goto out;
        pthread_mutex_lock(&p->mu);
        if (ch.rows) p->rows = chunk_rows(in, p->limit, ch.rows, c.bytes - b0);
        pthread_mutex_unlock(&p->mu);
    }
    if (loader_drain(&c) != 0) {
        snprintf(err, sizeof err, "%s %s: %.900s", copy_what(t), t->source, c.err);
        target_rollback(c.tgt);
        goto out;
    }
    rd->rc = 0;
out:
    if (rd->rc != 0) {
        if (!err[0]) snprintf(err, sizeof err, "%s %s: %.900s", copy_what(t), t->source, c.err[0] ? c.err : "failed");
        plan_fail(p, err);
        if (c.tgt && c.b) {             /* not when copier_open itself failed */
            copy_abandon(&c);
            target_rollback(c.tgt);
        }
    }
    if (c.sl) report_to(&c, t);
    source_chunk_end(in, k.h);
    copier_close(&c);
    return NULL;
}

/* The rows after *from (or every row) gone, in a transaction of its own,
 * before any range loads. */
static int clear_after(struct integ *in, struct itable *t, const struct zkey *from, atomic_int *abort,
                       char *err, size_t errlen)
{
    struct copier c = {.in = in, .abort = abort, .budget = worker_budget(in)};
    int kcols[ZKEY_MAX], rc = -1;
    zkey_columns(t->tdef, kcols);
    if (copier_open(&c, abort, err, errlen) != 0) goto out;
    if (begin_clear(c.tgt, t, kcols, from) != 0 || target_commit(c.tgt, NULL, 0) != 0) {
        snprintf(err, errlen, "target: %s %s: %s", copy_what(t), t->source, target_error(c.tgt));
        target_rollback(c.tgt);
        goto out;
    }
    rc = 0;
out:
    copier_close(&c);
    return rc;
}

int integ_copy_chunks(struct integ *in, struct itable *t, const struct zkey *from, uint32_t limit,
                      atomic_int *abort, const struct chunk_hooks *hooks, char *err, size_t errlen)
{
    int kcols[ZKEY_MAX];
    if (!zkey_columns(t->tdef, kcols)) {
        snprintf(err, errlen, "%s %s: the table has no integer key to copy in chunks by", copy_what(t), t->source);
        return -1;
    }
    int n = integ_copy_workers(in);
    if (n < 2 || !in->src->chunk_bound)
        return copy_chunks_one(in, t, from, limit, abort, hooks, err, errlen);
    if (clear_after(in, t, from, abort, err, errlen) != 0) return -1;
    struct chunk_plan p = {.in = in, .t = t, .limit = limit, .abort = abort, .hooks = hooks,
                           .next_lo = *from, .rows = first_rows(in, limit)};
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    struct chunk_reader rd[INTEG_RESYNCS_MAX];
    int started = 0;
    for (int i = 0; i < n; i++) {
        rd[i] = (struct chunk_reader){.p = &p};
        if (pthread_create(&rd[i].th, NULL, chunk_reader_main, &rd[i]) != 0) {
            plan_fail(&p, "cannot start the chunk readers");
            break;
        }
        rd[i].started = 1;
        started++;
    }
    for (int i = 0; i < started; i++) pthread_join(rd[i].th, NULL);
    int rc = 0;
    if (p.failed) {
        snprintf(err, errlen, "%.*s", (int)(errlen > 1 ? errlen - 1 : 0), p.err);
        rc = -1;
    } else if (plan_stopped(&p)) {
        snprintf(err, errlen, "%s %s: stopped during the copy", copy_what(t), t->source);
        rc = -1;
    }
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
    return rc;
}
