/*
 * cmd_status.c — `zetl status`: integrations and tables from the SQLite log,
 * as a table for people or, with --json, the contract in DESIGN.md. Reads
 * only: it never creates the log, so it is safe beside a running `zetl run`.
 * Whether an integration runs comes from its lock (runtime/log/liveness.h): one
 * nobody runs shows as stopped, with since when and who ran it last. A table
 * being copied has a line with its progress, and with ha an integration a
 * line naming the lease's holder, this process's part and the standbys, in
 * the console's words (views/widgets.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "runtime/base/clock.h"
#include "runtime/log/liveness.h"
#include "runtime/log/statelog.h"
#include "tui/commands.h"
#include "views/widgets.h"

/* No finer than measured: res 1000 (whole-second source timestamps) → "<1s", "12s". */
static void fmt_lag(int64_t ms, int64_t res, char *buf, size_t len)
{
    if (ms < 0) snprintf(buf, len, "-");
    else if (res >= 1000 && ms == 0) snprintf(buf, len, "0s");
    else if (res >= 1000 && ms < 1000) snprintf(buf, len, "<1s");
    else if (res >= 1000 && ms < 600000) snprintf(buf, len, "%" PRId64 "s", ms / 1000);
    else if (ms < 10000) snprintf(buf, len, "%" PRId64 "ms", ms);
    else if (ms < 600000) snprintf(buf, len, "%" PRId64 "s", ms / 1000);
    else snprintf(buf, len, "%" PRId64 "m", ms / 60000);
}

static void fmt_time(int64_t ms, char *buf, size_t len)
{
    if (ms <= 0) { snprintf(buf, len, "never"); return; }
    zclock_iso8601(buf, len, ms);
}

static void print_human(struct statelog *sl, const char *state_dir,
                        const struct statelog_integration *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct statelog_integration *in = &v[i];
        struct liveness lv;
        char lerr[512], live[640] = "";
        const char *state = in->state;
        /* Who runs it, from its lock: the log's state is only what the last
         * runner wrote (liveness.h). */
        if (liveness_probe(&lv, state_dir, sl, in->name, lerr, sizeof lerr) == 0) {
            state = liveness_state(&lv, in->state);
            liveness_describe(&lv, live, sizeof live);
        } else {
            snprintf(live, sizeof live, "cannot tell whether it runs: %.600s", lerr);
        }
        char lag[32];
        fmt_lag(in->lag_ms, in->lag_res_ms, lag, sizeof lag);
        size_t synced = 0;
        for (size_t t = 0; t < in->ntables; t++)
            if (tstate_parse(in->tables[t].state) == TSTATE_SYNCED) synced++;
        int stale = state != in->state;     /* "stopped": the reason was the last runner's */
        char stalled[64] = "";
        if (in->stalled_since && !stale) {
            char d[32];
            fmt_lag(statelog_now_ms() - in->stalled_since, 1000, d, sizeof d);
            snprintf(stalled, sizeof stalled, "  STALLED for %s", d);
        }
        printf("%s  %s%s%s%s  lag %s%s  position %s  tables %zu/%zu synced\n", in->name, state,
               in->reason && !stale ? " (" : "", in->reason && !stale ? in->reason : "",
               in->reason && !stale ? ")" : "", lag, stalled,
               in->position ? in->position : "-", synced, in->ntables);
        if (stale)
            printf("  %s; last state %s%s%s\n", live, in->state, in->reason ? ": " : "",
                   in->reason ? in->reason : "");
        else
            printf("  %s\n", live);
        char ha[1024];
        if (w_fmt_ha(ha, sizeof ha, in, stale))     /* ha: who runs it, this process's part, the standbys */
            printf("  ha: %s\n", ha);
        printf("  %s -> %s\n", in->source ? in->source : "-", in->target ? in->target : "-");
        if (in->ntables)
            printf("  %-32s %-16s %12s %10s %10s %10s  %s\n", "TABLE", "STATE", "ROWS COPIED",
                   "INSERTS", "UPDATES", "DELETES", "LAST APPLIED");
        for (size_t t = 0; t < in->ntables; t++) {
            const struct statelog_table *tb = &in->tables[t];
            char when[32];
            fmt_time(tb->last_applied_at, when, sizeof when);
            printf("  %-32s %-16s %12" PRId64 " %10" PRId64 " %10" PRId64 " %10" PRId64 "  %s\n",
                   tb->name, tb->state, tb->rows_copied, tb->inserts, tb->updates,
                   tb->deletes, when);
            if (strcmp(tb->name, tb->target) != 0)
                printf("  %-32s -> %s\n", "", tb->target);
            if (tstate_copying(tstate_parse(tb->state)) && tb->copy_started_at > 0) {
                /* As the console says it; nobody running it: no rate, no ETA. */
                char copy[160];
                w_fmt_copy(copy, sizeof copy, 0, tb->rows_copied, tb->rows_estimated, tb->copy_chunks,
                           stale ? -1 : tb->copy_rows_per_s, stale ? -1 : tb->copy_eta_s);
                printf("  %-32s copy: %s\n", "", copy);
            }
            if (tb->reason)
                printf("  %-32s reason: %s\n", "", tb->reason);
        }
    }
}

int cmd_status(int argc, char **argv, const struct cli_cmd *self)
{
    struct cli_opts o;
    int done;
    int rc = cli_parse(argc, argv, self, self->opts, &o, &done);
    if (done) return rc;

    struct config *cfg = NULL;
    if (cli_load_config(self, &o, &cfg) != 0) return 1;
    char err[8192] = "";

    char logpath[4096];
    snprintf(logpath, sizeof logpath, "%s/%s", cfg->state_dir, STATELOG_FILENAME);
    struct stat st;
    if (stat(logpath, &st) != 0) {
        if (o.json) printf("{\"integrations\": []}\n");
        else printf("no state log at %s yet: no integration has run (start one with `zetl run` or `zetl console`)\n", logpath);
        config_free(cfg);
        return 0;
    }

    struct statelog *sl = NULL;
    rc = 1;
    if (statelog_open(&sl, logpath, err, sizeof err) != 0) {
        fprintf(stderr, "zetl status: %s\n", err);
        goto out_config;
    }
    if (o.json) {
        if (statelog_write_status_json_live(sl, stdout, o.integration, cfg->state_dir) != 0) {
            fprintf(stderr, "zetl status: %s\n", statelog_error(sl));
            goto out_log;
        }
        rc = 0;
        goto out_log;
    }
    struct statelog_integration *v = NULL;
    size_t n = 0;
    if (statelog_list_integrations(sl, o.integration, &v, &n) != 0) {
        fprintf(stderr, "zetl status: %s\n", statelog_error(sl));
        goto out_log;
    }
    if (n == 0)
        printf("no integration has run yet (state log %s)\n", logpath);
    print_human(sl, cfg->state_dir, v, n);
    statelog_free_integrations(v, n);
    rc = 0;
out_log:
    statelog_close(sl);
out_config:
    config_free(cfg);
    return rc;
}
