/*
 * test_batch.c — the target's pure parts: batch collapse rules, the type
 * mapping, identifier quoting, COPY text escaping, value text, and the
 * Redshift dialect's statements (parameter counts, chunking).
 */
#include <math.h>
#include <stdlib.h>

#include "tests/unit/test.h"
#include "runtime/target/target.h"
#include "runtime/source/source.h"
#include "runtime/source/source_ops.h"

/* The dialect of a source kind, as its driver declares it. */
#define MY (&source_driver(SOURCE_MYSQL)->dialect)
#define PG (&source_driver(SOURCE_POSTGRES)->dialect)

/* ---- fixtures ----------------------------------------------------------------- */

static struct zcolumn kcols[] = {
    { .name = "id", .type = ZT_INT64, .pk_ord = 1, .source_type = "bigint" },
    { .name = "Name", .type = ZT_VARCHAR, .length = 20, .nullable = 1, .source_type = "varchar(20)" },
    { .name = "doc", .type = ZT_TEXT, .nullable = 1, .source_type = "text" },
};
static struct ztable keyed = { .schema = "s", .name = "T", .ncols = 3, .cols = kcols, .npk = 1 };

static struct zcolumn lcols[] = {
    { .name = "a", .type = ZT_INT32, .nullable = 1, .source_type = "int" },
    { .name = "b", .type = ZT_TEXT, .nullable = 1, .source_type = "text" },
};
static struct ztable keyless = { .schema = "s", .name = "L", .ncols = 2, .cols = lcols, .npk = 0 };

static struct zvalue I(int64_t i) { struct zvalue v = { .kind = ZV_INT }; v.v.i = i; return v; }
static struct zvalue S(const char *s) { struct zvalue v = { .kind = ZV_TEXT, .len = (uint32_t)strlen(s) }; v.v.p = s; return v; }
static struct zvalue B(const char *s, uint32_t n) { struct zvalue v = { .kind = ZV_BYTES, .len = n }; v.v.p = s; return v; }
static const struct zvalue N = { .kind = ZV_NULL }, U = { .kind = ZV_UNCHANGED };

static int add(struct zbatch *b, enum zop op, const struct ztable *t, const struct zvalue *before,
               const struct zvalue *after, int key_only)
{
    struct zrowchange rc = { .op = op, .table = t, .before = before, .after = after,
                             .before_key_only = (uint8_t)key_only };
    return zbatch_add(b, &rc, NULL, NULL);
}

/* Live rows (state != NONE) of the table's segment. */
static int live(const struct zb_seg *s)
{
    int n = 0;
    for (int i = 0; i < s->nrows; i++) n += s->rows[i].state != ZB_NONE;
    return n;
}

static const struct zb_row *row_for(const struct zb_seg *s, int64_t id)
{
    for (int i = 0; i < s->nrows; i++)
        if (s->rows[i].state != ZB_NONE && s->rows[i].image[0].kind == ZV_INT &&
            s->rows[i].image[0].v.i == id) return &s->rows[i];
    return NULL;
}

static int text_is(const struct zvalue *v, const char *s)
{
    return v->kind == ZV_TEXT && v->len == strlen(s) && memcmp(v->v.p, s, v->len) == 0;
}

/* ---- collapse ------------------------------------------------------------------ */

static void test_collapse_upsert(void)
{
    struct zbatch *b = zbatch_new();
    char buf[8] = "first";
    struct zvalue r1[] = { I(1), S(buf), N };
    CHECK_INT(add(b, ZOP_INSERT, &keyed, NULL, r1, 0), 0, "insert added");
    memcpy(buf, "XXXXX", 5);                       /* the batch copied the borrowed bytes */
    const struct zb_seg *s = &b->tables[0].segs[0];
    CHECK(text_is(&s->rows[0].image[1], "first"), "values are copied, not borrowed");
    struct zvalue r2[] = { I(1), S("second"), N }, r3[] = { I(1), S("third"), S("doc") };
    add(b, ZOP_UPDATE, &keyed, r1, r2, 0);
    add(b, ZOP_UPDATE, &keyed, r2, r3, 0);
    CHECK_INT(b->ntables, 1, "one table");
    CHECK_INT(b->tables[0].nsegs, 1, "one segment");
    CHECK_INT(live(s), 1, "insert→update→update is one row");
    CHECK_INT(s->rows[0].state, ZB_UPSERT, "…an upsert");
    CHECK(text_is(&s->rows[0].image[1], "third") && text_is(&s->rows[0].image[2], "doc"),
          "…with the final image");
    CHECK_U64(b->tables[0].inserts, 1, "inserts counted");
    CHECK_U64(b->tables[0].updates, 2, "updates counted");
    CHECK(zbatch_bytes(b) > 0, "byte size tracked");
    CHECK_U64(zbatch_changes(b), 3, "changes counted");
    zbatch_reset(b);
    CHECK_INT(b->ntables, 0, "reset empties the batch");
    CHECK(zbatch_bytes(b) == 0 && zbatch_empty(b), "reset clears the size");
    zbatch_free(b);
}

static void test_collapse_delete(void)
{
    struct zbatch *b = zbatch_new();
    struct zvalue r1[] = { I(1), S("a"), N }, k1[] = { I(1), N, N };
    add(b, ZOP_INSERT, &keyed, NULL, r1, 0);
    add(b, ZOP_DELETE, &keyed, k1, NULL, 1);
    const struct zb_seg *s = &b->tables[0].segs[0];
    CHECK_INT(live(s), 1, "insert→delete leaves one entry");
    CHECK_INT(s->rows[0].state, ZB_DELETE, "insert→delete ⇒ DELETE (no-op if absent, right if it existed)");

    struct zvalue k2[] = { I(2), N, N }, r2[] = { I(2), S("again"), N };
    add(b, ZOP_DELETE, &keyed, k2, NULL, 1);
    const struct zb_row *r = row_for(s, 2);
    CHECK(r && r->state == ZB_DELETE, "delete of a row from before the batch ⇒ DELETE");
    CHECK(r && r->image[1].kind == ZV_NULL, "a key-only delete keeps the key only");
    add(b, ZOP_INSERT, &keyed, NULL, r2, 0);
    r = row_for(s, 2);
    CHECK(r && r->state == ZB_UPSERT && text_is(&r->image[1], "again"), "delete→insert ⇒ UPSERT");
    CHECK_INT(live(s), 2, "two keys");
    CHECK_U64(b->tables[0].deletes, 2, "deletes counted");
    zbatch_free(b);
}

static void test_collapse_pk_change(void)
{
    struct zbatch *b = zbatch_new();
    struct zvalue o[] = { I(1), S("a"), S("d") }, n[] = { I(7), S("a"), S("d") };
    add(b, ZOP_UPDATE, &keyed, o, n, 0);
    const struct zb_seg *s = &b->tables[0].segs[0];
    CHECK_INT(live(s), 2, "PK change makes two entries");
    CHECK(row_for(s, 1) && row_for(s, 1)->state == ZB_DELETE, "old key ⇒ DELETE");
    CHECK(row_for(s, 7) && row_for(s, 7)->state == ZB_UPSERT, "new key ⇒ UPSERT");

    /* insert 2, then move 2→3: delete 2, upsert 3 with the image */
    struct zvalue r2[] = { I(2), S("x"), S("big") }, k2[] = { I(2), N, N }, r3[] = { I(3), S("y"), U };
    add(b, ZOP_INSERT, &keyed, NULL, r2, 0);
    add(b, ZOP_UPDATE, &keyed, k2, r3, 1);
    CHECK(row_for(s, 2) && row_for(s, 2)->state == ZB_DELETE, "moved-from key deleted");
    const struct zb_row *r = row_for(s, 3);
    CHECK(r && r->state == ZB_UPSERT && text_is(&r->image[2], "big"),
          "PK change fills UNCHANGED from the earlier image ⇒ full UPSERT");
    CHECK_INT(b->tables[0].nsegs, 1, "no move segment needed");

    /* key change with an UNCHANGED value nobody in the batch knows ⇒ MOVE segment */
    struct zvalue k9[] = { I(9), N, N }, r10[] = { I(10), S("z"), U };
    add(b, ZOP_UPDATE, &keyed, k9, r10, 1);
    CHECK_INT(b->tables[0].nsegs, 2, "partial key change opens a move segment");
    const struct zb_seg *m = &b->tables[0].segs[1];
    CHECK(m->move && m->nrows == 1 && m->rows[0].state == ZB_MOVE, "…holding one MOVE");
    CHECK(m->rows[0].old_key && m->rows[0].old_key[0].v.i == 9 && m->rows[0].image[0].v.i == 10,
          "MOVE keeps old key 9 and new key 10");
    CHECK(m->rows[0].image[2].kind == ZV_UNCHANGED, "MOVE leaves the TOAST column to the target");
    struct zvalue r11[] = { I(11), S("after"), N };
    add(b, ZOP_INSERT, &keyed, NULL, r11, 0);
    CHECK_INT(b->tables[0].nsegs, 3, "changes after a move go to a new segment");
    zbatch_free(b);
}

/* zb_row.fresh: the key's first change in the segment was an INSERT. */
static void test_fresh_inserts(void)
{
    struct zbatch *b = zbatch_new();
    struct zvalue r1[] = { I(1), S("a"), N }, r1b[] = { I(1), S("b"), N }, k1[] = { I(1), N, N };
    add(b, ZOP_INSERT, &keyed, NULL, r1, 0);
    const struct zb_seg *s = &b->tables[0].segs[0];
    CHECK(row_for(s, 1) && row_for(s, 1)->fresh, "an insert of a new key is fresh");
    add(b, ZOP_UPDATE, &keyed, r1, r1b, 0);
    CHECK(row_for(s, 1) && row_for(s, 1)->fresh && row_for(s, 1)->state == ZB_UPSERT,
          "insert→update stays fresh (the final image is inserted)");

    struct zvalue r2[] = { I(2), S("x"), N }, k2[] = { I(2), N, N };
    add(b, ZOP_DELETE, &keyed, k2, NULL, 1);
    add(b, ZOP_INSERT, &keyed, NULL, r2, 0);
    CHECK(row_for(s, 2) && !row_for(s, 2)->fresh, "delete→insert is not fresh (the row existed)");

    struct zvalue o3[] = { I(3), S("o"), N }, n3[] = { I(3), S("n"), N };
    add(b, ZOP_UPDATE, &keyed, o3, n3, 0);
    CHECK(row_for(s, 3) && !row_for(s, 3)->fresh, "an update of a row from before the batch is not fresh");

    struct zvalue n4[] = { I(4), S("moved"), N };
    add(b, ZOP_UPDATE, &keyed, n3, n4, 0);
    CHECK(row_for(s, 4) && !row_for(s, 4)->fresh, "the new key of a key change is not fresh");

    add(b, ZOP_DELETE, &keyed, k1, NULL, 1);
    const struct zb_row *d = NULL;
    for (int i = 0; i < s->nrows; i++)
        if (s->rows[i].state == ZB_DELETE && s->rows[i].image[0].v.i == 1) d = &s->rows[i];
    CHECK(d != NULL, "insert→delete ⇒ DELETE (the driver still deletes: never skipped)");
    zbatch_reset(b);
    struct zvalue r5[] = { I(5), S("z"), N };
    add(b, ZOP_UPDATE, &keyed, r5, r5, 0);
    CHECK(!b->tables[0].segs[0].rows[0].fresh, "a reused row slot starts not fresh");
    zbatch_free(b);
}

static void test_collapse_unchanged(void)
{
    struct zbatch *b = zbatch_new();
    struct zvalue r1[] = { I(1), S("a"), S("toasted") }, u1[] = { I(1), S("b"), U };
    add(b, ZOP_INSERT, &keyed, NULL, r1, 0);
    add(b, ZOP_UPDATE, &keyed, NULL, u1, 0);
    const struct zb_seg *s = &b->tables[0].segs[0];
    const struct zb_row *r = row_for(s, 1);
    CHECK(r && r->state == ZB_UPSERT && text_is(&r->image[2], "toasted") && text_is(&r->image[1], "b"),
          "UNCHANGED merged from the earlier image in the batch");

    struct zvalue u2[] = { I(2), S("c"), U };
    add(b, ZOP_UPDATE, &keyed, NULL, u2, 0);
    r = row_for(s, 2);
    CHECK(r && r->state == ZB_PARTIAL && r->image[2].kind == ZV_UNCHANGED,
          "UNCHANGED with no earlier image ⇒ PARTIAL update");
    struct zvalue u2b[] = { I(2), U, S("now known") };
    add(b, ZOP_UPDATE, &keyed, NULL, u2b, 0);
    r = row_for(s, 2);
    CHECK(r && r->state == ZB_UPSERT && text_is(&r->image[1], "c") && text_is(&r->image[2], "now known"),
          "two partial updates that cover every column ⇒ UPSERT");

    struct zvalue full_before[] = { I(3), S("old"), S("from before") }, u3[] = { I(3), S("new"), U };
    add(b, ZOP_UPDATE, &keyed, full_before, u3, 0);
    r = row_for(s, 3);
    CHECK(r && r->state == ZB_UPSERT && text_is(&r->image[2], "from before"),
          "UNCHANGED filled from a full before image");

    struct zvalue k4[] = { I(4), N, N }, u4[] = { I(4), S("x"), U };
    add(b, ZOP_DELETE, &keyed, k4, NULL, 1);
    add(b, ZOP_UPDATE, &keyed, NULL, u4, 0);
    r = row_for(s, 4);
    CHECK(r && r->state == ZB_DELETE, "a partial update of a deleted key stays DELETE");
    zbatch_free(b);
}

static void test_collapse_truncate(void)
{
    struct zbatch *b = zbatch_new();
    struct zvalue r1[] = { I(1), S("a"), N }, r2[] = { I(2), S("b"), N };
    struct zvalue l1[] = { I(5), S("other table") };
    add(b, ZOP_INSERT, &keyed, NULL, r1, 0);
    add(b, ZOP_INSERT, &keyless, NULL, l1, 0);
    add(b, ZOP_TRUNCATE, &keyed, NULL, NULL, 0);
    add(b, ZOP_INSERT, &keyed, NULL, r2, 0);
    const struct zb_table *t = &b->tables[0];
    CHECK_INT(t->truncate, 1, "truncate flagged (applied first)");
    CHECK_INT(t->nsegs, 1, "rows before the truncate discarded");
    CHECK(row_for(&t->segs[0], 1) == NULL, "row 1 (before the truncate) is gone");
    CHECK(row_for(&t->segs[0], 2) != NULL, "row 2 (after the truncate) stays");
    CHECK_INT(b->tables[1].nsegs, 1, "the other table is untouched");
    CHECK_U64(t->truncates, 1, "truncates counted");
    zbatch_free(b);
}

static void test_collapse_keyless(void)
{
    struct zbatch *b = zbatch_new();
    struct zvalue x[] = { I(1), S("x") }, y[] = { I(2), N }, z[] = { I(2), S("") };
    add(b, ZOP_INSERT, &keyless, NULL, x, 0);
    add(b, ZOP_INSERT, &keyless, NULL, x, 0);
    add(b, ZOP_INSERT, &keyless, NULL, y, 0);
    add(b, ZOP_DELETE, &keyless, y, NULL, 0);
    add(b, ZOP_DELETE, &keyless, z, NULL, 0);
    const struct zb_seg *s = &b->tables[0].segs[0];
    CHECK_INT(live(s), 3, "three distinct full-row keys (NULL differs from '')");
    int64_t nx = 0, ny = 0, nz = 0;
    for (int i = 0; i < s->nrows; i++) {
        const struct zb_row *r = &s->rows[i];
        if (r->image[1].kind == ZV_NULL) ny = r->n;
        else if (r->image[1].len == 0) nz = r->n;
        else nx = r->n;
    }
    CHECK_INT(nx, 2, "duplicate inserts keep both copies");
    CHECK_INT(ny, 0, "insert→delete of a keyless row nets to 0");
    CHECK_INT(nz, -1, "delete of a pre-existing keyless row removes one copy");
    struct zvalue x2[] = { I(1), S("x2") };
    add(b, ZOP_UPDATE, &keyless, x, x2, 0);
    for (int i = 0; i < s->nrows; i++)
        if (text_is(&s->rows[i].image[1], "x")) nx = s->rows[i].n;
    CHECK_INT(nx, 1, "keyless update removes one old copy…");
    int found = 0;
    for (int i = 0; i < s->nrows; i++)
        if (text_is(&s->rows[i].image[1], "x2")) found = s->rows[i].n == 1;
    CHECK(found, "…and adds one new copy");
    CHECK_INT(add(b, ZOP_DELETE, &keyless, x, NULL, 1), -1, "keyless delete with only a key is refused");
    CHECK(strstr(b->err, "REPLICA IDENTITY FULL") != NULL, "…and the message says the fix");
    zbatch_free(b);
}

static void test_batch_errors(void)
{
    struct zbatch *b = zbatch_new();
    struct zvalue r1[] = { I(1), S("a"), N };
    add(b, ZOP_INSERT, &keyed, NULL, r1, 0);
    struct ztable two = keyed;
    two.ncols = 2;
    CHECK_INT(add(b, ZOP_INSERT, &two, NULL, r1, 0), -1, "a changed layout inside a batch is refused");
    CHECK(strstr(b->err, "flush") != NULL, "…with the reason");
    struct zvalue bad[] = { I(2), U, N };
    CHECK_INT(add(b, ZOP_INSERT, &keyed, NULL, bad, 0), -1, "an insert with UNCHANGED is refused");
    zbatch_free(b);
}

/* ---- type mapping ------------------------------------------------------------------ */

struct tm_case { struct zcolumn c; const char *my_pg, *pg_pg, *rs; };

static void test_typemap(void)
{
    static const struct tm_case cases[] = {
        { { .type = ZT_BOOL, .source_type = "boolean" }, "boolean", "boolean", "boolean" },
        { { .type = ZT_INT16, .source_type = "tinyint" }, "smallint", "smallint", "smallint" },
        { { .type = ZT_INT16, .is_unsigned = 1, .source_type = "tinyint unsigned" }, "smallint", "smallint", "smallint" },
        { { .type = ZT_INT32, .is_unsigned = 1, .source_type = "smallint unsigned" }, "integer", "integer", "integer" },
        { { .type = ZT_INT32, .source_type = "integer" }, "integer", "integer", "integer" },
        { { .type = ZT_INT64, .is_unsigned = 1, .source_type = "int unsigned" }, "bigint", "bigint", "bigint" },
        { { .type = ZT_INT32, .is_unsigned = 1, .source_type = "mediumint unsigned" }, "integer", "integer", "integer" },
        { { .type = ZT_CHAR, .length = 4, .source_type = "bpchar" }, "varchar(4)", "bpchar", "varchar(16)" },
        { { .type = ZT_INT64, .source_type = "bigint" }, "bigint", "bigint", "bigint" },
        { { .type = ZT_UINT64, .source_type = "bigint unsigned" }, "numeric(20,0)", "numeric(20,0)", "numeric(20,0)" },
        { { .type = ZT_FLOAT32, .source_type = "real" }, "real", "real", "real" },
        { { .type = ZT_FLOAT64, .source_type = "double precision" }, "double precision", "double precision", "double precision" },
        { { .type = ZT_DECIMAL, .precision = 10, .scale = 2, .source_type = "numeric(10,2)" }, "numeric(10,2)", "numeric(10,2)", "numeric(10,2)" },
        { { .type = ZT_DECIMAL, .precision = 65, .scale = 30, .source_type = "decimal(65,30)" }, "numeric(65,30)", "decimal(65,30)", "varchar(65535)" },
        { { .type = ZT_DECIMAL, .source_type = "numeric" }, "numeric", "numeric", "varchar(65535)" },
        { { .type = ZT_CHAR, .length = 3, .source_type = "character(3)" }, "varchar(3)", "character(3)", "varchar(12)" },
        { { .type = ZT_VARCHAR, .length = 20, .source_type = "character varying(20)" }, "varchar(20)", "character varying(20)", "varchar(80)" },
        { { .type = ZT_VARCHAR, .length = -1, .source_type = "character varying" }, "text", "character varying", "varchar(65535)" },
        { { .type = ZT_TEXT, .source_type = "text" }, "text", "text", "varchar(65535)" },
        { { .type = ZT_BYTES, .length = -1, .source_type = "bytea" }, "bytea", "bytea", "varbyte(1024000)" },
        { { .type = ZT_BYTES, .length = 16, .source_type = "binary(16)" }, "bytea", "bytea", "varbyte(16)" },
        { { .type = ZT_DATE, .source_type = "date" }, "date", "date", "date" },
        { { .type = ZT_TIME, .scale = 3, .source_type = "time(3) without time zone" }, "interval", "time(3) without time zone", "time" },
        { { .type = ZT_TIMETZ, .source_type = "time with time zone" }, "time with time zone", "time with time zone", "timetz" },
        { { .type = ZT_TIMESTAMP, .scale = 6, .source_type = "timestamp(6) without time zone" }, "timestamp(6)", "timestamp(6) without time zone", "timestamp" },
        { { .type = ZT_TIMESTAMPTZ, .scale = 0, .source_type = "timestamp with time zone" }, "timestamptz(0)", "timestamp with time zone", "timestamptz" },
        { { .type = ZT_INTERVAL, .source_type = "interval" }, "interval", "interval", "varchar(64)" },
        { { .type = ZT_UUID, .source_type = "uuid" }, "uuid", "uuid", "char(36)" },
        { { .type = ZT_JSON, .source_type = "json" }, "jsonb", "json", "super" },
        { { .type = ZT_BIT, .length = 8, .source_type = "bit(8)" }, "bit(8)", "bit(8)", "varchar(8)" },
        { { .type = ZT_VARBIT, .length = 5, .source_type = "bit varying(5)" }, "bit varying(5)", "bit varying(5)", "varchar(5)" },
        { { .type = ZT_ENUM, .source_type = "public.mood" }, "text", "text", "varchar(1024)" },
        { { .type = ZT_SET, .source_type = "set('a','b')" }, "text", "text", "varchar(65535)" },
        { { .type = ZT_GEOMETRY, .source_type = "geometry" }, "bytea", "bytea", "varbyte(1024000)" },
        { { .type = ZT_INET, .source_type = "inet" }, "inet", "inet", "varchar(64)" },
        { { .type = ZT_CIDR, .source_type = "cidr" }, "cidr", "cidr", "varchar(64)" },
        { { .type = ZT_MACADDR, .source_type = "macaddr" }, "macaddr", "macaddr", "varchar(64)" },
        { { .type = ZT_YEAR, .source_type = "year" }, "smallint", "smallint", "smallint" },
        { { .type = ZT_OTHER, .source_type = "point" }, "text", "point", "varchar(65535)" },
        { { .type = ZT_OTHER, .source_type = "myschema.custom" }, "text", "text", "varchar(65535)" },
        { { .type = ZT_INT32, .is_array = 1, .source_type = "integer[]" }, "integer", "integer[]", "varchar(65535)" },
        { { .type = ZT_ENUM, .is_array = 1, .source_type = "public.mood[]" }, "text", "text[]", "varchar(65535)" },
        { { .type = ZT_INT32, .source_type = "public.posint" }, "integer", "integer", "integer" },
    };
    char buf[128], what[200];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const struct tm_case *k = &cases[i];
        const char *st = k->c.source_type;
        snprintf(what, sizeof what, "mysql→postgres %s (%s)", ztype_name(k->c.type), st);
        /* "MySQL" cases only make sense for MySQL types; arrays do not exist there. */
        if (!k->c.is_array) {
            target_map_type(TARGET_POSTGRES, MY, &k->c, buf, sizeof buf);
            CHECK_STR(buf, k->my_pg, what);
        }
        snprintf(what, sizeof what, "postgres→postgres %s (%s)", ztype_name(k->c.type), st);
        target_map_type(TARGET_POSTGRES, PG, &k->c, buf, sizeof buf);
        CHECK_STR(buf, k->pg_pg, what);
        snprintf(what, sizeof what, "→redshift %s (%s)", ztype_name(k->c.type), st);
        target_map_type(TARGET_REDSHIFT, PG, &k->c, buf, sizeof buf);
        CHECK_STR(buf, k->rs, what);
    }
    struct zcolumn mt = { .type = ZT_TIME, .scale = 6, .source_type = "time(6)" };
    target_map_type(TARGET_REDSHIFT, MY, &mt, buf, sizeof buf);
    CHECK_STR(buf, "varchar(32)", "MySQL TIME (beyond 24h) → redshift varchar");
    target_map_type(TARGET_POSTGRES, MY, &mt, buf, sizeof buf);
    CHECK_STR(buf, "interval", "MySQL TIME → interval (holds -838:59:59)");
    struct zcolumn dt = { .type = ZT_TIMESTAMP, .scale = 3, .source_type = "datetime(3)" };
    target_map_type(TARGET_POSTGRES, MY, &dt, buf, sizeof buf);
    CHECK_STR(buf, "timestamp(3)", "DATETIME(3) → timestamp(3)");
    char tiny[4];
    CHECK_INT(target_map_type(TARGET_POSTGRES, MY, &dt, tiny, sizeof tiny), -1,
              "a too-small buffer is an error, not a truncation");
}

/* ---- quoting ------------------------------------------------------------------------- */

static void test_quote_ident(void)
{
    char buf[64];
    target_quote_ident("plain", buf, sizeof buf);
    CHECK_STR(buf, "\"plain\"", "plain name quoted");
    target_quote_ident("MixedCase", buf, sizeof buf);
    CHECK_STR(buf, "\"MixedCase\"", "mixed case kept exactly");
    target_quote_ident("we\"ird\"\"", buf, sizeof buf);
    CHECK_STR(buf, "\"we\"\"ird\"\"\"\"\"", "embedded quotes doubled");
    target_quote_ident("ünïcødé ✓", buf, sizeof buf);
    CHECK_STR(buf, "\"ünïcødé ✓\"", "unicode passes through");
    target_quote_ident("a; DROP TABLE x; --", buf, sizeof buf);
    CHECK_STR(buf, "\"a; DROP TABLE x; --\"", "SQL in a name stays inside the quotes");
    CHECK_INT(target_quote_ident("toolong", buf, 6), -1, "too-small buffer refused");
    struct zbuf t = { 0 };
    tbuf_qname(&t, "My\"Schema", "Tab le");
    CHECK_STR(t.p, "\"My\"\"Schema\".\"Tab le\"", "qualified name quoted part by part");
    tbuf_free(&t);
}

/* ---- values and COPY ------------------------------------------------------------------- */

static void test_copy_escaping(void)
{
    struct zbuf t = { 0 };
    struct zcolumn txt = { .type = ZT_TEXT }, by = { .type = ZT_BYTES }, f32 = { .type = ZT_FLOAT32 },
                   f64 = { .type = ZT_FLOAT64 }, bo = { .type = ZT_BOOL }, u64 = { .type = ZT_UINT64 };
    struct zvalue v = S("a\tb\nc\rd\\e'f\"g");
    target_copy_field(&t, &txt, &v);
    CHECK_STR(t.p, "a\\tb\\nc\\rd\\\\e'f\"g", "tab, LF, CR and backslash escaped; quotes as is");
    t.len = 0;
    target_copy_field(&t, &txt, &N);
    CHECK_STR(t.p, "\\N", "NULL is \\N");
    t.len = 0;
    v = S("");
    target_copy_field(&t, &txt, &v);
    CHECK_STR(t.p, "", "empty string is empty, not NULL");
    t.len = 0;
    v = S("\\N");
    target_copy_field(&t, &txt, &v);
    CHECK_STR(t.p, "\\\\N", "the text \\N is not NULL");
    t.len = 0;
    v = B("\0\xff\n\\", 4);
    target_copy_field(&t, &by, &v);
    CHECK_STR(t.p, "\\\\x00ff0a5c", "bytea with NUL as \\\\x hex");
    t.len = 0;
    v = B("", 0);
    target_copy_field(&t, &by, &v);
    CHECK_STR(t.p, "\\\\x", "empty bytea");
    t.len = 0;
    v = S("héllo ✓");
    target_copy_field(&t, &txt, &v);
    CHECK_STR(t.p, "héllo ✓", "UTF-8 passes through");
    t.len = 0;
    struct zvalue f = { .kind = ZV_FLOAT };
    f.v.f = (double)0.1f;
    target_copy_field(&t, &f32, &f);
    CHECK_STR(t.p, "0.100000001", "float32 with 9 significant digits");
    t.len = 0;
    f.v.f = 0.1;
    target_copy_field(&t, &f64, &f);
    CHECK(strtod(t.p, NULL) == 0.1, "float64 round-trips");
    t.len = 0;
    f.v.f = -INFINITY;
    target_copy_field(&t, &f64, &f);
    CHECK_STR(t.p, "-Infinity", "-inf spelled for the server");
    t.len = 0;
    f.v.f = NAN;
    target_copy_field(&t, &f64, &f);
    CHECK_STR(t.p, "NaN", "NaN spelled for the server");
    t.len = 0;
    v = I(1);
    target_copy_field(&t, &bo, &v);
    CHECK_STR(t.p, "true", "bool from an integer");
    t.len = 0;
    struct zvalue u = { .kind = ZV_UINT };
    u.v.u = UINT64_MAX;
    target_copy_field(&t, &u64, &u);
    CHECK_STR(t.p, "18446744073709551615", "uint64 max");
    t.len = 0;
    v = I(INT64_MIN);
    target_copy_field(&t, &txt, &v);
    CHECK_STR(t.p, "-9223372036854775808", "int64 min");
    /* Integers are formatted by hand: every boundary and random values
     * against printf's own digits. */
    static const int64_t edges[] = {0, 1, -1, 9, 10, -10, 99, 100, 999999999, 1000000000, -1000000000,
                                    INT32_MAX, INT32_MIN, (int64_t)INT32_MAX + 1, INT64_MAX, INT64_MIN + 1};
    int ok = 1;
    char want[32];
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 2000 && ok; i++) {
        int64_t val;
        if (i < (int)(sizeof edges / sizeof edges[0])) {
            val = edges[i];
        } else {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            val = (int64_t)(x >> (x % 63));            /* every magnitude, both signs */
            if (x & 1) val = -val;
        }
        t.len = 0;
        v = I(val);
        target_copy_field(&t, &txt, &v);
        snprintf(want, sizeof want, "%" PRId64, val);
        if (strcmp(t.p, want) != 0) ok = 0;
        t.len = 0;
        u.v.u = x;
        target_copy_field(&t, &u64, &u);
        snprintf(want, sizeof want, "%" PRIu64, x);
        if (strcmp(t.p, want) != 0) ok = 0;
    }
    CHECK(ok, "2000 int64 and uint64 values (edges, random magnitudes) read as printf writes them");
    t.len = 0;
    v = B("\x01\xab", 2);
    target_value_text(&t, &by, &v, 0);
    CHECK_STR(t.p, "01ab", "bare hex for Redshift FROM_HEX");
    tbuf_free(&t);
}

/* ---- Redshift statements ----------------------------------------------------------------- */

struct capture {
    int n;
    char sql[16][512];
    int params[64];
    int max_params;
    int inserts, deletes, selects, updates;
    int64_t count_result;
};

static int cap_fn(void *ctx, const char *sql, int nparams, const char *const *values,
                  const int *lengths, int64_t *result)
{
    struct capture *c = ctx;
    (void)values; (void)lengths;
    if (c->n < 16) snprintf(c->sql[c->n], sizeof c->sql[0], "%s", sql);
    if (c->n < 64) c->params[c->n] = nparams;
    c->n++;
    if (nparams > c->max_params) c->max_params = nparams;
    if (!strncmp(sql, "INSERT", 6)) c->inserts++;
    if (!strncmp(sql, "DELETE", 6)) c->deletes++;
    if (!strncmp(sql, "UPDATE", 6)) c->updates++;
    if (!strncmp(sql, "SELECT", 6)) { c->selects++; *result = c->count_result; }
    else *result = 1;
    return 0;
}

static void test_redshift_sql(void)
{
    struct zbatch *b = zbatch_new();
    struct zvalue r1[] = { I(1), S("a"), N }, r2[] = { I(2), S("b"), S("x") }, k3[] = { I(3), N, N };
    add(b, ZOP_INSERT, &keyed, NULL, r1, 0);
    add(b, ZOP_INSERT, &keyed, NULL, r2, 0);
    add(b, ZOP_DELETE, &keyed, k3, NULL, 1);
    struct capture c = { 0 };
    char err[256] = "";
    CHECK_INT(target_redshift_table_sql(&b->tables[0], cap_fn, &c, err, sizeof err), 0, "statements built");
    CHECK_INT(c.n, 2, "one DELETE and one INSERT");
    CHECK_STR(c.sql[0], "DELETE FROM \"s\".\"T\" WHERE \"id\" IN ($1, $2, $3)", "DELETE by key list");
    CHECK_INT(c.params[0], 3, "DELETE has 3 parameters");
    CHECK_STR(c.sql[1], "INSERT INTO \"s\".\"T\" (\"id\", \"Name\", \"doc\") VALUES ($1, $2, NULL), ($3, $4, $5)",
              "multi-row INSERT, NULL inline");
    CHECK_INT(c.params[1], 5, "INSERT has 5 parameters");
    zbatch_reset(b);

    /* chunking: 20000 rows × 3 columns = 60000 params ⇒ INSERTs of ≤ 32000 */
    char (*txt)[16] = malloc(20000 * sizeof *txt);
    for (int i = 0; i < 20000; i++) {
        snprintf(txt[i], sizeof txt[i], "n%d", i);
        struct zvalue r[] = { I(i), S(txt[i]), S("d") };
        add(b, ZOP_INSERT, &keyed, NULL, r, 0);
    }
    memset(&c, 0, sizeof c);
    target_redshift_table_sql(&b->tables[0], cap_fn, &c, err, sizeof err);
    CHECK_INT(c.inserts, 2, "60000 parameters ⇒ 2 INSERT statements");
    CHECK_INT(c.deletes, 1, "20000 keys ⇒ 1 DELETE statement");
    CHECK(c.max_params <= TARGET_RS_MAX_PARAMS, "no statement over the parameter limit");
    CHECK_INT(c.params[1], 31998, "first INSERT takes 10666 rows (31998 params)");
    zbatch_reset(b);
    for (int i = 0; i < 40000; i++) {
        struct zvalue k[] = { I(i), N, N };
        add(b, ZOP_DELETE, &keyed, k, NULL, 1);
    }
    memset(&c, 0, sizeof c);
    target_redshift_table_sql(&b->tables[0], cap_fn, &c, err, sizeof err);
    CHECK_INT(c.deletes, 2, "40000 keys ⇒ 2 DELETE statements");
    CHECK_INT(c.params[0], 32000, "first DELETE takes 32000 keys");
    free(txt);
    zbatch_reset(b);

    /* composite key, truncate, partial update, JSON/bytes wrappers */
    static struct zcolumn ccols[] = {
        { .name = "a", .type = ZT_INT32, .pk_ord = 1 },
        { .name = "b", .type = ZT_BYTES, .pk_ord = 2 },
        { .name = "j", .type = ZT_JSON, .nullable = 1 },
    };
    static struct ztable comp = { .schema = "x", .name = "C", .ncols = 3, .cols = ccols, .npk = 2 };
    struct zvalue c1[] = { I(1), B("\x01", 1), S("{}") }, c2[] = { I(2), B("\x02", 1), U };
    add(b, ZOP_TRUNCATE, &comp, NULL, NULL, 0);
    add(b, ZOP_INSERT, &comp, NULL, c1, 0);
    add(b, ZOP_UPDATE, &comp, NULL, c2, 0);
    memset(&c, 0, sizeof c);
    target_redshift_table_sql(&b->tables[0], cap_fn, &c, err, sizeof err);
    CHECK_STR(c.sql[0], "DELETE FROM \"x\".\"C\"", "truncate as DELETE (TRUNCATE would commit)");
    CHECK_STR(c.sql[1], "DELETE FROM \"x\".\"C\" WHERE (\"a\" = $1 AND \"b\" = FROM_HEX($2))",
              "composite-key DELETE with FROM_HEX");
    CHECK_STR(c.sql[2], "INSERT INTO \"x\".\"C\" (\"a\", \"b\", \"j\") VALUES ($1, FROM_HEX($2), JSON_PARSE($3))",
              "INSERT wraps bytes and JSON");
    CHECK_INT(c.updates, 0, "a partial update with only key columns known sets nothing");
    zbatch_reset(b);

    struct zvalue p1[] = { I(5), S("n"), U };
    add(b, ZOP_UPDATE, &keyed, NULL, p1, 0);
    memset(&c, 0, sizeof c);
    target_redshift_table_sql(&b->tables[0], cap_fn, &c, err, sizeof err);
    CHECK_STR(c.sql[0], "UPDATE \"s\".\"T\" SET \"Name\" = $1 WHERE \"id\" = $2",
              "partial update sets only the known columns");
    zbatch_reset(b);

    struct zvalue m_old[] = { I(6), N, N }, m_new[] = { I(60), N, U };
    add(b, ZOP_UPDATE, &keyed, m_old, m_new, 1);
    memset(&c, 0, sizeof c);
    target_redshift_table_sql(&b->tables[0], cap_fn, &c, err, sizeof err);
    CHECK_STR(c.sql[0], "UPDATE \"s\".\"T\" SET \"id\" = $1, \"Name\" = NULL WHERE \"id\" = $2",
              "partial key change moves the row by its old key");
    zbatch_reset(b);

    /* keyless: count, delete, re-insert the survivors */
    struct zvalue x[] = { I(1), S("x") }, y[] = { I(2), N };
    add(b, ZOP_DELETE, &keyless, x, NULL, 0);
    add(b, ZOP_INSERT, &keyless, NULL, y, 0);
    memset(&c, 0, sizeof c);
    c.count_result = 3;
    target_redshift_table_sql(&b->tables[0], cap_fn, &c, err, sizeof err);
    CHECK_STR(c.sql[0], "SELECT count(*) FROM \"s\".\"L\" WHERE \"a\" = $1 AND \"b\" = $2", "keyless: count the matches");
    CHECK_STR(c.sql[1], "DELETE FROM \"s\".\"L\" WHERE \"a\" = $1 AND \"b\" = $2", "keyless: delete them");
    CHECK_STR(c.sql[2], "INSERT INTO \"s\".\"L\" (\"a\", \"b\") VALUES ($1, $2), ($3, $4), ($5, NULL)",
              "keyless: re-insert 2 survivors and the new row");
    zbatch_free(b);
}

static void test_create_table_sql(void)
{
    static struct zcolumn cols[] = {
        { .name = "Id", .type = ZT_UINT64, .pk_ord = 1, .source_type = "bigint unsigned" },
        { .name = "doc", .type = ZT_JSON, .nullable = 1, .source_type = "json" },
        { .name = "blob", .type = ZT_BYTES, .length = -1, .nullable = 1, .source_type = "blob" },
        { .name = "t\"q", .type = ZT_VARCHAR, .length = 10, .source_type = "varchar(10)" },
    };
    struct ztable src = { .schema = "App", .name = "Users", .ncols = 4, .cols = cols, .npk = 1 };
    struct zbuf t = { 0 };
    CHECK_INT(target_create_table_sql(TARGET_REDSHIFT, MY, &src, "App", "Users", &t), 0,
              "redshift DDL generated");
    CHECK_STR(t.p, "CREATE SCHEMA IF NOT EXISTS \"App\"; CREATE TABLE IF NOT EXISTS \"App\".\"Users\" ("
                   "\"Id\" numeric(20,0) NOT NULL, \"doc\" super, \"blob\" varbyte(1024000), "
                   "\"t\"\"q\" varchar(40) NOT NULL, PRIMARY KEY (\"Id\"))",
              "redshift DDL: SUPER, VARBYTE, byte-sized VARCHAR, quoted names");
    t.len = 0;
    target_create_table_sql(TARGET_POSTGRES, MY, &src, "crm", "users", &t);
    CHECK_STR(t.p, "CREATE SCHEMA IF NOT EXISTS \"crm\"; CREATE TABLE IF NOT EXISTS \"crm\".\"users\" ("
                   "\"Id\" numeric(20,0) NOT NULL, \"doc\" jsonb, \"blob\" bytea, "
                   "\"t\"\"q\" varchar(10) NOT NULL, PRIMARY KEY (\"Id\"))",
              "postgres DDL under the renamed target name");
    tbuf_free(&t);
}

/* STORED generated columns (ztable.gen): a PostgreSQL target computes them; Redshift
 * cannot, so they are left out (zetl check warns). */
static void test_create_table_generated(void)
{
    static struct zcolumn cols[] = {
        { .name = "id", .type = ZT_INT32, .pk_ord = 1, .source_type = "integer" },
        { .name = "qty", .type = ZT_INT32, .nullable = 1, .source_type = "integer" },
    };
    static struct zcolumn gen[] = {
        { .name = "Twice", .type = ZT_INT32, .nullable = 1, .source_type = "integer", .gen_expr = "(qty * 2)" },
    };
    struct ztable src = { .schema = "s", .name = "t", .ncols = 2, .cols = cols, .npk = 1, .ngen = 1, .gen = gen };
    struct zbuf t = { 0 };
    CHECK_INT(target_create_table_sql(TARGET_POSTGRES, PG, &src, "s", "t", &t), 0, "postgres DDL");
    CHECK_STR(t.p, "CREATE SCHEMA IF NOT EXISTS \"s\"; CREATE TABLE IF NOT EXISTS \"s\".\"t\" ("
                   "\"id\" integer NOT NULL, \"qty\" integer, "
                   "\"Twice\" integer GENERATED ALWAYS AS ((qty * 2)) STORED, PRIMARY KEY (\"id\"))",
              "postgres: the generated column is created as one, after the written columns");
    t.len = 0;
    CHECK_INT(target_create_table_sql(TARGET_REDSHIFT, PG, &src, "s", "t", &t), 0, "redshift DDL");
    CHECK(strstr(t.p, "Twice") == NULL, "redshift: the generated column is left out");
    tbuf_free(&t);
}

/* The modes' columns (ztable.soft_delete, ztable.history), in both dialects. */
static void test_create_table_modes(void)
{
    static struct zcolumn cols[] = {
        { .name = "id", .type = ZT_INT32, .pk_ord = 1, .source_type = "integer" },
        { .name = "v", .type = ZT_INT32, .nullable = 1, .source_type = "integer" },
    };
    struct ztable src = { .schema = "s", .name = "t", .ncols = 2, .cols = cols, .npk = 1, .soft_delete = 1 };
    struct zbuf t = { 0 };
    target_create_table_sql(TARGET_POSTGRES, PG, &src, "s", "t", &t);
    CHECK_STR(t.p, "CREATE SCHEMA IF NOT EXISTS \"s\"; CREATE TABLE IF NOT EXISTS \"s\".\"t\" ("
                   "\"id\" integer NOT NULL, \"v\" integer, \"_zetl_is_deleted\" boolean NOT NULL DEFAULT false, "
                   "\"_zetl_deleted_at\" timestamptz, PRIMARY KEY (\"id\"))",
              "soft delete: its two columns after the table's, the key kept");
    src.soft_delete = 0;
    src.history = 1;
    t.len = 0;
    target_create_table_sql(TARGET_POSTGRES, PG, &src, "s", "t", &t);
    CHECK_STR(t.p, "CREATE SCHEMA IF NOT EXISTS \"s\"; CREATE TABLE IF NOT EXISTS \"s\".\"t\" ("
                   "\"id\" integer NOT NULL, \"v\" integer, \"_record_is_active\" boolean NOT NULL DEFAULT true, "
                   "\"_record_create_time\" timestamptz NOT NULL DEFAULT now(), \"_record_delete_time\" timestamptz); "
                   "CREATE UNIQUE INDEX ON \"s\".\"t\" (\"id\") WHERE \"_record_is_active\"",
              "history (postgres): three columns, no primary key, one active version per key");
    t.len = 0;
    target_create_table_sql(TARGET_REDSHIFT, PG, &src, "s", "t", &t);
    CHECK(strstr(t.p, "\"_record_create_time\" timestamptz NOT NULL DEFAULT SYSDATE") && !strstr(t.p, "PRIMARY KEY") &&
          !strstr(t.p, "INDEX"), "history (redshift): SYSDATE, no primary key, no index");
    tbuf_free(&t);
}

/* A history table's changes stay apart per source transaction (a segment
 * each); a plain table's collapse across them. */
static void test_history_segments(void)
{
    static struct zcolumn cols[] = {
        { .name = "id", .type = ZT_INT32, .pk_ord = 1 },
        { .name = "v", .type = ZT_INT32, .nullable = 1 },
    };
    struct ztable h = { .schema = "s", .name = "h", .ncols = 2, .cols = cols, .npk = 1, .history = 1 };
    struct ztable p = { .schema = "s", .name = "p", .ncols = 2, .cols = cols, .npk = 1 };
    struct zbatch *b = zbatch_new();
    struct zvalue a[2] = { {.kind = ZV_INT, .v.i = 1}, {.kind = ZV_INT, .v.i = 10} };
    struct zvalue c[2] = { {.kind = ZV_INT, .v.i = 1}, {.kind = ZV_INT, .v.i = 11} };
    for (int txn = 0; txn < 3; txn++) {
        zbatch_set_time(b, 1000000 * (txn + 1));
        struct zrowchange ins = { .op = txn ? ZOP_UPDATE : ZOP_INSERT, .before = txn ? a : NULL, .after = txn ? c : a };
        ins.table = &h;
        CHECK_INT(zbatch_add(b, &ins, NULL, NULL), 0, "history: added");
        ins.table = &p;
        CHECK_INT(zbatch_add(b, &ins, NULL, NULL), 0, "plain: added");
        if (txn == 2) {                     /* a second change of the key in the same transaction */
            struct zrowchange up = { .op = ZOP_UPDATE, .table = &h, .before = c, .after = a };
            CHECK_INT(zbatch_add(b, &up, NULL, NULL), 0, "history: a second change in the transaction");
        }
    }
    CHECK_INT(b->ntables, 2, "two tables");
    CHECK_INT(b->tables[0].nsegs, 3, "history: a segment per source transaction");
    CHECK_INT(b->tables[0].segs[2].nrows, 1, "history: two changes of a key in one transaction, one row");
    CHECK(b->tables[0].segs[2].rows[0].at_us == 3000000 && b->tables[0].segs[0].rows[0].at_us == 1000000,
          "history: each row carries its transaction's time");
    CHECK_INT(b->tables[1].nsegs, 1, "plain: one segment, collapsed across transactions");
    /* An update with a value only the target has (unchanged TOAST) cannot
     * make a version: refused, so the table fails alone. */
    struct zvalue u[2] = { {.kind = ZV_INT, .v.i = 1}, {.kind = ZV_UNCHANGED} };
    struct zrowchange part = { .op = ZOP_UPDATE, .table = &h, .after = u };
    zbatch_set_time(b, 4000000);
    CHECK_INT(zbatch_add(b, &part, NULL, NULL), -1, "history: a partial update is refused");
    CHECK(b->refused && strstr(b->err, "REPLICA IDENTITY FULL"), "history: refused by its shape, with the fix");
    part.table = &p;
    CHECK_INT(zbatch_add(b, &part, NULL, NULL), 0, "plain: a partial update is taken");
    zbatch_free(b);
}

int main(void)
{
    TEST_RUN(test_create_table_modes);
    TEST_RUN(test_history_segments);
    TEST_RUN(test_collapse_upsert);
    TEST_RUN(test_create_table_generated);
    TEST_RUN(test_collapse_delete);
    TEST_RUN(test_collapse_pk_change);
    TEST_RUN(test_collapse_unchanged);
    TEST_RUN(test_fresh_inserts);
    TEST_RUN(test_collapse_truncate);
    TEST_RUN(test_collapse_keyless);
    TEST_RUN(test_batch_errors);
    TEST_RUN(test_typemap);
    TEST_RUN(test_quote_ident);
    TEST_RUN(test_copy_escaping);
    TEST_RUN(test_redshift_sql);
    TEST_RUN(test_create_table_sql);
    return test_exit();
}
