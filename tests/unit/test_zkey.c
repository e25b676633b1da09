/*
 * test_zkey.c — integer primary keys in key order (runtime/pipe/zkey.h), the
 * frontier a chunked resync decides by: which tables can be chunked, a key
 * from a row image, order (signed, unsigned past 2^63, composite), and the
 * text form zetl.copy_progress keeps, round trip and refusals.
 */
#include "tests/unit/test.h"

#include <stdint.h>
#include <string.h>

#include "runtime/pipe/zkey.h"

static struct zcolumn col(const char *name, enum ztype type, int pk_ord, int uns)
{
    struct zcolumn c;
    memset(&c, 0, sizeof c);
    c.name = (char *)name;
    c.type = type;
    c.pk_ord = (int16_t)pk_ord;
    c.is_unsigned = (uint8_t)uns;
    return c;
}

static void test_columns(void)
{
    int cols[ZKEY_MAX];
    struct zcolumn a[3] = { col("v", ZT_TEXT, 0, 0), col("b", ZT_INT32, 2, 0), col("a", ZT_INT64, 1, 0) };
    struct ztable t = { .schema = "s", .name = "t", .ncols = 3, .cols = a, .npk = 2 };
    CHECK_INT(zkey_columns(&t, cols), 2, "a composite integer key can be chunked");
    CHECK_INT(cols[0], 2, "key order, not column order: a first");
    CHECK_INT(cols[1], 1, "then b");
    a[1].type = ZT_VARCHAR;
    CHECK_INT(zkey_columns(&t, cols), 0, "a string key part: not chunked (collation order)");
    a[1].type = ZT_DECIMAL;
    CHECK_INT(zkey_columns(&t, cols), 0, "a decimal key part: not chunked");
    a[1].type = ZT_INT32;
    t.npk = 0;
    CHECK_INT(zkey_columns(&t, cols), 0, "no primary key: not chunked");
    t.npk = 3;
    CHECK_INT(zkey_columns(&t, cols), 0, "a key column missing from the definition: not chunked");
}

/* No primary key: the unique key of NOT NULL integers the catalog chose (nuk). */
static void test_unique_key(void)
{
    int cols[ZKEY_MAX];
    struct zcolumn a[3] = { col("v", ZT_TEXT, 0, 0), col("u2", ZT_INT32, 0, 0), col("u1", ZT_UINT64, 0, 1) };
    a[1].uk_ord = 2;
    a[2].uk_ord = 1;
    struct ztable t = { .schema = "s", .name = "t", .ncols = 3, .cols = a, .npk = 0, .nuk = 2 };
    CHECK_INT(zkey_columns(&t, cols), 2, "no primary key: the unique key orders the chunks");
    CHECK_INT(cols[0], 2, "in the unique key's order: u1 first");
    CHECK_INT(cols[1], 1, "then u2");
    a[1].nullable = 1;
    CHECK_INT(zkey_columns(&t, cols), 0, "a nullable unique key column: not a key (NULLs repeat)");
    a[1].nullable = 0;
    a[0].pk_ord = 1;
    t.npk = 1;
    CHECK_INT(zkey_columns(&t, cols), 0, "a primary key comes first, even a text one: not chunked by the unique key");
    a[0].pk_ord = 0;
    t.npk = 0;
    t.nuk = 3;
    CHECK_INT(zkey_columns(&t, cols), 0, "a unique key column left out (exclude_columns): not chunked");
    t.nuk = 0;
    CHECK_INT(zkey_columns(&t, cols), 0, "no key at all: not chunked");
}

static void test_order(void)
{
    struct zcolumn a[2] = { col("id", ZT_UINT64, 1, 1), col("v", ZT_INT32, 0, 0) };
    struct ztable t = { .schema = "s", .name = "u", .ncols = 2, .cols = a, .npk = 1 };
    int cols[ZKEY_MAX];
    CHECK_INT(zkey_columns(&t, cols), 1, "bigint unsigned key");
    struct zvalue lo[2] = { { .kind = ZV_UINT, .v.u = 5 }, { 0 } };
    struct zvalue hi[2] = { { .kind = ZV_UINT, .v.u = UINT64_C(18446744073709551000) }, { 0 } };
    struct zvalue small_int[2] = { { .kind = ZV_INT, .v.i = 7 }, { 0 } };
    struct zkey kl, kh, ks;
    CHECK_INT(zkey_of(&t, cols, 1, lo, &kl), 0, "key of a row");
    CHECK_INT(zkey_of(&t, cols, 1, hi, &kh), 0, "key past 2^63");
    CHECK_INT(zkey_of(&t, cols, 1, small_int, &ks), 0, "an unsigned column's value carried as ZV_INT");
    CHECK(zkey_cmp(&kl, &kh) < 0, "5 < 18446744073709551000 (unsigned order, not signed)");
    CHECK(zkey_cmp(&ks, &kl) > 0 && zkey_cmp(&ks, &kh) < 0, "7 between them");
    CHECK_INT(zkey_cmp(&kh, &kh), 0, "equal");
    struct zvalue null_key[2] = { { .kind = ZV_NULL }, { 0 } };
    CHECK_INT(zkey_of(&t, cols, 1, null_key, &ks), -1, "a NULL key value is refused");
    struct zvalue neg[2] = { { .kind = ZV_INT, .v.i = -1 }, { 0 } };
    CHECK_INT(zkey_of(&t, cols, 1, neg, &ks), -1, "a negative value for an unsigned column is refused");

    struct zcolumn c[2] = { col("a", ZT_INT32, 1, 0), col("b", ZT_INT64, 2, 0) };
    struct ztable p = { .schema = "s", .name = "p", .ncols = 2, .cols = c, .npk = 2 };
    CHECK_INT(zkey_columns(&p, cols), 2, "composite");
    struct zvalue r1[2] = { { .kind = ZV_INT, .v.i = -3 }, { .kind = ZV_INT, .v.i = 100 } };
    struct zvalue r2[2] = { { .kind = ZV_INT, .v.i = -3 }, { .kind = ZV_INT, .v.i = 101 } };
    struct zvalue r3[2] = { { .kind = ZV_INT, .v.i = 2 }, { .kind = ZV_INT, .v.i = -50 } };
    struct zkey k1, k2, k3;
    zkey_of(&p, cols, 2, r1, &k1);
    zkey_of(&p, cols, 2, r2, &k2);
    zkey_of(&p, cols, 2, r3, &k3);
    CHECK(zkey_cmp(&k1, &k2) < 0, "(-3,100) < (-3,101): the second column decides on a tie");
    CHECK(zkey_cmp(&k2, &k3) < 0, "(-3,101) < (2,-50): the first column decides first");
    struct zkey none = { 0 };
    CHECK(zkey_cmp(&none, &k1) < 0, "the empty key sorts before every key");
}

static void test_text(void)
{
    struct zcolumn c[2] = { col("a", ZT_INT32, 1, 0), col("b", ZT_UINT64, 2, 1) };
    struct ztable p = { .schema = "s", .name = "p", .ncols = 2, .cols = c, .npk = 2 };
    int cols[ZKEY_MAX];
    zkey_columns(&p, cols);
    struct zvalue r[2] = { { .kind = ZV_INT, .v.i = INT64_MIN }, { .kind = ZV_UINT, .v.u = UINT64_MAX } };
    struct zkey k, back;
    zkey_of(&p, cols, 2, r, &k);
    char buf[ZKEY_TEXT_MAX];
    CHECK_INT(zkey_format(&k, buf, sizeof buf), 0, "format");
    CHECK_STR(buf, "-9223372036854775808,18446744073709551615", "text form: decimal, comma-separated");
    CHECK_INT(zkey_parse(buf, &p, cols, 2, &back), 0, "parse it back");
    CHECK_INT(zkey_cmp(&k, &back), 0, "round trip");
    char tiny[8];
    CHECK_INT(zkey_format(&k, tiny, sizeof tiny), -1, "a buffer too small is refused");
    CHECK_INT(zkey_parse("1", &p, cols, 2, &back), -1, "too few values");
    CHECK_INT(zkey_parse("1,2,3", &p, cols, 2, &back), -1, "too many values");
    CHECK_INT(zkey_parse("1,-2", &p, cols, 2, &back), -1, "negative for the unsigned column");
    CHECK_INT(zkey_parse("1,x", &p, cols, 2, &back), -1, "not a number");
    CHECK_INT(zkey_parse("99999999999999999999,1", &p, cols, 2, &back), -1, "out of range");
    CHECK_INT(zkey_parse("", &p, cols, 2, &back), -1, "empty");
}

int main(void)
{
    TEST_RUN(test_columns);
    TEST_RUN(test_unique_key);
    TEST_RUN(test_order);
    TEST_RUN(test_text);
    return test_exit();
}
