/*
 * sections.c — source, target and tables of one integration.
 *
 * Kind-specific keys are checked once the kind is known (a postgres source
 * names `database:` and `schemas:`, a mysql one `databases:`), and the
 * table patterns are checked against the source's databases or schemas, so
 * a pattern that can never match is reported where it is written.
 */
#include "config/walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const rename_keys[] = { "from", "to" };

/* ---- patterns ------------------------------------------------------------ */

/* "[a, b, c]" of the source's databases/schemas, for messages. */
static void list_names(char *buf, size_t len, char **v, int n)
{
    size_t o = 0;

    buf[0] = '\0';
    for (int i = 0; i < n && o + 8 < len; i++) {
        int k = snprintf(buf + o, len - o, "%s%s", i ? ", " : "", v[i]);
        if (k < 0 || (size_t)k >= len - o) {
            snprintf(buf + o, len - o, ", ...");
            return;
        }
        o += (size_t)k;
    }
}

/* The schema part of a pattern must be able to match one of the source's
 * databases (mysql) or schemas (postgres). */
static void check_schema_part(struct ld *ld, const yaml_node_t *n, const char *what,
                              const char *pat, const char *schema, size_t slen,
                              const struct config_source *src)
{
    char **names = src->kind == SOURCE_MYSQL ? src->databases : src->schemas;
    int nn = src->kind == SOURCE_MYSQL ? src->ndatabases : src->nschemas;
    const char *label = src->kind == SOURCE_MYSQL ? "databases" : "schemas";
    char q[160], list[256], pre[128];

    if (!src->kind || nn <= 0)
        return;
    for (int i = 0; i < nn; i++)
        if (cfg_like_n(schema, slen, names[i], strlen(names[i])))
            return;
    list_names(list, sizeof list, names, nn);
    snprintf(pre, sizeof pre, "%.*s", (int)(slen < sizeof pre ? slen : sizeof pre - 1), schema);
    const char *sug = cfg_suggest(pre, (const char *const *)names, nn);
    if (sug)
        PROBLEM(ld, n, "%s %s can never match: its schema part matches none of the source's %s [%s]; did you mean `%s%s`?",
                what, cfg_show_value(q, sizeof q, n, pat), label, list, sug, pat + slen);
    else
        PROBLEM(ld, n, "%s %s can never match: its schema part matches none of the source's %s [%s]; add the schema to %s or fix the pattern",
                what, cfg_show_value(q, sizeof q, n, pat), label, list, label);
}

/* include/exclude entries: schema.table LIKE patterns. */
static void check_table_pattern(struct ld *ld, const yaml_node_t *n, const char *what,
                                const char *pat, const struct config_source *src)
{
    const char *part[2];
    size_t plen[2];
    char q[160];
    int parts = cfg_pattern_split(pat, part, plen, 2);

    if (parts == 1) {
        const char *db = src->kind == SOURCE_MYSQL && src->ndatabases == 1 ? src->databases[0]
                       : src->kind == SOURCE_POSTGRES && src->nschemas == 1 ? src->schemas[0]
                       : "schema";
        const char *eg = memmem(n->data.scalar.value, n->data.scalar.length, "${", 2)
                       ? "table" : pat;    /* never echo an expansion */
        PROBLEM(ld, n, "%s %s can never match: it has no dot between schema and table; write schema.table, e.g. \"%s.%s\"",
                what, cfg_show_value(q, sizeof q, n, pat), db, eg);
        return;
    }
    if (parts > 2) {
        PROBLEM(ld, n, "%s %s has more than one dot; write schema.table (escape a dot inside a name as \\.)",
                what, cfg_show_value(q, sizeof q, n, pat));
        return;
    }
    if (!plen[0] || !plen[1]) {
        PROBLEM(ld, n, "%s %s has an empty %s part; use %% to match every %s", what,
                cfg_show_value(q, sizeof q, n, pat), plen[0] ? "table" : "schema",
                plen[0] ? "table" : "schema");
        return;
    }
    check_schema_part(ld, n, what, pat, part[0], plen[0], src);
}

/* ---- sections ------------------------------------------------------------ */

static char *default_object_name(const char *integration)
{
    char buf[64];
    size_t o = 0;

    o = (size_t)snprintf(buf, sizeof buf, "zetl_");
    for (const char *p = integration; *p && o < 63; p++) {
        char ch = *p;
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        buf[o++] = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ? ch : '_';
    }
    buf[o] = '\0';
    return strdup(buf);
}

static const char *const source_kinds[] = { "mysql", "postgres" };
static const char *const target_kinds[] = { "postgres", "redshift", "http" };
static const char *const tls_modes[] = { "disable", "prefer", "require", "verify-full" };

/* A mysql source's own keys (val, key: the source map's, by SRC_*): its
 * databases and server_id; postgres-only keys are problems. */
static void parse_source_mysql(struct ld *ld, yaml_node_t *v, yaml_node_t **val, yaml_node_t **key,
                               struct config_source *s)
{
    long long x;
    int set;

    if (key[SRC_DATABASE])
        PROBLEM(ld, key[SRC_DATABASE], "`database` is for postgres sources; a mysql source lists its databases as `databases: [name, ...]`");
    if (key[SRC_SCHEMAS])
        PROBLEM(ld, key[SRC_SCHEMAS], "`schemas` is for postgres sources; a mysql source lists its databases as `databases: [name, ...]`");
    if (key[SRC_SLOT])
        PROBLEM(ld, key[SRC_SLOT], "`slot` is for postgres sources; remove it (a mysql source is identified by server_id)");
    if (key[SRC_PUBLICATION])
        PROBLEM(ld, key[SRC_PUBLICATION], "`publication` is for postgres sources; remove it (a mysql source selects tables with tables.include)");
    if (!val[SRC_DATABASES]) {
        PROBLEM(ld, v, "missing required field `databases` in source (kind mysql); add databases: [name, ...]");
    } else if (cfg_get_str_list(ld, val[SRC_DATABASES], "databases", "[tickit]", &s->databases,
                                &s->ndatabases, NULL) == 0 && s->ndatabases == 0) {
        PROBLEM(ld, val[SRC_DATABASES], "databases is empty; list at least one database to replicate, e.g. [tickit]");
    }
    s->server_id = 4242;
    if (cfg_get_int(ld, val[SRC_SERVER_ID], "server_id", 1, 4294967295LL, &x, &set) == 0 && set)
        s->server_id = (uint32_t)x;
}

/* A postgres source's own keys: its database, schemas, slot and publication
 * (the last two named after the integration by default); mysql-only keys are
 * problems. */
static void parse_source_postgres(struct ld *ld, yaml_node_t *v, yaml_node_t **val, yaml_node_t **key,
                                  struct config_source *s, const char *igname)
{
    if (key[SRC_DATABASES])
        PROBLEM(ld, key[SRC_DATABASES], "`databases` is for mysql sources; a postgres source names one database with `database: name` and its schemas with `schemas: [public]`");
    if (key[SRC_SERVER_ID])
        PROBLEM(ld, key[SRC_SERVER_ID], "`server_id` is for mysql sources; a postgres source uses `slot:` and `publication:`");
    cfg_get_required_str(ld, val[SRC_DATABASE], v, "database", "source (kind postgres)",
                         &s->database);
    if (val[SRC_SCHEMAS] && !cfg_is_null(val[SRC_SCHEMAS])) {
        if (cfg_get_str_list(ld, val[SRC_SCHEMAS], "schemas", "[public]", &s->schemas,
                             &s->nschemas, NULL) == 0 && s->nschemas == 0)
            PROBLEM(ld, val[SRC_SCHEMAS], "schemas is empty; list at least one schema, or remove the key for [public]");
    } else {
        s->schemas = calloc(1, sizeof *s->schemas);
        if (s->schemas && (s->schemas[0] = cfg_strdup(ld, "public")))
            s->nschemas = 1;
    }
    if (cfg_get_str(ld, val[SRC_SLOT], "slot", &s->slot) == 0 && s->slot) {
        int ok = *s->slot && strlen(s->slot) <= 63;
        for (const char *p = s->slot; ok && *p; p++)
            ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
        char q[160];
        if (!ok)
            PROBLEM(ld, val[SRC_SLOT], "slot %s is not a valid replication slot name; use 1 to 63 lowercase letters, digits and _",
                    cfg_show_value(q, sizeof q, val[SRC_SLOT], s->slot));
    }
    if (cfg_get_str(ld, val[SRC_PUBLICATION], "publication", &s->publication) == 0 &&
        s->publication && (!*s->publication || strlen(s->publication) > 63))
        PROBLEM(ld, val[SRC_PUBLICATION], "publication must be 1 to 63 characters");
    if (!s->slot && igname)
        s->slot = default_object_name(igname);
    if (!s->publication && igname)
        s->publication = default_object_name(igname);
}

void cfg_parse_source(struct ld *ld, yaml_node_t *v, yaml_node_t *parent,
                      struct config_source *s, const char *igname)
{
    yaml_node_t *val[SRC_N], *key[SRC_N];
    long long x;
    int set, k;

    int m = cfg_get_map(ld, v, "source", "kind, host, port, user, ...");
    if (m < 0)
        return;
    if (m == 0) {
        PROBLEM(ld, v ? v : parent, "missing required field `source` in integration%s%s; add source: {kind: mysql, host: ..., user: ...}",
                igname ? " " : "", igname ? igname : "");
        return;
    }
    cfg_map_keys(ld, v, SEC_SRC, val, key);

    if (!val[SRC_KIND])
        PROBLEM(ld, v, "missing required field `kind` in source; valid kinds: mysql, postgres");
    else if (cfg_get_enum(ld, val[SRC_KIND], "source kind", source_kinds, 2, &k) == 0)
        s->kind = k == 0 ? SOURCE_MYSQL : SOURCE_POSTGRES;

    if (cfg_get_str(ld, val[SRC_HOST], "host", &s->host) == 0 && val[SRC_HOST] && s->host &&
        !*s->host)
        PROBLEM(ld, val[SRC_HOST], "host in source is empty; give it a value");
    if (!s->host)
        s->host = cfg_strdup(ld, "127.0.0.1");
    if (cfg_get_int(ld, val[SRC_PORT], "port", 1, 65535, &x, &set) == 0 && set)
        s->port = (int)x;
    else if (!val[SRC_PORT] || cfg_is_null(val[SRC_PORT]))
        s->port = s->kind == SOURCE_POSTGRES ? 5432 : 3306;

    cfg_get_required_str(ld, val[SRC_USER], v, "user", "source", &s->user);
    cfg_get_str(ld, val[SRC_PASSWORD], "password", &s->password);
    if (cfg_get_str(ld, val[SRC_PASSWORD_COMMAND], "password_command", &s->password_command) == 0 &&
        s->password_command && !*s->password_command)
        PROBLEM(ld, val[SRC_PASSWORD_COMMAND], "password_command is empty; give a command or remove the key");
    if (val[SRC_PASSWORD] && !cfg_is_null(val[SRC_PASSWORD]) &&
        val[SRC_PASSWORD_COMMAND] && !cfg_is_null(val[SRC_PASSWORD_COMMAND])) {
        yaml_node_t *later = cfg_line(key[SRC_PASSWORD]) > cfg_line(key[SRC_PASSWORD_COMMAND]) ||
                             (cfg_line(key[SRC_PASSWORD]) == cfg_line(key[SRC_PASSWORD_COMMAND]) &&
                              cfg_col(key[SRC_PASSWORD]) > cfg_col(key[SRC_PASSWORD_COMMAND]))
                             ? key[SRC_PASSWORD] : key[SRC_PASSWORD_COMMAND];
        PROBLEM(ld, later, "both password and password_command are set in source; keep only one (password_command is run at every connect)");
    }

    s->tls = TLS_PREFER;
    if (val[SRC_TLS] && !cfg_is_null(val[SRC_TLS]) &&
        cfg_get_enum(ld, val[SRC_TLS], "tls", tls_modes, 4, &k) == 0)
        s->tls = (enum tls_mode)k;

    if (s->kind == SOURCE_MYSQL)
        parse_source_mysql(ld, v, val, key, s);
    else if (s->kind == SOURCE_POSTGRES)
        parse_source_postgres(ld, v, val, key, s, igname);
}

void cfg_parse_target(struct ld *ld, yaml_node_t *v, yaml_node_t *parent,
                      struct config_target *t, const char *igname)
{
    yaml_node_t *val[TGT_N], *key[TGT_N];
    int k;

    int m = cfg_get_map(ld, v, "target", "kind, dsn or url");
    if (m < 0)
        return;
    if (m == 0) {
        PROBLEM(ld, v ? v : parent, "missing required field `target` in integration%s%s; add target: {kind: postgres, dsn: \"host=... dbname=...\"}",
                igname ? " " : "", igname ? igname : "");
        return;
    }
    cfg_map_keys(ld, v, SEC_TGT, val, key);
    if (!val[TGT_KIND])
        PROBLEM(ld, v, "missing required field `kind` in target; valid kinds: postgres, redshift, http");
    else if (cfg_get_enum(ld, val[TGT_KIND], "target kind", target_kinds, 3, &k) == 0)
        t->kind = k == 0 ? TARGET_POSTGRES : k == 1 ? TARGET_REDSHIFT : TARGET_HTTP;

    if (t->kind == TARGET_POSTGRES || t->kind == TARGET_REDSHIFT) {
        const char *kn = t->kind == TARGET_POSTGRES ? "postgres" : "redshift";
        if (!val[TGT_DSN])
            PROBLEM(ld, v, "missing required field `dsn` in target (kind %s); add dsn: \"host=... port=5432 dbname=... user=...\"",
                    kn);
        else
            cfg_get_required_str(ld, val[TGT_DSN], v, "dsn", "target", &t->dsn);
        if (key[TGT_URL])
            PROBLEM(ld, key[TGT_URL], "`url` is for http targets; a %s target connects with `dsn:`", kn);
        if (key[TGT_HEADERS])
            PROBLEM(ld, key[TGT_HEADERS], "`headers` is for http targets; remove it from this %s target", kn);
    } else if (t->kind == TARGET_HTTP) {
        if (key[TGT_DSN])
            PROBLEM(ld, key[TGT_DSN], "`dsn` is for postgres and redshift targets; an http target uses `url:`");
        if (!val[TGT_URL])
            PROBLEM(ld, v, "missing required field `url` in target (kind http); add url: \"https://...\"");
        else if (cfg_get_required_str(ld, val[TGT_URL], v, "url", "target", &t->url) == 0 &&
                 strncmp(t->url, "http://", 7) && strncmp(t->url, "https://", 8))
            PROBLEM(ld, val[TGT_URL], "url must start with http:// or https://");
        int hm = cfg_get_map(ld, val[TGT_HEADERS], "headers", "Header-Name: value");
        if (hm > 0) {
            yaml_node_t *h = val[TGT_HEADERS];
            size_t n = (size_t)(h->data.mapping.pairs.top - h->data.mapping.pairs.start);
            t->headers = calloc(n ? n : 1, sizeof *t->headers);
            for (size_t i = 0; t->headers && i < n; i++) {
                yaml_node_t *hk = cfg_node(ld, h->data.mapping.pairs.start[i].key);
                yaml_node_t *hv = cfg_node(ld, h->data.mapping.pairs.start[i].value);
                char q[160];
                if (!hk || hk->type != YAML_SCALAR_NODE) {
                    PROBLEM(ld, hk ? hk : h, "header names must be strings, got %s", cfg_type_name(hk));
                    continue;
                }
                const char *name = (const char *)hk->data.scalar.value;
                int ok = hk->data.scalar.length == strlen(name) && *name;
                for (const char *p = name; ok && *p; p++)
                    ok = *p > 0x20 && *p < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", *p);
                if (!ok) {
                    PROBLEM(ld, hk, "header name %s is not a valid HTTP header name",
                            cfg_show(q, sizeof q, name, hk->data.scalar.length));
                    continue;
                }
                char *value = NULL;
                if (cfg_get_str(ld, hv, name, &value) < 0)
                    continue;
                if (value && strpbrk(value, "\r\n")) {
                    PROBLEM(ld, hv, "header %s value contains a line break; remove it", name);
                    free(value);
                    continue;
                }
                t->headers[t->nheaders].name = cfg_strdup(ld, name);
                t->headers[t->nheaders].value = value ? value : cfg_strdup(ld, "");
                t->nheaders++;
            }
        }
    }
}

static void parse_rename(struct ld *ld, yaml_node_t *v, struct config_tables *t,
                         const struct config_source *src)
{
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    const yaml_node_t **from_nodes = calloc(n ? n : 1, sizeof *from_nodes);

    t->rename = calloc(n ? n : 1, sizeof *t->rename);
    if (!t->rename || !from_nodes) {
        PROBLEM(ld, v, "out of memory reading rename");
        free(from_nodes);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *e = cfg_node(ld, v->data.sequence.items.start[i]);
        yaml_node_t *val[RN_N], *key[RN_N];
        char *ft[2] = { NULL, NULL }, q[160];
        int bad = 0;

        if (!e || e->type != YAML_MAPPING_NODE) {
            PROBLEM(ld, e ? e : v, "each rename entry must be a mapping {from: schema.table, to: schema.table}, got %s",
                    cfg_type_name(e));
            continue;
        }
        cfg_map_keys(ld, e, SEC_RN, val, key);
        for (int j = 0; j < RN_N; j++) {
            if (!val[j]) {
                PROBLEM(ld, e, "missing required field `%s` in rename entry; write {from: \"schema.table\", to: \"schema.table\"}",
                        rename_keys[j]);
                bad = 1;
                continue;
            }
            if (cfg_get_required_str(ld, val[j], e, rename_keys[j], "rename entry", &ft[j]) < 0) {
                bad = 1;
                continue;
            }
            const char *dot = strchr(ft[j], '.');
            if (!dot || dot == ft[j] || !dot[1] || strchr(dot + 1, '.') ||
                strpbrk(ft[j], "%\\")) {
                PROBLEM(ld, val[j], "rename %s %s must name one table as schema.table (no patterns)",
                        rename_keys[j], cfg_show_value(q, sizeof q, val[j], ft[j]));
                bad = 1;
            }
        }
        if (!bad) {
            const char *dot = strchr(ft[0], '.');
            check_schema_part(ld, val[RN_FROM], "rename from", ft[0], ft[0],
                              (size_t)(dot - ft[0]), src);
            for (int j = 0; j < t->nrename; j++) {
                if (!strcmp(t->rename[j].from, ft[0])) {
                    PROBLEM(ld, val[RN_FROM], "rename from %s is given twice (first at line %d); keep one",
                            cfg_show(q, sizeof q, ft[0], strlen(ft[0])), cfg_line(from_nodes[j]));
                    bad = 1;
                    break;
                }
                if (!strcmp(t->rename[j].to, ft[1])) {
                    PROBLEM(ld, val[RN_TO], "rename to %s is used twice (first at line %d); two tables cannot land in one",
                            cfg_show(q, sizeof q, ft[1], strlen(ft[1])), cfg_line(from_nodes[j]));
                    bad = 1;
                    break;
                }
            }
        }
        if (bad) {
            free(ft[0]);
            free(ft[1]);
            continue;
        }
        from_nodes[t->nrename] = val[RN_FROM];
        t->rename[t->nrename].from = ft[0];
        t->rename[t->nrename].to = ft[1];
        t->nrename++;
    }
    free(from_nodes);
}

/* filters: [{table: schema.table pattern, where: SQL expression}]. The
 * expression is checked where the table's columns are known (runtime/integ/
 * shape.c, at each load, and zetl check); here: present and not empty. */
static void parse_filters(struct ld *ld, yaml_node_t *v, struct config_tables *t,
                          const struct config_source *src)
{
    if (v->type != YAML_SEQUENCE_NODE) {
        PROBLEM(ld, v, "filters must be a list, e.g. [{table: \"shop.orders\", where: \"status <> 'test'\"}], got %s",
                cfg_type_name(v));
        return;
    }
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    t->filters = calloc(n ? n : 1, sizeof *t->filters);
    if (!t->filters) {
        PROBLEM(ld, v, "out of memory reading filters");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *e = cfg_node(ld, v->data.sequence.items.start[i]);
        yaml_node_t *val[FL_N], *key[FL_N];
        char *tw[2] = { NULL, NULL };
        static const char *const names[FL_N] = { "table", "where" };
        int bad = 0;
        if (!e || e->type != YAML_MAPPING_NODE) {
            PROBLEM(ld, e ? e : v, "each filters entry must be a mapping {table: schema.table, where: SQL expression}, got %s",
                    cfg_type_name(e));
            continue;
        }
        cfg_map_keys(ld, e, SEC_FL, val, key);
        for (int j = 0; j < FL_N; j++) {
            if (!val[j]) {
                PROBLEM(ld, e, "missing required field `%s` in filters entry; write {table: \"schema.table\", where: \"status <> 'test'\"}",
                        names[j]);
                bad = 1;
            } else if (cfg_get_required_str(ld, val[j], e, names[j], "filters entry", &tw[j]) < 0) {
                bad = 1;
            }
        }
        if (!bad) check_table_pattern(ld, val[FL_TABLE], "filters table pattern", tw[0], src);
        if (bad) {
            free(tw[0]);
            free(tw[1]);
            continue;
        }
        struct config_filter *f = &t->filters[t->nfilters++];
        f->table = tw[0];
        f->where = tw[1];
        f->line = cfg_line(val[FL_WHERE]);
    }
}

/* A list of schema.table.column patterns (exclude_columns and the transform lists). */
static void column_patterns(struct ld *ld, yaml_node_t *v, const char *key, const char *example,
                            char ***out, int *n, const struct config_source *src)
{
    const yaml_node_t **nodes = NULL;
    char q[160], ex[96], what[64];
    snprintf(ex, sizeof ex, "[\"%s\"]", example);
    snprintf(what, sizeof what, "%s entry", key);
    cfg_get_str_list(ld, v, key, ex, out, n, &nodes);
    for (int i = 0; i < *n; i++) {
        const char *part[3];
        size_t plen[3];
        const char *pat = (*out)[i];
        if (cfg_pattern_split(pat, part, plen, 3) != 3 || !plen[0] || !plen[1] || !plen[2]) {
            PROBLEM(ld, nodes[i], "%s entry %s must be schema.table.column, e.g. \"%s\"", key,
                    cfg_show_value(q, sizeof q, nodes[i], pat), example);
            continue;
        }
        check_schema_part(ld, nodes[i], what, pat, part[0], plen[0], src);
    }
    free(nodes);
}

void cfg_parse_tables(struct ld *ld, yaml_node_t *v, yaml_node_t *parent, enum target_kind tkind,
                      struct config_tables *t, const struct config_source *src,
                      const char *igname)
{
    yaml_node_t *val[TBL_N], *key[TBL_N];
    const yaml_node_t **nodes = NULL;

    int m = cfg_get_map(ld, v, "tables", "include, exclude, rename, exclude_columns, hash_columns, "
                        "mask_columns, null_columns, hash_key, soft_delete, filters, history");
    if (m < 0)
        return;
    if (m == 0) {
        PROBLEM(ld, v ? v : parent, "missing required field `tables` in integration%s%s; add tables: {include: [\"schema.%%\"]}",
                igname ? " " : "", igname ? igname : "");
        return;
    }
    cfg_map_keys(ld, v, SEC_TBL, val, key);

    if (!val[TBL_INCLUDE]) {
        PROBLEM(ld, v, "missing required field `include` in tables; add include: [\"schema.%%\"] to pick tables");
    } else if (cfg_get_str_list(ld, val[TBL_INCLUDE], "include", "[\"tickit.%\"]", &t->include,
                                &t->ninclude, &nodes) == 0 && t->ninclude == 0) {
        PROBLEM(ld, val[TBL_INCLUDE], "include is empty, so no table would be replicated; list at least one schema.table pattern, e.g. [\"tickit.%%\"]");
    }
    for (int i = 0; i < t->ninclude; i++)
        check_table_pattern(ld, nodes[i], "include pattern", t->include[i], src);
    free(nodes);
    nodes = NULL;

    cfg_get_str_list(ld, val[TBL_EXCLUDE], "exclude", "[\"tickit.tmp\\\\_%\"]", &t->exclude,
                     &t->nexclude, &nodes);
    for (int i = 0; i < t->nexclude; i++)
        check_table_pattern(ld, nodes[i], "exclude pattern", t->exclude[i], src);
    free(nodes);
    nodes = NULL;

    column_patterns(ld, val[TBL_EXCLUDE_COLUMNS], "exclude_columns", "tickit.users.password_hash",
                    &t->exclude_columns, &t->nexclude_columns, src);
    column_patterns(ld, val[TBL_HASH_COLUMNS], "hash_columns", "tickit.users.email",
                    &t->hash_columns, &t->nhash_columns, src);
    column_patterns(ld, val[TBL_MASK_COLUMNS], "mask_columns", "tickit.users.phone",
                    &t->mask_columns, &t->nmask_columns, src);
    column_patterns(ld, val[TBL_NULL_COLUMNS], "null_columns", "tickit.users.birthdate",
                    &t->null_columns, &t->nnull_columns, src);
    cfg_get_str_list(ld, val[TBL_SOFT_DELETE], "soft_delete", "[\"tickit.sales\"]", &t->soft_delete,
                     &t->nsoft_delete, &nodes);
    for (int i = 0; i < t->nsoft_delete; i++)
        check_table_pattern(ld, nodes[i], "soft_delete pattern", t->soft_delete[i], src);
    free(nodes);
    nodes = NULL;
    cfg_get_str_list(ld, val[TBL_HISTORY], "history", "[\"tickit.sales\"]", &t->history, &t->nhistory, &nodes);
    for (int i = 0; i < t->nhistory; i++)
        check_table_pattern(ld, nodes[i], "history pattern", t->history[i], src);
    free(nodes);
    nodes = NULL;
    if (t->nhistory && tkind == TARGET_HTTP)
        PROBLEM(ld, val[TBL_HISTORY], "history does not apply to an http target: its events already are every "
                "version; remove history, or keep versions downstream");
    if (t->nsoft_delete && tkind == TARGET_HTTP)
        PROBLEM(ld, val[TBL_SOFT_DELETE], "soft_delete does not apply to an http target: its delete events are "
                "the record of a delete; remove soft_delete, or mark deletes downstream");

    /* The key is a secret: never quoted back (it may come from ${VAR}). */
    if (cfg_get_str(ld, val[TBL_HASH_KEY], "hash_key", &t->hash_key) == 0) {
        if (t->hash_key && strlen(t->hash_key) < CONFIG_HASH_KEY_MIN)
            PROBLEM(ld, val[TBL_HASH_KEY], "hash_key is shorter than %d bytes; use a long random secret, e.g. "
                    "hash_key: \"${ZETL_HASH_KEY}\" with ZETL_HASH_KEY=$(openssl rand -hex 32)", CONFIG_HASH_KEY_MIN);
        else if (!t->hash_key && t->nhash_columns)
            PROBLEM(ld, val[TBL_HASH_COLUMNS], "hash_columns needs tables.hash_key, the secret the hash is keyed "
                    "with; add hash_key: \"${ZETL_HASH_KEY}\" and export ZETL_HASH_KEY=$(openssl rand -hex 32)");
    }

    if (val[TBL_FILTERS] && !cfg_is_null(val[TBL_FILTERS])) parse_filters(ld, val[TBL_FILTERS], t, src);

    if (val[TBL_RENAME] && !cfg_is_null(val[TBL_RENAME])) {
        if (val[TBL_RENAME]->type != YAML_SEQUENCE_NODE)
            PROBLEM(ld, val[TBL_RENAME], "rename must be a list, e.g. [{from: \"tickit.users\", to: \"crm.users\"}], got %s",
                    cfg_type_name(val[TBL_RENAME]));
        else
            parse_rename(ld, val[TBL_RENAME], t, src);
    }
}

