/*
 * clock.h — the runtime's two clocks, one definition each.
 *
 *   zclock_mono_ms/us  CLOCK_MONOTONIC: durations, deadlines, "how long ago"
 *                      (never jumps with NTP or an operator's date change)
 *   zclock_wall_ms     CLOCK_REALTIME: timestamps shown or stored, and lag
 *                      against a source's commit time (a wall-clock figure)
 *
 * Thread: any.
 */
#ifndef ZETL_CLOCK_H
#define ZETL_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t zclock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int64_t zclock_mono_ms(void) { return zclock_mono_us() / 1000; }

static inline int64_t zclock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
