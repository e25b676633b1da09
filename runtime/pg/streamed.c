/*
 * streamed.c — in-progress transactions held until their commit (see streamed.h).
 */
#include "runtime/pg/streamed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/base/clock.h"
#include "runtime/pg/pgoutput.h"
#include "runtime/pipe/spool.h"

#define REC_HEAD 12u            /* u64 lsn, u32 subxid */

struct sub {
    uint32_t xid;
    uint64_t at;                /* spool offset of its first record */
};

struct held {
    uint32_t      xid;
    struct spool *sp;
    struct sub   *subs;
    int           nsub, subcap;
    uint64_t      first_lsn;    /* of its first held message */
    int64_t       since_ms;     /* wall ms its first segment began */
};

struct pgstreamed {
    char        *dir, *name;
    struct held *h;
    int          n, cap;
    int          cur;           /* the open block's transaction (index), -1 none */
    uint64_t     seq;
    struct pgstreamed_stats st;
};

struct pgstreamed *pgstreamed_new(const char *dir, const char *name)
{
    struct pgstreamed *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    x->dir = strdup(dir);
    x->name = strdup(name);
    x->cur = -1;
    if (!x->dir || !x->name) {
        pgstreamed_free(x);
        return NULL;
    }
    return x;
}

static void drop(struct pgstreamed *x, int i)
{
    spool_destroy(x->h[i].sp);
    free(x->h[i].subs);
    if (x->cur == i) x->cur = -1;
    x->h[i] = x->h[--x->n];
    if (x->cur == x->n) x->cur = i;         /* the open block's entry moved into i */
}

void pgstreamed_free(struct pgstreamed *x)
{
    if (!x) return;
    while (x->n > 0) drop(x, x->n - 1);
    free(x->h);
    free(x->dir);
    free(x->name);
    free(x);
}

static int find(const struct pgstreamed *x, uint32_t xid)
{
    for (int i = 0; i < x->n; i++)
        if (x->h[i].xid == xid) return i;
    return -1;
}

int pgstreamed_start(struct pgstreamed *x, uint32_t xid, int first, char *err, size_t errlen)
{
    int i = find(x, xid);
    if (i >= 0 && first) {          /* sent again from its start (cannot happen on one connection) */
        drop(x, i);
        i = -1;
    }
    if (i < 0) {
        if (x->n == x->cap) {
            int nc = x->cap ? x->cap * 2 : 4;
            struct held *nh = realloc(x->h, (size_t)nc * sizeof *nh);
            if (!nh) { snprintf(err, errlen, "out of memory holding streamed transaction %u", xid); return -1; }
            x->h = nh;
            x->cap = nc;
        }
        struct held *h = &x->h[x->n];
        memset(h, 0, sizeof *h);
        h->xid = xid;
        h->since_ms = zclock_wall_ms();
        if (spool_open(&h->sp, x->dir, x->name, ++x->seq, err, errlen) != 0) return -1;
        i = x->n++;
    }
    x->cur = i;
    return 0;
}

int pgstreamed_in_block(const struct pgstreamed *x) { return x->cur >= 0; }

void pgstreamed_stop(struct pgstreamed *x) { x->cur = -1; }

/* A failed write to a spool: the spool's own advice is the queue's (raise
 * memory_mb); a streamed transaction is held whatever the memory, so say
 * what helps here. */
static int write_failed(const struct pgstreamed *x, uint32_t xid, char *err, size_t errlen)
{
    char *cut = strstr(err, " (free space in the state directory");
    if (cut) *cut = '\0';
    size_t n = strlen(err);
    snprintf(err + n, errlen - n, "; holding streamed transaction %u: free space in %s (zetl retries, and the "
             "source sends the transaction again from its start)", xid, x->dir);
    return -1;
}

int pgstreamed_add(struct pgstreamed *x, uint64_t lsn, const uint8_t *data, size_t len,
                   char *err, size_t errlen)
{
    if (x->cur < 0) {
        snprintf(err, errlen, "a streamed change outside a Stream Start … Stream Stop block");
        return -1;
    }
    uint32_t sub;
    if (pgout_stream_xid(data, len, &sub) != 0) {
        snprintf(err, errlen, "a streamed change of %zu bytes, too short to hold its transaction id", len);
        return -1;
    }
    struct held *h = &x->h[x->cur];
    if (sub != h->xid) {
        int k = 0;
        while (k < h->nsub && h->subs[k].xid != sub) k++;
        if (k == h->nsub) {
            if (h->nsub == h->subcap) {
                int nc = h->subcap ? h->subcap * 2 : 8;
                struct sub *ns = realloc(h->subs, (size_t)nc * sizeof *ns);
                if (!ns) { snprintf(err, errlen, "out of memory holding streamed transaction %u", h->xid); return -1; }
                h->subs = ns;
                h->subcap = nc;
            }
            h->subs[h->nsub++] = (struct sub){.xid = sub, .at = spool_size(h->sp)};
        }
    }
    uint8_t *b;
    size_t n = REC_HEAD + 1 + (len - 5);
    if (spool_reserve(h->sp, n, &b, err, errlen) != 0) return write_failed(x, h->xid, err, errlen);
    for (int k = 0; k < 8; k++) b[k] = (uint8_t)(lsn >> (8 * k));
    memcpy(b + 8, &sub, 4);
    b[REC_HEAD] = data[0];
    memcpy(b + REC_HEAD + 1, data + 5, len - 5);
    if (spool_commit(h->sp, err, errlen) != 0) return write_failed(x, h->xid, err, errlen);
    if (!h->first_lsn) h->first_lsn = lsn;
    x->st.messages++;
    x->st.bytes += len;
    return 0;
}

int pgstreamed_abort(struct pgstreamed *x, uint32_t xid, uint32_t subxid, char *err, size_t errlen)
{
    int i = find(x, xid);
    if (i < 0) return 0;                    /* nothing of it was held */
    if (subxid == xid) {
        drop(x, i);
        x->st.aborted++;
        return 0;
    }
    struct held *h = &x->h[i];
    int k = 0;
    while (k < h->nsub && h->subs[k].xid != subxid) k++;
    if (k == h->nsub) return 0;             /* none of it was sent */
    uint64_t at = h->subs[k].at;
    if (spool_truncate(h->sp, at, err, errlen) != 0) return -1;
    /* It and every subtransaction begun after it (nested in it) are gone. */
    int keep = 0;
    for (int j = 0; j < h->nsub; j++)
        if (h->subs[j].at < at) h->subs[keep++] = h->subs[j];
    h->nsub = keep;
    x->st.sub_aborted++;
    return 0;
}

int pgstreamed_commit(struct pgstreamed *x, uint32_t xid, pgstreamed_fn fn, void *ctx,
                      char *err, size_t errlen)
{
    int i = find(x, xid);
    if (i < 0) return 0;
    struct held *h = &x->h[i];
    int rc = spool_flush(h->sp, err, errlen);
    uint64_t pos = 0, end = spool_written(h->sp);
    while (rc == 0 && pos < end) {
        const uint8_t *body;
        uint32_t len;
        uint64_t next;
        int got = spool_next(h->sp, pos, end, &body, &len, &next, err, errlen);
        if (got < 0) { rc = -1; break; }
        if (got == 0) break;
        if (len < REC_HEAD + 1) {
            snprintf(err, errlen, "spool %s: a record of %u bytes at offset %llu is too short",
                     spool_path(h->sp), len, (unsigned long long)pos);
            rc = -1;
            break;
        }
        uint64_t lsn = 0;
        for (int k = 0; k < 8; k++) lsn |= (uint64_t)body[k] << (8 * k);
        rc = fn(ctx, lsn, body + REC_HEAD, len - REC_HEAD);
        pos = next;
    }
    drop(x, i);
    if (rc == 0) x->st.txns++;
    return rc;
}

uint64_t pgstreamed_first_lsn(const struct pgstreamed *x, uint32_t xid)
{
    int i = find(x, xid);
    return i < 0 ? 0 : x->h[i].first_lsn;
}

void pgstreamed_stats(const struct pgstreamed *x, struct pgstreamed_stats *out)
{
    *out = x->st;
    out->open = x->n;
    out->held_bytes = 0;
    out->oldest_ms = 0;
    for (int i = 0; i < x->n; i++) {
        out->held_bytes += spool_size(x->h[i].sp);
        if (!out->oldest_ms || x->h[i].since_ms < out->oldest_ms) out->oldest_ms = x->h[i].since_ms;
    }
}
