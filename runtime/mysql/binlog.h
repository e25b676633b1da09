/*
 * binlog.h — MySQL/MariaDB binary log event framing and per-event parsers.
 *
 * Every event starts with the same 19-byte header; its body layout depends on
 * the type and, for a few types, on the post-header lengths announced by the
 * FORMAT_DESCRIPTION event at the head of every binlog file and stream. This
 * module turns the bytes of ONE event into a plain struct: one
 * `binlog_parse_X(struct rd *, ..., struct binlog_X *)` per event type, each
 * with its wire layout drawn above it in binlog.c.
 *
 * Invariants and ownership:
 *   - Parsers do no I/O and never allocate: pointers in the output structs
 *     point into the caller's event buffer and live as long as it does.
 *   - Every read goes through struct rd (runtime/base/rd.h); a parser returns 0, or
 *     -1 with a message in err naming the event type and what was wrong.
 *     Messages carry no file:offset; the caller (decoder.c) prefixes it.
 *   - The cursor handed to a body parser covers the event body only: the
 *     19-byte header and the 4-byte CRC32 trailer (when checksums are on) are
 *     already stripped by binlog_frame().
 *
 * Thread: pure functions, callable from any thread.
 */
#ifndef ZETL_MYSQL_BINLOG_H
#define ZETL_MYSQL_BINLOG_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "runtime/base/rd.h"

#define BINLOG_MAGIC        "\xfe" "bin"
#define BINLOG_MAGIC_LEN    4
#define BINLOG_HEADER_LEN   19
#define BINLOG_CRC_LEN      4
/* MySQL's max_allowed_packet ceiling; a larger declared event is corrupt. */
#define BINLOG_EVENT_MAX    (1024u * 1024u * 1024u)

enum binlog_type {
    BL_UNKNOWN = 0,
    BL_START_V3 = 1,
    BL_QUERY = 2,
    BL_STOP = 3,
    BL_ROTATE = 4,
    BL_INTVAR = 5,
    BL_LOAD = 6,                    /* 6..12, 17, 18: LOAD DATA logged as a statement */
    BL_SLAVE = 7,                   /* never written */
    BL_CREATE_FILE = 8,
    BL_APPEND_BLOCK = 9,
    BL_EXEC_LOAD = 10,
    BL_DELETE_FILE = 11,
    BL_NEW_LOAD = 12,
    BL_RAND = 13,
    BL_USER_VAR = 14,
    BL_FORMAT_DESCRIPTION = 15,
    BL_XID = 16,
    BL_BEGIN_LOAD_QUERY = 17,
    BL_EXECUTE_LOAD_QUERY = 18,
    BL_TABLE_MAP = 19,
    BL_PRE_GA_WRITE_ROWS = 20,      /* 20..22: MySQL 5.1.0-5.1.15 rows events */
    BL_PRE_GA_UPDATE_ROWS = 21,
    BL_PRE_GA_DELETE_ROWS = 22,
    BL_WRITE_ROWS_V1 = 23,
    BL_UPDATE_ROWS_V1 = 24,
    BL_DELETE_ROWS_V1 = 25,
    BL_INCIDENT = 26,
    BL_HEARTBEAT = 27,
    BL_IGNORABLE = 28,
    BL_ROWS_QUERY = 29,
    BL_WRITE_ROWS_V2 = 30,
    BL_UPDATE_ROWS_V2 = 31,
    BL_DELETE_ROWS_V2 = 32,
    BL_GTID = 33,                   /* MySQL */
    BL_ANONYMOUS_GTID = 34,
    BL_PREVIOUS_GTIDS = 35,
    BL_TRANSACTION_CONTEXT = 36,
    BL_VIEW_CHANGE = 37,
    BL_XA_PREPARE = 38,
    BL_PARTIAL_UPDATE_ROWS = 39,
    BL_TRANSACTION_PAYLOAD = 40,
    BL_HEARTBEAT_V2 = 41,
    BL_GTID_TAGGED = 42,            /* MySQL 8.3+ */
    BL_ANNOTATE_ROWS = 160,         /* MariaDB */
    BL_BINLOG_CHECKPOINT = 161,
    BL_MARIA_GTID = 162,
    BL_GTID_LIST = 163,
    BL_START_ENCRYPTION = 164,
    BL_QUERY_COMPRESSED = 165,
    BL_WRITE_ROWS_COMPRESSED_V1 = 166,
    BL_UPDATE_ROWS_COMPRESSED_V1 = 167,
    BL_DELETE_ROWS_COMPRESSED_V1 = 168,
    BL_WRITE_ROWS_COMPRESSED = 169,
    BL_UPDATE_ROWS_COMPRESSED = 170,
    BL_DELETE_ROWS_COMPRESSED = 171,
    BL_PARTIAL_ROW_DATA = 172       /* MariaDB 12.3+: a fragment of a large rows event */
};

/* Header flag: a replica that does not know the event's type may skip it. */
#define BINLOG_F_IGNORABLE 0x0080

const char *binlog_type_name(int type);

/* ---- CRC32 (zlib/IEEE polynomial) ------------------------------------ */

/* The binlog checksum is zlib's crc32 (reflected IEEE polynomial 0xEDB88320),
 * continuing from crc (0 to start). */
static inline uint32_t binlog_crc32(uint32_t crc, const void *p, size_t len)
{
    return (uint32_t)crc32_z(crc, p, len);
}

/* ---- the common header ------------------------------------------------ */

struct binlog_header {
    uint32_t timestamp;     /* seconds since the epoch (statement start) */
    uint8_t  type;          /* enum binlog_type */
    uint32_t server_id;
    uint32_t event_size;    /* header + body + checksum */
    uint32_t log_pos;       /* offset just after this event in its file; 0 = artificial */
    uint16_t flags;
};

#define BINLOG_F_ARTIFICIAL 0x0020

int binlog_parse_header(struct rd *r, struct binlog_header *h);

/* ---- FORMAT_DESCRIPTION ----------------------------------------------- */

enum { BINLOG_CHECKSUM_OFF = 0, BINLOG_CHECKSUM_CRC32 = 1, BINLOG_CHECKSUM_UNDEF = 255 };

struct binlog_fde {
    uint16_t binlog_version;
    char     server_version[51];    /* NUL-terminated copy */
    uint32_t create_timestamp;
    uint8_t  header_len;            /* 19 */
    uint8_t  checksum_alg;          /* BINLOG_CHECKSUM_* */
    uint8_t  is_mariadb;
    uint16_t npost;                 /* post-header lengths known */
    uint8_t  post_len[256];         /* post_len[type - 1]; 0 when unknown */
};

/*
 * The FDE is parsed from the WHOLE event (header included) because its
 * checksum algorithm byte tells whether the trailing 4 bytes are a CRC.
 */
int binlog_parse_fde(const uint8_t *ev, size_t len, struct binlog_fde *f,
                     char *err, size_t errlen);

/* A default FDE for binlog v4 with no checksum (before one is seen). */
void binlog_fde_default(struct binlog_fde *f);

/* post-header length for type, with the v4 defaults when the FDE was silent. */
unsigned binlog_post_len(const struct binlog_fde *f, int type);

/*
 * Split one whole event into header and body; verify the CRC32 when the FDE
 * says so (an FDE event checks its own algorithm byte). 0 ok, -1 with err.
 */
int binlog_frame(const uint8_t *ev, size_t len, const struct binlog_fde *f,
                 struct binlog_header *h, const uint8_t **body, size_t *body_len,
                 char *err, size_t errlen);

/* ---- per-event bodies ---------------------------------------------------- */

struct binlog_rotate {
    uint64_t position;
    const char *file; size_t file_len;      /* not NUL-terminated */
};

struct binlog_query {
    uint32_t thread_id;
    uint32_t exec_time;
    uint16_t error_code;
    const char *db;    size_t db_len;
    const char *query; size_t query_len;    /* not NUL-terminated */
};

struct binlog_xid { uint64_t xid; };

struct binlog_gtid {            /* MySQL GTID / ANONYMOUS_GTID */
    uint8_t  flags;             /* 1 = may have changes (commit flag) */
    uint8_t  sid[16];
    int64_t  gno;
    int64_t  last_committed, sequence_number;   /* -1 when absent */
    uint64_t immediate_commit_us;               /* 0 when absent (MySQL < 8.0.1) */
    uint64_t original_commit_us;
    uint64_t transaction_length;                /* 0 when absent */
};

#define MARIA_GTID_STANDALONE   0x01
#define MARIA_GTID_GROUP_COMMIT 0x02
#define MARIA_GTID_TRANSACTIONAL 0x04
#define MARIA_GTID_ALLOW_PARALLEL 0x08
#define MARIA_GTID_WAITED       0x10
#define MARIA_GTID_DDL          0x20
#define MARIA_GTID_PREPARED_XA  0x40
#define MARIA_GTID_COMPLETED_XA 0x80

struct binlog_maria_gtid {
    uint64_t seq_no;
    uint32_t domain_id;
    uint32_t server_id;         /* from the event header */
    uint8_t  flags;
    uint64_t commit_id;         /* when MARIA_GTID_GROUP_COMMIT */
};

struct binlog_gtid_entry { uint32_t domain_id, server_id; uint64_t seq_no; };

struct binlog_gtid_list {
    uint32_t count;
    uint8_t  flags;             /* high 4 bits of the count word */
    const uint8_t *entries;     /* count × 16 bytes; read with binlog_gtid_list_get */
};
void binlog_gtid_list_get(const struct binlog_gtid_list *l, uint32_t i,
                          struct binlog_gtid_entry *out);

struct binlog_annotate { const char *query; size_t query_len; };

/* Optional metadata TLV types in TABLE_MAP (binlog_row_metadata=MINIMAL/FULL). */
enum binlog_tm_opt {
    TM_SIGNEDNESS = 1,
    TM_DEFAULT_CHARSET = 2,
    TM_COLUMN_CHARSET = 3,
    TM_COLUMN_NAME = 4,
    TM_SET_STR_VALUE = 5,
    TM_ENUM_STR_VALUE = 6,
    TM_GEOMETRY_TYPE = 7,
    TM_SIMPLE_PRIMARY_KEY = 8,
    TM_PRIMARY_KEY_WITH_PREFIX = 9,
    TM_ENUM_AND_SET_DEFAULT_CHARSET = 10,
    TM_ENUM_AND_SET_COLUMN_CHARSET = 11,
    TM_COLUMN_VISIBILITY = 12
};

/*
 * TABLE_MAP: the fixed part and raw pointers into the event. Per-column
 * metadata and the optional TLVs are interpreted by rows.c
 * (rows_table_build), which needs to allocate per column.
 */
struct binlog_table_map {
    uint64_t table_id;
    uint16_t flags;
    const char *db;    size_t db_len;
    const char *table; size_t table_len;
    uint32_t ncols;
    const uint8_t *types;                   /* ncols bytes */
    const uint8_t *meta; size_t meta_len;   /* packed per-column metadata */
    const uint8_t *nullable;                /* (ncols+7)/8 bytes, bit i = column i */
    const uint8_t *opt;  size_t opt_len;    /* optional metadata TLVs */
};

/* ROWS v1/v2 (and MariaDB's compressed variants, which the decoder rejects). */
struct binlog_rows {
    int      type;              /* event type */
    int      op;                /* 1 insert, 2 update, 3 delete (enum zop) */
    uint64_t table_id;
    uint16_t flags;             /* 1 = statement end */
    uint32_t ncols;
    const uint8_t *present;     /* (ncols+7)/8: columns in the before/only image */
    const uint8_t *present_after;   /* UPDATE: columns in the after image */
    const uint8_t *rows; size_t rows_len;   /* the row images */
};

struct binlog_payload {         /* TRANSACTION_PAYLOAD (MySQL 8.0.20+) */
    uint64_t compression;       /* 0 zstd, 255 none */
    uint64_t payload_size;
    uint64_t uncompressed_size;
    const uint8_t *payload; size_t payload_len;
};

struct binlog_heartbeat { const char *file; size_t file_len; uint64_t position; };

int binlog_parse_rotate(struct rd *r, const struct binlog_fde *f, struct binlog_rotate *o,
                        char *err, size_t errlen);
int binlog_parse_query(struct rd *r, const struct binlog_fde *f, struct binlog_query *o,
                       char *err, size_t errlen);
int binlog_parse_xid(struct rd *r, struct binlog_xid *o, char *err, size_t errlen);
int binlog_parse_gtid(struct rd *r, struct binlog_gtid *o, char *err, size_t errlen);
int binlog_parse_maria_gtid(struct rd *r, uint32_t server_id, struct binlog_maria_gtid *o,
                            char *err, size_t errlen);
int binlog_parse_gtid_list(struct rd *r, struct binlog_gtid_list *o, char *err, size_t errlen);
int binlog_parse_annotate(struct rd *r, struct binlog_annotate *o, char *err, size_t errlen);
int binlog_parse_table_map(struct rd *r, const struct binlog_fde *f, struct binlog_table_map *o,
                           char *err, size_t errlen);
int binlog_parse_rows(struct rd *r, const struct binlog_fde *f, int type, struct binlog_rows *o,
                      char *err, size_t errlen);
int binlog_parse_payload(struct rd *r, struct binlog_payload *o, char *err, size_t errlen);
int binlog_parse_heartbeat(struct rd *r, int type, uint64_t log_pos, struct binlog_heartbeat *o,
                           char *err, size_t errlen);

/* "3E11FA47-71CA-11E1-9E33-C80AA9429562:23" style text of a MySQL GTID. */
int binlog_gtid_format(const struct binlog_gtid *g, char *buf, size_t len);
/* 36-character lower-case UUID text of 16 bytes (buf ≥ 37). */
void binlog_uuid_format(const uint8_t sid[16], char *buf);

#endif
