# KetaClinic: `make run` serves the demo clinic, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APP_STAMP := $(VENV)/.installed-app
PYCANON := 1.3.6

.PHONY: run test lint types pytest demo clean bench messages

# `make run` installs only what the app needs to run; `make test` (and lint, types, bench)
# add the development tools (the `dev` extra).
$(APP_STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	touch $(APP_STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	# pycanon, the research export's k-anonymity oracle in the tests, pins numpy 2.0.2, pandas
	# 2.3.3 and typing_extensions 4.15 exactly in every release (1.0-1.3.6), which our numpy,
	# pandas 3 and pydantic (typing_extensions 4.16+) exclude; its k-anonymity code runs on ours
	# (ketaclinic/outcomes/tests/test_export.py checks it), so it goes in without its pins.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps pycanon==$(PYCANON)
	touch $(STAMP) $(APP_STAMP)

run: $(APP_STAMP)
	$(BIN)/ketaclinic migrate --noinput
	$(BIN)/ketaclinic demo
	@echo ""
	@echo "Public site (visitors, inquiries, self-check): http://127.0.0.1:8000/"
	@echo "Staff and patients sign in:                   http://127.0.0.1:8000/account/login/"
	@echo "Background jobs (reminders, Bulk Data exports) run in a worker beside the server; Ctrl-C stops both."
	@echo ""
	$(BIN)/ketaclinic worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/ketaclinic serve --bind 127.0.0.1:8000

demo: $(APP_STAMP)
	$(BIN)/ketaclinic migrate --noinput
	$(BIN)/ketaclinic demo

test: lint types pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

types: $(STAMP)
	$(BIN)/mypy ketaclinic tests bench

# The tests on every core (pytest-xdist; `-n auto` is 2 on CI's machine). `--dist load` hands
# out the tests in pytest-django's order (tests in a rolled-back transaction first, then those
# that flush the database), so on each worker no test runs after a flush has removed the rows the
# data migrations load (`worksteal` let an idle worker take rolled-back tests after its flushes:
# 85 failures). PYTEST_WORKERS=0 runs in one process; PYTEST_ARGS adds options (.ci/run passes a
# marker selection for each database).
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=
pytest: $(STAMP)
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist load $(PYTEST_ARGS)

# Vitals posts through the app beside a thin psycopg baseline on PostgreSQL (not run by the tests).
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# The Spanish catalogues of the patient-facing apps (ketaclinic/<app>/locale/es/, the project's
# templates in ketaclinic/templates/locale/): extract the strings, then compile the .mo files.
# Needs GNU gettext; both files are committed, so a machine without it still runs the app
# (ketaclinic/web/tests/test_catalogues.py checks they are complete and agree).
I18N_DIRS ?= portal site scales consent intake templates
I18N_DIRS += careplan messaging reminders letters
messages: $(STAMP)
	for dir in $(I18N_DIRS); do \
	  [ -d ketaclinic/$$dir ] || continue; \
	  (cd ketaclinic/$$dir && mkdir -p locale && \
	   KETACLINIC_VAR_DIR=$(CURDIR)/var ../../$(BIN)/django-admin makemessages \
	     --settings=ketaclinic.settings -l es \
	     --no-obsolete --add-location=file -e html,txt,py) || exit 1; \
	done
	for po in ketaclinic/*/locale/*/LC_MESSAGES/django.po; do \
	  msgfmt --check -o "$${po%.po}.mo" "$$po" || exit 1; \
	done
