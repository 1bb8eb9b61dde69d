-- The response cache (CACHE_TTL_SECONDS): a request answered from it is logged with `cached` set,
-- cost 0, and in `cost_saved` what its tokens would have cost (MODEL_PRICES). The traffic rollup
-- counts, per bucket, the chat completions (requests that named a model: the hit rate's
-- denominator), the cache hits among them and the cost they saved.
ALTER TABLE request_logs ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;
ALTER TABLE request_logs ADD COLUMN cost_saved REAL NOT NULL DEFAULT 0;
ALTER TABLE rollup_traffic ADD COLUMN completions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rollup_traffic ADD COLUMN cache_hits INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rollup_traffic ADD COLUMN cost_saved REAL NOT NULL DEFAULT 0;

-- The completions logged before this migration, so that a range spanning it has the right hit
-- rate (rows already pruned by LOG_RETENTION_DAYS cannot be counted; nothing was cached then).
WITH grains (grain) AS (VALUES (3600000), (86400000)),
completed AS (
  SELECT g.grain, r.user_id, r.created_at - r.created_at % g.grain AS bucket, count(*) AS n
    FROM request_logs r, grains g WHERE r.model IS NOT NULL AND r.user_id IS NOT NULL GROUP BY 1, 2, 3
  UNION ALL
  SELECT g.grain, '', r.created_at - r.created_at % g.grain, count(*)
    FROM request_logs r, grains g WHERE r.model IS NOT NULL GROUP BY 1, 2, 3
)
UPDATE rollup_traffic SET completions = c.n
  FROM completed c
 WHERE rollup_traffic.grain = c.grain AND rollup_traffic.user_id = c.user_id AND rollup_traffic.bucket = c.bucket;
