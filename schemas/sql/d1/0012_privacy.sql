-- Deleting a person's data (GDPR Art. 17, CCPA) and the record of who did what. Times are epoch ms.

-- One request to delete a person: the ids asked for, the closed set of ids linked to them (by
-- identify and alias, found by the job), and what the job removed. The cron runs a request once
-- the edge drops the person's events (`not_before`); a failed run keeps the request pending with
-- its error, and the next run tries again.
CREATE TABLE privacy_requests (
  id            TEXT PRIMARY KEY,
  app_id        TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  -- JSON {"userIds": […], "anonymousIds": […]} as asked
  requested     TEXT NOT NULL,
  -- JSON of the same shape: the asked ids and every id linked to them; NULL until resolved
  resolved      TEXT,
  status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
  requested_by  TEXT NOT NULL,
  requested_at  INTEGER NOT NULL,
  not_before    INTEGER NOT NULL,
  -- a run holds the request until then, so overlapping runs do not both delete
  lease_until   INTEGER,
  attempts      INTEGER NOT NULL DEFAULT 0,
  last_error    TEXT,
  -- JSON {"events": n, "sessions": n, "user_profiles": n, "person_identities": n}, rows removed
  counts        TEXT NOT NULL DEFAULT '{}',
  completed_at  INTEGER
);

CREATE INDEX privacy_requests_app ON privacy_requests(app_id, requested_at DESC);
CREATE INDEX privacy_requests_pending ON privacy_requests(status, not_before) WHERE status = 'pending';

-- Ids whose events the edge drops: a user id matches an event's userId (or an alias's
-- previousId), an anonymous id an event without a userId. Kept after the deletion, for good.
CREATE TABLE suppressed_ids (
  app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  kind        TEXT NOT NULL CHECK (kind IN ('user', 'anonymous')),
  id          TEXT NOT NULL,
  request_id  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (app_id, kind, id)
) WITHOUT ROWID;

-- Who asked for what and what was done: deletion requested, deletion completed (with the rows
-- removed), and exports of a person's data. Never updated; kept when a request is done.
CREATE TABLE privacy_audit (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  request_id  TEXT,
  action      TEXT NOT NULL CHECK (action IN ('deletion_requested', 'deletion_completed', 'export')),
  actor       TEXT NOT NULL,
  at          INTEGER NOT NULL,
  -- JSON: the ids, and for a completion the rows removed by table
  detail      TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX privacy_audit_app ON privacy_audit(app_id, at DESC);
