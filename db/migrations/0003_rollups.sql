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
