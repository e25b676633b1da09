/*
 * utf8.h — is this UTF-8? One validator, the strict one of RFC 3629:
 * overlong forms, UTF-16 surrogates (U+D800..U+DFFF) and code points past
 * U+10FFFF are not UTF-8. Reads only s[0..n). Pure; thread-safe.
 */
#ifndef ZETL_UTF8_H
#define ZETL_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 character at s (n > 0 bytes readable): 1..4, or
 * 0 when it is not one (a bad lead byte, overlong, surrogate, beyond
 * U+10FFFF, or cut short by n). */
size_t zutf8_len(const unsigned char *s, size_t n);

#endif
