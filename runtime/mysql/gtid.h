/*
 * gtid.h — the GTID state a MySQL/MariaDB position carries.
 *
 * MariaDB: one "domain-server-seq" per replication domain, the last GTID
 * applied in it: "0-1-42,1-2-7" (sorted by domain). MySQL: a GTID set, per
 * server UUID the intervals of transaction numbers applied:
 * "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-42:50,…" (sorted by UUID).
 * A state holds one kind or the other, fixed by the first GTID seen (or the
 * text it was parsed from). Owned by its decoder; one thread.
 */
#ifndef ZETL_MYSQL_GTID_H
#define ZETL_MYSQL_GTID_H

#include <stddef.h>
#include <stdint.h>

enum { GTID_NONE = 0, GTID_MARIA, GTID_MYSQL };

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

#endif
