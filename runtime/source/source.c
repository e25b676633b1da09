/*
 * source.c — the source registry (source_ops.h): source_driver() picks the
 * driver for a config's kind; the source_* entry points (source.h) call
 * through the integration's driver (in->src), with the answer source_ops.h
 * documents where a driver has no such method.
 */
#include "runtime/source/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/integ/integ.h"
#include "runtime/source/source_ops.h"

/* ---- the registry --------------------------------------------------------------------- */

static const struct source_ops *const drivers[] = {&source_mysql_ops, &source_pg_ops};

#define NDRIVERS ((int)(sizeof drivers / sizeof *drivers))

const struct source_ops *source_driver(enum source_kind kind)
{
    for (int i = 0; i < NDRIVERS; i++)
        if (drivers[i]->kind == kind) return drivers[i];
    return NULL;
}

const struct source_ops *source_driver_at(int i)
{
    return i >= 0 && i < NDRIVERS ? drivers[i] : NULL;
}

/* ---- the runtime's entry points --------------------------------------------------------- */

void source_free_tables(struct ztable **defs, int n)
{
    for (int i = 0; i < n; i++) ztable_free(defs[i]);
    free(defs);
}

int source_load_tables(struct integ *in, struct ztable ***defs, int *n, char *err, size_t errlen)
{
    *defs = NULL;
    *n = 0;
    return in->src->load_tables(in, defs, n, err, errlen);
}

int source_snapshot(struct integ *in, const struct zsink *sink, struct zpos *pos,
                    char *err, size_t errlen)
{
    return in->src->snapshot(in, sink, pos, err, errlen);
}

int source_snapshot_table(struct integ *in, struct itable *t, const struct zsink *sink,
                          struct zpos *pos, char *err, size_t errlen)
{
    return in->src->snapshot_table(in, t, sink, pos, err, errlen);
}

int source_can_chunk(const struct integ *in)
{
    return in->src->chunk_read != NULL;
}

int source_chunk_begin(struct integ *in, const struct zsink *sink, int shared, void **handle,
                       char *err, size_t errlen)
{
    *handle = NULL;
    return in->src->chunk_begin(in, sink, shared, handle, err, errlen);
}

int source_chunk_read(struct integ *in, void *handle, const struct ztable *t, const struct zchunk_req *q,
                      struct zpos *pos, uint64_t *rows, struct zkey *last, char *err, size_t errlen)
{
    return in->src->chunk_read(handle, t, q, pos, rows, last, err, errlen);
}

int source_chunk_bound(struct integ *in, void *handle, const struct ztable *t, const struct zkey *after,
                       uint32_t n, struct zkey *bound, char *err, size_t errlen)
{
    return in->src->chunk_bound(handle, t, after, n, bound, err, errlen);
}

void source_chunk_end(struct integ *in, void *handle)
{
    if (handle) in->src->chunk_end(handle);
}

int source_start_at(struct integ *in, struct zpos *pos, char *err, size_t errlen)
{
    memset(pos, 0, sizeof *pos);
    return in->src->start_at ? in->src->start_at(in, pos, err, errlen) : 1;
}

int source_can_export(const struct integ *in)
{
    return in->src->export_begin != NULL;
}

int source_export_begin(struct integ *in, char *snap, size_t snaplen, struct zpos *pos,
                        void **handle, char *err, size_t errlen)
{
    *handle = NULL;
    if (in->src->export_begin) return in->src->export_begin(in, snap, snaplen, pos, handle, err, errlen);
    snprintf(err, errlen, "source %s: a %s source exports no snapshot for parallel copies",
             in->cfg->name, in->src->label);
    return -1;
}

void source_export_end(struct integ *in, void *handle)
{
    if (in->src->export_end) in->src->export_end(handle);
}

int source_copy_table(struct integ *in, const char *snap, const struct ztable *t,
                      const struct zsink *sink, char *err, size_t errlen)
{
    if (in->src->copy_table) return in->src->copy_table(in, snap, t, sink, err, errlen);
    snprintf(err, errlen, "source %s: a %s source exports no snapshot for parallel copies",
             in->cfg->name, in->src->label);
    return -1;
}

int source_stream(struct integ *in, const struct zsink *sink, char *err, size_t errlen)
{
    return in->src->stream(in, sink, err, errlen);
}

int source_column_backfilled(struct integ *in, const char *schema, const char *table,
                             const char *column, char *err, size_t errlen)
{
    return in->src->column_backfilled(in, schema, table, column, err, errlen);
}

int source_retained_bytes(struct integ *in, int64_t *bytes, char *err, size_t errlen)
{
    *bytes = -1;
    return in->src->retained_bytes ? in->src->retained_bytes(in, bytes, err, errlen) : 1;
}

int source_drop(struct integ *in, char *note, size_t len)
{
    if (in->src->drop) return in->src->drop(in, note, len);
    if (len) note[0] = '\0';
    return 0;
}

int source_identity(struct integ *in, char *buf, size_t len, char *err, size_t errlen)
{
    buf[0] = '\0';
    return in->src->identity(in, buf, len, err, errlen);
}

int source_holds_gtid(struct integ *in, const char *gtid, char *err, size_t errlen)
{
    return in->src->holds_gtid ? in->src->holds_gtid(in, gtid, err, errlen) : 0;
}

int source_count_rows(struct integ *in, const char *schema, const char *table, int timeout_ms,
                      int64_t *n, char *err, size_t errlen)
{
    *n = -1;
    return in->src->count_rows(in, schema, table, timeout_ms, n, err, errlen);
}
