/*
 * zkey.h — a row's primary key as integers, compared in key order: the
 * frontier of a chunked copy (runtime/integ/resync.c) and the bounds of its
 * chunks.
 *
 * Only keys made of integer columns (signed or unsigned, up to 64 bits,
 * composite compared column by column) are chunked: their order in the
 * source's SQL, in the target's and in this file's comparison is the same.
 * A string key's order depends on its collation (MariaDB's case-insensitive
 * utf8mb4_general_ci sorts 'a' = 'A' < 'b'), which zetl would have to
 * reproduce byte for byte to decide on which side of the frontier a change
 * falls; a table with such a key is copied in one read, as before.
 *
 * Text form (zetl.copy_progress.copied_to, the log): the values in key
 * order, decimal, separated by commas: "42", "7,-3".
 *
 * No I/O, no allocation; any thread.
 */
#ifndef ZETL_ZKEY_H
#define ZETL_ZKEY_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/pipe/change.h"

#define ZKEY_MAX 8
#define ZKEY_TEXT_MAX (ZKEY_MAX * 22)   /* the text form of any key, terminated */

struct zkey {
    int      n;                 /* key columns; 0 = none (the start of the table) */
    uint8_t  uns[ZKEY_MAX];     /* column is unsigned: u, else i */
    union { int64_t i; uint64_t u; } v[ZKEY_MAX];
};

/*
 * The columns of t's primary key — or, for a table without one, of its
 * unique key of NOT NULL columns (ztable.nuk) — in key order, into
 * cols[ZKEY_MAX]: their number when every one is an integer column (the
 * table can be chunked), else 0. Such a unique key orders and bounds the
 * rows exactly as a primary key does: no two rows share a value, none is NULL.
 */
int  zkey_columns(const struct ztable *t, int *cols);

/* Whether a column of this type can be part of such a key (an integer). */
int  zkey_type_ok(enum ztype t);

/*
 * The key of a row image (values in t's column order; cols from
 * zkey_columns). 0, or -1 when a key value is not an integer (NULL, or the
 * wrong kind: the definition and the row disagree).
 */
int  zkey_of(const struct ztable *t, const int *cols, int n, const struct zvalue *row, struct zkey *k);

/* <0, 0, >0 as a sorts before, equal to, after b (same table's keys). */
int  zkey_cmp(const struct zkey *a, const struct zkey *b);

/* Text form into buf (always terminated); 0, or -1 when it does not fit. */
int  zkey_format(const struct zkey *k, char *buf, size_t len);

/*
 * Parse the text form for t's key (cols, n from zkey_columns). 0, or -1
 * when s is not n integers, each in range of a 64-bit integer of its
 * column's signedness.
 */
int  zkey_parse(const char *s, const struct ztable *t, const int *cols, int n, struct zkey *k);

/*
 * What one chunk read asks of a source (source_chunk_read): the rows with
 * keys after *after (NULL or n 0: from the first) in key order — at most
 * limit of them, or, with upto (a range fixed in advance by
 * source_chunk_bound), every one up to and including *upto, however many
 * the range holds by the read's snapshot (limit unused). snapped, when
 * set, is called once the read's consistent snapshot and exact position are
 * fixed, before any row: parallel readers of one table take theirs in the
 * order of their ranges (runtime/integ/resync.c says why).
 */
struct zchunk_req {
    const struct zkey *after, *upto;
    uint32_t limit;
    void (*snapped)(void *ctx);
    void *snap_ctx;
};

#endif
