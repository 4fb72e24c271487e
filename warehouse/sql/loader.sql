-- The role channelhub loads and builds with (CHANNELHUB_WAREHOUSE_URL): owns every schema it creates
-- (raw_<account>, staging, intermediate, marts, ops) and nothing else. Not a superuser.
--
--   psql -v ON_ERROR_STOP=1 -v loader=loader -v loader_password="$WAREHOUSE_LOADER_PASSWORD" -f loader.sql
--
-- Safe to re-run: an existing role keeps its objects and gets the given password.

select format('create role %I', :'loader')
where not exists (select from pg_roles where rolname = :'loader') \gexec

alter role :"loader" with login nosuperuser nocreatedb nocreaterole password :'loader_password';

-- CREATE on the database lets it create its schemas.
select format('grant connect, create on database %I to %I', current_database(), :'loader') \gexec
