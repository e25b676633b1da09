/*
 * pgoutput.h — pure parsers for PostgreSQL's logical replication protocol.
 *
 * Two layers, both bytes-in / structs-out, no I/O and no allocation:
 *
 *   1. The replication envelope inside a CopyData message of a
 *      START_REPLICATION stream: XLogData ('w') carrying one pgoutput message,
 *      and the primary keepalive ('k'). pgout_build_status() writes the
 *      standby status update ('r') we send back.
 *   2. The pgoutput messages themselves, protocol version 1: Begin, Commit,
 *      Origin, Relation, Type, Insert, Update, Delete, Truncate, Message.
 *      pgout_parse rejects the protocol 2+ messages (S, E, c, A, and the
 *      two-phase b, P, K, r, p) with PGOUT_E_STREAM.
 *   3. Protocol version 2's streamed (in-progress) transactions, which the
 *      caller tells apart itself: pgout_parse_stream reads Stream Start,
 *      Stream Stop, Stream Commit and Stream Abort, and pgout_stream_xid the
 *      Int32 xid a data message (R, Y, I, U, D, T, M) carries just after
 *      its tag between a Stream Start and a Stream Stop. Two-phase messages
 *      stay rejected: zetl never asks for two_phase.
 *
 * Every parser is pgout_parse_X(struct rd *, struct X *): it reads from the
 * cursor's current position (for messages: just after the tag byte) and
 * returns 0, or a negative PGOUT_E_* code. Pointers in the output point into
 * the caller's buffer (zero copy). On failure the cursor is left at the field
 * that failed, and on truncation r->err holds the byte count that field
 * needed (PGOUT_NEED_CSTR for a string with no NUL) — rd.h only promises err
 * is non-zero, the value is this module's addition. pgout_format_error()
 * turns (cursor, code) into the operator-facing line:
 *
 *     pgoutput: message at 0/16B3748 truncated (Insert: need 4 bytes, have 1)
 *
 * Tuple data is validated once by the message parser (so a truncated tuple
 * fails the message) and exposed as a span; walk it with pgout_tuple_first /
 * pgout_tuple_next, which cannot fail on a span the parser accepted.
 *
 * Thread: all functions are reentrant.
 */
#ifndef ZETL_PG_PGOUTPUT_H
#define ZETL_PG_PGOUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/base/rd.h"

/* Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00:00 UTC). */
#define PGOUT_EPOCH_OFFSET_US 946684800000000LL

/* Stored in rd.err when a NUL-terminated string has no NUL. */
#define PGOUT_NEED_CSTR (-1)

enum pgout_error {
    PGOUT_OK = 0,
    PGOUT_E_TRUNC    = -1,  /* the message ends inside a field */
    PGOUT_E_TAG      = -2,  /* unknown message or envelope tag */
    PGOUT_E_KIND     = -3,  /* tuple column kind not n/u/t/b */
    PGOUT_E_NEGLEN   = -4,  /* negative length or count */
    PGOUT_E_TRAILING = -5,  /* bytes left after the message */
    PGOUT_E_STREAM   = -6,  /* protocol 2+ streaming / two-phase message */
    PGOUT_E_TUPLE    = -7,  /* Update/Delete: expected 'K', 'O' or 'N' */
    PGOUT_E_BINARY   = -8,  /* 'b' tuple data, but binary was not requested */
    PGOUT_E_NCOLS    = -9   /* tuple column count differs from its relation */
};

/* ---- the replication envelope (CopyData payloads) ------------------------ */

struct pgout_xlogdata {
    uint64_t start_lsn;         /* LSN of the record the message decodes */
    uint64_t wal_end;           /* server's end of WAL (for logical: same as start) */
    int64_t  send_time;         /* µs since 2000-01-01, server clock */
    const uint8_t *data;        /* the pgoutput message (borrowed) */
    size_t   len;
};

struct pgout_keepalive {
    uint64_t wal_end;           /* everything before this has been sent */
    int64_t  send_time;         /* µs since 2000-01-01, server clock */
    uint8_t  reply_requested;   /* 1: answer at once or be disconnected */
};

struct pgout_copy {
    uint8_t tag;                /* 'w' or 'k' */
    struct pgout_xlogdata  w;
    struct pgout_keepalive k;
};

/* Reads the tag and dispatches to the two parsers below. */
int pgout_parse_copy(struct rd *r, struct pgout_copy *out);
int pgout_parse_xlogdata(struct rd *r, struct pgout_xlogdata *out);
int pgout_parse_keepalive(struct rd *r, struct pgout_keepalive *out);

#define PGOUT_STATUS_LEN 34
/* Standby status update 'r': write, flush, apply LSNs, now (µs since 2000), reply flag. */
void pgout_build_status(uint8_t out[PGOUT_STATUS_LEN], uint64_t write_lsn, uint64_t flush_lsn,
                        uint64_t apply_lsn, int64_t now_pg_us, int reply_requested);

/* ---- pgoutput messages ------------------------------------------------- */

struct pgout_begin {
    uint64_t final_lsn;         /* LSN of the commit record */
    int64_t  commit_time;       /* µs since 2000-01-01 */
    uint32_t xid;
};

struct pgout_commit {
    uint8_t  flags;             /* unused, 0 */
    uint64_t commit_lsn;        /* LSN of the commit record */
    uint64_t end_lsn;           /* just past it: the resume position */
    int64_t  commit_time;       /* µs since 2000-01-01 */
};

struct pgout_origin {
    uint64_t    lsn;            /* commit LSN on the origin server */
    const char *name;
};

struct pgout_column {
    uint8_t     flags;          /* 1 = part of the replica identity key */
    const char *name;
    uint32_t    type_oid;
    int32_t     typmod;         /* -1 = none */
};

struct pgout_relation {
    uint32_t    oid;
    const char *nspname;        /* "" for pg_catalog */
    const char *relname;
    uint8_t     replident;      /* pg_class.relreplident: 'd', 'n', 'f', 'i' */
    uint16_t    ncols;
    struct rd   cols;           /* cursor at the first column: pgout_next_column() */
};

struct pgout_type {
    uint32_t    oid;
    const char *nspname;
    const char *typname;
};

/* One column of TupleData. */
struct pgout_datum {
    uint8_t        kind;        /* 'n' null, 'u' unchanged TOAST, 't' text, 'b' binary */
    uint32_t       len;         /* 't'/'b' */
    const uint8_t *p;           /* 't'/'b' (borrowed; text is NOT NUL-terminated) */
};

/* A validated TupleData: ncols datums in data[0..len). */
struct pgout_tuple {
    uint16_t       ncols;
    const uint8_t *data;
    size_t         len;
};

struct pgout_insert {
    uint32_t relid;
    struct pgout_tuple newtup;
};

struct pgout_update {
    uint32_t relid;
    uint8_t  old_kind;          /* 0 none, 'K' key columns only, 'O' full old row */
    struct pgout_tuple oldtup;  /* when old_kind != 0 */
    struct pgout_tuple newtup;
};

struct pgout_delete {
    uint32_t relid;
    uint8_t  old_kind;          /* 'K' or 'O' */
    struct pgout_tuple oldtup;
};

#define PGOUT_TRUNCATE_CASCADE          1
#define PGOUT_TRUNCATE_RESTART_IDENTITY 2

struct pgout_truncate {
    uint32_t  nrels;
    uint8_t   options;          /* PGOUT_TRUNCATE_* bits */
    struct rd relids;           /* nrels Int32 OIDs: read with rd_u32be() */
};

struct pgout_message {
    uint8_t        flags;       /* 1 = transactional */
    uint64_t       lsn;
    const char    *prefix;
    uint32_t       len;
    const uint8_t *content;
};

struct pgout_msg {
    uint8_t tag;                /* 'B', 'C', 'O', 'R', 'Y', 'I', 'U', 'D', 'T', 'M' */
    union {
        struct pgout_begin    begin;
        struct pgout_commit   commit;
        struct pgout_origin   origin;
        struct pgout_relation relation;
        struct pgout_type     type;
        struct pgout_insert   insert;
        struct pgout_update   update;
        struct pgout_delete   del;
        struct pgout_truncate truncate;
        struct pgout_message  message;
    } u;
};

/* ---- protocol version 2: streamed in-progress transactions ----------------- */

struct pgout_stream {
    uint8_t  tag;               /* 'S' start, 'E' stop, 'c' commit, 'A' abort */
    uint32_t xid;               /* S, c, A: the top-level transaction */
    uint8_t  first;             /* S: 1 on its first segment */
    uint32_t subxid;            /* A: the subtransaction aborted (== xid: all of it) */
    uint8_t  flags;             /* c: unused, 0 */
    uint64_t commit_lsn;        /* c */
    uint64_t end_lsn;           /* c: just past the commit: the resume position */
    int64_t  commit_time;       /* c: µs since 2000-01-01 */
};

/* 1 for the four tags pgout_parse_stream reads. */
int pgout_is_stream_control(uint8_t tag);
/* r at the start of the message (its tag). 0, or a negative PGOUT_E_*. */
int pgout_parse_stream(struct rd *r, struct pgout_stream *out);
/* r at the start of a data message sent inside a stream block: *xid gets
 * the (sub)transaction it belongs to, and the message without those four
 * bytes is the protocol-1 message of that tag — its tag byte, then
 * data[5..len). 0, or PGOUT_E_TRUNC. */
int pgout_stream_xid(const uint8_t *data, size_t len, uint32_t *xid);

/* Per-message parsers: r is positioned just after the tag byte; each checks rd_end(). */
int pgout_parse_begin(struct rd *r, struct pgout_begin *out);
int pgout_parse_commit(struct rd *r, struct pgout_commit *out);
int pgout_parse_origin(struct rd *r, struct pgout_origin *out);
int pgout_parse_relation(struct rd *r, struct pgout_relation *out);
int pgout_parse_type(struct rd *r, struct pgout_type *out);
int pgout_parse_insert(struct rd *r, struct pgout_insert *out);
int pgout_parse_update(struct rd *r, struct pgout_update *out);
int pgout_parse_delete(struct rd *r, struct pgout_delete *out);
int pgout_parse_truncate(struct rd *r, struct pgout_truncate *out);
int pgout_parse_message(struct rd *r, struct pgout_message *out);
/* TupleData on its own (used by the three above). */
int pgout_parse_tuple(struct rd *r, struct pgout_tuple *out);

/* Reads the tag byte and dispatches. r must be at the start of the message. */
int pgout_parse(struct rd *r, struct pgout_msg *out);

/* Walks a Relation's columns (cursor from pgout_relation.cols); 0 ok, -1 past the end. */
int pgout_next_column(struct rd *cols, struct pgout_column *out);

/* Walks a validated tuple: rd_init over it with pgout_tuple_first, then ncols × next. */
void pgout_tuple_first(struct rd *cur, const struct pgout_tuple *t);
int  pgout_tuple_next(struct rd *cur, struct pgout_datum *out);

/* A protocol-1 Begin and Commit, as the server would send them: a streamed
 * transaction held until its Stream Commit is handed on between the two. */
#define PGOUT_BEGIN_LEN  21
#define PGOUT_COMMIT_LEN 26
void pgout_build_begin(uint8_t out[PGOUT_BEGIN_LEN], uint64_t final_lsn, int64_t commit_time, uint32_t xid);
void pgout_build_commit(uint8_t out[PGOUT_COMMIT_LEN], uint64_t commit_lsn, uint64_t end_lsn, int64_t commit_time);

/* "Insert", "Relation", ... for a tag; "message 0x5A" style for unknown tags (static or buf). */
const char *pgout_tag_name(uint8_t tag);
const char *pgout_strerror(int code);

/*
 * Formats the error of a failed parse: r is the cursor the parser failed on,
 * code its return value, tag the message tag (0 if unknown), lsn the LSN of
 * the message (from its XLogData envelope). Always NUL-terminates buf.
 */
void pgout_format_error(char *buf, size_t len, const struct rd *r, int code,
                        uint8_t tag, uint64_t lsn);

/* "0/16B3748" into buf (at least 24 bytes); returns buf. */
char *pgout_lsn_str(char *buf, size_t len, uint64_t lsn);

#endif
