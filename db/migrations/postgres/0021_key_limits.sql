-- An API key's own limits (issue 18), applied besides its user's: requests per minute per route
-- group (a JSON object such as {"chat": 20, "embeddings": 100}; NULL: none of its own) and
-- tokens per minute (prompt + completion over a sliding minute; NULL: none). Text for the JSON in
-- both dialects, as the key's scopes and models, so that copy-data moves it as it is.
ALTER TABLE api_keys ADD COLUMN rate_limits TEXT;
ALTER TABLE api_keys ADD COLUMN tokens_per_minute INTEGER;
