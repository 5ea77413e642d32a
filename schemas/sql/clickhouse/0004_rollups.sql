-- Rollups that dashboards and alerts read instead of scanning raw events. Each is filled by a
-- materialized view in the same insert as the events, kept 365 days. The deduplication window
-- makes a retried insert (same insert_deduplication_token) count once here too.
-- Existing events are backfilled before each view starts: apply this migration before the
-- queue consumer writes, as `npm start` and the deploy steps do.

-- Counts per hour by the dimensions overview charts and top lists group by.
CREATE TABLE IF NOT EXISTS events_hourly
(
    app_id      LowCardinality(String),
    hour        DateTime('UTC'),
    type        LowCardinality(String),
    event       LowCardinality(String),
    platform    LowCardinality(String),
    country     LowCardinality(String),
    app_version LowCardinality(String),
    events      UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (app_id, hour, type, event, platform, country, app_version)
TTL hour + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO events_hourly
SELECT app_id, toStartOfHour(timestamp) AS hour, type, event, platform, country, app_version, count() AS events
FROM events
GROUP BY app_id, hour, type, event, platform, country, app_version;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_hourly_mv TO events_hourly AS
SELECT app_id, toStartOfHour(timestamp) AS hour, type, event, platform, country, app_version, count() AS events
FROM events
GROUP BY app_id, hour, type, event, platform, country, app_version;

-- Counts per minute by type: live rates and short-window alerts.
CREATE TABLE IF NOT EXISTS events_minutely
(
    app_id LowCardinality(String),
    minute DateTime('UTC'),
    type   LowCardinality(String),
    events UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (app_id, minute, type)
TTL minute + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO events_minutely
SELECT app_id, toStartOfMinute(timestamp) AS minute, type, count() AS events
FROM events
GROUP BY app_id, minute, type;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_minutely_mv TO events_minutely AS
SELECT app_id, toStartOfMinute(timestamp) AS minute, type, count() AS events
FROM events
GROUP BY app_id, minute, type;

-- Page and screen views per hour by path.
CREATE TABLE IF NOT EXISTS pages_hourly
(
    app_id LowCardinality(String),
    hour   DateTime('UTC'),
    type   LowCardinality(String),
    path   String,
    views  UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (app_id, hour, type, path)
TTL hour + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO pages_hourly
SELECT app_id, toStartOfHour(timestamp) AS hour, type, path, count() AS views
FROM events
WHERE type IN ('page', 'screen')
GROUP BY app_id, hour, type, path;

CREATE MATERIALIZED VIEW IF NOT EXISTS pages_hourly_mv TO pages_hourly AS
SELECT app_id, toStartOfHour(timestamp) AS hour, type, path, count() AS views
FROM events
WHERE type IN ('page', 'screen')
GROUP BY app_id, hour, type, path;

-- Distinct users (user id, else anonymous id), sessions and users with a fatal crash per day,
-- as mergeable states: uniqMerge over several days counts each user once.
CREATE TABLE IF NOT EXISTS users_daily
(
    app_id        LowCardinality(String),
    day           Date,
    users         AggregateFunction(uniq, String),
    sessions      AggregateFunction(uniq, String),
    crashed_users AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (app_id, day)
TTL day + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO users_daily
SELECT app_id, toDate(timestamp) AS day,
       uniqState(if(user_id != '', user_id, anonymous_id)) AS users,
       uniqStateIf(session_id, session_id != '') AS sessions,
       uniqStateIf(if(user_id != '', user_id, anonymous_id), type = 'crash' AND crash_fatal = 1) AS crashed_users
FROM events
GROUP BY app_id, day;

CREATE MATERIALIZED VIEW IF NOT EXISTS users_daily_mv TO users_daily AS
SELECT app_id, toDate(timestamp) AS day,
       uniqState(if(user_id != '', user_id, anonymous_id)) AS users,
       uniqStateIf(session_id, session_id != '') AS sessions,
       uniqStateIf(if(user_id != '', user_id, anonymous_id), type = 'crash' AND crash_fatal = 1) AS crashed_users
FROM events
GROUP BY app_id, day;
