#!/usr/bin/env bash
# One part of `make cluster`, in the foreground (supervisord runs it and restarts it):
#   cluster_part.sh rasa|actions|desk|webchat|haproxy N
# `exec` keeps the supervised process the program itself, so a kill reaches it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cluster_env.sh
part=$1 n=${2:-0}
case $part in
  rasa)
    port=$([ "$n" = 0 ] && echo "$KEFU_RASA1_PORT" || echo "$KEFU_RASA2_PORT")
    exec .venv/bin/python -m kefu.server run --enable-api --cors "*" --auth-token "$KEFU_TOKEN" \
      --port "$port" --model models/kefu.tar.gz --endpoints endpoints.yml --credentials credentials.yml ;;
  actions)
    port=$([ "$n" = 0 ] && echo "$KEFU_ACTION1_PORT" || echo "$KEFU_ACTION2_PORT")
    exec .venv/bin/rasa run actions --port "$port" --actions actions ;;
  desk)
    exec .venv/bin/python -m kefu.desk serve --port "$KEFU_DESK_PORT" --rasa-url "$KEFU_RASA_URL" ;;
  webchat)
    exec .venv/bin/python -m kefu.webchat --port "$KEFU_WEBCHAT_PORT" --rasa-url "$KEFU_RASA_URL" \
      --public-rasa-url "http://127.0.0.1:$KEFU_LB_PORT" ;;
  haproxy)
    exec haproxy -W -db -f deploy/haproxy.cfg ;;
  *) echo "unknown part: $part" >&2; exit 2 ;;
esac
