-- Changing an app's shard count safely while traffic flows (workers/apps/shards.ts). Events go
-- to shard fnv1a(messageId) % count, so a new count moves ids between shards. The new count takes
-- effect at `shards_from`, a minute after it was saved, when every edge has read it (write keys
-- are cached 30 s); until then `previous_shard_count` routes. For the dedup window after it, a
-- shard asks the id's shard under the previous count whether it already holds the id.
ALTER TABLE apps ADD COLUMN previous_shard_count INTEGER;
ALTER TABLE apps ADD COLUMN shards_from INTEGER;
