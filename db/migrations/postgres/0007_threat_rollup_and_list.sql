-- On SQLite, this migration drops the triggers that kept rollup_threats: the stores keep it now,
-- on both dialects, as they keep the other rollups (ThreatRollup, src/db/rollups.ts). PostgreSQL
-- never had the triggers (0003 left rollup_threats to the stores from the start).

-- The admin's threat list opens on the open threats, newest first, a page at a time: read
-- straight from this index, at any page. Without it, a page deep in the list walks the primary
-- key backwards past every resolved threat (17 ms for the 500,000th of 1M threats, 0.15 ms with
-- it); threats_open, by severity, still counts them.
CREATE INDEX threats_resolved_id ON threats (resolved, id);
