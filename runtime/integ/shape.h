/*
 * shape.h — what lands in the warehouse and how: a table's row filter
 * (tables.filters, below), its column transforms (tables.hash_columns,
 * mask_columns, null_columns), and its mode: soft deletes (tables.
 * soft_delete: a delete marks the row) or history (tables.history: every
 * version kept). The modes are carried out by the target driver, flagged on
 * the table's target definition (ztable.soft_delete, ztable.history;
 * runtime/target/target.h); the filter and the transforms here.
 *
 * The column transforms:
 *
 *   hash  HMAC-SHA-256 of the value's text under tables.hash_key, as 64
 *         lowercase hex digits; the target column is varchar(64). The text
 *         hashed is the value as zetl loads it (change.h: integers in
 *         decimal, everything else in PostgreSQL input syntax, bytes raw),
 *         the same in the initial copy, the stream and a resync, so one
 *         source value always gives one hash. NULL stays NULL.
 *   mask  text columns (CHAR, VARCHAR, TEXT): every character but the last
 *         4 becomes '*' (a value of 4 characters or fewer is all '*'); the
 *         type and length stay.
 *   null  NULL; the target column becomes nullable, its type stays.
 *
 * Every path a row takes to the target goes through integ_project
 * (tables.c), which calls shape_values: the initial copy, the stream, a
 * resync and `zetl verify`'s read of the source. A PostgreSQL source's raw
 * COPY pass-through is off for a table with a transform. Nothing else sees a
 * transformed column's source value after the projection: the batch, the
 * spool of a resync, the target's error messages and the change events
 * carry the transformed value.
 *
 * A table is refused (tables.c: failed with the reason and the fix, the
 * others run) when a transform names a key column (the primary key or the
 * chunk key: its changes are found by that key), a column is in two lists,
 * mask names a column that is not text, or hash a FLOAT/DOUBLE column
 * (its text differs between the copy and the stream).
 *
 * The shape string ("email=hash:1a2b3c4d,phone=mask,ssn=null,history,
 * filter:0a1b2c3d"; "" for none) names each transformed target column and
 * its transform, the mode, and a hash of the filter; for hash the
 * hash_key's id (the first 8 hex digits of an HMAC of a fixed text under the
 * key: it tells keys apart and reveals nothing of one). The target keeps the
 * shape its rows were written with (zetl.table_shapes, written with every
 * clear of the table: target.h target_shape_set), and tables.c compares it
 * with the config's at every start: a change needs a resync, and the table
 * goes resync_required saying so.
 *
 * Thread: any; shape_values writes only the caller's scratch buffer.
 */
#ifndef ZETL_SHAPE_H
#define ZETL_SHAPE_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "runtime/base/buf.h"
#include "runtime/pipe/change.h"

enum shape_x { SHAPE_KEEP = 0, SHAPE_HASH, SHAPE_MASK, SHAPE_NULL };

#define SHAPE_HASH_HEX 64   /* the hash's width in the target: varchar(64) */
#define SHAPE_MASK_KEEP 4   /* characters a mask leaves at the end */

struct shape {
    uint8_t *x;         /* per source column of the table's definition: enum shape_x; NULL: none */
    int      n;         /* columns in x */
    int      nhash, nmask, nnull;
    int      soft_delete;   /* tables.soft_delete: deletes mark the row (tdef->soft_delete) */
    int      history;       /* tables.history: every version kept (tdef->history) */
    const char *filter;     /* tables.filters' where for it (the config's, borrowed); NULL none */
    uint64_t gen;           /* unique per shape_table: what a filter evaluator's cache is keyed by */
    uint8_t *reads;         /* per column: the filter reads it (n = def->ncols); NULL none */
    char    *sig;       /* the shape string ("" when none) */
    const char *key;    /* tables.hash_key (the config's, borrowed; a secret) */
};

/*
 * The table's transforms from the config: *s filled, tdef's transformed
 * columns retyped (hash: varchar(64); null: nullable). def and tdef have the
 * same columns in the same order (source and target names). 0 ok; 1 refused,
 * what and fix set (one line each); -1 out of memory.
 */
int  shape_table(const struct config_tables *ct, const struct ztable *def, struct ztable *tdef,
                 struct shape *s, char *what, size_t whatlen, char *fix, size_t fixlen);
void shape_free(struct shape *s);

/*
 * Transform a row image's values in place (vals: s->n values in def's
 * column order). The new texts go into scratch, emptied first: one scratch
 * per image, valid until its next use. 0, or -1 out of memory.
 */
int  shape_values(const struct shape *s, struct zvalue *vals, struct zbuf *scratch);

/*
 * Row filters (tables.filters): only rows for which the where expression is
 * true land. The expression is SQLite's (https://sqlite.org/lang_expr.html),
 * evaluated by SQLite itself in a private in-memory database over one row
 * whose columns carry the source's names:
 *     SELECT CASE WHEN (where) THEN 1 ELSE 0 END FROM (SELECT ?1 AS "id", ...)
 * so NULL is false, as in a WHERE clause. Values go in as the row has them
 * (change.h), by the column's type: integers as integers (BIGINT UNSIGNED
 * above 2^63 as a real), FLOAT/DOUBLE as reals, DECIMAL as a real (compare
 * with numbers, not strings), booleans as 1/0, bytes as blobs, everything
 * else as its text (dates '2024-02-29', timestamps '2024-02-29 10:00:00',
 * JSON text for json_extract). Only a SELECT over that row may run (an
 * authorizer refuses the rest), one expression, no statement after it.
 *
 * shape_filter_check compiles where against def: 0 (reads[i] set for each
 * column it reads, when reads is given), or 1 with the error and its
 * position in the expression ("near \"AND\": syntax error at character
 * 12"). shape_filter: 1 the row meets it (or the table has none), 0 it does
 * not, -1 error (err), -2 the row cannot be judged: a column the expression
 * reads is an unchanged TOAST value with no old value to take it from.
 * An evaluator (one per thread: the projection's) is made on first use and
 * keeps one statement per table; shape_eval_free ends it.
 */
struct shape_eval;
int  shape_filter_check(const char *where, const struct ztable *def, uint8_t *reads, char *err, size_t errlen);
int  shape_filter(struct shape_eval **ev, const struct shape *s, const struct ztable *def,
                  const struct zvalue *vals, const struct zvalue *before, char *err, size_t errlen);
void shape_eval_free(struct shape_eval *ev);

/* The 8-hex-digit id of a hash key (the shape string's). */
void shape_key_id(const char *key, char out[9]);

/* "hash", "mask", "null", "" */
const char *shape_name(enum shape_x x);

#endif
