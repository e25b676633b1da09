/*
 * cmd_check.c — `zetl check`: validate the config, then run every preflight
 * check of each integration — source, target names, target — through
 * preflight_integration, the routine the console's `c` runs too. Exit 1 on
 * any failure.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "runtime/check/preflight.h"
#include "tui/commands.h"

/* Count the lines of a multi-line error buffer. */
static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        if (*s == '\n') n++;
    if (s[-1] != '\n') n++;
    return n;
}

int cmd_check(int argc, char **argv, const struct cli_cmd *self)
{
    struct cli_opts o;
    int done;
    int rc = cli_parse(argc, argv, self, self->opts, &o, &done);
    if (done) return rc;

    char pathbuf[4096];
    const char *path = cli_config_path(&o, pathbuf, sizeof pathbuf);
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "zetl check: cannot read config %s: %s; pass -c FILE, or run `zetl init` to write one\n",
                path, strerror(errno));
        return 1;
    }

    struct config *cfg = NULL;
    char err[8192] = "";
    if (config_load(path, &cfg, err, sizeof err) != 0) {
        fputs(err, stderr);
        if (err[0] && err[strlen(err) - 1] != '\n') fputc('\n', stderr);
        int n = err[0] ? count_lines(err) : 1;
        fprintf(stderr, "zetl check: %s has %d problem%s\n", path, n, n == 1 ? "" : "s");
        return 1;
    }

    printf("config %s: ok (%d integration%s, state in %s)\n", path, cfg->nintegrations,
           cfg->nintegrations == 1 ? "" : "s", cfg->state_dir);
    rc = 0;
    for (int i = 0; i < cfg->nintegrations; i++) {
        printf("\n");
        /* The console's c runs the same routine (runtime/check/preflight.h). */
        if (preflight_integration(cfg, &cfg->integrations[i], stdout, NULL, NULL) != 0) rc = 1;
        fflush(stdout);
    }
    config_free(cfg);
    fflush(stdout);
    if (rc) fprintf(stderr, "zetl check: a required check failed; see the fixes above\n");
    return rc;
}
