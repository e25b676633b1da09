/*
 * walk.c — the typed readers and key matching behind the config walk.
 *
 * Each mapping is first matched against its section's table of known keys
 * (an unknown key gets a "did you mean" by edit distance, or the key's real
 * section, or the list of valid keys; a duplicate names the first), then each
 * value is read by a typed reader that reports at the value's own mark.
 * Values are quoted back only by readers of non-secret keys, and a value that
 * went through ${VAR} expansion is quoted as written, never as expanded (the
 * variable may also feed a password).
 */
#include "config/walk.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const top_keys[] = { "state_dir", "integrations", "alerts", "ha" };
static const char *const ha_keys[] = { "enabled", "member", "takeover_seconds" };
static const char *const ig_keys[] = { "name", "source", "target", "tables", "apply", "alerts" };
static const char *const src_keys[] = { "kind", "host", "port", "user", "password",
    "password_command", "databases", "database", "schemas", "server_id", "tls", "slot",
    "publication" };
static const char *const tgt_keys[] = { "kind", "dsn", "url", "headers" };
static const char *const tbl_keys[] = { "include", "exclude", "rename", "exclude_columns",
    "hash_columns", "mask_columns", "null_columns", "hash_key", "soft_delete", "filters", "history" };
static const char *const fl_keys[] = { "table", "where" };
static const char *const app_keys[] = { "batch_rows", "batch_ms", "memory_mb", "copy_workers",
    "drift_check_seconds", "copy_chunk_rows", "copy_chunk_mb" };
static const char *const rn_keys[] = { "from", "to" };
static const char *const alr_keys[] = { "webhook_url", "lag_seconds", "on", "resolve_seconds",
    "timeout_seconds", "stall_seconds" };

static const struct section {
    const char *where;                  /* "unknown key `x` <where>" */
    const char *const *keys;
    int n;
} sections[SEC_N] = {
    [SEC_TOP] = { "at the top level", top_keys, TOP_N },
    [SEC_IG]  = { "in integration", ig_keys, IG_N },
    [SEC_SRC] = { "in source", src_keys, SRC_N },
    [SEC_TGT] = { "in target", tgt_keys, TGT_N },
    [SEC_TBL] = { "in tables", tbl_keys, TBL_N },
    [SEC_APP] = { "in apply", app_keys, APP_N },
    [SEC_RN]  = { "in rename entry", rn_keys, RN_N },
    [SEC_ALR] = { "in alerts", alr_keys, ALR_N },
    [SEC_FL]  = { "in filters entry", fl_keys, FL_N },
    [SEC_HA]  = { "in ha", ha_keys, HA_N },
};

yaml_node_t *cfg_node(struct ld *ld, int index)
{
    return yaml_document_get_node(ld->doc, index);
}

const char *cfg_type_name(const yaml_node_t *n)
{
    if (!n || cfg_is_null(n))
        return "nothing";
    switch (n->type) {
    case YAML_MAPPING_NODE:  return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_SCALAR_NODE:   return "a string";
    default:                 return "nothing";
    }
}

int cfg_is_null(const yaml_node_t *n)
{
    if (!n)
        return 1;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
           !strcmp(v, "NULL");
}

/* Quote s for a message: escaped, at most ~60 bytes. Never used on secrets. */
const char *cfg_show(char *buf, size_t buflen, const char *s, size_t len)
{
    size_t o = 0;

    buf[o++] = '"';
    for (size_t i = 0; i < len && o + 8 < buflen; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (i >= 60) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (ch == '"' || ch == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(buf + o, buflen - o, "\\x%02x", ch);
        } else {
            buf[o++] = (char)ch;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

/* How a scalar's value is quoted back: as written when it used ${VAR}, so an
 * expansion (which may share a variable with a password) is never shown. */
const char *cfg_show_value(char *buf, size_t buflen, const yaml_node_t *n, const char *val)
{
    const char *raw = (const char *)n->data.scalar.value;
    size_t rawlen = n->data.scalar.length;

    if (memmem(raw, rawlen, "${", 2)) {
        cfg_show(buf, buflen - 32, raw, rawlen);
        strcat(buf, " (after ${...} expansion)");
        return buf;
    }
    return cfg_show(buf, buflen, val, strlen(val));
}

char *cfg_strdup(struct ld *ld, const char *s)
{
    char *d = strdup(s);
    if (!d)
        cfg_report_add(&ld->rep, 1, 1, "out of memory");
    return d;
}

/* ---- typed readers: each reports at the value's mark and returns -1 ------ */

/* The scalar's text after ${VAR} expansion into *out (NULL for a null value). */
int cfg_get_str(struct ld *ld, const yaml_node_t *v, const char *key, char **out)
{
    char *bad = NULL;

    *out = NULL;
    if (!v || cfg_is_null(v))
        return 0;
    if (v->type != YAML_SCALAR_NODE) {
        PROBLEM(ld, v, "%s must be a string, got %s", key, cfg_type_name(v));
        return -1;
    }
    if (++ld->values > CFG_MAX_VALUES) {
        if (!ld->over) {
            ld->rep.extra = 1;          /* this one is shown even past the cap */
            PROBLEM(ld, v, "the config expands to more than %d values (anchors and aliases?); write it out plainly",
                    CFG_MAX_VALUES);
        }
        ld->over = 1;
        return -1;
    }
    const char *raw = (const char *)v->data.scalar.value;
    size_t len = v->data.scalar.length;
    if (memchr(raw, '\0', len)) {
        PROBLEM(ld, v, "%s contains a NUL character; remove the \\0 escape", key);
        return -1;
    }
    switch (cfg_expand(raw, len, out, &bad)) {
    case CFG_EXPAND_OK:
        return 0;
    case CFG_EXPAND_UNSET:
        PROBLEM(ld, v, "environment variable %s (used in %s) is not set; export %s=... before starting zetl (under systemd: Environment= or EnvironmentFile=), or write $${ for a literal ${",
                bad, key, bad);
        free(bad);
        return -1;
    case CFG_EXPAND_SYNTAX:
        PROBLEM(ld, v, "%s has a ${ that is not ${NAME} (NAME: letters, digits, _); write $${ for a literal ${",
                key);
        return -1;
    case CFG_EXPAND_NOMEM:
        break;
    }
    PROBLEM(ld, v, "out of memory expanding %s", key);
    return -1;
}

/* A string that must be present and non-empty. */
int cfg_get_required_str(struct ld *ld, const yaml_node_t *v, const yaml_node_t *parent,
                         const char *key, const char *where, char **out)
{
    if (!v) {
        PROBLEM(ld, parent, "missing required field `%s` in %s", key, where);
        return -1;
    }
    if (cfg_get_str(ld, v, key, out) < 0)
        return -1;
    if (!*out || !**out) {
        PROBLEM(ld, v, "%s in %s is empty; give it a value", key, where);
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* An integer in [min, max]; *set stays 0 for an absent or null value. */
int cfg_get_int(struct ld *ld, const yaml_node_t *v, const char *key, long long min,
                long long max, long long *out, int *set)
{
    char *s = NULL, *end, q[160];
    int rc = -1;

    *set = 0;
    if (!v || cfg_is_null(v))
        return 0;
    if (v->type != YAML_SCALAR_NODE) {
        PROBLEM(ld, v, "%s must be an integer, got %s", key, cfg_type_name(v));
        return -1;
    }
    if (cfg_get_str(ld, v, key, &s) < 0)
        return -1;
    if (!s)
        return 0;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (!*s || *end || end == s || isspace((unsigned char)s[0])) {
        PROBLEM(ld, v, "%s must be an integer, got %s", key, cfg_show_value(q, sizeof q, v, s));
        goto done;
    }
    if (errno == ERANGE || x < min || x > max) {
        /* a plain number is shown bare; an expanded one as written */
        PROBLEM(ld, v, "%s %s is out of range (%lld..%lld)", key,
                memmem(v->data.scalar.value, v->data.scalar.length, "${", 2)
                ? cfg_show_value(q, sizeof q, v, s) : s, min, max);
        goto done;
    }
    *out = x;
    *set = 1;
    rc = 0;
done:
    free(s);
    return rc;
}

/* One of names[]; *out is the index. `what` is "source kind", "tls", ... */
int cfg_get_enum(struct ld *ld, const yaml_node_t *v, const char *what,
                 const char *const *names, int n, int *out)
{
    char *s = NULL, q[160], list[256] = "";
    int rc = -1;

    if (cfg_get_str(ld, v, what, &s) < 0)
        return -1;
    if (!s || !*s) {
        PROBLEM(ld, v, "%s is empty; give it a value", what);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (!strcmp(s, names[i])) {
            *out = i;
            rc = 0;
            goto done;
        }
    }
    for (int i = 0; i < n; i++) {
        strncat(list, names[i], sizeof list - strlen(list) - 1);
        if (i + 1 < n)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    const char *sug = cfg_suggest(s, names, n);
    if (sug)
        PROBLEM(ld, v, "invalid %s %s; did you mean `%s`? (valid: %s)", what,
                cfg_show_value(q, sizeof q, v, s), sug, list);
    else
        PROBLEM(ld, v, "invalid %s %s; valid: %s", what, cfg_show_value(q, sizeof q, v, s), list);
done:
    free(s);
    return rc;
}

/* A list of non-empty strings. nodes (optional) receives the item nodes. */
int cfg_get_str_list(struct ld *ld, const yaml_node_t *v, const char *key,
                     const char *example, char ***out, int *nout,
                     const yaml_node_t ***nodes)
{
    *out = NULL;
    *nout = 0;
    if (nodes)
        *nodes = NULL;
    if (!v || cfg_is_null(v))
        return 0;
    if (v->type != YAML_SEQUENCE_NODE) {
        PROBLEM(ld, v, "%s must be a list, e.g. %s, got %s", key, example, cfg_type_name(v));
        return -1;
    }
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    int rc = 0;
    if (!n)
        return 0;
    *out = calloc(n, sizeof **out);
    if (nodes)
        *nodes = calloc(n, sizeof **nodes);
    if (!*out || (nodes && !*nodes)) {
        PROBLEM(ld, v, "out of memory reading %s", key);
        return -1;
    }
    for (size_t i = 0; i < n && !ld->over; i++) {
        yaml_node_t *it = cfg_node(ld, v->data.sequence.items.start[i]);
        char *s = NULL;
        if (!it || it->type != YAML_SCALAR_NODE) {
            PROBLEM(ld, it ? it : v, "each entry of %s must be a string, got %s", key,
                    cfg_type_name(it));
            rc = -1;
            continue;
        }
        if (cfg_get_str(ld, it, key, &s) < 0) {
            rc = -1;
            continue;
        }
        if (!s || !*s) {
            PROBLEM(ld, it, "%s has an empty entry; remove it", key);
            free(s);
            rc = -1;
            continue;
        }
        if (nodes)
            (*nodes)[*nout] = it;
        (*out)[(*nout)++] = s;
    }
    return rc;
}

/* 1 for a mapping, 0 for absent/null, -1 (reported) for anything else. */
int cfg_get_map(struct ld *ld, const yaml_node_t *v, const char *key, const char *shape)
{
    if (!v || cfg_is_null(v))
        return 0;
    if (v->type == YAML_MAPPING_NODE)
        return 1;
    PROBLEM(ld, v, "%s must be a mapping (%s), got %s", key, shape, cfg_type_name(v));
    return -1;
}

/* ---- mapping keys ------------------------------------------------------- */

static void unknown_key(struct ld *ld, const yaml_node_t *k, int sec, const char *key)
{
    const struct section *S = &sections[sec];
    const char *sug = cfg_suggest(key, S->keys, S->n);
    char list[400] = "";

    if (sug) {
        PROBLEM(ld, k, "unknown key `%s` %s; did you mean `%s`?", key, S->where, sug);
        return;
    }
    for (int s = 0; s < SEC_N; s++) {
        for (int i = 0; s != sec && i < sections[s].n; i++) {
            if (!strcmp(key, sections[s].keys[i])) {
                PROBLEM(ld, k, "unknown key `%s` %s; `%s` belongs %s", key, S->where,
                        key, sections[s].where);
                return;
            }
        }
    }
    for (int i = 0; i < S->n; i++) {
        strncat(list, S->keys[i], sizeof list - strlen(list) - 1);
        if (i + 1 < S->n)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    PROBLEM(ld, k, "unknown key `%s` %s; valid keys: %s", key, S->where, list);
}

/* Matches a mapping's keys against section sec; vals[i]/keys[i] get the value
 * and key node of known key i (NULL when absent). */
void cfg_map_keys(struct ld *ld, const yaml_node_t *map, int sec, yaml_node_t **vals,
                  yaml_node_t **keys)
{
    const struct section *S = &sections[sec];
    char q[160];

    for (int i = 0; i < S->n; i++)
        vals[i] = keys[i] = NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = cfg_node(ld, p->key), *v = cfg_node(ld, p->value);
        if (!k || k->type != YAML_SCALAR_NODE) {
            PROBLEM(ld, k ? k : map, "keys %s must be plain words, got %s", S->where,
                    cfg_type_name(k));
            continue;
        }
        const char *key = (const char *)k->data.scalar.value;
        size_t klen = k->data.scalar.length;
        int idx = -1;
        for (int i = 0; i < S->n && klen == strlen(key); i++)
            if (!strcmp(key, S->keys[i]))
                idx = i;
        if (idx < 0) {
            int plain = klen == strlen(key) && klen <= 64;
            for (size_t i = 0; plain && i < klen; i++)
                if ((unsigned char)key[i] < 0x20 || key[i] == '`' || key[i] == 0x7f)
                    plain = 0;
            if (plain)
                unknown_key(ld, k, sec, key);
            else
                PROBLEM(ld, k, "unknown key %s %s", cfg_show(q, sizeof q, key, klen), S->where);
            continue;
        }
        if (vals[idx]) {
            PROBLEM(ld, k, "duplicate key `%s` %s (first at line %d); keep one", key,
                    S->where, cfg_line(keys[idx]));
            continue;
        }
        vals[idx] = v;
        keys[idx] = k;
    }
}

