-- Filters and the users and sessions views.
-- 1. The minute and page rollups of 0004 gain the dimensions dashboards filter by (event,
--    platform, country); rows stored before this migration keep '' in the new columns. Daily
--    users and sessions by platform and country get a table of their own.
-- 2. Session summaries and user profiles: one row per session and per user after merges, kept
--    365 days, so the sessions and users views never scan raw events for their lists.
-- Each view is dropped and created again with its new query: apply this migration before the
-- queue consumer writes, as `npm start` and the deploy steps do.

ALTER TABLE events_minutely
    ADD COLUMN IF NOT EXISTS event LowCardinality(String) AFTER type,
    ADD COLUMN IF NOT EXISTS platform LowCardinality(String) AFTER event,
    ADD COLUMN IF NOT EXISTS country LowCardinality(String) AFTER platform,
    MODIFY ORDER BY (app_id, minute, type, event, platform, country);

DROP VIEW IF EXISTS events_minutely_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_minutely_mv TO events_minutely AS
SELECT app_id, toStartOfMinute(timestamp) AS minute, type, event, platform, country, count() AS events
FROM events
GROUP BY app_id, minute, type, event, platform, country;

ALTER TABLE pages_hourly
    ADD COLUMN IF NOT EXISTS platform LowCardinality(String) AFTER path,
    ADD COLUMN IF NOT EXISTS country LowCardinality(String) AFTER platform,
    MODIFY ORDER BY (app_id, hour, type, path, platform, country);

DROP VIEW IF EXISTS pages_hourly_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS pages_hourly_mv TO pages_hourly AS
SELECT app_id, toStartOfHour(timestamp) AS hour, type, path, platform, country, count() AS views
FROM events
WHERE type IN ('page', 'screen')
GROUP BY app_id, hour, type, path, platform, country;

-- Distinct users and sessions per day by platform and country, for filtered views. The
-- unfiltered ones keep reading users_daily, whose one row per app and day merges faster.
CREATE TABLE IF NOT EXISTS users_daily_dims
(
    app_id   LowCardinality(String),
    day      Date,
    platform LowCardinality(String),
    country  LowCardinality(String),
    users    AggregateFunction(uniq, String),
    sessions AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (app_id, day, platform, country)
TTL day + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO users_daily_dims
SELECT app_id, toDate(timestamp) AS day, platform, country,
       uniqState(if(user_id != '', user_id, anonymous_id)) AS users,
       uniqStateIf(session_id, session_id != '') AS sessions
FROM events
GROUP BY app_id, day, platform, country;

CREATE MATERIALIZED VIEW IF NOT EXISTS users_daily_dims_mv TO users_daily_dims AS
SELECT app_id, toDate(timestamp) AS day, platform, country,
       uniqState(if(user_id != '', user_id, anonymous_id)) AS users,
       uniqStateIf(session_id, session_id != '') AS sessions
FROM events
GROUP BY app_id, day, platform, country;

-- One row per session and day once parts merge; read with min/max/sum and the -Merge functions,
-- grouped by session_id, because rows of one session from different inserts (and days) merge
-- only later. The day in the key lets a view read only the days of its range (and the day
-- before, for sessions that cross midnight). A page or screen view is a "view"; a track event
-- is an "action". Entry and exit are the first and last page or screen of the session.
CREATE TABLE IF NOT EXISTS sessions
(
    app_id       LowCardinality(String),
    day          Date,
    session_id   String,
    started      SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    ended        SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    events       SimpleAggregateFunction(sum, UInt64),
    views        SimpleAggregateFunction(sum, UInt64),
    actions      SimpleAggregateFunction(sum, UInt64),
    crashes      SimpleAggregateFunction(sum, UInt64),
    user_id      SimpleAggregateFunction(max, String),
    anonymous_id SimpleAggregateFunction(max, String),
    platform     SimpleAggregateFunction(max, LowCardinality(String)),
    country      SimpleAggregateFunction(max, LowCardinality(String)),
    entry        AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
    exit         AggregateFunction(argMax, String, DateTime64(3, 'UTC')),
    INDEX idx_session session_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (app_id, day, session_id)
TTL day + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO sessions
SELECT app_id, toDate(timestamp) AS day, session_id, min(timestamp), max(timestamp), count(),
       countIf(type IN ('page', 'screen')), countIf(type = 'track'), countIf(type = 'crash'),
       max(user_id), max(anonymous_id), max(platform), max(country),
       argMinStateIf(path, timestamp, type IN ('page', 'screen')),
       argMaxStateIf(path, timestamp, type IN ('page', 'screen'))
FROM events
WHERE session_id != ''
GROUP BY app_id, day, session_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS sessions_mv TO sessions AS
SELECT app_id, toDate(timestamp) AS day, session_id, min(timestamp) AS started, max(timestamp) AS ended, count() AS events,
       countIf(type IN ('page', 'screen')) AS views, countIf(type = 'track') AS actions, countIf(type = 'crash') AS crashes,
       max(user_id) AS user_id, max(anonymous_id) AS anonymous_id, max(platform) AS platform, max(country) AS country,
       argMinStateIf(path, timestamp, type IN ('page', 'screen')) AS entry,
       argMaxStateIf(path, timestamp, type IN ('page', 'screen')) AS exit
FROM events
WHERE session_id != ''
GROUP BY app_id, day, session_id;

-- One row per user once parts merge: the user id, or the anonymous id until one is known,
-- with what the users list shows and filters by. A profile's traits, anonymous ids and devices
-- are read for that one user from the raw events (bloom-indexed ids), which keeps this view
-- cheap on every insert.
CREATE TABLE IF NOT EXISTS user_profiles
(
    app_id     LowCardinality(String),
    user_key   String,
    first_seen SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_seen  SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    events     SimpleAggregateFunction(sum, UInt64),
    user_id    SimpleAggregateFunction(max, String),
    sessions   AggregateFunction(uniq, String),
    platform   AggregateFunction(argMax, String, DateTime64(3, 'UTC')),
    country    AggregateFunction(argMax, String, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (app_id, user_key)
TTL toDateTime(last_seen) + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO user_profiles
SELECT app_id, if(user_id != '', user_id, anonymous_id) AS user_key, min(timestamp), max(timestamp), count(), max(user_id),
       uniqStateIf(session_id, session_id != ''),
       argMaxState(toString(platform), timestamp),
       argMaxState(toString(country), timestamp)
FROM events
WHERE user_id != '' OR anonymous_id != ''
GROUP BY app_id, user_key;

CREATE MATERIALIZED VIEW IF NOT EXISTS user_profiles_mv TO user_profiles AS
SELECT app_id, if(e.user_id != '', e.user_id, e.anonymous_id) AS user_key, min(timestamp) AS first_seen, max(timestamp) AS last_seen,
       count() AS events, max(e.user_id) AS user_id,
       uniqStateIf(e.session_id, e.session_id != '') AS sessions,
       argMaxState(toString(e.platform), timestamp) AS platform,
       argMaxState(toString(e.country), timestamp) AS country
FROM events AS e
WHERE e.user_id != '' OR e.anonymous_id != ''
GROUP BY app_id, user_key;
