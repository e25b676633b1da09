/* setup_form.c — field editing and validators of the walkthrough (see setup_form.h). */
#include "tui/setup_form.h"

#include "config/write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTRL(c) ((c) & 0x1f)

/* ---- editing ---------------------------------------------------------------- */

void setup_field_set(struct setup_field *f, const char *v)
{
    int max = f->max > 0 && f->max < (int)sizeof f->value ? f->max : (int)sizeof f->value - 1;
    snprintf(f->value, (size_t)max + 1, "%s", v ? v : "");
    f->cur = (int)strlen(f->value);
}

static int cont(unsigned char c) { return (c & 0xC0) == 0x80; }

void setup_field_move(struct setup_field *f, int dir)
{
    if (f->type == SETUP_CHOICE) {
        if (f->nchoices > 0) f->choice = (f->choice + (dir < 0 ? f->nchoices - 1 : 1)) % f->nchoices;
        return;
    }
    int n = (int)strlen(f->value);
    if (dir < 0 && f->cur > 0)
        do f->cur--; while (f->cur > 0 && cont((unsigned char)f->value[f->cur]));
    else if (dir > 0 && f->cur < n)
        do f->cur++; while (f->cur < n && cont((unsigned char)f->value[f->cur]));
}

int setup_field_key(struct setup_field *f, int ch)
{
    int n = (int)strlen(f->value);
    if (f->type == SETUP_CHOICE) {
        if (ch != ' ') return 0;
        setup_field_move(f, 1);
        return 1;
    }
    if (f->cur > n) f->cur = n;
    if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        if (!f->cur) return 1;
        int from = f->cur;
        setup_field_move(f, -1);
        memmove(f->value + f->cur, f->value + from, (size_t)(n - from + 1));
        return 1;
    }
    if (ch == KEY_DC || ch == CTRL('d')) {
        if (f->cur >= n) return 1;
        int at = f->cur;
        setup_field_move(f, 1);
        memmove(f->value + at, f->value + f->cur, (size_t)(n - f->cur + 1));
        f->cur = at;
        return 1;
    }
    if (ch == KEY_HOME || ch == CTRL('a')) { f->cur = 0; return 1; }
    if (ch == KEY_END || ch == CTRL('e')) { f->cur = n; return 1; }
    if (ch == CTRL('u')) { f->value[0] = '\0'; f->cur = 0; return 1; }
    if ((ch >= 0x20 && ch < 0x7f) || (ch >= 0x80 && ch <= 0xff)) {
        int max = f->max > 0 && f->max < (int)sizeof f->value ? f->max : (int)sizeof f->value - 1;
        if (n >= max) return 1;
        memmove(f->value + f->cur + 1, f->value + f->cur, (size_t)(n - f->cur + 1));
        f->value[f->cur++] = (char)ch;
        return 1;
    }
    return 0;
}

/* ---- validators -------------------------------------------------------------- */

static int bad(char *msg, size_t len, const char *text)
{
    snprintf(msg, len, "%s", text);
    return -1;
}

int setup_valid_text(const char *v, char *msg, size_t len)
{
    if (!config_utf8_valid(v)) return bad(msg, len, "not valid UTF-8 text; retype it");
    return 0;
}

/* A whole number in [lo, hi]. */
static int number_in(const char *v, long long lo, long long hi, long long *out)
{
    if (!*v || strlen(v) > 12) return 0;
    for (const char *p = v; *p; p++) if (*p < '0' || *p > '9') return 0;
    long long x = strtoll(v, NULL, 10);
    if (x < lo || x > hi) return 0;
    if (out) *out = x;
    return 1;
}

int setup_valid_host(const char *v, char *msg, size_t len)
{
    if (!*v) return bad(msg, len, "the host is empty; give a name or address, e.g. 127.0.0.1 or db.internal");
    for (const char *p = v; *p; p++)
        if (*p == ' ' || *p == '\t' || *p == '/' || *p == ',')
            return bad(msg, len, "a host has no spaces, slashes or commas: give one name or address (the port goes in Port)");
    if (strchr(v, ':') && !strchr(strchr(v, ':') + 1, ':'))
        return bad(msg, len, "put the port in the Port field, not after a colon in the host");
    return setup_valid_text(v, msg, len);
}

int setup_valid_port(const char *v, char *msg, size_t len)
{
    if (!number_in(v, 1, 65535, NULL)) return bad(msg, len, "the port is a whole number from 1 to 65535 (MySQL 3306, PostgreSQL 5432)");
    return 0;
}

int setup_valid_user(const char *v, char *msg, size_t len)
{
    if (!*v) return bad(msg, len, "the user is empty; zetl needs a user to connect as");
    return setup_valid_text(v, msg, len);
}

int setup_valid_server_id(const char *v, char *msg, size_t len)
{
    if (!number_in(v, 1, 4294967295LL, NULL))
        return bad(msg, len, "server_id is a whole number from 1 to 4294967295, different from the source's and its other replicas'");
    return 0;
}

int setup_valid_name(const char *v, char *msg, size_t len)
{
    if (!*v) return bad(msg, len, "the name is empty; e.g. shop (letters, digits, _ and -)");
    if (strlen(v) > 63) return bad(msg, len, "the name is longer than 63 characters");
    for (const char *p = v; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return bad(msg, len, "a name has only letters, digits, _ and - (no spaces or dots)");
    return 0;
}

int setup_valid_database(const char *v, char *msg, size_t len)
{
    if (!*v) return bad(msg, len, "the database is empty; give the one database to read");
    if (strlen(v) > 63) return bad(msg, len, "a database name has at most 63 characters");
    return setup_valid_text(v, msg, len);
}

int setup_valid_names(const char *v, char *msg, size_t len)
{
    char buf[1024], *items[SETUP_MAX_LIST];
    int n = setup_split_list(v, buf, sizeof buf, items, SETUP_MAX_LIST);
    if (n == 0) return bad(msg, len, "the list is empty; give at least one name (several: separate them with commas)");
    if (n < 0) return bad(msg, len, "too many names for one integration");
    for (int i = 0; i < n; i++) {
        if (strlen(items[i]) > 64) return bad(msg, len, "a name has at most 64 characters");
        if (strpbrk(items[i], " \t"))
            return bad(msg, len, "a name with a space in it: separate names with commas, not spaces");
    }
    return setup_valid_text(v, msg, len);
}

int setup_valid_env_var(const char *v, char *msg, size_t len)
{
    int ok = (*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') || *v == '_';
    for (const char *p = v; ok && *p; p++)
        ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    if (!ok || strlen(v) > 60)
        return bad(msg, len, "a variable name is letters, digits and _, not starting with a digit, e.g. SHOP_DB_PASSWORD");
    return 0;
}

int setup_valid_command(const char *v, char *msg, size_t len)
{
    if (!*v) return bad(msg, len, "the command is empty; e.g. aws rds generate-db-auth-token ... (its first output line is the password)");
    return setup_valid_text(v, msg, len);
}

/* Unescaped dots in a pattern; *empty set when a part is empty. */
static int pattern_dots(const char *p, int *empty)
{
    int dots = 0;
    size_t part = 0;
    *empty = 0;
    for (; *p; p++) {
        if (*p == '\\' && p[1]) { p++; part++; continue; }
        if (*p == '.') { if (!part) *empty = 1; dots++; part = 0; continue; }
        part++;
    }
    if (!part) *empty = 1;
    return dots;
}

int setup_valid_patterns(const char *v, char *msg, size_t len)
{
    char buf[16384], *items[SETUP_MAX_LIST];
    int n = setup_split_list(v, buf, sizeof buf, items, SETUP_MAX_LIST);
    if (n == 0) return bad(msg, len, "no pattern: write schema.table patterns, e.g. shop.% (% any run of characters, _ one)");
    if (n < 0) return bad(msg, len, "too many patterns: combine them with %");
    for (int i = 0; i < n; i++) {
        int empty, dots = pattern_dots(items[i], &empty);
        if (dots == 0) {
            snprintf(msg, len, "%.100s has no dot: write schema.table, e.g. %.100s.%%", items[i], items[i]);
            return -1;
        }
        if (dots > 1) {
            snprintf(msg, len, "%.100s has more than one dot: write schema.table (a dot in a name is \\.)", items[i]);
            return -1;
        }
        if (empty) {
            snprintf(msg, len, "%.100s has an empty schema or table part; %% matches every one", items[i]);
            return -1;
        }
    }
    return setup_valid_text(v, msg, len);
}

int setup_valid_path(const char *v, char *msg, size_t len)
{
    if (!*v) return bad(msg, len, "the path is empty; e.g. ~/.config/zetl/zetl.yaml or /etc/zetl/zetl.yaml");
    size_t n = strlen(v);
    if (v[n - 1] == '/') return bad(msg, len, "that is a directory; add the file name, e.g. zetl.yaml");
    return setup_valid_text(v, msg, len);
}

int setup_valid_state_dir(const char *v, char *msg, size_t len)
{
    if (!*v) return bad(msg, len, "the state directory is empty; e.g. /var/lib/zetl");
    if (v[0] != '/' && !(v[0] == '~' && (v[1] == '/' || !v[1])))
        return bad(msg, len, "give an absolute path (or one starting with ~/), so it does not depend on where zetl starts");
    return setup_valid_text(v, msg, len);
}

void setup_name_from(const char *text, char *buf, size_t len)
{
    size_t o = 0;
    for (const char *p = text; *p && o + 1 < len && o < 63; p++) {
        char ch = *p;
        buf[o++] = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                   ch == '-' ? ch : '_';
    }
    buf[o] = '\0';
    if (!o) snprintf(buf, len, "main");
}
