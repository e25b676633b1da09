/*
 * model.h — what the console shows, read off the console thread.
 *
 * A data thread owns its own state-log handle. Every MODEL_REFRESH_MS (or at
 * once when asked) it reads integrations and tables, recent activity, lag and
 * events into a new immutable `struct snapshot`. When the content differs
 * from the last one (a fingerprint over everything shown), it publishes the
 * snapshot under the model mutex with the next generation number and writes
 * one byte to the console's wake pipe. An idle log therefore wakes the
 * console never.
 *
 * Commands go the other way: model_command() queues (pause, resume, resync,
 * delete) and the data thread writes them to the state log's command queue
 * with the console's actor, then follows each until the runtime records its
 * outcome, which appears in snapshot.status. The preflight checks (`c`) run
 * on a thread of their own, never on the console or data thread, and their
 * report appears in snapshot.report.
 *
 * Ownership: a snapshot is reference-counted; model_acquire() returns the
 * newest with one reference that the caller gives back with model_release().
 * Its contents never change; views read it and never free any of it.
 *
 * Threads: model_* are called from the console thread; the data and
 * preflight threads never touch curses.
 */
#ifndef ZETL_TUI_MODEL_H
#define ZETL_TUI_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "runtime/statelog.h"

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
    int     source_postgres;        /* source kind, for the delete prompt */
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

struct model;

/* Start the data thread. wake_fd: write end of the console's pipe.
 * The config must outlive the model. */
int  model_start(struct model **out, const struct config *cfg, const char *log_path,
                 int wake_fd, const char *actor, char *err, size_t errlen);
/* Stop and join the data thread (waits for a running preflight). */
void model_stop(struct model *m);

const struct snapshot *model_acquire(struct model *m);
void model_release(struct model *m, const struct snapshot *s);

/* Which integration the activity and lag views show. */
void model_set_focus(struct model *m, const char *integration);
/* Queue a command for the state log (pause, resume, resync, delete). */
void model_command(struct model *m, const char *integration, const char *table,
                   const char *command);
/* Run the preflight checks of one integration in the background. */
void model_preflight(struct model *m, const char *integration);
/* Drop the shown preflight report. */
void model_clear_report(struct model *m);
/* Read the log now rather than at the next tick. */
void model_poke(struct model *m);

/* Helpers for views: the integration named `name` in s, or -1. */
int  snapshot_find(const struct snapshot *s, const char *name);

#endif
