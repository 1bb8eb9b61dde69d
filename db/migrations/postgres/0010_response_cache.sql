-- The response cache (CACHE_TTL_SECONDS): a request answered from it is logged with `cached` set,
-- cost 0, and in `cost_saved` what its tokens would have cost (MODEL_PRICES). The traffic rollup
-- counts, per bucket, the chat completions (requests that named a model: the hit rate's
-- denominator), the cache hits among them and the cost they saved.
ALTER TABLE request_logs ADD COLUMN cached boolean NOT NULL DEFAULT false;
ALTER TABLE request_logs ADD COLUMN cost_saved double precision NOT NULL DEFAULT 0;
ALTER TABLE rollup_traffic ADD COLUMN completions bigint NOT NULL DEFAULT 0;
ALTER TABLE rollup_traffic ADD COLUMN cache_hits bigint NOT NULL DEFAULT 0;
ALTER TABLE rollup_traffic ADD COLUMN cost_saved double precision NOT NULL DEFAULT 0;

-- The completions logged before this migration, so that a range spanning it has the right hit
-- rate (rows already pruned by LOG_RETENTION_DAYS cannot be counted; nothing was cached then).
WITH grains (grain) AS (VALUES (3600000), (86400000)),
completed AS (
  SELECT g.grain, r.user_id, date_bin(g.grain * interval '1 millisecond', r.created_at, timestamptz 'epoch') AS bucket, count(*) AS n
    FROM request_logs r, grains g WHERE r.model IS NOT NULL AND r.user_id IS NOT NULL GROUP BY 1, 2, 3
  UNION ALL
  SELECT g.grain, '', date_bin(g.grain * interval '1 millisecond', r.created_at, timestamptz 'epoch'), count(*)
    FROM request_logs r, grains g WHERE r.model IS NOT NULL GROUP BY 1, 2, 3
)
UPDATE rollup_traffic AS t SET completions = c.n
  FROM completed c
 WHERE t.grain = c.grain AND t.user_id = c.user_id AND t.bucket = c.bucket;
