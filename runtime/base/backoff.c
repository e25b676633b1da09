/* backoff.c — retry waits with jitter, capped (see backoff.h). */
#include "runtime/base/backoff.h"

int backoff_wait_ms(int base_ms, unsigned rnd)
{
    if (base_ms < BACKOFF_MIN_MS) base_ms = BACKOFF_MIN_MS;
    if (base_ms > BACKOFF_MAX_MS) base_ms = BACKOFF_MAX_MS;
    int jitter = (int)(rnd % (unsigned)(base_ms / 4 + 1));
    int w = base_ms + jitter;
    return w > BACKOFF_MAX_MS ? BACKOFF_MAX_MS - jitter : w;
}

int backoff_next(int base_ms)
{
    return base_ms >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS : base_ms * 2;
}
