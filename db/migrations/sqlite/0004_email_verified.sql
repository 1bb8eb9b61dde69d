-- Whether the account's address was ever proven: by an identity provider's verified email, or
-- by the operator (create-superuser). Self-registration with a password proves nothing, so a
-- provider sign-in that proves the address later takes such an account over (see oauth/link.ts).
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
UPDATE users SET email_verified = 1
 WHERE password_hash IS NULL OR role = 'admin' OR id IN (SELECT user_id FROM identities);
