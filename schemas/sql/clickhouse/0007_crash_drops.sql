-- Crashes the edge counted but did not keep under the crash caps (a crash loop on one device,
-- or an app over its crash budget), per issue and hour: what the issue page shows as dropped.
-- `reason` is the cap that dropped them: 'issue_cap' (one fingerprint) or 'app_cap' (the app).
-- Written by the queue consumer from the AppBatcher's counters, deduplicated by the same
-- tally batch id as pipeline_minutely, so a redelivered counter message counts once.
CREATE TABLE IF NOT EXISTS crash_drops_hourly
(
    app_id      LowCardinality(String),
    hour        DateTime('UTC'),
    fingerprint String,
    reason      LowCardinality(String),
    dropped     UInt64
)
ENGINE = SummingMergeTree(dropped)
PARTITION BY toYYYYMM(hour)
ORDER BY (app_id, hour, fingerprint, reason)
TTL hour + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000;
