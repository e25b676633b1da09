/*
 * json.h — text as a JSON string (RFC 8259 §7): the one escaper.
 *
 * Always escaped: '"' and '\\' with a backslash; \b \f \n \r \t by name; the
 * other bytes below 0x20 as \u00xx (lower-case hex). Everything else is
 * copied as it is ('/' and 0x7f included). What a byte that is not UTF-8
 * (utf8.h) becomes depends on where the JSON goes, so the caller says:
 *
 *   ZJSON_BYTES_KEEP    copied as it is (the text is UTF-8 by its source's
 *                       contract: MySQL's binary JSON)
 *   ZJSON_BYTES_FFFD    U+FFFD as its UTF-8 bytes, one per bad byte (change
 *                       events over HTTP)
 *   ZJSON_BYTES_ESCAPE  the ASCII escape \ufffd, one per bad byte (status
 *                       --json, alert payloads: the output stays ASCII-safe
 *                       where a terminal or a log may cut it)
 *
 * Appends to a struct zbuf (out of memory: its sticky oom) or writes to a
 * FILE. Pure apart from the output; thread-safe on distinct outputs.
 */
#ifndef ZETL_JSON_H
#define ZETL_JSON_H

#include <stddef.h>
#include <stdio.h>

struct zbuf;

enum zjson_bytes { ZJSON_BYTES_KEEP, ZJSON_BYTES_FFFD, ZJSON_BYTES_ESCAPE };

/* s[0..n) escaped for the inside of a JSON string (no quotes added). */
void zjson_escape(struct zbuf *out, const char *s, size_t n, enum zjson_bytes bad);

/* s[0..n) as a JSON string, quotes included. */
void zjson_string(struct zbuf *out, const char *s, size_t n, enum zjson_bytes bad);
void zjson_string_file(FILE *out, const char *s, size_t n, enum zjson_bytes bad);

#endif
