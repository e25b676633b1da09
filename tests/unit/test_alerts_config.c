/*
 * test_alerts_config.c — the alerts: blocks of the config: defaults, the
 * top-level block inherited key by key, per-integration overrides, on: [],
 * every validation message at its file:line:col, a webhook URL never quoted
 * back, and config_redact_origin().
 */
#include "config/config.h"
#include "tests/unit/test.h"

#include <stdlib.h>

/* One integration; ALERTS_AT is where its alerts: block goes (line 12). */
#define IG(name) \
    "  - name: " name "\n"                                   \
    "    source: {kind: mysql, user: r, databases: [db]}\n"  \
    "    target: {kind: postgres, dsn: \"host=h dbname=w\"}\n" \
    "    tables: {include: [\"db.%\"]}\n"
#define SLACK "https://hooks.slack.com/services/T000/B000/SECRETTOKEN42"

static char errbuf[8192];

static struct config *load(const char *yaml)
{
    struct config *c = NULL;
    errbuf[0] = '\0';
    if (config_load_buffer("t.yaml", yaml, strlen(yaml), &c, errbuf, sizeof errbuf) != 0)
        return NULL;
    return c;
}

/* The first error line of a config that must not load ("" when it loads). */
static const char *first_error(const char *yaml)
{
    static char first[2048];
    struct config *c = load(yaml);
    if (c) {
        config_free(c);
        return "";
    }
    size_t n = strcspn(errbuf, "\n");
    if (n >= sizeof first)
        n = sizeof first - 1;
    memcpy(first, errbuf, n);
    first[n] = '\0';
    return first;
}

#define BAD(yaml, expected, what) CHECK_STR(first_error(yaml), expected, what)

static void test_no_alerts(void)
{
    struct config *c = load("integrations:\n" IG("a"));
    CHECK(c != NULL, "a config without alerts loads");
    if (!c)
        return;
    CHECK(c->integrations[0].alerts.webhook_url == NULL, "no alerts: no webhook_url");
    CHECK_INT(c->integrations[0].alerts.lag_seconds, 300, "default lag_seconds");
    CHECK_INT(c->alerts.line, 0, "no top-level block");
    config_free(c);
}

static void test_inherit_and_override(void)
{
    struct config *c = load("alerts:\n"
                            "  webhook_url: " SLACK "\n"
                            "integrations:\n"
                            IG("a")
                            IG("b")
                            "    alerts: {lag_seconds: 60, on: [failed, lag], resolve_seconds: 0}\n"
                            IG("c")
                            "    alerts: {on: []}\n"
                            IG("d")
                            "    alerts: {webhook_url: \"http://127.0.0.1:9/hook\", timeout_seconds: 3}\n");
    CHECK(c != NULL, "top-level and per-integration alerts load");
    if (!c) {
        printf("# %s\n", errbuf);
        return;
    }
    const struct config_alerts *a = &config_find(c, "a")->alerts, *b = &config_find(c, "b")->alerts,
                               *cc = &config_find(c, "c")->alerts, *d = &config_find(c, "d")->alerts;
    CHECK_STR(a->webhook_url, SLACK, "a inherits the top-level webhook_url");
    CHECK_INT(a->lag_seconds, 300, "a: default lag_seconds");
    CHECK_INT(a->on, ALERT_ON_ALL, "a: every event by default");
    CHECK_INT(a->resolve_seconds, 30, "a: default resolve_seconds");
    CHECK_INT(a->timeout_seconds, 10, "a: default timeout_seconds");
    CHECK_STR(b->webhook_url, SLACK, "b inherits the webhook_url it does not set");
    CHECK_INT(b->lag_seconds, 60, "b overrides lag_seconds");
    CHECK_INT(b->on, ALERT_ON_FAILED | ALERT_ON_LAG, "b overrides on");
    CHECK_INT(b->resolve_seconds, 0, "b: resolve_seconds 0 is allowed");
    CHECK(cc->webhook_url == NULL, "c: on: [] turns its alerts off");
    CHECK_STR(d->webhook_url, "http://127.0.0.1:9/hook", "d: its own webhook_url (http to loopback)");
    CHECK_INT(d->timeout_seconds, 3, "d: timeout_seconds");
    CHECK_INT(d->lag_seconds, 300, "d: lag_seconds from the top level's default");
    CHECK_INT(c->alerts.line, 2, "the top-level block's line (its first key)");
    config_free(c);

    c = load("integrations:\n" IG("a") IG("b") "    alerts:\n      webhook_url: https://h.example/x\n");
    CHECK(c && !config_find(c, "a")->alerts.webhook_url && config_find(c, "b")->alerts.webhook_url,
          "only the integration with an alerts block alerts");
    config_free(c);

    setenv("ZETL_T_HOOK", SLACK, 1);
    c = load("alerts: {webhook_url: \"${ZETL_T_HOOK}\"}\nintegrations:\n" IG("a"));
    CHECK(c && !strcmp(c->integrations[0].alerts.webhook_url, SLACK), "${VAR} in webhook_url");
    config_free(c);
    c = load("alerts: {webhook_url: \"http://localhost:8080\"}\nintegrations:\n" IG("a"));
    CHECK(c != NULL, "http://localhost is accepted");
    config_free(c);
    c = load("alerts: {webhook_url: \"http://[::1]/x\"}\nintegrations:\n" IG("a"));
    CHECK(c != NULL, "http://[::1] is accepted");
    config_free(c);
}

static void test_bad(void)
{
    BAD("alerts: {lag_seconds: 5}\nintegrations:\n" IG("a"),
        "t.yaml:1:9: alerts has no webhook_url; add webhook_url: \"https://...\" (or give one in each integration's alerts:)",
        "top-level block without a webhook_url");
    BAD("integrations:\n" IG("a") "    alerts:\n      lag_seconds: 5\n",
        "t.yaml:7:7: alerts of integration a have no webhook_url; add webhook_url: \"https://...\" here or to the top-level alerts:, or write on: [] to turn them off",
        "integration block without a webhook_url");
    BAD("alerts: {on: []}\nintegrations:\n" IG("a"), "", "on: [] needs no webhook_url");
    BAD("alerts: {webhook_url: \"ftp://h/x\"}\nintegrations:\n" IG("a"),
        "t.yaml:1:23: webhook_url must start with https:// (e.g. the Slack incoming-webhook URL)",
        "ftp URL");
    BAD("alerts: {webhook_url: \"http://hooks.example.com/T/SECRETTOKEN42\"}\nintegrations:\n" IG("a"),
        "t.yaml:1:23: webhook_url uses http:// to a host that is not loopback; the URL holds a secret, so use https:// (http:// is accepted only for 127.0.0.1, localhost and [::1])",
        "http to a remote host");
    BAD("alerts: {webhook_url: \"http://127.0.0.1.evil.example/x\"}\nintegrations:\n" IG("a"),
        "t.yaml:1:23: webhook_url uses http:// to a host that is not loopback; the URL holds a secret, so use https:// (http:// is accepted only for 127.0.0.1, localhost and [::1])",
        "a host that only starts like 127.");
    BAD("alerts: {webhook_url: \"https:///services/x\"}\nintegrations:\n" IG("a"),
        "t.yaml:1:23: webhook_url has no host after the scheme; give the full URL, e.g. https://hooks.slack.com/services/...",
        "no host");
    BAD("alerts: {webhook_url: \"https://h/a b\"}\nintegrations:\n" IG("a"),
        "t.yaml:1:23: webhook_url contains a space or a control character; remove it (spaces in a URL are written %20)",
        "space in the URL");
    BAD("alerts: {webhook_url: \"\"}\nintegrations:\n" IG("a"),
        "t.yaml:1:23: webhook_url is empty; give the webhook's URL, or write on: [] to turn alerts off",
        "empty URL");
    BAD("alerts: {webhook_url: " SLACK ", on: [faild]}\nintegrations:\n" IG("a"),
        "t.yaml:1:86: invalid alert event \"faild\"; did you mean `failed`? (valid: failed, needs_attention, resync_required, lag, stalled, failover)",
        "unknown event with a suggestion");
    BAD("alerts: {webhook_url: " SLACK ", on: failed}\nintegrations:\n" IG("a"),
        "t.yaml:1:85: on must be a list, e.g. [failed, lag] (or [] for no alerts), got a string",
        "on is not a list");
    BAD("alerts: {webhook_url: " SLACK ", lag_seconds: 0}\nintegrations:\n" IG("a"),
        "t.yaml:1:94: lag_seconds 0 is out of range (1..604800)", "lag_seconds 0");
    BAD("alerts: {webhook_url: " SLACK ", timeout_seconds: x}\nintegrations:\n" IG("a"),
        "t.yaml:1:98: timeout_seconds must be an integer, got \"x\"", "timeout_seconds not a number");
    BAD("alerts: {webhok_url: " SLACK "}\nintegrations:\n" IG("a"),
        "t.yaml:1:9: alerts has no webhook_url; add webhook_url: \"https://...\" (or give one in each integration's alerts:)",
        "a misspelt key leaves the block without a URL (first, at the block)");
    CHECK(strstr(errbuf, "t.yaml:1:10: unknown key `webhok_url` in alerts; did you mean `webhook_url`?") != NULL,
          "a misspelt key gets a suggestion");
    BAD("alerts: yes\nintegrations:\n" IG("a"),
        "t.yaml:1:9: alerts must be a mapping (webhook_url, lag_seconds, on, resolve_seconds, timeout_seconds, stall_seconds), got a string",
        "alerts is a scalar");
    BAD("integrations:\n" IG("a") "    alerts: {webhook_url: " SLACK ", colour: red}\n",
        "t.yaml:6:85: unknown key `colour` in alerts; valid keys: webhook_url, lag_seconds, on, resolve_seconds, timeout_seconds, stall_seconds",
        "unknown key in an integration's block");
    unsetenv("ZETL_T_UNSET");
    BAD("alerts: {webhook_url: \"${ZETL_T_UNSET}\"}\nintegrations:\n" IG("a"),
        "t.yaml:1:23: environment variable ZETL_T_UNSET (used in webhook_url) is not set; export ZETL_T_UNSET=... before starting zetl (under systemd: Environment= or EnvironmentFile=), or write $${ for a literal ${",
        "unset variable in webhook_url");
}

static void test_secret_never_shown(void)
{
    static const char *const bad[] = {
        "alerts: {webhook_url: \"http://hooks.example.com/T/SECRETTOKEN42\"}\nintegrations:\n" IG("a"),
        "alerts: {webhook_url: \"https://h/SECRETTOKEN42 x\"}\nintegrations:\n" IG("a"),
        "alerts: {webhook_url: \"gopher://SECRETTOKEN42\"}\nintegrations:\n" IG("a"),
        "alerts: {webhook_url: [\"https://h/SECRETTOKEN42\"]}\nintegrations:\n" IG("a"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        first_error(bad[i]);
        CHECK(errbuf[0] && !strstr(errbuf, "SECRETTOKEN42"), "a refused webhook_url is never quoted back");
    }
}

static void test_redact_origin(void)
{
    char b[128];
    config_redact_origin(SLACK, b, sizeof b);
    CHECK_STR(b, "https://hooks.slack.com/***", "Slack webhook: scheme and host only");
    config_redact_origin("https://user:pw@h.example:8443/x?token=t", b, sizeof b);
    CHECK_STR(b, "https://h.example:8443/***", "user:pass dropped, port kept");
    config_redact_origin("http://127.0.0.1:8080", b, sizeof b);
    CHECK_STR(b, "http://127.0.0.1:8080", "no path: nothing hidden");
    config_redact_origin("http://127.0.0.1:8080/", b, sizeof b);
    CHECK_STR(b, "http://127.0.0.1:8080", "a bare slash is no secret");
    config_redact_origin("https://h?k=SECRET", b, sizeof b);
    CHECK_STR(b, "https://h/***", "a query is hidden");
    config_redact_origin("no url SECRET", b, sizeof b);
    CHECK_STR(b, "***", "not a URL: all hidden");
    config_redact_origin(SLACK, b, 12);
    CHECK_STR(b, "https://hoo", "truncated, never past the buffer");
    config_redact_origin(NULL, b, sizeof b);
    CHECK_STR(b, "", "NULL");
}

static void test_example_yaml(void)
{
    char path[4096];
    const char *root = getenv("ZETL_ROOT");
    struct config *c = NULL;

    snprintf(path, sizeof path, "%s/config/example.yaml", root ? root : ".");
    setenv("TICKIT_PASSWORD", "tp", 1);
    setenv("WAREHOUSE_PASSWORD", "wp", 1);
    setenv("EVENTS_TOKEN", "et", 1);
    setenv("ZETL_HASH_KEY", "an-example-hash-key-0123456789", 1);
    int rc = config_load(path, &c, errbuf, sizeof errbuf);
    CHECK_INT(rc, 0, "config/example.yaml loads");
    if (rc) {
        printf("# %s\n", errbuf);
        return;
    }
    const struct config_integration *t = config_find(c, "tickit"), *s = config_find(c, "shop");
    CHECK(c->alerts.line > 0 && c->alerts.webhook_url, "example: a top-level alerts block with a URL");
    CHECK(t && t->alerts.webhook_url && t->alerts.lag_seconds == 300, "example: tickit inherits it");
    CHECK(s && s->alerts.lag_seconds == 900 && s->alerts.webhook_url, "example: shop overrides lag_seconds");
    config_free(c);
}

int main(void)
{
    TEST_RUN(test_no_alerts);
    TEST_RUN(test_inherit_and_override);
    TEST_RUN(test_bad);
    TEST_RUN(test_secret_never_shown);
    TEST_RUN(test_redact_origin);
    TEST_RUN(test_example_yaml);
    return test_exit();
}
