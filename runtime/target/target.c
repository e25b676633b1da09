/*
 * target.c — the target registry (target_ops.h): target_connect picks the
 * driver by kind, once; every other entry point of target.h goes through
 * the handle's table, with the answer target.h documents where the driver
 * has no such method.
 */
#include "runtime/target/target_int.h"
#include "runtime/target/target_ops.h"

#include "runtime/base/clock.h"
#include <stdio.h>
#include <string.h>

/* ---- the registry ---------------------------------------------------------------- */

static const struct target_ops *driver_for(enum target_kind kind)
{
    return kind == TARGET_HTTP ? &target_http_ops : &target_pg_ops;   /* postgres, redshift */
}

int target_connect(struct target **out, const struct target_opts *o, char *err, size_t errlen)
{
    const struct target_ops *ops = driver_for(o->kind);
    *out = NULL;
    if (ops->connect(out, o, err, errlen) != 0) return -1;
    (*out)->ops = ops;
    return 0;
}

void target_close(struct target *t)
{
    if (t) t->ops->close(t);
}

/* ---- connection ------------------------------------------------------------------ */

int target_broken(const struct target *t)
{
    return t->ops->broken ? t->ops->broken(t) : 0;
}

void target_cancel(struct target *t)
{
    if (t->ops->cancel) t->ops->cancel(t);
}

int target_reap_stale(struct target *t)
{
    return t->ops->reap_stale ? t->ops->reap_stale(t) : 0;
}

int target_preflight(const struct config_integration *ci, const char *state_dir,
                     struct pf_report *r, char *err, size_t errlen)
{
    const struct target_ops *ops = driver_for(ci->target.kind);
    return ops->preflight ? ops->preflight(ci, state_dir, r, err, errlen) : 1;
}

const char *target_error(const struct target *t) { return t->err; }
const char *target_describe(const struct target *t) { return t->desc; }
const char *target_sqlstate(const struct target *t) { return t->sqlstate; }

/* ---- tables ------------------------------------------------------------------------ */

int target_ensure_table(struct target *t, const struct ztable *src, const char *tschema,
                        const char *tname, struct target_table_diff *diff)
{
    memset(diff, 0, sizeof *diff);
    return t->ops->ensure_table ? t->ops->ensure_table(t, src, tschema, tname, diff) : 0;
}

int target_count_rows(struct target *t, const char *schema, const char *table, int live, int timeout_ms,
                      int64_t *n)
{
    *n = -1;
    return t->ops->count_rows ? t->ops->count_rows(t, schema, table, live, timeout_ms, n) : 1;
}

int target_table_exists(struct target *t, const char *schema, const char *table)
{
    return t->ops->table_exists ? t->ops->table_exists(t, schema, table) : 1;
}

/* ---- transactions and the checkpoint ------------------------------------------------ */

int target_begin(struct target *t) { return t->ops->begin(t); }

void target_set_load(struct target *t)
{
    if (t->ops->set_load) t->ops->set_load(t);
}

int target_load_raw_ok(const struct target *t)
{
    return t->ops->load_raw_ok ? t->ops->load_raw_ok(t) : 0;
}

int target_load_raw_begin(struct target *t, const char *tschema, const char *tname,
                          const struct ztable *def, int binary)
{
    if (t->ops->load_raw_begin) return t->ops->load_raw_begin(t, tschema, tname, def, binary);
    snprintf(t->err, sizeof t->err, "target %s: raw load of %s.%s outside a load transaction",
             t->integration, tschema, tname);
    return -1;
}

int target_load_binary_ok(struct target *t, const char *tschema, const char *tname,
                          const struct ztable *def, int src_version, const char *src_encoding)
{
    return t->ops->load_binary_ok
        ? t->ops->load_binary_ok(t, tschema, tname, def, src_version, src_encoding) : 0;
}

int target_load_raw_data(struct target *t, const char *buf, size_t len)
{
    if (t->ops->load_raw_data) return t->ops->load_raw_data(t, buf, len);
    snprintf(t->err, sizeof t->err, "target %s: raw load data without a COPY", t->integration);
    return -1;
}

int target_load_raw_end(struct target *t, int abort)
{
    return t->ops->load_raw_end ? t->ops->load_raw_end(t, abort) : 0;
}

int target_apply(struct target *t, const struct zbatch *b) { return t->ops->apply(t, b); }

int target_commit(struct target *t, const struct zpos *pos, int64_t commit_time_us)
{
    return t->ops->commit(t, pos, commit_time_us);
}

int target_rollback(struct target *t) { return t->ops->rollback(t); }

int target_read_checkpoint(struct target *t, struct zpos *pos, int64_t *commit_time_us)
{
    return t->ops->read_checkpoint(t, pos, commit_time_us);
}

int target_discard_checkpoint(struct target *t) { return t->ops->discard_checkpoint(t); }

int target_read_identity(struct target *t, struct target_ident *out)
{
    memset(out, 0, sizeof *out);
    return t->ops->read_identity ? t->ops->read_identity(t, out) : 0;
}

int target_set_identity(struct target *t, const struct target_ident *id, int write_now)
{
    return t->ops->set_identity ? t->ops->set_identity(t, id, write_now) : 0;
}

/* ---- change events -------------------------------------------------------------------- */

void target_txn_begin(struct target *t, const struct ztxn *txn, const struct zpos *start)
{
    if (t && t->ops->txn_begin) t->ops->txn_begin(t, txn, start);
}

int target_add(struct target *t, struct zbatch *b, const struct zrowchange *rc,
               const char *tschema, const char *tname, int snapshot)
{
    if (!t->ops->add) return zbatch_add(b, rc, tschema, tname);
    return t->ops->add(t, b, rc, tschema, tname, snapshot);
}

/* ---- resync marks ------------------------------------------------------------------------ */

int target_resync_mark(struct target *t, const char *source_table)
{
    return t->ops->resync_mark(t, source_table);
}

int target_resync_unmark(struct target *t, const char *source_table)
{
    return t->ops->resync_unmark(t, source_table);
}

int target_resync_marks(struct target *t, char ***tables, int *n)
{
    return t->ops->resync_marks(t, tables, n);
}

/* ---- a chunked copy's progress -------------------------------------------------------------- */

int target_can_chunk(const struct target *t)
{
    return t->ops->copy_progress_set && t->ops->copy_progress_get && t->ops->delete_after;
}

int target_copy_progress_set(struct target *t, const char *source_table, const char *copied_to,
                             int64_t rows, int64_t chunks)
{
    return t->ops->copy_progress_set(t, source_table, copied_to, rows, chunks);
}

int target_keeps_shapes(const struct target *t)
{
    return t->ops->shape_get != NULL;
}

int target_shape_set(struct target *t, const char *source_table, const char *shape)
{
    return t->ops->shape_set ? t->ops->shape_set(t, source_table, shape) : 0;
}

int target_shape_get(struct target *t, const char *source_table, char *buf, size_t len)
{
    if (len) buf[0] = '\0';
    return t->ops->shape_get ? t->ops->shape_get(t, source_table, buf, len) : 0;
}

int target_copy_progress_get(struct target *t, const char *source_table, char *copied_to, size_t len,
                             int64_t *rows, int64_t *chunks)
{
    return t->ops->copy_progress_get(t, source_table, copied_to, len, rows, chunks);
}

int target_delete_after(struct target *t, const struct ztable *def, const int *cols,
                        const struct zkey *after, const char *schema, const char *table)
{
    return t->ops->delete_after(t, def, cols, after, schema, table);
}

/* ---- DDL helpers ---------------------------------------------------------------------------- */

int target_add_column(struct target *t, const char *schema, const char *table,
                      const struct zcolumn *col)
{
    return t->ops->add_column ? t->ops->add_column(t, schema, table, col) : 0;
}

int target_drop_column(struct target *t, const char *schema, const char *table, const char *column)
{
    return t->ops->drop_column ? t->ops->drop_column(t, schema, table, column) : 0;
}

int target_widen_column(struct target *t, const char *schema, const char *table,
                        const struct zcolumn *col)
{
    return t->ops->widen_column ? t->ops->widen_column(t, schema, table, col) : 0;
}

int target_rename_column(struct target *t, const char *schema, const char *table,
                         const char *from, const char *to)
{
    return t->ops->rename_column ? t->ops->rename_column(t, schema, table, from, to) : 0;
}

int target_rename_table(struct target *t, const char *schema, const char *from, const char *to)
{
    return t->ops->rename_table ? t->ops->rename_table(t, schema, from, to) : 0;
}

int target_truncate(struct target *t, const struct ztable *src, const char *schema,
                    const char *table)
{
    return t->ops->truncate(t, src, schema, table);
}

int target_drop_table(struct target *t, const char *schema, const char *table)
{
    return t->ops->drop_table ? t->ops->drop_table(t, schema, table) : 0;
}
