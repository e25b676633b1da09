/*
 * config.h — the zetl configuration: YAML (libyaml) → validated structs.
 *
 * config_load() reads the whole file, expands ${VAR} from the environment
 * in every scalar value ($${ is a literal "${"; an unset variable is an error
 * naming it), and validates every key against the contract in DESIGN.md
 * ("Config"); config/example.yaml documents every key and its default.
 * On failure it returns -1 and fills `err` with one line per problem, each
 * "FILE:LINE:COL: message" (1-based line and column of the offending node),
 * first problem first; it never prints. On success *out owns everything and
 * is freed with config_free().
 *
 * Secrets: `password` is kept in memory only; nothing in this module ever
 * prints it. `password_command` is not run at load time: config_password()
 * runs it (with a timeout) each time a connection is made, so short-lived
 * tokens (RDS IAM auth) stay fresh. Its output never appears in any message.
 *
 * Thread: load once on the main thread; the result is read-only afterwards
 * and may be shared by every thread. config_password() is thread-safe.
 */
#ifndef ZETL_CONFIG_H
#define ZETL_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum source_kind { SOURCE_MYSQL = 1, SOURCE_POSTGRES };
enum target_kind { TARGET_POSTGRES = 1, TARGET_REDSHIFT, TARGET_HTTP };
enum tls_mode    { TLS_DISABLE = 0, TLS_PREFER, TLS_REQUIRE, TLS_VERIFY_FULL };

struct config_source {
    enum source_kind kind;
    char    *host;              /* default 127.0.0.1 */
    int      port;              /* default 3306 (mysql) / 5432 (postgres) */
    char    *user;              /* required */
    char    *password;          /* expanded; NULL when password_command or none */
    char    *password_command;  /* run by config_password() at every connect */
    char   **databases;         /* mysql: databases: [...] */
    int      ndatabases;
    char    *database;          /* postgres: database: */
    char   **schemas;           /* postgres: schemas: [...], default [public] */
    int      nschemas;
    uint32_t server_id;         /* mysql replica id, default 4242 */
    enum tls_mode tls;          /* default prefer */
    char    *slot;              /* postgres: slot name, default zetl_<name> sanitized */
    char    *publication;       /* postgres: publication, default zetl_<name> sanitized */
    const char *integration;    /* the owning integration's name, for messages (borrowed) */
};

struct config_header {          /* http target: one extra request header */
    char *name;
    char *value;
};

struct config_target {
    enum target_kind kind;
    char    *dsn;               /* postgres/redshift libpq conninfo (may hold a password) */
    char    *url;               /* http */
    struct config_header *headers;
    int      nheaders;
};

struct config_rename {
    char *from;                 /* schema.table */
    char *to;                   /* schema.table */
};

struct config_filter {          /* tables.filters entry */
    char *table;                /* schema.table pattern (LIKE, as include) */
    char *where;                /* the SQL expression rows must meet (runtime/integ/shape.h) */
    int   line;                 /* of the where, for messages */
};

struct config_tables {
    char   **include;           /* LIKE patterns on schema.table; required, non-empty */
    int      ninclude;
    char   **exclude;
    int      nexclude;
    struct config_rename *rename;
    int      nrename;
    char   **exclude_columns;   /* schema.table.column patterns */
    int      nexclude_columns;
    /* Column transforms (runtime/integ/shape.h), schema.table.column patterns
       like exclude_columns: the target gets a keyed hash, a mask or NULL
       instead of the value, in the initial copy, the stream and resyncs. */
    char   **hash_columns;      /* HMAC-SHA-256 of the value under hash_key, 64 hex digits */
    int      nhash_columns;
    char   **mask_columns;      /* every character but the last 4 as '*' (text columns) */
    int      nmask_columns;
    char   **null_columns;      /* NULL */
    int      nnull_columns;
    char    *hash_key;          /* a secret (expanded, never printed); required with hash_columns */
    /* schema.table patterns (LIKE, as include): a delete marks the target row
       (_zetl_is_deleted, _zetl_deleted_at) instead of removing it */
    char   **soft_delete;
    int      nsoft_delete;
    struct config_filter *filters;  /* row filters: only rows meeting where land */
    int      nfilters;
    /* schema.table patterns (LIKE): history mode, every version kept
       (_record_is_active, _record_create_time, _record_delete_time) */
    char   **history;
    int      nhistory;
};

/* Which transform lists a column is in (bits; more than one is an error the
 * table's load reports: runtime/integ/shape.c). */
enum config_colx { COLX_HASH = 1 << 0, COLX_MASK = 1 << 1, COLX_NULL = 1 << 2 };
#define CONFIG_HASH_KEY_MIN 16  /* bytes: a shorter hash_key is refused */

struct config_apply {
    int      batch_rows;        /* default 20000 */
    int      batch_ms;          /* default 200 */
    int      memory_mb;         /* default 256: change-queue byte budget */
    int      copy_workers;      /* tables copied at once (the chunked initial copy and
                                   resyncs; a one-read initial copy: PostgreSQL sources,
                                   in the exported snapshot), 1..16, default 1 */
    int      drift_check_seconds; /* row counts of synced tables, source against target,
                                   every this many seconds (runtime/integ/drift.c); 0 off,
                                   default CONFIG_DRIFT_CHECK_DEFAULT */
    int      copy_chunk_rows;   /* the initial copy and a resync copy a table with an
                                   integer primary key in chunks of at most this many rows,
                                   each in a short read of its own, resumable (runtime/integ/
                                   resync.c); 0: in one read; default CONFIG_COPY_CHUNK_ROWS_DEFAULT */
    int      copy_chunk_mb;     /* and of at most about this many MB, by the rows' width
                                   measured so far (a first chunk of 10,000 rows measures it;
                                   runtime/integ/copy.c); 0: rows only; default
                                   CONFIG_COPY_CHUNK_MB_DEFAULT */
};
#define CONFIG_DRIFT_CHECK_DEFAULT 3600
#define CONFIG_COPY_CHUNK_ROWS_DEFAULT 1000000  /* copy_chunk_mb bounds most tables' chunks first */
#define CONFIG_COPY_CHUNK_MB_DEFAULT 64

/* Webhook alerts (runtime/watch/alerts.h): which incidents fire, `on:` in the config. */
enum alert_on {
    ALERT_ON_FAILED          = 1 << 0,  /* integration or table state failed */
    ALERT_ON_NEEDS_ATTENTION = 1 << 1,  /* integration state needs_attention */
    ALERT_ON_RESYNC_REQUIRED = 1 << 2,  /* table state resync_required */
    ALERT_ON_LAG             = 1 << 3,  /* lag over lag_seconds */
    ALERT_ON_STALLED         = 1 << 4,  /* applied position still for stall_seconds while changes wait */
    ALERT_ON_FAILOVER        = 1 << 5,  /* ha: this process took an integration over from another */
    ALERT_ON_ALL             = 0x3f
};

/* Which keys an alerts: block wrote (the rest are inherited or defaults). */
enum alert_set {
    ALERT_SET_URL = 1 << 0, ALERT_SET_LAG = 1 << 1, ALERT_SET_ON = 1 << 2,
    ALERT_SET_RESOLVE = 1 << 3, ALERT_SET_TIMEOUT = 1 << 4, ALERT_SET_STALL = 1 << 5
};

/*
 * alerts: at the top level (every integration) and per integration. An
 * integration's block overrides the top-level one key by key; what it does
 * not write is inherited, then defaulted. config_integration.alerts is the
 * result. webhook_url holds a secret (Slack puts the token in the path):
 * print it only through config_redact_origin().
 */
struct config_alerts {
    char    *webhook_url;       /* NULL: no alerts (none configured, or on: []) */
    int      lag_seconds;       /* lag incident over this; default 300 */
    unsigned on;                /* ALERT_ON_* bits; default ALERT_ON_ALL */
    int      resolve_seconds;   /* a condition clear this long resolves; default 30 */
    int      timeout_seconds;   /* one delivery attempt, connect + answer; default 10 */
    int      stall_seconds;     /* stalled: applied position still this long while
                                   changes wait (shown, and an incident); default 30 */
    unsigned set;               /* ALERT_SET_* keys written in this block */
    int      line;              /* where the block is, 0 when absent */
};

struct config_integration {
    char    *name;              /* [A-Za-z0-9_-]+, unique */
    int      line;              /* where it was declared, for messages */
    struct config_source source;
    struct config_target target;
    struct config_tables tables;
    struct config_apply  apply;
    struct config_alerts alerts;    /* effective: own block over the top-level one */
};

/*
 * ha: active/standby (runtime/integ/lease.h). Every process started with the
 * same config contends for each integration's lease in its target; the one
 * holding it runs the integration, the others stand by without a source
 * connection. Only a PostgreSQL target can fence a stale holder, so any
 * other target kind is refused when enabled.
 */
#define CONFIG_HA_TAKEOVER_DEFAULT 15
struct config_ha {
    int      enabled;
    char    *member;            /* this process's name among the members; default the
                                   host name (config_load fills it) */
    int      takeover_seconds;  /* a holder silent this long is taken over; default 15 */
    int      line;              /* where the block is, 0 when absent */
};

struct config {
    char    *path;              /* the file it was loaded from */
    char    *state_dir;         /* default: config_default_state_dir() */
    struct config_integration *integrations;
    int      nintegrations;
    struct config_alerts alerts;    /* the top-level block as written (defaults filled) */
    struct config_ha ha;
};

int  config_load(const char *path, struct config **out, char *err, size_t errlen);
/* The same, from a buffer; `name` stands for the file in messages (tests, fuzzing). */
int  config_load_buffer(const char *name, const char *yaml, size_t len,
                        struct config **out, char *err, size_t errlen);
void config_free(struct config *c);

/*
 * The state directory when the config sets none (malloc'd, NULL when nothing
 * gives one): $STATE_DIRECTORY (systemd's StateDirectory=, its first entry),
 * else $XDG_STATE_HOME/zetl, else ~/.local/state/zetl. Main thread.
 */
char *config_default_state_dir(void);

/*
 * The integration names of the config at path, one per line on out, as written
 * (for shell completion): the YAML is read within the load's size and depth
 * limits but not validated, and no ${VAR} is expanded, so it works without the
 * secrets in the environment. 0, or -1 with "PATH:LINE:COL: why" in err.
 */
int  config_names(const char *path, FILE *out, char *err, size_t errlen);

const struct config_integration *config_find(const struct config *c, const char *name);

/*
 * The source password for a connection attempt, into buf: the expanded
 * `password`, or the first line of `password_command`'s stdout (run with
 * /bin/sh -c, a timeout of timeout_ms, stderr discarded). "" when neither is
 * set. Returns 0, or -1 with a message in err that never contains the output.
 */
int  config_password(const struct config_source *s, int timeout_ms,
                     char *buf, size_t buflen, char *err, size_t errlen);

/* SQL LIKE match (% and _, backslash escapes) of a whole string. */
int  config_like(const char *pattern, const char *s);

/* Is schema.table selected by include/exclude? */
int  config_table_selected(const struct config_tables *t, const char *schema, const char *table);

/* Does an exclude_columns pattern (schema.table.column, LIKE per part) drop this column? */
int  config_column_excluded(const struct config_tables *t, const char *schema,
                            const char *table, const char *column);

/* The filters entries matching schema.table: the first (NULL: none) and how many match. */
const struct config_filter *config_table_filter(const struct config_tables *t, const char *schema,
                                                const char *table, int *count);

/* Does a history pattern match schema.table? */
int  config_table_history(const struct config_tables *t, const char *schema, const char *table);

/* Does a soft_delete pattern match schema.table? */
int  config_table_soft_delete(const struct config_tables *t, const char *schema, const char *table);

/* COLX_* bits: the transform lists whose patterns match this column (0: none). */
unsigned config_column_transforms(const struct config_tables *t, const char *schema,
                                  const char *table, const char *column);

/* The rename rule whose `from` is exactly schema.table, or NULL (keep the name). */
const struct config_rename *config_rename_find(const struct config_tables *t,
                                               const char *schema, const char *table);

/*
 * A DSN/URL safe to print: password=... in a conninfo and user:pass@ in a
 * URL are replaced by "***". Never returns the secret.
 */
void config_redact(const char *dsn_or_url, char *buf, size_t buflen);

/*
 * A URL whose path and query are themselves the secret (a Slack webhook:
 * https://hooks.slack.com/services/T000/B000/XXXX), safe to print: scheme and
 * host[:port] only, user:pass@ dropped, anything after the host shown as a
 * slash and three stars: "https://hooks.slack.com/" "***".
 */
void config_redact_origin(const char *url, char *buf, size_t buflen);

#endif
