/*
 * tables.c — the integration's selected tables: source definitions from the
 * catalog, target names after the rename rules, states carried over from
 * the state log across restarts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/integ.h"
#include "runtime/source.h"

/* Target schema and table for schema.table after the rename rules. */
static int target_names(const struct config_tables *t, const char *schema, const char *name,
                        char **tschema, char **tname)
{
    char full[1024];
    snprintf(full, sizeof full, "%s.%s", schema, name);
    const char *to = NULL;
    for (int i = 0; i < t->nrename; i++)
        if (strcmp(t->rename[i].from, full) == 0) to = t->rename[i].to;
    if (to) {
        const char *dot = strchr(to, '.');
        *tschema = dot ? strndup(to, (size_t)(dot - to)) : strdup(schema);
        *tname = strdup(dot ? dot + 1 : to);
    } else {
        *tschema = strdup(schema);
        *tname = strdup(name);
    }
    return *tschema && *tname ? 0 : -1;
}

struct itable *integ_find_table(struct integ *in, const char *schema, const char *name)
{
    for (int i = 0; i < in->ntables; i++) {
        const struct ztable *d = in->tables[i].def;
        if (strcmp(d->name, name) == 0 && strcmp(d->schema, schema) == 0) return &in->tables[i];
    }
    return NULL;
}

static void free_table(struct itable *t)
{
    free(t->source);
    free(t->tschema);
    free(t->tname);
    free(t->map);
    ztable_free(t->def);
}

void integ_free_tables(struct integ *in)
{
    for (int i = 0; i < in->ntables; i++) free_table(&in->tables[i]);
    free(in->tables);
    in->tables = NULL;
    in->ntables = 0;
}

/* Append one table (takes ownership of def). */
int integ_add_table(struct integ *in, struct ztable *def, const char *state)
{
    struct itable *v = realloc(in->tables, (size_t)(in->ntables + 1) * sizeof *v);
    if (!v) return -1;
    in->tables = v;
    struct itable *t = &v[in->ntables];
    memset(t, 0, sizeof *t);
    char src[1024];
    snprintf(src, sizeof src, "%s.%s", def->schema, def->name);
    t->source = strdup(src);
    t->def = def;
    if (!t->source || target_names(&in->cfg->tables, def->schema, def->name, &t->tschema, &t->tname) != 0) {
        free(t->source);
        return -1;
    }
    snprintf(t->state, sizeof t->state, "%s", state);
    in->ntables++;
    return 0;
}

/*
 * A table with no column to write (none on the source, or every one in
 * tables.exclude_columns) has nothing a target table could hold: it stays
 * out of in->tables, so it never blocks the others, and the state log shows
 * it `excluded` with the reason (zetl check names it too). A warning event
 * when it becomes so; nothing again while it stays so.
 */
static void exclude_empty(struct integ *in, const struct ztable *def, const struct statelog_table *old)
{
    char src[1024];
    snprintf(src, sizeof src, "%s.%s", def->schema, def->name);
    const char *why = def->nexcluded > 0 || in->cfg->source.kind == SOURCE_MYSQL
                          ? "no columns (after exclude_columns): not replicated"
                          : "no columns: not replicated";
    if (old && old->state && strcmp(old->state, "excluded") == 0 && old->reason && strcmp(old->reason, why) == 0)
        return;
    if (in->sl) statelog_record_transition(in->sl, in->cfg->name, src, NULL, "excluded", why, in->actor);
    integ_log(in, STATELOG_WARNING, src, "tables",
              "table %s has %s; the other tables replicate (add a column, then resync it, to replicate it)",
              src, def->nexcluded > 0 ? "no columns left after tables.exclude_columns" : "no columns");
}

int integ_load_tables(struct integ *in, char *err, size_t errlen)
{
    struct ztable **defs = NULL;
    int n = 0;
    if (source_load_tables(in, &defs, &n, err, errlen) != 0) return -1;

    /* States the log already holds for these tables (e.g. resync_required). */
    struct statelog_integration *v = NULL;
    size_t nv = 0;
    if (in->sl) statelog_list_integrations(in->sl, in->cfg->name, &v, &nv);

    /* Keep what only memory knows across the reload: resync requests and
     * the positions up to which a fresh copy already holds a table's changes. */
    int nkeep = in->ntables;
    struct keep { char *source; struct zpos skip; int resync; } *keep = calloc((size_t)nkeep + 1, sizeof *keep);
    for (int i = 0; keep && i < nkeep; i++) {
        keep[i].source = in->tables[i].source;
        in->tables[i].source = NULL;
        keep[i].skip = in->tables[i].skip_until;
        keep[i].resync = in->tables[i].resync_requested;
    }
    integ_free_tables(in);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char src[1024];
        snprintf(src, sizeof src, "%s.%s", defs[i]->schema, defs[i]->name);
        const char *state = "pending";
        const struct statelog_table *old = NULL;
        for (size_t k = 0; nv == 1 && k < v[0].ntables; k++)
            if (strcmp(v[0].tables[k].name, src) == 0) old = &v[0].tables[k];
        if (old) state = old->state;
        if (defs[i]->ncols == 0) {
            exclude_empty(in, defs[i], old);
            continue;
        }
        int was_excluded = strcmp(state, "excluded") == 0;
        if (was_excluded) state = "resync_required";        /* it has columns now */
        if (rc == 0 && integ_add_table(in, defs[i], state) == 0) {
            defs[i] = NULL;
            struct itable *t = &in->tables[in->ntables - 1];
            char tgt[1024];
            snprintf(tgt, sizeof tgt, "%s.%s", t->tschema, t->tname);
            struct statelog_table row = {
                .integration = (char *)in->cfg->name, .name = t->source, .target = tgt,
                .state = NULL, .lag_ms = -1,
            };
            if (old) {          /* the upsert sets counters absolutely: keep them */
                row.rows_copied = old->rows_copied;
                row.rows_estimated = old->rows_estimated;
                row.inserts = old->inserts;
                row.updates = old->updates;
                row.deletes = old->deletes;
                row.last_applied_at = old->last_applied_at;
                row.lag_ms = old->lag_ms;
            }
            if (in->sl) statelog_upsert_table(in->sl, &row);
            if (was_excluded && in->sl)
                statelog_record_transition(in->sl, in->cfg->name, t->source, NULL, state,
                                           "the table has columns now: resync it to copy it", in->actor);
            if (!in->sl || nv == 0 || strcmp(state, "pending") == 0)
                snprintf(t->state, sizeof t->state, "%s", state);
        } else {
            rc = -1;
            snprintf(err, errlen, "out of memory loading tables");
        }
    }
    for (int i = 0; keep && i < nkeep; i++) {
        struct itable *t = NULL;
        for (int k = 0; k < in->ntables && keep[i].source; k++)
            if (strcmp(in->tables[k].source, keep[i].source) == 0) t = &in->tables[k];
        if (t) {
            t->skip_until = keep[i].skip;
            t->resync_requested = keep[i].resync;
        }
        free(keep[i].source);
    }
    free(keep);
    source_free_tables(defs, n);
    statelog_free_integrations(v, nv);
    if (rc == 0 && in->ntables == 0)
        integ_log(in, STATELOG_WARNING, NULL, "tables",
                  "the include patterns select no table on the source; check tables.include (zetl check lists what they match)");
    return rc;
}

/* ---- projection ------------------------------------------------------------------- */

/*
 * Rows are applied with the definition the target table was made from (the
 * catalog's, excluded columns removed); the decoder's definition may carry
 * more columns. Columns match by exact name; a log without column names
 * (binlog_row_metadata MINIMAL) matches by position when the counts agree.
 * The map is rebuilt whenever the row's definition pointer or width changes.
 */
static int build_map(struct itable *t, const struct ztable *src)
{
    if (t->map && t->map_src == src && t->map_ncols == src->ncols) return 0;
    int *m = realloc(t->map, (size_t)(t->def->ncols ? t->def->ncols : 1) * sizeof *m);
    if (!m) return -1;
    t->map = m;
    for (int i = 0; i < t->def->ncols; i++) {
        m[i] = -1;
        for (int j = 0; j < src->ncols; j++)
            if (src->cols[j].name && strcmp(src->cols[j].name, t->def->cols[i].name) == 0) {
                m[i] = j;
                break;
            }
        if (m[i] < 0 && src->ncols == t->def->ncols && !src->cols[i].name) m[i] = i;
    }
    t->map_src = src;
    t->map_ncols = src->ncols;
    return 0;
}

int integ_project(struct projection *p, struct itable *t, const struct zrowchange *rc,
                  struct zrowchange *out)
{
    *out = *rc;
    out->table = t->def;
    if (rc->op == ZOP_TRUNCATE || rc->table == t->def) return 0;
    if (build_map(t, rc->table) != 0) return -1;
    int n = t->def->ncols;
    if (n > p->cap) {
        struct zvalue *b = realloc(p->before, (size_t)n * sizeof *b);
        if (!b) return -1;
        p->before = b;
        struct zvalue *a = realloc(p->after, (size_t)n * sizeof *a);
        if (!a) return -1;
        p->after = a;
        p->cap = n;
    }
    static const struct zvalue null_value = {.kind = ZV_NULL};
    if (rc->before) {
        for (int i = 0; i < n; i++) p->before[i] = t->map[i] >= 0 ? rc->before[t->map[i]] : null_value;
        out->before = p->before;
    }
    if (rc->after) {
        for (int i = 0; i < n; i++) p->after[i] = t->map[i] >= 0 ? rc->after[t->map[i]] : null_value;
        out->after = p->after;
    }
    return 0;
}

void integ_projection_free(struct projection *p)
{
    free(p->before);
    free(p->after);
    p->before = p->after = NULL;
    p->cap = 0;
}
