-- Scheduled exports (workers/exports, docs/decisions/0026-scheduled-exports.md): what an app
-- exports, in which format, how often and where to; and one run per schedule and period, with
-- its attempts, so a failed period is retried by later cron runs and its history stays readable.
CREATE TABLE IF NOT EXISTS export_schedules (
  id           TEXT PRIMARY KEY,
  app_id       TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  -- JSON: {"kind": "events"}
  source       TEXT NOT NULL,
  format       TEXT NOT NULL CHECK (format IN ('csv', 'parquet')),
  frequency    TEXT NOT NULL CHECK (frequency IN ('hourly', 'daily')),
  -- JSON: {"kind": "r2"} or {"kind": "s3", endpoint, bucket, region, accessKeyId, prefix}
  destination  TEXT NOT NULL,
  -- an S3 destination's secret access key, sealed with AES-GCM (workers/lib/seal.ts); never returned
  sealed_secret TEXT,
  enabled      INTEGER NOT NULL DEFAULT 1,
  created_at   INTEGER NOT NULL,
  created_by   TEXT NOT NULL,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS export_schedules_app ON export_schedules (app_id, created_at);

-- period_start is the period's first millisecond (UTC); one row per schedule and period, so a
-- cron run repeated or overlapping never exports a period twice at once.
CREATE TABLE IF NOT EXISTS export_runs (
  id              TEXT PRIMARY KEY,
  schedule_id     TEXT NOT NULL REFERENCES export_schedules(id) ON DELETE CASCADE,
  app_id          TEXT NOT NULL,
  period_start    INTEGER NOT NULL,
  period_end      INTEGER NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('pending', 'running', 'ok', 'retrying', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  rows            INTEGER,
  bytes           INTEGER,
  object_key      TEXT,
  error           TEXT,
  started_at      INTEGER,
  finished_at     INTEGER,
  created_at      INTEGER NOT NULL,
  UNIQUE (schedule_id, period_start)
);
CREATE INDEX IF NOT EXISTS export_runs_schedule ON export_runs (schedule_id, period_start DESC);
CREATE INDEX IF NOT EXISTS export_runs_due ON export_runs (status, next_attempt_at);
