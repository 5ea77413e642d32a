-- Dashboard accounts: users, organisations, their members and invitations, and failed sign-ins
-- for rate limiting. Apps join an organisation; apps created before any organisation existed
-- (admin API, local seeding) have none until the first owner signs up and adopts them.
CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name          TEXT NOT NULL DEFAULT '',
  -- pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>
  password_hash TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  -- bumped on sign-out and password change: every session token carrying an older value is refused
  session_version INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE orgs (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE memberships (
  org_id     TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'analyst', 'viewer')),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (org_id, user_id)
);

CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE invitations (
  id          TEXT PRIMARY KEY,
  org_id      TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  email       TEXT NOT NULL COLLATE NOCASE,
  role        TEXT NOT NULL CHECK (role IN ('admin', 'developer', 'analyst', 'viewer')),
  -- SHA-256 of the invitation token; the token itself is shown once to the inviter
  token_hash  TEXT NOT NULL UNIQUE,
  invited_by  TEXT REFERENCES users(id) ON DELETE SET NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  accepted_at INTEGER
);

CREATE INDEX invitations_org ON invitations(org_id);

-- One row per failed sign-in, keyed by 'email:<address>' and 'ip:<address>'.
CREATE TABLE login_failures (
  key TEXT NOT NULL,
  at  INTEGER NOT NULL
);

CREATE INDEX login_failures_key_at ON login_failures(key, at);

ALTER TABLE apps ADD COLUMN org_id TEXT REFERENCES orgs(id);

CREATE INDEX apps_org ON apps(org_id);
