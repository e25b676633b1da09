/*
 * buf.h — the growable byte buffer: one definition of "append and grow".
 *
 *   struct zbuf b = {0};          an empty buffer needs no init call
 *   zbuf_puts(&b, "x"); ...       appends; the buffer grows by doubling
 *   use b.p[0..b.len)             b.p is NUL-terminated after every zbuf_put*
 *   b.len = 0;                    reuse it (the memory stays)
 *   zbuf_free(&b);                back to empty
 *
 * Out of memory is sticky: the first failed growth sets b.oom, and every
 * later call does nothing, so a writer appends a run of pieces and checks
 * b.oom once at the end. A caller that writes into room it reserved
 * (zbuf_reserve) and moves len itself writes its own terminator.
 * The buffer owns b.p. Not locked: one thread at a time per buffer.
 *
 * zarray_grow is the same growth for typed arrays (struct x *v; size_t cap).
 * runtime/base/ includes nothing of zetl's, so config/ may use it too.
 */
#ifndef ZETL_BUF_H
#define ZETL_BUF_H

#include <stddef.h>

struct zbuf {
    char  *p;           /* the bytes, NUL-terminated; NULL until the first growth */
    size_t len;         /* bytes in use, the terminator not counted */
    size_t cap;         /* bytes allocated */
    int    oom;         /* sticky: a growth failed, later calls do nothing */
};

/* Room for `more` bytes and a terminator after len: 0, or -1 (b->oom set). */
int  zbuf_reserve(struct zbuf *b, size_t more);
void zbuf_put(struct zbuf *b, const void *p, size_t n);
void zbuf_puts(struct zbuf *b, const char *s);
void zbuf_putc(struct zbuf *b, char c);
void zbuf_free(struct zbuf *b);

/*
 * The array v of elem-byte elements, *cap of them allocated, grown to hold at
 * least need: capacity doubles (from 8), new elements are zeroed. Returns the
 * array (moved or not; *cap updated), or NULL on out of memory or size
 * overflow, v and *cap then unchanged and still the caller's:
 *     struct x *nv = zarray_grow(a->v, &a->cap, a->n + 1, sizeof *nv);
 *     if (!nv) goto oom;
 *     a->v = nv;
 */
void *zarray_grow(void *v, size_t *cap, size_t need, size_t elem);

#endif
