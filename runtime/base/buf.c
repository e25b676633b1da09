/* buf.c — the growable byte buffer and typed-array growth (see buf.h). */
#include "runtime/base/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ZBUF_MIN 256

int zbuf_reserve(struct zbuf *b, size_t more)
{
    if (b->oom)
        return -1;
    if (b->cap > b->len && more < b->cap - b->len)
        return 0;
    if (more > SIZE_MAX / 2 - b->len) {
        b->oom = 1;
        return -1;
    }
    size_t need = b->len + more + 1, cap = b->cap ? b->cap : ZBUF_MIN;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void zbuf_put(struct zbuf *b, const void *p, size_t n)
{
    if (zbuf_reserve(b, n))
        return;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void zbuf_puts(struct zbuf *b, const char *s) { zbuf_put(b, s, strlen(s)); }
void zbuf_putc(struct zbuf *b, char c) { zbuf_put(b, &c, 1); }

void zbuf_free(struct zbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void *zarray_grow(void *v, size_t *cap, size_t need, size_t elem)
{
    size_t ncap = *cap ? *cap : 8;
    char *nv;

    if (need <= *cap && *cap)
        return v;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return NULL;
        ncap *= 2;
    }
    if (elem && ncap > SIZE_MAX / elem)
        return NULL;
    if (!(nv = realloc(v, ncap * elem)))
        return NULL;
    memset(nv + *cap * elem, 0, (ncap - *cap) * elem);
    *cap = ncap;
    return nv;
}
