/*
 * fuzz_config.c — libFuzzer target for the config loader.
 *
 * Feeds arbitrary bytes to config_load_buffer() and frees whatever it built.
 * Valid or not, a load must return 0 or -1 without crashing, leaking or
 * hanging, and a failure must leave a message. Seeds: tests/fuzz/corpus/config/.
 */
#include "config/config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config *c = NULL;
    char err[4096];

    int rc = config_load_buffer("fuzz.yaml", (const char *)data, size, &c, err, sizeof err);
    if (rc == 0 && !c)
        abort();                /* success must produce a config */
    if (rc != 0 && (c || !err[0]))
        abort();                /* failure must produce a message and no config */
    config_free(c);
    return 0;
}
