#!/bin/sh
# Run by the postgres image once, when warehouse-db initialises an empty data directory
# (mounted into /docker-entrypoint-initdb.d by docker-compose.yml). Passwords come from the
# container's environment (.env), never from a file in the repository.
set -eu
for script in loader.sql bi_readonly.sql; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
       -v loader="${WAREHOUSE_LOADER_USER:-loader}" -v loader_password="$WAREHOUSE_LOADER_PASSWORD" \
       -v bi_role="${WAREHOUSE_BI_USER:-bi_readonly}" -v bi_password="$WAREHOUSE_BI_PASSWORD" \
       -f "/channelhub/sql/$script"
done
