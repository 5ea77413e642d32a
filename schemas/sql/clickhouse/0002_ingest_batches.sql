-- Which sink batches are already in `events`. Filled by a materialized view in the same
-- insert as the rows themselves, so the consumer can skip a redelivered batch even when
-- the queue regroups messages and the insert deduplication token no longer matches.
CREATE TABLE IF NOT EXISTS ingest_batches
(
    app_id      LowCardinality(String),
    batch_id    String,
    rows        UInt64,
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (app_id, batch_id)
TTL inserted_at + INTERVAL 7 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS ingest_batches_mv TO ingest_batches AS
SELECT app_id, batch_id, count() AS rows, now() AS inserted_at
FROM events
GROUP BY app_id, batch_id;
