/* test_change.c — positions and table definitions of the change model. */
#include <stdlib.h>

#include "runtime/pipe/change.h"
#include "tests/unit/test.h"

static void roundtrip(const char *text)
{
    struct zpos p;
    char err[256] = "", back[2048];
    int rc = zpos_parse(&p, text, err, sizeof err);
    CHECK_INT(rc, 0, text);
    CHECK_INT(zpos_format(&p, back, sizeof back), 0, "format fits");
    CHECK_STR(back, text, "position round-trips");
}

static void test_positions(void)
{
    roundtrip("binlog.000003:4567");
    roundtrip("mysql-bin.000001:4");
    roundtrip("binlog.000003:4567 gtid=0-1-42");
    roundtrip("binlog.000009:120 gtid=3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5,0-1-7");
    roundtrip("0/16B3748");
    roundtrip("1A/0");

    struct zpos p;
    char err[256];
    CHECK_INT(zpos_parse(&p, "binlog.000003:45x7", err, sizeof err), -1, "junk offset refused");
    CHECK_STR(err, "position \"binlog.000003:45x7\" is malformed (expected FILE:OFFSET, FILE:OFFSET gtid=SET, or an LSN like 0/16B3748)",
              "message names the position and the forms");
    CHECK_INT(zpos_parse(&p, ":12", err, sizeof err), -1, "empty file refused");
    CHECK_INT(zpos_parse(&p, "binlog.000003:", err, sizeof err), -1, "empty offset refused");
    CHECK_INT(zpos_parse(&p, "", err, sizeof err), 0, "empty is none");
    CHECK_INT(p.kind, ZPOS_NONE, "empty parses to ZPOS_NONE");

    struct zpos lsn = {.kind = ZPOS_LSN, .offset = 0x1600000000ULL | 0xB3748};
    char buf[64];
    zpos_format(&lsn, buf, sizeof buf);
    CHECK_STR(buf, "16/B3748", "LSN formats as hi/lo hex");
}

static void test_table_dup(void)
{
    struct zcolumn cols[2] = {
        {.name = "id", .type = ZT_INT64, .pk_ord = 1, .source_type = "bigint"},
        {.name = "Name", .type = ZT_VARCHAR, .length = 40, .nullable = 1, .source_type = "varchar(40)"},
    };
    struct zcolumn gen[1] = {
        {.name = "total", .type = ZT_DECIMAL, .nullable = 1, .source_type = "numeric", .gen_expr = "(price * qty)"},
    };
    struct ztable t = {.schema = "shop", .name = "Orders", .id = 77, .ncols = 2, .cols = cols, .npk = 1,
                       .ngen = 1, .gen = gen};
    struct ztable *d = ztable_dup(&t);
    CHECK(d != NULL, "dup allocates");
    if (!d) return;
    CHECK(d->cols != cols && d->cols[1].name != cols[1].name, "dup owns its strings");
    CHECK_STR(d->cols[1].name, "Name", "column name keeps its case");
    CHECK_INT(d->cols[1].length, 40, "length copied");
    CHECK_STR(d->cols[0].source_type, "bigint", "source type copied");
    CHECK_U64(d->id, 77, "id copied");
    CHECK(d->ngen == 1 && d->gen != gen && d->gen[0].gen_expr != gen[0].gen_expr, "dup owns its generated columns");
    CHECK_STR(d->gen[0].gen_expr, "(price * qty)", "generation expression copied");
    ztable_free(d);
    CHECK_STR(ztype_name(ZT_TIMESTAMPTZ), "timestamptz", "type names");
}

static void test_order(void)
{
    struct zpos a = {.kind = ZPOS_BINLOG, .file = "binlog.000009", .offset = 900};
    struct zpos b = {.kind = ZPOS_BINLOG, .file = "binlog.000010", .offset = 4};
    struct zpos c = {.kind = ZPOS_BINLOG, .file = "binlog.000010", .offset = 120};
    struct zpos d = {.kind = ZPOS_BINLOG, .file = "binlog.1000000", .offset = 4};
    struct zpos l1 = {.kind = ZPOS_LSN, .offset = 10}, l2 = {.kind = ZPOS_LSN, .offset = 11};
    CHECK_INT(zpos_before(&a, &b), 1, "earlier file is before");
    CHECK_INT(zpos_before(&b, &c), 1, "same file, smaller offset is before");
    CHECK_INT(zpos_before(&c, &b), 0, "later offset is not before");
    CHECK_INT(zpos_before(&c, &c), 0, "a position is not before itself");
    CHECK_INT(zpos_before(&c, &d), 1, "a longer sequence number is a later file");
    CHECK_INT(zpos_before(&l1, &l2), 1, "smaller LSN is before");
    CHECK_INT(zpos_before(&l1, &a), 0, "different kinds never compare");
}

int main(void)
{
    TEST_RUN(test_order);
    TEST_RUN(test_positions);
    TEST_RUN(test_table_dup);
    return test_exit();
}
