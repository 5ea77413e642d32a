-- Webhook endpoints of an organisation, the secrets they are signed with, and every delivery and
-- attempt, kept for the per-endpoint log. docs/decisions/0012-webhook-delivery.md says why the
-- secrets are stored as they are.
CREATE TABLE webhook_endpoints (
  id              TEXT PRIMARY KEY,
  org_id          TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  url             TEXT NOT NULL,
  description     TEXT NOT NULL DEFAULT '',
  format          TEXT NOT NULL DEFAULT 'standard' CHECK (format IN ('standard', 'slack')),
  enabled         INTEGER NOT NULL DEFAULT 1,
  -- why the platform turned it off (continuous failures); NULL when enabled or turned off by hand
  disabled_reason TEXT,
  -- the first failed attempt since the last success; NULL while delivering
  failing_since   INTEGER,
  created_at      INTEGER NOT NULL,
  created_by      TEXT
);

CREATE INDEX webhook_endpoints_org ON webhook_endpoints(org_id, created_at);

-- Several rows per endpoint only while a rotation overlaps: the old secret keeps signing beside
-- the new one until expires_at, so receivers can switch without losing a delivery.
CREATE TABLE webhook_secrets (
  endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  secret      TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER
);

CREATE INDEX webhook_secrets_endpoint ON webhook_secrets(endpoint_id, created_at);

-- id is the webhook-id header: the same on every attempt, so receivers can deduplicate.
CREATE TABLE webhook_deliveries (
  id              TEXT PRIMARY KEY,
  endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  app_id          TEXT NOT NULL,
  -- no foreign key: a rule's deliveries stay in the endpoint's log after the rule is deleted
  rule_id         TEXT,
  event_type      TEXT NOT NULL,
  payload         TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  created_at      INTEGER NOT NULL
);

CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_app ON webhook_deliveries(app_id, created_at DESC);

CREATE TABLE webhook_attempts (
  delivery_id      TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  at               INTEGER NOT NULL,
  status_code      INTEGER,
  error            TEXT,
  latency_ms       INTEGER NOT NULL,
  -- at most 1 KB of what the receiver answered
  response_excerpt TEXT NOT NULL DEFAULT ''
);

CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, at DESC);
