/*
 * commands.h — one entry point per zetl subcommand (tui/cmd_*.c).
 * Each returns the process exit status: 0 ok, 1 a check or verification
 * failed, 2 usage error, 3 (zetl run) every integration deleted: nothing to run.
 * Main thread only.
 */
#ifndef ZETL_TUI_COMMANDS_H
#define ZETL_TUI_COMMANDS_H

#include "tui/cli.h"

int cmd_console(int argc, char **argv, const struct cli_cmd *self);
int cmd_check(int argc, char **argv, const struct cli_cmd *self);
int cmd_status(int argc, char **argv, const struct cli_cmd *self);
int cmd_run(int argc, char **argv, const struct cli_cmd *self);
int cmd_verify(int argc, char **argv, const struct cli_cmd *self);
int cmd_demo(int argc, char **argv, const struct cli_cmd *self);
int cmd_init(int argc, char **argv, const struct cli_cmd *self);

#endif
