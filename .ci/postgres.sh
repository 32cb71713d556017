#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests: its own data folder, on 127.0.0.1 only, trust
# authentication for the local test user. Prints the URL the tests read from OPSBOOK_TEST_PG_URL.
# Usage: .ci/postgres.sh start|stop [DATA_DIR]
set -euo pipefail

action="${1:-start}"
data="${2:-/tmp/opsbook-ci-pg}"
# A free port on loopback unless one is given: another server (a developer's) may hold any fixed one.
port="${PGPORT_TEST:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
bin="$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -n 1)"
[ -n "$bin" ] || { echo "PostgreSQL is not installed (Debian package postgresql)" >&2; exit 1; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$action" in
  start)
    if [ ! -f "$data/PG_VERSION" ]; then
      mkdir -p "$data"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$data"
      as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust --no-sync >/dev/null
    fi
    as_postgres "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$data -c fsync=off" start >/dev/null
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_postgres "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null
    ;;
  *)
    echo "usage: $0 start|stop [DATA_DIR]" >&2
    exit 2
    ;;
esac
