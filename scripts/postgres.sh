#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback, for the tests and benchmarks.
#
#   scripts/postgres.sh run [--durable] -- COMMAND [ARG...]
#
# Installs PostgreSQL from Debian's packages when it is missing (apt-get; sudo when not root),
# creates a new cluster in a temporary folder as an unprivileged user (the invoking user, or
# `postgres` when run as root: initdb refuses root), starts it on 127.0.0.1 on a free port (no
# Unix socket outside the cluster's folder), runs COMMAND with CLOISTER_TEST_POSTGRES set to the
# URL of its `postgres` database, then stops the cluster and removes the folder — also when
# COMMAND fails or the script is interrupted. The exit status is COMMAND's.
#
# The cluster trades durability for speed (fsync, synchronous_commit and full_page_writes off)
# unless --durable is given: benchmarks that count what a commit costs use --durable.
set -euo pipefail

die() { echo "postgres.sh: $*" >&2; exit 1; }

[ "${1:-}" = "run" ] || die "usage: $0 run [--durable] -- COMMAND [ARG...]"
shift
DURABLE=0
if [ "${1:-}" = "--durable" ]; then DURABLE=1; shift; fi
[ "${1:-}" = "--" ] || die "usage: $0 run [--durable] -- COMMAND [ARG...]"
shift
[ $# -gt 0 ] || die "no command given"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# --- the server's programs -------------------------------------------------------------------
find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
BIN=$(find_bin)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ] || [ ! -x "$BIN/pg_ctl" ]; then
    echo "postgres.sh: installing PostgreSQL from Debian's packages" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # postgresql-common would create and start a cluster of its own on 5432: keep it from doing so.
    as_root mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.d/cloister-no-main.conf >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    BIN=$(find_bin)
    [ -n "$BIN" ] && [ -x "$BIN/initdb" ] || die "PostgreSQL was installed but initdb is not under /usr/lib/postgresql/*/bin"
fi

# --- who runs it -----------------------------------------------------------------------------
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
    RUN_AS=(runuser -u postgres --)
else
    RUN_AS=()
fi

# --- a free port on loopback -----------------------------------------------------------------
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

# --- the cluster -----------------------------------------------------------------------------
DIR=$(mktemp -d /tmp/cloister-postgres.XXXXXX)
chmod 0755 "$DIR"
PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
printf '%s\n' "$PASSWORD" > "$DIR/password"
mkdir -p "$DIR/data" "$DIR/socket"
if [ ${#RUN_AS[@]} -gt 0 ]; then chown -R postgres "$DIR"; fi
chmod 0600 "$DIR/password"

stop() {
    status=$?
    "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
    exit $status
}
trap stop EXIT INT TERM

"${RUN_AS[@]}" "$BIN/initdb" -D "$DIR/data" -U cloister --pwfile="$DIR/password" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
SETTINGS="-c listen_addresses=127.0.0.1 -p $PORT -k $DIR/socket -c max_connections=400 -c shared_buffers=64MB"
if [ "$DURABLE" -eq 0 ]; then SETTINGS="$SETTINGS -c fsync=off -c synchronous_commit=off -c full_page_writes=off"; fi
"${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -o "$SETTINGS" -w -t 60 start >/dev/null \
    || { cat "$DIR/server.log" >&2; die "the server did not start"; }

export CLOISTER_TEST_POSTGRES="postgres://cloister:$PASSWORD@127.0.0.1:$PORT/postgres?sslmode=disable"
echo "postgres.sh: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (cluster in $DIR$([ "$DURABLE" -eq 1 ] && echo ', durable'))" >&2
set +e
"$@"
status=$?
set -e
exit $status
