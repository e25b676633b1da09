/*
 * test_metrics.c — the Prometheus text of `zetl run --metrics-file`: the
 * exact text for one integration (HELP/TYPE, one sample per label set,
 * seconds with milliseconds, the figures of tables being copied, none for
 * what is unknown), label escaping, the strict checker of
 * tests/tools/prom_text.h on the output and on broken texts, and the atomic
 * file replacement.
 */
#include "runtime/watch/metrics.h"
#include "tests/tools/prom_text.h"
#include "tests/unit/test.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *format(const struct metrics_input *in)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    int rc = metrics_format(f, in);
    fclose(f);
    CHECK_INT(rc, 0, "metrics_format succeeds");
    return text;
}

static void test_escape(void)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    metrics_label_value(f, "a\"b\\c\nd");
    metrics_label_value(f, NULL);
    fclose(f);
    CHECK_STR(s, "\"a\\\"b\\\\c\\nd\"\"\"", "quote, backslash and newline escaped; NULL is empty");
    free(s);
}

static void test_exact_text(void)
{
    struct statelog_table t[4] = {
        { .name = "public.orders", .state = "synced", .inserts = 3, .updates = 2, .deletes = 1,
          .rows_copied = 100, .last_applied_at = 1700000000123LL },
        { .name = "public.users", .state = "resync_required", .inserts = 10, .rows_copied = 7,
          .last_applied_at = 1700000000001LL },
        /* a chunked resync under way, and a copy in one read with nothing known yet */
        { .name = "public.items", .state = "resyncing", .rows_copied = 4500, .rows_estimated = 10000,
          .copy_chunks = 3, .copy_rows_per_s = 1500.26, .copy_eta_s = 4 },
        { .name = "public.logs", .state = "snapshotting", .copy_chunks = -1, .copy_rows_per_s = -1,
          .copy_eta_s = -1 },
    };
    struct statelog_integration g = { .name = "shop", .state = "active", .bytes_behind = 5,
                                      .tables = t, .ntables = 4 };
    struct metrics_integration mi = { .st = &g, .lag_ms = 1234, .errors = 2, .reconnects = 1 };
    struct metrics_input in = { .v = &mi, .n = 1, .alerts_sent = 4, .alerts_failed = 1,
                                .version = "9.9.9" };
    const char *want =
        "# HELP zetl_integration_state Integration state: 1 for the current state, 0 for the others.\n"
        "# TYPE zetl_integration_state gauge\n"
        "zetl_integration_state{integration=\"shop\",state=\"creating\"} 0\n"
        "zetl_integration_state{integration=\"shop\",state=\"snapshotting\"} 0\n"
        "zetl_integration_state{integration=\"shop\",state=\"active\"} 1\n"
        "zetl_integration_state{integration=\"shop\",state=\"paused\"} 0\n"
        "zetl_integration_state{integration=\"shop\",state=\"needs_attention\"} 0\n"
        "zetl_integration_state{integration=\"shop\",state=\"failed\"} 0\n"
        "zetl_integration_state{integration=\"shop\",state=\"standby\"} 0\n"
        "zetl_integration_state{integration=\"shop\",state=\"deleting\"} 0\n"
        "zetl_integration_state{integration=\"shop\",state=\"deleted\"} 0\n"
        "# HELP zetl_lag_seconds Now minus the source commit time of the oldest change not yet applied; 0 when caught up.\n"
        "# TYPE zetl_lag_seconds gauge\n"
        "zetl_lag_seconds{integration=\"shop\"} 1.234\n"
        "# HELP zetl_stalled 1 while changes wait and the applied position has not moved for alerts.stall_seconds.\n"
        "# TYPE zetl_stalled gauge\n"
        "zetl_stalled{integration=\"shop\"} 0\n"
        "# HELP zetl_bytes_behind Source log bytes read but not yet applied.\n"
        "# TYPE zetl_bytes_behind gauge\n"
        "zetl_bytes_behind{integration=\"shop\"} 5\n"
        "# HELP zetl_rows_applied_total Rows applied to the target from the change stream, by operation.\n"
        "# TYPE zetl_rows_applied_total counter\n"
        "zetl_rows_applied_total{integration=\"shop\",op=\"insert\"} 13\n"
        "zetl_rows_applied_total{integration=\"shop\",op=\"update\"} 2\n"
        "zetl_rows_applied_total{integration=\"shop\",op=\"delete\"} 1\n"
        "# HELP zetl_rows_copied Rows copied by the tables' current or last snapshot.\n"
        "# TYPE zetl_rows_copied gauge\n"
        "zetl_rows_copied{integration=\"shop\"} 4607\n"
        "# HELP zetl_tables Tables of the integration in each table state.\n"
        "# TYPE zetl_tables gauge\n"
        "zetl_tables{integration=\"shop\",state=\"pending\"} 0\n"
        "zetl_tables{integration=\"shop\",state=\"snapshotting\"} 1\n"
        "zetl_tables{integration=\"shop\",state=\"synced\"} 1\n"
        "zetl_tables{integration=\"shop\",state=\"resync_required\"} 1\n"
        "zetl_tables{integration=\"shop\",state=\"resyncing\"} 1\n"
        "zetl_tables{integration=\"shop\",state=\"failed\"} 0\n"
        "zetl_tables{integration=\"shop\",state=\"dropped_source\"} 0\n"
        "zetl_tables{integration=\"shop\",state=\"excluded\"} 0\n"
        "# HELP zetl_table_copy_rows Rows the table's copy under way has copied.\n"
        "# TYPE zetl_table_copy_rows gauge\n"
        "zetl_table_copy_rows{integration=\"shop\",table=\"public.items\"} 4500\n"
        "zetl_table_copy_rows{integration=\"shop\",table=\"public.logs\"} 0\n"
        "# HELP zetl_table_copy_rows_estimated The source's estimate of the rows of the table being copied.\n"
        "# TYPE zetl_table_copy_rows_estimated gauge\n"
        "zetl_table_copy_rows_estimated{integration=\"shop\",table=\"public.items\"} 10000\n"
        "# HELP zetl_table_copy_chunks Chunks the table's chunked copy has committed.\n"
        "# TYPE zetl_table_copy_chunks gauge\n"
        "zetl_table_copy_chunks{integration=\"shop\",table=\"public.items\"} 3\n"
        "# HELP zetl_table_copy_rows_per_second Rows copied per second over the last 10 to 20 seconds.\n"
        "# TYPE zetl_table_copy_rows_per_second gauge\n"
        "zetl_table_copy_rows_per_second{integration=\"shop\",table=\"public.items\"} 1500.3\n"
        "# HELP zetl_table_copy_eta_seconds Seconds until the copy reaches the estimate at that rate.\n"
        "# TYPE zetl_table_copy_eta_seconds gauge\n"
        "zetl_table_copy_eta_seconds{integration=\"shop\",table=\"public.items\"} 4\n"
        "# HELP zetl_errors_total Error events logged since this zetl process started.\n"
        "# TYPE zetl_errors_total counter\n"
        "zetl_errors_total{integration=\"shop\"} 2\n"
        "# HELP zetl_reconnects_total Reconnections (retries after a source or target error) since this zetl process started.\n"
        "# TYPE zetl_reconnects_total counter\n"
        "zetl_reconnects_total{integration=\"shop\"} 1\n"
        "# HELP zetl_last_applied_timestamp_seconds Unix time of the last change applied to any table of the integration.\n"
        "# TYPE zetl_last_applied_timestamp_seconds gauge\n"
        "zetl_last_applied_timestamp_seconds{integration=\"shop\"} 1700000000.123\n"
        "# HELP zetl_alerts_sent_total Webhook alerts delivered since this zetl process started.\n"
        "# TYPE zetl_alerts_sent_total counter\n"
        "zetl_alerts_sent_total 4\n"
        "# HELP zetl_alert_delivery_failures_total Webhook alerts given up (after every retry, or dropped) since this zetl process started.\n"
        "# TYPE zetl_alert_delivery_failures_total counter\n"
        "zetl_alert_delivery_failures_total 1\n"
        "# HELP zetl_build_info The zetl version that writes this file.\n"
        "# TYPE zetl_build_info gauge\n"
        "zetl_build_info{version=\"9.9.9\"} 1\n";
    char *text = format(&in);
    CHECK_STR(text, want, "the exact exposition text of one integration");
    char err[256] = "";
    CHECK_INT(prom_text_check(text, strlen(text), err, sizeof err), 36, "it parses: 36 samples");
    free(text);
}

/* A lag measured from whole-second timestamps is written as whole seconds. */
static void test_lag_resolution(void)
{
    struct statelog_integration g = { .name = "my", .state = "active", .bytes_behind = 0,
                                      .lag_res_ms = 1000, .stalled_since = 1700000000000LL };
    struct metrics_integration mi = { .st = &g, .lag_ms = 1734 };
    struct metrics_input in = { .v = &mi, .n = 1, .version = "0.1.0" };
    char *text = format(&in);
    CHECK(text && strstr(text, "zetl_lag_seconds{integration=\"my\"} 1.000\n"),
          "second-resolution lag: 1.734 s measured is written 1.000, not 1.734");
    CHECK(text && strstr(text, "zetl_stalled{integration=\"my\"} 1\n"), "stalled: 1");
    free(text);
}

/* ha: which process runs each integration, only for those with ha on. */
static void test_ha_active(void)
{
    struct statelog_integration g[3] = {
        { .name = "run", .state = "active", .ha_role = "active", .ha_member = "a" },
        { .name = "wait", .state = "standby", .ha_role = "standby", .ha_member = "a" },
        { .name = "plain", .state = "active" },
    };
    struct metrics_integration mi[3] = { { .st = &g[0], .lag_ms = 0 }, { .st = &g[1], .lag_ms = -1 },
                                         { .st = &g[2], .lag_ms = 0 } };
    struct metrics_input in = { .v = mi, .n = 3, .version = "0.1.0" };
    char *text = format(&in), err[256] = "";
    CHECK(prom_text_check(text, strlen(text), err, sizeof err) > 0, "it parses");
    CHECK(text && strstr(text, "zetl_ha_active{integration=\"run\"} 1\n"), "the holder: 1");
    CHECK(text && strstr(text, "zetl_ha_active{integration=\"wait\"} 0\n"), "a standby: 0");
    CHECK(text && !strstr(text, "zetl_ha_active{integration=\"plain\"}"), "ha off: no sample");
    CHECK(text && strstr(text, "zetl_integration_state{integration=\"wait\",state=\"standby\"} 1\n"),
          "the standby state");
    free(text);
}

static void test_many_parse(void)
{
    struct statelog_table t = { .name = "a.b", .state = "failed", .inserts = 1 };
    struct statelog_integration g[3] = {
        { .name = "one", .state = "failed", .bytes_behind = -1, .tables = &t, .ntables = 1 },
        { .name = "we\"ird\\na\nme", .state = "paused", .bytes_behind = 0 },
        { .name = "three", .state = NULL, .bytes_behind = 7 },
    };
    struct metrics_integration mi[3] = {
        { .st = &g[0], .lag_ms = -1 }, { .st = &g[1], .lag_ms = 0 }, { .st = &g[2], .lag_ms = 61001 },
    };
    struct metrics_input in = { .v = mi, .n = 3, .version = "0.1.0" };
    char *text = format(&in), err[256] = "";
    int n = prom_text_check(text, strlen(text), err, sizeof err);
    /* per integration 9 + 3 + 1 + 8 + 1 + 1 + 1 (stalled) = 24, lag 2, bytes 2, last applied 0, process 3 */
    CHECK_INT(n, 3 * 24 + 2 + 2 + 3, "three integrations parse, one sample per label set");
    CHECK(strstr(text, "zetl_ha_active") == NULL, "ha off: no zetl_ha_active family");
    if (n < 0)
        printf("# %s\n", err);
    CHECK(strstr(text, "zetl_lag_seconds{integration=\"one\"}") == NULL, "unknown lag: no sample");
    CHECK(strstr(text, "zetl_bytes_behind{integration=\"one\"}") == NULL, "unknown bytes behind: no sample");
    CHECK(strstr(text, "zetl_lag_seconds{integration=\"three\"} 61.001\n") != NULL, "lag in seconds");
    CHECK(strstr(text, "{integration=\"we\\\"ird\\\\na\\nme\",state=\"paused\"} 1\n") != NULL,
          "an odd name is escaped in every label");
    free(text);
}

#define REJECT(text, why_part, what) do {                                            \
        char e_[256] = "";                                                           \
        int r_ = prom_text_check(text, strlen(text), e_, sizeof e_);                \
        CHECK(r_ < 0 && strstr(e_, why_part) != NULL, "checker rejects: " what);    \
        if (r_ >= 0 || !strstr(e_, why_part)) printf("# saw %d %s\n", r_, e_);       \
    } while (0)

static void test_checker_rejects(void)
{
    REJECT("x 1\n", "line 1: sample of x without a TYPE line", "a sample without TYPE");
    REJECT("# TYPE x gauge\nx 1\n# TYPE x gauge\n", "line 3: second TYPE", "TYPE twice");
    REJECT("# TYPE x gauge\nx 1\nx 2\n", "duplicate sample x", "the same sample twice");
    REJECT("# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n", "duplicate sample", "the same label set twice");
    REJECT("# TYPE x gauge\n# TYPE y gauge\nx 1\ny 1\nx{a=\"2\"} 1\n", "not contiguous", "a family split");
    REJECT("# TYPE x_count counter\nx_count 1\n", "does not end in _total", "a counter without _total");
    REJECT("# TYPE 1x gauge\n", "bad metric name", "a name starting with a digit");
    REJECT("# TYPE x gauge\nx{a=\"\\t\"} 1\n", "bad escape", "a bad escape");
    REJECT("# TYPE x gauge\nx{a=\"1} 1\n", "unterminated", "an unterminated label value");
    REJECT("# TYPE x gauge\nx{__a=\"1\"} 1\n", "bad label name", "a reserved label name");
    REJECT("# TYPE x gauge\nx{a=\"1\",a=\"2\"} 1\n", "label a twice", "a label twice");
    REJECT("# TYPE x gauge\nx one\n", "bad value", "a value that is not a number");
    REJECT("# TYPE x gauge\nx 1", "no newline", "a half-written last line");
    REJECT("# TYPE x gauge\r\nx 1\n", "CR", "CRLF");
    REJECT("# TYPE x widget\n", "is not counter", "an unknown type");
    const char *ok = "# TYPE x gauge\nx NaN\nx{a=\"\"} +Inf 1700000000\n";
    char err[64];
    CHECK_INT(prom_text_check(ok, strlen(ok), err, sizeof err), 2, "checker accepts NaN, +Inf and a timestamp");
}

static void test_write_file(void)
{
    char dir[] = "/tmp/zetl-metrics-XXXXXX", path[256], tmp[300], err[512], buf[64];
    struct stat st1, st2;

    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return;
    }
    snprintf(path, sizeof path, "%s/zetl.prom", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CHECK_INT(metrics_write_file(path, "a 1\n", 4, err, sizeof err), 0, "first write");
    CHECK_INT(stat(path, &st1), 0, "the file exists");
    CHECK_INT(st1.st_mode & 0777, 0644 & ~(mode_t)0, "mode 0644 (before umask)");
    CHECK_INT(metrics_write_file(path, "b 22\n", 5, err, sizeof err), 0, "second write");
    CHECK_INT(stat(path, &st2), 0, "the file still exists");
    CHECK(st1.st_ino != st2.st_ino, "replaced by rename (a new inode), not rewritten in place");
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    CHECK_STR(buf, "b 22\n", "the new content, whole");
    CHECK(access(tmp, F_OK) != 0 && errno == ENOENT, "no PATH.tmp left behind");

    char bad[300];
    snprintf(bad, sizeof bad, "%s/missing/zetl.prom", dir);
    CHECK_INT(metrics_write_file(bad, "a 1\n", 4, err, sizeof err), -1, "a missing directory fails");
    CHECK(strstr(err, bad) && strstr(err, "No such file or directory"), "the error names the path and why");
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    umask(022);
    TEST_RUN(test_escape);
    TEST_RUN(test_exact_text);
    TEST_RUN(test_many_parse);
    TEST_RUN(test_ha_active);
    TEST_RUN(test_lag_resolution);
    TEST_RUN(test_checker_rejects);
    TEST_RUN(test_write_file);
    return test_exit();
}
