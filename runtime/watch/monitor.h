/*
 * monitor.h — watching the runtime's integrations from the side: webhook
 * alerts and the Prometheus metrics file.
 *
 * The monitor never sits in the replication path: its thread reads the
 * state log (its own handle) every MONITOR_POLL_MS, exactly what `zetl
 * status` reads, and
 *   - feeds every reading to the incidents (alerts.h), whose notifications
 *     go to the webhook delivery thread (webhook.h) — so a slow or dead
 *     webhook delays nothing but other alerts;
 *   - counts the new events of its integrations: error-level ones
 *     (zetl_errors_total) and the supervisor's "retry" ones, one per
 *     reconnection after an error (zetl_reconnects_total), from the newest
 *     event at its start: counters of this process, as Prometheus expects;
 *   - every MONITOR_METRICS_MS (and once at the start and at the stop)
 *     writes the metrics file (metrics.h) when one is set.
 * A metrics file that cannot be written is logged once (and again once it
 * works again), never fatal.
 *
 * runtime_start() starts it for the integrations it runs (so `zetl run` and
 * the console's embedded runtime both alert); with no alerts configured and
 * no metrics file it starts nothing.
 *
 * Threads: start and stop from the controlling thread.
 */
#ifndef ZETL_MONITOR_H
#define ZETL_MONITOR_H

#include <stddef.h>

#include "config/config.h"

#define MONITOR_POLL_MS     1000
#define MONITOR_METRICS_MS  10000
#define MONITOR_DRAIN_MS    3000    /* at stop: time left to deliver queued alerts */

struct monitor;

struct monitor_opts {
    const struct config *cfg;
    const struct config_integration *const *igs;   /* the integrations this runtime runs */
    int         nigs;
    const char *metrics_file;   /* NULL: none */
    int         log_stderr;     /* `zetl run`: problems on stderr too */
};

/* 0 with *out (NULL when there is nothing to do), or -1 with err. */
int  monitor_start(struct monitor **out, const struct monitor_opts *o, char *err, size_t errlen);
/* A last reading and metrics file, MONITOR_DRAIN_MS for queued alerts, join, free. */
void monitor_stop(struct monitor *m);

#endif
