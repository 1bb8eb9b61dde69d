-- Whether the account's address was ever proven: by an identity provider's verified email, or
-- by the operator (create-superuser). See db/migrations/sqlite/0004_email_verified.sql.
ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false;
UPDATE users SET email_verified = true
 WHERE password_hash IS NULL OR role = 'admin' OR id IN (SELECT user_id FROM identities);
