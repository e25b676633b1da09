/*
 * tables.c — the integration's selected tables: source definitions from the
 * catalog, target names after the rename rules and the target's name length
 * (names.h), states carried over from the state log across restarts, and the
 * refusal of tables whose target name another table or column already has.
 */
#include "runtime/integ/tables.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/integ/integ.h"
#include "runtime/source/source.h"
#include "runtime/source/source_ops.h"
#include "runtime/target/names.h"

static void free_table(struct itable *t)
{
    free(t->source);
    free(t->tschema);
    free(t->tname);
    free(t->map);
    ztable_free(t->def);
    ztable_free(t->tdef);
    shape_free(&t->shape);
    free(t->refuse_what);
    free(t->refuse_fix);
}

static void free_refused(struct integ *in)
{
    for (int i = 0; i < in->nrefused; i++) {
        free(in->refused[i].source);
        free(in->refused[i].what);
        free(in->refused[i].fix);
    }
    free(in->refused);
    in->refused = NULL;
    in->nrefused = 0;
}

void integ_free_tables(struct integ *in)
{
    for (int i = 0; i < in->ntables; i++) free_table(&in->tables[i]);
    free(in->tables);
    in->tables = NULL;
    in->ntables = 0;
    free_refused(in);
}

/* Append one table (takes ownership of def). */
int integ_add_table(struct integ *in, struct ztable *def, enum tstate state)
{
    struct itable *v = realloc(in->tables, (size_t)(in->ntables + 1) * sizeof *v);
    if (!v) return -1;
    in->tables = v;
    struct itable *t = &v[in->ntables];
    memset(t, 0, sizeof *t);
    char src[1024];
    snprintf(src, sizeof src, "%s.%s", def->schema, def->name);
    t->source = strdup(src);
    t->tdef = names_target_def(in->cfg->target.kind, def);
    if (!t->source || !t->tdef ||
        names_table(&in->cfg->tables, in->cfg->target.kind, def->schema, def->name, &t->tschema, &t->tname) != 0) {
        free(t->source);
        ztable_free(t->tdef);
        return -1;
    }
    char what[1024], fix[512];
    int sh = shape_table(&in->cfg->tables, def, t->tdef, &t->shape, what, sizeof what, fix, sizeof fix);
    if (sh < 0 || (sh > 0 && (!(t->refuse_what = strdup(what)) || !(t->refuse_fix = strdup(fix))))) {
        free(t->refuse_what);
        free(t->source);
        free(t->tschema);
        free(t->tname);
        ztable_free(t->tdef);
        return -1;
    }
    t->def = def;
    t->state = state;
    in->ntables++;
    return 0;
}

/* ---- two source objects, one target object: refused -------------------------------- */

static uint64_t sig_add(uint64_t h, const char *s)
{
    for (; s && *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return (h ^ 0x1f) * 0x100000001b3ULL;
}

static int by_target_eq(const struct integ *in, int a, int b)
{
    return strcmp(in->tables[a].tschema, in->tables[b].tschema) == 0 &&
           strcmp(in->tables[a].tname, in->tables[b].tname) == 0;
}

/* Order of table indexes by target schema, then target table, then index (qsort_r). */
static int by_target(const void *a, const void *b, void *ctx)
{
    const struct integ *in = ctx;
    const struct itable *x = &in->tables[*(const int *)a], *y = &in->tables[*(const int *)b];
    int c = strcmp(x->tschema, y->tschema);
    if (!c) c = strcmp(x->tname, y->tname);
    return c ? c : *(const int *)a - *(const int *)b;
}

/*
 * Why table i may not run: table `other` (-1: none) has its target table, or
 * two of its columns have one target column. what/fix are malloc'd; 0 none,
 * 1 refused, -1 out of memory.
 */
static int clash(const struct integ *in, int i, int other, char **what, char **fix)
{
    const struct itable *t = &in->tables[i];
    char buf[1024];
    const char *f = NULL;
    *what = *fix = NULL;
    if (other >= 0) {
        const struct itable *o = &in->tables[other];
        const struct itable *a = other < i ? o : t, *b = other < i ? t : o;
        snprintf(buf, sizeof buf, "tables %s and %s both become target table %s.%s", a->source,
                 b->source, t->tschema, t->tname);
        f = "two source tables never share a target table: give one of them a target name of its own "
            "with a tables.rename rule ({from: schema.table, to: schema.table}), then resync both";
    } else if (names_clash_columns(t->def, t->tdef, buf, sizeof buf)) {
        f = "two source columns never share a target column: rename one of them on the source, or "
            "leave one out with tables.exclude_columns, then resync the table";
    } else if (t->refuse_what) {              /* a column transform it cannot take (shape.c) */
        snprintf(buf, sizeof buf, "%s", t->refuse_what);
        f = t->refuse_fix;
    }
    if (!f) return 0;
    *what = strdup(buf);
    *fix = strdup(f);
    if (*what && *fix) return 1;
    free(*what);
    free(*fix);
    *what = *fix = NULL;
    return -1;
}

/*
 * Move every table in a clash from in->tables to in->refused, failed with the
 * reason (recorded and said on stderr when the refusals changed since the
 * last load: not at every round).
 */
static int refuse_clashes(struct integ *in)
{
    int n = in->ntables;
    char **what = calloc((size_t)n + 1, sizeof *what), **fix = calloc((size_t)n + 1, sizeof *fix);
    int *ord = calloc((size_t)n + 1, sizeof *ord), *other = calloc((size_t)n + 1, sizeof *other);
    int rc = what && fix && ord && other ? 0 : -1, nref = 0;
    uint64_t sig = 0xcbf29ce484222325ULL;
    /* Tables with one target name sort next to each other: each is paired
     * with the first of its run (the first with the second). */
    for (int i = 0; rc == 0 && i < n; i++) ord[i] = i;
    if (rc == 0 && n > 1) qsort_r(ord, (size_t)n, sizeof *ord, by_target, in);
    for (int k = 0; rc == 0 && k < n;) {
        int e = k + 1;
        while (e < n && by_target_eq(in, ord[k], ord[e])) e++;
        for (int m = k; m < e; m++) other[ord[m]] = e - k < 2 ? -1 : m == k ? ord[k + 1] : ord[k];
        k = e;
    }
    for (int i = 0; rc == 0 && i < n; i++) {
        int c = clash(in, i, other[i], &what[i], &fix[i]);
        if (c < 0) rc = -1;
        if (c > 0) {
            nref++;
            sig = sig_add(sig_add(sig, in->tables[i].source), what[i]);
        }
    }
    if (rc == 0 && nref) {
        struct irefused *r = calloc((size_t)nref, sizeof *r);
        if (!r) rc = -1;
        int log_them = sig != in->refused_sig;
        int keep = 0;
        for (int i = 0; r && i < n; i++) {
            struct itable *t = &in->tables[i];
            if (!what[i]) {
                in->tables[keep++] = *t;
                continue;
            }
            if (log_them) {
                char reason[2048];
                snprintf(reason, sizeof reason, "%s; %s", what[i], fix[i]);
                integ_set_table_state(in, t, TSTATE_FAILED, reason, NULL);
            }
            struct irefused *x = &r[in->nrefused++];
            x->shaped = t->refuse_what && !strcmp(what[i], t->refuse_what);
            x->source = t->source;
            t->source = NULL;
            x->what = what[i];
            x->fix = fix[i];
            what[i] = fix[i] = NULL;
            free(t->tschema);
            free(t->tname);
            free(t->map);
            ztable_free(t->def);
            ztable_free(t->tdef);
            shape_free(&t->shape);
            free(t->refuse_what);
            free(t->refuse_fix);
        }
        if (r) {
            in->refused = r;
            in->ntables = keep;
            in->refused_sig = sig;
        }
    } else if (rc == 0) {
        in->refused_sig = 0;
    }
    for (int i = 0; i < n && what && fix; i++) {
        free(what[i]);
        free(fix[i]);
    }
    free(what);
    free(fix);
    free(ord);
    free(other);
    return rc;
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
    /* A driver that does not count the excluded columns may have left some out. */
    const char *why = def->nexcluded > 0 || !in->src->counts_excluded
                          ? "no columns (after exclude_columns): not replicated"
                          : "no columns: not replicated";
    if (old && tstate_parse(old->state) == TSTATE_EXCLUDED && old->reason && strcmp(old->reason, why) == 0)
        return;
    if (in->sl)
        statelog_record_transition(in->sl, in->cfg->name, src, NULL, tstate_name(TSTATE_EXCLUDED), why,
                                   INTEG_ACTOR_RUNTIME);
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

    /* Keep what only memory knows across the reload: resync requests (and
     * whether one resumes a chunked copy, or is the initial copy) and the
     * positions up to which a fresh copy already holds a table's changes. */
    int nkeep = in->ntables;
    struct keep { char *source; struct zpos skip; int resync, resume, initial; } *keep = calloc((size_t)nkeep + 1, sizeof *keep);
    for (int i = 0; keep && i < nkeep; i++) {
        keep[i].source = in->tables[i].source;
        in->tables[i].source = NULL;
        keep[i].skip = in->tables[i].skip_until;
        keep[i].resync = in->tables[i].resync_requested;
        keep[i].resume = in->tables[i].resync_resume;
        keep[i].initial = in->tables[i].initial;
    }
    integ_free_tables(in);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char src[1024];
        snprintf(src, sizeof src, "%s.%s", defs[i]->schema, defs[i]->name);
        enum tstate state = TSTATE_PENDING;
        const struct statelog_table *old = NULL;
        for (size_t k = 0; nv == 1 && k < v[0].ntables; k++)
            if (strcmp(v[0].tables[k].name, src) == 0) old = &v[0].tables[k];
        if (old) state = tstate_parse(old->state);  /* UNKNOWN: a newer zetl's, kept in the row */
        if (defs[i]->ncols == 0) {
            exclude_empty(in, defs[i], old);
            continue;
        }
        int was_excluded = state == TSTATE_EXCLUDED;
        if (was_excluded) state = TSTATE_RESYNC_REQUIRED;   /* it has columns now */
        if (rc == 0 && integ_add_table(in, defs[i], state) == 0) {
            defs[i] = NULL;
            struct itable *t = &in->tables[in->ntables - 1];
            char tgt[1024];
            snprintf(tgt, sizeof tgt, "%s.%s", t->tschema, t->tname);
            struct statelog_table row = {
                .integration = (char *)in->cfg->name, .name = t->source, .target = tgt,
                .state = NULL, .lag_ms = -1, .shape = t->shape.sig,
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
                statelog_record_transition(in->sl, in->cfg->name, t->source, NULL, tstate_name(state),
                                           "the table has columns now: resync it to copy it", INTEG_ACTOR_RUNTIME);
            if (!in->sl || nv == 0 || state == TSTATE_PENDING)
                t->state = state;
        } else {
            rc = -1;
            snprintf(err, errlen, "out of memory loading tables");
        }
    }
    if (rc == 0 && refuse_clashes(in) != 0) {
        rc = -1;
        snprintf(err, errlen, "out of memory checking the target names");
    }
    for (int i = 0; keep && i < nkeep; i++) {
        struct itable *t = NULL;
        for (int k = 0; k < in->ntables && keep[i].source; k++)
            if (strcmp(in->tables[k].source, keep[i].source) == 0) t = &in->tables[k];
        if (t) {
            t->skip_until = keep[i].skip;
            t->resync_requested = keep[i].resync;
            t->resync_resume = keep[i].resume;      /* a chunked copy goes on from its progress */
            t->initial = keep[i].initial;
        }
        free(keep[i].source);
    }
    free(keep);
    source_free_tables(defs, n);
    statelog_free_integrations(v, nv);
    if (rc == 0 && in->ntables == 0 && in->nrefused == 0)
        integ_log(in, STATELOG_WARNING, NULL, "tables",
                  "the include patterns select no table on the source; check tables.include (zetl check lists what they match)");
    return rc;
}

/* ---- projection ------------------------------------------------------------------- */

/*
 * Rows are applied with the definition the target table was made from (the
 * catalog's, excluded columns removed, with the target's column names:
 * t->tdef); the decoder's definition may carry more columns. Columns match
 * by their exact source name (t->def); a log without column names
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
    out->table = t->tdef;       /* same columns as def, in the same order: target names */
    p->err[0] = '\0';
    if (rc->op == ZOP_TRUNCATE) return 0;
    int same = rc->table == t->def || rc->table == t->tdef;
    if (same && !t->shape.x && !t->shape.filter) return 0;
    if (!same && build_map(t, rc->table) != 0) goto oom;
    int n = t->def->ncols;
    if (n > p->cap) {
        struct zvalue *b = realloc(p->before, (size_t)n * sizeof *b);
        if (!b) goto oom;
        p->before = b;
        struct zvalue *a = realloc(p->after, (size_t)n * sizeof *a);
        if (!a) goto oom;
        p->after = a;
        p->cap = n;
    }
    static const struct zvalue null_value = {.kind = ZV_NULL};
    if (rc->before) {
        for (int i = 0; i < n; i++)
            p->before[i] = same ? rc->before[i] : t->map[i] >= 0 ? rc->before[t->map[i]] : null_value;
        out->before = p->before;
    }
    if (rc->after) {
        for (int i = 0; i < n; i++)
            p->after[i] = same ? rc->after[i] : t->map[i] >= 0 ? rc->after[t->map[i]] : null_value;
        out->after = p->after;
    }
    /* The filter reads the source's values, before any transform. */
    if (t->shape.filter && out->after && (rc->op == ZOP_INSERT || rc->op == ZOP_UPDATE)) {
        int m = shape_filter(&p->ev, &t->shape, t->def, out->after, out->before, p->err, sizeof p->err);
        if (m < 0) return INTEG_ROW_FAILS;      /* -2 too: the table fails with the reason */
        if (m == 0 && rc->op == ZOP_INSERT) return 1;
        if (m == 0) {                           /* out of the filter: its old row goes */
            out->op = ZOP_DELETE;
            if (!out->before) {                 /* no old image: the key did not change */
                out->before = out->after;
                out->before_key_only = 1;
            }
            out->after = NULL;
        }
    }
    if ((out->before && shape_values(&t->shape, out->before == p->after ? p->after : p->before, &p->sb) != 0) ||
        (out->after && shape_values(&t->shape, p->after, &p->sa) != 0))
        goto oom;
    return 0;
oom:
    snprintf(p->err, sizeof p->err, "out of memory");
    return -1;
}

void integ_projection_free(struct projection *p)
{
    free(p->before);
    free(p->after);
    p->before = p->after = NULL;
    p->cap = 0;
    zbuf_free(&p->sb);
    zbuf_free(&p->sa);
    shape_eval_free(p->ev);
    p->ev = NULL;
}

/* ---- zetl check ------------------------------------------------------------------- */

#define FILTER_SAMPLE 500       /* source rows a table's filter is tried on by zetl check */

struct sample {
    struct itable *t;
    struct projection p;
    long seen, pass;
    char err[512];
};

static int sample_row(void *ctx, const struct zrowchange *rc)
{
    struct sample *s = ctx;
    struct zrowchange o;
    int r = integ_project(&s->p, s->t, rc, &o);
    if (r < 0) {
        snprintf(s->err, sizeof s->err, "%s", s->p.err);
        return -1;
    }
    s->seen++;
    s->pass += r == 0;
    return s->seen >= FILTER_SAMPLE ? 2 : 0;    /* enough: the read stops */
}

/* Each filter evaluated on the first rows of its table, read as verify
 * reads them: an error a row would hit (json_extract of text that is not
 * JSON) fails the check with the table and the message. */
static void check_filters(struct integ *in, struct pf_report *r)
{
    for (int i = 0; i < in->ntables; i++) {
        struct itable *t = &in->tables[i];
        if (!t->shape.filter) continue;
        struct sample s = {.t = t};
        struct zsink sink = {.ctx = &s, .row = sample_row};
        struct zpos pos;
        char e[1024], check[300];
        snprintf(check, sizeof check, "filter of %s", t->source);
        int rc = source_snapshot_table(in, t, &sink, &pos, e, sizeof e);
        if (s.err[0])
            pf_add(r, PF_FAIL, check, "evaluates on every row", "correct the where expression (an SQLite expression "
                   "over the table's columns; README: Row filters)", "", "fails on row %ld of the table: %s",
                   s.seen + 1, s.err);
        else if (rc != 0 && s.seen < FILTER_SAMPLE)    /* at the sample's end the read was stopped */
            pf_add(r, PF_WARN, check, "tried on source rows", "", "", "could not read the table to try it: %s", e);
        else
            pf_add(r, PF_PASS, check, "", "", "", "compiles; of the first %ld rows, %ld meet it", s.seen, s.pass);
        integ_projection_free(&s.p);
    }
}

int integ_check_names(const struct config *root, const struct config_integration *ci,
                      struct pf_report *r, char *err, size_t errlen)
{
    struct integ in = {.cfg = ci, .src = source_driver(ci->source.kind), .root = root};
    if (integ_load_tables(&in, err, errlen) != 0) {
        integ_free_tables(&in);
        return -1;
    }
    int shortened = 0;
    char ex[384] = "";
    for (int i = 0; i < in.ntables; i++) {
        const struct itable *t = &in.tables[i];
        char *us = NULL, *un = NULL;     /* the names with no length limit */
        if (names_renamed(&ci->tables, t->def->schema, t->def->name, &us, &un) != 0) {
            snprintf(err, errlen, "out of memory");
            integ_free_tables(&in);
            return -1;
        }
        int s = strcmp(us, t->tschema) != 0 || strcmp(un, t->tname) != 0;
        free(us);
        free(un);
        for (int c = 0; c < t->def->ncols; c++) s |= strcmp(t->def->cols[c].name, t->tdef->cols[c].name) != 0;
        if (s && !shortened++) snprintf(ex, sizeof ex, " (first: %s -> %s.%s)", t->source, t->tschema, t->tname);
    }
    int nclash = 0;
    for (int i = 0; i < in.nrefused; i++) {
        pf_add(r, PF_FAIL, in.refused[i].shaped ? "table shape" : "target names",
               in.refused[i].shaped ? "filter, transforms and mode it can take" : "one target object per source object",
               in.refused[i].fix, "", "%s", in.refused[i].what);
        nclash += !in.refused[i].shaped;
    }
    if (nclash == 0)
        pf_add(r, PF_PASS, "target names", "", "", "", "%d tables, each with target names of its own; %d with a name shortened to the target's limit%s",
               in.ntables, shortened, ex);
    check_filters(&in, r);
    integ_free_tables(&in);
    return 0;
}
