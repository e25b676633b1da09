/*
 * demo_report.h — what a headless `zetl demo` prints while it runs and at
 * the end, read from the state log the runtime writes (never from the
 * runtime's memory) and from `zetl verify`'s comparison.
 *
 *   demo_report_progress  one status line: per integration its state, tables
 *                         synced and lag; rows applied so far
 *   demo_report_finish    wait (bounded) until every table is synced and the
 *                         lag is 0, verify every table, print the summary:
 *                           tables synced     x/y
 *                           changes applied   inserts N, updates N, deletes N
 *                           workload made     ... (the sources' side)
 *                           lag               p50 N ms, p99 N ms (K samples)
 *                           verify            x/y tables match
 *                         and return the exit status (0 only when everything
 *                         synced and matched)
 *
 * The line formats are read by tests/integration/test_demo.sh: keep them.
 * Thread: the caller's (main).
 */
#ifndef ZETL_TUI_DEMO_REPORT_H
#define ZETL_TUI_DEMO_REPORT_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "tui/demo/demo.h"

struct statelog;

struct demo_report {
    struct statelog *sl;                  /* our own handle on the state log */
    int64_t started_at;                   /* ms epoch the workload started: lag from here */
    struct demo_workload_stats workload;  /* the sources' side, at the end */
};

void    demo_report_init(struct demo_report *r);
int64_t demo_report_now_ms(void);
/* Open the state log of cfg; -1 with err. */
int     demo_report_open(struct demo_report *r, const struct config *cfg, char *err, size_t errlen);
void    demo_report_progress(struct demo_report *r, FILE *out, int elapsed_s, struct demo_workload *wl);
/* 0 ok, 1 not everything synced or verified (what failed is printed). */
int     demo_report_finish(struct demo_report *r, const struct config *cfg, int seconds,
                           const volatile sig_atomic_t *cancel, FILE *out);
void    demo_report_close(struct demo_report *r);

#endif
