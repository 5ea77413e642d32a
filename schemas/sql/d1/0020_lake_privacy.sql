-- A person's deletion reaches the app's data lake after ClickHouse: the hourly lake job rewrites
-- the app's Parquet files without the person's events, a page of files a run, in key order.
-- `lake_cursor`: the last file key gone through; `lake_done_at` (epoch ms): every file was.
ALTER TABLE privacy_requests ADD COLUMN lake_cursor TEXT;
ALTER TABLE privacy_requests ADD COLUMN lake_done_at INTEGER;
