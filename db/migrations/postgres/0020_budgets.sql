-- Budgets (issue 18): what a user, or one of their API keys, may spend per day, per month or in
-- total, in cost and/or tokens. A key's budget carries its user too, so one lookup by user finds
-- every budget a request of theirs counts against. Deleting the user or the key deletes its
-- budgets, and a budget's spend goes with it.
CREATE TABLE budgets (
  id         text PRIMARY KEY,
  user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  api_key_id text REFERENCES api_keys (id) ON DELETE CASCADE,
  period     text NOT NULL CHECK (period IN ('day', 'month', 'total')),
  max_cost   double precision,
  max_tokens bigint,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CHECK (max_cost IS NOT NULL OR max_tokens IS NOT NULL)
);
-- One budget per holder and period.
CREATE UNIQUE INDEX budgets_one_per_period ON budgets (user_id, coalesce(api_key_id, ''), period);

-- What each budget has spent in each of its windows (a day, a month; window_start the epoch for
-- total), added to as requests end.
CREATE TABLE budget_spend (
  budget_id    text NOT NULL REFERENCES budgets (id) ON DELETE CASCADE,
  window_start timestamptz NOT NULL,
  cost         double precision NOT NULL DEFAULT 0,
  tokens       bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (budget_id, window_start)
);
