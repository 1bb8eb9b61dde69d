-- No query reads request_logs by (user_id, created_at): a user's rows are read by (user_id, id)
-- (request_logs_user_id, 0005), times alone by request_logs_created. Every logged request paid
-- to keep this index; it goes.
DROP INDEX request_logs_user_created;
