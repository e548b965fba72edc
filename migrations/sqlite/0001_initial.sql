-- Faultline initial schema (SQLite). Timestamps are unix milliseconds (INTEGER); flags are BOOLEAN (0/1).
-- Keep in step with migrations/postgres/0001_initial.sql: same tables, columns and indexes.

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE projects (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id  INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    slug             TEXT NOT NULL,
    name             TEXT NOT NULL,
    platform         TEXT,
    next_short_id    INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    UNIQUE (organization_id, slug)
);

CREATE TABLE project_keys (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id             INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    public_key             TEXT NOT NULL UNIQUE,
    label                  TEXT NOT NULL,
    enabled                BOOLEAN NOT NULL DEFAULT 1,
    rate_limit_per_minute  INTEGER,
    created_at             INTEGER NOT NULL
);
CREATE INDEX project_keys_project ON project_keys (project_id);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT,
    is_admin       BOOLEAN NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash    TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE setup_tokens (
    token_hash  TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE issues (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id     INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    short_id       INTEGER NOT NULL,
    title          TEXT NOT NULL,
    culprit        TEXT NOT NULL,
    level          TEXT NOT NULL,
    event_type     TEXT NOT NULL,
    metadata       TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'unresolved',
    substatus      TEXT,
    first_seen     INTEGER NOT NULL,
    last_seen      INTEGER NOT NULL,
    times_seen     INTEGER NOT NULL DEFAULT 0,
    users_seen     INTEGER NOT NULL DEFAULT 0,
    first_release  TEXT,
    last_release   TEXT,
    UNIQUE (project_id, short_id)
);
CREATE INDEX issues_project_last_seen ON issues (project_id, last_seen);
CREATE INDEX issues_project_first_seen ON issues (project_id, first_seen);
CREATE INDEX issues_project_times_seen ON issues (project_id, times_seen);

CREATE TABLE issue_hashes (
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    hash        TEXT NOT NULL,
    issue_id    INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, hash)
);
CREATE INDEX issue_hashes_issue ON issue_hashes (issue_id);

CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id   INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    issue_id     INTEGER REFERENCES issues (id) ON DELETE CASCADE,
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    timestamp    INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    level        TEXT NOT NULL,
    platform     TEXT NOT NULL,
    title        TEXT NOT NULL,
    message      TEXT NOT NULL,
    environment  TEXT,
    release      TEXT,
    user_key     TEXT,
    payload      BLOB NOT NULL,
    UNIQUE (project_id, event_id)
);
CREATE INDEX events_issue_timestamp ON events (issue_id, timestamp);

CREATE TABLE issue_tag_values (
    issue_id    INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    times_seen  INTEGER NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (issue_id, key, value)
);

CREATE TABLE issue_hourly (
    issue_id  INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    hour      INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (issue_id, hour)
);

CREATE TABLE issue_users (
    issue_id    INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    user_key    TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (issue_id, user_key)
);

CREATE TABLE environments (
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY (project_id, name)
);

CREATE TABLE releases (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id  INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    version          TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    first_event      INTEGER,
    last_event       INTEGER,
    UNIQUE (organization_id, version)
);

CREATE TABLE release_projects (
    release_id  INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    PRIMARY KEY (release_id, project_id)
);
