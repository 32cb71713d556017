#!/usr/bin/env bash
# Restores a backup made by backup.sh, refusing one whose checksum does not match its manifest, and
# verifies the row counts of the restored database against the manifest before it replaces anything.
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

latest is the newest backup; a manifest that cannot be read is an error, never skipped (restore an older
backup by its NAME). A manifest's file must be a plain name inside BACKUP_DIR, not a path nor a symbolic link.

PostgreSQL: psql runs pg_restore's statements in one transaction and commits only when the row counts,
taken inside it, match the manifest's; otherwise it rolls back and the database is as it was.
SQLite: the backup is restored into PATH.restoring and checked (PRAGMA integrity_check, row counts) before
the database and its -wal and -journal files are moved aside to PATH.pre-restore (-shm is deleted); that
copy is deleted once the restored database checks out in place, and put back if it does not.
verify: the scratch copy goes when the script ends, even by SIGTERM; one left by a verify killed with
SIGKILL is removed by the next verify on the same host.

Exit status: 0 restored and counts match; 1 error; 2 usage; 3 checksum mismatch (nothing restored);
4 row counts differ (a restore is then rolled back: the database is left as it was).
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
  listing="$(BACKUP_DIR="$BACKUP_DIR" BACKUP_PREFIX="$prefix" "$here/backup.sh" list)" ||
    die "cannot tell which backup is the latest (see above); restore one by its name: scripts/restore.sh NAME"
  newest="${listing%%$'\n'*}"
  name="${newest%%$'\t'*}"
  [ -n "$name" ] || die "no backup in $BACKUP_DIR"
else
  [[ "$wanted" =~ ^[A-Za-z0-9_.-]+$ ]] || die "not a backup name: $wanted"
  name="$wanted"
fi
[ -f "$BACKUP_DIR/$name.json" ] || die "no backup named $name in $BACKUP_DIR"
# The manifest's fields, checked (lib/manifest.py): an unreadable manifest, or one naming a file outside
# BACKUP_DIR or a symbolic link, is an error.
manifest_fields="$(manifests show "$BACKUP_DIR" "$name")"
{ read -r file_name; read -r format; read -r expected_sha; read -r expected; } <<<"$manifest_fields"
file="$BACKUP_DIR/$file_name"
[ -f "$file" ] || die "the manifest names $file, which is missing"
actual_sha="$(sha256_of "$file")"
if [ "$expected_sha" != "$actual_sha" ]; then
  echo "error: checksum mismatch for $name: manifest says $expected_sha, file is $actual_sha; refusing to restore" >&2
  exit 3
fi

# Compares the row counts of a database (compare_counts URL DONE), or row counts as JSON (compare_counts_json
# JSON DONE), with the manifest's: prints the tables that differ and returns 4; when they match, prints
# "DONE NAME: row counts match" unless DONE is empty.
compare_counts() {
  local counts
  counts="$(row_counts "$1")"
  compare_counts_json "$counts" "$2"
}

compare_counts_json() {
  python3 - "$name" "$expected" "$1" "$2" <<'PY'
import json, sys
name, expected, actual, done = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
if expected != actual:
    for table in sorted(set(expected) | set(actual)):
        if expected.get(table) != actual.get(table):
            print(f"{table}: manifest {expected.get(table)}, restored {actual.get(table)}", file=sys.stderr)
    print(f"error: row counts differ from the manifest of {name}", file=sys.stderr)
    sys.exit(4)
if done:
    print(f"{done} {name}: row counts match ({len(actual)} tables, {sum(actual.values())} rows)")
PY
}

# Copies a SQLite backup into a file through SQLite's backup interface (sqlite_counts FILE BACKUP), or not
# (sqlite_counts FILE); then runs SQLite's integrity check on FILE and prints its row counts as JSON. Fails,
# saying what is wrong, when the copy fails or the check does not pass.
sqlite_counts() {
  python3 - "$@" <<'PY'
import json, sqlite3, sys
path = sys.argv[1]
try:
    if len(sys.argv) > 2:
        source = sqlite3.connect(f"file:{sys.argv[2]}?mode=ro", uri=True)
        target = sqlite3.connect(path)
        source.backup(target)
        target.close()
        source.close()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    problems = [row[0] for row in db.execute("pragma integrity_check")]
    if problems != ["ok"]:
        sys.exit(f"error: {path} fails SQLite's integrity check: {'; '.join(problems[:5])}")
    names = [r[0] for r in db.execute("select name from sqlite_master where type='table' and name not like 'sqlite_%' "
                                      "and name not like '%yoyo%' order by name")]
    print(json.dumps({n: db.execute(f'select count(*) from "{n}"').fetchone()[0] for n in names}, sort_keys=True))
except sqlite3.Error as error:
    sys.exit(f"error: {path}: {error}")
PY
}

# Restores a SQLite backup into PATH. The backup is copied (SQLite's backup interface) into PATH.restoring,
# which must pass the integrity check and match the manifest's row counts before anything else is touched.
# Then the database is moved aside to PATH.pre-restore with its -wal and -journal files (its -shm index is
# removed): SQLite would otherwise replay the old write-ahead log over the restored file. The restored file
# takes its place and is checked again; the pre-restore copy is deleted only then, and put back if that fails.
restore_sqlite() {
  local path="$1" suffix counts status=0
  local restoring="$path.restoring" pre="$path.pre-restore"
  for suffix in -wal -journal ""; do
    if [ -e "$pre$suffix" ]; then
      die "$pre$suffix is left from an interrupted restore and may be the only copy of the database as it was; move it away first"
    fi
  done
  mkdir -p "$(dirname "$path")"
  rm -f -- "$restoring" "$restoring-journal" "$restoring-wal" "$restoring-shm"
  restoring_file="$restoring"
  counts="$(sqlite_counts "$restoring" "$file")"
  compare_counts_json "$counts" "" || { echo "nothing was replaced: $path is as it was" >&2; exit 4; }
  if [ -e "$path" ]; then
    moved_aside="$path"
    for suffix in "" -wal -journal; do
      if [ -e "$path$suffix" ]; then mv -- "$path$suffix" "$pre$suffix"; fi
    done
    rm -f -- "$path-shm"
  fi
  for suffix in -wal -journal -shm; do
    [ ! -e "$path$suffix" ] || die "$path$suffix appeared during the restore (is something writing?); the database as it was is at $pre, the restored copy at $restoring"
  done
  mv -- "$restoring" "$path"
  restoring_file="" moved_aside=""
  counts="$(sqlite_counts "$path")" && compare_counts_json "$counts" "$done" || status=$?
  if [ "$status" != 0 ]; then
    if [ -e "$pre" ]; then
      rm -f -- "$path" "$path-wal" "$path-journal" "$path-shm"
      for suffix in "" -wal -journal; do
        if [ -e "$pre$suffix" ]; then mv -- "$pre$suffix" "$path$suffix"; fi
      done
      echo "the restored database did not verify: $path is back as it was" >&2
    fi
    exit "$status"
  fi
  rm -f -- "$pre" "$pre-wal" "$pre-journal" "$pre-shm"
}

# Restores a pg_dump into a PostgreSQL database in one transaction: psql runs the SQL of pg_restore --clean,
# then counts the rows inside the same transaction and commits only when they match the manifest's. A
# restore that fails or does not match is rolled back: the database is left as it was.
restore_postgres() {
  local url="$1" output counts
  output="$({ echo "begin;"; pg_restore --clean --if-exists --no-owner --file=- "$file" && printf '%s\n' \
    "select (${PG_ROW_COUNTS_SQL%;}) as restored_counts \\gset" \
    "\\echo opsbook-restored-counts :restored_counts" \
    "select :'restored_counts'::jsonb = :'expected'::jsonb as counts_match \\gset" \
    "\\if :counts_match" "commit;" "\\else" "rollback;" "\\endif"
  } | psql "$url" -X -q -At -v ON_ERROR_STOP=1 -v expected="$expected")" ||
    die "the restore into $(redact_url "$url") failed and was rolled back: the database is as it was"
  counts="$(sed -n 's/^opsbook-restored-counts //p' <<<"$output")"
  [ -n "$counts" ] || die "the restore into $(redact_url "$url") did not report its row counts"
  if ! compare_counts_json "$counts" "$done"; then
    echo "nothing was replaced: the restore was rolled back, $(redact_url "$url") is as it was" >&2
    exit 4
  fi
}

target="${RESTORE_URL:-${DATABASE_URL:-}}"
[ -n "$target" ] || die "neither RESTORE_URL nor DATABASE_URL is set"
target_kind="$(db_kind "$target")"

# The scratch copy of `verify`, and the half-restored file of a SQLite restore, go when the script ends,
# however it ends short of SIGKILL; after SIGKILL, the next `verify` removes the scratch copies whose process
# has ended (each carries a mark: host, process number, start time).
scratch_dir=""
scratch_db=""
restoring_file=""
moved_aside=""
admin=""
cleanup() {
  local suffix
  if [ -n "$scratch_dir" ]; then rm -rf -- "$scratch_dir"; fi
  if [ -n "$scratch_db" ]; then drop_scratch_database "$scratch_db"; fi
  if [ -n "$restoring_file" ]; then rm -f -- "$restoring_file" "$restoring_file-journal"; fi
  # Stopped between moving the database aside and moving the restored file in: put the database back.
  if [ -n "$moved_aside" ] && [ ! -e "$moved_aside" ]; then
    for suffix in "" -wal -journal; do
      if [ -e "$moved_aside.pre-restore$suffix" ]; then mv -- "$moved_aside.pre-restore$suffix" "$moved_aside$suffix"; fi
    done
  fi
}
trap cleanup EXIT

drop_scratch_database() {
  psql "$admin" -X -q -c "drop database if exists $1 with (force)" >/dev/null 2>&1 ||
    psql "$admin" -X -q -c "drop database if exists $1" >/dev/null
}

scratch_mark="opsbook restore.sh verify:"
remove_stale_scratch() {
  local dir mark datname
  case "$target_kind" in
    sqlite)
      for dir in "${TMPDIR:-/tmp}"/opsbook-restore-verify.*; do
        [ -d "$dir" ] && [ -O "$dir" ] || continue
        if [ -f "$dir/owner" ]; then
          mark="$(cat "$dir/owner")"
          if mark_is_stale "$mark"; then
            rm -rf -- "$dir"
            echo "removed the scratch copy of a verify that did not finish: $dir" >&2
          fi
        elif [ -z "$(find "$dir" -mindepth 1 -print -quit)" ] && [ -n "$(find "$dir" -maxdepth 0 -mmin +10)" ]; then
          rmdir -- "$dir"
        fi
      done
      ;;
    postgres)
      while IFS='|' read -r datname mark; do
        [ -n "$datname" ] || continue
        if mark_is_stale "${mark#"$scratch_mark" }"; then
          drop_scratch_database "$datname"
          echo "dropped the scratch database of a verify that did not finish: $datname" >&2
        fi
      done < <(psql "$admin" -X -v ON_ERROR_STOP=1 -Atc "select datname, shobj_description(oid, 'pg_database')
                 from pg_database where datname ~ '^restore_verify_[0-9]+\$'
                  and shobj_description(oid, 'pg_database') like '$scratch_mark %'")
      ;;
  esac
}

if [ "$mode" = verify ]; then
  [ "$target_kind" != postgres ] || admin="$(pg_url_with_db "$target" postgres)"
  remove_stale_scratch
  case "$target_kind" in
    sqlite)
      scratch_dir="$(mktemp -d "${TMPDIR:-/tmp}/opsbook-restore-verify.XXXXXXXX")"
      process_mark >"$scratch_dir/owner"
      target="sqlite:///$scratch_dir/verify.db"
      ;;
    postgres)
      scratch_db="restore_verify_$$"  # set first: the EXIT trap drops it even if the comment below is never made
      psql "$admin" -X -v ON_ERROR_STOP=1 -q -c "create database $scratch_db"
      psql "$admin" -X -v ON_ERROR_STOP=1 -q -c "comment on database $scratch_db is '$scratch_mark $(process_mark)'"
      target="$(pg_url_with_db "$target" "$scratch_db")"
      ;;
  esac
fi

# The row counts are compared, and the result printed, by the restore itself (restore_sqlite,
# restore_postgres: before the restore replaces anything), or by compare_counts below for `check`.
if [ "$mode" = check ]; then done="checked against"; else done=restored; fi
case "$mode:$target_kind:$format" in
  check:*)
    compare_counts "$target" "$done"
    ;;
  *:sqlite:sqlite)
    restore_sqlite "$(sqlite_path "$target")"
    ;;
  *:postgres:pg_dump-custom)
    restore_postgres "$target"
    ;;
  *)
    die "a $format backup cannot be restored into $(redact_url "$target")"
    ;;
esac

