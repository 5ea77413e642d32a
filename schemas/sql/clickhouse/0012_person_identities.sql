-- Which person an anonymous id turned out to be: every event that carries both a user id and an
-- anonymous id (an identify call, or any event sent after it) ties the two. Insights count a
-- person once whether they acted before or after being identified, so they read this map
-- instead of scanning 90 days of raw events for it on every query.
-- An anonymous id tied to more than one user id stays with the first (a shared device keeps its
-- first owner's anonymous history; later users are counted by their own user ids).
-- Read with argMinMerge(user_id) grouped by anonymous_id: rows from different inserts merge later.
CREATE TABLE IF NOT EXISTS person_identities
(
    app_id       LowCardinality(String),
    anonymous_id String,
    user_id      AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
    last_seen    SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (app_id, anonymous_id)
TTL toDateTime(last_seen) + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000;

INSERT INTO person_identities
SELECT app_id, anonymous_id, argMinState(user_id, timestamp), max(timestamp)
FROM events
WHERE user_id != '' AND anonymous_id != ''
GROUP BY app_id, anonymous_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS person_identities_mv TO person_identities AS
SELECT e.app_id AS app_id, e.anonymous_id AS anonymous_id, argMinState(e.user_id, e.timestamp) AS user_id, max(e.timestamp) AS last_seen
FROM events AS e
WHERE e.user_id != '' AND e.anonymous_id != ''
GROUP BY app_id, anonymous_id;
