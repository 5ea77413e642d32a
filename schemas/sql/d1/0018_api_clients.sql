-- OAuth 2.0 API clients (client credentials grant, workers/oauth). A client belongs to one
-- organisation, holds a set of scopes drawn from the roles' permissions and optionally a list of
-- its apps; its secret is kept as a SHA-256 hash (it is 256 random bits, so a slow hash adds
-- nothing). After a rotation the previous secret keeps working until previous_secret_until.
CREATE TABLE IF NOT EXISTS api_clients (
  id                    TEXT PRIMARY KEY,
  org_id                TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name                  TEXT NOT NULL,
  scopes                TEXT NOT NULL,
  app_ids               TEXT,
  secret_hash           TEXT NOT NULL,
  previous_secret_hash  TEXT,
  previous_secret_until INTEGER,
  created_at            INTEGER NOT NULL,
  created_by            TEXT NOT NULL,
  rotated_at            INTEGER,
  revoked_at            INTEGER,
  last_used_at          INTEGER
);
CREATE INDEX IF NOT EXISTS api_clients_org ON api_clients (org_id, created_at);

-- The keys access tokens are signed with (ES256). The private half is sealed with AES-GCM under
-- a key derived from the OAUTH_KEY_SECRET secret, so D1 alone cannot mint tokens. The newest key
-- signs; a key stays published in the JWKS until retire_at, past the last token it signed.
CREATE TABLE IF NOT EXISTS oauth_signing_keys (
  kid          TEXT PRIMARY KEY,
  public_jwk   TEXT NOT NULL,
  sealed_jwk   TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  retire_at    INTEGER
);
