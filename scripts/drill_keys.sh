#!/usr/bin/env bash
# The README's "At 3 a.m." drill, driven in tmux and counted: every key sent to the real
# `callboard --demo` (temporary XDG dirs and database) from the first paint of the fleet to
# the exported postmortem, per phase and per terminal size.
#
#   scripts/drill_keys.sh [SIZE...]        SIZE is COLSxROWS; default: 140x45 80x24
#
# The path (the fleet opens on the worst page, checkout:POST /pay, F1):
#   look      ⏎ the function
#   traces    t  ⏎ the first (error) trace: the waterfall opens on its first error span,
#             the span's detail ("canceling statement due to statement timeout") below
#   rollback+incident
#             r the finding's runbook (rollback-bad-deploy)  ⏎ dry run  ⏎ run for real
#             ⏎ in the confirmation: outside production the focus starts on its default,
#             "Confirm on … + open an incident" (none is open yet), so one Enter approves
#             the rollback and opens INC-0001, which the run joins; verify steps watch the
#             signal recover. (In production the focus starts on Cancel, and the incident
#             is offered before the run instead: one more key.)
#   timeline  i the open incident's timeline
#   note      n  <text>  ⏎ (the note's typed characters count as ONE key)
#   mitigate  m + its confirmation        resolve  R + its confirmation
#             (the status never goes back, so both keep their one-key confirmation)
#   export    e  Markdown at once (E picks another format)
# Then, on the same store: `callboard incident show --json` has the run, `runs --json` has it
# succeeded, and the export file exists and names the actions.
# Prints "keys at COLSxROWS: N (phase n, ...)" per size. Env: CALLBOARD (the command,
# default `callboard`), PYTHON (default python3), DRILL_TIMEOUT (seconds per wait, default
# 30). Every wait polls the pane with a deadline; a private tmux server per size.
set -euo pipefail

CB=${CALLBOARD:-callboard}
PY=${PYTHON:-python3}
TIMEOUT=${DRILL_TIMEOUT:-30}
SESSION=drill
SOCK=""
declare -a PHASES=()
declare -A COUNT=()

t() { tmux -L "$SOCK" "$@"; }
cleanup() { # stop this size's private server and remove its socket file
  [[ -n $SOCK ]] || return 0
  t kill-server 2>/dev/null || true
  rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"
}
trap cleanup EXIT

# shellcheck source=scripts/tmux_wait.sh
source "$(dirname "$0")/tmux_wait.sh"

wait_gone() { # wait_gone TEXT: poll until TEXT is no longer on the pane (a dialog closed)
  local deadline=$((SECONDS + TIMEOUT))
  while screen | grep -qF -- "$1"; do
    if ((SECONDS >= deadline)); then
      echo "timed out after ${TIMEOUT}s waiting for this to go: $1" >&2
      screen >&2
      exit 1
    fi
    sleep 0.05
  done
}

key() { # key PHASE KEY [-l]: send one key (or, with -l, a literal text counted as one key)
  local phase=$1
  if [[ ${3:-} == -l ]]; then t send-keys -t "$SESSION" -l "$2"; else t send-keys -t "$SESSION" "$2"; fi
  if [[ -z ${COUNT[$phase]+x} ]]; then
    PHASES+=("$phase")
    COUNT[$phase]=0
  fi
  COUNT[$phase]=$((COUNT[$phase] + 1))
}

drill() { # drill COLS ROWS
  local cols=$1 rows=$2 root
  root=$(mktemp -d)
  SOCK=cb-drill-$$-${cols}x$rows
  PHASES=()
  COUNT=()
  local db=$root/callboard.db
  t new-session -d -s "$SESSION" -x "$cols" -y "$rows" \
    "env HOME='$root' XDG_CONFIG_HOME='$root/config' XDG_DATA_HOME='$root/data' XDG_STATE_HOME='$root/state' XDG_CACHE_HOME='$root/cache' $CB --demo --db '$db'"

  wait_for "POST /pay" # page: the first paint, the worst page on the top row
  screen | grep -m1 "● page" | grep -qF "POST /pay" || {
    echo "the top page row is not checkout:POST /pay" >&2
    screen >&2
    exit 1
  }
  key look Enter
  wait_for "on-call"
  key traces t
  wait_for "Traces of"
  key traces Enter # pressed before the traces arrive, it opens the first one when they do
  wait_for "▶ first error  SELECT" # the detail pane's head: the cursor is on that span
  wait_for "canceling statement due to statement timeout"
  local act=rollback+incident
  key $act r
  wait_for "Enter: dry run (changes nothing)"
  key $act Enter
  wait_for "Enter: run for real"
  key $act Enter
  wait_for "+ open an incident"
  key $act Enter # the default: confirm the rollback and open the incident
  wait_for "recorded in INC-0001"
  key timeline i
  wait_for "what happened"  # the timeline's header row
  key note n
  wait_for "Note on INC-0001"
  key note "rolled back checkout to v2.13.2" -l
  key note Enter
  wait_for "rolled back checkout to v2.13.2"
  wait_gone "Note on INC-0001"
  key mitigate m
  wait_for "Mark INC-0001 mitigated?"
  confirm_status mitigate mitigated
  wait_for "INC-0001 is now mitigated"
  key resolve R
  wait_for "Mark INC-0001 resolved?"
  confirm_status resolve resolved
  wait_for "INC-0001 is now resolved"
  key export e
  wait_for "Exported"
  key quit q
  local deadline=$((SECONDS + TIMEOUT))
  while t has-session -t "$SESSION" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      echo "q did not quit" >&2
      exit 1
    fi
    sleep 0.05
  done

  check_store "$db" "$root"
  local total=0 parts=() p
  for p in "${PHASES[@]}"; do
    [[ $p == quit ]] && continue
    total=$((total + COUNT[$p]))
    parts+=("$p ${COUNT[$p]}")
  done
  local IFS=,
  echo "keys at ${cols}x$rows: $total (${parts[*]// /=}; q to quit not counted)"
  rm -rf "$root"
  cleanup
}

confirm_status() { # confirm_status PHASE STATUS: press "Mark STATUS" in the confirmation
  key "$1" Enter # the focus starts on "Mark STATUS"
}

check_store() { # check_store DB ROOT: the run is in the incident; the export names the actions
  $CB --db "$1" incident show INC-0001 --json >"$2/incident.json"
  $CB --db "$1" runs --json >"$2/runs.json"
  "$PY" - "$2" <<'EOF'
import json, sys
from pathlib import Path

root = Path(sys.argv[1])
inc = json.loads((root / "incident.json").read_text())
runs = [r for r in json.loads((root / "runs.json").read_text()) if not r["dry_run"]]
assert runs, "no real run in the store"
run = runs[0]
assert run["runbook"] == "rollback-bad-deploy" and run["status"] == "succeeded", run
events = inc["events"]
linked = [e for e in events if e["run_id"] == run["run_id"] and e["kind"] == "run.linked"]
assert linked, f"run {run['run_id']} is not recorded in INC-0001"
assert inc["incident"]["status"] == "resolved", inc["incident"]["status"]
kinds = {e["kind"] for e in events}
assert {"note", "status.changed", "run.ended"} <= kinds, sorted(kinds)
exports = list(root.rglob("INC-0001-postmortem.md"))
assert exports, "no exported postmortem"
md = exports[0].read_text()
for needed in ("rollback-bad-deploy", "rolled back checkout to v2.13.2", "resolved"):
    assert needed in md, f"the export does not mention {needed!r}"
print(f"store: run {run['run_id']} succeeded, in INC-0001 (resolved); export {exports[0].name}")
EOF
}

sizes=("$@")
((${#sizes[@]})) || sizes=(140x45 80x24)
for size in "${sizes[@]}"; do
  drill "${size%x*}" "${size#*x}"
done
