-- Release health per hour and release: users, sessions, and those a crash ended, from our SDK's
-- sessions (session_id on every event) and from Sentry's session items (`$session` updates and
-- `$sessions` aggregates, docs/decisions/0008-sentry-door.md). Read with uniqMerge(...) and
-- sum(...) grouped by app_version: rows of one release from different inserts merge only later.
--
-- Why a view of its own, at one more part per insert: crash-free rates need distinct users and
-- sessions per release split by whether a fatal crash touched them, which no rollup holds.
-- users_daily_dims (0005) has distinct users and sessions, but by platform and country, not by
-- release; adding the release and four more states to it would multiply its rows for every
-- filtered overview. Raw events would scan every event of the range for each page view.
--
-- Who is a user: the user id, else the anonymous id; for a Sentry `$session`, whose anonymous
-- id is the session id, its `did` (the SDK's user or device id) when it has one. A `$sessions`
-- aggregate names nobody (unless it has a `did`), so it adds sessions, not users.
-- Crashed: our crashes with `fatal`, and a `$session` update with status crashed, unhandled or
-- abnormal. Such a status ends a Sentry session, so "any update crashed" is "the latest update
-- crashed". `$sessions` buckets add their totals to `agg_sessions` and `crashed` to `agg_crashed`.
-- Crash counts and new issues per release come from crash_issues_hourly (0008).
-- `first_seen` (the release's first event of any kind) orders releases whose names are not
-- versions, and tells which releases existed before an issue was resolved "in the next release".
-- Properties are parsed only for Sentry's session rows (if and multiIf evaluate lazily), so
-- other events pay no JSON read here.
-- Existing events are backfilled before the view starts: apply this migration before the queue
-- consumer writes, as `npm start` and the deploy steps do.
CREATE TABLE IF NOT EXISTS release_health_hourly
(
    app_id           LowCardinality(String),
    hour             DateTime('UTC'),
    app_version      LowCardinality(String),
    first_seen       SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    users            AggregateFunction(uniq, String),
    crashed_users    AggregateFunction(uniq, String),
    sessions         AggregateFunction(uniq, String),
    crashed_sessions AggregateFunction(uniq, String),
    agg_sessions     SimpleAggregateFunction(sum, UInt64),
    agg_crashed      SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (app_id, hour, app_version)
TTL hour + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO release_health_hourly
SELECT app_id, toStartOfHour(timestamp) AS hour, app_version,
       min(timestamp) AS first_seen,
       uniqStateIf(user_key, user_key != '') AS users,
       uniqStateIf(user_key, user_key != '' AND crashed) AS crashed_users,
       uniqStateIf(session_id, session_id != '' AND NOT aggregate) AS sessions,
       uniqStateIf(session_id, session_id != '' AND NOT aggregate AND crashed) AS crashed_sessions,
       sum(if(aggregate, JSONExtractUInt(properties, 'exited') + JSONExtractUInt(properties, 'errored') + JSONExtractUInt(properties, 'abnormal') + JSONExtractUInt(properties, 'crashed'), 0)) AS agg_sessions,
       sum(if(aggregate, JSONExtractUInt(properties, 'crashed'), 0)) AS agg_crashed
FROM
(
    SELECT app_id, timestamp, app_version, type, session_id, properties, crash_fatal,
           type = 'track' AND event = '$sessions' AS aggregate,
           type = 'track' AND event = '$session' AS sentry_session,
           multiIf(aggregate, JSONExtractString(properties, 'did'),
                   user_id != '', user_id,
                   sentry_session AND JSONExtractString(properties, 'did') != '', JSONExtractString(properties, 'did'),
                   anonymous_id) AS user_key,
           (type = 'crash' AND crash_fatal = 1)
             OR (sentry_session AND JSONExtractString(properties, 'status') IN ('crashed', 'unhandled', 'abnormal'))
             OR (aggregate AND JSONExtractUInt(properties, 'crashed') > 0) AS crashed
    FROM events
)
GROUP BY app_id, hour, app_version;

CREATE MATERIALIZED VIEW IF NOT EXISTS release_health_hourly_mv TO release_health_hourly AS
SELECT app_id, toStartOfHour(timestamp) AS hour, app_version,
       min(timestamp) AS first_seen,
       uniqStateIf(user_key, user_key != '') AS users,
       uniqStateIf(user_key, user_key != '' AND crashed) AS crashed_users,
       uniqStateIf(session_id, session_id != '' AND NOT aggregate) AS sessions,
       uniqStateIf(session_id, session_id != '' AND NOT aggregate AND crashed) AS crashed_sessions,
       sum(if(aggregate, JSONExtractUInt(properties, 'exited') + JSONExtractUInt(properties, 'errored') + JSONExtractUInt(properties, 'abnormal') + JSONExtractUInt(properties, 'crashed'), 0)) AS agg_sessions,
       sum(if(aggregate, JSONExtractUInt(properties, 'crashed'), 0)) AS agg_crashed
FROM
(
    SELECT app_id, timestamp, app_version, type, session_id, properties, crash_fatal,
           type = 'track' AND event = '$sessions' AS aggregate,
           type = 'track' AND event = '$session' AS sentry_session,
           multiIf(aggregate, JSONExtractString(properties, 'did'),
                   user_id != '', user_id,
                   sentry_session AND JSONExtractString(properties, 'did') != '', JSONExtractString(properties, 'did'),
                   anonymous_id) AS user_key,
           (type = 'crash' AND crash_fatal = 1)
             OR (sentry_session AND JSONExtractString(properties, 'status') IN ('crashed', 'unhandled', 'abnormal'))
             OR (aggregate AND JSONExtractUInt(properties, 'crashed') > 0) AS crashed
    FROM events
)
GROUP BY app_id, hour, app_version;
