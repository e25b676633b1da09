/*
 * ha_standby.c — waiting for the lease and taking it (ha.c has the why):
 * a standby contends every TLEASE_BEAT_MS, shown `standby` with the holder
 * named, taking commands meanwhile; the holder starts a round only on a
 * fresh heartbeat.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/base/clock.h"
#include "runtime/integ/ha_int.h"

/* A command gives a waiting lease call up (pgwait's hook), as the target's
 * waits do (integ_target_retry keeps what it asked for). */
static int lease_hook(void *ctx)
{
    return integ_target_retry(ctx, TARGET_RETRY_WAIT, NULL);
}

/* Wait ms, taking commands: what ended the wait, or ROUND_NONE. */
static enum integ_round wait_standby(struct integ *in, int ms)
{
    for (int waited = 0; waited < ms; waited += 100) {
        if (atomic_load(&in->stop)) return ROUND_STOPPED;
        if (waited % 500 == 0) {
            enum integ_round r = integ_poll_commands(in);
            if (r != ROUND_NONE) return r;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return ROUND_NONE;
}

enum integ_round integ_ha_acquire(struct integ *in)
{
    struct iha *h = in->ha;
    if (!h) return ROUND_NONE;
    /* Held: a round starts only on a heartbeat fresh enough that no standby
     * can have taken over since (a process just thawed finds out here, not
     * in the middle of its next round). */
    for (int tick = 0; atomic_load(&in->ha_epoch) > 0; tick++) {
        if (atomic_load(&h->lost) || atomic_load(&h->fenced)) return ROUND_LEASE_LOST;
        if (zclock_mono_ms() - atomic_load(&h->last_ok_ms) < 2 * TLEASE_BEAT_MS) return ROUND_NONE;
        if (atomic_load(&in->stop)) return ROUND_STOPPED;
        if (tick % 5 == 4) {
            enum integ_round r = integ_poll_commands(in);
            if (r != ROUND_NONE && r != ROUND_RETRY) return r;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    char err[700];
    for (;;) {
        if (atomic_load(&in->stop)) return ROUND_STOPPED;
        integ_rearm_cut(in);
        in->retry_cmd_end = ROUND_NONE;
        int r = -1;
        int64_t epoch = 0;
        struct tlease_view v = {0};
        if (!h->tl) {
            struct tlease_opts o = integ_ha_lease_opts(in);
            o.stop = &in->stop;
            o.hook = lease_hook;
            o.hook_ctx = in;
            if (tlease_open(&h->tl, &o, err, sizeof err) != 0) h->tl = NULL;
        }
        if (h->tl) r = tlease_try(h->tl, integ_ha_takeover_s(in), &epoch, &v, err, sizeof err);
        if (in->retry_cmd_end != ROUND_NONE) {      /* a command gave the call up */
            tlease_close(h->tl);
            h->tl = NULL;
            return in->retry_cmd_end;
        }
        pthread_mutex_lock(&h->mu);
        if (r >= 0) h->view = v;
        pthread_mutex_unlock(&h->mu);
        if (r == 1) {
            atomic_store(&h->last_ok_ms, zclock_mono_ms());
            atomic_store(&in->ha_epoch, epoch);
            atomic_store(&h->lost, 0);
            atomic_store(&h->fenced, 0);
            atomic_store(&h->beat_stop, 0);
            if (pthread_create(&h->beat, NULL, integ_ha_beat_main, in) != 0) {
                snprintf(in->err, sizeof in->err, "lease of %s: cannot start the heartbeat thread", in->cfg->name);
                integ_ha_release(in);
                return ROUND_ERROR;
            }
            h->beating = 1;
            h->shown[0] = '\0';
            char from[300] = "";
            if (v.holder[0] && v.epoch)
                snprintf(from, sizeof from, " from %s (pid %d)%s", v.holder, v.holder_pid,
                         v.terminated ? ", whose heartbeat had stopped: its sessions were ended" : "");
            integ_log(in, STATELOG_WARNING, NULL, "lease", "took the lease of %s (epoch %lld)%s; "
                      "this process (%s) runs it now", in->cfg->name, (long long)epoch, from,
                      in->root->ha.member);
            if (in->state == ISTATE_STANDBY)    /* the round says snapshotting if it copies */
                integ_set_state(in, ISTATE_ACTIVE, "took the lease", NULL);
            integ_ha_write_view(in);
            return ROUND_NONE;
        }
        if (r == 2) {
            integ_set_state(in, ISTATE_DELETED, v.holder[0] ? "deleted on another member of its ha group"
                                                             : "deleted on another member", NULL);
            integ_log(in, STATELOG_WARNING, NULL, "lease", "integration %s was deleted by %s: this standby "
                      "stops; remove it from the config", in->cfg->name, v.holder[0] ? v.holder : "another member");
            tlease_close(h->tl);
            h->tl = NULL;
            return ROUND_STOPPED;
        }
        char reason[600];
        if (r == 0)
            snprintf(reason, sizeof reason, "%s (pid %d) runs it (lease epoch %lld); this process takes over "
                     "if its heartbeat stops for %d s", v.holder[0] ? v.holder : "another member",
                     v.holder_pid, (long long)v.epoch, integ_ha_takeover_s(in));
        else
            snprintf(reason, sizeof reason, "cannot contend for the lease: %.500s", err);
        if (r < 0) {
            tlease_close(h->tl);
            h->tl = NULL;
        }
        enum istate want = r == 0 ? ISTATE_STANDBY : ISTATE_FAILED;
        if (in->state != want || strcmp(h->shown, reason) != 0) {
            if (in->state != ISTATE_PAUSED) integ_set_state(in, want, reason, NULL);
            snprintf(h->shown, sizeof h->shown, "%s", reason);
            if (r < 0) snprintf(in->err, sizeof in->err, "%s", reason);
            integ_ha_write_view(in);
        } else if (zclock_mono_ms() - h->written_ms >= 5000) {
            integ_ha_write_view(in);     /* the standbys seen come and go */
        }
        enum integ_round w = wait_standby(in, TLEASE_BEAT_MS);
        if (w != ROUND_NONE) {
            if (w == ROUND_PAUSED || w == ROUND_STOPPED) {
                tlease_close(h->tl);
                h->tl = NULL;
            }
            if (w == ROUND_RETRY || w == ROUND_RESYNC) continue;
            return w;
        }
    }
}

