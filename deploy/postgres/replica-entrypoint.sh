#!/bin/sh
# The streaming replica (docker-compose.yml, service db-replica). On its first start (empty
# data directory) it copies the primary with pg_basebackup -R: a physical copy plus
# standby.signal and primary_conninfo, streaming from a replication slot so the primary
# keeps the WAL it has not received yet (bounded by max_slot_wal_keep_size). Later starts
# just run the standby. Then the image's own entrypoint (it drops to the postgres user).
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    export PGPASSWORD
    PGPASSWORD="$(cat "$REPLICATION_PASSWORD_FILE")"
    until pg_isready -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -q; do
        echo "replica: waiting for the primary $PRIMARY_HOST:$PRIMARY_PORT"
        sleep 2
    done
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    # the slot may survive a replica whose volume was deleted: reuse it, else create it
    slot_exists="$(psql -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$REPLICATION_USER" \
        -d "$POSTGRES_DB" -tAc \
        "SELECT 1 FROM pg_replication_slots WHERE slot_name = '$REPLICA_SLOT'" 2>/dev/null || true)"
    create=-C
    [ "$slot_exists" = 1 ] && create=
    echo "replica: pg_basebackup from $PRIMARY_HOST (slot $REPLICA_SLOT)"
    gosu postgres pg_basebackup -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$REPLICATION_USER" \
        -D "$PGDATA" -R -X stream $create -S "$REPLICA_SLOT" --checkpoint=fast --progress
    unset PGPASSWORD
fi
exec docker-entrypoint.sh "$@"
