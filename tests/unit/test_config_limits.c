/*
 * test_config_limits.c — a wrong file never hangs the config loader: nesting
 * deeper than 64 levels and files over 1 MiB are refused at once with one
 * FILE:LINE:COL line naming the limit; the limits themselves still load; a
 * file of thousands of integrations (duplicate-name check) stays fast.
 * "Fast" is CPU time, so a loaded machine does not fail the test.
 */
#include "config/config.h"
#include "tests/unit/test.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char errbuf[8192];

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Load buf as "t.yaml"; the first error line ("" when it loaded), the CPU
 * seconds it took in *secs. */
static const char *load(const char *buf, size_t len, double *secs)
{
    static char first[2048];
    struct config *c = NULL;
    double t0 = cpu_s();
    int rc = config_load_buffer("t.yaml", buf, len, &c, errbuf, sizeof errbuf);

    *secs = cpu_s() - t0;
    config_free(c);
    if (rc == 0)
        return "";
    size_t n = strcspn(errbuf, "\n");
    if (n >= sizeof first)
        n = sizeof first - 1;
    memcpy(first, errbuf, n);
    first[n] = '\0';
    return first;
}

/* `depth` block mappings inside `integrations:` (depth + 1 levels in all). */
static char *block_nest(int depth)
{
    size_t cap = (size_t)depth * (2 * (size_t)depth + 16) + 64, len = 0;
    char *s = malloc(cap);

    len += (size_t)snprintf(s + len, cap - len, "integrations:\n");
    for (int i = 0; i < depth; i++)
        len += (size_t)snprintf(s + len, cap - len, "%*sk%d:\n", 2 * (i + 1), "", i);
    snprintf(s + len, cap - len, "%*sx\n", 2 * (depth + 1), "");
    return s;
}

static char *flow_nest(int depth)
{
    char *s = malloc(2 * (size_t)depth + 32);
    size_t len = (size_t)sprintf(s, "integrations: ");
    memset(s + len, '[', (size_t)depth);
    memset(s + len + depth, ']', (size_t)depth);
    strcpy(s + len + 2 * (size_t)depth, "\n");
    return s;
}

static void test_depth(void)
{
    double secs;
    char *s = block_nest(69);      /* 70 levels */
    const char *e = load(s, strlen(s), &secs);

    CHECK_STR(e, "t.yaml:65:129: mappings and lists nested deeper than 64 levels; a zetl config needs 6 at most: is this the right file?",
              "70 nested block mappings: one line at the 65th level, naming the limit");
    CHECK(secs < 1.0, "refused within a second");
    free(s);

    s = flow_nest(200000);
    e = load(s, strlen(s), &secs);
    CHECK_STR(e, "t.yaml:1:78: mappings and lists nested deeper than 64 levels; a zetl config needs 6 at most: is this the right file?",
              "200000 nested flow lists: refused at the 65th");
    CHECK(secs < 1.0, "refused within a second (the loader used to spin for minutes)");
    free(s);

    s = block_nest(63);            /* exactly 64 levels */
    e = load(s, strlen(s), &secs);
    CHECK(strstr(errbuf, "nested deeper") == NULL, "64 levels are allowed (the error is another one)");
    CHECK(e[0] != '\0', "and the load still reports what is wrong with it");
    free(s);
}

static void test_size(void)
{
    size_t big = 10u << 20, len = 0;
    char *s = malloc(big + 1);
    double secs;
    int lines = 0;

    len += (size_t)sprintf(s, "integrations:\n");
    while (len + 64 < big) {
        len += (size_t)sprintf(s + len, "  - {name: a%07d, source: {kind: mysql, host: h}}\n", lines);
        lines++;
    }
    /* The line holding byte 1 MiB. */
    int want_line = 1;
    for (size_t i = 0; i < (1u << 20); i++)
        want_line += s[i] == '\n';
    const char *e = load(s, len, &secs);
    char want[300];
    snprintf(want, sizeof want, "t.yaml:%d:1: the config is larger than 1 MiB (zetl stops reading here); a real config is a few KiB: is this the right file?",
             want_line);
    CHECK_STR(e, want, "a 10 MB config: one line at the line where 1 MiB ends, naming the limit");
    CHECK(secs < 1.0, "refused within a second");

    /* The same through config_load, from a file. */
    char path[] = "/tmp/zetl-cfg-big-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0 && write(fd, s, len) == (ssize_t)len) {
        struct config *c = NULL;
        double t0 = cpu_s();
        int rc = config_load(path, &c, errbuf, sizeof errbuf);
        secs = cpu_s() - t0;
        char w2[300];
        snprintf(w2, sizeof w2, "%s:%d:1: the config is larger than 1 MiB", path, want_line);
        CHECK(rc == -1 && strncmp(errbuf, w2, strlen(w2)) == 0, "config_load names FILE:LINE and the limit");
        CHECK(secs < 1.0, "config_load refuses a 10 MB file within a second");
        config_free(c);
    } else {
        CHECK(0, "write the 10 MB file");
    }
    if (fd >= 0)
        close(fd);
    unlink(path);

    /* Just under the limit: thousands of integrations are read (and their
     * names checked for duplicates) quickly; a duplicate is still found. */
    len = (size_t)sprintf(s, "integrations:\n");
    lines = 0;
#define IG "  - {name: a%07d, source: {kind: mysql, user: r, databases: [d]}, " \
           "target: {kind: postgres, dsn: \"host=h dbname=w\"}, tables: {include: [\"d.%%\"]}}\n"
    while (len + 400 < (1u << 20)) {
        len += (size_t)sprintf(s + len, IG, lines);
        lines++;
    }
    len += (size_t)sprintf(s + len, IG, 5);
    e = load(s, len, &secs);
    CHECK(strstr(errbuf, "larger than") == NULL, "a file just under 1 MiB is read");
    char dup[200];
    snprintf(dup, sizeof dup, "t.yaml:%d:12: duplicate integration name `a0000005` (first at line 7); names must be unique",
             lines + 2);
    CHECK_STR(e, dup, "a duplicate name among thousands of integrations is found, naming the first");
    CHECK(secs < 2.0, "a 1 MiB file of thousands of integrations loads in under two CPU seconds");
    free(s);
}

int main(void)
{
    TEST_RUN(test_depth);
    TEST_RUN(test_size);
    return test_exit();
}
