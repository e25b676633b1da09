/*
 * pg_ops.c — the postgres/redshift driver's method table (target_ops.h):
 * the methods live in pg.c, pg_apply.c, marks.c and count.c; the table sits
 * above all of them, so none of those files calls another through it.
 * The dialects differ inside each method (t->kind); only the change-event
 * methods are NULL.
 */
#include "runtime/target/target_int.h"
#include "runtime/target/target_ops.h"

const struct target_ops target_pg_ops = {
    .name = "postgres",
    .connect = pgt_connect,
    .close = pgt_close,
    .broken = pgt_broken,
    .cancel = pgt_cancel,
    .reap_stale = pgt_reap_stale,
    .ensure_table = pgt_ensure_table,
    .begin = pgt_begin,
    .set_load = pgt_set_load,
    .load_raw_ok = pgt_load_raw_ok,
    .load_raw_begin = pgt_load_raw_begin,
    .load_binary_ok = pgt_load_binary_ok,
    .load_raw_data = pgt_load_raw_data,
    .load_raw_end = pgt_load_raw_end,
    .apply = pgt_apply,
    .commit = pgt_commit,
    .rollback = pgt_rollback,
    .read_checkpoint = pgt_read_checkpoint,
    .discard_checkpoint = pgt_discard_checkpoint,
    .read_identity = pgt_read_identity,
    .set_identity = pgt_set_identity,
    .count_rows = pgt_count_rows,
    .table_exists = pgt_table_exists,
    .txn_begin = NULL,          /* a warehouse batch needs no transaction boundaries */
    .add = NULL,                /* zbatch_add: changes collapse per key */
    .resync_mark = pgt_resync_mark,
    .resync_unmark = pgt_resync_unmark,
    .resync_marks = pgt_resync_marks,
    .add_column = pgt_add_column,
    .drop_column = pgt_drop_column,
    .widen_column = pgt_widen_column,
    .rename_column = pgt_rename_column,
    .rename_table = pgt_rename_table,
    .truncate = pgt_truncate,
    .copy_progress_set = pgt_copy_progress_set,
    .copy_progress_get = pgt_copy_progress_get,
    .shape_set = pgt_shape_set,
    .shape_get = pgt_shape_get,
    .delete_after = pgt_delete_after,
    .drop_table = pgt_drop_table,
};
