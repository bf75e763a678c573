# Shared by the tmux-driven scripts (sourced): read the pane and wait for text on it.
# The caller defines t() (its private tmux server), SESSION and TIMEOUT (seconds per wait).

screen() { t capture-pane -p -t "$SESSION" 2>/dev/null || true; }

wait_for() { # wait_for TEXT: poll the pane until TEXT shows, or fail after $TIMEOUT seconds
  local deadline=$((SECONDS + TIMEOUT))
  until screen | grep -qF -- "$1"; do
    if ! t has-session -t "$SESSION" 2>/dev/null; then
      echo "callboard exited while waiting for: $1" >&2
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      echo "timed out after ${TIMEOUT}s waiting for: $1" >&2
      screen >&2
      exit 1
    fi
    sleep 0.05
  done
}
