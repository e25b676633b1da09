/* pgcopy.c — table copy inside an exported snapshot (see pgcopy.h). */
#include "runtime/pg/pgcopy.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/base/buf.h"
#include "runtime/pipe/zkey.h"

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
/* A chunked table's key: its columns in key order, quoted. */
struct chunk_key {
    const struct ztable *t;
    int  n;
    int  cols[ZKEY_MAX];        /* column indexes of t, zkey_columns */
    char q[ZKEY_MAX][260];      /* their quoted names */
};

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
int pgcopy_tuple_key(const struct ztable *t, const int *cols, int nk, int binary, const char *row, size_t n,
                     struct zkey *key)
{
    static const char sig[11] = "PGCOPY\n\377\r\n";
    const unsigned char *p = (const unsigned char *)row, *end = p + n;
    char v[ZKEY_MAX][24], text[ZKEY_TEXT_MAX];
    int got = 0;
    if (nk <= 0 || nk > ZKEY_MAX) return -1;
    if (binary) {
        if (n >= 19 && memcmp(p, sig, sizeof sig) == 0) {
            uint32_t ext = be32(p + 15);
            if (ext > n - 19) return -1;
            p += 19 + ext;
        }
        if (end - p < 2) return -1;
        int nf = (int16_t)(p[0] << 8 | p[1]);
        p += 2;
        if (nf == -1) return 0;
        if (nf != t->ncols) return -1;
        for (int col = 0; col < nf; col++) {
            if (end - p < 4) return -1;
            int32_t flen = (int32_t)be32(p);
            p += 4;
            if (flen > end - p) return -1;
            for (int j = 0; j < nk; j++) {
                if (cols[j] != col) continue;
                if (flen == 2) snprintf(v[j], sizeof v[j], "%d", (int16_t)(p[0] << 8 | p[1]));
                else if (flen == 4 && t->cols[col].source_type && strcmp(t->cols[col].source_type, "oid") == 0)
                    snprintf(v[j], sizeof v[j], "%" PRIu32, be32(p));
                else if (flen == 4) snprintf(v[j], sizeof v[j], "%" PRId32, (int32_t)be32(p));
                else if (flen == 8) snprintf(v[j], sizeof v[j], "%" PRId64, (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)));
                else return -1;         /* NULL, or not an integer */
                got++;
            }
            if (flen > 0) p += flen;
        }
    } else {
        if (n && p[n - 1] == '\n') end--;
        for (int col = 0; p <= end && col < t->ncols; col++) {
            const unsigned char *f = p;
            while (p < end && *p != '\t') p++;
            for (int j = 0; j < nk; j++) {
                if (cols[j] != col) continue;
                if (p - f == 0 || (size_t)(p - f) >= sizeof v[j]) return -1;
                memcpy(v[j], f, (size_t)(p - f));
                v[j][p - f] = '\0';
                got++;
            }
            p++;
        }
    }
    if (got != nk) return -1;
    size_t at = 0;
    for (int j = 0; j < nk && at < sizeof text; j++)
        at += (size_t)snprintf(text + at, sizeof text - at, "%s%s", j ? "," : "", v[j]);
    return at < sizeof text && zkey_parse(text, t, cols, nk, key) == 0 ? 1 : -1;
}

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
    const struct chunk_key *key;   /* a chunk's: keep the last tuple (last), for its key */
    char *last;                 /* PQgetCopyData's, the caller frees */
    int last_n;
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
        if (r->key && !(r->binary && n == 2 && (unsigned char)row[0] == 0xff && (unsigned char)row[1] == 0xff)) {
            if (r->last) PQfreemem(r->last);
            r->last = row;              /* a tuple, not the trailer */
            r->last_n = n;
        } else {
            PQfreemem(row);
        }
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

/* The key of a chunk's last tuple, from its text (tuple_key_text) into *last. */
static int last_key(const struct chunk_key *k, int binary, const char *row, int n, struct zkey *last,
                    char *err, size_t errlen)
{
    if (row && pgcopy_tuple_key(k->t, k->cols, k->n, binary, row, (size_t)n, last) == 1) return 0;
    snprintf(err, errlen, "copying %s.%s: the key of the chunk's last row cannot be read from the COPY data",
             k->t->schema, k->t->name);
    return -1;
}

static int copy_raw(PGconn *c, const struct ztable *t, int binary, const struct zsink *sink,
                    void (*progress)(void *ctx, int64_t rows), void *ctx,
                    const struct pgwait *w, const struct chunk_key *key, struct zkey *last,
                    int64_t *rows, char *err, size_t errlen)
{
    const atomic_int *stop = w ? w->stop : NULL;
    struct raw_reader r = {.c = c, .w = w, .t = t, .fill = -1, .binary = binary, .key = key};
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
            if (rc == 0 && key && *rows > 0) rc = last_key(key, binary, r.last, r.last_n, last, err, errlen);
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
    if (r.last) PQfreemem(r.last);
    for (int i = 0; i < RAW_SLOTS; i++) free(r.slot[i].buf);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    return rc;
}

/*
 * The COPY statement for t: its columns by name, in text or binary format as
 * the sink answers raw_ok (*raw, asked before the COPY starts since the answer
 * picks its format). filter: SQL after the FROM (a chunk's WHERE and ORDER
 * BY, names quoted, no value in it), or NULL. A malloc'd string, or NULL with
 * err set.
 */
static char *copy_sql(PGconn *c, const struct ztable *t, const char *filter, const struct zsink *sink,
                      int *raw, char *err, size_t errlen)
{
    int ok = 1;
    if (!filter) filter = "";
    size_t cap = 64 + 3 * 260 + (size_t)t->ncols * 260 + strlen(filter), used = 0;
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
    snprintf(sql + used, cap - used, " FROM %s.%s%s) TO STDOUT%s", qs, qt, filter,
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

/* pgcopy_table, of the rows filter selects (copy_sql). */
static int copy_rows(PGconn *c, const struct ztable *t, const char *filter, const struct zsink *sink,
                     void (*progress)(void *ctx, int64_t rows), void *ctx, const struct pgwait *w,
                     const struct chunk_key *key, struct zkey *last, int64_t *rows_out, char *err, size_t errlen)
{
    const atomic_int *stop = w ? w->stop : NULL;
    int rc = -1, raw = ZRAW_NO;
    int64_t rows = 0;
    char *sql = NULL, *row = NULL;
    struct zvalue *vals = calloc((size_t)(t->ncols ? t->ncols : 1), sizeof *vals);
    if (!vals) { snprintf(err, errlen, "out of memory copying %s.%s", t->schema, t->name); goto out; }
    if (!(sql = copy_sql(c, t, filter, sink, &raw, err, errlen))) goto out;

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
        rc = copy_raw(c, t, raw == ZRAW_BINARY, sink, progress, ctx, w, key, last, &rows, err, errlen);
        goto out;
    }
    int n;
    while ((n = next_row(c, w, &row, e, sizeof e)) > 0) {
        if (parse_text_row(t, row, n, vals, err, errlen)) goto drain;
        if (key && zkey_of(t, key->cols, key->n, vals, last) != 0) {
            snprintf(err, errlen, "copying %s.%s: a row's key is not %d integers", t->schema, t->name, key->n);
            goto drain;
        }
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

int64_t pgcopy_estimate(PGconn *c, const struct pgwait *w, const struct ztable *t)
{
    const char *params[2] = {t->schema, t->name};
    char e[512];
    PGresult *r = pgwait_exec(c, w,
        "SELECT c.reltuples::bigint FROM pg_catalog.pg_class c"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
        2, params, e, sizeof e);
    int64_t n = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n > 0 ? n : 0;
}

int pgcopy_table(PGconn *c, const struct ztable *t, const struct zsink *sink,
                 void (*progress)(void *ctx, int64_t rows), void *ctx,
                 const struct pgwait *w, int64_t *rows_out, char *err, size_t errlen)
{
    if (sink->estimate) sink->estimate(sink->ctx, t, pgcopy_estimate(c, w, t));
    return copy_rows(c, t, NULL, sink, progress, ctx, w, NULL, NULL, rows_out, err, errlen);
}

/* ---- one chunk in key order (pgcopy_chunk) --------------------------------------- */


/* The type a bound of key column zc is cast to inside the COPY, which takes
 * the bound as a setting's text. The catalog names every integer column's
 * type (a domain's base type) as one of these; anything else compares as
 * bigint, which every integer type of PostgreSQL's does. */
static const char *key_type(const struct zcolumn *zc)
{
    static const char *const known[] = {"smallint", "integer", "bigint", "oid"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (zc->source_type && strcmp(zc->source_type, known[i]) == 0) return known[i];
    return "bigint";
}

/* "k1<suffix>, k2<suffix>" */
static void put_keys(struct zbuf *b, const struct chunk_key *k, const char *prefix, const char *suffix)
{
    for (int j = 0; j < k->n; j++) {
        if (j) zbuf_puts(b, ", ");
        zbuf_puts(b, prefix);
        zbuf_puts(b, k->q[j]);
        zbuf_puts(b, suffix);
    }
}

/* The text of a key's values, one per column, for parameters and messages. */
static void key_values(const struct zkey *z, char (*buf)[24])
{
    for (int j = 0; j < z->n; j++) {
        if (z->uns[j]) snprintf(buf[j], sizeof buf[j], "%" PRIu64, z->v[j].u);
        else snprintf(buf[j], sizeof buf[j], "%" PRId64, z->v[j].i);
    }
}

/* A failed statement's message: the server's primary message (`relation
 * "s.t" does not exist`, without the statement libpq quotes after it), or
 * the wait's (e, when there was no answer). */
static void result_error(char *buf, size_t len, const PGresult *r, const char *e)
{
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    snprintf(buf, len, "%s", primary ? primary : r ? PQresultErrorMessage(r) : e);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
    if (!n) snprintf(buf, len, "an answer of an unexpected shape");
}

/*
 * The chunk's settings for this transaction, their values as parameters —
 * COPY takes none, so its query reads them with current_setting:
 *   SELECT set_config('enable_sort', 'off', true), set_config('zetl.chunk_limit', $1, true),
 *          set_config('zetl.chunk_lo_1', $2, true), …
 * and the rows' filter that compares the key with the lower bound, each value
 * cast to its column's type (an index range on the primary key, in key order):
 *   WHERE (k1, k2) > (CAST(current_setting('zetl.chunk_lo_1') AS bigint), …)
 *   ORDER BY k1, k2 LIMIT CAST(current_setting('zetl.chunk_limit') AS bigint)
 * (no WHERE for the first chunk), and for a range fixed in advance (upto)
 * AND (k1, k2) <= (the zetl.chunk_hi_N settings). The planner sees neither
 * the bounds nor the limit; with sorting off it takes the key's index in
 * order, never a scan of the whole table and a sort per chunk. 0 with
 * *filter, or -1 with err.
 */
/* One bound of the chunk: its values as the settings zetl.chunk_NAME_1…
 * (set in sql, parameters from *np on), and "OPEN(k1, k2)CMP(CAST(
 * current_setting('zetl.chunk_NAME_1') AS type), …)" in filter. */
static void bound_setting(struct zbuf *sql, struct zbuf *filter, const struct chunk_key *k, const struct zkey *z,
                          const char *name, const char *open, const char *cmp, char (*vals)[24],
                          const char **params, int *np)
{
    key_values(z, vals + *np);
    zbuf_puts(filter, open);
    put_keys(filter, k, "", "");
    zbuf_puts(filter, cmp);
    for (int j = 0; j < k->n; j++, (*np)++) {
        char set[80], get[120];
        snprintf(set, sizeof set, ", set_config('zetl.chunk_%s_%d', $%d, true)", name, j + 1, *np + 1);
        snprintf(get, sizeof get, "%sCAST(current_setting('zetl.chunk_%s_%d') AS %s)", j ? ", " : "",
                 name, j + 1, key_type(&k->t->cols[k->cols[j]]));
        zbuf_puts(sql, set);
        zbuf_puts(filter, get);
        params[*np] = vals[*np];
    }
    zbuf_puts(filter, ")");
}

static int chunk_settings(PGconn *c, const struct pgwait *w, const struct chunk_key *k, const struct zkey *after,
                          const struct zkey *upto, uint32_t limit, struct zbuf *filter, char *err, size_t errlen)
{
    struct zbuf sql = {0};
    char vals[2 * ZKEY_MAX + 1][24], e[512], m[600];
    const char *params[2 * ZKEY_MAX + 1];
    int np = 1, rc = -1;
    /* A range fixed in advance is read whole, however many rows it holds now. */
    if (upto) snprintf(vals[0], sizeof vals[0], "%" PRId64, INT64_MAX);
    else snprintf(vals[0], sizeof vals[0], "%u", limit);
    params[0] = vals[0];
    zbuf_puts(&sql, "SELECT set_config('enable_sort', 'off', true), set_config('zetl.chunk_limit', $1, true)");
    if (after) bound_setting(&sql, filter, k, after, "lo", " WHERE (", ") > (", vals, params, &np);
    if (upto)                           /* a range fixed in advance: (after, upto] */
        bound_setting(&sql, filter, k, upto, "hi", after ? " AND (" : " WHERE (", ") <= (", vals, params, &np);
    zbuf_puts(filter, " ORDER BY ");
    put_keys(filter, k, "", "");
    zbuf_puts(filter, " LIMIT CAST(current_setting('zetl.chunk_limit') AS bigint)");
    if (sql.oom || filter->oom) {
        snprintf(err, errlen, "out of memory copying %s.%s", k->t->schema, k->t->name);
        goto out;
    }
    PGresult *r = pgwait_exec(c, w, sql.p, np, params, e, sizeof e);
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        rc = 0;
    } else {
        result_error(m, sizeof m, r, e);
        snprintf(err, errlen, "copying %s.%s: setting the chunk's bounds: %s", k->t->schema, k->t->name, m);
    }
    PQclear(r);
out:
    zbuf_free(&sql);
    return rc;
}

int pgcopy_chunk(PGconn *c, const struct ztable *t, const struct zkey *after, const struct zkey *upto,
                 uint32_t limit, const struct zsink *sink, const struct pgwait *w, uint64_t *rows,
                 struct zkey *last, char *err, size_t errlen)
{
    struct chunk_key k = {.t = t};
    struct zbuf filter = {0};
    struct zkey hi;
    int64_t copied = 0;
    int ok = 1;
    *rows = 0;
    if (after && after->n == 0) after = NULL;
    if (upto && upto->n == 0) upto = NULL;
    k.n = zkey_columns(t, k.cols);
    if (!k.n || limit == 0 || (after && after->n != k.n) || (upto && upto->n != k.n)) {
        snprintf(err, errlen, "copying %s.%s: the table has no integer primary key to copy in chunks by%s",
                 t->schema, t->name, k.n && limit ? " (the chunk's bound has another number of columns)" : "");
        return -1;
    }
    for (int j = 0; j < k.n; j++) qident(c, k.q[j], sizeof k.q[j], t->cols[k.cols[j]].name, &ok);
    if (!ok) {
        snprintf(err, errlen, "cannot quote the names of %s.%s", t->schema, t->name);
        return -1;
    }
    int rc = chunk_settings(c, w, &k, after, upto, limit, &filter, err, errlen);
    if (rc == 0) rc = copy_rows(c, t, filter.p, sink, NULL, NULL, w, &k, &hi, &copied, err, errlen);
    if (rc == 0 && (copied < 0 || (!upto && (uint64_t)copied > limit))) {
        snprintf(err, errlen, "copying %s.%s: the chunk of at most %u rows brought %lld", t->schema, t->name,
                 limit, (long long)copied);
        rc = -1;
    }
    if (rc == 0 && copied > 0) {
        *rows = (uint64_t)copied;
        *last = hi;
    }
    zbuf_free(&filter);
    return rc;
}

int pgcopy_chunk_bound(PGconn *c, const struct pgwait *w, const struct ztable *t, const struct zkey *after,
                       uint32_t n, struct zkey *bound, char *err, size_t errlen)
{
    struct chunk_key k = {.t = t};
    struct zbuf sql = {0};
    char vals[ZKEY_MAX + 1][24], qs[260], qt[260], e[512], m[600], text[ZKEY_TEXT_MAX];
    const char *params[ZKEY_MAX + 1];
    int ok = 1, np = 0, rc = -1;
    if (after && after->n == 0) after = NULL;
    k.n = zkey_columns(t, k.cols);
    if (!k.n || n == 0 || (after && after->n != k.n)) {
        snprintf(err, errlen, "copying %s.%s: the table has no integer key to copy in chunks by", t->schema, t->name);
        return -1;
    }
    for (int j = 0; j < k.n; j++) qident(c, k.q[j], sizeof k.q[j], t->cols[k.cols[j]].name, &ok);
    qident(c, qs, sizeof qs, t->schema, &ok);
    qident(c, qt, sizeof qt, t->name, &ok);
    if (!ok) {
        snprintf(err, errlen, "cannot quote the names of %s.%s", t->schema, t->name);
        return -1;
    }
    /* The key columns as they are (their text is what libpq gives): a cast
     * in the select list would make ORDER BY sort that text. */
    zbuf_puts(&sql, "SELECT ");
    put_keys(&sql, &k, "", "");
    zbuf_puts(&sql, " FROM ");
    zbuf_puts(&sql, qs);
    zbuf_puts(&sql, ".");
    zbuf_puts(&sql, qt);
    if (after) {
        key_values(after, vals);
        zbuf_puts(&sql, " WHERE (");
        put_keys(&sql, &k, "", "");
        zbuf_puts(&sql, ") > (");
        for (int j = 0; j < k.n; j++, np++) {
            char p[80];
            snprintf(p, sizeof p, "%s$%d::%s", j ? ", " : "", np + 1, key_type(&t->cols[k.cols[j]]));
            zbuf_puts(&sql, p);
            params[np] = vals[np];
        }
        zbuf_puts(&sql, ")");
    }
    zbuf_puts(&sql, " ORDER BY ");
    put_keys(&sql, &k, "", "");
    char off[64];
    snprintf(off, sizeof off, " LIMIT 1 OFFSET $%d::bigint", np + 1);
    zbuf_puts(&sql, off);
    snprintf(vals[np], sizeof vals[np], "%u", n - 1);
    params[np] = vals[np];
    np++;
    if (sql.oom) {
        snprintf(err, errlen, "out of memory copying %s.%s", t->schema, t->name);
        goto out;
    }
    PGresult *r = pgwait_exec(c, w, sql.p, np, params, e, sizeof e);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        result_error(m, sizeof m, r, e);
        snprintf(err, errlen, "copying %s.%s: finding the next chunk's end: %s", t->schema, t->name, m);
    } else if (PQntuples(r) == 0) {
        rc = 0;                         /* fewer than n rows after: the last chunk */
    } else {
        size_t o = 0;
        text[0] = '\0';
        for (int j = 0; j < k.n && o < sizeof text; j++)
            o += (size_t)snprintf(text + o, sizeof text - o, "%s%s", j ? "," : "", PQgetvalue(r, 0, j));
        if (o >= sizeof text || zkey_parse(text, t, k.cols, k.n, bound) != 0)
            snprintf(err, errlen, "copying %s.%s: the next chunk's end \"%.80s\" is not the table's key",
                     t->schema, t->name, text);
        else
            rc = 1;
    }
    PQclear(r);
out:
    zbuf_free(&sql);
    return rc;
}
