/*
 * wr.h — a bounds-checked writer of wire fields, the counterpart of rd.h.
 *
 * The caller sizes the buffer (usually after computing the exact length);
 * every writer checks that its bytes fit (n <= len - pos) before touching
 * memory. A write that does not fit sets a sticky error and writes nothing,
 * so a builder writes a run of fields and checks once: wr_end() is 0 when
 * every write fit and the buffer is exactly full. Integers are little-endian
 * (MySQL's byte order), written byte by byte, whatever the host's order.
 * Header-only and thread-agnostic: a struct wr belongs to one builder call.
 */
#ifndef ZETL_WR_H
#define ZETL_WR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct wr {
    uint8_t *p;         /* the buffer (not owned) */
    size_t len;         /* its size */
    size_t pos;         /* next byte to write */
    int err;            /* sticky: set on the first write that did not fit */
};

static inline void wr_init(struct wr *w, void *p, size_t len)
{
    w->p = (uint8_t *)p; w->len = len; w->pos = 0; w->err = 0;
}

/* wr_room: 1 when n more bytes fit; otherwise sets err and returns 0. */
static inline int wr_room(struct wr *w, size_t n)
{
    if (w->err || n > w->len - w->pos) { w->err = 1; return 0; }
    return 1;
}

static inline void wr_bytes(struct wr *w, const void *s, size_t n)
{
    if (!wr_room(w, n)) return;
    if (n) memcpy(w->p + w->pos, s, n);
    w->pos += n;
}

/* Little-endian unsigned of n bytes (1..8). */
static inline void wr_uint_le(struct wr *w, uint64_t v, size_t n)
{
    if (!wr_room(w, n)) return;
    for (size_t i = 0; i < n; i++) w->p[w->pos + i] = (uint8_t)(v >> (8 * i));
    w->pos += n;
}

static inline void wr_u8(struct wr *w, uint8_t v)     { wr_uint_le(w, v, 1); }
static inline void wr_u16le(struct wr *w, uint16_t v) { wr_uint_le(w, v, 2); }
static inline void wr_u24le(struct wr *w, uint32_t v) { wr_uint_le(w, v, 3); }
static inline void wr_u32le(struct wr *w, uint32_t v) { wr_uint_le(w, v, 4); }
static inline void wr_u64le(struct wr *w, uint64_t v) { wr_uint_le(w, v, 8); }

/* 0 when every write fit and the buffer is exactly full; -1 otherwise. */
static inline int wr_end(const struct wr *w) { return (!w->err && w->pos == w->len) ? 0 : -1; }

#endif
