/*
 * pgcopy.h — copy PostgreSQL tables inside an exported snapshot.
 *
 * The slot is created with EXPORT_SNAPSHOT; a regular connection then opens
 * a REPEATABLE READ transaction, adopts that snapshot, and copies each table
 * with COPY (SELECT cols FROM t) TO STDOUT. The copy therefore shows exactly
 * the data as of the slot's consistent point, and the stream starts right
 * after it: no gap, no duplicate.
 *
 * A chunked resync reads a table in key ranges the same way (pgcopy_chunk).
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

/*
 * One chunk of t in key order (a chunked resync, runtime/integ/resync.c),
 * inside the transaction pgcopy_begin opened: the rows whose key is after
 * *after (NULL or n 0: from the first), at most limit of them, through sink
 * as pgcopy_table sends them (raw COPY data where the sink takes it). t's
 * key must be integers (zkey_columns).
 * One COPY takes the first limit rows after *after in key order (ORDER BY
 * the key, LIMIT), so *rows is limit unless the table ends in this chunk;
 * *last is the key of the last row sent, read from the COPY data itself
 * (text or binary) even when the rows go raw — no second read of the keys.
 * *rows 0: no row after *after (*last untouched). upto (NULL: none) bounds
 * the chunk from above too, inclusive: a range fixed in advance, read whole
 * however many rows it holds by now (limit unused). Values are parameters;
 * COPY takes none, so the bound and the limit reach its query as settings
 * of the transaction (set_config(…, true), read back with current_setting).
 * Returns as pgcopy_table; an error names the table.
 */
struct zkey;
int pgcopy_chunk(PGconn *c, const struct ztable *t, const struct zkey *after, const struct zkey *upto,
                 uint32_t limit, const struct zsink *sink, const struct pgwait *w, uint64_t *rows,
                 struct zkey *last, char *err, size_t errlen);

/*
 * Where the next chunk of n rows after *after (NULL: from the first) ends:
 * the n-th key after it, in key order, as the table stands now (parallel
 * readers then read fixed ranges, pgcopy_chunk's upto). 1 with *bound; 0
 * when fewer than n rows follow (the rest is the last chunk); -1 with err.
 */
int pgcopy_chunk_bound(PGconn *c, const struct pgwait *w, const struct ztable *t, const struct zkey *after,
                       uint32_t n, struct zkey *bound, char *err, size_t errlen);

/*
 * The key of one tuple as COPY sends it (pgcopy_chunk's last row): text
 * (fields split by tabs, ending in a newline) or binary (an int16 field
 * count, then each field as an int32 length and big-endian bytes; the file
 * header before the first tuple is skipped). cols, nk: t's key columns
 * (zkey_columns), integers. 1 with *key; 0 when the message is no tuple
 * (the binary trailer); -1 when it does not have the shape t gives it or a
 * key value is NULL or not an integer.
 */
int pgcopy_tuple_key(const struct ztable *t, const int *cols, int nk, int binary, const char *row, size_t n,
                     struct zkey *key);

/*
 * The server's estimate of t's rows, pg_class.reltuples (the statistics
 * VACUUM and ANALYZE keep, not a count), read in the transaction open on c;
 * 0 when it has none (-1 on PostgreSQL 14 and later before the table's first
 * VACUUM or ANALYZE) or the query fails. pgcopy_table tells it to
 * sink->estimate, where set, before the rows; a chunked copy asks once.
 */
int64_t pgcopy_estimate(PGconn *c, const struct pgwait *w, const struct ztable *t);

/* COPY text-format field unescaping, in place; returns the new length. Exposed for tests. */
size_t pgcopy_unescape(char *s, size_t len);

#endif
