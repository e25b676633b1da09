/*
 * test_config.c — the config loader: malformed configs (exact first error
 * line), good configs and defaults, ${VAR} expansion, example.yaml, LIKE
 * matching, table selection, redaction and password_command.
 */
#include "config/config.h"
#include "tests/unit/test.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A minimal valid config; malformed cases are built by editing copies of it.
 * Line numbers below refer to this layout:
 *  1 integrations:
 *  2   - name: tickit
 *  3     source:
 *  4       kind: mysql
 *  5       user: repl
 *  6       databases: [tickit]
 *  7     target:
 *  8       kind: postgres
 *  9       dsn: "host=h dbname=w"
 * 10     tables:
 * 11       include: ["tickit.%"]
 */
#define L1  "integrations:\n"
#define L2  "  - name: tickit\n"
#define L3  "    source:\n"
#define L4  "      kind: mysql\n"
#define L5  "      user: repl\n"
#define L6  "      databases: [tickit]\n"
#define L7  "    target:\n"
#define L8  "      kind: postgres\n"
#define L9  "      dsn: \"host=h dbname=w\"\n"
#define L10 "    tables:\n"
#define L11 "      include: [\"tickit.%\"]\n"
#define GOOD L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 L11

static char errbuf[8192];

/* Loads yaml as "t.yaml"; returns the first error line ("" when it loaded). */
static const char *first_error(const char *yaml)
{
    static char first[2048];
    struct config *c = NULL;

    errbuf[0] = '\0';
    if (config_load_buffer("t.yaml", yaml, strlen(yaml), &c, errbuf, sizeof errbuf) == 0) {
        config_free(c);
        return "";
    }
    size_t n = strcspn(errbuf, "\n");
    if (n >= sizeof first)
        n = sizeof first - 1;
    memcpy(first, errbuf, n);
    first[n] = '\0';
    return first;
}

#define BAD(yaml, expected, what) CHECK_STR(first_error(yaml), expected, what)

static void test_bad_structure(void)
{
    BAD("", "t.yaml:1:1: the config is empty; it needs at least `integrations:` (see config/example.yaml)",
        "empty file");
    BAD("- a\n- b\n", "t.yaml:1:1: the top level must be a mapping with `integrations:` (see config/example.yaml), got a list",
        "top level is a list");
    BAD("just a string\n", "t.yaml:1:1: the top level must be a mapping with `integrations:` (see config/example.yaml), got a string",
        "top level is a scalar");
    BAD("state_dir: /tmp/x\n", "t.yaml:1:1: missing required field `integrations` at the top level; add integrations: [{name: ..., source: ..., target: ..., tables: ...}]",
        "no integrations");
    BAD("integrations: []\n", "t.yaml:1:15: integrations is empty; add at least one (see config/example.yaml)",
        "empty integrations");
    BAD("integrations: {a: 1}\n", "t.yaml:1:15: integrations must be a list (each item starts with \"- name: ...\"), got a mapping",
        "integrations is a mapping");
    BAD("integrations:\n  - tickit\n", "t.yaml:2:5: each integration must be a mapping with name, source, target and tables, got a string",
        "integration is a scalar");
    BAD(GOOD "statedir: /tmp\n", "t.yaml:12:1: unknown key `statedir` at the top level; did you mean `state_dir`?",
        "unknown top-level key with suggestion");
    BAD(L1 L2 L3 L4 "      hots: db1\n" L5 L6 L7 L8 L9 L10 L11,
        "t.yaml:5:7: unknown key `hots` in source; did you mean `host`?", "unknown key hots");
    BAD(L1 L2 L3 L4 L5 L6 "      colour: blue\n" L7 L8 L9 L10 L11,
        "t.yaml:7:7: unknown key `colour` in source; valid keys: kind, host, port, user, password, password_command, databases, database, schemas, server_id, tls, slot, publication",
        "unknown key without suggestion lists the valid ones");
    BAD(L1 L2 L3 L4 L5 L6 "      include: [\"tickit.%\"]\n" L7 L8 L9 L10 L11,
        "t.yaml:7:7: unknown key `include` in source; `include` belongs in tables",
        "key of another section");
    BAD(L1 L2 L3 L4 L5 "      user: other\n" L6 L7 L8 L9 L10 L11,
        "t.yaml:6:7: duplicate key `user` in source (first at line 5); keep one", "duplicate key");
    BAD(L1 L2 "    source: mysql\n" L7 L8 L9 L10 L11,
        "t.yaml:3:13: source must be a mapping (kind, host, port, user, ...), got a string",
        "source is a scalar");
    BAD(L1 L2 L7 L8 L9 L10 L11,
        "t.yaml:2:5: missing required field `source` in integration tickit; add source: {kind: mysql, host: ..., user: ...}",
        "missing source");
    BAD("integrations:\n  - name: a\n    source: {kind: mysql, user: u, databases: [a]\n",
        "t.yaml:4:1: YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping at line 3, column 13)",
        "YAML syntax error");
    BAD("integrations:\n\t- name: a\n",
        "t.yaml:2:1: YAML syntax error: found character that cannot start any token (while scanning for the next token at line 2, column 1)",
        "tab indentation");
    BAD("integrations: [\xff]\n", "t.yaml:1:16: YAML syntax error: invalid leading UTF-8 octet (byte 0xff); save the file as UTF-8",
        "invalid UTF-8");
    BAD("state_dir: var/zetl\n" GOOD,
        "t.yaml:1:12: state_dir must be an absolute path (or start with ~/), so it does not depend on the directory zetl starts in",
        "relative state_dir");
    BAD("integration:\n  - name: a\n",
        "t.yaml:1:1: unknown key `integration` at the top level; did you mean `integrations`?",
        "integration (singular): the suggestion comes before the missing field");
    BAD(GOOD "---\nintegrations: []\n",
        "t.yaml:13:1: a second YAML document (after ---); zetl reads one, so put every integration under the first `integrations:`",
        "second document");
}

static void test_bad_integration(void)
{
    BAD(GOOD "  - name: tickit\n    source: {kind: mysql, user: r, databases: [tickit]}\n"
        "    target: {kind: postgres, dsn: x}\n    tables: {include: [\"tickit.%\"]}\n",
        "t.yaml:12:11: duplicate integration name `tickit` (first at line 2); names must be unique",
        "duplicate integration name");
    BAD(L1 "  - name: tick it\n" L3 L4 L5 L6 L7 L8 L9 L10 L11,
        "t.yaml:2:11: integration name \"tick it\" may only contain letters, digits, _ and - ([A-Za-z0-9_-]); try \"tick_it\"",
        "name with a space");
    BAD(L1 "  - name: \"\"\n" L3 L4 L5 L6 L7 L8 L9 L10 L11,
        "t.yaml:2:11: name in integration is empty; give it a value", "empty name");
    BAD(L1 "  - nom: tickit\n" L3 L4 L5 L6 L7 L8 L9 L10 L11,
        "t.yaml:2:5: unknown key `nom` in integration; valid keys: name, source, target, tables, apply, alerts",
        "unknown integration key, no close match");
    BAD(L1 "  - source: {kind: mysql, user: r, databases: [tickit]}\n" L7 L8 L9 L10 L11,
        "t.yaml:2:5: missing required field `name` in integration", "missing name");
}

static void test_bad_source(void)
{
    BAD(L1 L2 L3 "      kind: oracle\n" L5 L6 L7 L8 L9 L10 L11,
        "t.yaml:4:13: invalid source kind \"oracle\"; valid: mysql, postgres", "invalid source kind");
    BAD(L1 L2 L3 "      kind: postgresql\n" L5 L6 L7 L8 L9 L10 L11,
        "t.yaml:4:13: invalid source kind \"postgresql\"; did you mean `postgres`? (valid: mysql, postgres)",
        "source kind typo");
    BAD(L1 L2 L3 L5 L6 L7 L8 L9 L10 L11,
        "t.yaml:4:7: missing required field `kind` in source; valid kinds: mysql, postgres",
        "missing source kind");
    BAD(L1 L2 L3 L4 L6 L7 L8 L9 L10 L11,
        "t.yaml:4:7: missing required field `user` in source", "missing user");
    BAD(L1 L2 L3 L4 L5 L6 "      port: abc\n" L7 L8 L9 L10 L11,
        "t.yaml:7:13: port must be an integer, got \"abc\"", "port not an integer");
    BAD(L1 L2 L3 L4 L5 L6 "      port: [3306]\n" L7 L8 L9 L10 L11,
        "t.yaml:7:13: port must be an integer, got a list", "port is a list");
    BAD(L1 L2 L3 L4 L5 L6 "      port: 70000\n" L7 L8 L9 L10 L11,
        "t.yaml:7:13: port 70000 is out of range (1..65535)", "port too large");
    BAD(L1 L2 L3 L4 L5 L6 "      port: 0\n" L7 L8 L9 L10 L11,
        "t.yaml:7:13: port 0 is out of range (1..65535)", "port zero");
    BAD(L1 L2 L3 L4 L5 "      password: x\n      password_command: \"echo x\"\n" L6 L7 L8 L9 L10 L11,
        "t.yaml:7:7: both password and password_command are set in source; keep only one (password_command is run at every connect)",
        "password and password_command");
    BAD(L1 L2 L3 L4 L5 L6 "      tls: yes\n" L7 L8 L9 L10 L11,
        "t.yaml:7:12: invalid tls \"yes\"; valid: disable, prefer, require, verify-full", "invalid tls");
    BAD(L1 L2 L3 L4 L5 L6 "      server_id: 0\n" L7 L8 L9 L10 L11,
        "t.yaml:7:18: server_id 0 is out of range (1..4294967295)", "server_id zero");
    BAD(L1 L2 L3 L4 L5 L6 "      server_id: 4294967296\n" L7 L8 L9 L10 L11,
        "t.yaml:7:18: server_id 4294967296 is out of range (1..4294967295)", "server_id too large");
    BAD(L1 L2 L3 L4 L5 L7 L8 L9 L10 L11,
        "t.yaml:4:7: missing required field `databases` in source (kind mysql); add databases: [name, ...]",
        "mysql without databases");
    BAD(L1 L2 L3 L4 L5 "      databases: []\n" L7 L8 L9 L10 L11,
        "t.yaml:6:18: databases is empty; list at least one database to replicate, e.g. [tickit]",
        "mysql with empty databases");
    BAD(L1 L2 L3 L4 L5 "      databases: tickit\n" L7 L8 L9 L10 L11,
        "t.yaml:6:18: databases must be a list, e.g. [tickit], got a string", "databases as a string");
    BAD(L1 L2 L3 L4 L5 L6 "      database: tickit\n" L7 L8 L9 L10 L11,
        "t.yaml:7:7: `database` is for postgres sources; a mysql source lists its databases as `databases: [name, ...]`",
        "database on mysql");
    BAD(L1 L2 L3 "      kind: postgres\n" L5 L6 L7 L8 L9 L10 L11,
        "t.yaml:4:7: missing required field `database` in source (kind postgres)",
        "postgres without database");
    BAD(L1 L2 L3 "      kind: postgres\n" L5 "      database: app\n" L6 L7 L8 L9 L10 L11,
        "t.yaml:7:7: `databases` is for mysql sources; a postgres source names one database with `database: name` and its schemas with `schemas: [public]`",
        "databases on postgres");
    BAD(L1 L2 L3 "      kind: postgres\n" L5 "      database: app\n      server_id: 5\n" L7 L8 L9 L10
        "      include: [\"public.%\"]\n",
        "t.yaml:7:7: `server_id` is for mysql sources; a postgres source uses `slot:` and `publication:`",
        "server_id on postgres");
    BAD(L1 L2 L3 "      kind: postgres\n" L5 "      database: app\n      slot: Zetl-Slot\n" L7 L8 L9 L10
        "      include: [\"public.%\"]\n",
        "t.yaml:7:13: slot \"Zetl-Slot\" is not a valid replication slot name; use 1 to 63 lowercase letters, digits and _",
        "invalid slot name");
    BAD(L1 L2 L3 L4 L5 "      password: ${ZETL_TEST_UNSET_PW}\n" L6 L7 L8 L9 L10 L11,
        "t.yaml:6:17: environment variable ZETL_TEST_UNSET_PW (used in password) is not set; export ZETL_TEST_UNSET_PW=... before starting zetl (under systemd: Environment= or EnvironmentFile=), or write $${ for a literal ${",
        "unset variable");
    BAD(L1 L2 L3 L4 "      host: ${ZETL_HOST\n" L5 L6 L7 L8 L9 L10 L11,
        "t.yaml:5:13: host has a ${ that is not ${NAME} (NAME: letters, digits, _); write $${ for a literal ${",
        "unterminated ${");
}

static void test_bad_target(void)
{
    BAD(L1 L2 L3 L4 L5 L6 L7 "      kind: http\n" L10 L11,
        "t.yaml:8:7: missing required field `url` in target (kind http); add url: \"https://...\"",
        "http target without url");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L10 L11,
        "t.yaml:8:7: missing required field `dsn` in target (kind postgres); add dsn: \"host=... port=5432 dbname=... user=...\"",
        "postgres target without dsn");
    BAD(L1 L2 L3 L4 L5 L6 L7 "      kind: redshift\n" L10 L11,
        "t.yaml:8:7: missing required field `dsn` in target (kind redshift); add dsn: \"host=... port=5432 dbname=... user=...\"",
        "redshift target without dsn");
    BAD(L1 L2 L3 L4 L5 L6 L7 "      kind: postgress\n" L9 L10 L11,
        "t.yaml:8:13: invalid target kind \"postgress\"; did you mean `postgres`? (valid: postgres, redshift, http)",
        "target kind typo");
    BAD(L1 L2 L3 L4 L5 L6 L7 "      kind: http\n      url: ftp://x\n" L10 L11,
        "t.yaml:9:12: url must start with http:// or https://", "http url with a bad scheme");
    BAD(L1 L2 L3 L4 L5 L6 L7 "      kind: http\n      url: http://x\n" L9 L10 L11,
        "t.yaml:10:7: `dsn` is for postgres and redshift targets; an http target uses `url:`",
        "dsn on an http target");
    BAD(L1 L2 L3 L4 L5 L6 L10 L11,
        "t.yaml:2:5: missing required field `target` in integration tickit; add target: {kind: postgres, dsn: \"host=... dbname=...\"}",
        "missing target");
}

static void test_bad_tables(void)
{
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9,
        "t.yaml:2:5: missing required field `tables` in integration tickit; add tables: {include: [\"schema.%\"]}",
        "missing tables");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 "      include: []\n",
        "t.yaml:11:16: include is empty, so no table would be replicated; list at least one schema.table pattern, e.g. [\"tickit.%\"]",
        "empty include");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 "      exclude: []\n",
        "t.yaml:11:7: missing required field `include` in tables; add include: [\"schema.%\"] to pick tables",
        "missing include");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 "      include: [users]\n",
        "t.yaml:11:17: include pattern \"users\" can never match: it has no dot between schema and table; write schema.table, e.g. \"tickit.users\"",
        "include without a dot");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 "      include: [\"tikit.%\"]\n",
        "t.yaml:11:17: include pattern \"tikit.%\" can never match: its schema part matches none of the source's databases [tickit]; did you mean `tickit.%`?",
        "include schema not among databases");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 "      include: [\"crm.%\"]\n",
        "t.yaml:11:17: include pattern \"crm.%\" can never match: its schema part matches none of the source's databases [tickit]; add the schema to databases or fix the pattern",
        "include schema unrelated to databases");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 "      include: [\"tickit.a.b\"]\n",
        "t.yaml:11:17: include pattern \"tickit.a.b\" has more than one dot; write schema.table (escape a dot inside a name as \\.)",
        "include with two dots");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 "      include: [\"tickit.\"]\n",
        "t.yaml:11:17: include pattern \"tickit.\" has an empty table part; use % to match every table",
        "include with an empty table part");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 L11 "      exclude: [\"tmp_%\"]\n",
        "t.yaml:12:17: exclude pattern \"tmp_%\" can never match: it has no dot between schema and table; write schema.table, e.g. \"tickit.tmp_%\"",
        "exclude without a dot");
    BAD(L1 L2 L3 "      kind: postgres\n" L5 "      database: app\n      schemas: [public, sales]\n" L7 L8 L9 L10
        "      include: [\"pubic.%\"]\n",
        "t.yaml:12:17: include pattern \"pubic.%\" can never match: its schema part matches none of the source's schemas [public, sales]; did you mean `public.%`?",
        "postgres include schema typo");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 L11 "      exclude_columns: [\"users.password\"]\n",
        "t.yaml:12:25: exclude_columns entry \"users.password\" must be schema.table.column, e.g. \"tickit.users.password_hash\"",
        "exclude_columns with two parts");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 L11 "      mask_columns: [\"users.phone\"]\n",
        "t.yaml:12:22: mask_columns entry \"users.phone\" must be schema.table.column, e.g. \"tickit.users.phone\"",
        "mask_columns with two parts");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 L11 "      hash_columns: [\"tickit.users.email\"]\n",
        "t.yaml:12:21: hash_columns needs tables.hash_key, the secret the hash is keyed with; add hash_key: \"${ZETL_HASH_KEY}\" and export ZETL_HASH_KEY=$(openssl rand -hex 32)",
        "hash_columns without hash_key");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 L11 "      hash_columns: [\"tickit.users.email\"]\n      hash_key: tooshort-secret\n",
        "t.yaml:13:17: hash_key is shorter than 16 bytes; use a long random secret, e.g. hash_key: \"${ZETL_HASH_KEY}\" with ZETL_HASH_KEY=$(openssl rand -hex 32)",
        "hash_key too short, and not quoted back");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 L11 "      null_columns: [\"crm.users.ssn\"]\n",
        "t.yaml:12:22: null_columns entry \"crm.users.ssn\" can never match: its schema part matches none of the source's databases [tickit]; add the schema to databases or fix the pattern",
        "null_columns schema unrelated to databases");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 L11 "      rename: [{from: \"tickit.users\"}]\n",
        "t.yaml:12:16: missing required field `to` in rename entry; write {from: \"schema.table\", to: \"schema.table\"}",
        "rename without to");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 L11 "      rename: [{to: \"crm.users\"}]\n",
        "t.yaml:12:16: missing required field `from` in rename entry; write {from: \"schema.table\", to: \"schema.table\"}",
        "rename without from");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 L11 "      rename: [{from: \"tickit.%\", to: \"crm.x\"}]\n",
        "t.yaml:12:23: rename from \"tickit.%\" must name one table as schema.table (no patterns)",
        "rename from a pattern");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 L11 "      rename: [\"tickit.users\"]\n",
        "t.yaml:12:16: each rename entry must be a mapping {from: schema.table, to: schema.table}, got a string",
        "rename entry not a mapping");
    BAD(L1 L2 L3 L4 L5 L6 L7 L8 L9 L10 "      include: \"tickit.%\"\n",
        "t.yaml:11:16: include must be a list, e.g. [\"tickit.%\"], got a string", "include as a string");
}

static void test_bad_apply(void)
{
    BAD(GOOD "    apply: {batch_rows: 0}\n",
        "t.yaml:12:25: batch_rows 0 is out of range (1..1000000)", "batch_rows zero");
    BAD(GOOD "    apply: {batch_ms: 600000}\n",
        "t.yaml:12:23: batch_ms 600000 is out of range (1..60000)", "batch_ms too large");
    BAD(GOOD "    apply: {memory_mb: 1}\n",
        "t.yaml:12:24: memory_mb 1 is out of range (16..65536)", "memory_mb too small");
    BAD(GOOD "    apply: {copy_workers: 0}\n",
        "t.yaml:12:27: copy_workers 0 is out of range (1..16)", "copy_workers too small");
    BAD(GOOD "    apply: {drift_check_seconds: -1}\n",
        "t.yaml:12:34: drift_check_seconds -1 is out of range (0..604800)", "drift_check_seconds negative");
    BAD(GOOD "    apply: {copy_chunk_mb: -1}\n",
        "t.yaml:12:28: copy_chunk_mb -1 is out of range (0..65536)", "copy_chunk_mb negative");
    BAD(GOOD "    apply: {batch_rows: 1k}\n",
        "t.yaml:12:25: batch_rows must be an integer, got \"1k\"", "batch_rows not a number");
    BAD(GOOD "    apply: {batchrows: 10}\n",
        "t.yaml:12:13: unknown key `batchrows` in apply; did you mean `batch_rows`?", "apply key typo");
    BAD(GOOD "    apply: 5\n",
        "t.yaml:12:12: apply must be a mapping (batch_rows, batch_ms, memory_mb, copy_workers, drift_check_seconds, copy_chunk_rows, copy_chunk_mb), got a string",
        "apply is a scalar");
}

/* ha: the block's keys, its defaults, and a target that cannot fence refused. */
static void test_ha(void)
{
    struct config *c = NULL;
    const char *y = "ha: {member: host-a}\n" GOOD;
    CHECK(config_load_buffer("t.yaml", y, strlen(y), &c, errbuf, sizeof errbuf) == 0, "ha block loads");
    if (c) {
        CHECK_INT(c->ha.enabled, 1, "ha: enabled by the block");
        CHECK_STR(c->ha.member, "host-a", "ha member as written");
        CHECK_INT(c->ha.takeover_seconds, 15, "takeover_seconds defaults to 15");
        config_free(c);
    }
    c = NULL;
    y = "ha: {enabled: true, takeover_seconds: 30}\n" GOOD;
    CHECK(config_load_buffer("t.yaml", y, strlen(y), &c, errbuf, sizeof errbuf) == 0, "ha without member loads");
    if (c) {
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        CHECK(c->ha.member && *c->ha.member && strncmp(c->ha.member, host, 8) == 0,
              "member defaults to the host name");
        CHECK_INT(c->ha.takeover_seconds, 30, "takeover_seconds as written");
        config_free(c);
    }
    c = NULL;
    y = "ha: {enabled: false}\n" GOOD;
    CHECK(config_load_buffer("t.yaml", y, strlen(y), &c, errbuf, sizeof errbuf) == 0 && c && !c->ha.enabled,
          "enabled: false turns it off");
    config_free(c);
    c = NULL;
    CHECK(config_load_buffer("t.yaml", GOOD, strlen(GOOD), &c, errbuf, sizeof errbuf) == 0 && c && !c->ha.enabled,
          "no block: ha off");
    config_free(c);
    BAD("ha: {takeover_seconds: 2}\n" GOOD,
        "t.yaml:1:24: takeover_seconds 2 is out of range (5..300)", "takeover_seconds too small");
    BAD("ha: {member: \"a b\"}\n" GOOD,
        "t.yaml:1:14: ha member must be 1 to 63 letters, digits, '.', '_' or '-' (it names this process "
        "to the others); remove it for the host name", "member with a space");
    BAD("ha: {enabled: maybe}\n" GOOD,
        "t.yaml:1:15: invalid ha enabled \"maybe\"; valid: false, true, no, yes, off, on", "enabled not a boolean");
    BAD("ha: {takover_seconds: 9}\n" GOOD,
        "t.yaml:1:6: unknown key `takover_seconds` in ha; did you mean `takeover_seconds`?", "ha key typo");
    const char *rs = "ha: {member: a}\n" L1 L2 L3 L4 L5 L6 L7 "      kind: redshift\n" L9 L10 L11;
    BAD(rs, "t.yaml:1:5: ha is enabled but integration tickit writes to a redshift target, which cannot fence "
            "a stale holder (no advisory locks and row locks to check a lease against); run that integration "
            "from a config without ha, on one host", "a redshift target is refused with ha");
}

/* Several problems: every one reported, first in the file first. */
static void test_many_problems(void)
{
    const char *y = L1 L2 L3 L4 L5 L6 "      port: x\n" L7 "      kind: nope\n" L10
                    "      include: [bad]\n";
    first_error(y);
    CHECK_STR(errbuf,
              "t.yaml:7:13: port must be an integer, got \"x\"\n"
              "t.yaml:9:13: invalid target kind \"nope\"; valid: postgres, redshift, http\n"
              "t.yaml:11:17: include pattern \"bad\" can never match: it has no dot between schema and table; write schema.table, e.g. \"tickit.bad\"",
              "three problems, in file order");

    char small[100];
    struct config *c = NULL;
    int rc = config_load_buffer("t.yaml", y, strlen(y), &c, small, sizeof small);
    CHECK_INT(rc, -1, "small err buffer: still fails");
    CHECK_STR(small, "t.yaml:7:13: port must be an integer, got \"x\"\nt.yaml: (2 more problems not shown)",
              "small err buffer: whole lines, then a count");
    char tiny[16];
    config_load_buffer("t.yaml", y, strlen(y), &c, tiny, sizeof tiny);
    CHECK_STR(tiny, "t.yaml:7:13: po", "tiny err buffer: the first line, cut");
    CHECK(c == NULL, "failed load leaves *out NULL");
}

/* No message ever shows a password or the expansion of a variable used in one. */
static void test_secrets_never_shown(void)
{
    setenv("ZETL_T_SECRET", "hunter2-s3cret", 1);
    first_error(L1 L2 L3 L4 L5 "      password: ${ZETL_T_SECRET}\n      port: \"${ZETL_T_SECRET}\"\n"
                L6 L7 L8 "      dsn: \"host=h password=${ZETL_T_SECRET}\"\n" L10 "      include: [x]\n");
    CHECK(errbuf[0] != '\0', "secret config: fails");
    CHECK(strstr(errbuf, "hunter2") == NULL, "secret config: expansion never quoted");
    CHECK(strstr(errbuf, "port must be an integer, got \"${ZETL_T_SECRET}\" (after ${...} expansion)") != NULL,
          "secret config: the value is quoted as written");
    first_error(L1 L2 L3 L4 L5 "      password: [\"hunter2-s3cret\"]\n" L6 L7 L8 L9 L10 L11);
    CHECK_STR(errbuf, "t.yaml:6:17: password must be a string, got a list", "password of the wrong type");
    first_error(L1 L2 L3 L4 L5 "      password: \"${ZETL_T_SECRET}${nope\"\n" L6 L7 L8 L9 L10 L11);
    CHECK(strstr(errbuf, "hunter2") == NULL && strstr(errbuf, "nope") == NULL,
          "bad ${ in a password: nothing of the value shown");
    unsetenv("ZETL_T_SECRET");
}

static void test_good_defaults(void)
{
    struct config *c = NULL;
    char err[2048];

    setenv("XDG_STATE_HOME", "/xdg/state", 1);
    int rc = config_load_buffer("good.yaml", GOOD, strlen(GOOD), &c, err, sizeof err);
    CHECK_INT(rc, 0, "minimal config loads");
    if (rc)
        return;
    const struct config_integration *ig = config_find(c, "tickit");
    CHECK(ig != NULL, "config_find finds tickit");
    CHECK(config_find(c, "nope") == NULL, "config_find: unknown name is NULL");
    CHECK_STR(c->path, "good.yaml", "path kept");
    CHECK_STR(c->state_dir, "/xdg/state/zetl", "state_dir default from XDG_STATE_HOME");
    CHECK_INT(c->nintegrations, 1, "one integration");
    CHECK_INT(ig->line, 2, "integration line");
    CHECK_INT(ig->source.kind, SOURCE_MYSQL, "kind mysql");
    CHECK_STR(ig->source.host, "127.0.0.1", "host default");
    CHECK_INT(ig->source.port, 3306, "mysql port default");
    CHECK_STR(ig->source.user, "repl", "user");
    CHECK(ig->source.password == NULL && ig->source.password_command == NULL, "no password");
    CHECK_INT(ig->source.ndatabases, 1, "one database");
    CHECK_STR(ig->source.databases[0], "tickit", "database name");
    CHECK_U64(ig->source.server_id, 4242, "server_id default");
    CHECK_INT(ig->source.tls, TLS_PREFER, "tls default prefer");
    CHECK_STR(ig->source.integration, "tickit", "source knows its integration");
    CHECK_INT(ig->target.kind, TARGET_POSTGRES, "target postgres");
    CHECK_STR(ig->target.dsn, "host=h dbname=w", "dsn");
    CHECK_INT(ig->tables.ninclude, 1, "one include");
    CHECK_STR(ig->tables.include[0], "tickit.%", "include pattern");
    CHECK_INT(ig->apply.batch_rows, 20000, "batch_rows default");
    CHECK_INT(ig->apply.batch_ms, 200, "batch_ms default");
    CHECK_INT(ig->apply.memory_mb, 256, "memory_mb default");
    CHECK_INT(ig->apply.copy_workers, 1, "copy_workers default");
    CHECK_INT(ig->apply.drift_check_seconds, 3600, "drift_check_seconds default");
    CHECK_INT(ig->apply.copy_chunk_rows, 1000000, "copy_chunk_rows default");
    CHECK_INT(ig->apply.copy_chunk_mb, 64, "copy_chunk_mb default");
    config_free(c);

    unsetenv("XDG_STATE_HOME");
    setenv("HOME", "/home/op", 1);
    const char *pg = "integrations:\n"
                     "  - name: Shop-DB\n"
                     "    source: {kind: postgres, user: u, database: shop, tls: verify-full, port: 6543}\n"
                     "    target: {kind: redshift, dsn: \"postgres://a:b@h/db\"}\n"
                     "    tables:\n"
                     "      include: [\"public.%\"]\n"
                     "      rename: [{from: public.a, to: crm.a}]\n"
                     "    apply: {batch_rows: 5, batch_ms: 10, memory_mb: 16, copy_chunk_mb: 0}\n";
    rc = config_load_buffer("pg.yaml", pg, strlen(pg), &c, err, sizeof err);
    CHECK_INT(rc, 0, "postgres config loads");
    if (rc) {
        printf("# %s\n", err);
        return;
    }
    ig = &c->integrations[0];
    CHECK_STR(c->state_dir, "/home/op/.local/state/zetl", "state_dir default from HOME");
    CHECK_INT(ig->source.port, 6543, "explicit port");
    CHECK_INT(ig->source.tls, TLS_VERIFY_FULL, "tls verify-full");
    CHECK_STR(ig->source.database, "shop", "database");
    CHECK_INT(ig->apply.copy_chunk_mb, 0, "copy_chunk_mb 0: chunks by rows only");
    CHECK_INT(ig->source.nschemas, 1, "schemas default has one entry");
    CHECK_STR(ig->source.schemas[0], "public", "schemas default [public]");
    CHECK_STR(ig->source.slot, "zetl_shop_db", "slot default sanitized");
    CHECK_STR(ig->source.publication, "zetl_shop_db", "publication default sanitized");
    CHECK_INT(ig->target.kind, TARGET_REDSHIFT, "target redshift");
    CHECK_INT(ig->apply.batch_rows, 5, "batch_rows set");
    CHECK_INT(ig->apply.batch_ms, 10, "batch_ms set");
    CHECK_INT(ig->apply.memory_mb, 16, "memory_mb set");
    const struct config_rename *r = config_rename_find(&ig->tables, "public", "a");
    CHECK(r && !strcmp(r->to, "crm.a"), "config_rename_find finds public.a");
    CHECK(config_rename_find(&ig->tables, "public", "ab") == NULL, "config_rename_find: exact only");
    config_free(c);

    const char *pgdef = "integrations:\n"
                        "  - name: p\n"
                        "    source: {kind: postgres, user: u, database: d}\n"
                        "    target: {kind: postgres, dsn: x}\n"
                        "    tables: {include: [\"public.%\"]}\n";
    rc = config_load_buffer("p.yaml", pgdef, strlen(pgdef), &c, err, sizeof err);
    CHECK_INT(rc, 0, "postgres defaults config loads");
    if (rc == 0) {
        CHECK_INT(c->integrations[0].source.port, 5432, "postgres port default");
        config_free(c);
    }
}

static void test_good_env(void)
{
    struct config *c = NULL;
    char err[2048];

    setenv("ZETL_T_HOST", "db.example", 1);
    setenv("ZETL_T_PORT", "3307", 1);
    setenv("ZETL_T_PW", "p@ss word", 1);
    setenv("ZETL_T_EMPTY", "", 1);
    const char *y = "state_dir: ~/zetl-state\n"
                    "integrations:\n"
                    "  - name: e\n"
                    "    source:\n"
                    "      kind: mysql\n"
                    "      host: ${ZETL_T_HOST}\n"
                    "      port: \"${ZETL_T_PORT}\"\n"
                    "      user: u${ZETL_T_EMPTY}x\n"
                    "      password: \"${ZETL_T_PW}\"\n"
                    "      databases: [\"lit$${ZETL_T_HOST}\", \"a$b\", \"$$5\"]\n"
                    "    target: {kind: http, url: \"https://h/${ZETL_T_HOST}\", headers: {X-Token: \"t-${ZETL_T_PW}\"}}\n"
                    "    tables: {include: [\"lit%.%\"]}\n";
    setenv("HOME", "/home/op", 1);
    int rc = config_load_buffer("env.yaml", y, strlen(y), &c, err, sizeof err);
    CHECK_INT(rc, 0, "env config loads");
    if (rc) {
        printf("# %s\n", err);
        return;
    }
    const struct config_source *s = &c->integrations[0].source;
    CHECK_STR(c->state_dir, "/home/op/zetl-state", "state_dir ~/ expands to HOME");
    CHECK_STR(s->host, "db.example", "${VAR} in host");
    CHECK_INT(s->port, 3307, "${VAR} in a quoted integer");
    CHECK_STR(s->user, "ux", "set-but-empty variable expands to nothing");
    CHECK_STR(s->password, "p@ss word", "${VAR} in password");
    CHECK_STR(s->databases[0], "lit${ZETL_T_HOST}", "$${ is a literal ${");
    CHECK_STR(s->databases[1], "a$b", "lone $ kept");
    CHECK_STR(s->databases[2], "$$5", "$$ not before { kept");
    CHECK_STR(c->integrations[0].target.url, "https://h/db.example", "${VAR} in url");
    CHECK_INT(c->integrations[0].target.nheaders, 1, "one header");
    CHECK_STR(c->integrations[0].target.headers[0].name, "X-Token", "header name");
    CHECK_STR(c->integrations[0].target.headers[0].value, "t-p@ss word", "header value expanded");
    config_free(c);
}

static const char *example_path(void)
{
    static char path[4096];
    const char *src = getenv("ZETL_SRC");
    const char *me = __FILE__;               /* tests/unit/test_config.c, relative or not */

    if (src) {
        snprintf(path, sizeof path, "%s/config/example.yaml", src);
        return path;
    }
    const char *tail = strstr(me, "tests/unit/test_config.c");
    snprintf(path, sizeof path, "%.*sconfig/example.yaml", tail ? (int)(tail - me) : 0, me);
    if (access(path, R_OK) == 0)
        return path;
    return "../../config/example.yaml";
}

static void test_example_yaml(void)
{
    struct config *c = NULL;
    char err[4096];

    setenv("TICKIT_PASSWORD", "tp", 1);
    setenv("WAREHOUSE_PASSWORD", "wp", 1);
    setenv("EVENTS_TOKEN", "et", 1);
    setenv("ZETL_HASH_KEY", "an-example-hash-key-0123456789", 1);
    int rc = config_load(example_path(), &c, err, sizeof err);
    CHECK_INT(rc, 0, "config/example.yaml loads");
    if (rc) {
        printf("# %s\n", err);
        return;
    }
    CHECK_INT(c->nintegrations, 3, "example: three integrations");
    CHECK_STR(c->state_dir, "/var/lib/zetl", "example: state_dir");
    const struct config_integration *t = config_find(c, "tickit");
    CHECK(t && t->tables.nexclude == 1 && !strcmp(t->tables.exclude[0], "tickit.tmp\\_%"),
          "example: exclude keeps its backslash");
    CHECK(t && config_table_selected(&t->tables, "tickit", "sales"), "example: tickit.sales selected");
    CHECK(t && !config_table_selected(&t->tables, "tickit", "tmp_x"), "example: tickit.tmp_x excluded");
    CHECK(t && config_table_selected(&t->tables, "tickit", "tmpx"), "example: tickit.tmpx selected");
    CHECK(t && config_column_excluded(&t->tables, "tickit", "users", "password_hash"),
          "example: password_hash excluded");
    CHECK(t && !config_column_excluded(&t->tables, "tickit", "users", "email"),
          "example: email kept");
    CHECK(t && config_column_transforms(&t->tables, "tickit", "users", "email") == COLX_HASH &&
          t->tables.hash_key && !strcmp(t->tables.hash_key, "an-example-hash-key-0123456789"),
          "example: email hashed, under the key from the environment");
    CHECK(t && config_column_transforms(&t->tables, "tickit", "users", "phone") == COLX_MASK,
          "example: phone masked");
    const struct config_integration *s = config_find(c, "shop");
    CHECK(s && s->source.password_command && !s->source.password, "example: shop uses password_command");
    config_free(c);

    unsetenv("EVENTS_TOKEN");
    rc = config_load(example_path(), &c, err, sizeof err);
    CHECK_INT(rc, -1, "example without EVENTS_TOKEN fails");
    CHECK(strstr(err, "environment variable EVENTS_TOKEN (used in Authorization) is not set") != NULL,
          "example without EVENTS_TOKEN names the variable");
    rc = config_load("/nonexistent/zetl.yaml", &c, err, sizeof err);
    CHECK_STR(err, "/nonexistent/zetl.yaml: cannot open the config: No such file or directory (write one with `zetl init`, or pass -c FILE)",
              "missing file");
}

static void test_like(void)
{
    CHECK(config_like("tickit.%", "tickit.sales"), "like: % suffix");
    CHECK(config_like("%", ""), "like: % matches empty");
    CHECK(config_like("", ""), "like: empty matches empty");
    CHECK(!config_like("", "a"), "like: empty does not match a");
    CHECK(config_like("a%b%c", "aXXbYYc"), "like: two %");
    CHECK(!config_like("a%b%c", "aXXbYY"), "like: two % needs the tail");
    CHECK(config_like("us_rs", "users"), "like: _ one char");
    CHECK(!config_like("us_rs", "usrs"), "like: _ needs a char");
    CHECK(!config_like("us_rs", "useers"), "like: _ only one char");
    CHECK(config_like("tmp\\_%", "tmp_x"), "like: escaped _ literal");
    CHECK(!config_like("tmp\\_%", "tmpax"), "like: escaped _ does not match a");
    CHECK(config_like("100\\%", "100%"), "like: escaped %");
    CHECK(!config_like("100\\%", "1000"), "like: escaped % is literal");
    CHECK(config_like("a\\\\b", "a\\b"), "like: escaped backslash");
    CHECK(config_like("ab\\", "ab\\"), "like: trailing backslash literal");
    CHECK(!config_like("Users", "users"), "like: case-sensitive");
    CHECK(config_like("caf_", "caf\xc3\xa9"), "like: _ matches one UTF-8 character");
    CHECK(config_like("%%%a", "bbba"), "like: repeated %");
    CHECK(!config_like("%a", "bbbb"), "like: % then missing char");
    CHECK(config_like("%a%a%a%a%a%b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab"), "like: backtracking");
    CHECK(!config_like("%a%a%a%a%a%b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), "like: backtracking miss");
    CHECK(!config_like(NULL, "x") && !config_like("x", NULL), "like: NULL never matches");
}

static void test_table_selected(void)
{
    char *inc[] = { "tickit.%", "crm.users", "odd\\.schema.t" };
    char *exc[] = { "tickit.tmp\\_%", "tickit.audit" };
    struct config_tables t = { .include = inc, .ninclude = 3, .exclude = exc, .nexclude = 2 };

    CHECK(config_table_selected(&t, "tickit", "sales"), "selected: tickit.sales");
    CHECK(!config_table_selected(&t, "tickit", "tmp_1"), "selected: excluded tmp_1");
    CHECK(config_table_selected(&t, "tickit", "tmpx"), "selected: tmpx not excluded");
    CHECK(!config_table_selected(&t, "tickit", "audit"), "selected: excluded audit");
    CHECK(config_table_selected(&t, "crm", "users"), "selected: crm.users");
    CHECK(!config_table_selected(&t, "crm", "orders"), "selected: crm.orders not included");
    CHECK(!config_table_selected(&t, "other", "sales"), "selected: other schema");
    CHECK(config_table_selected(&t, "odd.schema", "t"), "selected: escaped dot in schema");
    CHECK(!config_table_selected(&t, "tickitx", "sales"), "selected: % does not cross the dot");
    struct config_tables none = { 0 };
    CHECK(!config_table_selected(&none, "a", "b"), "selected: no include selects nothing");
    char *all[] = { "%.%" };
    struct config_tables every = { .include = all, .ninclude = 1 };
    CHECK(config_table_selected(&every, "a", "b"), "selected: %.% selects everything");
    char *cols[] = { "tickit.users.pass%", "%.%.ssn" };
    struct config_tables ct = { .exclude_columns = cols, .nexclude_columns = 2 };
    CHECK(config_column_excluded(&ct, "tickit", "users", "password"), "column excluded by pattern");
    CHECK(config_column_excluded(&ct, "x", "y", "ssn"), "column excluded everywhere");
    CHECK(!config_column_excluded(&ct, "tickit", "users", "email"), "column kept");
    char *h[] = { "tickit.users.email" }, *m[] = { "tickit.users.%" }, *z[] = { "%.%.ssn" };
    struct config_tables xt = { .hash_columns = h, .nhash_columns = 1, .mask_columns = m, .nmask_columns = 1,
                                .null_columns = z, .nnull_columns = 1 };
    CHECK_INT((int)config_column_transforms(&xt, "tickit", "users", "email"), COLX_HASH | COLX_MASK,
              "transforms: email in two lists (the table's load refuses it)");
    CHECK_INT((int)config_column_transforms(&xt, "tickit", "users", "phone"), COLX_MASK, "transforms: mask by pattern");
    CHECK_INT((int)config_column_transforms(&xt, "crm", "people", "ssn"), COLX_NULL, "transforms: null everywhere");
    CHECK_INT((int)config_column_transforms(&xt, "crm", "people", "name"), 0, "transforms: none");
    CHECK_INT((int)config_column_transforms(&ct, "crm", "people", "ssn"), 0, "transforms: exclude_columns is not one");
}

static void redact_is(const char *in, const char *expected, const char *what)
{
    char buf[512];
    config_redact(in, buf, sizeof buf);
    CHECK_STR(buf, expected, what);
}

static void test_redact(void)
{
    redact_is("host=h dbname=w user=u password=secret", "host=h dbname=w user=u password=***",
              "redact: conninfo password");
    redact_is("password=secret host=h", "password=*** host=h", "redact: password first");
    redact_is("host=h password = 'x y\\' z' port=5432", "host=h password=*** port=5432",
              "redact: quoted password with escaped quote");
    redact_is("host=h password='unterminated secret", "host=h password=***",
              "redact: unterminated quote");
    redact_is("host=h PASSWORD=s", "host=h PASSWORD=***", "redact: key case");
    redact_is("host=h dbname=w", "host=h dbname=w", "redact: nothing to hide");
    redact_is("postgres://u:secret@h:5432/db", "postgres://***@h:5432/db", "redact: URI user:pass");
    redact_is("postgresql://u@h/db", "postgresql://u@h/db", "redact: URI user only");
    redact_is("postgres://u:p%40ss@h/db?sslmode=require&password=x2#frag",
              "postgres://***@h/db?sslmode=require&password=***#frag", "redact: URI query password");
    redact_is("https://user:tok@api.example.com/path?q=1", "https://***@api.example.com/path?q=***",
              "redact: https URL (every query value hidden)");
    redact_is("https://api.example.com/a@b", "https://api.example.com/a@b", "redact: @ in path kept");
    redact_is("postgres://u:p@ss@h/db", "postgres://***@h/db", "redact: @ inside password");
    redact_is("dbname='postgres://u:pw@h/db' user=x", "dbname='postgres://***@h/db' user=x",
              "redact: URI inside a conninfo value");
    redact_is("", "", "redact: empty");
    char small[12];
    config_redact("host=hostname password=secret", small, sizeof small);
    CHECK_STR(small, "host=hostna", "redact: truncated output");
    config_redact("password=secretsecret", small, sizeof small);
    CHECK(strstr(small, "sec") == NULL, "redact: truncation never shows the secret");
    config_redact(NULL, small, sizeof small);
    CHECK_STR(small, "", "redact: NULL input");
}

static long long ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_password(void)
{
    struct config_source s = { .kind = SOURCE_MYSQL, .integration = "tickit" };
    char pw[256], err[512];
    int rc;

    rc = config_password(&s, 1000, pw, sizeof pw, err, sizeof err);
    CHECK(rc == 0 && pw[0] == '\0', "password: none gives \"\"");

    s.password = "plain";
    rc = config_password(&s, 1000, pw, sizeof pw, err, sizeof err);
    CHECK(rc == 0 && !strcmp(pw, "plain"), "password: plain value");
    char tiny[3];
    rc = config_password(&s, 1000, tiny, sizeof tiny, err, sizeof err);
    CHECK(rc == -1 && !strstr(err, "plain"), "password: too long for buffer, not shown");
    s.password = NULL;

    s.password_command = "printf 'tok-3n\\r\\nsecond line\\n'; echo noise >&2";
    rc = config_password(&s, 5000, pw, sizeof pw, err, sizeof err);
    CHECK_INT(rc, 0, "password_command: succeeds");
    CHECK_STR(pw, "tok-3n", "password_command: first line of stdout");

    s.password_command = "printf 'no-newline'";
    rc = config_password(&s, 5000, pw, sizeof pw, err, sizeof err);
    CHECK_STR(rc == 0 ? pw : err, "no-newline", "password_command: output without a newline");

    s.password_command = "head -c 200000 /dev/zero | tr '\\0' a; echo";
    rc = config_password(&s, 5000, pw, sizeof pw, err, sizeof err);
    CHECK_STR(err, "source tickit: password_command printed a first line longer than 8191 bytes",
              "password_command: huge output drained, rejected");

    s.password_command = "echo leaked-token; echo oops >&2; exit 3";
    rc = config_password(&s, 5000, pw, sizeof pw, err, sizeof err);
    CHECK_INT(rc, -1, "password_command: failure returns -1");
    CHECK_STR(err, "source tickit: password_command exited with status 3; its stderr is discarded, so run it by hand as zetl's user to see why",
              "password_command: failure names the status");
    CHECK(strstr(err, "leaked") == NULL && strstr(err, "oops") == NULL,
          "password_command: failure never shows the output");

    s.password_command = "true";
    rc = config_password(&s, 5000, pw, sizeof pw, err, sizeof err);
    CHECK_STR(err, "source tickit: password_command exited with status 0 but printed nothing on stdout; it must print the password on its first line",
              "password_command: empty output");

    s.password_command = "echo secret-before-kill; kill -9 $$";
    rc = config_password(&s, 5000, pw, sizeof pw, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "killed by signal 9") && !strstr(err, "secret"),
          "password_command: killed by a signal");

    s.password_command = "sleep 10";
    long long t0 = ms_now();
    rc = config_password(&s, 300, pw, sizeof pw, err, sizeof err);
    long long took = ms_now() - t0;
    CHECK_INT(rc, -1, "password_command: sleep 10 fails");
    CHECK_STR(err, "source tickit: password_command timed out after 300 ms and was killed; check that it does not wait for input",
              "password_command: timeout message");
    CHECK(took < 2000, "password_command: timeout honoured (under 2 s)");

    /* a grandchild that keeps stdout open is killed with its group */
    s.password_command = "echo tok; sleep 10 & sleep 10";
    t0 = ms_now();
    rc = config_password(&s, 300, pw, sizeof pw, err, sizeof err);
    took = ms_now() - t0;
    CHECK(rc == -1 && took < 2000, "password_command: process group killed on timeout");

    s.password_command = "cat";             /* stdin is /dev/null: EOF at once */
    rc = config_password(&s, 2000, pw, sizeof pw, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "printed nothing"), "password_command: stdin is /dev/null");
}

struct pw_thread {
    char cmd[64], want[32], got[64];
    int  rc;
};

static void *pw_thread_main(void *arg)
{
    struct pw_thread *t = arg;
    struct config_source s = { .kind = SOURCE_MYSQL, .integration = "mt", .password_command = t->cmd };
    char err[256];

    for (int i = 0; i < 5 && t->rc == 0; i++) {
        t->rc = config_password(&s, 5000, t->got, sizeof t->got, err, sizeof err);
        if (t->rc == 0 && strcmp(t->got, t->want))
            t->rc = -2;
    }
    return NULL;
}

/* config_password from several threads at once: each gets its own output. */
static void test_password_threads(void)
{
    struct pw_thread t[6];
    pthread_t th[6];

    for (int i = 0; i < 6; i++) {
        memset(&t[i], 0, sizeof t[i]);
        snprintf(t[i].want, sizeof t[i].want, "token-%d", i);
        snprintf(t[i].cmd, sizeof t[i].cmd, "sleep 0.0%d; echo token-%d", i, i);
        pthread_create(&th[i], NULL, pw_thread_main, &t[i]);
    }
    int ok = 1;
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        ok = ok && t[i].rc == 0;
    }
    CHECK(ok, "password_command: 6 threads x 5 runs, each its own output");
}

/* Crashes and hangs found by fuzzing stay fixed. */
static void test_fuzz_regressions(void)
{
    static const char *const cases[] = {
        "&a [*a]\n",
        "integrations: &x [*x]\n",
        "integrations:\n  - &i {name: a, source: *i, target: *i, tables: *i, apply: *i}\n",
        "integrations: [{tables: {include: [\"\\\\\"]}}]\n",
        "integrations: [{name: \"a\\0b\"}]\n",
        "? [a]\n: b\n",
        "integrations: [{source: {kind: mysql, databases: [\"%\"]}, tables: {include: [\".%\", \"%.\", \".\"], exclude_columns: [\"..\", \"a\\\\.b.c\"]}}]\n",
        "integrations: [{target: {kind: http, headers: {\"\": x, [a]: b, X: [c]}}}]\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct config *c = NULL;
        char err[1024];
        int rc = config_load_buffer("f.yaml", cases[i], strlen(cases[i]), &c, err, sizeof err);
        config_free(c);
        char what[64];
        snprintf(what, sizeof what, "fuzz regression %zu rejected with a message", i);
        CHECK(rc == -1 && !strncmp(err, "f.yaml:", 7), what);
    }
}

/* Aliases cannot make a small file expand into an unbounded amount of work. */
static void test_alias_budget(void)
{
    char *y = malloc(1 << 20);
    size_t o = 0;
    struct config *c = NULL;

    o += (size_t)sprintf(y + o, "x: &p [");
    for (int i = 0; i < 2000; i++)
        o += (size_t)sprintf(y + o, "%s\"tickit.t%d\"", i ? "," : "", i);
    o += (size_t)sprintf(y + o, "]\nintegrations:\n  - &i {name: a, source: {kind: mysql, user: u, databases: [tickit]},"
                                " target: {kind: postgres, dsn: d}, tables: {include: *p, exclude: *p}}\n");
    for (int i = 0; i < 600; i++)
        o += (size_t)sprintf(y + o, "  - *i\n");
    int rc = config_load_buffer("alias.yaml", y, o, &c, errbuf, sizeof errbuf);
    CHECK_INT(rc, -1, "alias blow-up: rejected");
    CHECK(strstr(errbuf, "the config expands to more than 1000000 values (anchors and aliases?)") != NULL,
          "alias blow-up: says why");
    config_free(c);
    free(y);
}

int main(void)
{
    TEST_RUN(test_bad_structure);
    TEST_RUN(test_bad_integration);
    TEST_RUN(test_bad_source);
    TEST_RUN(test_bad_target);
    TEST_RUN(test_bad_tables);
    TEST_RUN(test_bad_apply);
    TEST_RUN(test_ha);
    TEST_RUN(test_many_problems);
    TEST_RUN(test_secrets_never_shown);
    TEST_RUN(test_good_defaults);
    TEST_RUN(test_good_env);
    TEST_RUN(test_example_yaml);
    TEST_RUN(test_like);
    TEST_RUN(test_table_selected);
    TEST_RUN(test_redact);
    TEST_RUN(test_password);
    TEST_RUN(test_password_threads);
    TEST_RUN(test_fuzz_regressions);
    TEST_RUN(test_alias_budget);
    return test_exit();
}
