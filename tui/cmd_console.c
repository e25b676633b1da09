/*
 * cmd_console.c — `zetl` / `zetl console -c FILE`: find the config and open
 * the console on it (tui/console_open.h). With no config file at all, on a
 * terminal, it opens the setup walkthrough (tui/setup.h) instead, which
 * opens the console itself once the config is written.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tui/commands.h"
#include "tui/console_open.h"
#include "tui/setup.h"

int cmd_console(int argc, char **argv, const struct cli_cmd *self)
{
    struct cli_opts o;
    int done;
    int rc = cli_parse(argc, argv, self, self->opts, &o, &done);
    if (done) return rc;

    char pathbuf[4096];
    const char *path = cli_config_path(&o, pathbuf, sizeof pathbuf);
    struct stat st;
    if (stat(path, &st) != 0) {
        /* No config yet: on a terminal, the setup walkthrough writes one. */
        if (errno == ENOENT && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
            return setup_run(path, 1);
        fprintf(stderr, "zetl: no config at %s (%s); run `zetl init` to write one, or pass -c FILE\n",
                path, strerror(errno));
        return 1;
    }
    return console_open_path(path, NULL);
}
