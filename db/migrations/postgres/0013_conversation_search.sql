-- Nothing to do on PostgreSQL: its search index over message text is 0012's pg_trgm index. The
-- number is kept so that both dialects list the same migrations (copy-data compares them).
SELECT 1;
