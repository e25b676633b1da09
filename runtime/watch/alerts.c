/* alerts.c — incidents and their notifications (see alerts.h). */
#include "runtime/watch/alerts.h"
#include "runtime/base/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROUP_NAMES_IN_TEXT 5   /* a group's text names this many tables, then "and N more" */

enum cond { COND_FALSE, COND_TRUE, COND_UNKNOWN };

struct incident {
    const struct config_integration *ig;
    char    *table;             /* NULL: the integration itself */
    unsigned kind;              /* one ALERT_ON_* bit */
    int64_t  since;             /* the condition began */
    int64_t  clear_since;       /* clear since then; 0 while it holds */
    int      inherited;         /* already true at the first reading */
    int      firing;            /* the firing notification went out */
    int      seen;              /* this reading: enum cond + 1, 0 not seen */
    char    *state;             /* integration or table state, as last seen */
    char    *reason;            /* as last seen while the condition held */
    int64_t  lag_ms;            /* the integration's lag, as last seen */
};

/* A notification decided in this reading, before grouping. */
struct note {
    struct incident *inc;       /* borrowed until the end of the reading */
    int      resolved;
    int      done;              /* sent (alone or in a group) */
};

/* ha: what the last reading said of an integration's lease (failover). */
struct lease_seen {
    int64_t  epoch;             /* 0: not seen */
    int      active;            /* this process held it */
    char     holder[64];
};

struct alerts {
    const struct config_integration **igs;
    int      nigs;
    struct lease_seen *lease;   /* indexed like igs */
    char     host[128];
    struct incident **inc;
    int      ninc, capinc;
    int      first;             /* no reading yet */
};

static const char *kind_name(unsigned kind)
{
    switch (kind) {
    case ALERT_ON_FAILED:          return "failed";
    case ALERT_ON_NEEDS_ATTENTION: return "needs_attention";
    case ALERT_ON_RESYNC_REQUIRED: return "resync_required";
    case ALERT_ON_STALLED:         return "stalled";
    case ALERT_ON_FAILOVER:        return "failover";
    default:                       return "lag";
    }
}

struct alerts *alerts_new(const struct config_integration *const *igs, int n, const char *host)
{
    struct alerts *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->igs = calloc((size_t)n + 1, sizeof *a->igs);
    a->lease = calloc((size_t)n + 1, sizeof *a->lease);
    if (!a->igs || !a->lease) {
        free(a->igs);
        free(a->lease);
        free(a);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (igs[i] && igs[i]->alerts.webhook_url && igs[i]->alerts.on)
            a->igs[a->nigs++] = igs[i];
    snprintf(a->host, sizeof a->host, "%s", host ? host : "");
    a->first = 1;
    return a;
}

static void incident_free(struct incident *i)
{
    if (!i)
        return;
    free(i->table);
    free(i->state);
    free(i->reason);
    free(i);
}

void alerts_free(struct alerts *a)
{
    if (!a)
        return;
    for (int i = 0; i < a->ninc; i++)
        incident_free(a->inc[i]);
    free(a->inc);
    free(a->igs);
    free(a->lease);
    free(a);
}

int alerts_open(const struct alerts *a)
{
    return a ? a->ninc : 0;
}

static void set_str(char **dst, const char *s)
{
    if (*dst && s && !strcmp(*dst, s))
        return;
    free(*dst);
    *dst = s ? strdup(s) : NULL;
}

static struct incident *find(struct alerts *a, const struct config_integration *ig,
                             const char *table, unsigned kind)
{
    for (int i = 0; i < a->ninc; i++) {
        struct incident *x = a->inc[i];
        if (x->ig == ig && x->kind == kind &&
            (x->table == table || (x->table && table && !strcmp(x->table, table))))
            return x;
    }
    return NULL;
}

/* Record one condition of this reading. state: the integration's or the
 * table's current state; reason: its reason. */
static void mark(struct alerts *a, const struct config_integration *ig, const char *table,
                 unsigned kind, enum cond c, const char *state, const char *reason,
                 int64_t lag_ms, int64_t now)
{
    struct incident *x = find(a, ig, table, kind);

    if (!x && c != COND_TRUE)
        return;
    if (!x) {
        if (a->ninc == a->capinc) {
            int cap = a->capinc ? a->capinc * 2 : 16;
            struct incident **nv = realloc(a->inc, (size_t)cap * sizeof *nv);
            if (!nv)
                return;             /* out of memory: this reading goes unnoticed */
            a->inc = nv;
            a->capinc = cap;
        }
        x = calloc(1, sizeof *x);
        if (!x || (table && !(x->table = strdup(table)))) {
            incident_free(x);
            return;
        }
        x->ig = ig;
        x->kind = kind;
        x->since = now;
        x->inherited = a->first;
        a->inc[a->ninc++] = x;
    }
    x->seen = (int)c + 1;
    set_str(&x->state, state);
    x->lag_ms = lag_ms;
    if (c == COND_TRUE) {
        x->clear_since = 0;
        set_str(&x->reason, reason);
    }
}

static void duration(char *buf, size_t len, int64_t ms);

static enum cond lag_cond(const struct statelog_integration *g, const struct config_alerts *c,
                          int64_t lag)
{
    switch (istate_parse(g->state)) {
    case ISTATE_ACTIVE:
    case ISTATE_NEEDS_ATTENTION:
        if (lag < 0)
            return COND_UNKNOWN;
        return lag > (int64_t)c->lag_seconds * 1000 ? COND_TRUE : COND_FALSE;
    case ISTATE_PAUSED:
    case ISTATE_DELETING:
    case ISTATE_DELETED:
        return COND_FALSE;
    default:
        return COND_UNKNOWN;
    }
}

/*
 * failover (ha): true in the one reading where this process, a standby at
 * the last reading under another member's lease, holds the lease at a
 * higher epoch; it goes with its reading, so each takeover sends one
 * message. A member taking back the lease it let go (a target restart, its
 * own silence) is no failover: nobody else held it as far as it saw.
 * The first reading knows no "before": a process that starts and takes a
 * lease nobody held is not a failover.
 */
static enum cond failover_cond(struct lease_seen *ls, const struct statelog_integration *g,
                               char *why, size_t len)
{
    int active = g->ha_role && !strcmp(g->ha_role, "active");
    enum cond c = COND_FALSE;
    if (ls->epoch > 0 && !ls->active && active && g->ha_epoch > ls->epoch && ls->holder[0] &&
        (!g->ha_member || strcmp(ls->holder, g->ha_member) != 0)) {
        snprintf(why, len, "this process (%s) took it over from %s (lease epoch %lld)",
                 g->ha_member ? g->ha_member : "?", ls->holder,
                 (long long)g->ha_epoch);
        c = COND_TRUE;
    }
    if (g->ha_role) {
        ls->epoch = g->ha_epoch;
        ls->active = active;
        if (!active) snprintf(ls->holder, sizeof ls->holder, "%s", g->ha_holder ? g->ha_holder : "");
    }
    return c;
}

static void observe_integration(struct alerts *a, int k, const struct statelog_integration *g,
                                int64_t now)
{
    const struct config_integration *ig = a->igs[k];
    const struct config_alerts *c = &ig->alerts;
    const char *s = g->state ? g->state : "";
    enum istate st = istate_parse(g->state);
    int64_t lag = g->lag_ms;        /* computed when the log was read: it grows while stuck */

    if (c->on & ALERT_ON_FAILED)
        mark(a, ig, NULL, ALERT_ON_FAILED, st == ISTATE_FAILED ? COND_TRUE : COND_FALSE, s,
             g->reason, lag, now);
    if (c->on & ALERT_ON_NEEDS_ATTENTION)
        mark(a, ig, NULL, ALERT_ON_NEEDS_ATTENTION,
             st == ISTATE_NEEDS_ATTENTION ? COND_TRUE : COND_FALSE, s, g->reason, lag, now);
    if (c->on & ALERT_ON_LAG)
        mark(a, ig, NULL, ALERT_ON_LAG, lag_cond(g, c, lag), s, NULL, lag, now);
    if (c->on & ALERT_ON_STALLED) {
        char why[160], d[32];
        duration(d, sizeof d, now - g->stalled_since);
        snprintf(why, sizeof why, "its applied position has not moved for %s while changes wait", d);
        mark(a, ig, NULL, ALERT_ON_STALLED, g->stalled_since ? COND_TRUE : COND_FALSE, s,
             g->stalled_since ? why : NULL, lag, now);
    }
    if (c->on & ALERT_ON_FAILOVER) {
        char why[256];
        enum cond fc = failover_cond(&a->lease[k], g, why, sizeof why);
        mark(a, ig, NULL, ALERT_ON_FAILOVER, fc, s, fc == COND_TRUE ? why : NULL, lag, now);
    }
    for (size_t t = 0; t < g->ntables; t++) {
        const struct statelog_table *tb = &g->tables[t];
        const char *ts = tb->state ? tb->state : "";
        enum tstate tst = tstate_parse(tb->state);
        if (c->on & ALERT_ON_FAILED)
            mark(a, ig, tb->name, ALERT_ON_FAILED, tst == TSTATE_FAILED ? COND_TRUE : COND_FALSE,
                 ts, tb->reason, lag, now);
        if (c->on & ALERT_ON_RESYNC_REQUIRED)
            mark(a, ig, tb->name, ALERT_ON_RESYNC_REQUIRED,
                 tst == TSTATE_RESYNC_REQUIRED ? COND_TRUE : COND_FALSE, ts, tb->reason, lag, now);
    }
}

/* ---- the message ----------------------------------------------------------- */

static void iso_time(char *buf, size_t len, int64_t ms)
{
    if (zclock_iso8601(buf, len, ms) != 0)
        snprintf(buf, len, "1970-01-01T00:00:00Z");
}

/* "45s", "5m 03s", "2h 07m", "3d 04h" */
static void duration(char *buf, size_t len, int64_t ms)
{
    long long s = ms > 0 ? ms / 1000 : 0;
    if (s < 60)
        snprintf(buf, len, "%llds", s);
    else if (s < 3600)
        snprintf(buf, len, "%lldm %02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, len, "%lldh %02lldm", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, len, "%lldd %02lldh", s / 86400, s % 86400 / 3600);
}

/* Text for Slack: &, < and > are control characters of its markup. */
static void slack_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        default:  putc(*s, f); break;
        }
    }
}

static void json_key_str(FILE *f, const char *key, const char *v)
{
    fprintf(f, ", \"%s\": ", key);
    statelog_json_string(f, v);
}

static void json_seconds(FILE *f, const char *key, int64_t ms)
{
    if (ms < 0)
        fprintf(f, ", \"%s\": null", key);
    else
        fprintf(f, ", \"%s\": %lld.%03lld", key, (long long)(ms / 1000), (long long)(ms % 1000));
}

/* The human sentence, before Slack escaping. grp: the group's notes (n > 1)
 * or the one note. */
static void write_text(FILE *f, const struct alerts *a, struct note *const *grp, int n,
                       int64_t now)
{
    const struct incident *x = grp[0]->inc;
    const char *ig = x->ig->name, *kind = kind_name(x->kind);
    int resolved = grp[0]->resolved;
    char d[32], thr[32], lag[32];

    duration(d, sizeof d, now - x->since);
    fprintf(f, "[%s] zetl%s%s%s: ", resolved ? "RESOLVED" : "FIRING", a->host[0] ? " (" : "",
            a->host, a->host[0] ? ")" : "");
    if (x->kind == ALERT_ON_LAG) {
        duration(thr, sizeof thr, (int64_t)x->ig->alerts.lag_seconds * 1000);
        duration(lag, sizeof lag, x->lag_ms);
        if (resolved)
            fprintf(f, "integration %s is back under its lag alert of %s (lag now %s; it lasted %s)",
                    ig, thr, x->lag_ms >= 0 ? lag : "unknown", d);
        else
            fprintf(f, "integration %s is %s behind its source (lag alert: over %s)", ig, lag, thr);
        return;
    }
    if (n > 1) {
        fprintf(f, "%d tables of integration %s %s %s: ", n, ig,
                resolved ? "are no longer" : "are", kind);
        for (int i = 0; i < n && i < GROUP_NAMES_IN_TEXT; i++)
            fprintf(f, "%s%s", i ? ", " : "", grp[i]->inc->table);
        if (n > GROUP_NAMES_IN_TEXT)
            fprintf(f, " and %d more", n - GROUP_NAMES_IN_TEXT);
        int same = 1;
        for (int i = 1; i < n; i++)
            same &= (!grp[i]->inc->reason && !x->reason) ||
                    (grp[i]->inc->reason && x->reason && !strcmp(grp[i]->inc->reason, x->reason));
        if (!resolved && same && x->reason)
            fprintf(f, " (%s)", x->reason);
        return;
    }
    if (x->table)
        fprintf(f, "table %s of integration %s ", x->table, ig);
    else
        fprintf(f, "integration %s ", ig);
    if (resolved)
        fprintf(f, "is no longer %s (now %s; it lasted %s)", kind,
                x->state && *x->state ? x->state : "gone from the state log", d);
    else if (x->kind == ALERT_ON_NEEDS_ATTENTION)
        fprintf(f, "needs attention%s%s", x->reason ? ": " : "", x->reason ? x->reason : "");
    else if (x->kind == ALERT_ON_FAILOVER)
        fprintf(f, "failed over: %s", x->reason ? x->reason : "this process took it over");
    else
        fprintf(f, "is %s%s%s", kind, x->reason ? ": " : "", x->reason ? x->reason : "");
}

static void emit_group(struct alerts *a, struct note *const *grp, int n, int64_t now,
                       alert_emit_fn emit, void *ctx)
{
    const struct incident *x = grp[0]->inc;
    int resolved = grp[0]->resolved;
    struct alert_msg m = { .url = x->ig->alerts.webhook_url,
                           .timeout_seconds = x->ig->alerts.timeout_seconds };
    char *text = NULL, *body = NULL, tnow[32], tsince[32];
    size_t tlen = 0, blen = 0;
    FILE *f;

    if (!(f = open_memstream(&text, &tlen)))
        return;
    write_text(f, a, grp, n, now);
    if (fclose(f) != 0 || !text)
        goto out;
    if (!(f = open_memstream(&body, &blen)))
        goto out;
    {   /* the text is escaped twice: for Slack, then as a JSON string */
        char *esc = NULL;
        size_t elen = 0;
        FILE *e = open_memstream(&esc, &elen);
        if (e)
            slack_text(e, text);
        fputs("{\"text\": ", f);
        statelog_json_string(f, e && fclose(e) == 0 && esc ? esc : "");
        free(esc);
    }
    json_key_str(f, "status", resolved ? "resolved" : "firing");
    json_key_str(f, "kind", kind_name(x->kind));
    json_key_str(f, "integration", x->ig->name);
    json_key_str(f, "table", n > 1 ? NULL : x->table);
    if (n > 1) {
        fputs(", \"tables\": [", f);
        for (int i = 0; i < n; i++) {
            if (i)
                fputs(", ", f);
            statelog_json_string(f, grp[i]->inc->table);
        }
        putc(']', f);
    }
    json_key_str(f, "state", x->state);
    json_key_str(f, "reason", x->kind == ALERT_ON_LAG ? NULL : x->reason);
    json_seconds(f, "lag_seconds", x->lag_ms);
    json_seconds(f, "lag_threshold_seconds", (int64_t)x->ig->alerts.lag_seconds * 1000);
    iso_time(tnow, sizeof tnow, now);
    iso_time(tsince, sizeof tsince, x->since);
    json_key_str(f, "time", tnow);
    json_key_str(f, "since", tsince);
    json_key_str(f, "host", a->host);
    fputs("}", f);
    if (fclose(f) != 0 || !body)
        goto out;
    snprintf(m.integration, sizeof m.integration, "%s", x->ig->name);
    if (n > 1)
        snprintf(m.summary, sizeof m.summary, "%s: %d tables %s %s", x->ig->name, n,
                 kind_name(x->kind), resolved ? "resolved" : "firing");
    else
        snprintf(m.summary, sizeof m.summary, "%s%s%s: %s %s", x->ig->name, x->table ? " " : "",
                 x->table ? x->table : "", kind_name(x->kind), resolved ? "resolved" : "firing");
    m.body = body;
    body = NULL;
    emit(ctx, &m);
out:
    free(body);
    free(text);
}

/* Send the reading's notes: integration notes alone, table notes grouped by
 * (integration, kind, firing/resolved). */
static void send_notes(struct alerts *a, struct note *notes, int nn, int64_t now,
                       alert_emit_fn emit, void *ctx)
{
    struct note **grp = calloc((size_t)nn + 1, sizeof *grp);

    for (int i = 0; i < nn; i++) {
        if (notes[i].done)
            continue;
        int n = 0;
        grp[n++] = &notes[i];
        notes[i].done = 1;
        const struct incident *x = notes[i].inc;
        for (int j = i + 1; grp && x->table && j < nn; j++) {
            const struct incident *y = notes[j].inc;
            if (!notes[j].done && y->table && y->ig == x->ig && y->kind == x->kind &&
                notes[j].resolved == notes[i].resolved) {
                grp[n++] = &notes[j];
                notes[j].done = 1;
            }
        }
        if (grp)
            emit_group(a, grp, n, now, emit, ctx);
        else                        /* no memory for grouping: one at a time */
            emit_group(a, (struct note *[]){ &notes[i] }, 1, now, emit, ctx);
    }
    free(grp);
}

void alerts_observe(struct alerts *a, const struct statelog_integration *v, size_t n,
                    int64_t now_ms, alert_emit_fn emit, void *ctx)
{
    if (!a)
        return;
    for (int i = 0; i < a->ninc; i++)
        a->inc[i]->seen = 0;
    for (int k = 0; k < a->nigs; k++)
        for (size_t i = 0; i < n; i++)
            if (v[i].name && !strcmp(v[i].name, a->igs[k]->name))
                observe_integration(a, k, &v[i], now_ms);
    a->first = 0;

    struct note *notes = calloc((size_t)a->ninc + 1, sizeof *notes);
    int nn = 0, keep = 0;
    struct incident **gone = calloc((size_t)a->ninc + 1, sizeof *gone);
    int ngone = 0;
    if (!notes || !gone) {
        free(notes);
        free(gone);
        return;                     /* out of memory: decide at the next reading */
    }
    for (int i = 0; i < a->ninc; i++) {
        struct incident *x = a->inc[i];
        int drop = 0;
        if (x->seen == COND_TRUE + 1) {
            if (!x->firing && (!x->inherited || now_ms - x->since >= ALERTS_STARTUP_GRACE_MS)) {
                x->firing = 1;
                notes[nn++] = (struct note){ .inc = x };
            }
        } else if (x->seen != COND_UNKNOWN + 1) {
            if (!x->seen)           /* the integration or table is gone from the log */
                set_str(&x->state, NULL);
            if (!x->clear_since)
                x->clear_since = now_ms;
            if (!x->firing) {
                drop = 1;           /* healed within the grace: never sent */
            } else if (x->kind == ALERT_ON_FAILOVER) {
                drop = 1;           /* an event, gone with its reading: the next takeover,
                                       however soon, is a new one (no flapping rule) */
            } else if (now_ms - x->clear_since >= (int64_t)x->ig->alerts.resolve_seconds * 1000) {
                notes[nn++] = (struct note){ .inc = x, .resolved = 1 };
                drop = 1;
            }
        }
        if (drop)
            gone[ngone++] = x;
        else
            a->inc[keep++] = x;
    }
    a->ninc = keep;
    send_notes(a, notes, nn, now_ms, emit, ctx);
    for (int i = 0; i < ngone; i++)
        incident_free(gone[i]);
    free(gone);
    free(notes);
}
