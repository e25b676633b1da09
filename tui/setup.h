/*
 * setup.h (tui) — the guided setup walkthrough: `zetl init`, and what
 * `zetl console` opens when there is no config yet.
 *
 *   1 Source   kind, host, port, user, password (masked) / ${VAR} / command,
 *              databases or database + schemas, server_id, TLS; the
 *              connection is tested, a failure shows the server's message
 *              and the likely cause (DNS, refused, timeout, auth, TLS, ...)
 *   2 Checks   every preflight check with its value, the requirement and the
 *              fixes (self-managed and RDS/Aurora); r runs them again
 *   3 Target   postgres or redshift, DSN; connect, create rights, Redshift
 *              identifier case
 *   4 Tables   the source's tables with key status and row estimates; a
 *              pattern with a live preview, or checkboxes
 *   5 Review   integration name, file, state directory; the YAML (secrets
 *              masked); written with mode 0600, never over an existing file
 *              without asking
 *   6 Start    the console opens on the new config (snapshot under way)
 *
 * A state machine over struct setup_field forms (tui/setup_form.h); every
 * database call runs as a job off this thread (tui/setup_jobs.h) with a
 * "testing..." line while it runs; drawing is views/setup.c. Esc goes back a
 * step keeping every value typed.
 *
 * Thread: the main thread (it owns the terminal, tui/term.h).
 */
#ifndef ZETL_TUI_SETUP_H
#define ZETL_TUI_SETUP_H

/* Run the walkthrough; the config goes to `path` (~/ is the home
 * directory). no_config: opened by `zetl console` because path does not
 * exist (the first screen says so). Returns the exit status: that of the
 * console when the operator started it, 0 when the config was written (or
 * the operator left), 1 on an error, 128 + the signal after SIGINT (130),
 * SIGTERM or SIGHUP. */
int setup_run(const char *path, int no_config);

#endif
