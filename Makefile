# Chirp: `make run` serves the site, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format migrate worker bench mutate clean

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
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

migrate: $(STAMP)
	$(BIN)/chirp db upgrade

worker: $(STAMP)  ## Run background jobs (needed when CHIRP_REDIS_URL is set)
	$(BIN)/chirp worker

TIER ?= small
bench: $(STAMP)  ## Benchmark on PostgreSQL + Redis: make bench TIER=small|medium|large
	eval "$$(bash scripts/services.sh)" && \
	  (command -v wrk >/dev/null || apt-get install -y -qq wrk) && \
	  $(BIN)/python -m pip install --quiet -r bench/requirements.txt && \
	  (su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='chirp_bench'\"" | grep -q 1 || \
	   su postgres -c "psql -qc 'CREATE DATABASE chirp_bench'") && \
	  $(BIN)/python -m bench.run --tier $(TIER)

mutate: $(STAMP)  ## Mutation testing of the core modules (many hours; resumable): lists surviving mutants
	@# mutmut copies templates and static files only when it first makes mutants/: refresh them
	if [ -d mutants/src ]; then cd src && find . -type f ! -name '*.py' ! -path '*/__pycache__/*' \
	  ! -path './chirp.egg-info/*' -exec cp --parents {} ../mutants/src/ \; ; fi
	eval "$$(bash scripts/services.sh)" && \
	  $(BIN)/python scripts/mutate.py --max-children $$(nproc); \
	  $(BIN)/mutmut results

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache mutants
