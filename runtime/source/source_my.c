/*
 * source_my.c — the MySQL/MariaDB source driver (source_ops.h): the
 * catalog, the snapshot and one table again (runtime/mysql/snapshot.h), the
 * binlog as a replica (replica.h), what the server is and whether it holds
 * a checkpoint's GTIDs, and row counts.
 *
 * The short SQL connections (catalog, identity, counts: source_my.h) run on
 * the supervisor's thread. Thread: the caller's.
 */
#include "runtime/source/source_ops.h"

#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/integ/integ.h"
#include "runtime/mysql/conn.h"
#include "runtime/mysql/preflight.h"
#include "runtime/mysql/replica.h"
#include "runtime/mysql/schema.h"
#include "runtime/mysql/setup.h"
#include "runtime/mysql/snapshot.h"
#include "runtime/source/source.h"
#include "runtime/source/source_my.h"

static int my_load_tables(struct integ *in, struct ztable ***defs, int *n, char *err, size_t errlen)
{
    MYSQL *db = NULL;
    char e[1024];
    if (source_my_open(in, &db, err, errlen) != 0) return -1;
    int rc = mysql_schema_load(db, in->cfg, defs, n, e, sizeof e);
    if (rc != 0) snprintf(err, errlen, "source %s: %s", in->cfg->name, e);
    source_my_close(in, db);
    return rc;
}

struct my_reader {
    struct integ *in;
    MYSQL *side;            /* catalog connection for DDL refreshes, opened on first use */
};

/* A replicated table, or one the config would select (a new table): in a
 * listed database (mysql_schema_load's rule) and matching the patterns. */
static int my_want_table(void *ctx, const char *schema, const char *table)
{
    const struct my_reader *r = ctx;
    const struct config_source *src = &r->in->cfg->source;
    int listed = src->ndatabases == 0;
    for (int i = 0; i < src->ndatabases && !listed; i++) listed = strcmp(src->databases[i], schema) == 0;
    return integ_find_table(r->in, schema, table) != NULL ||
           (listed && config_table_selected(&r->in->cfg->tables, schema, table));
}

static int my_table_def(void *ctx, const char *schema, const char *table, struct ztable **out)
{
    struct my_reader *r = ctx;
    char e[1024];
    if (!r->side && mysql_conn_open_cut(&r->side, r->in->cfg->name, &r->in->cfg->source, 10,
                                        &r->in->rcut, e, sizeof e) != 0)
        return 1;           /* unknown: the decoder goes on with what the log says */
    int rc = mysql_schema_load_one(r->side, NULL, schema, table, out, e, sizeof e);
    return rc == 0 ? 0 : 1;
}

static void my_warn(void *ctx, const char *msg)
{
    struct my_reader *r = ctx;
    /* The reader thread has no state-log handle: warnings go to stderr only. */
    if (r->in->log_stderr) fprintf(stderr, "%s warning: %s\n", r->in->cfg->name, msg);
}

static int my_stream(struct integ *in, const struct zsink *sink, char *err, size_t errlen)
{
    struct my_reader r = {.in = in};
    struct mysql_replica_opts o = {
        .integration = in->cfg->name, .src = &in->cfg->source, .from = &in->resume,
        .sink = sink, .stop = &in->stop_reader, .heartbeat_ms = 1000, .cut = &in->rcut,
        .expire_s = &in->binlog_expire_s, .ctx = &r, .warn = my_warn, .want_table = my_want_table, .table_def = my_table_def,
    };
    int rc = mysql_replica_run(&o, err, errlen);
    mysql_conn_close_cut(r.side, &in->rcut);
    return rc == MYSQL_REPLICA_POSITION_LOST ? SOURCE_POSITION_LOST : rc;
}

struct my_copy {
    struct integ *in;
    const struct zsink *sink;
    const struct ztable *told;  /* the table whose estimate the sink was told last */
};

static int my_copy_row(void *ctx, const struct zrowchange *rc)
{
    struct my_copy *c = ctx;
    return c->sink->row(c->sink->ctx, rc);
}

/* The snapshot's progress calls carry the server's estimate of the table's
 * rows: the sink is told it once per table, as its copy starts. */
static void my_copy_progress(void *ctx, const struct ztable *t, uint64_t copied, uint64_t estimated)
{
    struct my_copy *c = ctx;
    (void)copied;
    if (c->told == t || !c->sink->estimate) return;
    c->told = t;
    c->sink->estimate(c->sink->ctx, t, (int64_t)estimated);
}

static void my_copy_warn(void *ctx, const char *msg)
{
    struct my_copy *c = ctx;
    if (c->in->log_stderr) fprintf(stderr, "%s warning: %s\n", c->in->cfg->name, msg);
}

/* A consistent read begun on a connection of its own; errors name the source. */
static int snapshot_open(struct integ *in, const struct mysql_snapshot_opts *o, struct mysql_snapshot **s,
                         char *err, size_t errlen)
{
    char e[1024];
    if (mysql_snapshot_begin(s, in->cfg, o, e, sizeof e) == 0) return 0;
    snprintf(err, errlen, "source %s: %s", in->cfg->name, e);
    return -1;
}

static int my_snapshot(struct integ *in, const struct zsink *sink, struct zpos *pos,
                       char *err, size_t errlen)
{
    struct my_copy c = {.in = in, .sink = sink};
    struct mysql_snapshot_opts o = {
        .row = my_copy_row, .progress = my_copy_progress, .warn = my_copy_warn, .ctx = &c,
        .stop = &in->stop, .cut = &in->cut,
    };
    struct mysql_snapshot *s = NULL;
    char e[1024];
    if (snapshot_open(in, &o, &s, err, errlen) != 0) return -1;
    enum mysql_snapshot_mode mode;
    mysql_snapshot_position(s, pos, &mode);
    int rc = 0;
    for (int i = 0; i < in->ntables && rc == 0; i++) {
        uint64_t rows = 0;
        rc = mysql_snapshot_copy(s, in->tables[i].def, &rows, e, sizeof e);
        if (rc == MYSQL_SNAPSHOT_NO_TABLE) {
            integ_log(in, STATELOG_WARNING, in->tables[i].source, "snapshot",
                      "dropped at the source before it could be copied");
            rc = 0;
        } else if (rc != 0) {
            snprintf(err, errlen, "source %s: %s", in->cfg->name, e);
        }
    }
    mysql_snapshot_end(s);
    return rc ? -1 : 0;
}

static int my_snapshot_table(struct integ *in, struct itable *t, const struct zsink *sink,
                             struct zpos *pos, char *err, size_t errlen)
{
    struct my_copy c = {.in = in, .sink = sink};
    /* its position judges the table's spooled changes by binlog offset, never a checkpoint */
    struct mysql_snapshot_opts o = {
        .row = my_copy_row, .progress = my_copy_progress, .warn = my_copy_warn, .ctx = &c,
        .stop = &in->stop, .cut = &in->cut, .no_gtid = 1,
    };
    enum mysql_snapshot_mode mode;
    uint64_t rows = 0;
    char e[1024];
    int rc = mysql_snapshot_table(in->cfg, t->def, &o, pos, &mode, &rows, e, sizeof e);
    if (rc != 0) {
        snprintf(err, errlen, "source %s: %s", in->cfg->name, e);
        return -1;
    }
    if (mode != MYSQL_SNAPSHOT_EXACT) pos->kind = ZPOS_NONE;   /* replay by key instead */
    return 0;
}

/* Chunks of a table (source_chunk_read): one connection, a fresh consistent
 * read for every chunk after the first. */
struct my_chunker {
    struct my_copy c;
    struct mysql_snapshot *s;
    int fresh;                  /* the snapshot's read has not been used yet */
    int shared;                 /* other readers copy the table at once: every read renews */
};

static int my_chunk_begin(struct integ *in, const struct zsink *sink, int shared, void **handle,
                          char *err, size_t errlen)
{
    struct my_chunker *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "source %s: out of memory", in->cfg->name);
        return -1;
    }
    k->c = (struct my_copy){.in = in, .sink = sink};
    /* a chunk's position judges spooled changes by binlog offset, never a checkpoint */
    struct mysql_snapshot_opts o = {
        .row = my_copy_row, .warn = my_copy_warn, .ctx = &k->c, .stop = &in->stop, .cut = &in->cut,
        .no_gtid = 1,
    };
    if (snapshot_open(in, &o, &k->s, err, errlen) != 0) {
        free(k);
        return -1;
    }
    k->fresh = 1;
    k->shared = shared;
    *handle = k;
    return 0;
}

static int my_chunk_read(void *handle, const struct ztable *t, const struct zchunk_req *q,
                         struct zpos *pos, uint64_t *rows, struct zkey *last, char *err, size_t errlen)
{
    struct my_chunker *k = handle;
    char e[1024];
    *rows = 0;
    /* Shared, even the first read renews: the read opened with the handle
     * may be older than another reader's of an earlier range. */
    if ((!k->fresh || k->shared) && mysql_snapshot_renew(k->s, e, sizeof e) != 0) goto fail;
    k->fresh = 0;
    enum mysql_snapshot_mode mode;
    mysql_snapshot_position(k->s, pos, &mode);
    if (mode != MYSQL_SNAPSHOT_EXACT) pos->kind = ZPOS_NONE;   /* replay by key instead */
    if (q->snapped) q->snapped(q->snap_ctx);
    if (k->c.told != t && k->c.sink->estimate) {     /* once, as the copy starts */
        k->c.told = t;
        k->c.sink->estimate(k->c.sink->ctx, t, (int64_t)mysql_snapshot_estimate(k->s, t));
    }
    if (mysql_snapshot_chunk(k->s, t, q->after, q->upto, q->limit, rows, last, e, sizeof e) != 0) goto fail;
    /* The read ends with its chunk: none stays open while the copy waits. */
    if (mysql_snapshot_release(k->s, e, sizeof e) != 0) goto fail;
    return 0;
fail:
    snprintf(err, errlen, "source %s: %s", k->c.in->cfg->name, e);
    return -1;
}

/* Where a chunk of n rows after *after ends (source_chunk_bound): in the
 * connection's last read, which any boundary does for (the ranges only
 * need to split the keys; their sizes may drift). */
static int my_chunk_bound(void *handle, const struct ztable *t, const struct zkey *after, uint32_t n,
                          struct zkey *bound, char *err, size_t errlen)
{
    struct my_chunker *k = handle;
    char e[1024];
    int rc = mysql_snapshot_chunk_bound(k->s, t, after, n, bound, e, sizeof e);
    if (rc < 0) snprintf(err, errlen, "source %s: %s", k->c.in->cfg->name, e);
    return rc;
}

static void my_chunk_end(void *handle)
{
    struct my_chunker *k = handle;
    mysql_snapshot_end(k->s);
    free(k);
}

static int my_start_row(void *ctx, const struct zrowchange *rc)
{
    (void)ctx;
    (void)rc;
    return 0;                   /* nothing is read in it */
}

/* The binlog position of a consistent read, taken and ended at once. */
static int my_start_at(struct integ *in, struct zpos *pos, char *err, size_t errlen)
{
    struct mysql_snapshot *s;
    struct mysql_snapshot_opts o = {.row = my_start_row, .stop = &in->stop, .cut = &in->cut};
    if (snapshot_open(in, &o, &s, err, errlen) != 0) return -1;
    enum mysql_snapshot_mode mode;
    mysql_snapshot_position(s, pos, &mode);
    mysql_snapshot_end(s);
    return mode == MYSQL_SNAPSHOT_EXACT ? 0 : 1;
}

static int my_column_backfilled(struct integ *in, const char *schema, const char *table,
                                const char *column, char *err, size_t errlen)
{
    MYSQL *db = NULL;
    if (source_my_open(in, &db, err, errlen) != 0) return -1;
    /* MariaDB spells "no default" on a nullable column as the text NULL. */
    static const char sql[] =
        "SELECT (COLUMN_DEFAULT IS NOT NULL AND COLUMN_DEFAULT <> 'NULL') OR IS_NULLABLE = 'NO'"
        " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ?";
    int rc = -1;
    MYSQL_STMT *st = mysql_stmt_init(db);
    MYSQL_BIND in_b[3], out_b[1];
    const char *vals[3] = {schema, table, column};
    unsigned long lens[3];
    long long result = 0;
    my_bool is_null = 0;
    memset(in_b, 0, sizeof in_b);
    memset(out_b, 0, sizeof out_b);
    for (int i = 0; i < 3; i++) {
        lens[i] = strlen(vals[i]);
        in_b[i].buffer_type = MYSQL_TYPE_STRING;
        in_b[i].buffer = (void *)vals[i];
        in_b[i].buffer_length = lens[i];
        in_b[i].length = &lens[i];
    }
    out_b[0].buffer_type = MYSQL_TYPE_LONGLONG;
    out_b[0].buffer = &result;
    out_b[0].is_null = &is_null;
    if (!st || mysql_stmt_prepare(st, sql, sizeof sql - 1) || mysql_stmt_bind_param(st, in_b) ||
        mysql_stmt_execute(st) || mysql_stmt_bind_result(st, out_b)) {
        snprintf(err, errlen, "source %s: reading the default of %s.%s.%s: %s", in->cfg->name,
                 schema, table, column, st ? mysql_stmt_error(st) : mysql_error(db));
        goto out;
    }
    int f = mysql_stmt_fetch(st);
    rc = (f == 0 && !is_null && result) ? 1 : 0;
out:
    if (st) mysql_stmt_close(st);
    source_my_close(in, db);
    return rc;
}

/*
 * MySQL names a server by @@server_uuid. MariaDB has none, so it is named by
 * what tells its servers apart best: @@server_id (unique within a replication
 * topology, which MariaDB requires), the server's own @@hostname:@@port (the
 * server's, not the config's route to it, so a new DNS name or address for
 * the same server changes nothing; and two independent servers that both
 * kept the default server_id=1 still differ), and @@gtid_domain_id (the
 * replication domain its GTIDs — the checkpoint's — belong to). A failover
 * changes the identity; ident.c then asks source_holds_gtid.
 */
static int my_identity(struct integ *in, char *buf, size_t len, char *err, size_t errlen)
{
    MYSQL *db = NULL;
    char e[1024];
    if (source_my_open(in, &db, err, errlen) != 0) return -1;
    int maria = mysql_conn_is_mariadb(db);
    MYSQL_RES *res = mysql_conn_query(db, maria ? "SELECT @@server_id, @@hostname, @@port, @@gtid_domain_id"
                                                : "SELECT @@server_uuid", e, sizeof e);
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    int rc = -1;
    if (!row) {
        snprintf(err, errlen, "source %s: reading the server's identity: %s", in->cfg->name,
                 res ? "no row" : e);
    } else if (maria) {
        snprintf(buf, len, "MariaDB server_id=%s hostname=%s:%s gtid_domain_id=%s", row[0] ? row[0] : "?",
                 row[1] ? row[1] : "?", row[2] ? row[2] : "?", row[3] ? row[3] : "?");
        rc = 0;
    } else {
        snprintf(buf, len, "MySQL server_uuid=%s", row[0] ? row[0] : "?");
        rc = 0;
    }
    if (res) mysql_free_result(res);
    source_my_close(in, db);
    return rc;
}

/* Next "domain-server-seq" of a MariaDB GTID list at *p; 0, or -1 at the end or on junk. */
static int next_gtid(const char **p, unsigned long *d, unsigned long *s, unsigned long long *n)
{
    const char *q = *p;
    while (*q == ',' || *q == ' ' || *q == '\n') q++;
    if (!*q) return -1;
    char *end;
    *d = strtoul(q, &end, 10);
    if (end == q || *end != '-') return -1;
    q = end + 1;
    *s = strtoul(q, &end, 10);
    if (end == q || *end != '-') return -1;
    q = end + 1;
    *n = strtoull(q, &end, 10);
    if (end == q) return -1;
    *p = end;
    return 0;
}

static int maria_holds(const char *gtid, const char *state)
{
    const char *p = gtid;
    unsigned long d, s;
    unsigned long long n;
    int any = 0;
    while (next_gtid(&p, &d, &s, &n) == 0) {
        int held = 0;
        const char *q = state;
        unsigned long d2, s2;
        unsigned long long n2;
        while (!held && next_gtid(&q, &d2, &s2, &n2) == 0)
            held = d2 == d && s2 == s && n2 >= n;
        if (!held) return 0;
        any = 1;
    }
    return any && !*p;
}

static int my_holds_gtid(struct integ *in, const char *gtid, char *err, size_t errlen)
{
    if (!gtid || !gtid[0]) return 0;
    MYSQL *db = NULL;
    char e[1024];
    if (source_my_open(in, &db, err, errlen) != 0) return -1;
    int rc = -1;
    if (mysql_conn_is_mariadb(db)) {
        MYSQL_RES *res = mysql_conn_query(db, "SELECT @@GLOBAL.gtid_binlog_state", e, sizeof e);
        MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
        if (row) rc = maria_holds(gtid, row[0] ? row[0] : "");
        else snprintf(err, errlen, "source %s: reading gtid_binlog_state: %s", in->cfg->name, res ? "no row" : e);
        if (res) mysql_free_result(res);
    } else {
        /* The set is a value: a parameter, never SQL text. */
        static const char sql[] = "SELECT GTID_SUBSET(?, @@GLOBAL.gtid_executed)";
        MYSQL_STMT *st = mysql_stmt_init(db);
        MYSQL_BIND in_b[1], out_b[1];
        unsigned long glen = strlen(gtid);
        long long result = 0;
        my_bool is_null = 0;
        memset(in_b, 0, sizeof in_b);
        memset(out_b, 0, sizeof out_b);
        in_b[0].buffer_type = MYSQL_TYPE_STRING;
        in_b[0].buffer = (void *)gtid;
        in_b[0].buffer_length = glen;
        in_b[0].length = &glen;
        out_b[0].buffer_type = MYSQL_TYPE_LONGLONG;
        out_b[0].buffer = &result;
        out_b[0].is_null = &is_null;
        if (!st || mysql_stmt_prepare(st, sql, sizeof sql - 1) || mysql_stmt_bind_param(st, in_b) ||
            mysql_stmt_execute(st) || mysql_stmt_bind_result(st, out_b) || mysql_stmt_fetch(st) != 0)
            snprintf(err, errlen, "source %s: GTID_SUBSET of the checkpoint's GTID set: %s", in->cfg->name,
                     st ? mysql_stmt_error(st) : mysql_error(db));
        else
            rc = !is_null && result;
        if (st) mysql_stmt_close(st);
    }
    source_my_close(in, db);
    return rc;
}

/* `name` with embedded backquotes doubled; -1 when it does not fit. */
static int my_quote_ident(const char *name, char *buf, size_t len)
{
    size_t o = 0;
    if (len < 3) return -1;
    buf[o++] = '`';
    for (const char *p = name; *p; p++) {
        if (o + 4 > len) return -1;
        if (*p == '`') buf[o++] = '`';
        buf[o++] = *p;
    }
    buf[o++] = '`';
    buf[o] = '\0';
    return 0;
}

static int my_count_rows(struct integ *in, const char *schema, const char *table, int timeout_ms,
                         int64_t *n, char *err, size_t errlen)
{
    char qs[520], qt[520], sql[1200], e[1024];
    if (my_quote_ident(schema, qs, sizeof qs) || my_quote_ident(table, qt, sizeof qt)) {
        snprintf(err, errlen, "source %s: table name %s.%s too long", in->cfg->name, schema, table);
        return -1;
    }
    MYSQL *db = NULL;
    if (source_my_open(in, &db, err, errlen) != 0) return -1;
    if (mysql_conn_is_mariadb(db))
        snprintf(sql, sizeof sql, "SET STATEMENT max_statement_time=%.3f FOR SELECT COUNT(*) FROM %s.%s",
                 timeout_ms / 1000.0, qs, qt);
    else
        snprintf(sql, sizeof sql, "SELECT /*+ MAX_EXECUTION_TIME(%d) */ COUNT(*) FROM %s.%s", timeout_ms, qs, qt);
    MYSQL_RES *res = mysql_conn_query(db, sql, e, sizeof e);
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    int rc = -1;
    if (row && row[0]) {
        *n = strtoll(row[0], NULL, 10);
        rc = 0;
    } else {
        snprintf(err, errlen, "source %s: counting %s.%s: %s", in->cfg->name, schema, table, res ? "no row" : e);
    }
    if (res) mysql_free_result(res);
    source_my_close(in, db);
    return rc;
}

const struct source_ops source_mysql_ops = {
    .kind = SOURCE_MYSQL,
    .name = "mysql",
    .label = "MySQL/MariaDB",
    .default_port = 3306,
    .multi_db = 1,
    .keeps_slot = 0,
    .counts_excluded = 0,
    .dialect = {.connector = "mysql", .time_duration = 1, .scale0_declared = 1, .zero_dates = 1},
    .load_tables = my_load_tables,
    .snapshot = my_snapshot,
    .snapshot_table = my_snapshot_table,
    .chunk_begin = my_chunk_begin,
    .chunk_read = my_chunk_read,
    .chunk_bound = my_chunk_bound,
    .chunk_end = my_chunk_end,
    .start_at = my_start_at,
    .export_begin = NULL,       /* one consistent read for every table */
    .export_end = NULL,
    .copy_table = NULL,
    .stream = my_stream,
    .column_backfilled = my_column_backfilled,
    .retained_bytes = NULL,     /* binlogs are kept by the server's retention, not for zetl */
    .drop = NULL,               /* zetl makes nothing on a MySQL source */
    .identity = my_identity,
    .holds_gtid = my_holds_gtid,
    .count_rows = my_count_rows,
    .preflight = mysql_preflight,
    .setup_test = mysql_setup_test,
    .setup_list_tables = mysql_setup_list_tables,
};
