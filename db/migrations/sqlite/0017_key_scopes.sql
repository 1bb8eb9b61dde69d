-- What an API key may do (issue 18): its scopes (a JSON array of inference, read, manage,
-- admin) and the models it may use (a JSON array of names or globs). NULL scopes: a key made
-- before scopes existed, which keeps every power of its user (shown as a full-power key); NULL
-- models: every model. Text in both dialects, so that copy-data moves them as they are.
ALTER TABLE api_keys ADD COLUMN scopes TEXT;
ALTER TABLE api_keys ADD COLUMN models TEXT;
