/*
 * test_alerts.c — the incident rules of runtime/watch/alerts.c on synthetic
 * readings of the state log: one firing and one resolved per incident, a
 * flapping condition is one incident, the lag's hysteresis and its unknown
 * states, a stuck applier's growing lag, the start-up grace, grouped table
 * notifications, the `on:` filter, and the message's fields and escaping.
 */
#include "runtime/watch/alerts.h"
#include "tests/unit/test.h"

#include <stdlib.h>

#define URL "https://hooks.example/services/T0/B0/SECRETTOKEN42"
#define T0  1700000000000LL

static struct {
    char *body[64];
    char  summary[64][192];
    int   n;
} got;

static void on_emit(void *ctx, struct alert_msg *m)
{
    (void)ctx;
    if (got.n < 64) {
        got.body[got.n] = m->body;
        snprintf(got.summary[got.n], sizeof got.summary[0], "%s", m->summary);
        got.n++;
    } else {
        free(m->body);
    }
    CHECK(m->url && !strcmp(m->url, URL), "the message goes to the integration's webhook_url");
}

static void reset(void)
{
    for (int i = 0; i < got.n; i++)
        free(got.body[i]);
    memset(&got, 0, sizeof got);
}

static struct config_integration ig = {
    .name = "shop",
    .alerts = { .webhook_url = URL, .lag_seconds = 60, .on = ALERT_ON_ALL,
                .resolve_seconds = 30, .timeout_seconds = 10 },
};

static struct statelog_integration reading(const char *state, int64_t lag_ms, int64_t at)
{
    return (struct statelog_integration){ .name = "shop", .state = (char *)state,
                                          .reason = (char *)"target: connection refused",
                                          .lag_ms = lag_ms, .bytes_behind = 0, .updated_at = at };
}

/* Observe one integration reading at time at. */
static void see(struct alerts *a, const char *state, int64_t lag_ms, int64_t at)
{
    struct statelog_integration g = reading(state, lag_ms, at);
    alerts_observe(a, &g, 1, at, on_emit, NULL);
}

static struct alerts *fresh(void)
{
    const struct config_integration *igs[] = { &ig };
    struct alerts *a = alerts_new(igs, 1, "db1");
    reset();
    see(a, "active", 0, T0);        /* the first reading: nothing inherited */
    return a;
}

/* ha: one reading as member "b" of the lease (role, holder, epoch). */
static void see_ha(struct alerts *a, const char *role, const char *holder, int64_t epoch, int64_t at)
{
    struct statelog_integration g = reading(strcmp(role, "active") ? "standby" : "active", 0, at);
    g.ha_role = (char *)role;
    g.ha_member = (char *)"b";
    g.ha_holder = (char *)holder;
    g.ha_epoch = epoch;
    alerts_observe(a, &g, 1, at, on_emit, NULL);
}

/* A takeover sends one firing message naming both members, and nothing when
 * it "resolves"; a start that finds the lease free, or a standby that stays
 * one, sends nothing. */
static void test_failover(void)
{
    const struct config_integration *igs[] = { &ig };
    struct alerts *a = alerts_new(igs, 1, "db2");
    reset();
    int64_t t = T0;
    see_ha(a, "active", "b", 3, t);
    CHECK_INT(got.n, 0, "holding the lease at the first reading: no failover");
    for (int i = 0; i < 5; i++)
        see_ha(a, "standby", "a", 4, t += 1000);
    CHECK_INT(got.n, 0, "a standby: nothing");
    see_ha(a, "active", "b", 5, t += 1000);
    CHECK_INT(got.n, 1, "standby, then holder at a higher epoch: one alert");
    CHECK_STR(got.summary[0], "shop: failover firing", "it is the failover");
    CHECK(got.n == 1 && strstr(got.body[0], "failed over: this process (b) took it over from a (lease epoch 5)"),
          "the text names this member, the one before and the epoch");
    for (int i = 0; i < 60; i++)
        see_ha(a, "active", "b", 5, t += 1000);
    CHECK_INT(got.n, 1, "a minute later: no resolved message for an event");
    CHECK_INT(alerts_open(a), 0, "and no incident left open");
    see_ha(a, "standby", "a", 6, t += 1000);
    see_ha(a, "active", "b", 7, t += 1000);
    CHECK_INT(got.n, 2, "a second takeover: a second alert");
    see_ha(a, "standby", "a", 8, t += 1000);
    see_ha(a, "active", "b", 9, t += 1000);
    CHECK_INT(got.n, 3, "a third two seconds later (no flapping rule for an event): a third alert");
    see_ha(a, "standby", "b", 9, t += 1000);
    see_ha(a, "active", "b", 10, t += 1000);
    CHECK_INT(got.n, 3, "taking back its own lease (it was the holder as last seen): no failover");
    see_ha(a, "standby", "", 10, t += 1000);
    see_ha(a, "active", "b", 11, t += 1000);
    CHECK_INT(got.n, 3, "holder unknown before (it let go on its own silence): no failover");
    alerts_free(a);
}

static void test_once_per_incident(void)
{
    struct alerts *a = fresh();
    int64_t t = T0 + 1000;
    for (int i = 0; i < 20; i++, t += 1000)
        see(a, "failed", 0, t);
    CHECK_INT(got.n, 1, "20 readings of failed: one alert");
    CHECK_STR(got.summary[0], "shop: failed firing", "it is the firing one");
    for (int i = 0; i < 30; i++, t += 1000)
        see(a, "active", 0, t);
    CHECK_INT(got.n, 1, "clear for 29 s (resolve_seconds 30): not resolved yet");
    see(a, "active", 0, t);
    CHECK_INT(got.n, 2, "clear for 30 s: resolved");
    CHECK_STR(got.summary[1], "shop: failed resolved", "it is the resolved one");
    for (int i = 0; i < 60; i++, t += 1000)
        see(a, "active", 0, t);
    CHECK_INT(got.n, 2, "nothing more while it stays clear");
    CHECK_INT(alerts_open(a), 0, "no incident left open");
    alerts_free(a);
}

static void test_flapping(void)
{
    struct alerts *a = fresh();
    int64_t t = T0 + 1000;
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 3; i++, t += 1000)
            see(a, "failed", 0, t);
        for (int i = 0; i < 10; i++, t += 1000)
            see(a, "active", 0, t);
    }
    CHECK_INT(got.n, 1, "failed and back five times within resolve_seconds: one incident, one alert");
    for (int i = 0; i < 30; i++, t += 1000)
        see(a, "active", 0, t);
    CHECK_INT(got.n, 2, "then one resolved");
    alerts_free(a);
}

static void test_lag(void)
{
    struct alerts *a = fresh();
    int64_t t = T0 + 1000;
    see(a, "active", 60000, t += 1000);
    CHECK_INT(got.n, 0, "lag exactly at lag_seconds: no alert");
    see(a, "active", 61000, t += 1000);
    CHECK_INT(got.n, 1, "lag over lag_seconds: alert");
    CHECK_STR(got.summary[0], "shop: lag firing", "a lag alert");
    CHECK(got.n && strstr(got.body[0], "\"lag_seconds\": 61.000") != NULL, "it carries the lag in seconds");
    CHECK(got.n && strstr(got.body[0], "is 1m 01s behind its source (lag alert: over 1m 00s)") != NULL,
          "its text says how far behind");
    for (int i = 0; i < 20; i++)
        see(a, "active", 5000, t += 1000);
    see(a, "active", 90000, t += 1000);       /* back over within resolve_seconds */
    for (int i = 0; i < 29; i++)
        see(a, "active", 100, t += 1000);
    CHECK_INT(got.n, 1, "lag hovering around the threshold: still the one alert");
    see(a, "failed", -1, t += 1000);
    for (int i = 0; i < 60; i++)
        see(a, "failed", 100, t += 1000);
    CHECK_INT(got.n, 2, "failed: a failed alert, and the lag neither resolves nor fires again");
    CHECK_STR(got.summary[1], "shop: failed firing", "the second is the failed one");
    for (int i = 0; i < 31; i++)
        see(a, "paused", -1, t += 1000);
    CHECK_INT(got.n, 4, "paused: both resolve once clear for resolve_seconds");
    CHECK(got.n == 4 && strstr(got.body[2], "\"status\": \"resolved\"") && strstr(got.body[3], "\"status\": \"resolved\""),
          "two resolved messages");
    alerts_free(a);
}

/* A stuck applier: the log's lag (computed at each read from its basis)
 * grows, and the stall is its own incident. */
static void test_stuck_applier(void)
{
    struct alerts *a = fresh();
    struct statelog_integration s = reading("active", 0, T0 + 1000);   /* the last refresh */
    for (int64_t t = T0 + 2000; t <= T0 + 60000; t += 1000) {
        s.lag_ms = t - (T0 + 1000);
        s.stalled_since = t - (T0 + 1000) >= 30000 ? T0 + 1000 : 0;
        alerts_observe(a, &s, 1, t, on_emit, NULL);
    }
    CHECK_INT(got.n, 1, "stuck for 59 s: the stalled alert (30 s), no lag alert (60 s) yet");
    CHECK(got.n == 1 && strstr(got.summary[0], "stalled firing"), "the first is the stalled one");
    CHECK(got.n == 1 && strstr(got.body[0], "has not moved for 30s while changes wait"),
          "it says how long the position has not moved");
    s.lag_ms = 61000;
    alerts_observe(a, &s, 1, T0 + 62000, on_emit, NULL);
    CHECK_INT(got.n, 2, "stuck for 61 s: the lag alert fires");
    alerts_free(a);
}

static void test_startup_grace(void)
{
    const struct config_integration *igs[] = { &ig };
    struct alerts *a = alerts_new(igs, 1, "db1");
    reset();
    int64_t t = T0;
    for (; t < T0 + ALERTS_STARTUP_GRACE_MS; t += 1000)
        see(a, "failed", 0, t);
    CHECK_INT(got.n, 0, "failed since the previous run: nothing within the grace");
    see(a, "failed", 0, t);
    CHECK_INT(got.n, 1, "still failed after the grace: it fires");
    alerts_free(a);

    a = alerts_new(igs, 1, "db1");
    reset();
    see(a, "failed", 0, T0);
    see(a, "failed", 0, T0 + 3000);
    for (t = T0 + 4000; t < T0 + 120000; t += 1000)
        see(a, "active", 0, t);
    CHECK_INT(got.n, 0, "healed by the restart within the grace: never sent");
    CHECK_INT(alerts_open(a), 0, "and forgotten");
    alerts_free(a);
}

static void test_tables_grouped(void)
{
    struct statelog_table tb[8];
    char names[8][32];
    struct alerts *a = fresh();
    struct statelog_integration g = reading("active", 0, T0);

    for (int i = 0; i < 8; i++) {
        snprintf(names[i], sizeof names[i], "db.t%d", i);
        tb[i] = (struct statelog_table){ .name = names[i], .state = (char *)"synced" };
    }
    g.tables = tb;
    g.ntables = 8;
    for (int i = 0; i < 7; i++) {
        tb[i].state = (char *)"resync_required";
        tb[i].reason = (char *)"the source log no longer has the checkpoint position";
    }
    tb[7].state = (char *)"failed";
    tb[7].reason = (char *)"type change";
    g.updated_at = T0 + 1000;
    alerts_observe(a, &g, 1, T0 + 1000, on_emit, NULL);
    CHECK_INT(got.n, 2, "7 tables resync_required and 1 failed at once: two messages");
    const char *grp = got.n ? got.body[0] : "";
    CHECK(strstr(grp, "7 tables of integration shop are resync_required: db.t0, db.t1, db.t2, db.t3, db.t4 and 2 more (the source log no longer has the checkpoint position)") != NULL,
          "the group's text names five tables and the common reason");
    CHECK(strstr(grp, "\"tables\": [\"db.t0\", \"db.t1\", \"db.t2\", \"db.t3\", \"db.t4\", \"db.t5\", \"db.t6\"]") != NULL,
          "the group lists every table");
    CHECK(strstr(grp, "\"table\": null") != NULL, "a group has no single table");
    CHECK(got.n == 2 && strstr(got.body[1], "\"table\": \"db.t7\"") && strstr(got.body[1], "\"kind\": \"failed\""),
          "the failed table is its own message");
    for (int i = 0; i < 8; i++)
        tb[i].state = (char *)"synced";
    for (int64_t t = T0 + 2000; t <= T0 + 32000; t += 1000) {
        g.updated_at = t;
        alerts_observe(a, &g, 1, t, on_emit, NULL);
    }
    CHECK_INT(got.n, 4, "resolved together: one group message and one table message");
    CHECK(got.n == 4 && strstr(got.body[2], "7 tables of integration shop are no longer resync_required"),
          "the group resolves as a group");
    alerts_free(a);
}

static void test_on_filter(void)
{
    struct config_integration lag_only = ig, off = ig;     /* and "other": not watched */
    lag_only.alerts.on = ALERT_ON_LAG;
    off.alerts.webhook_url = NULL;
    off.name = "off";
    const struct config_integration *igs[] = { &lag_only, &off };
    struct alerts *a = alerts_new(igs, 2, "db1");
    reset();
    struct statelog_integration g[3] = { reading("active", 0, T0), reading("failed", 0, T0),
                                         reading("failed", 0, T0) };
    g[1].name = (char *)"off";
    g[2].name = (char *)"other";
    alerts_observe(a, g, 3, T0, on_emit, NULL);
    for (int64_t t = T0 + 1000; t < T0 + 40000; t += 1000) {
        g[0] = reading("failed", 0, t);
        alerts_observe(a, g, 3, t, on_emit, NULL);
    }
    CHECK_INT(got.n, 0, "on: [lag], an integration without a URL, one not watched: no failed alert");
    alerts_free(a);
}

static void test_message(void)
{
    struct alerts *a = fresh();
    struct statelog_integration g = reading("failed", 0, T0 + 1000);
    g.reason = (char *)"target: <refused> & \"down\"";
    alerts_observe(a, &g, 1, T0 + 1000, on_emit, NULL);
    const char *b = got.n ? got.body[0] : "";
    CHECK(!strncmp(b, "{\"text\": \"[FIRING] zetl (db1): integration shop is failed: target: &lt;refused&gt; &amp; \\\"down\\\"\"", 90),
          "text: status, host, integration, state and the reason, Slack-escaped then JSON-escaped");
    CHECK(strstr(b, "\"status\": \"firing\"") && strstr(b, "\"kind\": \"failed\"") &&
          strstr(b, "\"integration\": \"shop\"") && strstr(b, "\"table\": null") &&
          strstr(b, "\"state\": \"failed\"") && strstr(b, "\"reason\": \"target: <refused> & \\\"down\\\"\"") &&
          strstr(b, "\"lag_seconds\": 0.000") && strstr(b, "\"lag_threshold_seconds\": 60.000") &&
          strstr(b, "\"time\": \"2023-11-14T22:13:21Z\"") && strstr(b, "\"since\": \"2023-11-14T22:13:21Z\"") &&
          strstr(b, "\"host\": \"db1\""), "the structured fields");
    CHECK(!strstr(b, "SECRETTOKEN42") && !strstr(b, "hooks.example"), "the body never holds the webhook URL");
    CHECK(b[0] && b[strlen(b) - 1] == '}', "one JSON object");

    /* Gone from the log (the integration's rows were deleted): resolves. */
    for (int64_t t = T0 + 2000; t <= T0 + 33000; t += 1000)
        alerts_observe(a, NULL, 0, t, on_emit, NULL);
    CHECK_INT(got.n, 2, "an integration gone from the log resolves");
    CHECK(got.n == 2 && strstr(got.body[1], "is no longer failed (now gone from the state log; it lasted 31s)"),
          "and says so");
    alerts_free(a);
    reset();
}

int main(void)
{
    TEST_RUN(test_once_per_incident);
    TEST_RUN(test_flapping);
    TEST_RUN(test_lag);
    TEST_RUN(test_stuck_applier);
    TEST_RUN(test_startup_grace);
    TEST_RUN(test_tables_grouped);
    TEST_RUN(test_on_filter);
    TEST_RUN(test_message);
    TEST_RUN(test_failover);
    return test_exit();
}
