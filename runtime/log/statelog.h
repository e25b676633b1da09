/*
 * statelog.h — the SQLite log: zetl's local record of states, counts,
 * activity, lag, events and the console→runtime command queue.
 *
 * One SQLite file in the state directory (usually STATE_DIR/zetl.db), shared
 * by every zetl process on the host: a headless `zetl run`, any number of
 * attached consoles, `zetl status`. The checkpoint of record lives in the
 * target; the position kept here is a copy for display.
 *
 * Invariants
 *   - The file is mode 0600 (created so, tightened on open), its directory is
 *     created 0700 when missing. Journal is WAL, synchronous=NORMAL: a
 *     committed write survives a crash of the process (kill -9), not
 *     necessarily of the OS; the file is never left corrupt.
 *   - Every handle waits up to STATELOG_BUSY_MS for a lock held by another
 *     process, and every multi-statement write runs in one BEGIN IMMEDIATE
 *     transaction, so a runtime and a console never see SQLITE_BUSY in
 *     normal operation and never see half of a write.
 *   - Schema: versioned by PRAGMA user_version; statelog_open applies the
 *     missing migration steps, each in its own transaction. A file written by
 *     a newer zetl (user_version > STATELOG_SCHEMA_VERSION) is refused, never
 *     touched.
 *   - Bounded size: raw lag samples are kept STATELOG_LAG_RAW_MS, then rolled
 *     up to one row per integration and minute (min/avg/max) kept
 *     STATELOG_LAG_ROLLUP_MS; events and activity keep the newest
 *     STATELOG_EVENTS_MAX / STATELOG_ACTIVITY_MAX rows; finished commands are
 *     kept STATELOG_COMMANDS_KEEP_MS. Pruning runs from the record calls every
 *     STATELOG_PRUNE_EVERY inserts, and on demand with statelog_prune().
 *   - Secrets never enter the log: source/target strings are display strings
 *     the caller has already redacted (host, port, database; no password).
 *   - All SQL uses bound parameters; values are never spliced into SQL.
 *
 * Healing: the log is a record for display, so a bad file never stops zetl.
 *   - A corrupt file (SQLITE_CORRUPT, SQLITE_NOTADB, or PRAGMA quick_check
 *     not "ok" at open) is renamed with its -wal/-shm to
 *     zetl.db.corrupt-YYYYMMDDTHHMMSS (UTC) for inspection, a fresh log is
 *     started at the path, and one line on stderr says where it went and
 *     that the checkpoint of record is in the target. At open, and on any
 *     call that fails so (the call then runs again in the fresh log).
 *   - A file deleted or replaced under an open handle (the path's inode is
 *     compared every STATELOG_RECHECK_MS, at the next call) is noticed: the
 *     handle reopens the file at the path (creating it when deleted) and
 *     says so once per process.
 *   - A fresh log gets back, from each handle's memory, the integration and
 *     table rows that handle wrote (state, reason, endpoints, position;
 *     counts and history start at zero), and a "statelog" warning event.
 *   - Creating the file and moving it aside run under an flock on the state
 *     directory; a -wal/-shm left without its database is removed first.
 *
 * Time: every timestamp is integer milliseconds since the Unix epoch, UTC.
 * 0 means "never" (stored as NULL). lag_ms/bytes_behind < 0 mean "unknown"
 * (stored as NULL, printed as null in JSON).
 *
 * Tables (schema version 1; runners from 3; the lag basis from 4; a table's
 * copy progress from 7)
 *   integrations(name PK, state, reason, source, target, position, lag_ms,
 *                bytes_behind, updated_at,
 *                lag_basis_at, lag_pending, lag_res_ms, stall_from, stall_ms)
 *   tables      (integration → integrations ON DELETE CASCADE, name, target,
 *                state, reason, rows_copied, rows_estimated, inserts, updates,
 *                deletes, last_applied_at, lag_ms, updated_at, lag_basis_at,
 *                copy_started_at, copy_chunks, copy_rate_at, copy_rate_rows,
 *                copy_mark_at, copy_mark_rows;
 *                PK (integration, name)) — name is the source "schema.table"
 *   activity    (id, integration, at, pos_from, pos_to, transactions,
 *                inserted, updated, deleted, bytes, duration_ms)
 *   lag_samples (id, integration, at, lag_ms, bytes_behind)       raw
 *   lag_rollups (integration, minute, n, lag_min, lag_sum, lag_max,
 *                bytes_max; PK (integration, minute))          1-minute
 *   events      (id, at, integration, tbl, level, kind, message, actor)
 *   commands    (id, integration, tbl, command, actor, created_at,
 *                claimed_at, done_at, result)
 *   runners     (integration PK, pid, actor, started_at, seen_at,
 *                stopped_at)                      schema version 3: who runs
 *                the integration, or ran it last (runtime/log/liveness.h)
 * Schema version 6 adds to integrations the source position (struct
 * statelog_source: source_position, source_position_at, bytes_between,
 * files_between, binlog_expire_s, checkpoint_commit_at; see "Source
 * position" below).
 * Schema version 2 adds to integrations what the applier waits on now
 * (wait_kind, wait_since, wait_what, wait_detail, wait_holders, wait_pid,
 * wait_user, wait_state, wait_holder_since, wait_query: NULL when it waits
 * on nothing) and the retry backoff (retry_attempt, retry_at), and the
 * command retry.
 * activity/lag/events/commands are not foreign-keyed: the audit trail of a
 * deleted integration outlives it (statelog_delete_integration_rows removes
 * what is no longer useful and keeps the events).
 *
 * Lag (DESIGN.md "lag") is computed when it is read, never frozen: the
 * runtime writes its basis (struct statelog_lag_basis: the commit time of
 * the oldest change not yet applied, or the time the source last proved us
 * current) and every read — `zetl status`, the console, the metrics file,
 * the alerts — computes lag = now − basis (statelog_lag_at). So the lag of
 * an applier stuck in a target call, of a failed, paused or stopped
 * integration, or of one no process runs, keeps growing from the last
 * basis written, and every reader shows the same figure. A state log
 * without a basis (written before schema 2, or before the first stream)
 * shows the lag_ms column as written. The basis carries its resolution
 * (MySQL/MariaDB event timestamps are whole seconds): readers show no more
 * precision than that. A table's lag: while it applies (synced), the
 * integration's (changes apply in commit order, every table up to the same
 * position); once it stops applying (failed, resync_required, resyncing:
 * its changes are skipped or spooled), it grows from when it was last
 * current (tables.lag_basis_at, set by statelog_record_transition);
 * otherwise unknown. Stalled: changes wait and the applied position has
 * not moved for the basis' stall_ms, while the integration is active or
 * needs_attention. Lag samples have no hole: a basis write first fills
 * the time since the last sample (further back than STATELOG_LAG_GAP_MS)
 * from the previous basis, and statelog_lag_since adds the same for the
 * gap still open, so a stuck applier shows as a rising line.
 *
 * Source position: the newest position the reader has seen from the
 * source server (a MySQL/MariaDB heartbeat's file:pos or an event's
 * log_pos; a PostgreSQL keepalive's WAL end or a commit's end LSN), when it
 * saw it, and the bytes between it and the applied position (one binlog
 * file, or LSNs; across binlog files bytes_between is unknown and
 * files_between says how many files). MySQL/MariaDB: the server's binlog
 * expiry (@@binlog_expire_logs_seconds, or @@expire_logs_days × 86400; 0 =
 * never purged automatically) and the commit time of the last transaction
 * applied from the checkpoint's file: a file is purged once its last write
 * is older than the expiry, so checkpoint_commit_at + expiry is a lower
 * bound of when the checkpoint's file can be purged. Written by the
 * applier with its periodic lag write; -1 / 0 / NULL unknown.
 *
 * Copy progress (schema version 7): while a table is copied (snapshotting,
 * resyncing), the copying thread writes through statelog_copy_begin (the
 * copy starts: rows_copied from 0, or a resumed chunked copy's rows; its
 * start time; chunks 0, or NULL for a copy in one read), statelog_copy_rows
 * (its rows begin to come: the rate is measured from here),
 * statelog_copy_estimate (the source's estimate of the table's rows:
 * information_schema.TABLES.TABLE_ROWS on MySQL/MariaDB, pg_class.reltuples
 * on PostgreSQL, read once as the copy of the table starts; 0 unknown) and
 * statelog_copy_add (rows copied since the last call, and the chunks a
 * chunked copy committed since). Rows/s and the ETA are computed at the read,
 * like the lag (statelog_copy_rate_at), so every reader shows one figure:
 * rows/s is rows_copied's growth from a base point to now. The base is the
 * moment the rows began, until STATELOG_COPY_WINDOW_MS later; from then on
 * statelog_copy_add keeps a mark, and once the mark is that old the base
 * moves to it: the rate covers the last 10 to 20 s. A copy that stops
 * moving (a stuck target, a dead process) shows its rate falling, not the
 * last figure frozen. ETA = (estimated − copied) / rate; unknown without an
 * estimate, without a rate, or with the estimate reached (an estimate is
 * not a count).
 *
 * States are validated against DESIGN.md "States" (runtime/base/states.h,
 * whose names the log stores): integration states creating snapshotting
 * active paused needs_attention failed deleting deleted; table states
 * pending snapshotting synced resync_required resyncing failed
 * dropped_source excluded. An unknown state is refused on write; on read,
 * a row's state is the string stored (a newer zetl's state included), and
 * istate_parse/tstate_parse give its enum (UNKNOWN when not known here).
 *
 * Ownership: strings passed in are borrowed (copied into SQLite). Arrays
 * returned by the read calls are owned by the caller and freed with the
 * matching statelog_free_*() call.
 *
 * Threads: a handle is used by one thread at a time. Each thread or process
 * that needs the log opens its own handle (the console thread never does: it
 * reads the runtime's status snapshot; `zetl status` and an attached console
 * open their own). Handles in different threads/processes may be used
 * concurrently; SQLite's locking serializes them.
 *
 * Errors: every int function returns 0 on success, -1 on failure with a
 * message naming the operation and SQLite's error in statelog_error(sl).
 */
#ifndef ZETL_STATELOG_H
#define ZETL_STATELOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/base/states.h"

#define STATELOG_SCHEMA_VERSION    9
#define STATELOG_BUSY_MS           5000
#define STATELOG_LAG_RAW_MS        (60LL * 60 * 1000)            /* 1 hour */
#define STATELOG_LAG_ROLLUP_MS     (7LL * 24 * 60 * 60 * 1000)   /* 7 days */
#define STATELOG_EVENTS_MAX        100000
#define STATELOG_ACTIVITY_MAX      100000
#define STATELOG_COMMANDS_KEEP_MS  (30LL * 24 * 60 * 60 * 1000)  /* 30 days */
#define STATELOG_PRUNE_EVERY       500   /* record calls between prunes */
#define STATELOG_RECHECK_MS        2000  /* path checked for a deleted file */
#define STATELOG_PROOF_FRESH_MS    3000  /* a proof of currency this recent: lag 0 */
#define STATELOG_LAG_GAP_MS        3000  /* samples further apart: the gap is filled */
#define STATELOG_LAG_FILL_MAX      600   /* samples one fill adds at most */
#define STATELOG_COPY_WINDOW_MS    10000 /* a copy's rate: over the last 10 to 20 s */

struct statelog;

enum statelog_level { STATELOG_INFO = 0, STATELOG_WARNING, STATELOG_ERROR };

struct statelog_table {
    char   *integration;
    char   *name;            /* source "schema.table" */
    char   *target;          /* target "schema.table" (after rename) */
    char   *state;           /* table state, see above */
    char   *reason;          /* NULL when none */
    int64_t rows_copied;     /* by the current/last snapshot */
    int64_t rows_estimated;  /* source estimate for the snapshot, 0 unknown */
    int64_t inserts, updates, deletes;  /* rows applied from the stream */
    int64_t last_applied_at; /* ms epoch of the last applied change, 0 never */
    int64_t lag_ms;          /* read calls: see "Lag" above; -1 unknown */
    int64_t lag_res_ms;      /* read calls: lag_ms is good to this many ms (1 or 1000) */
    int64_t updated_at;      /* ms epoch, set by the log on every write */
    int64_t stopped_at;      /* read calls: it stopped applying (failed, resync_required,
                                resyncing) and was last current then; 0 otherwise */
    /* read calls: the copy under way, or the last one (see "Copy progress") */
    int64_t copy_started_at; /* wall ms it began (a resumed chunked copy: resumed); 0 unknown */
    int64_t copy_chunks;     /* chunks a chunked copy has committed; -1 a copy in one read */
    int64_t copy_base_at;    /* the rate's base: rows_copied was copy_base_rows at this */
    int64_t copy_base_rows;  /*   wall ms; 0 no base (no row came yet) */
    double  copy_rows_per_s; /* computed at the read while copying; -1 unknown */
    int64_t copy_eta_s;      /* computed at the read while copying; -1 unknown */
    char   *shape;           /* what its target rows are shaped by (runtime/integ/shape.h's
                                string, "email=hash:1a2b3c4d,phone=mask,soft_delete"); NULL
                                or "" none. An upsert with NULL keeps the row's */
};

/*
 * What an integration's applier waits on, as the runtime last saw it
 * (runtime/integ/wait.c): kind NULL when it waits on nothing. A wait is written
 * when it has lasted about 2 s and cleared when it ends.
 *   lock       our statement waits for a lock another target session holds
 *              (pg_blocking_pids): the first holder's pid, user, state,
 *              transaction start and query (cut to 200 characters; from
 *              the word "password" or "secret" on, hidden)
 *   statement  our statement has run a while and nothing blocks it (or the
 *              target cannot say: Redshift), e.g. a long COMMIT or COPY
 *   queue      the reader waits for room in the change queue: the applier
 *              is behind
 */
struct statelog_wait {
    char   *kind;            /* "lock" | "statement" | "queue"; NULL: no wait */
    int64_t since;           /* ms epoch the wait began */
    char   *what;            /* ours: the statement ("COMMIT", "INSERT INTO …") or "change queue" */
    char   *detail;          /* the whole picture in one line, for people */
    int64_t holders;         /* sessions blocking ours; 0 none, -1 unknown */
    int64_t holder_pid;      /* the first of them, 0 none */
    char   *holder_user;
    char   *holder_state;    /* pg_stat_activity.state: "idle in transaction" */
    int64_t holder_since;    /* ms epoch its transaction began, 0 unknown */
    char   *holder_query;
};

/* What lag is computed from at read time (see "Lag" above). */
struct statelog_lag_basis {
    int64_t at;              /* wall ms: commit time of the oldest change not yet
                                applied (pending), or the last proof; 0 none */
    int     pending;         /* 1: changes wait, `at` is the oldest one's commit */
    int64_t res_ms;          /* resolution of `at`: 1, or 1000 (whole-second timestamps) */
    int64_t wait_since;      /* pending: wall ms the applied position last moved
                                or changes began to wait; 0 otherwise */
    int64_t stall_ms;        /* pending this long without a move is stalled; 0 never */
};

/* Lag at wall time now from b: pending, now − at; else 0 within
 * STATELOG_PROOF_FRESH_MS of the proof, then now − at. -1 without a basis. */
int64_t statelog_lag_at(const struct statelog_lag_basis *b, int64_t now);

/* A copying table's rows/s and ETA in whole seconds (rounded up) at wall
 * time now (see "Copy progress"), from rows_copied, rows_estimated and the
 * copy_base_*; -1 each when unknown. Pure: for readers and tests. */
void statelog_copy_rate_at(const struct statelog_table *t, int64_t now, double *rows_per_s,
                           int64_t *eta_s);

/* Where the source is, against the applied position (see "Source position"). */
struct statelog_source {
    char   *position;        /* the source's newest position seen, zpos_format; NULL unknown */
    int64_t at;              /* wall ms it was seen, 0 unknown */
    int64_t bytes_between;   /* source position − applied position, bytes; -1 unknown */
    int64_t files_between;   /* MySQL/MariaDB: binlog files the source is ahead, -1 unknown */
    int64_t expire_s;        /* MySQL/MariaDB binlog expiry, s; 0 never; -1 unknown */
    int64_t checkpoint_commit_at; /* wall ms: commit time of the last transaction applied
                                from the checkpoint's binlog file; 0 unknown */
};

/* Lower bound of when the checkpoint's binlog file can be purged (wall
 * ms): checkpoint_commit_at + expiry. 0 when unknown or never purged. */
int64_t statelog_purge_not_before(const struct statelog_source *s);

/* ha (runtime/integ/ha.c; statelog_set_ha): role NULL when ha is off. */
struct statelog_ha {
    const char *role;        /* "active" (this process holds the lease) or "standby" */
    const char *member;      /* this process's member name */
    const char *holder;      /* the lease's holder, NULL unknown */
    int64_t     holder_pid;
    int64_t     epoch;       /* the lease's epoch, 0 unknown */
    const char *standbys;    /* the other members seen, ", " between; "" none */
};

struct statelog_integration {
    char   *name;
    char   *state;           /* integration state, see above */
    char   *reason;          /* NULL when none */
    char   *source;          /* redacted display string: mysql://host:port */
    char   *target;          /* redacted display string */
    char   *position;        /* copy of the checkpoint, for display; may be NULL */
    int64_t lag_ms;          /* read calls: computed at the read (see "Lag"); -1 unknown */
    int64_t bytes_behind;    /* source log bytes not yet applied, -1 unknown */
    int64_t updated_at;      /* ms epoch, set by the log */
    struct statelog_wait wait;       /* read calls only (statelog_set_wait writes it) */
    int64_t retry_attempt;   /* read calls only: the failed round's next attempt, 0 none */
    int64_t retry_at;        /* ms epoch that attempt starts; 0: under way, or none */
    int64_t lag_res_ms;      /* read calls: lag_ms is good to this many ms (1 or 1000) */
    int64_t stalled_since;   /* read calls: ms epoch the stall began, 0 not stalled */
    struct statelog_lag_basis basis;   /* read calls: as the runtime last wrote it */
    struct statelog_source src;      /* read calls only (statelog_set_source writes it) */
    char   *ha_role, *ha_member, *ha_holder, *ha_standbys;  /* read calls: NULL when ha is off */
    int64_t ha_holder_pid, ha_epoch;
    struct statelog_table *tables;   /* read calls only: sorted by name */
    size_t  ntables;
};

struct statelog_activity {
    int64_t id;              /* read calls only */
    char   *integration;
    int64_t at;              /* ms epoch the batch was applied; 0 = now */
    char   *pos_from;        /* position range of the batch; may be NULL */
    char   *pos_to;
    int64_t transactions;
    int64_t inserted, updated, deleted;
    int64_t bytes;           /* change bytes applied */
    int64_t duration_ms;     /* apply time of the batch */
};

struct statelog_lag_sample {
    int64_t at;              /* ms epoch; for a rollup, the minute's start */
    int64_t lag_ms;          /* raw value, or the minute's average */
    int64_t lag_min_ms;      /* == lag_ms for a raw sample */
    int64_t lag_max_ms;
    int64_t bytes_behind;    /* raw value, or the minute's maximum; -1 unknown */
    int64_t samples;         /* 1 for a raw sample, n for a rollup */
};

struct statelog_event {
    int64_t id;
    int64_t at;
    char   *integration;     /* may be NULL: process-wide event */
    char   *table;           /* may be NULL */
    char   *level;           /* "info" | "warning" | "error" */
    char   *kind;            /* transition, error, warning, action, command, deleted, ... */
    char   *message;
    char   *actor;           /* NULL for the runtime itself */
};

struct statelog_event_filter {
    const char *integration; /* NULL: all */
    const char *table;       /* NULL: all */
    int         min_level;   /* enum statelog_level: this level and worse */
};

struct statelog_command {
    int64_t id;
    char   *integration;
    char   *table;           /* NULL unless the command names a table */
    char   *command;         /* pause | resume | resync | resnapshot | delete | stop | retry */
    char   *actor;
    int64_t created_at, claimed_at, done_at;   /* 0 = not yet */
    char   *result;          /* NULL until done: "ok" or an error message */
};

/* ---- open / close ---------------------------------------------------- */

/* Open (creating if missing) the log at `path` and migrate it to
 * STATELOG_SCHEMA_VERSION. On failure *out is NULL and `err` says why. */
/* The log's file name inside the state directory. */
#define STATELOG_FILENAME "zetl.db"

int  statelog_open(struct statelog **out, const char *path, char *err, size_t errlen);
void statelog_close(struct statelog *sl);

/* Heal notices go to stderr. A console that owns the terminal defers them
 * (on = 1) and prints the kept ones after restoring it (flush). Any thread. */
void statelog_defer_notices(int on);
void statelog_flush_notices(FILE *to);
const char *statelog_error(const struct statelog *sl);
const char *statelog_path(const struct statelog *sl);
int64_t statelog_now_ms(void);

/* Retention bounds; statelog_open starts with the STATELOG_* defaults.
 * Changing them affects only this handle's pruning (tests use small ones). */
struct statelog_limits {
    int64_t  lag_raw_ms;       /* raw lag samples kept this long */
    int64_t  lag_rollup_ms;    /* 1-minute rollups kept this long */
    int64_t  events_max;       /* newest events kept */
    int64_t  activity_max;     /* newest activity rows kept */
    int64_t  commands_keep_ms; /* finished commands kept this long */
    unsigned prune_every;      /* record calls between automatic prunes, 0 never */
};
void statelog_get_limits(const struct statelog *sl, struct statelog_limits *out);
void statelog_set_limits(struct statelog *sl, const struct statelog_limits *in);
int  statelog_integration_state_valid(const char *state);
int  statelog_table_state_valid(const char *state);

/* Group several writes into one transaction (e.g. an applier batch:
 * activity + table counts + position). Write calls made inside nest as
 * savepoints. statelog_rollback is safe to call after a failed write. */
int  statelog_begin(struct statelog *sl);
int  statelog_commit(struct statelog *sl);
void statelog_rollback(struct statelog *sl);

/* ---- writes ----------------------------------------------------------- */

/* Insert or update the integration row from `in` (in->tables ignored).
 * state NULL keeps the row's state and reason (a new row: "creating");
 * position NULL keeps the row's position; source, target, lag_ms and
 * bytes_behind are set as given. Tables, counts and history are kept.
 * State changes should go through statelog_record_transition (an event). */
int statelog_upsert_integration(struct statelog *sl, const struct statelog_integration *in);

/* Set the display copy of the checkpoint and the current lag. */
int statelog_update_position(struct statelog *sl, const char *integration,
                             const char *position, int64_t lag_ms, int64_t bytes_behind);

/* Insert or update a table row from `in`; counters, last_applied_at and
 * lag_ms are set absolutely. state NULL keeps the row's state and reason (a
 * new row: "pending"); target NULL keeps the row's target (a new row: the
 * source name). The integration must exist. */
int statelog_upsert_table(struct statelog *sl, const struct statelog_table *in);

/* What the integration's applier waits on now; w NULL or w->kind NULL
 * clears it. The integration must exist. */
int statelog_set_wait(struct statelog *sl, const char *integration, const struct statelog_wait *w);

/* The retry backoff: attempt (1 upward) starts at at_ms (ms epoch; 0: it is
 * under way); attempt 0 clears both. The integration must exist. */
int statelog_set_retry(struct statelog *sl, const char *integration, int64_t attempt, int64_t at_ms);

/* Add to a table's counters (the row must exist). last_applied_at 0 keeps it. */
int statelog_add_table_counts(struct statelog *sl, const char *integration,
                              const char *table, int64_t inserts, int64_t updates,
                              int64_t deletes, int64_t rows_copied,
                              int64_t last_applied_at);

/* A table's copy (see "Copy progress"; the row must exist). Begin: it starts
 * now with `rows` copied (0, or what a resumed chunked copy copied before)
 * and `chunks` committed (-1: a copy in one read); the estimate unknown.
 * Rows: its rows begin to come now (the rate is measured from here).
 * Estimate: the source's estimate of its rows (0 unknown). Add: `rows` more
 * copied, and `chunks` more committed (a chunked copy's; 0 otherwise). */
int statelog_copy_begin(struct statelog *sl, const char *integration, const char *table,
                        int64_t rows, int64_t chunks);
int statelog_copy_rows(struct statelog *sl, const char *integration, const char *table);
int statelog_copy_estimate(struct statelog *sl, const char *integration, const char *table,
                           int64_t estimated);
int statelog_copy_add(struct statelog *sl, const char *integration, const char *table,
                      int64_t rows, int64_t chunks);

/* Change the state of an integration (table NULL) or of one of its tables,
 * and write a "transition" event with reason and actor, in one transaction.
 * from_state NULL: whatever the row holds. A missing row is created
 * (a table row gets target = name). Level: error for failed, warning for
 * needs_attention/resync_required/dropped_source, info otherwise.
 * A table that stops applying (failed, resync_required, resyncing) keeps
 * when it was last current, for its lag; synced forgets it. */
int statelog_record_transition(struct statelog *sl, const char *integration,
                               const char *table, const char *from_state,
                               const char *to_state, const char *reason,
                               const char *actor);

int statelog_record_activity(struct statelog *sl, const struct statelog_activity *a);

/* One lag sample (at 0 = now; lag_ms < 0 = unknown: no sample is kept).
 * Also sets integrations.lag_ms/bytes_behind when the row exists. */
int statelog_record_lag(struct statelog *sl, const char *integration, int64_t at,
                        int64_t lag_ms, int64_t bytes_behind);

/* Set the integration's source position and retention (the row must exist). */
int statelog_set_ha(struct statelog *sl, const char *integration, const struct statelog_ha *h);
int statelog_set_source(struct statelog *sl, const char *integration,
                        const struct statelog_source *s);

/* Set the integration's lag basis (the row must exist). First fills the
 * lag samples since the last one, when further back than
 * STATELOG_LAG_GAP_MS, from the basis it replaces (at most
 * STATELOG_LAG_FILL_MAX samples, none older than the raw retention). */
int statelog_set_lag_basis(struct statelog *sl, const char *integration,
                           const struct statelog_lag_basis *b);

int statelog_record_event(struct statelog *sl, enum statelog_level level,
                          const char *integration, const char *table,
                          const char *kind, const char *actor, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Roll up raw lag samples older than now - STATELOG_LAG_RAW_MS, drop rollups
 * older than now - STATELOG_LAG_ROLLUP_MS, trim events/activity/commands.
 * now 0 = the clock. */
int statelog_prune(struct statelog *sl, int64_t now);

/* Remove an integration's rows (integration, tables, activity, lag, pending
 * commands) and write a "deleted" event with the actor. Events are kept. */
int statelog_delete_integration_rows(struct statelog *sl, const char *integration,
                                     const char *actor);

/* ---- command queue (console → runtime) --------------------------------- */

/* command: pause | resume | resync | resnapshot | delete | stop | retry (start
 * the next attempt of a failed round now); table required for resync,
 * optional for pause/resume. Writes an "action" event with actor. */
int statelog_enqueue_command(struct statelog *sl, const char *integration,
                             const char *table, const char *command,
                             const char *actor, int64_t *id_out);

/* Atomically claim every unclaimed command of `integration`, oldest first:
 * each command is returned by exactly one claim, across processes. */
int statelog_claim_commands(struct statelog *sl, const char *integration,
                            struct statelog_command **out, size_t *n);

/* Does an unclaimed command that ends a round (pause, delete, stop) wait for
 * `integration`? 1 yes, 0 no, -1 error. Claims nothing (runtime/integ/sentry.h). */
int statelog_ending_command_waits(struct statelog *sl, const char *integration);

/* Record the outcome ("ok" or an error message) of a claimed command. */
int statelog_complete_command(struct statelog *sl, int64_t id, const char *result);

/* Read one command back (the console waits on done_at). *out freed with
 * statelog_free_commands(*out, 1). -1 when no such command. */
int statelog_get_command(struct statelog *sl, int64_t id, struct statelog_command **out);

/* ---- runners (runtime/log/liveness.h) ---------------------------------------- */

/* The process that runs an integration (it holds STATE_DIR/NAME.lock). */
struct statelog_runner {
    int64_t pid;
    char   *actor;           /* runtime_actor: "zetl run by USER from ADDR" */
    int64_t started_at;      /* ms epoch it took the lock */
    int64_t seen_at;         /* ms epoch of its last heartbeat (set by the log) */
    int64_t stopped_at;      /* ms epoch of its clean stop, 0 while running or
                              * when it ended without one (kill -9, crash) */
};

/* Write the runner row of `integration` (replacing the last runner's):
 * pid, actor, started_at and stopped_at as given, seen_at = now. Called by
 * the lock holder only: at start, as a heartbeat, and at a clean stop. */
int statelog_record_runner(struct statelog *sl, const char *integration,
                           const struct statelog_runner *r);

/* The runner row of `integration`: 1 found (free with statelog_clear_runner),
 * 0 none (an integration last run by a zetl before schema 2), -1 error. */
int statelog_get_runner(struct statelog *sl, const char *integration,
                        struct statelog_runner *out);
void statelog_clear_runner(struct statelog_runner *r);

/* Expire every unclaimed command of `integration` created before `before`
 * (ms epoch): claimed and done at once with `result`, never to be applied,
 * each with a warning "command" event under its sender's actor. *n_out
 * (may be NULL) is how many. A runtime calls it as it starts, for commands
 * sent while nobody ran the integration. */
int statelog_expire_commands(struct statelog *sl, const char *integration, int64_t before,
                             const char *result, int *n_out);

/* ---- reads ------------------------------------------------------------- */

/* Integrations (sorted by name) with their tables, from one consistent
 * snapshot. only NULL = all; an unknown name gives n = 0. */
int statelog_list_integrations(struct statelog *sl, const char *only,
                               struct statelog_integration **out, size_t *n);

/* The newest `limit` activity rows, newest first; integration NULL = all. */
int statelog_recent_activity(struct statelog *sl, const char *integration, int limit,
                             struct statelog_activity **out, size_t *n);

/* Lag of one integration at or after `since`, newest first: raw samples
 * and 1-minute rollups merged (rollups cover what raw samples no longer do),
 * and, when the newest is older than STATELOG_LAG_GAP_MS, samples computed
 * from the basis up to now (the runtime is stuck or gone; see "Lag"). */
int statelog_lag_since(struct statelog *sl, const char *integration, int64_t since,
                       struct statelog_lag_sample **out, size_t *n);

/* The newest `limit` events matching f (NULL = all), newest first. */
int statelog_recent_events(struct statelog *sl, const struct statelog_event_filter *f,
                           int limit, struct statelog_event **out, size_t *n);

/* Row counts, for checks and tests: table is one of integrations, tables,
 * activity, lag_samples, lag_rollups, events, commands. */
int statelog_count_rows(struct statelog *sl, const char *table, int64_t *out);

void statelog_free_integrations(struct statelog_integration *v, size_t n);
void statelog_free_activity(struct statelog_activity *v, size_t n);
void statelog_free_lag(struct statelog_lag_sample *v);
void statelog_free_events(struct statelog_event *v, size_t n);
void statelog_free_commands(struct statelog_command *v, size_t n);

/* ---- machine-readable status (DESIGN.md contract) ----------------------- */

/* Print `zetl status --json` to out: {"integrations": [...]} and a newline,
 * exactly the contract's fields and order; only NULL = all integrations
 * (an unknown name prints an empty list). Added fields: an integration's
 * lag_resolution_ms, stalled, stalled_since; a table's lag_ms and copy
 * (while it is copied: {"rows", "estimated", "chunks", "rows_per_s",
 * "eta_s", "started_at"}, null unknown; else null). Strings are JSON-escaped; invalid
 * UTF-8 becomes U+FFFD. Nothing is printed when reading fails. */
int statelog_write_status_json(struct statelog *sl, FILE *out, const char *only_integration);

/* As statelog_write_status_json, plus liveness (runtime/log/liveness.h) from the
 * locks in state_dir, after each integration's contract fields:
 *   "running" (bool), "last_state" (the state the runtime wrote last),
 *   "runner" (who runs it, or ran it last), "runner_pid", "runner_started_at",
 *   "stopped_at" (its clean stop; null while running or after a kill),
 *   "last_seen_at" (its last heartbeat).
 * "state" is then "stopped" when nobody runs it (a deleted one stays
 * "deleted"), and its tables' copies have rows_per_s and eta_s null. A lock that cannot be read leaves the integration as the
 * log has it, without these fields. */
int statelog_write_status_json_live(struct statelog *sl, FILE *out, const char *only_integration,
                                    const char *state_dir);

/* JSON string literal of s (NULL → null) to out; used by the status printer
 * and exposed for other machine-readable outputs. */
void statelog_json_string(FILE *out, const char *s);

#endif
