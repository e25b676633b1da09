/* sentry.c — see sentry.h. */
#include "runtime/integ/sentry.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "runtime/base/clock.h"
#include "runtime/integ/integ.h"

struct sentry {
    pthread_t      th;
    atomic_int     quit;
    struct integ  *integs;
    int            n;
    char           path[4096];
    struct statelog *sl;
};

/* Is a round-ending command waiting for an integration that is not taking them? */
static int blocked_with_command(struct sentry *s, struct integ *in)
{
    if (atomic_load(&in->done) || atomic_load(&in->cut.fired)) return 0;
    int64_t polled = atomic_load(&in->polled_ms);
    if (polled == 0 || zclock_mono_ms() - polled < SENTRY_QUIET_MS) return 0;
    if (!s->sl) {
        char err[512];
        if (statelog_open(&s->sl, s->path, err, sizeof err) != 0) return 0;   /* tried again next tick */
    }
    return statelog_ending_command_waits(s->sl, in->cfg->name) == 1;
}

static void *sentry_main(void *arg)
{
    pthread_setname_np(pthread_self(), "z-sentry");
    struct sentry *s = arg;
    while (!atomic_load(&s->quit)) {
        for (int i = 0; i < s->n; i++) {
            struct integ *in = &s->integs[i];
            if (blocked_with_command(s, in)) linkcut_fire(&in->cut);
        }
        struct timespec ts = {0, SENTRY_TICK_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    statelog_close(s->sl);
    return NULL;
}

struct sentry *sentry_start(struct integ *integs, int n, const char *state_dir)
{
    struct sentry *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->integs = integs;
    s->n = n;
    snprintf(s->path, sizeof s->path, "%s/%s", state_dir, STATELOG_FILENAME);
    if (pthread_create(&s->th, NULL, sentry_main, s) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

void sentry_stop(struct sentry *s)
{
    if (!s) return;
    atomic_store(&s->quit, 1);
    pthread_join(s->th, NULL);
    free(s);
}
