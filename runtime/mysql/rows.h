/*
 * rows.h — MySQL/MariaDB row images → struct zvalue (runtime/pipe/change.h).
 *
 * A TABLE_MAP event describes a table's columns by binlog type and packed
 * metadata, plus (binlog_row_metadata=FULL) optional metadata: names,
 * signedness, charsets, ENUM/SET labels, primary key. rows_table_build()
 * turns one into a struct rows_table: per-column decoding info plus the
 * exported struct ztable. rows_decode_image() then decodes one row image (a
 * null bitmap over the present columns, then their values) into ncols
 * zvalues.
 *
 * Value mapping (lossless; text is PostgreSQL input syntax):
 *   TINYINT..BIGINT          ZV_INT; UNSIGNED → ZV_UINT (BIGINT UNSIGNED max fits)
 *   FLOAT, DOUBLE            ZV_FLOAT (FLOAT widened exactly to double)
 *   DECIMAL(p,s)             ZV_TEXT exact, s fraction digits: "-12.340"
 *   BIT(n)                   ZV_TEXT of n '0'/'1' digits, most significant first
 *   YEAR                     ZV_INT 1901..2155, 0 for YEAR 0000
 *   DATE                     ZV_TEXT "2024-02-29"
 *   TIME[(fsp)]              ZV_TEXT "-838:59:59.000000" (fsp digits; may exceed 24h)
 *   DATETIME[(fsp)]          ZV_TEXT "2024-02-29 10:00:00.500000" (fsp digits)
 *   TIMESTAMP[(fsp)]         ZV_TEXT "2024-02-29 10:00:00.5+00" style: UTC, "+00"
 *   CHAR/VARCHAR/TEXT        ZV_TEXT UTF-8: utf8mb3/utf8mb4/ascii pass through
 *                            (zero copy); latin1 is converted as MySQL's latin1,
 *                            which is Windows cp1252 (0x80 → €); other charsets
 *                            through iconv.
 *   binary charset, BINARY,
 *   VARBINARY, BLOB          ZV_BYTES (NUL bytes kept)
 *   ENUM                     ZV_TEXT label; index 0 (MySQL's invalid value) → ""
 *   SET                      ZV_TEXT "a,b" members in definition order
 *   JSON (MySQL binary)      ZV_TEXT canonical JSON text (json.h); MariaDB JSON
 *                            is a LONGTEXT and arrives as text
 *   GEOMETRY                 ZV_BYTES WKB: MySQL stores a 4-byte little-endian
 *                            SRID before the WKB; we strip it so the value is
 *                            plain WKB as change.h promises (the SRID is a
 *                            column property, reported by the table definition).
 *
 * Zero and partial-zero dates ('0000-00-00', '2024-00-10', '0000-01-01' —
 * PostgreSQL has no year 0 —, DATETIME '0000-00-00 00:00:00', TIMESTAMP 0)
 * have no PostgreSQL equivalent: they decode to ZV_NULL and the warn
 * callback is told once per table column (the column's `warned` flag) —
 * never a crash, never an error. Other impossible values (month 13, hour
 * 25, DECIMAL digit groups ≥ 10⁹) are corrupt events: an error.
 *
 * Without optional metadata (binlog_row_metadata=MINIMAL/NO_LOG) signedness,
 * charsets, names and ENUM/SET labels are unknown: integers decode as signed,
 * string columns as UTF-8 text, BLOB/TEXT as bytes, ENUM/SET as their number
 * in text; column names are "@1", "@2"… The definition hook in decoder.h
 * lets information_schema fill these in (rows_table_apply_def).
 *
 * Ownership: a rows_table owns its copy of the TABLE_MAP body (labels and
 * names point into it) and its ztable (ztable_free-compatible). Decoded
 * values point either into the event buffer (zero copy) or into the
 * rows_ctx arena, which lives until the next rows_ctx_reset(). The arena is
 * a chain of blocks that never move, so earlier values stay valid while a
 * row is being decoded; memory is bounded by the largest row seen.
 * Thread: one rows_ctx per reader thread.
 */
#ifndef ZETL_MYSQL_ROWS_H
#define ZETL_MYSQL_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/pipe/change.h"
#include "runtime/mysql/binlog.h"
#include "runtime/base/buf.h"
#include "runtime/base/rd.h"
#include "runtime/mysql/rows_text.h"   /* DECIMAL and temporal text */

/* MySQL column types as they appear in TABLE_MAP. */
enum mysql_type {
    MYT_DECIMAL = 0, MYT_TINY = 1, MYT_SHORT = 2, MYT_LONG = 3, MYT_FLOAT = 4,
    MYT_DOUBLE = 5, MYT_NULL = 6, MYT_TIMESTAMP = 7, MYT_LONGLONG = 8, MYT_INT24 = 9,
    MYT_DATE = 10, MYT_TIME = 11, MYT_DATETIME = 12, MYT_YEAR = 13, MYT_NEWDATE = 14,
    MYT_VARCHAR = 15, MYT_BIT = 16, MYT_TIMESTAMP2 = 17, MYT_DATETIME2 = 18,
    MYT_TIME2 = 19, MYT_TYPED_ARRAY = 20,
    MYT_JSON = 245, MYT_NEWDECIMAL = 246, MYT_ENUM = 247, MYT_SET = 248,
    MYT_TINY_BLOB = 249, MYT_MEDIUM_BLOB = 250, MYT_LONG_BLOB = 251, MYT_BLOB = 252,
    MYT_VAR_STRING = 253, MYT_STRING = 254, MYT_GEOMETRY = 255
};

enum rows_cs { CS_UNKNOWN = 0, CS_UTF8, CS_LATIN1, CS_BINARY, CS_ICONV, CS_UNSUPPORTED };

/* Character-set class of a MySQL/MariaDB collation id (see rows.c's table). */
enum rows_cs rows_charset_class(unsigned collation_id, const char **iconv_name, int *mbmaxlen);

/* ---- per-event arena -------------------------------------------------------- */
struct rows_block;
struct rows_arena { struct rows_block *head, *cur; size_t bytes; };
void *rows_arena_alloc(struct rows_arena *a, size_t n);     /* NULL when out of memory */
void  rows_arena_reset(struct rows_arena *a);                /* keeps the blocks */
void  rows_arena_free(struct rows_arena *a);

struct rows_col {
    uint8_t  type;          /* enum mysql_type, as in TABLE_MAP (STRING for ENUM/SET/CHAR) */
    uint8_t  real_type;     /* STRING: ENUM, SET or STRING; others = type */
    uint8_t  is_unsigned;
    uint8_t  cs;            /* enum rows_cs */
    uint8_t  warned;        /* zero-date (or missing label) warning given */
    uint8_t  mbmaxlen;
    uint16_t collation;     /* 0 unknown */
    uint32_t meta;          /* length bytes / max length / fsp / pack length */
    uint8_t  prec, scale;   /* NEWDECIMAL */
    uint16_t bits;          /* BIT: total bits */
    uint32_t nlabels;       /* ENUM/SET labels from optional metadata */
    const char **label;     /* nlabels pointers into the table-map copy */
    uint32_t *label_len;
    void    *iconv;         /* iconv_t for CS_ICONV, (void *)-1 when not open */
};

struct rows_table {
    uint64_t table_id;
    uint32_t ncols;
    struct rows_col *cols;
    struct ztable *zt;      /* exported definition (ztable_free-compatible) */
    uint8_t *raw;           /* copy of the TABLE_MAP body */
    size_t raw_len;
    int has_names, has_signedness, has_charsets;
    int mariadb;            /* written by MariaDB (charset TLVs count GEOMETRY) */
};

/*
 * Build t from a TABLE_MAP body (copied). 0 ok; -1 with err (no file:offset)
 * when the event is malformed; -2 when it is well-formed but a column type
 * cannot be decoded (e.g. MariaDB COMPRESSED columns): the table, not the
 * stream, is the problem. On failure t is left empty (safe to rows_table_free).
 */
int  rows_table_build(struct rows_table *t, const uint8_t *body, size_t body_len,
                      const struct binlog_fde *fde, char *err, size_t errlen);
void rows_table_free(struct rows_table *t);

/*
 * Replace the names, signedness, charsets and ENUM/SET labels that the
 * binlog did not carry with those of def (same column count and order, e.g.
 * from information_schema). ENUM/SET labels are taken from
 * def->cols[i].source_type "enum('a','b')" when the binlog had none.
 * 0 ok, -1 when def does not match the table map (column count).
 */
int  rows_table_apply_def(struct rows_table *t, const struct ztable *def, char *err, size_t errlen);

struct rows_ctx {
    struct rows_arena arena;
    struct zbuf scratch;
    void (*warn)(void *ctx, const char *msg);
    void *warn_ctx;
    char err[256];
    int bad_value;          /* err is about one value (e.g. a JSON document), not the event's framing */
};

void rows_ctx_init(struct rows_ctx *c);
void rows_ctx_reset(struct rows_ctx *c);    /* after the sink consumed a row change */
void rows_ctx_free(struct rows_ctx *c);

/*
 * Decode one image at r: a null bitmap over the columns set in present,
 * then each present non-NULL value. out has t->ncols slots; columns not in
 * present get absent_kind (ZV_NULL or ZV_UNCHANGED). 0 ok; -1 with c->err.
 */
int rows_decode_image(struct rows_ctx *c, struct rows_table *t, struct rd *r,
                      const uint8_t *present, uint32_t npresent, struct zvalue *out,
                      uint8_t absent_kind);

#endif
