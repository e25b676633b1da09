/*
 * statelog_status.c — `zetl status --json`: the machine-readable status
 * contract of DESIGN.md, printed from the SQLite log. Field names and order
 * follow the contract exactly; fields may be added, never renamed or removed.
 * With a state directory, each integration also says who runs it
 * (liveness.h): state "stopped" when nobody does, the log's own state kept
 * as last_state, and its tables' copies no rate or ETA.
 */
#include "runtime/log/statelog_int.h"
#include "runtime/log/liveness.h"
#include "runtime/base/clock.h"
#include "runtime/base/json.h"

#include <string.h>

/* Bytes that are not UTF-8 become the escape \ufffd (base/json.h). */
void statelog_json_string(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    zjson_string_file(out, s, strlen(s), ZJSON_BYTES_ESCAPE);
}

/* "2026-11-21T10:00:00Z" (seconds precision, UTC), or null for 0. */
static void json_time(FILE *out, int64_t ms)
{
    char buf[32];

    if (ms == 0 || zclock_iso8601(buf, sizeof buf, ms) != 0) {
        fputs("null", out);
        return;
    }
    fprintf(out, "\"%s\"", buf);
}

/* A count, or null when unknown (< 0). */
static void json_int(FILE *out, int64_t v)
{
    if (v < 0)
        fputs("null", out);
    else
        fprintf(out, "%lld", (long long)v);
}

/* A lag, to no more precision than it was measured with: a figure from
 * whole-second timestamps is whole seconds (floored: 0 = under a second). */
static void json_lag(FILE *out, int64_t ms, int64_t res)
{
    if (ms >= 0 && res > 1)
        ms -= ms % res;
    json_int(out, ms);
}

/* "copy": the copy under way (snapshotting, resyncing), or null. stopped:
 * nobody runs the integration, so nothing copies now (no rate, no ETA). */
static void json_copy(FILE *out, const struct statelog_table *t, int stopped)
{
    if (!tstate_copying(tstate_parse(t->state))) {
        fputs("null", out);
        return;
    }
    fprintf(out, "{\"rows\": %lld, \"estimated\": ", (long long)t->rows_copied);
    json_int(out, t->rows_estimated > 0 ? t->rows_estimated : -1);
    fputs(", \"chunks\": ", out);
    json_int(out, t->copy_chunks);
    fputs(", \"rows_per_s\": ", out);
    if (t->copy_rows_per_s < 0 || stopped)
        fputs("null", out);
    else
        fprintf(out, "%.1f", t->copy_rows_per_s);
    fputs(", \"eta_s\": ", out);
    json_int(out, stopped ? -1 : t->copy_eta_s);
    fputs(", \"started_at\": ", out);
    json_time(out, t->copy_started_at);
    putc('}', out);
}

static void json_table(FILE *out, const struct statelog_table *t, int stopped)
{
    fputs("{\"name\": ", out);
    statelog_json_string(out, t->name);
    fputs(", \"target\": ", out);
    statelog_json_string(out, t->target);
    fputs(", \"state\": ", out);
    statelog_json_string(out, t->state);
    fputs(", \"reason\": ", out);
    statelog_json_string(out, t->reason);
    fprintf(out, ", \"rows_copied\": %lld, \"inserts\": %lld, \"updates\": %lld,"
            " \"deletes\": %lld, \"last_applied_at\": ",
            (long long)t->rows_copied, (long long)t->inserts, (long long)t->updates,
            (long long)t->deletes);
    json_time(out, t->last_applied_at);
    fputs(", \"lag_ms\": ", out);
    json_lag(out, t->lag_ms, t->lag_res_ms);
    fputs(", \"copy\": ", out);
    json_copy(out, t, stopped);
    fputs(", \"shape\": ", out);
    statelog_json_string(out, t->shape && t->shape[0] ? t->shape : NULL);
    putc('}', out);
}

/* "wait": what the applier waits on now, or null. */
static void json_wait(FILE *out, const struct statelog_wait *w, int64_t now)
{
    if (!w->kind) {
        fputs("null", out);
        return;
    }
    fputs("{\"kind\": ", out);
    statelog_json_string(out, w->kind);
    fputs(", \"since\": ", out);
    json_time(out, w->since);
    fputs(", \"for_ms\": ", out);
    json_int(out, w->since ? (now > w->since ? now - w->since : 0) : -1);
    fputs(", \"what\": ", out);
    statelog_json_string(out, w->what);
    fputs(", \"detail\": ", out);
    statelog_json_string(out, w->detail);
    fputs(", \"holders\": ", out);
    json_int(out, w->holders);
    fputs(", \"holder\": ", out);
    if (!w->holder_pid) {
        fputs("null}", out);
        return;
    }
    fprintf(out, "{\"pid\": %lld, \"user\": ", (long long)w->holder_pid);
    statelog_json_string(out, w->holder_user);
    fputs(", \"state\": ", out);
    statelog_json_string(out, w->holder_state);
    fputs(", \"since\": ", out);
    json_time(out, w->holder_since);
    fputs(", \"for_ms\": ", out);
    json_int(out, w->holder_since ? (now > w->holder_since ? now - w->holder_since : 0) : -1);
    fputs(", \"query\": ", out);
    statelog_json_string(out, w->holder_query);
    fputs("}}", out);
}

/* "retry": the failed round's next attempt, or null. */
static void json_retry(FILE *out, const struct statelog_integration *g, int64_t now)
{
    if (g->retry_attempt <= 0) {
        fputs("null", out);
        return;
    }
    fprintf(out, "{\"attempt\": %lld, \"next_at\": ", (long long)g->retry_attempt);
    json_time(out, g->retry_at);
    fputs(", \"next_in_ms\": ", out);
    json_int(out, g->retry_at ? (g->retry_at > now ? g->retry_at - now : 0) : -1);
    fputs(", \"under_way\": ", out);
    fputs(g->retry_at ? "false}" : "true}", out);
}

/* The liveness fields (liveness.h), after the contract's: who runs it, or
 * who ran it last and since when it has not run. */
static void json_liveness(FILE *out, const struct statelog_integration *g,
                          const struct liveness *lv)
{
    fprintf(out, ", \"running\": %s, \"last_state\": ", lv->running ? "true" : "false");
    statelog_json_string(out, g->state);
    fputs(", \"runner\": ", out);
    statelog_json_string(out, lv->runner[0] ? lv->runner : NULL);
    fputs(", \"runner_pid\": ", out);
    if (lv->pid > 0) fprintf(out, "%ld", lv->pid);
    else fputs("null", out);
    fputs(", \"runner_started_at\": ", out);
    json_time(out, lv->started_at);
    fputs(", \"stopped_at\": ", out);
    json_time(out, lv->running ? 0 : lv->stopped_at);
    fputs(", \"last_seen_at\": ", out);
    json_time(out, lv->seen_at);
}

/* The source position fields (statelog.h "Source position"), last. */
static void json_source(FILE *out, const struct statelog_source *s)
{
    fputs(", \"source_position\": ", out);
    statelog_json_string(out, s->position);
    fputs(", \"source_position_at\": ", out);
    json_time(out, s->at);
    fputs(", \"bytes_between\": ", out);
    json_int(out, s->bytes_between);
    fputs(", \"files_between\": ", out);
    json_int(out, s->files_between);
    fputs(", \"binlog_expire_seconds\": ", out);
    json_int(out, s->expire_s);
    fputs(", \"checkpoint_commit_at\": ", out);
    json_time(out, s->checkpoint_commit_at);
    fputs(", \"binlog_purge_not_before\": ", out);
    json_time(out, statelog_purge_not_before(s));
}

/* ha (runtime/integ/ha.c): null when off; else this process's role and
 * member, the lease's holder, its epoch and the standbys seen. A process
 * that is not running holds nothing: its role is shown as it last was. */
static void json_ha(FILE *out, const struct statelog_integration *g)
{
    fputs(", \"ha\": ", out);
    if (!g->ha_role) {
        fputs("null", out);
        return;
    }
    fputs("{\"role\": ", out);
    statelog_json_string(out, g->ha_role);
    fputs(", \"member\": ", out);
    statelog_json_string(out, g->ha_member);
    fputs(", \"holder\": ", out);
    statelog_json_string(out, g->ha_holder);
    fputs(", \"holder_pid\": ", out);
    json_int(out, g->ha_holder_pid > 0 ? g->ha_holder_pid : -1);
    fputs(", \"epoch\": ", out);
    json_int(out, g->ha_epoch);
    fputs(", \"standbys\": [", out);
    const char *s = g->ha_standbys ? g->ha_standbys : "";
    for (int first = 1; *s;) {
        const char *e = strstr(s, ", ");
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (!first) fputs(", ", out);
        char one[128];
        snprintf(one, sizeof one, "%.*s", (int)(len < sizeof one ? len : sizeof one - 1), s);
        statelog_json_string(out, one);
        first = 0;
        s += len;
        if (e) s += 2;
    }
    fputs("]}", out);
}

static void json_integration(FILE *out, const struct statelog_integration *g,
                             const struct liveness *lv)
{
    int64_t now = statelog_now_ms();

    fputs("{\"name\": ", out);
    statelog_json_string(out, g->name);
    fputs(", \"state\": ", out);
    statelog_json_string(out, lv ? liveness_state(lv, g->state) : g->state);
    fputs(", \"reason\": ", out);
    statelog_json_string(out, g->reason);
    fputs(", \"source\": ", out);
    statelog_json_string(out, g->source);
    fputs(", \"target\": ", out);
    statelog_json_string(out, g->target);
    fputs(", \"position\": ", out);
    statelog_json_string(out, g->position);
    fputs(", \"lag_ms\": ", out);
    json_lag(out, g->lag_ms, g->lag_res_ms);
    fputs(", \"bytes_behind\": ", out);
    json_int(out, g->bytes_behind);
    fprintf(out, ", \"lag_resolution_ms\": %lld, \"stalled\": %s, \"stalled_since\": ",
            (long long)(g->lag_res_ms > 0 ? g->lag_res_ms : 1), g->stalled_since ? "true" : "false");
    json_time(out, g->stalled_since);
    fputs(", \"tables\": [", out);
    for (size_t j = 0; j < g->ntables; j++) {
        if (j)
            fputs(", ", out);
        json_table(out, &g->tables[j], lv && !lv->running);
    }
    fputs("], \"wait\": ", out);
    json_wait(out, &g->wait, now);
    fputs(", \"retry\": ", out);
    json_retry(out, g, now);
    if (lv)
        json_liveness(out, g, lv);
    json_source(out, &g->src);
    json_ha(out, g);
    putc('}', out);
}

int statelog_write_status_json(struct statelog *sl, FILE *out, const char *only_integration)
{
    return statelog_write_status_json_live(sl, out, only_integration, NULL);
}

int statelog_write_status_json_live(struct statelog *sl, FILE *out, const char *only_integration,
                                    const char *state_dir)
{
    struct statelog_integration *v;
    size_t n;

    if (statelog_list_integrations(sl, only_integration, &v, &n) < 0)
        return -1;
    fputs("{\"integrations\": [", out);
    for (size_t i = 0; i < n; i++) {
        struct liveness lv;
        char err[512];
        int live = state_dir && liveness_probe(&lv, state_dir, sl, v[i].name, err, sizeof err) == 0;
        if (i)
            fputs(", ", out);
        json_integration(out, &v[i], live ? &lv : NULL);
    }
    fputs("]}\n", out);
    statelog_free_integrations(v, n);
    if (ferror(out))
        return sl_failf(sl, "status json: write failed");
    return 0;
}
