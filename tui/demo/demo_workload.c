/*
 * demo_workload.c — the demo's live workload, one thread (see demo.h).
 *
 * Every 100 ms ("a tick") it commits one MariaDB transaction of
 * tickit_per_s/10 single-row changes — 45 % new sales, 30 % sales updated,
 * 15 % sales deleted, 10 % users updated — and one PostgreSQL transaction of
 * shop_per_s/10 operations: a new order with 1-3 lines, a status change, a
 * stock change or a cancelled order deleted with its lines. A tick that
 * falls behind is skipped, not made up: a loaded machine gets a lower rate,
 * never a pile-up. On schedule it also commits a burst of DEMO_BURST_ROWS
 * new sales in one transaction and, once, ALTER TABLE tickit.sales ADD
 * COLUMN channel (new sales then fill it in).
 *
 * A failed statement is counted with its message, its transaction rolled
 * back and the connection dropped; the next tick connects again.
 * Counters are affected rows as the servers report them.
 */
#include "runtime/base/clock.h"
#include "tui/demo/demo_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICK_MS 100

struct demo_workload {
    struct demo_workload_opts o;
    pthread_t       thread;
    atomic_int      stop;
    pthread_mutex_t mu;                 /* guards st */
    struct demo_workload_stats st;
    /* the thread's own */
    MYSQL          *my;
    MYSQL_STMT     *upd_sale, *del_sale, *upd_user;
    PGconn         *pg;
    struct demo_gen g;
    int64_t         next_sale, next_order;
};

static void count(struct demo_workload *w, int shop, int64_t ins, int64_t upd, int64_t del)
{
    pthread_mutex_lock(&w->mu);
    w->st.inserts += ins;
    w->st.updates += upd;
    w->st.deletes += del;
    if (shop) w->st.shop_changes += ins + upd + del;
    else w->st.tickit_changes += ins + upd + del;
    pthread_mutex_unlock(&w->mu);
}

static void failed(struct demo_workload *w, const char *msg)
{
    pthread_mutex_lock(&w->mu);
    w->st.errors++;
    snprintf(w->st.last_error, sizeof w->st.last_error, "%s", msg);
    pthread_mutex_unlock(&w->mu);
}

/* ---- MariaDB: tickit ------------------------------------------------------------- */

static void my_close(struct demo_workload *w)
{
    MYSQL_STMT **st[] = {&w->upd_sale, &w->del_sale, &w->upd_user};
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
        if (*st[i]) { mysql_stmt_close(*st[i]); *st[i] = NULL; }
    if (w->my) { mysql_close(w->my); w->my = NULL; }
}

static int my_open(struct demo_workload *w, char *err, size_t errlen)
{
    if (w->my) return 0;
    if (demo_my_connect(&w->my, w->o.srv, 30, err, errlen) != 0) return -1;
    if (mysql_autocommit(w->my, 0) != 0 ||
        !(w->upd_sale = demo_my_prepare(w->my, "UPDATE `tickit`.`sales` SET `qtysold` = ?, `pricepaid` = ?,"
                                   " `commission` = ? WHERE `salesid` = ?", err, errlen)) ||
        !(w->del_sale = demo_my_prepare(w->my, "DELETE FROM `tickit`.`sales` WHERE `salesid` = ?", err, errlen)) ||
        !(w->upd_user = demo_my_prepare(w->my, "UPDATE `tickit`.`users` SET `city` = ?, `likejazz` = ?"
                                   " WHERE `userid` = ?", err, errlen))) {
        if (!err[0]) snprintf(err, errlen, "MariaDB: %s", mysql_error(w->my));
        my_close(w);
        return -1;
    }
    return 0;
}

/* Execute st with the row's values as text parameters; *affected rows. */
static int my_run(MYSQL_STMT *st, const struct demo_row *r, int64_t *affected, char *err, size_t errlen)
{
    MYSQL_BIND b[DEMO_ROW_MAXCOLS];
    memset(b, 0, sizeof b);
    for (int i = 0; i < r->n; i++) {
        b[i].buffer_type = r->v[i] ? MYSQL_TYPE_STRING : MYSQL_TYPE_NULL;
        b[i].buffer = (void *)r->v[i];
        b[i].buffer_length = r->len[i];
        b[i].length = (unsigned long *)&r->len[i];
    }
    if (mysql_stmt_bind_param(st, b) != 0 || mysql_stmt_execute(st) != 0) {
        snprintf(err, errlen, "MariaDB: %s (error %u)", mysql_stmt_error(st), mysql_stmt_errno(st));
        return -1;
    }
    *affected = (int64_t)mysql_stmt_affected_rows(st);
    return 0;
}

static const struct demo_table *sales_table(const struct demo_workload *w)
{
    return w->g.with_channel ? &demo_sales_with_channel : demo_sales_table;
}

static int tickit_tick(struct demo_workload *w, int n, char *err, size_t errlen)
{
    int64_t ins = 0, upd = 0, del = 0, a = 0;
    struct demo_row r;
    struct demo_rng *rng = &w->g.rng;
    for (int i = 0; i < n; i++) {
        int pick = (int)demo_rng_range(rng, 0, 99);
        demo_row_reset(&r);
        if (pick < 45) {
            if (demo_my_insert(w->my, sales_table(w), &w->g, w->next_sale, 1, 0, NULL, err, errlen) != 0)
                return -1;
            w->next_sale++;
            ins++;
        } else if (pick < 75) {
            int64_t qty = demo_rng_range(rng, 1, 8), paid = qty * demo_rng_range(rng, 1500, 90000);
            demo_row_add(&r, "%lld", (long long)qty);
            demo_row_money(&r, paid);
            demo_row_money(&r, (paid * 15 + 50) / 100);
            demo_row_add(&r, "%lld", (long long)demo_rng_range(rng, 1, w->next_sale - 1));
            if (my_run(w->upd_sale, &r, &a, err, errlen) != 0) return -1;
            upd += a;
        } else if (pick < 90) {
            demo_row_add(&r, "%lld", (long long)demo_rng_range(rng, 1, w->next_sale - 1));
            if (my_run(w->del_sale, &r, &a, err, errlen) != 0) return -1;
            del += a;
        } else {
            demo_row_add(&r, "%s", demo_pick_city(&w->g));
            demo_row_add(&r, "%d", demo_rng_percent(rng, 50));
            demo_row_add(&r, "%lld", (long long)demo_rng_range(rng, 1, w->g.z->users));
            if (my_run(w->upd_user, &r, &a, err, errlen) != 0) return -1;
            upd += a;
        }
    }
    if (mysql_commit(w->my) != 0) {
        snprintf(err, errlen, "MariaDB: %s committing", mysql_error(w->my));
        return -1;
    }
    count(w, 0, ins, upd, del);
    return 0;
}

static int tickit_burst(struct demo_workload *w, char *err, size_t errlen)
{
    if (demo_my_insert(w->my, sales_table(w), &w->g, w->next_sale, DEMO_BURST_ROWS, 0, NULL, err, errlen) != 0)
        return -1;
    if (mysql_commit(w->my) != 0) {
        snprintf(err, errlen, "MariaDB: %s committing the burst", mysql_error(w->my));
        return -1;
    }
    w->next_sale += DEMO_BURST_ROWS;
    count(w, 0, DEMO_BURST_ROWS, 0, 0);
    pthread_mutex_lock(&w->mu);
    w->st.bursts++;
    pthread_mutex_unlock(&w->mu);
    return 0;
}

/* ---- PostgreSQL: shop --------------------------------------------------------------- */

static int pg_run(PGconn *c, const char *sql, const struct demo_row *r, int64_t *affected,
                  char *err, size_t errlen)
{
    PGresult *res = PQexecParams(c, sql, r->n, NULL, r->v, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        snprintf(err, errlen, "PostgreSQL: %s", PQresultErrorMessage(res));
        err[strcspn(err, "\n")] = '\0';
        PQclear(res);
        return -1;
    }
    *affected = atoll(PQcmdTuples(res));
    PQclear(res);
    return 0;
}

static int shop_tick(struct demo_workload *w, int n, char *err, size_t errlen)
{
    static const char ins_item[] =
        "INSERT INTO \"shop\".\"order_items\" (\"order_id\", \"line_no\", \"product_id\", \"qty\","
        " \"unit_price\") VALUES ($1, $2, $3, $4, $5)";
    static const char upd_order[] = "UPDATE \"shop\".\"orders\" SET \"status\" = $1 WHERE \"order_id\" = $2";
    static const char upd_stock[] =
        "UPDATE \"shop\".\"products\" SET \"stock\" = \"stock\" + $1 WHERE \"product_id\" = $2";
    static const char del_items[] = "DELETE FROM \"shop\".\"order_items\" WHERE \"order_id\" = $1";
    static const char del_order[] = "DELETE FROM \"shop\".\"orders\" WHERE \"order_id\" = $1";
    int64_t ins = 0, upd = 0, del = 0, a = 0;
    struct demo_row r;
    struct demo_rng *rng = &w->g.rng;
    if (demo_pg_exec(w->pg, "BEGIN", err, errlen) != 0) return -1;
    for (int i = 0; i < n; i++) {
        int pick = (int)demo_rng_range(rng, 0, 99);
        demo_row_reset(&r);
        if (pick < 40) {
            int64_t id = w->next_order;
            if (demo_pg_insert(w->pg, demo_orders_table, &w->g, id, 1, NULL, err, errlen) != 0) return -1;
            w->next_order++;
            ins++;
            for (int line = 1, lines = (int)demo_rng_range(rng, 1, 3); line <= lines; line++) {
                demo_row_reset(&r);
                demo_gen_order_item(&w->g, id, line, &r);
                if (pg_run(w->pg, ins_item, &r, &a, err, errlen) != 0) return -1;
                ins += a;
            }
        } else if (pick < 70) {
            demo_row_add(&r, "%s", demo_pick_order_status(&w->g));
            demo_row_add(&r, "%lld", (long long)demo_rng_range(rng, 1, w->next_order - 1));
            if (pg_run(w->pg, upd_order, &r, &a, err, errlen) != 0) return -1;
            upd += a;
        } else if (pick < 85) {
            demo_row_add(&r, "%d", (int)demo_rng_range(rng, -3, 5));
            demo_row_add(&r, "%lld", (long long)demo_rng_range(rng, 1, w->g.z->products));
            if (pg_run(w->pg, upd_stock, &r, &a, err, errlen) != 0) return -1;
            upd += a;
        } else {
            demo_row_add(&r, "%lld", (long long)demo_rng_range(rng, 1, w->next_order - 1));
            if (pg_run(w->pg, del_items, &r, &a, err, errlen) != 0) return -1;
            del += a;
            if (pg_run(w->pg, del_order, &r, &a, err, errlen) != 0) return -1;
            del += a;
        }
    }
    if (demo_pg_exec(w->pg, "COMMIT", err, errlen) != 0) return -1;
    count(w, 1, ins, upd, del);
    return 0;
}

/* ---- the thread ------------------------------------------------------------------------ */

static void pause_ms(struct demo_workload *w, int64_t ms)
{
    int64_t end = zclock_mono_ms() + ms;
    while (!atomic_load(&w->stop)) {
        int64_t left = end - zclock_mono_ms();
        if (left <= 0) break;
        struct timespec ts = {0, (left > 50 ? 50 : left) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Run one step on tickit; on failure count it and drop the connection. */
static void tickit_step(struct demo_workload *w, int (*step)(struct demo_workload *, int, char *, size_t),
                        int n)
{
    char err[600] = "";
    if (my_open(w, err, sizeof err) != 0 || step(w, n, err, sizeof err) != 0) {
        failed(w, err);
        if (w->my) mysql_rollback(w->my);
        my_close(w);
    }
}

static int burst_step(struct demo_workload *w, int n, char *err, size_t errlen)
{
    (void)n;
    return tickit_burst(w, err, errlen);
}

static int alter_step(struct demo_workload *w, int n, char *err, size_t errlen)
{
    (void)n;
    if (demo_my_exec(w->my, demo_sales_add_column, err, errlen) != 0) return -1;
    w->g.with_channel = 1;
    return 0;
}

static void *workload_main(void *arg)
{
    struct demo_workload *w = arg;
    const struct demo_workload_opts *o = &w->o;
    int64_t t0 = zclock_mono_ms(), next_tick = t0;
    int64_t next_burst = o->burst_first_s >= 0 ? t0 + (int64_t)o->burst_first_s * 1000 : -1;
    int64_t alter_at = o->alter_after_s >= 0 ? t0 + (int64_t)o->alter_after_s * 1000 : -1;
    int my_per_tick = o->tickit_per_s * TICK_MS / 1000, pg_per_tick = o->shop_per_s * TICK_MS / 1000;
    while (!atomic_load(&w->stop)) {
        int64_t now = zclock_mono_ms();
        if (alter_at >= 0 && now >= alter_at) {
            tickit_step(w, alter_step, 0);
            if (w->g.with_channel) {
                pthread_mutex_lock(&w->mu);
                w->st.altered_at_s = (int)((now - t0) / 1000);
                pthread_mutex_unlock(&w->mu);
                alter_at = -1;
            }
        }
        if (next_burst >= 0 && now >= next_burst) {
            tickit_step(w, burst_step, 0);
            next_burst = o->burst_every_s > 0 ? next_burst + (int64_t)o->burst_every_s * 1000 : -1;
        }
        if (my_per_tick > 0) tickit_step(w, tickit_tick, my_per_tick);
        if (pg_per_tick > 0) {
            char err[600] = "";
            if (!w->pg) w->pg = demo_pg_connect(o->srv, 1, "shop", err, sizeof err);
            if (!w->pg || shop_tick(w, pg_per_tick, err, sizeof err) != 0) {
                failed(w, err);
                if (w->pg) PQfinish(w->pg);
                w->pg = NULL;
            }
        }
        next_tick += TICK_MS;
        now = zclock_mono_ms();
        if (next_tick < now - 1000) next_tick = now;      /* fell behind: skip, do not pile up */
        pause_ms(w, next_tick - now);
    }
    my_close(w);
    if (w->pg) PQfinish(w->pg);
    w->pg = NULL;
    return NULL;
}

int demo_workload_start(struct demo_workload **out, const struct demo_workload_opts *o,
                        char *err, size_t errlen)
{
    *out = NULL;
    struct demo_workload *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "demo workload: out of memory");
        return -1;
    }
    w->o = *o;
    w->g.z = &w->o.sizes;
    demo_rng_seed(&w->g.rng, o->seed);
    w->next_sale = o->sizes.sales + 1;
    w->next_order = o->sizes.orders + 1;
    w->st.altered_at_s = -1;
    atomic_init(&w->stop, 0);
    pthread_mutex_init(&w->mu, NULL);
    if (pthread_create(&w->thread, NULL, workload_main, w) != 0) {
        snprintf(err, errlen, "demo workload: cannot start its thread");
        pthread_mutex_destroy(&w->mu);
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

void demo_workload_get_stats(struct demo_workload *w, struct demo_workload_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->st;
    pthread_mutex_unlock(&w->mu);
}

void demo_workload_stop(struct demo_workload *w)
{
    if (!w) return;
    atomic_store(&w->stop, 1);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
