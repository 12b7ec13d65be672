#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests.
#
#   .ci/postgres.sh start   install PostgreSQL if missing (Debian's package), start a private
#                           server on 127.0.0.1 and print its DSN (the only line on stdout)
#   .ci/postgres.sh stop    stop that server and delete its data folder
#   .ci/postgres.sh dsn     print the DSN of the running server
#
# Idempotent: `start` on a running server only prints the DSN, `stop` on a stopped one does
# nothing. The server runs from its own data folder ($SEMHASH_PG_DIR, default
# /tmp/semhash-pg) on a free port (from $SEMHASH_PG_PORT, default 55432, upwards), so it never
# touches a system cluster. As root it runs as the `postgres` user.
set -euo pipefail

DIR="${SEMHASH_PG_DIR:-/tmp/semhash-pg}"
DATA="$DIR/data"
PORT_FILE="$DIR/port"
DB=semhash_test
ROLE=semhash
PASSWORD=semhash

log() { echo "postgres.sh: $*" >&2; }

find_bin() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
    done
    command -v pg_ctl >/dev/null 2>&1 && { dirname "$(command -v pg_ctl)"; return 0; }
    return 1
}

install() {
    if ! find_bin >/dev/null; then
        log "installing PostgreSQL (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
    fi
}

as_owner() {  # run a command as the owner of the data folder
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

dsn() { echo "postgresql://$ROLE:$PASSWORD@127.0.0.1:$(cat "$PORT_FILE")/$DB"; }

running() { [ -f "$DATA/PG_VERSION" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

free_port() {
    local port="${SEMHASH_PG_PORT:-55432}"
    while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    echo "$port"
}

start() {
    install
    BIN="$(find_bin)"
    if running; then dsn; return 0; fi
    rm -rf "$DATA"
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres: "$DIR"
    free_port >"$PORT_FILE"
    local port; port="$(cat "$PORT_FILE")"
    as_owner "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$DIR -c fsync=off" start >/dev/null
    as_owner "$BIN/psql" -q -h "$DIR" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD';
CREATE DATABASE $DB OWNER $ROLE;
SQL
    log "PostgreSQL $("$BIN/pg_ctl" --version | awk '{print $3}') running on 127.0.0.1:$port (data in $DATA)"
    dsn
}

stop() {
    BIN="$(find_bin)" || return 0
    if running; then
        as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
        log "stopped the server in $DATA"
    fi
    rm -rf "$DIR"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    dsn) BIN="$(find_bin)" && running && dsn ;;
    *) echo "usage: $0 start|stop|dsn" >&2; exit 2 ;;
esac
