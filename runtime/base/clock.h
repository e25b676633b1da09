/*
 * clock.h — the runtime's two clocks, one definition each, and the one
 * spelling of a wall-clock time for people and JSON.
 *
 *   zclock_mono_ms/us  CLOCK_MONOTONIC: durations, deadlines, "how long ago"
 *                      (never jumps with NTP or an operator's date change)
 *   zclock_wall_ms/us  CLOCK_REALTIME: timestamps shown or stored, and lag
 *                      against a source's commit time (a wall-clock figure)
 *   zclock_deadline    ms from now on a clock, as the absolute time that
 *                      pthread_cond_timedwait takes (the condition variable's
 *                      clock: CLOCK_MONOTONIC if set with pthread_condattr_setclock,
 *                      else CLOCK_REALTIME)
 *   zclock_iso8601     a wall-clock time in ms as "2026-11-21T10:00:00Z"
 *                      (ISO 8601, UTC, whole seconds)
 *
 * Thread: any. runtime/base/ includes nothing of zetl's, so config/ may use it.
 */
#ifndef ZETL_CLOCK_H
#define ZETL_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

static inline int64_t zclock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int64_t zclock_mono_ms(void) { return zclock_mono_us() / 1000; }

static inline int64_t zclock_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int64_t zclock_wall_ms(void) { return zclock_wall_us() / 1000; }

static inline struct timespec zclock_deadline(clockid_t clk, int64_t ms)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

#define ZCLOCK_ISO8601_LEN 21   /* "2026-11-21T10:00:00Z" and its NUL (years 0..9999) */

/* ms since the epoch (floored to the second, negative too) as ISO 8601 UTC
 * into buf. 0, or -1 when the time has no such spelling or buf is too short
 * (buf then holds "" when len > 0); the caller says what -1 shows. */
int zclock_iso8601(char *buf, size_t len, int64_t ms);

#endif
