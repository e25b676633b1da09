/*
 * alerts.c — the `alerts:` blocks: the top-level one and each integration's.
 *
 * A block is read as written (which keys it sets, defaults for the rest),
 * then each integration's effective alerts are its own keys over the
 * top-level ones. webhook_url is a secret (a Slack webhook's token is its
 * path), so it is never quoted back in a message, not even as written.
 */
#include "config/walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALERTS_SHAPE "webhook_url, lag_seconds, on, resolve_seconds, timeout_seconds, stall_seconds"

static const char *const alert_names[] = { "failed", "needs_attention", "resync_required", "lag",
                                           "stalled", "failover" };
static const unsigned alert_bits[] = { ALERT_ON_FAILED, ALERT_ON_NEEDS_ATTENTION,
                                       ALERT_ON_RESYNC_REQUIRED, ALERT_ON_LAG, ALERT_ON_STALLED,
                                       ALERT_ON_FAILOVER };

/* Is the host of an http:// URL a loopback address? h points after "//". */
static int loopback_host(const char *h)
{
    size_t alen = strcspn(h, "/?#");
    const char *at = NULL;

    for (size_t i = 0; i < alen; i++)
        if (h[i] == '@')
            at = h + i;
    if (at) {
        alen -= (size_t)(at + 1 - h);
        h = at + 1;
    }
    size_t hlen = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/?#");
    if (hlen > alen)
        hlen = alen;
    return (hlen == 9 && !strncmp(h, "localhost", 9)) || (hlen == 5 && !strncmp(h, "[::1]", 5)) ||
           (hlen >= 9 && !strncmp(h, "127.", 4) && strspn(h, "0123456789.") == hlen);
}

/* The URL's shape; never quotes it. 0 ok, -1 reported. */
static int check_url(struct ld *ld, const yaml_node_t *v, const char *url)
{
    const char *host;

    for (const char *p = url; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            PROBLEM(ld, v, "webhook_url contains a space or a control character; remove it (spaces in a URL are written %%20)");
            return -1;
        }
    }
    if (!strncmp(url, "https://", 8)) {
        host = url + 8;
    } else if (!strncmp(url, "http://", 7)) {
        host = url + 7;
        if (*host && !loopback_host(host)) {
            PROBLEM(ld, v, "webhook_url uses http:// to a host that is not loopback; the URL holds a secret, so use https:// (http:// is accepted only for 127.0.0.1, localhost and [::1])");
            return -1;
        }
    } else {
        PROBLEM(ld, v, "webhook_url must start with https:// (e.g. the Slack incoming-webhook URL)");
        return -1;
    }
    if (!*host || strchr("/?#@:", *host)) {
        PROBLEM(ld, v, "webhook_url has no host after the scheme; give the full URL, e.g. https://hooks.slack.com/services/...");
        return -1;
    }
    return 0;
}

/* on: [failed, needs_attention, resync_required, lag, stalled] → ALERT_ON_* bits. */
static int parse_on(struct ld *ld, yaml_node_t *v, unsigned *out)
{
    unsigned bits = 0;
    int rc = 0;

    if (v->type != YAML_SEQUENCE_NODE) {
        PROBLEM(ld, v, "on must be a list, e.g. [failed, lag] (or [] for no alerts), got %s",
                cfg_type_name(v));
        return -1;
    }
    for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top; i++) {
        yaml_node_t *it = cfg_node(ld, *i);
        int k;
        if (!it || it->type != YAML_SCALAR_NODE) {
            PROBLEM(ld, it ? it : v, "each entry of on must be one of failed, needs_attention, resync_required, lag, stalled, failover, got %s",
                    cfg_type_name(it));
            rc = -1;
            continue;
        }
        if (cfg_get_enum(ld, it, "alert event", alert_names, 6, &k) < 0) {
            rc = -1;
            continue;
        }
        bits |= alert_bits[k];
    }
    if (rc == 0)
        *out = bits;
    return rc;
}

void cfg_parse_alerts(struct ld *ld, yaml_node_t *v, struct config_alerts *a)
{
    yaml_node_t *val[ALR_N], *key[ALR_N];
    long long x;
    int set;

    a->lag_seconds = 300;
    a->on = ALERT_ON_ALL;
    a->resolve_seconds = 30;
    a->timeout_seconds = 10;
    a->stall_seconds = 30;
    if (cfg_get_map(ld, v, "alerts", ALERTS_SHAPE) <= 0)
        return;
    a->line = cfg_line(v);
    cfg_map_keys(ld, v, SEC_ALR, val, key);

    yaml_node_t *u = val[ALR_WEBHOOK_URL];
    if (u && !cfg_is_null(u)) {
        a->set |= ALERT_SET_URL;    /* written: a bad one is reported here, not as missing */
        if (cfg_get_str(ld, u, "webhook_url", &a->webhook_url) == 0) {
            if (!a->webhook_url || !*a->webhook_url)
                PROBLEM(ld, u, "webhook_url is empty; give the webhook's URL, or write on: [] to turn alerts off");
            else
                check_url(ld, u, a->webhook_url);
        }
    }
    if (cfg_get_int(ld, val[ALR_LAG_SECONDS], "lag_seconds", 1, 7 * 86400, &x, &set) == 0 && set) {
        a->lag_seconds = (int)x;
        a->set |= ALERT_SET_LAG;
    }
    if (val[ALR_ON] && !cfg_is_null(val[ALR_ON]) && parse_on(ld, val[ALR_ON], &a->on) == 0)
        a->set |= ALERT_SET_ON;
    if (cfg_get_int(ld, val[ALR_RESOLVE_SECONDS], "resolve_seconds", 0, 86400, &x, &set) == 0 && set) {
        a->resolve_seconds = (int)x;
        a->set |= ALERT_SET_RESOLVE;
    }
    if (cfg_get_int(ld, val[ALR_TIMEOUT_SECONDS], "timeout_seconds", 1, 300, &x, &set) == 0 && set) {
        a->timeout_seconds = (int)x;
        a->set |= ALERT_SET_TIMEOUT;
    }
    if (cfg_get_int(ld, val[ALR_STALL_SECONDS], "stall_seconds", 1, 86400, &x, &set) == 0 && set) {
        a->stall_seconds = (int)x;
        a->set |= ALERT_SET_STALL;
    }
}

void cfg_merge_alerts(struct ld *ld, const struct config_alerts *top, const yaml_node_t *top_node,
                      struct config_alerts *ig, const yaml_node_t *node, const char *igname)
{
    if (!(ig->set & ALERT_SET_URL) && top->webhook_url)
        ig->webhook_url = cfg_strdup(ld, top->webhook_url);
    if (!(ig->set & ALERT_SET_LAG))
        ig->lag_seconds = top->lag_seconds;
    if (!(ig->set & ALERT_SET_ON))
        ig->on = top->on;
    if (!(ig->set & ALERT_SET_RESOLVE))
        ig->resolve_seconds = top->resolve_seconds;
    if (!(ig->set & ALERT_SET_TIMEOUT))
        ig->timeout_seconds = top->timeout_seconds;
    if (!(ig->set & ALERT_SET_STALL))
        ig->stall_seconds = top->stall_seconds;

    if (!ig->line && !top->line)
        return;                     /* no alerts configured anywhere */
    if (!ig->on) {                  /* on: [] turns them off */
        free(ig->webhook_url);
        ig->webhook_url = NULL;
        return;
    }
    if (ig->webhook_url || ((ig->set | top->set) & ALERT_SET_URL))
        return;                     /* a URL, or a bad one already reported where it is */
    if (ig->line) {
        PROBLEM(ld, node, "alerts of integration%s%s have no webhook_url; add webhook_url: \"https://...\" here or to the top-level alerts:, or write on: [] to turn them off",
                igname ? " " : "", igname ? igname : "");
    } else if (!ld->top_alerts_reported) {
        ld->top_alerts_reported = 1;
        PROBLEM(ld, top_node, "alerts has no webhook_url; add webhook_url: \"https://...\" (or give one in each integration's alerts:)");
    }
}
