/*
 * pgcopy.h — copy PostgreSQL tables inside an exported snapshot.
 *
 * The slot is created with EXPORT_SNAPSHOT; a regular connection then opens
 * a REPEATABLE READ transaction, adopts that snapshot, and copies each table
 * with COPY (SELECT cols FROM t) TO STDOUT. The copy therefore shows exactly
 * the data as of the slot's consistent point, and the stream starts right
 * after it: no gap, no duplicate.
 *
 * Rows go out one at a time through sink->row as ZOP_INSERT with values in
 * the same forms the pgoutput decoder produces (ZV_INT for int2/int4/int8,
 * ZV_BYTES for bytea, ZV_NULL, ZV_TEXT in PostgreSQL's output syntax for
 * everything else), so copy and stream agree.
 * Memory: one row at a time (libpq hands COPY data row by row).
 *
 * Thread: the caller's; the PGconn belongs to it.
 */
#ifndef ZETL_PG_PGCOPY_H
#define ZETL_PG_PGCOPY_H

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/pipe/change.h"
#include "runtime/pg/pgwait.h"

/*
 * Every wait on the server is bounded by w (pgwait.h; NULL: unbounded): its
 * stop flag, and its silence deadline with a probe of our backend before a
 * silent server is given up on. A copy that failed that way leaves c dead:
 * close it with pgwait_abandon.
 */

/* BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT. */
int pgcopy_begin(PGconn *c, const struct pgwait *w, const char *snapshot, char *err, size_t errlen);

/*
 * Copy table t (its columns, in order) through sink->row. progress(ctx, rows)
 * is called every 10,000 rows. Returns 0, -1 with err, or the sink's value.
 * *w->stop is checked between rows too.
 */
int pgcopy_table(PGconn *c, const struct ztable *t, const struct zsink *sink,
                 void (*progress)(void *ctx, int64_t rows), void *ctx,
                 const struct pgwait *w, int64_t *rows_out, char *err, size_t errlen);

/* COPY text-format field unescaping, in place; returns the new length. Exposed for tests. */
size_t pgcopy_unescape(char *s, size_t len);

#endif
