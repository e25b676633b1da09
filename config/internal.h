/*
 * internal.h — helpers shared by the files of config/; not part of the API.
 *
 * report.c  collects "FILE:LINE:COL: message" problems while a file is
 *           validated, then writes them, sorted by position, into the
 *           caller's err buffer. Also the "did you mean" edit distance.
 * expand.c  ${VAR} expansion of one scalar.
 * like.c    splitting a schema.table[.column] pattern at its unescaped dots.
 *
 * Everything here works on caller-owned memory and holds no global state.
 */
#ifndef ZETL_CONFIG_INTERNAL_H
#define ZETL_CONFIG_INTERNAL_H

#include <stddef.h>

#define CFG_MAX_PROBLEMS 64     /* more than this is noise; the rest are counted */

struct cfg_problem {
    int   line, col;            /* 1-based */
    int   seq;                  /* order of discovery, tie-break for equal marks */
    char *msg;                  /* owned */
};

struct cfg_report {
    const char *file;           /* name used in messages, borrowed */
    struct cfg_problem *v;
    int   n, cap;
    int   dropped;              /* problems past CFG_MAX_PROBLEMS or lost to ENOMEM */
    int   extra;                /* room granted past CFG_MAX_PROBLEMS (a fatal note) */
};

void cfg_report_add(struct cfg_report *r, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Sorts by position and writes one line per problem into err; frees r's memory. */
void cfg_report_flush(struct cfg_report *r, char *err, size_t errlen);
void cfg_report_free(struct cfg_report *r);

/* Optimal-string-alignment distance, ASCII case-insensitive; capped at 99. */
int  cfg_edit_distance(const char *a, const char *b);
/* The candidate closest to word, or NULL when none is close enough to suggest. */
const char *cfg_suggest(const char *word, const char *const *candidates, int n);

/* ${VAR} expansion (see config.h). */
enum cfg_expand_status {
    CFG_EXPAND_OK = 0,
    CFG_EXPAND_UNSET,           /* *bad names the unset variable */
    CFG_EXPAND_SYNTAX,          /* "${" without a name and "}" */
    CFG_EXPAND_NOMEM,
};
/* Expands in[0..len) into a new NUL-terminated string *out. On UNSET, *bad is
 * a malloc'd copy of the variable name (never a value). */
enum cfg_expand_status cfg_expand(const char *in, size_t len, char **out, char **bad);

/* Splits a pattern at its unescaped dots into at most maxparts parts, each a
 * pointer/length into pat. Returns the number of parts found, which may exceed
 * maxparts (the last part then holds the remainder). */
int  cfg_pattern_split(const char *pat, const char **part, size_t *plen, int maxparts);
/* LIKE match of pattern[0..plen) against s[0..slen). */
int  cfg_like_n(const char *pat, size_t plen, const char *s, size_t slen);

#endif
