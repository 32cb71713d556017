#!/usr/bin/env bash
# Erases a customer's personal data (GDPR article 17) from the orders database: the customer row is
# anonymised, the orders stay for accounting. --check proves nothing personal is left.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/erase-customer.sh [--check] CUSTOMER_ID

  CUSTOMER_ID   the id of the customer in the customers table
  --check       erase nothing: exit 0 when no personal data of the customer is left, 1 otherwise

Environment:
  DATABASE_URL   sqlite:///path or postgresql://... (required)
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/db.sh
. "$here/lib/db.sh"

check=0
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  --check) check=1; shift ;;
esac
[ $# -eq 1 ] || { usage >&2; exit 2; }
customer="$1"
[[ "$customer" =~ ^[0-9]+$ ]] || { echo "CUSTOMER_ID must be a number" >&2; exit 2; }
[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set"

erase="update customers set name = 'erased', email = 'erased-' || id || '@invalid' where id = $customer"
left="select count(*) from customers where id = $customer and (name <> 'erased' or email not like 'erased-%@invalid')"
exists="select count(*) from customers where id = $customer"

query() {
  case "$(db_kind "$DATABASE_URL")" in
    sqlite)
      python3 - "$(sqlite_path "$DATABASE_URL")" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
cursor = db.execute(sys.argv[2])
row = cursor.fetchone()
db.commit()
print(row[0] if row else "")
PY
      ;;
    postgres) psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -Atc "$1" ;;
  esac
}

[ "$(query "$exists")" = 1 ] || die "no customer with id $customer"
if [ "$check" = 1 ]; then
  remaining="$(query "$left")"
  if [ "$remaining" = 0 ]; then
    echo "no personal data of customer $customer is left"
    exit 0
  fi
  echo "customer $customer still has personal data" >&2
  exit 1
fi
query "$erase" >/dev/null
echo "erased customer $customer"
