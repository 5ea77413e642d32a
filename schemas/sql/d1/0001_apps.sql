-- Apps and their write keys. Keys are stored as SHA-256 hashes; only a short prefix is shown.
CREATE TABLE apps (
  id               TEXT PRIMARY KEY,
  name             TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  -- events per second across all shards; 0 means no limit
  rate_limit       INTEGER NOT NULL DEFAULT 2000,
  shard_count      INTEGER NOT NULL DEFAULT 1 CHECK (shard_count BETWEEN 1 AND 64),
  retention_days   INTEGER NOT NULL DEFAULT 90,
  -- JSON redaction policy; NULL means the built-in defaults
  redaction_policy TEXT,
  -- per-app salt for HMAC redaction, hex
  hash_salt        TEXT NOT NULL
);

CREATE TABLE write_keys (
  id          TEXT PRIMARY KEY,
  app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  key_hash    TEXT NOT NULL UNIQUE,
  prefix      TEXT NOT NULL,
  name        TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER
);

CREATE INDEX write_keys_app ON write_keys(app_id);
