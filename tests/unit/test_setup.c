/*
 * test_setup.c — the setup walkthrough's pure parts: the YAML writer
 * round-trips through config_load() (tricky passwords, ${VAR} references,
 * patterns with % _ and \, both source kinds, answers → config → YAML), the
 * 0600 file writer, LIKE escaping, the field validators and editing, the
 * connection-failure classifier, DSN masking and list splitting.
 */
#include "config/config.h"
#include "config/write.h"
#include "runtime/check/setup.h"
#include "tests/unit/test.h"
#include "tui/setup_form.h"
#include "views/setup.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char err[8192];

static struct config *load(const char *yaml)
{
    struct config *c = NULL;
    err[0] = '\0';
    if (config_load_buffer("t.yaml", yaml, strlen(yaml), &c, err, sizeof err) != 0) return NULL;
    return c;
}

static int same_str(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static int same_list(char **a, int na, char **b, int nb)
{
    if (na != nb) return 0;
    for (int i = 0; i < na; i++) if (!same_str(a[i], b[i])) return 0;
    return 1;
}

/* Every key the writer covers, field by field; names the first difference. */
static const char *config_diff(const struct config *a, const struct config *b)
{
    if (!same_str(a->state_dir, b->state_dir)) return "state_dir";
    if (a->nintegrations != b->nintegrations) return "nintegrations";
    for (int i = 0; i < a->nintegrations; i++) {
        const struct config_integration *x = &a->integrations[i], *y = &b->integrations[i];
        const struct config_source *s = &x->source, *t = &y->source;
        if (!same_str(x->name, y->name)) return "name";
        if (s->kind != t->kind) return "source.kind";
        if (!same_str(s->host, t->host)) return "source.host";
        if (s->port != t->port) return "source.port";
        if (!same_str(s->user, t->user)) return "source.user";
        if (!same_str(s->password, t->password)) return "source.password";
        if (!same_str(s->password_command, t->password_command)) return "source.password_command";
        if (!same_list(s->databases, s->ndatabases, t->databases, t->ndatabases)) return "source.databases";
        if (!same_str(s->database, t->database)) return "source.database";
        if (!same_list(s->schemas, s->nschemas, t->schemas, t->nschemas)) return "source.schemas";
        if (s->server_id != t->server_id) return "source.server_id";
        if (s->tls != t->tls) return "source.tls";
        if (!same_str(s->slot, t->slot)) return "source.slot";
        if (!same_str(s->publication, t->publication)) return "source.publication";
        if (x->target.kind != y->target.kind) return "target.kind";
        if (!same_str(x->target.dsn, y->target.dsn)) return "target.dsn";
        if (!same_str(x->target.url, y->target.url)) return "target.url";
        if (x->target.nheaders != y->target.nheaders) return "target.headers";
        for (int h = 0; h < x->target.nheaders; h++)
            if (!same_str(x->target.headers[h].name, y->target.headers[h].name) ||
                !same_str(x->target.headers[h].value, y->target.headers[h].value)) return "target.headers";
        const struct config_tables *u = &x->tables, *v = &y->tables;
        if (!same_list(u->include, u->ninclude, v->include, v->ninclude)) return "tables.include";
        if (!same_list(u->exclude, u->nexclude, v->exclude, v->nexclude)) return "tables.exclude";
        if (!same_list(u->exclude_columns, u->nexclude_columns, v->exclude_columns, v->nexclude_columns))
            return "tables.exclude_columns";
        if (u->nrename != v->nrename) return "tables.rename";
        for (int r = 0; r < u->nrename; r++)
            if (!same_str(u->rename[r].from, v->rename[r].from) || !same_str(u->rename[r].to, v->rename[r].to))
                return "tables.rename";
        if (memcmp(&x->apply, &y->apply, sizeof x->apply) != 0) return "apply";
    }
    return "";
}

/* Load yaml, write it back, load that: the same config? */
static void round_trip(const char *yaml, const char *what)
{
    char title[200];
    struct config *a = load(yaml);
    snprintf(title, sizeof title, "%s: the source YAML loads", what);
    CHECK_STR(a ? "" : err, "", title);
    if (!a) return;
    char *text = NULL;
    snprintf(title, sizeof title, "%s: written as YAML", what);
    CHECK_INT(config_to_yaml(a, NULL, &text, err, sizeof err), 0, title);
    struct config *b = text ? load(text) : NULL;
    snprintf(title, sizeof title, "%s: the written YAML loads", what);
    CHECK_STR(b ? "" : err, "", title);
    if (b) {
        snprintf(title, sizeof title, "%s: every value survives", what);
        CHECK_STR(config_diff(a, b), "", title);
    }
    config_yaml_free(text);
    config_free(a);
    config_free(b);
}

static void test_round_trip(void)
{
    setenv("ZT_HOME_X", "expanded", 1);
    round_trip(
        "state_dir: /var/lib/zetl test\n"
        "integrations:\n"
        "  - name: shop-1\n"
        "    source:\n"
        "      kind: mysql\n"
        "      host: db.internal\n"
        "      port: 3307\n"
        "      user: \"repl: one # two\"\n"
        "      password: \"p: w#d \\\"q\\\" \\\\ $${HOME} $$ ${ZT_HOME_X} \\t tab é\"\n"
        "      databases: [shop, \"we ird\", \"a,b\"]\n"
        "      server_id: 4294967295\n"
        "      tls: verify-full\n"
        "    target:\n"
        "      kind: postgres\n"
        "      dsn: \"host=h dbname=w user=u password='p q#'\"\n"
        "    tables:\n"
        "      include: [\"shop.%\", \"shop.order\\\\_%\", \"we ird.t_\"]\n"
        "      exclude: [\"shop.tmp\\\\_%\"]\n"
        "      rename: [{from: \"shop.users\", to: \"crm.users\"}]\n"
        "      exclude_columns: [\"shop.users.password_hash\"]\n"
        "    apply:\n"
        "      batch_rows: 500\n"
        "      memory_mb: 64\n"
        "      drift_check_seconds: 0\n", "mysql with tricky values (drift check off)");
    round_trip(
        "integrations:\n"
        "  - name: pg\n"
        "    source:\n"
        "      kind: postgres\n"
        "      host: pg\n"
        "      user: zetl\n"
        "      password_command: \"echo 'a b' | tr a b # $${not_expanded_here}\"\n"
        "      database: app\n"
        "      schemas: [public, billing]\n"
        "      slot: zetl_pg_slot\n"
        "      tls: disable\n"
        "    target:\n"
        "      kind: redshift\n"
        "      dsn: \"postgres://u:p%40ss@rs.example.com:5439/dw?sslmode=require\"\n"
        "    tables:\n"
        "      include: [\"public.%\", \"billing.invoice\\\\%\"]\n"
        "    apply:\n"
        "      copy_workers: 4\n"
        "      drift_check_seconds: 90\n", "postgres into redshift with a password command");
}

static void test_password_env(void)
{
    struct config *a = load("integrations:\n  - name: e\n    source:\n      kind: mysql\n      user: u\n"
                            "      password: secret-value\n      databases: [d]\n"
                            "    target:\n      kind: postgres\n      dsn: \"host=h\"\n"
                            "    tables:\n      include: [\"d.%\"]\n");
    CHECK(a != NULL, "the config loads");
    if (!a) return;
    const char *env[1] = {"ZT_SETUP_PW"};
    struct config_yaml_opts o = {env, "written by a test\nsecond line", 0};
    char *text = NULL;
    CHECK_INT(config_to_yaml(a, &o, &text, err, sizeof err), 0, "written with a ${VAR} password");
    CHECK(text && strstr(text, "password: \"${ZT_SETUP_PW}\""), "the file refers to ${ZT_SETUP_PW}");
    CHECK(text && !strstr(text, "secret-value"), "the password itself is not in the file");
    const char *lead = "# written by a test\n# second line\n";
    CHECK(text && !strncmp(text, lead, strlen(lead)), "the comment leads, as # lines");
    unsetenv("ZT_SETUP_PW");
    struct config *b = text ? load(text) : NULL;
    CHECK(b == NULL && strstr(err, "ZT_SETUP_PW"), "unset: the load names the variable");
    config_free(b);
    setenv("ZT_SETUP_PW", "from the env: #1", 1);
    b = text ? load(text) : NULL;
    CHECK_STR(b ? b->integrations[0].source.password : err, "from the env: #1", "set: the password comes from it");
    config_free(b);
    config_yaml_free(text);

    struct config_yaml_opts m = {NULL, NULL, 1};
    CHECK_INT(config_to_yaml(a, &m, &text, err, sizeof err), 0, "written masked");
    CHECK(text && !strstr(text, "secret-value") && strstr(text, "password: \"***\""), "masked: password is ***");
    config_yaml_free(text);
    config_free(a);

    a = load("integrations:\n  - name: e\n    source:\n      kind: mysql\n      user: u\n      databases: [d]\n"
             "    target:\n      kind: postgres\n      dsn: \"host=h user=u password=hunter2 dbname=x\"\n"
             "    tables:\n      include: [\"d.%\"]\n");
    CHECK(a && config_to_yaml(a, &m, &text, err, sizeof err) == 0, "a DSN with a password, masked");
    CHECK(text && !strstr(text, "hunter2") && strstr(text, "password=***"), "masked: the DSN's password is ***");
    config_yaml_free(text);
    if (a) {
        free(a->integrations[0].source.user);
        a->integrations[0].source.user = strdup("bad \xff byte");
        CHECK_INT(config_to_yaml(a, NULL, &text, err, sizeof err), -1, "a value that is not UTF-8 is refused");
        CHECK(strstr(err, "user") != NULL, "the error names the key");
    }
    config_free(a);
}

/* The walkthrough's own path: answers → setup_cfg → YAML → config_load. */
static void test_answers(void)
{
    static struct setup_answers a;
    static struct setup_cfg c;
    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "my_db-1");
    a.kind = SOURCE_MYSQL;
    snprintf(a.host, sizeof a.host, "127.0.0.1");
    a.port = 3306;
    snprintf(a.user, sizeof a.user, "zetl");
    snprintf(a.password, sizeof a.password, "pa: ss #${x}");
    snprintf(a.databases, sizeof a.databases, "my_db, other");
    a.server_id = 77;
    a.tls = TLS_PREFER;
    a.tkind = TARGET_POSTGRES;
    snprintf(a.dsn, sizeof a.dsn, "host=127.0.0.1 dbname=w");
    snprintf(a.include, sizeof a.include, "my\\_db.order%%, other.%%");
    snprintf(a.state_dir, sizeof a.state_dir, "/tmp/zetl-state");
    CHECK_INT(setup_cfg_build(&c, &a, err, sizeof err), 0, "mysql answers build a config");
    char *text = NULL;
    CHECK_INT(config_to_yaml(&c.c, NULL, &text, err, sizeof err), 0, "and it is written");
    struct config *b = text ? load(text) : NULL;
    CHECK_STR(b ? "" : err, "", "the written config loads");
    if (b) {
        const struct config_integration *ig = &b->integrations[0];
        CHECK_STR(ig->source.password, "pa: ss #${x}", "the password with ': ', '#' and '${' survives");
        CHECK_INT(ig->source.ndatabases, 2, "two databases");
        CHECK_STR(ig->tables.include[0], "my\\_db.order%", "the escaped pattern survives");
        CHECK_INT(config_table_selected(&ig->tables, "my_db", "orders"), 1, "it selects my_db.orders");
        CHECK_INT(config_table_selected(&ig->tables, "myXdb", "orders"), 0, "but not myXdb.orders");
        CHECK_INT((int)ig->source.server_id, 77, "server_id");
        CHECK_STR(b->state_dir, "/tmp/zetl-state", "state_dir");
    }
    config_free(b);
    config_yaml_free(text);

    a.kind = SOURCE_POSTGRES;
    a.pw_mode = SETUP_PW_COMMAND;
    snprintf(a.password_command, sizeof a.password_command, "printf '%%s' \"$TOKEN\"");
    snprintf(a.database, sizeof a.database, "app");
    a.schemas[0] = '\0';
    snprintf(a.include, sizeof a.include, "public.%%");
    a.tkind = TARGET_REDSHIFT;
    CHECK_INT(setup_cfg_build(&c, &a, err, sizeof err), 0, "postgres answers build a config");
    CHECK(c.ig.source.password == NULL, "with a password command, no password");
    CHECK_STR(c.ig.source.slot, "zetl_my_db_1", "the default slot name follows the integration's");
    text = NULL;
    CHECK_INT(config_to_yaml(&c.c, NULL, &text, err, sizeof err), 0, "and it is written");
    b = text ? load(text) : NULL;
    CHECK_STR(b ? "" : err, "", "the written config loads");
    if (b) {
        const struct config_integration *ig = &b->integrations[0];
        CHECK_STR(ig->source.password_command, "printf '%s' \"$TOKEN\"", "the command survives");
        CHECK_STR(ig->source.schemas[0], "public", "schemas default to public");
        CHECK_INT(ig->target.kind, TARGET_REDSHIFT, "redshift target");
    }
    config_free(b);
    config_yaml_free(text);

    a.pw_mode = SETUP_PW_ENV;
    snprintf(a.password_var, sizeof a.password_var, "ZT_SETUP_PW2");
    snprintf(a.password, sizeof a.password, "typed");
    unsetenv("ZT_SETUP_PW2");
    setup_cfg_build(&c, &a, err, sizeof err);
    CHECK_STR(c.ig.source.password, "typed", "${VAR} unset: the typed password is used for the tests");
    setenv("ZT_SETUP_PW2", "from-env", 1);
    setup_cfg_build(&c, &a, err, sizeof err);
    CHECK_STR(c.ig.source.password, "from-env", "${VAR} set: its value is used");
    setup_cfg_wipe(&c);
}

static void test_write_file(void)
{
    char dir[] = "/tmp/zetl-test-setup.XXXXXX", path[256], deep[256];
    CHECK(mkdtemp(dir) != NULL, "a temporary directory");
    snprintf(path, sizeof path, "%s/zetl.yaml", dir);
    snprintf(deep, sizeof deep, "%s/a/b/zetl.yaml", dir);
    struct stat st;
    CHECK_INT(config_write_file(path, "one\n", 0, err, sizeof err), 0, "a new file is written");
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "with mode 0600");
    CHECK_INT(config_write_file(path, "two\n", 0, err, sizeof err), 1, "an existing file is not replaced unasked");
    FILE *f = fopen(path, "r");
    char buf[16] = "";
    if (f) { if (!fgets(buf, sizeof buf, f)) buf[0] = '\0'; fclose(f); }
    CHECK_STR(buf, "one\n", "and keeps its contents");
    chmod(path, 0644);
    CHECK_INT(config_write_file(path, "three\n", 1, err, sizeof err), 0, "replaced when allowed");
    f = fopen(path, "r");
    if (f) { if (!fgets(buf, sizeof buf, f)) buf[0] = '\0'; fclose(f); }
    CHECK_STR(buf, "three\n", "with the new contents");
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "and mode 0600 again");
    CHECK_INT(config_write_file(deep, "x\n", 0, err, sizeof err), 0, "missing directories are created");
    char sub[256];
    snprintf(sub, sizeof sub, "%s/a", dir);
    CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700, "with mode 0700");
    char bad[300];
    snprintf(bad, sizeof bad, "%s/zetl.yaml/inside", dir);
    CHECK_INT(config_write_file(bad, "x\n", 0, err, sizeof err), -1, "a path through a file fails");
    CHECK(strstr(err, bad) != NULL, "naming the path");
    unlink(deep);
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    rmdir(sub);
    snprintf(sub, sizeof sub, "%s/a", dir);
    rmdir(sub);
    unlink(path);
    rmdir(dir);
}

static void test_like_escape(void)
{
    char b[64];
    CHECK_INT(config_like_escape("order_lines", b, sizeof b), 0, "escape fits");
    CHECK_STR(b, "order\\_lines", "_ escaped");
    config_like_escape("a%b.c\\d", b, sizeof b);
    CHECK_STR(b, "a\\%b\\.c\\\\d", "% . and \\ escaped");
    CHECK_INT(config_like_escape("abcdef", b, 4), -1, "too small a buffer");
    char pat[200], es[64], et[64];
    config_like_escape("my.db", es, sizeof es);
    config_like_escape("t_1", et, sizeof et);
    snprintf(pat, sizeof pat, "%s.%s", es, et);
    char *inc[1] = {pat};
    struct config_tables t = {.include = inc, .ninclude = 1};
    CHECK_INT(config_table_selected(&t, "my.db", "t_1"), 1, "an escaped name selects itself");
    CHECK_INT(config_table_selected(&t, "my.db", "tx1"), 0, "and nothing else");
}

#define VALID(fn, v, want, what) do { char m_[300] = ""; CHECK_INT(fn(v, m_, sizeof m_), want, what); \
    if (want) CHECK(m_[0] != 0, "  and says why"); } while (0)

static void test_validators(void)
{
    VALID(setup_valid_host, "db.internal", 0, "host: a name");
    VALID(setup_valid_host, "", -1, "host: empty");
    VALID(setup_valid_host, "db internal", -1, "host: a space");
    VALID(setup_valid_host, "db:3306", -1, "host: a port after a colon");
    VALID(setup_valid_host, "::1", 0, "host: an IPv6 address");
    VALID(setup_valid_port, "1", 0, "port 1");
    VALID(setup_valid_port, "65535", 0, "port 65535");
    VALID(setup_valid_port, "0", -1, "port 0");
    VALID(setup_valid_port, "65536", -1, "port 65536");
    VALID(setup_valid_port, "33a", -1, "port with a letter");
    VALID(setup_valid_port, "", -1, "port empty");
    VALID(setup_valid_user, "", -1, "user empty");
    VALID(setup_valid_user, "repl", 0, "user");
    VALID(setup_valid_server_id, "4294967295", 0, "server_id at its maximum");
    VALID(setup_valid_server_id, "4294967296", -1, "server_id past it");
    VALID(setup_valid_server_id, "0", -1, "server_id 0");
    VALID(setup_valid_name, "shop_1-a", 0, "name");
    VALID(setup_valid_name, "shop.1", -1, "name with a dot");
    VALID(setup_valid_name, "", -1, "name empty");
    VALID(setup_valid_names, "a, b", 0, "names");
    VALID(setup_valid_names, " , ", -1, "names: none");
    VALID(setup_valid_names, "a b", -1, "names: space-separated");
    VALID(setup_valid_env_var, "SHOP_PW", 0, "variable");
    VALID(setup_valid_env_var, "1PW", -1, "variable starting with a digit");
    VALID(setup_valid_env_var, "PW-X", -1, "variable with a dash");
    VALID(setup_valid_patterns, "shop.%, shop.order\\_%", 0, "patterns");
    VALID(setup_valid_patterns, "shop", -1, "pattern without a dot");
    VALID(setup_valid_patterns, "a.b.c", -1, "pattern with two dots");
    VALID(setup_valid_patterns, "a\\.b.c", 0, "an escaped dot is part of a name");
    VALID(setup_valid_patterns, ".t", -1, "an empty schema part");
    VALID(setup_valid_patterns, "", -1, "no pattern");
    VALID(setup_valid_state_dir, "/var/lib/zetl", 0, "state dir absolute");
    VALID(setup_valid_state_dir, "~/zetl", 0, "state dir in home");
    VALID(setup_valid_state_dir, "state", -1, "state dir relative");
    VALID(setup_valid_path, "/etc/zetl/", -1, "config path is a directory");
    VALID(setup_valid_text, "ok \xc3\xa9", 0, "UTF-8 text");
    VALID(setup_valid_text, "bad \xc3", -1, "a cut UTF-8 sequence");
    VALID(setup_dsn_check, "host=h dbname=d", 0, "DSN conninfo");
    VALID(setup_dsn_check, "postgresql://u@h/d", 0, "DSN URI");
    VALID(setup_dsn_check, "host=h password='unterminated", -1, "DSN with an open quote");
    char m[300];
    setup_dsn_check("host=h password='s3cret", m, sizeof m);
    CHECK(strstr(m, "s3cret") == NULL, "the DSN error never quotes the password");
}

static void test_field_editing(void)
{
    struct setup_field f;
    memset(&f, 0, sizeof f);
    setup_field_set(&f, "ab");
    setup_field_key(&f, 'c');
    CHECK_STR(f.value, "abc", "typing appends at the cursor");
    setup_field_key(&f, KEY_HOME);
    setup_field_key(&f, 'x');
    CHECK_STR(f.value, "xabc", "Home then typing inserts at the start");
    setup_field_key(&f, KEY_END);
    setup_field_key(&f, 0xc3);
    setup_field_key(&f, 0xa9);
    CHECK_STR(f.value, "xabc\xc3\xa9", "UTF-8 bytes are inserted");
    setup_field_key(&f, KEY_BACKSPACE);
    CHECK_STR(f.value, "xabc", "Backspace removes a whole UTF-8 character");
    setup_field_move(&f, -1);
    setup_field_key(&f, KEY_DC);
    CHECK_STR(f.value, "xab", "Del removes the character under the cursor");
    setup_field_key(&f, 21);
    CHECK_STR(f.value, "", "^U clears");
    f.max = 3;
    for (const char *p = "12345"; *p; p++) setup_field_key(&f, *p);
    CHECK_STR(f.value, "123", "typing stops at the field's maximum");
    CHECK_INT(setup_field_key(&f, KEY_F(2)), 0, "a function key is not an edit");
    struct setup_field c;
    static const char *const ch[] = {"a", "b", "c"};
    memset(&c, 0, sizeof c);
    c.type = SETUP_CHOICE;
    c.choices = ch;
    c.nchoices = 3;
    setup_field_key(&c, ' ');
    CHECK_INT(c.choice, 1, "Space: the next choice");
    setup_field_move(&c, -1);
    setup_field_move(&c, -1);
    CHECK_INT(c.choice, 2, "Left wraps to the last choice");
    char name[64];
    setup_name_from("my db.prod", name, sizeof name);
    CHECK_STR(name, "my_db_prod", "a name from a database name");
}

static void test_classify(void)
{
    CHECK_INT(setup_classify("Access denied for user 'zetl'@'localhost' (using password: YES)", 1045, 5, 8000),
              SETUP_CAUSE_AUTH, "MySQL 1045: authentication");
    CHECK_INT(setup_classify("Unknown server host 'nonexistent.invalid' (-2)", 2005, 5, 8000), SETUP_CAUSE_DNS,
              "MySQL 2005: DNS");
    CHECK_INT(setup_classify("Can't connect to server on '127.0.0.1' (115)", 2002, 3, 8000), SETUP_CAUSE_REFUSED,
              "MySQL 2002 at once: refused");
    CHECK_INT(setup_classify("Can't connect to server on '10.0.0.1' (115)", 2002, 7900, 8000), SETUP_CAUSE_TIMEOUT,
              "MySQL 2002 after the whole timeout: timeout");
    CHECK_INT(setup_classify("Lost connection to server at 'handshake: reading initial communication packet', system error: 110",
                             2013, 8000, 8000), SETUP_CAUSE_TIMEOUT, "MySQL 2013 error 110: timeout");
    CHECK_INT(setup_classify("Unknown database 'x'", 1049, 3, 8000), SETUP_CAUSE_NO_DATABASE, "MySQL 1049: unknown database");
    CHECK_INT(setup_classify("SSL connection error: ...", 2026, 3, 8000), SETUP_CAUSE_TLS, "MySQL 2026: TLS");
    CHECK_INT(setup_classify("connection to server at \"127.0.0.1\", port 1 failed: Connection refused Is the server running", 0, 2, 8000),
              SETUP_CAUSE_REFUSED, "libpq: refused");
    CHECK_INT(setup_classify("could not translate host name \"nonexistent.invalid\" to address: Name or service not known", 0, 2, 8000),
              SETUP_CAUSE_DNS, "libpq: DNS");
    CHECK_INT(setup_classify("connection to server at \"127.0.0.1\", port 5 failed: FATAL: password authentication failed for user \"zetl\"", 0, 2, 8000),
              SETUP_CAUSE_AUTH, "libpq: authentication");
    CHECK_INT(setup_classify("FATAL: no pg_hba.conf entry for host \"10.0.0.2\"", 0, 2, 8000), SETUP_CAUSE_AUTH,
              "libpq: pg_hba.conf");
    CHECK_INT(setup_classify("FATAL: database \"nope\" does not exist", 0, 2, 8000), SETUP_CAUSE_NO_DATABASE,
              "libpq: unknown database");
    CHECK_INT(setup_classify("timeout expired", 0, 8000, 8000), SETUP_CAUSE_TIMEOUT, "libpq: timeout");
    CHECK_INT(setup_classify("SSL SYSCALL error: EOF detected", 0, 2, 8000), SETUP_CAUSE_TLS, "libpq: TLS");
    CHECK_INT(setup_classify("something else entirely", 0, 2, 8000), SETUP_CAUSE_OTHER, "anything else: unknown");
    CHECK_STR(setup_cause_name(SETUP_CAUSE_AUTH), "authentication", "the cause's name");
    CHECK(strlen(setup_cause_hint(SETUP_CAUSE_DNS)) > 20, "every cause has a hint");
}

static void test_mask_and_split(void)
{
    char m[256];
    setup_mask_dsn("host=h password=secret user=u", m, sizeof m);
    CHECK_STR(m, "host=h password=****** user=u", "conninfo password masked in place");
    setup_mask_dsn("password = 'se cr\\'et' dbname=d", m, sizeof m);
    CHECK_STR(m, "password = '*********' dbname=d", "a quoted password with a space and a quote");
    setup_mask_dsn("postgresql://user:pw@host:5432/db?password=x&sslmode=require", m, sizeof m);
    CHECK_STR(m, "postgresql://user:**@host:5432/db?password=*&sslmode=require", "URI user:pass@ and ?password=");
    setup_mask_dsn("host=h mypassword=x", m, sizeof m);
    CHECK_STR(m, "host=h mypassword=x", "only the password keyword");
    char buf[256], *items[8];
    CHECK_INT(setup_split_list(" a, b ,,c ", buf, sizeof buf, items, 8), 3, "three items, blanks trimmed, empty skipped");
    CHECK(!strcmp(items[0], "a") && !strcmp(items[1], "b") && !strcmp(items[2], "c"), "a, b, c");
    CHECK_INT(setup_split_list("x\\,y, z", buf, sizeof buf, items, 8), 2, "an escaped comma stays in its item");
    CHECK_STR(items[0], "x,y", "x,y");
    CHECK_INT(setup_split_list("a,b,c", buf, sizeof buf, items, 2), -1, "more items than room");
    CHECK_INT(setup_split_list("", buf, sizeof buf, items, 2), 0, "an empty list");
}

static void test_keymaps(void)
{
    const struct keymap *maps[] = {&keymap_setup_form, &keymap_setup_checks, &keymap_setup_pattern,
                                   &keymap_setup_list, &keymap_setup_review, &keymap_setup_start,
                                   &keymap_setup_prompt};
    int ok = 1;
    for (size_t m = 0; m < sizeof maps / sizeof maps[0]; m++)
        for (size_t i = 0; i < maps[m]->n; i++)
            ok &= maps[m]->b[i].keys[0] != 0 && maps[m]->b[i].name && maps[m]->b[i].help && maps[m]->b[i].help[0];
    CHECK(ok, "every binding has a key, a name and a help line");
    const struct keymap *text[] = {&keymap_setup_form, &keymap_setup_pattern, &keymap_setup_review};
    int letters = 1;
    for (size_t m = 0; m < 3; m++)
        for (int ch = ' '; ch < 127; ch++) letters &= keymap_lookup(text[m], ch) == A_NONE;
    CHECK(letters, "in a form every printable character is text, never a command");
    CHECK_INT(keymap_lookup(&keymap_setup_form, '\n'), A_ENTER, "Enter: next field / test");
    CHECK_INT(keymap_lookup(&keymap_setup_form, 27), A_BACK, "Esc: back a step");
    CHECK_INT(keymap_lookup(&keymap_setup_form, KEY_F(5)), A_GO, "F5: test from any field");
    CHECK_INT(keymap_lookup(&keymap_setup_form, KEY_F(1)), A_HELP, "F1: help");
    CHECK_INT(keymap_lookup(&keymap_setup_checks, 'r'), A_RERUN, "r re-runs the checks");
    CHECK_INT(keymap_lookup(&keymap_setup_list, ' '), A_TOGGLE, "Space picks a table");
    CHECK_INT(keymap_lookup(&keymap_setup_prompt, 'y'), A_ENTER, "y answers yes");
}

int main(void)
{
    TEST_RUN(test_round_trip);
    TEST_RUN(test_password_env);
    TEST_RUN(test_answers);
    TEST_RUN(test_write_file);
    TEST_RUN(test_like_escape);
    TEST_RUN(test_validators);
    TEST_RUN(test_field_editing);
    TEST_RUN(test_classify);
    TEST_RUN(test_mask_and_split);
    TEST_RUN(test_keymaps);
    return test_exit();
}
