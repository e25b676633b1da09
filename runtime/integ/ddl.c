/*
 * ddl.c — source schema changes applied to the target.
 *
 * The applier commits everything before a schema change, then this module
 * reloads the table definitions from the source catalog and compares them
 * with the target (target_ensure_table's diff):
 *
 *   column only in the source          ADD COLUMN (or RENAME, below)
 *   column only in the target          DROP COLUMN (the source dropped it)
 *   one added + one dropped at the
 *     same position with the same type RENAME COLUMN
 *   type differs, and the new type
 *     holds every old value            ALTER COLUMN TYPE (widen)
 *   anything else                      the table goes to resync_required,
 *                                      with the reason — never wrong data
 *   CREATE TABLE matching include      the table is created and streamed
 *   DROP TABLE                         dropped_source; the target keeps its data
 *   RENAME TABLE                       the target table is renamed
 *   TRUNCATE                           arrives as a row change (batch.c)
 *
 * Comparing definitions makes every step idempotent: replaying a schema
 * change after a crash finds nothing left to do. The comparison is in target
 * names (t->tdef, names.h): a column name longer than the target keeps is
 * the same shortened name in the catalog, the diff and every ALTER.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/integ/integ.h"
#include "runtime/source/source.h"
#include "runtime/target/names.h"
#include "runtime/target/target.h"

static int rank(const struct zcolumn *c)
{
    switch (c->type) {
    case ZT_INT16: return 1;
    case ZT_INT32: return 2;
    case ZT_INT64: return 3;
    case ZT_UINT64: return 4;
    case ZT_DECIMAL: return 5;
    default: return 0;
    }
}

/* Does `to` hold every value of `from`? */
static int widens(const struct zcolumn *from, const struct zcolumn *to)
{
    if (rank(from) && rank(to)) return rank(to) >= rank(from) &&
        (to->type != ZT_DECIMAL || from->type != ZT_DECIMAL ||
         (to->scale >= from->scale && to->precision - to->scale >= from->precision - from->scale));
    if (from->type == ZT_FLOAT32 && to->type == ZT_FLOAT64) return 1;
    if ((from->type == ZT_VARCHAR || from->type == ZT_CHAR) &&
        (to->type == ZT_TEXT || (to->type == ZT_VARCHAR && (to->length < 0 || to->length >= from->length))))
        return 1;
    if (from->type == to->type && (from->type == ZT_BYTES || from->type == ZT_TEXT ||
                                   from->type == ZT_ENUM || from->type == ZT_SET))
        return 1;       /* longer blob/text, more enum labels: same target type */
    if ((from->type == ZT_TIME || from->type == ZT_TIMESTAMP || from->type == ZT_TIMESTAMPTZ) &&
        from->type == to->type && to->scale >= from->scale)
        return 1;
    return 0;
}

static const struct zcolumn *find_col(const struct ztable *t, const char *name, int *idx)
{
    for (int i = 0; t && i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0) { if (idx) *idx = i; return &t->cols[i]; }
    return NULL;
}

static int resync_needed(struct integ *in, struct itable *t, const char *why)
{
    integ_set_table_state(in, t, TSTATE_RESYNC_REQUIRED, why, NULL);
    return 0;
}

static int tfail(struct integ *in, const char *what, const struct itable *t)
{
    snprintf(in->err, sizeof in->err, "target: %s on %s.%s: %s", what, t->tschema, t->tname,
             target_error(in->tgt));
    return -1;
}

/* Bring one table's target in line with its (reloaded) definition; old_def
 * is the definition the target was aligned to before, in target names. */
static int align_table(struct integ *in, struct itable *t, const struct ztable *old_def)
{
    struct target_table_diff d = {0};
    if (target_ensure_table(in->tgt, t->tdef, t->tschema, t->tname, &d) != 0) return tfail(in, "checking", t);
    int rc = 0;
    /* renames first: a missing column and an extra one at the old position */
    for (int k = 0; k < d.ndiffs && rc == 0; k++) {
        struct target_diff *m = &d.diffs[k];
        if (m->kind != TDIFF_MISSING || !old_def) continue;
        int ni = -1;
        const struct zcolumn *nc = find_col(t->tdef, m->column, &ni);
        for (int j = 0; nc && j < d.ndiffs; j++) {
            struct target_diff *x = &d.diffs[j];
            int oi = -1;
            const struct zcolumn *oc = x->kind == TDIFF_EXTRA ? find_col(old_def, x->column, &oi) : NULL;
            if (oc && oi == ni && oc->type == nc->type) {
                if (target_rename_column(in->tgt, t->tschema, t->tname, x->column, m->column) != 0)
                    rc = tfail(in, "renaming a column", t);
                else
                    integ_log(in, STATELOG_INFO, t->source, "ddl", "renamed column %s to %s", x->column, m->column);
                m->kind = x->kind = 0;
                break;
            }
        }
    }
    for (int k = 0; k < d.ndiffs && rc == 0; k++) {
        struct target_diff *df = &d.diffs[k];
        int i = -1;
        const struct zcolumn *nc = find_col(t->tdef, df->column, &i);
        if (df->kind == TDIFF_MISSING && nc) {
            if (target_add_column(in->tgt, t->tschema, t->tname, nc) != 0) {
                rc = tfail(in, "adding a column", t);
                break;
            }
            const char *sname = t->def->cols[i].name;     /* the source's name of it */
            if (strcmp(sname, nc->name) != 0)
                integ_log(in, STATELOG_INFO, t->source, "ddl", "added column %s as %s (%s)", sname, nc->name,
                          nc->source_type ? nc->source_type : ztype_name(nc->type));
            else
                integ_log(in, STATELOG_INFO, t->source, "ddl", "added column %s (%s)", nc->name,
                          nc->source_type ? nc->source_type : ztype_name(nc->type));
            /* Existing rows that the source filled in without a row change
             * (a default, NOT NULL) can only be learned by copying again. */
            char e[1024];
            int b = old_def ? source_column_backfilled(in, t->def->schema, t->def->name, sname, e, sizeof e) : 0;
            if (b != 0) {
                integ_log(in, b < 0 ? STATELOG_WARNING : STATELOG_INFO, t->source, "ddl",
                          "column %s: existing rows hold a value the log does not carry%s%s; copying the table again",
                          sname, b < 0 ? " (could not check: " : "", b < 0 ? e : "");
                integ_set_table_state(in, t, TSTATE_RESYNCING, "ADD COLUMN with a default: existing rows are copied again", NULL);
                t->resync_requested = 1;
            }
        } else if (df->kind == TDIFF_EXTRA) {
            if (target_drop_column(in->tgt, t->tschema, t->tname, df->column) != 0) rc = tfail(in, "dropping a column", t);
            else integ_log(in, STATELOG_INFO, t->source, "ddl", "dropped column %s", df->column);
        } else if (df->kind == TDIFF_TYPE && nc) {
            const struct zcolumn *oc = find_col(old_def, df->column, NULL);
            if (oc && !widens(oc, nc)) {
                char why[512];
                snprintf(why, sizeof why, "column %s changed type from %s to %s, which can lose or change values; resync the table",
                         df->column, df->have, df->want);
                rc = resync_needed(in, t, why);
            } else if (target_widen_column(in->tgt, t->tschema, t->tname, nc) != 0) {
                char why[768];
                snprintf(why, sizeof why, "column %s: the target cannot change %s to %s: %s",
                         df->column, df->have, df->want, target_error(in->tgt));
                rc = resync_needed(in, t, why);
            } else {
                integ_log(in, STATELOG_INFO, t->source, "ddl", "widened column %s from %s to %s",
                          df->column, df->have, df->want);
            }
        }
    }
    target_table_diff_free(&d);
    /* The columns it has now carry the config's transforms from here on:
     * the recorded shape follows (a table with rows of another shape was
     * made resync_required at the start and keeps its record). */
    if (rc == 0 && t->state != TSTATE_RESYNC_REQUIRED && target_keeps_shapes(in->tgt)) {
        if (target_begin(in->tgt) != 0 || target_shape_set(in->tgt, t->source, t->shape.sig ? t->shape.sig : "") != 0 ||
            target_commit(in->tgt, NULL, 0) != 0) {
            target_rollback(in->tgt);
            rc = tfail(in, "recording its column transforms", t);
        }
    }
    return rc;
}

int integ_apply_ddl(struct integ *in, const struct zschema_change *sc)
{
    const struct ztable *named = sc->old_def ? sc->old_def : sc->new_def;
    struct itable *t = named ? integ_find_table(in, named->schema, named->name) : NULL;
    const char *stmt = sc->statement ? sc->statement : "";

    if (sc->kind == ZDDL_UNSUPPORTED) {
        if (t) return resync_needed(in, t, sc->reason ? sc->reason : "unsupported schema change");
        integ_log(in, STATELOG_WARNING, NULL, "ddl", "schema change not applied (%s): %.300s",
                  sc->reason ? sc->reason : "unsupported", stmt);
        return 0;
    }
    if (sc->kind == ZDDL_DROP_TABLE) {
        if (t) integ_set_table_state(in, t, TSTATE_DROPPED_SOURCE,
                                     "the source table was dropped; the target keeps its data", NULL);
        return 0;
    }
    /* Keep the definitions the target was aligned to, to detect renames. */
    int nold = in->ntables;
    struct ztable **old = calloc((size_t)nold + 1, sizeof *old);
    if (!old) { snprintf(in->err, sizeof in->err, "out of memory"); return -1; }
    char old_tschema[256] = "", old_tname[256] = "";
    if (t) {
        snprintf(old_tschema, sizeof old_tschema, "%s", t->tschema);
        snprintf(old_tname, sizeof old_tname, "%s", t->tname);
    }
    for (int i = 0; i < nold; i++) old[i] = ztable_dup(in->tables[i].tdef);
    struct ztable *renamed_from = NULL;     /* sc->old_def in target names */
    if (sc->kind == ZDDL_RENAME_TABLE && sc->old_def)
        renamed_from = names_target_def(in->cfg->target.kind, sc->old_def);

    int rc = integ_load_tables(in, in->err, sizeof in->err);
    if (rc == 0 && sc->kind == ZDDL_RENAME_TABLE && sc->new_def && old_tname[0]) {
        struct itable *nt = integ_find_table(in, sc->new_def->schema, sc->new_def->name);
        if (nt && strcmp(nt->tschema, old_tschema) == 0 &&
            target_rename_table(in->tgt, old_tschema, old_tname, nt->tname) != 0)
            rc = tfail(in, "renaming the table", nt);
        else if (nt)
            integ_log(in, STATELOG_INFO, nt->source, "ddl", "renamed table %s to %s", old_tname, nt->tname);
    }
    for (int i = 0; rc == 0 && i < in->ntables; i++) {
        struct itable *it = &in->tables[i];
        const struct ztable *od = NULL;
        for (int k = 0; k < nold; k++)
            if (old[k] && strcmp(old[k]->schema, it->def->schema) == 0 && strcmp(old[k]->name, it->def->name) == 0)
                od = old[k];
        if (!od && sc->kind == ZDDL_RENAME_TABLE && sc->old_def && sc->new_def &&
            strcmp(sc->new_def->name, it->def->name) == 0)
            od = renamed_from;
        if (!od) {                      /* a new table: created empty, its rows follow in the stream */
            integ_log(in, STATELOG_INFO, it->source, "ddl", "new table, created in the target");
            rc = align_table(in, it, NULL);
            if (rc == 0) integ_set_table_state(in, it, TSTATE_SYNCED, NULL, NULL);
        } else if (it->state != TSTATE_RESYNC_REQUIRED) {
            rc = align_table(in, it, od);
        }
    }
    for (int i = 0; i < nold; i++) ztable_free(old[i]);
    free(old);
    ztable_free(renamed_from);
    return rc;
}
