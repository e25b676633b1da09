/*
 * main.c — zetl's command line: picks the subcommand and hands it argv.
 *
 *   zetl [console] [-c FILE]                   the operator console (default)
 *   zetl run [-c FILE] [-i NAME] [--metrics-file PATH]   headless runtime
 *   zetl check [-c FILE]                       preflight checks
 *   zetl status [-c FILE] [-i NAME] [--json]   integrations and tables from the SQLite log
 *   zetl verify [-c FILE] [-i NAME] [-t TABLE] source against target
 *   zetl init [-c FILE]                        guided setup
 *   zetl demo [--headless] [--seconds N]       local servers, sample data, live workload
 *   zetl --list-integrations [-c FILE]         the config's integration names (completion)
 *
 * Exit status: 0 ok, 1 a check failed, 2 usage error, 3 (run) every integration deleted.
 */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "tui/cli.h"
#include "tui/commands.h"

static const struct cli_cmd commands[] = {
    {"console", "zetl [console] [-c FILE]",
     "Open the operator console; it runs the integrations of FILE in background\n"
     "threads, or attaches to a `zetl run` that already holds them.",
     "  -c, --config FILE   config file (default: $ZETL_CONFIG, ./zetl.yaml,\n"
     "                      $XDG_CONFIG_HOME/zetl/zetl.yaml)\n"
     "  -h, --help          show this help\n",
     CLI_OPT_CONFIG,
     cmd_console},
    {"run", "zetl run [-c FILE] [-i NAME] [--metrics-file PATH]",
     "Run the integrations headless (for systemd or tmux), one log line per\n"
     "event on stderr. SIGTERM or SIGINT finishes the current batch,\n"
     "checkpoints and exits 0.",
     "  -c, --config FILE        config file\n"
     "  -i, --integration NAME   run only this integration\n"
     "      --metrics-file PATH  write Prometheus metrics to PATH every 10 s\n"
     "  -h, --help               show this help\n",
     CLI_OPT_CONFIG | CLI_OPT_INTEG | CLI_OPT_METRICS,
     cmd_run},
    {"check", "zetl check [-c FILE]",
     "Validate the config and run every preflight check against the sources\n"
     "and targets: each requirement, its current value and the fix.\n"
     "Exits 1 when a required check fails.",
     "  -c, --config FILE   config file\n"
     "  -h, --help          show this help\n",
     CLI_OPT_CONFIG,
     cmd_check},
    {"status", "zetl status [-c FILE] [-i NAME] [--json]",
     "Print the integrations and their tables from the SQLite log (works while\n"
     "`zetl run` is running). --json prints the machine-readable contract.",
     "  -c, --config FILE        config file (for the state directory)\n"
     "  -i, --integration NAME   only this integration\n"
     "      --json               one JSON object (see README, \"Status JSON\")\n"
     "  -h, --help               show this help\n",
     CLI_OPT_CONFIG | CLI_OPT_INTEG | CLI_OPT_JSON,
     cmd_status},
    {"verify", "zetl verify [-c FILE] [-i NAME] [-t TABLE]",
     "Compare row counts and an order-independent checksum per table, source\n"
     "against target; names the table and a narrowed key range on a mismatch.\n"
     "Exits 1 on any mismatch.",
     "  -c, --config FILE        config file\n"
     "  -i, --integration NAME   only this integration\n"
     "  -t, --table TABLE        only this table (schema.table)\n"
     "  -h, --help               show this help\n",
     CLI_OPT_CONFIG | CLI_OPT_INTEG | CLI_OPT_TABLE,
     cmd_verify},
    {"init", "zetl init [-c FILE]",
     "The guided setup walkthrough: source, its checks, target, tables; writes\n"
     "the config (mode 0600) and starts the console on it.",
     "  -c, --config FILE   where to write the config (default: $ZETL_CONFIG,\n"
     "                      ./zetl.yaml, $XDG_CONFIG_HOME/zetl/zetl.yaml)\n"
     "  -h, --help          show this help\n",
     CLI_OPT_CONFIG,
     cmd_init},
    {"demo", "zetl demo [--headless] [--seconds N]",
     "Start disposable local MariaDB and PostgreSQL servers, load sample data,\n"
     "run a live workload and open the console on it. Everything is removed\n"
     "when the demo exits.",
     "      --headless    no console: replicate for N seconds, catch up, verify every\n"
     "                    table, print a summary; exit 0 only if all synced and matched\n"
     "      --seconds N   stop after N seconds (headless: default 60)\n"
     "  -h, --help        show this help\n",
     CLI_OPT_HEADLESS | CLI_OPT_SECONDS,
     cmd_demo},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* zetl --list-integrations [-c FILE]: the names in the config, for shell completion. */
static int list_integrations(int argc, char **argv, const struct cli_cmd *self)
{
    struct cli_opts o = { 0 };
    int done = 0, rc = cli_parse(argc, argv, self, self->opts, &o, &done);
    if (done)
        return rc;
    char pathbuf[4096], err[4096] = "";
    if (config_names(cli_config_path(&o, pathbuf, sizeof pathbuf), stdout, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    return 0;
}

static const struct cli_cmd list_cmd = {
    "--list-integrations", "zetl --list-integrations [-c FILE]",
    "Print the integration names of the config, one per line (for shell\n"
    "completion). The YAML is read but not validated, and no ${VAR} is expanded.",
    "  -c, --config FILE   config file (default: $ZETL_CONFIG, ./zetl.yaml,\n"
    "                      $XDG_CONFIG_HOME/zetl/zetl.yaml)\n"
    "  -h, --help          show this help\n",
    CLI_OPT_CONFIG,
    list_integrations};

static void usage(FILE *f)
{
    fprintf(f, "zetl %s — zero-ETL replication into a PostgreSQL-protocol warehouse\n\n"
               "usage: zetl [COMMAND] [OPTIONS]\n\ncommands:\n", ZETL_VERSION);
    /* The whole summary, its lines under one another: a first line alone
     * stops mid-sentence ("it runs the integrations of FILE in background"). */
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const char *p = commands[i].summary;
        for (int first = 1; *p; first = 0) {
            const char *nl = strchr(p, '\n');
            int n = nl ? (int)(nl - p) : (int)strlen(p);
            fprintf(f, "  %-8s %.*s\n", first ? commands[i].name : "", n, p);
            p += n + (nl != NULL);
        }
    }
    fprintf(f, "\nWith no command, zetl opens the console. `zetl COMMAND --help` shows a\n"
               "command's options. Also: zetl --version, and zetl --list-integrations\n"
               "[-c FILE] (the config's integration names, for shell completion).\n");
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                      strcmp(argv[1], "help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
        printf("zetl %s\n", ZETL_VERSION);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], list_cmd.name) == 0)
        return list_cmd.run(argc - 1, argv + 1, &list_cmd);
    /* No command, or an option first: the console. */
    if (argc < 2 || argv[1][0] == '-')
        return commands[0].run(argc, argv, &commands[0]);
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1, &commands[i]);
    fprintf(stderr, "zetl: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
