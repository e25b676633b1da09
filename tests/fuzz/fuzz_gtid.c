/*
 * fuzz_gtid.c — libFuzzer target for the GTID parsers: the text form, the
 * binary form of a MySQL GTID set, and the COM_BINLOG_DUMP_GTID payload.
 *
 * The first input byte picks what the rest is:
 *   0..85     GTID text (NUL-terminated copy) for gtid_state_parse; a parsed
 *             MySQL set must survive encode -> decode -> format unchanged;
 *   86..170   a binary GTID set for gtid_state_decode_sids; a decoded set
 *             must encode back to bytes that decode to the same text;
 *   171..255  a COM_BINLOG_DUMP_GTID payload for mysql_dump_gtid_parse, and
 *             its data for gtid_state_decode_sids.
 * A broken round trip aborts, so libFuzzer reports it as a crash.
 * Seeds: tests/fuzz/corpus/gtid/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/mysql/dump_gtid.h"
#include "runtime/mysql/gtid.h"

/* Encode g, decode the bytes, and compare the two text forms. */
static void round_trip(const struct gtid_state *g)
{
    uint8_t *out = NULL;
    size_t len = 0;
    char err[512], a[8192], b[8192];
    struct gtid_state d;
    if (gtid_state_encode_sids(g, &out, &len, err, sizeof err) != 0) return;
    gtid_state_init(&d);
    if (gtid_state_decode_sids(&d, out, len, err, sizeof err) != 0) abort();
    int fa = gtid_state_format(g, a, sizeof a), fb = gtid_state_format(&d, b, sizeof b);
    if (fa != fb || (fa == 0 && strcmp(a, b) != 0)) abort();
    gtid_state_free(&d);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gtid_state g;
    char err[512];
    if (size < 1) return 0;
    uint8_t pick = data[0];
    data++; size--;
    gtid_state_init(&g);
    if (pick <= 85) {
        char *text = malloc(size + 1);
        if (!text) return 0;
        memcpy(text, data, size);
        text[size] = 0;
        if (gtid_state_parse(&g, text, err, sizeof err) == 0 && g.kind == GTID_MYSQL) round_trip(&g);
        free(text);
    } else if (pick <= 170) {
        if (gtid_state_decode_sids(&g, data, size, err, sizeof err) == 0) round_trip(&g);
    } else {
        struct mysql_dump_gtid d;
        if (mysql_dump_gtid_parse(data, size, &d, err, sizeof err) == 0 &&
            gtid_state_decode_sids(&g, d.data, d.data_size, err, sizeof err) == 0)
            round_trip(&g);
    }
    gtid_state_free(&g);
    return 0;
}
