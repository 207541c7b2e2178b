# Safe Passage: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The embedded default: SQLite and Celery's filesystem broker under var/, keys generated once.
export SAFE_PASSAGE_MODE ?= embedded

.PHONY: run test lint typecheck format migrations-check messages clean-venv bench-dispatcher bench-audit bench-restore bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# With the demo extra: `make run` seeds fake data (Faker); production installs without it.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	exec bin/run-embedded

# Two workers: the machines here have two cores. PYTEST_ARGS="-n 0 -k something" to narrow.
PYTEST_ARGS ?= -n 2
test: $(VENV)/.installed-test
	@bin/ensure-chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Needs DATABASE_URL pointing at PostgreSQL; see tests/bench/dispatcher.py.
bench-dispatcher: $(VENV)/.installed-test
	$(BIN)/python -m tests.bench.dispatcher

# Needs DATABASE_URL pointing at PostgreSQL; see tests/bench/audit.py.
bench-audit: $(VENV)/.installed-test
	$(BIN)/python -m tests.bench.audit

# Needs DATABASE_URL pointing at PostgreSQL (one role that may create databases); see
# tests/bench/restore.py.
bench-restore: $(VENV)/.installed-test
	$(BIN)/python -m tests.bench.restore

# Pages at 1,000 and 100,000 cases against a floor page, with gunicorn and wrk (apt-get
# install wrk); needs PostgreSQL on 127.0.0.1:5432; see tests/bench/pages.py.
bench: $(VENV)/.installed-test
	$(BIN)/python -m tests.bench.pages

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy with django-stubs; configured in pyproject.toml ([tool.mypy]).
typecheck: $(VENV)/.installed-test
	$(BIN)/python -m mypy .

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: $(VENV)/.installed
	$(BIN)/python manage.py makemigrations --check --dry-run

# Regenerates both catalogues; needs GNU gettext (apt-get install gettext).
messages: $(VENV)/.installed-test
	$(BIN)/python manage.py makemessages --locale ru --locale en --no-obsolete --no-location \
		--ignore ".venv/*" --ignore "tests/*" --ignore "staticfiles/*" --ignore "var/*"
	$(BIN)/python manage.py compilemessages --ignore ".venv/*"

clean-venv:
	rm -rf $(VENV)
