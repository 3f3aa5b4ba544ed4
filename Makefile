# `make run` serves the portal on http://127.0.0.1:5000 (PORT=... for another port) with SQLite, the
# development mailbox and demo data; `make test` runs the whole test suite. Both set up everything
# they need on first use.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
BASE_URL ?= http://127.0.0.1:$(PORT)
BIN = $(VENV)/bin
export FLASK_APP = portal
# Without PORTAL_ENV the portal runs as production (and refuses the development secret key): the
# development targets ask for development themselves, whatever a .env file says.
DEVELOPMENT = PORTAL_ENV=development

.PHONY: run test check bench install translations translations-update lint worker

$(BIN)/.installed: requirements.lock requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	touch $@

install: $(BIN)/.installed

translations: install
	$(BIN)/pybabel compile -d portal/translations -D messages

run: export PORTAL_BASE_URL := $(BASE_URL)
run: install translations
	$(DEVELOPMENT) $(BIN)/flask db upgrade
	$(DEVELOPMENT) $(BIN)/flask demo load
	$(DEVELOPMENT) PORTAL_SERVE=1 $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

worker: install translations
	$(DEVELOPMENT) $(BIN)/flask worker

# The tests run in TEST_PROCESSES processes, a test file to each (their shared worlds stay whole).
TEST_PROCESSES ?= 2
test: install translations
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

# Each page's throughput against a bare Flask endpoint, on SQLite and PostgreSQL (needs wrk:
# apt-get install wrk). BENCH_DATABASE_URL names a PostgreSQL server where a database may be created.
BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
bench: install translations
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install wrk"; exit 1; }
	$(BIN)/python bench/pages.py --database-url "$(BENCH_DATABASE_URL)"

# Lint (ruff, the rules in pyproject.toml); CI runs it before the tests.
check: install
	$(BIN)/ruff check .

lint: check

# After adding or changing visible strings: refresh the catalogues, then translate what is new.
translations-update: install
	$(BIN)/pybabel extract --no-location -F babel.cfg -k _l -k lazy_gettext -k _nl:1,2 -k lazy_ngettext:1,2 \
		-o portal/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i portal/translations/messages.pot -d portal/translations
