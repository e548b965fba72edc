-- Events of an issue in (timestamp, id) order (PostgreSQL).
-- Keep in step with migrations/sqlite/0008_event_order.sql: same indexes.

-- The issue page walks an issue's events by time with the id as tie-breaker (previous / next /
-- oldest / latest). With the id outside the index PostgreSQL sorted every earlier event of the issue
-- to find the previous one; with it the walk is one index probe.
CREATE INDEX events_issue_timestamp_id ON events (issue_id, timestamp, id);
DROP INDEX events_issue_timestamp;
