/* ident.c — whose checkpoint is it (see ident.h). */
#include "runtime/integ/ident.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/integ/integ.h"
#include "runtime/source/source.h"
#include "runtime/source/source_ops.h"
#include "runtime/target/target.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void ident_tables_digest(const char *const *names, int n, char *buf, size_t len)
{
    const char **v = calloc((size_t)n + 1, sizeof *v);
    uint64_t h = 14695981039346656037ULL;             /* FNV-1a 64 */
    for (int i = 0; v && i < n; i++) v[i] = names[i];
    if (v) qsort(v, (size_t)n, sizeof *v, cmp_str);
    for (int i = 0; i < n; i++) {
        for (const char *p = v ? v[i] : names[i]; *p; p++) {
            h ^= (uint8_t)*p;
            h *= 1099511628211ULL;
        }
        h ^= '\n';
        h *= 1099511628211ULL;
    }
    free(v);
    snprintf(buf, len, "%d:%016" PRIx64, n, h);
}

static int target_failed(struct integ *in, const char *what)
{
    snprintf(in->err, sizeof in->err, "target: %s: %s", what, target_error(in->tgt));
    return -1;
}

int integ_check_source(struct integ *in, int found, const struct zpos *cp)
{
    if (!target_driver(in->cfg->target.kind)->checkpoint_table) return 0;
    struct target_ident cur, old;
    memset(&cur, 0, sizeof cur);
    snprintf(cur.kind, sizeof cur.kind, "%s", in->src->name);
    char e[1024];
    if (source_identity(in, cur.id, sizeof cur.id, e, sizeof e) != 0) {
        snprintf(in->err, sizeof in->err, "%s", e);
        return -1;
    }
    const char **names = calloc((size_t)in->ntables + 1, sizeof *names);
    if (!names) {
        snprintf(in->err, sizeof in->err, "out of memory");
        return -1;
    }
    for (int i = 0; i < in->ntables; i++) names[i] = in->tables[i].source;
    ident_tables_digest(names, in->ntables, cur.tables, sizeof cur.tables);
    free(names);

    int have = target_read_identity(in->tgt, &old);
    if (have == -2) {                   /* an upgrade must keep working: go on unchecked */
        integ_log(in, STATELOG_WARNING, NULL, "checkpoint",
                  "the checkpoint's source cannot be recorded, so a reuse of this integration's name for another source is not caught: %s; fix: ALTER TABLE zetl.checkpoints ADD COLUMN source_kind text, ADD COLUMN source_id text, ADD COLUMN source_tables text, as the table's owner",
                  target_error(in->tgt));
        return 0;
    }
    if (have < 0) return target_failed(in, "reading the checkpoint's source");
    if (found != 1)                     /* the first checkpoint will carry it */
        return target_set_identity(in->tgt, &cur, 0) == 0 ? 0 : target_failed(in, "zetl.checkpoints");
    if (have == 0) {                    /* deleted since target_read_checkpoint */
        snprintf(in->err, sizeof in->err, "target: the checkpoint of integration %s disappeared while it was being read (deleted?); starting again",
                 in->cfg->name);
        return -1;
    }
    if (!old.kind[0]) {
        if (target_set_identity(in->tgt, &cur, 1) != 0) return target_failed(in, "recording the checkpoint's source");
        integ_log(in, STATELOG_INFO, NULL, "checkpoint",
                  "the checkpoint was written by an earlier zetl, without the source it belongs to; it now records %s %s (%s tables)",
                  cur.kind, cur.id, cur.tables);
        return 0;
    }
    if (strcmp(old.kind, cur.kind) != 0 || strcmp(old.id, cur.id) != 0) {
        /* A failover (MySQL/MariaDB): another server of the same kind that has
         * executed every transaction up to the checkpoint resumes by GTID
         * (replica.c). A driver without GTIDs answers 0 (source_ops.h). */
        int holds = 0;
        if (strcmp(old.kind, cur.kind) == 0 && cp->gtid[0]) {
            holds = source_holds_gtid(in, cp->gtid, e, sizeof e);
            if (holds < 0) {
                snprintf(in->err, sizeof in->err, "%s", e);
                return -1;
            }
        }
        if (holds) {
            if (target_set_identity(in->tgt, &cur, 1) != 0) return target_failed(in, "recording the checkpoint's source");
            integ_log(in, STATELOG_WARNING, NULL, "checkpoint",
                      "the source server changed from %s to %s, which holds every transaction up to the checkpoint's GTID state %.300s: resuming there (a failover)",
                      old.id, cur.id, cp->gtid);
            return 0;
        }
        snprintf(in->err, sizeof in->err,
                 "the checkpoint of integration %.64s in the target (zetl.checkpoints) belongs to another source: it was written for %s %.160s, and this config's source is %s %.160s; resuming would skip the initial copy and read this source from the other one's position. If the target should now follow this source, delete the old checkpoint (DELETE FROM zetl.checkpoints WHERE integration = '%.64s') and zetl copies every table again; or give this integration another name",
                 in->cfg->name, old.kind, old.id, cur.kind, cur.id, in->cfg->name);
        return -1;
    }
    if (strcmp(old.tables, cur.tables) != 0) {
        /* Tables added to the selection are created and stream from the
         * checkpoint on, as they always did. But when not one selected table
         * is in the target, the checkpoint was made for other data (another
         * database of the same server, another schema): refused. */
        int present = 0;
        for (int i = 0; i < in->ntables && !present; i++) {
            present = target_table_exists(in->tgt, in->tables[i].tschema, in->tables[i].tname);
            if (present < 0) return target_failed(in, "looking for the selected tables");
        }
        if (in->ntables > 0 && !present) {
            snprintf(in->err, sizeof in->err,
                     "the checkpoint of integration %.64s in the target (zetl.checkpoints) was written for other tables of this source (%s %.160s; tables %s, now %s), and none of the %d selected tables is in the target; resuming would stream them from that position without their initial copy. If the target should now hold these tables, delete the old checkpoint (DELETE FROM zetl.checkpoints WHERE integration = '%.64s') and zetl copies every table again; or give this integration another name",
                     in->cfg->name, cur.kind, cur.id, old.tables[0] ? old.tables : "unknown", cur.tables,
                     in->ntables, in->cfg->name);
            return -1;
        }
        if (target_set_identity(in->tgt, &cur, 1) != 0) return target_failed(in, "recording the checkpoint's tables");
        integ_log(in, STATELOG_INFO, NULL, "checkpoint",
                  "the selected tables changed since the checkpoint was written (digest %s, now %s; count:hash)",
                  old.tables[0] ? old.tables : "none", cur.tables);
        return 0;
    }
    return target_set_identity(in->tgt, &cur, 0) == 0 ? 0 : target_failed(in, "zetl.checkpoints");
}
