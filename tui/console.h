/*
 * console.h — the console's event loop: curses on the console thread,
 * woken by stdin, by the model's pipe (a new snapshot) and by SIGWINCH.
 *
 * It redraws only when a snapshot with a new generation arrived, a key was
 * pressed or the terminal was resized, and at most CONSOLE_MAX_FPS times a
 * second; otherwise it sleeps in poll(2) with no timeout, so an idle console
 * costs nothing. It never does database or network I/O: commands and the
 * preflight checks go to the model (tui/model.h).
 *
 * Terminal hygiene (tui/term.h): endwin() on every exit path — a normal return, atexit,
 * SIGTERM/SIGHUP/SIGINT (handlers only set a flag; the loop leaves), and a
 * fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT), whose handler
 * restores the saved termios and leaves the alternate screen with
 * async-signal-safe calls, then re-raises the signal.
 *
 * A start failure (console_opts.start_error) stays on the screen, wrapped,
 * above the view, with `T` to try again, until a start succeeds; the caller
 * learns from console_started() whether replication ever ran, for its exit
 * status.
 *
 * Thread: the main thread, which becomes the console thread.
 */
#ifndef ZETL_TUI_CONSOLE_H
#define ZETL_TUI_CONSOLE_H

#include <stddef.h>

#include "config/config.h"
#include "tui/model.h"

#define CONSOLE_MAX_FPS 5

struct console_opts {
    const struct config *cfg;
    struct model *model;
    int  wake_rd;           /* read end of the model's wake pipe */
    int  wake_wr;           /* write end (the SIGWINCH handler pokes it) */
    int  embedded;          /* this process runs at least one integration */
    const char *note;       /* shown in the status line at start, may be NULL */
    /* Replication that should run here but did not start: why (shown in
     * the body of the screen until it starts, never only as a passing
     * note), and how to try again (the `T` key), which returns 0 when it
     * started, else -1 with the new reason in err. NULL: nothing failed. */
    const char *start_error;
    int (*restart)(void *arg, char *err, size_t errlen);
    void *restart_arg;
};

enum console_exit {
    CONSOLE_QUIT = 0,       /* the operator quit */
    CONSOLE_SIGNAL,         /* SIGTERM, SIGHUP or SIGINT */
    CONSOLE_ERROR           /* the terminal could not be used; err says why */
};

/* Run until the operator quits or a signal arrives; the terminal is
 * restored before it returns. */
enum console_exit console_run(const struct console_opts *o, char *err, size_t errlen);

/* The signal that ended console_run (CONSOLE_SIGNAL), else 0. */
int console_exit_signal(void);

/* After console_run: 1 when a start failure was still unresolved at exit. */
int console_start_failed(void);

#endif
