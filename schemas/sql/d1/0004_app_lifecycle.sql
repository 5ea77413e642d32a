-- A deleted app stays as a tombstone: its id is never given out again, because ClickHouse keys
-- every row by app id, and its keys are revoked in the same batch. `purged_at` is when its rows
-- were last removed from ClickHouse; the cron purges again until one purge ran a day after the
-- deletion, when no batch of the app can still be on its way.
ALTER TABLE apps ADD COLUMN deleted_at INTEGER;
ALTER TABLE apps ADD COLUMN purged_at INTEGER;

CREATE INDEX apps_deleted ON apps(deleted_at) WHERE deleted_at IS NOT NULL;
