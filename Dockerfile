# channelhub + Airflow 3 in one image: every Airflow service of docker-compose.yml and the sandboxes.
# Dependencies come from uv.lock, so the image runs exactly what the test suite ran.
FROM python:3.11-slim-bookworm

ARG UV_VERSION=0.13.8
ENV PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/opt/venv/bin:$PATH

RUN apt-get update \
 && apt-get install -y --no-install-recommends curl libpq5 postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir "uv==${UV_VERSION}"

WORKDIR /opt/channelhub

# Third-party dependencies first: this layer is rebuilt only when the lock file changes. --all-extras
# includes "production": the CeleryExecutor on Redis and asyncpg for the PostgreSQL metadata DB.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --all-extras --no-install-project

COPY . .
RUN uv sync --frozen --no-dev --all-extras \
 && useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home airflow \
 && mkdir -p /opt/channelhub/.channelhub \
 && chown -R 50000:0 /opt/channelhub/.channelhub /opt/airflow

USER 50000
ENV AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/channelhub/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    CHANNELHUB_HOME=/opt/channelhub/.channelhub \
    CHANNELHUB_CONFIG=/opt/channelhub/channelhub.yml
