/*
 * rd.h — a bounds-checked cursor over bytes from the wire.
 *
 * Modelled on PostgreSQL's pqformat.c. Every reader checks that the bytes it
 * wants are there (n <= len - pos) before touching memory. A failed read sets
 * a sticky error and returns zero/NULL, so a parser reads a run of fields and
 * checks r->err once; rd_end() checks that the whole message was consumed.
 * Readers never allocate; returned pointers point into the caller's buffer.
 * Header-only and thread-agnostic: a struct rd belongs to one parser call.
 */
#ifndef ZETL_RD_H
#define ZETL_RD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rd {
    const uint8_t *p;   /* start of the message (not owned) */
    size_t len;         /* bytes in the message */
    size_t pos;         /* next byte to read */
    int err;            /* sticky: set on the first short read */
};

static inline void rd_init(struct rd *r, const void *p, size_t len)
{
    r->p = (const uint8_t *)p; r->len = len; r->pos = 0; r->err = 0;
}

static inline size_t rd_left(const struct rd *r) { return r->err ? 0 : r->len - r->pos; }

/* rd_need: 1 when n more bytes are available; otherwise sets err and returns 0. */
static inline int rd_need(struct rd *r, size_t n)
{
    if (r->err || n > r->len - r->pos) { r->err = 1; return 0; }
    return 1;
}

static inline const uint8_t *rd_bytes(struct rd *r, size_t n)
{
    if (!rd_need(r, n)) return NULL;
    const uint8_t *s = r->p + r->pos;
    r->pos += n;
    return s;
}

static inline void rd_skip(struct rd *r, size_t n) { (void)rd_bytes(r, n); }

static inline uint8_t rd_u8(struct rd *r)
{
    const uint8_t *b = rd_bytes(r, 1);
    return b ? b[0] : 0;
}

/* Little-endian unsigned of n bytes (1..8): MySQL's integers. */
static inline uint64_t rd_uint_le(struct rd *r, size_t n)
{
    const uint8_t *b = rd_bytes(r, n);
    uint64_t v = 0;
    if (!b) return 0;
    for (size_t i = 0; i < n; i++) v |= (uint64_t)b[i] << (8 * i);
    return v;
}

/* Big-endian unsigned of n bytes (1..8): PostgreSQL's integers, MySQL's packed temporals. */
static inline uint64_t rd_uint_be(struct rd *r, size_t n)
{
    const uint8_t *b = rd_bytes(r, n);
    uint64_t v = 0;
    if (!b) return 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | b[i];
    return v;
}

static inline uint16_t rd_u16le(struct rd *r) { return (uint16_t)rd_uint_le(r, 2); }
static inline uint32_t rd_u24le(struct rd *r) { return (uint32_t)rd_uint_le(r, 3); }
static inline uint32_t rd_u32le(struct rd *r) { return (uint32_t)rd_uint_le(r, 4); }
static inline uint64_t rd_u48le(struct rd *r) { return rd_uint_le(r, 6); }
static inline uint64_t rd_u64le(struct rd *r) { return rd_uint_le(r, 8); }
static inline uint16_t rd_u16be(struct rd *r) { return (uint16_t)rd_uint_be(r, 2); }
static inline uint32_t rd_u32be(struct rd *r) { return (uint32_t)rd_uint_be(r, 4); }
static inline uint64_t rd_u64be(struct rd *r) { return rd_uint_be(r, 8); }

/*
 * MySQL length-encoded integer: < 0xfb is the value; 0xfc, 0xfd, 0xfe prefix
 * 2, 3, 8 bytes. 0xfb (NULL in result sets) and 0xff are errors here.
 */
static inline uint64_t rd_lenenc(struct rd *r)
{
    uint8_t b = rd_u8(r);
    if (r->err) return 0;
    if (b < 0xfb) return b;
    if (b == 0xfc) return rd_uint_le(r, 2);
    if (b == 0xfd) return rd_uint_le(r, 3);
    if (b == 0xfe) return rd_uint_le(r, 8);
    r->err = 1;
    return 0;
}

/* NUL-terminated string; returns NULL (and sets err) when no NUL is left. */
static inline const char *rd_cstr(struct rd *r)
{
    if (r->err) return NULL;
    const uint8_t *s = r->p + r->pos;
    const void *nul = memchr(s, 0, r->len - r->pos);
    if (!nul) { r->err = 1; return NULL; }
    r->pos += (size_t)((const uint8_t *)nul - s) + 1;
    return (const char *)s;
}

/* 0 when every byte was read and no read failed; -1 otherwise. */
static inline int rd_end(const struct rd *r) { return (!r->err && r->pos == r->len) ? 0 : -1; }

#endif
