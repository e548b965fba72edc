"""Check what Faultline stored from the SDK runs: through the Sentry-compatible API and in the database.

Usage: verify.py --url URL --token TOKEN --results DIR (--sqlite FILE | --postgres URL) --counts FILE

DIR holds python.json, node.json and browser.json as the senders wrote them (the event ids the SDKs
returned). Prints one line per check ("ok" / "FAIL"), writes "PASSED FAILED" to --counts, and exits
non-zero when a check failed. Standard library only (psql for PostgreSQL).
"""

import argparse
import json
import re
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime

ORG = "default"
PROJECTS = {"python-app": "python", "node-app": "node", "browser-app": "javascript"}
HEX32 = re.compile(r"^[0-9a-f]{32}$")


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, condition, what, detail=None):
        if condition:
            self.passed += 1
            print(f"  ok    {what}")
        else:
            self.failed += 1
            print(f"  FAIL  {what}" + (f"\n          {short(detail)}" if detail is not None else ""))
        return bool(condition)

    def section(self, title):
        print(f"\n-- {title}")


def short(value, limit=1500):
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


# ---------------------------------------------------------------------------------------------- API


class Api:
    def __init__(self, base, token):
        self.base = base.rstrip("/")
        self.token = token

    def get(self, path, token=True):
        """(status, parsed JSON or text, headers) of GET base+path."""
        request = urllib.request.Request(self.base + path)
        if token is True:
            request.add_header("Authorization", f"Bearer {self.token}")
        elif token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, body, headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as err:
            status, body, headers = err.code, err.read(), err.headers
        try:
            return status, json.loads(body), headers
        except ValueError:
            return status, body.decode("utf-8", "replace"), headers


def is_iso(value):
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


ISSUE_FIELDS = {
    "id": str,
    "shortId": str,
    "title": str,
    "culprit": str,
    "level": str,
    "status": str,
    "count": str,
    "userCount": int,
    "firstSeen": str,
    "lastSeen": str,
    "permalink": str,
    "metadata": dict,
    "project": dict,
}
EVENT_FIELDS = {
    "id": str,
    "eventID": str,
    "groupID": str,
    "dateCreated": str,
    "title": str,
    "message": str,
    "tags": list,
    "user": dict,
    "contexts": dict,
    "environment": str,
    "entries": list,
}


def shape_problems(obj, fields):
    if not isinstance(obj, dict):
        return [f"not an object: {short(obj, 200)}"]
    problems = []
    for name, ty in fields.items():
        if name not in obj:
            problems.append(f"missing {name}")
        elif not isinstance(obj[name], ty) or (ty is int and isinstance(obj[name], bool)):
            problems.append(f"{name} is {type(obj[name]).__name__} {short(obj[name], 80)}, expected {ty.__name__}")
    return problems


def release_version(event):
    release = event.get("release")
    return release.get("version") if isinstance(release, dict) else release


def tag(event, key):
    for pair in event.get("tags") or []:
        if isinstance(pair, dict) and pair.get("key") == key:
            return pair.get("value")
    return None


def entry(event, ty):
    for e in event.get("entries") or []:
        if isinstance(e, dict) and e.get("type") == ty:
            return e.get("data")
    return None


# ----------------------------------------------------------------------------------------- database


class Db:
    def __init__(self, sqlite_path=None, postgres_url=None):
        self.sqlite_path = sqlite_path
        self.postgres_url = postgres_url
        self.name = "SQLite" if sqlite_path else "PostgreSQL"

    def rows(self, sql):
        """Rows as tuples of strings ('' for NULL)."""
        if self.sqlite_path:
            with sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True) as conn:
                return [tuple("" if v is None else str(v) for v in row) for row in conn.execute(sql)]
        out = subprocess.run(
            ["psql", self.postgres_url, "-X", "-A", "-t", "-q", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return [tuple(line.split("\t")) for line in out.splitlines() if line]

    def value(self, sql):
        rows = self.rows(sql)
        return rows[0][0] if rows else None


def literal(text):
    assert re.fullmatch(r"[A-Za-z0-9@._:-]*", text), text
    return f"'{text}'"


# ------------------------------------------------------------------------------------------- checks


def load(results_dir, name, c):
    try:
        with open(f"{results_dir}/{name}.json") as f:
            return json.load(f)
    except (OSError, ValueError) as err:
        c.check(False, f"{name}.json from the {name} sender", str(err))
        return None


def check_storage(c, db, py, node, browser):
    c.section(f"database ({db.name}): rows the API does not show yet")
    projects = dict(db.rows("SELECT slug, CAST(id AS TEXT) FROM projects"))
    c.check(set(PROJECTS) <= set(projects), "projects table has python-app, node-app, browser-app", projects)
    pid = {slug: projects.get(slug, "0") for slug in PROJECTS}

    sent = []  # (project, label, event id) of every error/message the SDKs reported
    for project, result in (("python-app", py), ("node-app", node)):
        if result:
            sent += [(project, label, eid) for label, eid in result["events"].items() if eid]
    if browser and browser.get("eventId"):
        sent.append(("browser-app", "exception", browser["eventId"]))
    for project, label, eid in sent:
        eid = eid.replace("-", "").lower()
        rows = db.rows(
            "SELECT event_type, CAST(issue_id AS TEXT), environment, release FROM events "
            f"WHERE project_id = {int(pid[project])} AND replace(event_id, '-', '') = {literal(eid)}"
        )
        c.check(
            len(rows) == 1 and rows[0][0] != "transaction" and rows[0][1] != "" and rows[0][2] == "e2e",
            f"events: {project} {label} {eid} stored once, with an issue, environment e2e",
            rows,
        )

    for project, result in (("python-app", py), ("node-app", node)):
        if not result:
            continue
        ids = [t.replace("-", "").lower() for t in result["transactions"]]
        rows = db.rows(
            "SELECT replace(event_id, '-', ''), CAST(issue_id AS TEXT), title FROM events "
            f"WHERE project_id = {int(pid[project])} AND event_type = 'transaction'"
        )
        stored = {r[0]: r for r in rows}
        c.check(
            ids and all(i in stored for i in ids),
            f"events: {project} transactions {ids} stored with event_type 'transaction'",
            rows,
        )
        c.check(
            rows and all(r[1] == "" for r in rows),
            f"events: {project} transactions belong to no issue",
            rows,
        )
    want_titles = {"python-app": "e2e-task", "node-app": "e2e-node-task"}
    for project, title in want_titles.items():
        titles = [r[0] for r in db.rows(f"SELECT title FROM events WHERE project_id = {int(pid[project])} AND event_type = 'transaction'")]
        c.check(title in titles, f"events: {project} transaction titled {title!r}", titles)
    n = db.value(f"SELECT COUNT(*) FROM issues WHERE project_id = {int(pid['python-app'])} AND event_type = 'transaction'")
    c.check(n == "0", "issues: no issue of type transaction for python-app", n)

    if py:
        # Application-mode sessions arrive one by one (`session` items), request-mode ones aggregated
        # (`sessions`); each pair is one session that saw an error and one clean one.
        rows = db.rows(
            "SELECT release, environment, SUM(started), SUM(errored), SUM(crashed), SUM(abnormal), SUM(exited) "
            f"FROM session_hourly WHERE project_id = {int(pid['python-app'])} GROUP BY release, environment ORDER BY release"
        )
        by_release = {r[0]: dict(zip(("environment", "started", "errored", "crashed", "abnormal", "exited"), r[1:])) for r in rows}
        for release, form in ((py["release"], "`session` items"), (py["aggregate_release"], "a `sessions` aggregate")):
            got = by_release.get(release)
            c.check(
                got is not None
                and got["environment"] == "e2e"
                and (got["started"], got["errored"], got["crashed"], got["abnormal"]) == ("2", "1", "0", "0"),
                f"session_hourly: python-app {release} ({form}): started 2, errored 1, crashed 0, abnormal 0",
                got,
            )
        one = by_release.get(py["release"], {}).get("exited")
        agg = by_release.get(py["aggregate_release"], {}).get("exited")
        c.check(
            one is not None and one == agg,
            "session_hourly: exited counts the same two sessions alike, whether sent one by one or aggregated",
            f"exited {one} from `session` items ({py['release']}) vs {agg} from the `sessions` aggregate ({py['aggregate_release']})",
        )
    # @sentry/node and @sentry/browser start a session at init and send an update (status ok,
    # errors 1) after the captured exception; @sentry/node ends it when the process exits (exited,
    # errors 1), @sentry/browser never does. Relay counts a session as errored as soon as an update
    # reports errors > 0 (deduplicated per session id), whatever its status.
    for project, result, release in (("node-app", node, "node-app@1.0.0"), ("browser-app", browser, "browser-app@1.0.0")):
        if not result:
            continue
        rows = db.rows(
            "SELECT environment, SUM(started), SUM(errored), SUM(crashed) FROM session_hourly "
            f"WHERE project_id = {int(pid[project])} AND release = {literal(release)} GROUP BY environment"
        )
        c.check(
            rows == [("e2e", "1", "1", "0")],
            f"session_hourly: {project} {release}: the SDK's one session, started 1, errored 1 (an update with errors 1), crashed 0",
            [dict(zip(("environment", "started", "errored", "crashed"), r)) for r in rows],
        )


def check_api_basics(c, api):
    c.section("API: authentication, organizations, projects")
    status, body, _ = api.get("/api/0/organizations/", token=False)
    c.check(status == 401, "GET /api/0/organizations/ without a token -> 401", (status, body))
    status, body, _ = api.get("/api/0/organizations/", token="not-a-real-token")
    c.check(status == 401, "GET /api/0/organizations/ with an unknown token -> 401", (status, body))
    status, body, _ = api.get("/api/0/organizations/")
    c.check(
        status == 200 and isinstance(body, list) and any(isinstance(o, dict) and o.get("slug") == ORG for o in body),
        f"GET /api/0/organizations/ -> 200, a list with slug {ORG!r}",
        (status, body),
    )
    status, body, _ = api.get(f"/api/0/organizations/{ORG}/projects/")
    got = {p.get("slug"): p.get("platform") for p in body if isinstance(p, dict)} if isinstance(body, list) else {}
    c.check(
        status == 200 and all(got.get(slug) == platform for slug, platform in PROJECTS.items()),
        f"GET /api/0/organizations/{ORG}/projects/ -> the three projects with their platforms",
        (status, body),
    )


def list_issues(c, api, project):
    path = f"/api/0/projects/{ORG}/{project}/issues/?query=is:unresolved"
    status, body, headers = api.get(path)
    ok = c.check(status == 200 and isinstance(body, list), f"GET {path} -> 200, a list", (status, body))
    link = headers.get("Link", "") if headers else ""
    c.check(
        'rel="next"' in link and 'results="false"' in link and "cursor=" in link,
        f"{project}: issue list has Sentry's Link header (rel=next, results=false: one page)",
        link,
    )
    issues = body if ok else []
    problems = {i.get("title", "?") if isinstance(i, dict) else "?": shape_problems(i, ISSUE_FIELDS) for i in issues}
    problems = {k: v for k, v in problems.items() if v}
    if issues:
        c.check(not problems, f"{project}: every issue has {', '.join(ISSUE_FIELDS)} with Sentry's types", problems)
        c.check(all(i.get("status") == "unresolved" for i in issues), f"{project}: every listed issue is unresolved", [i.get("status") for i in issues])
        c.check(
            all(isinstance(i, dict) and i.get("shortId", "").startswith(project.upper() + "-") for i in issues),
            f"{project}: shortIds start with {project.upper()}-",
            [i.get("shortId") for i in issues if isinstance(i, dict)],
        )
        c.check(
            all(isinstance(i, dict) and i.get("permalink", "").startswith(api.base) and str(i.get("id")) in i.get("permalink", "") for i in issues),
            f"{project}: permalinks are absolute URLs on {api.base} naming the issue",
            [i.get("permalink") for i in issues if isinstance(i, dict)],
        )
        c.check(
            all(isinstance(i.get("project"), dict) and i["project"].get("slug") == project for i in issues if isinstance(i, dict)),
            f"{project}: issue.project.slug is {project}",
            [i.get("project") for i in issues if isinstance(i, dict)],
        )
        c.check(
            all(is_iso(i.get("firstSeen")) and is_iso(i.get("lastSeen")) and i["firstSeen"] <= i["lastSeen"] for i in issues if isinstance(i, dict)),
            f"{project}: firstSeen/lastSeen are ISO 8601 timestamps, firstSeen <= lastSeen",
            [(i.get("firstSeen"), i.get("lastSeen")) for i in issues if isinstance(i, dict)],
        )
    return [i for i in issues if isinstance(i, dict)]


def find_issue(c, issues, project, title, level, count=None, culprit=None, metadata=None, exact=True):
    matches = [i for i in issues if (i.get("title") == title if exact else str(i.get("title", "")).startswith(title))]
    what = f"{project}: issue {title!r}{'' if exact else '…'} (level {level}" + (f", count {count!r}" if count else "") + ")"
    if not c.check(len(matches) == 1, what, [(i.get("title"), i.get("level"), i.get("count")) for i in issues]):
        return None
    issue = matches[0]
    c.check(
        issue.get("level") == level and (count is None or issue.get("count") == count),
        f"{project}: {issue.get('shortId')} has level {level!r}" + (f" and count {count!r}" if count else ""),
        {k: issue.get(k) for k in ("level", "count", "userCount")},
    )
    if culprit:
        c.check(culprit in str(issue.get("culprit")), f"{project}: {issue.get('shortId')} culprit names {culprit!r}", issue.get("culprit"))
    if metadata:
        got = {k: issue.get("metadata", {}).get(k) for k in metadata}
        c.check(got == metadata, f"{project}: {issue.get('shortId')} metadata has {metadata}", issue.get("metadata"))
    return issue


def get_event(c, api, project, eid, what, issue=None, release=None, user_id=None, sdk_tag=None):
    eid = eid.replace("-", "").lower()
    path = f"/api/0/projects/{ORG}/{project}/events/{eid}/"
    status, event, _ = api.get(path)
    if not c.check(status == 200 and isinstance(event, dict), f"GET {path} ({what}) -> 200", (status, event)):
        return None
    problems = shape_problems(event, EVENT_FIELDS)
    c.check(not problems, f"{project} {what}: event has {', '.join(EVENT_FIELDS)}, release", problems)
    c.check(
        event.get("id") == eid and event.get("eventID") == eid,
        f"{project} {what}: id and eventID are the id the SDK returned",
        {k: event.get(k) for k in ("id", "eventID")},
    )
    if issue:
        c.check(event.get("groupID") == issue.get("id"), f"{project} {what}: groupID is its issue's id {issue.get('id')}", event.get("groupID"))
    c.check(is_iso(event.get("dateCreated")), f"{project} {what}: dateCreated is ISO 8601", event.get("dateCreated"))
    if release:
        c.check(release_version(event) == release, f"{project} {what}: release {release}", event.get("release"))
    c.check(event.get("environment") == "e2e", f"{project} {what}: environment e2e", event.get("environment"))
    tags = event.get("tags") or []
    c.check(
        all(isinstance(t, dict) and set(t) >= {"key", "value"} for t in tags)
        and tag(event, "environment") == "e2e"
        and (sdk_tag is None or tag(event, "sdk_under_test") == sdk_tag),
        f"{project} {what}: tags are [{{key, value}}] with environment=e2e" + (f" and the SDK's sdk_under_test={sdk_tag}" if sdk_tag else ""),
        tags,
    )
    if user_id:
        c.check((event.get("user") or {}).get("id") == user_id, f"{project} {what}: user.id {user_id}", event.get("user"))
    return event


def exception_values(c, project, what, event):
    data = entry(event, "exception")
    values = (data or {}).get("values") if isinstance(data, dict) else None
    c.check(
        isinstance(values, list) and values and all(isinstance(v, dict) and v.get("type") for v in values),
        f"{project} {what}: entries has {{type: exception, data: {{values: [...]}}}}",
        [e.get("type") for e in event.get("entries") or [] if isinstance(e, dict)],
    )
    return values if isinstance(values, list) else []


def frames(value):
    return ((value or {}).get("stacktrace") or {}).get("frames") or []


def check_python(c, api, py):
    c.section("API: python-app (sentry-python)")
    issues = list_issues(c, api, "python-app")
    ids = py["events"]
    zero = find_issue(
        c, issues, "python-app", "ZeroDivisionError: division by zero", "error", count="2", culprit="divide",
        metadata={"type": "ZeroDivisionError", "value": "division by zero"},
    )
    chained = find_issue(c, issues, "python-app", "KeyError: 'sku-123'", "error", count="1", metadata={"type": "KeyError"})
    logged = find_issue(c, issues, "python-app", "payment p-1 failed for user 7", "error", count="1")
    warning = find_issue(c, issues, "python-app", "e2e disk almost full", "warning", count="1")
    c.check(
        len(issues) == 4 and not [i for i in issues if "e2e-task" in str(i.get("title"))],
        "python-app: exactly these 4 issues, none for the transaction",
        [i.get("title") for i in issues],
    )
    if zero:
        c.check(zero.get("userCount") == 1, "python-app: the ZeroDivisionError issue has userCount 1 (one user, two events)", zero.get("userCount"))

    common = dict(release=py["release"], user_id="u-42", sdk_tag="python")
    event = get_event(c, api, "python-app", ids["zero_division"], "ZeroDivisionError", zero, **common)
    if event:
        values = exception_values(c, "python-app", "ZeroDivisionError", event)
        last = values[-1] if values else {}
        c.check(
            last.get("type") == "ZeroDivisionError" and last.get("value") == "division by zero",
            "python-app ZeroDivisionError: exception type and value",
            last,
        )
        fs = frames(last)
        c.check(
            any(f.get("function") == "divide" and f.get("in_app") is True for f in fs),
            "python-app ZeroDivisionError: stack trace has the in-app frame divide()",
            [(f.get("function"), f.get("in_app")) for f in fs],
        )
        c.check(
            isinstance((event.get("contexts") or {}).get("runtime"), dict),
            "python-app ZeroDivisionError: contexts has the runtime the SDK reported",
            event.get("contexts"),
        )
        c.check(event.get("title") == "ZeroDivisionError: division by zero", "python-app ZeroDivisionError: event title", event.get("title"))
    # The second ZeroDivisionError (release py-app@1.0.0-agg) went to the same issue.
    get_event(c, api, "python-app", ids["zero_division_again"], "ZeroDivisionError again", zero, release=py["aggregate_release"])

    event = get_event(c, api, "python-app", ids["chained"], "chained KeyError from ValueError", chained, **common)
    if event:
        values = exception_values(c, "python-app", "chained exception", event)
        c.check(
            [v.get("type") for v in values] == ["ValueError", "KeyError"],
            "python-app chained exception: both exceptions of the chain, cause first (ValueError, KeyError)",
            [(v.get("type"), v.get("value"), v.get("mechanism")) for v in values],
        )

    event = get_event(c, api, "python-app", ids["logged"], "logged error", logged, **common)
    if event:
        data = entry(event, "message")
        c.check(
            isinstance(data, dict)
            and data.get("formatted") == "payment p-1 failed for user 7"
            and data.get("message") == "payment %s failed for user %d"
            and data.get("params") == ["p-1", 7],
            "python-app logged error: entries has {type: message, data: {formatted, message: 'payment %s failed for user %d', params: ['p-1', 7]}}",
            event.get("entries"),
        )
        c.check(
            event.get("title") == "payment p-1 failed for user 7" and "payment p-1 failed for user 7" in event.get("message", ""),
            "python-app logged error: title and message are the formatted message",
            {k: event.get(k) for k in ("title", "message")},
        )
        c.check(tag(event, "logger") == "payments", "python-app logged error: tag logger=payments", event.get("tags"))

    event = get_event(c, api, "python-app", ids["warning"], "warning message", warning, **common)
    if event:
        c.check(tag(event, "level") == "warning", "python-app warning message: tag level=warning", event.get("tags"))

    for tid in py["transactions"]:
        path = f"/api/0/projects/{ORG}/python-app/events/{tid}/"
        status, event, _ = api.get(path)
        spans = entry(event, "spans") if isinstance(event, dict) else None
        c.check(
            status == 200
            and isinstance(event, dict)
            and event.get("type") == "transaction"
            and event.get("title") == "e2e-task"
            and event.get("groupID") is None
            and isinstance(spans, list)
            and sorted(sp.get("op") for sp in spans if isinstance(sp, dict)) == ["db.query", "http.client"],
            f"GET {path} -> the transaction: type transaction, title e2e-task, no groupID, its 2 spans",
            (status, {k: event.get(k) for k in ("type", "title", "groupID", "entries")} if isinstance(event, dict) else event),
        )
    path = f"/api/0/projects/{ORG}/python-app/events/{'0' * 32}/"
    status, body, _ = api.get(path)
    c.check(status == 404, f"GET {path} (no such event) -> 404", (status, body))

    if zero:
        path = f"/api/0/issues/{zero['id']}/events/latest/"
        status, latest, _ = api.get(path)
        c.check(
            status == 200
            and isinstance(latest, dict)
            and latest.get("eventID") == ids["zero_division_again"]
            and latest.get("groupID") == zero["id"],
            f"GET {path} -> the later of the two ZeroDivisionError events",
            (status, {k: latest.get(k) for k in ("eventID", "groupID", "dateCreated")} if isinstance(latest, dict) else latest),
        )
        path = f"/api/0/issues/{zero['id']}/tags/environment/"
        status, body, _ = api.get(path)
        top = body.get("topValues") if isinstance(body, dict) else None
        c.check(
            status == 200
            and isinstance(body, dict)
            and body.get("key") == "environment"
            and body.get("totalValues") == 2
            and isinstance(top, list)
            and len(top) == 1
            and top[0].get("value") == "e2e"
            and top[0].get("count") == 2,
            f'GET {path} -> {{"key": "environment", "totalValues": 2, "topValues": [{{"value": "e2e", "count": 2, …}}]}}',
            (status, body),
        )
        path = f"/api/0/issues/{zero['id']}/tags/release/"
        status, body, _ = api.get(path)
        values = sorted((v.get("value"), v.get("count")) for v in body.get("topValues", [])) if isinstance(body, dict) else None
        c.check(
            status == 200 and values == [(py["release"], 1), (py["aggregate_release"], 1)],
            f"GET {path} -> one event in each of the two releases",
            (status, body),
        )
        path = f"/api/0/issues/{zero['id']}/"
        status, body, _ = api.get(path)
        c.check(
            status == 200 and isinstance(body, dict) and body.get("id") == zero["id"] and body.get("count") == "2",
            f"GET {path} -> the issue (count '2')",
            (status, body),
        )


def check_node(c, api, node):
    c.section("API: node-app (@sentry/node)")
    issues = list_issues(c, api, "node-app")
    exc = find_issue(c, issues, "node-app", "SyntaxError: ", "error", count="1", exact=False, metadata={"type": "SyntaxError"})
    msg = find_issue(c, issues, "node-app", "e2e node message", "info", count="1")
    c.check(len(issues) == 2, "node-app: exactly these 2 issues, none for the transaction", [i.get("title") for i in issues])
    common = dict(release=node["release"], user_id="node-user-1", sdk_tag="node")
    event = get_event(c, api, "node-app", node["events"]["exception"], "exception", exc, **common)
    if event:
        values = exception_values(c, "node-app", "exception", event)
        fs = frames(values[-1] if values else None)
        c.check(
            any(f.get("function") == "parseConfig" and f.get("in_app") is True for f in fs),
            "node-app exception: stack trace has the in-app frame parseConfig()",
            [(f.get("function"), f.get("in_app")) for f in fs],
        )
    event = get_event(c, api, "node-app", node["events"]["message"], "message", msg, **common)
    if event:
        data = entry(event, "message")
        c.check(
            isinstance(data, dict) and data.get("formatted") == "e2e node message",
            "node-app message: entries has {type: message, data: {formatted: 'e2e node message'}}",
            event.get("entries"),
        )


def check_browser(c, api, browser):
    c.section("API: browser-app (@sentry/browser in Chromium)")
    issues = list_issues(c, api, "browser-app")
    exc = find_issue(c, issues, "browser-app", "Error: browser boom", "error", count="1", metadata={"type": "Error", "value": "browser boom"})
    find_issue(c, issues, "browser-app", "browser preflight store", "info", count="1")
    c.check(len(issues) == 2, "browser-app: exactly these 2 issues", [i.get("title") for i in issues])
    event = get_event(c, api, "browser-app", browser["eventId"], "exception", exc, release="browser-app@1.0.0", user_id="browser-user-1", sdk_tag="browser")
    if event:
        values = exception_values(c, "browser-app", "exception", event)
        c.check(
            values and values[-1].get("type") == "Error" and values[-1].get("value") == "browser boom",
            "browser-app exception: type Error, value 'browser boom'",
            values[-1:] if values else values,
        )
        request = entry(event, "request")
        c.check(
            isinstance(request, dict) and str(request.get("url", "")).startswith(browser["pageOrigin"]),
            f"browser-app exception: entries has the request (page URL on {browser['pageOrigin']})",
            request,
        )
    if browser.get("preflight"):
        eid = (browser["preflight"].get("body") or {}).get("id")
        if c.check(isinstance(eid, str) and HEX32.match(eid), "browser-app preflighted store request answered {id: <32 hex>}", browser["preflight"]):
            get_event(c, api, "browser-app", eid, "preflighted store event")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--sqlite")
    parser.add_argument("--postgres")
    parser.add_argument("--counts", required=True)
    parser.add_argument("--skip-api", action="store_true", help="database checks only")
    args = parser.parse_args()

    c = Checks()
    try:
        py = load(args.results, "python", c)
        node = load(args.results, "node", c)
        browser = load(args.results, "browser", c)
        db = Db(sqlite_path=args.sqlite, postgres_url=args.postgres)
        check_storage(c, db, py, node, browser)
        if not args.skip_api:
            api = Api(args.url, args.token)
            check_api_basics(c, api)
            if py:
                check_python(c, api, py)
            if node:
                check_node(c, api, node)
            if browser:
                check_browser(c, api, browser)
    except Exception as err:  # a crash in the checker is a failure, never a silent pass
        import traceback

        traceback.print_exc()
        c.check(False, f"verify.py ran to the end ({type(err).__name__}: {err})")
    print(f"\nverify: {c.passed} passed, {c.failed} failed")
    with open(args.counts, "w") as f:
        f.write(f"{c.passed} {c.failed}\n")
    sys.exit(1 if c.failed else 0)


if __name__ == "__main__":
    main()
