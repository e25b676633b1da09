/* cmd_misc.c — subcommands that this build does not carry yet. */
#include <stdio.h>

#include "tui/commands.h"

/*
 * Parses the command's options (so --help and usage errors behave like the
 * real command), then says plainly that the command is not in this build.
 */
int cmd_unavailable(int argc, char **argv, const struct cli_cmd *self)
{
    struct cli_opts o;
    int done;
    int rc = cli_parse(argc, argv, self, self->opts, &o, &done);
    if (done) return rc;
    fprintf(stderr, "zetl %s: not available in zetl %s yet; see README.md (\"Status of this build\")\n",
            self->name, ZETL_VERSION);
    return 3;
}
