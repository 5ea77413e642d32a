-- Routing by device (workers/apps/shards.ts, decision record 0036): a request from one client is
-- one shard's, however many shards its app has. Apps with one shard route by device at once
-- (on one shard the key places nothing); apps that already spread events over several shards by
-- messageId keep that until their count next changes, which moves them with the usual timed,
-- dedup-checked switch. Every event before this was placed by messageId.
ALTER TABLE apps ADD COLUMN shard_key TEXT NOT NULL DEFAULT 'device';
ALTER TABLE apps ADD COLUMN previous_shard_key TEXT NOT NULL DEFAULT 'id';
UPDATE apps SET shard_key = 'id' WHERE shard_count > 1;
