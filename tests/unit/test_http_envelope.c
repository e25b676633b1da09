/*
 * test_http_envelope.c — the http target's wire format (runtime/target/envelope.h):
 * each op's envelope, every value rule (integers at 2^53, floats, DECIMAL,
 * JSON, bytes, dates and times, text escaping, invalid UTF-8, TOAST values),
 * the JSON validator/compactor on malformed input, and the redaction of
 * http URLs (config_redact).
 */
#include <math.h>
#include <stdlib.h>

#include "tests/unit/test.h"
#include "runtime/target/envelope.h"

static struct zvalue I(int64_t i) { struct zvalue v = { .kind = ZV_INT }; v.v.i = i; return v; }
static struct zvalue UI(uint64_t u) { struct zvalue v = { .kind = ZV_UINT }; v.v.u = u; return v; }
static struct zvalue F(double f) { struct zvalue v = { .kind = ZV_FLOAT }; v.v.f = f; return v; }
static struct zvalue S(const char *s) { struct zvalue v = { .kind = ZV_TEXT, .len = (uint32_t)strlen(s) }; v.v.p = s; return v; }
static struct zvalue B(const char *s, uint32_t n) { struct zvalue v = { .kind = ZV_BYTES, .len = n }; v.v.p = s; return v; }
static const struct zvalue N = { .kind = ZV_NULL }, U = { .kind = ZV_UNCHANGED };

static struct zcolumn cols[] = {
    { .name = "id", .type = ZT_INT64, .pk_ord = 1 },
    { .name = "name", .type = ZT_VARCHAR, .length = 20, .nullable = 1 },
    { .name = "doc", .type = ZT_TEXT, .nullable = 1 },
};
static struct ztable tbl = { .schema = "shop", .name = "orders", .ncols = 3, .cols = cols, .npk = 1 };

static const struct envelope_src SRC = {
    .connector = "mysql", .name = "shop", .pos = "binlog.000003:4567", .seq = 2,
    .txid = 0, .ts_ms = 1732183200000,
};

static char out_s[8192];

/* One event encoded, without its trailing newline, into out_s. */
static const char *enc(const struct envelope_src *src, enum zop op, const struct zvalue *before,
                       const struct zvalue *after, int key_only, const char *tschema, const char *tname)
{
    struct zbuf b = {0};
    struct zrowchange rc = { .op = op, .table = &tbl, .before = before, .after = after,
                             .before_key_only = (uint8_t)key_only };
    int rc_ = envelope_encode(&b, src, &rc, tschema, tname, 1732183200123);
    snprintf(out_s, sizeof out_s, "%s", rc_ == 0 && b.p ? b.p : "(error)");
    size_t n = strlen(out_s);
    if (n && out_s[n - 1] == '\n') out_s[n - 1] = '\0';
    else snprintf(out_s, sizeof out_s, "(no newline)");
    tbuf_free(&b);
    return out_s;
}

/* A value encoded alone. */
static char val_s[1024];
static const char *val(enum ztype type, struct zvalue v)
{
    struct zcolumn c = { .name = "c", .type = type };
    struct zbuf b = {0};
    envelope_value(&b, &c, &v);
    snprintf(val_s, sizeof val_s, "%s", b.p ? b.p : "");
    tbuf_free(&b);
    return val_s;
}

/* Does s parse as one JSON value (the compactor accepts it unchanged)? */
static int is_compact_json(const char *s)
{
    struct zbuf b = {0};
    int ok = envelope_json_compact(&b, s, strlen(s)) == 0 && b.p && strcmp(b.p, s) == 0;
    tbuf_free(&b);
    return ok;
}

static void test_ops(void)
{
    struct zvalue after[3] = { I(7), S("Zoë"), N };
    CHECK_STR(enc(&SRC, ZOP_INSERT, NULL, after, 0, NULL, NULL),
              "{\"op\":\"c\",\"before\":null,\"after\":{\"id\":7,\"name\":\"Zoë\",\"doc\":null},"
              "\"source\":{\"connector\":\"mysql\",\"name\":\"shop\",\"db\":\"shop\",\"schema\":\"shop\","
              "\"table\":\"orders\",\"pos\":\"binlog.000003:4567\",\"seq\":2,\"txid\":null,"
              "\"ts_ms\":1732183200000,\"snapshot\":false},\"target\":\"shop.orders\",\"ts_ms\":1732183200123}",
              "insert: op c, after image, source fields, target name");
    CHECK(is_compact_json(out_s), "insert: the event is valid compact JSON");

    struct envelope_src snap = { .connector = "postgresql", .name = "pg", .db = "appdb", .seq = 41,
                                 .snapshot = 1 };
    enc(&snap, ZOP_INSERT, NULL, after, 0, "crm", "orders_copy");
    CHECK(strstr(out_s, "{\"op\":\"r\",\"before\":null,") == out_s, "snapshot row: op r");
    CHECK(strstr(out_s, "\"db\":\"appdb\",\"schema\":\"shop\"") != NULL, "snapshot row: db from the source config");
    CHECK(strstr(out_s, "\"pos\":null,\"seq\":41,\"txid\":null,\"ts_ms\":null,\"snapshot\":true}") != NULL,
          "snapshot row: pos null, seq, snapshot true");
    CHECK(strstr(out_s, "\"target\":\"crm.orders_copy\"") != NULL, "snapshot row: renamed target");

    struct zvalue before[3] = { I(7), N, N };
    struct zvalue after2[3] = { I(7), S("Zed"), S("x") };
    struct envelope_src pg = SRC;
    pg.txid = 991;
    enc(&pg, ZOP_UPDATE, before, after2, 1, NULL, NULL);
    CHECK(strstr(out_s, "{\"op\":\"u\",\"before\":{\"id\":7},\"after\":{\"id\":7,\"name\":\"Zed\",\"doc\":\"x\"},") == out_s,
          "update: key-only before holds just the key");
    CHECK(strstr(out_s, "\"txid\":991,") != NULL, "update: txid as a number");

    struct zvalue fullb[3] = { I(7), S("Zoë"), N };
    enc(&SRC, ZOP_DELETE, fullb, NULL, 0, NULL, NULL);
    CHECK(strstr(out_s, "{\"op\":\"d\",\"before\":{\"id\":7,\"name\":\"Zoë\",\"doc\":null},\"after\":null,") == out_s,
          "delete: full before image, after null");

    enc(&SRC, ZOP_TRUNCATE, NULL, NULL, 0, NULL, NULL);
    CHECK(strstr(out_s, "{\"op\":\"t\",\"before\":null,\"after\":null,\"source\":") == out_s,
          "truncate: op t, no images");
    CHECK(is_compact_json(out_s), "truncate: valid JSON");
}

static void test_toast(void)
{
    struct zvalue fullb[3] = { I(1), S("a"), S("big old text") };
    struct zvalue after[3] = { I(1), S("b"), U };
    enc(&SRC, ZOP_UPDATE, fullb, after, 0, NULL, NULL);
    CHECK(strstr(out_s, "\"after\":{\"id\":1,\"name\":\"b\",\"doc\":\"big old text\"}") != NULL,
          "unchanged TOAST value filled from the full before image");
    struct zvalue keyb[3] = { I(1), N, N };
    enc(&SRC, ZOP_UPDATE, keyb, after, 1, NULL, NULL);
    CHECK(strstr(out_s, "\"after\":{\"id\":1,\"name\":\"b\"}") != NULL,
          "unchanged TOAST value without a full before image is left out");
    CHECK_STR(val(ZT_TEXT, U), "null", "envelope_value of ZV_UNCHANGED alone is null");
}

static void test_numbers(void)
{
    CHECK_STR(val(ZT_INT64, I(9007199254740992LL)), "9007199254740992", "int 2^53 is a number");
    CHECK_STR(val(ZT_INT64, I(9007199254740993LL)), "\"9007199254740993\"", "int 2^53+1 is a string");
    CHECK_STR(val(ZT_INT64, I(-9007199254740993LL)), "\"-9007199254740993\"", "int -(2^53+1) is a string");
    CHECK_STR(val(ZT_INT64, I(INT64_MIN)), "\"-9223372036854775808\"", "INT64_MIN is a string");
    CHECK_STR(val(ZT_INT32, I(-42)), "-42", "negative int");
    CHECK_STR(val(ZT_UINT64, UI(18446744073709551615ULL)), "\"18446744073709551615\"",
              "BIGINT UNSIGNED max is a string");
    CHECK_STR(val(ZT_UINT64, UI(12)), "12", "small BIGINT UNSIGNED is a number");
    CHECK_STR(val(ZT_BOOL, I(1)), "true", "bool from int 1");
    CHECK_STR(val(ZT_BOOL, S("f")), "false", "bool from PostgreSQL text f");
    CHECK_STR(val(ZT_BOOL, S("t")), "true", "bool from PostgreSQL text t");
    CHECK_STR(val(ZT_FLOAT64, F(0.1)), "0.1", "double 0.1 shortest");
    CHECK_STR(val(ZT_FLOAT64, F(1.0 / 3)), "0.3333333333333333", "double 1/3: shortest that round-trips");
    CHECK_STR(val(ZT_FLOAT32, F((float)0.1)), "0.1", "float32 0.1 shortest as a float");
    CHECK_STR(val(ZT_FLOAT64, F(1e300)), "1e+300", "double with exponent");
    CHECK_STR(val(ZT_FLOAT64, F(NAN)), "\"NaN\"", "NaN is a string");
    CHECK_STR(val(ZT_FLOAT64, F(-INFINITY)), "\"-Infinity\"", "-Infinity is a string");
    CHECK_STR(val(ZT_FLOAT64, S("1.5e-7")), "1.5e-7", "float text that is a JSON number");
    CHECK_STR(val(ZT_FLOAT32, S("Infinity")), "\"Infinity\"", "float text Infinity is a string");
    CHECK_STR(val(ZT_DECIMAL, S("-12.340")), "\"-12.340\"", "DECIMAL is an exact string");
    CHECK_STR(val(ZT_DECIMAL, I(5)), "\"5\"", "DECIMAL from an integer value is a string too");
    CHECK_STR(val(ZT_INT32, S("123")), "123", "integer text is a number");
    CHECK_STR(val(ZT_INT64, S("12345678901234567")), "\"12345678901234567\"", "long integer text is a string");
    CHECK_STR(val(ZT_YEAR, I(2024)), "2024", "YEAR is a number");
}

static void test_text_and_bytes(void)
{
    CHECK_STR(val(ZT_TEXT, S("a\"b\\c\nd\te\x01")), "\"a\\\"b\\\\c\\nd\\te\\u0001\"", "text escapes");
    CHECK_STR(val(ZT_TEXT, S("ok \xff\xfe end")), "\"ok \xef\xbf\xbd\xef\xbf\xbd end\"",
              "invalid UTF-8 bytes become U+FFFD");
    CHECK_STR(val(ZT_TEXT, S("\xe2\x82")), "\"\xef\xbf\xbd\xef\xbf\xbd\"", "truncated UTF-8 sequence");
    CHECK_STR(val(ZT_TEXT, S("\xed\xa0\x80")), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"",
              "UTF-16 surrogate encoded in UTF-8 is invalid");
    CHECK_STR(val(ZT_TEXT, S("日本 🚀")), "\"日本 🚀\"", "valid multi-byte UTF-8 passes");
    CHECK_STR(val(ZT_BYTES, B("foo", 3)), "\"Zm9v\"", "bytes base64, no padding");
    CHECK_STR(val(ZT_BYTES, B("fo", 2)), "\"Zm8=\"", "bytes base64, one pad");
    CHECK_STR(val(ZT_BYTES, B("f", 1)), "\"Zg==\"", "bytes base64, two pads");
    CHECK_STR(val(ZT_BYTES, B("\0\xff", 2)), "\"AP8=\"", "bytes base64 of NUL and 0xff");
    CHECK_STR(val(ZT_BYTES, B("", 0)), "\"\"", "empty bytes");
    CHECK_STR(val(ZT_GEOMETRY, B("\x01\x02\x03", 3)), "\"AQID\"", "GEOMETRY WKB as base64");
    CHECK_STR(val(ZT_TEXT, N), "null", "NULL is null");
    struct zcolumn arr = { .name = "a", .type = ZT_INT32, .is_array = 1 };
    struct zbuf b = {0};
    struct zvalue av = S("{1,2,3}");
    envelope_value(&b, &arr, &av);
    CHECK_STR(b.p, "\"{1,2,3}\"", "arrays as their text form");
    tbuf_free(&b);
}

static void test_json_columns(void)
{
    CHECK_STR(val(ZT_JSON, S("{\n  \"a\" : [1, 2.5e3, true, null],\n  \"b\": \"x y\\n\"\n}")),
              "{\"a\":[1,2.5e3,true,null],\"b\":\"x y\\n\"}", "JSON embedded compact");
    CHECK_STR(val(ZT_JSON, S("\"just a string\"")), "\"just a string\"", "JSON scalar string");
    CHECK_STR(val(ZT_JSON, S("42")), "42", "JSON scalar number");
    CHECK_STR(val(ZT_JSON, S("{\"a\":1} x")), "\"{\\\"a\\\":1} x\"", "trailing garbage: a string");
    CHECK_STR(val(ZT_JSON, S("{\"a\":01}")), "\"{\\\"a\\\":01}\"", "leading zero: a string");
    CHECK_STR(val(ZT_JSON, S("[1,]")), "\"[1,]\"", "trailing comma: a string");
    CHECK_STR(val(ZT_JSON, S("{\"a\"}")), "\"{\\\"a\\\"}\"", "member without value: a string");
    CHECK_STR(val(ZT_JSON, S("\"\\x\"")), "\"\\\"\\\\x\\\"\"", "bad escape: a string");
    CHECK_STR(val(ZT_JSON, S("\"\\u00e9\"")), "\"\\u00e9\"", "\\u escape kept");
    CHECK_STR(val(ZT_JSON, S("")), "\"\"", "empty text: a string");
    char deep[1200];
    memset(deep, '[', 600);
    memset(deep + 600, ']', 600);
    struct zvalue dv = { .kind = ZV_TEXT, .len = 1200 };
    dv.v.p = deep;
    struct zbuf b = {0};
    CHECK_INT(envelope_json_compact(&b, deep, 1200), -1, "nesting beyond 512 refused");
    CHECK_INT((int)b.len, 0, "a refused value leaves the buffer as it was");
    tbuf_free(&b);
    CHECK(val(ZT_JSON, dv)[0] == '"', "deep JSON column falls back to a string");
    CHECK_INT(envelope_json_compact(&b, "[[[1]]]", 7), 0, "shallow nesting accepted");
    tbuf_free(&b);
    const char trunc[] = "{\"a\":\"b";
    CHECK_INT(envelope_json_compact(&b, trunc, sizeof trunc - 1), -1, "truncated string refused");
    tbuf_free(&b);
}

static void test_datetimes(void)
{
    CHECK_STR(val(ZT_TIMESTAMPTZ, S("2024-02-29 10:00:00.5+00")), "\"2024-02-29T10:00:00.5Z\"",
              "timestamptz +00 → Z");
    CHECK_STR(val(ZT_TIMESTAMPTZ, S("2024-02-29 10:00:00+05:30")), "\"2024-02-29T10:00:00+05:30\"",
              "timestamptz +05:30 kept");
    CHECK_STR(val(ZT_TIMESTAMPTZ, S("2024-02-29 10:00:00-08")), "\"2024-02-29T10:00:00-08:00\"",
              "timestamptz -08 → -08:00");
    CHECK_STR(val(ZT_TIMESTAMPTZ, S("1850-01-01 00:00:00+00:19:32")), "\"1850-01-01 00:00:00+00:19:32\"",
              "offset with seconds: as the source spells it");
    CHECK_STR(val(ZT_TIMESTAMP, S("2024-02-29 10:00:00.123456")), "\"2024-02-29T10:00:00.123456\"",
              "timestamp without zone");
    CHECK_STR(val(ZT_TIMESTAMP, S("infinity")), "\"infinity\"", "infinity kept");
    CHECK_STR(val(ZT_TIMESTAMP, S("0044-03-15 12:00:00 BC")), "\"0044-03-15 12:00:00 BC\"", "BC kept");
    CHECK_STR(val(ZT_TIMESTAMP, S("12345-01-01 00:00:00")), "\"12345-01-01T00:00:00\"", "five-digit year");
    CHECK_STR(val(ZT_DATE, S("2024-02-29")), "\"2024-02-29\"", "date");
    CHECK_STR(val(ZT_TIME, S("23:59:59.5")), "\"23:59:59.5\"", "time");
    CHECK_STR(val(ZT_TIME, S("-838:59:59.000000")), "\"-838:59:59.000000\"", "MySQL TIME beyond 24 h kept");
    CHECK_STR(val(ZT_TIMETZ, S("10:00:00+02")), "\"10:00:00+02:00\"", "timetz +02 → +02:00");
}

static void test_redact_http(void)
{
    char buf[256];
    config_redact("https://events.example.com/in?token=s3cr3t&v=2#frag", buf, sizeof buf);
    CHECK_STR(buf, "https://events.example.com/in?token=***&v=***", "https: every query value hidden, fragment dropped");
    CHECK(strstr(buf, "s3cr3t") == NULL, "https: token not shown");
    config_redact("http://tok3n@127.0.0.1:8080/hook", buf, sizeof buf);
    CHECK_STR(buf, "http://***@127.0.0.1:8080/hook", "http: user info alone hidden too");
    config_redact("HTTPS://h/p#access_token=abc", buf, sizeof buf);
    CHECK_STR(buf, "HTTPS://h/p", "scheme case-insensitive; fragment dropped");
    config_redact("postgres://u@h/db?sslmode=require", buf, sizeof buf);
    CHECK_STR(buf, "postgres://u@h/db?sslmode=require", "postgres URIs unchanged");
}

int main(void)
{
    TEST_RUN(test_ops);
    TEST_RUN(test_toast);
    TEST_RUN(test_numbers);
    TEST_RUN(test_text_and_bytes);
    TEST_RUN(test_json_columns);
    TEST_RUN(test_datetimes);
    TEST_RUN(test_redact_http);
    return test_exit();
}
