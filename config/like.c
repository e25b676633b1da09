/*
 * like.c — SQL LIKE matching and table/column selection.
 *
 * A pattern is matched byte for byte (identifiers keep their exact case):
 * '%' matches any run of characters, '_' exactly one UTF-8 character, and a
 * backslash makes the next character literal ("tmp\_%" matches "tmp_x" but
 * not "tmpx"). A trailing lone backslash matches a backslash.
 *
 * Table patterns are "schema.table"; the first unescaped dot separates the
 * schema part from the table part and each part is matched on its own, so a
 * '%' never reaches across the dot.
 */
#include "config/config.h"
#include "config/internal.h"

#include <string.h>

static size_t utf8_len(const char *s, size_t left)
{
    unsigned char c = (unsigned char)s[0];
    size_t n = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;

    if (n > left)
        return 1;
    for (size_t i = 1; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            return 1;               /* not a valid sequence: one byte at a time */
    return n;
}

int cfg_like_n(const char *pat, size_t plen, const char *s, size_t slen)
{
    size_t p = 0, i = 0;
    size_t star_p = (size_t)-1, star_i = 0;

    /* Greedy match with one backtrack point (the last '%'): linear in
     * practice, O(plen * slen) at worst, no recursion. */
    while (i < slen) {
        if (p < plen && pat[p] == '%') {
            while (p < plen && pat[p] == '%')
                p++;
            star_p = p;
            star_i = i;
            continue;
        }
        if (p < plen) {
            if (pat[p] == '_') {
                p++;
                i += utf8_len(s + i, slen - i);
                continue;
            }
            size_t adv = 1;
            char want = pat[p];
            if (want == '\\' && p + 1 < plen) {
                want = pat[p + 1];
                adv = 2;
            }
            if (s[i] == want) {
                p += adv;
                i++;
                continue;
            }
        }
        if (star_p == (size_t)-1)
            return 0;
        p = star_p;                             /* let the last '%' eat one more */
        star_i += utf8_len(s + star_i, slen - star_i);
        i = star_i;
    }
    while (p < plen && pat[p] == '%')
        p++;
    return p == plen;
}

int config_like(const char *pattern, const char *s)
{
    if (!pattern || !s)
        return 0;
    return cfg_like_n(pattern, strlen(pattern), s, strlen(s));
}

int cfg_pattern_split(const char *pat, const char **part, size_t *plen, int maxparts)
{
    int n = 0;
    const char *start = pat, *p = pat;

    for (; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p == '.') {
            if (n < maxparts - 1) {
                part[n] = start;
                plen[n] = (size_t)(p - start);
                start = p + 1;
            }
            n++;
        }
    }
    int last = n < maxparts - 1 ? n : maxparts - 1;
    part[last] = start;
    plen[last] = (size_t)(p - start);
    return n + 1;
}

static int table_match(const char *pat, const char *schema, const char *table)
{
    const char *part[2];
    size_t plen[2];

    if (cfg_pattern_split(pat, part, plen, 2) != 2)
        return 0;                               /* no dot, or a dot too many */
    return cfg_like_n(part[0], plen[0], schema, strlen(schema)) &&
           cfg_like_n(part[1], plen[1], table, strlen(table));
}

int config_table_selected(const struct config_tables *t, const char *schema, const char *table)
{
    int in = 0;

    if (!t || !schema || !table)
        return 0;
    for (int i = 0; i < t->ninclude && !in; i++)
        in = table_match(t->include[i], schema, table);
    for (int i = 0; i < t->nexclude && in; i++)
        if (table_match(t->exclude[i], schema, table))
            in = 0;
    return in;
}

/* Does one of the n schema.table.column patterns match this column? */
static int column_listed(char *const *pats, int n, const char *schema, const char *table,
                         const char *column)
{
    if (!schema || !table || !column)
        return 0;
    for (int i = 0; i < n; i++) {
        const char *part[3];
        size_t plen[3];
        if (cfg_pattern_split(pats[i], part, plen, 3) != 3)
            continue;
        if (cfg_like_n(part[0], plen[0], schema, strlen(schema)) &&
            cfg_like_n(part[1], plen[1], table, strlen(table)) &&
            cfg_like_n(part[2], plen[2], column, strlen(column)))
            return 1;
    }
    return 0;
}

int config_column_excluded(const struct config_tables *t, const char *schema,
                           const char *table, const char *column)
{
    return t && column_listed(t->exclude_columns, t->nexclude_columns, schema, table, column);
}

const struct config_filter *config_table_filter(const struct config_tables *t, const char *schema,
                                                const char *table, int *count)
{
    const struct config_filter *first = NULL;
    *count = 0;
    for (int i = 0; t && schema && table && i < t->nfilters; i++)
        if (table_match(t->filters[i].table, schema, table)) {
            if (!first) first = &t->filters[i];
            (*count)++;
        }
    return first;
}

int config_table_history(const struct config_tables *t, const char *schema, const char *table)
{
    for (int i = 0; t && schema && table && i < t->nhistory; i++)
        if (table_match(t->history[i], schema, table))
            return 1;
    return 0;
}

int config_table_soft_delete(const struct config_tables *t, const char *schema, const char *table)
{
    for (int i = 0; t && schema && table && i < t->nsoft_delete; i++)
        if (table_match(t->soft_delete[i], schema, table))
            return 1;
    return 0;
}

unsigned config_column_transforms(const struct config_tables *t, const char *schema,
                                  const char *table, const char *column)
{
    if (!t)
        return 0;
    return (column_listed(t->hash_columns, t->nhash_columns, schema, table, column) ? COLX_HASH : 0u) |
           (column_listed(t->mask_columns, t->nmask_columns, schema, table, column) ? COLX_MASK : 0u) |
           (column_listed(t->null_columns, t->nnull_columns, schema, table, column) ? COLX_NULL : 0u);
}

const struct config_rename *config_rename_find(const struct config_tables *t,
                                               const char *schema, const char *table)
{
    size_t sl, tl;

    if (!t || !schema || !table)
        return NULL;
    sl = strlen(schema);
    tl = strlen(table);
    for (int i = 0; i < t->nrename; i++) {
        const char *f = t->rename[i].from;
        if (strncmp(f, schema, sl) == 0 && f[sl] == '.' && strcmp(f + sl + 1, table) == 0 &&
            strlen(f) == sl + 1 + tl)
            return &t->rename[i];
    }
    return NULL;
}
