/*
 * target_ops.h — what a target driver provides: one const table of methods,
 * as SQLite's sqlite3_io_methods does for a file. Internal to runtime/target.
 *
 * Drivers:
 *   target_pg_ops    postgres and redshift over libpq (pg.c, pg_apply.c,
 *                    marks.c, count.c; the table is in pg_ops.c); the dialect
 *                    is t->kind, inside the driver
 *   target_http_ops  change events POSTed to an endpoint (http.c)
 * target.c is the registry: target_connect picks the table by
 * target_opts.kind, sets t->ops on the handle the driver returns, and every
 * other target_* entry point (target.h) calls t->ops->X. Nothing outside
 * target.c and the drivers knows which driver a handle has; what others
 * need to know of a kind without a handle (its name, port, name limit,
 * what it can do) is a fact of kinds.c (target.h: target_driver).
 *
 * Each method does what target.h says of its target_* entry point, for its
 * kind. Thread: the handle's one thread (target.h), except cancel, which any
 * thread may call. Returns: 0 ok, negative an error whose message is in
 * t->err (target_error()) — connect writes its message into the caller's
 * err buffer, as there is no handle yet; the methods target.h gives other
 * answers (1 found, 1 cannot count, …) return them as documented there.
 *
 * A method may be NULL where the kind has no such thing; the entry point
 * then gives the answer target.h documents for it:
 *   broken 0, cancel nothing, reap_stale 0, set_load nothing,
 *   load_raw_ok 0, load_binary_ok 0, load_raw_end 0,
 *   load_raw_begin / load_raw_data -1 ("… outside a load transaction",
 *   "… without a COPY"), read_identity 0 (out zeroed), set_identity 0,
 *   count_rows 1, table_exists 1, ensure_table 0 (nothing created, no diff),
 *   add_column, drop_column, widen_column, rename_column, rename_table,
 *   drop_table 0 (nothing to do), txn_begin nothing,
 *   add zbatch_add (the warehouse batch that collapses changes per key),
 *   preflight 1 (no check of its own).
 * connect, close, begin, apply, commit, rollback, read_checkpoint,
 * discard_checkpoint, truncate and the three resync-mark methods are never
 * NULL.
 */
#ifndef ZETL_TARGET_OPS_H
#define ZETL_TARGET_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/target/target.h"

struct target_ops {
    const char *name;               /* "postgres" (both libpq dialects), "http" */

    /* connection: connect allocates *out (NULL on failure, message in err);
     * close frees it, whatever state it is in */
    int  (*connect)(struct target **out, const struct target_opts *o, char *err, size_t errlen);
    void (*close)(struct target *t);
    int  (*broken)(const struct target *t);
    void (*cancel)(struct target *t);                   /* any thread */
    int  (*reap_stale)(struct target *t);

    /* tables */
    int  (*ensure_table)(struct target *t, const struct ztable *src, const char *tschema,
                         const char *tname, struct target_table_diff *diff);

    /* transactions and the checkpoint */
    int  (*begin)(struct target *t);
    void (*set_load)(struct target *t);
    int  (*load_raw_ok)(const struct target *t);
    int  (*load_raw_begin)(struct target *t, const char *tschema, const char *tname,
                           const struct ztable *def, int binary);
    int  (*load_binary_ok)(struct target *t, const char *tschema, const char *tname,
                           const struct ztable *def, int src_version, const char *src_encoding);
    int  (*load_raw_data)(struct target *t, const char *buf, size_t len);
    int  (*load_raw_end)(struct target *t, int abort);
    int  (*apply)(struct target *t, const struct zbatch *b);
    int  (*commit)(struct target *t, const struct zpos *pos, int64_t commit_time_us);
    int  (*rollback)(struct target *t);
    int  (*read_checkpoint)(struct target *t, struct zpos *pos, int64_t *commit_time_us);
    int  (*discard_checkpoint)(struct target *t);
    int  (*read_identity)(struct target *t, struct target_ident *out);
    int  (*set_identity)(struct target *t, const struct target_ident *id, int write_now);
    int  (*count_rows)(struct target *t, const char *schema, const char *table, int live, int timeout_ms,
                       int64_t *n);
    int  (*table_exists)(struct target *t, const char *schema, const char *table);

    /* change events */
    void (*txn_begin)(struct target *t, const struct ztxn *txn, const struct zpos *start);
    int  (*add)(struct target *t, struct zbatch *b, const struct zrowchange *rc,
                const char *tschema, const char *tname, int snapshot);

    /* `zetl check` (target_preflight) */
    int  (*preflight)(const struct config_integration *ci, const char *state_dir,
                      struct pf_report *r, char *err, size_t errlen);

    /* resync marks */
    int  (*resync_mark)(struct target *t, const char *source_table);
    int  (*resync_unmark)(struct target *t, const char *source_table);
    int  (*resync_marks)(struct target *t, char ***tables, int *n);
    /* a chunked copy's progress and its restart (NULL: the kind copies tables in one read) */
    int  (*copy_progress_set)(struct target *t, const char *source_table, const char *copied_to,
                              int64_t rows, int64_t chunks);
    int  (*copy_progress_get)(struct target *t, const char *source_table, char *copied_to, size_t len,
                              int64_t *rows, int64_t *chunks);
    int  (*delete_after)(struct target *t, const struct ztable *def, const int *cols,
                         const struct zkey *after, const char *schema, const char *table);
    /* the shape a table's rows carry (NULL: the kind keeps none) */
    int  (*shape_set)(struct target *t, const char *source_table, const char *shape);
    int  (*shape_get)(struct target *t, const char *source_table, char *buf, size_t len);

    /* DDL helpers */
    int  (*add_column)(struct target *t, const char *schema, const char *table,
                       const struct zcolumn *col);
    int  (*drop_column)(struct target *t, const char *schema, const char *table, const char *column);
    int  (*widen_column)(struct target *t, const char *schema, const char *table,
                         const struct zcolumn *col);
    int  (*rename_column)(struct target *t, const char *schema, const char *table,
                          const char *from, const char *to);
    int  (*rename_table)(struct target *t, const char *schema, const char *from, const char *to);
    int  (*truncate)(struct target *t, const struct ztable *src, const char *schema,
                     const char *table);
    int  (*drop_table)(struct target *t, const char *schema, const char *table);
};

extern const struct target_ops target_pg_ops;      /* pg_ops.c */
extern const struct target_ops target_http_ops;    /* http.c */

#endif
