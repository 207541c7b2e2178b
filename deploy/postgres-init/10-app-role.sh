#!/bin/sh
# Makes safe_passage_app, the login role web, worker and beat run as. The official postgres
# image runs this once, when it starts on an empty data volume; for a volume that already
# holds data, README ("Two database roles") says how to make the role by hand.
#
# The role owns nothing and may create nothing: no database, no role, no table. The tables'
# owner, POSTGRES_USER, grants it what the app needs each time `manage.py migrate` runs
# (the migrate service; privacy/database_roles.py).
set -e

if [ -z "${POSTGRES_APP_PASSWORD:-}" ]; then
    echo "POSTGRES_APP_PASSWORD is not set: the app's database role needs a password." >&2
    exit 1
fi

# The password travels as a psql variable, quoted by psql (:'...'), never spliced into SQL.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set app_password="$POSTGRES_APP_PASSWORD" <<'SQL'
CREATE ROLE safe_passage_app LOGIN PASSWORD :'app_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE;
SQL
