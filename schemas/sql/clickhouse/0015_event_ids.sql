-- Every stored messageId for two days, sorted by its hash: the sink looks up the ids an
-- AppBatcher could not rule out as seen before (docs/decisions/0021) with a primary-key lookup
-- each, instead of a scan of `events`. The batch id tells a copy stored by another batch from
-- the batch's own rows when an insert whose answer was lost is sent again. Two days cover the
-- 24-hour dedup window with a day to spare; whole days' parts are dropped, never rewritten.
CREATE TABLE IF NOT EXISTS event_ids
(
    app_id      LowCardinality(String),
    id_hash     UInt64,
    message_id  String,
    batch_id    String,
    inserted_at DateTime('UTC')
)
ENGINE = MergeTree
PARTITION BY toDate(inserted_at)
ORDER BY (app_id, id_hash)
TTL inserted_at + INTERVAL 2 DAY
SETTINGS index_granularity = 1024, ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS event_ids_mv TO event_ids AS
SELECT app_id, cityHash64(message_id) AS id_hash, message_id, batch_id, now() AS inserted_at
FROM events;
