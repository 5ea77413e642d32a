-- Insert deduplication on ClickHouse Cloud (docs/decisions/0028-clickhouse-cloud.md). Cloud turns
-- every MergeTree into a SharedMergeTree, where `non_replicated_deduplication_window` does nothing:
-- a repeated insert (same `insert_deduplication_token`) is dropped only while its hash is within
-- the replicated window, which keeps the last `replicated_deduplication_window` blocks and
-- forgets them after `replicated_deduplication_window_seconds` (defaults: 100 blocks until 23.11,
-- 1,000 until 25.9, 10,000 since; kept a week, one hour since 25.10: shorter than the queue's
-- redeliveries and a dead-letter replay). Both are set on each table that already dedups
-- locally: the same 10,000 blocks, kept up to seven days, whatever the release. On the local engine
-- (plain MergeTree) these settings are stored and have no effect; rerunning a statement sets the
-- same values again.
ALTER TABLE events MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
ALTER TABLE crash_drops_hourly MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
ALTER TABLE events_hourly MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
ALTER TABLE events_minutely MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
ALTER TABLE pages_hourly MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
ALTER TABLE users_daily MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
ALTER TABLE users_daily_dims MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
ALTER TABLE sessions MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
ALTER TABLE user_profiles MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
ALTER TABLE pipeline_minutely MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
ALTER TABLE pipeline_lag_minutely MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
ALTER TABLE crash_issues_hourly MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
ALTER TABLE release_health_hourly MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
ALTER TABLE perf_hourly MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
ALTER TABLE network_hourly MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
ALTER TABLE person_identities MODIFY SETTING replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800;
