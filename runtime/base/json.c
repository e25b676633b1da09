/* json.c — the JSON string escaper (see json.h). */
#include "runtime/base/json.h"
#include "runtime/base/buf.h"
#include "runtime/base/utf8.h"

#include <string.h>

/* Where the text goes: a buffer, or else a FILE. */
struct sink {
    struct zbuf *b;
    FILE        *f;
};

static void put(const struct sink *k, const char *p, size_t n)
{
    if (k->b)
        zbuf_put(k->b, p, n);
    else if (n)
        fwrite(p, 1, n, k->f);
}

static void escape(const struct sink *k, const char *s, size_t n, enum zjson_bytes bad)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0, i = 0;                  /* s[run..i) is copied as is */
    while (i < n) {
        unsigned char c = u[i];
        if (c >= 0x20 && c != '"' && c != '\\' && (c < 0x80 || bad == ZJSON_BYTES_KEEP)) {
            i++;
            continue;
        }
        size_t len = c >= 0x80 ? zutf8_len(u + i, n - i) : 0;
        if (len) {                          /* a valid multi-byte character */
            i += len;
            continue;
        }
        put(k, s + run, i - run);
        char esc[8] = {'\\', (char)c, 0};
        switch (c) {
        case '"': case '\\': put(k, esc, 2); break;
        case '\n': put(k, "\\n", 2); break;
        case '\r': put(k, "\\r", 2); break;
        case '\t': put(k, "\\t", 2); break;
        case '\b': put(k, "\\b", 2); break;
        case '\f': put(k, "\\f", 2); break;
        default:
            if (c < 0x20) {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                put(k, esc, 6);
            } else if (bad == ZJSON_BYTES_ESCAPE) {
                put(k, "\\ufffd", 6);
            } else {
                put(k, "\xef\xbf\xbd", 3);  /* U+FFFD for a byte that is not UTF-8 */
            }
        }
        i++;
        run = i;
    }
    put(k, s + run, n - run);
}

void zjson_escape(struct zbuf *out, const char *s, size_t n, enum zjson_bytes bad)
{
    struct sink k = { out, NULL };
    escape(&k, s, n, bad);
}

void zjson_string(struct zbuf *out, const char *s, size_t n, enum zjson_bytes bad)
{
    struct sink k = { out, NULL };
    put(&k, "\"", 1);
    escape(&k, s, n, bad);
    put(&k, "\"", 1);
}

void zjson_string_file(FILE *out, const char *s, size_t n, enum zjson_bytes bad)
{
    struct sink k = { NULL, out };
    put(&k, "\"", 1);
    escape(&k, s, n, bad);
    put(&k, "\"", 1);
}
