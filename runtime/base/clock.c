/* clock.c — wall-clock times as ISO 8601 text (see clock.h). */
#include "runtime/base/clock.h"

int zclock_iso8601(char *buf, size_t len, int64_t ms)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
    struct tm tm;

    if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        if (len)
            buf[0] = '\0';
        return -1;
    }
    return 0;
}
