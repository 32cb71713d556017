#!/usr/bin/env bash
# Database migrations of the orders system, with yoyo-migrations (migrations/NNNN.name.sql and
# NNNN.name.rollback.sql), against SQLite or PostgreSQL as DATABASE_URL says.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/migrate.sh status|apply|rollback [--dry-run]

  status     list the migrations: applied (A) or pending (U)
  apply      apply every pending migration, in order
  rollback   roll back the last applied migration only
  --dry-run  with apply or rollback: print what would run, change nothing

Environment:
  DATABASE_URL   sqlite:///path or postgresql://... (required)
  MIGRATIONS     the migrations folder (default: migrations beside scripts/)
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/db.sh
. "$here/lib/db.sh"

dry_run=0
action=""
for argument in "$@"; do
  case "$argument" in
    -h | --help) usage; exit 0 ;;
    --dry-run) dry_run=1 ;;
    status | apply | rollback) [ -z "$action" ] || { usage >&2; exit 2; }; action="$argument" ;;
    *) usage >&2; exit 2 ;;
  esac
done
[ -n "$action" ] || { usage >&2; exit 2; }
[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set"
migrations="${MIGRATIONS:-$here/../migrations}"
yoyo="$(command -v yoyo || true)"
[ -n "$yoyo" ] || yoyo="$(dirname "$(command -v python3)")/yoyo"
[ -x "$yoyo" ] || die "yoyo is not installed (pip install yoyo-migrations)"

# yoyo names the PostgreSQL driver in the URL: psycopg 3.
url="$DATABASE_URL"
case "$(db_kind "$url")" in
  postgres) url="postgresql+psycopg://${url#*://}" ;;
esac
run_yoyo() { "$yoyo" "$1" --no-config-file --database "$url" "${@:2}" "$migrations"; }

# The migrations yoyo lists with their state: "A id" or "U id".
states() {
  run_yoyo list 2>/dev/null | awk '$1 == "A" || $1 == "U" {print $1, $2}'
}

case "$action" in
  status)
    run_yoyo list
    ;;
  apply)
    pending="$(states | awk '$1 == "U" {print $2}')"
    if [ -z "$pending" ]; then
      echo "no pending migration"
      exit 0
    fi
    if [ "$dry_run" = 1 ]; then
      echo "would apply:"
      while IFS= read -r id; do echo "  $id"; done <<<"$pending"
      exit 0
    fi
    run_yoyo apply --batch
    echo "applied: $(echo "$pending" | tr '\n' ' ')"
    ;;
  rollback)
    last="$(states | awk '$1 == "A" {id = $2} END {print id}')"
    [ -n "$last" ] || die "no applied migration to roll back"
    if [ "$dry_run" = 1 ]; then
      echo "would roll back: $last"
      exit 0
    fi
    run_yoyo rollback --batch --revision "$last"
    echo "rolled back: $last"
    ;;
esac
