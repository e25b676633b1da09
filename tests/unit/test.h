/*
 * test.h — the smallest test harness that keeps zetl's test protocol.
 *
 * Every check prints exactly one line that tests/run.sh counts:
 *   PASS <test>: <what>
 *   FAIL <test>: <what> — expected <x>, saw <y>    (file:line follows)
 * A unit-test binary runs its tests from main() with TEST_RUN(fn) and returns
 * test_exit(), which is non-zero when any check failed. A binary that crashes
 * or prints no PASS line at all is counted as a failure by the runner.
 * Single-threaded; include it once per test binary.
 */
#ifndef ZETL_TEST_H
#define ZETL_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int test_failures_;
static const char *test_current_ = "?";

#define TEST_RUN(fn) do { test_current_ = #fn; fn(); } while (0)

static inline int test_exit(void) { fflush(stdout); return test_failures_ ? 1 : 0; }

static inline void test_report_(int ok, const char *what, const char *file, int line,
                                const char *fmt_expected, const char *fmt_saw)
{
    if (ok) {
        printf("PASS %s: %s\n", test_current_, what);
    } else {
        test_failures_++;
        printf("FAIL %s: %s — expected %s, saw %s (%s:%d)\n", test_current_, what,
               fmt_expected, fmt_saw, file, line);
    }
}

/* CHECK(cond, what): a boolean fact. */
#define CHECK(cond, what) \
    test_report_(!!(cond), (what), __FILE__, __LINE__, "true", "false")

/* CHECK_INT(saw, expected, what) */
#define CHECK_INT(saw, expected, what) do {                                          \
        long long s_ = (long long)(saw), e_ = (long long)(expected);                 \
        char es_[32], ss_[32];                                                       \
        snprintf(es_, sizeof es_, "%lld", e_); snprintf(ss_, sizeof ss_, "%lld", s_);\
        test_report_(s_ == e_, (what), __FILE__, __LINE__, es_, ss_);                \
    } while (0)

/* CHECK_U64(saw, expected, what) */
#define CHECK_U64(saw, expected, what) do {                                          \
        uint64_t s_ = (uint64_t)(saw), e_ = (uint64_t)(expected);                    \
        char es_[32], ss_[32];                                                       \
        snprintf(es_, sizeof es_, "%" PRIu64, e_); snprintf(ss_, sizeof ss_, "%" PRIu64, s_); \
        test_report_(s_ == e_, (what), __FILE__, __LINE__, es_, ss_);                \
    } while (0)

/* CHECK_STR(saw, expected, what): NULL compares equal only to NULL. */
static inline void test_check_str_(const char *s, const char *e, const char *what,
                                   const char *file, int line)
{
    int ok = (s == NULL || e == NULL) ? s == e : strcmp(s, e) == 0;
    if (ok) {
        printf("PASS %s: %s\n", test_current_, what);
        return;
    }
    test_failures_++;
    printf("FAIL %s: %s — expected %s%s%s, saw %s%s%s (%s:%d)\n", test_current_, what,
           e ? "\"" : "", e ? e : "NULL", e ? "\"" : "",
           s ? "\"" : "", s ? s : "NULL", s ? "\"" : "", file, line);
}
#define CHECK_STR(saw, expected, what) \
    test_check_str_((saw), (expected), (what), __FILE__, __LINE__)

/* CHECK_MEM(saw, saw_len, expected, expected_len, what) */
#define CHECK_MEM(saw, slen, expected, elen, what) do {                              \
        size_t sl_ = (slen), el_ = (elen);                                           \
        int ok_ = sl_ == el_ && memcmp((saw), (expected), sl_) == 0;                 \
        char es_[32], ss_[32];                                                       \
        snprintf(es_, sizeof es_, "%zu bytes", el_);                                 \
        snprintf(ss_, sizeof ss_, ok_ ? "%zu bytes" : "%zu different bytes", sl_);   \
        test_report_(ok_, (what), __FILE__, __LINE__, es_, ss_);                     \
    } while (0)

#endif
