/* monitor.c — the alerts and metrics thread (see monitor.h). */
#include "runtime/watch/monitor.h"
#include "runtime/base/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/watch/alerts.h"
#include "runtime/watch/metrics.h"
#include "runtime/log/runlog.h"
#include "runtime/log/statelog.h"
#include "runtime/watch/webhook.h"

#define EVENTS_PER_POLL 1000    /* new events read per poll; more are counted at the next */

struct counts {
    int64_t errors;             /* error-level events since the start */
    int64_t reconnects;         /* "retry" events since the start */
};

struct monitor {
    pthread_t       thread;
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    int             stop;

    const struct config_integration **igs;
    int             nigs;
    struct counts  *counts;     /* indexed like igs */
    char           *metrics_file;
    int             log_stderr;
    char            log_path[4096];

    /* the monitor thread's own */
    struct statelog *sl;
    int64_t         cursor;     /* the newest event already counted */
    struct alerts  *alerts;
    struct webhook *wh;
    int             metrics_failing;
    int             log_failing;
    int64_t         last_metrics_ms;    /* zclock_mono_ms() of the last write */
    int             wrote_metrics;
};

/* A problem of the monitor itself: stderr (zetl run) and the log. */
#define say(m, lvl, kind, ...) runlog_event((m)->sl, (m)->log_stderr, lvl, NULL, kind, __VA_ARGS__)

static int watched(const struct monitor *m, const char *name)
{
    for (int i = 0; name && i < m->nigs; i++)
        if (!strcmp(m->igs[i]->name, name))
            return i;
    return -1;
}

/* The newest event id, where counting starts. */
static int64_t newest_event(struct statelog *sl)
{
    struct statelog_event *ev = NULL;
    size_t n = 0;
    int64_t id = 0;
    if (statelog_recent_events(sl, NULL, 1, &ev, &n) == 0 && n == 1)
        id = ev[0].id;
    statelog_free_events(ev, n);
    return id;
}

static void count_events(struct monitor *m)
{
    struct statelog_event *ev = NULL;
    size_t n = 0;

    if (statelog_recent_events(m->sl, NULL, EVENTS_PER_POLL, &ev, &n) != 0)
        return;
    int64_t newest = m->cursor;
    /* newest first: count back to the cursor, then move it */
    for (size_t i = 0; i < n && ev[i].id > m->cursor; i++) {
        int k = watched(m, ev[i].integration);
        if (ev[i].id > newest)
            newest = ev[i].id;
        if (k < 0)
            continue;
        if (ev[i].level && !strcmp(ev[i].level, "error"))
            m->counts[k].errors++;
        if (ev[i].kind && !strcmp(ev[i].kind, "retry"))
            m->counts[k].reconnects++;
    }
    m->cursor = newest;
    statelog_free_events(ev, n);
}

static void emit(void *ctx, struct alert_msg *msg)
{
    webhook_post(ctx, msg);
}

static void write_metrics(struct monitor *m, const struct statelog_integration *v, size_t n)
{
    struct metrics_integration *mi = calloc(n + 1, sizeof *mi);
    struct metrics_input in = { .v = mi, .version = ZETL_VERSION };
    char *text = NULL, err[1024];
    size_t len = 0;
    FILE *f;

    if (!mi)
        return;
    for (size_t i = 0; i < n; i++) {
        int k = watched(m, v[i].name);
        if (k < 0)
            continue;
        mi[in.n++] = (struct metrics_integration){ .st = &v[i], .lag_ms = v[i].lag_ms,
            .errors = m->counts[k].errors, .reconnects = m->counts[k].reconnects };
    }
    webhook_counts(m->wh, &in.alerts_sent, &in.alerts_failed);
    f = open_memstream(&text, &len);
    int rc = f ? metrics_format(f, &in) : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc != 0) {
        snprintf(err, sizeof err, "metrics file %s: out of memory formatting it", m->metrics_file);
    } else {
        rc = metrics_write_file(m->metrics_file, text, len, err, sizeof err);
    }
    if (rc != 0 && !m->metrics_failing)
        say(m, STATELOG_WARNING, "metrics", "%s (retrying every %d s)", err, MONITOR_METRICS_MS / 1000);
    else if (rc == 0 && m->metrics_failing)
        say(m, STATELOG_INFO, "metrics", "metrics file %s is written again", m->metrics_file);
    m->metrics_failing = rc != 0;
    free(text);
    free(mi);
}

static int metrics_due(struct monitor *m, int final)
{
    int64_t now = zclock_mono_ms(), ms = now - m->last_metrics_ms;
    if (!m->metrics_file || (m->wrote_metrics && !final && ms < MONITOR_METRICS_MS))
        return 0;
    m->last_metrics_ms = now;
    m->wrote_metrics = 1;
    return 1;
}

static void poll_once(struct monitor *m, int final)
{
    struct statelog_integration *v = NULL;
    size_t n = 0;
    char err[512];

    if (!m->sl) {
        if (statelog_open(&m->sl, m->log_path, err, sizeof err) != 0) {
            m->sl = NULL;
            if (!m->log_failing && m->log_stderr)
                fprintf(stderr, "zetl: alerts and metrics: cannot open the state log: %s\n", err);
            m->log_failing = 1;
            return;
        }
        m->cursor = newest_event(m->sl);
    }
    if (statelog_list_integrations(m->sl, NULL, &v, &n) != 0) {
        if (!m->log_failing && m->log_stderr)
            fprintf(stderr, "zetl: alerts and metrics: %s\n", statelog_error(m->sl));
        m->log_failing = 1;
        return;
    }
    m->log_failing = 0;
    int64_t now = statelog_now_ms();
    count_events(m);
    alerts_observe(m->alerts, v, n, now, emit, m->wh);
    if (metrics_due(m, final))
        write_metrics(m, v, n);
    statelog_free_integrations(v, n);
}

static void *monitor_main(void *arg)
{
    pthread_setname_np(pthread_self(), "z-monitor");   /* top -H, gdb */
    struct monitor *m = arg;

    for (;;) {
        pthread_mutex_lock(&m->mu);
        int stop = m->stop;
        pthread_mutex_unlock(&m->mu);
        poll_once(m, stop);
        if (stop)
            break;
        struct timespec ts = zclock_deadline(CLOCK_MONOTONIC, MONITOR_POLL_MS);
        pthread_mutex_lock(&m->mu);
        while (!m->stop && pthread_cond_timedwait(&m->cv, &m->mu, &ts) == 0)
            ;
        pthread_mutex_unlock(&m->mu);
    }
    return NULL;
}

static void monitor_free(struct monitor *m)
{
    if (!m)
        return;
    webhook_stop(m->wh, MONITOR_DRAIN_MS);
    alerts_free(m->alerts);
    statelog_close(m->sl);
    free(m->metrics_file);
    free(m->counts);
    free(m->igs);
    free(m);
}

int monitor_start(struct monitor **out, const struct monitor_opts *o, char *err, size_t errlen)
{
    char host[128] = "";
    int alerting = 0;

    *out = NULL;
    for (int i = 0; i < o->nigs; i++)
        alerting |= o->igs[i]->alerts.webhook_url != NULL;
    if (!alerting && !o->metrics_file)
        return 0;

    struct monitor *m = calloc(1, sizeof *m);
    if (!m)
        goto oom;
    m->igs = calloc((size_t)o->nigs + 1, sizeof *m->igs);
    m->counts = calloc((size_t)o->nigs + 1, sizeof *m->counts);
    if (!m->igs || !m->counts || (o->metrics_file && !(m->metrics_file = strdup(o->metrics_file))))
        goto oom;
    memcpy(m->igs, o->igs, (size_t)o->nigs * sizeof *m->igs);
    m->nigs = o->nigs;
    m->log_stderr = o->log_stderr;
    snprintf(m->log_path, sizeof m->log_path, "%s/%s", o->cfg->state_dir, STATELOG_FILENAME);
    if (alerting) {
        gethostname(host, sizeof host - 1);
        if (!(m->alerts = alerts_new(o->igs, o->nigs, host)))
            goto oom;
        if (webhook_start(&m->wh, m->log_path, o->log_stderr, err, errlen) != 0)
            goto fail;
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&m->thread, NULL, monitor_main, m) != 0) {
        snprintf(err, errlen, "cannot start the alerts and metrics thread");
        pthread_cond_destroy(&m->cv);
        pthread_mutex_destroy(&m->mu);
        goto fail;
    }
    *out = m;
    return 0;
oom:
    snprintf(err, errlen, "out of memory starting alerts and metrics");
fail:
    monitor_free(m);
    return -1;
}

void monitor_stop(struct monitor *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = 1;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    monitor_free(m);
}
