/*
 * zvalue_text.h — one stable text form of a change-model value, shared by
 * the test tools that print rows (binlog_dump, mysql_snapshot_dump) so the
 * binlog decoder and the snapshot are compared in exactly the same form:
 *
 *   NULL   ~ (unchanged)   42   18446744073709551615   %.17g floats
 *   "text" with \" \\ \n \r \t and \xNN for other control bytes
 *   x'00ff' for bytes
 *
 * out(s, n) receives the text in pieces (the tools buffer their stdout).
 */
#ifndef ZETL_TESTS_ZVALUE_TEXT_H
#define ZETL_TESTS_ZVALUE_TEXT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runtime/pipe/change.h"

static void zvalue_text(const struct zvalue *v, void (*out)(const char *s, size_t n))
{
    char b[64];
    static const char hx[] = "0123456789abcdef";
    switch (v->kind) {
    case ZV_NULL: out("NULL", 4); return;
    case ZV_UNCHANGED: out("~", 1); return;
    case ZV_INT: snprintf(b, sizeof b, "%" PRId64, v->v.i); out(b, strlen(b)); return;
    case ZV_UINT: snprintf(b, sizeof b, "%" PRIu64, v->v.u); out(b, strlen(b)); return;
    case ZV_FLOAT: snprintf(b, sizeof b, "%.17g", v->v.f); out(b, strlen(b)); return;
    case ZV_TEXT:
        out("\"", 1);
        for (uint32_t i = 0; i < v->len; i++) {
            unsigned char c = (unsigned char)v->v.p[i];
            if (c == '"') out("\\\"", 2);
            else if (c == '\\') out("\\\\", 2);
            else if (c == '\n') out("\\n", 2);
            else if (c == '\r') out("\\r", 2);
            else if (c == '\t') out("\\t", 2);
            else if (c < 0x20 || c == 0x7f) { char e[4] = { '\\', 'x', hx[c >> 4], hx[c & 15] }; out(e, 4); }
            else out((const char *)&c, 1);
        }
        out("\"", 1);
        return;
    case ZV_BYTES:
        out("x'", 2);
        for (uint32_t i = 0; i < v->len; i++) {
            unsigned char c = (unsigned char)v->v.p[i];
            char e[2] = { hx[c >> 4], hx[c & 15] };
            out(e, 2);
        }
        out("'", 1);
        return;
    }
}

#endif
