-- Where an app's buffered events and archives live: 'default' (anywhere Cloudflare places them)
-- or 'eu' (Durable Objects in the EU jurisdiction, R2 archives in the EU bucket). Set when the
-- app is created and never changed: a batcher's buffer cannot move between jurisdictions.
ALTER TABLE apps ADD COLUMN location TEXT NOT NULL DEFAULT 'default' CHECK (location IN ('default', 'eu'));

-- Raw events live at most 90 days (the events table's TTL), so a longer retention promised
-- what nothing kept; the retention job deletes what is older than the app's own setting.
UPDATE apps SET retention_days = 90 WHERE retention_days > 90;
UPDATE apps SET retention_days = 1 WHERE retention_days < 1;

-- One row per app and run of the retention job (workers/cron/retention.cron.ts): what it
-- removed, or why it failed. Rows older than a year are pruned by the job itself.
CREATE TABLE retention_runs (
  app_id          TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  ran_at          INTEGER NOT NULL,
  -- rows with a timestamp before this (epoch ms) were due
  cutoff          INTEGER NOT NULL,
  events_deleted  INTEGER NOT NULL DEFAULT 0,
  -- sessions, profiles and identity rows of people last seen before the cutoff
  person_rows_deleted INTEGER NOT NULL DEFAULT 0,
  error           TEXT,
  PRIMARY KEY (app_id, ran_at)
);
