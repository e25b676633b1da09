/*
 * source.h — what the runtime asks of a source, whatever its kind.
 *
 *   source_load_tables   the selected tables and their definitions (catalog)
 *   source_snapshot      the initial copy, rows through sink->row (ZOP_INSERT),
 *                        and the position where the stream continues with no
 *                        gap and no duplicate
 *   source_stream        the change stream from in->resume into a sink, until
 *                        in->stop_reader (the reader thread's body)
 *   source_drop          delete: drop what zetl made on the source (the
 *                        PostgreSQL slot and publication); target data stays.
 *                        What cannot be dropped is left and named in the note
 *
 * Each kind is a driver (source_ops.h): MySQL/MariaDB over runtime/mysql
 * (schema, snapshot, replica), PostgreSQL over runtime/pg (catalog, pgcopy
 * in the slot's exported snapshot, stream). source_driver() picks one for a
 * config's kind; an integration holds its own in in->src, set with in->cfg,
 * and these entry points go through it. Callers never ask the kind.
 * Thread: the caller's (supervisor, or the reader for source_stream);
 * source_driver and source_driver_at any thread (constant tables).
 */
#ifndef ZETL_SOURCE_H
#define ZETL_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "runtime/pipe/change.h"

struct integ;
struct source_ops;

/* The driver for a config's source kind, NULL when there is none. */
const struct source_ops *source_driver(enum source_kind kind);
/* The i-th driver (0 up), NULL past the last: for lists to choose from. */
const struct source_ops *source_driver_at(int i);

/* source_stream's result when the source log no longer has in->resume. */
#define SOURCE_POSITION_LOST (-2)

int  source_load_tables(struct integ *in, struct ztable ***defs, int *n, char *err, size_t errlen);
void source_free_tables(struct ztable **defs, int n);
int  source_snapshot(struct integ *in, const struct zsink *sink, struct zpos *pos,
                     char *err, size_t errlen);
/* One table again, in its own consistent read (resync). *pos: the exact
 * position the copy reflects, or kind ZPOS_NONE when the source cannot say
 * exactly (then the stream replays the table's changes by key). */
struct itable;
int  source_snapshot_table(struct integ *in, struct itable *t, const struct zsink *sink,
                           struct zpos *pos, char *err, size_t errlen);
/*
 * A table in chunks by key (runtime/integ/resync.c), each chunk in a
 * consistent read of its own on the handle's connection, rows to sink:
 * source_chunk_read reads the rows q asks for (runtime/pipe/zkey.h); *pos the
 * read's exact position (ZPOS_NONE when the source cannot say exactly),
 * *rows the rows read, *last the last one's key. source_chunk_bound: where a
 * chunk of n rows after *after would end, as the table stands now — 1 with
 * *bound, 0 when fewer rows follow, -1 error. shared: other handles read
 * chunks of the same table at once, so every read takes a snapshot of its
 * own after it is asked for (none taken ahead). source_can_chunk: 1 when
 * the source can.
 * Thread: the caller's (a resync worker); the handle is that thread's.
 */
struct zkey;
struct zchunk_req;
int  source_can_chunk(const struct integ *in);
int  source_chunk_begin(struct integ *in, const struct zsink *sink, int shared, void **handle,
                        char *err, size_t errlen);
int  source_chunk_read(struct integ *in, void *handle, const struct ztable *t, const struct zchunk_req *q,
                       struct zpos *pos, uint64_t *rows, struct zkey *last, char *err, size_t errlen);
int  source_chunk_bound(struct integ *in, void *handle, const struct ztable *t, const struct zkey *after,
                        uint32_t n, struct zkey *bound, char *err, size_t errlen);
void source_chunk_end(struct integ *in, void *handle);
/*
 * Where a stream starts whose tables are copied afterwards, chunk by chunk,
 * while it runs (runtime/integ/copy.c, the initial copy in chunks): the
 * source's position now, exact (MariaDB: a consistent read's binlog
 * position; PostgreSQL: the publication and a fresh slot, whose consistent
 * point it is). 0 with *pos; 1 when this source cannot give an exact one
 * (the initial copy is then one consistent read); -1 with err.
 */
int  source_start_at(struct integ *in, struct zpos *pos, char *err, size_t errlen);
/*
 * The initial copy in pieces, for parallel workers, where the source can
 * export one snapshot to other connections (source_can_export 1: PostgreSQL):
 * the export (PostgreSQL: publication, fresh slot, exported snapshot; keep
 * *handle until every table is copied, *pos is where the stream continues),
 * then any number of tables on their own connections.
 */
int  source_can_export(const struct integ *in);
int  source_export_begin(struct integ *in, char *snap, size_t snaplen, struct zpos *pos,
                         void **handle, char *err, size_t errlen);
void source_export_end(struct integ *in, void *handle);
int  source_copy_table(struct integ *in, const char *snap, const struct ztable *t,
                       const struct zsink *sink, char *err, size_t errlen);
int  source_stream(struct integ *in, const struct zsink *sink, char *err, size_t errlen);
/*
 * After ADD COLUMN: do the table's existing rows hold a value for the new
 * column (a default other than NULL, or NOT NULL with an implicit one)? The
 * source fills those in without any row change in its log, so the target
 * can only learn them by copying the table again. 1 yes, 0 no, -1 error.
 */
int  source_column_backfilled(struct integ *in, const char *schema, const char *table,
                              const char *column, char *err, size_t errlen);
/*
 * Source log bytes zetl keeps from being recycled: for PostgreSQL the WAL
 * the slot retains (current WAL position minus the slot's restart_lsn) —
 * the cost of a paused integration. 0 ok with *bytes; -1 with err; 1 when
 * the source kind has no such figure (MySQL keeps binlogs by retention).
 */
int  source_retained_bytes(struct integ *in, int64_t *bytes, char *err, size_t errlen);
/* Delete: drop what can be dropped. 0 nothing is left (note says what was
 * dropped, "" when zetl made nothing there: MySQL); 1 something is left on
 * the source: note names it, why, and the exact statement to run
 * (identifiers quoted). Never -1: a delete always ends, and the note is how
 * the operator finishes it. */
int  source_drop(struct integ *in, char *note, size_t len);

/*
 * What the source is, for the checkpoint's owner check (runtime/integ/ident.c):
 * one line naming the server (and, for PostgreSQL, the database), never a
 * secret:
 *   postgres  "system_identifier=7301… database=shop" (pg_control_system(),
 *             or IDENTIFY_SYSTEM where the function is not granted)
 *   MySQL     "MySQL server_uuid=3e11…"
 *   MariaDB   "MariaDB server_id=1 hostname=db1:3306 gtid_domain_id=0"
 * 0, or -1 with err.
 */
int  source_identity(struct integ *in, char *buf, size_t len, char *err, size_t errlen);
/*
 * MySQL/MariaDB: does the server hold every transaction of the GTID state
 * gtid (a checkpoint's), as a server does after a failover from the one that
 * wrote it? MySQL: GTID_SUBSET(gtid, @@gtid_executed). MariaDB: every
 * domain-server-seq of gtid has its domain and origin server_id in
 * @@gtid_binlog_state at that sequence number or later. 1 yes, 0 no, -1 err.
 */
int  source_holds_gtid(struct integ *in, const char *gtid, char *err, size_t errlen);
/*
 * SELECT count(*) of one source table, cut off after timeout_ms (server-side
 * statement timeout). 0 with *n; -1 with err (a timeout included).
 */
int  source_count_rows(struct integ *in, const char *schema, const char *table, int timeout_ms,
                       int64_t *n, char *err, size_t errlen);

#endif
