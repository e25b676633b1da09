/*
 * liveness.h — is anybody running an integration, and if not, since when and
 * who ran it last. What `zetl status`, the console and zetl_command show and
 * check instead of trusting the last state the runtime wrote, which stays
 * "active" after the process that wrote it is gone.
 *
 * Two sources, each the truth for one half:
 *   - running or not: the integration's lock (lock.h). The kernel drops it
 *     when the holder dies, kill -9 included, so a free lock means nobody
 *     runs it, now. The holder's "PID ROLE" comes from the lock file.
 *   - who ran it last and since when: the state log's runner row
 *     (statelog.h "runners"), written by the holder as it starts, every
 *     RUNNER_HEARTBEAT_MS while it runs, and at a clean stop. After a clean
 *     stop, stopped_at is exact. After a kill -9 there is no stop record:
 *     the process ended at some moment after its last heartbeat (seen_at),
 *     so "stopped since" is then a bound, "after seen_at", never a guess.
 *
 * Commands: a command for an integration nobody runs is refused by its
 * sender (liveness_probe just before sending). A process can die between
 * that check and the claim, so a runtime starting an integration also
 * expires every command created before it took the lock
 * (statelog_expire_commands with LIVENESS_EXPIRED_FMT), never applying it.
 *
 * Threads: any; the state log handle as statelog.h says. Functions return
 * 0 on success, -1 with a message in err.
 */
#ifndef ZETL_LIVENESS_H
#define ZETL_LIVENESS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/log/statelog.h"

#define RUNNER_HEARTBEAT_MS 5000

/* The result an expired command gets; %s is the integration. */
#define LIVENESS_EXPIRED_FMT "expired: nobody was running %s when it was sent"

struct liveness {
    int     running;          /* a process holds the lock now */
    long    pid;              /* the holder (running), else the last runner's; 0 unknown */
    char    runner[200];      /* who runs it / ran it last: the runner row's actor,
                               * else the lock's role; "" unknown */
    int64_t started_at;       /* ms epoch that runner started, 0 unknown */
    int64_t seen_at;          /* ms epoch of its last heartbeat, 0 unknown */
    int64_t stopped_at;       /* not running: ms epoch of its clean stop, 0 when it
                               * ended without one (then it stopped after seen_at) */
};

/* The lock of `name` in state_dir, and the runner row through sl (NULL: the
 * lock alone). */
int liveness_probe(struct liveness *out, const char *state_dir, struct statelog *sl,
                   const char *name, char *err, size_t errlen);

/* Fill `out` from a lock probe already made (holder_pid 0: free; role may be
 * NULL) and the runner row through sl (NULL: none). The console probes
 * locks rarely (tui/model.c) and reads the rows at every refresh. */
void liveness_fill(struct liveness *out, struct statelog *sl, const char *name,
                   long holder_pid, const char *holder_role);

/* The state to show for an integration whose log row says last_state:
 * "stopped" when nobody runs it, except that a deleted integration stays
 * "deleted" (nothing is left to run). */
const char *liveness_state(const struct liveness *lv, const char *last_state);

/* One line for people, without the state word (times in UTC), e.g.
 *   "not running since 2026-12-06T03:00:00Z; last run by zetl run by ann (pid 41)"
 *   "not running: ended without a clean stop (killed?) after 2026-12-06T03:00:00Z;
 *    last run by zetl run by ann (pid 41)"
 *   "running: zetl run by ann (pid 41) since 2026-12-06T02:00:00Z" */
void liveness_describe(const struct liveness *lv, char *buf, size_t len);

/* The one-line refusal for a command to an integration nobody runs. */
void liveness_refusal(const char *name, const char *command, char *buf, size_t len);

#endif
