-- What envelopes carry besides events (PostgreSQL). Keep in step with migrations/sqlite/0002_ingest_items.sql.

-- Attachments arrive with their event or on their own; they link by (project_id, event_id).
CREATE TABLE attachments (
    id               BIGSERIAL PRIMARY KEY,
    project_id       BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    event_id         TEXT NOT NULL,
    name             TEXT NOT NULL,
    content_type     TEXT,
    attachment_type  TEXT,
    size             BIGINT NOT NULL,
    data             BYTEA NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX attachments_event ON attachments (project_id, event_id);

-- User feedback (legacy user_report items and the newer feedback events).
CREATE TABLE user_reports (
    id          BIGSERIAL PRIMARY KEY,
    project_id  BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    event_id    TEXT,
    name        TEXT,
    email       TEXT,
    comments    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX user_reports_event ON user_reports (project_id, event_id);

-- Release health: session counts per project, release, environment and hour.
CREATE TABLE session_hourly (
    project_id   BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    release      TEXT NOT NULL,
    environment  TEXT NOT NULL,
    hour         BIGINT NOT NULL,
    started      BIGINT NOT NULL DEFAULT 0,
    errored      BIGINT NOT NULL DEFAULT 0,
    crashed      BIGINT NOT NULL DEFAULT 0,
    abnormal     BIGINT NOT NULL DEFAULT 0,
    exited       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, release, environment, hour)
);

-- Cron monitor check-ins.
CREATE TABLE check_ins (
    id            BIGSERIAL PRIMARY KEY,
    project_id    BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    check_in_id   TEXT NOT NULL,
    monitor_slug  TEXT NOT NULL,
    status        TEXT NOT NULL,
    duration      DOUBLE PRECISION,
    environment   TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX check_ins_monitor ON check_ins (project_id, monitor_slug, created_at);

-- What SDKs report they dropped themselves (client reports), per hour.
CREATE TABLE client_outcomes (
    project_id  BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    hour        BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    category    TEXT NOT NULL,
    quantity    BIGINT NOT NULL,
    PRIMARY KEY (project_id, hour, reason, category)
);
