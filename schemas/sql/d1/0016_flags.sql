-- Feature flags and remote configuration per app (schemas/flags.ts). A flag's current definition
-- is one row; every change is kept in flag_changes (who, when, the definition before and after),
-- which is its version history and audit log, and from which a version is rolled back. The app's
-- configuration (a JSON object) has its versions in app_config_versions, each kept whole.
-- apps.flags_version counts changes to either, so the edge can cache an app's flags and config
-- under (app, version) and notice a change with one small read.
CREATE TABLE IF NOT EXISTS flags (
  app_id      TEXT NOT NULL,
  key         TEXT NOT NULL,
  definition  TEXT NOT NULL,
  version     INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  updated_by  TEXT NOT NULL,
  PRIMARY KEY (app_id, key)
);

CREATE TABLE IF NOT EXISTS flag_changes (
  app_id   TEXT NOT NULL,
  key      TEXT NOT NULL,
  version  INTEGER NOT NULL,
  before   TEXT,
  after    TEXT,
  at       INTEGER NOT NULL,
  by       TEXT NOT NULL,
  PRIMARY KEY (app_id, key, version)
);

CREATE TABLE IF NOT EXISTS app_config_versions (
  app_id   TEXT NOT NULL,
  version  INTEGER NOT NULL,
  config   TEXT NOT NULL,
  at       INTEGER NOT NULL,
  by       TEXT NOT NULL,
  note     TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (app_id, version)
);

ALTER TABLE apps ADD COLUMN flags_version INTEGER NOT NULL DEFAULT 0;
