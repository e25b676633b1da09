/* term.c — curses on and off, signals, the terminal restored (see term.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "tui/term.h"
#include "views/theme.h"

static volatile sig_atomic_t sig_quit;      /* the signal number */
static volatile sig_atomic_t sig_winch;
static int winch_fd = -1;
static int curses_on;
static SCREEN *screen;
static struct termios saved_tio;
static int saved_tio_ok;

static void on_quit_signal(int sig) { sig_quit = sig; }

static void on_winch(int sig)
{
    (void)sig;
    sig_winch = 1;
    if (winch_fd >= 0) {
        int e = errno;
        ssize_t w = write(winch_fd, "w", 1);
        (void)w;
        errno = e;
    }
}

/* A crash: put the terminal back with async-signal-safe calls only, then
 * die of the same signal (core dump and exit status as usual). */
static void on_fatal(int sig)
{
    if (saved_tio_ok) tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
    static const char reset[] = "\033[0m\033[?25h\033[?1049l\r\n";
    ssize_t w = write(STDOUT_FILENO, reset, sizeof reset - 1);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
}

static void restore_terminal(void)
{
    if (curses_on) {
        curses_on = 0;
        endwin();
    }
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_quit_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_winch;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGWINCH, &sa, NULL);
    sa.sa_handler = on_fatal;
    sa.sa_flags = SA_RESETHAND;
    int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) sigaction(fatal[i], &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int term_quit_signal(void) { return (int)sig_quit; }

int term_check_resize(void)
{
    if (!sig_winch) return 0;
    sig_winch = 0;
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
    return 1;
}

int term_open(int wake_wr, char *err, size_t errlen)
{
    static int hooked;
    if (tcgetattr(STDIN_FILENO, &saved_tio) == 0) saved_tio_ok = 1;
    winch_fd = wake_wr;
    install_signals();
    if (!hooked++) atexit(restore_terminal);
    screen = newterm(NULL, stdout, stdin);
    if (!screen) {
        snprintf(err, errlen, "cannot use the terminal \"%s\" (set TERM to xterm, screen, vt100 or linux)",
                 getenv("TERM") ? getenv("TERM") : "");
        return -1;
    }
    curses_on = 1;
    set_escdelay(25);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    theme_init();
    return 0;
}

void term_close(void)
{
    restore_terminal();
    if (screen) delscreen(screen);
    screen = NULL;
    winch_fd = -1;
}

int term_wait(int wake_rd, int timeout_ms, char *err, size_t errlen)
{
    struct pollfd pfd[2] = {{STDIN_FILENO, POLLIN, 0}, {wake_rd, POLLIN, 0}};
    int n = poll(pfd, wake_rd >= 0 ? 2 : 1, timeout_ms);
    if (n < 0 && errno != EINTR) {
        snprintf(err, errlen, "poll: %s", strerror(errno));
        return -1;
    }
    if (n > 0 && (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)) && !(pfd[0].revents & POLLIN)) {
        sig_quit = SIGHUP;          /* the terminal went away without a SIGHUP */
        return 1;
    }
    if (n > 0 && wake_rd >= 0 && (pfd[1].revents & POLLIN)) {
        char buf[256];
        while (read(wake_rd, buf, sizeof buf) > 0) {}
    }
    return 0;
}
