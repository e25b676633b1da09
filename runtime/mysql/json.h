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
 * Nesting is limited to 128 levels (MySQL allows 100), so a hostile document
 * cannot exhaust the stack. Pure function; appends to out.
 */
#ifndef ZETL_MYSQL_JSON_H
#define ZETL_MYSQL_JSON_H

#include <stddef.h>
#include <stdint.h>

struct rows_buf;

/* 0 ok; -1 with err ("JSON value malformed: …") on malformed input or no memory. */
int myjson_to_text(struct rows_buf *out, const uint8_t *doc, size_t len, char *err, size_t errlen);

#endif
