# thidua: `make demo` and `make test` work from a fresh clone; each sets up .venv first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export GX_ANALYTICS_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo test test-fast lint docs clean server server-stop

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	$(BIN)/python -m pip install -q -e '.[dev]' 2>&1 | grep -v '^WARNING: Location' || true
	$(BIN)/python -c "import thidua, prefect, great_expectations, duckdb"
	touch $@

demo: $(STAMP)
	$(BIN)/python -m apps.demo

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/cog --check docs/cli.md
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

server: $(STAMP)
	$(BIN)/thidua init
	$(BIN)/thidua server start

server-stop: $(STAMP)
	$(BIN)/thidua server stop

docs: $(STAMP)                  # regenerate the --help blocks of docs/cli.md
	$(BIN)/cog -r docs/cli.md

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf var .pytest_cache .hypothesis
