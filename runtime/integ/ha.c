/*
 * ha.c — active/standby (config `ha:`): this process runs the integration
 * only while it holds the integration's lease in the target
 * (runtime/target/lease.h: an advisory lock to elect, an epoch to fence).
 *
 *   standby   the supervisor contends every TLEASE_BEAT_MS, holding no
 *             source connection (a MySQL replica with the same server_id
 *             would evict the holder's; a PostgreSQL slot serves one
 *             connection), shown `standby` with the holder named; commands
 *             that act on the target are refused and name the holder
 *   holder    a heartbeat thread beats every TLEASE_BEAT_MS on the lease's
 *             own session; every target connection of the round checks the
 *             epoch at each COMMIT (target_opts.fence_epoch)
 *   lost      the epoch moved (a standby took over), the lease session
 *             failed, or no heartbeat got through for takeover_s - 2 s:
 *             the beat thread marks the lease lost and fires the
 *             supervisor's cut; integ_poll_commands ends the round
 *             (ROUND_LEASE_LOST) and the supervisor, having said so,
 *             contends again. A commit that found its epoch moved says the
 *             same through *fenced.
 * Giving the lease up early (self-fencing on a silent link) is only so the
 * source is let go before the next holder connects; what makes a stale
 * holder harmless is the epoch check, which the target enforces.
 *
 * Threads: the supervisor owns struct iha but for the beat thread's fields
 * (the lease session while it runs, the view under mu, lost, epoch).
 */
#include <pthread.h>
#include <stdarg.h>
#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/base/clock.h"
#include "runtime/integ/integ.h"
#include "runtime/integ/ha_int.h"
#include "runtime/target/lease.h"




int integ_ha_enabled(const struct integ *in) { return in->ha != NULL; }

int integ_ha_init(struct integ *in)
{
    if (!in->root->ha.enabled) return 0;
    struct iha *h = calloc(1, sizeof *h);
    if (!h) return -1;
    /* 128 random bits: no two processes anywhere share it (getrandom(2)
     * blocks only before the kernel's pool is seeded, at boot). */
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        free(h);
        return -1;
    }
    for (int i = 0; i < 16; i++) snprintf(h->token + 2 * i, 3, "%02x", rnd[i]);
    pthread_mutex_init(&h->mu, NULL);
    in->ha = h;
    return 0;
}

int64_t integ_ha_epoch(const struct integ *in)
{
    return atomic_load(&in->ha_epoch);
}

atomic_int *integ_ha_fenced(struct integ *in)
{
    return in->ha ? &in->ha->fenced : NULL;
}

/* The state log's ha fields (statelog_set_ha) from what is known now. */
void integ_ha_write_view(struct integ *in)
{
    struct iha *h = in->ha;
    struct tlease_view v;
    pthread_mutex_lock(&h->mu);
    v = h->view;
    h->dirty = 0;
    pthread_mutex_unlock(&h->mu);
    int held = atomic_load(&in->ha_epoch) > 0;
    struct statelog_ha s = {
        .role = held ? "active" : "standby", .member = in->root->ha.member,
        .holder = v.holder[0] ? v.holder : NULL, .holder_pid = v.holder_pid,
        .epoch = held ? atomic_load(&in->ha_epoch) : v.epoch, .standbys = v.standbys,
    };
    statelog_set_ha(in->sl, in->cfg->name, &s);
    h->written_ms = zclock_mono_ms();
}

enum integ_round integ_ha_poll(struct integ *in)
{
    struct iha *h = in->ha;
    if (!h) return ROUND_NONE;
    if (atomic_load(&in->ha_epoch) > 0 && (atomic_load(&h->lost) || atomic_load(&h->fenced)))
        return ROUND_LEASE_LOST;
    pthread_mutex_lock(&h->mu);
    int dirty = h->dirty;
    pthread_mutex_unlock(&h->mu);
    if (dirty && zclock_mono_ms() - h->written_ms >= TLEASE_BEAT_MS) integ_ha_write_view(in);
    return ROUND_NONE;
}

static void lose(struct integ *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lose(struct integ *in, const char *fmt, ...)
{
    struct iha *h = in->ha;
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&h->mu);
    vsnprintf(h->why, sizeof h->why, fmt, ap);
    pthread_mutex_unlock(&h->mu);
    va_end(ap);
    atomic_store(&h->lost, 1);
    /* A source read the supervisor is blocked on ends now (linkcut.h); the
     * applier's own waits end at its next poll (integ_target_retry). */
    linkcut_fire(&in->cut);
}

/* The lease session failed under the heartbeat: a new one, and the lock
 * again if the lease is still ours (tlease_relock). On the beat thread, so
 * no command hook; the beat's stop flag gives its calls up. 1, 0, -1. */
static int relock(struct integ *in, int64_t epoch, struct tlease_view *v, char *err, size_t len)
{
    struct iha *h = in->ha;
    struct tlease *nl = NULL;
    struct tlease_opts o = integ_ha_lease_opts(in);
    o.stop = &h->beat_stop;
    if (tlease_open(&nl, &o, err, len) != 0) return -1;
    int r = tlease_relock(nl, epoch, integ_ha_takeover_s(in), v, err, len);
    if (r < 0) {
        tlease_close(nl);
        return -1;
    }
    pthread_mutex_lock(&h->mu);         /* tlease_cancel reads it from the supervisor */
    struct tlease *old = h->tl;
    h->tl = nl;
    pthread_mutex_unlock(&h->mu);
    tlease_close(old);
    return r;
}

/* The holder's heartbeat, on the lease session, until lost or told to stop. */
void *integ_ha_beat_main(void *arg)
{
    pthread_setname_np(pthread_self(), "z-lease");
    struct integ *in = arg;
    struct iha *h = in->ha;
    int64_t epoch = atomic_load(&in->ha_epoch), last_ok = atomic_load(&h->last_ok_ms);
    int64_t fence_ms = (int64_t)integ_ha_takeover_s(in) * 1000 - 2000;
    char err[600] = "";                 /* why the last heartbeat failed, "" it did not */
    while (!atomic_load(&h->beat_stop)) {
        for (int i = 0; i < TLEASE_BEAT_MS / 100 && !atomic_load(&h->beat_stop) &&
                        !atomic_exchange(&h->beat_now, 0); i++) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (atomic_load(&h->beat_stop)) break;
        /* Silent that long already (failed heartbeats, or the process
         * frozen, the host suspended): a standby may hold it now; let go
         * before asking. */
        if (zclock_mono_ms() - last_ok > fence_ms) {
            long long s = (zclock_mono_ms() - last_ok) / 1000;
            if (err[0])
                lose(in, "no heartbeat reached the target for %lld s (%s): a standby may take over after "
                     "%d s, so this process lets the integration go first", s, err, integ_ha_takeover_s(in));
            else
                lose(in, "this process was silent for %lld s (frozen or suspended): a standby may have "
                     "taken over after %d s", s, integ_ha_takeover_s(in));
            break;
        }
        struct tlease_view v;
        err[0] = '\0';
        int r = tlease_beat(h->tl, epoch, integ_ha_takeover_s(in), &v, err, sizeof err);
        int64_t now = zclock_mono_ms();
        if (r >= 0) {
            pthread_mutex_lock(&h->mu);
            if (memcmp(&v, &h->view, sizeof v) != 0) h->dirty = 1;
            h->view = v;
            pthread_mutex_unlock(&h->mu);
        }
        if (r == 1) {
            last_ok = now;
            atomic_store(&h->last_ok_ms, now);
            continue;
        }
        if (atomic_load(&h->beat_stop)) break;
        if (r < 0 && !atomic_load(&h->beat_stop)) {
            r = relock(in, epoch, &v, err, sizeof err);
            now = zclock_mono_ms();
        }
        if (r == 1) {
            last_ok = zclock_mono_ms();
            atomic_store(&h->last_ok_ms, last_ok);
            continue;
        }
        if (r == 0) {
            if (v.deleted) lose(in, "the integration was deleted by %s", v.holder[0] ? v.holder : "another member");
            else lose(in, "%s (pid %d) took the integration over (epoch %lld; ours was %lld)",
                      v.holder[0] ? v.holder : "another member", v.holder_pid, (long long)v.epoch,
                      (long long)epoch);
            break;
        }
        if (now - last_ok > fence_ms) {
            lose(in, "no heartbeat reached the target for %lld s (%s): a standby may take over after "
                 "%d s, so this process lets the integration go first", (long long)((now - last_ok) / 1000),
                 err, integ_ha_takeover_s(in));
            break;
        }
    }
    return NULL;
}

enum integ_round integ_ha_confirm(struct integ *in)
{
    struct iha *h = in->ha;
    if (!h || atomic_load(&in->ha_epoch) <= 0) return ROUND_NONE;
    int64_t asked = zclock_mono_ms();
    int64_t limit = asked + TLEASE_BEAT_MS + (int64_t)integ_ha_takeover_s(in) * 500 + 1000;
    atomic_store(&h->beat_now, 1);
    while (zclock_mono_ms() < limit && !atomic_load(&in->stop)) {
        if (atomic_load(&h->lost) || atomic_load(&h->fenced)) return ROUND_LEASE_LOST;
        if (atomic_load(&h->last_ok_ms) > asked) return ROUND_NONE;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return ROUND_NONE;
}

/* Stop the heartbeat and close the lease session: the lock goes with it. */
void integ_ha_release(struct integ *in)
{
    struct iha *h = in->ha;
    if (!h) return;
    if (h->beating) {
        atomic_store(&h->beat_stop, 1);
        pthread_mutex_lock(&h->mu);     /* relock may swap the session */
        if (h->tl) tlease_cancel(h->tl);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->beat, NULL);
        h->beating = 0;
    }
    tlease_close(h->tl);
    h->tl = NULL;
    atomic_store(&in->ha_epoch, 0);
    atomic_store(&h->lost, 0);
    atomic_store(&h->fenced, 0);
}

/* The round ended because the lease was lost: say why, once; let it go. */
void integ_ha_lost(struct integ *in)
{
    struct iha *h = in->ha;
    char why[512];
    pthread_mutex_lock(&h->mu);
    snprintf(why, sizeof why, "%s", h->why[0] ? h->why : "a commit found that another member took it over");
    h->why[0] = '\0';
    if (h->view.ours) {         /* lost without seeing who took it: the holder is not known */
        h->view.holder[0] = '\0';
        h->view.holder_pid = 0;
        h->view.ours = 0;
    }
    pthread_mutex_unlock(&h->mu);
    integ_log(in, STATELOG_WARNING, NULL, "lease", "lost the lease of %s (epoch %lld): %s; this process "
              "applies nothing more and stands by", in->cfg->name, (long long)atomic_load(&in->ha_epoch), why);
    integ_ha_release(in);
    integ_ha_write_view(in);            /* role standby now, the new holder as last seen */
}

/* The holder deletes the integration: the lease says so, for the standbys. */
int integ_ha_mark_deleted(struct integ *in, char *err, size_t errlen)
{
    struct iha *h = in->ha;
    if (!h || atomic_load(&in->ha_epoch) <= 0) return 0;
    int64_t epoch = atomic_load(&in->ha_epoch);
    if (h->beating) {           /* the session is the beat thread's: take it back
                                   (within one heartbeat call, under its deadline) */
        atomic_store(&h->beat_stop, 1);
        pthread_join(h->beat, NULL);
        h->beating = 0;
    }
    return tlease_mark_deleted(h->tl, epoch, err, errlen);
}

/* A command that acts on the target, sent to a standby: refused, naming
 * the holder. 1 refused (result says why), 0 go on. */
int integ_ha_refuse(struct integ *in, const char *what, char *result, size_t len)
{
    struct iha *h = in->ha;
    if (!h || atomic_load(&in->ha_epoch) > 0) return 0;
    struct tlease_view v;
    pthread_mutex_lock(&h->mu);
    v = h->view;
    pthread_mutex_unlock(&h->mu);
    snprintf(result, len, "refused: this process (%s) is a standby of %s; %s runs it: send the %s to the "
             "zetl on that host", in->root->ha.member, in->cfg->name, v.holder[0] ? v.holder : "another member",
             what);
    return 1;
}

void integ_ha_free(struct integ *in)
{
    if (!in->ha) return;
    integ_ha_release(in);
    pthread_mutex_destroy(&in->ha->mu);
    free(in->ha);
    in->ha = NULL;
}
