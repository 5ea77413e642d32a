-- Crash issues: what a team decided about each one, and how new crashes are grouped.
-- An issue is the set of crashes sharing a fingerprint (events.crash_fingerprint); it has no
-- row here until someone changes its state, so a new issue is unresolved. Times are epoch ms.

-- Per-app grouping rules, evaluated in position order by the edge on each new crash; the first
-- rule that matches decides. `merge` gives every matching crash one fingerprint (the rule's
-- own); `split` refines the default fingerprint by the normalised message. Matchers left NULL
-- match anything; `match_message` and `match_module` are globs (`*` any run of characters).
-- Rules apply to crashes received after the change: stored crashes keep their fingerprint.
CREATE TABLE crash_rules (
  id            TEXT PRIMARY KEY,
  app_id        TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  position      INTEGER NOT NULL,
  action        TEXT NOT NULL CHECK (action IN ('merge', 'split')),
  match_type    TEXT,
  match_message TEXT,
  match_module  TEXT,
  -- What a merge rule's issue is called in the rules list; the title stays the latest crash's.
  label         TEXT NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL,
  created_by    TEXT NOT NULL DEFAULT ''
);

CREATE INDEX crash_rules_app ON crash_rules(app_id, position);

-- The state of an issue someone has triaged. `resolved_in` is the release a fix shipped in
-- ('' when resolved without one); `resolved_next` means "in the next release": any release
-- other than those seen before `changed_at` regresses it. `ignore_count` is how many more
-- events end an ignore (counted from `ignore_base`, the issue's total when it was ignored);
-- `ignore_until` a time that ends it; both NULL ignores forever.
CREATE TABLE crash_issue_states (
  app_id        TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  fingerprint   TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('unresolved', 'resolved', 'ignored', 'regressed')),
  resolved_in   TEXT NOT NULL DEFAULT '',
  resolved_next INTEGER NOT NULL DEFAULT 0,
  ignore_count  INTEGER,
  ignore_base   INTEGER,
  ignore_until  INTEGER,
  changed_at    INTEGER NOT NULL,
  changed_by    TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (app_id, fingerprint)
);

CREATE INDEX crash_issue_states_status ON crash_issue_states(app_id, status);

-- Every change of state, by a person or by the edge (regressed, ignore ended): the issue page's history.
CREATE TABLE crash_issue_history (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  fingerprint TEXT NOT NULL,
  status      TEXT NOT NULL,
  detail      TEXT NOT NULL DEFAULT '',
  at          INTEGER NOT NULL,
  by          TEXT NOT NULL DEFAULT ''
);

CREATE INDEX crash_issue_history_issue ON crash_issue_history(app_id, fingerprint, at);
