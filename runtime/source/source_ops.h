/*
 * source_ops.h — what a source driver provides: one const table of facts
 * and methods, as SQLite's sqlite3_vfs does for an operating system.
 *
 * Drivers:
 *   source_mysql_ops  MySQL/MariaDB, the binlog as a replica (source_my.c
 *                     over runtime/mysql; the walkthrough's part in
 *                     runtime/mysql/setup.c)
 *   source_pg_ops     PostgreSQL, logical replication with pgoutput
 *                     (source_pg.c, source_conn.c, source_pgstream.c over
 *                     runtime/pg; the walkthrough's part in runtime/pg/setup.c)
 * source.c is the registry: source_driver() picks the table for a config's
 * kind. The runtime binds it to an integration once, with its config
 * (in->src), and the source_* entry points (source.h) call through it.
 * Nothing outside the registry and the drivers asks which kind a source is:
 * what others need per kind — a name, a label, a default port, the shape of
 * its config, the dialect its changes speak — is a field here.
 *
 * Methods do what source.h says of their entry points (source_X for X;
 * the check methods are documented here).
 * Thread: the caller's — the supervisor or a copy or resync worker, the
 * reader for stream; the check methods any thread but the console's (they
 * block on the network for up to a few deadlines).
 * Returns: 0 ok, negative an error whose message is in the caller's err
 * buffer, naming the source (setup_test: in out->message, with its cause).
 * The answers source.h documents besides (1 yes / 0 no, 1 no such figure)
 * are returned as documented there.
 *
 * May be NULL where the kind has no such thing; the entry point then answers:
 *   export_begin, export_end, copy_table  source_can_export 0: the initial
 *                                         copy is one consistent read
 *   chunk_begin, chunk_read, chunk_end,   source_can_chunk 0: a table is copied
 *   chunk_bound                           in one consistent read
 *   start_at        1 (the initial copy is one consistent read)
 *   retained_bytes  1 (no such figure)
 *   drop            0 with note "" (zetl made nothing on the source)
 *   holds_gtid      0
 * Every other method is set.
 */
#ifndef ZETL_SOURCE_OPS_H
#define ZETL_SOURCE_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "runtime/pipe/change.h"
#include "runtime/pipe/dialect.h"
#include "runtime/pipe/zkey.h"

struct integ;
struct itable;
struct pf_report;
struct setup_conn;
struct setup_table;

struct source_ops {
    enum source_kind kind;          /* the config's kind this driver reads */
    const char *name;               /* "mysql", "postgres": the config's kind, URL scheme
                                       in status lines, the checkpoint's source_kind */
    const char *label;              /* "MySQL/MariaDB", "PostgreSQL": for people */
    int  default_port;
    int  multi_db;                  /* 1: the config lists databases: and names zetl's
                                       replica id (server_id:); 0: one database: and its
                                       schemas: (the walkthrough asks accordingly) */
    int  keeps_slot;                /* a replication slot and a publication on the source
                                       keep its log for zetl (a delete drops them) */
    int  counts_excluded;           /* load_tables counts ztable.nexcluded (else always 0) */
    struct zdialect dialect;        /* what the target must know of its changes */

    /* ---- the runtime's (struct integ: in->cfg the integration, in->cut/rcut the links) */
    int  (*load_tables)(struct integ *in, struct ztable ***defs, int *n, char *err, size_t errlen);
    int  (*snapshot)(struct integ *in, const struct zsink *sink, struct zpos *pos,
                     char *err, size_t errlen);
    int  (*snapshot_table)(struct integ *in, struct itable *t, const struct zsink *sink,
                           struct zpos *pos, char *err, size_t errlen);
    int  (*export_begin)(struct integ *in, char *snap, size_t snaplen, struct zpos *pos,
                         void **handle, char *err, size_t errlen);
    void (*export_end)(void *handle);
    int  (*copy_table)(struct integ *in, const char *snap, const struct ztable *t,
                       const struct zsink *sink, char *err, size_t errlen);
    int  (*chunk_begin)(struct integ *in, const struct zsink *sink, int shared, void **handle,
                        char *err, size_t errlen);
    int  (*chunk_read)(void *handle, const struct ztable *t, const struct zchunk_req *q,
                       struct zpos *pos, uint64_t *rows, struct zkey *last, char *err, size_t errlen);
    int  (*chunk_bound)(void *handle, const struct ztable *t, const struct zkey *after, uint32_t n,
                        struct zkey *bound, char *err, size_t errlen);
    void (*chunk_end)(void *handle);
    int  (*start_at)(struct integ *in, struct zpos *pos, char *err, size_t errlen);
    int  (*stream)(struct integ *in, const struct zsink *sink, char *err, size_t errlen);
    int  (*column_backfilled)(struct integ *in, const char *schema, const char *table,
                              const char *column, char *err, size_t errlen);
    int  (*retained_bytes)(struct integ *in, int64_t *bytes, char *err, size_t errlen);
    int  (*drop)(struct integ *in, char *note, size_t len);
    int  (*identity)(struct integ *in, char *buf, size_t len, char *err, size_t errlen);
    int  (*holds_gtid)(struct integ *in, const char *gtid, char *err, size_t errlen);
    int  (*count_rows)(struct integ *in, const char *schema, const char *table, int timeout_ms,
                       int64_t *n, char *err, size_t errlen);

    /* ---- `zetl check` and the setup walkthrough (runtime/check; a config only;
     * results in runtime/base/pfreport.h and setupconn.h) */
    /* Every preflight check of the source (runtime/check/preflight.h): 0 when
     * they ran (r->subject set either way), -1 with err when the server could
     * not be reached. */
    int  (*preflight)(const struct config_integration *in, struct pf_report *r,
                      char *err, size_t errlen);
    /* setup_source_test (runtime/check/setup.h) for this kind: out->where,
     * then the connection, the server's version and its databases or
     * schemas. 0 when connected and every configured one exists. */
    int  (*setup_test)(const struct config_integration *in, int timeout_s, struct setup_conn *out);
    /* setup_list_tables for this kind: base tables with key status and the
     * server's row estimate (out: free()). */
    int  (*setup_list_tables)(const struct config_integration *in, struct setup_table **out,
                              int *n, char *err, size_t errlen);
};

extern const struct source_ops source_mysql_ops;   /* source_my.c */
extern const struct source_ops source_pg_ops;      /* source_pg.c */

#endif
