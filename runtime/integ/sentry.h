/*
 * sentry.h — operator commands answered while a supervisor is blocked.
 *
 * A supervisor takes commands between rows, batches and waits
 * (integ_poll_commands, at least every COMMAND_POLL_MS while it can). A
 * source read blocked on a frozen link — a MySQL recv() until its read
 * timeout, a PostgreSQL wait until its silence deadline — takes none for up
 * to 20–60 s. The sentry thread looks from the side, every SENTRY_TICK_MS:
 * for an integration whose supervisor has not polled for SENTRY_QUIET_MS,
 * it asks the state log whether a pause, delete or stop waits (without
 * claiming it) and, if so, fires the integration's cut (linkcut.h): the
 * blocked read ends at once, and the supervisor takes the command, which
 * ends the round as it would between rows. A resync or resume never cuts
 * anything (they wait for the supervisor's next poll).
 *
 * runtime_start starts one sentry for the runtime's integrations; it holds
 * its own state-log handle, opened when it first needs one.
 *
 * Thread: start and stop from the controlling thread.
 */
#ifndef ZETL_SENTRY_H
#define ZETL_SENTRY_H

#define SENTRY_TICK_MS   250
#define SENTRY_QUIET_MS  1000

struct integ;
struct sentry;

/* NULL when the thread cannot start (commands then wait for the next poll). */
struct sentry *sentry_start(struct integ *integs, int n, const char *state_dir);
void sentry_stop(struct sentry *s);

#endif
