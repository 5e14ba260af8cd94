#!/bin/sh
# postgres-roles.sh: the application's PostgreSQL login role (SPEC §11, least privilege). POSIX
# sh. docker-compose.prod.yml mounts it into the postgres image's /docker-entrypoint-initdb.d/,
# which runs it once, when the data volume is first initialised; on a volume made before, run it
# by hand (it is idempotent; it also changes the password to the current one):
#   docker-compose -f docker-compose.prod.yml exec -u postgres postgres \
#       sh /docker-entrypoint-initdb.d/50-stock-roles.sh
#
# Environment: POSTGRES_USER (who runs it: the image's bootstrap role, also the owner of the
# database and of every table, which `stockctl migrate` runs as), POSTGRES_DB, STOCK_DB_APP_USER
# (default stock_app), STOCK_DB_APP_PASSWORD (required) or STOCK_DB_APP_PASSWORD_FILE; psql's
# PGHOST/PGPORT when not on the local socket.
#
# The app role: LOGIN, no superuser, no CREATEDB/CREATEROLE/REPLICATION/BYPASSRLS, owns nothing,
# may connect to the database (CONNECT, TEMPORARY) and use the schema public, but not CREATE in
# it (revoked from PUBLIC as well). Its rights on the tables, sequences and functions are given
# by `stockctl migrate --app-role ROLE` after each migration run (docker-entrypoint.sh passes
# STOCK_DB_APP_ROLE), plus default privileges for the tables later migrations create.
# The password reaches psql through its environment (\getenv), never a command line.
set -eu

: "${POSTGRES_USER:?POSTGRES_USER must be set}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
STOCK_DB_APP_USER=${STOCK_DB_APP_USER:-stock_app}
if [ -z "${STOCK_DB_APP_PASSWORD:-}" ] && [ -n "${STOCK_DB_APP_PASSWORD_FILE:-}" ]; then
    STOCK_DB_APP_PASSWORD=$(cat "$STOCK_DB_APP_PASSWORD_FILE")
fi
if [ -z "${STOCK_DB_APP_PASSWORD:-}" ]; then
    echo "postgres-roles: STOCK_DB_APP_PASSWORD (or STOCK_DB_APP_PASSWORD_FILE) must be set" >&2
    exit 1
fi
if [ "$STOCK_DB_APP_USER" = "$POSTGRES_USER" ]; then
    echo "postgres-roles: STOCK_DB_APP_USER must differ from POSTGRES_USER (the owner)" >&2
    exit 1
fi
export STOCK_DB_APP_USER STOCK_DB_APP_PASSWORD

psql -X -q -v ON_ERROR_STOP=1 --no-password -U "$POSTGRES_USER" -d "$POSTGRES_DB" <<'SQL'
\getenv app_user STOCK_DB_APP_USER
\getenv app_pw STOCK_DB_APP_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'app_user')
    WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_user') \gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS '
              'INHERIT CONNECTION LIMIT -1 PASSWORD %L', :'app_user', :'app_pw') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', current_database(), :'app_user') \gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SELECT format('REVOKE CREATE ON SCHEMA public FROM %I', :'app_user') \gexec
SELECT format('GRANT USAGE ON SCHEMA public TO %I', :'app_user') \gexec
SQL
echo "postgres-roles: role $STOCK_DB_APP_USER ready in database $POSTGRES_DB" >&2
