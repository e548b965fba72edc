#!/usr/bin/env bash
# Server time of the issue stream and the issue page with many events stored, as in BENCHMARKS.md.
#
#   cargo build --release && tests/bench/pages.sh [sqlite|postgres] [events]
#
# Fills a fresh database through `faultline bench` (8 KiB events, 50 issues), signs in with curl, then
# requests each page 20 times and prints the median and the slowest time to first byte (loopback, so
# that is the server's time to render plus well under a millisecond).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-target/release/faultline}
BACKEND=${1:-sqlite}
EVENTS=${2:-100000}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
work=$(mktemp -d)
db_args=(--data-dir "$work/data")
if [ "$BACKEND" = postgres ]; then
  pg_db="faultline_pages_$$"
  psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $pg_db"
  db_args=(--database-url "${PG_ADMIN_URL%/*}/$pg_db")
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
dsn=$("$BIN" "${db_args[@]}" project create pages | tail -n 1)
dsn=${dsn/127.0.0.1:9000/127.0.0.1:$port}
echo "bench-password" | "$BIN" "${db_args[@]}" user create --email bench@example.com --password-stdin --admin >/dev/null
token=$("$BIN" "${db_args[@]}" token create --email bench@example.com | tail -n 1)
RUST_LOG=warn "$BIN" "${db_args[@]}" serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"; [ -n "${pg_db:-}" ] && psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)"' EXIT
for _ in $(seq 1 100); do curl -fs "$base/_ready" >/dev/null && break; sleep 0.1; done
"$BIN" bench --dsn "$dsn" --concurrency 64 --count "$EVENTS" --size-kb 8 --fingerprints 50 --quiet | head -n 1

jar=$work/cookies
csrf=$(curl -fs -c "$jar" "$base/login" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1)
curl -fs -b "$jar" -c "$jar" -o /dev/null -d "csrf=$csrf&next=/&email=bench@example.com&password=bench-password" "$base/login"
issue=$(curl -fs -H "Authorization: Bearer $token" "$base/api/0/projects/default/pages/issues/?sort=freq&limit=1" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')

time_page() {
  local name=$1 path=$2
  local times status
  # The signed-in page itself (200 with the issue), not a redirect to /login.
  status=$(curl -s -b "$jar" -o "$work/page.html" -w '%{http_code}' "$base$path")
  [ "$status" = 200 ] && grep -qiE 'error|exception' "$work/page.html" || { echo "$path answered $status without issues" >&2; exit 1; }
  times=$(for _ in $(seq 1 20); do
    curl -fs -b "$jar" -o /dev/null -w '%{time_starttransfer}\n' "$base$path"
  done | sort -n)
  local median slowest
  median=$(echo "$times" | sed -n '10p')
  slowest=$(echo "$times" | tail -n 1)
  printf '%-48s median %6.1f ms   slowest %6.1f ms\n' "$name" "$(echo "$median * 1000" | bc -l)" "$(echo "$slowest * 1000" | bc -l)"
}
echo "## $BACKEND, $EVENTS events in 50 issues"
time_page "issue stream (all projects, last seen)" "/organizations/default/issues/"
time_page "issue stream (search, sort by events)" "/organizations/default/issues/?query=is:unresolved%20level:error&sort=freq"
time_page "issue page (latest event)" "/organizations/default/issues/$issue/"
