/*
 * target.h — the warehouse target: PostgreSQL, or Amazon Redshift through its
 * dialect, over libpq; or an HTTP endpoint that receives change events
 * (TARGET_HTTP, http.c: see "The http kind" below).
 *
 * One applier thread per integration owns one struct target; nothing here
 * locks, and a handle must never be shared between threads. The pure helpers
 * at the end (type mapping, quoting, value text) are thread-safe.
 *
 * The applier's cycle:
 *
 *   target_connect()                     creates schema zetl + zetl.checkpoints
 *   target_read_checkpoint()             where to resume the source
 *   target_ensure_table()  per table     create if missing, else report differences
 *   loop:  target_begin()
 *          target_apply(batch)           any number of batches
 *          target_commit(pos, time)      checkpoint row + COMMIT, atomically
 *          (on any error: target_rollback(), or target_close() and reconnect)
 *   target_close()
 *
 * Atomicity: the checkpoint row zetl.checkpoints(integration, position,
 * commit_time, applied_at, rows_applied; source_kind, source_id,
 * source_tables: see target_read_identity) is written by target_commit() in the SAME
 * target transaction as the batch's rows, so after a crash the target holds
 * either both or neither; resuming from target_read_checkpoint() applies
 * nothing twice and loses nothing.
 *
 * Dialects:
 *   TARGET_POSTGRES  per table and segment: COPY (text format) into a session
 *                    temp staging table (ON COMMIT DELETE ROWS, created once per
 *                    table per session), then set-based DELETE … USING stage and
 *                    INSERT … SELECT FROM stage. Keyless tables remove at most n
 *                    copies per row (ctid-limited). Partial (TOAST) updates are
 *                    staged too and applied as one UPDATE … FROM stage per shape
 *                    of known columns; key moves are one parameterized UPDATE each.
 *   TARGET_REDSHIFT  no COPY FROM STDIN: parameterized multi-row INSERT … VALUES
 *                    and DELETE … WHERE key IN (…), at most TARGET_RS_MAX_PARAMS
 *                    parameters per statement, straight into the target table
 *                    inside the transaction. TRUNCATE is applied as DELETE FROM
 *                    (Redshift's TRUNCATE commits the open transaction). Keyless
 *                    removals count the matching rows, delete them and re-insert
 *                    the survivors (one round trip per row: slow path).
 *                    JSON values go through JSON_PARSE($n) (SUPER), bytes through
 *                    FROM_HEX($n) (VARBYTE).
 *
 * SQL safety: every identifier is quoted (tbuf_ident/target_quote_ident); every value
 * is a bind parameter or COPY data, never spliced into SQL text.
 *
 * Errors: functions return 0 or -1; the message is in target_error(t), naming
 * the integration, the operation and the object, with the server's message
 * and, where we know it, the fix. A DSN in a message is always redacted
 * (host, port, dbname, user only — never the password).
 *
 * Drivers (target_ops.h): target_connect picks one by kind, once, and every
 * other entry point goes through the handle's method table (target.c), so
 * the runtime keeps one interface and never asks which kind it has; what it
 * needs to know of a kind is a fact of target_driver() (kinds.c).
 *
 * The http kind (http.c; wire format in envelope.h; README "Change events
 * over HTTP"): the same entry points. The applier adds changes with target_add() (not
 * zbatch_add: a warehouse batch collapses changes per key, an event stream
 * must not) and announces each source transaction with target_txn_begin().
 *   target_connect     a HEAD request with the configured headers: any HTTP
 *                      answer proves the endpoint reachable (TLS verified)
 *   target_add         one NDJSON event per change into the handle's buffer;
 *                      past HTTP_POST_BYTES the buffer is POSTed at once, so a
 *                      transaction of any size holds about 1 MB
 *   target_apply       a batch that still went through zbatch_add (collapsed)
 *                      becomes events too (upserts as op u)
 *   target_commit      POSTs what is buffered, then — only after a 2xx — writes
 *                      the checkpoint file STATE_DIR/NAME.http-checkpoint
 *                      (temp file, fsync, rename); resync marks live there too
 *   target_rollback    drops what is buffered (what was POSTed stays sent:
 *                      at-least-once; replays carry the same pos + seq)
 *   target_ensure_table, DDL helpers: succeed doing nothing (every event
 *                      names its columns); target_truncate (the copy's start)
 *                      sends op t with snapshot true, naming src (the source
 *                      schema and table, carried apart, never re-split)
 * Each POST carries Content-Type application/x-ndjson, the configured
 * headers, and Idempotency-Key NAME:FIRST..LAST naming its first and last
 * change (POS#SEQ, or snapshot-ID#N). Connection errors, timeouts (connect
 * 10 s, whole request 30 s), 5xx, 408 and 429 retry the identical request
 * (same body, same key) with exponential backoff and jitter, until a 2xx or
 * the stop flag (o->stop) or o->on_retry asks to give up; each failed
 * attempt and the success after failures are reported through it. Any
 * other answer (3xx, 4xx) fails at once with its status and the first 300
 * bytes of its body on one line. The URL and header values are secrets: a
 * message shows the URL as config_redact() does, and scrubs any query or
 * header value an endpoint echoes back.
 */
#ifndef ZETL_TARGET_H
#define ZETL_TARGET_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "runtime/base/buf.h"
#include "runtime/pipe/change.h"
#include "runtime/pipe/dialect.h"
#include "runtime/pipe/zkey.h"
#include "runtime/target/batch.h"

struct target;
struct pf_report;
struct pgw_wait;            /* runtime/target/pgwait.h */

/*
 * What the http kind tells target_opts.on_retry (on the handle's thread; the
 * postgres and redshift kinds send only TARGET_RETRY_WAIT):
 *   TARGET_RETRY_FAILED     an attempt failed and the same request will be
 *                           retried; reason says why (the same text at every
 *                           attempt of one request)
 *   TARGET_RETRY_WAIT       waiting before the next attempt, every 250 ms
 *                           (postgres/redshift: a call waiting over 0.8 s,
 *                           every 200 ms, reason NULL): return non-zero to
 *                           give up (an operator command ends the round), 0
 *                           to go on
 *   TARGET_RETRY_DELIVERED  the request was taken after failed attempts
 * The return value counts only for TARGET_RETRY_WAIT.
 */
enum target_retry { TARGET_RETRY_FAILED = 1, TARGET_RETRY_WAIT, TARGET_RETRY_DELIVERED };

struct target_opts {
    enum target_kind  kind;         /* TARGET_POSTGRES, TARGET_REDSHIFT or TARGET_HTTP */
    const struct zdialect *source;  /* the source kind's (dialect.h): type mapping, event names */
    const char       *dsn;          /* libpq conninfo or URI; may hold a password */
    const char       *integration;  /* the checkpoint row's key; names messages */
    /* TARGET_HTTP only (the others ignore them): */
    const struct config_integration *config;  /* url, headers, source database; borrowed */
    const char       *state_dir;    /* where NAME.http-checkpoint lives */
    atomic_int       *stop;         /* set: give up a POST or its retries at once (may be NULL) */
    int (*on_retry)(void *ctx, enum target_retry ev, const char *reason);  /* may be NULL */
    void             *retry_ctx;
    /* postgres/redshift: what a call that has had no answer for 2 s waits on
     * (a lock and its holder, a long statement; pgwait.h), again every 3 s
     * while it lasts, and wt NULL once it ended; on the connecting thread.
     * May be NULL. */
    void (*on_wait)(void *ctx, const struct pgw_wait *wt);
    void             *wait_ctx;
    /* postgres/redshift: application_name unless the dsn sets one (NULL:
     * "zetl:INTEGRATION", which target_reap_stale looks for). */
    const char       *app;
    /* postgres, ha (lease.h): > 0, every transaction that wrote ends with the
     * check that this lease epoch is still the integration's, before its
     * COMMIT; when it is not, nothing of it is applied, the commit fails
     * ("lost the lease") and *fenced is set. 0: no check. */
    int64_t           fence_epoch;
    atomic_int       *fenced;
};

/* The http kind POSTs its buffer when it passes this many bytes. */
#define HTTP_POST_BYTES (1u << 20)

/* ---- the kinds' facts (kinds.c) ----------------------------------------------
 * What the rest of zetl needs to know of a target kind, so that nothing
 * outside runtime/target asks which kind it has: one const table per kind.
 * target_driver() is constant and pure: any thread. */
struct target_driver {
    enum target_kind kind;          /* the config's kind these facts describe */
    const char *name;               /* "postgres", "redshift", "http": the config's kind,
                                       the URL scheme in status lines and checks */
    const char *label;              /* "PostgreSQL", "Redshift", "http": in messages */
    int  default_port;              /* shown when the DSN names none (0: a URL) */
    size_t name_max;                /* the longest identifier it keeps, bytes (0: no
                                       limit; names.h) */
    int  url;                       /* addressed by target.url (shown redacted); 0: by a
                                       libpq DSN, shown as scheme://host:port/db */
    int  redshift;                  /* speaks Amazon Redshift's SQL */
    int  checkpoint_table;          /* the checkpoint is a row of zetl.checkpoints that
                                       records its source (checked at start); 0: a file
                                       in the state directory */
    int  reads_back;                /* its rows can be read and counted: zetl verify,
                                       the drift check */
    int  text_nul;                  /* a text value may hold NUL (JSON's \u0000) */
    int  computes_generated;        /* computes a GENERATED … STORED column itself */
    int  load_writer;               /* the initial copy loads through a writer thread
                                       that owns the connection; 0: inline (target_add
                                       writes into the handle) */
};

/* The facts of kind, or NULL when kind is none of config.h's. */
const struct target_driver *target_driver(enum target_kind kind);

/* ---- connection ------------------------------------------------------------ */

/*
 * Connect (connect_timeout 10 s unless the DSN sets one), set the session up
 * (UTF8, UTC, ISO dates, full float precision; Redshift: case-sensitive
 * identifiers), and create schema "zetl" and zetl.checkpoints if missing.
 * On failure *out is NULL and err says which host/database (redacted) and why.
 */
int  target_connect(struct target **out, const struct target_opts *o, char *err, size_t errlen);
void target_close(struct target *t);
/*
 * Dead links (postgres/redshift; runtime/target/pgwait.h): every wait on the
 * server has a deadline. A call that gets no byte for 10 s probes the server
 * on a side connection; unreachable, or our session gone or idle there, fails
 * the call within about 15 s ("target HOST:PORT unreachable: no answer for
 * N s"), while a statement the server is still running is waited for. After
 * 0.8 s a call also gives up for o->stop or when o->on_retry(TARGET_RETRY_WAIT)
 * returns non-zero (asked every 200 ms, only on the thread that connected).
 * Connecting honours o->stop too. A call given up leaves the handle broken:
 *   target_broken      1 when the connection is lost, given up or cancelled: close it
 *   target_reap_stale  end every other session of this user and database
 *                      named as ours (application_name "zetl:INTEGRATION"):
 *                      those a dead link left behind, idle in a transaction
 *                      whose locks would hold up the retry. Call it only
 *                      when no other connection of the integration is in
 *                      use (a round's start). Sessions ended, or -1.
 */
int  target_broken(const struct target *t);
/* Any thread: the call in flight on t (on whichever thread) gives up after
 * at most 0.8 s, as for stop, and t is broken from then on. postgres/redshift. */
void target_cancel(struct target *t);
int  target_reap_stale(struct target *t);
const char *target_error(const struct target *t);
/* The SQLSTATE of the last server error ("" when the last error came from no
 * server answer: a lost connection, out of memory, the http kind). */
const char *target_sqlstate(const struct target *t);
/* "host=… port=… dbname=… user=…" without the password, for logs and status. */
const char *target_describe(const struct target *t);

/*
 * Redshift: 0 when enable_case_sensitive_identifier is on for this session,
 * 1 when off (fix holds what to do), -1 when it cannot be read (not Redshift).
 */
int  target_check_redshift(struct target *t, char *fix, size_t fixlen);

/* ---- tables ------------------------------------------------------------------ */

enum target_diff_kind {
    TDIFF_MISSING = 1,      /* in the source, not in the target: add_column */
    TDIFF_EXTRA,            /* in the target only: the target keeps it (NULL on insert) */
    TDIFF_TYPE              /* both, but the target's type is not the mapped type */
};

struct target_diff {
    enum target_diff_kind kind;
    char column[128];
    char want[128];         /* the mapped type, as the server spells it ("" for EXTRA) */
    char have[128];         /* the target's type ("" for MISSING) */
};

struct target_table_diff {
    int created;            /* 1: the table did not exist and was created */
    int ndiffs;
    struct target_diff *diffs;  /* owned; free with target_table_diff_free */
};

/*
 * Create schema and table from the source definition if missing (exact-case
 * quoted names, mapped types, NOT NULL, PRIMARY KEY). If the table exists,
 * compare its columns by exact name and server-normalized type and report the
 * differences in *diff; the caller decides (add/widen/resync). Runs its own
 * transaction: call it outside begin/commit.
 */
int  target_ensure_table(struct target *t, const struct ztable *src, const char *tschema,
                         const char *tname, struct target_table_diff *diff);
void target_table_diff_free(struct target_table_diff *d);

/* ---- transactions ---------------------------------------------------------------- */

int  target_begin(struct target *t);
/*
 * A copy into tables this transaction truncated (the initial copy, a resync):
 * until the transaction ends, a table segment holding only inserts is COPYed
 * straight into the table, with no staging table and no merge (postgres
 * dialect; the others ignore it). The caller guarantees no key repeats
 * across the transaction's batches — true of one consistent read.
 */
void target_set_load(struct target *t);
/*
 * Raw load (postgres dialect, in a load transaction): rows that already are
 * PostgreSQL COPY text — a PostgreSQL source's own COPY TO output, for a
 * table whose target keeps the source's declared types — go into the table
 * as they are, with no decoding and re-encoding:
 *   target_load_raw_ok     1 when this target can take them now
 *   target_load_raw_begin  COPY "tschema"."tname" (def's columns) FROM STDIN
 *                          (binary != 0: WITH (FORMAT binary))
 *   target_load_raw_data   whole rows, any number of them
 *   target_load_raw_end    finish the COPY (abort != 0: abandon it); the
 *                          rows count into the checkpoint's row total
 * A rollback abandons a COPY still open.
 */
int  target_load_raw_ok(const struct target *t);
int  target_load_raw_begin(struct target *t, const char *tschema, const char *tname,
                           const struct ztable *def, int binary);
/*
 * May a PostgreSQL source (server_version_num src_version, server_encoding
 * src_encoding) send def's rows to "tschema"."tname" in binary COPY format?
 * Binary values are the types' internal forms, checked by no conversion: only
 * when the target runs the same major version with the same server encoding
 * (text bytes are not converted) and has every column of def with exactly
 * the source's built-in type (format_type equal, OID below 16384: an array's
 * element OID travels in its data). 1 yes, 0 no (or the catalog query
 * failed: text is always safe).
 */
int  target_load_binary_ok(struct target *t, const char *tschema, const char *tname,
                           const struct ztable *def, int src_version, const char *src_encoding);
int  target_load_raw_data(struct target *t, const char *buf, size_t len);
int  target_load_raw_end(struct target *t, int abort);
/* Apply every table of the batch, in the batch's order. Inside begin/commit. */
int  target_apply(struct target *t, const struct zbatch *b);
/* Upsert the checkpoint row (pos, source commit time in µs, rows applied) and COMMIT.
 * pos NULL or ZPOS_NONE: COMMIT without touching the checkpoint (the parallel
 * copy workers; the coordinator writes the checkpoint last). */
int  target_commit(struct target *t, const struct zpos *pos, int64_t commit_time_us);
int  target_rollback(struct target *t);
/*
 * The integration's checkpoint: 1 found (*pos, *commit_time_us set; the
 * latter may be NULL), 0 none (pos->kind ZPOS_NONE), -1 error. Outside a
 * transaction or inside one (then it sees the uncommitted row).
 */
int  target_read_checkpoint(struct target *t, struct zpos *pos, int64_t *commit_time_us);
/*
 * Forget where the integration is (a re-snapshot, runtime/integ/copy.c): its
 * checkpoint row and its resync marks are deleted in one transaction of
 * their own (http: the checkpoint file is rewritten with neither), so the
 * next round finds no checkpoint and copies every table. 0, or -1.
 */
int  target_discard_checkpoint(struct target *t);

/*
 * Whose checkpoint it is (runtime/integ/ident.c): the checkpoint row also holds the
 * source it was written for — kind ("mysql", "postgres"), identity
 * (source_identity()) and a digest of the selected tables — in columns
 * source_kind, source_id and source_tables, added to an older
 * zetl.checkpoints table on first use (ALTER TABLE … ADD COLUMN).
 *   target_read_identity  the row's identity: 1 the row exists (its fields
 *                         "" when an older zetl wrote it), 0 no row, -1
 *                         error; -2 the columns are missing and this user
 *                         may not add them (not the table's owner: the
 *                         check is off, target_set_identity does nothing);
 *                         outside a transaction
 *   target_set_identity   every later target_commit() writes id with the
 *                         checkpoint; write_now: also update the existing row
 *                         now, in a transaction of its own
 * The http kind keeps its checkpoint in the state directory: both do
 * nothing there (0).
 */
struct target_ident {
    char kind[16];          /* "mysql" | "postgres" */
    char id[512];           /* source_identity() */
    char tables[64];        /* "N:fnv1a64 hex" of the selected source tables */
};
int  target_read_identity(struct target *t, struct target_ident *out);
int  target_set_identity(struct target *t, const struct target_ident *id, int write_now);
/*
 * SELECT count(*) of a target table (live 1: of a soft-delete table's rows
 * not marked deleted; 2: of a history table's active versions), cut off
 * after timeout_ms. 0 with *n, -1 with
 * target_error(), 1 when the kind cannot count (http).
 */
int  target_count_rows(struct target *t, const char *schema, const char *table, int live, int timeout_ms,
                       int64_t *n);
/* Does the target table exist? 1 yes (always for http), 0 no, -1 error. */
int  target_table_exists(struct target *t, const char *schema, const char *table);

/* ---- change events (the http kind; a no-op or zbatch_add for the others) -------------- */

/*
 * A source transaction begins: start is the position the stream would resume
 * from to replay it (the end of the previous transaction). The http kind
 * stamps the transaction's events with it (source.pos, txid, ts_ms) and
 * numbers them from 0 (source.seq). Does nothing for postgres/redshift.
 */
void target_txn_begin(struct target *t, const struct ztxn *txn, const struct zpos *start);
/*
 * Add one change: postgres/redshift zbatch_add(b, …) (b->err on failure);
 * http one event in the handle's buffer (op r when snapshot is 1: a row of
 * the initial copy or a resync), POSTed when the buffer passes
 * HTTP_POST_BYTES; on failure b->err holds the start of target_error(t).
 */
int  target_add(struct target *t, struct zbatch *b, const struct zrowchange *rc,
                const char *tschema, const char *tname, int snapshot);
/*
 * `zetl check` for ci's target, where its driver has a check of its own
 * (http: the endpoint answers a HEAD request with the configured headers,
 * TLS, and the checkpoint file). Items go to r; 0, or -1 with err when the
 * check could not run; 1 when the driver has none — a libpq DSN is tested
 * as the walkthrough tests it (setup_target_test, runtime/check/setup.h).
 */
int  target_preflight(const struct config_integration *ci, const char *state_dir,
                      struct pf_report *r, char *err, size_t errlen);

/* ---- resync marks (marks.c) -------------------------------------------------------
 * zetl.resyncs holds the tables whose resync is under way: marked (committed)
 * before the table's stream changes are diverted to the resync spool, unmarked
 * in the transaction that applies that spool with the checkpoint. A mark found
 * at start: the resync was cut short and must run again. */
int  target_resync_mark(struct target *t, const char *source_table);   /* own txn if none open */
int  target_resync_unmark(struct target *t, const char *source_table); /* inside begin/commit */
int  target_resync_marks(struct target *t, char ***tables, int *n);
void target_resync_marks_free(char **tables, int n);

/* ---- a chunked copy's progress (marks.c; runtime/integ/resync.c) -------------------------
 * zetl.copy_progress(integration, source_table, copied_to, rows_copied, chunks,
 * updated_at): the key up to which a table's chunked copy is done (its text
 * form, runtime/pipe/zkey.h; NULL: nothing yet), written in the transaction
 * that carries the checkpoint those rows are consistent with, and removed
 * with the resync mark (target_resync_unmark). target_can_chunk: 0 when the
 * kind has none of it (a table is then copied in one read).
 *   target_copy_progress_set   inside begin/commit
 *   target_copy_progress_get   1 found (copied_to "" when NULL), 0 none, -1 error
 *   target_delete_after        rows whose key (def's cols) is after *after go,
 *                              in the open transaction (a chunk's install) */
int  target_can_chunk(const struct target *t);
int  target_copy_progress_set(struct target *t, const char *source_table, const char *copied_to,
                              int64_t rows, int64_t chunks);
int  target_copy_progress_get(struct target *t, const char *source_table, char *copied_to, size_t len,
                              int64_t *rows, int64_t *chunks);
int  target_delete_after(struct target *t, const struct ztable *def, const int *cols,
                         const struct zkey *after, const char *schema, const char *table);

/* ---- soft deletes (ztable.soft_delete) -------------------------------------------------
 * The two columns a soft-delete table has after its own: a delete sets them
 * (true, the source transaction's time), an insert or update of the key
 * writes the row live again (false, NULL). */
#define TARGET_SOFT_DELETED    "_zetl_is_deleted"
#define TARGET_SOFT_DELETED_AT "_zetl_deleted_at"
/* Append the timestamptz of x µs since the epoch (x: an SQL expression of
 * a bigint: a column or a parameter), exact to the microsecond on
 * PostgreSQL and Redshift. */
struct zbuf;
void target_soft_time_sql(struct zbuf *q, const char *x);
/* A soft delete's time: the transaction's (us), or now when unknown (0: a
 * change replayed after a resync carries none). */
int64_t target_soft_time(int64_t us);

/* ---- history mode (ztable.history) ----------------------------------------------------
 * A history table's target has, after its own columns, these three, and no
 * primary key: each source transaction that changes a key closes its active
 * version (false, the transaction's time) and, unless it deleted the row,
 * adds a new active one (true, the time, NULL). At most one version of a key
 * is active: a partial unique index says so on PostgreSQL. */
#define TARGET_HIST_ACTIVE  "_record_is_active"
#define TARGET_HIST_CREATED "_record_create_time"
#define TARGET_HIST_DELETED "_record_delete_time"

/* ---- the shape a table's rows are written with (marks.c; runtime/integ/shape.h) -------
 * zetl.table_shapes(integration, source_table, shape, updated_at): the
 * column transforms (and, later, modes) the table's rows carry, set in the
 * transaction that empties the table for a copy, so the rows and the record
 * never disagree; read when an integration starts, where a difference from
 * the config needs a resync. A kind that keeps none (http: its events are
 * not kept by zetl) sets nothing and finds none.
 *   target_shape_set   inside begin/commit
 *   target_shape_get   1 found (shape into buf), 0 none, -1 error */
int  target_keeps_shapes(const struct target *t);
int  target_shape_set(struct target *t, const char *source_table, const char *shape);
int  target_shape_get(struct target *t, const char *source_table, char *buf, size_t len);

/* ---- DDL helpers (the applier's answer to source schema changes) ------------------ */
/*
 * Each runs in the open transaction if there is one (PostgreSQL DDL is
 * transactional, so it commits with the checkpoint), else on its own.
 * Redshift cannot ALTER COLUMN TYPE inside a transaction block, and only
 * widens VARCHAR; call target_widen_column outside begin/commit there.
 * Names are target names, unquoted, exact case.
 */
int  target_add_column(struct target *t, const char *schema, const char *table,
                       const struct zcolumn *col);   /* nullable; existing rows get NULL */
int  target_drop_column(struct target *t, const char *schema, const char *table,
                        const char *column);
int  target_widen_column(struct target *t, const char *schema, const char *table,
                         const struct zcolumn *col);  /* to the mapped type of col */
int  target_rename_column(struct target *t, const char *schema, const char *table,
                          const char *from, const char *to);
int  target_rename_table(struct target *t, const char *schema, const char *from,
                         const char *to);
/* src: the source table (the http kind's event names it; the others ignore it). */
int  target_truncate(struct target *t, const struct ztable *src, const char *schema,
                     const char *table);
int  target_drop_table(struct target *t, const char *schema, const char *table);

/* ---- pure helpers (thread-safe; unit-tested without a server) ------------------------ */

/*
 * The target column type for a source column (see the table in typemap.c).
 * Writes e.g. "numeric(20,0)" into buf; returns 0, -1 if buf is too small.
 */
int  target_map_type(enum target_kind kind, const struct zdialect *source,
                     const struct zcolumn *c, char *buf, size_t len);

/* 1 when the target column is created NOT NULL (typemap.c: a MySQL date may be NULL). */
int  target_column_not_null(const struct zdialect *source, const struct zcolumn *c);

/* "name" with embedded quotes doubled; -1 if buf is too small. */
int  target_quote_ident(const char *name, char *buf, size_t len);

/* SQL text is built in base's growable buffer (struct zbuf, reused across
 * batches: no per-value malloc). tbuf_put/puts/putc/free are the target's
 * names for zbuf_put/puts/putc/free; tbuf_ident and tbuf_qname quote. */

/*
 * The DDL target_ensure_table runs for a missing table, appended to out:
 * CREATE SCHEMA IF NOT EXISTS + CREATE TABLE IF NOT EXISTS with mapped types,
 * NOT NULL and PRIMARY KEY (informational on Redshift). -1: a type did not
 * fit or out of memory.
 */
int  target_create_table_sql(enum target_kind kind, const struct zdialect *source,
                             const struct ztable *src, const char *tschema, const char *tname,
                             struct zbuf *out);
static inline void tbuf_put(struct zbuf *b, const void *p, size_t n) { zbuf_put(b, p, n); }
static inline void tbuf_puts(struct zbuf *b, const char *s) { zbuf_puts(b, s); }
static inline void tbuf_putc(struct zbuf *b, char c) { zbuf_putc(b, c); }
static inline void tbuf_free(struct zbuf *b) { zbuf_free(b); }
void tbuf_ident(struct zbuf *b, const char *name);              /* quoted */
void tbuf_qname(struct zbuf *b, const char *schema, const char *name);

/*
 * A value in PostgreSQL input syntax for column c (raw, unescaped): integers,
 * floats with round-trip precision (Infinity/NaN spelled for the server),
 * booleans as true/false, text as is, bytes as \x hex (hex_prefix 0: bare hex,
 * for Redshift FROM_HEX). ZV_NULL/ZV_UNCHANGED write nothing: check first.
 */
void target_value_text(struct zbuf *b, const struct zcolumn *c, const struct zvalue *v,
                       int hex_prefix);
/* One COPY text-format field: \N for NULL; backslash, tab, LF, CR escaped. */
void target_copy_field(struct zbuf *b, const struct zcolumn *c, const struct zvalue *v);
/* One COPY text-format row: def's columns from vals, tab-separated, ending in LF. */
void target_copy_row(struct zbuf *b, const struct ztable *def, const struct zvalue *vals);

/*
 * Redshift DML for one table of a batch, as statements with parameters. fn
 * runs each statement; *result gets the first column of the first row when
 * the statement returns rows (SELECT count), else the affected row count.
 */
#define TARGET_RS_MAX_PARAMS     32000
#define TARGET_RS_MAX_VALUE_BYTES (8u << 20)    /* parameter bytes per statement */
typedef int (*target_stmt_fn)(void *ctx, const char *sql, int nparams,
                              const char *const *values, const int *lengths,
                              int64_t *result);
int  target_redshift_table_sql(const struct zb_table *bt, target_stmt_fn fn, void *ctx,
                               char *err, size_t errlen);
/* The UPDATE for a partial (TOAST) or move row, both dialects (rs: Redshift value wrappers). */
int  target_partial_update_sql(const struct zb_table *bt, const struct zb_row *r, int rs,
                               target_stmt_fn fn, void *ctx, char *err, size_t errlen);

#endif
