/*
 * setup_form.h — the walkthrough's form fields: editing keys on a field
 * (struct setup_field, views/setup.h) and the validators that check every
 * input where it is typed.
 *
 * A validator returns 0 when the value is acceptable, else -1 with one
 * line in msg saying what is wrong and what to type instead. Validators
 * are pure (no I/O) and never quote a secret.
 *
 * Thread: console thread (the validators: any).
 */
#ifndef ZETL_TUI_SETUP_FORM_H
#define ZETL_TUI_SETUP_FORM_H

#include <stddef.h>

#include "views/setup.h"

/* Replace the value (cursor at its end). */
void setup_field_set(struct setup_field *f, const char *v);
/* An editing key on a text field (printable bytes, Backspace, Del, Home,
 * End, ^A, ^E, ^U) or Space on a choice: 1 when it changed the field or the
 * cursor, 0 when the key is not an editing key. */
int  setup_field_key(struct setup_field *f, int ch);
/* Left/Right: the previous/next choice, or the cursor by one character. */
void setup_field_move(struct setup_field *f, int dir);

int setup_valid_host(const char *v, char *msg, size_t len);
int setup_valid_port(const char *v, char *msg, size_t len);
int setup_valid_user(const char *v, char *msg, size_t len);
int setup_valid_server_id(const char *v, char *msg, size_t len);
int setup_valid_name(const char *v, char *msg, size_t len);           /* integration name */
int setup_valid_names(const char *v, char *msg, size_t len);          /* databases / schemas list */
int setup_valid_database(const char *v, char *msg, size_t len);       /* one database */
int setup_valid_env_var(const char *v, char *msg, size_t len);
int setup_valid_command(const char *v, char *msg, size_t len);
int setup_valid_patterns(const char *v, char *msg, size_t len);       /* schema.table LIKE list */
int setup_valid_path(const char *v, char *msg, size_t len);           /* the config file */
int setup_valid_state_dir(const char *v, char *msg, size_t len);
int setup_valid_text(const char *v, char *msg, size_t len);           /* any UTF-8 text */

/* An integration name made from any text: [A-Za-z0-9_-], at most 63. */
void setup_name_from(const char *text, char *buf, size_t len);

#endif
