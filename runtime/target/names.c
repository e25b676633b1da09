/* names.c — target names from source names (see names.h). */
#include "runtime/target/names.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/target/target.h"

#define NAMES_SUFFIX 9          /* "_" + 8 hex digits */

size_t names_limit(enum target_kind kind)
{
    const struct target_driver *d = target_driver(kind);
    return d ? d->name_max : target_driver(TARGET_POSTGRES)->name_max;
}

static uint32_t fnv1a32(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* names_fit under limit (0: none). */
static int fit(size_t limit, const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    if (limit == 0 || n <= limit) {
        if (n >= outlen) return -1;
        memcpy(out, name, n + 1);
        return 0;
    }
    if (outlen <= limit) return -1;
    size_t keep = limit - NAMES_SUFFIX;
    /* back off continuation bytes (10xxxxxx): never half a character */
    while (keep > 0 && ((unsigned char)name[keep] & 0xC0) == 0x80) keep--;
    memcpy(out, name, keep);
    snprintf(out + keep, outlen - keep, "_%08x", fnv1a32(name));
    return 1;
}

int names_fit(enum target_kind kind, const char *name, char *out, size_t outlen)
{
    return fit(names_limit(kind), name, out, outlen);
}

static char *fit_dup(size_t limit, const char *s, size_t n)
{
    char *full = strndup(s, n);
    if (!full) return NULL;
    size_t cap = n + limit + 2;
    char *out = malloc(cap);
    if (out && fit(limit, full, out, cap) < 0) {
        free(out);
        out = NULL;
    }
    free(full);
    return out;
}

/* names_table under limit (0: none). */
static int table_names(const struct config_tables *t, size_t limit, const char *schema,
                       const char *table, char **tschema, char **tname)
{
    const struct config_rename *r = config_rename_find(t, schema, table);
    const char *ts = schema, *tn = table;
    size_t tsl = strlen(schema);
    if (r) {                    /* config: `to` is exactly schema.table, one dot */
        const char *dot = strchr(r->to, '.');
        if (dot) {
            ts = r->to;
            tsl = (size_t)(dot - r->to);
            tn = dot + 1;
        } else {
            tn = r->to;
        }
    }
    *tschema = fit_dup(limit, ts, tsl);
    *tname = fit_dup(limit, tn, strlen(tn));
    if (*tschema && *tname) return 0;
    free(*tschema);
    free(*tname);
    *tschema = *tname = NULL;
    return -1;
}

int names_table(const struct config_tables *t, enum target_kind kind, const char *schema,
                const char *table, char **tschema, char **tname)
{
    return table_names(t, names_limit(kind), schema, table, tschema, tname);
}

int names_renamed(const struct config_tables *t, const char *schema, const char *table,
                  char **tschema, char **tname)
{
    return table_names(t, 0, schema, table, tschema, tname);
}

struct ztable *names_target_def(enum target_kind kind, const struct ztable *src)
{
    size_t limit = names_limit(kind);
    struct ztable *d = ztable_dup(src);
    if (!d) return NULL;
    for (int i = 0; i < d->ncols; i++) {
        if (!d->cols[i].name) continue;
        char *n = fit_dup(limit, d->cols[i].name, strlen(d->cols[i].name));
        if (!n) {
            ztable_free(d);
            return NULL;
        }
        free(d->cols[i].name);
        d->cols[i].name = n;
    }
    for (int i = 0; i < d->ngen; i++) {         /* generated columns are named in the target too */
        if (!d->gen[i].name) continue;
        char *n = fit_dup(limit, d->gen[i].name, strlen(d->gen[i].name));
        if (!n) {
            ztable_free(d);
            return NULL;
        }
        free(d->gen[i].name);
        d->gen[i].name = n;
    }
    return d;
}

int names_clash_columns(const struct ztable *src, const struct ztable *tdef, char *why, size_t len)
{
    for (int i = 0; i < tdef->ncols; i++)
        for (int j = i + 1; j < tdef->ncols; j++) {
            if (!tdef->cols[i].name || !tdef->cols[j].name ||
                strcmp(tdef->cols[i].name, tdef->cols[j].name) != 0)
                continue;
            snprintf(why, len,
                     "columns %s and %s of %s.%s both become target column %s",
                     src->cols[i].name, src->cols[j].name, src->schema, src->name, tdef->cols[i].name);
            return 1;
        }
    return 0;
}
