#!/usr/bin/env bash
# The 6-keystroke check: from `callboard --demo` in tmux at 140×45, the worst finding's runbook
# is started, dry-run, confirmed and verified in at most 6 keystrokes after the first paint,
# and the run is then read back from the store with `callboard runs --json`.
#
#   scripts/tmux_runbook_check.sh [DB]
#
# Keys (the fleet opens with the worst function selected: checkout:POST /pay, F1):
#   r  the runner for its worst finding's runbook (rollback-bad-deploy: no required params)
#   ⏎  dry run            ⏎  run for real (the confirmation opens; outside production the
#   focus starts on Confirm, here "Confirm + open an incident": no incident is open yet)
#   ⏎  confirm: rollback, verify, verify, note
#   q  quit (the 5th key)
# Env: CALLBOARD (the command, default `callboard`), PYTHON (to read the JSON, default
# python3), TMUX_CHECK_TIMEOUT (seconds per wait, default 30). Every wait polls the screen
# with a deadline; a private tmux server keeps other sessions (and their env) out.
set -euo pipefail

CB=${CALLBOARD:-callboard}
PY=${PYTHON:-python3}
TIMEOUT=${TMUX_CHECK_TIMEOUT:-30}
DB=${1:-$(mktemp -d)/callboard.db}
SOCK=cb-runbook-check-$$
SESSION=check
KEYS=0

t() { tmux -L "$SOCK" "$@"; }
cleanup() { t kill-server 2>/dev/null || true; }
trap cleanup EXIT

# shellcheck source=scripts/tmux_wait.sh
source "$(dirname "$0")/tmux_wait.sh"

key() {
  t send-keys -t "$SESSION" "$1"
  KEYS=$((KEYS + 1))
}

now() { date +%s.%N; }

t new-session -d -s "$SESSION" -x 140 -y 45 "$CB --demo --db '$DB'"

wait_for "checkout:POST /pay" # first paint with data: the worst function on the top row
painted=$(now)

key r
wait_for "Enter: dry run (changes nothing)"
screen | grep -qF "rollback-bad-deploy" || {
  echo "r did not open rollback-bad-deploy" >&2
  screen >&2
  exit 1
}
key Enter
wait_for "Enter: run for real"
key Enter
wait_for "Approve this step on checkout:POST /pay"
key Enter
wait_for "succeeded — recorded"
verified=$(now)
RUN_KEYS=$KEYS
wait_for "no longer diagnosed" # the app refreshed: F1 has cleared on screen too
key q
deadline=$((SECONDS + TIMEOUT))
while t has-session -t "$SESSION" 2>/dev/null; do
  if ((SECONDS >= deadline)); then
    echo "q did not quit" >&2
    exit 1
  fi
  sleep 0.05
done

if ((KEYS > 6)); then
  echo "used $KEYS keystrokes (at most 6 allowed)" >&2
  exit 1
fi

$CB runs --json --db "$DB" | "$PY" -c '
import json, sys
runs = [r for r in json.load(sys.stdin) if not r["dry_run"]]
assert runs, "no real run in the store"
r = runs[0]
assert r["runbook"] == "rollback-bad-deploy", r["runbook"]
assert r["function"] == "checkout:POST /pay", r["function"]
assert r["status"] == "succeeded", r["status"]
assert all(s["status"] == "done" for s in r["steps"]), r["steps"]
rid, status, n = r["run_id"], r["status"], len(r["steps"])
print(f"store: run {rid} of rollback-bad-deploy {status}, {n}/{n} steps done")
'
"$PY" -c "import sys; print(f'keys: {sys.argv[1]} to verified ({sys.argv[2]} with quit); first paint to verified: {float(sys.argv[4]) - float(sys.argv[3]):.2f}s')" \
  "$RUN_KEYS" "$KEYS" "$painted" "$verified"
