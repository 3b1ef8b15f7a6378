# kefu — `make run` starts everything, `make test` runs every test. Both set up a fresh clone.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
ENV := source scripts/env.sh &&
WEBCHAT_JS := kefu/webchat/node_modules/.installed

.PHONY: run test setup train data lint test-stories bench chat clean browser desk-agent

run: setup train
	bash scripts/run.sh

test: setup train lint
	$(ENV) $(PY) -m pytest -q tests
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

test-stories: train
	$(ENV) $(RASA) test core --model models/kefu.tar.gz --stories tests/ --fail-on-prediction-errors --out results/stories

bench: setup train
	$(ENV) $(PY) bench/run_all.py

chat:
	$(ENV) $(PY) -m kefu.chat

clean:
	rm -rf models results .pytest_cache
