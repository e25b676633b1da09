/*
 * metrics.h — the Prometheus text exposition of `zetl run --metrics-file`.
 *
 * metrics_format() turns what the monitor read from the state log into the
 * text format (version 0.0.4) that node_exporter's textfile collector reads:
 * for every metric a `# HELP` and a `# TYPE` line, then its samples, one per
 * label set; label values escaped (\\, \", \n). Per integration:
 *
 *   zetl_integration_state{integration,state}  gauge    1 for the current state, 0 for the others
 *   zetl_lag_seconds{integration}              gauge    absent while unknown; whole seconds
 *                                                       when measured from whole-second timestamps
 *   zetl_stalled{integration}                  gauge    1 while stalled (statelog.h "Lag")
 *   zetl_bytes_behind{integration}             gauge    absent while unknown
 *   zetl_rows_applied_total{integration,op}    counter  op = insert | update | delete
 *   zetl_rows_copied{integration}              gauge    rows copied by the tables' last snapshots
 *   zetl_tables{integration,state}             gauge    tables in each table state
 * and per table being copied (snapshotting, resyncing; statelog.h "Copy progress"):
 *   zetl_table_copy_rows{integration,table}            gauge  rows copied so far
 *   zetl_table_copy_rows_estimated{integration,table}  gauge  the source's estimate; absent unknown
 *   zetl_table_copy_chunks{integration,table}          gauge  chunks committed; absent for a copy in one read
 *   zetl_table_copy_rows_per_second{integration,table} gauge  over the last 10 to 20 s; absent unknown
 *   zetl_table_copy_eta_seconds{integration,table}     gauge  (estimate − rows) / rate; absent unknown
 * and per integration again:
 *   zetl_errors_total{integration}             counter  error events since this process started
 *   zetl_reconnects_total{integration}         counter  retries after an error since this process started
 *   zetl_last_applied_timestamp_seconds{integration}  gauge  absent until a change is applied
 * and for the process: zetl_alerts_sent_total, zetl_alert_delivery_failures_total,
 * zetl_build_info{version}.
 *
 * metrics_write_file() replaces the file atomically: PATH.tmp in the same
 * directory, fsync, rename over PATH, fsync of the directory. A reader sees
 * the old file or the new one, never a part.
 *
 * Pure functions, no global state; any thread.
 */
#ifndef ZETL_METRICS_H
#define ZETL_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/log/statelog.h"

struct metrics_integration {
    const struct statelog_integration *st;  /* from the state log, tables included */
    int64_t lag_ms;             /* st->lag_ms, computed at the read; -1 unknown */
    int64_t errors;             /* error-level events since the process started */
    int64_t reconnects;         /* "retry" events since the process started */
};

struct metrics_input {
    const struct metrics_integration *v;
    size_t  n;
    int64_t alerts_sent;        /* webhook deliveries that succeeded */
    int64_t alerts_failed;      /* alerts given up after every retry, or dropped */
    const char *version;        /* zetl_build_info */
};

/* The exposition text to out. 0, or -1 when out reports a write error. */
int  metrics_format(FILE *out, const struct metrics_input *in);

/* A label value, escaped and quoted ("a\"b"), to out. */
void metrics_label_value(FILE *out, const char *s);

/* Replace path with text[0..len) atomically; 0, or -1 with err. */
int  metrics_write_file(const char *path, const char *text, size_t len, char *err, size_t errlen);

#endif
