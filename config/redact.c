/*
 * redact.c — a DSN or URL that is safe to print.
 *
 * Two shapes are understood:
 *   libpq conninfo   key=value pairs; the value of `password` (bare, or quoted
 *                    as 'x y' with \' and \\ escapes) becomes ***.
 *   URL / URI        scheme://user:pass@host/...: the whole user:pass becomes
 *                    ***; a query parameter password=... becomes password=***.
 *                    A conninfo value that is itself a URI (dbname='postgres://
 *                    u:p@h') is treated the same way.
 *   http(s) URL      (the http target) stricter: any user info becomes ***,
 *                    EVERY query value becomes *** (?token=***&x=***), and a
 *                    #fragment is dropped: any of them may carry a token.
 * config_redact_origin keeps only scheme://host[:port] of a URL whose path is
 * the secret (webhooks). The secret is skipped while reading, so a truncated
 * output can never hold a piece of it. Pure functions, thread-safe.
 */
#include "config/config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

struct out {
    char  *p;
    size_t len, cap;                    /* cap includes the NUL */
};

static void put(struct out *o, const char *s, size_t n)
{
    if (!o->cap)
        return;
    for (size_t i = 0; i < n && o->len + 1 < o->cap; i++)
        o->p[o->len++] = s[i];
    o->p[o->len] = '\0';
}

static int is_key(const char *s, size_t n, const char *key)
{
    return n == strlen(key) && strncasecmp(s, key, n) == 0;
}

/* s[0..n) contains "://": copy it with user:pass@ and password=... hidden. */
static void redact_uri(struct out *o, const char *s, size_t n)
{
    const char *sep = NULL;

    for (size_t i = 0; i + 3 <= n; i++)
        if (!memcmp(s + i, "://", 3)) {
            sep = s + i;
            break;
        }
    if (!sep) {
        put(o, s, n);
        return;
    }
    const char *end = s + n, *auth = sep + 3, *aend = auth;
    while (aend < end && *aend != '/' && *aend != '?' && *aend != '#')
        aend++;
    const char *at = NULL;
    for (const char *p = auth; p < aend; p++)
        if (*p == '@')
            at = p;
    put(o, s, (size_t)(auth - s));
    int web = is_key(s, (size_t)(sep - s), "http") || is_key(s, (size_t)(sep - s), "https");
    if (at && (web || memchr(auth, ':', (size_t)(at - auth)))) {
        put(o, "***", 3);
        put(o, at, (size_t)(aend - at));
    } else {
        put(o, auth, (size_t)(aend - auth));
    }
    /* path, then query parameters one by one */
    const char *q = aend;
    while (q < end && *q != '?' && !(web && *q == '#'))
        q++;
    put(o, aend, (size_t)(q - aend));
    if (q < end && *q == '#')           /* web: the fragment is dropped */
        return;
    while (q < end) {
        put(o, q, 1);                   /* '?' or '&' */
        const char *k = q + 1, *pe = k;
        while (pe < end && *pe != '&' && *pe != '#')
            pe++;
        const char *eq = memchr(k, '=', (size_t)(pe - k));
        if (eq && (web || is_key(k, (size_t)(eq - k), "password"))) {
            put(o, k, (size_t)(eq - k) + 1);
            put(o, "***", 3);
        } else {
            put(o, k, (size_t)(pe - k));
        }
        if (pe < end && *pe == '#') {
            if (!web) put(o, pe, (size_t)(end - pe));
            return;
        }
        q = pe;
    }
}

static void redact_conninfo(struct out *o, const char *s)
{
    const char *p = s;

    while (*p) {
        if (isspace((unsigned char)*p)) {
            put(o, p++, 1);
            continue;
        }
        const char *k = p;
        while (*p && *p != '=' && !isspace((unsigned char)*p))
            p++;
        size_t klen = (size_t)(p - k);
        const char *q = p;
        while (isspace((unsigned char)*q))
            q++;
        if (*q != '=') {                /* not key=value: copy the word */
            put(o, k, klen);
            continue;
        }
        q++;
        while (isspace((unsigned char)*q))
            q++;
        const char *v = q;
        if (*q == '\'') {
            for (q++; *q && *q != '\''; q++)
                if (*q == '\\' && q[1])
                    q++;
            if (*q == '\'')
                q++;
        } else {
            while (*q && !isspace((unsigned char)*q))
                q++;
        }
        put(o, k, klen);
        put(o, "=", 1);
        if (is_key(k, klen, "password"))
            put(o, "***", 3);
        else
            redact_uri(o, v, (size_t)(q - v));
        p = q;
    }
}

void config_redact(const char *dsn_or_url, char *buf, size_t buflen)
{
    struct out o = { buf, 0, buf ? buflen : 0 };

    if (o.cap)
        buf[0] = '\0';
    if (!dsn_or_url)
        return;
    /* A URI starts with a scheme: letters, digits, + - . then "://". */
    const char *p = dsn_or_url;
    while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
        p++;
    if (p > dsn_or_url && !strncmp(p, "://", 3))
        redact_uri(&o, dsn_or_url, strlen(dsn_or_url));
    else
        redact_conninfo(&o, dsn_or_url);
}

void config_redact_origin(const char *url, char *buf, size_t buflen)
{
    struct out o = { buf, 0, buf ? buflen : 0 };

    if (o.cap)
        buf[0] = '\0';
    if (!url)
        return;
    const char *sep = strstr(url, "://");
    if (!sep) {                         /* not a URL: nothing of it is safe */
        put(&o, "***", 3);
        return;
    }
    const char *auth = sep + 3, *aend = auth + strcspn(auth, "/?#"), *host = auth;
    for (const char *p = auth; p < aend; p++)
        if (*p == '@')
            host = p + 1;
    put(&o, url, (size_t)(auth - url));
    put(&o, host, (size_t)(aend - host));
    if (*aend && strcmp(aend, "/") != 0)
        put(&o, "/***", 4);
}
