/*
 * test_base.c — runtime/base's shared helpers: the growable buffer and array
 * growth, the UTF-8 validator, the JSON string escaper in its three modes,
 * base64, ISO 8601 times, and the binlog CRC32 (zlib's) against the values
 * the hand-written table walk it replaced gave.
 *
 * The escaper's expected strings are byte for byte what the three escapers
 * it replaced wrote (status --json, the HTTP envelope, MySQL JSON columns)
 * for the same input, so their callers' output is unchanged.
 */
#include "tests/unit/test.h"

#include "runtime/base/b64.h"
#include "runtime/base/buf.h"
#include "runtime/base/clock.h"
#include "runtime/base/json.h"
#include "runtime/base/utf8.h"
#include "runtime/mysql/binlog.h"

#include <stdint.h>
#include <stdlib.h>

static void test_zbuf(void)
{
    struct zbuf b = { 0 };
    zbuf_put(&b, "", 0);
    CHECK(b.p != NULL && b.len == 0 && b.p[0] == '\0', "an empty put leaves an empty string");
    zbuf_puts(&b, "ab");
    zbuf_putc(&b, 'c');
    zbuf_put(&b, "d\0e", 3);
    CHECK_INT(b.len, 6, "length counts every byte put, NUL included");
    CHECK_MEM(b.p, b.len + 1, "abcd\0e", 7, "bytes in order, then a terminator");
    for (int i = 0; i < 10000; i++) zbuf_puts(&b, "0123456789");
    CHECK_INT(b.len, 100006, "grows past many doublings");
    CHECK(b.cap > b.len && b.p[b.len] == '\0', "still terminated");
    CHECK_STR(b.p + b.len - 10, "0123456789", "the last piece intact");
    b.len = 0;
    zbuf_puts(&b, "x");
    CHECK_STR(b.p, "x", "reused after len = 0");
    CHECK_INT(zbuf_reserve(&b, 1000), 0, "reserve within the room");
    CHECK(b.cap - b.len >= 1001, "reserve leaves room for the bytes and a terminator");
    b.oom = 1;
    zbuf_puts(&b, "more");
    CHECK_STR(b.p, "x", "out of memory is sticky: later puts do nothing");
    CHECK_INT(zbuf_reserve(&b, 1), -1, "and reserve fails");
    b.oom = 0;
    CHECK_INT(zbuf_reserve(&b, SIZE_MAX - 1), -1, "a size that overflows fails");
    CHECK_INT(b.oom, 1, "and sets oom");
    zbuf_free(&b);
    CHECK(b.p == NULL && b.len == 0 && b.cap == 0 && b.oom == 0, "free empties it");
}

static void test_zarray(void)
{
    int *v = NULL, *nv;
    size_t cap = 0;
    nv = zarray_grow(v, &cap, 1, sizeof *v);
    CHECK(nv != NULL && cap == 8, "first growth makes room for 8");
    v = nv;
    CHECK(zarray_grow(v, &cap, 8, sizeof *v) == v, "within capacity: the same array");
    v[7] = 42;
    v = zarray_grow(v, &cap, 9, sizeof *v);
    CHECK(v != NULL && cap == 16, "doubles");
    CHECK_INT(v[7], 42, "old elements kept");
    CHECK_INT(v[8] | v[15], 0, "new elements zeroed");
    v = zarray_grow(v, &cap, 100, sizeof *v);
    CHECK(v != NULL && cap == 128, "doubles until need fits");
    size_t c2 = cap;
    CHECK(zarray_grow(v, &c2, SIZE_MAX / 2, sizeof *v) == NULL, "a size that overflows fails");
    CHECK(c2 == cap, "and leaves cap as it was");
    free(v);
}

static void test_utf8(void)
{
    struct { const char *s; size_t n, want; const char *what; } c[] = {
        { "a", 1, 1, "ASCII" },
        { "\xc2\x80", 2, 2, "U+0080, the first 2-byte" },
        { "\xc1\xbf", 2, 0, "overlong 2-byte" },
        { "\xdf\xbf", 2, 2, "U+07FF" },
        { "\xe0\x9f\xbf", 3, 0, "overlong 3-byte" },
        { "\xe0\xa0\x80", 3, 3, "U+0800" },
        { "\xed\x9f\xbf", 3, 3, "U+D7FF" },
        { "\xed\xa0\x80", 3, 0, "surrogate U+D800" },
        { "\xed\xbf\xbf", 3, 0, "surrogate U+DFFF" },
        { "\xef\xbf\xbf", 3, 3, "U+FFFF" },
        { "\xf0\x8f\xbf\xbf", 4, 0, "overlong 4-byte" },
        { "\xf0\x90\x80\x80", 4, 4, "U+10000" },
        { "\xf4\x8f\xbf\xbf", 4, 4, "U+10FFFF" },
        { "\xf4\x90\x80\x80", 4, 0, "past U+10FFFF" },
        { "\xf5\x80\x80\x80", 4, 0, "lead byte 0xf5" },
        { "\x80", 1, 0, "a lone continuation byte" },
        { "\xe2\x82\xac", 2, 0, "cut short by n" },
        { "\xe2\x82" "a", 3, 0, "a non-continuation byte inside" },
        { "\xe2\x82", 3, 0, "the terminating NUL ends it" },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        CHECK_INT(zutf8_len((const unsigned char *)c[i].s, c[i].n), c[i].want, c[i].what);
}

/* Every class of byte the escapers treat differently. */
static const char mixed[] =
    "a\"b\\c\b\f\n\r\t\x01\x1f\x7f \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
    "bad:\xff\xc0\xaf\xed\xa0\x80\xe0\x80\x80\xf4\x90\x80\x80 cut:\xe2\x82";

#define FFFD13 "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"
#define RFFFD  "\xef\xbf\xbd"
#define RFFFD13 RFFFD RFFFD RFFFD RFFFD RFFFD RFFFD RFFFD RFFFD RFFFD RFFFD RFFFD RFFFD RFFFD
#define ESCAPED_HEAD "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\x7f \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 bad:"

static void test_json(void)
{
    struct zbuf b = { 0 };

    zjson_string(&b, mixed, sizeof mixed - 1, ZJSON_BYTES_FFFD);
    CHECK_STR(b.p, ESCAPED_HEAD RFFFD13 " cut:" RFFFD RFFFD "\"",
              "FFFD: as the HTTP envelope wrote it (bad bytes become U+FFFD)");

    b.len = 0;
    zjson_string(&b, mixed, sizeof mixed - 1, ZJSON_BYTES_ESCAPE);
    CHECK_STR(b.p, ESCAPED_HEAD FFFD13 " cut:\\ufffd\\ufffd\"",
              "ESCAPE: as status --json wrote it (bad bytes become \\ufffd)");

    b.len = 0;
    zjson_string(&b, mixed, sizeof mixed - 1, ZJSON_BYTES_KEEP);
    CHECK_STR(b.p, ESCAPED_HEAD "\xff\xc0\xaf\xed\xa0\x80\xe0\x80\x80\xf4\x90\x80\x80 cut:\xe2\x82\"",
              "KEEP: as MySQL JSON columns were rendered (bytes copied)");

    b.len = 0;
    zjson_escape(&b, "x\0y/", 4, ZJSON_BYTES_FFFD);
    CHECK_STR(b.p, "x\\u0000y/", "escape: no quotes; NUL as \\u0000; '/' as it is");

    b.len = 0;
    zjson_string(&b, "", 0, ZJSON_BYTES_ESCAPE);
    CHECK_STR(b.p, "\"\"", "the empty string");

    char *mem = NULL;
    size_t memlen = 0;
    FILE *f = open_memstream(&mem, &memlen);
    zjson_string_file(f, mixed, sizeof mixed - 1, ZJSON_BYTES_ESCAPE);
    fclose(f);
    b.len = 0;
    zjson_string(&b, mixed, sizeof mixed - 1, ZJSON_BYTES_ESCAPE);
    CHECK_MEM(mem, memlen, b.p, b.len, "to a FILE: the same bytes as to a buffer");
    free(mem);
    zbuf_free(&b);
}

static void test_b64(void)
{
    static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const want[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    struct zbuf b = { 0 };
    for (size_t i = 0; i < 7; i++) {
        b.len = 0;
        zbuf_put(&b, "", 0);
        zb64_encode(&b, in[i], strlen(in[i]));
        CHECK_STR(b.p, want[i], "RFC 4648 test vector");
    }
    unsigned char all[256];
    for (int i = 0; i < 256; i++) all[i] = (unsigned char)(i * 7 + 3);
    b.len = 0;
    zb64_encode(&b, all, sizeof all);
    CHECK_STR(b.p,
              "AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1dzj6vH4/wYNFBsiKTA3PkVMU1phaG92fYSLkpmgp661vMPK"
              "0djf5u30+wIJEBceJSwzOkFIT1ZdZGtyeYCHjpWco6qxuL/GzdTb4unw9/4FDBMaISgvNj1ES1JZYGdudXyDipGY"
              "n6attLvCydDX3uXs8/oBCA8WHSQrMjlAR05VXGNqcXh/ho2Um6KpsLe+xczT2uHo7/b9BAsSGSAnLjU8Q0pRWF9m"
              "bXR7gomQl56lrLO6wcjP1t3k6/L5AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tng5+71/A==",
              "256 bytes, every value once: as the envelope's encoder gave");
    zbuf_free(&b);
}

static void test_iso8601(void)
{
    char buf[ZCLOCK_ISO8601_LEN];
    CHECK_INT(zclock_iso8601(buf, sizeof buf, 1795255200000LL), 0, "a time");
    CHECK_STR(buf, "2026-11-21T10:00:00Z", "UTC, whole seconds");
    zclock_iso8601(buf, sizeof buf, 1795255200999LL);
    CHECK_STR(buf, "2026-11-21T10:00:00Z", "milliseconds dropped, not rounded");
    zclock_iso8601(buf, sizeof buf, 0);
    CHECK_STR(buf, "1970-01-01T00:00:00Z", "the epoch");
    zclock_iso8601(buf, sizeof buf, -1);
    CHECK_STR(buf, "1969-12-31T23:59:59Z", "before the epoch: floored");
    char small[8];
    CHECK_INT(zclock_iso8601(small, sizeof small, 0), -1, "a buffer too short fails");
    CHECK_STR(small, "", "and holds the empty string");
}

static void test_crc32(void)
{
    unsigned char big[1000];
    for (int i = 0; i < 1000; i++) big[i] = (unsigned char)(i * 7 + 3);
    /* Values from the hand-written slicing-by-8 walk this replaced. */
    CHECK_U64(binlog_crc32(0, "", 0), 0x00000000u, "nothing");
    CHECK_U64(binlog_crc32(0, "123456789", 9), 0xcbf43926u, "the check value");
    CHECK_U64(binlog_crc32(0, "The quick brown fox jumps over the lazy dog", 43), 0x414fa339u, "the fox");
    CHECK_U64(binlog_crc32(0, big, 7), 0x54491cdbu, "7 bytes (under one slice)");
    CHECK_U64(binlog_crc32(0, big, 1000), 0x17bc2a46u, "1000 bytes");
    CHECK_U64(binlog_crc32(binlog_crc32(0, big, 17), big + 17, 983), 0x17bc2a46u, "incremental");
}

int main(void)
{
    TEST_RUN(test_zbuf);
    TEST_RUN(test_zarray);
    TEST_RUN(test_utf8);
    TEST_RUN(test_json);
    TEST_RUN(test_b64);
    TEST_RUN(test_iso8601);
    TEST_RUN(test_crc32);
    return test_exit();
}
