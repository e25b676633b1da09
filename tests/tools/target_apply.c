/*
 * target_apply — drive the real target driver from a tiny script on stdin.
 *
 *   TARGET_DSN='host=… dbname=…' target_apply [--redshift] [--pg-source] INTEGRATION < script
 *
 * One operation per line (# comments). Tables are declared first:
 *   table S.T col:type[:pk][:null][@declared_type] …   (declared: _ for space; PG→PG keeps it)
 *                                      types: int16 int32 int64 uint64 float32 float64
 *                                      bool decimal(p,s) char(n) varchar(n) text bytes date
 *                                      time timestamp timestamptz json uuid enum ...
 *   target S.T TSCHEMA.TNAME           apply S.T under another target name
 *   soft S.T                           a soft-delete table (ztable.soft_delete)
 *   hist S.T                           a history table (ztable.history)
 *   ensure S.T                         prints "created" or "diff missing|extra|type COL WANT HAVE"
 * Changes (batched; values by column: 12, -1.5, null, ~ = unchanged TOAST,
 * 'text with \t \n \r \\ \' \xHH', x'00ff' = bytes):
 *   insert S.T v…      update S.T old… -> new…     updatek S.T key… -> new…
 *   delete S.T old…    deletek S.T key…            truncate S.T
 * Transactions:
 *   begin   apply   sleep SECONDS   commit POSITION [COMMIT_TIME_US]   rollback
 *   time US            the time of the changes that follow (zbatch_set_time)
 *   (commit applies what is batched first; begin is implicit)
 *   checkpoint         prints "checkpoint POS TIME_US" or "checkpoint none"
 *   stats S.T          prints "stats ins upd del truncates" of the pending batch
 * DDL: addcol S.T name:type · dropcol S.T c · renamecol S.T a b · widen S.T name:type
 *      renametable S.T new · truncatetable S.T · droptable S.T · check-redshift
 * Exit 0 when every line succeeded; the first failure prints "error: line N: …"
 * on stderr and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/source/source.h"
#include "runtime/source/source_ops.h"
#include "runtime/target/target.h"

#define MAXTOK 512
#define MAXTAB 64

struct tab {
    struct ztable def;
    char *tschema, *tname;
};

static struct tab tabs[MAXTAB];
static int ntabs;
static struct target *tgt;
static struct zbatch *batch;
static int lineno;
static int kind = TARGET_POSTGRES, source = SOURCE_MYSQL;

static void die(const char *fmt, const char *a)
{
    fprintf(stderr, "error: line %d: ", lineno);
    fprintf(stderr, fmt, a);
    fputc('\n', stderr);
    exit(1);
}

/* Tokens: whitespace separated; '…' with backslash escapes; x'…' bytes. */
struct tok { char *s; size_t len; int quoted; int bytes; };

static int hexv(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int tokenize(char *line, struct tok *t)
{
    int n = 0;
    char *p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
        if (!*p || *p == '#') break;
        if (n == MAXTOK) die("%s", "too many tokens");
        struct tok *k = &t[n++];
        memset(k, 0, sizeof *k);
        if (*p == '\'' || ((*p == 'x' || *p == 'X') && p[1] == '\'')) {
            k->bytes = *p != '\'';
            k->quoted = 1;
            p += k->bytes ? 2 : 1;
            char *o = p;
            k->s = o;
            while (*p && *p != '\'') {
                if (k->bytes) {
                    if (hexv(p[0]) < 0 || hexv(p[1]) < 0) die("%s", "bad hex in x'…'");
                    *o++ = (char)(hexv(p[0]) * 16 + hexv(p[1]));
                    p += 2;
                    continue;
                }
                if (*p == '\\' && p[1]) {
                    p++;
                    switch (*p) {
                    case 't': *o++ = '\t'; break;
                    case 'n': *o++ = '\n'; break;
                    case 'r': *o++ = '\r'; break;
                    case '0': *o++ = 0; break;
                    case 'x':
                        if (hexv(p[1]) < 0 || hexv(p[2]) < 0) die("%s", "bad \\x escape");
                        *o++ = (char)(hexv(p[1]) * 16 + hexv(p[2]));
                        p += 2;
                        break;
                    default: *o++ = *p;
                    }
                    p++;
                    continue;
                }
                *o++ = *p++;
            }
            if (*p != '\'') die("%s", "unterminated quote");
            k->len = (size_t)(o - k->s);
            *o = 0;                     /* o <= p: at most overwrites the closing quote */
            p++;
            continue;
        }
        k->s = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') p++;
        k->len = (size_t)(p - k->s);
        if (*p) *p++ = 0;
    }
    return n;
}

static struct tab *find_tab(const char *name)
{
    for (int i = 0; i < ntabs; i++) {
        char full[512];
        snprintf(full, sizeof full, "%s.%s", tabs[i].def.schema, tabs[i].def.name);
        if (strcmp(full, name) == 0) return &tabs[i];
    }
    die("unknown table %s", name);
    return NULL;
}

static void split_name(const char *s, char **schema, char **name)
{
    const char *dot = strchr(s, '.');
    if (!dot) die("expected SCHEMA.TABLE, saw %s", s);
    *schema = strndup(s, (size_t)(dot - s));
    *name = strdup(dot + 1);
}

static const struct { const char *n; enum ztype t; } typenames[] = {
    {"bool", ZT_BOOL}, {"int16", ZT_INT16}, {"int32", ZT_INT32}, {"int64", ZT_INT64},
    {"uint64", ZT_UINT64}, {"float32", ZT_FLOAT32}, {"float64", ZT_FLOAT64},
    {"decimal", ZT_DECIMAL}, {"char", ZT_CHAR}, {"varchar", ZT_VARCHAR}, {"text", ZT_TEXT},
    {"bytes", ZT_BYTES}, {"date", ZT_DATE}, {"time", ZT_TIME}, {"timetz", ZT_TIMETZ},
    {"timestamp", ZT_TIMESTAMP}, {"timestamptz", ZT_TIMESTAMPTZ}, {"interval", ZT_INTERVAL},
    {"uuid", ZT_UUID}, {"json", ZT_JSON}, {"bit", ZT_BIT}, {"varbit", ZT_VARBIT},
    {"enum", ZT_ENUM}, {"set", ZT_SET}, {"geometry", ZT_GEOMETRY}, {"inet", ZT_INET},
    {"year", ZT_YEAR}, {"other", ZT_OTHER}, {NULL, 0}
};

/* name:type[(a[,b])][:pk][:null] */
static void parse_col(char *spec, struct zcolumn *c, int *npk)
{
    memset(c, 0, sizeof *c);
    char *decl = strchr(spec, '@');         /* name:type@declared_type (_ = space) */
    if (decl) {
        *decl++ = 0;
        for (char *u = decl; *u; u++) if (*u == '_') *u = ' ';
    }
    char *colon = strchr(spec, ':');
    if (!colon) die("column spec %s needs name:type", spec);
    *colon = 0;
    c->name = strdup(spec);
    char *ty = colon + 1, *flags = strchr(ty, ':');
    if (flags) *flags++ = 0;
    c->length = -1;
    char *paren = strchr(ty, '(');
    if (paren) {
        *paren = 0;
        int a = 0, b = 0;
        int got = sscanf(paren + 1, "%d,%d", &a, &b);
        c->length = a;
        c->precision = (int16_t)a;
        c->scale = (int16_t)(got == 2 ? b : 0);
        if (strcmp(ty, "timestamp") == 0 || strcmp(ty, "timestamptz") == 0 || strcmp(ty, "time") == 0) {
            c->scale = (int16_t)a;
            c->length = -1;
        }
    }
    int found = 0;
    for (int i = 0; typenames[i].n; i++)
        if (strcmp(typenames[i].n, ty) == 0) { c->type = typenames[i].t; found = 1; }
    if (!found) die("unknown type %s", ty);
    c->source_type = strdup(decl ? decl : ty);
    if (decl && strstr(decl, "[]")) c->is_array = 1;
    while (flags && *flags) {
        char *next = strchr(flags, ':');
        if (next) *next++ = 0;
        if (strcmp(flags, "pk") == 0) c->pk_ord = (int16_t)++*npk;
        else if (strcmp(flags, "null") == 0) c->nullable = 1;
        else die("unknown column flag %s", flags);
        flags = next;
    }
}

static void parse_value(const struct zcolumn *c, const struct tok *k, struct zvalue *v)
{
    memset(v, 0, sizeof *v);
    if (!k->quoted && strcmp(k->s, "null") == 0) { v->kind = ZV_NULL; return; }
    if (!k->quoted && strcmp(k->s, "~") == 0) { v->kind = ZV_UNCHANGED; return; }
    if (k->quoted) {
        v->kind = k->bytes ? ZV_BYTES : ZV_TEXT;
        v->len = (uint32_t)k->len;
        v->v.p = k->s;
        return;
    }
    char *end;
    switch (c->type) {
    case ZT_FLOAT32: case ZT_FLOAT64:
        v->kind = ZV_FLOAT;
        v->v.f = strtod(k->s, &end);
        break;
    case ZT_UINT64:
        v->kind = ZV_UINT;
        v->v.u = strtoull(k->s, &end, 10);
        break;
    default:
        v->kind = ZV_INT;
        v->v.i = strtoll(k->s, &end, 10);
    }
    if (*end) die("bad number %s", k->s);
}

/* Values for the table from tokens [i, n): full images, or key columns only. */
static int parse_image(struct tab *tb, struct tok *t, int i, int n, struct zvalue *img, int key_only)
{
    memset(img, 0, sizeof *img * (size_t)tb->def.ncols);
    for (int c = 0; c < tb->def.ncols; c++) {
        if (key_only && tb->def.cols[c].pk_ord == 0) continue;
        if (i >= n || (!t[i].quoted && strcmp(t[i].s, "->") == 0)) die("%s", "too few values");
        parse_value(&tb->def.cols[c], &t[i++], &img[c]);
    }
    return i;
}

static void check(int rc, const char *what)
{
    if (rc) die("%s", what);
}

static void ensure_batch_txn(int *in_txn)
{
    if (!*in_txn) {
        check(target_begin(tgt), target_error(tgt));
        *in_txn = 1;
    }
}

int main(int argc, char **argv)
{
    const char *integ = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--redshift") == 0) kind = TARGET_REDSHIFT;
        else if (strcmp(argv[i], "--pg-source") == 0) source = SOURCE_POSTGRES;
        else integ = argv[i];
    }
    const char *dsn = getenv("TARGET_DSN");
    if (!integ || !dsn) {
        fprintf(stderr, "usage: TARGET_DSN=… target_apply [--redshift] [--pg-source] INTEGRATION < script\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    char err[1024];
    struct target_opts o = { .kind = kind, .source = &source_driver(source)->dialect, .dsn = dsn,
                             .integration = integ };
    if (target_connect(&tgt, &o, err, sizeof err)) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    batch = zbatch_new();
    static char line[1 << 20];
    static struct tok t[MAXTOK];
    int in_txn = 0;
    while (fgets(line, sizeof line, stdin)) {
        lineno++;
        size_t linelen = strlen(line);
        int n = tokenize(line, t);
        if (n == 0) continue;
        for (int i = 0; i < n; i++) if (!t[i].quoted) t[i].s[t[i].len] = 0;
        const char *op = t[0].s;
        if (strcmp(op, "table") == 0) {
            if (n < 3 || ntabs == MAXTAB) die("%s", "table S.T col:type …");
            struct tab *tb = &tabs[ntabs++];
            split_name(t[1].s, &tb->def.schema, &tb->def.name);
            tb->def.ncols = n - 2;
            tb->def.cols = calloc((size_t)(n - 2), sizeof *tb->def.cols);
            for (int i = 2; i < n; i++) parse_col(t[i].s, &tb->def.cols[i - 2], &tb->def.npk);
            tb->def.id = (uint64_t)ntabs;
        } else if (strcmp(op, "hist") == 0 && n == 2) {
            find_tab(t[1].s)->def.history = 1;
        } else if (strcmp(op, "soft") == 0 && n == 2) {
            find_tab(t[1].s)->def.soft_delete = 1;
        } else if (strcmp(op, "time") == 0 && n == 2) {
            zbatch_set_time(batch, strtoll(t[1].s, NULL, 10));
        } else if (strcmp(op, "target") == 0 && n == 3) {
            struct tab *tb = find_tab(t[1].s);
            split_name(t[2].s, &tb->tschema, &tb->tname);
        } else if (strcmp(op, "ensure") == 0 && n == 2) {
            struct tab *tb = find_tab(t[1].s);
            struct target_table_diff d;
            check(target_ensure_table(tgt, &tb->def, tb->tschema, tb->tname, &d), target_error(tgt));
            if (d.created) printf("created\n");
            static const char *kn[] = { "", "missing", "extra", "type" };
            for (int i = 0; i < d.ndiffs; i++)
                printf("diff %s %s %s %s\n", kn[d.diffs[i].kind], d.diffs[i].column,
                       d.diffs[i].want[0] ? d.diffs[i].want : "-",
                       d.diffs[i].have[0] ? d.diffs[i].have : "-");
            if (!d.created && !d.ndiffs) printf("same\n");
            target_table_diff_free(&d);
        } else if (!strcmp(op, "insert") || !strcmp(op, "update") || !strcmp(op, "updatek") ||
                   !strcmp(op, "delete") || !strcmp(op, "deletek") || !strcmp(op, "truncate")) {
            if (n < 2) die("%s", "which table?");
            struct tab *tb = find_tab(t[1].s);
            struct zvalue *before = calloc((size_t)tb->def.ncols, sizeof *before);
            struct zvalue *after = calloc((size_t)tb->def.ncols, sizeof *after);
            struct zrowchange rc = { .table = &tb->def };
            int i = 2;
            if (!strcmp(op, "insert")) {
                rc.op = ZOP_INSERT;
                i = parse_image(tb, t, i, n, after, 0);
                rc.after = after;
            } else if (!strcmp(op, "update") || !strcmp(op, "updatek")) {
                rc.op = ZOP_UPDATE;
                rc.before_key_only = op[6] == 'k';
                i = parse_image(tb, t, i, n, before, rc.before_key_only);
                if (i >= n || t[i].quoted || strcmp(t[i].s, "->") != 0) die("%s", "update needs OLD -> NEW");
                i = parse_image(tb, t, i + 1, n, after, 0);
                rc.before = before;
                rc.after = after;
            } else if (!strcmp(op, "delete") || !strcmp(op, "deletek")) {
                rc.op = ZOP_DELETE;
                rc.before_key_only = op[6] == 'k';
                i = parse_image(tb, t, i, n, before, rc.before_key_only);
                rc.before = before;
            } else
                rc.op = ZOP_TRUNCATE;
            if (i != n) die("%s", "too many values");
            check(zbatch_add(batch, &rc, tb->tschema, tb->tname), batch->err);
            memset(line, 0, linelen);   /* the batch must not keep borrowed bytes */
            free(before);
            free(after);
        } else if (!strcmp(op, "begin")) {
            ensure_batch_txn(&in_txn);
        } else if (!strcmp(op, "apply")) {
            ensure_batch_txn(&in_txn);
            check(target_apply(tgt, batch), target_error(tgt));
            zbatch_reset(batch);
        } else if (!strcmp(op, "sleep") && n == 2) {
            sleep((unsigned)atoi(t[1].s));
        } else if (!strcmp(op, "commit") && n >= 2) {
            struct zpos pos;
            char perr[300];
            check(zpos_parse(&pos, t[1].s, perr, sizeof perr), perr);
            ensure_batch_txn(&in_txn);
            if (!zbatch_empty(batch)) check(target_apply(tgt, batch), target_error(tgt));
            zbatch_reset(batch);
            in_txn = 0;
            check(target_commit(tgt, &pos, n > 2 ? strtoll(t[2].s, NULL, 10) : 0), target_error(tgt));
        } else if (!strcmp(op, "rollback")) {
            target_rollback(tgt);
            zbatch_reset(batch);
            in_txn = 0;
        } else if (!strcmp(op, "checkpoint")) {
            struct zpos pos;
            int64_t ct;
            int rc = target_read_checkpoint(tgt, &pos, &ct);
            check(rc < 0, target_error(tgt));
            char p[2048];
            zpos_format(&pos, p, sizeof p);
            if (rc == 0) printf("checkpoint none\n");
            else printf("checkpoint %s %lld\n", p, (long long)ct);
        } else if (!strcmp(op, "stats") && n == 2) {
            struct tab *tb = find_tab(t[1].s);
            for (int i = 0; i < batch->ntables; i++)
                if (!strcmp(batch->tables[i].def->name, tb->def.name) &&
                    !strcmp(batch->tables[i].def->schema, tb->def.schema))
                    printf("stats %llu %llu %llu %llu\n",
                           (unsigned long long)batch->tables[i].inserts,
                           (unsigned long long)batch->tables[i].updates,
                           (unsigned long long)batch->tables[i].deletes,
                           (unsigned long long)batch->tables[i].truncates);
        } else if ((!strcmp(op, "addcol") || !strcmp(op, "widen")) && n == 3) {
            struct tab *tb = find_tab(t[1].s);
            struct zcolumn c;
            int npk = 0;
            parse_col(t[2].s, &c, &npk);
            c.nullable = 1;
            const char *s = tb->tschema ? tb->tschema : tb->def.schema;
            const char *nm = tb->tname ? tb->tname : tb->def.name;
            check(op[0] == 'a' ? target_add_column(tgt, s, nm, &c) : target_widen_column(tgt, s, nm, &c),
                  target_error(tgt));
            free(c.name);
            free(c.source_type);
        } else if (!strcmp(op, "dropcol") && n == 3) {
            struct tab *tb = find_tab(t[1].s);
            check(target_drop_column(tgt, tb->tschema ? tb->tschema : tb->def.schema,
                                     tb->tname ? tb->tname : tb->def.name, t[2].s), target_error(tgt));
        } else if (!strcmp(op, "renamecol") && n == 4) {
            struct tab *tb = find_tab(t[1].s);
            check(target_rename_column(tgt, tb->tschema ? tb->tschema : tb->def.schema,
                                       tb->tname ? tb->tname : tb->def.name, t[2].s, t[3].s),
                  target_error(tgt));
        } else if (!strcmp(op, "renametable") && n == 3) {
            struct tab *tb = find_tab(t[1].s);
            check(target_rename_table(tgt, tb->tschema ? tb->tschema : tb->def.schema,
                                      tb->tname ? tb->tname : tb->def.name, t[2].s), target_error(tgt));
        } else if (!strcmp(op, "truncatetable") && n == 2) {
            struct tab *tb = find_tab(t[1].s);
            check(target_truncate(tgt, &tb->def, tb->tschema ? tb->tschema : tb->def.schema,
                                  tb->tname ? tb->tname : tb->def.name), target_error(tgt));
        } else if (!strcmp(op, "droptable") && n == 2) {
            struct tab *tb = find_tab(t[1].s);
            check(target_drop_table(tgt, tb->tschema ? tb->tschema : tb->def.schema,
                                    tb->tname ? tb->tname : tb->def.name), target_error(tgt));
        } else if (!strcmp(op, "check-redshift")) {
            char fix[600];
            int rc = target_check_redshift(tgt, fix, sizeof fix);
            if (rc < 0) printf("check-redshift error: %s\n", target_error(tgt));
            else printf("check-redshift %s\n", rc ? fix : "ok");
        } else
            die("unknown operation: %s", op);
    }
    zbatch_free(batch);
    target_close(tgt);
    return 0;
}
