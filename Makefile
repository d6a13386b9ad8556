# Two commands work on a fresh machine: `make demo` and `make test`.
# Both install from the lock (requirements/*.txt, every file pinned by hash), never from ranges.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet
PIP_COMPILE := pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-find-links --no-emit-index-url

.PHONY: demo test lint typecheck contracts pytest bench clean test-latest lock

$(STAMP): pyproject.toml requirements/build.txt requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes --no-deps -r requirements/build.txt
	$(PIP) install --require-hashes --no-deps -r requirements/dev.txt
	$(PIP) install --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" ./examples/demo.sh

test: $(STAMP) lint typecheck contracts pytest

lint: $(STAMP)
	$(BIN)/ruff check reconciler tests bench
	$(BIN)/ruff format --check reconciler tests bench

typecheck: $(STAMP)
	$(BIN)/mypy reconciler

contracts: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

# The newest releases the ranges in pyproject.toml admit, in a throwaway venv: a breaking
# release shows up here before users meet it. Then refresh the lock (`make lock`).
test-latest:
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip --disable-pip-version-check --quiet install --upgrade pip
	.venv-latest/bin/python -m pip --disable-pip-version-check --quiet install --upgrade '.[dev]'
	.venv-latest/bin/pytest
	rm -rf .venv-latest

# Re-resolve the lock from pyproject.toml's ranges (needs pip-tools and PyPI).
lock:
	test -x .venv-lock/bin/pip-compile || ($(PYTHON) -m venv .venv-lock && \
		.venv-lock/bin/python -m pip --disable-pip-version-check --quiet install pip-tools)
	PATH="$(CURDIR)/.venv-lock/bin:$$PATH" $(PIP_COMPILE) --extra dev \
		-o requirements/dev.txt pyproject.toml
	PATH="$(CURDIR)/.venv-lock/bin:$$PATH" $(PIP_COMPILE) \
		-o requirements/build.txt requirements/build.in

clean:
	rm -rf $(VENV) .venv-* build *.egg-info .mypy_cache .pytest_cache .ruff_cache
