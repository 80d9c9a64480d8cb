#!/usr/bin/env bash
# A throw-away PostgreSQL server for the storage tests, on loopback only.
#
# Installs PostgreSQL from Debian when it is missing, creates a cluster in
# $OPENLFR_PG_DIR (default /tmp/openlfr-pg) owned by the `postgres` user when run as root,
# and starts it on 127.0.0.1:$OPENLFR_PG_PORT (default 55432) with trust authentication
# for the superuser `openlfr`. Idempotent and quiet: a running server is left alone.
#
# The tests reach it through OPENLFR_TEST_POSTGRES_URL, whose default is the server
# this script starts:
#   postgresql+psycopg://openlfr@127.0.0.1:55432/postgres
# (an admin connection: each test creates and drops its own database).
# Stop it with: pg_ctl -D /tmp/openlfr-pg stop   (as the user that owns the directory)
set -euo pipefail

PORT="${OPENLFR_PG_PORT:-55432}"
DIR="${OPENLFR_PG_DIR:-/tmp/openlfr-pg}"
USER_NAME=openlfr

find_bin() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

BIN=$(find_bin || true)
if [ -z "$BIN" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "postgres.sh: PostgreSQL is not installed and this is not root; run: apt-get install postgresql" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    BIN=$(find_bin)
fi

if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    exit 0
fi

# initdb and postgres refuse to run as root: run them as `postgres` in that case.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [ ! -s "$DIR/PG_VERSION" ]; then
    mkdir -p "$DIR"
    chmod 700 "$DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DIR"
    as_owner "$BIN/initdb" -D "$DIR" -U "$USER_NAME" --auth=trust -E UTF8 --locale=C >/dev/null
fi

# A test server: durability is not needed, speed is (fsync off), and it listens on loopback only.
as_owner "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null

"$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 30
