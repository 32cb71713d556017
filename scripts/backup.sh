#!/usr/bin/env bash
# Backs up the orders database: SQLite through its online backup API, PostgreSQL with pg_dump in
# custom format. Each backup gets a manifest (sha256, size, time, source, row counts per table);
# old backups are pruned by count and by age.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/backup.sh create|list|prune

  create   back up DATABASE_URL into BACKUP_DIR, write its manifest, print its name, then prune
  list     print the backups, newest first: name, size in bytes, time taken
  prune    delete backups beyond BACKUP_KEEP or older than BACKUP_MAX_AGE_DAYS (the newest is always kept)

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

# Manifests, newest first, one path a line: by time taken, then by the -N of backups taken within one second.
manifests_newest_first() {
  [ -d "$BACKUP_DIR" ] || return 0
  python3 - "$BACKUP_DIR" "$prefix" <<'PY'
import glob, json, os, re, sys
found = []
for path in glob.glob(os.path.join(glob.escape(sys.argv[1]), glob.escape(sys.argv[2]) + "-*.json")):
    try:
        manifest = json.load(open(path, encoding="utf-8"))
    except (OSError, ValueError):
        continue
    sequence = re.search(r"Z-(\d+)$", manifest.get("name", ""))
    found.append((manifest.get("created", ""), int(sequence.group(1)) if sequence else 1, path))
for _, _, path in sorted(found, reverse=True):
    print(path)
PY
}

list_backups() {
  local manifest
  while IFS= read -r manifest; do
    python3 - "$manifest" <<'PY'
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
print(f"{m['name']}\t{m['size']}\t{m['created']}")
PY
  done < <(manifests_newest_first)
}

prune_backups() {
  local index=0 manifest name created_epoch now
  now="$(date -u +%s)"
  while IFS= read -r manifest; do
    index=$((index + 1))
    name="$(basename "$manifest" .json)"
    created_epoch="$(date -u -d "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["created"])' "$manifest")" +%s)"
    if [ "$index" -gt 1 ] && { [ "$index" -gt "$keep" ] || [ $((now - created_epoch)) -gt $((max_age * 86400)) ]; }; then
      rm -f -- "$BACKUP_DIR/$name".db "$BACKUP_DIR/$name".dump "$manifest"
      echo "pruned $name" >&2
    fi
  done < <(manifests_newest_first)
}

create_backup() {
  [ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set"
  local kind name file extension format suffix counts
  kind="$(db_kind "$DATABASE_URL")"
  mkdir -p "$BACKUP_DIR"
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
  trap 'rm -f -- "$partial"' EXIT
  if [ "$kind" = sqlite ]; then
    local source_path
    source_path="$(sqlite_path "$DATABASE_URL")"
    [ -f "$source_path" ] || die "no database at $source_path"
    python3 - "$source_path" "$partial" <<'PY'
import sqlite3, sys
source = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
target = sqlite3.connect(sys.argv[2])
source.backup(target)
target.close()
source.close()
PY
    # Counted in the copy, not in the live database: the manifest describes what the backup holds.
    counts="$(row_counts "sqlite:///$partial")"
  else
    counts="$(pg_dump_with_counts "$DATABASE_URL" "$partial")"
  fi
  mv -- "$partial" "$file"
  trap - EXIT
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
  if [ -n "${BACKUP_TEXTFILE:-}" ]; then
    printf '# HELP orders_backup_last_success_timestamp_seconds When the last backup succeeded.\n# TYPE orders_backup_last_success_timestamp_seconds gauge\norders_backup_last_success_timestamp_seconds %s\n' \
      "$epoch" >"$BACKUP_TEXTFILE.partial"
    mv -- "$BACKUP_TEXTFILE.partial" "$BACKUP_TEXTFILE"
  fi
  echo "$name"
}

case "$action" in
  create) create_backup; prune_backups ;;
  list) list_backups ;;
  prune) prune_backups ;;
esac
