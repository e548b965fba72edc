#!/usr/bin/env bash
# End-to-end: real Sentry SDKs (sentry-python, @sentry/node, @sentry/browser in headless Chromium)
# against a running `faultline serve`, then a check of what the server stored, through the
# Sentry-compatible API (/api/0/) and directly in the database.
#
#   tests/e2e/run.sh                                   # embedded SQLite in a temporary data dir
#   E2E_DATABASE_URL=postgres://…/fresh_db tests/e2e/run.sh   # an empty PostgreSQL database
#
# Installs what it needs itself: sentry-sdk into a venv and the npm packages of tests/e2e/package.json
# (from its lockfile) under target/e2e-cache/, Debian's chromium when /usr/bin/chromium is missing.
# Artifacts (server log, browser screenshot, SDK results) go to target/e2e-artifacts/{sqlite,postgres}/.
# Ends with `e2e: N passed, M failed`; exits non-zero when anything failed. The server is always
# stopped. E2E_SKIP_BUILD=1 uses target/debug/faultline as it is.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
E2E=$ROOT/tests/e2e
CACHE=$ROOT/target/e2e-cache
ARTIFACTS_ROOT=$ROOT/target/e2e-artifacts
ARTIFACTS=$ARTIFACTS_ROOT
BIN=$ROOT/target/debug/faultline
WORK=$(mktemp -d "${TMPDIR:-/tmp}/faultline-e2e.XXXXXX")
SERVER_PID=
PASSED=0
FAILED=0
FINISHED=0

section() { printf '\n== e2e: %s (%ss)\n' "$*" "$SECONDS"; }
ok() { PASSED=$((PASSED + 1)); printf '  ok    %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf '  FAIL  %s\n' "$*"; }
# A failure that makes the rest pointless.
die() { fail "$*"; exit 1; }

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  local pid=$SERVER_PID rc=0
  SERVER_PID=
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 124
  fi
  wait "$pid" 2>/dev/null || rc=$?
  return "$rc"
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_server || true
  if [ "$FINISHED" != 1 ]; then
    [ -f "$ARTIFACTS/server.log" ] && { echo "--- last lines of $ARTIFACTS/server.log"; tail -n 40 "$ARTIFACTS/server.log"; }
    [ "$FAILED" -gt 0 ] || FAILED=1
    echo "e2e: $PASSED passed, $FAILED failed"
    status=1
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

# Keep the developer's environment and config/faultline.toml out of the server under test.
unset DATABASE_URL FAULTLINE_DATABASE_URL FAULTLINE_DATA_DIR FAULTLINE_LISTEN FAULTLINE_URL
: > "$WORK/faultline.toml"
if [ -n "${E2E_DATABASE_URL:-}" ]; then
  BACKEND=postgres
  DB_ARGS=(--config "$WORK/faultline.toml" --database-url "$E2E_DATABASE_URL")
  DB_CHECK=(--postgres "$E2E_DATABASE_URL")
else
  BACKEND=sqlite
  mkdir -p "$WORK/data"
  DB_ARGS=(--config "$WORK/faultline.toml" --data-dir "$WORK/data")
  DB_CHECK=(--sqlite "$WORK/data/faultline.db")
fi
ARTIFACTS=$ARTIFACTS_ROOT/$BACKEND
rm -rf "$ARTIFACTS"
mkdir -p "$CACHE" "$ARTIFACTS"

section "build (backend: $BACKEND)"
if [ "${E2E_SKIP_BUILD:-}" != 1 ]; then
  cargo build --quiet --bin faultline || die "cargo build"
fi
[ -x "$BIN" ] || die "no binary at $BIN"
ok "faultline binary: $("$BIN" --version)"

section "SDKs and browser"
stamp() { cat "$@" | sha256sum | cut -c1-16; }
PY_STAMP=$(python3 --version | cat - "$E2E/requirements.txt" | sha256sum | cut -c1-16)
VENV=$CACHE/venv
if [ "$(cat "$VENV/.stamp" 2>/dev/null)" != "$PY_STAMP" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  PIP_CACHE_DIR=$CACHE/pip "$VENV/bin/pip" install -q --disable-pip-version-check -r "$E2E/requirements.txt" \
    || die "pip install -r tests/e2e/requirements.txt"
  echo "$PY_STAMP" > "$VENV/.stamp"
fi
ok "python venv: $("$VENV/bin/python" -c 'import sentry_sdk; print("sentry-sdk", sentry_sdk.VERSION)')"

NODE_DIR=$CACHE/node
JS_STAMP=$(node --version | cat - "$E2E/package.json" "$E2E/package-lock.json" | sha256sum | cut -c1-16)
if [ "$(cat "$NODE_DIR/.stamp" 2>/dev/null)" != "$JS_STAMP" ]; then
  rm -rf "$NODE_DIR"
  mkdir -p "$NODE_DIR"
  cp "$E2E/package.json" "$E2E/package-lock.json" "$NODE_DIR/"
  (cd "$NODE_DIR" && npm_config_cache=$CACHE/npm npm ci --no-audit --no-fund --loglevel=error) \
    || die "npm ci (tests/e2e/package-lock.json)"
  echo "$JS_STAMP" > "$NODE_DIR/.stamp"
fi
ok "npm packages: $(cd "$NODE_DIR" && node -e 'console.log(["@sentry/node", "@sentry/browser", "playwright-core", "esbuild"].map((p) => p + "@" + require(p + "/package.json").version).join(" "))')"
# The scripts run from a scratch folder next to a link to the cached node_modules.
mkdir -p "$WORK/js"
ln -s "$NODE_DIR/node_modules" "$WORK/js/node_modules"
cp "$E2E/send_node.mjs" "$WORK/js/"
cp -r "$E2E/browser" "$WORK/js/browser"

if [ ! -x /usr/bin/chromium ]; then
  SUDO=
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "installing Debian's chromium"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium; } >"$WORK/apt.log" 2>&1 \
    || { tail -n 20 "$WORK/apt.log"; die "apt-get install chromium"; }
fi
ok "browser: $(/usr/bin/chromium --version 2>/dev/null)"

section "server"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
ADMIN_EMAIL=admin@example.com
ADMIN_PASSWORD=e2e-$(python3 -c 'import secrets; print(secrets.token_hex(8))')
NO_COLOR=1 FAULTLINE_URL=$URL FAULTLINE_ADMIN_EMAIL=$ADMIN_EMAIL FAULTLINE_ADMIN_PASSWORD=$ADMIN_PASSWORD \
  "$BIN" serve --listen "127.0.0.1:$PORT" "${DB_ARGS[@]}" >"$ARTIFACTS/server.log" 2>&1 &
SERVER_PID=$!
ready=
for _ in $(seq 1 300); do
  kill -0 "$SERVER_PID" 2>/dev/null || die "faultline serve exited during start (see $ARTIFACTS/server.log)"
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/_ready")" = 200 ]; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || die "GET $URL/_ready did not answer 200 within 30s"
ok "faultline serve on $URL: GET /_ready -> 200"

# The CLI against the same database, while the server runs.
cli() { FAULTLINE_URL=$URL "$BIN" "$@" "${DB_ARGS[@]}"; }
declare -A DSN
for spec in python-app:python node-app:node browser-app:javascript; do
  slug=${spec%%:*}
  out=$(cli project create "$slug" --platform "${spec#*:}") || die "faultline project create $slug"
  DSN[$slug]=$(printf '%s\n' "$out" | tail -n 1)
  [[ ${DSN[$slug]} =~ ^http://[0-9a-f]{32}@127\.0\.0\.1:$PORT/[0-9]+$ ]] || die "project create $slug: last line is not a DSN: ${DSN[$slug]}"
  ok "faultline project create $slug --platform ${spec#*:} -> ${DSN[$slug]}"
done
TOKEN=$(cli token create --email "$ADMIN_EMAIL" | tail -n 1) || die "faultline token create"
[[ $TOKEN =~ ^[A-Za-z0-9_-]{20,}$ ]] || die "token create: last line does not look like a token: $TOKEN"
ok "faultline token create --email $ADMIN_EMAIL -> a token (${#TOKEN} characters)"

section "python: sentry-sdk"
if timeout -k 5 180 "$VENV/bin/python" "$E2E/send_python.py" "${DSN[python-app]}" "$ARTIFACTS/python.json"; then
  ok "sentry-python sent everything, every envelope answered 200"
else
  fail "sentry-python sender (exit $?)"
fi

section "node: @sentry/node"
if (cd "$WORK/js" && timeout -k 5 180 node send_node.mjs "${DSN[node-app]}" "$ARTIFACTS/node.json"); then
  ok "@sentry/node sent everything, every envelope answered 200"
else
  fail "@sentry/node sender (exit $?)"
fi

section "browser: @sentry/browser in headless Chromium"
if (cd "$WORK/js" && timeout -k 5 180 node browser/drive.mjs "${DSN[browser-app]}" "$ARTIFACTS/browser.json" "$ARTIFACTS/browser.png"); then
  ok "@sentry/browser sent its event cross-origin, every response readable (CORS) and 200"
else
  fail "@sentry/browser driver (exit $?)"
fi

section "verify what the server stored"
if python3 "$E2E/verify.py" --url "$URL" --token "$TOKEN" --results "$ARTIFACTS" "${DB_CHECK[@]}" --counts "$WORK/counts"; then :; fi
read -r v_passed v_failed < "$WORK/counts" || { v_passed=0; v_failed=1; }
PASSED=$((PASSED + v_passed))
FAILED=$((FAILED + v_failed))

section "web UI: sign in, find the SDK's issue, resolve it (headless Chromium)"
ui_out=$(FAULTLINE_BASE_URL=$URL ADMIN_EMAIL=$ADMIN_EMAIL ADMIN_PASSWORD=$ADMIN_PASSWORD UI_ISSUE_QUERY=ZeroDivisionError \
  E2E_ARTIFACTS=$ARTIFACTS timeout -k 5 180 node "$E2E/ui_flow.mjs" 2>&1) || true
echo "$ui_out"
ui_line=$(printf '%s\n' "$ui_out" | grep -E '^ui: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
if [ -n "$ui_line" ]; then
  read -r _ ui_passed _ ui_failed _ <<< "$ui_line"
  PASSED=$((PASSED + ui_passed))
  FAILED=$((FAILED + ui_failed))
else
  fail "web UI flow did not report its results"
fi

section "shutdown"
if stop_server; then
  ok "SIGTERM: faultline serve exited 0"
else
  fail "SIGTERM: faultline serve exited $? (124: still running after 15s, killed)"
fi

FINISHED=1
if [ "$FAILED" -gt 0 ]; then
  echo "--- last lines of $ARTIFACTS/server.log"
  tail -n 40 "$ARTIFACTS/server.log"
fi
echo
echo "($BACKEND, ${SECONDS}s; artifacts in ${ARTIFACTS#"$ROOT"/})"
echo "e2e: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
