# Chirp: `make run` serves the site, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format typecheck migrate worker demo bench clean

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Chirp needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)  ## Migrate, load demo data into an empty database, serve on 127.0.0.1:8000
	$(BIN)/chirp db upgrade
	$(BIN)/chirp demo-data --if-empty
	$(BIN)/chirp serve --host 127.0.0.1 --port 8000

test: $(STAMP)  ## Lint, type-check and run every test
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

migrate: $(STAMP)
	$(BIN)/chirp db upgrade

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
