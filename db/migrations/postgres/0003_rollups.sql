-- Pre-aggregated request counts, kept up to date in the same transaction as the log rows they
-- count (by increments, which commute: any interleaving of replicas gives the same totals), so
-- that the dashboard reads O(buckets) rows however large request_logs grows.
--   grain   the bucket width in ms: 3600000 (hour) or 86400000 (day), UTC
--   bucket  the bucket's start
--   user_id the user, or '' for everyone together (admin queries never touch per-user rows)

CREATE TABLE rollup_traffic (
  grain             integer NOT NULL,
  user_id           text NOT NULL,
  bucket            timestamptz NOT NULL,
  requests          bigint NOT NULL,
  successes         bigint NOT NULL,
  latency_ms_sum    double precision NOT NULL,
  prompt_tokens     bigint NOT NULL,
  completion_tokens bigint NOT NULL,
  cost              double precision NOT NULL,
  PRIMARY KEY (grain, user_id, bucket)
);
-- Active users: the per-user rows of a range, without scanning the other ranges.
CREATE INDEX rollup_traffic_users ON rollup_traffic (grain, bucket) WHERE user_id <> '';

CREATE TABLE rollup_models (
  grain    integer NOT NULL,
  user_id  text NOT NULL,
  bucket   timestamptz NOT NULL,
  model    text NOT NULL,
  requests bigint NOT NULL,
  PRIMARY KEY (grain, user_id, bucket, model)
);

CREATE TABLE rollup_countries (
  grain    integer NOT NULL,
  user_id  text NOT NULL,
  bucket   timestamptz NOT NULL,
  country  text NOT NULL,
  requests bigint NOT NULL,
  PRIMARY KEY (grain, user_id, bucket, country)
);

-- label: the HTTP status of a failed request ("404"), or the error type of a request that
-- failed after its 200 was sent (a stream cancelled or cut by the upstream).
CREATE TABLE rollup_errors (
  grain    integer NOT NULL,
  user_id  text NOT NULL,
  bucket   timestamptz NOT NULL,
  label    text NOT NULL,
  requests bigint NOT NULL,
  PRIMARY KEY (grain, user_id, bucket, label)
);

-- Ratings by the time they were given; a changed rating moves from one row to another.
CREATE TABLE rollup_feedback (
  grain   integer NOT NULL,
  user_id text NOT NULL,
  bucket  timestamptz NOT NULL,
  rating  integer NOT NULL,
  ratings bigint NOT NULL,
  PRIMARY KEY (grain, user_id, bucket, rating)
);

CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
CREATE INDEX request_logs_generated ON request_logs (generated) WHERE generated;

-- Threats per bucket, type, severity and state, kept by the threat store in the same
-- transaction as each insert, resolution and deletion.
CREATE TABLE rollup_threats (
  grain    integer NOT NULL,
  bucket   timestamptz NOT NULL,
  type     text NOT NULL,
  severity text NOT NULL,
  resolved boolean NOT NULL,
  threats  bigint NOT NULL,
  PRIMARY KEY (grain, bucket, type, severity, resolved)
);
