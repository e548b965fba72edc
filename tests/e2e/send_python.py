"""Send real sentry-python traffic to Faultline and record what the SDK returned.

Usage: send_python.py DSN OUT.json

Sends, with release py-app@1.0.0 and environment e2e:
  - an exception (ZeroDivisionError from an in-app function), inside an application-mode session;
  - a chained exception (KeyError raised from a ValueError: __cause__);
  - an error logged with parameters through the logging integration (logentry message + params);
  - a warning message (capture_message level=warning);
  - a transaction with a child span;
  - release health: two application-mode sessions (one errored, one clean), sent as `session` items;
then, re-initialised with release py-app@1.0.0-agg, two request-mode sessions (one errored by the same
ZeroDivisionError again, one clean), which the SDK sends pre-aggregated as a `sessions` item.

Every HTTP response the transport gets is recorded (status + item types), so a rejected envelope is
visible here and not only as a missing row later. Exits non-zero if a request was not answered 200.
"""

import json
import logging
import sys

import sentry_sdk
from sentry_sdk.transport import HttpTransport

DSN, OUT = sys.argv[1], sys.argv[2]
RELEASE = "py-app@1.0.0"
AGG_RELEASE = "py-app@1.0.0-agg"

wire = []  # one entry per HTTP request: {"status": int, "items": [item types]}
transactions = []  # event ids of transactions, from before_send_transaction


class RecordingTransport(HttpTransport):
    """The SDK's own HTTP transport, recording each response."""

    def _handle_response(self, response, envelope):
        items = [item.type for item in envelope.items] if envelope is not None else []
        sessions = [
            item.payload.json for item in (envelope.items if envelope is not None else []) if item.type in ("session", "sessions")
        ]
        wire.append({"status": response.status, "items": items, "sessions": sessions})
        return super()._handle_response(response=response, envelope=envelope)

    def _handle_request_error(self, envelope=None, loss_reason="network", **kwargs):
        if loss_reason == "network":  # no HTTP response at all
            items = [item.type for item in envelope.items] if envelope is not None else []
            wire.append({"status": None, "items": items, "sessions": [], "error": loss_reason})
        return super()._handle_request_error(envelope=envelope, loss_reason=loss_reason, **kwargs)


def session_summary(payload):
    """The fields of a session (or sessions aggregate) payload that release health counts."""
    if "aggregates" in payload:
        return f"sessions: aggregates {payload['aggregates']} attrs {payload.get('attrs')}"
    keys = ("init", "status", "errors", "attrs")
    return "session: " + ", ".join(f"{k}={payload.get(k)}" for k in keys)


def record_transaction(event, hint):
    transactions.append(event["event_id"])
    return event


def init(release):
    sentry_sdk.init(
        dsn=DSN,
        release=release,
        environment="e2e",
        traces_sample_rate=1.0,
        transport=RecordingTransport,
        before_send_transaction=record_transaction,
        # no automatic session for the process: the sessions below are explicit
        auto_session_tracking=False,
        send_client_reports=False,
    )


def divide(a, b):
    return a / b


def capture_division_error():
    """The same stack each time, so both captures group into one issue."""
    try:
        divide(1, 0)
    except ZeroDivisionError as err:
        return sentry_sdk.capture_exception(err)


def lookup_price(sku):
    prices = {}
    try:
        return int(prices.get(sku, "not-a-number"))
    except ValueError as err:
        raise KeyError(sku) from err


init(RELEASE)
sentry_sdk.set_user({"id": "u-42", "email": "ada@example.com"})
sentry_sdk.set_tag("sdk_under_test", "python")
ids = {}

# 1. exception in an application-mode session (the session ends errored)
scope = sentry_sdk.get_isolation_scope()
scope.start_session()
ids["zero_division"] = capture_division_error()
scope.end_session()

# 2. a clean application-mode session
scope.start_session()
scope.end_session()

# 3. chained exception
try:
    lookup_price("sku-123")
except KeyError as err:
    ids["chained"] = sentry_sdk.capture_exception(err)

# 4. logged error with parameters (logging integration, default event_level=ERROR)
logging.basicConfig(level=logging.INFO)
logger = logging.getLogger("payments")
logger.error("payment %s failed for user %d", "p-1", 7)
ids["logged"] = sentry_sdk.last_event_id()

# 5. warning message
ids["warning"] = sentry_sdk.capture_message("e2e disk almost full", level="warning")

# 6. transaction with a span, in its own scope as a task runner would do it (otherwise the scope
#    keeps the transaction name and later events carry transaction="e2e-task", which Sentry then
#    uses as their culprit)
with sentry_sdk.new_scope():
    with sentry_sdk.start_transaction(op="task", name="e2e-task"):
        with sentry_sdk.start_span(op="db.query", name="SELECT 1"):
            pass
        with sentry_sdk.start_span(op="http.client", name="GET /inventory"):
            pass

sentry_sdk.flush(timeout=10)

# 7. request-mode sessions, sent aggregated (`sessions` item), under their own release so their
#    counts land in their own session_hourly row
init(AGG_RELEASE)
scope = sentry_sdk.get_isolation_scope()
scope.start_session(session_mode="request")
ids["zero_division_again"] = capture_division_error()
scope.end_session()
scope.start_session(session_mode="request")
scope.end_session()
sentry_sdk.flush(timeout=10)

result = {
    "sdk": "sentry-python " + sentry_sdk.VERSION,
    "release": RELEASE,
    "aggregate_release": AGG_RELEASE,
    "events": ids,
    "transactions": transactions,
    "wire": wire,
}
with open(OUT, "w") as f:
    json.dump(result, f, indent=2)

print(f"sentry-python {sentry_sdk.VERSION}: event ids {json.dumps(ids)}; transactions {transactions}")
for request in wire:
    print(f"  POST envelope {request['items']} -> HTTP {request['status']}" + (f" ({request['error']})" if request.get("error") else ""))
    for session in request["sessions"]:
        print(f"      {session_summary(session)}")
bad = [r for r in wire if r["status"] != 200]
missing = [k for k, v in ids.items() if not v]
sent = [item for r in wire for item in r["items"]]
expected = {"event": len(ids), "transaction": 1, "session": 2, "sessions": 1}
unsent = {ty: (sent.count(ty), n) for ty, n in expected.items() if sent.count(ty) != n}
if bad or missing or not transactions or unsent:
    print(
        f"python sender: non-200 responses {bad}, missing ids {missing}, transactions {transactions}, "
        f"items sent vs expected {unsent}",
        file=sys.stderr,
    )
    sys.exit(1)
