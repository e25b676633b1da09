/*
 * pg.c — the libpq target (the pg driver's pgt_* methods, target_int.h):
 * connection, session set-up, transactions with the checkpoint, table
 * creation/comparison and DDL helpers (see target.h). Statements and their
 * errors are in pg_exec.c, applying a batch in pg_apply.c.
 */
#include "runtime/base/clock.h"
#include "runtime/target/lease.h"
#include "runtime/target/target_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- messages ------------------------------------------------------------------ */

/* host/port/dbname/user from a conninfo or URI; never the password. */
static int redact_dsn(const char *dsn, char *buf, size_t len)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn ? dsn : "", &perr);
    if (!opts) {
        PQfreemem(perr);      /* may quote the DSN, password included: not shown */
        snprintf(buf, len, "(unparsable dsn)");
        return -1;
    }
    static const char *const keep[] = { "host", "hostaddr", "port", "dbname", "user" };
    size_t o = 0;
    buf[0] = 0;
    for (size_t k = 0; k < sizeof keep / sizeof *keep; k++)
        for (PQconninfoOption *p = opts; p->keyword; p++)
            if (strcmp(p->keyword, keep[k]) == 0 && p->val && *p->val && o < len) {
                int n = snprintf(buf + o, len - o, "%s%s=%s", o ? " " : "", p->keyword, p->val);
                if (n > 0) o += (size_t)n;
            }
    if (!buf[0]) snprintf(buf, len, "(defaults)");
    PQconninfoFree(opts);
    return 0;
}

/* ---- connection -------------------------------------------------------------------- */

static int session_setup(struct target *t)
{
    if (t->kind == TARGET_REDSHIFT) {
        if (tgt_exec(t, "SET client_encoding TO 'UTF8'; SET TimeZone TO 'UTC'; "
                        "SET DateStyle TO 'ISO, YMD'", "session set-up")) return -1;
        /* Exact-case identifiers; fails harmlessly where the setting does not exist. */
        PGresult *r = tgt_q(t, "SET enable_case_sensitive_identifier TO true");
        t->rs_case_ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        return tgt_exec(t,
            "CREATE SCHEMA IF NOT EXISTS zetl; "
            "CREATE TABLE IF NOT EXISTS zetl.checkpoints ("
            " integration varchar(256) NOT NULL PRIMARY KEY,"
            " position varchar(2048) NOT NULL,"
            " commit_time timestamptz,"
            " applied_at timestamptz,"
            " rows_applied bigint); "
            "CREATE TABLE IF NOT EXISTS zetl.resyncs ("
            " integration varchar(256) NOT NULL,"
            " source_table varchar(1024) NOT NULL,"
            " started_at timestamptz); "
            "CREATE TABLE IF NOT EXISTS zetl.copy_progress ("
            " integration varchar(256) NOT NULL,"
            " source_table varchar(1024) NOT NULL,"
            " copied_to varchar(1024),"
            " rows_copied bigint,"
            " chunks bigint,"
            " updated_at timestamptz); "
            "CREATE TABLE IF NOT EXISTS zetl.table_shapes ("
            " integration varchar(256) NOT NULL,"
            " source_table varchar(1024) NOT NULL,"
            " shape varchar(65535),"
            " updated_at timestamptz)", "creating zetl.checkpoints");
    }
    if (tgt_exec(t, "SET client_encoding TO 'UTF8'; SET TimeZone TO 'UTC'; "
                    "SET DateStyle TO 'ISO, YMD'; SET IntervalStyle TO 'postgres'; "
                    "SET extra_float_digits TO 3", "session set-up")) return -1;
    const char *ddl =
        "CREATE SCHEMA IF NOT EXISTS zetl; "
        "CREATE TABLE IF NOT EXISTS zetl.checkpoints ("
        " integration text PRIMARY KEY,"
        " position text NOT NULL,"
        " commit_time timestamptz,"
        " applied_at timestamptz NOT NULL DEFAULT now(),"
        " rows_applied bigint); "
        "CREATE TABLE IF NOT EXISTS zetl.resyncs ("       /* runtime/target/marks.c */
        " integration text NOT NULL,"
        " source_table text NOT NULL,"
        " started_at timestamptz NOT NULL DEFAULT now(),"
        " PRIMARY KEY (integration, source_table)); "
        "CREATE TABLE IF NOT EXISTS zetl.copy_progress ("    /* runtime/target/marks.c */
        " integration text NOT NULL,"
        " source_table text NOT NULL,"
        " copied_to text,"
        " rows_copied bigint NOT NULL,"
        " chunks bigint NOT NULL,"
        " updated_at timestamptz NOT NULL DEFAULT now(),"
        " PRIMARY KEY (integration, source_table)); "
        "CREATE TABLE IF NOT EXISTS zetl.table_shapes ("     /* runtime/target/marks.c */
        " integration text NOT NULL,"
        " source_table text NOT NULL,"
        " shape text NOT NULL,"
        " updated_at timestamptz NOT NULL DEFAULT now(),"
        " PRIMARY KEY (integration, source_table))";
    if (tgt_exec(t, ddl, "creating zetl.checkpoints") == 0) return 0;
    /* Two integrations creating it at once race on the catalog: once more. */
    return tgt_exec(t, ddl, "creating zetl.checkpoints");
}

/* Server notices ("schema already exists, skipping") are not for the operator. */
static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Does this libpq take the connection keyword (tcp_user_timeout: libpq 12+)? */
static int libpq_knows(const char *keyword)
{
    PQconninfoOption *d = PQconndefaults();
    int found = 0;
    for (PQconninfoOption *p = d; p && p->keyword && !found; p++) found = strcmp(p->keyword, keyword) == 0;
    PQconninfoFree(d);
    return found;
}

/* A wait has gone on a while: operator commands (target_opts.on_retry, as
 * the http kind's retries take them); non-zero gives the call up. */
static int wait_hook(void *ctx)
{
    struct target *t = ctx;
    return t->on_retry(t->retry_ctx, TARGET_RETRY_WAIT, NULL);
}

int pgt_connect(struct target **out, const struct target_opts *o, char *err, size_t errlen)
{
    *out = NULL;
    struct target *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "target %s: out of memory", o->integration);
        return -1;
    }
    t->kind = o->kind == TARGET_REDSHIFT ? TARGET_REDSHIFT : TARGET_POSTGRES;
    t->source = o->source;
    t->integration = strdup(o->integration ? o->integration : "?");
    if (!t->integration) goto oom;
    if (redact_dsn(o->dsn, t->desc, sizeof t->desc)) {
        /* libpq's parse error quotes the offending word, which may be the password. */
        snprintf(err, errlen, "target %s: the target dsn is not a valid libpq connection string (key=value pairs, values with spaces in single quotes, or a postgresql:// URI); it is not shown because it may hold a password", t->integration);
        pgt_close(t);
        return -1;
    }

    /* Ours unless the dsn says otherwise (it comes last and wins): keepalives
     * and tcp_user_timeout notice a link whose peer is gone for good; the
     * waits' own deadline (pgwait.h) covers what still ACKs. */
    snprintf(t->app, sizeof t->app, "%.63s", o->app ? o->app : "");
    if (!o->app) snprintf(t->app, sizeof t->app, "zetl:%.58s", t->integration);
    if (!(t->dsn = strdup(o->dsn ? o->dsn : ""))) goto oom;
    const char *kw[10], *val[10];
    int k = 0;
    kw[k] = "connect_timeout"; val[k++] = "10";
    kw[k] = "fallback_application_name"; val[k++] = t->app;
    kw[k] = "keepalives"; val[k++] = "1";
    kw[k] = "keepalives_idle"; val[k++] = "10";
    kw[k] = "keepalives_interval"; val[k++] = "5";
    kw[k] = "keepalives_count"; val[k++] = "3";
    if (libpq_knows("tcp_user_timeout")) { kw[k] = "tcp_user_timeout"; val[k++] = "30000"; }
    kw[k] = "dbname"; val[k++] = t->dsn;
    kw[k] = NULL; val[k] = NULL;
    char msg[400];
    t->conn = pgw_connect(kw, val, o->stop, 0, msg, sizeof msg);
    if (!t->conn) {
        snprintf(err, errlen, "target %s: cannot connect to %s: %s; check the target dsn (host, port, dbname, user, password) and that the server accepts connections from this host", t->integration, t->desc, msg);
        pgt_close(t);
        return -1;
    }
    t->on_retry = o->on_retry;
    t->retry_ctx = o->retry_ctx;
    t->fence_epoch = t->kind == TARGET_POSTGRES ? o->fence_epoch : 0;
    t->fenced = o->fenced;
    pgw_init(&t->w, t->conn, t->dsn, o->stop, t->on_retry ? wait_hook : NULL, t);
    t->w.check_session = t->kind == TARGET_POSTGRES;
    t->w.report = o->on_wait;
    t->w.report_ctx = o->wait_ctx;
    PQsetNoticeProcessor(t->conn, quiet_notice, NULL);
    if (session_setup(t)) {
        snprintf(err, errlen, "%s", t->err);
        pgt_close(t);
        return -1;
    }
    *out = t;
    return 0;
oom:
    snprintf(err, errlen, "target %s: out of memory connecting", o->integration);
    pgt_close(t);
    return -1;
}

int pgt_broken(const struct target *t)
{
    return t->conn && (t->w.dead || atomic_load(&t->w.cancel) || PQstatus(t->conn) != CONNECTION_OK);
}

void pgt_cancel(struct target *t)
{
    if (t->conn) pgw_cancel(&t->w);
}

int pgt_reap_stale(struct target *t)
{
    if (t->kind != TARGET_POSTGRES) return 0;
    const char *app = PQparameterStatus(t->conn, "application_name");
    if (!app || strcmp(app, t->app) != 0) return 0;     /* the dsn names it: not ours alone */
    const char *v[1] = {t->app};
    PGresult *r = tgt_qp(t,
        "SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity "
        "WHERE application_name = $1 AND pid <> pg_catalog.pg_backend_pid() "
        "AND usename = current_user AND datname = pg_catalog.current_database()", 1, v, NULL);
    int n = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) n = atoi(PQgetvalue(r, 0, 0));
    else tgt_seterr(t, r, "ending the sessions an earlier round left behind");
    PQclear(r);
    return n;
}

void pgt_close(struct target *t)
{
    if (!t) return;
    if (t->conn) PQfinish(t->conn);     /* non-blocking, or shut down: never waits */
    free(t->dsn);
    for (int i = 0; i < t->nstages; i++) free(t->stages[i].key);
    free(t->stages);
    tbuf_free(&t->sql);
    tbuf_free(&t->copy);
    free(t->integration);
    free(t);
}

int target_check_redshift(struct target *t, char *fix, size_t fixlen)
{
    PGresult *r = tgt_q(t, "SHOW enable_case_sensitive_identifier");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        tgt_seterr(t, r, "reading enable_case_sensitive_identifier");
        PQclear(r);
        return -1;
    }
    int on = strcmp(PQgetvalue(r, 0, 0), "on") == 0 || strcmp(PQgetvalue(r, 0, 0), "true") == 0;
    PQclear(r);
    if (on) return 0;
    snprintf(fix, fixlen, "enable_case_sensitive_identifier is off: zetl sets it for its own session, but for mixed-case table and column names to be visible to other clients run ALTER USER <user> SET enable_case_sensitive_identifier TO true, or set enable_case_sensitive_identifier=true in the cluster's parameter group (session: SET enable_case_sensitive_identifier TO true)");
    return 1;
}

/* ---- transactions and the checkpoint ---------------------------------------------------- */

int pgt_begin(struct target *t)
{
    if (t->in_txn) {
        snprintf(t->err, sizeof t->err, "target %s: begin inside an open transaction", t->integration);
        return -1;
    }
    /* PostgreSQL: BEGIN goes with the first statement, or with the COMMIT
     * (pg_exec.c); Redshift gets its own round trip, as it always had. */
    if (t->kind == TARGET_REDSHIFT) {
        if (tgt_exec(t, "BEGIN", "BEGIN")) return -1;
    } else {
        t->begin_pending = 1;
    }
    t->in_txn = 1;
    t->load = 0;
    t->txn_rows = 0;
    return 0;
}

void pgt_set_load(struct target *t)
{
    t->load = t->in_txn;
}

static void fmt_time(int64_t us, char *buf, size_t len)
{
    time_t s = (time_t)(us / 1000000);
    int64_t frac = us % 1000000;
    if (frac < 0) { frac += 1000000; s -= 1; }
    struct tm tm;
    gmtime_r(&s, &tm);
    char d[40];
    strftime(d, sizeof d, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf, len, "%s.%06" PRId64 "+00", d, frac);
}

static const char *const ckpt_upsert_ident =
    "INSERT INTO zetl.checkpoints AS c (integration, position, commit_time, "
    "rows_applied, applied_at, source_kind, source_id, source_tables) "
    "VALUES ($1, $2, $3, $4, now(), $5, $6, $7) "
    "ON CONFLICT (integration) DO UPDATE SET position = EXCLUDED.position, "
    "commit_time = EXCLUDED.commit_time, rows_applied = EXCLUDED.rows_applied, "
    "applied_at = EXCLUDED.applied_at, source_kind = EXCLUDED.source_kind, "
    "source_id = EXCLUDED.source_id, source_tables = EXCLUDED.source_tables";
static const char *const ckpt_upsert =
    "INSERT INTO zetl.checkpoints AS c (integration, position, commit_time, "
    "rows_applied, applied_at) VALUES ($1, $2, $3, $4, now()) "
    "ON CONFLICT (integration) DO UPDATE SET position = EXCLUDED.position, "
    "commit_time = EXCLUDED.commit_time, rows_applied = EXCLUDED.rows_applied, "
    "applied_at = EXCLUDED.applied_at";

/*
 * PostgreSQL's commit: the BEGIN still pending (a transaction that wrote
 * nothing before its checkpoint), the checkpoint (ident 0 or 1; -1 none, v
 * pgt_commit's values) and the COMMIT in one round trip (pgw_pipeline). A
 * transaction that sent nothing and writes no checkpoint sends nothing.
 */
static int commit_pg(struct target *t, int ident, const char *const *v)
{
    const char *w[7] = { NULL };
    struct pgw_stmt st[4];
    int n = 0, fence = -1;
    char epoch[32];
    const char *fv[2] = { t->integration, epoch };
    if (t->begin_pending) {
        st[n++] = (struct pgw_stmt){ "BEGIN", 0, NULL, NULL };
        t->begin_pending = 0;
        if (ident < 0) {                /* nothing was sent: nothing to end */
            t->in_txn = 0;
            tgt_stage_commit(t);
            return 0;
        }
    }
    if (t->fence_epoch > 0) {           /* ha: still the holder's epoch (lease.h) */
        snprintf(epoch, sizeof epoch, "%lld", (long long)t->fence_epoch);
        fence = n;
        st[n++] = (struct pgw_stmt){ TARGET_FENCE_SQL, 2, fv, NULL };
    }
    if (ident > 0) {
        const char *x[7] = { v[0], v[1], v[2], v[3], v[5], v[6], v[7] };
        memcpy(w, x, sizeof w);
        st[n++] = (struct pgw_stmt){ ckpt_upsert_ident, 7, w, NULL };
    } else if (ident == 0) {
        st[n++] = (struct pgw_stmt){ ckpt_upsert, 4, v, NULL };
    }
    st[n++] = (struct pgw_stmt){ "COMMIT", 0, NULL, NULL };
    PGresult *res[4];
    int rc = pgw_pipeline(&t->w, n, st, res) == 0 ? 0 : -1;
    if (rc != 0) {
        tgt_seterr(t, NULL, "COMMIT");
    } else {
        for (int i = 0; i < n - 1 && rc == 0; i++) {
            if (PQresultStatus(res[i]) == PGRES_COMMAND_OK || PQresultStatus(res[i]) == PGRES_TUPLES_OK) continue;
            const char *state = PQresultErrorField(res[i], PG_DIAG_SQLSTATE);
            if (i == fence && state && strcmp(state, TARGET_FENCE_SQLSTATE) == 0) {
                snprintf(t->err, sizeof t->err, "target %s (%s): lost the lease: another zetl took the "
                         "integration over (this process's epoch %lld is no longer the lease's); this "
                         "transaction was rolled back, nothing of it applied", t->integration, t->desc,
                         (long long)t->fence_epoch);
                t->sqlstate[0] = '\0';
                if (t->fenced) atomic_store(t->fenced, 1);
                rc = -1;
                break;
            }
            char what[200];
            snprintf(what, sizeof what, "statement \"%.120s%s\"", st[i].sql, strlen(st[i].sql) > 120 ? "…" : "");
            tgt_seterr(t, res[i], what);
            rc = -1;
        }
        PGresult *c = res[n - 1];
        /* A transaction that failed earlier "commits" as ROLLBACK: that is an error. */
        if (rc == 0 && (PQresultStatus(c) != PGRES_COMMAND_OK || strcmp(PQcmdStatus(c), "COMMIT") != 0)) {
            tgt_seterr(t, PQresultStatus(c) == PGRES_COMMAND_OK ? NULL : c, "COMMIT");
            if (PQresultStatus(c) == PGRES_COMMAND_OK)
                snprintf(t->err, sizeof t->err, "target %s (%s): COMMIT rolled back (an earlier statement failed); nothing was applied, the checkpoint did not move",
                         t->integration, t->desc);
            rc = -1;
        }
    }
    for (int i = 0; i < n; i++) PQclear(res[i]);
    if (rc != 0) {
        /* The checkpoint failed inside the block: roll it back (a failed COMMIT
         * already ended it; ROLLBACK then only warns). */
        int in_block = t->conn && PQtransactionStatus(t->conn) == PQTRANS_INERROR;
        t->in_txn = in_block;
        if (in_block) pgt_rollback(t);
        t->in_txn = 0;
        tgt_stage_rollback(t);
        return -1;
    }
    t->in_txn = 0;
    tgt_stage_commit(t);
    return 0;
}

int pgt_commit(struct target *t, const struct zpos *pos, int64_t commit_time_us)
{
    char p[ZPOS_FILE_MAX + ZPOS_GTID_MAX + 64], ct[64], at[64], rows[32];
    if (t->raw_copy) {
        snprintf(t->err, sizeof t->err, "target %s: commit while a raw COPY is open", t->integration);
        return -1;
    }
    if (!t->in_txn) {
        snprintf(t->err, sizeof t->err, "target %s: commit without begin", t->integration);
        return -1;
    }
    if (!pos || pos->kind == ZPOS_NONE)
        goto commit;                    /* a plain commit: the checkpoint is someone else's */
    if (zpos_format(pos, p, sizeof p)) {
        snprintf(t->err, sizeof t->err, "target %s: checkpoint position does not fit", t->integration);
        goto fail;
    }
    fmt_time(commit_time_us, ct, sizeof ct);
    snprintf(rows, sizeof rows, "%" PRIu64, t->txn_rows);
    /* With the source's identity (target_set_identity) when it is known. */
    int ident = t->ident.kind[0] && t->ident_cols;
    const char *v[8] = { t->integration, p, commit_time_us ? ct : NULL, rows, at,
                         t->ident.kind, t->ident.id, t->ident.tables };
    int64_t n;
    if (t->kind == TARGET_REDSHIFT) {
        fmt_time(zclock_wall_us(), at, sizeof at);
        if (tgt_stmt(t, "DELETE FROM zetl.checkpoints WHERE integration = $1", 1, v, NULL, &n) ||
            tgt_stmt(t, ident ? "INSERT INTO zetl.checkpoints (integration, position, commit_time, "
                                "rows_applied, applied_at, source_kind, source_id, source_tables) "
                                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                              : "INSERT INTO zetl.checkpoints (integration, position, commit_time, "
                                "rows_applied, applied_at) VALUES ($1, $2, $3, $4, $5)",
                     ident ? 8 : 5, v, NULL, &n))
            goto fail;
    } else {
        return commit_pg(t, ident, v);
    }
commit:;
    if (t->kind != TARGET_REDSHIFT) return commit_pg(t, -1, NULL);
    PGresult *r = tgt_q(t, "COMMIT");
    t->in_txn = 0;
    /* A transaction that failed earlier "commits" as ROLLBACK: that is an error. */
    if (PQresultStatus(r) != PGRES_COMMAND_OK || strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        tgt_seterr(t, PQresultStatus(r) == PGRES_COMMAND_OK ? NULL : r, "COMMIT");
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            snprintf(t->err, sizeof t->err, "target %s (%s): COMMIT rolled back (an earlier statement failed); nothing was applied, the checkpoint did not move",
                     t->integration, t->desc);
        PQclear(r);
        tgt_stage_rollback(t);
        return -1;
    }
    PQclear(r);
    tgt_stage_commit(t);
    return 0;
fail:
    pgt_rollback(t);
    return -1;
}

int pgt_rollback(struct target *t)
{
    int was = t->in_txn && !t->begin_pending;     /* nothing sent: nothing to roll back */
    t->begin_pending = 0;
    if (t->raw_copy) pgt_load_raw_end(t, 1);     /* the server leaves COPY mode first */
    t->in_txn = 0;
    tgt_stage_rollback(t);
    if (!was || PQstatus(t->conn) != CONNECTION_OK || t->w.dead) return 0;
    PGresult *r = tgt_q(t, "ROLLBACK");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : -1;
}

int pgt_read_checkpoint(struct target *t, struct zpos *pos, int64_t *commit_time_us)
{
    memset(pos, 0, sizeof *pos);
    if (commit_time_us) *commit_time_us = 0;
    const char *v[1] = { t->integration };
    PGresult *r = tgt_qp(t,
        "SELECT position, (extract(epoch FROM commit_time) * 1000000)::bigint "
        "FROM zetl.checkpoints WHERE integration = $1", 1, v, NULL);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        tgt_seterr(t, r, "reading the checkpoint from zetl.checkpoints");
        PQclear(r);
        return -1;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        return 0;
    }
    char perr[300];
    if (zpos_parse(pos, PQgetvalue(r, 0, 0), perr, sizeof perr)) {
        snprintf(t->err, sizeof t->err, "target %s: zetl.checkpoints: %s; fix or delete the row "
                 "for integration '%s' (deleting it re-snapshots every table)",
                 t->integration, perr, t->integration);
        PQclear(r);
        return -1;
    }
    if (commit_time_us && !PQgetisnull(r, 0, 1))
        *commit_time_us = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    PQclear(r);
    return 1;
}

int pgt_discard_checkpoint(struct target *t)
{
    const char *v[1] = { t->integration };
    int64_t n;
    if (pgt_begin(t) != 0) return -1;
    if (tgt_stmt(t, "DELETE FROM zetl.checkpoints WHERE integration = $1", 1, v, NULL, &n) ||
        tgt_stmt(t, "DELETE FROM zetl.resyncs WHERE integration = $1", 1, v, NULL, &n) ||
        tgt_stmt(t, "DELETE FROM zetl.copy_progress WHERE integration = $1", 1, v, NULL, &n) ||
        tgt_stmt(t, "DELETE FROM zetl.table_shapes WHERE integration = $1", 1, v, NULL, &n)) {
        pgt_rollback(t);
        return -1;
    }
    return pgt_commit(t, NULL, 0);
}

/* ---- whose checkpoint it is (target_read_identity / target_set_identity) ----------- */

static const char *const IDENT_COLS[] = { "source_kind", "source_id", "source_tables" };

/* Add the identity columns to a zetl.checkpoints an older zetl created. The
 * catalog is asked first, so a table that has them takes no ALTER's lock. */
static int ident_columns(struct target *t)
{
    if (t->ident_cols) return 0;
    PGresult *r = tgt_q(t, "SELECT column_name FROM information_schema.columns "
                                  "WHERE table_schema = 'zetl' AND table_name = 'checkpoints'");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        tgt_seterr(t, r, "reading the columns of zetl.checkpoints");
        PQclear(r);
        return -1;
    }
    for (size_t k = 0; k < sizeof IDENT_COLS / sizeof *IDENT_COLS; k++) {
        int have = 0;
        for (int i = 0; i < PQntuples(r) && !have; i++)
            have = strcmp(PQgetvalue(r, i, 0), IDENT_COLS[k]) == 0;
        if (have) continue;
        char sql[160];
        /* Redshift has no ADD COLUMN IF NOT EXISTS: a racing twin's column
         * shows as 42701 (duplicate column), which is what we wanted. */
        snprintf(sql, sizeof sql, t->kind == TARGET_REDSHIFT
                     ? "ALTER TABLE zetl.checkpoints ADD COLUMN %s varchar(1024)"
                     : "ALTER TABLE zetl.checkpoints ADD COLUMN IF NOT EXISTS %s text", IDENT_COLS[k]);
        if (tgt_exec(t, sql, "adding the source identity columns to zetl.checkpoints") != 0 &&
            strcmp(t->sqlstate, "42701") != 0) {
            PQclear(r);
            /* Not the table's owner: an upgrade must keep working without them. */
            if (strcmp(t->sqlstate, "42501") == 0) t->ident_cols = -1;
            return -1;
        }
    }
    PQclear(r);
    t->ident_cols = 1;
    return 0;
}

int pgt_read_identity(struct target *t, struct target_ident *out)
{
    memset(out, 0, sizeof *out);
    if (t->ident_cols < 0) return -2;
    if (ident_columns(t) != 0) return t->ident_cols < 0 ? -2 : -1;
    const char *v[1] = { t->integration };
    PGresult *r = tgt_qp(t,
        "SELECT coalesce(source_kind, ''), coalesce(source_id, ''), coalesce(source_tables, '') "
        "FROM zetl.checkpoints WHERE integration = $1", 1, v, NULL);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        tgt_seterr(t, r, "reading the checkpoint's source identity from zetl.checkpoints");
        PQclear(r);
        return -1;
    }
    int found = PQntuples(r) == 1;
    if (found) {
        snprintf(out->kind, sizeof out->kind, "%s", PQgetvalue(r, 0, 0));
        snprintf(out->id, sizeof out->id, "%s", PQgetvalue(r, 0, 1));
        snprintf(out->tables, sizeof out->tables, "%s", PQgetvalue(r, 0, 2));
    }
    PQclear(r);
    return found;
}

int pgt_set_identity(struct target *t, const struct target_ident *id, int write_now)
{
    t->ident = *id;
    if (t->ident_cols < 0) return 0;            /* cannot be recorded (see read_identity) */
    if (ident_columns(t) != 0) return t->ident_cols < 0 ? 0 : -1;
    if (!write_now) return 0;
    if (t->in_txn) {
        snprintf(t->err, sizeof t->err, "target %s: identity written inside a transaction", t->integration);
        return -1;
    }
    const char *v[4] = { t->integration, id->kind, id->id, id->tables };
    int64_t n;
    return tgt_stmt(t, "UPDATE zetl.checkpoints SET source_kind = $2, source_id = $3, source_tables = $4 "
                       "WHERE integration = $1", 4, v, NULL, &n);
}

/* ---- tables --------------------------------------------------------------------------- */

static const char COLS_SQL[] =
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod) "
    "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') "
    "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";

static PGresult *table_cols(struct target *t, const char *schema, const char *name)
{
    const char *v[2] = { schema, name };
    PGresult *r = tgt_qp(t, COLS_SQL, 2, v, NULL);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        tgt_seterr(t, r, "reading the target table's columns");
        PQclear(r);
        return NULL;
    }
    return r;
}

static int col_types(struct target *t, const struct ztable *src, char (*types)[112])
{
    for (int i = 0; i < src->ncols; i++)
        if (target_map_type(t->kind, t->source, &src->cols[i], types[i], sizeof types[i])) {
            snprintf(t->err, sizeof t->err, "target %s: column %s.%s.%s: mapped type too long",
                     t->integration, src->schema, src->name, src->cols[i].name);
            return -1;
        }
    return 0;
}

static int add_diff(struct target_table_diff *d, enum target_diff_kind k, const char *col,
                    const char *want, const char *have)
{
    struct target_diff *n = realloc(d->diffs, (size_t)(d->ndiffs + 1) * sizeof *n);
    if (!n) return -1;
    d->diffs = n;
    struct target_diff *x = &d->diffs[d->ndiffs++];
    x->kind = k;
    snprintf(x->column, sizeof x->column, "%s", col);
    snprintf(x->want, sizeof x->want, "%s", want ? want : "");
    snprintf(x->have, sizeof x->have, "%s", have ? have : "");
    return 0;
}

void target_table_diff_free(struct target_table_diff *d)
{
    free(d->diffs);
    memset(d, 0, sizeof *d);
}

/* "name type GENERATED ALWAYS AS (expr) STORED": the target computes the value. */
static int gen_col_sql(enum target_kind kind, const struct zdialect *source,
                       const struct zcolumn *c, struct zbuf *s)
{
    char ty[112];
    if (target_map_type(kind, source, c, ty, sizeof ty)) return -1;
    tbuf_ident(s, c->name);
    tbuf_putc(s, ' ');
    tbuf_puts(s, ty);
    tbuf_puts(s, " GENERATED ALWAYS AS (");
    tbuf_puts(s, c->gen_expr ? c->gen_expr : "NULL");
    tbuf_puts(s, ") STORED");
    return 0;
}

/* The soft-delete columns (target.h): k 0 the flag, 1 the time. */
static void soft_col_sql(int k, struct zbuf *s)
{
    tbuf_ident(s, k ? TARGET_SOFT_DELETED_AT : TARGET_SOFT_DELETED);
    tbuf_puts(s, k ? " timestamptz" : " boolean NOT NULL DEFAULT false");
}

static int is_soft_col(const struct ztable *src, const char *name)
{
    return (src->soft_delete && (!strcmp(name, TARGET_SOFT_DELETED) || !strcmp(name, TARGET_SOFT_DELETED_AT))) ||
           (src->history && (!strcmp(name, TARGET_HIST_ACTIVE) || !strcmp(name, TARGET_HIST_CREATED) ||
                             !strcmp(name, TARGET_HIST_DELETED)));
}

/* History mode's columns (target.h): k 0 active, 1 created, 2 closed. A
 * copied row's version is created at its transaction's start: now() on
 * PostgreSQL, SYSDATE on Redshift (which has no now()). */
static void hist_col_sql(enum target_kind kind, int k, struct zbuf *s)
{
    static const char *const name[3] = {TARGET_HIST_ACTIVE, TARGET_HIST_CREATED, TARGET_HIST_DELETED};
    static const char *const type[3] = {" boolean NOT NULL DEFAULT true", " timestamptz NOT NULL DEFAULT now()",
                                        " timestamptz"};
    tbuf_ident(s, name[k]);
    tbuf_puts(s, kind == TARGET_REDSHIFT && k == 1 ? " timestamptz NOT NULL DEFAULT SYSDATE" : type[k]);
}

/* "; CREATE UNIQUE INDEX ON t (key) WHERE _record_is_active": one active
 * version per key (PostgreSQL only: Redshift has no such index). */
static void hist_index_sql(const struct ztable *src, const char *tschema, const char *tname, struct zbuf *s)
{
    int n = src->npk ? src->npk : src->nuk;
    tbuf_puts(s, "; CREATE UNIQUE INDEX ON ");
    tbuf_qname(s, tschema, tname);
    tbuf_puts(s, " (");
    for (int k = 1; k <= n; k++)
        for (int i = 0; i < src->ncols; i++)
            if ((src->npk ? src->cols[i].pk_ord : src->cols[i].uk_ord) == k) {
                if (k > 1) tbuf_puts(s, ", ");
                tbuf_ident(s, src->cols[i].name);
            }
    tbuf_puts(s, ") WHERE ");
    tbuf_ident(s, TARGET_HIST_ACTIVE);
}

int target_create_table_sql(enum target_kind kind, const struct zdialect *source,
                            const struct ztable *src, const char *tschema, const char *tname,
                            struct zbuf *s)
{
    char ty[112];
    tbuf_puts(s, "CREATE SCHEMA IF NOT EXISTS ");
    tbuf_ident(s, tschema);
    tbuf_puts(s, "; CREATE TABLE IF NOT EXISTS ");
    tbuf_qname(s, tschema, tname);
    tbuf_puts(s, " (");
    for (int i = 0; i < src->ncols; i++) {
        if (target_map_type(kind, source, &src->cols[i], ty, sizeof ty)) return -1;
        if (i) tbuf_puts(s, ", ");
        tbuf_ident(s, src->cols[i].name);
        tbuf_putc(s, ' ');
        tbuf_puts(s, ty);
        if (target_column_not_null(source, &src->cols[i])) tbuf_puts(s, " NOT NULL");
    }
    for (int i = 0; kind == TARGET_POSTGRES && i < src->ngen; i++) {   /* change.h: ztable.gen */
        tbuf_puts(s, ", ");
        if (gen_col_sql(kind, source, &src->gen[i], s)) return -1;
    }
    for (int k = 0; src->soft_delete && k < 2; k++) {
        tbuf_puts(s, ", ");
        soft_col_sql(k, s);
    }
    for (int k = 0; src->history && k < 3; k++) {
        tbuf_puts(s, ", ");
        hist_col_sql(kind, k, s);
    }
    if (src->npk > 0 && !src->history) {        /* history: a key's versions share it */
        tbuf_puts(s, ", PRIMARY KEY (");
        for (int k = 1; k <= src->npk; k++)
            for (int i = 0; i < src->ncols; i++)
                if (src->cols[i].pk_ord == k) {
                    if (k > 1) tbuf_puts(s, ", ");
                    tbuf_ident(s, src->cols[i].name);
                }
        tbuf_putc(s, ')');
    }
    tbuf_putc(s, ')');
    if (src->history && kind == TARGET_POSTGRES) hist_index_sql(src, tschema, tname, s);
    return s->oom ? -1 : 0;
}

/* An existing table made a history table since: its primary key goes (a
 * key's versions share the key) and the one-active-version index comes. */
static int hist_convert(struct target *t, const struct ztable *src, const char *schema, const char *name)
{
    if (t->kind != TARGET_POSTGRES) return 0;
    struct zbuf *s = &t->sql;
    s->len = 0;
    tbuf_qname(s, schema, name);
    tbuf_putc(s, '\0');
    if (s->oom) return -1;
    char *qn = strdup(s->p);
    if (!qn) return -1;
    const char *v[1] = {qn};
    PGresult *r = tgt_qp(t, "SELECT conname FROM pg_catalog.pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'",
                         1, v, NULL);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        tgt_seterr(t, r, "reading the primary key");
        rc = -1;
    } else if (PQntuples(r) == 1) {
        char what[300];
        s->len = 0;
        tbuf_puts(s, "ALTER TABLE ");
        tbuf_qname(s, schema, name);
        tbuf_puts(s, " DROP CONSTRAINT ");
        tbuf_ident(s, PQgetvalue(r, 0, 0));
        hist_index_sql(src, schema, name, s);
        snprintf(what, sizeof what, "making %s.%s a history table (its primary key goes)", schema, name);
        rc = s->oom ? -1 : tgt_exec(t, s->p, what);
    }
    PQclear(r);
    free(qn);
    return rc;
}

/* Exists, made a history or soft-delete table since: the mode's columns
 * (every row active, or live), and for history no primary key. 0, or -1. */
static int add_mode_columns(struct target *t, const struct ztable *src, PGresult *have, const char *schema,
                            const char *name)
{
    static const char *const hn[3] = {TARGET_HIST_ACTIVE, TARGET_HIST_CREATED, TARGET_HIST_DELETED};
    static const char *const sn[2] = {TARGET_SOFT_DELETED, TARGET_SOFT_DELETED_AT};
    int n = src->history ? 3 : src->soft_delete ? 2 : 0;
    struct zbuf *s = &t->sql;
    for (int k = 0; k < n; k++) {
        const char *cn = src->history ? hn[k] : sn[k];
        int found = 0;
        for (int j = 0; j < PQntuples(have) && !found; j++) found = strcmp(PQgetvalue(have, j, 0), cn) == 0;
        if (found) continue;
        s->len = 0;
        tbuf_puts(s, "ALTER TABLE ");
        tbuf_qname(s, schema, name);
        tbuf_puts(s, " ADD COLUMN ");
        if (src->history) hist_col_sql(t->kind, k, s);
        else soft_col_sql(k, s);
        if (s->oom) {
            snprintf(t->err, sizeof t->err, "target %s: out of memory", t->integration);
            return -1;
        }
        char what[300];
        snprintf(what, sizeof what, "adding column %s to %s.%s", cn, schema, name);
        if (tgt_exec(t, s->p, what)) return -1;
    }
    return src->history ? hist_convert(t, src, schema, name) : 0;
}

int pgt_ensure_table(struct target *t, const struct ztable *src, const char *tschema,
                     const char *tname, struct target_table_diff *diff)
{
    memset(diff, 0, sizeof *diff);
    const char *schema = tschema ? tschema : src->schema;
    const char *name = tname ? tname : src->name;
    char (*types)[112] = calloc(src->ncols ? (size_t)src->ncols : 1, sizeof *types);
    PGresult *have = NULL, *want = NULL;
    int rv = -1;
    if (!types) goto oom;
    if (src->ncols <= 0) {
        snprintf(t->err, sizeof t->err, "target %s: table %s.%s has no columns", t->integration,
                 schema, name);
        goto out;
    }
    if (col_types(t, src, types)) goto out;
    if (!(have = table_cols(t, schema, name))) goto out;

    struct zbuf *s = &t->sql;
    s->len = 0;
    if (PQntuples(have) == 0) {                 /* create it */
        if (target_create_table_sql(t->kind, t->source, src, schema, name, s)) goto oom;
        char what[300];
        snprintf(what, sizeof what, "creating table %s.%s", schema, name);
        if (tgt_exec(t, s->p, what)) goto out;
        diff->created = 1;
        rv = 0;
        goto out;
    }

    /* Exists: a generated column it lacks (added on the source since; pgoutput before
     * PostgreSQL 18 sends no change for it) is added, computed for every row. */
    for (int i = 0; t->kind == TARGET_POSTGRES && i < src->ngen; i++) {
        int found = 0;
        for (int j = 0; j < PQntuples(have) && !found; j++)
            found = strcmp(PQgetvalue(have, j, 0), src->gen[i].name) == 0;
        if (found) continue;
        s->len = 0;
        tbuf_puts(s, "ALTER TABLE ");
        tbuf_qname(s, schema, name);
        tbuf_puts(s, " ADD COLUMN IF NOT EXISTS ");
        if (gen_col_sql(t->kind, t->source, &src->gen[i], s) || s->oom) goto oom;
        char what[300];
        snprintf(what, sizeof what, "adding generated column %s to %s.%s", src->gen[i].name, schema, name);
        if (tgt_exec(t, s->p, what)) goto out;
    }
    if (add_mode_columns(t, src, have, schema, name) != 0) goto out;
    s->len = 0;

    /* Exists: let the server spell the mapped types, in a probe table never committed. */
    tbuf_puts(s, "BEGIN; CREATE TABLE zetl.\"zetl_probe\" (");
    for (int i = 0; i < src->ncols; i++) {
        char cn[24];
        snprintf(cn, sizeof cn, "%sc%d ", i ? ", " : "", i);
        tbuf_puts(s, cn);
        tbuf_puts(s, types[i]);
    }
    tbuf_putc(s, ')');
    if (s->oom) goto oom;
    if (t->in_txn) {
        snprintf(t->err, sizeof t->err, "target %s: ensure_table inside a transaction", t->integration);
        goto out;
    }
    if (tgt_exec(t, s->p, "normalizing the mapped column types")) {
        PQclear(tgt_q(t, "ROLLBACK"));
        goto out;
    }
    want = table_cols(t, "zetl", "zetl_probe");
    PQclear(tgt_q(t, "ROLLBACK"));
    if (!want || PQntuples(want) != src->ncols) goto out;
    for (int i = 0; i < src->ncols; i++) {
        const char *wt = PQgetvalue(want, i, 1);
        int found = 0;
        for (int j = 0; j < PQntuples(have); j++)
            if (strcmp(PQgetvalue(have, j, 0), src->cols[i].name) == 0) {
                found = 1;
                if (strcmp(PQgetvalue(have, j, 1), wt) != 0 &&
                    add_diff(diff, TDIFF_TYPE, src->cols[i].name, wt, PQgetvalue(have, j, 1)))
                    goto oom;
            }
        if (!found && add_diff(diff, TDIFF_MISSING, src->cols[i].name, wt, NULL)) goto oom;
    }
    for (int j = 0; j < PQntuples(have); j++) {
        int found = 0;
        for (int i = 0; i < src->ncols && !found; i++)
            found = strcmp(PQgetvalue(have, j, 0), src->cols[i].name) == 0;
        for (int i = 0; i < src->ngen && !found; i++)      /* computed by the target */
            found = strcmp(PQgetvalue(have, j, 0), src->gen[i].name) == 0;
        found = found || is_soft_col(src, PQgetvalue(have, j, 0));     /* ours */
        if (!found && add_diff(diff, TDIFF_EXTRA, PQgetvalue(have, j, 0), NULL, PQgetvalue(have, j, 1)))
            goto oom;
    }
    rv = 0;
    goto out;
oom:
    snprintf(t->err, sizeof t->err, "target %s: out of memory comparing %s.%s", t->integration,
             schema, name);
    rv = -1;
out:
    if (rv) target_table_diff_free(diff);
    PQclear(have);
    PQclear(want);
    free(types);
    return rv;
}

/* ---- DDL helpers ------------------------------------------------------------------------ */

static int ddl(struct target *t, const char *schema, const char *table, const char *what)
{
    if (t->sql.oom) {
        snprintf(t->err, sizeof t->err, "target %s: out of memory", t->integration);
        return -1;
    }
    tgt_stage_forget(t, schema, table);
    char w[400];
    snprintf(w, sizeof w, "%s on %s.%s", what, schema, table);
    return tgt_exec(t, t->sql.p, w);
}

static struct zbuf *alter(struct target *t, const char *schema, const char *table)
{
    t->sql.len = 0;
    tbuf_puts(&t->sql, "ALTER TABLE ");
    tbuf_qname(&t->sql, schema, table);
    tbuf_putc(&t->sql, ' ');
    return &t->sql;
}

int pgt_add_column(struct target *t, const char *schema, const char *table,
                   const struct zcolumn *col)
{
    char ty[112];
    if (target_map_type(t->kind, t->source, col, ty, sizeof ty)) return -1;
    struct zbuf *s = alter(t, schema, table);
    tbuf_puts(s, "ADD COLUMN ");
    tbuf_ident(s, col->name);
    tbuf_putc(s, ' ');
    tbuf_puts(s, ty);
    return ddl(t, schema, table, "adding a column");
}

int pgt_drop_column(struct target *t, const char *schema, const char *table, const char *column)
{
    struct zbuf *s = alter(t, schema, table);
    tbuf_puts(s, "DROP COLUMN ");
    tbuf_ident(s, column);
    return ddl(t, schema, table, "dropping a column");
}

int pgt_widen_column(struct target *t, const char *schema, const char *table,
                     const struct zcolumn *col)
{
    char ty[112];
    if (target_map_type(t->kind, t->source, col, ty, sizeof ty)) return -1;
    struct zbuf *s = alter(t, schema, table);
    tbuf_puts(s, "ALTER COLUMN ");
    tbuf_ident(s, col->name);
    tbuf_puts(s, " TYPE ");
    tbuf_puts(s, ty);
    if (t->kind != TARGET_REDSHIFT) {
        tbuf_puts(s, " USING ");
        tbuf_ident(s, col->name);
        tbuf_puts(s, "::");
        tbuf_puts(s, ty);
    }
    return ddl(t, schema, table, "changing a column's type");
}

int pgt_rename_column(struct target *t, const char *schema, const char *table,
                      const char *from, const char *to)
{
    struct zbuf *s = alter(t, schema, table);
    tbuf_puts(s, "RENAME COLUMN ");
    tbuf_ident(s, from);
    tbuf_puts(s, " TO ");
    tbuf_ident(s, to);
    return ddl(t, schema, table, "renaming a column");
}

int pgt_rename_table(struct target *t, const char *schema, const char *from, const char *to)
{
    struct zbuf *s = alter(t, schema, from);
    tbuf_puts(s, "RENAME TO ");
    tbuf_ident(s, to);
    return ddl(t, schema, from, "renaming the table");
}

int pgt_truncate(struct target *t, const struct ztable *src, const char *schema,
                 const char *table)
{
    (void)src;                      /* the event stream's: a warehouse truncates by target name */
    t->sql.len = 0;
    /* Redshift's TRUNCATE commits the open transaction: DELETE keeps it atomic. */
    tbuf_puts(&t->sql, t->kind == TARGET_REDSHIFT && t->in_txn ? "DELETE FROM " : "TRUNCATE ");
    tbuf_qname(&t->sql, schema, table);
    return ddl(t, schema, table, "truncating");
}

int pgt_drop_table(struct target *t, const char *schema, const char *table)
{
    t->sql.len = 0;
    tbuf_puts(&t->sql, "DROP TABLE IF EXISTS ");
    tbuf_qname(&t->sql, schema, table);
    return ddl(t, schema, table, "dropping the table");
}
