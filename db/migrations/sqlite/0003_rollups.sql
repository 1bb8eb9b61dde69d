-- Pre-aggregated request counts, kept up to date as log rows are written, so that the
-- dashboard reads O(buckets) rows however large request_logs grows.
--   grain   the bucket width in ms: 3600000 (hour) or 86400000 (day), UTC
--   bucket  the bucket's start, ms since the epoch
--   user_id the user, or '' for everyone together (admin queries never touch per-user rows)
-- Values that cannot be summed across buckets are kept as sums and counts (latency) or as
-- per-user rows (active users = distinct user_id with requests in the range).

CREATE TABLE rollup_traffic (
  grain             INTEGER NOT NULL,
  user_id           TEXT NOT NULL,
  bucket            INTEGER NOT NULL,
  requests          INTEGER NOT NULL,
  successes         INTEGER NOT NULL,
  latency_ms_sum    REAL NOT NULL,
  prompt_tokens     INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  cost              REAL NOT NULL,
  PRIMARY KEY (grain, user_id, bucket)
) WITHOUT ROWID;
-- Active users: the per-user rows of a range, without scanning the other ranges.
CREATE INDEX rollup_traffic_users ON rollup_traffic (grain, bucket) WHERE user_id <> '';

CREATE TABLE rollup_models (
  grain    INTEGER NOT NULL,
  user_id  TEXT NOT NULL,
  bucket   INTEGER NOT NULL,
  model    TEXT NOT NULL,
  requests INTEGER NOT NULL,
  PRIMARY KEY (grain, user_id, bucket, model)
) WITHOUT ROWID;

CREATE TABLE rollup_countries (
  grain    INTEGER NOT NULL,
  user_id  TEXT NOT NULL,
  bucket   INTEGER NOT NULL,
  country  TEXT NOT NULL,
  requests INTEGER NOT NULL,
  PRIMARY KEY (grain, user_id, bucket, country)
) WITHOUT ROWID;

-- label: the HTTP status of a failed request ("404"), or the error type of a request that
-- failed after its 200 was sent (a stream cancelled or cut by the upstream).
CREATE TABLE rollup_errors (
  grain    INTEGER NOT NULL,
  user_id  TEXT NOT NULL,
  bucket   INTEGER NOT NULL,
  label    TEXT NOT NULL,
  requests INTEGER NOT NULL,
  PRIMARY KEY (grain, user_id, bucket, label)
) WITHOUT ROWID;

-- Ratings by the time they were given; a changed rating moves from one row to another.
CREATE TABLE rollup_feedback (
  grain   INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  bucket  INTEGER NOT NULL,
  rating  INTEGER NOT NULL,
  ratings INTEGER NOT NULL,
  PRIMARY KEY (grain, user_id, bucket, rating)
) WITHOUT ROWID;

CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
CREATE INDEX request_logs_generated ON request_logs (generated) WHERE generated = 1;

-- Threats per bucket, type, severity and state. The protection feature writes `threats`;
-- these triggers keep the rollup in step with every insert, resolution and deletion.
CREATE TABLE rollup_threats (
  grain    INTEGER NOT NULL,
  bucket   INTEGER NOT NULL,
  type     TEXT NOT NULL,
  severity TEXT NOT NULL,
  resolved INTEGER NOT NULL,
  threats  INTEGER NOT NULL,
  PRIMARY KEY (grain, bucket, type, severity, resolved)
) WITHOUT ROWID;

CREATE TRIGGER threats_rollup_insert AFTER INSERT ON threats BEGIN
  INSERT INTO rollup_threats (grain, bucket, type, severity, resolved, threats)
  SELECT g.grain, NEW.created_at - NEW.created_at % g.grain, NEW.type, NEW.severity, NEW.resolved != 0, 1
    FROM (SELECT 3600000 AS grain UNION ALL SELECT 86400000) g WHERE true
  ON CONFLICT (grain, bucket, type, severity, resolved) DO UPDATE SET threats = threats + 1;
END;

CREATE TRIGGER threats_rollup_delete AFTER DELETE ON threats BEGIN
  UPDATE rollup_threats SET threats = threats - 1
   WHERE grain IN (3600000, 86400000) AND bucket = OLD.created_at - OLD.created_at % grain
     AND type = OLD.type AND severity = OLD.severity AND resolved = (OLD.resolved != 0);
END;

CREATE TRIGGER threats_rollup_update AFTER UPDATE OF type, severity, resolved, created_at ON threats BEGIN
  UPDATE rollup_threats SET threats = threats - 1
   WHERE grain IN (3600000, 86400000) AND bucket = OLD.created_at - OLD.created_at % grain
     AND type = OLD.type AND severity = OLD.severity AND resolved = (OLD.resolved != 0);
  INSERT INTO rollup_threats (grain, bucket, type, severity, resolved, threats)
  SELECT g.grain, NEW.created_at - NEW.created_at % g.grain, NEW.type, NEW.severity, NEW.resolved != 0, 1
    FROM (SELECT 3600000 AS grain UNION ALL SELECT 86400000) g WHERE true
  ON CONFLICT (grain, bucket, type, severity, resolved) DO UPDATE SET threats = threats + 1;
END;

-- Threats logged before this migration.
INSERT INTO rollup_threats (grain, bucket, type, severity, resolved, threats)
SELECT g.grain, created_at - created_at % g.grain, type, severity, resolved != 0, count(*)
  FROM threats, (SELECT 3600000 AS grain UNION ALL SELECT 86400000) g GROUP BY 1, 2, 3, 4, 5;
