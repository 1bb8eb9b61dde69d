-- The admin's request log filtered by user, newest first, a page at a time: read straight from
-- this index instead of sorting all of that user's rows (0.7 s at 500k of them) for each page.
CREATE INDEX request_logs_user_id ON request_logs (user_id, id);
