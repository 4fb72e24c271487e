# Everything a fresh clone needs. Only Python 3.11 must be on the machine:
# the first target bootstraps uv into .tools/ and builds .venv from uv.lock.
PYTHON ?= python3.11
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
RUN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: env demo test test-fast bench sandbox lint clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON) --all-extras
	@touch $@

env: $(VENV)/.synced  ## create .venv from the lock file

demo: env  ## run the whole pipeline against the local sandboxes
	$(RUN)/channelhub demo

test: env  ## the full suite (needs the PostgreSQL and MariaDB services)
	$(RUN)/pytest

bench: env  ## print throughput, incremental cost and peak memory figures
	$(RUN)/python -m benchmarks.ingest

sandbox: env  ## serve every sandbox on its configured port
	$(RUN)/channelhub sandbox serve

lint: env
	$(RUN)/ruff check .

clean:
	rm -rf .venv .tools .channelhub
