#!/usr/bin/env bash
# Backs up the orders database: SQLite through its online backup API, PostgreSQL with pg_dump in
# custom format. Each backup gets a manifest (sha256, size, time, source, row counts per table);
# old backups are pruned by count and by age, and what a killed run left is removed.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/backup.sh create|list|prune

  create   back up DATABASE_URL into BACKUP_DIR, write its manifest, print its name, then prune
  list     print the backups, newest first: name, size in bytes, time taken
  prune    delete backups beyond BACKUP_KEEP or older than BACKUP_MAX_AGE_DAYS (the newest is always kept),
           and what a killed or failed run left: .partial files, backups without a manifest

A manifest that cannot be read or holds a wrong field is an error (list and prune stop), never skipped.
Only one create or prune runs at a time in a BACKUP_DIR (a lock on BACKUP_DIR/.backup.lock); another fails.

Environment:
  DATABASE_URL          sqlite:///path/to/file.db or postgresql://user@host/db (create)
  BACKUP_DIR            where backups are kept (required)
  BACKUP_PREFIX         name prefix (default orders)
  BACKUP_KEEP           how many backups to keep (default 7)
  BACKUP_MAX_AGE_DAYS   delete backups older than this (default 30)
  BACKUP_COUNT_TIMEOUT  PostgreSQL: seconds to wait for the row counts taken in the dump's snapshot (default 3600)
  BACKUP_TEXTFILE       after a backup, write orders_backup_last_success_timestamp_seconds to this file,
                        for node_exporter's textfile collector (the OrdersBackupMissing alert reads it)
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/db.sh
. "$here/lib/db.sh"

[ $# -eq 1 ] || { usage >&2; exit 2; }
action="$1"
case "$action" in
  -h | --help | help) usage; exit 0 ;;
  create | list | prune) ;;
  *) usage >&2; exit 2 ;;
esac
[ -n "${BACKUP_DIR:-}" ] || die "BACKUP_DIR is not set"
prefix="${BACKUP_PREFIX:-orders}"
keep="${BACKUP_KEEP:-7}"
max_age="${BACKUP_MAX_AGE_DAYS:-30}"
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || die "BACKUP_KEEP must be a whole number of at least 1"
[[ "$max_age" =~ ^[0-9]+$ ]] || die "BACKUP_MAX_AGE_DAYS must be a whole number"
[[ "$prefix" =~ ^[A-Za-z0-9_-]+$ ]] || die "BACKUP_PREFIX may hold only letters, digits, - and _"

# One backup.sh at a time changes BACKUP_DIR (create and prune): a file without a manifest is then always
# left by a run that ended, never one still being written, and pruning removes it.
lock_backup_dir() {
  mkdir -p "$BACKUP_DIR"
  exec 9>>"$BACKUP_DIR/.backup.lock"
  flock -n 9 || die "another backup.sh is creating or pruning in $BACKUP_DIR; try again when it has finished"
}

# The backups, newest first: name, size, time taken, time taken as epoch seconds, manifest. A manifest that
# cannot be read is an error here, never skipped (skipping the newest would make "latest" an older backup).
backups_newest_first() {
  manifests list "$BACKUP_DIR" "$prefix"
}

list_backups() {  # the readable backups are listed even when a manifest is corrupt; the status is then 1
  local status=0
  backups_newest_first | cut -f1-3 || status=$?
  return "$status"
}

prune_backups() {
  local index=0 listing orphans name created_epoch manifest now
  listing="$(backups_newest_first)"  # read whole first: a corrupt manifest stops the pruning before any deletion
  orphans="$(manifests orphans "$BACKUP_DIR" "$prefix")"
  now="$(date -u +%s)"
  while IFS=$'\t' read -r name _ _ created_epoch manifest; do
    index=$((index + 1))
    if [ "$index" -gt 1 ] && { [ "$index" -gt "$keep" ] || [ $((now - created_epoch)) -gt $((max_age * 86400)) ]; }; then
      rm -f -- "$BACKUP_DIR/$name".db "$BACKUP_DIR/$name".dump "$manifest"
      echo "pruned $name" >&2
    fi
  done <<<"$listing"
  # What a killed or failed run left: .partial files, and backups whose manifest was never written.
  while IFS= read -r name; do
    [ -n "$name" ] || continue
    rm -f -- "$name"
    echo "removed unfinished ${name##*/}" >&2
  done <<<"$orphans"
}

# The files of the backup being written, removed by the EXIT trap unless the backup completes (a function's
# local variables are gone when the trap runs after a failed command: these are global).
unfinished_partial=""
unfinished_file=""
remove_unfinished() {
  [ -z "$unfinished_partial" ] || rm -f -- "$unfinished_partial"
  [ -z "$unfinished_file" ] || rm -f -- "$unfinished_file" "${unfinished_file%.*}.json.partial"
}

create_backup() {
  [ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set"
  local kind name file extension format suffix counts
  kind="$(db_kind "$DATABASE_URL")"
  # One instant names the backup and dates its manifest, so that listing by time and by name agree.
  local epoch
  epoch="$(date -u +%s)"
  name="$prefix-$(date -u -d "@$epoch" +%Y%m%dT%H%M%SZ)"
  if [ -e "$BACKUP_DIR/$name.json" ]; then  # two backups within one second
    suffix=2
    while [ -e "$BACKUP_DIR/$name-$suffix.json" ]; do suffix=$((suffix + 1)); done
    name="$name-$suffix"
  fi
  if [ "$kind" = sqlite ]; then
    extension=db format=sqlite
  else
    extension=dump format=pg_dump-custom
  fi
  file="$BACKUP_DIR/$name.$extension"
  # Write under a temporary name: a backup that is half written must never look complete.
  local partial="$file.partial"
  unfinished_partial="$partial"
  trap remove_unfinished EXIT
  if [ "$kind" = sqlite ]; then
    local source_path
    source_path="$(sqlite_path "$DATABASE_URL")"
    [ -f "$source_path" ] || die "no database at $source_path"
    python3 - "$source_path" "$partial" <<'PY'
import sqlite3, sys
try:
    source = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    target = sqlite3.connect(sys.argv[2])
    source.backup(target)
    target.close()
    source.close()
except sqlite3.Error as error:
    sys.exit(f"error: cannot back up {sys.argv[1]}: {error}")
PY
    # Counted in the copy, not in the live database: the manifest describes what the backup holds.
    counts="$(row_counts "sqlite:///$partial")"
  else
    counts="$(pg_dump_with_counts "$DATABASE_URL" "$partial")"
  fi
  mv -- "$partial" "$file"
  unfinished_file="$file" unfinished_partial=""
  python3 - "$BACKUP_DIR/$name.json" "$name" "$(basename "$file")" "$format" "$(sha256_of "$file")" \
    "$(stat -c %s "$file")" "$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)" "$(redact_url "$DATABASE_URL")" "$counts" <<'PY'
import json, os, sys
path, name, file, fmt, sha, size, created, source, counts = sys.argv[1:]
manifest = {"name": name, "file": file, "format": fmt, "sha256": sha, "size": int(size), "created": created,
            "source": source, "tables": json.loads(counts)}
with open(path + ".partial", "w", encoding="utf-8") as out:
    json.dump(manifest, out, indent=2, sort_keys=True)
os.replace(path + ".partial", path)
PY
  unfinished_file=""
  trap - EXIT
  if [ -n "${BACKUP_TEXTFILE:-}" ]; then
    printf '# HELP orders_backup_last_success_timestamp_seconds When the last backup succeeded.\n# TYPE orders_backup_last_success_timestamp_seconds gauge\norders_backup_last_success_timestamp_seconds %s\n' \
      "$epoch" >"$BACKUP_TEXTFILE.partial"
    mv -- "$BACKUP_TEXTFILE.partial" "$BACKUP_TEXTFILE"
  fi
  echo "$name"
}

case "$action" in
  create) lock_backup_dir; create_backup; prune_backups ;;
  list) list_backups ;;
  prune) [ ! -d "$BACKUP_DIR" ] || { lock_backup_dir; prune_backups; } ;;
esac
