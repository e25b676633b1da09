/*
 * test_names.c — target names (runtime/target/names.h) and the runtime's use
 * of them (integ_add_table): long names shortened within the target's limit,
 * deterministic and distinct; the FIRST matching rename rule, as the config's
 * own lookup; column clashes found.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/integ/integ.h"
#include "runtime/target/names.h"
#include "test.h"

static void rep(char *buf, char c, size_t n)
{
    memset(buf, c, n);
    buf[n] = '\0';
}

static int is_hex8(const char *s)
{
    if (strlen(s) != 8) return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
    return 1;
}

static void test_fit_postgres(void)
{
    char a[200], b[200], out[200], out2[200];
    rep(a, 'x', 63);
    CHECK_INT(names_fit(TARGET_POSTGRES, a, out, sizeof out), 0, "63 bytes: kept");
    CHECK_STR(out, a, "63 bytes: byte for byte");

    rep(a, 'x', 64);
    rep(b, 'x', 64);
    b[63] = 'y';
    CHECK_INT(names_fit(TARGET_POSTGRES, a, out, sizeof out), 1, "64 bytes: shortened");
    CHECK_INT(strlen(out), 63, "64 bytes: exactly 63 after");
    CHECK(strncmp(out, a, 54) == 0 && out[54] == '_' && is_hex8(out + 55),
          "64 bytes: the first 54 bytes, _ and 8 hex digits");
    names_fit(TARGET_POSTGRES, b, out2, sizeof out2);
    CHECK(strcmp(out, out2) != 0, "two 64-byte names differing in the last byte: two target names");
    char again[200];
    names_fit(TARGET_POSTGRES, a, again, sizeof again);
    CHECK_STR(again, out, "deterministic");
    /* FNV-1a 32 of 64 'x': a fixed value, the same on every machine */
    char want[80];
    uint32_t h = 2166136261u;
    for (int i = 0; i < 64; i++) h = (h ^ 'x') * 16777619u;
    rep(want, 'x', 54);
    snprintf(want + 54, sizeof want - 54, "_%08x", h);
    CHECK_STR(out, want, "the suffix is FNV-1a 32 of the whole name");

    /* é is 2 bytes: 40 of them = 80 bytes; 54 bytes would be 27 chars exactly */
    char u[200] = "";
    strcat(u, "a");                 /* shift by one: byte 54 is inside a character */
    for (int i = 0; i < 40; i++) strcat(u, "\xc3\xa9");
    CHECK_INT(names_fit(TARGET_POSTGRES, u, out, sizeof out), 1, "UTF-8 name of 81 bytes: shortened");
    CHECK_INT(strlen(out), 62, "cut back to a character boundary: 53 bytes + 9");
    CHECK(out[53] == '_' && ((unsigned char)out[52] == 0xa9), "the cut ends on a whole character");

    CHECK_INT(names_fit(TARGET_POSTGRES, a, out, 60), -1, "a buffer too small: -1");

    names_fit(TARGET_POSTGRES, "customer_lifetime_value_by_acquisition_channel_and_region_2024q1", out, sizeof out);
    CHECK_STR(out, "customer_lifetime_value_by_acquisition_channel_and_reg_6122e643", "the README's example");
}

static void test_fit_other_kinds(void)
{
    char a[300], out[300];
    rep(a, 'r', 127);
    CHECK_INT(names_fit(TARGET_REDSHIFT, a, out, sizeof out), 0, "Redshift: 127 bytes kept");
    rep(a, 'r', 128);
    CHECK_INT(names_fit(TARGET_REDSHIFT, a, out, sizeof out), 1, "Redshift: 128 bytes shortened");
    CHECK_INT(strlen(out), 127, "Redshift: exactly 127 after");
    rep(a, 'h', 200);
    CHECK_INT(names_fit(TARGET_HTTP, a, out, sizeof out), 0, "http: no limit");
    CHECK_STR(out, a, "http: the name as is");
}

static struct config_integration *mk_config(struct config_rename *rn, int nrn)
{
    static struct config_integration ci;
    memset(&ci, 0, sizeof ci);
    ci.name = "t";
    ci.target.kind = TARGET_POSTGRES;
    ci.tables.rename = rn;
    ci.tables.nrename = nrn;
    return &ci;
}

static struct ztable *mk_table(const char *schema, const char *name, const char *c1, const char *c2)
{
    struct ztable *t = calloc(1, sizeof *t);
    t->schema = strdup(schema);
    t->name = strdup(name);
    t->ncols = c2 ? 2 : 1;
    t->cols = calloc(2, sizeof *t->cols);
    t->cols[0].name = strdup(c1);
    t->cols[0].type = ZT_INT32;
    t->cols[0].pk_ord = 1;
    if (c2) {
        t->cols[1].name = strdup(c2);
        t->cols[1].type = ZT_TEXT;
    }
    return t;
}

/* tables.c and config_rename_find agree: the FIRST rule whose from matches. */
static void test_rename_first_rule(void)
{
    struct config_rename rn[2] = {{"shop.orders", "crm.first"}, {"shop.orders", "crm.second"}};
    struct integ in = {.cfg = mk_config(rn, 2)};
    CHECK(integ_add_table(&in, mk_table("shop", "orders", "id", NULL), TSTATE_PENDING) == 0, "add the table");
    CHECK_STR(in.tables[0].tschema, "crm", "target schema from the first rule");
    CHECK_STR(in.tables[0].tname, "first", "target table from the first rule (config_rename_find's)");
    const struct config_rename *r = config_rename_find(&in.cfg->tables, "shop", "orders");
    CHECK_STR(r ? r->to : NULL, "crm.first", "config_rename_find: the first rule too");
    integ_free_tables(&in);
}

static void test_long_table_and_columns(void)
{
    char lt[80], lc[80], fit[80];
    rep(lt, 't', 64);
    rep(lc, 'c', 64);
    struct config_rename rn[1] = {{"shop.x", "crm.y"}};
    struct integ in = {.cfg = mk_config(rn, 1)};
    CHECK(integ_add_table(&in, mk_table("shop", lt, "id", lc), TSTATE_PENDING) == 0, "add a long table");
    names_fit(TARGET_POSTGRES, lt, fit, sizeof fit);
    CHECK_STR(in.tables[0].tname, fit, "a 64-byte table name: shortened to 63 bytes");
    CHECK_STR(in.tables[0].tschema, "shop", "no rule: the source schema");
    names_fit(TARGET_POSTGRES, lc, fit, sizeof fit);
    CHECK_STR(in.tables[0].tdef->cols[1].name, fit, "a 64-byte column: shortened in tdef");
    CHECK_STR(in.tables[0].def->cols[1].name, lc, "the source definition keeps the source name");
    CHECK_STR(in.tables[0].tdef->name, lt, "tdef keeps the source table name (messages, events)");
    integ_free_tables(&in);

    char s[100], t[200];
    rep(s, 's', 70);
    snprintf(t, sizeof t, "%s.short", s);
    char *ts = NULL, *tn = NULL;
    struct config_rename rn2[1] = {{"shop.x", t}};
    struct config_tables tb = {.rename = rn2, .nrename = 1};
    CHECK(names_table(&tb, TARGET_POSTGRES, "shop", "x", &ts, &tn) == 0, "rename to a long schema");
    names_fit(TARGET_POSTGRES, s, fit, sizeof fit);
    CHECK_STR(ts, fit, "a renamed-to schema over the limit: shortened too");
    CHECK_STR(tn, "short", "its table as the rule says");
    free(ts);
    free(tn);
}

static void test_column_clash(void)
{
    char lc[80], fit[80], why[1024];
    rep(lc, 'c', 64);
    names_fit(TARGET_POSTGRES, lc, fit, sizeof fit);
    /* a column literally named what the long one shortens to */
    struct ztable *src = mk_table("shop", "t", lc, fit);
    struct ztable *td = names_target_def(TARGET_POSTGRES, src);
    CHECK(td != NULL, "target definition");
    CHECK_INT(names_clash_columns(src, td, why, sizeof why), 1, "two columns, one target name: found");
    CHECK(strstr(why, lc) && strstr(why, "shop.t") && !strchr(why, '\n'),
          "the reason names both source columns and the table, on one line");
    ztable_free(td);
    ztable_free(src);

    char lc2[80];
    rep(lc2, 'c', 64);
    lc2[63] = 'd';
    src = mk_table("shop", "t", lc, lc2);
    td = names_target_def(TARGET_POSTGRES, src);
    CHECK_INT(names_clash_columns(src, td, why, sizeof why), 0,
              "two 64-byte columns differing in the last byte: no clash");
    ztable_free(td);
    ztable_free(src);
}

int main(void)
{
    TEST_RUN(test_fit_postgres);
    TEST_RUN(test_fit_other_kinds);
    TEST_RUN(test_rename_first_rule);
    TEST_RUN(test_long_table_and_columns);
    TEST_RUN(test_column_clash);
    return test_exit();
}
