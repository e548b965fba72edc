-- Events of an issue in (timestamp, id) order (SQLite).
-- Keep in step with migrations/postgres/0008_event_order.sql: same indexes.

-- The issue page walks an issue's events by time with the id as tie-breaker (previous / next /
-- oldest / latest). SQLite keeps the row id in every index already, so this index orders the same
-- as the one it replaces; PostgreSQL needs the id spelled out, and both trees keep the same names.
CREATE INDEX events_issue_timestamp_id ON events (issue_id, timestamp, id);
DROP INDEX events_issue_timestamp;
