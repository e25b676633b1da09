/*
 * pfreport.h — the result model of a preflight check (`zetl check`, the setup
 * walkthrough, the console's `c`).
 *
 * A preflight run produces an ordered list of items, one per requirement:
 * what was checked, the value found, the value required, its status, and how
 * to fix it on a self-managed server and on RDS/Aurora. The sources and
 * targets fill it with their checks (runtime/mysql/preflight.c,
 * runtime/pg/preflight.c, runtime/target/, runtime/check/), so it sits below
 * them all; runtime/check/preflight.h runs an integration's checks. An item
 * never holds a secret.
 *
 * Thread: a report belongs to the thread that fills it.
 */
#ifndef ZETL_PFREPORT_H
#define ZETL_PFREPORT_H

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

#endif
