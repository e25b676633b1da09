/* write.c — config → YAML, and the 0600 config file (see write.h). */
#include "config/write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct yw {
    FILE       *f;
    const char *bad;        /* the first key whose value is not UTF-8 */
    int         mask;
};

int config_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
        if (n < 0 || (n == 1 && *p < 0xC2) || (n == 3 && *p > 0xF4)) return 0;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p & 0xC0) != 0x80) return 0;
    }
    return 1;
}

/* A double-quoted scalar that loads (and ${VAR}-expands) back to s. */
static void put_str(struct yw *w, const char *key, const char *s)
{
    if (!s) s = "";
    if (!config_utf8_valid(s)) {
        if (!w->bad) w->bad = key;
        s = "";
    }
    fputc('"', w->f);
    for (size_t i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '$' && s[i + 1] == '{') {
            fputs("$${", w->f);                     /* the loader's literal "${" */
            i++;
        } else if (c == '"' || c == '\\') {
            fputc('\\', w->f);
            fputc(c, w->f);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(w->f, "\\x%02x", c);
        } else {
            fputc(c, w->f);
        }
    }
    fputc('"', w->f);
}

static void put_kv(struct yw *w, int indent, const char *key, const char *s)
{
    fprintf(w->f, "%*s%s: ", indent, "", key);
    put_str(w, key, s);
    fputc('\n', w->f);
}

static void put_list(struct yw *w, int indent, const char *key, char **v, int n)
{
    fprintf(w->f, "%*s%s: [", indent, "", key);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", w->f);
        put_str(w, key, v[i]);
    }
    fputs("]\n", w->f);
}

static void put_redacted(struct yw *w, int indent, const char *key, const char *s)
{
    char shown[1024];
    if (!w->mask) {
        put_kv(w, indent, key, s);
        return;
    }
    config_redact(s, shown, sizeof shown);
    put_kv(w, indent, key, shown);
}

static const char *tls_name(enum tls_mode t)
{
    switch (t) {
    case TLS_DISABLE: return "disable";
    case TLS_REQUIRE: return "require";
    case TLS_VERIFY_FULL: return "verify-full";
    default: return "prefer";
    }
}

static void put_source(struct yw *w, const struct config_source *s, const char *pw_env)
{
    int mysql = s->kind == SOURCE_MYSQL;
    fprintf(w->f, "    source:\n      kind: %s\n", mysql ? "mysql" : "postgres");
    put_kv(w, 6, "host", s->host ? s->host : "127.0.0.1");
    fprintf(w->f, "      port: %d\n", s->port ? s->port : mysql ? 3306 : 5432);
    put_kv(w, 6, "user", s->user);
    if (pw_env)
        fprintf(w->f, "      password: \"${%s}\"\n", pw_env);
    else if (s->password)
        put_kv(w, 6, "password", w->mask ? "***" : s->password);
    if (s->password_command) put_kv(w, 6, "password_command", s->password_command);
    if (mysql) {
        put_list(w, 6, "databases", s->databases, s->ndatabases);
        fprintf(w->f, "      server_id: %u\n", s->server_id ? s->server_id : 4242u);
    } else {
        put_kv(w, 6, "database", s->database);
        if (s->nschemas) put_list(w, 6, "schemas", s->schemas, s->nschemas);
        if (s->slot) put_kv(w, 6, "slot", s->slot);
        if (s->publication) put_kv(w, 6, "publication", s->publication);
    }
    fprintf(w->f, "      tls: %s\n", tls_name(s->tls));
}

static void put_target(struct yw *w, const struct config_target *t)
{
    const char *kind = t->kind == TARGET_REDSHIFT ? "redshift" : t->kind == TARGET_HTTP ? "http" : "postgres";
    fprintf(w->f, "    target:\n      kind: %s\n", kind);
    if (t->kind != TARGET_HTTP) {
        put_redacted(w, 6, "dsn", t->dsn);
        return;
    }
    put_redacted(w, 6, "url", t->url);
    if (!t->nheaders) return;
    fputs("      headers:\n", w->f);
    for (int i = 0; i < t->nheaders; i++) {
        fputs("        ", w->f);
        put_str(w, "headers", t->headers[i].name);
        fputs(": ", w->f);
        put_str(w, "headers", w->mask ? "***" : t->headers[i].value);
        fputc('\n', w->f);
    }
}

static void put_tables(struct yw *w, const struct config_tables *t)
{
    fputs("    tables:\n", w->f);
    put_list(w, 6, "include", t->include, t->ninclude);
    if (t->nexclude) put_list(w, 6, "exclude", t->exclude, t->nexclude);
    if (t->nrename) {
        fputs("      rename:\n", w->f);
        for (int i = 0; i < t->nrename; i++) {
            fputs("        - {from: ", w->f);
            put_str(w, "rename", t->rename[i].from);
            fputs(", to: ", w->f);
            put_str(w, "rename", t->rename[i].to);
            fputs("}\n", w->f);
        }
    }
    if (t->nexclude_columns) put_list(w, 6, "exclude_columns", t->exclude_columns, t->nexclude_columns);
    if (t->nhash_columns) put_list(w, 6, "hash_columns", t->hash_columns, t->nhash_columns);
    if (t->nmask_columns) put_list(w, 6, "mask_columns", t->mask_columns, t->nmask_columns);
    if (t->nnull_columns) put_list(w, 6, "null_columns", t->null_columns, t->nnull_columns);
    if (t->hash_key) put_kv(w, 6, "hash_key", w->mask ? "***" : t->hash_key);
    if (t->nsoft_delete) put_list(w, 6, "soft_delete", t->soft_delete, t->nsoft_delete);
    if (t->nhistory) put_list(w, 6, "history", t->history, t->nhistory);
    if (t->nfilters) {
        fputs("      filters:\n", w->f);
        for (int i = 0; i < t->nfilters; i++) {
            fputs("        - {table: ", w->f);
            put_str(w, "filters", t->filters[i].table);
            fputs(", where: ", w->f);
            put_str(w, "filters", t->filters[i].where);
            fputs("}\n", w->f);
        }
    }
}

static void put_apply(struct yw *w, const struct config_apply *a)
{
    struct { const char *key; int v, def; } k[] = {
        {"batch_rows", a->batch_rows, 20000}, {"batch_ms", a->batch_ms, 200},
        {"memory_mb", a->memory_mb, 256}, {"copy_workers", a->copy_workers, 1},
        {"drift_check_seconds", a->drift_check_seconds, CONFIG_DRIFT_CHECK_DEFAULT},
        {"copy_chunk_rows", a->copy_chunk_rows, CONFIG_COPY_CHUNK_ROWS_DEFAULT},
        {"copy_chunk_mb", a->copy_chunk_mb, CONFIG_COPY_CHUNK_MB_DEFAULT},
    };
    int any = 0;
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        /* 0 is "unset" for the others; for the drift check it is "off". */
        if ((!k[i].v && strcmp(k[i].key, "drift_check_seconds") != 0 &&
             strcmp(k[i].key, "copy_chunk_rows") != 0 && strcmp(k[i].key, "copy_chunk_mb") != 0) ||
            k[i].v == k[i].def) continue;
        if (!any++) fputs("    apply:\n", w->f);
        fprintf(w->f, "      %s: %d\n", k[i].key, k[i].v);
    }
}

int config_to_yaml(const struct config *c, const struct config_yaml_opts *o, char **out,
                   char *err, size_t errlen)
{
    static const struct config_yaml_opts none = {0};
    char *text = NULL;
    size_t len = 0;
    struct yw w = {0};

    *out = NULL;
    if (!o) o = &none;
    w.mask = o->mask_secrets;
    w.f = open_memstream(&text, &len);
    if (!w.f) {
        snprintf(err, errlen, "out of memory writing the config");
        return -1;
    }
    for (const char *p = o->comment; p && *p;) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(w.f, "#%s%.*s\n", n ? " " : "", n, p);
        p += n + (nl ? 1 : 0);
    }
    if (c->state_dir) put_kv(&w, 0, "state_dir", c->state_dir);
    fputs("integrations:\n", w.f);
    for (int i = 0; i < c->nintegrations; i++) {
        const struct config_integration *ig = &c->integrations[i];
        fputs("  - name: ", w.f);
        put_str(&w, "name", ig->name);
        fputc('\n', w.f);
        put_source(&w, &ig->source, o->password_env ? o->password_env[i] : NULL);
        put_target(&w, &ig->target);
        put_tables(&w, &ig->tables);
        put_apply(&w, &ig->apply);
    }
    int bad = ferror(w.f);
    fclose(w.f);
    if (bad || !text) {
        config_yaml_free(text);
        snprintf(err, errlen, "out of memory writing the config");
        return -1;
    }
    if (w.bad) {
        config_yaml_free(text);
        snprintf(err, errlen, "the value of %s is not valid UTF-8; YAML holds UTF-8 text only", w.bad);
        return -1;
    }
    *out = text;
    return 0;
}

void config_yaml_free(char *text)
{
    if (text) explicit_bzero(text, strlen(text));
    free(text);
}

/* mkdir -p of path's parent, new directories 0700. */
static int make_parent(const char *path, char *err, size_t errlen)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return 0;
    *slash = '\0';
    for (char *p = dir + 1; ; p++) {
        if (*p != '/' && *p != '\0') continue;
        char keep = *p;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "%s: cannot create the directory %s: %s", path, dir, strerror(errno));
            return -1;
        }
        *p = keep;
        if (!keep) break;
    }
    return 0;
}

static int write_all(int fd, const char *text)
{
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t k = write(fd, text + off, len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        off += (size_t)k;
    }
    return fsync(fd);
}

int config_write_file(const char *path, const char *text, int overwrite, char *err, size_t errlen)
{
    if (make_parent(path, err, errlen) != 0) return -1;
    if (!overwrite) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) return 1;
        if (fd < 0) {
            snprintf(err, errlen, "%s: cannot create the config: %s", path, strerror(errno));
            return -1;
        }
        if (write_all(fd, text) != 0) {
            snprintf(err, errlen, "%s: cannot write the config: %s", path, strerror(errno));
            close(fd);
            unlink(path);
            return -1;
        }
        if (close(fd) != 0) {
            snprintf(err, errlen, "%s: cannot write the config: %s", path, strerror(errno));
            unlink(path);
            return -1;
        }
        return 0;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);              /* mode 0600 */
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create a temporary file next to it: %s", path, strerror(errno));
        return -1;
    }
    int bad = fchmod(fd, 0600) != 0 || write_all(fd, text) != 0;
    int e = errno;
    if (close(fd) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        snprintf(err, errlen, "%s: cannot write the config: %s", path, strerror(e));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot replace the config: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int config_like_escape(const char *name, char *buf, size_t len)
{
    size_t o = 0;
    for (const char *p = name; *p; p++) {
        int esc = *p == '%' || *p == '_' || *p == '\\' || *p == '.';
        if (o + (size_t)esc + 2 > len) return -1;
        if (esc) buf[o++] = '\\';
        buf[o++] = *p;
    }
    if (o + 1 > len) return -1;
    buf[o] = '\0';
    return 0;
}
