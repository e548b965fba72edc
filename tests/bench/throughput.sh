#!/usr/bin/env bash
# Digested-throughput benchmark on SQLite and PostgreSQL, as reported in BENCHMARKS.md.
#
#   cargo build --release && tests/bench/throughput.sh [sqlite|postgres|both] [seconds per run]
#
# CONCURRENCIES="8 128" picks the concurrency runs (CONCURRENCIES= runs only the fixed rate),
# RATE_RUNS=2 repeats the fixed-rate run on the same server (the first one includes start-up); the
# server's environment passes through (FAULTLINE_INGEST__BATCH_MAX_WAIT_MS=0 …). SERVER_RUST_LOG sets
# the server's log filter (default warn) and SERVER_LOG=FILE keeps its log: with
# SERVER_RUST_LOG=warn,sqlx::query=debug, tests/bench/statement_times.py FILE sums its statements.
#
# For each backend: a fresh database, `faultline serve` (release build), one project and an API token;
# then `faultline bench` with 8 KiB events over 50 fingerprints at concurrency 1, 8, 32 and 128 (digested
# events/s verified through the API), a fixed 1,000 events/s run (acknowledgement latency), RSS idle and
# peak under load, and bytes of database per stored event; per step, the CPU time per request of the server,
# the client and PostgreSQL; at the end, the writer's totals from /metrics (commit and acknowledgement seconds,
# events per batch). Client and server share this machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-target/release/faultline}
WHICH=${1:-both}
SECS=${2:-20}
CONCURRENCIES=${CONCURRENCIES-1 8 32 128}
RATE_RUNS=${RATE_RUNS:-1}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }

# CPU seconds (user + system) the given processes have used so far.
cpu_secs() {
  local files=()
  for pid in "$@"; do [ -r "/proc/$pid/stat" ] && files+=("/proc/$pid/stat"); done
  [ ${#files[@]} -gt 0 ] || { echo 0; return; }
  cat "${files[@]}" 2>/dev/null | awk -v tck="$(getconf CLK_TCK)" '{ s += $14 + $15 } END { printf "%.3f", s / tck }'
}
# PostgreSQL's processes (its backends do the statements' work); none when the server is not local.
pg_pids() { pgrep -u postgres -x postgres || true; }

# Runs a bench command (after the server's pid) and adds the CPU time per request of the server, of the
# bench client and of PostgreSQL's processes (when it runs here; on SQLite its figure is idle noise):
# all share this machine's cores, so together they bound the throughput.
measured() {
  local server=$1 before out client pg_before
  shift
  before=$(cpu_secs "$server")
  # shellcheck disable=SC2046
  pg_before=$(cpu_secs $(pg_pids))
  local TIMEFORMAT="%U %S"
  out=$( { time "$@" 2>&1; } 2>&1 )
  client=$(tail -n 1 <<<"$out")
  out=$(sed '$d' <<<"$out")
  echo "$out"
  # shellcheck disable=SC2046
  awk -v before="$before" -v after="$(cpu_secs "$server")" -v client="$client" \
    -v pg_before="$pg_before" -v pg_after="$(cpu_secs $(pg_pids))" '
    /^requests:/ { n = $2 }
    END { if (n > 0) { split(client, c, " ");
      printf "cpu per request: server %.0f µs, client %.0f µs, postgresql %.0f µs\n",
        (after - before) / n * 1e6, (c[1] + c[2]) / n * 1e6, (pg_after - pg_before) / n * 1e6 } }' <<<"$out"
}

run_backend() {
  local backend=$1 work db_args=() pg_db=""
  work=$(mktemp -d)
  if [ "$backend" = postgres ]; then
    pg_db="faultline_bench_$$"
    psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $pg_db"
    db_args=(--database-url "${PG_ADMIN_URL%/*}/$pg_db")
  else
    db_args=(--data-dir "$work/data")
  fi
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local dsn token
  dsn=$("$BIN" "${db_args[@]}" project create bench | tail -n 1)
  dsn=${dsn/127.0.0.1:9000/127.0.0.1:$port}
  echo "bench-password" | "$BIN" "${db_args[@]}" user create --email bench@example.com --password-stdin --admin >/dev/null
  token=$("$BIN" "${db_args[@]}" token create --email bench@example.com | tail -n 1)
  RUST_LOG=${SERVER_RUST_LOG:-warn} "$BIN" "${db_args[@]}" serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
  local server=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/_ready" >/dev/null && break; sleep 0.1; done
  sleep 1
  local idle_rss
  idle_rss=$(ps -o rss= -p "$server" | tr -d ' ')
  echo "## $backend"
  echo "RSS idle: $((idle_rss / 1024)) MiB"
  # Peak RSS under load, sampled every 200 ms.
  (peak=0; while kill -0 "$server" 2>/dev/null; do r=$(ps -o rss= -p "$server" | tr -d ' '); [ "${r:-0}" -gt "$peak" ] && peak=$r && echo "$peak" >"$work/peak"; sleep 0.2; done) &
  local sampler=$!
  for c in $CONCURRENCIES; do
    echo "### concurrency $c, ${SECS}s"
    measured "$server" "$BIN" bench --dsn "$dsn" --concurrency "$c" --duration "${SECS}s" --size-kb 8 --fingerprints 50 --quiet --verify --token "$token"
  done
  for _ in $(seq 1 "$RATE_RUNS"); do
    echo "### fixed rate 1000 events/s, ${SECS}s"
    measured "$server" "$BIN" bench --dsn "$dsn" --rate 1000 --concurrency 256 --duration "${SECS}s" --size-kb 8 --fingerprints 50 --quiet --verify --token "$token"
  done
  echo "RSS peak under load: $(( $(cat "$work/peak") / 1024 )) MiB"
  curl -fs "http://127.0.0.1:$port/metrics" | grep -E "^ingest_((commit|ack)_seconds|batch_events)_(sum|count)" || true
  kill -TERM "$server"; wait "$server" || true
  kill "$sampler" 2>/dev/null || true
  [ -z "${SERVER_LOG:-}" ] || cp "$work/server.log" "$SERVER_LOG"
  local events bytes
  if [ "$backend" = postgres ]; then
    events=$(psql "${PG_ADMIN_URL%/*}/$pg_db" -Atc "SELECT COUNT(*) FROM events")
    bytes=$(psql "${PG_ADMIN_URL%/*}/$pg_db" -Atc "SELECT pg_database_size(current_database())")
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE $pg_db WITH (FORCE)"
  else
    events=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM events').fetchone()[0])" "$work/data/faultline.db")
    bytes=$(du -cb "$work"/data/faultline.db* | tail -n 1 | cut -f1)
  fi
  echo "stored events: $events, database bytes: $bytes, bytes per event: $((bytes / (events > 0 ? events : 1)))"
  rm -rf "$work"
}

case "$WHICH" in
  sqlite|postgres) run_backend "$WHICH" ;;
  both) run_backend sqlite; run_backend postgres ;;
  *) echo "usage: $0 [sqlite|postgres|both] [seconds]" >&2; exit 2 ;;
esac
