#!/usr/bin/env bash
# Rolls a blue-green deploy back: switches TARGET/current to the release live before the current one
# (or to a named release), atomically, and records it in the deploy history.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/rollback.sh [--target DIR] [--to RELEASE_ID]

  --target DIR      the target root deploy.sh deploys into (default $DEPLOY_TARGET)
  --to ID           the release to switch to (default: the one live before the current one)
  --health-cmd CMD  run CMD against the release first, with RELEASE_DIR set; a failure switches nothing

Exit status: 0 switched; 1 error, nothing switched; 2 usage; 3 the health check failed.
USAGE
}

target="${DEPLOY_TARGET:-}"
to=""
health_cmd=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --target) target="${2:?--target needs a folder}"; shift 2 ;;
    --to) to="${2:?--to needs a release id}"; shift 2 ;;
    --health-cmd) health_cmd="${2:?--health-cmd needs a command}"; shift 2 ;;
    *) usage >&2; exit 2 ;;
  esac
done
[ -n "$target" ] || { usage >&2; exit 2; }

die() { echo "rollback: $*" >&2; exit 1; }

[ -L "$target/current" ] || die "$target/current is not a deploy's link: nothing to roll back"
# The lock deploy.sh holds: a rollback never switches in the middle of a deploy.
exec 9>>"$target/.deploy.lock"
flock -n 9 || die "a deploy or rollback into $target is running"
current="$(readlink "$target/current")"
current="${current##*/}"
if [ -z "$to" ]; then
  # The history's deploy lines, newest last: the release live before the current one.
  [ -f "$target/deploy-history.log" ] || die "no deploy history in $target"
  to="$(awk -F '\t' -v cur="$current" '$2 == "deploy" && $3 == cur {prev = $4} END {print prev}' \
    "$target/deploy-history.log")"
  [ -n "$to" ] || die "the history names no release before $current"
fi
[[ "$to" =~ ^[A-Za-z0-9._-]+$ ]] || die "not a release id: $to"
[ -d "$target/releases/$to" ] || die "release $to is not in $target/releases (removed?)"
[ "$to" != "$current" ] || die "release $to is live already"

if [ -n "$health_cmd" ] && ! RELEASE_DIR="$target/releases/$to" bash -c "$health_cmd" 9>&-; then
  echo "rollback: the health check of release $to failed; current still points to $current" >&2
  exit 3
fi

ln -sfn "releases/$to" "$target/.current-rollback-$to"
mv -Tf -- "$target/.current-rollback-$to" "$target/current"
printf '%s\trollback\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$to" "$current" "${USER:-unknown}" \
  >>"$target/deploy-history.log"
echo "rollback: current -> releases/$to (was $current)"
