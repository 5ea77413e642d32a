-- Who was active, hour by hour: one row per app, hour, country and pair of ids (user id,
-- anonymous id) once parts merge, with the types of event they sent as bits. Insights that only
-- ask whether a person was there (unique people in a trend, stickiness's active days) read this
-- instead of raw events: its rows grow with active person-hours, not with events, and a person's
-- hour holds as many events as they send (docs/decisions/0031-people-hourly.md).
-- Bit i of `types` is the type at position i (from 1) of the array below, which is EVENT_TYPES of
-- schemas/events.ts; a type the array does not know sets bit 0. A test holds the two lists equal,
-- and new types are appended, so stored bits keep their meaning.
-- A row says the ids were present, never how often: a repeated insert or a backfill over rows
-- that are already here changes no answer, so the view needs no insert deduplication.
-- `timestamp` is the hour under the name the insights' range predicate and time buckets use for
-- raw events; readers must ask for whole hours in zones whose hours start on the UTC hour.
-- `ended` is when the hour is over: the app's retention deletes a row once all of it is older.
CREATE TABLE IF NOT EXISTS people_hourly
(
    app_id       LowCardinality(String),
    hour         DateTime('UTC'),
    country      LowCardinality(String),
    anonymous_id String,
    user_id      String,
    types        SimpleAggregateFunction(groupBitOr, UInt16),
    timestamp    DateTime('UTC') ALIAS hour,
    ended        DateTime('UTC') ALIAS hour + INTERVAL 1 HOUR
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (app_id, hour, country, anonymous_id, user_id)
TTL hour + INTERVAL 365 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS people_hourly_mv TO people_hourly AS
SELECT e.app_id AS app_id, toStartOfHour(e.timestamp) AS hour, e.country AS country, e.anonymous_id AS anonymous_id, e.user_id AS user_id,
       groupBitOr(bitShiftLeft(toUInt16(1), indexOf(['track', 'page', 'screen', 'identify', 'alias', 'group', 'crash', 'perf', 'network'], toString(e.type)))) AS types
FROM events AS e
WHERE e.user_id != '' OR e.anonymous_id != ''
GROUP BY app_id, hour, country, anonymous_id, user_id;

-- The view already takes new events; rows it wrote during this backfill are written again, alike.
INSERT INTO people_hourly
SELECT app_id, toStartOfHour(timestamp) AS hour, country, anonymous_id, user_id,
       groupBitOr(bitShiftLeft(toUInt16(1), indexOf(['track', 'page', 'screen', 'identify', 'alias', 'group', 'crash', 'perf', 'network'], toString(type))))
FROM events
WHERE (user_id != '' OR anonymous_id != '') AND timestamp >= now() - INTERVAL 365 DAY
GROUP BY app_id, hour, country, anonymous_id, user_id;
