/*
 * change.h — the change model: what a source produces and the applier consumes.
 *
 * A source (runtime/mysql, runtime/pg) decodes its log and calls a struct
 * zsink, in commit order:
 *
 *     begin(txn)  row(change)*  schema(change)*  commit(txn)     ...   heartbeat(pos)
 *
 * Ownership: everything passed to a sink callback is borrowed and valid only
 * for the duration of that call (values usually point into the source's event
 * buffer: zero copy). A sink that keeps anything copies it (the pipeline
 * serializes into its bounded queue or spool). A callback returning non-zero
 * stops the source, which returns that value to its caller.
 *
 * Values are typed just enough for the target to load them losslessly:
 * integers and floats as numbers, everything else as UTF-8 text in
 * PostgreSQL input syntax for the column's type (DECIMAL "-12.340",
 * DATE "2024-02-29", TIME "-838:59:59.000000", TIMESTAMPTZ
 * "2024-02-29 10:00:00.5+00", JSON text, BIT "0101", SET "a,b", ...) or raw
 * bytes (bytea, GEOMETRY as WKB, binary-charset strings). ZV_UNCHANGED marks
 * a PostgreSQL TOAST value that was not sent: the target keeps its value.
 *
 * Positions: the end of a committed transaction in the source log — binlog
 * file:offset (+ GTID set when the server has GTIDs) or a PostgreSQL LSN.
 * Resuming "from a position" means: the next transaction after it. The one
 * other kind of position is a copy's (source_snapshot_table): a binlog
 * transaction boundary, or a PostgreSQL slot's consistent point, which is
 * no transaction's end; zpos_txn_in_copy says which transactions it holds.
 *
 * Thread: a sink is called only from its source's reader thread.
 */
#ifndef ZETL_CHANGE_H
#define ZETL_CHANGE_H

#include <stddef.h>
#include <stdint.h>

/* ---- column types ---------------------------------------------------- */

enum ztype {
    ZT_BOOL = 1,
    ZT_INT16, ZT_INT32, ZT_INT64,
    ZT_UINT64,          /* BIGINT UNSIGNED: needs numeric(20) on PostgreSQL */
    ZT_FLOAT32, ZT_FLOAT64,
    ZT_DECIMAL,         /* precision, scale; precision 0 = unconstrained numeric */
    ZT_CHAR, ZT_VARCHAR,/* length in characters, -1 unbounded */
    ZT_TEXT,
    ZT_BYTES,           /* BINARY/VARBINARY/BLOB/bytea; length -1 unbounded */
    ZT_DATE,
    ZT_TIME,            /* scale = fractional digits; MySQL TIME may exceed 24h */
    ZT_TIMETZ,
    ZT_TIMESTAMP,       /* without time zone (MySQL DATETIME) */
    ZT_TIMESTAMPTZ,     /* MySQL TIMESTAMP, as UTC */
    ZT_INTERVAL,
    ZT_UUID,
    ZT_JSON,
    ZT_BIT,             /* length = bits */
    ZT_VARBIT,
    ZT_ENUM,            /* label text */
    ZT_SET,             /* comma-separated members */
    ZT_GEOMETRY,        /* WKB bytes */
    ZT_INET, ZT_CIDR, ZT_MACADDR,
    ZT_YEAR,            /* MySQL YEAR: 1901..2155, 0 */
    ZT_OTHER            /* any other type: text form; source_type says which */
};

struct zcolumn {
    char    *name;          /* exact case, unquoted */
    enum ztype type;
    int32_t  length;        /* CHAR/VARCHAR characters, BIT bits, -1 unbounded */
    int16_t  precision;     /* DECIMAL precision */
    int16_t  scale;         /* DECIMAL scale; TIME/TIMESTAMP fractional digits */
    uint8_t  nullable;
    uint8_t  is_unsigned;   /* MySQL integer columns */
    uint8_t  is_array;      /* PostgreSQL arrays: type is the element type */
    int16_t  pk_ord;        /* 1-based position in the primary key, 0 = not a key column */
    int16_t  uk_ord;        /* 1-based position in the table's chunk key when it has no
                               primary key (ztable.nuk), 0 = not in it */
    uint8_t  pg_builtin;    /* PostgreSQL source, table copy: a built-in type (OID below
                               16384), whose binary COPY form is the same on any server
                               of the same major version and encoding */
    char    *source_type;   /* the type as the source declares it, e.g. "numeric(10,2)",
                               "bigint unsigned", "public.mood"; PG→PG keeps it */
    char    *gen_expr;      /* ztable.gen only: the generation expression in the source's
                               SQL (pg_get_expr(adbin)); NULL elsewhere */
};

struct ztable {
    char    *schema;        /* MySQL database or PostgreSQL schema */
    char    *name;
    uint64_t id;            /* source-local id: MySQL table_id, PostgreSQL relation OID */
    int      ncols;
    struct zcolumn *cols;
    int      npk;           /* key columns; 0 = no primary key (full row is the key) */
    /* A table without a primary key may still be copied in chunks by a unique
       key of NOT NULL integer columns (runtime/pipe/zkey.h): its columns
       (uk_ord) and number, or 0. Only the copy and the resync's frontier use
       it; rows are still applied as a keyless table's (full row). Sources
       fill it from their catalogs where no primary key exists. */
    int      nuk;
    /* PostgreSQL STORED generated columns (not key columns, not excluded). They are
       not in cols: no source sends their values in its stream before PostgreSQL 18,
       so no row carries them and nothing writes them. A PostgreSQL target creates
       them GENERATED ALWAYS AS (gen_expr) STORED and computes them; a Redshift
       target, which cannot, leaves them out (zetl check warns). */
    int      ngen;
    struct zcolumn *gen;
    int      nexcluded;     /* catalog loads: columns tables.exclude_columns left out */
    /* Target definitions only (runtime/integ/shape.c, tables.soft_delete): a
       delete marks the row (TARGET_SOFT_DELETED, TARGET_SOFT_DELETED_AT:
       runtime/target/target.h) instead of removing it. Not in cols. */
    uint8_t  soft_delete;
    /* Target definitions only (tables.history): every version of a row is
       kept, with TARGET_HIST_* (runtime/target/target.h). Not in cols. */
    uint8_t  history;
};

/* ---- values ------------------------------------------------------------ */

enum zv_kind {
    ZV_NULL = 0,
    ZV_UNCHANGED,   /* PostgreSQL unchanged TOAST: keep the target's value */
    ZV_INT,         /* v.i */
    ZV_UINT,        /* v.u */
    ZV_FLOAT,       /* v.f (FLOAT32 columns carry the float widened to double) */
    ZV_TEXT,        /* v.p, len bytes of UTF-8, PostgreSQL input syntax */
    ZV_BYTES        /* v.p, len raw bytes */
};

struct zvalue {
    uint8_t  kind;          /* enum zv_kind */
    uint32_t len;           /* TEXT/BYTES length */
    union {
        int64_t     i;
        uint64_t    u;
        double      f;
        const char *p;      /* borrowed */
    } v;
};

/* ---- positions ------------------------------------------------------------ */

enum zpos_kind { ZPOS_NONE = 0, ZPOS_BINLOG, ZPOS_LSN };

#define ZPOS_FILE_MAX 128
#define ZPOS_GTID_MAX 1024

struct zpos {
    uint8_t  kind;                  /* enum zpos_kind */
    char     file[ZPOS_FILE_MAX];   /* binlog file name */
    uint64_t offset;                /* binlog offset, or the LSN */
    char     gtid[ZPOS_GTID_MAX];   /* GTID set after this transaction ("" if none) */
};

/* ---- transactions, rows, schema changes ------------------------------------ */

struct ztxn {
    struct zpos end;            /* position just after the commit (resume point) */
    int64_t  commit_time_us;    /* source commit time, µs since the epoch, UTC */
    uint64_t xid;               /* source transaction id, 0 if unknown */
    uint64_t bytes;             /* log bytes the transaction spans, when known */
    uint64_t commit_lsn;        /* PostgreSQL: LSN of the commit record (pgoutput
                                   Begin's final_lsn), set from begin on; 0 elsewhere */
    uint8_t  commit_time_whole_s;  /* commit: commit_time_us is whole seconds (a MySQL/
                                   MariaDB event header, no immediate_commit_timestamp);
                                   read by the reader (apply.c), not carried by the queue */
};

enum zop {
    ZOP_INSERT = 1, ZOP_UPDATE, ZOP_DELETE, ZOP_TRUNCATE,
    /* Not a source's: a row over the applier's row limit, replaced by the
     * reader's sink (apply.c) so that no queue or spool copies it. before:
     * the row's values with every text/bytes value over 64 bytes as NULL
     * (enough to name its key); after: NULL but its first column, a ZV_UINT,
     * the row's size in bytes. It fails its table; nothing applies it. */
    ZOP_OVERSIZE
};

struct zrowchange {
    enum zop op;
    const struct ztable *table;     /* definition the row was decoded with */
    const struct zvalue *before;    /* UPDATE/DELETE: old image (ncols values) or NULL */
    const struct zvalue *after;     /* INSERT/UPDATE: new image (ncols values) */
    uint8_t  before_key_only;       /* before holds only key columns (others ZV_NULL) */
};

enum zddl {
    ZDDL_CREATE_TABLE = 1,
    ZDDL_DROP_TABLE,
    ZDDL_RENAME_TABLE,
    ZDDL_ALTER_TABLE,       /* columns added/dropped/retyped/renamed: compare defs */
    ZDDL_UNSUPPORTED        /* anything else that touches a table: resync it */
};

struct zschema_change {
    enum zddl kind;
    const struct ztable *old_def;   /* NULL for CREATE */
    const struct ztable *new_def;   /* NULL for DROP */
    const char *statement;          /* source DDL text when known, for the log */
    const char *reason;             /* ZDDL_UNSUPPORTED: why, for the operator */
};

/* zsink.raw_ok's answers */
enum { ZRAW_NO = 0, ZRAW_TEXT = 1, ZRAW_BINARY = 2 };

struct zsink {
    void *ctx;
    int (*begin)(void *ctx, const struct ztxn *txn);           /* txn.end not yet known;
                                                                  commit_lsn is (PostgreSQL) */
    int (*row)(void *ctx, const struct zrowchange *rc);
    int (*schema)(void *ctx, const struct zschema_change *sc);
    int (*commit)(void *ctx, const struct ztxn *txn);          /* end, commit time set */
    /* The source proved it is current up to pos at server time now_us (idle heartbeat). */
    int (*heartbeat)(void *ctx, const struct zpos *pos, int64_t now_us);
    /*
     * Optional, for table copies. A source whose copy can yield PostgreSQL
     * COPY data (a PostgreSQL source) asks raw_ok(ctx, t, version, encoding)
     * once per table, before its COPY, giving its server_version_num and
     * server_encoding. ZRAW_NO: rows come through row(). ZRAW_TEXT or
     * ZRAW_BINARY: they come in that COPY format instead, through
     * raw_rows(ctx, t, buf, len, nrows) with whole rows in t's column order
     * (binary: the header in the first piece, the trailer in the last), then
     * once with buf NULL when the table is done.
     */
    int (*raw_ok)(void *ctx, const struct ztable *t, int server_version, const char *server_encoding);
    int (*raw_rows)(void *ctx, const struct ztable *t, const char *buf, size_t len, int64_t nrows);
    /* Optional, for table copies: the source's estimate of t's rows (its
     * statistics, not a count; 0 unknown), told once as t's copy starts. */
    void (*estimate)(void *ctx, const struct ztable *t, int64_t rows);
};

/* ---- helpers (runtime/pipe/change.c) ---------------------------------------------- */

const char *ztype_name(enum ztype t);
/* "binlog.000003:4567", "binlog.000003:4567 gtid=0-1-42", "0/16B3748". */
int  zpos_format(const struct zpos *p, char *buf, size_t len);
/* Inverse of zpos_format; 0 ok, -1 with err set on a malformed position. */
int  zpos_parse(struct zpos *out, const char *s, char *err, size_t errlen);
/* 1 when a is strictly before b in the same log (binlog file order, then
 * offset; or LSN); 0 otherwise, and for positions of different kinds. */
int  zpos_before(const struct zpos *a, const struct zpos *b);
/*
 * Does a copy taken in a consistent read at copy (source_snapshot_table's
 * exact position) already hold a streamed transaction? The two kinds of
 * copy position mean different things, so the transaction is described by
 * both what can be compared with them:
 *   start       where it begins in the stream: the end of the previous commit
 *   commit_lsn  PostgreSQL: the LSN of its commit record (ztxn.commit_lsn)
 * and the answer is
 *   ZPOS_BINLOG  start before copy. binlog_snapshot_file/pos is a
 *                transaction boundary and the binlog holds whole transactions
 *                in commit order, so a transaction is in the copy iff it
 *                starts before that boundary (ends at or before it).
 *   ZPOS_LSN     commit_lsn below copy. copy is the consistent point of the
 *                logical slot whose exported snapshot was read: the snapshot
 *                sees exactly the transactions whose commit record lies below
 *                it (a slot streams a transaction iff its commit LSN is at or
 *                past the consistent point; PostgreSQL's own table sync
 *                applies a change iff its Begin's final_lsn is at or past the
 *                sync LSN). A commit exactly at the point is not in the copy.
 *                Comparing the end of the previous commit instead would be
 *                wrong: WAL of other work may lie between it and this commit,
 *                and the consistent point in that gap.
 * 0 for ZPOS_NONE (no exact position: replay by key), for an unknown
 * commit_lsn (0), and for a copy and a start of different kinds.
 */
int  zpos_txn_in_copy(const struct zpos *start, uint64_t commit_lsn, const struct zpos *copy);
void ztable_free(struct ztable *t);
struct ztable *ztable_dup(const struct ztable *t);

#endif
