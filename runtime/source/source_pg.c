/*
 * source_pg.c — the PostgreSQL source driver (source_ops.h): the catalog,
 * the initial copy in the slot's exported snapshot (whole, or in pieces for
 * parallel workers), one table again in a temporary slot's (whole, or in
 * chunks by key, each in a temporary slot's of its own), the retained
 * WAL, what the server is, row counts, and the delete's drops. The reader
 * is source_pgstream.c, the connections source_conn.c (source_pg.h).
 * Thread: the caller's (source.h).
 */
#include "runtime/source/source_ops.h"

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/integ/integ.h"
#include "runtime/pg/decoder.h"
#include "runtime/pg/pgcopy.h"
#include "runtime/pg/preflight.h"
#include "runtime/pg/setup.h"
#include "runtime/pg/stream.h"
#include "runtime/source/source.h"
#include "runtime/source/source_pg.h"

/* The same, for the supervisor's short catalog work: stopped by in->cut (a stop, or
 * an operator command the sentry saw waiting, runtime.c), no probe. */
static PGconn *pg_sql_connect(struct integ *in, struct pgwait *w, char *err, size_t errlen)
{
    *w = source_pg_wait(&in->cut.fired, NULL);
    return source_pg_sql_connect(in, w, err, errlen);
}

static int schema_configured(const struct config_source *s, const char *schema)
{
    for (int i = 0; i < s->nschemas; i++)
        if (strcmp(s->schemas[i], schema) == 0) return 1;
    return 0;
}

/* Definition of one relation from the catalog, typed like the stream's. */
static int pg_table_def(PGconn *c, const struct pgwait *w, struct pgcatalog *cat, const char *schema,
                        const char *name, const char *oid, const struct config_tables *tables,
                        struct ztable **out, char *err, size_t errlen)
{
    const char *params[1] = {oid};
    char qe[400];
    PGresult *r = pgwait_exec(c, w,
        "SELECT a.attname, a.atttypid, a.atttypmod, a.attgenerated = 's',"
        "       pg_catalog.pg_get_expr(d.adbin, d.adrelid)"
        " FROM pg_catalog.pg_attribute a"
        /* Generated columns only: pg_get_expr opens the relation, and would wait
         * on a lock someone holds on the table (a default needs no expression). */
        " LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        "                                  AND a.attgenerated = 's'"
        " WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        1, params, qe, sizeof qe);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "reading the columns of %s.%s: %s", schema, name, r ? PQresultErrorMessage(r) : qe);
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r), k = 0;
    struct ztable *t = calloc(1, sizeof *t);
    uint32_t *oids = calloc((size_t)n + 1, sizeof *oids);
    int32_t *mods = calloc((size_t)n + 1, sizeof *mods);
    if (t) t->cols = calloc((size_t)n + 1, sizeof *t->cols);
    if (!t || !oids || !mods || !t->cols) goto oom;
    t->gen = calloc((size_t)n + 1, sizeof *t->gen);
    if (!t->gen) goto oom;
    t->schema = strdup(schema);
    t->name = strdup(name);
    t->id = strtoull(oid, NULL, 10);
    for (int i = 0; i < n; i++) {
        const char *col = PQgetvalue(r, i, 0);
        char full[1024];
        snprintf(full, sizeof full, "%s.%s.%s", schema, name, col);
        int skip = 0;
        for (int e = 0; e < tables->nexclude_columns; e++)
            if (config_like(tables->exclude_columns[e], full)) skip = 1;
        if (skip) { t->nexcluded++; continue; }
        struct zcolumn *zc = &t->cols[k];
        zc->name = strdup(col);
        oids[k] = (uint32_t)strtoul(PQgetvalue(r, i, 1), NULL, 10);
        mods[k] = (int32_t)strtol(PQgetvalue(r, i, 2), NULL, 10);
        char tn[256];
        zc->nullable = 1;
        zc->length = -1;
        zc->pg_builtin = oids[k] < 16384;          /* FirstNormalObjectId */
        if (pgdec_builtin_type(oids[k], mods[k], zc, tn, sizeof tn) == 0) {
            zc->source_type = strdup(tn);
        } else {
            zc->type = ZT_OTHER;
            zc->source_type = strdup("text");
        }
        if (!zc->name || !zc->source_type) goto oom;
        if (PQgetvalue(r, i, 3)[0] == 't' && !(zc->gen_expr = strdup(PQgetvalue(r, i, 4)))) goto oom;
        k++;
    }
    t->ncols = k;
    PQclear(r);
    r = NULL;
    if (pgcatalog_resolve(cat, t, oids, mods, err, errlen) != 0) goto fail;
    /* STORED generated columns move to t->gen (change.h): the target computes
     * them. One in the primary key stays a written column: a key must be
     * carried by every row. */
    k = 0;
    for (int i = 0; i < t->ncols; i++) {
        if (t->cols[i].gen_expr && t->cols[i].pk_ord == 0) t->gen[t->ngen++] = t->cols[i];
        else t->cols[k++] = t->cols[i];
    }
    t->ncols = k;
    free(oids);
    free(mods);
    *out = t;
    return 0;
oom:
    snprintf(err, errlen, "out of memory reading %s.%s", schema, name);
fail:
    if (r) PQclear(r);
    if (t) { if (!t->cols) t->ncols = 0; else t->ncols = k; }
    ztable_free(t);
    free(oids);
    free(mods);
    return -1;
}

static int pg_load_tables(struct integ *in, struct ztable ***defs, int *ndefs, char *err, size_t errlen)
{
    struct pgwait w;
    char e0[512];
    PGconn *c = pg_sql_connect(in, &w, err, errlen);
    if (!c) return -1;
    int rc = -1, n = 0;
    struct ztable **v = NULL;
    struct pgcatalog *cat = pgcatalog_new(c, &w);
    PGresult *r = pgwait_exec(c, &w,
        "SELECT n.nspname, c.relname, c.oid::text FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
        "   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
        " ORDER BY 1, 2", -1, NULL, e0, sizeof e0);
    if (!cat || PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "source %s: listing tables: %s", in->cfg->name,
                 !cat ? "out of memory" : r ? PQresultErrorMessage(r) : e0);
        goto out;
    }
    v = calloc((size_t)PQntuples(r) + 1, sizeof *v);
    if (!v) goto out;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *s = PQgetvalue(r, i, 0), *t = PQgetvalue(r, i, 1);
        if (!schema_configured(&in->cfg->source, s) || !config_table_selected(&in->cfg->tables, s, t))
            continue;
        char e[1024];
        if (pg_table_def(c, &w, cat, s, t, PQgetvalue(r, i, 2), &in->cfg->tables, &v[n], e, sizeof e) != 0) {
            snprintf(err, errlen, "source %s: %s", in->cfg->name, e);
            goto out;
        }
        n++;
    }
    *defs = v;
    *ndefs = n;
    v = NULL;
    rc = 0;
out:
    /* source_free_tables' work: that lives in source.c, which sits above this driver. */
    for (int i = 0; v && i < n; i++) ztable_free(v[i]);
    free(v);
    PQclear(r);
    pgcatalog_free(cat);
    source_pg_sql_close(c, rc != 0);
    return rc;
}

/* Publication, a fresh slot, its exported snapshot, whose position is the
 * slot's consistent point; *handle keeps the replication connection (the
 * snapshot lives as long as it stays idle). */
static int pg_export_begin(struct integ *in, char *snap, size_t snaplen, struct zpos *pos,
                           void **handle, char *err, size_t errlen)
{
    const struct config_source *s = &in->cfg->source;
    char e[1024], ci[8192];
    int rc = -1;
    uint64_t lsn = 0;
    struct pgstream *st = NULL;
    *handle = NULL;
    struct pgwait w;
    PGconn *sql = pg_sql_connect(in, &w, err, errlen);
    struct pgstream_table *pt = calloc((size_t)in->ntables + 1, sizeof *pt);
    if (!sql || !pt) goto out;
    for (int i = 0; i < in->ntables; i++) {
        pt[i].schema = in->tables[i].def->schema;
        pt[i].name = in->tables[i].def->name;
    }
    if (pgstream_publication_ensure(sql, &w, s->publication, pt, in->ntables, e, sizeof e) != 0) {
        snprintf(err, errlen, "source %s: publication %s: %s", in->cfg->name, s->publication, e);
        goto out;
    }
    /* A slot from a copy that never finished has no checkpoint behind it:
     * start over (ending first a connection of ours that still holds it). */
    if (source_pg_slot_reclaim(in, sql, &w, err, errlen) < 0) goto out;
    if (pgstream_slot_drop_sql(sql, &w, s->slot, e, sizeof e) != 0) {
        snprintf(err, errlen, "source %s: dropping the unfinished slot %s: %s", in->cfg->name, s->slot, e);
        goto out;
    }
    if (source_pg_conninfo(in, ci, sizeof ci, err, errlen) != 0) goto out;
    /* Creating the slot waits for the transactions running on the source:
     * a silent server is probed before it is given up on. */
    struct pgwait ws = source_pg_wait(&in->cut.fired, ci);
    st = pgstream_connect_wait(ci, &ws, e, sizeof e);
    if (!st) {
        snprintf(err, errlen, "source %s: %s", in->cfg->name, e);
        goto out;
    }
    /* Should this link die (even before the slot is created), the next
     * attempt ends this walsender, which would hold the slot for ever. */
    source_pg_slot_holder(s->slot, pgstream_backend_pid(st));
    if (pgstream_create_slot(st, s->slot, 0, snap, snaplen, &lsn) != 0) {
        snprintf(err, errlen, "source %s: creating slot %s: %s", in->cfg->name, s->slot, pgstream_error(st));
        goto out;
    }
    memset(pos, 0, sizeof *pos);
    pos->kind = ZPOS_LSN;
    pos->offset = lsn;
    *handle = st;
    st = NULL;
    rc = 0;
out:
    memset(ci, 0, sizeof ci);
    free(pt);
    pgstream_close(st);
    source_pg_sql_close(sql, 0);
    return rc;
}

static void pg_export_end(void *handle)
{
    pgstream_close(handle);
}

/* The slot made afresh (pg_export_begin); its snapshot is not used. */
static int pg_start_at(struct integ *in, struct zpos *pos, char *err, size_t errlen)
{
    char snap[128];
    void *h = NULL;
    if (pg_export_begin(in, snap, sizeof snap, pos, &h, err, errlen) != 0) return -1;
    pg_export_end(h);
    return 0;
}

/* One table in the exported snapshot, on a connection of its own. */
static int pg_copy_table(struct integ *in, const char *snap, const struct ztable *t,
                         const struct zsink *sink, char *err, size_t errlen)
{
    char e[1024], ci[8192];
    if (source_pg_conninfo(in, ci, sizeof ci, err, errlen) != 0) return -1;
    /* Waits on the copy probe our backend before a silent server is given
     * up on: a COPY may legitimately wait long for its first row. */
    struct pgwait w = source_pg_wait(&in->cut.fired, ci);
    PGconn *copy = source_pg_sql_connect(in, &w, err, errlen);
    int rc = -1;
    if (!copy) goto out;
    if (pgcopy_begin(copy, &w, snap, e, sizeof e) != 0) {
        snprintf(err, errlen, "source %s: %s", in->cfg->name, e);
        goto out;
    }
    rc = pgcopy_table(copy, t, sink, NULL, NULL, &w, NULL, e, sizeof e);
    if (rc == -1) snprintf(err, errlen, "source %s: %s", in->cfg->name, e);
    if (rc == 0) {
        PGresult *r = pgwait_exec(copy, &w, "COMMIT", -1, NULL, e, sizeof e);
        if (!r) {
            snprintf(err, errlen, "source %s: %s", in->cfg->name, e);
            rc = -1;
        }
        PQclear(r);
    }
out:
    memset(ci, 0, sizeof ci);
    source_pg_sql_close(copy, rc != 0);     /* a failed or stopped copy may sit on a dead link */
    return rc;
}

static int pg_snapshot(struct integ *in, const struct zsink *sink, struct zpos *pos,
                       char *err, size_t errlen)
{
    char snap[128];
    struct zpos at;
    void *h = NULL;
    if (pg_export_begin(in, snap, sizeof snap, &at, &h, err, errlen) != 0) return -1;
    int rc = 0;
    for (int i = 0; i < in->ntables && rc == 0; i++)
        rc = pg_copy_table(in, snap, in->tables[i].def, sink, err, errlen);
    pg_export_end(h);
    if (rc != 0) return rc;
    *pos = at;
    return 0;
}

/* A temporary slot's name, unique to the process and the attempt: the slot
 * of a killed process lives on until its walsender notices, and must not make
 * this copy fail. */
static void temp_slot_name(const struct integ *in, char *buf, size_t len)
{
    static atomic_uint attempt;
    snprintf(buf, len, "%.36s_rs_%ld_%u", in->cfg->source.slot, (long)getpid(), atomic_fetch_add(&attempt, 1) + 1);
}

/* One table inside a temporary slot's exported snapshot (dropped on disconnect). */
static int pg_snapshot_table(struct integ *in, struct itable *t, const struct zsink *sink,
                             struct zpos *pos, char *err, size_t errlen)
{
    char ci[8192], e[1024], snap[128], slot[64];
    uint64_t lsn = 0;
    int rc = -1;
    if (source_pg_conninfo(in, ci, sizeof ci, err, errlen) != 0) return -1;
    /* Slot creation and the COPY may wait long on a busy server: probed, not cut short. */
    struct pgwait w = source_pg_wait(&in->cut.fired, ci);
    struct pgstream *st = pgstream_connect_wait(ci, &w, e, sizeof e);
    PGconn *copy = st ? source_pg_sql_connect(in, &w, err, errlen) : NULL;
    if (!st || !copy) {
        if (!st) snprintf(err, errlen, "source %s: %s", in->cfg->name, e);
        goto out;
    }
    /* A temporary slot, gone with this connection. */
    temp_slot_name(in, slot, sizeof slot);
    if (pgstream_create_slot(st, slot, 1, snap, sizeof snap, &lsn) != 0) {
        snprintf(err, errlen, "source %s: %s", in->cfg->name, pgstream_error(st));
        goto out;
    }
    if (pgcopy_begin(copy, &w, snap, e, sizeof e) != 0 ||
        pgcopy_table(copy, t->def, sink, NULL, NULL, &w, NULL, e, sizeof e) != 0) {
        snprintf(err, errlen, "source %s: %s", in->cfg->name, e);
        goto out;
    }
    PGresult *r = pgwait_exec(copy, &w, "COMMIT", -1, NULL, e, sizeof e);
    if (!r) {
        snprintf(err, errlen, "source %s: %s", in->cfg->name, e);
        goto out;
    }
    PQclear(r);
    /* The exported snapshot holds exactly the transactions whose commit
     * record lies below the slot's consistent point: that is the copy's
     * position (a point, not a commit boundary: zpos_txn_in_copy compares a
     * transaction's commit LSN with it). */
    memset(pos, 0, sizeof *pos);
    pos->kind = ZPOS_LSN;
    pos->offset = lsn;
    rc = 0;
out:
    memset(ci, 0, sizeof ci);
    source_pg_sql_close(copy, rc != 0);
    pgstream_close(st);
    return rc;
}

/*
 * Chunks of a table (source_chunk_read): each in a temporary slot's exported
 * snapshot of its own, on two connections kept for the whole copy — a
 * replication one that creates the chunk's slot and drops it as soon as the
 * SQL one has adopted its snapshot, and the SQL one that reads the chunk in
 * that snapshot and commits. Between chunks neither holds a slot or a
 * transaction. Every wait is bounded as pg_snapshot_table's: the cut (a stop,
 * a resync given up) ends it, and a silent server is probed before it is
 * given up on.
 */
struct pg_chunker {
    struct integ *in;
    const struct zsink *sink;
    char ci[8192];              /* conninfo for the probe (a secret: cleared at the end) */
    struct pgwait w;            /* points at ci: lives as long as the connections */
    struct pgstream *st;        /* replication connection: the chunks' slots */
    PGconn *sql;                /* the chunks' reads */
    int dead;                   /* a read failed: the SQL connection may sit mid-COPY or on a dead link */
    const struct ztable *told;  /* the table whose estimate the sink was told (once, as its copy starts) */
    char next[64];              /* the next chunk's slot, asked for while this chunk copies ("": none) */
    int shared;                 /* other readers copy the table at once: no slot asked ahead */
};

static void pg_chunk_end(void *handle)
{
    struct pg_chunker *k = handle;
    if (!k) return;
    source_pg_sql_close(k->sql, k->dead);
    pgstream_close(k->st);      /* a slot left by a failed chunk goes with it */
    memset(k->ci, 0, sizeof k->ci);
    free(k);
}

static int pg_chunk_begin(struct integ *in, const struct zsink *sink, int shared, void **handle,
                          char *err, size_t errlen)
{
    char e[1024];
    struct pg_chunker *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "source %s: out of memory", in->cfg->name);
        return -1;
    }
    k->in = in;
    k->sink = sink;
    k->shared = shared;
    if (source_pg_conninfo(in, k->ci, sizeof k->ci, err, errlen) != 0) goto fail;
    /* Slot creation and the COPY may wait long on a busy server: probed, not cut short. */
    k->w = source_pg_wait(&in->cut.fired, k->ci);
    if (!(k->st = pgstream_connect_wait(k->ci, &k->w, e, sizeof e))) {
        snprintf(err, errlen, "source %s: %s", in->cfg->name, e);
        goto fail;
    }
    if (!(k->sql = source_pg_sql_connect(in, &k->w, err, errlen))) goto fail;
    *handle = k;
    return 0;
fail:
    pg_chunk_end(k);
    return -1;
}

/*
 * One chunk: a temporary slot with its exported snapshot; the SQL connection
 * adopts it (REPEATABLE READ, READ ONLY) and the slot is dropped at once —
 * the transaction keeps the snapshot, and no slot holds WAL or the catalog's
 * xmin while the chunk is read —, then the chunk (pgcopy_chunk) and COMMIT.
 * *pos is the slot's consistent point, as for the one-read copy: the snapshot
 * holds exactly the transactions whose commit record lies below it.
 */
static int pg_chunk_read(void *handle, const struct ztable *t, const struct zchunk_req *q,
                         struct zpos *pos, uint64_t *rows, struct zkey *last, char *err, size_t errlen)
{
    struct pg_chunker *k = handle;
    const char *name = k->in->cfg->name;
    char e[1024], snap[128], slot[64];
    uint64_t lsn = 0;
    *rows = 0;
    if (k->dead) {
        snprintf(err, errlen, "source %s: copying %s.%s: an earlier chunk failed on this connection", name,
                 t->schema, t->name);
        return -1;
    }
    k->dead = 1;                /* until this chunk is committed */
    if (k->next[0]) {           /* asked for while the chunk before copied */
        snprintf(slot, sizeof slot, "%s", k->next);
        k->next[0] = '\0';
    } else {
        temp_slot_name(k->in, slot, sizeof slot);
        if (pgstream_create_slot_send(k->st, slot, 1) != 0) {
            snprintf(err, errlen, "source %s: copying %s.%s: %s", name, t->schema, t->name, pgstream_error(k->st));
            return -1;
        }
    }
    if (pgstream_create_slot_finish(k->st, slot, snap, sizeof snap, &lsn) != 0) {
        snprintf(err, errlen, "source %s: copying %s.%s: %s", name, t->schema, t->name, pgstream_error(k->st));
        return -1;
    }
    if (q->snapped) q->snapped(q->snap_ctx);    /* the position is the slot's: fixed */
    if (pgcopy_begin(k->sql, &k->w, snap, e, sizeof e) != 0) {
        snprintf(err, errlen, "source %s: copying %s.%s: %s", name, t->schema, t->name, e);
        return -1;
    }
    if (pgstream_drop_slot(k->st, slot) != 0) {
        snprintf(err, errlen, "source %s: copying %s.%s: dropping the chunk's slot: %s", name, t->schema, t->name,
                 pgstream_error(k->st));
        return -1;
    }
    /* The next chunk's slot is asked for now, while this chunk copies: the
     * server's wait for the transactions running on it (a slot's consistent
     * point) overlaps the copy instead of pausing it. Asked after this
     * chunk's slot was made, its consistent point is at or past this one's,
     * as resync.c's hand-off needs of a later chunk. The last chunk's ask is
     * dropped with the connection (a temporary slot). Not when other
     * readers copy the table too: a slot made now could be older than the
     * one another reader makes for an earlier range (resync.c's order). */
    if (!k->shared) {
        temp_slot_name(k->in, k->next, sizeof k->next);
        if (pgstream_create_slot_send(k->st, k->next, 1) != 0) {
            snprintf(err, errlen, "source %s: copying %s.%s: %s", name, t->schema, t->name, pgstream_error(k->st));
            k->next[0] = '\0';
            return -1;
        }
    }
    if (k->told != t && k->sink->estimate) {
        k->told = t;
        k->sink->estimate(k->sink->ctx, t, pgcopy_estimate(k->sql, &k->w, t));
    }
    int rc = pgcopy_chunk(k->sql, t, q->after, q->upto, q->limit, k->sink, &k->w, rows, last, e, sizeof e);
    if (rc != 0) {
        if (rc == -1) snprintf(err, errlen, "source %s: %s", name, e);
        return rc;
    }
    PGresult *r = pgwait_exec(k->sql, &k->w, "COMMIT", -1, NULL, e, sizeof e);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(err, errlen, "source %s: copying %s.%s: COMMIT: %s", name, t->schema, t->name,
                 r ? PQresultErrorMessage(r) : e);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    memset(pos, 0, sizeof *pos);
    pos->kind = ZPOS_LSN;
    pos->offset = lsn;
    k->dead = 0;
    return 0;
}

/* Where a chunk of n rows after *after ends (source_chunk_bound), on the
 * chunks' SQL connection between two chunks (no transaction open). */
static int pg_chunk_bound(void *handle, const struct ztable *t, const struct zkey *after, uint32_t n,
                          struct zkey *bound, char *err, size_t errlen)
{
    struct pg_chunker *k = handle;
    char e[1024];
    if (k->dead) {
        snprintf(err, errlen, "source %s: copying %s.%s: an earlier chunk failed on this connection",
                 k->in->cfg->name, t->schema, t->name);
        return -1;
    }
    int rc = pgcopy_chunk_bound(k->sql, &k->w, t, after, n, bound, e, sizeof e);
    if (rc < 0) {
        k->dead = 1;
        snprintf(err, errlen, "source %s: %s", k->in->cfg->name, e);
    }
    return rc;
}

/* The statements a note asks the operator to run: an identifier in double
 * quotes, a literal in single quotes, each quote doubled (PostgreSQL's
 * rules with standard_conforming_strings, on since 9.1). Built without a
 * connection, so a note can be written when the source is unreachable. */
static void quote_text(char *buf, size_t len, const char *s, char q)
{
    size_t o = 0;
    if (len < 3) { if (len) buf[0] = '\0'; return; }
    buf[o++] = q;
    for (; *s && o + 3 < len; s++) {
        if (*s == q) buf[o++] = q;
        buf[o++] = *s;
    }
    buf[o++] = q;
    buf[o] = '\0';
}

/*
 * Delete on a PostgreSQL source: the slot first — it keeps WAL on the source
 * for as long as it lives — then the publication. Each that cannot be
 * dropped (the publication belongs to another role, as when its tables'
 * owner created it; the server unreachable) is left, and the note says
 * what is left, why, and the exact statement to run.
 */
static int pg_drop(struct integ *in, char *note, size_t len)
{
    const struct config_source *s = &in->cfg->source;
    char e[1024], why[1100] = "", qslot[200], qpub[200], owner[200] = "";
    int slot_left = 0, pub_left = 0;
    struct pgwait w;
    quote_text(qslot, sizeof qslot, s->slot, '\'');
    quote_text(qpub, sizeof qpub, s->publication, '"');
    PGconn *sql = pg_sql_connect(in, &w, e, sizeof e);
    if (!sql) {
        snprintf(why, sizeof why, "%s", e);
        slot_left = pub_left = 1;
        goto note;
    }
    /* A walsender of ours a dead link left behind would hold the slot. */
    if (source_pg_slot_reclaim(in, sql, &w, e, sizeof e) < 0 ||
        pgstream_slot_drop_sql(sql, &w, s->slot, e, sizeof e) != 0) {
        snprintf(why, sizeof why, "%s", e);
        slot_left = 1;
    }
    if (pgstream_publication_drop(sql, &w, s->publication, e, sizeof e) != 0) {
        pub_left = 1;
        if (!why[0]) snprintf(why, sizeof why, "%s", e);
        const char *params[1] = {s->publication};
        PGresult *r = pgwait_exec(sql, &w, "SELECT pg_catalog.pg_get_userbyid(pubowner) FROM pg_catalog.pg_publication "
                                           "WHERE pubname = $1", 1, params, e, sizeof e);
        if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            quote_text(owner, sizeof owner, PQgetvalue(r, 0, 0), '"');
        PQclear(r);
    }
    source_pg_sql_close(sql, 0);
note:
    if (!slot_left && !pub_left) {
        snprintf(note, len, "slot %s and publication %s dropped", s->slot, s->publication);
        return 0;
    }
    if (slot_left && pub_left)
        snprintf(note, len, "slot %s and publication %s are left on the source (%s); run there as a superuser: "
                 "SELECT pg_drop_replication_slot(%s); DROP PUBLICATION %s;",
                 s->slot, s->publication, why, qslot, qpub);
    else if (slot_left)
        snprintf(note, len, "publication %s dropped; slot %s is left on the source and keeps its WAL (%s); "
                 "run there as a superuser or a replication user: SELECT pg_drop_replication_slot(%s);",
                 s->publication, s->slot, why, qslot);
    else
        snprintf(note, len, "slot %s dropped; publication %s is left on the source (%s); run there as %s%s%s: "
                 "DROP PUBLICATION %s;", s->slot, s->publication, why,
                 owner[0] ? "its owner " : "its owner", owner[0] ? owner : "", " or a superuser", qpub);
    return 1;
}

static int pg_column_backfilled(struct integ *in, const char *schema, const char *table,
                                const char *column, char *err, size_t errlen)
{
    struct pgwait w;
    char e[512];
    PGconn *c = pg_sql_connect(in, &w, err, errlen);
    if (!c) return -1;
    const char *params[3] = {schema, table, column};
    PGresult *r = pgwait_exec(c, &w,
        "SELECT column_default IS NOT NULL OR is_nullable = 'NO' FROM information_schema.columns"
        " WHERE table_schema = $1 AND table_name = $2 AND column_name = $3",
        3, params, e, sizeof e);
    int rc = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        rc = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    else
        snprintf(err, errlen, "source %s: reading the default of %s.%s.%s: %s", in->cfg->name,
                 schema, table, column, r ? PQresultErrorMessage(r) : e);
    PQclear(r);
    source_pg_sql_close(c, !r);
    return rc;
}

/* The WAL the slot keeps: current WAL position minus its restart_lsn. */
static int pg_retained_bytes(struct integ *in, int64_t *bytes, char *err, size_t errlen)
{
    struct pgwait w;
    char e[512];
    PGconn *c = pg_sql_connect(in, &w, err, errlen);
    if (!c) return -1;
    const char *params[1] = {in->cfg->source.slot};
    PGresult *r = pgwait_exec(c, &w,
        "SELECT (pg_current_wal_lsn() - restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = $1",
        1, params, e, sizeof e);
    int rc = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
        *bytes = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        rc = 0;
    } else {
        snprintf(err, errlen, "source %s: reading slot %s: %s", in->cfg->name, in->cfg->source.slot,
                 !r ? e : PQresultStatus(r) == PGRES_TUPLES_OK ? "no such slot" : PQresultErrorMessage(r));
    }
    PQclear(r);
    source_pg_sql_close(c, !r);
    return rc;
}

static int pg_identity(struct integ *in, char *buf, size_t len, char *err, size_t errlen)
{
    struct pgwait w = source_pg_wait(&in->cut.fired, NULL);     /* every wait bounded (pg/pgwait.h) */
    PGconn *c = source_pg_sql_connect(in, &w, err, errlen);
    if (!c) return -1;
    int rc = -1;
    char qe[512];
    PGresult *r = pgwait_exec(c, &w, "SELECT system_identifier::text, current_database() FROM pg_control_system()",
                              0, NULL, qe, sizeof qe);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        snprintf(buf, len, "system_identifier=%s database=%s", PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
        rc = 0;
    }
    int dead = !r;
    PQclear(r);
    source_pg_sql_close(c, dead);
    if (rc == 0) return 0;
    if (dead) {
        snprintf(err, errlen, "source %s: reading the system identifier: %s", in->cfg->name, qe);
        return -1;
    }
    /* pg_control_system() may not be granted to the replication user (or not
     * exist, as on some managed services); IDENTIFY_SYSTEM, which every
     * replication connection may run, says the same system identifier. */
    char ci[8192], e[1024];
    if (source_pg_conninfo(in, ci, sizeof ci, err, errlen) != 0) return -1;
    struct pgstream *st = pgstream_connect(ci, e, sizeof e);
    memset(ci, 0, sizeof ci);
    struct pgstream_sysinfo si;
    if (!st || pgstream_identify(st, &si) != 0) {
        snprintf(err, errlen, "source %s: reading the system identifier (IDENTIFY_SYSTEM): %s",
                 in->cfg->name, st ? pgstream_error(st) : e);
        pgstream_close(st);
        return -1;
    }
    snprintf(buf, len, "system_identifier=%s database=%s", si.systemid, in->cfg->source.database);
    pgstream_close(st);
    return 0;
}

static int pg_count_rows(struct integ *in, const char *schema, const char *table, int timeout_ms,
                         int64_t *n, char *err, size_t errlen)
{
    /* Bounded: the count by statement_timeout on the server, the link by a
     * silence a little longer than that (pg/pgwait.h). */
    struct pgwait w = source_pg_wait(&in->cut.fired, NULL);
    w.silence_ms = timeout_ms + PGWAIT_SILENCE_MS;
    PGconn *c = source_pg_sql_connect(in, &w, err, errlen);
    if (!c) return -1;
    int rc = -1, dead = 0;
    char set[64], qe[512];
    char *qs = PQescapeIdentifier(c, schema, strlen(schema));
    char *qt = PQescapeIdentifier(c, table, strlen(table));
    char *sql = NULL;
    PGresult *r = NULL;
    if (!qs || !qt || !(sql = malloc(strlen(qs) + strlen(qt) + 40))) {
        snprintf(err, errlen, "source %s: counting %s.%s: out of memory", in->cfg->name, schema, table);
        goto out;
    }
    sprintf(sql, "SELECT count(*) FROM %s.%s", qs, qt);
    snprintf(set, sizeof set, "SET statement_timeout = %d", timeout_ms);
    PQclear(pgwait_exec(c, &w, set, 0, NULL, qe, sizeof qe));
    r = pgwait_exec(c, &w, sql, 0, NULL, qe, sizeof qe);
    dead = !r;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        *n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        rc = 0;
    } else {
        char m[512];
        snprintf(m, sizeof m, "%s", r ? PQresultErrorMessage(r) : qe);
        size_t k = strlen(m);
        while (k && (m[k - 1] == '\n' || m[k - 1] == ' ')) m[--k] = '\0';
        snprintf(err, errlen, "source %s: counting %s.%s: %s", in->cfg->name, schema, table, m);
    }
out:
    PQclear(r);
    free(sql);
    PQfreemem(qs);
    PQfreemem(qt);
    source_pg_sql_close(c, dead);
    return rc;
}

const struct source_ops source_pg_ops = {
    .kind = SOURCE_POSTGRES,
    .name = "postgres",
    .label = "PostgreSQL",
    .default_port = 5432,
    .multi_db = 0,
    .keeps_slot = 1,
    .counts_excluded = 1,
    .dialect = {.connector = "postgresql", .db_in_events = 1, .pg_types = 1, .char_padded = 1},
    .load_tables = pg_load_tables,
    .snapshot = pg_snapshot,
    .snapshot_table = pg_snapshot_table,
    .export_begin = pg_export_begin,
    .export_end = pg_export_end,
    .copy_table = pg_copy_table,
    .chunk_begin = pg_chunk_begin,
    .chunk_read = pg_chunk_read,
    .chunk_bound = pg_chunk_bound,
    .chunk_end = pg_chunk_end,
    .start_at = pg_start_at,
    .stream = source_pg_stream,
    .column_backfilled = pg_column_backfilled,
    .retained_bytes = pg_retained_bytes,
    .drop = pg_drop,
    .identity = pg_identity,
    .holds_gtid = NULL,         /* an LSN is the server's own: no failover check */
    .count_rows = pg_count_rows,
    .preflight = pg_preflight,
    .setup_test = pg_setup_test,
    .setup_list_tables = pg_setup_list_tables,
};
