-- When each row reached ClickHouse: the ingest-to-storage lag is inserted_at - received_at.
ALTER TABLE events ADD COLUMN IF NOT EXISTS inserted_at DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1)) AFTER batch_id;
