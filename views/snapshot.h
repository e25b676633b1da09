/*
 * snapshot.h — what a view draws: an immutable picture of every integration,
 * built by the console's data thread (tui/model.c) from the SQLite log and
 * published with a generation counter. Views only read it; they never touch
 * a database or the terminal directly.
 */
#ifndef ZETL_VIEWS_SNAPSHOT_H
#define ZETL_VIEWS_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/log/liveness.h"
#include "runtime/log/statelog.h"

#define MODEL_REFRESH_MS  500      /* how often the log is read */
#define MODEL_SPARK_N     30       /* sparkline buckets on the home view */
#define MODEL_SPARK_MS    (10LL * 60 * 1000)   /* ... covering the last 10 minutes */
#define MODEL_LAG_MS      (60LL * 60 * 1000)   /* lag view: the last hour at most */
#define MODEL_EVENTS      1000
#define MODEL_ACTIVITY    500

struct snap_integ {
    int     attached;               /* held by another process (`zetl run`) */
    long    holder_pid;             /* that process, 0 when none */
    int     configured;             /* present in the config file */
    double  rows_per_s;             /* applied rows per second, last 10 s */
    int64_t spark[MODEL_SPARK_N];   /* max lag per bucket, oldest first, -1 none */
    int     source_slot;            /* the source keeps a replication slot and a publication
                                       for zetl (PostgreSQL; a delete drops them) */
    char    slot[128];              /* then: the slot and the publication */
    char    publication[128];
    struct liveness live;           /* who runs it, or ran it last (runtime/log/liveness.h) */
    char    last_state[24];         /* nobody runs it: the log's state, which the
                                     * model replaced by "stopped"; "" otherwise */
};

struct snapshot {
    uint64_t gen;                   /* publication number, 1 upward */
    int64_t  taken_at;              /* ms epoch */
    struct statelog_integration *integ;   /* sorted by name, with tables */
    size_t   ninteg;
    struct snap_integ *ext;         /* parallel to integ */
    char     focus[128];            /* the integration activity/lag are for */
    struct statelog_activity *act;  /* focus, newest first */
    size_t   nact;
    struct statelog_lag_sample *lag;/* focus, newest first, last MODEL_LAG_MS */
    size_t   nlag;
    struct statelog_event *ev;      /* all integrations, newest first */
    size_t   nev;
    char     status[512];           /* the newest command's outcome */
    char     error[512];            /* reading the log failed: why */
    char    *report;                /* preflight report text, NULL none */
    char     report_title[160];
    int      report_running;        /* a preflight run is under way */
    int      refs;                  /* model-internal */
    size_t   nalloc;                /* model-internal: integ entries to free */
};

/* Helpers for views: the integration named `name` in s, or -1. */
int  snapshot_find(const struct snapshot *s, const char *name);

#endif
