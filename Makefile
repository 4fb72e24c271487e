# Everything a fresh clone needs. Only Python 3.11 must be on the machine:
# the first target bootstraps uv into .tools/ and builds .venv from uv.lock.
PYTHON ?= python3.11
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
RUN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: env browser demo test test-e2e celery-check reliability bench sandbox airflow lint clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# No --compile-bytecode: it compiles all of .venv (40 s, most of it never imported). Python writes the
# bytecode of what it imports instead, on first import; CI machines set PYTHONDONTWRITEBYTECODE, which
# would make every process compile dbt, Airflow and Great Expectations from source again (GX alone: 8 s
# instead of 3 s), so the Makefile's commands run without it.
unexport PYTHONDONTWRITEBYTECODE
$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON) --all-extras
	@touch $@

# Node tools of the test suite (dclint checks docker-compose.yml), from package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	@touch $@

env: $(VENV)/.synced node_modules/.installed  ## create .venv from the lock file, and the Node test tools

# The report's test renders it in a real browser: Debian's Chromium (Playwright drives it; its own
# browser download cannot work offline). Installed with apt when missing, which needs root.
CHROMIUM ?= /usr/bin/chromium
browser:  ## install Debian's Chromium for the report's browser test, when missing
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: env  ## run the whole pipeline against the local sandboxes
	$(RUN)/channelhub demo

# The tests' files (DuckDB warehouses, dlt packages, dbt targets) go to a RAM disk when the machine has
# one with room (4 GB free; a run writes some 350 MB, and pytest keeps its last three runs' folders, as
# under /tmp): DuckDB syncs its file to disk on every close, which on this machine's disk idles a core
# for a tenth of the suite. A container's small /dev/shm (64 MB by default) is left alone.
TEST_TMPDIR ?= $(shell test -w /dev/shm && test "$$(df -Pk /dev/shm | awk 'NR == 2 {print $$4}')" -gt 4000000 \
	&& echo /dev/shm || echo $${TMPDIR:-/tmp})

test: env  ## the suite but the whole-chain runs, within 5 minutes on 2 cores (needs PostgreSQL and MariaDB)
	TMPDIR=$(TEST_TMPDIR) $(RUN)/pytest -m "not e2e and not celery"

reliability: env  ## the failure scenarios alone (kill -9, faults, poison, late rows, concurrent writers; every connector's), as a table
	TMPDIR=$(TEST_TMPDIR) $(RUN)/pytest -m reliability

celery-check: env  ## the whole chain scheduled by Airflow's CeleryExecutor on two worker processes (Redis, PostgreSQL)
	$(RUN)/pytest -m celery -n 0

test-e2e: env browser  ## the whole chain end to end: the demo twice, Airflow from ingest to stock sync, every mart built on DuckDB and PostgreSQL
	TMPDIR=$(TEST_TMPDIR) $(RUN)/pytest -m e2e

bench: env  ## print ingest, build and stock-sync figures (throughput, incremental cost, API calls, memory)
	$(RUN)/python -m benchmarks.cli_startup
	$(RUN)/python -m benchmarks.ingest
	$(RUN)/python -m benchmarks.build
	$(RUN)/python -m benchmarks.stock_sync

sandbox: env  ## serve every sandbox on its configured port
	$(RUN)/channelhub sandbox serve

# Airflow 3 on this machine: SQLite metadata DB and LocalExecutor under .channelhub/airflow, the DAGs in
# dags/, no examples, DAGs unpaused so Assets chain them, UI/API on 127.0.0.1 without login. Tasks read
# the sandbox credentials from this shell's environment: export the ones `make sandbox` uses (README).
AIRFLOW_PORT ?= 8080
airflow: export AIRFLOW_HOME := $(CURDIR)/.channelhub/airflow
airflow: export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
airflow: export AIRFLOW__CORE__LOAD_EXAMPLES := False
airflow: export AIRFLOW__CORE__EXECUTOR := LocalExecutor
airflow: export AIRFLOW__CORE__PARALLELISM := 4
airflow: export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := False
airflow: export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN := sqlite:///$(CURDIR)/.channelhub/airflow/airflow.db
airflow: export AIRFLOW__API__HOST := 127.0.0.1
airflow: export AIRFLOW__API__PORT := $(AIRFLOW_PORT)
airflow: export AIRFLOW__API__BASE_URL := http://127.0.0.1:$(AIRFLOW_PORT)
airflow: export AIRFLOW__CORE__EXECUTION_API_SERVER_URL := http://127.0.0.1:$(AIRFLOW_PORT)/execution/
airflow: export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS := True
airflow: export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
airflow: env  ## Airflow 3 at http://127.0.0.1:8080 (start `make sandbox` first; see README)
	airflow db migrate
	airflow pools set warehouse_writer 1 "DuckDB takes one writer process at a time"
	airflow standalone

lint: env
	$(RUN)/ruff check .
	$(RUN)/lint-imports

clean:
	rm -rf .venv .tools .channelhub
