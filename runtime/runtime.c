/* runtime.c — start and stop the integrations of a config (see runtime.h). */
#include "runtime/runtime.h"

#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/base/clock.h"
#include "runtime/integ/integ.h"
#include "runtime/log/lock.h"
#include "runtime/source/source.h"
#include "runtime/watch/monitor.h"
#include "runtime/integ/sentry.h"

struct runtime {
    struct integ *integs;
    struct lock **locks;
    int n;
    struct monitor *mon;    /* alerts and metrics; NULL when neither is configured */
    struct sentry *sentry;  /* commands for a blocked supervisor (sentry.h) */
};

void runtime_actor(const char *what, char *buf, size_t len)
{
    const char *user = getenv("USER");
    struct passwd *pw = getpwuid(getuid());
    if (pw && pw->pw_name) user = pw->pw_name;
    if (!user) user = "?";
    /* SSH_CLIENT="10.0.0.7 51234 22"; SSH_CONNECTION="10.0.0.7 51234 10.0.0.1 22" */
    const char *ssh = getenv("SSH_CLIENT");
    if (!ssh || !*ssh) ssh = getenv("SSH_CONNECTION");
    char addr[64] = "";
    if (ssh && *ssh) {
        size_t n = strcspn(ssh, " ");
        if (n >= sizeof addr) n = sizeof addr - 1;
        memcpy(addr, ssh, n);
        addr[n] = '\0';
    }
    if (addr[0])
        snprintf(buf, len, "%s%s%s from %s", what ? what : "", what ? " by " : "", user, addr);
    else
        snprintf(buf, len, "%s%s%s", what ? what : "", what ? " by " : "", user);
}

static int runtime_spawn(struct runtime *rt, const struct config *cfg,
                         const struct runtime_opts *o, char *err, size_t errlen);

int runtime_start(struct runtime **out, const struct config *cfg,
                  const struct runtime_opts *o, char *err, size_t errlen)
{
    *out = NULL;
    struct runtime *rt = calloc(1, sizeof *rt);
    if (!rt) goto oom;
    rt->integs = calloc((size_t)cfg->nintegrations + 1, sizeof *rt->integs);
    rt->locks = calloc((size_t)cfg->nintegrations + 1, sizeof *rt->locks);
    if (!rt->integs || !rt->locks) goto oom;

    for (int i = 0; i < cfg->nintegrations; i++) {
        const struct config_integration *ci = &cfg->integrations[i];
        if (o->only && strcmp(o->only, ci->name) != 0) continue;
        char lerr[512];
        if (lock_acquire(&rt->locks[rt->n], cfg->state_dir, ci->name,
                         o->actor ? o->actor : "zetl", lerr, sizeof lerr) != 0) {
            snprintf(err, errlen, "%s", lerr);
            goto fail;
        }
        struct integ *in = &rt->integs[rt->n++];
        in->locked_at = zclock_wall_ms();
        in->cfg = ci;
        in->src = source_driver(ci->source.kind);
        in->root = cfg;
        in->rt = rt;
        in->log_stderr = o->log_stderr;
        linkcut_init(&in->cut);
        linkcut_init(&in->rcut);
        pthread_mutex_init(&in->src_mu, NULL);
        pthread_mutex_init(&in->copy_mu, NULL);
        pthread_cond_init(&in->copy_cv, NULL);
        atomic_store(&in->binlog_expire_s, -1);
        snprintf(in->actor, sizeof in->actor, "%s", o->actor ? o->actor : "zetl");
    }
    if (rt->n == 0) {
        snprintf(err, errlen, o->only ? "no integration named \"%s\" in the config"
                                      : "the config has no integrations%s", o->only ? o->only : "");
        goto fail;
    }
    /* Every runtime thread (and the threads those start) is created with the
     * process signals blocked, so SIGTERM, SIGINT, SIGHUP, SIGPIPE… reach
     * only the caller's thread (cmd_run's handler, the console's loop). */
    sigset_t block, old;
    sigemptyset(&block);
    int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM, SIGCHLD, SIGTSTP, SIGCONT};
    for (size_t k = 0; k < sizeof sigs / sizeof *sigs; k++) sigaddset(&block, sigs[k]);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int started = runtime_spawn(rt, cfg, o, err, errlen);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started != 0) return -1;
    *out = rt;
    return 0;
oom:
    snprintf(err, errlen, "out of memory starting the runtime");
fail:
    runtime_free(rt);
    return -1;
}

/* The monitor and the supervisors (signals blocked by the caller); on
 * failure rt is freed. */
static int runtime_spawn(struct runtime *rt, const struct config *cfg,
                         const struct runtime_opts *o, char *err, size_t errlen)
{
    {
        const struct config_integration **igs = calloc((size_t)rt->n + 1, sizeof *igs);
        if (!igs) goto oom;
        for (int i = 0; i < rt->n; i++) igs[i] = rt->integs[i].cfg;
        struct monitor_opts mo = {.cfg = cfg, .igs = igs, .nigs = rt->n,
                                  .metrics_file = o->metrics_file, .log_stderr = o->log_stderr};
        int mrc = monitor_start(&rt->mon, &mo, err, errlen);
        free(igs);
        if (mrc != 0) goto fail;
    }
    for (int i = 0; i < rt->n; i++) {
        struct integ *in = &rt->integs[i];
        if (pthread_create(&in->thread, NULL, integ_main, in) != 0) {
            snprintf(err, errlen, "integration %s: cannot start its thread", in->cfg->name);
            runtime_stop(rt);
            runtime_free(rt);
            return -1;
        }
        in->started = 1;
    }
    rt->sentry = sentry_start(rt->integs, rt->n, cfg->state_dir);
    return 0;
oom:
    snprintf(err, errlen, "out of memory starting the runtime");
fail:
    runtime_free(rt);
    return -1;
}

/* The flag first, then the cuts: a connection registered after the fire is
 * cut at once, and integ_rearm_cut never re-arms once the flag is set. */
static void stop_one(struct integ *in)
{
    atomic_store(&in->stop, 1);
    linkcut_fire(&in->cut);
    linkcut_fire(&in->rcut);
}

void runtime_request_stop(struct runtime *rt)
{
    for (int i = 0; rt && i < rt->n; i++) stop_one(&rt->integs[i]);
}

void runtime_stop(struct runtime *rt)
{
    if (!rt) return;
    for (int i = 0; i < rt->n; i++) stop_one(&rt->integs[i]);
    for (int i = 0; i < rt->n; i++)
        if (rt->integs[i].started) {
            pthread_join(rt->integs[i].thread, NULL);
            rt->integs[i].started = 0;
        }
    sentry_stop(rt->sentry);
    rt->sentry = NULL;
    monitor_stop(rt->mon);      /* after the joins: its last reading sees the final states */
    rt->mon = NULL;
}

int runtime_alive(struct runtime *rt)
{
    int n = 0;
    for (int i = 0; rt && i < rt->n; i++)
        if (rt->integs[i].started && !atomic_load(&rt->integs[i].done)) n++;
    return n;
}

int runtime_all_deleted(struct runtime *rt)
{
    int n = 0;
    for (int i = 0; rt && i < rt->n; i++)
        if (atomic_load(&rt->integs[i].done) && atomic_load(&rt->integs[i].ended_deleted)) n++;
    return rt && rt->n > 0 && n == rt->n;
}

void runtime_free(struct runtime *rt)
{
    if (!rt) return;
    runtime_stop(rt);
    for (int i = 0; rt->locks && i < rt->n; i++) lock_release(rt->locks[i]);
    for (int i = 0; rt->integs && i < rt->n; i++) {
        linkcut_destroy(&rt->integs[i].cut);
        linkcut_destroy(&rt->integs[i].rcut);
        pthread_mutex_destroy(&rt->integs[i].src_mu);
        pthread_mutex_destroy(&rt->integs[i].copy_mu);
        pthread_cond_destroy(&rt->integs[i].copy_cv);
    }
    free(rt->locks);
    free(rt->integs);
    free(rt);
}
