#!/usr/bin/env bash
# `make cluster-stop`: stops every part of `make cluster` (supervisord and its children).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster_env.sh
pidfile="$KEFU_CLUSTER_DIR/supervisord.pid"
if ! .venv/bin/supervisorctl -c deploy/supervisord.conf pid >/dev/null 2>&1; then
  echo "the cluster is not running"; exit 0
fi
pid=$(cat "$pidfile")
.venv/bin/supervisorctl -c deploy/supervisord.conf shutdown
for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || { echo "kefu cluster stopped"; exit 0; }; sleep 1; done
echo "supervisord ($pid) is still stopping; see $KEFU_CLUSTER_DIR/supervisord.log" >&2; exit 1
