/* pgcopy.c — table copy inside an exported snapshot (see pgcopy.h). */
#include "runtime/pg/pgcopy.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int exec_ok(PGconn *c, const struct pgwait *w, const char *sql, char *err, size_t errlen)
{
    char e[512];
    PGresult *r = pgwait_exec(c, w, sql, -1, NULL, e, sizeof e);
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        snprintf(err, errlen, "%s: %s", sql, r ? PQresultErrorMessage(r) : e);
    PQclear(r);
    return ok ? 0 : -1;
}

/*
 * The next COPY row, waiting as pgwait allows: PQgetCopyData's value (> 0
 * a row, -1 the end, -2 an error), or -3 with err set (no answer, stopped).
 */
static int next_row(PGconn *c, const struct pgwait *w, char **row, char *err, size_t errlen)
{
    for (;;) {
        int n = PQgetCopyData(c, row, 1);
        if (n != 0) return n;
        if (pgwait_input(c, w, err, errlen) != PGWAIT_OK) return -3;
    }
}

int pgcopy_begin(PGconn *c, const struct pgwait *w, const char *snapshot, char *err, size_t errlen)
{
    /* The snapshot name comes from the server (e.g. "00000003-0000001B-1").
     * SET TRANSACTION SNAPSHOT takes no parameters, so the name is checked
     * to be only hex digits and dashes before it is quoted into the SQL. */
    size_t n = strlen(snapshot);
    if (n == 0 || n > 64 || strspn(snapshot, "0123456789ABCDEFabcdef-") != n) {
        snprintf(err, errlen, "exported snapshot name \"%.64s\" is not of the expected form", snapshot);
        return -1;
    }
    char sql[128];
    snprintf(sql, sizeof sql, "SET TRANSACTION SNAPSHOT '%s'", snapshot);
    if (exec_ok(c, w, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", err, errlen) != 0) return -1;
    return exec_ok(c, w, sql, err, errlen);
}

size_t pgcopy_unescape(char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch != '\\' || i + 1 == len) { s[o++] = ch; continue; }
        char e = s[++i];
        switch (e) {
        case 'b': s[o++] = '\b'; break;
        case 'f': s[o++] = '\f'; break;
        case 'n': s[o++] = '\n'; break;
        case 'r': s[o++] = '\r'; break;
        case 't': s[o++] = '\t'; break;
        case 'v': s[o++] = '\v'; break;
        case 'x': {
            int v = 0, k = 0;
            while (k < 2 && i + 1 < len && strchr("0123456789abcdefABCDEF", s[i + 1]) && s[i + 1]) {
                char h = s[++i];
                v = v * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                k++;
            }
            s[o++] = k ? (char)v : 'x';
            break;
        }
        default:
            if (e >= '0' && e <= '7') {
                int v = e - '0', k = 1;
                while (k < 3 && i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '7') {
                    v = v * 8 + (s[++i] - '0');
                    k++;
                }
                s[o++] = (char)v;
            } else {
                s[o++] = e;     /* \\ and any other escaped character */
            }
        }
    }
    return o;
}

static int hexval(char h)
{
    if (h >= '0' && h <= '9') return h - '0';
    h |= 0x20;
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    return -1;
}

/* bytea's hex output "\x0102" → bytes, in place. -1 when malformed. */
static long bytea_decode(char *s, size_t len)
{
    if (len < 2 || s[0] != '\\' || s[1] != 'x' || (len - 2) % 2) return -1;
    size_t o = 0;
    for (size_t i = 2; i < len; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0) return -1;
        s[o++] = (char)(hi * 16 + lo);
    }
    return (long)o;
}

static void qident(PGconn *c, char *buf, size_t len, const char *name, int *ok)
{
    char *q = PQescapeIdentifier(c, name, strlen(name));
    if (!q || strlen(q) >= len) { *ok = 0; if (q) PQfreemem(q); buf[0] = '\0'; return; }
    strcpy(buf, q);
    PQfreemem(q);
}

#define RAW_CHUNK (1u << 20)
#define RAW_SLOTS 3

/*
 * Raw copy: the rows of a COPY TO STDOUT (text or binary) handed on as they
 * are, in ~1 MB chunks of whole rows (PQgetCopyData gives one row per call;
 * binary: the server sends its header with the first row and its trailer
 * as the last message, so that message is not counted as a row).
 *
 * A thread of its own reads the source while the caller's thread writes
 * the chunks to the target: one thread doing both would leave each server
 * idle while the other is served, and the load would take the sum of the
 * two servers' times instead of the longer one (a `COPY TO | COPY FROM`
 * pipe overlaps them the same way). RAW_SLOTS chunks at most are in flight,
 * so memory stays bounded. The consumer's end call comes only once the
 * source server has said the COPY succeeded.
 */
struct raw_chunk {
    char   *buf;
    size_t  len, cap;
    int64_t rows;
};

struct raw_reader {
    PGconn *c;
    const struct pgwait *w;
    const struct ztable *t;
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    struct raw_chunk slot[RAW_SLOTS];
    int head, count;            /* filled chunks: slot[head], … count of them */
    int fill;                   /* the slot the reader fills, or -1 */
    int done;                   /* the reader has finished: ok or err */
    int ok;
    int abandon;                /* the consumer gave up: stop reading */
    int binary;                 /* FORMAT binary: the last message is the trailer */
    char err[1024];
};

static int raw_put_row(struct raw_chunk *k, const char *row, size_t n)
{
    if (k->len + n > k->cap) {
        size_t cap = k->cap ? k->cap : RAW_CHUNK;
        while (cap < k->len + n) cap *= 2;
        char *b = realloc(k->buf, cap);
        if (!b) return -1;
        k->buf = b;
        k->cap = cap;
    }
    memcpy(k->buf + k->len, row, n);
    k->len += n;
    k->rows++;
    return 0;
}

/* Reader: take a free slot to fill (waiting while all are full); -1 when abandoned. */
static int raw_take_slot(struct raw_reader *r)
{
    pthread_mutex_lock(&r->mu);
    while (r->count == RAW_SLOTS && !r->abandon) pthread_cond_wait(&r->cv, &r->mu);
    int rc = r->abandon ? -1 : 0;
    if (rc == 0) {
        r->fill = (r->head + r->count) % RAW_SLOTS;
        r->slot[r->fill].len = 0;
        r->slot[r->fill].rows = 0;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

static void raw_publish(struct raw_reader *r)
{
    pthread_mutex_lock(&r->mu);
    r->count++;
    r->fill = -1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void *raw_reader_main(void *arg)
{
    pthread_setname_np(pthread_self(), "z-copy-read");   /* top -H, gdb */
    struct raw_reader *r = arg;
    const struct ztable *t = r->t;
    char *row = NULL;
    int n, ok = 0;
    if (raw_take_slot(r) != 0) goto out;
    char we[600];
    while ((n = next_row(r->c, r->w, &row, we, sizeof we)) > 0) {
        struct raw_chunk *k = &r->slot[r->fill];
        if (k->len && k->len + (size_t)n > RAW_CHUNK) {
            raw_publish(r);
            if (raw_take_slot(r) != 0) goto out;
            k = &r->slot[r->fill];
        }
        if (raw_put_row(k, row, (size_t)n) != 0) {
            snprintf(r->err, sizeof r->err, "out of memory copying %s.%s", t->schema, t->name);
            goto out;
        }
        PQfreemem(row);
        row = NULL;
    }
    if (n == -3) {
        snprintf(r->err, sizeof r->err, "copying %s.%s: %s", t->schema, t->name, we);
        goto out;
    }
    if (n == -2) {
        snprintf(r->err, sizeof r->err, "copying %s.%s: %s", t->schema, t->name, PQerrorMessage(r->c));
        goto out;
    }
    char e[400];
    PGresult *res = pgwait_copy_result(r->c, r->w, e, sizeof e);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        snprintf(r->err, sizeof r->err, "copying %s.%s: %s", t->schema, t->name, res ? PQresultErrorMessage(res) : e);
        PQclear(res);
        goto out;
    }
    PQclear(res);
    if (r->binary && r->slot[r->fill].rows > 0) r->slot[r->fill].rows--;    /* the trailer */
    if (r->slot[r->fill].len) raw_publish(r);
    ok = 1;
out:
    if (row) PQfreemem(row);
    pthread_mutex_lock(&r->mu);
    r->fill = -1;
    r->done = 1;
    r->ok = ok;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static int copy_raw(PGconn *c, const struct ztable *t, int binary, const struct zsink *sink,
                    void (*progress)(void *ctx, int64_t rows), void *ctx,
                    const struct pgwait *w, int64_t *rows, char *err, size_t errlen)
{
    const atomic_int *stop = w ? w->stop : NULL;
    struct raw_reader r = {.c = c, .w = w, .t = t, .fill = -1, .binary = binary};
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    pthread_t th;
    int rc = -1;
    if (pthread_create(&th, NULL, raw_reader_main, &r) != 0) {
        snprintf(err, errlen, "copying %s.%s: cannot start the reader thread", t->schema, t->name);
        goto out;
    }
    for (;;) {
        pthread_mutex_lock(&r.mu);
        while (r.count == 0 && !r.done) pthread_cond_wait(&r.cv, &r.mu);
        int have = r.count > 0, done = r.done;
        pthread_mutex_unlock(&r.mu);
        if (!have) {
            if (done && !r.ok) snprintf(err, errlen, "%s", r.err);
            rc = done && r.ok ? sink->raw_rows(sink->ctx, t, NULL, 0, 0) : -1;
            break;
        }
        /* The reader never touches a published slot until it is released below. */
        struct raw_chunk *k = &r.slot[r.head];
        int s = sink->raw_rows(sink->ctx, t, k->buf, k->len, k->rows);
        *rows += k->rows;
        pthread_mutex_lock(&r.mu);
        r.head = (r.head + 1) % RAW_SLOTS;
        r.count--;
        pthread_cond_broadcast(&r.cv);
        pthread_mutex_unlock(&r.mu);
        if (s != 0) { rc = s; break; }
        if (progress) progress(ctx, *rows);
        if (stop && atomic_load(stop)) {
            snprintf(err, errlen, "stopped while copying %s.%s", t->schema, t->name);
            break;
        }
    }
    /* Abandoned mid-table: the reader stops at its next row; the caller
     * closes or rolls back this connection (as for the row-by-row copy). */
    pthread_mutex_lock(&r.mu);
    r.abandon = 1;
    pthread_cond_broadcast(&r.cv);
    pthread_mutex_unlock(&r.mu);
    pthread_join(th, NULL);
out:
    for (int i = 0; i < RAW_SLOTS; i++) free(r.slot[i].buf);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    return rc;
}

/*
 * The COPY statement for t: its columns by name, in text or binary format as
 * the sink answers raw_ok (*raw, asked before the COPY starts since the answer
 * picks its format). A malloc'd string, or NULL with err set.
 */
static char *copy_sql(PGconn *c, const struct ztable *t, const struct zsink *sink, int *raw,
                      char *err, size_t errlen)
{
    int ok = 1;
    size_t cap = 64 + 3 * 260 + (size_t)t->ncols * 260, used = 0;
    char *sql = malloc(cap);
    if (!sql) { snprintf(err, errlen, "out of memory copying %s.%s", t->schema, t->name); return NULL; }
    used += (size_t)snprintf(sql, cap, "COPY (SELECT ");
    for (int i = 0; i < t->ncols; i++) {
        char q[260];
        qident(c, q, sizeof q, t->cols[i].name, &ok);
        used += (size_t)snprintf(sql + used, cap - used, "%s%s", i ? ", " : "", q);
    }
    char qs[260], qt[260];
    qident(c, qs, sizeof qs, t->schema, &ok);
    qident(c, qt, sizeof qt, t->name, &ok);
    *raw = sink->raw_ok && sink->raw_rows
               ? sink->raw_ok(sink->ctx, t, PQserverVersion(c), PQparameterStatus(c, "server_encoding"))
               : ZRAW_NO;
    snprintf(sql + used, cap - used, " FROM %s.%s) TO STDOUT%s", qs, qt,
             *raw == ZRAW_BINARY ? " (FORMAT binary)" : "");
    if (!ok) {
        snprintf(err, errlen, "cannot quote the names of %s.%s", t->schema, t->name);
        free(sql);
        return NULL;
    }
    return sql;
}

/*
 * One row of a text COPY (n bytes: fields split by tabs, ending in a newline)
 * into vals[0..t->ncols): \N is NULL, bytea is unhexed and integers are
 * numbers, exactly as the pgoutput decoder gives them; the rest is text. The
 * values point into row, which is unescaped in place. 0, or -1 with err set.
 */
static int parse_text_row(const struct ztable *t, char *row, int n, struct zvalue *vals,
                          char *err, size_t errlen)
{
    size_t len = (size_t)n;
    if (len && row[len - 1] == '\n') len--;
    int col = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len && col <= t->ncols; i++) {
        if (i < len && row[i] != '\t') continue;
        if (col == t->ncols) { col++; break; }
        char *f = row + start;
        size_t flen = i - start;
        struct zvalue *v = &vals[col];
        if (flen == 2 && f[0] == '\\' && f[1] == 'N') {
            v->kind = ZV_NULL;
        } else {
            flen = pgcopy_unescape(f, flen);
            if (t->cols[col].type == ZT_BYTES && !t->cols[col].is_array) {
                long b = bytea_decode(f, flen);
                if (b < 0) {
                    snprintf(err, errlen, "copying %s.%s: column %s: bytea value is not in hex form",
                             t->schema, t->name, t->cols[col].name);
                    return -1;
                }
                v->kind = ZV_BYTES;
                v->len = (uint32_t)b;
                v->v.p = f;
            } else if (!t->cols[col].is_array && (t->cols[col].type == ZT_INT16 ||
                       t->cols[col].type == ZT_INT32 || t->cols[col].type == ZT_INT64)) {
                /* integers as numbers, exactly as the pgoutput decoder gives them */
                f[flen] = '\0';
                char *end;
                errno = 0;
                long long iv = strtoll(f, &end, 10);
                if (errno || end == f || *end) {
                    snprintf(err, errlen, "copying %s.%s: column %s: \"%.40s\" is not an integer",
                             t->schema, t->name, t->cols[col].name, f);
                    return -1;
                }
                v->kind = ZV_INT;
                v->v.i = iv;
            } else {
                v->kind = ZV_TEXT;
                v->len = (uint32_t)flen;
                v->v.p = f;
            }
        }
        col++;
        start = i + 1;
    }
    if (col != t->ncols) {
        snprintf(err, errlen, "copying %s.%s: a row has %d fields, the table %d columns",
                 t->schema, t->name, col, t->ncols);
        return -1;
    }
    return 0;
}

int pgcopy_table(PGconn *c, const struct ztable *t, const struct zsink *sink,
                 void (*progress)(void *ctx, int64_t rows), void *ctx,
                 const struct pgwait *w, int64_t *rows_out, char *err, size_t errlen)
{
    const atomic_int *stop = w ? w->stop : NULL;
    int rc = -1, raw = ZRAW_NO;
    int64_t rows = 0;
    char *sql = NULL, *row = NULL;
    struct zvalue *vals = calloc((size_t)(t->ncols ? t->ncols : 1), sizeof *vals);
    if (!vals) { snprintf(err, errlen, "out of memory copying %s.%s", t->schema, t->name); goto out; }
    if (!(sql = copy_sql(c, t, sink, &raw, err, errlen))) goto out;

    /* The COPY's start may take long (a lock, a big sort before the first
     * row): pgwait probes our backend before giving up on a silent server. */
    char e[512];
    PGresult *r = pgwait_exec(c, w, sql, -1, NULL, e, sizeof e);
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        snprintf(err, errlen, "copying %s.%s: %s", t->schema, t->name, r ? PQresultErrorMessage(r) : e);
        PQclear(r);
        goto out;
    }
    PQclear(r);
    if (raw != ZRAW_NO) {
        rc = copy_raw(c, t, raw == ZRAW_BINARY, sink, progress, ctx, w, &rows, err, errlen);
        goto out;
    }
    int n;
    while ((n = next_row(c, w, &row, e, sizeof e)) > 0) {
        if (parse_text_row(t, row, n, vals, err, errlen)) goto drain;
        struct zrowchange change = {.op = ZOP_INSERT, .table = t, .after = vals};
        int s = sink->row(sink->ctx, &change);
        PQfreemem(row);
        row = NULL;
        if (s != 0) { rc = s; goto drain_keep; }
        rows++;
        if (progress && rows % 10000 == 0) progress(ctx, rows);
        if (stop && atomic_load(stop)) {
            snprintf(err, errlen, "stopped while copying %s.%s", t->schema, t->name);
            goto drain;
        }
    }
    if (n == -3 || n == -2) {
        snprintf(err, errlen, "copying %s.%s: %s", t->schema, t->name, n == -3 ? e : PQerrorMessage(c));
        goto out;
    }
    r = pgwait_copy_result(c, w, e, sizeof e);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(err, errlen, "copying %s.%s: %s", t->schema, t->name, r ? PQresultErrorMessage(r) : e);
        PQclear(r);
        goto out;
    }
    PQclear(r);
    rc = 0;
    goto out;
drain:
    rc = -1;
drain_keep:
    /* Abandon the COPY: the caller closes or rolls back this connection. */
    if (row) PQfreemem(row);
    row = NULL;
out:
    if (row) PQfreemem(row);
    if (rows_out) *rows_out = rows;
    free(vals);
    free(sql);
    return rc;
}
