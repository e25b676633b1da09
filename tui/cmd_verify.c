/* cmd_verify.c — `zetl verify`: source against target; exit 1 on any mismatch. */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "runtime/verify.h"
#include "tui/commands.h"

int cmd_verify(int argc, char **argv, const struct cli_cmd *self)
{
    struct cli_opts o;
    int done;
    int rc = cli_parse(argc, argv, self, self->opts, &o, &done);
    if (done) return rc;
    char pathbuf[4096], err[8192] = "";
    const char *path = cli_config_path(&o, pathbuf, sizeof pathbuf);
    struct config *cfg = NULL;
    if (config_load(path, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "%s%s", err, err[0] && err[strlen(err) - 1] == '\n' ? "" : "\n");
        fprintf(stderr, "zetl verify: cannot use config %s (see `zetl check -c %s`)\n", path, path);
        return 1;
    }
    if (o.integration && !config_find(cfg, o.integration)) {
        fprintf(stderr, "zetl verify: no integration named \"%s\" in %s\n", o.integration, path);
        config_free(cfg);
        return 1;
    }
    int mismatched = 0, failed = 0;
    for (int i = 0; i < cfg->nintegrations; i++) {
        const struct config_integration *in = &cfg->integrations[i];
        if (o.integration && strcmp(o.integration, in->name) != 0) continue;
        int r = verify_integration(cfg, in, o.table, stdout, err, sizeof err);
        fflush(stdout);
        if (r < 0) {
            fprintf(stderr, "zetl verify: %s\n", err);
            failed = 1;
        } else {
            mismatched += r;
        }
    }
    config_free(cfg);
    if (mismatched) fprintf(stderr, "zetl verify: %d table%s differ\n", mismatched, mismatched == 1 ? "" : "s");
    return mismatched || failed ? 1 : 0;
}
