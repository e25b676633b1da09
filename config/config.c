/*
 * config.c — YAML document → struct config, with every check an operator
 * needs to fix a config from the first report.
 *
 * The libyaml document is walked along the fixed shape of the contract (top
 * level → integrations → source/target/tables/apply), never generically, so a
 * self-referencing alias cannot make the walk recurse. Each mapping is first
 * matched against its table of known keys (unknown keys get a "did you mean",
 * duplicates name the first), then each value is read with a typed reader that
 * reports at the value's own mark. Problems are collected, not fatal: one run
 * reports everything it can. Values of `password`, `password_command`, `dsn`,
 * `url`, `webhook_url` and header values are never quoted back; any value
 * that went through ${VAR} expansion is quoted as written, not as expanded.
 * The alerts: blocks are read in alerts.c.
 */
#include "config/walk.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

/* Limits that keep a wrong file (a log, a dump, a generated bomb) from
 * hanging the loader: libyaml's scanner is quadratic in flow nesting, and
 * the checks are quadratic in the number of integrations. A real config is a
 * few KiB: one integration is ~0.5 KiB written out, so 1 MiB holds some two
 * thousand of them, far past what one zetl runs; and the contract's deepest
 * path (top, integrations, item, tables, rename, item) is 6 levels, so 64
 * leaves room for any hand-written style. */
#define CFG_MAX_FILE  (1u << 20)        /* bytes */
#define CFG_MAX_DEPTH 64                /* mappings and lists inside each other */

/* ---- top level, integrations, apply --------------------------------------- */

struct name_at {
    const char  *name;
    size_t       i;             /* position in the file */
    yaml_node_t *node;
};

static void parse_apply(struct ld *ld, yaml_node_t *v, struct config_apply *a)
{
    yaml_node_t *val[APP_N], *key[APP_N];
    long long x;
    int set;

    a->batch_rows = 20000;
    a->batch_ms = 200;
    a->memory_mb = 256;
    a->copy_workers = 1;
    a->drift_check_seconds = CONFIG_DRIFT_CHECK_DEFAULT;
    a->copy_chunk_rows = CONFIG_COPY_CHUNK_ROWS_DEFAULT;
    a->copy_chunk_mb = CONFIG_COPY_CHUNK_MB_DEFAULT;
    if (cfg_get_map(ld, v, "apply", "batch_rows, batch_ms, memory_mb, copy_workers, drift_check_seconds, "
                    "copy_chunk_rows, copy_chunk_mb") <= 0)
        return;
    cfg_map_keys(ld, v, SEC_APP, val, key);
    if (cfg_get_int(ld, val[APP_BATCH_ROWS], "batch_rows", 1, 1000000, &x, &set) == 0 && set)
        a->batch_rows = (int)x;
    if (cfg_get_int(ld, val[APP_BATCH_MS], "batch_ms", 1, 60000, &x, &set) == 0 && set)
        a->batch_ms = (int)x;
    if (cfg_get_int(ld, val[APP_MEMORY_MB], "memory_mb", 16, 65536, &x, &set) == 0 && set)
        a->memory_mb = (int)x;
    if (cfg_get_int(ld, val[APP_COPY_WORKERS], "copy_workers", 1, 16, &x, &set) == 0 && set)
        a->copy_workers = (int)x;
    if (cfg_get_int(ld, val[APP_DRIFT_CHECK], "drift_check_seconds", 0, 604800, &x, &set) == 0 && set)
        a->drift_check_seconds = (int)x;
    if (cfg_get_int(ld, val[APP_COPY_CHUNK_ROWS], "copy_chunk_rows", 0, 100000000, &x, &set) == 0 && set)
        a->copy_chunk_rows = (int)x;
    if (cfg_get_int(ld, val[APP_COPY_CHUNK_MB], "copy_chunk_mb", 0, 65536, &x, &set) == 0 && set)
        a->copy_chunk_mb = (int)x;
}

static void parse_integration(struct ld *ld, yaml_node_t *n, struct config_integration *ig,
                              yaml_node_t **name_node)
{
    yaml_node_t *val[IG_N], *key[IG_N];
    char q[160];

    *name_node = NULL;
    ig->line = cfg_line(n);
    if (n->type != YAML_MAPPING_NODE) {
        PROBLEM(ld, n, "each integration must be a mapping with name, source, target and tables, got %s",
                cfg_type_name(n));
        return;
    }
    cfg_map_keys(ld, n, SEC_IG, val, key);
    if (cfg_get_required_str(ld, val[IG_NAME], n, "name", "integration", &ig->name) == 0) {
        size_t len = strlen(ig->name);
        int ok = 1;
        for (const char *p = ig->name; *p; p++)
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
                ok = 0;
        if (!ok) {
            char fix[64];
            size_t i;
            for (i = 0; i < len && i < sizeof fix - 1; i++) {
                char ch = ig->name[i];
                fix[i] = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                         (ch >= '0' && ch <= '9') || ch == '-' ? ch : '_';
            }
            fix[i] = '\0';
            PROBLEM(ld, val[IG_NAME], "integration name %s may only contain letters, digits, _ and - ([A-Za-z0-9_-]); try \"%s\"",
                    cfg_show_value(q, sizeof q, val[IG_NAME], ig->name), fix);
        } else if (len > 63) {
            PROBLEM(ld, val[IG_NAME], "integration name is %zu characters long; use at most 63", len);
        } else {
            *name_node = val[IG_NAME];
        }
    }
    const char *nm = *name_node ? ig->name : NULL;
    cfg_parse_source(ld, val[IG_SOURCE], n, &ig->source, nm);
    cfg_parse_target(ld, val[IG_TARGET], n, &ig->target, nm);
    cfg_parse_tables(ld, val[IG_TABLES], n, ig->target.kind, &ig->tables, &ig->source, nm);
    parse_apply(ld, val[IG_APPLY], &ig->apply);
    cfg_parse_alerts(ld, val[IG_ALERTS], &ig->alerts);
    cfg_merge_alerts(ld, &ld->c->alerts, ld->top_alerts, &ig->alerts, val[IG_ALERTS], nm);
}

char *config_default_state_dir(void)
{
    const char *sd = getenv("STATE_DIRECTORY"), *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char *out = NULL;

    if (sd && sd[0] == '/') {           /* systemd's StateDirectory=; the first of a list */
        size_t n = strcspn(sd, ":");
        return strndup(sd, n);
    }
    if (x && x[0] == '/') {
        if (asprintf(&out, "%s/zetl", x) < 0)
            return NULL;
        return out;
    }
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());     /* main thread, at load */
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || !*home)
        return NULL;
    if (asprintf(&out, "%s/.local/state/zetl", home) < 0)
        return NULL;
    return out;
}

static int by_name_then_index(const void *a, const void *b)
{
    const struct name_at *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Each integration whose name an earlier one has, naming the first: sorted,
 * so a file of thousands of integrations is checked in n log n, not n². */
static void report_duplicates(struct ld *ld, const struct config *c, yaml_node_t **names, size_t n)
{
    struct name_at *v = calloc(n ? n : 1, sizeof *v);
    size_t k = 0, first = 0;

    if (!v) {
        PROBLEM(ld, names && n ? names[0] : NULL, "out of memory checking integration names");
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (names[i])
            v[k++] = (struct name_at){ c->integrations[i].name, i, names[i] };
    qsort(v, k, sizeof *v, by_name_then_index);
    for (size_t i = 1; i < k; i++) {
        if (strcmp(v[i].name, v[first].name) != 0) {
            first = i;
            continue;
        }
        PROBLEM(ld, v[i].node, "duplicate integration name `%s` (first at line %d); names must be unique",
                v[i].name, cfg_line(v[first].node));
    }
    free(v);
}

/* ha: { enabled, member, takeover_seconds } (config.h struct config_ha). The
 * member defaults to the host name; a target that cannot fence a stale
 * holder (any but postgres) is refused here, naming the integration. */
static void parse_ha(struct ld *ld, yaml_node_t *v)
{
    struct config_ha *h = &ld->c->ha;
    h->takeover_seconds = CONFIG_HA_TAKEOVER_DEFAULT;
    int m = cfg_get_map(ld, v, "ha", "ha: {enabled: true, member: host-a, takeover_seconds: 15}");
    if (m <= 0) return;
    h->line = cfg_line(v);
    yaml_node_t *val[HA_N], *key[HA_N];
    cfg_map_keys(ld, v, SEC_HA, val, key);
    static const char *const bools[] = { "false", "true", "no", "yes", "off", "on" };
    int k = 1;
    if (val[HA_ENABLED] && !cfg_is_null(val[HA_ENABLED]) &&
        cfg_get_enum(ld, val[HA_ENABLED], "ha enabled", bools, 6, &k) < 0)
        return;
    h->enabled = k % 2;
    if (cfg_get_str(ld, val[HA_MEMBER], "member", &h->member) == 0 && h->member) {
        size_t n = strlen(h->member);
        int bad = n == 0 || n > 63;
        for (size_t i = 0; i < n && !bad; i++)
            bad = !(isalnum((unsigned char)h->member[i]) || strchr("._-", h->member[i]));
        if (bad)
            PROBLEM(ld, val[HA_MEMBER], "ha member must be 1 to 63 letters, digits, '.', '_' or '-' "
                    "(it names this process to the others); remove it for the host name");
    }
    if (h->enabled && !h->member) {
        char host[256] = "";
        if (gethostname(host, sizeof host - 1) != 0 || !*host) snprintf(host, sizeof host, "localhost");
        host[63] = '\0';
        for (char *p = host; *p; p++)
            if (!(isalnum((unsigned char)*p) || strchr("._-", *p))) *p = '_';
        h->member = cfg_strdup(ld, host);
    }
    long long x;
    int set = 0;
    if (cfg_get_int(ld, val[HA_TAKEOVER_SECONDS], "takeover_seconds", 5, 300, &x, &set) == 0 && set)
        h->takeover_seconds = (int)x;
}

/* With ha enabled, every integration's target must be able to fence. */
static void check_ha_targets(struct ld *ld, const struct config *c, yaml_node_t *ha)
{
    if (!c->ha.enabled) return;
    for (int i = 0; i < c->nintegrations; i++) {
        const struct config_integration *ig = &c->integrations[i];
        if (ig->target.kind == TARGET_POSTGRES || !ig->target.kind) continue;
        PROBLEM(ld, ha, "ha is enabled but integration %s writes to a%s target, which cannot fence a stale "
                "holder (no advisory locks and row locks to check a lease against); run that integration "
                "from a config without ha, on one host", ig->name ? ig->name : "?",
                ig->target.kind == TARGET_REDSHIFT ? " redshift" : "n http");
    }
}

static void parse_top(struct ld *ld, yaml_node_t *root)
{
    yaml_node_t *val[TOP_N], *key[TOP_N];
    struct config *c = ld->c;

    if (root->type != YAML_MAPPING_NODE) {
        PROBLEM(ld, root, "the top level must be a mapping with `integrations:` (see config/example.yaml), got %s",
                cfg_is_null(root) ? "nothing" : cfg_type_name(root));
        return;
    }
    cfg_map_keys(ld, root, SEC_TOP, val, key);

    if (cfg_get_str(ld, val[TOP_STATE_DIR], "state_dir", &c->state_dir) == 0 && c->state_dir) {
        if (!*c->state_dir) {
            PROBLEM(ld, val[TOP_STATE_DIR], "state_dir is empty; remove it for the default, or give a directory");
        } else if (c->state_dir[0] == '~' && (c->state_dir[1] == '/' || !c->state_dir[1])) {
            const char *home = getenv("HOME");
            char *d = NULL;
            if (!home || !*home)
                PROBLEM(ld, val[TOP_STATE_DIR], "state_dir starts with ~ but HOME is not set; write an absolute path");
            else if (asprintf(&d, "%s%s", home, c->state_dir + 1) >= 0) {
                free(c->state_dir);
                c->state_dir = d;
            }
        } else if (c->state_dir[0] != '/') {
            PROBLEM(ld, val[TOP_STATE_DIR], "state_dir must be an absolute path (or start with ~/), so it does not depend on the directory zetl starts in");
        }
    }
    if (!val[TOP_STATE_DIR] || cfg_is_null(val[TOP_STATE_DIR])) {
        c->state_dir = config_default_state_dir();
        if (!c->state_dir)
            PROBLEM(ld, root, "no default for state_dir: none of STATE_DIRECTORY, XDG_STATE_HOME and HOME is set; add state_dir: /var/lib/zetl");
    }

    cfg_parse_alerts(ld, val[TOP_ALERTS], &c->alerts);
    ld->top_alerts = val[TOP_ALERTS];
    parse_ha(ld, val[TOP_HA]);

    yaml_node_t *ig = val[TOP_INTEGRATIONS];
    if (!ig) {
        PROBLEM(ld, root, "missing required field `integrations` at the top level; add integrations: [{name: ..., source: ..., target: ..., tables: ...}]");
        return;
    }
    if (cfg_is_null(ig) || (ig->type == YAML_SEQUENCE_NODE &&
                        ig->data.sequence.items.top == ig->data.sequence.items.start)) {
        PROBLEM(ld, ig, "integrations is empty; add at least one (see config/example.yaml)");
        return;
    }
    if (ig->type != YAML_SEQUENCE_NODE) {
        PROBLEM(ld, ig, "integrations must be a list (each item starts with \"- name: ...\"), got %s",
                cfg_type_name(ig));
        return;
    }
    size_t n = (size_t)(ig->data.sequence.items.top - ig->data.sequence.items.start);
    yaml_node_t **names = calloc(n, sizeof *names);
    c->integrations = calloc(n, sizeof *c->integrations);
    if (!names || !c->integrations) {
        PROBLEM(ld, ig, "out of memory reading integrations");
        free(names);
        return;
    }
    c->nintegrations = (int)n;
    for (size_t i = 0; i < n && !ld->over; i++) {
        yaml_node_t *item = cfg_node(ld, ig->data.sequence.items.start[i]);
        if (!item)
            continue;
        parse_integration(ld, item, &c->integrations[i], &names[i]);
        c->integrations[i].source.integration = c->integrations[i].name;
    }
    report_duplicates(ld, c, names, n);
    free(names);
    check_ha_targets(ld, c, val[TOP_HA]);
}

/* ---- entry points --------------------------------------------------------- */

static void syntax_error(struct ld *ld, yaml_parser_t *p, const char *yaml, size_t len)
{
    const char *problem = p->problem ? p->problem : "cannot parse";
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;

    if (p->error == YAML_READER_ERROR) {
        line = col = 1;                 /* the reader reports a byte offset */
        for (size_t i = 0; i < p->problem_offset && i < len; i++) {
            if (yaml[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        if (p->problem_value >= 0)
            cfg_report_add(&ld->rep, line, col, "YAML syntax error: %s (byte 0x%02x); save the file as UTF-8",
                           problem, (unsigned)p->problem_value & 0xffu);
        else
            cfg_report_add(&ld->rep, line, col, "YAML syntax error: %s", problem);
        return;
    }
    if (p->context)
        cfg_report_add(&ld->rep, line, col, "YAML syntax error: %s (%s at line %d, column %d)",
                       problem, p->context, (int)p->context_mark.line + 1,
                       (int)p->context_mark.column + 1);
    else
        cfg_report_add(&ld->rep, line, col, "YAML syntax error: %s", problem);
}

/* The line holding byte `at` (1-based). */
static int line_at(const char *s, size_t len, size_t at)
{
    int line = 1;

    for (size_t i = 0; i < at && i < len; i++)
        line += s[i] == '\n';
    return line;
}

/*
 * Refuse a file over CFG_MAX_FILE bytes, or nested deeper than
 * CFG_MAX_DEPTH, before building the document: one pass of libyaml's event
 * parser, which stops at the first collection too deep, so a bomb costs
 * microseconds. 0: within the limits (or a syntax error, which the load
 * reports with its context); -1: reported.
 */
static int check_limits(struct ld *ld, const char *yaml, size_t len)
{
    yaml_parser_t p;
    yaml_event_t ev;
    int depth = 0, rc = 0;

    if (len > CFG_MAX_FILE) {
        cfg_report_add(&ld->rep, line_at(yaml, len, CFG_MAX_FILE), 1,
                       "the config is larger than %u MiB (zetl stops reading here); a real config is a few KiB: is this the right file?",
                       CFG_MAX_FILE >> 20);
        return -1;
    }
    if (!yaml_parser_initialize(&p)) {
        cfg_report_add(&ld->rep, 1, 1, "out of memory starting the YAML parser");
        return -1;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
    for (;;) {
        if (!yaml_parser_parse(&p, &ev))
            break;                      /* the load says why, with its context */
        yaml_event_type_t t = ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (++depth > CFG_MAX_DEPTH) {
                cfg_report_add(&ld->rep, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                               "mappings and lists nested deeper than %d levels; a zetl config needs 6 at most: is this the right file?",
                               CFG_MAX_DEPTH);
                rc = -1;
            }
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        yaml_event_delete(&ev);
        if (rc < 0 || t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&p);
    return rc;
}

/* The first YAML document of yaml[0..len) into *doc through parser p (already
 * initialised), within the limits: 0, or -1 with the problem reported in ld. */
static int load_doc(struct ld *ld, yaml_parser_t *p, yaml_document_t *doc, const char *yaml, size_t len)
{
    if (check_limits(ld, yaml, len) < 0)
        return -1;
    yaml_parser_set_input_string(p, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(p, doc)) {
        syntax_error(ld, p, yaml, len);
        return -1;
    }
    return 0;
}

int config_load_buffer(const char *name, const char *yaml, size_t len, struct config **out,
                       char *err, size_t errlen)
{
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    struct ld ld = { 0 };
    int have_doc = 0, rc = -1;

    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    ld.rep.file = name ? name : "<config>";
    ld.doc = &doc;
    ld.c = calloc(1, sizeof *ld.c);
    if (!ld.c || !(ld.c->path = strdup(ld.rep.file))) {
        cfg_report_add(&ld.rep, 1, 1, "out of memory");
        goto report;
    }
    if (!yaml_parser_initialize(&parser)) {
        cfg_report_add(&ld.rep, 1, 1, "out of memory starting the YAML parser");
        goto report;
    }
    if (!yaml)
        yaml = "", len = 0;
    if (load_doc(&ld, &parser, &doc, yaml, len) < 0)
        goto parser;
    have_doc = 1;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        cfg_report_add(&ld.rep, 1, 1, "the config is empty; it needs at least `integrations:` (see config/example.yaml)");
        goto parser;
    }
    parse_top(&ld, root);
    if (!yaml_parser_load(&parser, &extra)) {
        syntax_error(&ld, &parser, yaml, len);
    } else {
        yaml_node_t *r2 = yaml_document_get_root_node(&extra);
        if (r2)
            PROBLEM(&ld, r2, "a second YAML document (after ---); zetl reads one, so put every integration under the first `integrations:`");
        yaml_document_delete(&extra);
    }

parser:
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
report:
    if (ld.rep.n || ld.rep.dropped) {
        cfg_report_flush(&ld.rep, err, errlen);
        config_free(ld.c);
        return rc;
    }
    *out = ld.c;
    return 0;
}

/*
 * The whole file into *buf (malloc'd; the caller wipes and frees it: it may hold
 * a password), at most CFG_MAX_FILE + 1 bytes so the limit check can say where
 * the file goes over. 0, or -1 with "PATH: why" in err.
 */
static int read_config_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
    size_t cap = 0;
    FILE *f = fopen(path, "rb");

    *buf = NULL;
    *len = 0;
    if (!f) {
        snprintf(err, errlen, "%s: cannot open the config: %s%s", path, strerror(errno),
                 errno == ENOENT ? " (write one with `zetl init`, or pass -c FILE)" : "");
        return -1;
    }
    for (;;) {
        if (*len == cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > CFG_MAX_FILE + 1)
                cap = CFG_MAX_FILE + 1;
            char *nb = realloc(*buf, cap);
            if (!nb) {
                snprintf(err, errlen, "%s: out of memory reading the config", path);
                fclose(f);
                return -1;
            }
            *buf = nb;
        }
        size_t k = fread(*buf + *len, 1, cap - *len, f);
        *len += k;
        if (*len > CFG_MAX_FILE || k == 0)
            break;                      /* over the limit: config_load_buffer says where */
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: cannot read the config: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void wipe(char *buf, size_t len)
{
    if (buf)
        explicit_bzero(buf, len);
    free(buf);
}

int config_load(const char *path, struct config **out, char *err, size_t errlen)
{
    char *buf;
    size_t len;
    int rc = -1;

    *out = NULL;
    if (read_config_file(path, &buf, &len, err, errlen) == 0)
        rc = config_load_buffer(path, buf ? buf : "", len, out, err, errlen);
    wipe(buf, len);
    return rc;
}

/* The value node of key in mapping m, else NULL. */
static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

int config_names(const char *path, FILE *out, char *err, size_t errlen)
{
    char *buf;
    size_t len;
    struct ld ld = { 0 };
    yaml_parser_t parser;
    yaml_document_t doc;
    int rc = -1;

    if (read_config_file(path, &buf, &len, err, errlen) < 0) {
        wipe(buf, len);
        return -1;
    }
    ld.rep.file = path;
    if (!yaml_parser_initialize(&parser)) {
        cfg_report_add(&ld.rep, 1, 1, "out of memory starting the YAML parser");
    } else {
        if (load_doc(&ld, &parser, &doc, buf ? buf : "", len) == 0) {
            yaml_node_t *igs = map_get(&doc, yaml_document_get_root_node(&doc), "integrations");
            if (igs && igs->type == YAML_SEQUENCE_NODE) {
                for (yaml_node_item_t *i = igs->data.sequence.items.start; i < igs->data.sequence.items.top; i++) {
                    yaml_node_t *nm = map_get(&doc, yaml_document_get_node(&doc, *i), "name");
                    if (nm && nm->type == YAML_SCALAR_NODE)
                        fprintf(out, "%s\n", (const char *)nm->data.scalar.value);
                }
            }
            yaml_document_delete(&doc);
            rc = 0;
        }
        yaml_parser_delete(&parser);
    }
    wipe(buf, len);
    if (rc < 0)
        cfg_report_flush(&ld.rep, err, errlen);
    return rc;
}

static void free_strv(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_secret(char *s)
{
    if (s)
        explicit_bzero(s, strlen(s));
    free(s);
}

void config_free(struct config *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nintegrations; i++) {
        struct config_integration *ig = &c->integrations[i];
        free(ig->name);
        free(ig->source.host);
        free(ig->source.user);
        free_secret(ig->source.password);
        free(ig->source.password_command);
        free_strv(ig->source.databases, ig->source.ndatabases);
        free(ig->source.database);
        free_strv(ig->source.schemas, ig->source.nschemas);
        free(ig->source.slot);
        free(ig->source.publication);
        free_secret(ig->target.dsn);
        free_secret(ig->target.url);
        for (int j = 0; j < ig->target.nheaders; j++) {
            free(ig->target.headers[j].name);
            free_secret(ig->target.headers[j].value);
        }
        free(ig->target.headers);
        free_strv(ig->tables.include, ig->tables.ninclude);
        free_strv(ig->tables.exclude, ig->tables.nexclude);
        for (int j = 0; j < ig->tables.nrename; j++) {
            free(ig->tables.rename[j].from);
            free(ig->tables.rename[j].to);
        }
        free(ig->tables.rename);
        free_strv(ig->tables.exclude_columns, ig->tables.nexclude_columns);
        free_strv(ig->tables.hash_columns, ig->tables.nhash_columns);
        free_strv(ig->tables.mask_columns, ig->tables.nmask_columns);
        free_strv(ig->tables.null_columns, ig->tables.nnull_columns);
        free_secret(ig->tables.hash_key);
        free_strv(ig->tables.soft_delete, ig->tables.nsoft_delete);
        free_strv(ig->tables.history, ig->tables.nhistory);
        for (int j = 0; j < ig->tables.nfilters; j++) {
            free(ig->tables.filters[j].table);
            free(ig->tables.filters[j].where);
        }
        free(ig->tables.filters);
        free_secret(ig->alerts.webhook_url);
    }
    free_secret(c->alerts.webhook_url);
    free(c->ha.member);
    free(c->integrations);
    free(c->state_dir);
    free(c->path);
    free(c);
}

const struct config_integration *config_find(const struct config *c, const char *name)
{
    if (!c || !name)
        return NULL;
    for (int i = 0; i < c->nintegrations; i++)
        if (c->integrations[i].name && !strcmp(c->integrations[i].name, name))
            return &c->integrations[i];
    return NULL;
}

