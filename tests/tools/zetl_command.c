/*
 * zetl_command — send an operator command through the state log, exactly as
 * the console does, and wait for the runtime's answer (tests only).
 *
 *   zetl_command STATE_DB INTEGRATION COMMAND [TABLE]
 *
 * Prints the runtime's result ("ok", or why not) and exits 0 when it is "ok"
 * (or "deleting" for delete), 1 otherwise, 2 on usage, 3 when no answer
 * came within 20 seconds. As the console does, it refuses to send to an
 * integration nobody runs (no process holds STATE_DIR/NAME.lock, STATE_DIR
 * being STATE_DB's directory): it prints the refusal and exits 1.
 */
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "runtime/log/liveness.h"
#include "runtime/log/statelog.h"

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: zetl_command STATE_DB INTEGRATION COMMAND [TABLE]\n");
        return 2;
    }
    char err[512];
    struct statelog *sl = NULL;
    if (statelog_open(&sl, argv[1], err, sizeof err) != 0) {
        fprintf(stderr, "zetl_command: %s\n", err);
        return 2;
    }
    char dir[4096], why[512];
    snprintf(dir, sizeof dir, "%s", argv[1]);
    struct liveness lv;
    if (liveness_probe(&lv, dirname(dir), NULL, argv[2], err, sizeof err) != 0) {
        fprintf(stderr, "zetl_command: %s\n", err);
        statelog_close(sl);
        return 2;
    }
    if (!lv.running) {
        liveness_refusal(argv[2], argv[3], why, sizeof why);
        printf("%s\n", why);
        statelog_close(sl);
        return 1;
    }
    int64_t id = 0;
    if (statelog_enqueue_command(sl, argv[2], argc == 5 ? argv[4] : NULL, argv[3], "test", &id) != 0) {
        fprintf(stderr, "zetl_command: %s\n", statelog_error(sl));
        statelog_close(sl);
        return 2;
    }
    int rc = 3;
    for (int i = 0; i < 200; i++) {
        struct statelog_command *c = NULL;
        if (statelog_get_command(sl, id, &c) == 0 && c->done_at) {
            printf("%s\n", c->result ? c->result : "");
            rc = c->result && (strcmp(c->result, "ok") == 0 || strcmp(c->result, "deleting") == 0) ? 0 : 1;
            statelog_free_commands(c, 1);
            break;
        }
        statelog_free_commands(c, c ? 1 : 0);
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (rc == 3) fprintf(stderr, "zetl_command: no answer within 20 s\n");
    statelog_close(sl);
    return rc;
}
