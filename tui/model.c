/* model.c — the data thread and the snapshots; see model.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/base/clock.h"
#include "runtime/log/liveness.h"
#include "runtime/log/lock.h"
#include "runtime/check/preflight.h"
#include "runtime/source/source.h"
#include "runtime/source/source_ops.h"
#include "tui/model.h"

#define MAX_PENDING 32
#define CMDQ 64

struct pending {
    int64_t id;
    int64_t sent_at;
    char    text[200];          /* "pause my" */
    char    integ[128];
};

struct qcmd {
    char integ[128];
    char table[256];
    enum zcmd cmd;
};

struct model {
    const struct config *cfg;
    char     log_path[4096];
    char     actor[200];
    int      wake_fd;
    pthread_t thread;
    int      started;

    pthread_mutex_t mu;         /* guards everything below */
    pthread_cond_t  cv;
    int      stop, poke;
    struct snapshot *cur;       /* newest published */
    uint64_t gen;
    char     focus[128];
    struct qcmd q[CMDQ];
    int      nq;
    char     status[512];
    /* preflight */
    pthread_t pf_thread;
    int      pf_started, pf_running;
    char     pf_integ[128];
    char    *pf_text;
    char     pf_title[160];
    uint64_t extra_gen;         /* bumps on status/report changes */
    /* data thread only: who holds each configured integration's lock */
    long    *holder;            /* per config integration, 0 none */
    int64_t  probed_at;         /* ms epoch of the last probe */
};

/* Probing a lock takes it shared for an instant, and a `zetl run` starting in
 * that instant would find it held; so probe rarely (every MODEL_PROBE_MS). */
#define MODEL_PROBE_MS 5000

static void probe_locks(struct model *m, int64_t now)
{
    if (m->probed_at && now - m->probed_at < MODEL_PROBE_MS) return;
    m->probed_at = now;
    for (int i = 0; i < m->cfg->nintegrations; i++) {
        pid_t pid = 0;
        char err[256];
        m->holder[i] = lock_holder_pid(m->cfg->state_dir, m->cfg->integrations[i].name, &pid, NULL, 0,
                                       err, sizeof err) == 1 ? (long)pid : 0;
    }
}

/* ---- snapshots ---------------------------------------------------------- */

static void snapshot_free(struct snapshot *s)
{
    if (!s) return;
    statelog_free_integrations(s->integ, s->nalloc);
    free(s->ext);
    statelog_free_activity(s->act, s->nact);
    statelog_free_lag(s->lag);
    statelog_free_events(s->ev, s->nev);
    free(s->report);
    free(s);
}

const struct snapshot *model_acquire(struct model *m)
{
    pthread_mutex_lock(&m->mu);
    struct snapshot *s = m->cur;
    if (s) s->refs++;
    pthread_mutex_unlock(&m->mu);
    return s;
}

void model_release(struct model *m, const struct snapshot *cs)
{
    if (!cs) return;
    struct snapshot *s = (struct snapshot *)cs;
    pthread_mutex_lock(&m->mu);
    int last = --s->refs == 0;
    pthread_mutex_unlock(&m->mu);
    if (last) snapshot_free(s);
}

/* ---- fingerprint -------------------------------------------------------- */

static void h_bytes(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) { *h ^= b[i]; *h *= 1099511628211ULL; }
}
static void h_str(uint64_t *h, const char *s) { if (s) h_bytes(h, s, strlen(s) + 1); else h_bytes(h, "\1", 1); }
static void h_i64(uint64_t *h, int64_t v) { h_bytes(h, &v, sizeof v); }

static uint64_t fingerprint(const struct snapshot *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < s->ninteg; i++) {
        const struct statelog_integration *in = &s->integ[i];
        h_str(&h, in->name); h_str(&h, in->state); h_str(&h, in->reason);
        h_str(&h, in->position); h_i64(&h, in->lag_ms); h_i64(&h, in->bytes_behind);
        h_i64(&h, in->updated_at);
        h_str(&h, in->src.position); h_i64(&h, in->src.bytes_between); h_i64(&h, in->src.expire_s);
        h_i64(&h, s->ext[i].attached); h_i64(&h, s->ext[i].holder_pid);
        h_str(&h, in->wait.kind); h_str(&h, in->wait.detail);
        h_i64(&h, in->retry_attempt); h_i64(&h, in->retry_at);
        /* ha: a member joining or leaving the standbys changes nothing else */
        h_str(&h, in->ha_role); h_str(&h, in->ha_holder); h_i64(&h, in->ha_holder_pid);
        h_i64(&h, in->ha_epoch); h_str(&h, in->ha_standbys);
        /* not the heartbeat of a running one: an idle log must not wake the console */
        h_i64(&h, s->ext[i].live.running); h_i64(&h, s->ext[i].live.started_at);
        h_i64(&h, s->ext[i].live.stopped_at); h_i64(&h, s->ext[i].live.running ? 0 : s->ext[i].live.seen_at);
        h_bytes(&h, s->ext[i].spark, sizeof s->ext[i].spark);
        h_i64(&h, (int64_t)(s->ext[i].rows_per_s * 10));
        for (size_t t = 0; t < in->ntables; t++) {
            h_str(&h, in->tables[t].name);
            h_str(&h, in->tables[t].state);
            h_i64(&h, in->tables[t].updated_at);
            h_i64(&h, (int64_t)in->tables[t].copy_rows_per_s);     /* moves with the clock */
        }
    }
    h_str(&h, s->focus);
    h_i64(&h, s->nact ? s->act[0].id : 0);
    h_i64(&h, s->nlag ? s->lag[0].at : 0);
    h_i64(&h, (int64_t)s->nlag);
    h_i64(&h, s->nev ? s->ev[0].id : 0);
    h_str(&h, s->status); h_str(&h, s->error);
    h_str(&h, s->report); h_i64(&h, s->report_running);
    return h;
}

/* ---- reading the log ---------------------------------------------------- */

static int configured(const struct config *cfg, const char *name)
{
    return config_find(cfg, name) != NULL;
}

static void fill_ext(struct model *m, struct statelog *sl, struct snapshot *s, int64_t now)
{
    for (size_t i = 0; i < s->ninteg; i++) {
        struct snap_integ *x = &s->ext[i];
        const char *name = s->integ[i].name;
        const struct config_integration *ci = config_find(m->cfg, name);
        x->configured = ci != NULL;
        const struct source_ops *d = ci ? source_driver(ci->source.kind) : NULL;
        x->source_slot = d && d->keeps_slot;
        if (x->source_slot) {
            snprintf(x->slot, sizeof x->slot, "%s", ci->source.slot ? ci->source.slot : "");
            snprintf(x->publication, sizeof x->publication, "%s",
                     ci->source.publication ? ci->source.publication : "");
        }
        for (int k = 0; ci && k < m->cfg->nintegrations; k++)
            if (&m->cfg->integrations[k] == ci && m->holder[k]) {
                x->holder_pid = m->holder[k];
                x->attached = m->holder[k] != (long)getpid();
            }
        /* Nobody holds its lock: what the log says is only what the last
         * runner wrote, so the views show "stopped" (liveness.h). */
        liveness_fill(&x->live, sl, name, x->holder_pid, NULL);
        /* A copy's rows/s and ETA are the log's (statelog.h "Copy progress"),
         * as `zetl status` shows them; nobody runs it: nothing copies now. */
        for (size_t t = 0; !x->live.running && t < s->integ[i].ntables; t++) {
            s->integ[i].tables[t].copy_rows_per_s = -1;
            s->integ[i].tables[t].copy_eta_s = -1;
        }
        const char *shown = liveness_state(&x->live, s->integ[i].state);
        char *stopped;
        if (ci && shown != s->integ[i].state && (stopped = strdup(shown))) {
            snprintf(x->last_state, sizeof x->last_state, "%s", s->integ[i].state);
            free(s->integ[i].state);
            s->integ[i].state = stopped;
        }
        for (int b = 0; b < MODEL_SPARK_N; b++) x->spark[b] = -1;
        struct statelog_lag_sample *lag = NULL;
        size_t nlag = 0;
        if (statelog_lag_since(sl, name, now - MODEL_SPARK_MS, &lag, &nlag) == 0) {
            int64_t bucket_ms = MODEL_SPARK_MS / MODEL_SPARK_N;
            for (size_t k = 0; k < nlag; k++) {
                int64_t age = now - lag[k].at;
                int b = MODEL_SPARK_N - 1 - (int)(age / bucket_ms);
                if (b < 0 || b >= MODEL_SPARK_N) continue;
                int64_t v = lag[k].lag_max_ms > lag[k].lag_ms ? lag[k].lag_max_ms : lag[k].lag_ms;
                if (v > x->spark[b]) x->spark[b] = v;
            }
            statelog_free_lag(lag);
        }
        struct statelog_activity *a = NULL;
        size_t na = 0;
        if (statelog_recent_activity(sl, name, 200, &a, &na) == 0) {
            int64_t rows = 0;
            for (size_t k = 0; k < na; k++)
                if (now - a[k].at <= 10000) rows += a[k].inserted + a[k].updated + a[k].deleted;
            x->rows_per_s = (double)rows / 10.0;
            statelog_free_activity(a, na);
        }
    }
}

static struct snapshot *read_snapshot(struct model *m, struct statelog *sl, const char *focus)
{
    struct snapshot *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    int64_t now = statelog_now_ms();
    s->taken_at = now;
    struct statelog_integration *all = NULL;
    size_t nall = 0;
    if (statelog_list_integrations(sl, NULL, &all, &nall) != 0) {
        snprintf(s->error, sizeof s->error, "reading the state log: %s", statelog_error(sl));
        return s;
    }
    /* keep the integrations of this config, in the log's (name) order */
    size_t keep = 0;
    for (size_t i = 0; i < nall; i++) {
        if (configured(m->cfg, all[i].name)) {
            if (keep != i) {
                struct statelog_integration tmp = all[keep];
                all[keep] = all[i];
                all[i] = tmp;
            }
            keep++;
        }
    }
    s->nalloc = nall;   /* the others stay allocated past ninteg, freed with it */
    s->integ = all;
    s->ninteg = keep;
    s->ext = calloc(keep ? keep : 1, sizeof *s->ext);
    if (!s->ext) { snprintf(s->error, sizeof s->error, "out of memory"); return s; }
    probe_locks(m, now);
    fill_ext(m, sl, s, now);

    snprintf(s->focus, sizeof s->focus, "%s", focus[0] ? focus : keep ? all[0].name : "");
    if (s->focus[0]) {
        if (statelog_recent_activity(sl, s->focus, MODEL_ACTIVITY, &s->act, &s->nact) != 0)
            s->nact = 0;
        if (statelog_lag_since(sl, s->focus, now - MODEL_LAG_MS, &s->lag, &s->nlag) != 0)
            s->nlag = 0;
    }
    if (statelog_recent_events(sl, NULL, MODEL_EVENTS, &s->ev, &s->nev) != 0) s->nev = 0;
    return s;
}

/* Send queued commands, follow the pending ones. Called without m->mu. */
static void run_commands(struct model *m, struct statelog *sl, struct qcmd *q, int nq,
                         struct pending *pend, int *npend)
{
    char msg[512] = "";
    for (int i = 0; i < nq; i++) {
        int64_t id = 0;
        const char *tbl = q[i].table[0] ? q[i].table : NULL;
        /* Nobody runs it (this console included): refuse now rather than
         * leave the command for whoever starts it next (liveness.h). The
         * probe is fresh, and it refreshes what the views show. */
        pid_t pid = 0;
        char lerr[256];
        int held = lock_holder_pid(m->cfg->state_dir, q[i].integ, &pid, NULL, 0, lerr, sizeof lerr);
        for (int k = 0; held >= 0 && k < m->cfg->nintegrations; k++)
            if (strcmp(m->cfg->integrations[k].name, q[i].integ) == 0)
                m->holder[k] = held == 1 ? (long)pid : 0;
        const char *cmd = zcmd_name(q[i].cmd);     /* the queue stores the name */
        if (held == 0) {
            liveness_refusal(q[i].integ, cmd, msg, sizeof msg);
            continue;
        }
        if (statelog_enqueue_command(sl, q[i].integ, tbl, cmd, m->actor, &id) != 0) {
            snprintf(msg, sizeof msg, "%s %s: could not queue the command: %s", cmd, q[i].integ,
                     statelog_error(sl));
            continue;
        }
        snprintf(msg, sizeof msg, "%s %s%s%s: sent, waiting for the runtime", cmd, q[i].integ,
                 tbl ? " " : "", tbl ? tbl : "");
        if (*npend < MAX_PENDING) {
            struct pending *p = &pend[(*npend)++];
            p->id = id;
            p->sent_at = statelog_now_ms();
            snprintf(p->integ, sizeof p->integ, "%s", q[i].integ);
            snprintf(p->text, sizeof p->text, "%.15s %.100s%s%.70s", cmd, q[i].integ, tbl ? " " : "", tbl ? tbl : "");
        }
    }
    for (int i = 0; i < *npend;) {
        struct statelog_command *c = NULL;
        int drop = 0;
        if (statelog_get_command(sl, pend[i].id, &c) != 0) {
            drop = 1;
        } else if (c->done_at) {
            snprintf(msg, sizeof msg, "%s: %s", pend[i].text, c->result ? c->result : "done");
            drop = 1;
        } else if (!c->claimed_at && statelog_now_ms() - pend[i].sent_at > 5000) {
            long pid = 0;
            for (int k = 0; k < m->cfg->nintegrations; k++)
                if (strcmp(m->cfg->integrations[k].name, pend[i].integ) == 0) pid = m->holder[k];
            if (!pid) {
                snprintf(msg, sizeof msg, "%s: not picked up — no zetl process runs integration %s "
                         "(it expires unapplied when one starts)", pend[i].text, pend[i].integ);
                drop = 1;
            }
        }
        statelog_free_commands(c, c ? 1 : 0);
        if (drop) pend[i] = pend[--*npend];
        else i++;
    }
    if (msg[0]) {
        pthread_mutex_lock(&m->mu);
        snprintf(m->status, sizeof m->status, "%s", msg);
        pthread_mutex_unlock(&m->mu);
    }
}

static void *data_main(void *arg)
{
    struct model *m = arg;
    struct statelog *sl = NULL;
    struct pending pend[MAX_PENDING];
    int npend = 0;
    uint64_t last_fp = 0;
    char err[512] = "";

    for (;;) {
        struct qcmd q[CMDQ];
        int nq;
        char focus[128];
        pthread_mutex_lock(&m->mu);
        if (m->stop) { pthread_mutex_unlock(&m->mu); break; }
        nq = m->nq;
        memcpy(q, m->q, (size_t)nq * sizeof q[0]);
        m->nq = 0;
        snprintf(focus, sizeof focus, "%s", m->focus);
        pthread_mutex_unlock(&m->mu);

        if (!sl && statelog_open(&sl, m->log_path, err, sizeof err) != 0) sl = NULL;
        struct snapshot *s = NULL;
        if (sl) {
            run_commands(m, sl, q, nq, pend, &npend);
            s = read_snapshot(m, sl, focus);
        } else {
            s = calloc(1, sizeof *s);
            if (s) snprintf(s->error, sizeof s->error, "cannot open the state log: %.480s", err);
        }
        if (s) {
            pthread_mutex_lock(&m->mu);
            snprintf(s->status, sizeof s->status, "%s", m->status);
            s->report_running = m->pf_running;
            if (m->pf_text) s->report = strdup(m->pf_text);
            snprintf(s->report_title, sizeof s->report_title, "%s", m->pf_title);
            pthread_mutex_unlock(&m->mu);
            uint64_t fp = fingerprint(s);
            if (fp != last_fp) {
                last_fp = fp;
                pthread_mutex_lock(&m->mu);
                s->gen = ++m->gen;
                s->refs = 1;
                struct snapshot *old = m->cur;
                m->cur = s;
                int free_old = old && --old->refs == 0;
                pthread_mutex_unlock(&m->mu);
                if (free_old) snapshot_free(old);
                ssize_t w = write(m->wake_fd, "s", 1);
                (void)w;   /* a full pipe already holds a wake-up */
            } else {
                snapshot_free(s);
            }
        }

        pthread_mutex_lock(&m->mu);
        if (!m->stop && !m->poke) {
            long ms = npend ? 150 : MODEL_REFRESH_MS;
            struct timespec ts = zclock_deadline(CLOCK_REALTIME, ms);
            pthread_cond_timedwait(&m->cv, &m->mu, &ts);
        }
        m->poke = 0;
        pthread_mutex_unlock(&m->mu);
    }
    statelog_close(sl);
    return NULL;
}

/* ---- preflight ---------------------------------------------------------- */

static void *preflight_main(void *arg)
{
    struct model *m = arg;
    char name[128];
    pthread_mutex_lock(&m->mu);
    snprintf(name, sizeof name, "%s", m->pf_integ);
    pthread_mutex_unlock(&m->mu);

    const struct config_integration *ci = config_find(m->cfg, name);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f) {
        if (!ci) {
            fprintf(f, "integration %s is not in the config\n", name);
        } else {
            /* The very routine `zetl check` runs: source, target names, target. */
            preflight_integration(m->cfg, ci, f, NULL, NULL);
        }
        fclose(f);
    }
    pthread_mutex_lock(&m->mu);
    free(m->pf_text);
    m->pf_text = text ? text : strdup("preflight: out of memory\n");
    m->pf_running = 0;
    m->poke = 1;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

void model_preflight(struct model *m, const char *integration)
{
    pthread_mutex_lock(&m->mu);
    if (m->pf_running) { pthread_mutex_unlock(&m->mu); return; }
    pthread_mutex_unlock(&m->mu);
    if (m->pf_started) { pthread_join(m->pf_thread, NULL); m->pf_started = 0; }
    pthread_mutex_lock(&m->mu);
    snprintf(m->pf_integ, sizeof m->pf_integ, "%s", integration);
    snprintf(m->pf_title, sizeof m->pf_title, "Preflight checks: %s", integration);
    free(m->pf_text);
    m->pf_text = NULL;
    m->pf_running = 1;
    pthread_mutex_unlock(&m->mu);
    if (pthread_create(&m->pf_thread, NULL, preflight_main, m) == 0) {
        m->pf_started = 1;
    } else {
        pthread_mutex_lock(&m->mu);
        m->pf_running = 0;
        m->pf_text = strdup("preflight: cannot start its thread\n");
        pthread_mutex_unlock(&m->mu);
    }
    model_poke(m);
}

void model_clear_report(struct model *m)
{
    pthread_mutex_lock(&m->mu);
    free(m->pf_text);
    m->pf_text = NULL;
    m->pf_title[0] = '\0';
    m->poke = 1;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

/* ---- control ------------------------------------------------------------ */

void model_poke(struct model *m)
{
    pthread_mutex_lock(&m->mu);
    m->poke = 1;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

void model_set_focus(struct model *m, const char *integration)
{
    pthread_mutex_lock(&m->mu);
    int changed = strcmp(m->focus, integration ? integration : "") != 0;
    snprintf(m->focus, sizeof m->focus, "%s", integration ? integration : "");
    if (changed) { m->poke = 1; pthread_cond_signal(&m->cv); }
    pthread_mutex_unlock(&m->mu);
}

void model_command(struct model *m, const char *integration, const char *table, enum zcmd command)
{
    pthread_mutex_lock(&m->mu);
    if (m->nq < CMDQ) {
        struct qcmd *c = &m->q[m->nq++];
        snprintf(c->integ, sizeof c->integ, "%s", integration);
        snprintf(c->table, sizeof c->table, "%s", table ? table : "");
        c->cmd = command;
    } else {
        snprintf(m->status, sizeof m->status, "too many commands queued; try again");
    }
    m->poke = 1;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

int model_start(struct model **out, const struct config *cfg, const char *log_path,
                int wake_fd, const char *actor, char *err, size_t errlen)
{
    struct model *m = calloc(1, sizeof *m);
    if (!m) { snprintf(err, errlen, "out of memory"); return -1; }
    m->cfg = cfg;
    m->wake_fd = wake_fd;
    snprintf(m->log_path, sizeof m->log_path, "%s", log_path);
    snprintf(m->actor, sizeof m->actor, "%s", actor);
    m->holder = calloc((size_t)cfg->nintegrations + 1, sizeof *m->holder);
    if (!m->holder) { snprintf(err, errlen, "out of memory"); free(m); return -1; }
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    if (pthread_create(&m->thread, NULL, data_main, m) != 0) {
        snprintf(err, errlen, "console: cannot start the data thread: %s", strerror(errno));
        free(m->holder);
        free(m);
        return -1;
    }
    m->started = 1;
    *out = m;
    return 0;
}

void model_stop(struct model *m)
{
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    m->stop = 1;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    if (m->started) pthread_join(m->thread, NULL);
    if (m->pf_started) pthread_join(m->pf_thread, NULL);
    if (m->cur && --m->cur->refs == 0) snapshot_free(m->cur);
    free(m->pf_text);
    free(m->holder);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    free(m);
}
