-- The schema for all of the seed's data. Times are milliseconds since the epoch (UTC).
-- Rows made by `populate-dashboard-data` carry generated = 1 so that --clear removes only them.

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  email         TEXT NOT NULL UNIQUE,
  password_hash TEXT,
  name          TEXT NOT NULL DEFAULT '',
  avatar_url    TEXT,
  provider      TEXT NOT NULL DEFAULT 'email',
  role          TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
  is_active     INTEGER NOT NULL DEFAULT 1,
  created_at    INTEGER NOT NULL,
  last_login_at INTEGER,
  generated     INTEGER NOT NULL DEFAULT 0
);

-- An account at an identity provider linked to a user (Google, GitHub, Apple, OIDC).
CREATE TABLE identities (
  provider   TEXT NOT NULL,
  subject    TEXT NOT NULL,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  email      TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (provider, subject)
);
CREATE INDEX identities_user ON identities (user_id);

-- One sign-in = one refresh-token family = one user session; its usage accumulates here.
CREATE TABLE sessions (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  provider      TEXT NOT NULL,
  ip            TEXT,
  user_agent    TEXT,
  country       TEXT,
  created_at    INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  revoked_at    INTEGER,
  request_count INTEGER NOT NULL DEFAULT 0,
  total_tokens  INTEGER NOT NULL DEFAULT 0,
  total_cost    REAL NOT NULL DEFAULT 0,
  generated     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_created ON sessions (created_at);

CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE api_keys (
  id           TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  prefix       TEXT NOT NULL,
  key_hash     TEXT NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  expires_at   INTEGER,
  revoked_at   INTEGER
);
CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE request_logs (
  id                INTEGER PRIMARY KEY,
  request_id        TEXT NOT NULL,
  created_at        INTEGER NOT NULL,
  method            TEXT NOT NULL,
  path              TEXT NOT NULL,
  status            INTEGER NOT NULL,
  latency_ms        REAL NOT NULL,
  user_id           TEXT,
  api_key_id        TEXT,
  session_id        TEXT,
  model             TEXT,
  upstream          TEXT,
  completion_id     TEXT,
  prompt_tokens     INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  total_tokens      INTEGER NOT NULL DEFAULT 0,
  ttft_ms           REAL,
  cost              REAL NOT NULL DEFAULT 0,
  country           TEXT,
  ip                TEXT,
  user_agent        TEXT,
  error_type        TEXT,
  outcome           TEXT NOT NULL CHECK (outcome IN ('ok', 'client_error', 'server_error', 'cancelled', 'upstream_error')),
  generated         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX request_logs_created ON request_logs (created_at);
CREATE INDEX request_logs_user_created ON request_logs (user_id, created_at);
CREATE INDEX request_logs_completion ON request_logs (completion_id) WHERE completion_id IS NOT NULL;

CREATE TABLE feedback (
  id            INTEGER PRIMARY KEY,
  completion_id TEXT NOT NULL UNIQUE,
  user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  rating        INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
  comment       TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  generated     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX feedback_created ON feedback (created_at);
CREATE INDEX feedback_user ON feedback (user_id, created_at);

CREATE TABLE threats (
  id          INTEGER PRIMARY KEY,
  type        TEXT NOT NULL,
  severity    TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  user_id     TEXT,
  api_key_id  TEXT,
  address     TEXT,
  detail      TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  resolved    INTEGER NOT NULL DEFAULT 0,
  resolved_by TEXT,
  resolved_at INTEGER,
  generated   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX threats_created ON threats (created_at);
CREATE INDEX threats_open ON threats (resolved, severity);

-- The seed's daily per-model aggregate (ModelUsageStats); day is 'YYYY-MM-DD' UTC.
CREATE TABLE model_usage_daily (
  day               TEXT NOT NULL,
  model             TEXT NOT NULL,
  requests          INTEGER NOT NULL DEFAULT 0,
  errors            INTEGER NOT NULL DEFAULT 0,
  prompt_tokens     INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cost              REAL NOT NULL DEFAULT 0,
  latency_ms_sum    REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (day, model)
);
