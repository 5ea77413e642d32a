-- Dashboard cards' latest results, shared by every isolate and data centre, and the dashboards
-- the minute cron keeps warm (docs/decisions/0032-dashboards-kept-warm.md). Times are epoch ms.

-- One row per card definition: `key` is the SHA-256 (hex) of the card's cache key (organisation,
-- app, insight type and definition under the dashboard's scope), `span` the range's bounds it was
-- computed for, `value` the result as JSON. Rows are dropped a day after they were computed, when
-- the app is purged, and when a person's deletion of the app completes.
CREATE TABLE card_results (
  key         TEXT PRIMARY KEY,
  org_id      TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  app_id      TEXT NOT NULL,
  span        TEXT NOT NULL,
  computed_at INTEGER NOT NULL,
  value       TEXT NOT NULL
);

CREATE INDEX card_results_app ON card_results(app_id);
CREATE INDEX card_results_computed ON card_results(computed_at);

-- `viewed_at`: the last time someone opened the dashboard (written at most once an hour);
-- `warmed_at`: when the cron last took it to compute its cards.
ALTER TABLE dashboards ADD COLUMN viewed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dashboards ADD COLUMN warmed_at INTEGER NOT NULL DEFAULT 0;

CREATE INDEX dashboards_warm ON dashboards(warmed_at, viewed_at);
