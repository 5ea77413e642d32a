-- Alert rules and what the minute cron made of them. Times are epoch ms.

-- A rule of one app. `definition` is the rule as schemas/alerts.ts parses it (metric, filter,
-- window, condition, minEvents, cooldownMinutes, resolveAfter, endpointIds); `enabled` and
-- `muted_until` live in columns because the cron selects by them. A muted rule is still
-- evaluated, so its state stays true, but its transitions notify nobody until `muted_until`.
CREATE TABLE alert_rules (
  id          TEXT PRIMARY KEY,
  app_id      TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  definition  TEXT NOT NULL,
  enabled     INTEGER NOT NULL DEFAULT 1,
  muted_until INTEGER,
  created_at  INTEGER NOT NULL,
  created_by  TEXT NOT NULL DEFAULT '',
  updated_at  INTEGER NOT NULL
);

CREATE INDEX alert_rules_app ON alert_rules(app_id);
CREATE INDEX alert_rules_enabled ON alert_rules(enabled, app_id);

-- Where a rule stands. No row means `ok` and never evaluated. `since` is when the state was
-- entered; `clear_count` counts consecutive evaluations without the condition while firing (it
-- resolves at the rule's resolveAfter); `last_fired_at` starts the cooldown before a resolved
-- rule may fire again. `last_evaluated_at` is the minute last evaluated: a cron retried within
-- that minute finds it taken and changes nothing.
CREATE TABLE alert_rule_states (
  rule_id           TEXT PRIMARY KEY REFERENCES alert_rules(id) ON DELETE CASCADE,
  app_id            TEXT NOT NULL,
  state             TEXT NOT NULL CHECK (state IN ('ok', 'firing', 'resolved')),
  since             INTEGER NOT NULL,
  last_value        REAL,
  last_evaluated_at INTEGER NOT NULL,
  clear_count       INTEGER NOT NULL DEFAULT 0,
  last_fired_at     INTEGER
);

-- Every transition, at the minute it was evaluated: the rule's history in the dashboard.
-- `value` is what was measured (a change in percent for change rules; NULL when there were no
-- samples), `threshold` the condition's value; `detail` says why, e.g. that the rule was muted.
CREATE TABLE alert_rule_history (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  rule_id    TEXT NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
  app_id     TEXT NOT NULL,
  at         INTEGER NOT NULL,
  from_state TEXT NOT NULL,
  to_state   TEXT NOT NULL,
  value      REAL,
  threshold  REAL NOT NULL,
  detail     TEXT NOT NULL DEFAULT '',
  UNIQUE (rule_id, at)
);

CREATE INDEX alert_rule_history_app ON alert_rule_history(app_id, rule_id, at);
