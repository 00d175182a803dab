# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test install bench clean

$(STAMP): pyproject.toml package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

install: $(STAMP)

# Start the service with demo data on the embedded SQLite default.
run: install
	$(VENV)/bin/jiuzhu deploy
	$(VENV)/bin/jiuzhu serve --demo

# The whole test suite, one worker per core (PostgreSQL too when JIUZHU_TEST_DATABASE_URL is set).
test: install
	$(VENV)/bin/pytest -q -n auto

bench: install
	$(VENV)/bin/python -m tests.bench

clean:
	rm -rf $(VENV) instance
