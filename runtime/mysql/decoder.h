/*
 * decoder.h — a stateful MySQL/MariaDB binlog decoder that drives a zsink.
 *
 * Feed it events (whole events, a byte stream cut anywhere, or a binlog file
 * from disk) and it calls the sink in commit order:
 *
 *     begin(txn)  row(change)*  schema(change)*  commit(txn)   …   heartbeat(pos)
 *
 * What it keeps between events:
 *   - the FORMAT_DESCRIPTION (post-header lengths, checksum algorithm);
 *   - a table-map cache keyed by table_id (a TABLE_MAP identical to the cached
 *     one is not re-parsed);
 *   - the transaction in progress: opened by a MariaDB GTID (not standalone),
 *     a BEGIN query, or a DDL query; closed by XID, a COMMIT/ROLLBACK query or
 *     the end of the DDL statement;
 *   - the position: the current file (from ROTATE, or the file name given)
 *     and, per commit, txn.end = file + the commit event's log_pos (for a
 *     MySQL 8 compressed transaction, the TRANSACTION_PAYLOAD's log_pos);
 *   - the GTID state: MariaDB "domain-server-seq,…" (one per domain, seeded
 *     from GTID_LIST when none was given) or MySQL "uuid:1-42:50,…".
 *
 * Commit time: MySQL 8's GTID immediate_commit_timestamp (µs) when present,
 * else the commit event's header timestamp (seconds → µs).
 *
 * Heartbeats (an idle dump stream) outside a transaction call
 * sink.heartbeat with the heartbeat's file:position, the current GTID state
 * and the event's time (the local clock when the server sends 0).
 *
 * DDL: a QUERY event that creates, alters, renames, drops or truncates a
 * table becomes a zschema_change (ZDDL_CREATE_TABLE / DROP / RENAME / ALTER;
 * CREATE/DROP INDEX are ALTER; DROP DATABASE is ZDDL_UNSUPPORTED with a
 * reason), one per table the statement names, in a transaction of its own
 * (or inside the open one), with `statement` set. old_def is the cached
 * definition when the table was seen in this stream, else NULL; new_def
 * (CREATE, ALTER, and RENAME's new name) comes from the table_def hook, NULL
 * without one — sinks must accept NULL definitions. TRUNCATE is a
 * ZOP_TRUNCATE row change; its table has ncols 0 (schema and name only) when
 * no TABLE_MAP for it is cached. The table_def hook is also asked for a
 * table whose TABLE_MAP carries no column names (binlog_row_metadata is not
 * FULL); its answer fills in names, signedness, BLOB-vs-TEXT and ENUM/SET
 * labels. ALTER TABLE … RENAME is reported as an ALTER of the old name.
 *
 * Errors: every function returns 0, -1 with mysql_decoder_error() set —
 *     binlog: event at mysql-bin.000042:1234 truncated (need 19 bytes, have 7)
 * — or the non-zero value a sink callback returned (the decoder stops).
 * After an error the decoder must not be fed again.
 *
 * Memory: bounded by the largest event (plus a compressed transaction's
 * largest inner event) and the table-map cache; a million-row transaction
 * streams through row by row. Values handed to the sink are borrowed: they
 * live until the callback returns.
 *
 * Thread: a decoder belongs to one thread (the integration's reader).
 */
#ifndef ZETL_MYSQL_DECODER_H
#define ZETL_MYSQL_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/pipe/change.h"

struct mysql_decoder;

struct mysql_decoder_opts {
    const struct zsink *sink;       /* required; copied */
    const char *file;               /* binlog file the input starts in; NULL = until a ROTATE */
    uint64_t offset;                /* offset of the first event fed (4 at a file start) */
    const char *gtid;               /* GTID state to continue from, or NULL */
    void *ctx;                      /* for the three hooks below */
    /* Something lossy happened (zero date → NULL, unknown ENUM labels, …). Optional. */
    void (*warn)(void *ctx, const char *msg);
    /* 0 = skip the rows of this table (not replicated). Asked once per table map. Optional. */
    int (*want_table)(void *ctx, const char *schema, const char *table);
    /* The table's current definition (information_schema), or 1 when unknown;
     * on 0 the decoder owns *out (ztable_free). Negative stops the decoder. Optional. */
    int (*table_def)(void *ctx, const char *schema, const char *table, struct ztable **out);
};

struct mysql_decoder_stats {
    uint64_t events;            /* events decoded (inner events of compressed transactions too) */
    uint64_t bytes;             /* event bytes consumed */
    uint64_t txns;              /* commits sent to the sink */
    uint64_t rows;              /* row changes sent to the sink */
    uint64_t skipped_events;    /* rows events not decoded: want_table said no, or the table
                                   has a column type zetl cannot decode (reported once) */
    uint64_t skipped_ddl;       /* DDL statements naming no wanted table: no table work done */
};

/* NULL when out of memory. */
struct mysql_decoder *mysql_decoder_new(const struct mysql_decoder_opts *o);
void mysql_decoder_free(struct mysql_decoder *d);

/* One whole event (header … checksum). */
int mysql_decoder_event(struct mysql_decoder *d, const uint8_t *ev, size_t len);

/* A byte stream cut anywhere (e.g. a binlog file read in chunks, magic
 * included or not). Partial events are buffered until complete. */
int mysql_decoder_feed(struct mysql_decoder *d, const uint8_t *p, size_t len);
/* End of a fed stream: error if an event was left incomplete. */
int mysql_decoder_finish(struct mysql_decoder *d);

/* Decode a binlog file from disk (starts with \xfe"bin"); the file name in
 * positions is the path's basename. Streams: memory is bounded by the
 * largest event, not the file. */
int mysql_decoder_file(struct mysql_decoder *d, const char *path);

const char *mysql_decoder_error(const struct mysql_decoder *d);
/* 1 when the last error says the source's binlog history was reset under the
 * stream (a MariaDB GTID_LIST behind the GTIDs already read): the position is
 * lost, every table needs a resync. */
int mysql_decoder_position_lost(const struct mysql_decoder *d);
/* Position after the last committed transaction (resume point). */
void mysql_decoder_position(const struct mysql_decoder *d, struct zpos *out);
void mysql_decoder_get_stats(const struct mysql_decoder *d, struct mysql_decoder_stats *out);

#endif
