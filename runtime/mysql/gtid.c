/* gtid.c — MariaDB GTID positions and MySQL GTID sets (see gtid.h). */
#include "runtime/mysql/gtid.h"
#include "runtime/mysql/binlog.h"
#include "runtime/base/rd.h"
#include "runtime/base/wr.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gtid_state_init(struct gtid_state *g) { memset(g, 0, sizeof *g); }

void gtid_state_free(struct gtid_state *g)
{
    for (uint32_t i = 0; i < g->ns; i++) free(g->s[i].iv);
    free(g->s);
    free(g->m);
    memset(g, 0, sizeof *g);
}

static struct gtid_maria *maria_slot(struct gtid_state *g, uint32_t domain, int create)
{
    uint32_t i = 0;
    while (i < g->nm && g->m[i].domain < domain) i++;
    if (i < g->nm && g->m[i].domain == domain) return &g->m[i];
    if (!create) return NULL;
    if (g->nm == g->capm) {
        uint32_t nc = g->capm ? g->capm * 2 : 4;
        struct gtid_maria *n = realloc(g->m, nc * sizeof *n);
        if (!n) return NULL;
        g->m = n; g->capm = nc;
    }
    memmove(&g->m[i + 1], &g->m[i], (g->nm - i) * sizeof *g->m);
    g->nm++;
    memset(&g->m[i], 0, sizeof g->m[i]);
    g->m[i].domain = domain;
    return &g->m[i];
}

void gtid_state_maria_set(struct gtid_state *g, uint32_t domain, uint32_t server, uint64_t seq)
{
    if (g->kind == GTID_MYSQL) return;
    g->kind = GTID_MARIA;
    struct gtid_maria *m = maria_slot(g, domain, 1);
    if (!m) return;
    m->server = server; m->seq = seq; m->seeded = 0;
}

void gtid_state_maria_seed(struct gtid_state *g, uint32_t domain, uint32_t server, uint64_t seq)
{
    if (g->kind == GTID_MYSQL) return;
    struct gtid_maria *m = maria_slot(g, domain, 0);
    if (m && !m->seeded) return;            /* known from a commit or the given state */
    if (!m && !(m = maria_slot(g, domain, 1))) return;
    g->kind = GTID_MARIA;
    if (m->seeded && m->seq >= seq) return;
    m->server = server; m->seq = seq; m->seeded = 1;
}

static struct gtid_sid *sid_slot(struct gtid_state *g, const uint8_t sid[16])
{
    uint32_t i = 0;
    while (i < g->ns && memcmp(g->s[i].sid, sid, 16) < 0) i++;
    if (i < g->ns && memcmp(g->s[i].sid, sid, 16) == 0) return &g->s[i];
    if (g->ns == g->caps) {
        uint32_t nc = g->caps ? g->caps * 2 : 4;
        struct gtid_sid *n = realloc(g->s, nc * sizeof *n);
        if (!n) return NULL;
        g->s = n; g->caps = nc;
    }
    memmove(&g->s[i + 1], &g->s[i], (g->ns - i) * sizeof *g->s);
    g->ns++;
    memset(&g->s[i], 0, sizeof g->s[i]);
    memcpy(g->s[i].sid, sid, 16);
    return &g->s[i];
}

static void add_interval(struct gtid_sid *s, int64_t lo, int64_t hi)
{
    uint32_t i = 0;
    while (i < s->n && s->iv[i].hi + 1 < lo) i++;
    if (i < s->n && s->iv[i].lo <= hi + 1) {            /* overlaps or touches: merge */
        if (lo < s->iv[i].lo) s->iv[i].lo = lo;
        if (hi > s->iv[i].hi) s->iv[i].hi = hi;
        while (i + 1 < s->n && s->iv[i + 1].lo <= s->iv[i].hi + 1) {
            if (s->iv[i + 1].hi > s->iv[i].hi) s->iv[i].hi = s->iv[i + 1].hi;
            memmove(&s->iv[i + 1], &s->iv[i + 2], (s->n - i - 2) * sizeof *s->iv);
            s->n--;
        }
        return;
    }
    if (s->n == s->cap) {
        uint32_t nc = s->cap ? s->cap * 2 : 2;
        struct gtid_iv *n = realloc(s->iv, nc * sizeof *n);
        if (!n) return;
        s->iv = n; s->cap = nc;
    }
    memmove(&s->iv[i + 1], &s->iv[i], (s->n - i) * sizeof *s->iv);
    s->iv[i].lo = lo; s->iv[i].hi = hi;
    s->n++;
}

void gtid_state_mysql_add(struct gtid_state *g, const uint8_t sid[16], int64_t gno)
{
    if (g->kind == GTID_MARIA || gno <= 0) return;
    g->kind = GTID_MYSQL;
    struct gtid_sid *s = sid_slot(g, sid);
    if (s) add_interval(s, gno, gno);
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/*
 * A MySQL transaction number: 1..GTID_MYSQL_GNO_MAX, digits only. 0 ok;
 * otherwise -1 with *why saying what is wrong.
 */
static int parse_gno(const char **pp, int64_t *out, const char **why)
{
    const char *p = *pp;
    uint64_t v = 0;
    if (*p < '0' || *p > '9') {
        *why = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'
                   ? "a tag after the UUID: tagged GTIDs (MySQL 8.4 uuid:tag:N) are not supported"
                   : "a transaction number or range must follow ':'";
        return -1;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (v > ((uint64_t)GTID_MYSQL_GNO_MAX - d) / 10) {
            *why = "a transaction number is above 9223372036854775806, MySQL's largest";
            return -1;
        }
        v = v * 10 + d;
    }
    if (v == 0) { *why = "MySQL transaction numbers start at 1"; return -1; }
    *out = (int64_t)v;
    *pp = p;
    return 0;
}

/* "uuid:1-5:7,uuid2:1-3" (spaces and newlines between SIDs, as MySQL prints them). */
static int parse_mysql(struct gtid_state *g, const char *p, const char **why)
{
    g->kind = GTID_MYSQL;
    while (*p) {
        while (*p == ' ' || *p == '\n' || *p == ',') p++;
        if (!*p) break;
        uint8_t sid[16];
        int nd = 0;
        while (*p && *p != ':' && nd < 32) {
            if (*p == '-') { p++; continue; }
            int v = hexv(*p++);
            if (v < 0) { *why = "a server UUID holds a character that is not a hex digit"; return -1; }
            if (nd % 2 == 0) sid[nd / 2] = (uint8_t)(v << 4); else sid[nd / 2] |= (uint8_t)v;
            nd++;
        }
        if (nd != 32 || *p != ':') { *why = "a server UUID must have 32 hex digits, then ':'"; return -1; }
        struct gtid_sid *s = sid_slot(g, sid);
        if (!s) { *why = "out of memory"; return -1; }
        while (*p == ':') {
            int64_t lo, hi;
            p++;
            if (parse_gno(&p, &lo, why)) return -1;
            hi = lo;
            if (*p == '-') {
                p++;
                if (parse_gno(&p, &hi, why)) return -1;
                if (hi < lo) { *why = "an interval ends before it starts"; return -1; }
            }
            add_interval(s, lo, hi);
        }
        if (*p && *p != ',' && *p != ' ' && *p != '\n') { *why = "unexpected character after an interval"; return -1; }
    }
    return 0;
}

int gtid_state_parse(struct gtid_state *g, const char *text, char *err, size_t errlen)
{
    const char *p = text, *why = "MariaDB GTIDs are domain-server-seq numbers";
    gtid_state_free(g);
    if (strchr(text, ':')) {
        if (parse_mysql(g, text, &why) == 0) return 0;
        goto bad;
    }
    g->kind = GTID_MARIA;
    while (*p) {
        unsigned long d, s;
        unsigned long long q;
        int n = 0;
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        if (sscanf(p, "%lu-%lu-%llu%n", &d, &s, &q, &n) != 3 || d > UINT32_MAX || s > UINT32_MAX) goto bad;
        gtid_state_maria_set(g, (uint32_t)d, (uint32_t)s, q);
        p += n;
        if (*p && *p != ',' && *p != ' ') goto bad;
    }
    return 0;
bad:
    gtid_state_free(g);
    snprintf(err, errlen, "binlog: GTID state \"%.200s\" is malformed (%s; expected MariaDB \"0-1-42,1-2-7\" or MySQL \"uuid:1-42\")",
             text, why);
    return -1;
}

int gtid_state_format(const struct gtid_state *g, char *buf, size_t len)
{
    size_t o = 0;
    int n;
    if (len) buf[0] = 0;
    #define OUT(...) do {                                          \
            n = snprintf(buf + o, len - o, __VA_ARGS__);               \
            if (n < 0 || (size_t)n >= len - o) goto full;              \
            o += (size_t)n;                                            \
        } while (0)
    if (g->kind == GTID_MARIA) {
        for (uint32_t i = 0; i < g->nm; i++)
            OUT("%s%" PRIu32 "-%" PRIu32 "-%" PRIu64, i ? "," : "", g->m[i].domain, g->m[i].server, g->m[i].seq);
    } else if (g->kind == GTID_MYSQL) {
        for (uint32_t i = 0; i < g->ns; i++) {
            char u[37];
            if (!g->s[i].n) continue;
            binlog_uuid_format(g->s[i].sid, u);
            OUT("%s%s", o ? "," : "", u);
            for (uint32_t k = 0; k < g->s[i].n; k++) {
                if (g->s[i].iv[k].lo == g->s[i].iv[k].hi) OUT(":%" PRId64, g->s[i].iv[k].lo);
                else OUT(":%" PRId64 "-%" PRId64, g->s[i].iv[k].lo, g->s[i].iv[k].hi);
            }
        }
    }
    #undef OUT
    return 0;
full:
    if (len) buf[0] = 0;
    return -1;
}

/* ---- binary form (see gtid.h) -------------------------------------------------- */

int gtid_state_encode_sids(const struct gtid_state *g, uint8_t **out, size_t *len,
                           char *err, size_t errlen)
{
    *out = NULL;
    *len = 0;
    if (g->kind == GTID_MARIA && g->nm) {
        snprintf(err, errlen, "GTID state is in MariaDB form (domain-server-seq); only a MySQL GTID set (uuid:N-M) has a binary form");
        return -1;
    }
    uint64_t nsids = 0;
    size_t n = 8;
    for (uint32_t i = 0; g->kind == GTID_MYSQL && i < g->ns; i++) {
        if (!g->s[i].n) continue;           /* like the text form: no SID without intervals */
        /* Intervals are sorted: the last one ends highest. Its exclusive end must fit. */
        if (g->s[i].iv[g->s[i].n - 1].hi > GTID_MYSQL_GNO_MAX) {
            snprintf(err, errlen, "GTID set holds a transaction number above 9223372036854775806, MySQL's largest");
            return -1;
        }
        nsids++;
        n += 16 + 8 + (size_t)g->s[i].n * 16;
    }
    uint8_t *buf = malloc(n);
    if (!buf) {
        snprintf(err, errlen, "out of memory encoding a GTID set (%zu bytes)", n);
        return -1;
    }
    struct wr w;
    wr_init(&w, buf, n);
    wr_u64le(&w, nsids);
    for (uint32_t i = 0; g->kind == GTID_MYSQL && i < g->ns; i++) {
        const struct gtid_sid *s = &g->s[i];
        if (!s->n) continue;
        wr_bytes(&w, s->sid, 16);
        wr_u64le(&w, s->n);
        for (uint32_t k = 0; k < s->n; k++) {
            /* hi <= GTID_MYSQL_GNO_MAX (checked above), so hi + 1 fits. */
            wr_u64le(&w, (uint64_t)s->iv[k].lo);
            wr_u64le(&w, (uint64_t)s->iv[k].hi + 1);
        }
    }
    if (wr_end(&w) != 0) {                  /* a programming error: the sizes above disagree */
        free(buf);
        snprintf(err, errlen, "internal error: GTID set encoding is %zu bytes, computed %zu", w.pos, n);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

int gtid_state_decode_sids(struct gtid_state *g, const uint8_t *p, size_t len, char *err, size_t errlen)
{
    struct rd r;
    const char *why = NULL;
    gtid_state_free(g);
    g->kind = GTID_MYSQL;
    rd_init(&r, p, len);
    uint64_t nsids = rd_u64le(&r);
    if (r.err) { why = "shorter than its 8-byte SID count"; goto bad; }
    if (len >= 8 && p[7] == 1) {
        why = "tagged format (MySQL 8.4 tagged GTIDs), which is not supported";
        goto bad;
    }
    if (nsids > rd_left(&r) / (16 + 8)) { why = "declares more SIDs than its bytes hold"; goto bad; }
    for (uint64_t i = 0; i < nsids; i++) {
        const uint8_t *sid = rd_bytes(&r, 16);
        uint64_t niv = rd_u64le(&r);
        if (r.err) { why = "truncated in a SID"; goto bad; }
        if (niv > rd_left(&r) / 16) { why = "declares more intervals than its bytes hold"; goto bad; }
        struct gtid_sid *s = sid_slot(g, sid);
        if (!s) { why = "out of memory"; goto bad; }
        for (uint64_t k = 0; k < niv; k++) {
            uint64_t lo = rd_u64le(&r), end = rd_u64le(&r);
            if (lo < 1 || end <= lo || end - 1 > (uint64_t)GTID_MYSQL_GNO_MAX) {
                why = "holds an interval outside 1..9223372036854775806 or empty (end is exclusive)";
                goto bad;
            }
            add_interval(s, (int64_t)lo, (int64_t)(end - 1));
        }
    }
    if (rd_end(&r) != 0) { why = "has bytes after its last SID"; goto bad; }
    return 0;
bad:
    gtid_state_free(g);
    snprintf(err, errlen, "binary GTID set of %zu bytes is malformed: %s", len, why);
    return -1;
}
