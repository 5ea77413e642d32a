-- Pipeline health: what happened to each app's events, per minute, kept 365 days.
-- `pipeline_minutely` counts by stage (and reason, for the stages that have one):
--   accepted, deduplicated, rejected (events, by reason code), refused (whole requests, by
--   reason code), flushed: tallied by the AppBatcher and shipped through the events queue;
--   inserted, redacted (values redacted, sum of `redactions`): filled below from `events`;
--   dead_lettered (events, by reason): written by the queue consumer.
-- `batch_id` is set on rows the consumer inserts from shipped tallies, so a tally batch
-- already stored is skipped like an event batch (`pipeline_batches_mv` records it in
-- `ingest_batches`); it means nothing once parts merge.
-- Counting starts when this migration is applied: the stages before ClickHouse left no history.
CREATE TABLE IF NOT EXISTS pipeline_minutely
(
    app_id   LowCardinality(String),
    minute   DateTime('UTC'),
    stage    LowCardinality(String),
    reason   LowCardinality(String),
    n        UInt64,
    batch_id String DEFAULT ''
)
ENGINE = SummingMergeTree(n)
PARTITION BY toYYYYMM(minute)
ORDER BY (app_id, minute, stage, reason)
TTL minute + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS pipeline_batches_mv TO ingest_batches AS
SELECT app_id, batch_id, count() AS rows, now() AS inserted_at
FROM pipeline_minutely
WHERE batch_id != ''
GROUP BY app_id, batch_id;

-- Rows stored, per minute of their arrival in ClickHouse.
CREATE MATERIALIZED VIEW IF NOT EXISTS pipeline_inserted_mv TO pipeline_minutely AS
SELECT app_id, toStartOfMinute(inserted_at) AS minute, 'inserted' AS stage, '' AS reason, count() AS n
FROM events
GROUP BY app_id, minute;

CREATE MATERIALIZED VIEW IF NOT EXISTS pipeline_redacted_mv TO pipeline_minutely AS
SELECT app_id, toStartOfMinute(inserted_at) AS minute, 'redacted' AS stage, '' AS reason, sum(redactions) AS n
FROM events
WHERE redactions > 0
GROUP BY app_id, minute;

-- Ingest-to-storage lag (inserted_at - received_at, milliseconds) per minute of arrival, as
-- mergeable states: quantilesTDigestMerge(0.5, 0.95)(lag) over any span of minutes.
CREATE TABLE IF NOT EXISTS pipeline_lag_minutely
(
    app_id LowCardinality(String),
    minute DateTime('UTC'),
    lag    AggregateFunction(quantilesTDigest(0.5, 0.95), Float64),
    max_lag SimpleAggregateFunction(max, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (app_id, minute)
TTL minute + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS pipeline_lag_mv TO pipeline_lag_minutely AS
SELECT app_id, toStartOfMinute(inserted_at) AS minute,
       quantilesTDigestState(0.5, 0.95)(toFloat64(greatest(0, toUnixTimestamp64Milli(inserted_at) - toUnixTimestamp64Milli(received_at)))) AS lag,
       max(toFloat64(greatest(0, toUnixTimestamp64Milli(inserted_at) - toUnixTimestamp64Milli(received_at)))) AS max_lag
FROM events
GROUP BY app_id, minute;
