#!/usr/bin/env bash
# Controls orders-api on its host: the systemd template units orders-api@1 … orders-api@N, each
# answering a health check. The runbooks orders-api-restart and orders-db-restore call it.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/orders-api.sh status|start|stop|rolling-restart

  status            every instance: its unit's state and whether it answers its health check
  start             start every instance, then wait until each answers its health check
  stop              stop every instance: orders-api stops taking orders (the database has no writers)
  rolling-restart   restart the instances one at a time; each must answer its health check before the
                    next is restarted. Stops at the first that does not, leaving the others running.

Environment:
  ORDERS_API_INSTANCES        how many instances run on this host (default 3)
  ORDERS_API_HEALTH_URL       the health check of one instance: {n} is replaced by its number and
                              {port} by 8080 + n (default http://127.0.0.1:{port}/healthz)
  ORDERS_API_HEALTH_TIMEOUT   seconds an instance has to answer after a start (default 60)
  SYSTEMCTL                   the command that controls the units (default systemctl)

Exit status: 0 done; 1 error; 2 usage; 3 an instance did not answer its health check in time.
USAGE
}

[ $# -eq 1 ] || { usage >&2; exit 2; }
action="$1"
case "$action" in
  -h | --help | help) usage; exit 0 ;;
  status | start | stop | rolling-restart) ;;
  *) usage >&2; exit 2 ;;
esac

instances="${ORDERS_API_INSTANCES:-3}"
default_health_url='http://127.0.0.1:{port}/healthz'
health_url="${ORDERS_API_HEALTH_URL:-$default_health_url}"
health_timeout="${ORDERS_API_HEALTH_TIMEOUT:-60}"
read -r -a systemctl <<<"${SYSTEMCTL:-systemctl}"
[[ "$instances" =~ ^[1-9][0-9]?$ ]] || { echo "ORDERS_API_INSTANCES must be a number from 1 to 99" >&2; exit 2; }
[[ "$health_timeout" =~ ^[1-9][0-9]*$ ]] || { echo "ORDERS_API_HEALTH_TIMEOUT must be a whole number of seconds" >&2; exit 2; }

unit() { echo "orders-api@$1.service"; }
url_of() {
  local url="${health_url//\{n\}/$1}"
  echo "${url//\{port\}/$((8080 + $1))}"
}

healthy() {
  curl --silent --show-error --fail --max-time 2 --output /dev/null "$(url_of "$1")" 2>/dev/null
}

# Wait until instance $1 answers its health check; exit 3 when it does not in time.
wait_healthy() {
  local n="$1" deadline=$((SECONDS + health_timeout))
  until healthy "$n"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "error: $(unit "$n") did not answer $(url_of "$n") within ${health_timeout}s" >&2
      exit 3
    fi
    sleep 1
  done
  echo "$(unit "$n") is healthy"
}

case "$action" in
  status)
    for n in $(seq 1 "$instances"); do
      state="$("${systemctl[@]}" is-active "$(unit "$n")" 2>/dev/null || true)"
      if healthy "$n"; then health=healthy; else health="not answering"; fi
      printf '%s\t%s\t%s\n' "$(unit "$n")" "${state:-unknown}" "$health"
    done
    ;;
  start)
    for n in $(seq 1 "$instances"); do "${systemctl[@]}" start "$(unit "$n")"; done
    for n in $(seq 1 "$instances"); do wait_healthy "$n"; done
    echo "orders-api: $instances instances started"
    ;;
  stop)
    for n in $(seq 1 "$instances"); do "${systemctl[@]}" stop "$(unit "$n")"; done
    echo "orders-api: $instances instances stopped"
    ;;
  rolling-restart)
    for n in $(seq 1 "$instances"); do
      echo "restarting $(unit "$n")"
      "${systemctl[@]}" restart "$(unit "$n")"
      wait_healthy "$n"
    done
    echo "orders-api: $instances instances restarted, one at a time"
    ;;
esac
