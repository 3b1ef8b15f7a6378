# Settings shared by `make run`, the tests and the benchmarks. Source it from the project root.
export KEFU_HOME="${KEFU_HOME:-$PWD/.kefu}"
export KEFU_ACTION_URL="${KEFU_ACTION_URL:-http://localhost:5055/webhook}"
export KEFU_TRACKER_DIALECT="${KEFU_TRACKER_DIALECT:-sqlite}"
export KEFU_TRACKER_DB="${KEFU_TRACKER_DB:-$KEFU_HOME/tracker.db}"
export KEFU_DB_URL="${KEFU_DB_URL:-sqlite:///$KEFU_HOME/kefu.db}"
# Empty for the single process; `make cluster` sets them (scripts/cluster_env.sh).
export KEFU_TRACKER_URL="${KEFU_TRACKER_URL:-}"
export KEFU_REDIS_URL="${KEFU_REDIS_URL:-}"
export KEFU_LOCK_STORE="${KEFU_LOCK_STORE:-in_memory}"
export KEFU_TOKEN="${KEFU_TOKEN:-$(cat "$KEFU_HOME/token" 2>/dev/null)}"
export WECHAT_TOKEN="${WECHAT_TOKEN:-$(cat "$KEFU_HOME/wechat_token" 2>/dev/null)}"
export SQLALCHEMY_SILENCE_UBER_WARNING=1
export TF_CPP_MIN_LOG_LEVEL=2
export RASA_TELEMETRY_ENABLED=false
