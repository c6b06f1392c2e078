# thidua: `make demo` and `make test` work from a fresh clone; each sets up .venv first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export GX_ANALYTICS_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install lock demo test test-slow lint docs clean server server-stop

# Installs come from requirements.lock: exact versions with hashes, for Python >= 3.11 on any
# platform. `make lock` brings it up to date with pyproject.toml, keeping the pins it can;
# `make lock UPGRADE=1` moves every package to its newest release. Both need PyPI; installing
# from the lock needs PyPI too (or uv's cache), running the project needs no network.
LOCK  := requirements.lock
UV    := $(BIN)/uv
# uv itself is pinned in the lock, with its hashes, like every other package.
UV_VERSION := $(shell sed -n 's/^uv==\([^ ]*\).*/\1/p' $(LOCK))
UV_STAMP   := $(VENV)/.uv-$(UV_VERSION)
# Tools kept in .venv beside the project (`uv pip sync` removes whatever the lock lacks).
LOCK_TOOLS := setuptools>=68\npip\nuv

install: $(STAMP)

# The venv starts without pip (quicker); the system's pip (>= 22.3) puts uv into it, and pip
# itself comes from the lock.
$(UV_STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	awk '/^uv==/ {p=1; print; next} p && /^[^ ]/ {p=0} p' $(LOCK) > $(VENV)/uv-requirement.txt
	$(PYTHON) -m pip --python $(BIN)/python install -q --no-deps --require-hashes \
	  -r $(VENV)/uv-requirement.txt \
	  2>&1 | { grep -v '^WARNING: Location' || true; }
	$(UV) --version | grep -q '^uv $(UV_VERSION)\( \|$$\)'
	touch $@

# --compile-bytecode: the .pyc files are written once here, where PYTHONDONTWRITEBYTECODE
# (set on some machines) would otherwise make every command compile what it imports
# (`import great_expectations`: 8.3 s instead of 3.3 s).
$(STAMP): $(LOCK) pyproject.toml $(UV_STAMP)
	$(UV) pip sync -q --python $(BIN)/python --require-hashes --compile-bytecode $(LOCK)
	$(UV) pip install -q --python $(BIN)/python --no-deps --no-build-isolation -e .
	$(UV) pip check -q --python $(BIN)/python
	$(BIN)/python -c "import thidua, prefect, great_expectations, duckdb"
	touch $@

lock: $(UV_STAMP)
	printf '$(LOCK_TOOLS)\n' | $(UV) pip compile -q pyproject.toml - --extra dev \
	  --universal --python-version 3.11 --generate-hashes \
	  $(if $(UPGRADE),--upgrade) --custom-compile-command 'make lock' -o $(LOCK)

demo: $(STAMP)
	$(BIN)/python -m apps.demo

# `make test`: the contracts and every test not marked slow (minutes); `make test-slow`:
# the integration tests (servers, whole flows, the demo, kill -9).  CI runs both.
test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/cog --check docs/cli.md
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

server: $(STAMP)
	$(BIN)/thidua init
	$(BIN)/thidua server start

server-stop: $(STAMP)
	$(BIN)/thidua server stop

docs: $(STAMP)                  # regenerate the --help blocks of docs/cli.md
	$(BIN)/cog -r docs/cli.md

# `make lint`: what keeps the code in shape (CI runs it first): ruff's rules and its
# complexity bound (C901, pyproject.toml), the formatting (`ruff format` fixes it), and
# mypy on the production packages (every function annotated). Function length is a test.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf var .pytest_cache .hypothesis
