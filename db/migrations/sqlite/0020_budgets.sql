-- Budgets (issue 18): what a user, or one of their API keys, may spend per day, per month or in
-- total, in cost and/or tokens. A key's budget carries its user too, so one lookup by user finds
-- every budget a request of theirs counts against. Deleting the user or the key deletes its
-- budgets, and a budget's spend goes with it.
CREATE TABLE budgets (
  id         TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  api_key_id TEXT REFERENCES api_keys (id) ON DELETE CASCADE,
  period     TEXT NOT NULL CHECK (period IN ('day', 'month', 'total')),
  max_cost   REAL,
  max_tokens INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  CHECK (max_cost IS NOT NULL OR max_tokens IS NOT NULL)
);
-- One budget per holder and period.
CREATE UNIQUE INDEX budgets_one_per_period ON budgets (user_id, coalesce(api_key_id, ''), period);

-- What each budget has spent in each of its windows (a day, a month; window_start 0 for total),
-- added to as requests end.
CREATE TABLE budget_spend (
  budget_id    TEXT NOT NULL REFERENCES budgets (id) ON DELETE CASCADE,
  window_start INTEGER NOT NULL,
  cost         REAL NOT NULL DEFAULT 0,
  tokens       INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (budget_id, window_start)
);
