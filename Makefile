# Quince: `make run` serves the demo on SQLite; `make test` runs lint, types, layering and the suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

.PHONY: run test test-pg test-unit test-storage lint bench import-graph clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/quince init
	$(BIN)/quince demo --if-fresh
	$(BIN)/quince serve --host 127.0.0.1 --port 8000

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

# The same suite on PostgreSQL: each run creates and drops its own database.
test-pg: $(VENV)/.installed-test
	QUINCE_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest

# The pure unit tests: no database, no server, no sockets (under 15 s).
test-unit: $(VENV)/.installed-test
	$(BIN)/pytest tests/unit

# The storage contracts (tests/storage) on SQLite, then on PostgreSQL: seconds each.
test-storage: $(VENV)/.installed-test
	$(BIN)/pytest tests/storage
	QUINCE_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest tests/storage

# docs/import-graph.md, drawn from the code (a unit test fails when it is stale).
import-graph: $(VENV)/.installed-test
	$(BIN)/python tools/import_graph.py

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
