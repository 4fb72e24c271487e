-- The read-only role BI tools (Metabase, Superset, Power BI...) log in with: it sees the schema
-- `marts` (one table per mart) and nothing else, so raw data, staging, and ops tables stay private.
--
--   psql -v ON_ERROR_STOP=1 -v loader=loader -v bi_role=bi_readonly -v bi_password="$WAREHOUSE_BI_PASSWORD" \
--        -f bi_readonly.sql
--
-- `loader` is the role that builds the marts (see loader.sql). Every dbt build creates each mart table
-- anew and swaps it in; the default privileges below grant SELECT on each new table as the loader
-- creates it, so BI never loses access after a build. Safe to re-run (e.g. to rotate the password).

select format('create role %I', :'bi_role')
where not exists (select from pg_roles where rolname = :'bi_role') \gexec

alter role :"bi_role" with login nosuperuser nocreatedb nocreaterole password :'bi_password';
alter role :"bi_role" set default_transaction_read_only = on;

select format('grant connect on database %I to %I', current_database(), :'bi_role') \gexec

create schema if not exists marts authorization :"loader";
grant usage on schema marts to :"bi_role";
grant select on all tables in schema marts to :"bi_role";
alter default privileges for role :"loader" in schema marts grant select on tables to :"bi_role";
