-- The sweep that wakes issues ignored for a while (SQLite).
-- Keep in step with migrations/postgres/0007_ignore_sweep.sql: same indexes.

-- Only issues ignored for a duration carry an ignore_until (the workflow clears it when the status
-- changes), so this index holds just the issues waiting for their time, and the sweep finds the due
-- ones without reading the rest of the table.
CREATE INDEX issues_ignore_until ON issues (ignore_until) WHERE ignore_until IS NOT NULL;
