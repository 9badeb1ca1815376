# KetaClinic: `make run` serves the demo clinic, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint types pytest demo clean bench

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ketaclinic migrate --noinput
	$(BIN)/ketaclinic demo
	$(BIN)/ketaclinic serve --bind 127.0.0.1:8000

demo: $(STAMP)
	$(BIN)/ketaclinic migrate --noinput
	$(BIN)/ketaclinic demo

test: lint types pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

types: $(STAMP)
	$(BIN)/mypy ketaclinic tests bench

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

# Vitals posts through the app beside a thin psycopg baseline on PostgreSQL (not run by the tests).
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
