#!/usr/bin/env bash
# Blue-green deploy of a built site (or any release folder) into a target root:
#   TARGET/releases/<id>/   every release, side by side
#   TARGET/current          a symbolic link to the live release, switched by an atomic rename
#   TARGET/deploy-history.log   one line per deploy and rollback
# The new release is health-checked before the switch; a failed check leaves `current` untouched.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/deploy.sh [options] ARTIFACT

  ARTIFACT   a folder, or a .tar.gz of one; a checksum file ARTIFACT.sha256 beside it is verified

Options:
  --target DIR        the target root (default $DEPLOY_TARGET)
  --keep N            releases to keep, the live one included (default 5)
  --release-id ID     the release's id (default: UTC time and the artifact's checksum)
  --health-url URL    GET this URL before switching; {release} is replaced by the release id
                      (serve TARGET so that /releases/<id>/ reaches the new release)
  --health-cmd CMD    run CMD before switching, with RELEASE_DIR set to the new release
  --min-free-mb N     refuse when the target has less free space than the artifact needs plus N MiB (default 50)
  -h, --help          this text

Without a health check option, the check is that the release has an index.html that is not empty.
One deploy or rollback at a time per target (a lock on TARGET/.deploy.lock); staging folders left by a
killed deploy are removed first, so a retry with the same --release-id ships only the new artifact.
Exit status: 0 deployed; 1 error, nothing switched; 2 usage; 3 the health check failed, nothing switched.
USAGE
}

target="${DEPLOY_TARGET:-}"
keep=5
release_id=""
health_url=""
health_cmd=""
min_free_mb=50
artifact=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --target) target="${2:?--target needs a folder}"; shift 2 ;;
    --keep) keep="${2:?--keep needs a number}"; shift 2 ;;
    --release-id) release_id="${2:?--release-id needs an id}"; shift 2 ;;
    --health-url) health_url="${2:?--health-url needs a URL}"; shift 2 ;;
    --health-cmd) health_cmd="${2:?--health-cmd needs a command}"; shift 2 ;;
    --min-free-mb) min_free_mb="${2:?--min-free-mb needs a number}"; shift 2 ;;
    -*) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
    *) [ -z "$artifact" ] || { usage >&2; exit 2; }; artifact="$1"; shift ;;
  esac
done
[ -n "$artifact" ] && [ -n "$target" ] || { usage >&2; exit 2; }
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || { echo "--keep must be a whole number of at least 1" >&2; exit 2; }
[[ "$min_free_mb" =~ ^[0-9]+$ ]] || { echo "--min-free-mb must be a whole number" >&2; exit 2; }

die() { echo "deploy: $*" >&2; exit 1; }
log() { echo "deploy: $*"; }

# Pre-deploy checks: the artifact, its checksum, the free space.
[ -e "$artifact" ] || die "no artifact at $artifact"
if [ -f "$artifact.sha256" ]; then
  [ -f "$artifact" ] || die "a checksum file needs a file artifact (a .tar.gz), not a folder"
  expected="$(cut -d' ' -f1 <"$artifact.sha256")"
  actual="$(sha256sum "$artifact" | cut -d' ' -f1)"
  [ "$expected" = "$actual" ] || die "checksum mismatch: $artifact.sha256 says $expected, the artifact is $actual"
  log "checksum verified ($actual)"
fi
mkdir -p "$target/releases"
need_kb="$(du -sk "$artifact" | cut -f1)"
case "$artifact" in *.tar.gz | *.tgz) need_kb=$((need_kb * 4)) ;; esac
free_kb="$(df -Pk "$target" | awk 'NR == 2 {print $4}')"
if [ "$free_kb" -lt $((need_kb + min_free_mb * 1024)) ]; then
  die "not enough free space in $target: ${free_kb} KiB free, $((need_kb + min_free_mb * 1024)) KiB needed"
fi

if [ -z "$release_id" ]; then
  sum="$(if [ -f "$artifact" ]; then sha256sum "$artifact"; else tar -C "$artifact" -cf - . | sha256sum; fi | cut -c1-8)"
  release_id="$(date -u +%Y%m%dT%H%M%SZ)-$sum"
fi
[[ "$release_id" =~ ^[A-Za-z0-9._-]+$ ]] || die "a release id may hold only letters, digits, '.', '_' and '-'"
release="$target/releases/$release_id"

# One deploy at a time into a target: a staging folder or a temporary link found while holding the lock
# was left by a deploy that was killed (SIGKILL, a lost runner), and is removed before anything else.
exec 9>>"$target/.deploy.lock"
flock -n 9 || die "another deploy into $target is running"
for leftover in "$target"/releases/.staging-* "$target"/.current-*; do
  if [ -e "$leftover" ] || [ -L "$leftover" ]; then
    rm -rf -- "$leftover"
    log "removed ${leftover#"$target"/}, left by a deploy that did not finish"
  fi
done
[ ! -e "$release" ] || die "release $release_id exists already"

# Copy into a staging folder, then rename: a release folder is complete or absent.
staging="$target/releases/.staging-$release_id"
trap 'rm -rf -- "$staging"' EXIT
mkdir "$staging"
if [ -d "$artifact" ]; then
  cp -a "$artifact/." "$staging/"
else
  tar -xzf "$artifact" -C "$staging" --no-same-owner
fi
mv -- "$staging" "$release"
trap - EXIT
log "release $release_id unpacked"

# Health check of the new release, before anything switches.
healthy=1
if [ -n "$health_url" ]; then
  url="${health_url//\{release\}/$release_id}"
  for attempt in 1 2 3; do
    if curl --fail --silent --show-error --max-time 10 --output /dev/null "$url" 9>&-; then
      healthy=0
      break
    fi
    sleep "$attempt"
  done
elif [ -n "$health_cmd" ]; then
  if RELEASE_DIR="$release" bash -c "$health_cmd" 9>&-; then healthy=0; fi
elif [ -s "$release/index.html" ]; then
  healthy=0
fi
previous="$(readlink "$target/current" 2>/dev/null || true)"
if [ "$healthy" != 0 ]; then
  printf '%s\tdeploy-failed\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$release_id" "${previous##*/}" "${USER:-unknown}" \
    >>"$target/deploy-history.log"
  rm -rf -- "$release"
  echo "deploy: the health check of release $release_id failed; current still points to ${previous:-nothing}" >&2
  exit 3
fi

# The switch: a new link under a temporary name, renamed over `current` (rename is atomic).
ln -sfn "releases/$release_id" "$target/.current-$release_id"
mv -Tf -- "$target/.current-$release_id" "$target/current"
printf '%s\tdeploy\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$release_id" "${previous##*/}" "${USER:-unknown}" \
  >>"$target/deploy-history.log"
prev_id="${previous##*/}"
log "current -> releases/$release_id (was ${prev_id:-nothing})"

# Keep the newest releases; never the live one nor the one a rollback would return to.
mapfile -t releases < <(find "$target/releases" -mindepth 1 -maxdepth 1 -type d ! -name '.staging-*' -printf '%f\n' | sort -r)
count=0
for name in "${releases[@]}"; do
  count=$((count + 1))
  if [ "$count" -gt "$keep" ] && [ "$name" != "$release_id" ] && [ "$name" != "${previous##*/}" ]; then
    rm -rf -- "${target:?}/releases/$name"
    log "removed old release $name"
  fi
done
