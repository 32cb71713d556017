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
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
names = [r[0] for r in db.execute("select name from sqlite_master where type='table' and name not like 'sqlite_%' "
                                  "and name not like '%yoyo%' order by name")]
print(json.dumps({n: db.execute(f'select count(*) from "{n}"').fetchone()[0] for n in names}, sort_keys=True))
PY
      ;;
    postgres)
      local table counts="{" first=1
      while IFS= read -r table; do
        [ -n "$table" ] || continue
        local count
        count=$(psql "$url" -v ON_ERROR_STOP=1 -Atc "select count(*) from public.\"$table\"")
        if [ "$first" = 1 ]; then first=0; else counts+=", "; fi
        counts+="\"$table\": $count"
      done < <(psql "$url" -v ON_ERROR_STOP=1 -Atc \
        "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like '%yoyo%' order by table_name")
      echo "$counts}"
      ;;
  esac
}

sha256_of() {
  sha256sum "$1" | cut -d' ' -f1
}

die() {
  echo "error: $*" >&2
  exit 1
}
