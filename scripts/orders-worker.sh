#!/usr/bin/env bash
# Controls orders-worker on its host: the systemd template units orders-worker@1 … orders-worker@N,
# each consuming orders-queue. The runbook orders-queue-backlog calls it.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/orders-worker.sh status|scale N [--exact]

  status            the orders-worker instances running on this host, and how many
  scale N           run at least N instances: start orders-worker@1 … orders-worker@N; stops nothing
                    (scaling out during a backlog must never take a consumer away)
  scale N --exact   run exactly N: also stop the instances above N

Environment:
  ORDERS_WORKER_MAX   the most instances scale accepts (default 12: the queue's consumer limit)
  SYSTEMCTL           the command that controls the units (default systemctl)

Exit status: 0 done; 1 error; 2 usage.
USAGE
}

case "${1:-}" in
  -h | --help | help) usage; exit 0 ;;
  status) [ $# -eq 1 ] || { usage >&2; exit 2; } ;;
  scale) [ $# -eq 2 ] || { [ $# -eq 3 ] && [ "$3" = --exact ]; } || { usage >&2; exit 2; } ;;
  *) usage >&2; exit 2 ;;
esac
action="$1"
most="${ORDERS_WORKER_MAX:-12}"
read -r -a systemctl <<<"${SYSTEMCTL:-systemctl}"
[[ "$most" =~ ^[1-9][0-9]*$ ]] || { echo "ORDERS_WORKER_MAX must be a whole number of at least 1" >&2; exit 2; }

# The numbers of the running instances, one a line, in order.
running() {
  "${systemctl[@]}" list-units 'orders-worker@*.service' --state=running --no-legend --plain 2>/dev/null |
    sed -n 's/^orders-worker@\([0-9][0-9]*\)\.service.*/\1/p' | sort -n
}

case "$action" in
  status)
    numbers="$(running)"
    count=0
    for n in $numbers; do
      echo "orders-worker@$n.service running"
      count=$((count + 1))
    done
    echo "orders-worker: $count instances running"
    ;;
  scale)
    wanted="$2"
    [[ "$wanted" =~ ^[0-9]+$ ]] && [ "$wanted" -ge 1 ] && [ "$wanted" -le "$most" ] ||
      { echo "scale takes a number of instances from 1 to $most, not '$wanted'" >&2; exit 2; }
    for n in $(seq 1 "$wanted"); do "${systemctl[@]}" start "orders-worker@$n.service"; done
    if [ "${3:-}" = --exact ]; then
      for n in $(running); do
        if [ "$n" -gt "$wanted" ]; then "${systemctl[@]}" stop "orders-worker@$n.service"; fi
      done
      echo "orders-worker: scaled to exactly $wanted instances"
    else
      echo "orders-worker: at least $wanted instances running"
    fi
    ;;
esac
