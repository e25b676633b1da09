/*
 * expand.c — ${VAR} expansion of one config scalar.
 *
 * Rules (documented for operators in config/example.yaml):
 *   ${NAME}   the value of environment variable NAME ([A-Za-z_][A-Za-z0-9_]*);
 *             an unset variable is an error, a set-but-empty one expands to "".
 *   $${       a literal "${" (so "$${HOME}" stays "${HOME}").
 *   $ alone   any other "$" is kept as it is ("pa$$word", "$5").
 * Expansion is a single pass: a value that itself contains "${" is not expanded
 * again. Nothing here ever copies a value into an error.
 */
#include "config/internal.h"
#include "runtime/base/buf.h"   /* base/ sits below config/: it includes nothing of zetl's */

#include <stdlib.h>
#include <string.h>

static int name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

enum cfg_expand_status cfg_expand(const char *in, size_t len, char **out, char **bad)
{
    struct zbuf b = { 0 };
    enum cfg_expand_status st = CFG_EXPAND_OK;
    size_t i = 0;

    *out = NULL;
    *bad = NULL;
    zbuf_put(&b, "", 0);
    while (i < len) {
        if (in[i] == '$' && i + 2 < len && in[i + 1] == '$' && in[i + 2] == '{') {
            zbuf_put(&b, "${", 2);                  /* $${ → literal ${ */
            i += 3;
            continue;
        }
        if (in[i] == '$' && i + 1 < len && in[i + 1] == '{') {
            size_t j = i + 2, start = j;
            while (j < len && name_char(in[j]))
                j++;
            if (j == start || !name_start(in[start]) || j >= len || in[j] != '}') {
                st = CFG_EXPAND_SYNTAX;
                goto fail;
            }
            char name[256];
            if (j - start >= sizeof name) {
                st = CFG_EXPAND_SYNTAX;
                goto fail;
            }
            memcpy(name, in + start, j - start);
            name[j - start] = '\0';
            const char *v = getenv(name);
            if (!v) {
                *bad = strdup(name);
                st = *bad ? CFG_EXPAND_UNSET : CFG_EXPAND_NOMEM;
                goto fail;
            }
            zbuf_put(&b, v, strlen(v));
            i = j + 1;
            continue;
        }
        size_t j = i + 1;                           /* copy a run up to the next '$' */
        while (j < len && in[j] != '$')
            j++;
        zbuf_put(&b, in + i, j - i);
        i = j;
    }
    if (b.oom) {
        st = CFG_EXPAND_NOMEM;
        goto fail;
    }
    *out = b.p;
    return CFG_EXPAND_OK;

fail:
    if (b.p)
        explicit_bzero(b.p, b.cap);     /* may hold an expanded secret */
    free(b.p);
    return st;
}
