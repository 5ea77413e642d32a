-- AppBatcher shards whose oldest buffered event is older than BUFFER_STALE_MS. A shard writes
-- its row when it becomes stale and deletes it when it recovers, never per event; `/ready` and
-- the dashboard's Pipeline view read it. Times are epoch milliseconds.
CREATE TABLE shard_health (
  app_id TEXT NOT NULL,
  shard INTEGER NOT NULL,
  stale_since INTEGER NOT NULL,
  oldest_at INTEGER NOT NULL,
  PRIMARY KEY (app_id, shard)
);
