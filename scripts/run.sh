#!/usr/bin/env bash
# Starts every part of kefu on this machine and prints where to talk to it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
logs="$KEFU_HOME/logs"; mkdir -p "$logs"
pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

.venv/bin/rasa run actions --port 5055 --actions actions >"$logs/actions.log" 2>&1 &
pids+=($!)
.venv/bin/python -m kefu.server run --enable-api --cors "*" --auth-token "$KEFU_TOKEN" --port 5005 \
  --model models/kefu.tar.gz --endpoints endpoints.yml --credentials credentials.yml \
  >"$logs/rasa.log" 2>&1 &
pids+=($!)

.venv/bin/python -m kefu.desk serve --port 5080 >"$logs/desk.log" 2>&1 &
pids+=($!)
.venv/bin/python -m kefu.webchat --port 5010 >"$logs/webchat.log" 2>&1 &
pids+=($!)

echo "starting the action server, the Rasa server, the agent desk and the web chat (logs in $logs) ..."
.venv/bin/python -m kefu.wait http://localhost:5055/health http://localhost:5005/ \
  http://localhost:5080/healthz http://localhost:5010/healthz --timeout 180
cat <<MSG

kefu is running.
  Web chat (customers):    http://localhost:5010/
  Chat in this terminal:   make chat          (in another terminal)
  REST webhook:            curl -s localhost:5005/webhooks/rest/webhook -d '{"sender":"me","message":"快递一周了还没到"}'
  Rasa HTTP API (token):   curl -s "localhost:5005/conversations/me/tracker?token=\$(cat .kefu/token)"
  Action server:           http://localhost:5055/health
  Agent desk (hand-offs):  http://localhost:5080/    (an account: make desk-agent NAME=wang)
Press Ctrl+C to stop.
MSG
wait -n "${pids[@]}"
echo "a part of kefu stopped; see $logs" >&2
exit 1
