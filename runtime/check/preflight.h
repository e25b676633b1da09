/*
 * preflight.h — the result model of `zetl check` and the setup walkthrough.
 *
 * A preflight run produces an ordered list of items, one per requirement:
 * what was checked, the value found, the value required, its status, and how
 * to fix it on a self-managed server and on RDS/Aurora. The checks
 * themselves live with each source and target (runtime/mysql/preflight.c,
 * runtime/pg/preflight.c, runtime/check/setup_target.c, runtime/target/); this
 * module collects and prints them, and preflight_integration runs all of
 * an integration's, once, for both `zetl check` and the console's `c`.
 * An item never holds a secret.
 *
 * Thread: a report belongs to the thread that fills it.
 */
#ifndef ZETL_PREFLIGHT_H
#define ZETL_PREFLIGHT_H

#include <stdio.h>

enum pf_status { PF_PASS = 0, PF_WARN, PF_FAIL };

struct pf_item {
    enum pf_status status;
    char check[64];        /* "binlog_row_image", "privileges", "table tickit.sales" */
    char current[384];     /* what the server has now */
    char required[96];     /* what zetl needs */
    char fix[384];         /* self-managed: the statement or my.cnf line */
    char fix_rds[384];     /* RDS/Aurora: parameter group, reboot; "" if same */
};

struct pf_report {
    char   subject[160];   /* "source tickit: mysql://127.0.0.1:3306 (MariaDB 10.11.19)" */
    struct pf_item *items;
    int    n, cap;
    int    nfail, nwarn;
};

/* Append an item; printf-style `current`. Out of memory drops the item and
 * counts it as a failure (a check run must never pass by accident). */
void pf_add(struct pf_report *r, enum pf_status st, const char *check, const char *required,
            const char *fix, const char *fix_rds, const char *current_fmt, ...)
    __attribute__((format(printf, 7, 8)));
void pf_free(struct pf_report *r);

/* Print the report: one line per item, the fixes indented under failures
 * and warnings. */
void pf_print(const struct pf_report *r, FILE *out);

/*
 * Every check of one integration, printed to out as each part finishes:
 * the source (mysql_preflight / pg_preflight), its tables' target names
 * (skipped when the source cannot be reached), and the target: for
 * postgres/redshift setup_target_test (a connection within
 * PREFLIGHT_TIMEOUT_S, may zetl create schemas and tables, zetl's own
 * schema and checkpoint table), for http target_http_preflight (the
 * endpoint answers). A part that cannot run (unreachable) is one failure
 * naming host:port and the cause. Ends with the integration's totals.
 * `zetl check` and the console's `c` both call this and nothing else, so
 * the two cannot drift. *nfail, *nwarn (either may be NULL) get the totals;
 * returns 0 when nothing failed, 1 otherwise. Blocks on the network for up
 * to a few deadlines: never call it on the console thread.
 */
#define PREFLIGHT_TIMEOUT_S 10
struct config;
struct config_integration;
int preflight_integration(const struct config *cfg, const struct config_integration *in, FILE *out,
                          int *nfail, int *nwarn);

#endif
