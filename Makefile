# Service Balance: the developer's commands. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
CONSTRAINTS := .ci/constraints.txt
HOST ?= 127.0.0.1
PORT ?= 8000
# Only for the test run: tests never need a real secret.
TEST_ENV := SECRET_KEY=insecure-test-only-key DEBUG=0 STATICFILES_MANIFEST=0
PYTEST_ARGS ?=
# One worker per core (pytest-xdist); the browser tests share one worker, so they run
# one at a time as before, while the other cores take the rest (tests/conftest.py).
PYTEST_WORKERS ?= -n auto

.PHONY: help install run serve-prod migrate test test-production test-postgres lint format messages bench load fault check clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(PY):
	@python=$$(bash .ci/find-python) && echo "Creating $(VENV) with $$python" && "$$python" -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml $(CONSTRAINTS)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install everything (only when something changed)

RUN_ENV = DEBUG=1 SITE_URL=http://$(HOST):$(PORT)

run: install ## Set up a demo (migrate, frameworks, demo users) and serve http://127.0.0.1:8000
	$(RUN_ENV) $(PY) manage.py migrate --no-input
	$(RUN_ENV) $(PY) manage.py load_frameworks
	$(RUN_ENV) $(PY) manage.py seed_demo
	$(RUN_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# Production settings over plain HTTP on this machine (HTTPS=0: no TLS here). The
# secret is made once and kept in .venv, so sign-ins survive a restart.
PROD_SECRET := $(VENV)/.serve-prod-secret
PROD_ENV = DEBUG=0 HTTPS=0 ALLOWED_HOSTS=$(HOST),localhost SITE_URL=http://$(HOST):$(PORT) \
	TASKS_BACKEND=django_tasks_db.DatabaseBackend SECRET_KEY=$$(cat $(PROD_SECRET)) PORT=$(PORT) \
	WEB_CONCURRENCY=$${WEB_CONCURRENCY:-2}

$(PROD_SECRET): | $(PY)
	@$(PY) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

# collectstatic (hashed and compressed files, for whitenoise) only when a file changed.
staticfiles/staticfiles.json: $(STAMP) $(PROD_SECRET) $(shell find static -type f)
	@echo "Collecting static files (hashing and compressing; a minute the first time)..."
	$(PROD_ENV) $(PY) manage.py collectstatic --no-input --verbosity 0
	@touch $@

serve-prod: install $(PROD_SECRET) staticfiles/staticfiles.json ## Try the production setup: gunicorn (2 workers) + task worker, static via whitenoise
	$(PROD_ENV) $(PY) manage.py migrate --no-input
	$(PROD_ENV) $(PY) manage.py load_frameworks
	@echo "Serving http://$(HOST):$(PORT) with production settings (DEBUG=0, plain HTTP: HTTPS=0)."
	@echo "Health check: http://$(HOST):$(PORT)/health/  -  Ctrl+C stops the web and task workers."
	@$(PROD_ENV) $(PY) manage.py db_worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  $(PROD_ENV) $(BIN)/gunicorn -c python:assessment.gunicorn_conf assessment.wsgi

test: install ## Install and run the whole test suite (browser tests included)
	bash .ci/ensure-system-packages
	$(TEST_ENV) $(BIN)/ruff check .
	$(TEST_ENV) $(BIN)/ruff format --check .
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The production lane (tests/production/, also part of `make test`): DEBUG=0, hashed static
# files after a real collectstatic, HTTPS, the database task worker.
test-production: install ## Run the production lane alone (reports, bulk ZIP, static files)
	bash .ci/ensure-system-packages
	$(TEST_ENV) $(BIN)/pytest -m production $(PYTEST_ARGS) tests/production

test-postgres: install ## Run the whole suite against a throwaway PostgreSQL cluster
	bash .ci/with-postgres $(MAKE) --no-print-directory test

lint: install ## Lint and check formatting
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

messages: install ## Update the translation catalogues from the code, then compile them (docs/translating.md)
	$(TEST_ENV) $(PY) manage.py makemessages --all --no-obsolete --ignore=.venv --ignore=staticfiles --ignore=tests --ignore='*.egg-info'
	$(TEST_ENV) $(PY) manage.py compilemessages --ignore=.venv
	$(TEST_ENV) $(PY) manage.py load_frameworks --check | grep 'translation ' | sort | uniq -c

format: install ## Fix formatting and the lint rules that can be fixed automatically
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install ## Print the benchmark figures
	$(TEST_ENV) $(PY) -m tests.bench

# The load extra (locust), installed on first use of `make load` or `make fault`.
LOAD_STAMP := $(VENV)/.installed-load

$(LOAD_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) -e '.[dev,load]'
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || bash .ci/with-postgres true
	@touch $(LOAD_STAMP)

load: install $(LOAD_STAMP) ## Load test: 50 respondents for 60 s on SQLite, PostgreSQL and a 2-node cluster
	$(PY) -m tests.load load

fault: install $(LOAD_STAMP) ## Fault test: PostgreSQL stopped for 10 s in the middle of the load
	$(PY) -m tests.load fault

# From the demo data on a throwaway SQLite database, production-like settings (DEBUG=0):
# the results page, the assessor workspace and two PDF pages, as PNGs in docs/images.
.PHONY: screenshots
screenshots: install ## Screenshots of the demo for docs/images (Chromium, poppler)
	bash .ci/ensure-system-packages
	$(PY) -m tests.screenshots docs/images

check: install ## Django's deployment checks with the production settings of docs/deploy.md
	SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') DEBUG=0 \
	  SECURE_SSL_REDIRECT=1 ALLOWED_HOSTS=balance.example.org EMAIL_HOST=smtp.example.org \
	  $(PY) manage.py check --deploy --fail-level WARNING

clean: ## Remove the virtual environment and generated files (keeps db.sqlite3)
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .hypothesis *.egg-info
