/*
 * demo_load.c — connections to the demo's servers, generated rows inserted
 * with bind parameters, and the initial load of `tickit` and `shop`
 * (see demo.h, demo_int.h).
 *
 * MariaDB: one prepared multi-row INSERT (up to 500 rows of ? markers) is
 * executed over and over with fresh bound text values; commits every 50,000
 * rows keep the transactions big but the undo log small. PostgreSQL: the
 * same shape with $n parameters through PQexecParams, one transaction.
 */
#include "runtime/base/clock.h"
#include "tui/demo/demo_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "runtime/mysql/conn.h"
#include "runtime/target/target.h"

#define LOAD_COMMIT_ROWS 50000
#define MY_ROWS_PER_STMT 500
#define PG_ROWS_PER_STMT 500

static double mono_s(void) { return (double)zclock_mono_us() / 1e6; }

/* ---- connections ------------------------------------------------------------ */

int demo_my_connect(MYSQL **out, const struct demo_servers *s, int timeout_s,
                    char *err, size_t errlen)
{
    char host[] = "127.0.0.1", user[] = "zetl", password[sizeof s->my_password];
    snprintf(password, sizeof password, "%s", s->my_password);
    struct config_source src = {
        .host = host, .port = s->my_port, .user = user,     /* the demo's MariaDB */
        .password = password, .tls = TLS_DISABLE,
    };
    int rc = mysql_conn_open(out, "demo", &src, timeout_s, err, errlen);
    memset(password, 0, sizeof password);
    return rc;
}

static void pg_notice_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *demo_pg_connect(const struct demo_servers *s, int pgsrc, const char *dbname,
                        char *err, size_t errlen)
{
    char port[16];
    snprintf(port, sizeof port, "%d", pgsrc ? s->pgsrc_port : s->pgtgt_port);
    const char *keys[] = {"host", "port", "dbname", "user", "password", "connect_timeout",
                          "application_name", "sslmode", NULL};
    const char *vals[] = {"127.0.0.1", port, dbname, "zetl", s->pg_password, "10",
                          "zetl demo", "disable", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 0);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", c ? PQerrorMessage(c) : "out of memory");
        msg[strcspn(msg, "\n")] = '\0';
        snprintf(err, errlen, "demo: cannot connect to the PostgreSQL %s at 127.0.0.1:%s, database %s: %s",
                 pgsrc ? "source" : "warehouse", port, dbname, msg);
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, pg_notice_quiet, NULL);
    return c;
}

int demo_my_exec(MYSQL *db, const char *sql, char *err, size_t errlen)
{
    if (mysql_query(db, sql) == 0) return 0;
    snprintf(err, errlen, "MariaDB: %s (error %u) running: %.160s", mysql_error(db), mysql_errno(db), sql);
    return -1;
}

static int pg_result_ok(PGconn *c, PGresult *r, const char *what, char *err, size_t errlen)
{
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return 0;
    char msg[400];
    snprintf(msg, sizeof msg, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
    msg[strcspn(msg, "\n")] = '\0';
    snprintf(err, errlen, "PostgreSQL: %s running: %.160s", msg, what);
    return -1;
}

int demo_pg_exec(PGconn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    int rc = pg_result_ok(c, r, sql, err, errlen);
    PQclear(r);
    return rc;
}

/* ---- multi-row inserts ---------------------------------------------------------- */

static void my_ident(struct zbuf *b, const char *name)
{
    tbuf_putc(b, '`');
    for (const char *p = name; *p; p++) {
        if (*p == '`') tbuf_putc(b, '`');
        tbuf_putc(b, *p);
    }
    tbuf_putc(b, '`');
}

/* INSERT INTO t (cols) VALUES (m, m, ...), ... for nrows rows; mysql: ? markers, else $n. */
static int insert_sql(struct zbuf *b, const struct demo_table *t, int nrows, int mysql)
{
    char num[24];
    b->len = 0;
    tbuf_puts(b, "INSERT INTO ");
    if (mysql) { my_ident(b, t->schema); tbuf_putc(b, '.'); my_ident(b, t->name); }
    else tbuf_qname(b, t->schema, t->name);
    tbuf_puts(b, " (");
    for (int c = 0; c < t->ncols; c++) {
        if (c) tbuf_puts(b, ", ");
        if (mysql) my_ident(b, t->cols[c]);
        else tbuf_ident(b, t->cols[c]);
    }
    tbuf_puts(b, ") VALUES ");
    for (int i = 0, n = 1; i < nrows; i++) {
        tbuf_puts(b, i ? ", (" : "(");
        for (int c = 0; c < t->ncols; c++, n++) {
            if (c) tbuf_putc(b, ',');
            if (mysql) tbuf_putc(b, '?');
            else { snprintf(num, sizeof num, "$%d", n); tbuf_puts(b, num); }
        }
        tbuf_putc(b, ')');
    }
    tbuf_putc(b, '\0');
    return b->oom ? -1 : 0;
}

/* Generate rows first_id.. into rows[0..k); -1 when a generator disagrees with the columns. */
static int gen_rows(const struct demo_table *t, struct demo_gen *g, int64_t first_id, int k,
                    struct demo_row *rows, char *err, size_t errlen)
{
    for (int i = 0; i < k; i++) {
        demo_row_reset(&rows[i]);
        t->gen(g, first_id + i, &rows[i]);
        if (rows[i].n != t->ncols) {
            snprintf(err, errlen, "demo: %s.%s row generator made %d values for %d columns",
                     t->schema, t->name, rows[i].n, t->ncols);
            return -1;
        }
    }
    return 0;
}

MYSQL_STMT *demo_my_prepare(MYSQL *db, const char *sql, char *err, size_t errlen)
{
    MYSQL_STMT *st = mysql_stmt_init(db);
    if (!st) {
        snprintf(err, errlen, "MariaDB: out of memory preparing a statement");
        return NULL;
    }
    if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
        snprintf(err, errlen, "MariaDB: %s (error %u) preparing: %.160s", mysql_stmt_error(st),
                 mysql_stmt_errno(st), sql);
        mysql_stmt_close(st);
        return NULL;
    }
    return st;
}

/*
 * One server's way of sending chunks of generated rows as one multi-row
 * INSERT each. insert_chunks generates the rows; send binds and executes.
 */
struct inserter {
    const struct demo_table *t;
    int          per;               /* rows in a full statement */
    int        (*send)(struct inserter *ins, struct demo_row *rows, int k, char *err, size_t errlen);
    struct zbuf  sql;
    MYSQL       *db;                /* MariaDB: one statement for full chunks, one for the tail */
    MYSQL_STMT  *full, *tail;
    MYSQL_BIND  *binds;
    PGconn      *pg;                /* PostgreSQL: the text of the last statement, its row count */
    int          sql_rows;
    const char **vals;
};

static int insert_chunks(struct inserter *ins, struct demo_gen *g, int64_t first_id, int64_t count,
                         const volatile sig_atomic_t *cancel, char *err, size_t errlen)
{
    const struct demo_table *t = ins->t;
    struct demo_row *rows = calloc((size_t)ins->per, sizeof *rows);
    int rc = -1;
    if (!rows) {
        snprintf(err, errlen, "demo: out of memory loading %s.%s", t->schema, t->name);
        return -1;
    }
    for (int64_t done = 0; done < count;) {
        if (cancel && *cancel) { rc = 1; goto out; }
        int k = count - done < ins->per ? (int)(count - done) : ins->per;
        if (gen_rows(t, g, first_id + done, k, rows, err, errlen) != 0) goto out;
        if (ins->send(ins, rows, k, err, errlen) != 0) {
            size_t n = strlen(err);
            snprintf(err + n, errlen - n, " (rows %lld.. of %s.%s)", (long long)(first_id + done),
                     t->schema, t->name);
            goto out;
        }
        done += k;
    }
    rc = 0;
out:
    free(rows);
    return rc;
}

static int my_send(struct inserter *ins, struct demo_row *rows, int k, char *err, size_t errlen)
{
    const struct demo_table *t = ins->t;
    MYSQL_STMT **st = k == ins->per ? &ins->full : &ins->tail;
    if (!*st) {
        if (insert_sql(&ins->sql, t, k, 1) != 0) {
            snprintf(err, errlen, "demo: out of memory building an INSERT");
            return -1;
        }
        if (!(*st = demo_my_prepare(ins->db, ins->sql.p, err, errlen))) return -1;
    }
    for (int i = 0; i < k; i++)
        for (int c = 0; c < t->ncols; c++) {
            MYSQL_BIND *b = &ins->binds[i * t->ncols + c];
            memset(b, 0, sizeof *b);
            b->buffer_type = rows[i].v[c] ? MYSQL_TYPE_STRING : MYSQL_TYPE_NULL;
            b->buffer = (void *)rows[i].v[c];
            b->buffer_length = rows[i].len[c];
            b->length = &rows[i].len[c];
        }
    if (mysql_stmt_bind_param(*st, ins->binds) != 0 || mysql_stmt_execute(*st) != 0) {
        snprintf(err, errlen, "MariaDB: %s (error %u) inserting", mysql_stmt_error(*st), mysql_stmt_errno(*st));
        return -1;
    }
    return 0;
}

static int pg_send(struct inserter *ins, struct demo_row *rows, int k, char *err, size_t errlen)
{
    const struct demo_table *t = ins->t;
    if (k != ins->sql_rows) {
        if (insert_sql(&ins->sql, t, k, 0) != 0) {
            snprintf(err, errlen, "demo: out of memory building an INSERT");
            return -1;
        }
        ins->sql_rows = k;
    }
    for (int i = 0; i < k; i++)
        for (int c = 0; c < t->ncols; c++) ins->vals[i * t->ncols + c] = rows[i].v[c];
    PGresult *r = PQexecParams(ins->pg, ins->sql.p, k * t->ncols, NULL, ins->vals, NULL, NULL, 0);
    int rc = pg_result_ok(ins->pg, r, "INSERT", err, errlen);
    PQclear(r);
    return rc;
}

static int rows_per_stmt(const struct demo_table *t, int most)
{
    return 65535 / t->ncols < most ? 65535 / t->ncols : most;   /* both servers: 65535 markers */
}

int demo_my_insert(MYSQL *db, const struct demo_table *t, struct demo_gen *g,
                   int64_t first_id, int64_t count, int64_t commit_every,
                   const volatile sig_atomic_t *cancel, char *err, size_t errlen)
{
    struct inserter ins = {.t = t, .per = rows_per_stmt(t, MY_ROWS_PER_STMT), .send = my_send, .db = db};
    int64_t slice = commit_every > 0 ? commit_every : count;
    int rc = -1;
    ins.binds = calloc((size_t)ins.per * (size_t)t->ncols, sizeof *ins.binds);
    if (!ins.binds) {
        snprintf(err, errlen, "demo: out of memory loading %s.%s", t->schema, t->name);
        return -1;
    }
    for (int64_t done = 0; done < count; done += slice) {
        int64_t n = count - done < slice ? count - done : slice;
        if ((rc = insert_chunks(&ins, g, first_id + done, n, cancel, err, errlen)) != 0) break;
        if (commit_every > 0 && mysql_commit(db) != 0) {
            snprintf(err, errlen, "MariaDB: %s (error %u) committing %s.%s", mysql_error(db),
                     mysql_errno(db), t->schema, t->name);
            rc = -1;
            break;
        }
    }
    if (ins.full) mysql_stmt_close(ins.full);
    if (ins.tail) mysql_stmt_close(ins.tail);
    tbuf_free(&ins.sql);
    free(ins.binds);
    return rc;
}

int demo_pg_insert(PGconn *c, const struct demo_table *t, struct demo_gen *g,
                   int64_t first_id, int64_t count,
                   const volatile sig_atomic_t *cancel, char *err, size_t errlen)
{
    struct inserter ins = {.t = t, .per = rows_per_stmt(t, PG_ROWS_PER_STMT), .send = pg_send, .pg = c};
    ins.vals = calloc((size_t)ins.per * (size_t)t->ncols, sizeof *ins.vals);
    if (!ins.vals) {
        snprintf(err, errlen, "demo: out of memory loading %s.%s", t->schema, t->name);
        return -1;
    }
    int rc = insert_chunks(&ins, g, first_id, count, cancel, err, errlen);
    tbuf_free(&ins.sql);
    free(ins.vals);
    return rc;
}

/* ---- the initial load ---------------------------------------------------------- */

static void progress_line(FILE *progress, const struct demo_table *t, int64_t n, double secs)
{
    if (!progress) return;
    char name[64];
    snprintf(name, sizeof name, "%s.%s", t->schema, t->name);
    fprintf(progress, "  %-18s %8lld rows  %5.1f s\n", name, (long long)n, secs);
    fflush(progress);
}

int demo_load_tickit(const struct demo_servers *s, const struct demo_sizes *z,
                     FILE *progress, const volatile sig_atomic_t *cancel,
                     char *err, size_t errlen)
{
    MYSQL *db = NULL;
    int rc = -1;
    if (demo_my_connect(&db, s, 60, err, errlen) != 0) return -1;
    if (demo_my_exec(db, "DROP DATABASE IF EXISTS `tickit`", err, errlen) != 0 ||
        demo_my_exec(db, "CREATE DATABASE `tickit` CHARACTER SET utf8mb4", err, errlen) != 0 ||
        mysql_autocommit(db, 0) != 0)
        goto out;
    for (int i = 0; i < demo_ntickit_tables; i++) {
        const struct demo_table *t = &demo_tickit_tables[i];
        struct demo_gen g = {.z = z};
        demo_rng_seed(&g.rng, DEMO_SEED + (uint64_t)i * 7919);
        double t0 = mono_s();
        int64_t n = demo_table_rows(t, z);
        if (demo_my_exec(db, t->ddl, err, errlen) != 0) goto out;
        int r = demo_my_insert(db, t, &g, 1, n, LOAD_COMMIT_ROWS, cancel, err, errlen);
        if (r != 0) { rc = r; goto out; }
        progress_line(progress, t, n, mono_s() - t0);
    }
    rc = 0;
out:
    mysql_close(db);
    return rc;
}

/* CREATE DATABASE cannot run in a transaction block: one statement per call. */
static int pg_fresh_database(const struct demo_servers *s, int pgsrc, const char *name,
                             char *err, size_t errlen)
{
    PGconn *c = demo_pg_connect(s, pgsrc, "zetl", err, errlen);
    if (!c) return -1;
    struct zbuf sql = {0};
    tbuf_puts(&sql, "DROP DATABASE IF EXISTS ");
    tbuf_ident(&sql, name);
    tbuf_putc(&sql, '\0');
    int rc = sql.oom ? -1 : demo_pg_exec(c, sql.p, err, errlen);
    sql.len = 0;
    tbuf_puts(&sql, "CREATE DATABASE ");
    tbuf_ident(&sql, name);
    tbuf_puts(&sql, " OWNER \"zetl\"");
    tbuf_putc(&sql, '\0');
    if (rc == 0) rc = sql.oom ? -1 : demo_pg_exec(c, sql.p, err, errlen);
    if (sql.oom) snprintf(err, errlen, "demo: out of memory");
    tbuf_free(&sql);
    PQfinish(c);
    return rc;
}

int demo_load_shop(const struct demo_servers *s, const struct demo_sizes *z,
                   FILE *progress, const volatile sig_atomic_t *cancel,
                   char *err, size_t errlen)
{
    if (pg_fresh_database(s, 0, "warehouse", err, errlen) != 0) return -1;
    if (pg_fresh_database(s, 1, "shop", err, errlen) != 0) return -1;
    PGconn *c = demo_pg_connect(s, 1, "shop", err, errlen);
    if (!c) return -1;
    int rc = -1;
    if (demo_pg_exec(c, "BEGIN", err, errlen) != 0 ||
        demo_pg_exec(c, "CREATE SCHEMA \"shop\"", err, errlen) != 0)
        goto out;
    for (int i = 0; i < demo_nshop_tables; i++) {
        const struct demo_table *t = &demo_shop_tables[i];
        struct demo_gen g = {.z = z};
        demo_rng_seed(&g.rng, DEMO_SEED + 1000003u + (uint64_t)i * 7919);
        double t0 = mono_s();
        int64_t n = demo_table_rows(t, z);
        if (demo_pg_exec(c, t->ddl, err, errlen) != 0) goto out;
        int r = demo_pg_insert(c, t, &g, 1, n, cancel, err, errlen);
        if (r != 0) { rc = r; goto out; }
        progress_line(progress, t, n, mono_s() - t0);
    }
    if (demo_pg_exec(c, "COMMIT", err, errlen) != 0) goto out;
    rc = 0;
out:
    PQfinish(c);
    return rc;
}
