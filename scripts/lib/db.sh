#!/usr/bin/env bash
# Shared helpers of the database scripts: which engine a DATABASE_URL names, its row counts, checksums.
# Sourced by backup.sh, restore.sh and seed.sh; not run on its own.

# psql and pg_restore: no NOTICE chatter ("table does not exist, skipping") in the output.
export PGOPTIONS="${PGOPTIONS:--c client_min_messages=warning}"

# The engine of a database URL: sqlite or postgres.
db_kind() {
  case "$1" in
    sqlite:*) echo sqlite ;;
    postgres://* | postgresql://*) echo postgres ;;
    *) echo "unsupported DATABASE_URL scheme: ${1%%:*} (use sqlite:///path or postgresql://...)" >&2; return 2 ;;
  esac
}

# The file of a sqlite URL: sqlite:///relative/path or sqlite:////absolute/path.
sqlite_path() {
  local rest="${1#sqlite://}"
  echo "${rest#/}"
}

# A URL with its password removed, for manifests and logs.
redact_url() {
  python3 -c 'import re, sys; print(re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", sys.argv[1]))' "$1"
}

# The same PostgreSQL URL, pointing at another database.
pg_url_with_db() {
  python3 - "$1" "$2" <<'PY'
import sys
from urllib.parse import urlsplit, urlunsplit
parts = urlsplit(sys.argv[1])
print(urlunsplit(parts._replace(path="/" + sys.argv[2])))
PY
}

# Row counts of every user table, as JSON: {"table": count, ...}; yoyo's bookkeeping tables left out.
row_counts() {
  local url="$1"
  case "$(db_kind "$url")" in
    sqlite)
      python3 - "$(sqlite_path "$url")" <<'PY'
import json, sqlite3, sys
try:
    db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    names = [r[0] for r in db.execute("select name from sqlite_master where type='table' and name not like 'sqlite_%' "
                                      "and name not like '%yoyo%' order by name")]
    print(json.dumps({n: db.execute(f'select count(*) from "{n}"').fetchone()[0] for n in names}, sort_keys=True))
except sqlite3.Error as error:
    sys.exit(f"error: cannot count the rows of {sys.argv[1]}: {error}")
PY
      ;;
    postgres)
      psql "$url" -X -v ON_ERROR_STOP=1 -Atc "$PG_ROW_COUNTS_SQL"
      ;;
  esac
}

# Row counts of every user table of a PostgreSQL database as one JSON object, in one statement (so from
# one snapshot): the count of each table is run through query_to_xml.
PG_ROW_COUNTS_SQL="select coalesce(json_object_agg(table_name, rows order by table_name), '{}'::json)
  from (select table_name,
               (xpath('/row/n/text()', query_to_xml(format('select count(*) as n from public.%I', table_name),
                                                    false, true, '')))[1]::text::bigint as rows
          from information_schema.tables
         where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like '%yoyo%') as counted;"

# A pg_dump and the row counts of exactly the data it holds. A read-only repeatable-read transaction
# exports its snapshot; pg_dump dumps that snapshot (--snapshot) and the counts are taken inside the
# same transaction, so the manifest describes the dump even while orders are being written.
# Prints the counts as JSON. BACKUP_COUNT_TIMEOUT (seconds, default 3600) bounds the wait for the counts.
pg_dump_with_counts() {
  local url="$1" file="$2" snapshot="" counts=""
  coproc SNAPSHOT_SESSION { exec psql "$url" -X -q -At -v ON_ERROR_STOP=1; }
  local to_psql="${SNAPSHOT_SESSION[1]}" from_psql="${SNAPSHOT_SESSION[0]}" session="$SNAPSHOT_SESSION_PID"
  printf '%s\n' "begin transaction isolation level repeatable read, read only;" "select pg_export_snapshot();" >&"$to_psql"
  if ! read -r -t 60 snapshot <&"$from_psql" || [ -z "$snapshot" ]; then
    kill "$session" 2>/dev/null
    die "could not take a snapshot of $(redact_url "$url")"
  fi
  if ! pg_dump --format=custom --no-owner --snapshot="$snapshot" --file="$file" "$url"; then
    kill "$session" 2>/dev/null
    die "pg_dump of $(redact_url "$url") failed"
  fi
  printf '%s\n' "$PG_ROW_COUNTS_SQL" >&"$to_psql"
  if ! read -r -t "${BACKUP_COUNT_TIMEOUT:-3600}" counts <&"$from_psql" || [ -z "$counts" ]; then
    kill "$session" 2>/dev/null
    die "could not count the rows of $(redact_url "$url")"
  fi
  printf '%s\n' "commit;" '\q' >&"$to_psql"
  wait "$session" || true
  echo "$counts"
}

sha256_of() {
  sha256sum "$1" | cut -d' ' -f1
}

die() {
  echo "error: $*" >&2
  exit 1
}

# The manifests of the backups, read and checked by lib/manifest.py (see there): a manifest that cannot be
# read or holds a wrong field is an error, and its `file` must be a plain file inside BACKUP_DIR.
manifests() {
  python3 "$(dirname "${BASH_SOURCE[0]}")/manifest.py" "$@"
}

# This process, as a mark a later run can test for: the host, the process number and its start time
# (which tells a reused process number apart).
process_mark() {
  echo "$(uname -n) $$ $(process_start $$)"
}

process_start() {
  local stat fields
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  read -r -a fields <<<"${stat##*) }"
  echo "${fields[19]}"
}

# Whether the process of a mark made by process_mark has ended (on this host; a mark from another host is
# never taken for ended).
mark_is_stale() {
  local host pid start
  read -r host pid start <<<"$1"
  [ "$host" = "$(uname -n)" ] && [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ "$(process_start "$pid")" != "$start" ]
}
