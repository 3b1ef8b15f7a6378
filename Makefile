# kefu — `make run` starts everything, `make test` runs every test. Both set up a fresh clone.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
ENV := source scripts/env.sh &&
WEBCHAT_JS := kefu/webchat/node_modules/.installed

.PHONY: run test setup train data lint test-stories bench chat clean browser desk-agent \
	cluster cluster-stop migrate haproxy bench-cluster

run: setup train
	bash scripts/run.sh

# haproxy: the cluster fault test puts Debian's HAProxy in front of two replicas.
test: setup haproxy train lint
	$(ENV) $(PY) -m pytest -q --durations=15 tests
	$(MAKE) test-stories

setup: $(VENV)/.installed .kefu/token .kefu/wechat_token data browser $(WEBCHAT_JS)

$(VENV)/.installed: requirements.txt scripts/find_python310.sh
	@python=$$(bash scripts/find_python310.sh) && \
	  { [ -x $(PY) ] || $$python -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip==24.0
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

.kefu/token:
	mkdir -p .kefu
	$(PY) -c "import secrets; print(secrets.token_urlsafe(24))" > $@
	chmod 600 $@

# A local WeChat token so the channel starts; a real account sets WECHAT_TOKEN instead.
.kefu/wechat_token:
	mkdir -p .kefu
	$(PY) -c "import secrets; print(secrets.token_hex(16))" > $@
	chmod 600 $@

# The web chat's socket.io client: the locked npm version, served by the page's own server.
$(WEBCHAT_JS): kefu/webchat/package.json kefu/webchat/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js (e.g. apt-get install nodejs npm)"; exit 1; }
	cd kefu/webchat && npm ci --no-audit --no-fund
	touch $@

# The browser tests drive Debian's chromium (never a downloaded browser); a CJK font
# lets its screenshots show Chinese.
browser:
	@[ -x /usr/bin/chromium ] && [ -d /usr/share/fonts/truetype/wqy ] || { \
	  echo "installing Debian's chromium and a Chinese font for the browser tests"; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq chromium fonts-wqy-microhei; }

# The scaled deployment on this machine (README, "Several replicas"): HAProxy on
# 127.0.0.1:8000, 2 Rasa replicas, 2 action servers, the desk and the web chat under
# supervisord, on PostgreSQL and Redis (settings: scripts/cluster_env.sh).
cluster: $(VENV)/.installed .kefu/token .kefu/wechat_token $(WEBCHAT_JS) train haproxy
	bash scripts/cluster.sh

cluster-stop:
	bash scripts/cluster_stop.sh

# Brings KEFU_DB_URL's database (default the SQLite file) to the newest schema (Alembic).
migrate: $(VENV)/.installed
	$(ENV) $(PY) -c 'from kefu.store.db import migrate; print("database", migrate(), "is at the newest schema")'

# The cluster's balancer: Debian's HAProxy.
haproxy:
	@command -v haproxy >/dev/null || { \
	  echo "installing Debian's HAProxy for make cluster"; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq haproxy; }

# 1 against 2 Rasa replicas behind HAProxy, at 20 and 50 customers (bench/README.md).
bench-cluster: $(VENV)/.installed .kefu/token .kefu/wechat_token train haproxy
	$(ENV) $(PY) bench/bench_cluster.py

# An account for the agent desk: make desk-agent NAME=wang [ROLE=agent|trainer] (asks the password)
desk-agent: $(VENV)/.installed
	@[ -n "$(NAME)" ] || { echo "usage: make desk-agent NAME=wang [ROLE=agent|trainer]"; exit 2; }
	$(ENV) $(PY) -m kefu.desk add-agent "$(NAME)" --role "$(or $(ROLE),agent)"

data: $(VENV)/.installed
	$(ENV) $(PY) -m kefu.store seed

train: $(VENV)/.installed
	bash scripts/train.sh

lint: $(VENV)/.installed
	$(PY) -m kefu.guard --domain domain.yml > /dev/null
	$(VENV)/bin/ruff check .

test-stories: train
	$(ENV) $(RASA) test core --model models/kefu.tar.gz --stories tests/ --fail-on-prediction-errors --out results/stories

bench: setup train
	$(ENV) $(PY) bench/run_all.py

chat:
	$(ENV) $(PY) -m kefu.chat

clean:
	rm -rf models results .pytest_cache
