/* b64.c — base64 encoding (see b64.h). */
#include "runtime/base/b64.h"
#include "runtime/base/buf.h"

#include <stdint.h>

void zb64_encode(struct zbuf *out, const void *p, size_t n)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = p;
    char q[4];
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        q[0] = al[v >> 18]; q[1] = al[(v >> 12) & 63]; q[2] = al[(v >> 6) & 63]; q[3] = al[v & 63];
        zbuf_put(out, q, 4);
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
        q[0] = al[v >> 18];
        q[1] = al[(v >> 12) & 63];
        q[2] = i + 1 < n ? al[(v >> 6) & 63] : '=';
        q[3] = '=';
        zbuf_put(out, q, 4);
    }
}
