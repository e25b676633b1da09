/*
 * alerts.h — incidents: when an alert fires, when it resolves, and what it says.
 *
 * The monitor (monitor.h) reads the state log about once a second and hands
 * every reading to alerts_observe(), which turns conditions into incidents
 * and incidents into notifications for the webhook queue (webhook.h). It
 * does no I/O, so every rule below is unit-tested on synthetic readings.
 *
 * An incident is keyed by (integration, table or none, kind):
 *   failed           the integration's state is failed, or a table's is
 *   needs_attention  the integration's state is needs_attention
 *   resync_required  a table's state is resync_required
 *   lag              the integration's lag is over
 *                    alerts.lag_seconds, while it is active or
 *                    needs_attention; paused or deleted clears it; in any
 *                    other state (failed, snapshotting, ...) the lag is
 *                    not known, and a lag incident neither fires nor clears
 *   stalled          the integration's applied position has not moved for
 *                    alerts.stall_seconds while changes wait (the log's
 *                    stalled_since; statelog.h "Lag")
 * The lag is the log's lag_ms, computed when the log is read (statelog.h
 * "Lag"): it grows while the applier is stuck, so a stuck applier alerts.
 * Only the kinds in the integration's alerts.on are tracked.
 *
 * Rules
 *   - One "firing" notification when an incident begins, one "resolved"
 *     when its condition has stayed clear for alerts.resolve_seconds. A
 *     condition that comes back within that time is the same incident (a
 *     flapping integration, a lag hovering around the threshold: nothing
 *     more is sent). That delay is the lag alert's hysteresis too.
 *   - A condition already true at the first reading (the log still holds
 *     the previous run's state) fires only if it still holds after
 *     ALERTS_STARTUP_GRACE_MS, so a restart that heals it sends nothing.
 *   - Table incidents of one integration and kind that begin (or resolve)
 *     in the same reading are sent as one notification naming the tables,
 *     so a lost binlog position that marks 500 tables resync_required sends
 *     one message, not 500.
 *   - Nothing survives the process: after a restart an incident that still
 *     holds fires again (after the grace).
 *
 * The notification is Slack-compatible JSON: `text` for people (with &, <, >
 * escaped as Slack requires) plus structured fields:
 *   {"text", "status": "firing"|"resolved", "kind", "integration",
 *    "table" (null for the integration or a group), "tables" (a group only),
 *    "state", "reason", "lag_seconds" (null when unknown), "lag_threshold_seconds",
 *    "time", "since" (ISO 8601 UTC), "host"}
 * It never holds the webhook URL.
 *
 * Thread: one thread (the monitor's) owns a struct alerts.
 */
#ifndef ZETL_ALERTS_H
#define ZETL_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "runtime/log/statelog.h"

#define ALERTS_STARTUP_GRACE_MS 15000

struct alerts;

struct alert_msg {
    const char *url;            /* the integration's webhook_url (borrowed from the config) */
    int   timeout_seconds;      /* per delivery attempt */
    char *body;                 /* the JSON; the receiver of the message owns it */
    char  integration[64];
    char  summary[192];         /* "tickit: failed firing", for the log; no secret */
};

/* Takes ownership of m->body. */
typedef void (*alert_emit_fn)(void *ctx, struct alert_msg *m);

/* igs: the integrations to watch (borrowed; those without a webhook_url are
 * skipped); host: this machine's name, for the messages. NULL on ENOMEM. */
struct alerts *alerts_new(const struct config_integration *const *igs, int n, const char *host);
void alerts_free(struct alerts *a);

/* One reading of the log (v: integrations with their tables, any order,
 * others than the watched ones ignored) at wall time now_ms. */
void alerts_observe(struct alerts *a, const struct statelog_integration *v, size_t n,
                    int64_t now_ms, alert_emit_fn emit, void *ctx);

/* Open incidents (firing, or waiting for the grace), for tests. */
int  alerts_open(const struct alerts *a);

#endif
