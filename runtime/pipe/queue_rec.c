/*
 * queue_rec.c — the change queue's record format and table definitions.
 * Contract and layout: queue_rec.h.
 */
#include "runtime/pipe/queue_rec.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/base/rd.h"

#define STR_NULL 0xffffffffu
#define COL_MIN  25u                /* bytes of a column in QREC_TABLE, two NULL strings */

/* ---- writing ----------------------------------------------------------------------- */

static inline uint8_t *w_u8(uint8_t *p, uint8_t v) { *p = v; return p + 1; }
static inline uint8_t *w_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); return p + 2; }
static inline uint8_t *w_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); return p + 4; }
static inline uint8_t *w_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); return p + 8; }

static size_t sz_str(const char *s) { return s ? 4 + strlen(s) + 1 : 4; }

static uint8_t *w_strn(uint8_t *p, const char *s, size_t n)
{
    if (!s)
        return w_u32(p, STR_NULL);
    p = w_u32(p, (uint32_t)n);
    memcpy(p, s, n);
    p[n] = 0;
    return p + n + 1;
}

static uint8_t *w_str(uint8_t *p, const char *s) { return w_strn(p, s, s ? strlen(s) : 0); }

static size_t sz_pos(const struct zpos *z)
{
    return 1 + 4 + strnlen(z->file, ZPOS_FILE_MAX - 1) + 1 + 8 +
           4 + strnlen(z->gtid, ZPOS_GTID_MAX - 1) + 1;
}

static uint8_t *w_pos(uint8_t *p, const struct zpos *z)
{
    p = w_u8(p, z->kind);
    p = w_strn(p, z->file, strnlen(z->file, ZPOS_FILE_MAX - 1));
    p = w_u64(p, z->offset);
    return w_strn(p, z->gtid, strnlen(z->gtid, ZPOS_GTID_MAX - 1));
}

size_t qrec_txn_size(const struct ztxn *t) { return 1 + sz_pos(&t->end) + 32; }

void qrec_txn_write(uint8_t *p, enum qrec_kind kind, const struct ztxn *t)
{
    p = w_u8(p, (uint8_t)kind);
    p = w_pos(p, &t->end);
    p = w_u64(p, (uint64_t)t->commit_time_us);
    p = w_u64(p, t->xid);
    p = w_u64(p, t->bytes);
    w_u64(p, t->commit_lsn);
}

static int sz_values(const struct zvalue *v, int n, uint64_t *sz)
{
    uint64_t s = 0;

    for (int i = 0; i < n; i++) {
        switch (v[i].kind) {
        case ZV_NULL:
        case ZV_UNCHANGED:
            s += 1;
            break;
        case ZV_INT:
        case ZV_UINT:
        case ZV_FLOAT:
            s += 9;
            break;
        case ZV_TEXT:
        case ZV_BYTES:
            if (v[i].len && !v[i].v.p)
                return -1;
            s += 5 + (uint64_t)v[i].len;
            break;
        default:
            return -1;
        }
    }
    *sz += s;
    return 0;
}

static uint8_t *w_values(uint8_t *p, const struct zvalue *v, int n)
{
    for (int i = 0; i < n; i++) {
        *p++ = v[i].kind;
        switch (v[i].kind) {
        case ZV_INT:
        case ZV_UINT:
        case ZV_FLOAT:
            memcpy(p, &v[i].v, 8);
            p += 8;
            break;
        case ZV_TEXT:
        case ZV_BYTES:
            p = w_u32(p, v[i].len);
            if (v[i].len)
                memcpy(p, v[i].v.p, v[i].len);
            p += v[i].len;
            break;
        default:
            break;
        }
    }
    return p;
}

int qrec_row_size(const struct zrowchange *rc, uint64_t *size)
{
    int n = rc->table ? rc->table->ncols : 0;

    *size = 1 + 4 + 1 + 1 + 4;
    if ((rc->before && sz_values(rc->before, n, size)) || (rc->after && sz_values(rc->after, n, size)))
        return -1;
    return 0;
}

void qrec_row_write(uint8_t *p, uint32_t slot, const struct zrowchange *rc)
{
    int n = rc->table ? rc->table->ncols : 0;

    p = w_u8(p, QREC_ROW);
    p = w_u32(p, slot);
    p = w_u8(p, (uint8_t)rc->op);
    p = w_u8(p, (uint8_t)((rc->before ? 1 : 0) | (rc->after ? 2 : 0) | (rc->before_key_only ? 4 : 0)));
    p = w_u32(p, (uint32_t)n);
    if (rc->before)
        p = w_values(p, rc->before, n);
    if (rc->after)
        w_values(p, rc->after, n);
}

size_t qrec_schema_size(const struct zschema_change *sc)
{
    return 1 + 1 + 4 + 4 + sz_str(sc->statement) + sz_str(sc->reason);
}

void qrec_schema_write(uint8_t *p, uint32_t old_slot, uint32_t new_slot,
                       const struct zschema_change *sc)
{
    p = w_u8(p, QREC_SCHEMA);
    p = w_u8(p, (uint8_t)sc->kind);
    p = w_u32(p, old_slot);
    p = w_u32(p, new_slot);
    p = w_str(p, sc->statement);
    w_str(p, sc->reason);
}

size_t qrec_heartbeat_size(const struct zpos *pos) { return 1 + sz_pos(pos) + 8; }

void qrec_heartbeat_write(uint8_t *p, const struct zpos *pos, int64_t now_us)
{
    p = w_u8(p, QREC_HEARTBEAT);
    p = w_pos(p, pos);
    w_u64(p, (uint64_t)now_us);
}

size_t qrec_table_size(const struct ztable *t)
{
    size_t s = 1 + 4 + sz_str(t->schema) + sz_str(t->name) + 8 + 4 + 4;

    for (int i = 0; i < t->ncols; i++)
        s += sz_str(t->cols[i].name) + 4 + 4 + 2 + 2 + 3 + 2 + sz_str(t->cols[i].source_type);
    return s;
}

void qrec_table_write(uint8_t *p, uint32_t slot, const struct ztable *t)
{
    p = w_u8(p, QREC_TABLE);
    p = w_u32(p, slot);
    p = w_str(p, t->schema);
    p = w_str(p, t->name);
    p = w_u64(p, t->id);
    p = w_u32(p, (uint32_t)t->ncols);
    p = w_u32(p, (uint32_t)t->npk);
    for (int i = 0; i < t->ncols; i++) {
        const struct zcolumn *c = &t->cols[i];
        p = w_str(p, c->name);
        p = w_u32(p, (uint32_t)c->type);
        p = w_u32(p, (uint32_t)c->length);
        p = w_u16(p, (uint16_t)c->precision);
        p = w_u16(p, (uint16_t)c->scale);
        p = w_u8(p, c->nullable);
        p = w_u8(p, c->is_unsigned);
        p = w_u8(p, c->is_array);
        p = w_u16(p, (uint16_t)c->pk_ord);
        p = w_str(p, c->source_type);
    }
}

/* ---- table definitions ----------------------------------------------------------------- */

/* Inline: this runs for every row (per column, twice), where a call to
 * strcmp per short name costs more than the loop. */
static inline int str_same(const char *a, const char *b)
{
    if (a == b)
        return 1;
    if (!a || !b)
        return 0;
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

int qrec_table_same(const struct ztable *a, const struct ztable *b)
{
    if (a->id != b->id || a->ncols != b->ncols || a->npk != b->npk ||
        !str_same(a->name, b->name) || !str_same(a->schema, b->schema))
        return 0;
    for (int i = 0; i < a->ncols; i++) {
        const struct zcolumn *x = &a->cols[i], *y = &b->cols[i];
        if (x->type != y->type || x->length != y->length || x->precision != y->precision ||
            x->scale != y->scale || x->nullable != y->nullable ||
            x->is_unsigned != y->is_unsigned || x->is_array != y->is_array ||
            x->pk_ord != y->pk_ord || !str_same(x->name, y->name) ||
            !str_same(x->source_type, y->source_type))
            return 0;
    }
    return 1;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    return s ? fnv(h, s, strlen(s) + 1) : fnv(h, "\xff\xfe", 2);
}

static uint64_t table_hash(const struct ztable *t)
{
    uint64_t h = 0xcbf29ce484222325ull;

    h = fnv_str(h, t->schema);
    h = fnv_str(h, t->name);
    h = fnv(h, &t->id, sizeof t->id);
    h = fnv(h, &t->ncols, sizeof t->ncols);
    for (int i = 0; i < t->ncols; i++) {
        h = fnv_str(h, t->cols[i].name);
        h = fnv(h, &t->cols[i].type, sizeof t->cols[i].type);
    }
    return h;
}

static size_t ptr_hash(const void *p, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & (cap - 1);
}

/*
 * Is t (the source's) the same as slot k's copy? This runs for every row, so
 * strings are compared against the copy's known lengths: one comparison per
 * byte, and a source string that is shorter stops the loop at its NUL (the
 * copy has none there) before anything past it is read.
 */
static inline int str_is(const char *s, const char *c, uint32_t len)
{
    if (len == UINT32_MAX)
        return s == NULL;
    if (!s)
        return 0;
    for (uint32_t i = 0; i < len; i++)
        if (s[i] != c[i])
            return 0;
    return s[len] == 0;
}

static int slot_same(const struct qrec_slot *k, const struct ztable *t)
{
    const struct ztable *c = k->copy;
    const uint32_t *l = k->lens;

    if (t->id != c->id || t->ncols != c->ncols || t->npk != c->npk ||
        !str_is(t->name, c->name, l[1]) || !str_is(t->schema, c->schema, l[0]))
        return 0;
    l += 2;
    for (int i = 0; i < t->ncols; i++, l += 2) {
        const struct zcolumn *x = &t->cols[i], *y = &c->cols[i];
        if (x->type != y->type || x->length != y->length || x->precision != y->precision ||
            x->scale != y->scale || x->nullable != y->nullable ||
            x->is_unsigned != y->is_unsigned || x->is_array != y->is_array ||
            x->pk_ord != y->pk_ord || !str_is(x->name, y->name, l[0]) ||
            !str_is(x->source_type, y->source_type, l[1]))
            return 0;
    }
    return 1;
}

static uint32_t len_of(const char *s) { return s ? (uint32_t)strlen(s) : UINT32_MAX; }

/* The lengths slot_same needs, for copy; NULL when out of memory. */
static uint32_t *lens_of(const struct ztable *c)
{
    uint32_t *l = malloc((2 + 2 * (size_t)c->ncols) * sizeof *l);

    if (!l)
        return NULL;
    l[0] = len_of(c->schema);
    l[1] = len_of(c->name);
    for (int i = 0; i < c->ncols; i++) {
        l[2 + 2 * i] = len_of(c->cols[i].name);
        l[3 + 2 * i] = len_of(c->cols[i].source_type);
    }
    return l;
}

void qrec_slots_clear(struct qrec_slots *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        ztable_free(s->v[i].copy);
        free(s->v[i].lens);
    }
    s->n = 0;
    s->last = 0;
    if (s->hash)
        memset(s->hash, 0, s->hcap * sizeof *s->hash);
}

void qrec_slots_free(struct qrec_slots *s)
{
    qrec_slots_clear(s);
    free(s->v);
    free(s->hash);
    memset(s, 0, sizeof *s);
}

static uint32_t slot_find(const struct qrec_slots *s, const struct ztable *t)
{
    if (!s->hcap)
        return 0;
    for (size_t i = ptr_hash(t, s->hcap);; i = (i + 1) & (s->hcap - 1)) {
        uint32_t k = s->hash[i];
        if (!k || s->v[k - 1].src == t)
            return k;
    }
}

/* A new slot for t holding copy and its lengths; 0 when out of memory. */
static uint32_t slot_add(struct qrec_slots *s, const struct ztable *t, struct ztable *copy,
                         uint32_t *lens)
{
    size_t i;

    if (s->n == s->cap) {
        uint32_t ncap = s->cap ? s->cap * 2 : 64;
        struct qrec_slot *nv = realloc(s->v, ncap * sizeof *nv);
        if (!nv)
            return 0;
        s->v = nv;
        s->cap = ncap;
    }
    if ((s->n + 1) * 2 > s->hcap) {
        size_t ncap = s->hcap ? s->hcap * 2 : 128;
        uint32_t *nh = calloc(ncap, sizeof *nh);
        if (!nh)
            return 0;
        for (uint32_t k = 1; k <= s->n; k++) {
            i = ptr_hash(s->v[k - 1].src, ncap);
            while (nh[i])
                i = (i + 1) & (ncap - 1);
            nh[i] = k;
        }
        free(s->hash);
        s->hash = nh;
        s->hcap = ncap;
    }
    s->v[s->n++] = (struct qrec_slot){ .src = t, .copy = copy, .lens = lens };
    i = ptr_hash(t, s->hcap);
    while (s->hash[i])
        i = (i + 1) & (s->hcap - 1);
    s->hash[i] = s->n;
    return s->n;
}

int qrec_slots_get(struct qrec_slots *s, const struct ztable *t, uint32_t *slot)
{
    struct ztable *copy;
    uint32_t *lens;
    uint32_t k = s->last;
    int rc = 1;

    if (!k || s->v[k - 1].src != t)
        k = slot_find(s, t);
    if (k && slot_same(&s->v[k - 1], t)) {
        s->last = *slot = k;
        return 0;
    }
    if (t->ncols < 0 || (t->ncols > 0 && !t->cols))
        return -1;
    copy = ztable_dup(t);
    lens = copy ? lens_of(copy) : NULL;
    if (!lens) {
        ztable_free(copy);
        return -1;
    }
    if (k) {                                    /* new content behind a known pointer */
        ztable_free(s->v[k - 1].copy);
        free(s->v[k - 1].lens);
        s->v[k - 1].copy = copy;
        s->v[k - 1].lens = lens;
    } else {
        if (s->n >= QREC_SLOTS_MAX) {
            qrec_slots_clear(s);
            rc = 2;
        }
        k = slot_add(s, t, copy, lens);
        if (!k) {
            ztable_free(copy);
            free(lens);
            return -1;
        }
    }
    s->last = *slot = k;
    return rc;
}

/* ---- reading ----------------------------------------------------------------------- */

static inline uint16_t g_u16(struct rd *r)
{
    const uint8_t *b = rd_bytes(r, 2);
    uint16_t v = 0;
    if (b)
        memcpy(&v, b, 2);
    return v;
}

static inline uint32_t g_u32(struct rd *r)
{
    const uint8_t *b = rd_bytes(r, 4);
    uint32_t v = 0;
    if (b)
        memcpy(&v, b, 4);
    return v;
}

static inline uint64_t g_u64(struct rd *r)
{
    const uint8_t *b = rd_bytes(r, 8);
    uint64_t v = 0;
    if (b)
        memcpy(&v, b, 8);
    return v;
}

/* A NUL-terminated string in place; NULL for a NULL string or an error (r->err). */
static const char *g_str(struct rd *r, uint32_t *len)
{
    uint32_t n = g_u32(r);
    const uint8_t *b;

    if (len)
        *len = 0;
    if (r->err || n == STR_NULL)
        return NULL;
    b = rd_bytes(r, (size_t)n + 1);
    if (!b || b[n] != 0) {
        r->err = 1;
        return NULL;
    }
    if (len)
        *len = n;
    return (const char *)b;
}

static void g_pos(struct rd *r, struct zpos *z)
{
    const char *s;
    uint32_t n;

    memset(z, 0, sizeof *z);
    z->kind = rd_u8(r);
    s = g_str(r, &n);
    if (s && n < ZPOS_FILE_MAX)
        memcpy(z->file, s, n);
    else if (s)
        r->err = 1;
    z->offset = g_u64(r);
    s = g_str(r, &n);
    if (s && n < ZPOS_GTID_MAX)
        memcpy(z->gtid, s, n);
    else if (s)
        r->err = 1;
}

static char *dup_or_null(const char *s, int *oom)
{
    char *d;

    if (!s)
        return NULL;
    d = strdup(s);
    if (!d)
        *oom = 1;
    return d;
}

/* The shared copy of t's content: t itself (now owned by d) or an equal one. */
static struct ztable *defs_intern(struct qrec_defs *d, struct ztable *t)
{
    uint64_t h = table_hash(t);
    size_t i;

    if (d->setcap) {
        for (i = (size_t)h & (d->setcap - 1); d->set[i]; i = (i + 1) & (d->setcap - 1)) {
            size_t k = d->set[i] - 1;
            if (d->all_hash[k] == h && qrec_table_same(d->all[k], t)) {
                ztable_free(t);
                return d->all[k];
            }
        }
    }
    if (d->nall == d->allcap) {
        size_t ncap = d->allcap ? d->allcap * 2 : 64;
        struct ztable **na = realloc(d->all, ncap * sizeof *na);
        uint64_t *nh;
        if (!na)
            return NULL;
        d->all = na;
        nh = realloc(d->all_hash, ncap * sizeof *nh);
        if (!nh)
            return NULL;
        d->all_hash = nh;
        d->allcap = ncap;
    }
    if ((d->nall + 1) * 2 > d->setcap) {
        size_t ncap = d->setcap ? d->setcap * 2 : 128;
        size_t *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return NULL;
        for (size_t k = 0; k < d->nall; k++) {
            for (i = (size_t)d->all_hash[k] & (ncap - 1); ns[i]; i = (i + 1) & (ncap - 1))
                ;
            ns[i] = k + 1;
        }
        free(d->set);
        d->set = ns;
        d->setcap = ncap;
    }
    for (i = (size_t)h & (d->setcap - 1); d->set[i]; i = (i + 1) & (d->setcap - 1))
        ;
    d->all[d->nall] = t;
    d->all_hash[d->nall] = h;
    d->set[i] = ++d->nall;
    return t;
}

/* QREC_TABLE: 0, -1 malformed, -2 out of memory. */
static int decode_table(struct qrec_defs *d, struct rd *r)
{
    uint32_t slot = g_u32(r);
    struct ztable *t = calloc(1, sizeof *t), *shared;
    int oom = !t;
    int32_t ncols;

    if (oom)
        return -2;
    t->schema = dup_or_null(g_str(r, NULL), &oom);
    t->name = dup_or_null(g_str(r, NULL), &oom);
    t->id = g_u64(r);
    ncols = (int32_t)g_u32(r);
    t->npk = (int)(int32_t)g_u32(r);
    if (r->err || slot == 0 || slot > QREC_SLOTS_MAX || ncols < 0 ||
        (size_t)ncols > rd_left(r) / COL_MIN)
        goto bad;
    if (ncols) {
        t->cols = calloc((size_t)ncols, sizeof *t->cols);
        if (!t->cols) {
            oom = 1;
            goto bad;
        }
        t->ncols = ncols;
    }
    for (int i = 0; i < ncols && !r->err; i++) {
        struct zcolumn *c = &t->cols[i];
        c->name = dup_or_null(g_str(r, NULL), &oom);
        c->type = (enum ztype)g_u32(r);
        c->length = (int32_t)g_u32(r);
        c->precision = (int16_t)g_u16(r);
        c->scale = (int16_t)g_u16(r);
        c->nullable = rd_u8(r);
        c->is_unsigned = rd_u8(r);
        c->is_array = rd_u8(r);
        c->pk_ord = (int16_t)g_u16(r);
        c->source_type = dup_or_null(g_str(r, NULL), &oom);
    }
    if (oom || rd_end(r))
        goto bad;
    if (slot >= d->nslots) {
        uint32_t n = slot + 64 > QREC_SLOTS_MAX + 1 ? QREC_SLOTS_MAX + 1 : slot + 64;
        struct ztable **nb = realloc(d->by_slot, n * sizeof *nb);
        if (!nb) {
            oom = 1;
            goto bad;
        }
        memset(nb + d->nslots, 0, (n - d->nslots) * sizeof *nb);
        d->by_slot = nb;
        d->nslots = n;
    }
    shared = defs_intern(d, t);
    if (!shared) {
        oom = 1;
        goto bad;
    }
    d->by_slot[slot] = shared;
    return 0;
bad:
    ztable_free(t);
    return oom ? -2 : -1;
}

static const struct ztable *slot_def(const struct qrec_defs *d, uint32_t slot, struct rd *r)
{
    if (!slot)
        return NULL;
    if (slot >= d->nslots || !d->by_slot[slot]) {
        r->err = 1;
        return NULL;
    }
    return d->by_slot[slot];
}

static void g_values(struct rd *r, struct zvalue *v, uint32_t n)
{
    for (uint32_t i = 0; i < n && !r->err; i++) {
        v[i].kind = rd_u8(r);
        v[i].len = 0;
        v[i].v.u = 0;
        switch (v[i].kind) {
        case ZV_NULL:
        case ZV_UNCHANGED:
            break;
        case ZV_INT:
        case ZV_UINT:
        case ZV_FLOAT: {
            const uint8_t *b = rd_bytes(r, 8);
            if (b)
                memcpy(&v[i].v, b, 8);
            break;
        }
        case ZV_TEXT:
        case ZV_BYTES:
            v[i].len = g_u32(r);
            v[i].v.p = (const char *)rd_bytes(r, v[i].len);
            break;
        default:
            r->err = 1;
        }
    }
}

static int decode_row(struct qrec_defs *d, struct rd *r, struct cq_item *out)
{
    uint32_t slot = g_u32(r), ncols, nimg;
    uint8_t op = rd_u8(r), flags = rd_u8(r);
    const struct ztable *t = slot_def(d, slot, r);

    ncols = g_u32(r);
    nimg = (uint32_t)(flags & 1) + (uint32_t)((flags >> 1) & 1);
    /* Each value takes at least one byte: check before sizing the arrays. */
    if (r->err || (t ? (uint32_t)t->ncols != ncols : (ncols && nimg)) ||
        (uint64_t)ncols * nimg > rd_left(r))
        return -1;
    if ((size_t)ncols * nimg > d->nvals) {
        size_t n = (size_t)ncols * nimg;
        struct zvalue *nv = realloc(d->vals, n * sizeof *nv);
        if (!nv)
            return -2;
        d->vals = nv;
        d->nvals = n;
    }
    out->row.op = (enum zop)op;
    out->row.table = t;
    out->row.before = (flags & 1) ? d->vals : NULL;
    out->row.after = (flags & 2) ? d->vals + ((flags & 1) ? ncols : 0) : NULL;
    out->row.before_key_only = (flags & 4) ? 1 : 0;
    g_values(r, d->vals, ncols * nimg);
    return 0;
}

int qrec_decode(struct qrec_defs *d, const uint8_t *body, uint32_t len, struct cq_item *out)
{
    struct rd r;
    int rc = 0;

    rd_init(&r, body, len);
    switch (rd_u8(&r)) {
    case QREC_BEGIN:
    case QREC_COMMIT:
        out->kind = body[0] == QREC_BEGIN ? CQ_BEGIN : CQ_COMMIT;
        g_pos(&r, &out->txn.end);
        out->txn.commit_time_us = (int64_t)g_u64(&r);
        out->txn.xid = g_u64(&r);
        out->txn.bytes = g_u64(&r);
        out->txn.commit_lsn = g_u64(&r);
        break;
    case QREC_ROW:
        out->kind = CQ_ROW;
        rc = decode_row(d, &r, out);
        break;
    case QREC_SCHEMA:
        out->kind = CQ_SCHEMA;
        out->schema.kind = (enum zddl)rd_u8(&r);
        out->schema.old_def = slot_def(d, g_u32(&r), &r);
        out->schema.new_def = slot_def(d, g_u32(&r), &r);
        out->schema.statement = g_str(&r, NULL);
        out->schema.reason = g_str(&r, NULL);
        break;
    case QREC_HEARTBEAT:
        out->kind = CQ_HEARTBEAT;
        g_pos(&r, &out->pos);
        out->now_us = (int64_t)g_u64(&r);
        break;
    case QREC_TABLE:
        return decode_table(d, &r);
    case QREC_TABLES_RESET:
        if (d->by_slot)
            memset(d->by_slot, 0, d->nslots * sizeof *d->by_slot);
        return rd_end(&r) == 0 ? 0 : -1;
    default:
        return -1;
    }
    if (rc)
        return rc;
    return rd_end(&r) == 0 ? 1 : -1;
}

void qrec_defs_free(struct qrec_defs *d)
{
    for (size_t i = 0; i < d->nall; i++)
        ztable_free(d->all[i]);
    free(d->all);
    free(d->all_hash);
    free(d->set);
    free(d->by_slot);
    free(d->vals);
    memset(d, 0, sizeof *d);
}
