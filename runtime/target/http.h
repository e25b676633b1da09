/*
 * http.h — the http target kind (http.c), behind the target_* entry points:
 * pg.c, pg_apply.c and marks.c hand a handle whose t->http is set to these.
 * Internal to runtime/target; the contract is target.h's ("The http kind").
 * Thread: as target.h — one thread per handle.
 */
#ifndef ZETL_TARGET_HTTP_H
#define ZETL_TARGET_HTTP_H

#include "runtime/target/target_int.h"

struct http_target;

int  http_connect(struct target **out, const struct target_opts *o, char *err, size_t errlen);
void http_free(struct http_target *h);
int  http_begin(struct target *t);
int  http_apply(struct target *t, const struct zbatch *b);
int  http_commit(struct target *t, const struct zpos *pos, int64_t commit_time_us);
int  http_rollback(struct target *t);
int  http_read_checkpoint(struct target *t, struct zpos *pos, int64_t *commit_time_us);
int  http_discard_checkpoint(struct target *t);
/* The copy's truncate of target table schema.table, source table src: one
 * op t event (snapshot true). */
int  http_truncate(struct target *t, const struct ztable *src, const char *schema,
                   const char *table);
int  http_resync_mark(struct target *t, const char *source_table);
int  http_resync_unmark(struct target *t, const char *source_table);
int  http_resync_marks(struct target *t, char ***tables, int *n);

#endif
