# Chi bộ — developer commands. See README.md.
#
#   make run            web + Celery worker + beat on http://127.0.0.1:8000 (HOST=, PORT= to change)
#   make test           the test suite (ARGS="-k access -x" to pass pytest options;
#                       DATABASE_URL=postgres://... to run it against PostgreSQL)
#   make lint           ruff check, ruff format --check, import-linter's layer contract
#   make messages       refresh locale/*.po from the code and compile the .mo files (needs gettext)
#   make check-deploy   Django's deployment checks with production settings

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
ARGS ?=

PY := $(VENV)/bin/python
# pip runs only when a requirements file is newer than its stamp.
STAMP_RUN := $(VENV)/.stamp-requirements
STAMP_TEST := $(VENV)/.stamp-requirements-test

.DEFAULT_GOAL := help
.PHONY: help run test lint messages check-deploy check-system

help:
	@sed -n '2,9p' Makefile | sed 's/^# \{0,1\}//'

# Python 3.11+, python3-venv and WeasyPrint's libraries; prints the apt-get line when one is missing.
check-system:
	@bash scripts/check-system.sh "$(PYTHON)" "$(VENV)"

$(PY):
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }

$(STAMP_RUN): requirements.txt | $(PY)
	@echo "Installing Python packages from requirements.txt into $(VENV)…"
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(STAMP_TEST): requirements.txt requirements-test.txt | $(PY)
	@echo "Installing Python packages from requirements-test.txt into $(VENV)…"
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	@touch $@ $(STAMP_RUN)  # requirements-test.txt includes requirements.txt

run: check-system $(STAMP_RUN)
	$(PY) manage.py migrate
	$(PY) manage.py seed_demo --if-empty
	@echo ""
	@echo "Starting Chi bộ on http://$(HOST):$(PORT)/ with a Celery worker and beat — Ctrl-C stops all three."
	@echo ""
	$(PY) scripts/dev.py --host $(HOST) --port $(PORT)

test: check-system $(STAMP_TEST)
	$(PY) -m pytest $(ARGS)

# All three run even when one fails, so that one pass shows every problem.
lint: check-system $(STAMP_TEST)
	@status=0; \
	echo "--- ruff check"; $(VENV)/bin/ruff check . || status=1; \
	echo "--- ruff format --check"; $(VENV)/bin/ruff format --check . || status=1; \
	echo "--- lint-imports"; $(VENV)/bin/lint-imports || status=1; \
	exit $$status

messages: check-system $(STAMP_RUN)
	$(PY) manage.py makemessages -l vi -l en \
		--ignore=.venv --ignore=var --ignore=staticfiles --ignore=tests --ignore=bench --ignore=scripts
	$(PY) manage.py compilemessages --ignore=.venv --ignore=var --ignore=staticfiles

check-deploy: check-system $(STAMP_RUN)
	DJANGO_DEBUG=false \
	DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
	DJANGO_ALLOWED_HOSTS=example.org \
		$(PY) manage.py check --deploy --fail-level WARNING
