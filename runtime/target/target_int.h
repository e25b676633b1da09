/*
 * target_int.h — the target handle, shared by the registry (target.c) and
 * the drivers (target_ops.h). Not for other modules.
 *
 * The handle's first part is every driver's: its table (set by
 * target_connect), kind, names and error. The libpq fields that follow are
 * the pg driver's — pg_exec.c (statements, errors), pg_apply.c (applying a
 * batch), pg.c (connection, transactions, checkpoint, DDL), marks.c and
 * count.c, whose methods (pgt_*, below) pg_ops.c puts in target_pg_ops;
 * the http driver keeps its state behind t->http (http.c).
 * Thread: as target.h — one applier thread per handle.
 */
#ifndef ZETL_TARGET_INT_H
#define ZETL_TARGET_INT_H

#include <libpq-fe.h>

#include "runtime/target/pgwait.h"
#include "runtime/target/target.h"

struct stage {                  /* a session temp table mirroring one target table */
    char    *key;               /* "schema\x1ftable" of the target table */
    uint64_t sig;               /* hash of the column names it was created with */
    int      id;                /* pg_temp.zetl_stage_<id> */
    int      created_txn;       /* created in the open transaction (gone on rollback) */
    int      used_txn;          /* holds rows of the open transaction: TRUNCATE first */
};

struct http_target;
struct target_ops;

struct target {
    const struct target_ops *ops;   /* the driver (target_ops.h), set by target_connect */
    PGconn  *conn;              /* NULL for the http kind */
    struct pgw w;               /* every wait on conn goes through it (pgwait.h) */
    char    *dsn;               /* the probe's side connection (may hold a password: never shown) */
    char     app[64];           /* application_name asked for ("zetl:NAME") */
    int    (*on_retry)(void *ctx, enum target_retry ev, const char *reason);  /* target_opts' */
    void    *retry_ctx;
    struct http_target *http;   /* the http kind's state (http.c), else NULL */
    enum target_kind  kind;
    const struct zdialect *source;  /* the source kind's dialect (target_opts') */
    char    *integration;
    char     desc[320];         /* redacted DSN: host/port/dbname/user */
    int      in_txn;
    int64_t  fence_epoch;       /* >0: every COMMIT checks this lease epoch (lease.h) */
    atomic_int *fenced;         /* set when a check found the epoch moved (may be NULL) */
    int      begin_pending;     /* PostgreSQL: BEGIN not sent yet; it goes with the
                                   transaction's first statement (pg_exec.c) */
    int      load;              /* target_set_load: inserts COPY straight into the table */
    int      raw_copy;          /* a target_load_raw_begin COPY is open */
    char     sqlstate[6];       /* SQLSTATE of the last error tgt_seterr saw, "" none */
    int      rs_case_ok;        /* Redshift: enable_case_sensitive_identifier is on */
    uint64_t txn_rows;          /* rows written in the open transaction */
    struct stage *stages;
    int      nstages, capstages, next_stage_id;
    struct zbuf sql;            /* statement text, reused */
    struct zbuf copy;           /* COPY data, reused: flushed in ~1 MB chunks */
    struct target_ident ident;  /* written with every checkpoint when ident.kind[0] */
    int      ident_cols;        /* zetl.checkpoints has the identity columns: 1 yes,
                                   0 not checked yet, -1 missing and not ours to add */
    char     err[2048];
};

/* PQexec / PQexecParams through t->w: a deadline on every wait (pgwait.h).
 * NULL when the call failed; tgt_seterr(t, NULL, …) then says why. */
PGresult *tgt_q(struct target *t, const char *sql);
PGresult *tgt_qp(struct target *t, const char *sql, int nparams, const char *const *values,
                 const int *lengths);
/* Run one statement (no parameters); 0 ok, -1 with t->err "target NAME: WHAT: server message; fix". */
int  tgt_exec(struct target *t, const char *sql, const char *what);
/* Set t->err from a failed result (res may be NULL: the connection's message). */
void tgt_seterr(struct target *t, PGresult *res, const char *what);
/* target_stmt_fn over PQexecParams, ctx = struct target. */
int  tgt_stmt(void *ctx, const char *sql, int nparams, const char *const *values,
              const int *lengths, int64_t *result);
/* Forget (and drop) the staging table of a target table, after DDL on it. */
void tgt_stage_forget(struct target *t, const char *schema, const char *table);
/* On rollback: staging tables created in the transaction are gone. */
void tgt_stage_rollback(struct target *t);
void tgt_stage_commit(struct target *t);

/* The pg driver's methods (target_ops.h; each does what its target_*
 * entry point in target.h says). */
int  pgt_connect(struct target **out, const struct target_opts *o, char *err, size_t errlen);
void pgt_close(struct target *t);
int  pgt_broken(const struct target *t);
void pgt_cancel(struct target *t);
int  pgt_reap_stale(struct target *t);
int  pgt_ensure_table(struct target *t, const struct ztable *src, const char *tschema,
                      const char *tname, struct target_table_diff *diff);
int  pgt_begin(struct target *t);
void pgt_set_load(struct target *t);
int  pgt_commit(struct target *t, const struct zpos *pos, int64_t commit_time_us);
int  pgt_rollback(struct target *t);
int  pgt_read_checkpoint(struct target *t, struct zpos *pos, int64_t *commit_time_us);
int  pgt_discard_checkpoint(struct target *t);
int  pgt_read_identity(struct target *t, struct target_ident *out);
int  pgt_set_identity(struct target *t, const struct target_ident *id, int write_now);
int  pgt_add_column(struct target *t, const char *schema, const char *table, const struct zcolumn *col);
int  pgt_drop_column(struct target *t, const char *schema, const char *table, const char *column);
int  pgt_widen_column(struct target *t, const char *schema, const char *table, const struct zcolumn *col);
int  pgt_rename_column(struct target *t, const char *schema, const char *table,
                       const char *from, const char *to);
int  pgt_rename_table(struct target *t, const char *schema, const char *from, const char *to);
int  pgt_truncate(struct target *t, const struct ztable *src, const char *schema, const char *table);
int  pgt_drop_table(struct target *t, const char *schema, const char *table);
/* pg_apply.c */
int  pgt_load_raw_ok(const struct target *t);
int  pgt_load_raw_begin(struct target *t, const char *tschema, const char *tname,
                        const struct ztable *def, int binary);
int  pgt_load_binary_ok(struct target *t, const char *tschema, const char *tname,
                        const struct ztable *def, int src_version, const char *src_encoding);
int  pgt_load_raw_data(struct target *t, const char *buf, size_t len);
int  pgt_load_raw_end(struct target *t, int abort);
int  pgt_apply(struct target *t, const struct zbatch *b);
/* marks.c */
int  pgt_resync_mark(struct target *t, const char *source_table);
int  pgt_resync_unmark(struct target *t, const char *source_table);
int  pgt_resync_marks(struct target *t, char ***tables, int *n);
int  pgt_copy_progress_set(struct target *t, const char *source_table, const char *copied_to,
                           int64_t rows, int64_t chunks);
int  pgt_shape_set(struct target *t, const char *source_table, const char *shape);
int  pgt_shape_get(struct target *t, const char *source_table, char *buf, size_t len);
int  pgt_copy_progress_get(struct target *t, const char *source_table, char *copied_to, size_t len,
                           int64_t *rows, int64_t *chunks);
int  pgt_delete_after(struct target *t, const struct ztable *def, const int *cols, const struct zkey *after,
                      const char *schema, const char *table);
/* count.c */
int  pgt_count_rows(struct target *t, const char *schema, const char *table, int live, int timeout_ms,
                    int64_t *n);
int  pgt_table_exists(struct target *t, const char *schema, const char *table);

#endif
