/*
 * term.h — the terminal of zetl's full-screen parts (the console and the
 * setup walkthrough): curses on, the signals answered, and the terminal put
 * back on every exit path.
 *
 * term_open() saves the termios, installs the handlers and starts curses
 * (cbreak, no echo, keypad, non-blocking getch, hidden cursor, theme).
 * SIGTERM/SIGHUP/SIGINT only set a flag (term_quit_signal); the loop leaves
 * and calls term_close(). A fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
 * SIGABRT) restores the saved termios and leaves the alternate screen with
 * async-signal-safe calls, then re-raises. An atexit hook ends curses too.
 * SIGWINCH sets a flag and pokes the wake pipe so a sleeping loop redraws.
 *
 * term_open/term_close may be used again in the same process (the
 * walkthrough hands over to the console).
 *
 * Thread: the main thread only.
 */
#ifndef ZETL_TUI_TERM_H
#define ZETL_TUI_TERM_H

#include <stddef.h>

/* 0, or -1 with err (the terminal cannot be used). wake_wr: the write end
 * of the loop's wake pipe (SIGWINCH writes a byte to it), or -1. */
int  term_open(int wake_wr, char *err, size_t errlen);
/* End curses and forget the screen; the terminal is as it was. */
void term_close(void);

/* The signal that asked to quit (SIGTERM, SIGHUP, SIGINT), else 0. */
int  term_quit_signal(void);
/* When the window size changed since the last call: resize curses, return 1. */
int  term_check_resize(void);

/*
 * Sleep until a key is waiting on stdin, a byte arrives on wake_rd (all
 * waiting bytes are drained), a signal, or timeout_ms (-1: none). Returns 0;
 * 1 when the terminal went away (counted as SIGHUP); -1 with err.
 */
int  term_wait(int wake_rd, int timeout_ms, char *err, size_t errlen);

#endif
