/*
 * json.h — MySQL 8 binary JSON (the storage format of JSON columns, as sent
 * in row events) → JSON text.
 *
 * The text is MySQL's own rendering: `{"a": 1, "b": [true, null]}` with ", "
 * and ": " separators, keys in stored (sorted) order, strings escaped as
 * JSON requires. Opaque scalars render as MySQL does: DECIMAL as a number,
 * DATE/TIME/DATETIME/TIMESTAMP as quoted strings with 6 fraction digits,
 * anything else as "base64:typeNN:<base64>". An empty document is JSON null.
 *
 * MariaDB stores JSON as LONGTEXT: its values never come here.
 * Hostile documents are bounded: nesting to 128 levels (MySQL allows 100),
 * so the stack holds; and the work to the document's size — at most
 * len + 16 values visited and 16 × len + 4096 bytes written — so entries
 * that share a sub-document (a DAG, exponential when expanded; MySQL never
 * writes one) fail with "JSON value malformed: its entries share
 * sub-documents …" instead of rendering gigabytes. Pure function; appends
 * to out.
 */
#ifndef ZETL_MYSQL_JSON_H
#define ZETL_MYSQL_JSON_H

#include <stddef.h>
#include <stdint.h>

struct zbuf;

/* 0 ok; -1 with err ("JSON value malformed: …") on malformed input or no memory. */
int myjson_to_text(struct zbuf *out, const uint8_t *doc, size_t len, char *err, size_t errlen);

#endif
