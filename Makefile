# TTS: `make run` starts the app with demo data; `make test` runs every test (SQLite, then PostgreSQL).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install install-test assets browser db demo check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed assets

install-test: $(VENV)/.installed-test assets browser

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

tts/static/govuk/govuk-frontend.min.css: node_modules/.package-lock.json scripts/build_assets.py package.json
	$(BIN)/python scripts/build_assets.py

assets: $(BIN)/python tts/static/govuk/govuk-frontend.min.css

browser:
	@bash scripts/ensure_chromium.sh

db: install
	$(FLASK) db upgrade

demo: db
	$(FLASK) demo load

run: demo
	@echo ""
	@echo "TTS is starting: open http://$(HOST):$(PORT)/login and sign in with a demo login above."
	@echo "(Simulated Twilio: no real texts or calls. The outbox worker runs inside this process.)"
	@echo ""
	$(FLASK) serve --host $(HOST) --port $(PORT)

test: install-test
	@bash scripts/test.sh

check: install
	$(FLASK) db check

clean:
	rm -rf $(VENV) node_modules tts/static/govuk instance test-artifacts
