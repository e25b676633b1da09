/*
 * target_retry.c — the http target retries a delivery inside the applier's
 * call (runtime/target/http.c); this hook keeps that visible and operable:
 *   - each failed attempt is a warning event, and the integration shows
 *     `failed` with the reason (one transition per distinct reason);
 *   - while it waits, operator commands are taken as the applier would: one
 *     that ends the round (pause, delete) gives the retry up, and the
 *     supervisor carries it out (in->retry_cmd_end); stop is the stop flag;
 *   - when the request is taken, the integration returns to the state it had
 *     (active, snapshotting).
 * Runs on the supervisor thread, the only one that owns in->sl and in->state.
 */
#include <stdio.h>
#include <string.h>

#include "runtime/integ/integ.h"

int integ_target_retry(void *ctx, enum target_retry ev, const char *reason)
{
    struct integ *in = ctx;
    switch (ev) {
    case TARGET_RETRY_FAILED:
        integ_log(in, STATELOG_WARNING, NULL, "retry", "%s", reason);
        if (in->state != ISTATE_FAILED)
            in->state_before_retry = in->state;
        if (in->state != ISTATE_FAILED || strcmp(in->err, reason) != 0) {
            snprintf(in->err, sizeof in->err, "%s", reason);
            integ_set_state(in, ISTATE_FAILED, reason, NULL);
        }
        return 0;
    case TARGET_RETRY_WAIT: {                       /* every 250 ms, as the applier polls */
        enum integ_round r = integ_poll_commands(in);
        if (r == ROUND_NONE || r == ROUND_RESYNC) return 0;   /* a resync waits for the stream */
        /* ROUND_LEASE_LOST too: a call of a process that is no longer the
         * holder has nothing to wait for (ha.c) */
        in->retry_cmd_end = r;
        return 1;
    }
    case TARGET_RETRY_DELIVERED:
        in->err[0] = '\0';
        if (in->state_before_retry && in->state == ISTATE_FAILED) {
            integ_log(in, STATELOG_INFO, NULL, "retry", "the endpoint took the events again");
            integ_set_state(in, in->state_before_retry, NULL, NULL);
        }
        in->state_before_retry = ISTATE_UNKNOWN;
        return 0;
    }
    return 0;
}
