/* cmd_verify.c — `zetl verify`: source against target; exit 1 on any mismatch. */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "runtime/check/verify.h"
#include "tui/commands.h"

int cmd_verify(int argc, char **argv, const struct cli_cmd *self)
{
    struct cli_opts o;
    int done;
    int rc = cli_parse(argc, argv, self, self->opts, &o, &done);
    if (done) return rc;
    struct config *cfg = NULL;
    if (cli_load_config(self, &o, &cfg) != 0) return 1;
    char err[8192] = "";
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
