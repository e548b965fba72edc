-- Alert rules and Slack notifications (SQLite). Keep in step with migrations/postgres/0004_alerts.sql.
-- Version 0003 belongs to another change; sqlx applies versions in order and tolerates the gap.

-- A project's issue alert rules, shaped like Sentry's: conditions (triggers), filters and actions as JSON
-- (`actions` holds the webhook URLs, which are secrets).
CREATE TABLE alert_rules (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id         INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    enabled            BOOLEAN NOT NULL DEFAULT 1,
    environment        TEXT,
    frequency_minutes  INTEGER NOT NULL,
    action_match       TEXT NOT NULL,
    filter_match       TEXT NOT NULL,
    conditions         TEXT NOT NULL,
    filters            TEXT NOT NULL,
    actions            TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX alert_rules_project ON alert_rules (project_id);

-- Facts recorded by the ingest transaction (a new issue, a regression, an ignored issue that reappeared),
-- consumed by the evaluator. A claim is a lease (claimed_by, locked_until); the evaluating transaction
-- deletes the row.
CREATE TABLE alert_activity (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id    INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    issue_id      INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    event_id      TEXT,
    release       TEXT,
    created_at    INTEGER NOT NULL,
    claimed_by    TEXT,
    locked_until  INTEGER
);
CREATE INDEX alert_activity_claim ON alert_activity (locked_until, id);

-- When each rule last fired for each issue: the per-issue action interval.
CREATE TABLE alert_rule_fires (
    rule_id        INTEGER NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    issue_id       INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    last_fired_at  INTEGER NOT NULL,
    PRIMARY KEY (rule_id, issue_id)
);
CREATE INDEX alert_rule_fires_issue ON alert_rule_fires (issue_id);

-- The latest verdict of each rule on each issue, and why ("fired: new issue", "level warning is below error").
CREATE TABLE alert_evaluations (
    rule_id       INTEGER NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    issue_id      INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    evaluated_at  INTEGER NOT NULL,
    fired         BOOLEAN NOT NULL,
    reason        TEXT NOT NULL,
    PRIMARY KEY (rule_id, issue_id)
);
CREATE INDEX alert_evaluations_issue ON alert_evaluations (issue_id);

-- Messages to send, written in the transaction that decided them. A sender claims due rows with a lease
-- (claimed_by, locked_until), so two processes never send the same row.
CREATE TABLE notification_outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id          INTEGER NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    issue_id         INTEGER REFERENCES issues (id) ON DELETE CASCADE,
    reason           TEXT NOT NULL,
    webhook          TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    claimed_by       TEXT,
    locked_until     INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
);
CREATE INDEX notification_outbox_due ON notification_outbox (status, next_attempt_at);

-- Every delivery attempt, for the rule's delivery log.
CREATE TABLE alert_deliveries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id       INTEGER NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    outbox_id     INTEGER,
    issue_id      INTEGER,
    attempted_at  INTEGER NOT NULL,
    attempt       INTEGER NOT NULL,
    status        TEXT NOT NULL,
    http_status   INTEGER,
    error         TEXT
);
CREATE INDEX alert_deliveries_rule ON alert_deliveries (rule_id, id);
