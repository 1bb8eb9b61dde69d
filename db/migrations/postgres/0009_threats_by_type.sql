-- The admin's threat list filtered by type, newest first, a page at a time (and its total): read
-- from this index instead of every threat (test/query-plans.test.ts).
CREATE INDEX threats_type_id ON threats (type, id);
