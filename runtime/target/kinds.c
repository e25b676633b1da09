/*
 * kinds.c — the target kinds' facts (target.h: struct target_driver). A leaf:
 * it calls nothing, so any file of runtime/target may ask it too (names.c)
 * without a cycle through the drivers' methods, which target.c picks.
 */
#include "runtime/target/target.h"

static const struct target_driver kinds[] = {
    {
        .kind = TARGET_POSTGRES, .name = "postgres", .label = "PostgreSQL",
        .default_port = 5432,
        .name_max = 63,                 /* NAMEDATALEN - 1 */
        .checkpoint_table = 1, .reads_back = 1, .computes_generated = 1, .load_writer = 1,
    },
    {
        .kind = TARGET_REDSHIFT, .name = "redshift", .label = "Redshift",
        .default_port = 5439,
        .name_max = 127,
        .redshift = 1,
        .checkpoint_table = 1, .reads_back = 1, .load_writer = 1,
    },
    {
        .kind = TARGET_HTTP, .name = "http", .label = "http",
        .url = 1,
        .text_nul = 1,
    },
};

const struct target_driver *target_driver(enum target_kind kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (kinds[i].kind == kind) return &kinds[i];
    return NULL;
}
