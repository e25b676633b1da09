/*
 * write.h — a config as YAML that config_load() reads back to the same
 * values, and writing it to a file an operator's secrets can live in.
 *
 * config_to_yaml() writes state_dir (when set) and, per integration, name,
 * source, target (postgres/redshift dsn; http url and headers), tables
 * (include, exclude, rename, exclude_columns) and apply (only when a value
 * differs from its default). Alerts are not written. Every string is a
 * double-quoted YAML scalar with \ " and control characters escaped and
 * every "${" written as "$${", so the loader's ${VAR} expansion gives back
 * the exact text: a password holding ": ", "#", quotes or "${X}" survives.
 * A password may instead be written as a reference, `password: ${VAR}`
 * (opts.password_env), so the file holds no secret.
 *
 * With opts.mask_secrets the text is for the screen: passwords are "***",
 * DSNs and URLs are redacted (config_redact), header values are "***".
 *
 * config_write_file() creates the file with mode 0600 — O_CREAT|O_EXCL for
 * a new file, or a temporary file in the same directory renamed over the old
 * one when overwriting is allowed — and its missing parent directories with
 * mode 0700. It never leaves a partly written config behind.
 *
 * Thread: any; no global state.
 */
#ifndef ZETL_CONFIG_WRITE_H
#define ZETL_CONFIG_WRITE_H

#include <stddef.h>

#include "config/config.h"

struct config_yaml_opts {
    const char *const *password_env;    /* [nintegrations]: non-NULL entry → password: ${VAR} */
    const char *comment;                /* written first as "# " lines (may hold \n), or NULL */
    int mask_secrets;                   /* for display: no secret in the text */
};

/* The YAML text in *out (malloc'd, NUL-terminated; free with
 * config_yaml_free, which wipes it). 0, or -1 with err (a value that is not
 * valid UTF-8 names its key; out of memory). */
int  config_to_yaml(const struct config *c, const struct config_yaml_opts *o, char **out,
                    char *err, size_t errlen);
void config_yaml_free(char *text);

/* 0 written; 1 the file exists and overwrite is 0 (nothing written);
 * -1 with err naming the path and the reason. */
int  config_write_file(const char *path, const char *text, int overwrite, char *err, size_t errlen);

/* Is s valid UTF-8 (what a YAML file can hold)? */
int  config_utf8_valid(const char *s);

/* A schema or table name as a LIKE pattern part that matches only itself:
 * % _ \ and . escaped with a backslash. -1 if buf is too small. */
int  config_like_escape(const char *name, char *buf, size_t len);

#endif
