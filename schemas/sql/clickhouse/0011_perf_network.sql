-- Performance and network monitoring: the columns the edge now fills, and the two rollups every
-- perf and network view reads, so 30 days answer from sketches instead of raw events.
--
-- row_format: which encoding the edge wrote the row in (workers/queue/sink.ts reads rows of the
-- earlier one by name); rows stored before it are 1.
-- path_template: the page path (or screen) with ids, UUIDs and hashes collapsed (`/orders/:id`);
-- net_template the same for a network call's path, after the app's own URL templates.
-- net_outcome: ok, client_error, server_error, failed or timeout (schemas/perf.ts).
ALTER TABLE events ADD COLUMN IF NOT EXISTS row_format UInt8 DEFAULT 1;
ALTER TABLE events ADD COLUMN IF NOT EXISTS path_template String CODEC(ZSTD(1));
ALTER TABLE events ADD COLUMN IF NOT EXISTS net_template String CODEC(ZSTD(1));
ALTER TABLE events ADD COLUMN IF NOT EXISTS net_outcome LowCardinality(String);
ALTER TABLE events ADD COLUMN IF NOT EXISTS net_request_bytes UInt64;
ALTER TABLE events ADD COLUMN IF NOT EXISTS net_response_bytes UInt64;

-- Perf metrics per hour: percentiles as quantilesBFloat16 states (a count per value truncated to
-- 8 significant bits: at most 0.78 % under the nearest-rank value, rank ⌈p·n⌉, for CLS scores as for
-- minutes; merges add counts, so a 30-day percentile is the same however the parts merged; where
-- quantilesDD's error measured up to 3 % on values under 1, bench/README.md), and, for the
-- web vitals, how many values fell in the good and poor bands (needs-improvement is the rest).
-- The thresholds are the published ones, as in schemas/perf.ts VITALS.
-- Read with quantilesBFloat16Merge(0.5, 0.75, 0.95, 0.99)(q) and sum(n), sum(good), sum(poor)
-- grouped by what the view shows: rows of one group from different inserts merge only later.
--
-- One view serves every perf screen (vitals by page, release, platform, browser, device class
-- and country; metric pages; releases; span breakdowns), at one part per insert, over perf rows
-- only. Spans keep their transaction's name (`txn`) so a transaction's breakdown by span op
-- reads its own rows. Key: the metric first, so a metric's page reads only its rows.
-- Rows without a path template (stored before 0011) group by their path.
CREATE TABLE IF NOT EXISTS perf_hourly
(
    app_id       LowCardinality(String),
    metric       LowCardinality(String),
    hour         DateTime('UTC'),
    kind         LowCardinality(String),
    txn          String,
    unit         LowCardinality(String),
    platform     LowCardinality(String),
    app_version  LowCardinality(String),
    device_class LowCardinality(String),
    browser      LowCardinality(String),
    country      LowCardinality(String),
    page         String,
    n            SimpleAggregateFunction(sum, UInt64),
    total        SimpleAggregateFunction(sum, Float64),
    good         SimpleAggregateFunction(sum, UInt64),
    poor         SimpleAggregateFunction(sum, UInt64),
    q            AggregateFunction(quantilesBFloat16(0.5, 0.75, 0.95, 0.99), Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (app_id, metric, hour, kind, txn, unit, platform, app_version, device_class, browser, country, page)
TTL hour + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO perf_hourly
SELECT app_id, perf_metric AS metric, toStartOfHour(timestamp) AS hour, kind, txn, perf_unit AS unit, platform, app_version, device_class, browser, country, page,
       count() AS n, sum(perf_value) AS total, countIf(perf_value <= bands.1) AS good, countIf(perf_value > bands.2) AS poor,
       quantilesBFloat16State(0.5, 0.75, 0.95, 0.99)(perf_value) AS q
FROM
(
    SELECT app_id, perf_metric, timestamp, perf_unit, platform, app_version, browser, country, perf_value,
           JSONExtractString(properties, 'kind') AS kind,
           if(kind = 'span', JSONExtractString(properties, 'transaction'), '') AS txn,
           if(path_template != '', path_template, path) AS page,
           lower(toString(device_type)) AS dt,
           multiIf(dt IN ('tablet', 'ipad'), 'tablet',
                   dt IN ('mobile', 'phone', 'smartphone', 'handset', 'ios', 'android'), 'mobile',
                   dt IN ('desktop', 'pc', 'laptop', 'computer'), 'desktop',
                   platform IN ('ios', 'android', 'react-native'), 'mobile',
                   platform = 'web', 'desktop', '') AS device_class,
           multiIf(perf_metric = 'LCP', (2500., 4000.), perf_metric = 'INP', (200., 500.), perf_metric = 'CLS', (0.1, 0.25),
                   perf_metric = 'FCP', (1800., 3000.), perf_metric = 'TTFB', (800., 1800.), (nan, nan)) AS bands
    FROM events
    WHERE type = 'perf'
)
GROUP BY app_id, metric, hour, kind, txn, unit, platform, app_version, device_class, browser, country, page;

CREATE MATERIALIZED VIEW IF NOT EXISTS perf_hourly_mv TO perf_hourly AS
SELECT app_id, perf_metric AS metric, toStartOfHour(timestamp) AS hour, kind, txn, perf_unit AS unit, platform, app_version, device_class, browser, country, page,
       count() AS n, sum(perf_value) AS total, countIf(perf_value <= bands.1) AS good, countIf(perf_value > bands.2) AS poor,
       quantilesBFloat16State(0.5, 0.75, 0.95, 0.99)(perf_value) AS q
FROM
(
    SELECT app_id, perf_metric, timestamp, perf_unit, platform, app_version, browser, country, perf_value,
           JSONExtractString(properties, 'kind') AS kind,
           if(kind = 'span', JSONExtractString(properties, 'transaction'), '') AS txn,
           if(path_template != '', path_template, path) AS page,
           lower(toString(device_type)) AS dt,
           multiIf(dt IN ('tablet', 'ipad'), 'tablet',
                   dt IN ('mobile', 'phone', 'smartphone', 'handset', 'ios', 'android'), 'mobile',
                   dt IN ('desktop', 'pc', 'laptop', 'computer'), 'desktop',
                   platform IN ('ios', 'android', 'react-native'), 'mobile',
                   platform = 'web', 'desktop', '') AS device_class,
           multiIf(perf_metric = 'LCP', (2500., 4000.), perf_metric = 'INP', (200., 500.), perf_metric = 'CLS', (0.1, 0.25),
                   perf_metric = 'FCP', (1800., 3000.), perf_metric = 'TTFB', (800., 1800.), (nan, nan)) AS bands
    FROM events
    WHERE type = 'perf'
)
GROUP BY app_id, metric, hour, kind, txn, unit, platform, app_version, device_class, browser, country, page;

-- Network calls per hour and endpoint (method, host, path template), by status code and outcome
-- (so the endpoint page shows its status distribution and the list its 4xx, 5xx, failed and
-- timeout rates), release and platform: latency percentiles as quantilesBFloat16 states, and the bytes
-- sent and received. Read with sum(n), sum(req_bytes), sum(resp_bytes) and
-- quantilesBFloat16Merge(0.5, 0.95, 0.99)(q). Key: the hour after the app, because the list of
-- endpoints reads them all for its range. Rows stored before 0011 group by their path and take
-- their outcome from the status (no status: failed).
CREATE TABLE IF NOT EXISTS network_hourly
(
    app_id      LowCardinality(String),
    hour        DateTime('UTC'),
    host        LowCardinality(String),
    method      LowCardinality(String),
    template    String,
    status      UInt16,
    outcome     LowCardinality(String),
    platform    LowCardinality(String),
    app_version LowCardinality(String),
    n           SimpleAggregateFunction(sum, UInt64),
    req_bytes   SimpleAggregateFunction(sum, UInt64),
    resp_bytes  SimpleAggregateFunction(sum, UInt64),
    q           AggregateFunction(quantilesBFloat16(0.5, 0.95, 0.99), Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (app_id, hour, host, method, template, status, outcome, platform, app_version)
TTL hour + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO network_hourly
SELECT app_id, toStartOfHour(timestamp) AS hour, net_host AS host, net_method AS method,
       if(net_template != '', net_template, net_path) AS template, net_status AS status,
       if(net_outcome != '', toString(net_outcome), multiIf(net_status >= 500, 'server_error', net_status >= 400, 'client_error', net_status > 0, 'ok', 'failed')) AS outcome,
       platform, app_version,
       count() AS n, sum(net_request_bytes) AS req_bytes, sum(net_response_bytes) AS resp_bytes,
       quantilesBFloat16State(0.5, 0.95, 0.99)(duration_ms) AS q
FROM events
WHERE type = 'network'
GROUP BY app_id, hour, host, method, template, status, outcome, platform, app_version;

CREATE MATERIALIZED VIEW IF NOT EXISTS network_hourly_mv TO network_hourly AS
SELECT app_id, toStartOfHour(timestamp) AS hour, net_host AS host, net_method AS method,
       if(net_template != '', net_template, net_path) AS template, net_status AS status,
       if(net_outcome != '', toString(net_outcome), multiIf(net_status >= 500, 'server_error', net_status >= 400, 'client_error', net_status > 0, 'ok', 'failed')) AS outcome,
       platform, app_version,
       count() AS n, sum(net_request_bytes) AS req_bytes, sum(net_response_bytes) AS resp_bytes,
       quantilesBFloat16State(0.5, 0.95, 0.99)(duration_ms) AS q
FROM events
WHERE type = 'network'
GROUP BY app_id, hour, host, method, template, status, outcome, platform, app_version;
