-- Automatic sharding (workers/apps/shards.ts, decision record 0035): a shard that takes more
-- events than SHARD_HOT_EVENTS_PER_S over a window raises its app's shard count the way a saved
-- setting does. On unless the app turns it off; it only ever raises the count.
ALTER TABLE apps ADD COLUMN auto_shards INTEGER NOT NULL DEFAULT 1;
