/* liveness.c — who runs an integration (see liveness.h). */
#include "runtime/log/liveness.h"

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "runtime/base/clock.h"
#include "runtime/base/states.h"
#include "runtime/log/lock.h"

void liveness_fill(struct liveness *out, struct statelog *sl, const char *name,
                   long holder_pid, const char *holder_role)
{
    struct statelog_runner r;

    memset(out, 0, sizeof *out);
    out->running = holder_pid > 0;
    out->pid = holder_pid;
    if (holder_role)
        snprintf(out->runner, sizeof out->runner, "%s", holder_role);
    if (!sl || statelog_get_runner(sl, name, &r) != 1)
        return;
    /* The row describes the holder only when it is the holder's (a process
     * that just took the lock writes its row a moment later). */
    if (!out->running || r.pid == holder_pid) {
        if (!out->running) out->pid = (long)r.pid;
        if (r.actor) snprintf(out->runner, sizeof out->runner, "%s", r.actor);
        out->started_at = r.started_at;
        out->seen_at = r.seen_at;
        out->stopped_at = out->running ? 0 : r.stopped_at;
    }
    statelog_clear_runner(&r);
}

int liveness_probe(struct liveness *out, const char *state_dir, struct statelog *sl,
                   const char *name, char *err, size_t errlen)
{
    pid_t pid = 0;
    char role[200];
    int held = lock_holder_pid(state_dir, name, &pid, role, sizeof role, err, errlen);

    if (held < 0) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    /* A holder whose pid is not written yet is still a holder. */
    liveness_fill(out, sl, name, held == 1 ? (pid > 0 ? (long)pid : -1) : 0,
                  held == 1 ? role : NULL);
    if (out->pid < 0) out->pid = 0;
    return 0;
}

const char *liveness_state(const struct liveness *lv, const char *last_state)
{
    if (lv->running || istate_parse(last_state) == ISTATE_DELETED)
        return last_state;
    return istate_name(ISTATE_STOPPED);
}

static void utc(int64_t ms, char *buf, size_t len)
{
    if (ms <= 0 || zclock_iso8601(buf, len, ms) != 0)
        snprintf(buf, len, "an unknown time");
}

void liveness_describe(const struct liveness *lv, char *buf, size_t len)
{
    char when[32], who[260] = "";

    if (lv->runner[0] && lv->pid)
        snprintf(who, sizeof who, "%s (pid %ld)", lv->runner, lv->pid);
    else if (lv->runner[0])
        snprintf(who, sizeof who, "%s", lv->runner);
    else if (lv->pid)
        snprintf(who, sizeof who, "pid %ld", lv->pid);
    if (lv->running) {
        utc(lv->started_at, when, sizeof when);
        snprintf(buf, len, "running: %s%s%s", who[0] ? who : "pid unknown",
                 lv->started_at ? " since " : "", lv->started_at ? when : "");
        return;
    }
    if (lv->stopped_at) {
        utc(lv->stopped_at, when, sizeof when);
        snprintf(buf, len, "not running since %s; last run by %s", when, who[0] ? who : "unknown");
    } else if (lv->seen_at) {
        utc(lv->seen_at, when, sizeof when);
        snprintf(buf, len, "not running: ended without a clean stop (killed?) after %s; last run by %s",
                 when, who[0] ? who : "unknown");
    } else {
        snprintf(buf, len, "not running; who ran it last is not recorded");
    }
}

void liveness_refusal(const char *name, const char *command, char *buf, size_t len)
{
    snprintf(buf, len, "%s is not running: start `zetl run` for it (or `zetl console` where no "
             "`zetl run` holds it), then %s again; nothing was sent", name, command);
}
