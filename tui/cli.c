/* cli.c — shared option parsing for zetl's subcommands (see cli.h). */
#include "tui/cli.h"

#include "config/config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_usage(const struct cli_cmd *cmd, int to_stderr)
{
    FILE *f = to_stderr ? stderr : stdout;
    fprintf(f, "usage: %s\n\n%s\n", cmd->synopsis, cmd->summary);
    if (cmd->help && *cmd->help)
        fprintf(f, "\noptions:\n%s", cmd->help);
}

static int usage_error(const struct cli_cmd *cmd, const char *what, const char *arg)
{
    fprintf(stderr, "zetl %s: %s '%s'\n", cmd->name, what, arg);
    cli_usage(cmd, 1);
    return 2;
}

int cli_parse(int argc, char **argv, const struct cli_cmd *cmd, unsigned allowed,
              struct cli_opts *o, int *done)
{
    static const struct option longopts[] = {
        {"config",       required_argument, NULL, 'c'},
        {"integration",  required_argument, NULL, 'i'},
        {"table",        required_argument, NULL, 't'},
        {"json",         no_argument,       NULL, 'J'},
        {"headless",     no_argument,       NULL, 'H'},
        {"seconds",      required_argument, NULL, 'S'},
        {"metrics-file", required_argument, NULL, 'M'},
        {"help",         no_argument,       NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    memset(o, 0, sizeof *o);
    o->seconds = -1;
    *done = 0;
    optind = 1;
    opterr = 0;
    for (;;) {
        int longidx = -1;
        int c = getopt_long(argc, argv, ":c:i:t:h", longopts, &longidx);
        if (c == -1) break;
        unsigned need = 0;
        switch (c) {
        case 'c': need = CLI_OPT_CONFIG; o->config = optarg; break;
        case 'i': need = CLI_OPT_INTEG; o->integration = optarg; break;
        case 't': need = CLI_OPT_TABLE; o->table = optarg; break;
        case 'J': need = CLI_OPT_JSON; o->json = 1; break;
        case 'H': need = CLI_OPT_HEADLESS; o->headless = 1; break;
        case 'M': need = CLI_OPT_METRICS; o->metrics_file = optarg; break;
        case 'S': {
            need = CLI_OPT_SECONDS;
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || v <= 0 || v > 86400 * 365) {
                *done = 1;
                return usage_error(cmd, "--seconds needs a positive whole number of seconds, got", optarg);
            }
            o->seconds = (int)v;
            break;
        }
        case 'h':
            cli_usage(cmd, 0);
            *done = 1;
            return 0;
        case ':':
            *done = 1;
            return usage_error(cmd, "option needs a value:", argv[optind - 1]);
        default:
            *done = 1;
            return usage_error(cmd, "unknown option", argv[optind - 1]);
        }
        if (!(allowed & need)) {
            *done = 1;
            return usage_error(cmd, "this command does not take the option", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        *done = 1;
        return usage_error(cmd, "unexpected argument", argv[optind]);
    }
    return 0;
}

const char *cli_config_path(const struct cli_opts *o, char *buf, unsigned buflen)
{
    if (o->config) return o->config;
    const char *env = getenv("ZETL_CONFIG");
    if (env && *env) return env;
    if (access("zetl.yaml", F_OK) == 0) return "zetl.yaml";
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(buf, buflen, "%s/zetl/zetl.yaml", xdg);
    else
        snprintf(buf, buflen, "%s/.config/zetl/zetl.yaml", home && *home ? home : ".");
    return buf;
}

int cli_load_config(const struct cli_cmd *cmd, const struct cli_opts *o, struct config **out)
{
    char pathbuf[4096], err[8192] = "";
    const char *path = cli_config_path(o, pathbuf, sizeof pathbuf);
    *out = NULL;
    if (config_load(path, out, err, sizeof err) != 0) {
        fprintf(stderr, "%s%s", err, err[0] && err[strlen(err) - 1] == '\n' ? "" : "\n");
        fprintf(stderr, "zetl %s: cannot use config %s (see `zetl check -c %s`)\n", cmd->name, path, path);
        return 1;
    }
    if (o->integration && !config_find(*out, o->integration)) {
        fprintf(stderr, "zetl %s: no integration named \"%s\" in %s\n", cmd->name, o->integration, path);
        config_free(*out);
        *out = NULL;
        return 1;
    }
    return 0;
}
