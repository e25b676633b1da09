/*
 * test_backoff.c — the supervisor's retry waits: doubling from 1 s, jitter,
 * and never over the README's 60 s cap (before, 60 s plus up to 15 s of
 * jitter: waits of 62-73 s were seen).
 */
#include "tests/unit/test.h"

#include "runtime/base/backoff.h"

static void test_sequence(void)
{
    int b = BACKOFF_MIN_MS, seen[10];
    for (int i = 0; i < 10; i++) {
        seen[i] = b;
        b = backoff_next(b);
    }
    CHECK_INT(seen[0], 1000, "first base 1 s");
    CHECK_INT(seen[1], 2000, "doubles");
    CHECK_INT(seen[5], 32000, "sixth base 32 s");
    CHECK_INT(seen[6], 60000, "then the cap, not 64 s");
    CHECK_INT(seen[9], 60000, "stays at the cap");
}

static void test_wait_bounds(void)
{
    int over = 0, under = 0, lo = 1 << 30, hi = 0, varied = 0, first = -1;
    for (int b = BACKOFF_MIN_MS; b <= BACKOFF_MAX_MS; b = b == BACKOFF_MAX_MS ? b + 1 : backoff_next(b))
        for (unsigned r = 0; r < 200000; r += 7) {
            int w = backoff_wait_ms(b, r * 2654435761u);
            if (w > BACKOFF_MAX_MS) over++;
            if (w < b * 3 / 4) under++;
            if (b == BACKOFF_MAX_MS) {
                if (w < lo) lo = w;
                if (w > hi) hi = w;
                if (first < 0) first = w;
                else if (w != first) varied = 1;
            }
        }
    CHECK_INT(over, 0, "no wait is over 60 s");
    CHECK_INT(under, 0, "no wait is under three quarters of its base");
    CHECK(lo >= 45000 && hi == 60000, "at the cap the waits fall in [45 s, 60 s]");
    CHECK(varied, "at the cap the waits still vary (jitter)");
    CHECK_INT(backoff_wait_ms(1000, 0), 1000, "no jitter: the base");
    CHECK_INT(backoff_wait_ms(1000, 250), 1250, "jitter up to a quarter");
    CHECK_INT(backoff_wait_ms(60000, 0), 60000, "the cap itself");
    CHECK_INT(backoff_wait_ms(60000, 15000), 45000, "the cap less the jitter");
    CHECK_INT(backoff_wait_ms(40000, 10000), 50000, "below the cap: base plus jitter");
    CHECK_INT(backoff_wait_ms(50000, 12500), 47500, "over the cap: the cap less the jitter");
}

int main(void)
{
    TEST_RUN(test_sequence);
    TEST_RUN(test_wait_bounds);
    return test_exit();
}
