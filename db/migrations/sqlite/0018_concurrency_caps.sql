-- Caps on requests in progress set by admins (issue 18): per user and per API key, overriding
-- MAX_CONCURRENT_REQUESTS. NULL: the server's setting; 0: no cap.
ALTER TABLE users ADD COLUMN max_concurrent_requests INTEGER;
ALTER TABLE api_keys ADD COLUMN max_concurrent_requests INTEGER;
