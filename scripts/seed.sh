#!/usr/bin/env bash
# Creates the orders schema with sample data in DATABASE_URL, or destroys it: the sandbox that the
# backup and restore runbooks run against in CI.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/seed.sh [create|destroy]

  create   (default) create the tables customers, orders and order_items and fill them
           with SEED_ORDERS orders (default 200), replacing what was there
  destroy  drop those tables, as a lost or corrupted database would have them

Environment:
  DATABASE_URL   sqlite:///path/to/file.db or postgresql://user@host/db (required)
  SEED_ORDERS    how many orders to create (default 200)
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/db.sh
. "$here/lib/db.sh"

action="${1:-create}"
case "$action" in
  -h | --help | help) usage; exit 0 ;;
  create | destroy) ;;
  *) usage >&2; exit 2 ;;
esac
[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set"
orders="${SEED_ORDERS:-200}"
[[ "$orders" =~ ^[0-9]+$ ]] || die "SEED_ORDERS must be a number"
kind="$(db_kind "$DATABASE_URL")"

sql_destroy="drop table if exists order_items; drop table if exists orders; drop table if exists customers;"

if [ "$action" = destroy ]; then
  if [ "$kind" = sqlite ]; then
    python3 - "$(sqlite_path "$DATABASE_URL")" "$sql_destroy" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript(sys.argv[2])
db.close()
PY
  else
    psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -c "$sql_destroy"
  fi
  echo "destroyed the orders tables"
  exit 0
fi

# Deterministic data, so that two runs produce the same counts.
sql="$(python3 - "$orders" <<'PY'
import sys
orders = int(sys.argv[1])
customers = max(1, orders // 4)
out = ["drop table if exists order_items;", "drop table if exists orders;", "drop table if exists customers;",
       "create table customers (id integer primary key, email text not null, name text not null);",
       "create table orders (id integer primary key, customer_id integer not null references customers(id), "
       "placed_at text not null, total_cents integer not null);",
       "create table order_items (id integer primary key, order_id integer not null references orders(id), "
       "sku text not null, quantity integer not null);"]
for c in range(1, customers + 1):
    out.append(f"insert into customers values ({c}, 'customer{c}@example.com', 'Customer {c}');")
item = 0
for o in range(1, orders + 1):
    out.append(f"insert into orders values ({o}, {(o % customers) + 1}, '2026-11-{(o % 28) + 1:02d}T12:00:00Z', {o * 137 % 10000});")
    for _ in range(1 + o % 3):
        item += 1
        out.append(f"insert into order_items values ({item}, {o}, 'SKU-{item % 50:03d}', {1 + item % 4});")
print("\n".join(out))
PY
)"

if [ "$kind" = sqlite ]; then
  path="$(sqlite_path "$DATABASE_URL")"
  mkdir -p "$(dirname "$path")"
  script="$(mktemp)"
  trap 'rm -f "$script"' EXIT
  printf '%s\n' "$sql" >"$script"
  python3 - "$path" "$script" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as script:
    db.executescript("begin;" + script.read() + "commit;")
db.close()
PY
else
  { echo "begin;"; echo "$sql"; echo "commit;"; } | psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q
fi
echo "seeded $(row_counts "$DATABASE_URL")"
