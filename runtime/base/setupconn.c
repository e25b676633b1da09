/*
 * setupconn.c — the setup walkthrough's connection-test model (setupconn.h):
 * causes, one-line messages, comma lists, the names a server has, the table
 * list. Pure.
 */
#include "runtime/base/setupconn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- lists ------------------------------------------------------------------ */

int setup_split_list(const char *s, char *buf, size_t buflen, char **items, int max)
{
    size_t o = 0;
    int n = 0;
    const char *p = s ? s : "";

    while (*p) {
        while (*p == ' ' || *p == '\t') p++;
        size_t start = o;
        while (*p && *p != ',') {
            if (*p == '\\' && p[1] == ',') p++;     /* an escaped comma stays */
            if (o + 1 < buflen) buf[o++] = *p;
            p++;
        }
        while (o > start && (buf[o - 1] == ' ' || buf[o - 1] == '\t')) o--;
        if (*p == ',') p++;
        if (o == start) continue;                   /* empty item: "a,,b" */
        if (o + 1 >= buflen || n == max) return -1;
        buf[o++] = '\0';
        items[n++] = buf + start;
    }
    return n;
}

/* ---- causes -------------------------------------------------------------- */

const char *setup_cause_name(enum setup_cause c)
{
    switch (c) {
    case SETUP_CAUSE_NONE: return "none";
    case SETUP_CAUSE_DNS: return "DNS";
    case SETUP_CAUSE_REFUSED: return "connection refused";
    case SETUP_CAUSE_TIMEOUT: return "timeout";
    case SETUP_CAUSE_AUTH: return "authentication";
    case SETUP_CAUSE_TLS: return "TLS";
    case SETUP_CAUSE_NO_DATABASE: return "unknown database";
    case SETUP_CAUSE_PASSWORD_COMMAND: return "password command";
    default: return "unknown";
    }
}

const char *setup_cause_hint(enum setup_cause c)
{
    switch (c) {
    case SETUP_CAUSE_DNS:
        return "The host name does not resolve from this machine: check host for a typo, or use the address (a private DNS name may not be visible here)";
    case SETUP_CAUSE_REFUSED:
        return "Nothing accepts connections at that host and port: is the server running, listening on that address (bind-address / listen_addresses), and is the port right?";
    case SETUP_CAUSE_TIMEOUT:
        return "No answer in time: a firewall or security group drops the packets, or the host is down; on RDS/Aurora allow this machine's address in the instance's security group";
    case SETUP_CAUSE_AUTH:
        return "The server refused the user or password: check both (or the password command), and that the user may connect from this host (MySQL: the user@host account; PostgreSQL: pg_hba.conf)";
    case SETUP_CAUSE_TLS:
        return "The TLS handshake failed: choose another TLS mode (disable | prefer | require | verify-full) or check the server's certificate";
    case SETUP_CAUSE_NO_DATABASE:
        return "The database or schema is not on the server, or the user cannot see it: pick one of those listed";
    case SETUP_CAUSE_PASSWORD_COMMAND:
        return "The password command failed: run it in a shell to see why";
    default:
        return "See the server's message";
    }
}

static int has(const char *s, const char *needle) { return strcasestr(s, needle) != NULL; }

enum setup_cause setup_classify(const char *m, unsigned code, long took_ms, long timeout_ms)
{
    if (!m) m = "";
    switch (code) {
    case 1044: case 1045: case 1251: case 1698:   /* access denied, auth plugin */
        return SETUP_CAUSE_AUTH;
    case 1049:                                    /* unknown database */
        return SETUP_CAUSE_NO_DATABASE;
    case 2005:                                    /* unknown server host */
        return SETUP_CAUSE_DNS;
    case 2026:                                    /* SSL connection error */
        return SETUP_CAUSE_TLS;
    case 2002: case 2003: case 2013:              /* can't connect, lost at handshake */
        if (has(m, "(110)") || has(m, "error: 110") || has(m, "timed out") ||
            (timeout_ms > 0 && took_ms >= timeout_ms - 300))
            return SETUP_CAUSE_TIMEOUT;
        if (code == 2013) return SETUP_CAUSE_OTHER;
        return SETUP_CAUSE_REFUSED;
    default:
        break;
    }
    if (has(m, "translate host name") || has(m, "Unknown server host") || has(m, "Name or service not known") ||
        has(m, "name resolution"))
        return SETUP_CAUSE_DNS;
    if (has(m, "Connection refused"))
        return SETUP_CAUSE_REFUSED;
    if (has(m, "timeout expired") || has(m, "timed out"))
        return SETUP_CAUSE_TIMEOUT;
    if (has(m, "password authentication failed") || has(m, "no pg_hba.conf entry") ||
        has(m, "no password supplied") || has(m, "authentication failed") || has(m, "Access denied") ||
        has(m, "role \"") )
        return SETUP_CAUSE_AUTH;
    if (has(m, "SSL") || has(m, "TLS") || has(m, "certificate"))
        return SETUP_CAUSE_TLS;
    if (has(m, "database \"") && has(m, "does not exist"))
        return SETUP_CAUSE_NO_DATABASE;
    if (has(m, "password_command"))
        return SETUP_CAUSE_PASSWORD_COMMAND;
    return SETUP_CAUSE_OTHER;
}

/* ---- messages and names -------------------------------------------------- */

void setup_one_line(char *dst, size_t len, const char *src)
{
    size_t o = 0;
    for (const char *p = src ? src : ""; *p && o + 1 < len; p++) {
        char ch = *p == '\n' || *p == '\t' || *p == '\r' ? ' ' : *p;
        if (ch == ' ' && (o == 0 || dst[o - 1] == ' ')) continue;
        dst[o++] = ch;
    }
    while (o && dst[o - 1] == ' ') o--;
    dst[o] = '\0';
}

void setup_conn_add_name(struct setup_conn *c, const char *name)
{
    size_t used = 0;
    if (c->nnames < 0) return;
    if (c->nnames) used = (size_t)(c->names[c->nnames - 1] - c->namebuf) + strlen(c->names[c->nnames - 1]) + 1;
    size_t n = strlen(name) + 1;
    if (c->nnames == SETUP_MAX_LIST || used + n > sizeof c->namebuf) {
        c->nnames = -1;
        return;
    }
    memcpy(c->namebuf + used, name, n);
    c->names[c->nnames++] = c->namebuf + used;
}

static int name_known(const struct setup_conn *c, const char *name)
{
    if (c->nnames < 0) return 1;     /* too many to tell: the checks will say */
    for (int i = 0; i < c->nnames; i++)
        if (strcmp(c->names[i], name) == 0) return 1;
    return 0;
}

int setup_conn_check_names(struct setup_conn *c, char **want, int nwant, const char *what)
{
    for (int i = 0; i < nwant; i++) {
        if (name_known(c, want[i])) continue;
        char list[600] = "";
        size_t o = 0;
        for (int k = 0; k < c->nnames && o + 4 < sizeof list; k++) {
            int w = snprintf(list + o, sizeof list - o, "%s%s", k ? ", " : "", c->names[k]);
            if (w > 0) o += (size_t)w;
        }
        c->ok = 0;
        c->cause = SETUP_CAUSE_NO_DATABASE;
        snprintf(c->message, sizeof c->message, "%s %s is not on the server (or the user cannot see it); it has: %s",
                 what, want[i], c->nnames ? list : "none");
        return -1;
    }
    c->ok = 1;
    return 0;
}

/* ---- tables --------------------------------------------------------------- */

int setup_name_listed(char **v, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0) return 1;
    return 0;
}

int setup_tables_add(struct setup_table **v, int *n, int *cap, const char *schema, const char *name,
                     int has_pk, int64_t rows, char ident)
{
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 64;
        struct setup_table *nv = realloc(*v, (size_t)nc * sizeof *nv);
        if (!nv) return -1;
        *v = nv;
        *cap = nc;
    }
    struct setup_table *t = &(*v)[(*n)++];
    memset(t, 0, sizeof *t);
    snprintf(t->schema, sizeof t->schema, "%s", schema);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->has_pk = has_pk;
    t->rows = rows;
    t->replident = ident;
    return 0;
}
