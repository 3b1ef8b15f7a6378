# Settings of `make cluster`: source from the project root. Each can be set from outside
# (another host's PostgreSQL or Redis, other ports); the rest follow from them.
export KEFU_ROOT="${KEFU_ROOT:-$PWD}"
export KEFU_CLUSTER_DIR="${KEFU_CLUSTER_DIR:-$KEFU_ROOT/.kefu/cluster}"
export KEFU_DB_URL="${KEFU_DB_URL:-postgresql://postgres@127.0.0.1:5432/kefu}"
export KEFU_TRACKER_URL="${KEFU_TRACKER_URL:-$KEFU_DB_URL}"   # Rasa's events table, same database
export KEFU_REDIS_URL="${KEFU_REDIS_URL:-redis://127.0.0.1:6379/0}"
export KEFU_LOCK_STORE="${KEFU_LOCK_STORE:-kefu.lock_store.AtomicRedisLockStore}"
export KEFU_LB_PORT="${KEFU_LB_PORT:-8000}"
export KEFU_LB_BIND="${KEFU_LB_BIND:-127.0.0.1:$KEFU_LB_PORT}"
export KEFU_RASA1_PORT="${KEFU_RASA1_PORT:-5005}" KEFU_RASA2_PORT="${KEFU_RASA2_PORT:-5006}"
export KEFU_ACTION1_PORT="${KEFU_ACTION1_PORT:-5056}" KEFU_ACTION2_PORT="${KEFU_ACTION2_PORT:-5057}"
export KEFU_ACTIONS_PORT="${KEFU_ACTIONS_PORT:-5055}"          # the balancer's side for Rasa
export KEFU_DESK_PORT="${KEFU_DESK_PORT:-5080}" KEFU_WEBCHAT_PORT="${KEFU_WEBCHAT_PORT:-5010}"
export KEFU_STATS_PORT="${KEFU_STATS_PORT:-8404}"
export KEFU_RASA1_ADDR="127.0.0.1:$KEFU_RASA1_PORT" KEFU_RASA2_ADDR="127.0.0.1:$KEFU_RASA2_PORT"
export KEFU_ACTION1_ADDR="127.0.0.1:$KEFU_ACTION1_PORT" KEFU_ACTION2_ADDR="127.0.0.1:$KEFU_ACTION2_PORT"
export KEFU_ACTIONS_BIND="127.0.0.1:$KEFU_ACTIONS_PORT" KEFU_STATS_BIND="127.0.0.1:$KEFU_STATS_PORT"
export KEFU_ACTION_URL="http://127.0.0.1:$KEFU_ACTIONS_PORT/webhook"
export KEFU_RASA_URL="http://127.0.0.1:$KEFU_LB_PORT"           # the desk and web chat go through the balancer
# Sanic (inside Rasa) trusts the one proxy in front, HAProxy's X-Forwarded-For, for the
# caller's address that the per-address rate limit counts.
export SANIC_PROXIES_COUNT="${SANIC_PROXIES_COUNT:-1}"
# A replica killed mid-turn must not hold its conversation for Rasa's default 60 s.
export TICKET_LOCK_LIFETIME="${TICKET_LOCK_LIFETIME:-30}"
source "$KEFU_ROOT/scripts/env.sh"
