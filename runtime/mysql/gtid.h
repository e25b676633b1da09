/*
 * gtid.h — the GTID state a MySQL/MariaDB position carries.
 *
 * MariaDB: one "domain-server-seq" per replication domain, the last GTID
 * applied in it: "0-1-42,1-2-7" (sorted by domain). MySQL: a GTID set, per
 * server UUID the intervals of transaction numbers applied:
 * "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-42:50,…" (sorted by UUID).
 * A state holds one kind or the other, fixed by the first GTID seen (or the
 * text it was parsed from). Owned by its decoder; one thread.
 *
 * MySQL transaction numbers run from 1 to GTID_MYSQL_GNO_MAX (2^63 - 2: MySQL
 * keeps INT64_MAX as the one-past-the-end sentinel GNO_END); the text parser
 * refuses anything outside, so an interval's exclusive end always fits int64.
 *
 * The binary form of a MySQL GTID set (Gtid_set::encode in MySQL; the same
 * bytes as a PREVIOUS_GTIDS event's body and COM_BINLOG_DUMP_GTID's data,
 * see dump_gtid.h), all integers little-endian:
 *
 *   n_sids        u64         SIDs that follow (only SIDs with intervals)
 *   per SID:
 *     sid         16 bytes    the server UUID, in text order
 *     n_intervals u64
 *     per interval:
 *       start     i64         first transaction number
 *       end       i64         one past the last one (EXCLUSIVE): "1-5" is [1,6)
 *
 * Only this untagged format ("Binary v0"); MySQL 8.4's tagged GTIDs (a format
 * marker in n_sids, a tag per SID) are refused with a message saying so.
 */
#ifndef ZETL_MYSQL_GTID_H
#define ZETL_MYSQL_GTID_H

#include <stddef.h>
#include <stdint.h>

enum { GTID_NONE = 0, GTID_MARIA, GTID_MYSQL };

#define GTID_MYSQL_GNO_MAX (INT64_MAX - 1)

struct gtid_maria { uint32_t domain, server; uint64_t seq; uint8_t seeded; };
struct gtid_iv { int64_t lo, hi; };
struct gtid_sid { uint8_t sid[16]; uint32_t n, cap; struct gtid_iv *iv; };

struct gtid_state {
    int kind;
    int bad;                    /* the initial text did not parse */
    struct gtid_maria *m; uint32_t nm, capm;
    struct gtid_sid *s;   uint32_t ns, caps;
};

void gtid_state_init(struct gtid_state *g);
void gtid_state_free(struct gtid_state *g);
/* Parse "0-1-42,1-2-7" or "uuid:1-5:7,uuid2:1-3". 0 ok; -1 with err. */
int  gtid_state_parse(struct gtid_state *g, const char *text, char *err, size_t errlen);
/* A MariaDB transaction committed. */
void gtid_state_maria_set(struct gtid_state *g, uint32_t domain, uint32_t server, uint64_t seq);
/* GTID_LIST at a file start: fills domains the state does not know yet. */
void gtid_state_maria_seed(struct gtid_state *g, uint32_t domain, uint32_t server, uint64_t seq);
/* A MySQL transaction committed. */
void gtid_state_mysql_add(struct gtid_state *g, const uint8_t sid[16], int64_t gno);
/* Text form; 0 ok, -1 when it does not fit (buf gets ""). */
int  gtid_state_format(const struct gtid_state *g, char *buf, size_t len);
/*
 * The binary form above of a MySQL set (or of an empty state: n_sids 0) into
 * *out (malloc'd, the caller frees) of *len bytes. 0 ok; -1 with err for a
 * MariaDB state or out of memory.
 */
int  gtid_state_encode_sids(const struct gtid_state *g, uint8_t **out, size_t *len,
                            char *err, size_t errlen);
/*
 * Parse the binary form (exactly len bytes, nothing may follow) into g as a
 * MySQL set. Bytes from the wire: every count is checked against the bytes
 * left before anything is allocated. 0 ok; -1 with err (g is then empty).
 */
int  gtid_state_decode_sids(struct gtid_state *g, const uint8_t *p, size_t len,
                            char *err, size_t errlen);

#endif
