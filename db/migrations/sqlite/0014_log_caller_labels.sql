-- A chat request's own labels, as its caller sent them (OpenAI's `user` and `metadata`), kept on
-- its log row: `end_user` at most 256 characters, `metadata` a JSON object of at most 16 string
-- pairs (keys up to 64 characters, values up to 512), both checked before the request is served.
ALTER TABLE request_logs ADD COLUMN end_user TEXT;
ALTER TABLE request_logs ADD COLUMN metadata TEXT;
