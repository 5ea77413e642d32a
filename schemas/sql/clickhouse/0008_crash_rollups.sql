-- Crash issues per hour: what the issues list, its sparklines, an issue's occurrences, releases
-- and platforms, and new issues per release read instead of raw crash events. One view, over
-- crash rows only, so other events pay nothing and a crash pays one JSON read of its frames.
-- Read with sum(events), min(first_seen), max(last_seen), uniqMerge(users) and
-- argMaxMerge(latest), grouped by fingerprint: rows of one issue from different inserts merge
-- only later. Kept 365 days like the other rollups.
--
-- Key: the fingerprint before the hour, so an issue page reads only its own rows however long
-- the app's history; the monthly partitions still bound the list to its range, and within them a
-- busy issue's hours fill whole granules that the range skips. Release, platform and environment
-- follow because the list filters by them and the releases page groups by release.
--
-- `latest` is the newest crash's (type, message, culprit): the title and culprit shown. The
-- culprit is the innermost in-app frame, else the innermost frame, as `function (file)` with the
-- file's scheme and host left out; a frame without `inApp` counts as in-app, as the fingerprint
-- has it. `environment` is Sentry's, '' for crashes that did not name one.
-- Existing crashes are backfilled before the view starts: apply this migration before the queue
-- consumer writes, as `npm start` and the deploy steps do.
CREATE TABLE IF NOT EXISTS crash_issues_hourly
(
    app_id      LowCardinality(String),
    fingerprint String,
    hour        DateTime('UTC'),
    app_version LowCardinality(String),
    platform    LowCardinality(String),
    environment LowCardinality(String),
    events      SimpleAggregateFunction(sum, UInt64),
    fatal       SimpleAggregateFunction(sum, UInt64),
    first_seen  SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen   SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    users       AggregateFunction(uniq, String),
    latest      AggregateFunction(argMax, Tuple(String, String, String), DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (app_id, fingerprint, hour, app_version, platform, environment)
TTL hour + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO crash_issues_hourly
SELECT app_id, crash_fingerprint AS fingerprint, toStartOfHour(timestamp) AS hour, app_version, platform,
       JSONExtractString(properties, 'environment') AS environment,
       count() AS events, sum(crash_fatal) AS fatal, min(timestamp) AS first_seen, max(timestamp) AS last_seen,
       uniqStateIf(if(user_id != '', user_id, anonymous_id), user_id != '' OR anonymous_id != '') AS users,
       argMaxState((toString(crash_type), substringUTF8(crash_message, 1, 1024), culprit), timestamp) AS latest
FROM
(
    SELECT *,
           JSONExtractArrayRaw(properties, 'error', 'frames') AS frames,
           arrayFirst(f -> JSONExtract(f, 'inApp', 'Nullable(Bool)') IS NULL OR JSONExtractBool(f, 'inApp'), frames) AS in_app,
           if(in_app != '', in_app, frames[1]) AS top,
           replaceRegexpOne(JSONExtractString(top, 'file'), '^[a-z]+://[^/]+', '') AS top_file,
           JSONExtractString(top, 'function') AS top_function,
           multiIf(top_function != '' AND top_file != '', concat(top_function, ' (', top_file, ')'), top_function != '', top_function, top_file) AS culprit
    FROM events
    WHERE type = 'crash'
)
GROUP BY app_id, fingerprint, hour, app_version, platform, environment;

CREATE MATERIALIZED VIEW IF NOT EXISTS crash_issues_hourly_mv TO crash_issues_hourly AS
SELECT app_id, crash_fingerprint AS fingerprint, toStartOfHour(timestamp) AS hour, app_version, platform,
       JSONExtractString(properties, 'environment') AS environment,
       count() AS events, sum(crash_fatal) AS fatal, min(timestamp) AS first_seen, max(timestamp) AS last_seen,
       uniqStateIf(if(user_id != '', user_id, anonymous_id), user_id != '' OR anonymous_id != '') AS users,
       argMaxState((toString(crash_type), substringUTF8(crash_message, 1, 1024), culprit), timestamp) AS latest
FROM
(
    SELECT *,
           JSONExtractArrayRaw(properties, 'error', 'frames') AS frames,
           arrayFirst(f -> JSONExtract(f, 'inApp', 'Nullable(Bool)') IS NULL OR JSONExtractBool(f, 'inApp'), frames) AS in_app,
           if(in_app != '', in_app, frames[1]) AS top,
           replaceRegexpOne(JSONExtractString(top, 'file'), '^[a-z]+://[^/]+', '') AS top_file,
           JSONExtractString(top, 'function') AS top_function,
           multiIf(top_function != '' AND top_file != '', concat(top_function, ' (', top_file, ')'), top_function != '', top_function, top_file) AS culprit
    FROM events
    WHERE type = 'crash'
)
GROUP BY app_id, fingerprint, hour, app_version, platform, environment;

-- An issue's tags, latest event and affected users come from its raw crashes: this index lets a
-- rare issue's reads skip the granules that hold none of its rows.
ALTER TABLE events ADD INDEX IF NOT EXISTS idx_crash_fingerprint crash_fingerprint TYPE bloom_filter(0.01) GRANULARITY 4;

ALTER TABLE events MATERIALIZE INDEX idx_crash_fingerprint;
