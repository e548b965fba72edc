-- Per-project grouping rules and unmerge bookkeeping (PostgreSQL).
-- Keep in step with migrations/sqlite/0006_grouping_rules.sql: same tables, columns and indexes.

-- A project's fingerprint rules and stack-trace rules in Sentry's text syntax (absent: built-in rules
-- only). Ingest parses them into the project's grouping config; the settings page refuses rules that
-- do not parse, so what is stored always parses.
CREATE TABLE project_grouping (
    project_id         BIGINT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    fingerprint_rules  TEXT NOT NULL DEFAULT '',
    stacktrace_rules   TEXT NOT NULL DEFAULT '',
    updated_at         BIGINT NOT NULL
);

-- The grouping hash an event was stored under first (its primary hash), so that unmerging one hash of
-- an issue knows which events go with it. NULL for events stored before this migration.
ALTER TABLE events ADD COLUMN primary_hash TEXT;
CREATE INDEX events_issue_primary_hash ON events (issue_id, primary_hash);
