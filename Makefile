# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
# Every Python package at one exact version (`make lock` writes it): the same install everywhere.
CONSTRAINTS := constraints.txt

.PHONY: run test install lock bench clean

# pip and setuptools come from the constraints too; the package is built with that setuptools
# (no build isolation), so nothing unpinned is fetched.
$(STAMP): pyproject.toml $(CONSTRAINTS) package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -c $(CONSTRAINTS) pip setuptools
	$(VENV)/bin/pip install --quiet -c $(CONSTRAINTS) --no-build-isolation -e '.[test]'
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

install: $(STAMP)

# Resolve pyproject.toml's pins afresh in a throw-away venv and freeze the whole result.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip setuptools
	.lock-venv/bin/pip install --quiet --no-build-isolation '.[test]'
	{ echo '# Every Python package of jiuzhu at one version: written by `make lock`, used by `make install`.'; \
	  echo '# Direct dependencies are pinned in pyproject.toml; change them there, then run `make lock`.'; \
	  .lock-venv/bin/pip freeze --all --exclude jiuzhu; } > $(CONSTRAINTS)
	rm -rf .lock-venv build

# Start the service with demo data on the embedded SQLite default: schema first, then processes.
# The deploy runs in demo mode like the server (JIUZHU_CLOCK=manual): the demo's public data keys
# stand in for the keys a real installation must set (deploy/keys.md).
run: install
	$(VENV)/bin/jiuzhu db upgrade
	JIUZHU_CLOCK=manual $(VENV)/bin/jiuzhu deploy
	$(VENV)/bin/jiuzhu serve --demo

# The whole test suite, one worker per core (PostgreSQL too when JIUZHU_TEST_DATABASE_URL is set);
# a module marked with xdist_group (a module-scoped app or the scenario run) stays on one worker.
test: install
	$(VENV)/bin/pytest -q -n auto --dist loadgroup

bench: install
	$(VENV)/bin/python -m tests.bench

clean:
	rm -rf $(VENV) instance
