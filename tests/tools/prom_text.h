/*
 * prom_text.h — a strict checker of the Prometheus text exposition format
 * (0.0.4, what node_exporter's textfile collector reads), for tests: the
 * unit test of runtime/watch/metrics.c and tests/tools/prom_check.c.
 *
 * prom_text_check(text, len, err, errlen) returns the number of samples, or
 * -1 with "line N: why" in err. Checked, beyond what Prometheus itself
 * tolerates, so a sloppy writer fails here first:
 *   - every line ends with \n, the file too; no NUL, no CR
 *   - `# HELP name text` and `# TYPE name type` at most once per name, and
 *     the TYPE before the name's first sample; type one of counter, gauge,
 *     histogram, summary, untyped; a counter's name ends in _total
 *   - a sample is `name{label="value",...} value` (labels optional): the name
 *     matches [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*
 *     and do not start with __, no label twice, values escape only \\ \" \n;
 *     the value is a decimal number, NaN, +Inf or -Inf; an optional integer
 *     timestamp may follow
 *   - every sample's metric has a TYPE line; the samples of one metric are
 *     contiguous; no two samples have the same name and label set
 * Single header, static functions only.
 */
#ifndef ZETL_PROM_TEXT_H
#define ZETL_PROM_TEXT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROM_MAX_NAMES   512
#define PROM_MAX_SAMPLES 20000

struct prom_family {
    char name[128];
    int  help, type, samples, closed;
};

struct prom_state {
    struct prom_family fam[PROM_MAX_NAMES];
    int   nfam, current;          /* the family whose samples are being read, -1 none */
    char *seen[PROM_MAX_SAMPLES]; /* "name{labels}" as written, for duplicates */
    int   nseen;
};

static int prom_name_ok(const char *s, size_t n, int colon)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

static struct prom_family *prom_family(struct prom_state *st, const char *name, size_t n)
{
    for (int i = 0; i < st->nfam; i++)
        if (strlen(st->fam[i].name) == n && !memcmp(st->fam[i].name, name, n))
            return &st->fam[i];
    if (st->nfam == PROM_MAX_NAMES || n >= sizeof st->fam[0].name)
        return NULL;
    struct prom_family *f = &st->fam[st->nfam++];
    memset(f, 0, sizeof *f);
    memcpy(f->name, name, n);
    return f;
}

static int prom_value_ok(const char *s)
{
    char *end;
    if (!strcmp(s, "NaN") || !strcmp(s, "+Inf") || !strcmp(s, "-Inf"))
        return 1;
    if (!*s || strspn(s, "+-0123456789.eE") != strlen(s))
        return 0;
    strtod(s, &end);
    return *end == '\0';
}

/* One comment line ("# ..."). */
static int prom_comment(struct prom_state *st, const char *l, char *why, size_t wl)
{
    int help = !strncmp(l, "# HELP ", 7), type = !strncmp(l, "# TYPE ", 7);
    if (!help && !type)
        return 0;                       /* a plain comment */
    const char *name = l + 7;
    size_t n = strcspn(name, " ");
    if (!prom_name_ok(name, n, 1)) {
        snprintf(why, wl, "bad metric name in %s line", help ? "HELP" : "TYPE");
        return -1;
    }
    struct prom_family *f = prom_family(st, name, n);
    if (!f) {
        snprintf(why, wl, "too many metrics");
        return -1;
    }
    if (help) {
        if (f->help++) {
            snprintf(why, wl, "second HELP for %s", f->name);
            return -1;
        }
        return 0;
    }
    if (f->type++) {
        snprintf(why, wl, "second TYPE for %s", f->name);
        return -1;
    }
    if (f->samples) {
        snprintf(why, wl, "TYPE for %s after its samples", f->name);
        return -1;
    }
    const char *t = name + n;
    if (*t != ' ' || (strcmp(t + 1, "counter") && strcmp(t + 1, "gauge") && strcmp(t + 1, "histogram") &&
                      strcmp(t + 1, "summary") && strcmp(t + 1, "untyped"))) {
        snprintf(why, wl, "TYPE of %s is not counter, gauge, histogram, summary or untyped", f->name);
        return -1;
    }
    if (!strcmp(t + 1, "counter") && (n < 6 || strncmp(name + n - 6, "_total", 6) != 0)) {
        snprintf(why, wl, "counter %s does not end in _total", f->name);
        return -1;
    }
    return 0;
}

/* One sample line. */
static int prom_sample(struct prom_state *st, const char *l, char *why, size_t wl)
{
    size_t n = strcspn(l, "{ ");
    char labels[64][128];
    int nlabels = 0;

    if (!prom_name_ok(l, n, 1)) {
        snprintf(why, wl, "bad metric name");
        return -1;
    }
    struct prom_family *f = prom_family(st, l, n);
    if (!f || !f->type) {
        snprintf(why, wl, "sample of %.*s without a TYPE line before it", (int)n, l);
        return -1;
    }
    if (f->closed) {
        snprintf(why, wl, "samples of %s are not contiguous", f->name);
        return -1;
    }
    if (st->current >= 0 && &st->fam[st->current] != f)
        st->fam[st->current].closed = 1;
    st->current = (int)(f - st->fam);
    const char *p = l + n;
    if (*p == '{') {
        p++;
        while (*p != '}') {
            size_t ln = strcspn(p, "=");
            if (!prom_name_ok(p, ln, 0) || (ln >= 2 && p[0] == '_' && p[1] == '_') || ln >= 128) {
                snprintf(why, wl, "bad label name");
                return -1;
            }
            for (int i = 0; i < nlabels; i++)
                if (strlen(labels[i]) == ln && !memcmp(labels[i], p, ln)) {
                    snprintf(why, wl, "label %.*s twice", (int)ln, p);
                    return -1;
                }
            if (nlabels < 64) {
                memcpy(labels[nlabels], p, ln);
                labels[nlabels++][ln] = '\0';
            }
            p += ln;
            if (p[0] != '=' || p[1] != '"') {
                snprintf(why, wl, "label value must be quoted");
                return -1;
            }
            for (p += 2; *p != '"'; p++) {
                if (!*p) {
                    snprintf(why, wl, "unterminated label value");
                    return -1;
                }
                if (*p == '\\') {
                    p++;
                    if (*p != '\\' && *p != '"' && *p != 'n') {
                        snprintf(why, wl, "bad escape \\%c in a label value", *p ? *p : '0');
                        return -1;
                    }
                }
            }
            p++;
            if (*p == ',')
                p++;
            else if (*p != '}') {
                snprintf(why, wl, "expected , or } after a label");
                return -1;
            }
        }
        p++;
    }
    size_t keylen = (size_t)(p - l);
    if (*p != ' ') {
        snprintf(why, wl, "expected a space before the value");
        return -1;
    }
    while (*p == ' ')
        p++;
    char value[64];
    size_t vn = strcspn(p, " ");
    if (vn >= sizeof value || (snprintf(value, sizeof value, "%.*s", (int)vn, p), !prom_value_ok(value))) {
        snprintf(why, wl, "bad value \"%.*s\"", (int)(vn < 40 ? vn : 40), p);
        return -1;
    }
    p += vn;
    if (*p == ' ' && (!p[1] || strspn(p + 1, "-0123456789") != strlen(p + 1))) {
        snprintf(why, wl, "bad timestamp");
        return -1;
    }
    for (int i = 0; i < st->nseen; i++)
        if (strlen(st->seen[i]) == keylen && !memcmp(st->seen[i], l, keylen)) {
            snprintf(why, wl, "duplicate sample %.*s", (int)keylen, l);
            return -1;
        }
    if (st->nseen < PROM_MAX_SAMPLES)
        st->seen[st->nseen++] = strndup(l, keylen);
    f->samples++;
    return 1;
}

static int prom_text_check(const char *text, size_t len, char *err, size_t errlen)
{
    struct prom_state *st = calloc(1, sizeof *st);
    int samples = 0, line = 0, rc = 0;
    char why[256] = "";
    size_t off = 0;

    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    st->current = -1;
    if (len && text[len - 1] != '\n') {
        snprintf(why, sizeof why, "the last line has no newline");
        rc = -1;
    }
    while (rc == 0 && off < len) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t ll = nl ? (size_t)(nl - (text + off)) : len - off;
        char *l = strndup(text + off, ll);
        line++;
        off += ll + 1;
        if (!l || strlen(l) != ll || strchr(l, '\r')) {
            snprintf(why, sizeof why, "%s", l ? "NUL or CR in the line" : "out of memory");
            rc = -1;
        } else if (!ll) {
            ;                                       /* empty lines are allowed */
        } else if (l[0] == '#') {
            rc = prom_comment(st, l, why, sizeof why);
        } else {
            int k = prom_sample(st, l, why, sizeof why);
            if (k < 0)
                rc = -1;
            else
                samples += k;
        }
        free(l);
    }
    if (rc < 0)
        snprintf(err, errlen, "line %d: %s", line ? line : 1, why);
    for (int i = 0; i < st->nseen; i++)
        free(st->seen[i]);
    free(st);
    return rc < 0 ? -1 : samples;
}

#endif
