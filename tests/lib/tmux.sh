# shellcheck shell=bash
#
# tmux.sh — drive the real zetl console in a real terminal for the console
# tests (tests/console/*.sh), like tmux's own regress/ tests.
#
#   tm_start COLS ROWS           a private tmux server (socket zetl-test-$$) with
#                                one pane running a plain bash (prompt "ZTEST$ ") in a
#                                clean environment (plus $TM_ENV: "VAR=value ...",
#                                e.g. ASAN_OPTIONS for a sanitized binary)
#   tm_run CMD                   type CMD + Enter into that shell
#   tm_keys KEY...               tmux send-keys (names like Enter, Escape, Tab, C-c)
#   tm_type TEXT                 send TEXT literally
#   tm_screen                    the pane's text now
#   tm_wait REGEX SECS           poll the screen until it matches (0) or time runs out (1);
#                                $TM_SCREEN holds the last capture
#   tm_wait_not REGEX SECS       poll until the screen no longer matches
#   tm_pane_pid                  the pid of the pane's shell
#   tm_stop                      kill the tmux server (also run from the EXIT trap)
#
# Waiting is always polling with a deadline, never a fixed long sleep.

TM_SOCK=zetl-test-$$
TM_SCREEN=

tm_start() {
    tmux -L "$TM_SOCK" -f /dev/null kill-server 2>/dev/null
    tmux -L "$TM_SOCK" -f /dev/null new-session -d -s t -x "$1" -y "$2" \
        "env -i PATH=$PATH HOME=${HOME:-/tmp} TERM=screen LANG=${TM_LANG:-C.UTF-8} ${TM_ENV:-} PS1='ZTEST\$ ' bash --norc --noprofile"
    tmux -L "$TM_SOCK" set-option -t t -g status off >/dev/null
    tmux -L "$TM_SOCK" set-option -t t -g remain-on-exit on >/dev/null 2>&1
    tmux -L "$TM_SOCK" resize-window -t t -x "$1" -y "$2" >/dev/null 2>&1
    tm_wait 'ZTEST\$' 10
}

tm_run() { tmux -L "$TM_SOCK" send-keys -t t -l "$1"; tmux -L "$TM_SOCK" send-keys -t t Enter; }
tm_keys() { tmux -L "$TM_SOCK" send-keys -t t "$@"; }
tm_type() { tmux -L "$TM_SOCK" send-keys -t t -l "$1"; }
tm_screen() { tmux -L "$TM_SOCK" capture-pane -p -t t 2>/dev/null; }
tm_pane_pid() { tmux -L "$TM_SOCK" display-message -p -t t '#{pane_pid}'; }
tm_size() { tmux -L "$TM_SOCK" display-message -p -t t '#{pane_width}x#{pane_height}'; }

tm_wait() {
    local re=$1 deadline=$((SECONDS + $2))
    while :; do
        TM_SCREEN=$(tm_screen)
        [[ $TM_SCREEN =~ $re ]] && return 0
        ((SECONDS >= deadline)) && return 1
        sleep 0.2
    done
}

tm_wait_not() {
    local re=$1 deadline=$((SECONDS + $2))
    while :; do
        TM_SCREEN=$(tm_screen)
        [[ $TM_SCREEN =~ $re ]] || return 0
        ((SECONDS >= deadline)) && return 1
        sleep 0.2
    done
}

tm_stop() {
    tmux -L "$TM_SOCK" kill-server 2>/dev/null
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$TM_SOCK"   # tmux leaves the socket file
    return 0
}
