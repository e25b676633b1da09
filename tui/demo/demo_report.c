/* demo_report.c — a headless demo's status lines and summary (see demo_report.h). */
#include "tui/demo/demo_report.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/log/statelog.h"
#include "runtime/check/verify.h"

#define CATCHUP_S        180    /* after the workload stops: every table synced, lag 0 */
#define VERIFY_ATTEMPTS  3      /* a change in flight when lag read 0 is applied by the next */
#define VERIFY_RETRY_S   3

/* One reading of the state log. */
struct totals {
    int     ntables, nsynced;       /* excluded tables not counted */
    int     ninteg, nactive, nidle; /* idle: active with lag 0 */
    int64_t ins, upd, del;          /* rows applied from the stream */
    char    line[1024];             /* "tickit: active, 7/7 synced, lag 80 ms | shop: ..." */
    char    problems[2048];         /* "tickit.sales resync_required (reason); ..." */
};

void demo_report_init(struct demo_report *r)
{
    memset(r, 0, sizeof *r);
    r->workload.altered_at_s = -1;
}

int64_t demo_report_now_ms(void) { return statelog_now_ms(); }

int demo_report_open(struct demo_report *r, const struct config *cfg, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", cfg->state_dir, STATELOG_FILENAME);
    return statelog_open(&r->sl, path, err, errlen);
}

void demo_report_close(struct demo_report *r)
{
    if (r->sl) statelog_close(r->sl);
    r->sl = NULL;
}

static void append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

static int read_totals(struct statelog *sl, struct totals *t)
{
    memset(t, 0, sizeof *t);
    struct statelog_integration *v = NULL;
    size_t n = 0;
    if (statelog_list_integrations(sl, NULL, &v, &n) != 0) {
        snprintf(t->line, sizeof t->line, "(state log: %s)", statelog_error(sl));
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct statelog_integration *g = &v[i];
        int synced = 0, total = 0;
        for (size_t k = 0; k < g->ntables; k++) {
            const struct statelog_table *tb = &g->tables[k];
            enum tstate ts = tstate_parse(tb->state);
            if (ts == TSTATE_EXCLUDED) continue;
            total++;
            t->ins += tb->inserts;
            t->upd += tb->updates;
            t->del += tb->deletes;
            if (ts == TSTATE_SYNCED) synced++;
            else append(t->problems, sizeof t->problems, "%s%s %s%s%s%s", t->problems[0] ? "; " : "",
                        tb->name, tb->state, tb->reason ? " (" : "", tb->reason ? tb->reason : "",
                        tb->reason ? ")" : "");
        }
        t->ninteg++;
        t->ntables += total;
        t->nsynced += synced;
        int active = istate_parse(g->state) == ISTATE_ACTIVE;
        t->nactive += active;
        t->nidle += active && g->lag_ms == 0;
        append(t->line, sizeof t->line, "%s%s: %s, %d/%d synced", i ? " | " : "", g->name, g->state,
               synced, total);
        if (g->lag_ms >= 0) append(t->line, sizeof t->line, ", lag %lld ms", (long long)g->lag_ms);
        if (!active && g->reason)
            append(t->problems, sizeof t->problems, "%sintegration %s %s (%s)", t->problems[0] ? "; " : "",
                   g->name, g->state, g->reason);
    }
    statelog_free_integrations(v, n);
    return 0;
}

void demo_report_progress(struct demo_report *r, FILE *out, int elapsed_s, struct demo_workload *wl)
{
    struct totals t;
    read_totals(r->sl, &t);
    struct demo_workload_stats ws;
    demo_workload_get_stats(wl, &ws);
    fprintf(out, "  [%3d s] %s | applied %lld rows (sources changed %lld)\n", elapsed_s, t.line,
            (long long)(t.ins + t.upd + t.del), (long long)(ws.inserts + ws.updates + ws.deletes));
    fflush(out);
}

static void pause_s(double s, const volatile sig_atomic_t *cancel)
{
    for (int i = 0; i < (int)(s * 10) && !*cancel; i++) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static int64_t pct(const int64_t *v, size_t n, int p)
{
    size_t rank = (n * (size_t)p + 99) / 100;
    return v[rank ? rank - 1 : 0];
}

/* Lag samples of every integration since r->started_at: "p50 N ms, p99 N ms (K samples)". */
static void lag_summary(struct demo_report *r, const struct config *cfg, char *buf, size_t len)
{
    int64_t *all = NULL;
    size_t nall = 0;
    char per[512] = "";
    for (int i = 0; i < cfg->nintegrations; i++) {
        struct statelog_lag_sample *s = NULL;
        size_t n = 0;
        const char *name = cfg->integrations[i].name;
        if (statelog_lag_since(r->sl, name, r->started_at, &s, &n) != 0 || n == 0) {
            statelog_free_lag(s);
            continue;
        }
        int64_t *grown = realloc(all, (nall + n) * sizeof *all);
        if (!grown) { statelog_free_lag(s); break; }
        all = grown;
        for (size_t k = 0; k < n; k++) all[nall + k] = s[k].lag_ms;
        qsort(all + nall, n, sizeof *all, cmp_i64);
        append(per, sizeof per, "%s%s p50 %lld ms, p99 %lld ms", per[0] ? "; " : "", name,
               (long long)pct(all + nall, n, 50), (long long)pct(all + nall, n, 99));
        nall += n;
        statelog_free_lag(s);
    }
    if (nall == 0) {
        snprintf(buf, len, "no samples");
    } else {
        qsort(all, nall, sizeof *all, cmp_i64);
        snprintf(buf, len, "p50 %lld ms, p99 %lld ms (%zu samples; %s)", (long long)pct(all, nall, 50),
                 (long long)pct(all, nall, 99), nall, per);
    }
    free(all);
}

/* Verify every integration into text; returns mismatched tables, -1 when verify itself failed. */
static int verify_all(const struct config *cfg, char **text)
{
    size_t len = 0;
    *text = NULL;
    FILE *f = open_memstream(text, &len);
    if (!f) return -1;
    int mismatched = 0, failed = 0;
    for (int i = 0; i < cfg->nintegrations; i++) {
        char err[8192] = "";
        int r = verify_integration(cfg, &cfg->integrations[i], NULL, f, err, sizeof err);
        if (r < 0) {
            fprintf(f, "verify failed: %s\n", err);
            failed = 1;
        } else {
            mismatched += r;
        }
    }
    fclose(f);
    return failed ? -1 : mismatched;
}

static void print_indented(FILE *out, const char *text)
{
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(out, "    %.*s\n", n, p);
        p = nl ? nl + 1 : NULL;
    }
}

static void print_errors(struct demo_report *r, FILE *out)
{
    struct statelog_event_filter f = {.integration = NULL, .table = NULL, .min_level = STATELOG_ERROR};
    struct statelog_event *ev = NULL;
    size_t n = 0;
    if (statelog_recent_events(r->sl, &f, 5, &ev, &n) != 0 || n == 0) return;
    fprintf(out, "  recent errors in the state log (newest first):\n");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "    %s%s%s: %s\n", ev[i].integration ? ev[i].integration : "zetl",
                ev[i].table ? " " : "", ev[i].table ? ev[i].table : "", ev[i].message);
    statelog_free_events(ev, n);
}

int demo_report_finish(struct demo_report *r, const struct config *cfg, int seconds,
                       const volatile sig_atomic_t *cancel, FILE *out)
{
    struct totals t;
    time_t start = time(NULL), said = start;
    for (;;) {
        int ok = read_totals(r->sl, &t) == 0 && t.ntables > 0 && t.nsynced == t.ntables &&
                 t.nactive == t.ninteg && t.nidle == t.ninteg;
        if (ok || *cancel || time(NULL) - start >= CATCHUP_S) break;
        if (time(NULL) - said >= 10) {
            fprintf(out, "  catching up: %s\n", t.line);
            fflush(out);
            said = time(NULL);
        }
        pause_s(0.25, cancel);
    }
    if (*cancel) return 1;
    int caught_up = t.ntables > 0 && t.nsynced == t.ntables && t.nidle == t.ninteg;
    fprintf(out, "zetl demo: %s after %ld s: %s\n", caught_up ? "caught up" : "NOT caught up",
            (long)(time(NULL) - start), t.line);

    char *text = NULL;
    int mismatched = -1, attempt = 0;
    while (attempt < VERIFY_ATTEMPTS && !*cancel) {
        attempt++;
        free(text);
        mismatched = verify_all(cfg, &text);
        if (mismatched == 0 || attempt == VERIFY_ATTEMPTS || time(NULL) - start >= CATCHUP_S) break;
        pause_s(VERIFY_RETRY_S, cancel);
    }
    read_totals(r->sl, &t);
    fprintf(out, "zetl demo: verify (source against warehouse, every row)%s:\n",
            attempt > 1 ? " — after a retry: a change was still in flight" : "");
    print_indented(out, text);
    free(text);

    const struct demo_workload_stats *ws = &r->workload;
    char lag[1024];
    lag_summary(r, cfg, lag, sizeof lag);
    fprintf(out, "zetl demo: summary of %d s of live workload\n", seconds);
    fprintf(out, "  tables synced     %d/%d\n", t.nsynced, t.ntables);
    fprintf(out, "  changes applied   inserts %lld, updates %lld, deletes %lld\n",
            (long long)t.ins, (long long)t.upd, (long long)t.del);
    fprintf(out, "  workload made     inserts %lld, updates %lld, deletes %lld (tickit %lld, shop %lld); "
                 "%d burst%s of %d rows; ",
            (long long)ws->inserts, (long long)ws->updates, (long long)ws->deletes,
            (long long)ws->tickit_changes, (long long)ws->shop_changes, ws->bursts,
            ws->bursts == 1 ? "" : "s", DEMO_BURST_ROWS);
    if (ws->altered_at_s >= 0) fprintf(out, "ADD COLUMN tickit.sales.channel at %d s; ", ws->altered_at_s);
    if (ws->errors) fprintf(out, "workload errors %lld (last: %s)\n", (long long)ws->errors, ws->last_error);
    else fprintf(out, "workload errors 0\n");
    fprintf(out, "  lag               %s\n", lag);
    if (mismatched < 0)
        fprintf(out, "  verify            could not run (see above)\n");
    else
        fprintf(out, "  verify            %d/%d tables match\n", t.ntables - mismatched, t.ntables);

    int ok = t.ntables > 0 && t.nsynced == t.ntables && mismatched == 0;
    if (ok) {
        fprintf(out, "zetl demo: OK: every table synced and identical in the warehouse\n");
    } else {
        fprintf(out, "zetl demo: FAILED:%s%s%s%s\n", t.nsynced != t.ntables ? " not synced: " : "",
                t.nsynced != t.ntables ? t.problems : "",
                mismatched != 0 ? (t.nsynced != t.ntables ? "; " : " ") : "",
                mismatched < 0 ? "verify could not run" : mismatched > 0 ? "verify found differences" : "");
        print_errors(r, out);
    }
    fflush(out);
    return ok ? 0 : 1;
}
