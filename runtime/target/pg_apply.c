/*
 * pg_apply.c — the pg driver's target_apply (target.h; pgt_apply) and its
 * raw load (pgt_load_raw_*).
 *
 * postgres dialect, per table, per segment of the batch:
 *   COPY pg_temp.zetl_stage_N (cols…, zetl$op, zetl$n, zetl$id) FROM STDIN
 *       the segment's rows, text format, built in one reused buffer and sent
 *       in ~1 MB PQputCopyData chunks (no per-row round trip)
 *   keyed:   DELETE FROM t USING stage s WHERE t.k = s.k          (upserts and deletes)
 *            INSERT INTO t (cols) SELECT cols FROM stage WHERE zetl$op = 'u'
 *   keyless: DELETE at most -n matching rows per stage row (ctid, row_number)
 *            INSERT n copies per stage row with n > 0 (generate_series)
 *   partial: UPDATE t SET known cols = s.cols FROM stage s WHERE t.k = s.k
 *            one set-based UPDATE per shape (which columns are known), up to 64
 *            shapes; beyond that, and for key moves, one parameterized UPDATE per row
 * The stage is a session temp table, ON COMMIT DELETE ROWS, created once per
 * target table per session (CREATE TABLE AS SELECT the source's columns FROM
 * the target WITH NO DATA: the target's types, no NOT NULL), truncated when a
 * second segment of the same table reuses it in one transaction.
 *
 * soft delete (ztable.soft_delete): the keyed DELETE takes the upserts only;
 *            UPDATE t SET _zetl_is_deleted = true, _zetl_deleted_at = the time
 *            FROM stage s WHERE t.k = s.k AND s.zetl$op = 'd' (zetl$n holds a
 *            delete's time in µs); a TRUNCATE marks every live row
 *
 * history (ztable.history; a segment per source transaction, batch.c):
 *            UPDATE t SET _record_is_active = false, _record_delete_time = the
 *            time FROM stage s WHERE t.k = s.k AND t._record_is_active (upserts
 *            and deletes), then INSERT the upserts as active versions created
 *            at their time (zetl$n: µs); a TRUNCATE closes every active one
 *
 * The stage's own columns are named zetl$op, zetl$n, zetl$id: "$" cannot start
 * an SQL identifier nor appear in MySQL/PostgreSQL names without quoting, so a
 * source column is very unlikely to collide (a collision fails loudly at CREATE).
 *
 * redshift dialect: sqlgen.c's statements, executed with PQexecParams.
 */
#include "runtime/target/target_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/base/clock.h"

#define COPY_CHUNK (1u << 20)

/* ---- staging tables -------------------------------------------------------------- */

static char *stage_key(const char *schema, const char *table)
{
    size_t a = strlen(schema), b = strlen(table);
    char *k = malloc(a + b + 2);
    if (!k) return NULL;
    memcpy(k, schema, a);
    k[a] = '\x1f';
    memcpy(k + a + 1, table, b + 1);
    return k;
}

static uint64_t cols_sig(const struct ztable *d)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < d->ncols; i++) {
        for (const char *s = d->cols[i].name; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
        h = (h ^ 0x1f) * 0x100000001b3ULL;
    }
    return h;
}

static int stage_find(struct target *t, const char *schema, const char *table)
{
    for (int i = 0; i < t->nstages; i++) {
        const char *k = t->stages[i].key;
        size_t a = strlen(schema);
        if (strncmp(k, schema, a) == 0 && k[a] == '\x1f' && strcmp(k + a + 1, table) == 0) return i;
    }
    return -1;
}

static void stage_remove(struct target *t, int i)
{
    free(t->stages[i].key);
    t->stages[i] = t->stages[--t->nstages];
}

void tgt_stage_forget(struct target *t, const char *schema, const char *table)
{
    int i = stage_find(t, schema, table);
    if (i < 0) return;
    char sql[96];
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS pg_temp.zetl_stage_%d", t->stages[i].id);
    PQclear(tgt_q(t, sql));             /* a name never reused: a failure is harmless */
    stage_remove(t, i);
}

void tgt_stage_rollback(struct target *t)
{
    for (int i = t->nstages - 1; i >= 0; i--) {
        if (t->stages[i].created_txn) stage_remove(t, i);
        else t->stages[i].used_txn = 0;
    }
}

void tgt_stage_commit(struct target *t)
{
    for (int i = 0; i < t->nstages; i++) t->stages[i].created_txn = t->stages[i].used_txn = 0;
}

/* The staging table for bt, created or emptied as needed; returns its id or -1. */
static int stage_get(struct target *t, const struct zb_table *bt)
{
    uint64_t sig = cols_sig(bt->def);
    int i = stage_find(t, bt->tschema, bt->tname);
    if (i >= 0 && t->stages[i].sig != sig) {
        tgt_stage_forget(t, bt->tschema, bt->tname);
        i = -1;
    }
    char sql[96];
    if (i >= 0) {
        struct stage *st = &t->stages[i];
        if (st->used_txn) {
            snprintf(sql, sizeof sql, "TRUNCATE pg_temp.zetl_stage_%d", st->id);
            if (tgt_exec(t, sql, "emptying a staging table")) return -1;
        }
        st->used_txn = 1;
        return st->id;
    }
    if (t->nstages == t->capstages) {
        int cap = t->capstages ? t->capstages * 2 : 8;
        struct stage *n = realloc(t->stages, (size_t)cap * sizeof *n);
        if (!n) goto oom;
        t->stages = n;
        t->capstages = cap;
    }
    int id = ++t->next_stage_id;
    struct zbuf *s = &t->sql;
    s->len = 0;
    snprintf(sql, sizeof sql, "CREATE TEMP TABLE zetl_stage_%d ON COMMIT DELETE ROWS AS SELECT ", id);
    tbuf_puts(s, sql);
    for (int c = 0; c < bt->def->ncols; c++) {
        tbuf_ident(s, bt->def->cols[c].name);
        tbuf_puts(s, ", ");
    }
    tbuf_puts(s, "NULL::\"char\" AS zetl$op, 0::bigint AS zetl$n, 0::bigint AS zetl$id FROM ");
    tbuf_qname(s, bt->tschema, bt->tname);
    tbuf_puts(s, " WITH NO DATA");
    if (s->oom) goto oom;
    char what[300];
    snprintf(what, sizeof what, "creating the staging table for %s.%s", bt->tschema, bt->tname);
    if (tgt_exec(t, s->p, what)) return -1;
    struct stage *st = &t->stages[t->nstages];
    st->key = stage_key(bt->tschema, bt->tname);
    if (!st->key) goto oom;
    st->sig = sig;
    st->id = id;
    st->created_txn = 1;
    st->used_txn = 1;
    t->nstages++;
    return id;
oom:
    snprintf(t->err, sizeof t->err, "target %s: out of memory staging %s.%s", t->integration,
             bt->tschema, bt->tname);
    return -1;
}

/* ---- COPY --------------------------------------------------------------------------- */

static int copy_flush(struct target *t)
{
    if (t->copy.oom) {
        snprintf(t->err, sizeof t->err, "target %s: out of memory building COPY data", t->integration);
        return -1;
    }
    if (t->copy.len && pgw_put_copy(&t->w, t->copy.p, t->copy.len) != 0) {
        tgt_seterr(t, NULL, "sending COPY data");
        return -1;
    }
    t->copy.len = 0;
    return 0;
}

/* Send the COPY … FROM STDIN in t->sql; 0 when the server waits for data. */
static int copy_start(struct target *t, const char *what)
{
    PGresult *r = tgt_q(t, t->sql.p);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        tgt_seterr(t, r, what);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    t->copy.len = 0;
    return 0;
}

/* End the COPY (aborting it when rv != 0) and read its result; count the
 * rows into the transaction's total when they land in the table itself. */
static int copy_finish(struct target *t, int rv, const char *what, int count_rows)
{
    if (rv == 0) rv = copy_flush(t);
    if (t->w.dead) return -1;                   /* the failure that gave it up said why */
    if (pgw_end_copy(&t->w, rv ? "zetl: aborted" : NULL) != 0) {
        if (rv == 0) tgt_seterr(t, NULL, what);
        return -1;
    }
    PGresult *r;
    for (;;) {
        if (pgw_result(&t->w, &r) != 0) {
            if (rv == 0) tgt_seterr(t, NULL, what);
            return -1;
        }
        if (!r) break;
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rv == 0) {
            tgt_seterr(t, r, what);
            rv = -1;
        } else if (PQresultStatus(r) == PGRES_COMMAND_OK && count_rows) {
            t->txn_rows += strtoull(PQcmdTuples(r), NULL, 10);
        }
        PQclear(r);
    }
    return rv;
}

/* A fresh insert (batch.h) already inserted by insert_fresh: not staged. */
static int inserted(const struct zb_row *r, int fresh_done)
{
    return fresh_done && r->fresh && r->state == ZB_UPSERT;
}

static int stage_rows(const struct zb_seg *s, int fresh_done)
{
    int n = 0;
    for (int i = 0; i < s->nrows; i++) {
        uint8_t st = s->rows[i].state;
        if (inserted(&s->rows[i], fresh_done)) continue;
        n += st == ZB_UPSERT || st == ZB_DELETE || st == ZB_PARTIAL ||
             (st == ZB_COUNT && s->rows[i].n != 0);
    }
    return n;
}

/* Partial rows grouped by which columns they know: one set-based UPDATE per
 * group. grp[i] = group of row i, rep[g] = a row of group g. */
#define MAX_PARTIAL_GROUPS 64

static int same_known(const struct zb_table *bt, const struct zvalue *a, const struct zvalue *b)
{
    for (int c = 0; c < bt->def->ncols; c++)
        if ((a[c].kind == ZV_UNCHANGED) != (b[c].kind == ZV_UNCHANGED)) return 0;
    return 1;
}

static int partial_groups(const struct zb_table *bt, const struct zb_seg *s, int *grp, int *rep)
{
    int ng = 0;
    for (int i = 0; i < s->nrows; i++) {
        grp[i] = -1;
        if (s->rows[i].state != ZB_PARTIAL) continue;
        for (int g = 0; g < ng && grp[i] < 0; g++)
            if (same_known(bt, s->rows[rep[g]].image, s->rows[i].image)) grp[i] = g;
        if (grp[i] < 0 && ng < MAX_PARTIAL_GROUPS) {
            rep[ng] = i;
            grp[i] = ng++;
        }
    }
    return ng;
}

static int copy_segment(struct target *t, const struct zb_table *bt, const struct zb_seg *s, int id,
                        const int *grp, int fresh_done)
{
    struct zbuf *q = &t->sql;
    char sql[64];
    q->len = 0;
    snprintf(sql, sizeof sql, "COPY pg_temp.zetl_stage_%d (", id);
    tbuf_puts(q, sql);
    for (int c = 0; c < bt->def->ncols; c++) {
        tbuf_ident(q, bt->def->cols[c].name);
        tbuf_puts(q, ", ");
    }
    tbuf_puts(q, "zetl$op, zetl$n, zetl$id) FROM STDIN");
    char what[300];
    snprintf(what, sizeof what, "COPY into the staging table of %s.%s", bt->tschema, bt->tname);
    if (copy_start(t, what) != 0) return -1;
    int rv = 0;
    for (int i = 0; i < s->nrows && rv == 0; i++) {
        const struct zb_row *row = &s->rows[i];
        char op;
        if (inserted(row, fresh_done)) continue;
        if (row->state == ZB_UPSERT) op = 'u';
        else if (row->state == ZB_DELETE) op = 'd';
        else if (row->state == ZB_COUNT && row->n != 0) op = 'k';
        else if (row->state == ZB_PARTIAL && grp[i] >= 0) op = 'p';
        else continue;
        for (int c = 0; c < bt->def->ncols; c++) {
            target_copy_field(&t->copy, &bt->def->cols[c], &row->image[c]);
            tbuf_putc(&t->copy, '\t');
        }
        char tail[64];
        int n = snprintf(tail, sizeof tail, "%c\t%" PRId64 "\t%d\n", op,
                         op == 'p' ? (int64_t)grp[i]
                         : op == 'd' || (op == 'u' && bt->history) ? target_soft_time(row->at_us) : row->n, i);
        tbuf_put(&t->copy, tail, (size_t)n);
        if (t->copy.len >= COPY_CHUNK) rv = copy_flush(t);
    }
    return copy_finish(t, rv, what, 0);
}

/* ---- set-based merge ------------------------------------------------------------------ */

static void col_list(struct zbuf *q, const struct ztable *d, const char *prefix)
{
    for (int c = 0; c < d->ncols; c++) {
        if (c) tbuf_puts(q, ", ");
        tbuf_puts(q, prefix);
        tbuf_ident(q, d->cols[c].name);
    }
}

static int exec_counted(struct target *t, const char *what)
{
    if (t->sql.oom) {
        snprintf(t->err, sizeof t->err, "target %s: out of memory", t->integration);
        return -1;
    }
    PGresult *r = tgt_q(t, t->sql.p);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        tgt_seterr(t, r, what);
        PQclear(r);
        return -1;
    }
    t->txn_rows += strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}

/* "t.k = s.k AND ..." over the key's columns. */
static void key_join(struct zbuf *q, const struct zb_table *bt)
{
    for (int k = 0; k < bt->nkeycols; k++) {
        const char *n = bt->def->cols[bt->keycols[k]].name;
        if (k) tbuf_puts(q, " AND ");
        tbuf_puts(q, "t.");
        tbuf_ident(q, n);
        tbuf_puts(q, " = s.");
        tbuf_ident(q, n);
    }
}

/* The stage's rows as the mode has them (zetl$n: their time in µs): a
 * soft-delete table's deletes mark their rows; a history table's upserts
 * and deletes close their keys' active versions. */
static int mark_stage_rows(struct target *t, const struct zb_table *bt, const char *st)
{
    int h = bt->history;
    struct zbuf *q = &t->sql;
    char what[300];
    q->len = 0;
    tbuf_puts(q, "UPDATE ");
    tbuf_qname(q, bt->tschema, bt->tname);
    tbuf_puts(q, " AS t SET ");
    tbuf_ident(q, h ? TARGET_HIST_ACTIVE : TARGET_SOFT_DELETED);
    tbuf_puts(q, h ? " = false, " : " = true, ");
    tbuf_ident(q, h ? TARGET_HIST_DELETED : TARGET_SOFT_DELETED_AT);
    tbuf_puts(q, " = ");
    target_soft_time_sql(q, "s.zetl$n");
    tbuf_puts(q, " FROM ");
    tbuf_puts(q, st);
    tbuf_puts(q, " AS s WHERE ");
    key_join(q, bt);
    if (h) {
        tbuf_puts(q, " AND t.");
        tbuf_ident(q, TARGET_HIST_ACTIVE);
    }
    tbuf_puts(q, h ? " AND s.zetl$op IN ('u', 'd')" : " AND s.zetl$op = 'd'");
    snprintf(what, sizeof what, h ? "closing versions of %s.%s" : "marking deleted rows of %s.%s", bt->tschema, bt->tname);
    return exec_counted(t, what);
}

/* History: close the active versions of the stage's keys, add the upserts'. */
static int merge_history(struct target *t, const struct zb_table *bt, const char *st, int any_upsert)
{
    struct zbuf *q = &t->sql;
    char what[300];
    if (mark_stage_rows(t, bt, st)) return -1;
    if (!any_upsert) return 0;
    q->len = 0;
    tbuf_puts(q, "INSERT INTO ");
    tbuf_qname(q, bt->tschema, bt->tname);
    tbuf_puts(q, " (");
    col_list(q, bt->def, "");
    tbuf_puts(q, ", ");
    tbuf_ident(q, TARGET_HIST_ACTIVE);
    tbuf_puts(q, ", ");
    tbuf_ident(q, TARGET_HIST_CREATED);
    tbuf_puts(q, ") SELECT ");
    col_list(q, bt->def, "");
    tbuf_puts(q, ", true, ");
    target_soft_time_sql(q, "zetl$n");
    tbuf_puts(q, " FROM ");
    tbuf_puts(q, st);
    tbuf_puts(q, " WHERE zetl$op = 'u'");
    snprintf(what, sizeof what, "adding versions to %s.%s", bt->tschema, bt->tname);
    return exec_counted(t, what);
}

static int merge_keyed(struct target *t, const struct zb_table *bt, int id, int any_upsert)
{
    int soft = bt->def->soft_delete;
    if (bt->history) {
        char hs[48];
        snprintf(hs, sizeof hs, "pg_temp.zetl_stage_%d", id);
        return merge_history(t, bt, hs, any_upsert);
    }
    struct zbuf *q = &t->sql;
    char st[48], what[300];
    snprintf(st, sizeof st, "pg_temp.zetl_stage_%d", id);
    q->len = 0;
    tbuf_puts(q, "DELETE FROM ");
    tbuf_qname(q, bt->tschema, bt->tname);
    tbuf_puts(q, " AS t USING ");
    tbuf_puts(q, st);
    tbuf_puts(q, " AS s WHERE ");
    key_join(q, bt);
    tbuf_puts(q, soft ? " AND s.zetl$op = 'u'" : " AND s.zetl$op <> 'p'");
    snprintf(what, sizeof what, "deleting changed rows of %s.%s", bt->tschema, bt->tname);
    if ((!soft || any_upsert) && exec_counted(t, what)) return -1;
    if (soft && mark_stage_rows(t, bt, st)) return -1;
    if (!any_upsert) return 0;
    q->len = 0;
    tbuf_puts(q, "INSERT INTO ");
    tbuf_qname(q, bt->tschema, bt->tname);
    tbuf_puts(q, " (");
    col_list(q, bt->def, "");
    tbuf_puts(q, ") SELECT ");
    col_list(q, bt->def, "");
    tbuf_puts(q, " FROM ");
    tbuf_puts(q, st);
    tbuf_puts(q, " WHERE zetl$op = 'u'");
    snprintf(what, sizeof what, "inserting rows into %s.%s", bt->tschema, bt->tname);
    return exec_counted(t, what);
}

/* UPDATE the known non-key columns of one group of partial rows from the stage. */
static int merge_partial(struct target *t, const struct zb_table *bt, int id, int g,
                         const struct zvalue *rep)
{
    struct zbuf *q = &t->sql;
    char st[48], what[300], cond[96];
    int nset = 0;
    snprintf(st, sizeof st, "pg_temp.zetl_stage_%d", id);
    q->len = 0;
    tbuf_puts(q, "UPDATE ");
    tbuf_qname(q, bt->tschema, bt->tname);
    tbuf_puts(q, " AS t SET ");
    for (int c = 0; c < bt->def->ncols; c++) {
        if (rep[c].kind == ZV_UNCHANGED || bt->def->cols[c].pk_ord > 0) continue;
        if (nset++) tbuf_puts(q, ", ");
        tbuf_ident(q, bt->def->cols[c].name);
        tbuf_puts(q, " = s.");
        tbuf_ident(q, bt->def->cols[c].name);
    }
    if (!nset) return 0;
    tbuf_puts(q, " FROM ");
    tbuf_puts(q, st);
    tbuf_puts(q, " AS s WHERE ");
    key_join(q, bt);
    tbuf_puts(q, " AND ");
    snprintf(cond, sizeof cond, "s.zetl$op = 'p' AND s.zetl$n = %d", g);
    tbuf_puts(q, cond);
    snprintf(what, sizeof what, "updating rows of %s.%s (unchanged TOAST values kept)",
             bt->tschema, bt->tname);
    return exec_counted(t, what);
}

/* Keyless: remove at most -n matching rows per stage row, then add n copies.
 * Rows match on their text form ROW(cols)::text, which tells NULL from '' and
 * works for types without equality (json) and hash-joins. */
static int merge_keyless(struct target *t, const struct zb_table *bt, int id, int any_del,
                         int any_add)
{
    struct zbuf *q = &t->sql;
    char st[48], what[300];
    snprintf(st, sizeof st, "pg_temp.zetl_stage_%d", id);
    if (any_del) {
        q->len = 0;
        tbuf_puts(q, "DELETE FROM ");
        tbuf_qname(q, bt->tschema, bt->tname);
        tbuf_puts(q, " WHERE ctid = ANY (ARRAY(SELECT x.ctid FROM (SELECT t.ctid, s.zetl$n, "
                     "row_number() OVER (PARTITION BY s.zetl$id ORDER BY t.ctid) AS rn FROM ");
        tbuf_qname(q, bt->tschema, bt->tname);
        tbuf_puts(q, " AS t JOIN ");
        tbuf_puts(q, st);
        tbuf_puts(q, " AS s ON ROW(");
        col_list(q, bt->def, "t.");
        tbuf_puts(q, ")::text = ROW(");
        col_list(q, bt->def, "s.");
        tbuf_puts(q, ")::text WHERE s.zetl$n < 0) AS x WHERE x.rn <= -x.zetl$n))");
        snprintf(what, sizeof what, "deleting rows of %s.%s (no primary key)", bt->tschema, bt->tname);
        if (exec_counted(t, what)) return -1;
    }
    if (any_add) {
        q->len = 0;
        tbuf_puts(q, "INSERT INTO ");
        tbuf_qname(q, bt->tschema, bt->tname);
        tbuf_puts(q, " (");
        col_list(q, bt->def, "");
        tbuf_puts(q, ") SELECT ");
        col_list(q, bt->def, "s.");
        tbuf_puts(q, " FROM ");
        tbuf_puts(q, st);
        tbuf_puts(q, " AS s, generate_series(1, s.zetl$n) AS g WHERE s.zetl$n > 0");
        snprintf(what, sizeof what, "inserting rows into %s.%s (no primary key)", bt->tschema, bt->tname);
        if (exec_counted(t, what)) return -1;
    }
    return 0;
}

/* COPY "schema"."table" (def's columns) FROM STDIN; 0 when the server waits for data. */
static int copy_into_fmt(struct target *t, const char *schema, const char *table, const struct ztable *def,
                         int binary, const char *what)
{
    struct zbuf *q = &t->sql;
    q->len = 0;
    tbuf_puts(q, "COPY ");
    tbuf_qname(q, schema, table);
    tbuf_puts(q, " (");
    col_list(q, def, "");
    tbuf_puts(q, binary ? ") FROM STDIN WITH (FORMAT binary)" : ") FROM STDIN");
    return copy_start(t, what);
}

static int copy_into(struct target *t, const char *schema, const char *table, const struct ztable *def,
                     const char *what)
{
    return copy_into_fmt(t, schema, table, def, 0, what);
}

/* One row of COPY text into t->copy, sent when a chunk is full. */
static int copy_image(struct target *t, const struct ztable *def, const struct zvalue *image)
{
    target_copy_row(&t->copy, def, image);
    return t->copy.len >= COPY_CHUNK ? copy_flush(t) : 0;
}

/* Load mode: only inserts (keyed upserts, keyless counts above zero)? */
static int inserts_only(const struct zb_seg *s)
{
    for (int i = 0; i < s->nrows; i++) {
        uint8_t st = s->rows[i].state;
        if (st == ZB_NONE || (st == ZB_COUNT && s->rows[i].n == 0)) continue;
        if (st != ZB_UPSERT && !(st == ZB_COUNT && s->rows[i].n > 0)) return 0;
    }
    return 1;
}

/* Load mode: COPY the segment's rows straight into the (freshly truncated) table. */
static int load_segment(struct target *t, const struct zb_table *bt, const struct zb_seg *s)
{
    char what[300];
    snprintf(what, sizeof what, "COPY into %s.%s", bt->tschema, bt->tname);
    if (copy_into(t, bt->tschema, bt->tname, bt->def, what) != 0) return -1;
    int rv = 0;
    for (int i = 0; i < s->nrows && rv == 0; i++) {
        const struct zb_row *row = &s->rows[i];
        int64_t copies = row->state == ZB_UPSERT ? 1 : row->state == ZB_COUNT ? row->n : 0;
        for (int64_t k = 0; k < copies && rv == 0; k++) rv = copy_image(t, bt->def, row->image);
    }
    return copy_finish(t, rv, what, 1);
}

/* ---- raw load (target.h) -------------------------------------------------------------- */

int pgt_load_raw_ok(const struct target *t)
{
    return t->kind == TARGET_POSTGRES && t->load && t->in_txn && !t->raw_copy;
}

int pgt_load_binary_ok(struct target *t, const char *tschema, const char *tname,
                       const struct ztable *def, int src_version, const char *src_encoding)
{
    if (t->kind != TARGET_POSTGRES || t->raw_copy) return 0;
    const char *enc = PQparameterStatus(t->conn, "server_encoding");
    if (src_version / 10000 != PQserverVersion(t->conn) / 10000 || !src_encoding || !enc ||
        strcmp(src_encoding, enc) != 0)
        return 0;
    struct zbuf *q = &t->sql;
    q->len = 0;
    tbuf_qname(q, tschema, tname);
    if (q->oom) return 0;
    const char *params[1] = {q->p};
    /* to_regclass: a missing table gives no rows, not an error that would
     * abort the load transaction this runs in. */
    PGresult *r = tgt_qp(t,
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.atttypid < 16384"
        " FROM pg_catalog.pg_attribute a"
        " WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
        1, params, NULL);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    for (int c = 0; ok && c < def->ncols; c++) {
        const struct zcolumn *col = &def->cols[c];
        int found = 0;
        for (int i = 0; i < PQntuples(r) && !found; i++) {
            if (strcmp(PQgetvalue(r, i, 0), col->name) != 0) continue;
            found = 1;
            ok = col->pg_builtin && col->source_type && PQgetvalue(r, i, 2)[0] == 't' &&
                 strcmp(PQgetvalue(r, i, 1), col->source_type) == 0;
        }
        ok &= found;
    }
    PQclear(r);
    return ok;
}

int pgt_load_raw_begin(struct target *t, const char *tschema, const char *tname,
                       const struct ztable *def, int binary)
{
    if (!pgt_load_raw_ok(t)) {
        snprintf(t->err, sizeof t->err, "target %s: raw load of %s.%s outside a load transaction",
                 t->integration, tschema, tname);
        return -1;
    }
    char what[300];
    snprintf(what, sizeof what, "%sCOPY into %s.%s", binary ? "binary " : "", tschema, tname);
    if (copy_into_fmt(t, tschema, tname, def, binary, what) != 0) return -1;
    t->raw_copy = 1;
    return 0;
}

int pgt_load_raw_data(struct target *t, const char *buf, size_t len)
{
    if (!t->raw_copy) {
        snprintf(t->err, sizeof t->err, "target %s: raw load data without a COPY", t->integration);
        return -1;
    }
    if (pgw_put_copy(&t->w, buf, len) != 0) {     /* in chunks of ~1 MB */
        tgt_seterr(t, NULL, "sending COPY data");
        return -1;
    }
    return 0;
}

int pgt_load_raw_end(struct target *t, int abort)
{
    if (!t->raw_copy) return 0;
    t->raw_copy = 0;
    t->copy.len = 0;
    return copy_finish(t, abort ? -1 : 0, "COPY (raw load)", 1);
}

/*
 * Streaming, keyed tables: the segment's fresh inserts (batch.h) are COPYed
 * straight into the table — no staging, no delete join — which is most of a
 * typical insert-heavy stream. They did not exist at the source when the
 * segment began, and the target is the source as of the checkpoint, so none
 * is in the table; should one be after all (a target written by someone
 * else, a copy that overlapped the stream), the unique violation rolls back
 * to the savepoint and the segment goes the delete-and-insert way.
 * 1 inserted, 0 fell back, -1 error.
 */
static int insert_fresh(struct target *t, const struct zb_table *bt, const struct zb_seg *s)
{
    if (tgt_exec(t, "SAVEPOINT zetl_fresh", "savepoint") != 0) return -1;
    char what[300];
    snprintf(what, sizeof what, "COPY of new rows into %s.%s", bt->tschema, bt->tname);
    int rv = copy_into(t, bt->tschema, bt->tname, bt->def, what);
    if (rv == 0) {
        for (int i = 0; i < s->nrows && rv == 0; i++)
            if (inserted(&s->rows[i], 1)) rv = copy_image(t, bt->def, s->rows[i].image);
        rv = copy_finish(t, rv, what, 1);
    }
    if (rv == 0) return tgt_exec(t, "RELEASE SAVEPOINT zetl_fresh", "savepoint") == 0 ? 1 : -1;
    if (strcmp(t->sqlstate, "23505") != 0) return -1;
    return tgt_exec(t, "ROLLBACK TO SAVEPOINT zetl_fresh", "savepoint") == 0 &&
           tgt_exec(t, "RELEASE SAVEPOINT zetl_fresh", "savepoint") == 0 ? 0 : -1;
}

static int apply_pg_segment(struct target *t, const struct zb_table *bt, const struct zb_seg *s)
{
    /* history: copied rows active, at now(); no partial or moved row reaches
     * here (zbatch_add refuses them for a history table) */
    if (t->load && !s->move && inserts_only(s)) return load_segment(t, bt, s);
    int fresh_done = 0;
    /* Fresh inserts by COPY need the primary key's index to refuse one
     * that exists (23505); a unique key of the source has no index here. */
    if (bt->def->npk > 0 && !s->move && !bt->history) {
        int nfresh = 0;
        for (int i = 0; i < s->nrows && !nfresh; i++) nfresh += inserted(&s->rows[i], 1);
        if (nfresh && (fresh_done = insert_fresh(t, bt, s)) < 0) return -1;
    }
    int rv = -1, ng = 0;
    int *grp = malloc((size_t)(s->nrows ? s->nrows : 1) * sizeof *grp);
    int rep[MAX_PARTIAL_GROUPS];
    if (!grp) {
        snprintf(t->err, sizeof t->err, "target %s: out of memory applying %s.%s", t->integration,
                 bt->tschema, bt->tname);
        return -1;
    }
    ng = bt->keyed ? partial_groups(bt, s, grp, rep) : 0;
    if (!bt->keyed)
        for (int i = 0; i < s->nrows; i++) grp[i] = -1;
    if (stage_rows(s, fresh_done)) {
        int any_upsert = 0, any_del = 0, any_add = 0, any_keyed = 0;
        for (int i = 0; i < s->nrows; i++) {
            uint8_t st = s->rows[i].state;
            if (inserted(&s->rows[i], fresh_done)) continue;
            any_upsert |= st == ZB_UPSERT;
            any_keyed |= st == ZB_UPSERT || st == ZB_DELETE;
            any_del |= st == ZB_COUNT && s->rows[i].n < 0;
            any_add |= st == ZB_COUNT && s->rows[i].n > 0;
        }
        int id = stage_get(t, bt);
        if (id < 0 || copy_segment(t, bt, s, id, grp, fresh_done)) goto out;
        if (bt->keyed) {
            if (any_keyed && merge_keyed(t, bt, id, any_upsert)) goto out;
            for (int g = 0; g < ng; g++)
                if (merge_partial(t, bt, id, g, s->rows[rep[g]].image)) goto out;
        } else if (merge_keyless(t, bt, id, any_del, any_add))
            goto out;
    }
    /* Moves, and partial rows beyond MAX_PARTIAL_GROUPS shapes: one UPDATE each. */
    for (int i = 0; i < s->nrows; i++)
        if ((s->rows[i].state == ZB_MOVE || (s->rows[i].state == ZB_PARTIAL && grp[i] < 0)) &&
            target_partial_update_sql(bt, &s->rows[i], 0, tgt_stmt, t, t->err, sizeof t->err)) goto out;
    rv = 0;
out:
    free(grp);
    return rv;
}

/* A TRUNCATE of a history table closes every active version; of a
 * soft-delete table, marks every live row: at the truncating transaction's
 * time (a parameter). */
static int truncate_marked(struct target *t, const struct zb_table *bt)
{
    int h = bt->history;
    const char *flag = h ? TARGET_HIST_ACTIVE : TARGET_SOFT_DELETED;
    char at[32];
    snprintf(at, sizeof at, "%" PRId64, target_soft_time(bt->truncate_us));
    t->sql.len = 0;
    tbuf_puts(&t->sql, "UPDATE ");
    tbuf_qname(&t->sql, bt->tschema, bt->tname);
    tbuf_puts(&t->sql, " SET ");
    tbuf_ident(&t->sql, flag);
    tbuf_puts(&t->sql, h ? " = false, " : " = true, ");
    tbuf_ident(&t->sql, h ? TARGET_HIST_DELETED : TARGET_SOFT_DELETED_AT);
    tbuf_puts(&t->sql, " = ");
    target_soft_time_sql(&t->sql, "$1::bigint");
    tbuf_puts(&t->sql, h ? " WHERE " : " WHERE NOT ");
    tbuf_ident(&t->sql, flag);
    tbuf_putc(&t->sql, '\0');
    const char *v[1] = {at};
    int64_t n;
    return t->sql.oom || tgt_stmt(t, t->sql.p, 1, v, NULL, &n) ? -1 : 0;
}

int pgt_apply(struct target *t, const struct zbatch *b)
{
    if (t->raw_copy) {
        snprintf(t->err, sizeof t->err, "target %s: apply while a raw COPY is open", t->integration);
        return -1;
    }
    if (!t->in_txn) {
        snprintf(t->err, sizeof t->err, "target %s: apply outside a transaction (call target_begin)",
                 t->integration);
        return -1;
    }
    for (int ti = 0; ti < b->ntables; ti++) {
        const struct zb_table *bt = &b->tables[ti];
        if (t->kind == TARGET_REDSHIFT) {
            char e[512];
            e[0] = 0;
            if (target_redshift_table_sql(bt, tgt_stmt, t, e, sizeof e)) {
                if (e[0]) snprintf(t->err, sizeof t->err, "target %s: %s.%s: %s", t->integration,
                                   bt->tschema, bt->tname, e);
                return -1;
            }
            continue;
        }
        if (bt->truncate && (bt->history || bt->def->soft_delete)) {
            if (truncate_marked(t, bt)) return -1;
        } else if (bt->truncate) {
            t->sql.len = 0;
            tbuf_puts(&t->sql, "TRUNCATE ");
            tbuf_qname(&t->sql, bt->tschema, bt->tname);
            char what[300];
            snprintf(what, sizeof what, "truncating %s.%s", bt->tschema, bt->tname);
            if (exec_counted(t, what)) return -1;
        }
        for (int si = 0; si < bt->nsegs; si++)
            if (apply_pg_segment(t, bt, &bt->segs[si])) return -1;
    }
    return 0;
}
