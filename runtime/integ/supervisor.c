/*
 * supervisor.c — one integration's lifecycle: state machine, retries with
 * exponential backoff and jitter, commands (see integ.h). Its states and
 * log lines are written through state.c.
 *
 *   creating → snapshotting → active ⇄ paused;  failed (retrying, reason
 *   shown) → back to snapshotting/active;  deleting → deleted.
 *
 * Every round starts from the target's checkpoint, so a failure anywhere
 * (source, target, this process) resumes with nothing lost and nothing
 * applied twice.
 */
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "runtime/base/backoff.h"
#include "runtime/base/clock.h"
#include "runtime/integ/integ.h"
#include "runtime/log/liveness.h"
#include "runtime/source/source.h"
#include "runtime/source/source_ops.h"
#include "runtime/target/target.h"

/* Sleep up to ms, waking early on stop or a command: what ended the wait,
 * or ROUND_NONE when it ran its time. */
static enum integ_round wait_interruptible(struct integ *in, int ms)
{
    for (int waited = 0; waited < ms; waited += 200) {
        if (atomic_load(&in->stop)) return ROUND_STOPPED;
        enum integ_round r = integ_poll_commands(in);
        if (r != ROUND_NONE) return r;
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return ROUND_NONE;
}

/* Wait for the next attempt after a failed round: backoff ms with jitter, cut
 * short by stop or a command; returns what wait_interruptible returned. */
static enum integ_round wait_retry(struct integ *in, int backoff, unsigned *seed)
{
    int wait_ms = backoff_wait_ms(backoff, (unsigned)rand_r(seed));
    /* The attempt and its time go to the state log, so the console and
     * `zetl status` can say when the next try is; `retry` starts it now. */
    integ_retry_set(in, in->retry_attempt + 1, zclock_wall_ms() + wait_ms);
    integ_log(in, STATELOG_WARNING, NULL, "retry", "attempt %d in %d ms", in->retry_attempt, wait_ms);
    in->retry_waiting = 1;
    enum integ_round w = wait_interruptible(in, wait_ms);
    in->retry_waiting = 0;
    if (in->retry_attempt && in->state == ISTATE_FAILED)
        integ_retry_set(in, in->retry_attempt, 0);     /* under way */
    else if (in->retry_attempt)
        integ_retry_set(in, 0, 0);                      /* resumed, paused, deleted: no retry */
    return w;
}

static void describe_source(const struct config_integration *c, char *buf, size_t len)
{
    const struct source_ops *d = source_driver(c->source.kind);
    snprintf(buf, len, "%s://%s:%d", d ? d->name : "?", c->source.host, c->source.port);
}

/* The target as the sources are shown: postgres://host:port/db (the kind's
 * name as the scheme; a URL target its URL, redacted). Only the address is
 * read from the DSN, so neither the password nor any other option ever
 * reaches the log or the screen. */
static void describe_target(const struct config_integration *c, char *buf, size_t len)
{
    const struct target_driver *d = target_driver(c->target.kind);
    if (d->url) {
        config_redact(c->target.url, buf, len);
        return;
    }
    const char *scheme = d->name;
    PQconninfoOption *opts = PQconninfoParse(c->target.dsn ? c->target.dsn : "", NULL);
    if (!opts) {            /* the error message may quote the DSN: not used */
        snprintf(buf, len, "%s://(unparsable dsn)", scheme);
        return;
    }
    const char *host = NULL, *addr = NULL, *port = NULL, *db = NULL, *user = NULL;
    for (PQconninfoOption *p = opts; p->keyword; p++) {
        if (!p->val || !*p->val) continue;
        if (!strcmp(p->keyword, "host")) host = p->val;
        else if (!strcmp(p->keyword, "hostaddr")) addr = p->val;
        else if (!strcmp(p->keyword, "port")) port = p->val;
        else if (!strcmp(p->keyword, "dbname")) db = p->val;
        else if (!strcmp(p->keyword, "user")) user = p->val;
    }
    /* the defaults when the DSN leaves them out */
    char dport[16];
    snprintf(dport, sizeof dport, "%d", d->default_port);
    snprintf(buf, len, "%s://%s:%s/%s", scheme, host ? host : addr ? addr : "localhost",
             port ? port : dport, db ? db : user ? user : "");
    PQconninfoFree(opts);
}

/* Commands sent before this process took the lock were sent while nobody
 * ran the integration (or to a process that died before taking them): an
 * operator who pressed `p` then must not find it paused minutes later. */
static void expire_stale_commands(struct integ *in)
{
    char why[320];
    int n = 0;
    snprintf(why, sizeof why, LIVENESS_EXPIRED_FMT, in->cfg->name);
    if (statelog_expire_commands(in->sl, in->cfg->name, in->locked_at, why, &n) != 0) {
        /* integ_poll_commands expires them on the way too */
        if (in->log_stderr)
            fprintf(stderr, "%s: state log: %s\n", in->cfg->name, statelog_error(in->sl));
    } else if (n > 0) {
        integ_log(in, STATELOG_WARNING, NULL, "command",
                  "%d command%s sent while nobody ran %s expired, not applied", n,
                  n == 1 ? "" : "s", in->cfg->name);
    }
}

static int open_log(struct integ *in)
{
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/%s", in->root->state_dir, STATELOG_FILENAME);
    if (statelog_open(&in->sl, path, err, sizeof err) != 0) {
        /* Retried with backoff (open_log_retrying): a log being healed by another
         * process opens a moment later. Not while a console owns the terminal. */
        if (in->log_stderr)
            fprintf(stderr, "%s: cannot open the state log: %s\n", in->cfg->name, err);
        return -1;
    }
    /* Carry the state the log holds (e.g. paused) across restarts. */
    struct statelog_integration *v = NULL;
    size_t n = 0;
    int found = statelog_list_integrations(in->sl, in->cfg->name, &v, &n) == 0 && n == 1 && v[0].state;
    if (found) in->state = istate_parse(v[0].state);    /* UNKNOWN: a newer zetl's state, kept in the row */
    statelog_free_integrations(v, n);

    char src[256], tgt[512];
    describe_source(in->cfg, src, sizeof src);
    describe_target(in->cfg, tgt, sizeof tgt);
    struct statelog_integration row = {
        .name = (char *)in->cfg->name, .state = found ? NULL : (char *)istate_name(ISTATE_CREATING),
        .source = src, .target = tgt, .lag_ms = -1, .bytes_behind = -1,
    };
    if (!found) in->state = ISTATE_CREATING;
    if (statelog_upsert_integration(in->sl, &row) != 0) {
        fprintf(stderr, "%s: state log: %s\n", in->cfg->name, statelog_error(in->sl));
        return -1;
    }
    integ_record_runner(in, 0);
    expire_stale_commands(in);
    return 0;
}

/*
 * The state log is where commands come from and state goes to: without it
 * the integration cannot run. A failure to open it (a lock held too long by
 * another process, a full disk) is said on stderr and tried again, backing
 * off. 0 once open, -1 when stopped first.
 */
static int open_log_retrying(struct integ *in)
{
    int backoff = BACKOFF_MIN_MS;
    while (open_log(in) != 0) {
        for (int waited = 0; waited < backoff && !atomic_load(&in->stop); waited += 200) {
            struct timespec step = {0, 200 * 1000000L};
            nanosleep(&step, NULL);
        }
        if (atomic_load(&in->stop)) return -1;
        backoff = backoff_next(backoff);
    }
    return 0;
}

/* Wait in `paused` until resume (→ ROUND_NONE: run a round), stop or delete.
 * Meanwhile report what pausing costs: the WAL a PostgreSQL slot retains, as
 * bytes behind. */
static enum integ_round stay_paused(struct integ *in)
{
    for (int tick = 0;; tick++) {
        integ_rearm_cut(in);
        if (tick % 5 == 0) {
            int64_t retained = -1;
            char e[512];
            if (source_retained_bytes(in, &retained, e, sizeof e) == 0)
                statelog_update_position(in->sl, in->cfg->name, NULL, -1, retained);
        }
        enum integ_round r = wait_interruptible(in, 1000);
        if (r == ROUND_LEASE_LOST) {    /* paused, and another member took it over */
            integ_ha_lost(in);
            continue;
        }
        if (r == ROUND_DELETED) return integ_finish_delete(in) == ROUND_DELETED ? r : ROUND_NONE;
        if (r == ROUND_STOPPED) return r;
        if (r == ROUND_ERROR || r == ROUND_POSITION_LOST) return ROUND_NONE;  /* resume */
        if (in->state != ISTATE_PAUSED) return ROUND_NONE;
    }
}

/* Started again after a delete (a `zetl run`, a console): it does nothing,
 * and says why and what to do, once, as a warning on stderr and in the log. */
static void say_deleted(struct integ *in)
{
    struct statelog_integration *v = NULL;
    size_t n = 0;
    const char *why = NULL;
    if (statelog_list_integrations(in->sl, in->cfg->name, &v, &n) == 0 && n == 1) why = v[0].reason;
    integ_log(in, STATELOG_WARNING, NULL, "deleted",
              "integration %s was deleted%s%.1200s%s, so it does not run: remove it from the config "
              "(its target tables stay); to replicate that source again, add it under a new name, "
              "which copies every table afresh", in->cfg->name, why ? " (" : "", why ? why : "", why ? ")" : "");
    statelog_free_integrations(v, n);
}

/*
 * One round: the lease first (ha: nothing touches the source or the
 * target's data before this process holds it; a standby waits in
 * integ_ha_acquire), then the copy (a no-op when a checkpoint exists) and
 * the stream. A round the lease ended, whatever error it gave (a commit
 * that found its epoch moved, sessions the new holder ended), is
 * ROUND_LEASE_LOST. *start: when the round's work began.
 */
static enum integ_round run_round(struct integ *in, int64_t *start)
{
    enum integ_round r = integ_ha_acquire(in);
    *start = statelog_now_ms();
    if (r != ROUND_NONE) return r;
    integ_rearm_cut(in);
    r = integ_snapshot(in);
    if (r == ROUND_NONE) r = integ_stream(in);
    if (r != ROUND_STOPPED && integ_ha_poll(in) == ROUND_LEASE_LOST) r = ROUND_LEASE_LOST;
    if (r == ROUND_ERROR && !atomic_load(&in->stop) && integ_ha_confirm(in) == ROUND_LEASE_LOST)
        r = ROUND_LEASE_LOST;
    return r;
}

void *integ_main(void *arg)
{
    pthread_setname_np(pthread_self(), "z-apply");   /* top -H, gdb */
    struct integ *in = arg;
    atomic_store(&in->polled_ms, zclock_mono_ms());    /* the sentry's clock starts now (sentry.h) */
    int backoff = BACKOFF_MIN_MS;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)in;
    if (open_log_retrying(in) != 0) goto out;
    if (in->state == ISTATE_DELETED) {
        say_deleted(in);
        goto out;
    }
    /* A delete cut short (a crash, a kill) is finished, never streamed from. */
    if (in->state == ISTATE_DELETING) {
        integ_log(in, STATELOG_WARNING, NULL, "delete", "a delete was under way when zetl last stopped: finishing it");
        integ_finish_delete(in);
        goto out;
    }
    integ_log(in, STATELOG_INFO, NULL, "start", "started (%s)", in->actor);
    if (integ_ha_init(in) != 0) {
        integ_set_state(in, ISTATE_FAILED, "cannot start ha: out of memory, or no random bytes for its token", NULL);
        goto out;
    }

    while (!atomic_load(&in->stop)) {
        if (in->state == ISTATE_DELETED) break;
        if (in->state == ISTATE_PAUSED) {
            enum integ_round r = stay_paused(in);
            if (r == ROUND_STOPPED) break;
            if (r == ROUND_DELETED) goto out;
            continue;
        }
        integ_rearm_cut(in);                    /* a cut that ended the last round is spent */
        int64_t round_start;
        enum integ_round r = run_round(in, &round_start);
        integ_wait_clear(in);                   /* whatever it waited on, the round is over */
        /* A round that ran a while was a recovery: the next outage starts
         * its backoff afresh instead of where the last one left off. */
        if (statelog_now_ms() - round_start >= BACKOFF_RESET_MS) {
            backoff = BACKOFF_MIN_MS;
            if (in->retry_attempt) integ_retry_set(in, 0, 0);
            if (r != ROUND_POSITION_LOST) in->position_lost = 0;   /* it streamed: found again */
        }
        /* Stopped while a call was given up (a dead link, pgwait.h), or
         * ended by the stop itself, which cuts every link of the
         * integration's (runtime.c, stop_one) so that a read blocked on a
         * frozen one ends: a stop, not a failure, and not news for the
         * operator — the error is what the cut made of the call under way.
         * The checkpoint in the target is where it resumes. */
        if (r == ROUND_ERROR && atomic_load(&in->stop)) {
            integ_log(in, STATELOG_INFO, NULL, "stop", "stopping: the stop cut the call under way (%s); the next "
                      "start resumes from the target's checkpoint", in->err[0] ? in->err : "round ended");
            r = ROUND_STOPPED;
        }
        if (in->tgt && r != ROUND_STOPPED && r != ROUND_PAUSED) {
            target_close(in->tgt);
            in->tgt = NULL;
        }
        if (r == ROUND_ERROR && in->retry_cmd_end != ROUND_NONE) r = in->retry_cmd_end;  /* target_retry.c */
        in->retry_cmd_end = ROUND_NONE;
        if (r == ROUND_LEASE_LOST) {
            if (in->tgt) target_close(in->tgt);
            in->tgt = NULL;
            integ_ha_lost(in);
            backoff = BACKOFF_MIN_MS;
            continue;                           /* stand by */
        }
        if (r == ROUND_RESNAPSHOT) backoff = BACKOFF_MIN_MS;
        if (r == ROUND_RESYNC || r == ROUND_TABLE_FAILED || r == ROUND_RESNAPSHOT)
            continue;                           /* the next round, at once */
        if (r == ROUND_DELETED) {
            if (integ_finish_delete(in) == ROUND_DELETED) goto out;
            r = ROUND_ERROR;
        }
        switch (r) {
        case ROUND_STOPPED: goto stopped;
        case ROUND_PAUSED: backoff = BACKOFF_MIN_MS; continue;
        case ROUND_POSITION_LOST:
            /* Retrying keeps failing until the operator re-snapshots: a
             * table resync alone would stream from the lost position again,
             * so while it is lost a resync re-snapshots (commands.c). */
            in->position_lost = 1;
            integ_set_state(in, ISTATE_FAILED, in->err, NULL);
            for (int i = 0; i < in->ntables; i++)
                integ_set_table_state(in, &in->tables[i], TSTATE_RESYNC_REQUIRED,
                                      "the source log no longer has the checkpoint position; a resync (R) "
                                      "re-snapshots the whole integration from a fresh position", NULL);
            break;
        default:
            integ_set_state(in, ISTATE_FAILED, in->err[0] ? in->err : "unknown error", NULL);
            break;
        }
        enum integ_round w = wait_retry(in, backoff, &seed);
        if (w == ROUND_STOPPED) break;
        if (w == ROUND_DELETED) {
            if (integ_finish_delete(in) == ROUND_DELETED) goto out;
            continue;
        }
        if (w == ROUND_RESNAPSHOT) backoff = BACKOFF_MIN_MS;
        if (w == ROUND_PAUSED || w == ROUND_RESYNC || w == ROUND_RESNAPSHOT) continue;
        backoff = backoff_next(backoff);    /* a retry asked for keeps the backoff growing too */
    }
stopped:
    integ_log(in, STATELOG_INFO, NULL, "stop", "stopped");
out:
    if (in->tgt) target_close(in->tgt);
    in->tgt = NULL;
    integ_ha_free(in);                  /* the lease goes: a standby takes over at once */
    integ_free_tables(in);
    integ_record_runner(in, 1);     /* a clean stop: readers know exactly since when */
    statelog_close(in->sl);
    in->sl = NULL;
    if (in->state == ISTATE_DELETED) atomic_store(&in->ended_deleted, 1);
    atomic_store(&in->done, 1);
    return NULL;
}
