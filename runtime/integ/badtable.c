/*
 * badtable.c — one bad table never stops the others (contract in integ.h;
 * README "When one table fails").
 *
 * Where each check runs:
 *   apply.c    every streamed change (integ_row_refused) before it is batched;
 *              a batch is applied table by table, so a target error names the
 *              table it came from, and integ_error_is_table decides whether it
 *              is that table's fault: the target transaction is rolled back,
 *              the table failed, and the round starts again from the
 *              checkpoint at once, without it (ROUND_TABLE_FAILED)
 *   copy.c     every copied row; a table whose load the target refuses fails
 *              alone and the copy runs again for the others
 *   verify.c   a table whose source rows cannot be loaded is reported, not an
 *              error for the whole run
 *
 * Why NUL is refused rather than replaced: a MySQL TEXT may hold 0x00,
 * PostgreSQL text cannot. Replacing it (with U+FFFD, or dropping it) would
 * store a value the source does not have, silently, and `zetl verify` would
 * then have to know every such rewrite. A failed table says what and where;
 * the operator fixes the row (or makes the column binary) and resyncs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runtime/integ/integ.h"
#include "runtime/target/target.h"

size_t integ_row_limit(const struct integ *in)
{
    return ((size_t)in->cfg->apply.memory_mb << 20) / 4;
}

static uint64_t image_bytes(const struct ztable *def, const struct zvalue *v)
{
    uint64_t n = 0;
    for (int i = 0; v && i < def->ncols; i++)
        n += v[i].kind == ZV_TEXT || v[i].kind == ZV_BYTES ? v[i].len : 8;
    return n;
}

/* " (key (id, k)=(7, x))" when the key's values are short text, else "". */
static void key_text(const struct ztable *def, const struct zvalue *img, char *buf, size_t len)
{
    char names[128] = "", vals[128] = "";
    size_t nn = 0, nv = 0;
    buf[0] = '\0';
    if (!img || def->npk == 0) return;
    for (int k = 1; k <= def->npk; k++) {
        const struct zcolumn *c = NULL;
        const struct zvalue *v = NULL;
        for (int i = 0; i < def->ncols; i++)
            if (def->cols[i].pk_ord == k) { c = &def->cols[i]; v = &img[i]; }
        if (!c) return;
        char one[64];
        switch (v->kind) {
        case ZV_INT: snprintf(one, sizeof one, "%" PRId64, v->v.i); break;
        case ZV_UINT: snprintf(one, sizeof one, "%" PRIu64, v->v.u); break;
        case ZV_FLOAT: snprintf(one, sizeof one, "%.17g", v->v.f); break;
        case ZV_TEXT:
            if (v->len >= 40 || memchr(v->v.p, '\0', v->len)) return;
            snprintf(one, sizeof one, "%.*s", (int)v->len, v->v.p);
            break;
        default: return;        /* NULL, bytes: not short text */
        }
        int a = snprintf(names + nn, sizeof names - nn, "%s%s", k > 1 ? ", " : "", c->name);
        int b = snprintf(vals + nv, sizeof vals - nv, "%s%s", k > 1 ? ", " : "", one);
        if (a < 0 || b < 0 || (size_t)a >= sizeof names - nn || (size_t)b >= sizeof vals - nv) return;
        nn += (size_t)a;
        nv += (size_t)b;
    }
    snprintf(buf, len, " (key (%s)=(%s))", names, vals);
}

uint64_t integ_row_bytes(const struct ztable *def, const struct zrowchange *p)
{
    return image_bytes(def, p->before) + image_bytes(def, p->after);
}

void integ_row_too_big(const struct integ *in, const struct ztable *def, const struct zvalue *img,
                       uint64_t bytes, char *why, size_t len)
{
    char key[300];
    key_text(def, img, key, sizeof key);
    snprintf(why, len, "a row of %.1f MB%s is over the largest row apply.memory_mb allows "
             "(%zu MB, a quarter of memory_mb %d); raise apply.memory_mb to at least 4 times the "
             "row's size (or make the value smaller at the source), then resync the table",
             (double)bytes / (1 << 20), key, integ_row_limit(in) >> 20, in->cfg->apply.memory_mb);
}

int integ_row_refused(const struct integ *in, const struct itable *t, const struct zrowchange *p,
                      char *why, size_t len)
{
    if (p->op == ZOP_TRUNCATE) return 0;
    const struct ztable *def = t->def;
    const struct zvalue *img = p->after ? p->after : p->before;
    char key[300];
    uint64_t bytes = integ_row_bytes(def, p);
    if (bytes > integ_row_limit(in)) {
        integ_row_too_big(in, def, img, bytes, why, len);
        return 1;
    }
    if (target_driver(in->cfg->target.kind)->text_nul) return 0;     /* JSON carries \u0000 */
    for (int pass = 0; pass < 2; pass++) {
        const struct zvalue *v = pass ? p->after : p->before;
        for (int i = 0; v && i < def->ncols; i++) {
            if (v[i].kind != ZV_TEXT || !memchr(v[i].v.p, '\0', v[i].len)) continue;
            key_text(def, img, key, sizeof key);
            snprintf(why, len, "column %s holds a NUL byte (0x00)%s, which PostgreSQL text cannot "
                     "store; remove it at the source (or make the column binary: VARBINARY/BLOB), "
                     "then resync the table", def->cols[i].name, key);
            return 1;
        }
    }
    return 0;
}

int integ_error_is_table(const char *sqlstate)
{
    if (!sqlstate || strlen(sqlstate) != 5) return 0;
    static const char *const classes[] = {
        "22",   /* data exception: a value the target refuses (encoding, range, format) */
        "23",   /* integrity constraint violation: NOT NULL, unique, check, foreign key */
        "42",   /* undefined table/column, wrong type, insufficient privilege */
        "54",   /* program limit exceeded: a row or an index entry too large */
    };
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (strncmp(sqlstate, classes[i], 2) == 0) return 1;
    return 0;
}

void integ_fail_table(struct integ *in, struct itable *t, const char *reason)
{
    integ_set_table_state(in, t, TSTATE_FAILED, reason, NULL);
    integ_log(in, STATELOG_ERROR, t->source, "table",
              "failed, its changes are no longer applied (the other tables go on): %s", reason);
}
