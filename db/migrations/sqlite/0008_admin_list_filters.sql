-- The admin's lists filtered by a user's role or state, or by a rating, newest first, a page at
-- a time (and their totals): read from these indexes instead of every user or every rating
-- (test/query-plans.test.ts finds no sequential scan behind any admin list).
CREATE INDEX users_role_id ON users (role, id);
CREATE INDEX users_active_id ON users (is_active, id);
CREATE INDEX feedback_rating_id ON feedback (rating, id);
