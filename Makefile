# okai-insight: every target installs into .venv first (created on demand).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS ?= sqlite,notebook,supabase,crypto,dev

.PHONY: install demo test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	touch $(STAMP)

install: $(STAMP)

## make demo: the main job on the embedded PostgreSQL (no server to install)
demo: $(STAMP)
	$(BIN)/okai-insight demo
	$(BIN)/okai-insight report -o report.html
	@echo "The report is in $(CURDIR)/report.html: open it in a browser."

## make test: ruff, mypy and the whole test suite
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check okai_insight tests bench conftest.py
	$(BIN)/ruff format --check okai_insight tests bench conftest.py

typecheck: $(STAMP)
	$(BIN)/mypy

# Two workers on two cores (up to 4 on bigger machines): most tests wait on PostgreSQL, Node, a kernel or Chromium,
# so two workers run the suite in ~65 % of the time of one (README, "Development"). A test file runs on one worker,
# so its module fixtures are set up once.
pytest: $(STAMP)
	$(BIN)/pytest -q --numprocesses=auto --maxprocesses=4 --dist=loadfile

## make bench: the benchmarks in bench/ (with the `bench` extra: faiss, hnswlib), rewriting docs/benchmarks.md
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS),bench]"
	$(BIN)/python -m pip install -q --no-deps "langchain-postgres==0.0.19"  # see the bench extra in pyproject.toml
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
