/* batch.c — collapse row changes per key for one target transaction (see batch.h). */
#include "runtime/target/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena: images and value bytes, freed all at once -------------------- */

struct zb_chunk {
    struct zb_chunk *next;
    size_t cap, used;
    _Alignas(max_align_t) unsigned char mem[];
};

#define ZB_CHUNK_MIN (256u * 1024u)

static void *arena_alloc(struct zbatch *b, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct zb_chunk *c = b->arena;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ZB_CHUNK_MIN ? n : ZB_CHUNK_MIN;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = b->arena;
        b->arena = c;
    }
    void *p = c->mem + c->used;
    c->used += n;
    b->bytes += n;
    return p;
}

/* ---- values and keys --------------------------------------------------------- */

int zbatch_value_eq(const struct zvalue *a, const struct zvalue *b)
{
    if (a->kind != b->kind) return 0;
    switch (a->kind) {
    case ZV_NULL: case ZV_UNCHANGED: return 1;
    case ZV_INT: return a->v.i == b->v.i;
    case ZV_UINT: return a->v.u == b->v.u;
    case ZV_FLOAT: return memcmp(&a->v.f, &b->v.f, sizeof a->v.f) == 0;
    default: return a->len == b->len && (a->len == 0 || memcmp(a->v.p, b->v.p, a->len) == 0);
    }
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {        /* FNV-1a */
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t key_hash(const struct zb_table *t, const struct zvalue *img)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int k = 0; k < t->nkeycols; k++) {
        const struct zvalue *v = &img[t->keycols[k]];
        h = mix(h, &v->kind, 1);
        switch (v->kind) {
        case ZV_INT: h = mix(h, &v->v.i, 8); break;
        case ZV_UINT: h = mix(h, &v->v.u, 8); break;
        case ZV_FLOAT: h = mix(h, &v->v.f, 8); break;
        case ZV_TEXT: case ZV_BYTES: h = mix(h, v->v.p, v->len); break;
        default: break;
        }
        h = mix(h, "\x1f", 1);
    }
    return h ^ (h >> 29);
}

static int key_eq(const struct zb_table *t, const struct zvalue *a, const struct zvalue *c)
{
    for (int k = 0; k < t->nkeycols; k++)
        if (!zbatch_value_eq(&a[t->keycols[k]], &c[t->keycols[k]])) return 0;
    return 1;
}

static int copy_value(struct zbatch *b, struct zvalue *dst, const struct zvalue *src)
{
    *dst = *src;
    if ((src->kind == ZV_TEXT || src->kind == ZV_BYTES) && src->len) {
        char *p = arena_alloc(b, src->len);
        if (!p) return -1;
        memcpy(p, src->v.p, src->len);
        dst->v.p = p;
    }
    return 0;
}

/* A copy of a whole image, or (key_only) of its key columns with the rest ZV_NULL. */
static struct zvalue *copy_image(struct zbatch *b, const struct zb_table *t,
                                 const struct zvalue *src, int key_only)
{
    int n = t->def->ncols;
    struct zvalue *img = arena_alloc(b, (size_t)n * sizeof *img);
    if (!img) return NULL;
    if (key_only) {
        memset(img, 0, (size_t)n * sizeof *img);
        for (int k = 0; k < t->nkeycols; k++)
            if (copy_value(b, &img[t->keycols[k]], &src[t->keycols[k]])) return NULL;
        return img;
    }
    for (int i = 0; i < n; i++)
        if (copy_value(b, &img[i], &src[i])) return NULL;
    return img;
}

/* ---- segments ----------------------------------------------------------------- */

static void seg_free(struct zb_seg *s)
{
    free(s->rows);
    free(s->heads);
    memset(s, 0, sizeof *s);
}

static struct zb_seg *new_seg(struct zbatch *b, struct zb_table *t, int move)
{
    if (t->nsegs == t->capsegs) {
        int cap = t->capsegs ? t->capsegs * 2 : 2;
        struct zb_seg *s = realloc(t->segs, (size_t)cap * sizeof *s);
        if (!s) return NULL;
        t->segs = s;
        t->capsegs = cap;
    }
    struct zb_seg *s = &t->segs[t->nsegs++];
    memset(s, 0, sizeof *s);
    s->move = move;
    b->bytes += sizeof *s;
    return s;
}

static struct zb_seg *cur_seg(struct zbatch *b, struct zb_table *t)
{
    if (t->nsegs && !t->segs[t->nsegs - 1].move && (!t->history || t->segs[t->nsegs - 1].txn == b->txn))
        return &t->segs[t->nsegs - 1];
    struct zb_seg *s = new_seg(b, t, 0);
    if (s) s->txn = b->txn;
    return s;
}

static int seg_find(const struct zb_table *t, const struct zb_seg *s,
                    const struct zvalue *key, uint64_t h)
{
    if (!s->nheads) return -1;
    for (int32_t i = s->heads[h & (uint64_t)(s->nheads - 1)]; i >= 0; i = s->rows[i].next)
        if (s->rows[i].hash == h && key_eq(t, s->rows[i].image, key)) return i;
    return -1;
}

static int seg_rehash(struct zbatch *b, struct zb_seg *s, int nheads)
{
    int old = s->nheads;
    int32_t *h = malloc((size_t)nheads * sizeof *h);
    if (!h) return -1;
    for (int i = 0; i < nheads; i++) h[i] = -1;
    for (int i = 0; i < s->nrows; i++) {
        size_t slot = s->rows[i].hash & (uint64_t)(nheads - 1);
        s->rows[i].next = h[slot];
        h[slot] = i;
    }
    free(s->heads);
    s->heads = h;
    s->nheads = nheads;
    b->bytes += (size_t)(nheads - old) * sizeof *h;
    return 0;
}

/* Append a row for a key not yet in the segment; returns its index or -1. */
static int seg_put(struct zbatch *b, struct zb_seg *s, uint64_t h, uint8_t state,
                   struct zvalue *image)
{
    if (s->nrows == s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        struct zb_row *r = realloc(s->rows, (size_t)cap * sizeof *r);
        if (!r) return -1;
        b->bytes += (size_t)(cap - s->cap) * sizeof *r;
        s->rows = r;
        s->cap = cap;
    }
    if (s->nrows + 1 > s->nheads / 2 && seg_rehash(b, s, s->nheads ? s->nheads * 2 : 128))
        return -1;
    int i = s->nrows++;
    struct zb_row *r = &s->rows[i];
    memset(r, 0, sizeof *r);
    r->state = state;
    r->image = image;
    r->hash = h;
    size_t slot = h & (uint64_t)(s->nheads - 1);
    r->next = s->heads[slot];
    s->heads[slot] = i;
    return i;
}

/* Set key's state in the current segment (insert or overwrite). */
static int set_state(struct zbatch *b, struct zb_table *t, const struct zvalue *key,
                     uint8_t state, struct zvalue *image)
{
    struct zb_seg *s = cur_seg(b, t);
    if (!s) return -1;
    uint64_t h = key_hash(t, key);
    int i = seg_find(t, s, key, h);
    if (i < 0) {
        i = seg_put(b, s, h, state, image);
        if (i < 0) return -1;
        s->rows[i].fresh = state == ZB_UPSERT && b->adding_insert;   /* first seen as an INSERT */
        s->rows[i].at_us = b->now_us;
        return 0;
    }
    s->rows[i].state = state;
    s->rows[i].image = image;
    s->rows[i].n = 0;
    s->rows[i].at_us = b->now_us;
    return 0;
}

/* ---- tables ----------------------------------------------------------------- */

static int same_name(const struct ztable *a, const struct ztable *c)
{
    return strcmp(a->schema ? a->schema : "", c->schema ? c->schema : "") == 0 &&
           strcmp(a->name ? a->name : "", c->name ? c->name : "") == 0;
}

static void table_free(struct zb_table *t)
{
    for (int i = 0; i < t->nsegs; i++) seg_free(&t->segs[i]);
    free(t->segs);
    free(t->keycols);
    free(t->tschema);
    free(t->tname);
    ztable_free(t->def);
    memset(t, 0, sizeof *t);
}

static struct zb_table *find_table(struct zbatch *b, const struct ztable *def,
                                   const char *tschema, const char *tname)
{
    /* By name, never by pointer alone: a source may reuse a freed definition's
     * address for another table. The table of the previous change goes first. */
    if (b->ntables && b->tables[b->lastidx].last == def && same_name(b->tables[b->lastidx].def, def))
        return &b->tables[b->lastidx];
    for (int i = b->ntables - 1; i >= 0; i--) {
        struct zb_table *t = &b->tables[i];
        if (same_name(t->def, def)) {
            t->last = def;
            b->lastidx = i;
            return t;
        }
    }
    if (b->ntables == b->captables) {
        int cap = b->captables ? b->captables * 2 : 8;
        struct zb_table *n = realloc(b->tables, (size_t)cap * sizeof *n);
        if (!n) return NULL;
        b->tables = n;
        b->captables = cap;
    }
    struct zb_table *t = &b->tables[b->ntables];
    memset(t, 0, sizeof *t);
    t->def = ztable_dup(def);
    t->tschema = strdup(tschema ? tschema : (def->schema ? def->schema : ""));
    t->tname = strdup(tname ? tname : (def->name ? def->name : ""));
    /* The key: the primary key, else a unique key of NOT NULL columns (no
     * two rows share it, none is NULL: it identifies a row as well — and a
     * PostgreSQL table whose replica identity is that index sends only its
     * columns as the old row), else none: every column. */
    int pk = def->npk > 0, uk = !pk && def->nuk > 0;
    int nk = pk ? def->npk : uk ? def->nuk : def->ncols;
    t->keycols = calloc(nk > 0 ? (size_t)nk : 1, sizeof *t->keycols);
    if (!t->def || !t->tschema || !t->tname || !t->keycols) {
        table_free(t);
        return NULL;
    }
    if (pk || uk) {
        int found = 0;
        for (int k = 0; k < nk; k++) t->keycols[k] = -1;
        for (int i = 0; i < def->ncols; i++) {
            int o = pk ? def->cols[i].pk_ord : def->cols[i].uk_ord;
            if (o >= 1 && o <= nk && t->keycols[o - 1] < 0) {
                t->keycols[o - 1] = i;
                found++;
            }
        }
        if (found != nk) pk = uk = 0, nk = def->ncols;   /* a key column not replicated: keyless */
    }
    if (!pk && !uk)
        for (int i = 0; i < def->ncols; i++) t->keycols[i] = i;
    t->nkeycols = nk;
    t->keyed = pk || uk;
    t->history = def->history && t->keyed;
    t->last = def;
    b->lastidx = b->ntables;
    b->ntables++;
    b->bytes += sizeof *t;
    return t;
}

/* ---- the collapse --------------------------------------------------------------- */

static int fail(struct zbatch *b, const struct zb_table *t, const char *what)
{
    snprintf(b->err, sizeof b->err, "batch: table %s.%s: %s", t->def->schema,
             t->def->name, what);
    b->refused = 1;
    return -1;
}

static int has_unchanged(const struct zb_table *t, const struct zvalue *img)
{
    for (int i = 0; i < t->def->ncols; i++)
        if (img[i].kind == ZV_UNCHANGED) return 1;
    return 0;
}

/* Fill ZV_UNCHANGED in img from prev (an earlier image of the key) or before
 * (a full before image). Returns how many remain unchanged, -1 on OOM. */
static int fill_unchanged(struct zbatch *b, const struct zb_table *t, struct zvalue *img,
                          const struct zvalue *prev, const struct zvalue *before)
{
    int left = 0;
    for (int i = 0; i < t->def->ncols; i++) {
        if (img[i].kind != ZV_UNCHANGED) continue;
        if (prev && prev[i].kind != ZV_UNCHANGED)
            img[i] = prev[i];                   /* already in the arena */
        else if (before && before[i].kind != ZV_UNCHANGED) {
            if (copy_value(b, &img[i], &before[i])) return -1;
        } else
            left++;
    }
    return left;
}

static int count_add(struct zbatch *b, struct zb_table *t, const struct zvalue *row, int64_t d)
{
    struct zb_seg *s = cur_seg(b, t);
    if (!s) return -1;
    uint64_t h = key_hash(t, row);
    int i = seg_find(t, s, row, h);
    if (i >= 0) {
        s->rows[i].state = ZB_COUNT;
        s->rows[i].n += d;
        return 0;
    }
    struct zvalue *img = copy_image(b, t, row, 0);
    if (!img) return -1;
    i = seg_put(b, s, h, ZB_COUNT, img);
    if (i < 0) return -1;
    s->rows[i].n = d;
    return 0;
}

static int add_keyless(struct zbatch *b, struct zb_table *t, const struct zrowchange *rc)
{
    const char *nofull = "a table without a primary key needs the full old row for updates and deletes; on PostgreSQL set REPLICA IDENTITY FULL on the source table, then resync the table";
    switch (rc->op) {
    case ZOP_INSERT:
        if (has_unchanged(t, rc->after)) return fail(b, t, "insert carries an unchanged (TOAST) value");
        return count_add(b, t, rc->after, +1);
    case ZOP_DELETE:
        if (!rc->before || rc->before_key_only) return fail(b, t, nofull);
        return count_add(b, t, rc->before, -1);
    case ZOP_UPDATE: {
        if (!rc->before || rc->before_key_only) return fail(b, t, nofull);
        struct zvalue *img = copy_image(b, t, rc->after, 0);
        if (!img) return -1;
        int left = fill_unchanged(b, t, img, NULL, rc->before);
        if (left < 0) return -1;
        if (left) return fail(b, t, nofull);
        if (count_add(b, t, rc->before, -1)) return -1;
        return count_add(b, t, img, +1);
    }
    default:
        return fail(b, t, "unknown operation");
    }
}

static int add_update(struct zbatch *b, struct zb_table *t, const struct zrowchange *rc)
{
    const struct zvalue *oldk = rc->before ? rc->before : rc->after;
    const struct zvalue *full_before = rc->before && !rc->before_key_only ? rc->before : NULL;
    int same = !rc->before || key_eq(t, rc->before, rc->after);
    struct zb_seg *s = cur_seg(b, t);
    if (!s) return -1;
    uint64_t h_old = key_hash(t, oldk);
    int ro = seg_find(t, s, oldk, h_old);
    uint8_t ost = ro >= 0 ? s->rows[ro].state : ZB_NONE;
    const struct zvalue *prev = (ost == ZB_UPSERT || ost == ZB_PARTIAL) ? s->rows[ro].image : NULL;

    struct zvalue *img = copy_image(b, t, rc->after, 0);
    if (!img) return -1;
    int left = fill_unchanged(b, t, img, prev, full_before);
    if (left < 0) return -1;
    /* A version is a whole row: a history table cannot take one with values
     * only the target has (the table fails alone, with the fix). */
    if (left && t->history && ost != ZB_DELETE)
        return fail(b, t, "an update without every value (an unchanged TOAST value) cannot make a full version; "
                          "set REPLICA IDENTITY FULL on the source table, then resync it");

    if (same) {
        if (left && ost == ZB_DELETE) return 0;   /* update of a row already deleted */
        return set_state(b, t, img, left ? ZB_PARTIAL : ZB_UPSERT, img);
    }
    if (!left) {                                  /* key change: delete old, upsert new */
        struct zvalue *k = copy_image(b, t, oldk, 1);
        if (!k) return -1;
        if (set_state(b, t, oldk, ZB_DELETE, k)) return -1;
        return set_state(b, t, img, ZB_UPSERT, img);
    }
    /* A key change with values only the target has: a MOVE segment of its own. */
    if (ost == ZB_DELETE) return 0;
    if (ost == ZB_PARTIAL) s->rows[ro].state = ZB_NONE;   /* merged into the move */
    struct zvalue *k = copy_image(b, t, oldk, 1);
    if (!k) return -1;
    struct zb_seg *m = new_seg(b, t, 1);
    if (!m) return -1;
    int i = seg_put(b, m, key_hash(t, img), ZB_MOVE, img);
    if (i < 0) return -1;
    m->rows[i].old_key = k;
    return 0;
}

int zbatch_add(struct zbatch *b, const struct zrowchange *rc, const char *tschema,
               const char *tname)
{
    b->err[0] = 0;
    b->refused = 0;
    if (!rc->table) {
        snprintf(b->err, sizeof b->err, "batch: change without a table");
        return -1;
    }
    struct zb_table *t = find_table(b, rc->table, tschema, tname);
    if (!t) goto oom;
    if (rc->table->ncols != t->def->ncols) {
        snprintf(b->err, sizeof b->err,
                 "batch: table %s.%s changed from %d to %d columns inside one batch (the applier must flush the batch before a schema change)",
                 t->def->schema, t->def->name, t->def->ncols, rc->table->ncols);
        return -1;
    }
    b->nchanges++;
    int rv;
    switch (rc->op) {
    case ZOP_TRUNCATE:
        for (int i = 0; i < t->nsegs; i++) seg_free(&t->segs[i]);
        t->nsegs = 0;
        t->truncate = 1;
        t->truncate_us = b->now_us;
        t->truncates++;
        return 0;
    case ZOP_INSERT:
        if (!rc->after) return fail(b, t, "insert without a row image");
        t->inserts++;
        if (!t->keyed) { rv = add_keyless(b, t, rc); break; }
        if (has_unchanged(t, rc->after)) return fail(b, t, "insert carries an unchanged (TOAST) value");
        {
            struct zvalue *img = copy_image(b, t, rc->after, 0);
            b->adding_insert = 1;
            rv = img ? set_state(b, t, img, ZB_UPSERT, img) : -1;
            b->adding_insert = 0;
        }
        break;
    case ZOP_UPDATE:
        if (!rc->after) return fail(b, t, "update without a new row image");
        t->updates++;
        rv = !t->keyed ? add_keyless(b, t, rc) : add_update(b, t, rc);
        break;
    case ZOP_DELETE:
        if (!rc->before) return fail(b, t, "delete without an old row image");
        t->deletes++;
        if (!t->keyed) { rv = add_keyless(b, t, rc); break; }
        {
            struct zvalue *k = copy_image(b, t, rc->before, 1);
            rv = k ? set_state(b, t, k, ZB_DELETE, k) : -1;
        }
        break;
    default:
        return fail(b, t, "unknown operation");
    }
    if (rv && !b->err[0]) goto oom;
    return rv;
oom:
    snprintf(b->err, sizeof b->err, "batch: out of memory after %zu bytes (lower apply.memory_mb or batch_rows)", b->bytes);
    return -1;
}

/* ---- life cycle ------------------------------------------------------------------ */

struct zbatch *zbatch_new(void)
{
    return calloc(1, sizeof(struct zbatch));
}

void zbatch_view(const struct zbatch *b, int i, struct zbatch *one)
{
    memset(one, 0, sizeof *one);
    one->tables = &b->tables[i];
    one->ntables = one->captables = 1;
    one->nchanges = 1;
}

void zbatch_set_time(struct zbatch *b, int64_t us)
{
    b->now_us = us;
    b->txn++;
}

void zbatch_reset(struct zbatch *b)
{
    for (int i = 0; i < b->ntables; i++) table_free(&b->tables[i]);
    b->ntables = 0;
    b->lastidx = 0;
    b->nchanges = 0;
    b->bytes = 0;
    b->err[0] = 0;
    struct zb_chunk *c = b->arena;
    if (c) {                        /* keep the newest chunk, free the rest */
        struct zb_chunk *rest = c->next;
        while (rest) {
            struct zb_chunk *n = rest->next;
            free(rest);
            rest = n;
        }
        c->next = NULL;
        c->used = 0;
    }
}

void zbatch_free(struct zbatch *b)
{
    if (!b) return;
    zbatch_reset(b);
    free(b->arena);
    free(b->tables);
    free(b);
}
