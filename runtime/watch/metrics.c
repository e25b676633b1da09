/* metrics.c — Prometheus text exposition and its atomic file (see metrics.h). */
#include "runtime/watch/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void metrics_label_value(FILE *out, const char *s)
{
    putc('"', out);
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '\\': fputs("\\\\", out); break;
        case '"':  fputs("\\\"", out); break;
        case '\n': fputs("\\n", out); break;
        default:   putc(*p, out); break;
        }
    }
    putc('"', out);
}

static void head(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{integration="x"[,key="value"]} */
static void sample_start(FILE *out, const char *name, const char *integration,
                         const char *key, const char *value)
{
    fprintf(out, "%s{integration=", name);
    metrics_label_value(out, integration);
    if (key) {
        fprintf(out, ",%s=", key);
        metrics_label_value(out, value);
    }
    putc('}', out);
}

static void sample_int(FILE *out, const char *name, const char *integration,
                       const char *key, const char *value, int64_t v)
{
    sample_start(out, name, integration, key, value);
    fprintf(out, " %lld\n", (long long)v);
}

/* The tables being copied (snapshotting, resyncing): their copy's figures,
 * computed at the read (statelog.h "Copy progress"); a figure unknown (< 0)
 * has no sample. */
enum { CM_ROWS, CM_ESTIMATED, CM_CHUNKS, CM_RATE, CM_ETA, CM_COUNT };

static double copy_figure(const struct statelog_table *t, int k)
{
    switch (k) {
    case CM_ROWS:      return (double)t->rows_copied;
    case CM_ESTIMATED: return t->rows_estimated > 0 ? (double)t->rows_estimated : -1;
    case CM_CHUNKS:    return (double)t->copy_chunks;
    case CM_RATE:      return t->copy_rows_per_s;
    default:           return (double)t->copy_eta_s;
    }
}

static void copy_metrics(FILE *out, const struct metrics_integration *v, size_t n)
{
    static const char *const name[CM_COUNT] = {
        "zetl_table_copy_rows", "zetl_table_copy_rows_estimated", "zetl_table_copy_chunks",
        "zetl_table_copy_rows_per_second", "zetl_table_copy_eta_seconds",
    };
    static const char *const help[CM_COUNT] = {
        "Rows the table's copy under way has copied.",
        "The source's estimate of the rows of the table being copied.",
        "Chunks the table's chunked copy has committed.",
        "Rows copied per second over the last 10 to 20 seconds.",
        "Seconds until the copy reaches the estimate at that rate.",
    };
    for (int k = 0; k < CM_COUNT; k++) {
        head(out, name[k], "gauge", help[k]);
        for (size_t i = 0; i < n; i++) {
            const struct statelog_integration *g = v[i].st;
            for (size_t j = 0; j < g->ntables; j++) {
                const struct statelog_table *t = &g->tables[j];
                double f = copy_figure(t, k);
                if (!tstate_copying(tstate_parse(t->state)) || f < 0)
                    continue;
                sample_start(out, name[k], g->name, "table", t->name);
                fprintf(out, " %.*f\n", k == CM_RATE ? 1 : 0, f);
            }
        }
    }
}

/* Milliseconds as seconds with three decimals, exactly (no float rounding). */
static void sample_ms(FILE *out, const char *name, const char *integration, int64_t ms)
{
    sample_start(out, name, integration, NULL, NULL);
    fprintf(out, " %lld.%03lld\n", (long long)(ms / 1000), (long long)(ms % 1000));
}

int metrics_format(FILE *out, const struct metrics_input *in)
{
    const struct metrics_integration *v = in->v;
    size_t n = in->n;

    /* Every state the log stores (DESIGN.md "States", in the enum's order)
     * gets a sample, so a state going to 0 is visible (the state-set
     * convention); a state this zetl does not know counts in none. */
    head(out, "zetl_integration_state", "gauge",
         "Integration state: 1 for the current state, 0 for the others.");
    for (size_t i = 0; i < n; i++) {
        enum istate cur = istate_parse(v[i].st->state);
        for (int s = ISTATE_FIRST_LOGGED; s <= ISTATE_LAST_LOGGED; s++)
            sample_int(out, "zetl_integration_state", v[i].st->name, "state",
                       istate_name((enum istate)s), cur == (enum istate)s);
    }

    /* ha: which process runs it (only integrations with ha on). */
    int any_ha = 0;
    for (size_t i = 0; i < n && !any_ha; i++) any_ha = v[i].st->ha_role != NULL;
    if (any_ha) {
        head(out, "zetl_ha_active", "gauge",
             "1 when this process holds the integration's lease and runs it, 0 when it stands by (ha).");
        for (size_t i = 0; i < n; i++)
            if (v[i].st->ha_role)
                sample_int(out, "zetl_ha_active", v[i].st->name, NULL, NULL,
                           strcmp(v[i].st->ha_role, "active") == 0);
    }

    head(out, "zetl_lag_seconds", "gauge",
         "Now minus the source commit time of the oldest change not yet applied; 0 when caught up.");
    for (size_t i = 0; i < n; i++) {
        int64_t lag = v[i].lag_ms, res = v[i].st->lag_res_ms;
        if (lag < 0)
            continue;
        if (res > 1)
            lag -= lag % res;           /* no finer than it was measured */
        sample_ms(out, "zetl_lag_seconds", v[i].st->name, lag);
    }

    head(out, "zetl_stalled", "gauge",
         "1 while changes wait and the applied position has not moved for alerts.stall_seconds.");
    for (size_t i = 0; i < n; i++)
        sample_int(out, "zetl_stalled", v[i].st->name, NULL, NULL, v[i].st->stalled_since != 0);

    head(out, "zetl_bytes_behind", "gauge", "Source log bytes read but not yet applied.");
    for (size_t i = 0; i < n; i++)
        if (v[i].st->bytes_behind >= 0)
            sample_int(out, "zetl_bytes_behind", v[i].st->name, NULL, NULL, v[i].st->bytes_behind);

    head(out, "zetl_rows_applied_total", "counter",
         "Rows applied to the target from the change stream, by operation.");
    for (size_t i = 0; i < n; i++) {
        int64_t ins = 0, upd = 0, del = 0;
        for (size_t t = 0; t < v[i].st->ntables; t++) {
            ins += v[i].st->tables[t].inserts;
            upd += v[i].st->tables[t].updates;
            del += v[i].st->tables[t].deletes;
        }
        sample_int(out, "zetl_rows_applied_total", v[i].st->name, "op", "insert", ins);
        sample_int(out, "zetl_rows_applied_total", v[i].st->name, "op", "update", upd);
        sample_int(out, "zetl_rows_applied_total", v[i].st->name, "op", "delete", del);
    }

    head(out, "zetl_rows_copied", "gauge", "Rows copied by the tables' current or last snapshot.");
    for (size_t i = 0; i < n; i++) {
        int64_t copied = 0;
        for (size_t t = 0; t < v[i].st->ntables; t++)
            copied += v[i].st->tables[t].rows_copied;
        sample_int(out, "zetl_rows_copied", v[i].st->name, NULL, NULL, copied);
    }

    head(out, "zetl_tables", "gauge", "Tables of the integration in each table state.");
    for (size_t i = 0; i < n; i++) {
        int64_t count[TSTATE_COUNT] = {0};
        for (size_t t = 0; t < v[i].st->ntables; t++)
            count[tstate_parse(v[i].st->tables[t].state)]++;
        for (int s = TSTATE_FIRST_LOGGED; s <= TSTATE_LAST_LOGGED; s++)
            sample_int(out, "zetl_tables", v[i].st->name, "state", tstate_name((enum tstate)s), count[s]);
    }

    copy_metrics(out, v, n);

    head(out, "zetl_errors_total", "counter", "Error events logged since this zetl process started.");
    for (size_t i = 0; i < n; i++)
        sample_int(out, "zetl_errors_total", v[i].st->name, NULL, NULL, v[i].errors);

    head(out, "zetl_reconnects_total", "counter",
         "Reconnections (retries after a source or target error) since this zetl process started.");
    for (size_t i = 0; i < n; i++)
        sample_int(out, "zetl_reconnects_total", v[i].st->name, NULL, NULL, v[i].reconnects);

    head(out, "zetl_last_applied_timestamp_seconds", "gauge",
         "Unix time of the last change applied to any table of the integration.");
    for (size_t i = 0; i < n; i++) {
        int64_t last = 0;
        for (size_t t = 0; t < v[i].st->ntables; t++)
            if (v[i].st->tables[t].last_applied_at > last)
                last = v[i].st->tables[t].last_applied_at;
        if (last > 0)
            sample_ms(out, "zetl_last_applied_timestamp_seconds", v[i].st->name, last);
    }

    head(out, "zetl_alerts_sent_total", "counter", "Webhook alerts delivered since this zetl process started.");
    fprintf(out, "zetl_alerts_sent_total %lld\n", (long long)in->alerts_sent);
    head(out, "zetl_alert_delivery_failures_total", "counter",
         "Webhook alerts given up (after every retry, or dropped) since this zetl process started.");
    fprintf(out, "zetl_alert_delivery_failures_total %lld\n", (long long)in->alerts_failed);
    head(out, "zetl_build_info", "gauge", "The zetl version that writes this file.");
    fputs("zetl_build_info{version=", out);
    metrics_label_value(out, in->version);
    fputs("} 1\n", out);
    return ferror(out) ? -1 : 0;
}

/* The directory part of path ("." when none), for the fsync after rename. */
static void dir_of(const char *path, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(buf, len, ".");
    else if (slash == path)
        snprintf(buf, len, "/");
    else
        snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

int metrics_write_file(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    size_t off = 0;
    int fd;

    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        snprintf(err, errlen, "metrics file %s: the path is too long", path);
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "metrics file %s: cannot create %s: %s", path, tmp, strerror(errno));
        return -1;
    }
    while (off < len) {
        ssize_t k = write(fd, text + off, len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            snprintf(err, errlen, "metrics file %s: cannot write %s: %s", path, tmp,
                     k < 0 ? strerror(errno) : "no progress");
            goto fail;
        }
        off += (size_t)k;
    }
    if (fsync(fd) != 0) {
        snprintf(err, errlen, "metrics file %s: cannot fsync %s: %s", path, tmp, strerror(errno));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, errlen, "metrics file %s: cannot close %s: %s", path, tmp, strerror(errno));
        goto unlink;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "metrics file %s: cannot rename %s over it: %s", path, tmp,
                 strerror(errno));
        goto unlink;
    }
    dir_of(path, dir, sizeof dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {             /* the rename is durable once the directory is */
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
fail:
    close(fd);
unlink:
    unlink(tmp);
    return -1;
}
