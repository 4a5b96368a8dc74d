#!/bin/sh
# First start of the primary only (the image runs /docker-entrypoint-initdb.d once, on an
# empty data directory): the role the replica streams with, its password from the secret
# file, and the pg_hba line that lets it in (`all` does not match replication).
set -eu
password="$(cat "$REPLICATION_PASSWORD_FILE")"
psql -v ON_ERROR_STOP=1 -v user="$REPLICATION_USER" -v password="$password" \
     --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE :"user" WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication $REPLICATION_USER all scram-sha-256" >> "$PGDATA/pg_hba.conf"
