-- Which tally batches' capped crashes are already in `crash_drops_hourly`, so a redelivered
-- counter message counts once there too. The consumer writes a tally batch in two inserts
-- (its crash drops, then its counters into `pipeline_minutely`); either may fail alone, so each
-- table records its own part in `ingest_batches`: the drops under `crash_drops:<batch id>`,
-- the counters under the batch id itself. Like `pipeline_minutely.batch_id`, the column means
-- nothing once parts merge.
ALTER TABLE crash_drops_hourly ADD COLUMN IF NOT EXISTS batch_id String DEFAULT '';

CREATE MATERIALIZED VIEW IF NOT EXISTS crash_drops_batches_mv TO ingest_batches AS
SELECT app_id, concat('crash_drops:', crash_drops_hourly.batch_id) AS batch_id, count() AS rows, now() AS inserted_at
FROM crash_drops_hourly
WHERE crash_drops_hourly.batch_id != ''
GROUP BY app_id, crash_drops_hourly.batch_id;
