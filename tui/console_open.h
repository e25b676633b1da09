/*
 * console_open.h — the console on a config file: what `zetl console -c FILE`
 * does once the file is found (tui/cmd_console.c), and where the setup
 * walkthrough hands over once it has written one (tui/setup.c). Below both,
 * so neither calls the other.
 *
 * Thread: the main thread, which becomes the console thread.
 */
#ifndef ZETL_TUI_CONSOLE_OPEN_H
#define ZETL_TUI_CONSOLE_OPEN_H

/* Load the config at path, run its free integrations here and attach to the
 * held ones, and run the console until the operator quits; note, when not
 * NULL, is shown in its status line at start. Returns the exit status: 0, 1
 * when the config cannot be used, no terminal, or replication never
 * started, 130 after SIGINT. */
int console_open_path(const char *path, const char *note);

#endif
