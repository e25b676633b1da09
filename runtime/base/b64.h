/*
 * b64.h — base64 (RFC 4648 §4: the standard alphabet, '=' padding) of bytes,
 * appended to a growable buffer. Encoding only: zetl never reads base64.
 * Pure; thread-safe on distinct buffers.
 */
#ifndef ZETL_B64_H
#define ZETL_B64_H

#include <stddef.h>

struct zbuf;

/* Append the 4 * ceil(n / 3) characters of p[0..n), no quotes, no newlines. */
void zb64_encode(struct zbuf *out, const void *p, size_t n);

#endif
