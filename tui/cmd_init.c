/*
 * cmd_init.c — `zetl init`: the guided setup walkthrough (tui/setup.h). The
 * config goes where `zetl` looks first: -c FILE, $ZETL_CONFIG, ./zetl.yaml
 * when it exists, else $XDG_CONFIG_HOME/zetl/zetl.yaml; the walkthrough
 * shows the path and lets the operator change it.
 */
#include "tui/cli.h"
#include "tui/commands.h"
#include "tui/setup.h"

int cmd_init(int argc, char **argv, const struct cli_cmd *self)
{
    struct cli_opts o;
    int done;
    int rc = cli_parse(argc, argv, self, self->opts, &o, &done);
    if (done) return rc;
    char pathbuf[4096];
    return setup_run(cli_config_path(&o, pathbuf, sizeof pathbuf), 0);
}
