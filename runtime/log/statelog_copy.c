/*
 * statelog_copy.c — a table's copy progress in the SQLite log: the writes of
 * the copying thread (begin, rows, estimate, add) and the rows/s and ETA
 * every reader computes from them. Contract: statelog.h "Copy progress".
 */
#include "runtime/log/statelog_int.h"

/* Step st, bound for the row (integration, table), which must exist. */
static int step_table(struct statelog *sl, sqlite3_stmt *st, const char *op,
                      const char *integration, const char *table)
{
    if (sl_step_done(sl, st, op) < 0)
        return -1;
    if (sqlite3_changes(sl->db) == 0)
        return sl_failf(sl, "%s: no table %s in integration %s", op, table, integration);
    return 0;
}

static int copy_begin(struct statelog *sl, const char *integration, const char *table,
                      int64_t rows, int64_t chunks)
{
    const char *op = "copy begin";
    sqlite3_stmt *st = sl_stmt(sl, SQ_TABLE_COPY_BEGIN, op);

    if (!st)
        return -1;
    sl_bind_text(st, 1, integration);
    sl_bind_text(st, 2, table);
    sqlite3_bind_int64(st, 3, rows > 0 ? rows : 0);
    sl_bind_unknown(st, 4, chunks);
    sqlite3_bind_int64(st, 5, statelog_now_ms());
    return step_table(sl, st, op, integration, table);
}

static int copy_rows(struct statelog *sl, const char *integration, const char *table)
{
    const char *op = "copy rows";
    sqlite3_stmt *st = sl_stmt(sl, SQ_TABLE_COPY_ROWS, op);

    if (!st)
        return -1;
    sl_bind_text(st, 1, integration);
    sl_bind_text(st, 2, table);
    sqlite3_bind_int64(st, 3, statelog_now_ms());
    return step_table(sl, st, op, integration, table);
}

static int copy_estimate(struct statelog *sl, const char *integration, const char *table,
                         int64_t estimated)
{
    const char *op = "copy estimate";
    sqlite3_stmt *st = sl_stmt(sl, SQ_TABLE_COPY_EST, op);

    if (!st)
        return -1;
    sl_bind_text(st, 1, integration);
    sl_bind_text(st, 2, table);
    sqlite3_bind_int64(st, 3, estimated > 0 ? estimated : 0);
    sqlite3_bind_int64(st, 4, statelog_now_ms());
    return step_table(sl, st, op, integration, table);
}

static int copy_add(struct statelog *sl, const char *integration, const char *table,
                    int64_t rows, int64_t chunks)
{
    const char *op = "copy add";
    sqlite3_stmt *st = sl_stmt(sl, SQ_TABLE_COPY_ADD, op);

    if (!st)
        return -1;
    sl_bind_text(st, 1, integration);
    sl_bind_text(st, 2, table);
    sqlite3_bind_int64(st, 3, rows);
    sqlite3_bind_int64(st, 4, chunks);
    sqlite3_bind_int64(st, 5, statelog_now_ms());
    sqlite3_bind_int64(st, 6, STATELOG_COPY_WINDOW_MS);
    return step_table(sl, st, op, integration, table);
}

int statelog_copy_begin(struct statelog *sl, const char *integration, const char *table,
                        int64_t rows, int64_t chunks)
{
    int rc;

    SL_RUN(sl, rc, copy_begin(sl, integration, table, rows, chunks));
    return rc;
}

int statelog_copy_rows(struct statelog *sl, const char *integration, const char *table)
{
    int rc;

    SL_RUN(sl, rc, copy_rows(sl, integration, table));
    return rc;
}

int statelog_copy_estimate(struct statelog *sl, const char *integration, const char *table,
                           int64_t estimated)
{
    int rc;

    SL_RUN(sl, rc, copy_estimate(sl, integration, table, estimated));
    return rc;
}

int statelog_copy_add(struct statelog *sl, const char *integration, const char *table,
                      int64_t rows, int64_t chunks)
{
    int rc;

    SL_RUN(sl, rc, copy_add(sl, integration, table, rows, chunks));
    return rc;
}

/*
 * Rows/s from the base to now: unknown without a base, within the first
 * second of it (a figure from a few rows over a few milliseconds says
 * nothing), and while no row came since it (the copy's rows have not begun).
 * The ETA needs a rate and an estimate not yet reached.
 */
void statelog_copy_rate_at(const struct statelog_table *t, int64_t now, double *rows_per_s,
                           int64_t *eta_s)
{
    *rows_per_s = -1;
    *eta_s = -1;
    if (!t->copy_base_at || now - t->copy_base_at < 1000 || t->rows_copied <= t->copy_base_rows)
        return;
    double rate = (double)(t->rows_copied - t->copy_base_rows) * 1000.0 / (double)(now - t->copy_base_at);
    *rows_per_s = rate;
    if (t->rows_estimated > t->rows_copied) {
        double s = (double)(t->rows_estimated - t->rows_copied) / rate;
        if (s > 1e12)
            s = 1e12;                   /* a crawl: still a number, never an overflow */
        int64_t whole = (int64_t)s;
        *eta_s = whole + ((double)whole < s);
    }
}
