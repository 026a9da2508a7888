# Backup Policy Console. `make run` serves the demo; `make test` runs every check.
# PYTHON=/path/to/python3.X picks the interpreter .venv is made with; by default tools/pick-python
# takes the newest supported one on PATH (3.13, 3.12, 3.11) and says which.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run worker serve test test-postgres test-python lint fmt bench clean

install: $(STAMP)

# Reinstall only when the declared or locked dependencies change.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || { \
		python="$${PYTHON:-$$(sh tools/pick-python)}" && [ -n "$$python" ] || exit 1; \
		echo "Making $(VENV) with $$python ($$("$$python" --version 2>&1))"; \
		"$$python" -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test]"
	@touch $(STAMP)

# Procfile (web and worker) and Procfile.serve (proxy and app) run under honcho, which starts
# the processes together, prefixes their output, and stops them all when one stops.
HONCHO := PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho --no-colour

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --base-url http://$(HOST):$(PORT)
	HOST=$(HOST) $(HONCHO) start -f Procfile -p $(PORT)

# Production: one worker and the scheduler, in the foreground (docs/operations.md, "Workers").
worker: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py worker

# The production configuration: debug off, nginx on HOST:PORT in front of gunicorn on a loopback
# port (GUNICORN_PORT, default PORT + 1; config/serve.py fills config/nginx.conf.template;
# config/gunicorn.conf.py: WORKERS, THREADS), static files collected and served by WhiteNoise.
# Needs nginx (apt-get install nginx-light), DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS
# (docs/operations.md); refuses to start without a safe key. SERVE_PROXY=none runs gunicorn alone
# on HOST:PORT, for a deployment with its own equivalent proxy. Behind nginx every request comes
# from nginx, so the sign-in lockout reads the client's address from the X-Forwarded-For that
# nginx overwrites (never appends to).
GUNICORN_PORT ?= $(shell echo $$(($(PORT) + 1)))
SERVE_PROXY ?= nginx

serve: install
	DJANGO_DEBUG=0 $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=0 $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@case "$(SERVE_PROXY)" in \
	  none) DJANGO_DEBUG=0 HOST=$(HOST) PORT=$(PORT) exec $(BIN)/gunicorn -c config/gunicorn.conf.py config.wsgi ;; \
	  nginx) DJANGO_DEBUG=0 HOST=$(HOST) BIND=127.0.0.1:$(GUNICORN_PORT) \
	    AXES_IPWARE_META_PRECEDENCE_ORDER="$${AXES_IPWARE_META_PRECEDENCE_ORDER:-HTTP_X_FORWARDED_FOR,REMOTE_ADDR}" \
	    $(HONCHO) start -f Procfile.serve -p $(PORT) ;; \
	  *) echo "SERVE_PROXY=$(SERVE_PROXY): use nginx or none" >&2; exit 2 ;; \
	esac

# ruff; the import contracts of pyproject.toml (layers, a core without Django, no cycles); no
# function of the product more complex than radon's grade C (xenon fails on D or worse).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/xenon --max-absolute C --exclude "policies/migrations/*" policies config

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The whole suite on SQLite, then again on PostgreSQL when TEST_POSTGRES_URL names a server
# (CI always does: see .ci/run). Browser tests need Debian's chromium at /usr/bin/chromium.
# JOBS: how many pytest-xdist workers run the suite (auto: one per core). A worker that runs out
# of tests takes half of another's queue (worksteal), and the tests marked slow are queued first
# (tests/conftest.py), so the workers finish together.
JOBS ?= auto
PARALLEL = -n $(JOBS) --dist worksteal

test: lint
	$(BIN)/pytest $(PARALLEL)
	@if [ -n "$$TEST_POSTGRES_URL" ]; then \
		$(MAKE) --no-print-directory test-postgres; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI=true but TEST_POSTGRES_URL is not set: the PostgreSQL pass must run in CI" >&2; exit 1; \
	else \
		echo "PostgreSQL pass not run: set TEST_POSTGRES_URL=postgresql://user:pass@host/db to run it"; \
	fi

test-postgres: install
	@test -n "$$TEST_POSTGRES_URL" || { echo "set TEST_POSTGRES_URL=postgresql://user:pass@host/db" >&2; exit 2; }
	DATABASE_URL="$$TEST_POSTGRES_URL" $(BIN)/pytest $(PARALLEL) -m "not browser" -p no:cacheprovider

# The suite but the browser tests, in a venv of its own: CI runs it on Python 3.13 beside the 3.11
# pass, e.g. make test-python VENV=.venv-3.13 PYTHON=python3.13
test-python: install
	$(BIN)/pytest $(PARALLEL) -m "not browser" -p no:cacheprovider

# In-process micro benchmarks, wrk against make serve's stack (needs wrk), the scheduler, then the
# chunk store beside cp (BENCH_RESTIC=1 adds restic) (docs/performance.md).
bench: install
	$(BIN)/python -m tests.benchmarks.run
	$(BIN)/python -m tests.benchmarks.load
	$(BIN)/python -m tests.benchmarks.scheduler
	$(BIN)/python -m tests.benchmarks.store

clean:
	rm -rf .venv .venv-* .pytest_cache .ruff_cache .pytest-db-* test-artifacts
