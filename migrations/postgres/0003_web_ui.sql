-- The web UI's accounts, issue workflow and inbound filters (PostgreSQL).
-- Keep in step with migrations/sqlite/0003_web_ui.sql: same tables, columns and indexes.

-- Per-project membership: members see and act on the projects they belong to; admins see all.
CREATE TABLE project_members (
    project_id  BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members (user_id);

-- Workflow state on the issue row, so lists filter on columns:
--   assignee_id: who owns it;
--   resolved_release + resolved_mode ('next' | 'release'): "resolved in the next release" (only events
--     of a release newer than resolved_release regress it) or "resolved in release X" (events of X or
--     newer regress it); NULL mode is a plain resolve (any event regresses it);
--   ignore_until / ignore_count / ignore_users: an ignored issue wakes when the time passes, when
--     times_seen reaches ignore_count, or users_seen reaches ignore_users.
ALTER TABLE issues ADD COLUMN assignee_id BIGINT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE issues ADD COLUMN resolved_release TEXT;
ALTER TABLE issues ADD COLUMN resolved_mode TEXT;
ALTER TABLE issues ADD COLUMN ignore_until BIGINT;
ALTER TABLE issues ADD COLUMN ignore_count BIGINT;
ALTER TABLE issues ADD COLUMN ignore_users BIGINT;
CREATE INDEX issues_assignee ON issues (assignee_id);

CREATE TABLE issue_bookmarks (
    issue_id    BIGINT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (issue_id, user_id)
);
CREATE INDEX issue_bookmarks_user ON issue_bookmarks (user_id);

-- Who did what to an issue (user_id NULL: Faultline itself, e.g. a regression); comments are kind 'note'.
CREATE TABLE issue_activity (
    id          BIGSERIAL PRIMARY KEY,
    issue_id    BIGINT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX issue_activity_issue ON issue_activity (issue_id, id);

-- "Delete and discard": grouping hashes whose future events are dropped at ingest.
CREATE TABLE issue_tombstones (
    project_id  BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    hash        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, hash)
);

-- Distinct users carry their e-mail, for `user.email:` search.
ALTER TABLE issue_users ADD COLUMN email TEXT;

-- Environments can be hidden from the selectors.
ALTER TABLE environments ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT FALSE;

-- Per-release pages list a release's events.
CREATE INDEX events_release ON events (project_id, release, timestamp);

-- Inbound filters, one row per project (absent: nothing filtered). Pattern lists are newline-separated
-- globs (`*` any text), matched case-insensitively.
CREATE TABLE project_filters (
    project_id          BIGINT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    localhost           BOOLEAN NOT NULL DEFAULT FALSE,
    browser_extensions  BOOLEAN NOT NULL DEFAULT FALSE,
    error_messages      TEXT NOT NULL DEFAULT '',
    error_types         TEXT NOT NULL DEFAULT '',
    releases            TEXT NOT NULL DEFAULT '',
    updated_at          BIGINT NOT NULL
);
