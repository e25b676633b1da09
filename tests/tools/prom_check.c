/*
 * prom_check — is a file valid Prometheus text exposition? (tests only)
 *
 *   prom_check FILE
 *
 * Reads FILE in one go and checks it with tests/tools/prom_text.h (strict:
 * HELP/TYPE rules, names, label escaping, values, duplicates). Prints
 * "ok: N samples" and exits 0, or "FILE: line N: why" and exits 1; 2 when
 * the file cannot be read.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/tools/prom_text.h"

int main(int argc, char **argv)
{
    char err[512];
    char *buf = NULL;
    size_t len = 0, cap = 0;
    FILE *f;

    if (argc != 2) {
        fprintf(stderr, "usage: prom_check FILE\n");
        return 2;
    }
    if (!(f = fopen(argv[1], "rb"))) {
        perror(argv[1]);
        return 2;
    }
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                fprintf(stderr, "prom_check: out of memory\n");
                return 2;
            }
            buf = nb;
        }
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (!k)
            break;
    }
    fclose(f);
    if (!len) {
        printf("%s: empty\n", argv[1]);
        free(buf);
        return 1;
    }
    int n = prom_text_check(buf, len, err, sizeof err);
    free(buf);
    if (n < 0) {
        printf("%s: %s\n", argv[1], err);
        return 1;
    }
    printf("ok: %d samples\n", n);
    return 0;
}
