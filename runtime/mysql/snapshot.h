/*
 * snapshot.h — a consistent copy of MySQL/MariaDB tables with a known binlog
 * position, without FLUSH TABLES WITH READ LOCK (not allowed on RDS/Aurora).
 *
 *     mysql_snapshot_begin → mysql_snapshot_position → mysql_snapshot_copy* → mysql_snapshot_end
 *     mysql_snapshot_table = all four for one table (resync)
 *
 * The position, and why streaming from it converges (struct zpos, mode):
 *
 *   MYSQL_SNAPSHOT_EXACT (MariaDB). START TRANSACTION WITH CONSISTENT
 *     SNAPSHOT makes MariaDB record, under its commit-order lock, the binlog
 *     position the read view corresponds to: SHOW STATUS LIKE
 *     'binlog_snapshot_%' (file, position); BINLOG_GTID_POS(file, position)
 *     gives the GTID state at that point. The copy holds exactly the
 *     transactions before the position and none after: streaming from it has
 *     no gap and no duplicate.
 *
 *   MYSQL_SNAPSHOT_REPLAY (MySQL 5.7/8.x, which has no binlog_snapshot_*).
 *     The binlog position (SHOW BINARY LOG STATUS, or SHOW MASTER STATUS
 *     before 8.2, with Executed_Gtid_Set) is read BEFORE the consistent read
 *     starts, so the copy reflects a point at or after the position. The
 *     stream from it may replay changes the copy already holds. This is the
 *     spool-and-replay handoff of DESIGN "Resync without locks": row events
 *     carry full images (binlog_row_image=FULL), and the target applies them
 *     as upserts and deletes by primary key (full row for keyless tables).
 *     Each key's final state is its last image in the stream, whatever the
 *     copy held, so once the stream passes the point the copy was taken at,
 *     the target equals the source. Until then the target may briefly show
 *     older images of rows the copy already had newer ones of.
 *     Residual window: MySQL writes a transaction to the binlog just before
 *     its engine commit; one caught between the two when the position is
 *     read is not in the copy but is before the position. Group commit keeps
 *     that window to microseconds; `zetl verify` catches the rare miss.
 *
 * The copy: one REPEATABLE READ, READ ONLY transaction on a connection of
 * its own (mysql_conn_open: password_command, TLS, timeouts), session
 * time_zone '+00:00' (TIMESTAMP values are UTC), charset utf8mb4 (the server
 * converts latin1 etc., so text arrives as UTF-8). Only transactional tables
 * (InnoDB) are covered by the consistent read; MyISAM/Aria are read as they are.
 *
 * Locks: no table lock, but each table read takes a shared metadata lock
 * that the transaction holds until mysql_snapshot_end. DDL on a table
 * already copied waits until then (and new queries on it queue behind that
 * DDL), so copy many large tables of a server with frequent DDL one at a
 * time with mysql_snapshot_table (each handed off through the spool), or end
 * the snapshot promptly. A table dropped before its read is reported as
 * MYSQL_SNAPSHOT_NO_TABLE and the snapshot goes on.
 *
 * Rows are read with prepared statements (the binary protocol: FLOAT and
 * DOUBLE arrive as their exact bits, temporal values as fields, not text to
 * re-parse) and converted to the SAME zvalues the binlog decoder produces
 * (rows.h "Value mapping"): integers ZV_INT / ZV_UINT (YEAR ZV_INT, 0 for
 * 0000), FLOAT/DOUBLE ZV_FLOAT, DECIMAL exact text, BIT "0101", DATE
 * "2024-02-29", TIME "-838:59:59.000000", DATETIME(3) "2024-02-29
 * 10:00:00.500" and TIMESTAMP(6) "2024-02-29 10:00:00.500000+00" (exactly the
 * column's fsp digits; UTC), zero and partial-zero dates → ZV_NULL (the warn
 * callback is told once per column), ENUM/SET/JSON and other strings ZV_TEXT,
 * binary strings and BLOBs ZV_BYTES (NUL bytes kept; BINARY(n) padded as
 * stored), GEOMETRY ZV_BYTES WKB (the 4-byte SRID prefix stripped, as the
 * decoder does; equal to ST_AsBinary). tests/integration/test_mysql_snapshot.sh
 * checks this value for value against the decoder on the same rows.
 * Known difference: MariaDB INET6/UUID/INET4 (ZT_OTHER) arrive here as their
 * text form, while the binlog carries their binary storage.
 *
 * Order and memory: a table with a primary key of orderable types (integers,
 * DECIMAL, temporals, strings, binary strings) is read in key-order chunks
 * of chunk_rows by keyset pagination:
 *     WHERE `k1` >= ? AND (`k1`, `k2`) > (?, ?) ORDER BY `k1`, `k2` LIMIT n
 * (the leading `k1` >= ? lets every server use the key as a range), with the
 * last key bound as parameters, inside the one transaction. Other tables
 * (no key, or a key over FLOAT/ENUM/SET/BIT…, whose SQL order and comparison
 * disagree) are read in one pass, streamed row by row (never buffered).
 * Memory is the largest row, not the table.
 *
 * Rows go to opts.row as a ZOP_INSERT zrowchange (the zsink row signature,
 * so a pipeline can pass its sink's row and ctx); values are borrowed for
 * the call. Progress goes to opts.progress after each chunk (every
 * chunk_rows in one pass) with the estimate from information_schema
 * .tables.table_rows; the last call of a table reports estimated == copied.
 *
 * Stop: *opts.stop is checked after every row batch of at most 1024 rows
 * and between chunks, so a stop is answered within a second. A stop (or a
 * row callback's non-zero return) abandons the read: the connection is
 * cancelled rather than drained, and the snapshot can only be ended.
 *
 * On a frozen link a read blocks until timeout_s: the stopper fires
 * opts.cut (linkcut.h), where the connection is registered, and the read
 * ends at once (MYSQL_SNAPSHOT_STOPPED when *stop is set, else -1).
 *
 * Thread: a snapshot belongs to one thread; *stop may be set from any.
 */
#ifndef ZETL_MYSQL_SNAPSHOT_H
#define ZETL_MYSQL_SNAPSHOT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <mysql.h>

#include "config/config.h"
#include "runtime/pipe/change.h"
#include "runtime/pipe/zkey.h"
#include "runtime/base/linkcut.h"

enum mysql_snapshot_mode {
    MYSQL_SNAPSHOT_EXACT = 1,   /* MariaDB: the copy is exactly the state at the position */
    MYSQL_SNAPSHOT_REPLAY = 2   /* MySQL: position taken before the read; replay converges */
};

#define MYSQL_SNAPSHOT_STOPPED  (-2)    /* *stop was raised */
#define MYSQL_SNAPSHOT_NO_TABLE (-3)    /* the table no longer exists (dropped at the source) */

struct mysql_snapshot_opts {
    int  (*row)(void *ctx, const struct zrowchange *rc);   /* required; non-zero stops */
    void (*progress)(void *ctx, const struct ztable *t, uint64_t copied, uint64_t estimated);
    void (*warn)(void *ctx, const char *msg);              /* lossy values (zero dates); optional */
    void *ctx;
    const atomic_int *stop;     /* optional: non-zero = stop soon */
    uint32_t chunk_rows;        /* keyset chunk size; default 10000 */
    int      timeout_s;         /* connect and read timeout; default 60 */
    struct linkcut *cut;        /* optional: the connection is registered here */
    int      no_gtid;           /* MariaDB: the position without its GTID state. Only a
                                   checkpoint needs that, and BINLOG_GTID_POS finds it by
                                   reading the binlog file from its start up to the
                                   position: up to max_binlog_size per call (a chunk's or
                                   a table's own read never becomes a checkpoint) */
};

struct mysql_snapshot;

/*
 * Connect, set up the session, start the consistent read and learn its
 * position. 0 ok; -1 with err (e.g. binary logging off, with the fix).
 * opts is copied.
 */
int  mysql_snapshot_begin(struct mysql_snapshot **out, const struct config_integration *in,
                          const struct mysql_snapshot_opts *opts, char *err, size_t errlen);

/* The binlog position the copy is consistent with, and what it means. */
void mysql_snapshot_position(const struct mysql_snapshot *s, struct zpos *pos,
                             enum mysql_snapshot_mode *mode);

/* The snapshot's connection, inside its transaction (e.g. for mysql_schema_load). */
MYSQL *mysql_snapshot_conn(struct mysql_snapshot *s);

/*
 * Copy one table (columns as in t, e.g. from mysql_schema_load) within the
 * snapshot. *rows (optional) gets the rows copied. 0 ok; -1 with err;
 * MYSQL_SNAPSHOT_STOPPED; MYSQL_SNAPSHOT_NO_TABLE; or the row callback's
 * non-zero value. After anything but 0 or NO_TABLE, only _end is allowed.
 */
int  mysql_snapshot_copy(struct mysql_snapshot *s, const struct ztable *t, uint64_t *rows,
                         char *err, size_t errlen);

/*
 * A fresh consistent read on the same connection: commit the current one,
 * start another, learn its position (mysql_snapshot_position). A chunked
 * copy (runtime/integ/resync.c) reads each chunk in a read of its own, so no
 * transaction of zetl's stays open longer than one chunk. 0, or -1 with err.
 */
int  mysql_snapshot_renew(struct mysql_snapshot *s, char *err, size_t errlen);
/* End the snapshot's read (COMMIT) until the next renew: no read view of
 * zetl's stays open while a chunked copy waits between chunks. 0, or -1. */
int  mysql_snapshot_release(struct mysql_snapshot *s, char *err, size_t errlen);

/*
 * One chunk of t within the snapshot: at most limit rows whose key is after
 * *after (NULL or n 0: from the first), in key order, to opts.row — or, with
 * upto, every row up to and including *upto (a range fixed in advance; limit
 * unused). t's key must be integers (zkey_columns). *rows gets the rows read
 * and, when any, *last the last one's key: fewer than limit rows means the
 * table ends there. Returns as mysql_snapshot_copy.
 */
int  mysql_snapshot_chunk(struct mysql_snapshot *s, const struct ztable *t, const struct zkey *after,
                          const struct zkey *upto, uint32_t limit, uint64_t *rows, struct zkey *last,
                          char *err, size_t errlen);

/*
 * Where a chunk of n rows after *after (NULL: from the first) ends, in the
 * snapshot's view: the n-th key after it (SELECT the key … LIMIT 1 OFFSET
 * n-1). 1 with *bound, 0 when fewer than n rows follow, -1 with err.
 */
int  mysql_snapshot_chunk_bound(struct mysql_snapshot *s, const struct ztable *t, const struct zkey *after,
                                uint32_t n, struct zkey *bound, char *err, size_t errlen);

/*
 * The server's estimate of t's rows: information_schema.TABLES.TABLE_ROWS
 * (InnoDB's statistics, not a count), on the snapshot's connection; 0 when
 * it gives none or the query fails. mysql_snapshot_copy passes it to
 * opts.progress; a chunked copy asks once, as it starts.
 */
uint64_t mysql_snapshot_estimate(struct mysql_snapshot *s, const struct ztable *t);

/* Commit the read-only transaction and close the connection. NULL is fine. */
void mysql_snapshot_end(struct mysql_snapshot *s);

/* Resync: one table in a consistent read of its own; pos/mode as above. */
int  mysql_snapshot_table(const struct config_integration *in, const struct ztable *t,
                          const struct mysql_snapshot_opts *opts, struct zpos *pos,
                          enum mysql_snapshot_mode *mode, uint64_t *rows,
                          char *err, size_t errlen);

#endif
