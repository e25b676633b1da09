/*
 * cli.h — the zetl command line: subcommand table, shared option parsing.
 *
 * tui/main.c owns argv: it picks the subcommand, and each subcommand parses
 * its own options with cli_parse(), which knows the options every command
 * shares (-c FILE, -h). Usage errors print the command's usage to stderr and
 * exit 2; --help prints it to stdout and exits 0.
 * Main thread only.
 */
#ifndef ZETL_TUI_CLI_H
#define ZETL_TUI_CLI_H

struct cli_cmd {
    const char *name;
    const char *synopsis;   /* one line: "zetl check [-c FILE]" */
    const char *summary;    /* its lines in `zetl --help` */
    const char *help;       /* the options, one per line, for `zetl CMD --help` */
    unsigned    opts;       /* CLI_OPT_* this command accepts */
    int (*run)(int argc, char **argv, const struct cli_cmd *self);
};

/* Options a command may accept. */
struct cli_opts {
    const char *config;     /* -c/--config */
    const char *integration;/* -i/--integration */
    const char *table;      /* -t/--table */
    int json;               /* --json */
    int headless;           /* --headless */
    int seconds;            /* --seconds N */
    const char *metrics_file; /* --metrics-file PATH */
};

enum {
    CLI_OPT_CONFIG   = 1 << 0,
    CLI_OPT_INTEG    = 1 << 1,
    CLI_OPT_TABLE    = 1 << 2,
    CLI_OPT_JSON     = 1 << 3,
    CLI_OPT_HEADLESS = 1 << 4,
    CLI_OPT_SECONDS  = 1 << 5,
    CLI_OPT_METRICS  = 1 << 6
};

/*
 * Parse argv[1..] of a subcommand, accepting only the options in `allowed`.
 * Returns 0 to go on, or the exit status the caller should return now
 * (0 after --help, 2 after a usage error, already reported).
 * Sets *done to 1 when the caller must return the status.
 */
int cli_parse(int argc, char **argv, const struct cli_cmd *cmd, unsigned allowed,
              struct cli_opts *o, int *done);

/* The config file to use: -c, else $ZETL_CONFIG, else ./zetl.yaml, else
 * $XDG_CONFIG_HOME/zetl/zetl.yaml (~/.config/zetl/zetl.yaml). Never NULL. */
const char *cli_config_path(const struct cli_opts *o, char *buf, unsigned buflen);

void cli_usage(const struct cli_cmd *cmd, int to_stderr);

/*
 * Load the config the options name (cli_config_path) and check -i NAME
 * against it. 0 with *out set; otherwise the problems are printed to stderr
 * ending with a line naming the command, and 1 is the exit status to return.
 */
struct config;
int cli_load_config(const struct cli_cmd *cmd, const struct cli_opts *o, struct config **out);

#endif
