-- Fewer parts per insert (docs/decisions/0018): every materialized view over `events` writes a
-- part of its own on each insert that gives it rows, so the two views that counted stored rows
-- (`inserted`) and redacted values (`redacted`) into `pipeline_minutely` become one. It writes
-- the same rows as they did: `inserted` per app and minute of arrival, and `redacted` only
-- where the minute's rows carry redactions (a zero `n` is never written).
-- Created before the old views are dropped: an insert between the two statements counts twice
-- rather than not at all; apply it before the queue consumer writes, as `npm start` and the
-- deploy steps do.
CREATE MATERIALIZED VIEW IF NOT EXISTS pipeline_stored_mv TO pipeline_minutely AS
SELECT app_id, minute, s.1 AS stage, '' AS reason, s.2 AS n
FROM
(
    SELECT app_id, toStartOfMinute(inserted_at) AS minute, count() AS inserted, sum(redactions) AS redacted
    FROM events
    GROUP BY app_id, minute
)
ARRAY JOIN arrayFilter(x -> x.2 > 0, [('inserted', toUInt64(inserted)), ('redacted', toUInt64(redacted))]) AS s;

DROP VIEW IF EXISTS pipeline_inserted_mv;
DROP VIEW IF EXISTS pipeline_redacted_mv;
