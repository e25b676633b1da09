/*
 * queue.c — the bounded change queue (contract: queue.h).
 *
 * Records (runtime/pipe/queue_rec.h) live in segments: memory chunks framed
 * [u32 len][body], spool files framed by runtime/pipe/spool.c. The producer
 * appends to the tail segment and publishes its write offset under the
 * mutex; the consumer reads the head segment up to the offset it last saw
 * published, and takes the mutex only when it runs out (or at a COMMIT, for
 * the lag counters).
 */
#include "runtime/pipe/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "runtime/base/clock.h"
#include "runtime/pipe/queue_rec.h"
#include "runtime/pipe/spool.h"

#define CHUNK_MIN        (8u * 1024)     /* chunk = budget / 8, within these */
#define CHUNK_MAX        (1u << 20)
#define MEM_HDR          4u              /* u32 len before each body in memory */
#define PUBLISH_EVERY    256             /* records between publishes inside a transaction:
                                            each may wake the consumer (a futex call) */
#define WAIT_SLICE_MS    250             /* waits re-check the stop flag this often */

/* A run of records: a memory chunk (buf) or a spool file (sp). */
struct seg {
    struct seg   *next;     /* under mu, set by the producer; non-NULL: it writes here no more */
    uint64_t      wpos;     /* under mu: bytes readable (published by the producer) */
    uint64_t      rpos;     /* consumer's: offset of its next record */
    size_t        alloc;    /* memory chunk: bytes allocated (header included); 0 spool */
    size_t        cap;      /* memory chunk: capacity of buf */
    uint8_t      *buf;      /* memory chunk: the bytes, right after this header */
    struct spool *sp;       /* spool file */
};

struct cqueue {
    pthread_mutex_t mu;
    pthread_cond_t  room;           /* producer waits: memory for a new chunk */
    pthread_cond_t  data;           /* consumer waits: records published */
    size_t          budget;
    size_t          chunk;          /* allocation size of a standard chunk */
    char           *dir, *name;
    atomic_int      stopped, failed;

    /* under mu */
    struct seg     *tail;           /* written by the producer only */
    size_t          mem;            /* bytes of memory chunks, spare included */
    struct seg     *spare;          /* one standard chunk kept for reuse */
    int             prod_waits, cons_waits;
    int             woken;          /* cqueue_wake: the consumer's next wait returns 0 */
    int64_t         full_since_ms;  /* mono ms the producer began waiting for room, 0 not waiting */
    char            err[512];
    struct cqueue_stats st;
    uint64_t        popped;         /* record bytes popped, as last reported by the consumer */
    int64_t        *ring;           /* commit times of queued transactions (FIFO) */
    size_t          ring_cap, ring_head, ring_n;

    /* the producer's own */
    struct {
        uint64_t      tail_w;       /* bytes written in the memory tail (>= tail->wpos) */
        unsigned      unpub;        /* records since the last publish */
        uint64_t      bytes;        /* record bytes since the last publish */
        size_t        pending;      /* body size of the record being written */
        int           spilling;     /* tail is the open transaction's spool */
        int           in_txn;
        uint64_t      seq;          /* last spool file number */
        struct qrec_slots tables;   /* source ztable pointer → slot */
    } p;

    /* the consumer's own */
    struct {
        struct seg     *head;
        uint64_t        limit;      /* head->wpos as last read under mu */
        struct qrec_defs defs;      /* definitions by slot, decoded images */
        uint64_t        popped;     /* record bytes popped */
    } c;
};

/* ---- small helpers -------------------------------------------------------------- */

static void set_failed(struct cqueue *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_failed(struct cqueue *q, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&q->mu);
    if (!q->err[0]) {
        va_start(ap, fmt);
        vsnprintf(q->err, sizeof q->err, fmt, ap);
        va_end(ap);
    }
    atomic_store(&q->failed, 1);
    pthread_cond_broadcast(&q->room);
    pthread_cond_broadcast(&q->data);
    pthread_mutex_unlock(&q->mu);
}

static int dead(struct cqueue *q)
{
    return atomic_load_explicit(&q->stopped, memory_order_relaxed) ||
           atomic_load_explicit(&q->failed, memory_order_relaxed);
}

static int ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static struct seg *chunk_new(size_t alloc)
{
    struct seg *s = malloc(alloc);

    if (!s)
        return NULL;
    memset(s, 0, sizeof *s);
    s->alloc = alloc;
    s->cap = alloc - sizeof *s;
    s->buf = (uint8_t *)(s + 1);
    return s;
}

static void seg_free(struct seg *s)
{
    if (!s)
        return;
    spool_destroy(s->sp);
    free(s);
}

/* ---- the producer: publishing, chunks, spilling ---------------------------------- */

/* Make what the producer wrote readable; with a commit, account for it. */
static void publish(struct cqueue *q, const struct ztxn *commit)
{
    struct seg *t = q->tail;

    pthread_mutex_lock(&q->mu);
    if (t->sp) {
        uint64_t w = spool_written(t->sp);
        q->st.spool_bytes += w - t->wpos;
        q->st.spool_bytes_total += w - t->wpos;
        t->wpos = w;
    } else {
        t->wpos = q->p.tail_w;
    }
    q->st.bytes_total += q->p.bytes;
    if (commit) {
        if (q->ring_n == q->ring_cap) {
            size_t ncap = q->ring_cap ? q->ring_cap * 2 : 256;
            int64_t *nr = malloc(ncap * sizeof *nr);
            if (nr) {
                for (size_t i = 0; i < q->ring_n; i++)
                    nr[i] = q->ring[(q->ring_head + i) % q->ring_cap];
                free(q->ring);
                q->ring = nr;
                q->ring_cap = ncap;
                q->ring_head = 0;
            }
        }
        if (q->ring_n < q->ring_cap) {      /* out of memory: lag reads low, nothing worse */
            q->ring[(q->ring_head + q->ring_n) % q->ring_cap] = commit->commit_time_us;
            q->ring_n++;
        }
        q->st.txns_total++;
        q->st.newest_end = commit->end;
    }
    if (q->cons_waits)
        pthread_cond_signal(&q->data);
    pthread_mutex_unlock(&q->mu);
    q->p.bytes = 0;
    q->p.unpub = 0;
}

/* Append a memory chunk for a record of need bytes (header included):
 * 0 done, 1 no room in the budget, -1 error. */
static int chunk_append(struct cqueue *q, size_t need)
{
    size_t alloc = sizeof(struct seg) + need;
    struct seg *s;

    if (alloc < q->chunk)
        alloc = q->chunk;
    pthread_mutex_lock(&q->mu);
    if (alloc == q->chunk && q->spare) {
        s = q->spare;
        q->spare = NULL;
        s->next = NULL;
        s->wpos = s->rpos = 0;
    } else {
        if (q->spare && q->mem + alloc > q->budget) {     /* an outsized record */
            q->mem -= q->spare->alloc;
            free(q->spare);
            q->spare = NULL;
        }
        if (q->mem + alloc > q->budget) {
            pthread_mutex_unlock(&q->mu);
            return 1;
        }
        s = chunk_new(alloc);
        if (!s) {
            pthread_mutex_unlock(&q->mu);
            set_failed(q, "queue %s: out of memory for a chunk of %zu bytes", q->name, alloc);
            return -1;
        }
        q->mem += alloc;
        if (q->mem > q->st.mem_peak)
            q->st.mem_peak = q->mem;
    }
    if (!q->tail->sp)
        q->tail->wpos = q->p.tail_w;
    q->tail->next = s;
    q->tail = s;
    q->p.tail_w = 0;
    q->p.unpub = 0;
    if (q->cons_waits)
        pthread_cond_signal(&q->data);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

/* The rest of this transaction goes to a new spool file. */
static int spill_start(struct cqueue *q)
{
    char e[512];
    struct spool *sp;
    struct seg *s = calloc(1, sizeof *s);

    if (!s) {
        set_failed(q, "queue %s: out of memory", q->name);
        return -1;
    }
    if (spool_open(&sp, q->dir, q->name, ++q->p.seq, e, sizeof e)) {
        free(s);
        set_failed(q, "%s", e);
        return -1;
    }
    s->sp = sp;
    pthread_mutex_lock(&q->mu);
    if (!q->tail->sp)
        q->tail->wpos = q->p.tail_w;
    q->tail->next = s;
    q->tail = s;
    q->st.spool_files++;
    q->st.spool_files_total++;
    if (q->cons_waits)
        pthread_cond_signal(&q->data);
    pthread_mutex_unlock(&q->mu);
    q->p.spilling = 1;
    q->p.unpub = 0;
    return 0;
}

/* An empty memory segment at the tail, so the consumer can tell a finished
 * spool file is finished (it deletes a segment once a later one exists). */
static int empty_append(struct cqueue *q)
{
    struct seg *s = calloc(1, sizeof *s);

    if (!s) {
        set_failed(q, "queue %s: out of memory", q->name);
        return -1;
    }
    pthread_mutex_lock(&q->mu);
    if (!q->tail->sp)
        q->tail->wpos = q->p.tail_w;
    q->tail->next = s;
    q->tail = s;
    q->p.tail_w = 0;
    q->p.unpub = 0;
    if (q->cons_waits)
        pthread_cond_signal(&q->data);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

/* The spilled transaction is over (its COMMIT written, or a new one begins):
 * the spool file is complete and later records go to memory. */
static int spill_end(struct cqueue *q, const struct ztxn *commit)
{
    char e[512];

    if (!q->p.spilling)
        return 0;
    if (spool_flush(q->tail->sp, e, sizeof e)) {
        set_failed(q, "%s", e);
        return -1;
    }
    publish(q, commit);
    spool_seal(q->tail->sp);
    q->p.spilling = 0;
    return empty_append(q);
}

/*
 * Room for a record body of n bytes; *body is where to write it. 0 ok,
 * 1 no room (only when may_spill is 0), -1 error.
 */
static int put_begin(struct cqueue *q, size_t n, int may_spill, uint8_t **body)
{
    char e[512];
    int r;

    if (n > SPOOL_RECORD_MAX) {
        set_failed(q, "queue %s: a change of %zu bytes is larger than the queue's limit of %u bytes per change",
                   q->name, n, SPOOL_RECORD_MAX);
        return -1;
    }
    q->p.pending = n;
    if (!q->p.spilling) {
        struct seg *t = q->tail;
        uint32_t len = (uint32_t)n;

        if (t->sp || q->p.tail_w + MEM_HDR + n > t->cap) {
            r = chunk_append(q, MEM_HDR + n);
            if (r < 0)
                return -1;
            if (r > 0 && !may_spill)
                return 1;
            if (r > 0 && spill_start(q))
                return -1;
        }
        if (!q->p.spilling) {
            uint8_t *p = q->tail->buf + q->p.tail_w;
            memcpy(p, &len, 4);
            *body = p + MEM_HDR;
            return 0;
        }
    }
    if (spool_reserve(q->tail->sp, n, body, e, sizeof e)) {
        set_failed(q, "%s", e);
        return -1;
    }
    return 0;
}

/* The record begun with put_begin is written; publish it now with a commit
 * (or when asked), else every PUBLISH_EVERY records. */
static int put_end(struct cqueue *q, int now, const struct ztxn *commit)
{
    char e[512];

    q->p.bytes += q->p.pending;
    if (q->p.spilling) {
        struct spool *sp = q->tail->sp;
        uint64_t before = spool_written(sp);

        if (spool_commit(sp, e, sizeof e) || (now && spool_flush(sp, e, sizeof e))) {
            set_failed(q, "%s", e);
            return -1;
        }
        if (commit)
            return spill_end(q, commit);
        if (now || spool_written(sp) != before)
            publish(q, commit);
        return 0;
    }
    q->p.tail_w += MEM_HDR + q->p.pending;
    if (now || commit || ++q->p.unpub >= PUBLISH_EVERY)
        publish(q, commit);
    return 0;
}

/* Before a transaction: wait until a fresh chunk fits the budget. */
static int wait_room(struct cqueue *q)
{
    struct timespec ts;
    int rc = 0, outsized;

    pthread_mutex_lock(&q->mu);
    /*
     * The consumer frees a segment only once a later one exists. A tail chunk
     * holding one outsized record can leave less than a chunk of room for good:
     * give it a successor so it can go once read.
     */
    outsized = !(q->spare || q->mem + q->chunk <= q->budget) && q->tail->alloc > q->chunk;
    pthread_mutex_unlock(&q->mu);
    if (outsized && empty_append(q))
        return -1;
    pthread_mutex_lock(&q->mu);
    while (!(q->spare || q->mem + q->chunk <= q->budget)) {
        if (dead(q)) {
            rc = -1;
            break;
        }
        if (!q->full_since_ms)
            q->full_since_ms = zclock_mono_ms();
        q->prod_waits = 1;
        ts = zclock_deadline(CLOCK_MONOTONIC, WAIT_SLICE_MS);
        pthread_cond_timedwait(&q->room, &q->mu, &ts);
        q->prod_waits = 0;
    }
    q->full_since_ms = 0;
    if (dead(q))
        rc = -1;
    pthread_mutex_unlock(&q->mu);
    return rc;
}

/* ---- the producer: table definitions --------------------------------------------- */

/* The slot of definition t (0 for NULL), sending its definition first when
 * the consumer does not have this content for this pointer yet. */
static int table_slot(struct cqueue *q, const struct ztable *t, uint32_t *slot)
{
    uint8_t *body;
    int r;

    *slot = 0;
    if (!t)
        return 0;
    r = qrec_slots_get(&q->p.tables, t, slot);
    if (r < 0) {
        set_failed(q, "queue %s: table %s.%s: invalid definition (%d columns) or out of memory copying it",
                   q->name, t->schema ? t->schema : "?", t->name ? t->name : "?", t->ncols);
        return -1;
    }
    if (r == 0)
        return 0;
    if (r == 2) {
        if (put_begin(q, 1, 1, &body) < 0)
            return -1;
        *body = QREC_TABLES_RESET;
        if (put_end(q, 0, NULL))
            return -1;
    }
    if (put_begin(q, qrec_table_size(t), 1, &body) < 0)
        return -1;
    qrec_table_write(body, *slot, t);
    return put_end(q, 0, NULL);
}

/* ---- the sink ------------------------------------------------------------------ */

static int put_txn(struct cqueue *q, enum qrec_kind kind, const struct ztxn *txn, int commit)
{
    uint8_t *p;

    if (put_begin(q, qrec_txn_size(txn), 1, &p) < 0)
        return -1;
    qrec_txn_write(p, kind, txn);
    return put_end(q, 0, commit ? txn : NULL);
}

static int sink_begin(void *ctx, const struct ztxn *txn)
{
    struct cqueue *q = ctx;

    if (dead(q) || spill_end(q, NULL))
        return -1;
    if (q->p.unpub)
        publish(q, NULL);                   /* an unfinished transaction's rows */
    if (wait_room(q))
        return -1;
    q->p.in_txn = 1;
    return put_txn(q, QREC_BEGIN, txn, 0);
}

static int sink_commit(void *ctx, const struct ztxn *txn)
{
    struct cqueue *q = ctx;

    if (dead(q))
        return -1;
    q->p.in_txn = 0;
    return put_txn(q, QREC_COMMIT, txn, 1);
}

static int sink_row(void *ctx, const struct zrowchange *rc)
{
    struct cqueue *q = ctx;
    const struct ztable *t = rc->table;
    uint64_t sz;
    uint32_t slot;
    uint8_t *p;

    if (dead(q))
        return -1;
    if ((rc->before || rc->after) && !t) {
        set_failed(q, "queue %s: a row change has values but no table definition", q->name);
        return -1;
    }
    if (table_slot(q, t, &slot))
        return -1;
    if (qrec_row_size(rc, &sz)) {
        set_failed(q, "queue %s: a row change of %s.%s holds a value of unknown kind (or text without bytes)",
                   q->name, t->schema ? t->schema : "?", t->name ? t->name : "?");
        return -1;
    }
    if (sz > SPOOL_RECORD_MAX) {
        set_failed(q, "queue %s: a row change of %s.%s is %llu bytes, over the queue's limit of %u bytes per change",
                   q->name, t->schema ? t->schema : "?", t->name ? t->name : "?",
                   (unsigned long long)sz, SPOOL_RECORD_MAX);
        return -1;
    }
    if (put_begin(q, (size_t)sz, 1, &p) < 0)
        return -1;
    qrec_row_write(p, slot, rc);
    return put_end(q, 0, NULL);
}

static int sink_schema(void *ctx, const struct zschema_change *sc)
{
    struct cqueue *q = ctx;
    uint32_t olds, news;
    uint8_t *p;

    if (dead(q) || table_slot(q, sc->old_def, &olds) || table_slot(q, sc->new_def, &news))
        return -1;
    if (put_begin(q, qrec_schema_size(sc), 1, &p) < 0)
        return -1;
    qrec_schema_write(p, olds, news, sc);
    return put_end(q, 1, NULL);
}

static int sink_heartbeat(void *ctx, const struct zpos *pos, int64_t now_us)
{
    struct cqueue *q = ctx;
    uint8_t *p;
    int r;

    if (dead(q))
        return -1;
    if (!q->p.in_txn && spill_end(q, NULL))
        return -1;
    /* Never waits; outside a transaction never spills: no room, no heartbeat. */
    r = put_begin(q, qrec_heartbeat_size(pos), q->p.in_txn, &p);
    if (r < 0)
        return -1;
    if (r > 0) {
        pthread_mutex_lock(&q->mu);
        q->st.heartbeats_dropped++;
        pthread_mutex_unlock(&q->mu);
        return 0;
    }
    qrec_heartbeat_write(p, pos, now_us);
    return put_end(q, 1, NULL);
}

struct zsink cqueue_sink(struct cqueue *q)
{
    return (struct zsink){
        .ctx = q, .begin = sink_begin, .row = sink_row, .schema = sink_schema,
        .commit = sink_commit, .heartbeat = sink_heartbeat,
    };
}

/* ---- the consumer: decoding ------------------------------------------------------ */

static void commit_popped(struct cqueue *q)
{
    pthread_mutex_lock(&q->mu);
    q->popped = q->c.popped;
    if (q->ring_n) {
        q->ring_head = (q->ring_head + 1) % q->ring_cap;
        q->ring_n--;
    }
    pthread_mutex_unlock(&q->mu);
}

/* One record body: 1 with an item, 0 for a record the queue keeps to itself,
 * -1 with the queue failed. where/off name the record in a message. */
static int decode(struct cqueue *q, const uint8_t *body, uint32_t len, struct cq_item *out,
                  const char *where, uint64_t off)
{
    int r = qrec_decode(&q->c.defs, body, len, out);

    q->c.popped += len;
    if (r == -2) {
        set_failed(q, "queue %s: out of memory decoding a change", q->name);
        return -1;
    }
    if (r < 0) {
        set_failed(q, "queue %s: %s: record at offset %llu (kind %u, %u bytes) is malformed",
                   q->name, where, (unsigned long long)off, body[0], len);
        return -1;
    }
    if (r > 0 && out->kind == CQ_COMMIT)
        commit_popped(q);
    return r;
}

/* ---- the consumer: reading ------------------------------------------------------- */

/* Under mu: the consumer is done with s (it is not the tail). Returns the
 * segment to free outside the lock, or NULL. */
static struct seg *seg_release(struct cqueue *q, struct seg *s)
{
    if (s->sp) {
        q->st.spool_bytes -= s->wpos;
        q->st.spool_files--;
        return s;
    }
    if (s->alloc == q->chunk && !q->spare) {
        q->spare = s;
    } else {
        q->mem -= s->alloc;
        return s;
    }
    return NULL;
}

int cqueue_pop(struct cqueue *q, struct cq_item *out, int timeout_ms)
{
    struct timespec deadline, slice;
    int have_deadline = 0;

    for (;;) {
        struct seg *h = q->c.head, *done = NULL;
        const uint8_t *body;
        uint32_t len;
        int r;

        if (dead(q))
            return -1;
        if (h->rpos < q->c.limit) {
            uint64_t off = h->rpos;
            char e[512];

            if (h->sp) {
                uint64_t next;
                r = spool_next(h->sp, h->rpos, q->c.limit, &body, &len, &next, e, sizeof e);
                if (r <= 0) {
                    set_failed(q, "%s", r < 0 ? e : "spool: nothing to read below the limit");
                    return -1;
                }
                h->rpos = next;
            } else {
                if (q->c.limit - h->rpos < MEM_HDR)
                    len = 0;
                else
                    memcpy(&len, h->buf + h->rpos, 4);
                if (len == 0 || len > q->c.limit - h->rpos - MEM_HDR) {
                    set_failed(q, "queue %s: memory record at offset %llu has a bad length %u",
                               q->name, (unsigned long long)off, len);
                    return -1;
                }
                body = h->buf + h->rpos + MEM_HDR;
                h->rpos += MEM_HDR + len;
            }
            r = decode(q, body, len, out, h->sp ? spool_path(h->sp) : "memory", off);
            if (r)
                return r;
            continue;
        }

        pthread_mutex_lock(&q->mu);
        q->popped = q->c.popped;
        q->c.limit = h->wpos;
        if (h->rpos < q->c.limit) {
            pthread_mutex_unlock(&q->mu);
            continue;
        }
        if (h->next) {
            q->c.head = h->next;
            q->c.limit = h->next->wpos;
            done = seg_release(q, h);
            if (q->prod_waits)
                pthread_cond_signal(&q->room);
            pthread_mutex_unlock(&q->mu);
            seg_free(done);
            continue;
        }
        if (timeout_ms == 0 || dead(q) || q->woken) {
            q->woken = 0;
            pthread_mutex_unlock(&q->mu);
            return dead(q) ? -1 : 0;
        }
        if (timeout_ms > 0 && !have_deadline) {
            deadline = zclock_deadline(CLOCK_MONOTONIC, timeout_ms);
            have_deadline = 1;
        }
        slice = zclock_deadline(CLOCK_MONOTONIC, WAIT_SLICE_MS);
        if (have_deadline && ts_before(&deadline, &slice))
            slice = deadline;
        q->cons_waits = 1;
        pthread_cond_timedwait(&q->data, &q->mu, &slice);
        q->cons_waits = 0;
        if (have_deadline && h->wpos == h->rpos && !h->next) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (!ts_before(&now, &deadline)) {
                pthread_mutex_unlock(&q->mu);
                return dead(q) ? -1 : 0;
            }
        }
        pthread_mutex_unlock(&q->mu);
    }
}

/* ---- lifecycle ------------------------------------------------------------------- */

static int name_ok(const char *name)
{
    return name && name[0] && name[0] != '.' && !strchr(name, '/');
}

/* Start over with one empty segment s as head and tail. */
static int segs_init(struct cqueue *q, struct seg *s)
{
    if (!s)
        return -1;
    q->mem = 0;
    q->tail = q->c.head = s;
    q->c.limit = 0;
    q->p.tail_w = 0;
    return 0;
}

static void segs_free(struct cqueue *q)
{
    struct seg *s = q->c.head;

    while (s) {
        struct seg *n = s->next;
        seg_free(s);
        s = n;
    }
    free(q->spare);
    q->spare = NULL;
    q->c.head = q->tail = NULL;
    q->mem = 0;
}

int cqueue_open(struct cqueue **out, size_t budget_bytes, const char *spool_dir,
                const char *name, char *err, size_t errlen)
{
    struct cqueue *q;
    pthread_condattr_t ca;

    *out = NULL;
    if (!name_ok(name)) {
        snprintf(err, errlen, "queue: name \"%s\" must be a plain file name (no '/', not starting with '.')",
                 name ? name : "");
        return -1;
    }
    if (!spool_dir || !*spool_dir) {
        snprintf(err, errlen, "queue %s: no spool directory given", name);
        return -1;
    }
    if (mkdir(spool_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "queue %s: cannot create spool directory %s: %s", name, spool_dir,
                 strerror(errno));
        return -1;
    }
    if (spool_remove_leftovers(spool_dir, name, err, errlen) < 0)
        return -1;
    q = calloc(1, sizeof *q);
    if (!q)
        goto oom;
    q->budget = budget_bytes < CQ_BUDGET_MIN ? CQ_BUDGET_MIN : budget_bytes;
    q->chunk = q->budget / 8;
    if (q->chunk < CHUNK_MIN)
        q->chunk = CHUNK_MIN;
    if (q->chunk > CHUNK_MAX)
        q->chunk = CHUNK_MAX;
    q->dir = strdup(spool_dir);
    q->name = strdup(name);
    if (!q->dir || !q->name || segs_init(q, calloc(1, sizeof(struct seg))))
        goto oom;
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->room, &ca);
    pthread_cond_init(&q->data, &ca);
    pthread_condattr_destroy(&ca);
    q->st.budget_bytes = q->budget;
    q->st.mem_peak = q->mem;
    *out = q;
    return 0;
oom:
    if (q) {
        free(q->dir);
        free(q->name);
        segs_free(q);
        free(q);
    }
    snprintf(err, errlen, "queue %s: out of memory", name);
    return -1;
}

void cqueue_close(struct cqueue *q)
{
    if (!q)
        return;
    segs_free(q);
    qrec_slots_free(&q->p.tables);
    qrec_defs_free(&q->c.defs);
    free(q->ring);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->room);
    pthread_cond_destroy(&q->data);
    free(q->dir);
    free(q->name);
    free(q);
}

void cqueue_wake(struct cqueue *q)
{
    pthread_mutex_lock(&q->mu);
    q->woken = 1;
    pthread_cond_broadcast(&q->data);
    pthread_mutex_unlock(&q->mu);
}

void cqueue_stop(struct cqueue *q)
{
    pthread_mutex_lock(&q->mu);
    atomic_store(&q->stopped, 1);
    pthread_cond_broadcast(&q->room);
    pthread_cond_broadcast(&q->data);
    pthread_mutex_unlock(&q->mu);
}

void cqueue_reset(struct cqueue *q)
{
    struct seg *fresh = calloc(1, sizeof *fresh);

    pthread_mutex_lock(&q->mu);
    if (!fresh) {                   /* keep what is queued; the queue stays failed */
        snprintf(q->err, sizeof q->err, "queue %s: out of memory resetting", q->name);
        atomic_store(&q->failed, 1);
        pthread_mutex_unlock(&q->mu);
        return;
    }
    segs_free(q);
    segs_init(q, fresh);
    qrec_slots_clear(&q->p.tables);
    qrec_defs_free(&q->c.defs);
    q->p.unpub = 0;
    q->p.bytes = 0;
    q->p.spilling = 0;
    q->p.in_txn = 0;
    q->ring_n = q->ring_head = 0;
    q->popped = q->c.popped = q->st.bytes_total;
    q->st.spool_bytes = q->st.spool_files = 0;
    q->st.mem_peak = q->mem;
    memset(&q->st.newest_end, 0, sizeof q->st.newest_end);
    q->err[0] = 0;
    atomic_store(&q->failed, 0);
    atomic_store(&q->stopped, 0);
    pthread_mutex_unlock(&q->mu);
}

void cqueue_get_stats(struct cqueue *q, struct cqueue_stats *out)
{
    pthread_mutex_lock(&q->mu);
    *out = q->st;
    out->mem_bytes = q->mem;
    out->txns_queued = q->ring_n;
    out->bytes_queued = q->st.bytes_total - q->popped;
    out->oldest_commit_us = q->ring_n ? q->ring[q->ring_head] : 0;
    pthread_mutex_unlock(&q->mu);
}

uint64_t cqueue_txns_queued(struct cqueue *q)
{
    pthread_mutex_lock(&q->mu);
    uint64_t n = q->ring_n;
    pthread_mutex_unlock(&q->mu);
    return n;
}

int64_t cqueue_full_since_ms(struct cqueue *q)
{
    pthread_mutex_lock(&q->mu);
    int64_t t = q->full_since_ms;
    pthread_mutex_unlock(&q->mu);
    return t;
}

int cqueue_error(struct cqueue *q, char *buf, size_t len)
{
    int r;

    pthread_mutex_lock(&q->mu);
    r = atomic_load(&q->failed) && q->err[0];
    if (len)
        snprintf(buf, len, "%s", r ? q->err : "");
    pthread_mutex_unlock(&q->mu);
    return r;
}
