/* gtid.c — MariaDB GTID positions and MySQL GTID sets (see gtid.h). */
#include "runtime/mysql/gtid.h"
#include "runtime/mysql/binlog.h"

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

int gtid_state_parse(struct gtid_state *g, const char *text, char *err, size_t errlen)
{
    const char *p = text;
    gtid_state_free(g);
    if (strchr(text, ':')) {
        g->kind = GTID_MYSQL;
        while (*p) {
            while (*p == ' ' || *p == '\n' || *p == ',') p++;
            if (!*p) break;
            uint8_t sid[16];
            int nd = 0;
            while (*p && *p != ':' && nd < 32) {
                if (*p == '-') { p++; continue; }
                int v = hexv(*p++);
                if (v < 0) goto bad;
                if (nd % 2 == 0) sid[nd / 2] = (uint8_t)(v << 4); else sid[nd / 2] |= (uint8_t)v;
                nd++;
            }
            if (nd != 32 || *p != ':') goto bad;
            struct gtid_sid *s = sid_slot(g, sid);
            if (!s) goto bad;
            while (*p == ':') {
                char *e;
                p++;
                long long lo = strtoll(p, &e, 10), hi = lo;
                if (e == p || lo <= 0) goto bad;
                p = e;
                if (*p == '-') { hi = strtoll(p + 1, &e, 10); if (e == p + 1 || hi < lo) goto bad; p = e; }
                add_interval(s, lo, hi);
            }
            if (*p && *p != ',' && *p != ' ' && *p != '\n') goto bad;
        }
        return 0;
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
    snprintf(err, errlen, "binlog: GTID state \"%.200s\" is malformed (expected MariaDB \"0-1-42,1-2-7\" or MySQL \"uuid:1-42\")", text);
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
