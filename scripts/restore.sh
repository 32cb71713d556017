#!/usr/bin/env bash
# Restores a backup made by backup.sh, refusing one whose checksum does not match its manifest, and
# verifies the row counts of the restored database against the manifest.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/restore.sh latest|NAME
       scripts/restore.sh verify latest|NAME
       scripts/restore.sh check latest|NAME

  latest|NAME         restore that backup into RESTORE_URL (default: DATABASE_URL), replacing its
                      contents, then compare the row counts with the backup's manifest
  verify latest|NAME  restore into a scratch database, compare the row counts, drop the scratch
                      database: proves the backup restores, touching nothing else
  check latest|NAME   restore nothing: compare the row counts of RESTORE_URL (default
                      DATABASE_URL) with the backup's manifest

Environment:
  BACKUP_DIR     where backups are kept (required)
  DATABASE_URL   the database backed up (sqlite:///path or postgresql://...)
  RESTORE_URL    where to restore (default DATABASE_URL)
  BACKUP_PREFIX  name prefix (default orders)

Exit status: 0 restored and counts match; 1 error; 2 usage; 3 checksum mismatch (nothing restored);
4 row counts differ.
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/db.sh
. "$here/lib/db.sh"

mode=restore
if [ "${1:-}" = verify ] || [ "${1:-}" = check ]; then
  mode="$1"
  shift
fi
case "${1:-}" in
  -h | --help | help) usage; exit 0 ;;
  "") usage >&2; exit 2 ;;
esac
[ $# -eq 1 ] || { usage >&2; exit 2; }
wanted="$1"
[ -n "${BACKUP_DIR:-}" ] || die "BACKUP_DIR is not set"
prefix="${BACKUP_PREFIX:-orders}"

# The manifest of the wanted backup.
if [ "$wanted" = latest ]; then
  listing="$(BACKUP_DIR="$BACKUP_DIR" BACKUP_PREFIX="$prefix" "$here/backup.sh" list)"
  newest="${listing%%$'\n'*}"
  name="${newest%%$'\t'*}"
  [ -n "$name" ] || die "no backup in $BACKUP_DIR"
else
  [[ "$wanted" =~ ^[A-Za-z0-9_.-]+$ ]] || die "not a backup name: $wanted"
  name="$wanted"
fi
manifest="$BACKUP_DIR/$name.json"
[ -f "$manifest" ] || die "no backup named $name in $BACKUP_DIR"

field() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1], encoding="utf-8"))[sys.argv[2]])' "$manifest" "$1"
}
file="$BACKUP_DIR/$(field file)"
[ -f "$file" ] || die "the manifest names $file, which is missing"
expected_sha="$(field sha256)"
actual_sha="$(sha256_of "$file")"
if [ "$expected_sha" != "$actual_sha" ]; then
  echo "error: checksum mismatch for $name: manifest says $expected_sha, file is $actual_sha; refusing to restore" >&2
  exit 3
fi
format="$(field format)"

target="${RESTORE_URL:-${DATABASE_URL:-}}"
[ -n "$target" ] || die "neither RESTORE_URL nor DATABASE_URL is set"
target_kind="$(db_kind "$target")"
scratch_cleanup=""
cleanup() {
  if [ -n "$scratch_cleanup" ]; then
    eval "$scratch_cleanup"
  fi
}
trap cleanup EXIT

if [ "$mode" = verify ]; then
  case "$target_kind" in
    sqlite)
      scratch_dir="$(mktemp -d)"
      scratch_cleanup="rm -rf -- '$scratch_dir'"
      target="sqlite:///$scratch_dir/verify.db"
      ;;
    postgres)
      scratch_db="restore_verify_$$"
      admin="$(pg_url_with_db "$target" postgres)"
      psql "$admin" -v ON_ERROR_STOP=1 -q -c "create database $scratch_db"
      scratch_cleanup="psql '$admin' -q -c 'drop database if exists $scratch_db' >/dev/null"
      target="$(pg_url_with_db "$target" "$scratch_db")"
      ;;
  esac
fi

case "$mode:$target_kind:$format" in
  check:*)
    ;;
  *:sqlite:sqlite)
    path="$(sqlite_path "$target")"
    mkdir -p "$(dirname "$path")"
    # Restore into a new file, then move it into place: the target is never half restored.
    python3 - "$file" "$path.restoring" <<'PY'
import os, sqlite3, sys
if os.path.exists(sys.argv[2]):
    os.remove(sys.argv[2])
source = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
target = sqlite3.connect(sys.argv[2])
source.backup(target)
target.close()
source.close()
PY
    mv -- "$path.restoring" "$path"
    ;;
  *:postgres:pg_dump-custom)
    pg_restore --clean --if-exists --no-owner --exit-on-error --single-transaction --dbname="$target" "$file"
    ;;
  *)
    die "a $format backup cannot be restored into $(redact_url "$target")"
    ;;
esac

expected="$(python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["tables"], sort_keys=True))' "$manifest")"
actual="$(row_counts "$target")"
python3 - "$name" "$expected" "$actual" "$mode" <<'PY'
import json, sys
name, expected, actual, mode = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
if expected != actual:
    for table in sorted(set(expected) | set(actual)):
        if expected.get(table) != actual.get(table):
            print(f"{table}: manifest {expected.get(table)}, restored {actual.get(table)}", file=sys.stderr)
    print(f"error: row counts differ from the manifest of {name}", file=sys.stderr)
    sys.exit(4)
done = "checked against" if mode == "check" else "restored"
print(f"{done} {name}: row counts match ({len(actual)} tables, {sum(actual.values())} rows)")
PY
