/*
 * walk.h — reading the libyaml document along the config contract's shape.
 *
 * Shared by config.c (top level, integrations, apply, entry points),
 * sections.c (source, target, tables) and walk.c (the typed readers). Every
 * reader reports a problem at the offending node's mark and returns -1; none
 * stops the walk, so one load reports every problem it can. Not part of the API.
 */
#ifndef ZETL_CONFIG_WALK_H
#define ZETL_CONFIG_WALK_H

#include "config/config.h"
#include "config/internal.h"

#include <yaml.h>

#define CFG_MAX_VALUES 1000000  /* scalars read per load: bounds alias blow-ups */

struct ld {                     /* one load in progress */
    yaml_document_t   *doc;
    struct cfg_report  rep;
    struct config     *c;       /* being filled; freed by the caller on error */
    long               values;  /* scalars read so far */
    int                over;    /* CFG_MAX_VALUES reached: stop walking */
    const yaml_node_t *top_alerts;  /* the top-level alerts: value, for messages */
    int                top_alerts_reported; /* its missing webhook_url, once */
};

/* Indices into the value/key arrays filled by cfg_map_keys(), per section. */
enum { TOP_STATE_DIR, TOP_INTEGRATIONS, TOP_ALERTS, TOP_HA, TOP_N };
enum { HA_ENABLED, HA_MEMBER, HA_TAKEOVER_SECONDS, HA_N };
enum { IG_NAME, IG_SOURCE, IG_TARGET, IG_TABLES, IG_APPLY, IG_ALERTS, IG_N };
enum { SRC_KIND, SRC_HOST, SRC_PORT, SRC_USER, SRC_PASSWORD, SRC_PASSWORD_COMMAND,
       SRC_DATABASES, SRC_DATABASE, SRC_SCHEMAS, SRC_SERVER_ID, SRC_TLS, SRC_SLOT,
       SRC_PUBLICATION, SRC_N };
enum { TGT_KIND, TGT_DSN, TGT_URL, TGT_HEADERS, TGT_N };
enum { TBL_INCLUDE, TBL_EXCLUDE, TBL_RENAME, TBL_EXCLUDE_COLUMNS, TBL_HASH_COLUMNS, TBL_MASK_COLUMNS,
       TBL_NULL_COLUMNS, TBL_HASH_KEY, TBL_SOFT_DELETE, TBL_FILTERS, TBL_HISTORY, TBL_N };
enum { APP_BATCH_ROWS, APP_BATCH_MS, APP_MEMORY_MB, APP_COPY_WORKERS, APP_DRIFT_CHECK, APP_COPY_CHUNK_ROWS, APP_COPY_CHUNK_MB, APP_N };
enum { RN_FROM, RN_TO, RN_N };
enum { FL_TABLE, FL_WHERE, FL_N };
enum { ALR_WEBHOOK_URL, ALR_LAG_SECONDS, ALR_ON, ALR_RESOLVE_SECONDS, ALR_TIMEOUT_SECONDS, ALR_STALL_SECONDS, ALR_N };

enum { SEC_TOP, SEC_IG, SEC_SRC, SEC_TGT, SEC_TBL, SEC_APP, SEC_RN, SEC_ALR, SEC_FL, SEC_HA, SEC_N };

static inline int cfg_line(const yaml_node_t *n) { return n ? (int)n->start_mark.line + 1 : 1; }
static inline int cfg_col(const yaml_node_t *n)  { return n ? (int)n->start_mark.column + 1 : 1; }

#define PROBLEM(ld, node, ...) \
    cfg_report_add(&(ld)->rep, cfg_line(node), cfg_col(node), __VA_ARGS__)

yaml_node_t *cfg_node(struct ld *ld, int index);
int          cfg_is_null(const yaml_node_t *n);        /* absent, "", ~, null */
const char  *cfg_type_name(const yaml_node_t *n);     /* "a mapping", "a list", ... */
/* Quote a value for a message (escaped, cut at ~60 bytes); never for secrets. */
const char  *cfg_show(char *buf, size_t buflen, const char *s, size_t len);
/* Quote a scalar's value, or its text as written when it used ${VAR}. */
const char  *cfg_show_value(char *buf, size_t buflen, const yaml_node_t *n, const char *val);
char        *cfg_strdup(struct ld *ld, const char *s);

/* Matches a mapping's keys against section sec (unknown keys, duplicates);
 * vals[i]/keys[i] get the value and key node of known key i, or NULL. */
void cfg_map_keys(struct ld *ld, const yaml_node_t *map, int sec, yaml_node_t **vals,
                  yaml_node_t **keys);

/* Typed readers. *out is NULL for an absent or null value. */
int  cfg_get_str(struct ld *ld, const yaml_node_t *v, const char *key, char **out);
int  cfg_get_required_str(struct ld *ld, const yaml_node_t *v, const yaml_node_t *parent,
                          const char *key, const char *where, char **out);
int  cfg_get_int(struct ld *ld, const yaml_node_t *v, const char *key, long long min,
                 long long max, long long *out, int *set);
int  cfg_get_enum(struct ld *ld, const yaml_node_t *v, const char *what,
                  const char *const *names, int n, int *out);
int  cfg_get_str_list(struct ld *ld, const yaml_node_t *v, const char *key,
                      const char *example, char ***out, int *nout,
                      const yaml_node_t ***nodes);
/* 1 for a mapping, 0 for absent/null, -1 (reported) for anything else. */
int  cfg_get_map(struct ld *ld, const yaml_node_t *v, const char *key, const char *shape);

/* sections.c: source, target and tables of one integration. igname is NULL
 * when the integration's name is missing or invalid. */
void cfg_parse_source(struct ld *ld, yaml_node_t *v, yaml_node_t *parent,
                      struct config_source *s, const char *igname);
void cfg_parse_target(struct ld *ld, yaml_node_t *v, yaml_node_t *parent,
                      struct config_target *t, const char *igname);
void cfg_parse_tables(struct ld *ld, yaml_node_t *v, yaml_node_t *parent, enum target_kind tkind,
                      struct config_tables *t, const struct config_source *src,
                      const char *igname);

/* alerts.c: an alerts: block as written into *a (a->set says which keys,
 * a->line where; defaults filled), and an integration's effective alerts:
 * its own block over the top-level one. `node` is the integration's alerts
 * value (NULL when absent), top_node the top-level one. */
void cfg_parse_alerts(struct ld *ld, yaml_node_t *v, struct config_alerts *a);
void cfg_merge_alerts(struct ld *ld, const struct config_alerts *top, const yaml_node_t *top_node,
                      struct config_alerts *ig, const yaml_node_t *node, const char *igname);

#endif
