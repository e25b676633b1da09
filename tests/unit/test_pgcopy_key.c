/*
 * test_pgcopy_key.c — the key of a chunk's last row read from the COPY data
 * itself (runtime/pg/pgcopy.h, pgcopy_tuple_key): text rows, binary tuples
 * with and without the file header, the binary trailer, composite keys in key
 * order, every integer width and sign, oid as unsigned, and refusals (NULL
 * key, wrong field count, truncated data).
 */
#include "tests/unit/test.h"

#include <stdint.h>
#include <string.h>

#include "runtime/pg/pgcopy.h"
#include "runtime/pipe/zkey.h"

static struct zcolumn col(const char *name, enum ztype type, int pk_ord, const char *source_type)
{
    struct zcolumn c;
    memset(&c, 0, sizeof c);
    c.name = (char *)name;
    c.type = type;
    c.pk_ord = (int16_t)pk_ord;
    c.source_type = (char *)source_type;
    return c;
}

/* A binary tuple builder: field count, then each field. */
struct bin { unsigned char b[256]; size_t n; };
static void put16(struct bin *x, int v) { x->b[x->n++] = (unsigned char)(v >> 8); x->b[x->n++] = (unsigned char)v; }
static void put32(struct bin *x, uint32_t v)
{
    for (int s = 24; s >= 0; s -= 8) x->b[x->n++] = (unsigned char)(v >> s);
}
static void put64(struct bin *x, uint64_t v) { put32(x, (uint32_t)(v >> 32)); put32(x, (uint32_t)v); }
static void header(struct bin *x)
{
    memcpy(x->b, "PGCOPY\n\377\r\n", 11);
    x->n = 11;
    put32(x, 0);                        /* flags */
    put32(x, 0);                        /* header extension length */
}

static void test_text(void)
{
    struct zcolumn c[3] = { col("v", ZT_TEXT, 0, "text"), col("b", ZT_INT32, 2, "integer"),
                            col("a", ZT_INT64, 1, "bigint") };
    struct ztable t = { .schema = "s", .name = "t", .ncols = 3, .cols = c, .npk = 2 };
    int cols[ZKEY_MAX];
    CHECK_INT(zkey_columns(&t, cols), 2, "composite key (a, b)");
    struct zkey k;
    char fmt[ZKEY_TEXT_MAX];
    const char *row = "hello\\tworld\t-7\t9000000000\n";
    CHECK_INT(pgcopy_tuple_key(&t, cols, 2, 0, row, strlen(row), &k), 1, "a text row's key");
    zkey_format(&k, fmt, sizeof fmt);
    CHECK_STR(fmt, "9000000000,-7", "in key order, not column order; an escaped tab is not a field end");
    const char *null_key = "x\t\\N\t5\n";
    CHECK_INT(pgcopy_tuple_key(&t, cols, 2, 0, null_key, strlen(null_key), &k), -1, "a NULL key is refused");
    const char *short_row = "x\t5\n";
    CHECK_INT(pgcopy_tuple_key(&t, cols, 2, 0, short_row, strlen(short_row), &k), -1, "too few fields");
    const char *not_int = "x\t5\tabc\n";
    CHECK_INT(pgcopy_tuple_key(&t, cols, 2, 0, not_int, strlen(not_int), &k), -1, "not an integer");
}

static void test_binary(void)
{
    struct zcolumn c[4] = { col("id", ZT_INT16, 2, "smallint"), col("v", ZT_TEXT, 0, "text"),
                            col("o", ZT_INT64, 1, "oid"), col("w", ZT_INT32, 3, "integer") };
    struct ztable t = { .schema = "s", .name = "t", .ncols = 4, .cols = c, .npk = 3 };
    int cols[ZKEY_MAX];
    CHECK_INT(zkey_columns(&t, cols), 3, "key (o, id, w)");
    struct zkey k;
    char fmt[ZKEY_TEXT_MAX];
    struct bin x = {0};
    put16(&x, 4);
    put32(&x, 2); put16(&x, -3);                          /* id smallint -3 */
    put32(&x, 3); memcpy(x.b + x.n, "abc", 3); x.n += 3;  /* v */
    put32(&x, 4); put32(&x, 4000000000u);                 /* o oid: unsigned */
    put32(&x, 4); put32(&x, (uint32_t)-2147483647 - 1);  /* w integer minimum */
    CHECK_INT(pgcopy_tuple_key(&t, cols, 3, 1, (const char *)x.b, x.n, &k), 1, "a binary tuple's key");
    zkey_format(&k, fmt, sizeof fmt);
    CHECK_STR(fmt, "4000000000,-3,-2147483648", "oid unsigned, smallint and integer signed, key order");

    struct bin h = {0};
    header(&h);
    memcpy(h.b + h.n, x.b, x.n);
    h.n += x.n;
    CHECK_INT(pgcopy_tuple_key(&t, cols, 3, 1, (const char *)h.b, h.n, &k), 1,
              "the first message: the file header, then the tuple");
    zkey_format(&k, fmt, sizeof fmt);
    CHECK_STR(fmt, "4000000000,-3,-2147483648", "the same key after the header");

    struct bin tr = {0};
    put16(&tr, -1);
    CHECK_INT(pgcopy_tuple_key(&t, cols, 3, 1, (const char *)tr.b, tr.n, &k), 0, "the trailer is no tuple");
    CHECK_INT(pgcopy_tuple_key(&t, cols, 3, 1, (const char *)x.b, x.n - 1, &k), -1, "a truncated tuple");

    struct bin nul = {0};
    put16(&nul, 4);
    put32(&nul, 2); put16(&nul, 1);
    put32(&nul, UINT32_MAX);                              /* v NULL: fine */
    put32(&nul, UINT32_MAX);                              /* o NULL: a key */
    put32(&nul, 4); put32(&nul, 1);
    CHECK_INT(pgcopy_tuple_key(&t, cols, 3, 1, (const char *)nul.b, nul.n, &k), -1, "a NULL key value");

    struct zcolumn c8[1] = { col("id", ZT_INT64, 1, "bigint") };
    struct ztable t8 = { .schema = "s", .name = "b", .ncols = 1, .cols = c8, .npk = 1 };
    CHECK_INT(zkey_columns(&t8, cols), 1, "bigint key");
    struct bin b8 = {0};
    put16(&b8, 1);
    put32(&b8, 8); put64(&b8, (uint64_t)INT64_MIN);
    CHECK_INT(pgcopy_tuple_key(&t8, cols, 1, 1, (const char *)b8.b, b8.n, &k), 1, "bigint");
    zkey_format(&k, fmt, sizeof fmt);
    CHECK_STR(fmt, "-9223372036854775808", "the bigint minimum");
    struct bin two = {0};
    put16(&two, 2);
    put32(&two, 8); put64(&two, 1);
    put32(&two, 8); put64(&two, 2);
    CHECK_INT(pgcopy_tuple_key(&t8, cols, 1, 1, (const char *)two.b, two.n, &k), -1,
              "a tuple with another field count than the table");
}

int main(void)
{
    TEST_RUN(test_text);
    TEST_RUN(test_binary);
    return test_exit();
}
