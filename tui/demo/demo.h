/*
 * demo.h — what `zetl demo` runs besides zetl itself: disposable servers,
 * the sample databases and a live workload. No curses here.
 *
 *   demo_servers_*   a MariaDB, a PostgreSQL source and a PostgreSQL
 *                    warehouse started by tests/lib/harness.sh in a bash child
 *                    that owns them (demo_servers.c). The child blocks reading
 *                    its stdin, a pipe whose only writer is this process: when
 *                    it closes — demo_servers_stop, a normal exit, a crash,
 *                    kill -9 — the child stops the servers and removes the
 *                    demo directory. The harness's own watchdog covers the
 *                    child dying first.
 *   demo_load_*      the sample data (demo_load.c): the TICKIT ticket-sales
 *                    schema (users, venue, category, date, event, listing,
 *                    sales) in MariaDB database `tickit`, and a small shop
 *                    (customers, products, orders, order_items) in schema
 *                    `shop` of PostgreSQL database `shop`; the empty database
 *                    `warehouse` in the target cluster.
 *   demo_workload_*  a thread (demo_workload.c) making steady changes on both
 *                    sources, a 50,000-row single-transaction burst now and
 *                    then, and one ALTER TABLE tickit.sales ADD COLUMN.
 *
 * Data comes from a seeded pseudo-random generator (demo_data.c): every run
 * loads the same rows. Every value travels as a bind parameter, as text the
 * server converts to the column type; identifiers are constants, quoted.
 * Passwords are held in memory and written only to 0600 files the config
 * points at (password_command, passfile); they are never printed.
 *
 * Threads: demo_servers_* and demo_load_* on the controlling thread; the
 * workload owns its connections on its own thread, and its stats may be read
 * from any thread.
 */
#ifndef ZETL_DEMO_H
#define ZETL_DEMO_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- servers --------------------------------------------------------------- */

struct demo_servers {
    char  dir[256];             /* the demo directory; the harness's lives inside */
    char  zh_dir[512];          /* the harness's directory (ZH_DIR) */
    char  log[300];             /* the harness's stderr (dir/harness.log) */
    int   my_port;              /* MariaDB, 127.0.0.1 */
    int   pgsrc_port;           /* PostgreSQL source */
    int   pgtgt_port;           /* PostgreSQL warehouse */
    char  my_password[128];     /* user zetl on MariaDB; never printed */
    char  pg_password[128];     /* user zetl on both clusters; never printed */
    pid_t pid;                  /* the bash child that owns the servers, 0 none */
    int   ctl_fd;               /* write end of its stdin; closing it stops all */
    int   rep_fd;               /* read end of its report pipe */
    int   ready;                /* the servers answered */
    int   ended;                /* the child reported FAILED or closed its report */
};

/*
 * The harness script: $ZETL_HARNESS, else tests/lib/harness.sh next to this
 * executable (a source tree), else ../share/zetl/harness.sh from its directory
 * (an installed zetl). 0 with buf set; -1 with an error naming where it looked and
 * the fix.
 */
int  demo_harness_path(char *buf, size_t len, char *err, size_t errlen);

/* A fresh demo directory (mode 0711: the servers' users traverse it) under
 * $TMPDIR when that is an absolute, short, plain path (and, as root, one the
 * servers' users can traverse), else /tmp. */
int  demo_dir_create(char *buf, size_t len, char *err, size_t errlen);

/* Start the bash child on `harness` in s->dir (already created). Returns at
 * once; demo_servers_wait waits for the servers. Call before any thread
 * is started (fork). */
int  demo_servers_spawn(struct demo_servers *s, const char *harness, char *err, size_t errlen);

/* Wait until the servers answer: 0 ready (ports and passwords filled in),
 * 1 when *cancel became non-zero, -1 on failure or after timeout_s with err
 * holding the reason and the last lines of the harness log. */
int  demo_servers_wait(struct demo_servers *s, const volatile sig_atomic_t *cancel,
                       int timeout_s, char *err, size_t errlen);

/* Stop the servers and remove the demo directory: let a start-up still in
 * progress finish, close the child's stdin, wait for it (at most timeout_s
 * in all; SIGTERM if start-up hangs). 0 when the directory is gone; -1 with
 * err saying what is left behind. */
int  demo_servers_stop(struct demo_servers *s, int timeout_s, char *err, size_t errlen);

/* ---- sample data ---------------------------------------------------------- */

#define DEMO_SEED          20081231u
#define DEMO_TICKIT_SALES  200000
#define DEMO_BURST_ROWS    50000

/* Row counts of the loaded sample (the workload draws keys from them). */
struct demo_sizes {
    int64_t users, venues, categories, dates, events, listings, sales;
    int64_t customers, products, orders;
};
void demo_default_sizes(struct demo_sizes *z);

/*
 * Create and fill MariaDB database `tickit` (dropped first), printing one
 * line per table to progress. 0 ok, 1 cancelled (*cancel set), -1 with err.
 */
int  demo_load_tickit(const struct demo_servers *s, const struct demo_sizes *z,
                      FILE *progress, const volatile sig_atomic_t *cancel,
                      char *err, size_t errlen);

/* Create and fill database `shop` in the PostgreSQL source, and create the
 * empty database `warehouse` in the target cluster. Same returns. */
int  demo_load_shop(const struct demo_servers *s, const struct demo_sizes *z,
                    FILE *progress, const volatile sig_atomic_t *cancel,
                    char *err, size_t errlen);

/* ---- live workload ---------------------------------------------------------- */

struct demo_workload_opts {
    const struct demo_servers *srv;
    struct demo_sizes sizes;    /* what demo_load_* loaded */
    int   tickit_per_s;         /* row changes per second on tickit.sales/users */
    int   shop_per_s;           /* row changes per second on shop */
    int   burst_first_s;        /* first 50,000-row burst after this many seconds */
    int   burst_every_s;        /* then every this many seconds; 0 = only one */
    int   alter_after_s;        /* ADD COLUMN tickit.sales.channel; < 0 never */
    uint64_t seed;
};

struct demo_workload_stats {
    int64_t inserts, updates, deletes;  /* rows changed on the sources */
    int64_t tickit_changes, shop_changes;
    int     bursts;                      /* single-transaction bursts committed */
    int     altered_at_s;                /* when ADD COLUMN ran, -1 not yet */
    int64_t errors;                      /* failed statements (then reconnects) */
    char    last_error[512];
};

struct demo_workload;

int  demo_workload_start(struct demo_workload **out, const struct demo_workload_opts *o,
                         char *err, size_t errlen);
void demo_workload_get_stats(struct demo_workload *w, struct demo_workload_stats *out);
/* Finish the current transaction, close the connections, join; frees w. */
void demo_workload_stop(struct demo_workload *w);

#endif
