/* zkey.c — integer primary keys in key order (zkey.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/pipe/zkey.h"

int zkey_type_ok(enum ztype t)
{
    return t == ZT_INT16 || t == ZT_INT32 || t == ZT_INT64 || t == ZT_UINT64;
}

int zkey_columns(const struct ztable *t, int *cols)
{
    int pk = t->npk > 0, n = pk ? t->npk : t->nuk;
    if (n <= 0 || n > ZKEY_MAX) return 0;
    for (int k = 0; k < n; k++) cols[k] = -1;
    for (int i = 0; i < t->ncols; i++) {
        int o = pk ? t->cols[i].pk_ord : t->cols[i].uk_ord;
        if (!o) continue;
        if (o > n || cols[o - 1] >= 0 || !zkey_type_ok(t->cols[i].type) || (!pk && t->cols[i].nullable)) return 0;
        cols[o - 1] = i;
    }
    for (int k = 0; k < n; k++)
        if (cols[k] < 0) return 0;      /* a key column left out (tables.exclude_columns) */
    return n;
}

int zkey_of(const struct ztable *t, const int *cols, int n, const struct zvalue *row, struct zkey *k)
{
    k->n = n;
    for (int j = 0; j < n; j++) {
        const struct zvalue *v = &row[cols[j]];
        int uns = t->cols[cols[j]].is_unsigned || t->cols[cols[j]].type == ZT_UINT64;
        k->uns[j] = (uint8_t)uns;
        if (v->kind == ZV_INT) {
            if (uns && v->v.i < 0) return -1;
            k->v[j].i = v->v.i;         /* same bits as u for a non-negative value */
        } else if (v->kind == ZV_UINT) {
            if (!uns && v->v.u > INT64_MAX) return -1;
            k->v[j].u = v->v.u;
        } else {
            return -1;
        }
    }
    return 0;
}

int zkey_cmp(const struct zkey *a, const struct zkey *b)
{
    int n = a->n < b->n ? a->n : b->n;
    for (int j = 0; j < n; j++) {
        if (a->uns[j]) {
            if (a->v[j].u != b->v[j].u) return a->v[j].u < b->v[j].u ? -1 : 1;
        } else if (a->v[j].i != b->v[j].i) {
            return a->v[j].i < b->v[j].i ? -1 : 1;
        }
    }
    return a->n < b->n ? -1 : a->n > b->n;
}

int zkey_format(const struct zkey *k, char *buf, size_t len)
{
    size_t at = 0;
    if (len) buf[0] = '\0';
    for (int j = 0; j < k->n; j++) {
        int w = k->uns[j] ? snprintf(buf + at, len - at, "%s%" PRIu64, j ? "," : "", k->v[j].u)
                          : snprintf(buf + at, len - at, "%s%" PRId64, j ? "," : "", k->v[j].i);
        if (w < 0 || (size_t)w >= len - at) return -1;
        at += (size_t)w;
    }
    return 0;
}

int zkey_parse(const char *s, const struct ztable *t, const int *cols, int n, struct zkey *k)
{
    k->n = n;
    for (int j = 0; j < n; j++) {
        int uns = t->cols[cols[j]].is_unsigned || t->cols[cols[j]].type == ZT_UINT64;
        char *end;
        errno = 0;
        k->uns[j] = (uint8_t)uns;
        if (uns) {
            if (*s == '-') return -1;
            k->v[j].u = strtoull(s, &end, 10);
        } else {
            k->v[j].i = strtoll(s, &end, 10);
        }
        if (end == s || errno) return -1;
        s = end;
        if (j + 1 < n) {
            if (*s != ',') return -1;
            s++;
        }
    }
    return *s ? -1 : 0;
}
