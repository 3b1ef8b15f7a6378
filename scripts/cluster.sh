#!/usr/bin/env bash
# `make cluster`: kefu scaled out on this machine, under supervisord, and where to reach it.
#   HAProxy (KEFU_LB_PORT, 8000) -> 2 Rasa replicas -> HAProxy (5055) -> 2 action servers
#   the agent desk and the web chat; PostgreSQL (KEFU_DB_URL) and Redis (KEFU_REDIS_URL).
# Stop it with `make cluster-stop` (scripts/cluster_stop.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster_env.sh
mkdir -p "$KEFU_CLUSTER_DIR/logs"
ctl=(.venv/bin/supervisorctl -c deploy/supervisord.conf)

command -v haproxy >/dev/null || { echo "HAProxy is missing: make haproxy" >&2; exit 1; }
[ -f models/kefu.tar.gz ] || { echo "no model: make train" >&2; exit 1; }
.venv/bin/python - <<'PY'
import os, sys
import redis, sqlalchemy
from kefu.store.db import safe_url
url = os.environ["KEFU_DB_URL"]
try:
    redis.Redis.from_url(os.environ["KEFU_REDIS_URL"], socket_connect_timeout=2).ping()
except redis.RedisError as error:
    sys.exit(f"Redis at {os.environ['KEFU_REDIS_URL']} does not answer ({error}): start it or set KEFU_REDIS_URL")
admin = sqlalchemy.engine.make_url(url).set(database="postgres")
try:
    sqlalchemy.create_engine(admin).connect().close()
except sqlalchemy.exc.SQLAlchemyError as error:
    sys.exit(f"PostgreSQL at {safe_url(url)} does not answer: start it or set KEFU_DB_URL\n{error.orig}")
PY
.venv/bin/python -c 'from kefu.store.db import migrate; print("database", migrate(), "is at the newest schema")'
.venv/bin/python -m kefu.store seed >/dev/null
haproxy -c -q -f deploy/haproxy.cfg

if "${ctl[@]}" pid >/dev/null 2>&1; then
  echo "the cluster is already running (make cluster-stop first to restart it)"
else
  .venv/bin/supervisord -c deploy/supervisord.conf
fi
echo "starting 2 Rasa replicas, 2 action servers, the desk, the web chat and HAProxy (logs in $KEFU_CLUSTER_DIR/logs) ..."
lb="http://127.0.0.1:$KEFU_LB_PORT"
.venv/bin/python -m kefu.wait "http://$KEFU_RASA1_ADDR/" "http://$KEFU_RASA2_ADDR/" \
  "http://$KEFU_ACTIONS_BIND/health" "http://127.0.0.1:$KEFU_DESK_PORT/healthz" \
  "http://127.0.0.1:$KEFU_WEBCHAT_PORT/healthz" "$lb/" --timeout "${KEFU_CLUSTER_TIMEOUT:-420}" || {
  "${ctl[@]}" status || true
  echo "not every part came up; see $KEFU_CLUSTER_DIR/logs" >&2; exit 1; }
"${ctl[@]}" status
cat <<MSG

kefu cluster is running (supervisord restarts any part that dies).
  Balancer (HAProxy):      $lb/
  REST webhook:            curl -s $lb/webhooks/rest/webhook -d '{"sender":"me","message":"快递一周了还没到"}'
  WeChat webhook:          $lb/webhooks/wechat/webhook
  socket.io (web chat):    $lb/socket.io/
  Rasa HTTP API (token):   curl -s "$lb/conversations/me/tracker?token=\$(cat .kefu/token)"
  Web chat (customers):    http://127.0.0.1:$KEFU_WEBCHAT_PORT/
  Agent desk (hand-offs):  http://127.0.0.1:$KEFU_DESK_PORT/    (an account: make desk-agent NAME=wang)
  Balancer statistics:     http://$KEFU_STATS_BIND/
  Rasa replicas:           http://$KEFU_RASA1_ADDR/  http://$KEFU_RASA2_ADDR/
  Action servers:          http://$KEFU_ACTIONS_BIND/health (balanced) -> $KEFU_ACTION1_ADDR, $KEFU_ACTION2_ADDR
  PostgreSQL:              $(.venv/bin/python -c 'import os; from kefu.store.db import safe_url; print(safe_url(os.environ["KEFU_DB_URL"]))')
  Redis:                   $KEFU_REDIS_URL
  Processes:               .venv/bin/supervisorctl -c deploy/supervisord.conf status
Stop it all: make cluster-stop
MSG
