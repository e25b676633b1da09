/*
 * setup.h (views) — the setup walkthrough's screen (`zetl init`), drawn
 * from a plain struct that the walkthrough (tui/setup.c) fills: the step,
 * its form fields with their inline errors, the "testing..." indication,
 * the result lines, the preflight report, the table list with checkboxes,
 * the YAML to be written, a y/n prompt and the help overlay.
 *
 *   1 Source   2 Checks   3 Target   4 Tables   5 Review   6 Start
 *
 * The view never calls a database and never refreshes the screen; it only
 * adjusts the scroll offsets it is given so the selection stays visible.
 * Secrets: a SETUP_SECRET field is drawn as one '*' per character, a
 * SETUP_DSN field with its password's characters as '*' (same length, so
 * the cursor stays where it is typed); the YAML it is given is already
 * masked. Works from 80x24 up, in ASCII under LANG=C and without colour.
 *
 * The key tables of the walkthrough are here too (one per mode); the help
 * overlay and the hint line are generated from them.
 *
 * Thread: console thread only.
 */
#ifndef ZETL_VIEWS_SETUP_H
#define ZETL_VIEWS_SETUP_H

#include "runtime/check/preflight.h"
#include "runtime/check/setup.h"
#include "views/keymap.h"
#include "views/theme.h"

enum setup_step { SETUP_SOURCE = 0, SETUP_CHECKS, SETUP_TARGET, SETUP_TABLES, SETUP_REVIEW,
                  SETUP_START, SETUP_NSTEPS };

enum setup_ftype { SETUP_TEXT = 0, SETUP_SECRET, SETUP_DSN, SETUP_CHOICE };

struct setup_field {
    const char *label;
    const char *help;               /* one line under the form while focused */
    enum setup_ftype type;
    const char *const *choices;     /* SETUP_CHOICE: the labels */
    int   nchoices;
    int   choice;
    char  value[2048];
    int   cur;                      /* cursor: byte offset into value */
    char  error[300];               /* the validator's message; "" valid */
    int   hidden;                   /* not asked for this kind or mode */
    int   edited;                   /* typed into: defaults stop following */
    int   max;                      /* longest value in bytes; 0: the buffer's */
};

struct setup_msg {
    enum theme_role role;
    char text[800];
};

#define SETUP_MAX_MSG 12

struct setup_screen {
    enum setup_step step;
    const char *intro;              /* what this step is for */
    struct setup_field *fields;     /* the step's fields (borrowed) */
    int   nfields;
    int   focus;                    /* field index; == nfields: the table list */
    int   busy;                     /* a test runs in the background */
    char  busy_text[300];
    int   busy_secs;
    struct setup_msg msg[SETUP_MAX_MSG];
    int   nmsg;
    const struct pf_report *report; /* checks (step 2) or target report (step 3) */
    int   rsel, rtop;
    const struct setup_table *tables;   /* step 4 */
    const unsigned char *picked;
    int   ntables, tsel, ttop;
    const char *tables_note;        /* "3 of 7 tables, by pattern" */
    const char *yaml;               /* step 5, masked */
    int   ytop;
    char  status[800];
    const struct keymap *keys;      /* the current mode's table */
    int   help;                     /* the help overlay is open */
    char  prompt[800];              /* a y/n question; "" none */
};

/* Draw everything on w; leaves the cursor on the focused text field. */
void setup_draw(struct setup_screen *s, WINDOW *w);

/* The value as shown: '*' for a secret's characters, a DSN's password
 * masked in place (same length). For tests too. */
void setup_mask_dsn(const char *dsn, char *out, size_t len);

/* Rows the step's list areas get at the current size (PgUp/PgDn). */
int  setup_page_rows(void);

extern const struct keymap keymap_setup_form, keymap_setup_checks, keymap_setup_pattern,
    keymap_setup_list, keymap_setup_review, keymap_setup_start, keymap_setup_prompt;

#endif
