#!/usr/bin/env bash
# `make run`: the web server (gunicorn) and the queue worker (Huey: email delivery and the daily run) as one
# process group. Ctrl+C, or ending either process, stops both.
set -uo pipefail
cd "$(dirname "$0")/.."
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-5000}"
VENV="${VENV:-.venv}"
# A local `make run` is the demo: approvers and HR are not made to set up an authenticator app before they can
# look round (set MFA_ENFORCE=1 to try it). Production always requires it (the app refuses to start otherwise).
if [ "${POLICYPASS_ENV:-development}" != "production" ]; then
  export MFA_ENFORCE="${MFA_ENFORCE:-0}"
fi

# Metrics (when METRICS_TOKEN is set) add up every gunicorn worker's figures through files in one empty directory.
if [ -n "${METRICS_TOKEN:-}" ] && [ -z "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  export PROMETHEUS_MULTIPROC_DIR="${TMPDIR:-/tmp}/policypass-metrics-$$"
fi
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi

pids=()
stop() {
  trap - EXIT INT TERM
  kill "${pids[@]}" 2>/dev/null
  wait "${pids[@]}" 2>/dev/null
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$VENV/bin/flask" reminders worker &
pids+=($!)
"$VENV/bin/gunicorn" --workers "${WEB_WORKERS:-1}" --bind "$HOST:$PORT" 'app:create_app()' &
pids+=($!)

# Whichever stops first (a crash, or a signal to it) takes the other with it.
wait -n "${pids[@]}"
status=$?
echo "PolicyPass: a process stopped (exit $status); stopping the other." >&2
exit "$status"
