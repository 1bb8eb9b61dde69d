-- The audit trail (issue 18): who did what administrative or security-relevant act, to what,
-- when, from where, in which request, with the values before and after (JSON text). Entries
-- outlive the users they name: actor_user_id and target_id are plain text, never foreign keys
-- (a deleted user's acts stay on record). Append-only: the trigger refuses every UPDATE; the
-- only DELETE is retention's (AUDIT_RETENTION_DAYS), in code. AUTOINCREMENT: an id is never
-- given twice, even after retention removed the newest rows, so a cursor stays meaningful.
CREATE TABLE audit_log (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  at            INTEGER NOT NULL,
  action        TEXT NOT NULL,
  actor_user_id TEXT,
  actor_email   TEXT,
  target_type   TEXT,
  target_id     TEXT,
  ip            TEXT,
  request_id    TEXT,
  before        TEXT,
  after         TEXT
);
CREATE INDEX audit_log_by_at ON audit_log (at);
CREATE INDEX audit_log_by_action ON audit_log (action, id);
CREATE INDEX audit_log_by_actor ON audit_log (actor_user_id, id);
CREATE INDEX audit_log_by_target ON audit_log (target_type, target_id, id);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: entries are never changed');
END;
