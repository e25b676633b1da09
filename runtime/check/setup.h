/*
 * setup.h — the database work of the setup walkthrough (`zetl init`).
 *
 * The walkthrough collects answers (struct setup_answers: plain values typed
 * by the operator) and turns them into an in-memory config
 * (setup_cfg_build), which is what every function here and the YAML writer
 * (config/write.h) take, so what is tested is exactly what is written.
 *
 *   setup_source_test    connect to the source; on failure the library's or
 *                        server's own message and the likely cause (DNS,
 *                        refused, timeout, authentication, TLS, unknown
 *                        database, password command); on success the server's
 *                        version and its databases (MySQL) or schemas
 *                        (PostgreSQL), each configured one checked to exist
 *   setup_source_checks  every preflight check (runtime/check/preflight.h) for
 *                        the answers' tables: binlog or WAL settings with
 *                        fixes for self-managed servers and RDS/Aurora
 *   setup_target_test    connect to the target; may zetl create schemas and
 *                        tables (a CREATE SCHEMA + CREATE TABLE in a
 *                        transaction that is rolled back), use an existing
 *                        zetl schema and write zetl.checkpoints; on Redshift,
 *                        is enable_case_sensitive_identifier on (`zetl check`
 *                        runs it too, through preflight_integration)
 *   setup_list_tables    the source's base tables in the configured
 *                        databases/schemas with primary-key status (MySQL:
 *                        as the runtime's loader reads it) and the
 *                        server's row estimate
 *
 * The source's part of each is its driver's (runtime/source/source_ops.h:
 * setup_test, setup_list_tables, preflight; runtime/mysql/setup.c,
 * runtime/pg/setup.c), over the connection-test model they share with
 * setup_target_test (runtime/base/setupconn.h: causes, names, tables); this
 * module picks the driver by the config's kind, and takes the shape of the
 * kind's config (databases or schemas, a slot) from its fields.
 *
 * Every function blocks on the network (connect timeouts of a few seconds):
 * call them from a worker thread, never the console thread. They touch no
 * global state and are safe to run concurrently. Read-only on the source;
 * on the target nothing survives (the probe transaction is rolled back).
 *
 * Secrets: a password reaches the servers only; no message, item or result
 * here ever holds it. A DSN is shown redacted (config_redact).
 */
#ifndef ZETL_SETUP_H
#define ZETL_SETUP_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "runtime/base/setupconn.h"
#include "runtime/check/preflight.h"

/* What the operator answered, as typed (no secrets are derived from it). */
enum setup_pw_mode { SETUP_PW_TYPED = 0, SETUP_PW_ENV, SETUP_PW_COMMAND };

struct setup_answers {
    char     name[64];              /* integration name */
    enum source_kind kind;
    char     host[256];
    int      port;
    char     user[128];
    enum setup_pw_mode pw_mode;
    char     password[1024];        /* typed (masked); for SETUP_PW_ENV used when $VAR is unset */
    char     password_var[64];      /* SETUP_PW_ENV: the file holds ${password_var} */
    char     password_command[1024];
    char     databases[1024];       /* mysql: comma-separated */
    char     database[128];         /* postgres */
    char     schemas[1024];         /* postgres: comma-separated, "" = public */
    uint32_t server_id;             /* mysql */
    enum tls_mode tls;
    enum target_kind tkind;         /* TARGET_POSTGRES or TARGET_REDSHIFT */
    char     dsn[2048];
    char     include[16384];        /* comma-separated LIKE patterns */
    char     state_dir[1024];       /* "" = the default */
};

/*
 * A config built from answers: c has one integration, ig, whose pointers
 * point into this struct's own storage (so it must not be copied or moved
 * after setup_cfg_build). The password is the typed one, or $VAR's value
 * (SETUP_PW_ENV with VAR set), or none with password_command.
 */
struct setup_cfg {
    struct config c;
    struct config_integration ig;
    char  *dbs[SETUP_MAX_LIST], *schemas[SETUP_MAX_LIST], *include[SETUP_MAX_LIST];
    char   dbbuf[1024], schbuf[1024], incbuf[16384];
    char   host[256], user[128], password[1024], password_command[1024];
    char   database[128], name[64], dsn[2048], state_dir[1024];
    char   slot[64], publication[64];
};

/* 0, or -1 with err (too many list items: more than SETUP_MAX_LIST). */
int  setup_cfg_build(struct setup_cfg *out, const struct setup_answers *a, char *err, size_t errlen);

/* Zero the password copies. */
void setup_cfg_wipe(struct setup_cfg *c);

/* ---- connection tests -------------------------------------------------- */

/* Fills *out (ok or the cause). Returns 0 when connected and every
 * configured database/schema exists, -1 otherwise. */
int  setup_source_test(const struct config_integration *in, int timeout_s, struct setup_conn *out);

/* The preflight report for in (r->subject set either way). 0 when the checks
 * ran, -1 with err when the server could not be reached. */
int  setup_source_checks(const struct config_integration *in, struct pf_report *r,
                         char *err, size_t errlen);

/* The target checks as a report: connect (the cause in *conn on failure),
 * create schema and table, Redshift identifiers. Returns 0 when connected
 * (r->nfail says whether it can be used), -1 when it could not connect. */
int  setup_target_test(enum target_kind kind, const char *dsn, int timeout_s,
                       struct setup_conn *conn, struct pf_report *r);

/* Is dsn a conninfo or URI that libpq accepts? 0, or -1 with err (which
 * never quotes the dsn: it may hold a password). Pure. */
int  setup_dsn_check(const char *dsn, char *err, size_t errlen);

/* ---- tables ------------------------------------------------------------ */

/* The base tables of in's databases (mysql) or schemas (postgres), sorted
 * by schema and name. 0 with *out (free()) and *n, or -1 with err. */
int  setup_list_tables(const struct config_integration *in, struct setup_table **out, int *n,
                       char *err, size_t errlen);

/* What replicating this table without a key means, or NULL when it has one. */
const char *setup_keyless_note(const struct setup_table *t);

#endif
