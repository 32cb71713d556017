#!/usr/bin/env bash
# Renders the monitoring configuration from the handbook: a Prometheus configuration that loads every
# rule file of ops/alerts, the Alertmanager configuration, and the handbook's own figures for a
# node_exporter textfile collector; then validates all three with promtool and amtool.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/setup-monitoring.sh [--out DIR]

  --out DIR   where to write prometheus.yml, rules/, alertmanager.yml and textfile/opsbook.prom
              (default .ci-tmp/monitoring)

Environment:
  OPSBOOK              the opsbook command (default: opsbook, else python3 -m opsbook)
  ALERTMANAGER_ADDR    host:port of Alertmanager (default 127.0.0.1:9093)
  NODE_EXPORTER_ADDR   host:port of node_exporter with the textfile collector (default 127.0.0.1:9100)

Exit status: 0 written and valid; 1 a validation failed; 2 usage.
USAGE
}

out=".ci-tmp/monitoring"
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    *) usage >&2; exit 2 ;;
  esac
done
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -n "${OPSBOOK:-}" ]; then
  read -r -a opsbook <<<"$OPSBOOK"
elif command -v opsbook >/dev/null; then
  opsbook=(opsbook)
else
  opsbook=(python3 -m opsbook)
fi
command -v promtool >/dev/null || { echo "promtool is not installed (Debian package prometheus)" >&2; exit 1; }
command -v amtool >/dev/null || { echo "amtool is not installed (Debian package prometheus-alertmanager)" >&2; exit 1; }

mkdir -p "$out/rules" "$out/textfile"
rm -f "$out"/rules/*.yml
for file in "$root"/ops/alerts/*.yml "$root"/ops/alerts/*.yaml; do
  [ -e "$file" ] || continue
  cp -- "$file" "$out/rules/$(basename "${file%.*}").yml"
done
cp -- "$root/ops/alertmanager.yml" "$out/alertmanager.yml"
"${opsbook[@]}" metrics "$root" --out "$out/textfile/opsbook.prom"

cat >"$out/prometheus.yml" <<YAML
# Rendered by scripts/setup-monitoring.sh from the handbook; edit the handbook, not this file.
global:
  scrape_interval: 30s
  evaluation_interval: 30s
rule_files:
  - rules/*.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["${ALERTMANAGER_ADDR:-127.0.0.1:9093}"]
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:9090"]
  - job_name: handbook
    static_configs:
      - targets: ["${NODE_EXPORTER_ADDR:-127.0.0.1:9100}"]
YAML

failed=0
promtool check config "$out/prometheus.yml" || failed=1
amtool check-config "$out/alertmanager.yml" || failed=1
promtool check metrics <"$out/textfile/opsbook.prom" || failed=1
if [ "$failed" != 0 ]; then
  echo "setup-monitoring: the rendered configuration is not valid" >&2
  exit 1
fi
echo "setup-monitoring: wrote a valid configuration to $out"
