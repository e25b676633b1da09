/* test_mysql_schema.c — DATA_TYPE → ztype mapping of runtime/mysql/schema (no server). */
#include "runtime/pipe/change.h"
#include "runtime/mysql/schema.h"
#include "tests/unit/test.h"

struct map_case { const char *dt, *cs; int uns; enum ztype want; };

static void test_type_mapping(void)
{
    static const struct map_case cases[] = {
        { "tinyint", NULL, 0, ZT_INT16 },   { "tinyint", NULL, 1, ZT_INT16 },
        { "smallint", NULL, 0, ZT_INT16 },  { "smallint", NULL, 1, ZT_INT32 },
        { "mediumint", NULL, 1, ZT_INT32 }, { "int", NULL, 0, ZT_INT32 },
        { "int", NULL, 1, ZT_INT64 },       { "bigint", NULL, 0, ZT_INT64 },
        { "bigint", NULL, 1, ZT_UINT64 },   { "decimal", NULL, 0, ZT_DECIMAL },
        { "float", NULL, 0, ZT_FLOAT32 },   { "double", NULL, 0, ZT_FLOAT64 },
        { "bit", NULL, 0, ZT_BIT },         { "year", NULL, 0, ZT_YEAR },
        { "date", NULL, 0, ZT_DATE },       { "time", NULL, 0, ZT_TIME },
        { "datetime", NULL, 0, ZT_TIMESTAMP }, { "timestamp", NULL, 0, ZT_TIMESTAMPTZ },
        { "char", "utf8mb4", 0, ZT_CHAR },  { "varchar", "latin1", 0, ZT_VARCHAR },
        { "char", "binary", 0, ZT_BYTES },  { "varchar", "binary", 0, ZT_BYTES },
        { "binary", NULL, 0, ZT_BYTES },    { "varbinary", NULL, 0, ZT_BYTES },
        { "tinyblob", NULL, 0, ZT_BYTES },  { "longblob", NULL, 0, ZT_BYTES },
        { "text", "utf8mb4", 0, ZT_TEXT },  { "longtext", "utf8mb4", 0, ZT_TEXT },
        { "enum", "utf8mb4", 0, ZT_ENUM },  { "set", "utf8mb4", 0, ZT_SET },
        { "json", NULL, 0, ZT_JSON },       { "geometry", NULL, 0, ZT_GEOMETRY },
        { "point", NULL, 0, ZT_GEOMETRY },  { "multipolygon", NULL, 0, ZT_GEOMETRY },
        { "geomcollection", NULL, 0, ZT_GEOMETRY }, { "inet6", NULL, 0, ZT_OTHER },
        { "VARCHAR", "utf8mb4", 0, ZT_VARCHAR },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[128];
        snprintf(what, sizeof what, "%s%s%s%s → %s", cases[i].dt, cases[i].uns ? " unsigned" : "",
                 cases[i].cs ? " charset " : "", cases[i].cs ? cases[i].cs : "", ztype_name(cases[i].want));
        CHECK_STR(ztype_name(mysql_schema_map_type(cases[i].dt, cases[i].cs, cases[i].uns)),
                  ztype_name(cases[i].want), what);
    }
}

int main(void)
{
    TEST_RUN(test_type_mapping);
    return test_exit();
}
