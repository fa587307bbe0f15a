# RangerSync: two commands on a fresh Debian 12 machine.
#   make run   set everything up and serve the demo park on http://127.0.0.1:$(PORT)
#   make test  set everything up and run the test suite against a throwaway PostGIS
# Both are idempotent: a second run only does what changed.

PORT ?= 5000
export PORT
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := var/stamps

.PHONY: run test setup system venv assets translations messages lint format bench stop clean distclean

run: setup
	$(VENV)/bin/rangersync serve --port $(PORT)

# pytest-xdist workers, each with a PostGIS cluster of its own (tests/conftest.py). The tests wait
# on the database, servers and browsers more than they compute: three workers fill two cores.
# TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 3
test: setup
	$(VENV)/bin/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

setup: system venv assets translations

# System packages (PostgreSQL 15 + PostGIS 3, Python venv, Node.js/npm), only when something is missing.
system:
	@deploy/bootstrap-system.sh

venv: $(STAMPS)/venv
$(STAMPS)/venv: pyproject.toml | $(STAMPS)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	@touch $@

# Front-end libraries from the npm registry, served by the app itself (no CDN at run time).
assets: $(STAMPS)/assets
$(STAMPS)/assets: package.json package-lock.json | $(STAMPS)
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

# The dashboard's languages: each server/translations/<code>/LC_MESSAGES/messages.po compiled to
# the .mo the app reads; a .po dropped there is a new language (README, "Languages").
TRANSLATIONS := $(patsubst %.po,%.mo,$(wildcard server/translations/*/LC_MESSAGES/messages.po))
translations: $(TRANSLATIONS)
server/translations/%/LC_MESSAGES/messages.mo: server/translations/%/LC_MESSAGES/messages.po | venv
	$(VENV)/bin/pybabel compile --statistics -i $< -o $@

# Re-extract every string marked for translation (templates, Python, the pages' JavaScript) into
# messages.pot and merge it into each language's .po, for translators to fill in.
messages: venv
	$(VENV)/bin/pybabel extract --project=RangerSync --width=100 -F babel.cfg -k lazy_gettext -k _l --no-location \
		--sort-output -o server/translations/messages.pot .
	$(VENV)/bin/pybabel update --width=100 --no-fuzzy-matching --ignore-obsolete \
		-i server/translations/messages.pot -d server/translations

$(STAMPS):
	@mkdir -p $@

# Every static check CI runs before the tests: lint, format, import contracts (pyproject.toml),
# types, one Alembic head. (Models against migrations: tests/test_database.py, on a real PostGIS.)
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) -m server.core.migrate

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup
	$(PY) -m bench

# Stop the embedded PostGIS cluster that `make run` started.
stop:
	-@test -x $(VENV)/bin/rangersync && $(VENV)/bin/rangersync db stop

clean:
	rm -rf $(STAMPS) .pytest_cache .ruff_cache

# Removes the embedded database too: everything under var/ is lost.
distclean: stop
	rm -rf var $(VENV) node_modules
