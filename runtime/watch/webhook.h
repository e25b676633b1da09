/*
 * webhook.h — delivering alert notifications: a bounded queue and one
 * delivery thread that POSTs each with libcurl.
 *
 *   webhook_start()  start the delivery thread
 *   webhook_post()   queue one notification; never waits for the network.
 *                    A full queue (WEBHOOK_QUEUE_MAX) drops its oldest
 *                    notification, and the drop is logged
 *   webhook_stop()   give what is queued one attempt each within drain_ms,
 *                    log what is left undelivered, join, free
 *
 * Delivery: POST of the JSON body with Content-Type: application/json, no
 * redirects followed, http and https only, TLS peer and host always
 * verified (libcurl's defaults, never turned off), a connect timeout of
 * WEBHOOK_CONNECT_TIMEOUT_MS and a total timeout of the integration's
 * alerts.timeout_seconds per attempt. 2xx is delivered. A network error,
 * 408, 429 or 5xx is retried after 1, 2, 4, 8 and 16 s (plus up to 25 %
 * jitter), WEBHOOK_ATTEMPTS attempts in all; any other answer (a revoked
 * Slack webhook answers 403/404) is not retried. Notifications go out one
 * at a time in order, so a "resolved" never overtakes its "firing".
 *
 * The log (kind "alert", in the notification's integration): an info event
 * per delivery, a warning per failed attempt, an error when one is given up
 * or dropped; on stderr too when log_stderr. The webhook URL is a secret: a
 * message shows only config_redact_origin() of it, and any copy of the URL
 * or its path in an error text from libcurl or the receiver is cut out.
 *
 * Threads: webhook_post and webhook_counts from any thread; start and stop
 * from the controlling thread. The delivery thread opens its own state log
 * handle.
 */
#ifndef ZETL_WEBHOOK_H
#define ZETL_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/watch/alerts.h"

#define WEBHOOK_QUEUE_MAX           256
#define WEBHOOK_ATTEMPTS            6
#define WEBHOOK_CONNECT_TIMEOUT_MS  5000

struct webhook;

/* statelog_path: the state log the events go to. 0, or -1 with err. */
int  webhook_start(struct webhook **out, const char *statelog_path, int log_stderr,
                   char *err, size_t errlen);
/* Takes ownership of m->body (m itself is copied). */
void webhook_post(struct webhook *w, struct alert_msg *m);
void webhook_stop(struct webhook *w, int drain_ms);
/* Delivered, and given up or dropped, since the start. */
void webhook_counts(struct webhook *w, int64_t *sent, int64_t *failed);

#endif
