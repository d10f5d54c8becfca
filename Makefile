# Two commands matter: `make run` and `make test`. Everything installs itself on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: run test install install-dev lint format migrate bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(RUNTIME_STAMP) $@

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP)

## run: install, migrate, load demo data, start web + worker + beat + Flower (Ctrl-C stops all)
run: install
	$(BIN)/python -m devrun.run

## test: install and run the whole suite (real services when DATABASE_URL / CELERY_BROKER_URL are set)
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## bench: the performance benchmarks on real PostgreSQL, Redis, gunicorn and workers (~10 min);
## writes docs/performance.md. bench-quick: the same, small (under a minute), prints only (CI).
BENCH_STAMP := $(VENV)/.bench-$(shell cat requirements.txt bench/requirements.txt | cksum | cut -d' ' -f1)
BENCH_ARGS ?=
$(BENCH_STAMP): requirements.txt bench/requirements.txt | $(RUNTIME_STAMP)
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	@touch $@
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)
bench-quick: $(BENCH_STAMP)
	$(BIN)/python -m bench --quick $(BENCH_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python .ci/check-module-size

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var .pytest_cache .ruff_cache
