-- rollup_threats is now kept by the stores, as the other rollups are: each change to threat rows
-- (src/db/sqlite/threats.ts, populate.ts) adds its increments, folded in JS by ThreatRollup
-- (src/db/rollups.ts), in the same transaction. The triggers that kept it until now go; what
-- they counted stays, and is exactly what the stores go on counting from.
DROP TRIGGER threats_rollup_insert;
DROP TRIGGER threats_rollup_delete;
DROP TRIGGER threats_rollup_update;

-- The admin's threat list opens on the open threats, newest first, a page at a time: read
-- straight from this index, at any page, instead of sorting every open threat for each page
-- (threats_open, by severity, still counts them).
CREATE INDEX threats_resolved_id ON threats (resolved, id);
